/*
 * Property tests of random vmalloc / vzalloc / vmap / vfree / vunmap
 * sequences on several CPUs, with purges and accesses in between, against
 * a model that is the list of live areas.
 *
 * After every step:
 *  - the free, busy and lazy vmap_area lists are sorted, disjoint and tile
 *    [1, ULONG_MAX] exactly: areas never overlap;
 *  - every live area is a busy vm area whose range is its pages plus one
 *    guard page, and the guard page is not mapped;
 *  - translation agrees with the pages handed out: each page's tag, written
 *    through the vmalloc address, reads back through it, is in the physical
 *    page vmalloc_to_pfn() names, which is the one vm->pages[] holds;
 *  - meminfo VmallocUsed is the number of vmalloc'd pages, PageTables the
 *    PUD/PMD pages found by walking the tables.
 * At the end, freeing everything and purging gives back the whole vmalloc
 * space as one free area and every page: the buddy allocator's books
 * balance with only the page tables (which the kernel never frees) and the
 * slab pages still allocated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { MachineConfigInput } from '../../src/machine/config.ts';
import { checkAllocator, type LiveBlocks } from '../mm/helpers.ts';
import { boot, checkVmapAreas, mapped, meminfoKb, pageTableKb, tablePages } from './helpers.ts';

type Cmd =
  | { op: 'vmalloc'; pages: number; extra: number; zero: boolean; cpu: number }
  | { op: 'vmap'; pages: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'touch'; pick: number; page: number; cpu: number }
  | { op: 'purge' };

interface Live {
  addr: number;
  nr: number;
  kind: 'vmalloc' | 'vmap';
  /** vmap: the struct pages mapped (the test owns them). */
  src: number[];
  tag: number;
}

function cmdArb(cpus: number): fc.Arbitrary<Cmd> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('vmalloc' as const), pages: fc.integer({ min: 1, max: 40 }),
      extra: fc.integer({ min: 0, max: PAGE_SIZE - 1 }), zero: fc.boolean(), cpu }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('vmap' as const), pages: fc.integer({ min: 1, max: 8 }), cpu }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('touch' as const), pick: fc.nat(), page: fc.nat(), cpu }) },
    { weight: 1, arbitrary: fc.constant({ op: 'purge' as const }) },
  );
}

function check(k: Kernel, live: readonly Live[]): void {
  checkVmapAreas(k);
  const vm = k.paging.vm;
  let vmallocPages = 0;
  for (const a of live) {
    const area = k.find_vm_area(a.addr);
    assert.notEqual(area, 0, 'live area is busy');
    assert.equal(vm.vmAddr(area), a.addr);
    assert.equal(vm.vmSize(area), (a.nr + 1) * PAGE_SIZE, 'pages + guard page');
    const guard = a.addr + a.nr * PAGE_SIZE;
    assert.ok(!mapped(k, guard), 'guard page unmapped');
    assert.equal(k.find_vm_area(guard), area, 'the guard page belongs to the area');
    const pages = a.kind === 'vmalloc' ? vm.vmPages(area) : 0;
    for (let i = 0; i < a.nr; i++) {
      const va = a.addr + i * PAGE_SIZE;
      const pfn = k.vmalloc_to_pfn(va);
      if (a.kind === 'vmalloc') assert.equal(k.page_to_pfn(k.kaddr.readPtr(pages + i * k.layout.ptrSize)), pfn, 'pages[] agrees');
      else assert.equal(k.page_to_pfn(a.src[i]), pfn, 'vmap of the given page');
      assert.equal(k.kaddr.read32(va), (a.tag + i) >>> 0, 'tag through the mapping');
      assert.equal(k.mem.read32(pfn * PAGE_SIZE), (a.tag + i) >>> 0, 'tag in the physical page');
    }
    if (a.kind === 'vmalloc') vmallocPages += a.nr;
  }
  assert.equal(meminfoKb(k, 'VmallocUsed'), vmallocPages * 4);
  assert.equal(meminfoKb(k, 'PageTables'), pageTableKb(k));
}

function run(input: MachineConfigInput, cmds: Cmd[]): void {
  const k = boot(input);
  const live: Live[] = [];
  let tags = 0x1000;
  for (const c of cmds) {
    if (c.op !== 'purge') k.set_cpu(c.cpu);
    switch (c.op) {
      case 'vmalloc': {
        const size = (c.pages - 1) * PAGE_SIZE + c.extra + 1;
        const addr = c.zero ? k.vzalloc(size) : k.vmalloc(size);
        assert.notEqual(addr, 0);
        if (c.zero) assert.equal(k.kaddr.read32(addr + size - 4), 0);
        const a: Live = { addr, nr: c.pages, kind: 'vmalloc', src: [], tag: tags += 0x100 };
        for (let i = 0; i < a.nr; i++) k.kaddr.write32(addr + i * PAGE_SIZE, a.tag + i);
        live.push(a);
        break;
      }
      case 'vmap': {
        const src = Array.from({ length: c.pages }, () => k.alloc_page(k.GFP_KERNEL | k.__GFP_HIGHMEM));
        const addr = k.vmap(src, c.pages, k.VM_MAP, k.PAGE_KERNEL);
        assert.notEqual(addr, 0);
        const a: Live = { addr, nr: c.pages, kind: 'vmap', src, tag: tags += 0x100 };
        for (let i = 0; i < a.nr; i++) k.kaddr.write32(addr + i * PAGE_SIZE, a.tag + i);
        live.push(a);
        break;
      }
      case 'free': {
        if (live.length === 0) break;
        const [a] = live.splice(c.pick % live.length, 1);
        if (a.kind === 'vmalloc') k.vfree(a.addr);
        else {
          k.vunmap(a.addr);
          for (const p of a.src) k.__free_page(p);
        }
        assert.equal(k.find_vm_area(a.addr), 0);
        break;
      }
      case 'touch': {
        if (live.length === 0) break;
        const a = live[c.pick % live.length];
        const va = a.addr + (c.page % a.nr) * PAGE_SIZE;
        const v = k.kaddr.read32(va);
        k.kaddr.write32(va, v);
        break;
      }
      case 'purge':
        k.vm_unmap_aliases();
        break;
    }
    check(k, live);
  }
  k.set_cpu(0);
  for (const a of live) {
    if (a.kind === 'vmalloc') k.vfree(a.addr);
    else {
      k.vunmap(a.addr);
      for (const p of a.src) k.__free_page(p);
    }
  }
  k.vm_unmap_aliases();
  k.drain_all_pages();
  const ulongMax = k.layout.ptrSize === 8 ? 2 ** 48 - 1 : 0xffffffff;
  if (k.paging.vm.initialized) assert.deepEqual(k.paging.vm.ranges('free'), [[1, ulongMax]], 'all vmalloc space free again');
  assert.deepEqual(k.paging.vm.ranges('busy'), []);
  assert.equal(k.paging.vm.vmap_lazy_nr(), 0);
  assert.equal(meminfoKb(k, 'VmallocUsed'), 0);
  const tables: LiveBlocks = new Map([...tablePages(k).keys()].map((pfn) => [pfn, 0]));
  checkAllocator(k, tables);
}

const CONFIGS: [string, MachineConfigInput, number][] = [
  ['x86_64 64M, 2 CPUs', { mem: '64M', cpus: 2 }, 60],
  ['i386 64M', { arch: 'i386', mem: '64M', cpus: 1 }, 40],
  ['i386 PAE 1G (highmem), 2 CPUs', { arch: 'i386', mem: '1G', cpus: 2, pae: true }, 25],
];

for (const [name, input, runs] of CONFIGS) {
  test(`vmalloc/vfree/vmap sequences: ${name}`, () => {
    const cpus = input.cpus ?? 1;
    fc.assert(fc.property(fc.array(cmdArb(cpus), { minLength: 1, maxLength: 60 }), (cmds) => run(input, cmds)),
      { numRuns: runs, seed: 4242 });
  });
}
