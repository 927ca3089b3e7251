/*
 * vmalloc and its family (mm/vmalloc.c, 6.12): areas in the vmalloc range
 * with a guard page, pages scattered in RAM and contiguous in virtual
 * space, translation that agrees with the pages handed out, lazy freeing
 * and the purge, vmap/vunmap, kvmalloc's fallback, the reports of bad
 * frees and failed allocations, and the Oops of an access to an unmapped
 * address (guard page, freed area, NULL, user address, poison pointer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import { ptr_to_id } from '../../src/lib/vsprintf.ts';
import { formatPtr, PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { pte_pfn, _PAGE_NX, _PAGE_GLOBAL, _PAGE_DIRTY, _PAGE_ACCESSED, _PAGE_RW, _PAGE_PRESENT } from '../../src/arch/x86/pgtable.ts';
import { LIST_POISON1 } from '../../src/lib/list.ts';
import { boot, checkVmapAreas, faults, logged, mapped, meminfoKb } from './helpers.ts';

const KiB = 1024;
const MiB = 1 << 20;

test('vmalloc: an area at VMALLOC_START with a guard page; vfree gives every page back', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const free0 = meminfoKb(k, 'MemFree');
  const a = k.vmalloc(3 * PAGE_SIZE + 5);
  assert.equal(a, k.VMALLOC_START);
  assert.ok(k.is_vmalloc_addr(a) && !k.is_vmalloc_addr(k.__va(0x100000)));
  for (let i = 0; i < 4; i++) assert.ok(mapped(k, a + i * PAGE_SIZE), `page ${i} mapped`);
  assert.ok(!mapped(k, a + 4 * PAGE_SIZE), 'the guard page is not mapped');
  const vm = k.find_vm_area(a + 2 * PAGE_SIZE + 17);
  assert.equal(k.paging.vm.vmSize(vm), 5 * PAGE_SIZE, 'vm_struct size includes the guard page');
  assert.equal(k.paging.vm.vmNrPages(vm), 4);
  // The next area starts right after the guard page.
  const b = k.vmalloc(PAGE_SIZE);
  assert.equal(b, a + 5 * PAGE_SIZE);
  checkVmapAreas(k);
  k.vfree(a);
  k.vfree(b);
  k.vm_unmap_aliases();
  k.drain_all_pages();
  checkVmapAreas(k);
  assert.deepEqual(k.paging.vm.ranges('busy'), []);
  assert.deepEqual(k.paging.vm.ranges('lazy'), []);
  // Page tables (PUD + PMD + PTE page) and the slab objects' page stay allocated, as in the kernel.
  assert.ok(free0 - meminfoKb(k, 'MemFree') <= 4 * 4 + 3 * 4, `${free0 - meminfoKb(k, 'MemFree')} kB not given back`);
});

test('a vmalloc buffer is contiguous in virtual space and scattered in physical space', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  // Fragment free memory: keep every other page of a run of single pages.
  const held: number[] = [];
  const gaps: number[] = [];
  for (let i = 0; i < 64; i++) (i % 2 ? gaps : held).push(k.alloc_page(k.GFP_KERNEL));
  for (const p of gaps) k.__free_page(p);
  const n = 16;
  const buf = k.vmalloc(n * PAGE_SIZE);
  const pfns = Array.from({ length: n }, (_, i) => k.vmalloc_to_pfn(buf + i * PAGE_SIZE));
  let breaks = 0;
  for (let i = 1; i < n; i++) if (pfns[i] !== pfns[i - 1] + 1) breaks++;
  assert.ok(breaks >= n / 2, `physically scattered: ${pfns.join(',')}`);
  // Virtually contiguous: one memset and one memcpy run across every page boundary.
  k.memset(buf, 0x5a, n * PAGE_SIZE);
  const pattern = new Uint8Array(n * PAGE_SIZE).map((_, i) => (i * 7) & 0xff);
  k.kaddr.writeBytes(buf, pattern);
  assert.deepEqual(k.kaddr.readBytes(buf, n * PAGE_SIZE), pattern);
  for (let i = 0; i < n; i++) {
    // Each page's bytes are in the page vmalloc_to_pfn names.
    assert.deepEqual(k.mem.readBytes(pfns[i] * PAGE_SIZE, PAGE_SIZE), pattern.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
  }
  // A u32 straddling a page boundary: two different physical pages.
  k.kaddr.write32(buf + PAGE_SIZE - 2, 0x11223344);
  assert.equal(k.kaddr.read32(buf + PAGE_SIZE - 2), 0x11223344);
  assert.equal(k.mem.read16(pfns[0] * PAGE_SIZE + PAGE_SIZE - 2), 0x3344);
  assert.equal(k.mem.read16(pfns[1] * PAGE_SIZE), 0x1122);
  k.vfree(buf);
  for (const p of held) k.__free_page(p);
});

test('translation agrees: vmalloc_to_pfn, vm->pages[], the page-table walk, the PTE bits', () => {
  for (const cfg of [{ mem: '128M', cpus: 2 }, { arch: 'i386' as const, mem: '256M', cpus: 1 }, { arch: 'i386' as const, mem: '256M', cpus: 1, pae: true }]) {
    const k = boot(cfg);
    const a = k.vzalloc(10 * PAGE_SIZE);
    const vm = k.find_vm_area(a);
    const pages = k.paging.vm.vmPages(vm);
    for (let i = 0; i < 10; i++) {
      const va = a + i * PAGE_SIZE;
      const page = k.kaddr.readPtr(pages + i * k.layout.ptrSize);
      assert.equal(k.vmalloc_to_page(va), page);
      assert.equal(k.vmalloc_to_pfn(va), k.page_to_pfn(page));
      const w = k.paging.pt.walk(va);
      assert.ok(w.mapped);
      assert.equal(pte_pfn(w.value), k.page_to_pfn(page));
      // PAGE_KERNEL: present, writable, global, accessed, dirty; NX where the CPU has it.
      const flags = _PAGE_PRESENT + _PAGE_RW + _PAGE_ACCESSED + _PAGE_DIRTY + _PAGE_GLOBAL;
      assert.equal(w.value & 0xfff, flags);
      assert.equal(w.value >= _PAGE_NX, k.layout.bits === 64 || cfg.pae === true);
      assert.equal(k.kaddr.read32(va + 100), 0, 'vzalloc zeroes');
    }
    k.vfree(a);
  }
});

test('the Oops of a write to the guard page, exactly as 6.12 prints it', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const a = k.vmalloc(3 * PAGE_SIZE);
  const guard = a + 3 * PAGE_SIZE;
  const { bug, lines } = faults(k, function touch_guard() {
    k.kaddr.write8(guard, 1);
  });
  assert.equal(bug.kind, 'Oops');
  assert.equal(bug.message, 'BUG: unable to handle page fault for address: ffffc90000003000');
  const pt = k.paging.pt;
  const pgd = pt.pgdPa + pt.index(guard, 0) * 8;
  const pud = pte_pfn(pt.readEntry(pgd)) * PAGE_SIZE + pt.index(guard, 1) * 8;
  const pmd = pte_pfn(pt.readEntry(pud)) * PAGE_SIZE + pt.index(guard, 2) * 8;
  const hex = (pa: number) => pt.readEntry(pa).toString(16);
  assert.deepEqual(lines, [
    'BUG: unable to handle page fault for address: ffffc90000003000',
    '#PF: supervisor write access in kernel mode',
    '#PF: error_code(0x0002) - not-present page',
    `PGD ${hex(pgd)} P4D ${hex(pgd)} PUD ${hex(pud)} PMD ${hex(pmd)} PTE 0`,
    'Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI',
    'CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.12.0-kmem #1',
    'Hardware name: kmem simulated x86_64 machine',
    'RIP: 0010:touch_guard',
    'Call Trace:',
    ' <TASK>',
    ' ? __die',
    ' ? page_fault_oops',
    ' ? exc_page_fault',
    ' ? asm_exc_page_fault',
    ' touch_guard',
    ' </TASK>',
    'Modules linked in:',
    'CR2: ffffc90000003000',
    '---[ end trace 0000000000000000 ]---',
  ]);
  assert.match(lines[3], /^PGD [0-9a-f]+067 P4D [0-9a-f]+067 PUD [0-9a-f]+067 PMD [0-9a-f]+067 PTE 0$/);
  assert.equal(bug.report, lines.join('\n'));
  // The kernel is tainted D (died) afterwards; nothing was written; the read of the guard page faults too.
  assert.match(k.bug.print_tainted(), /D/);
  const r = faults(k, () => k.kaddr.read32(guard + 8));
  assert.equal(r.lines[1], '#PF: supervisor read access in kernel mode');
  assert.equal(r.lines[2], '#PF: error_code(0x0000) - not-present page');
  assert.match(r.lines[5], /Tainted: G {6}D/);
  // Faults throw whatever `errors` says: the access cannot complete.
  assert.equal(k.bug.throwOnBug, false);
});

test('NULL, a user address, a poison pointer: the kernel NULL pointer dereference, the user fault, the #GP', () => {
  const k = boot({ mem: '128M', cpus: 1 }, { errors: 'throw' });
  let r = faults(k, () => k.kaddr.read32(0x10));
  assert.deepEqual(r.lines.slice(0, 5), [
    'BUG: kernel NULL pointer dereference, address: 0000000000000010',
    '#PF: supervisor read access in kernel mode',
    '#PF: error_code(0x0000) - not-present page',
    'PGD 0 P4D 0 ',
    'Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI',
  ]);
  assert.ok(r.lines.includes(' ? do_user_addr_fault'), 'a user-half address goes through do_user_addr_fault');
  assert.equal(r.lines.at(-2), 'CR2: 0000000000000010');
  r = faults(k, () => k.kaddr.write64(0x7f0000001000, 1));
  assert.equal(r.lines[0], 'BUG: unable to handle page fault for address: 00007f0000001000');
  assert.equal(r.lines[2], '#PF: error_code(0x0002) - not-present page');
  // A list_del()ed entry's next pointer: not canonical, so #GP rather than #PF.
  r = faults(k, () => k.kaddr.readPtr(LIST_POISON1(8)));
  assert.equal(r.lines[0], 'Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI');
  assert.ok(!r.lines.some((l) => l.startsWith('CR2:')));
});

test('a freed area: not-present once unmapped; a stale TLB entry still reaches the old page until the purge', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const untouched = k.vmalloc(PAGE_SIZE);
  const touched = k.vmalloc(PAGE_SIZE);
  k.kaddr.write32(touched, 0xabcd);
  const pfn = k.vmalloc_to_pfn(touched);
  k.vfree(untouched);
  k.vfree(touched);
  // vfree cleared the PTEs at once...
  assert.ok(!mapped(k, untouched) && !mapped(k, touched));
  // ... so an address no CPU had cached faults,
  const r = faults(k, () => k.kaddr.read32(untouched));
  assert.equal(r.lines[0], `BUG: unable to handle page fault for address: ${formatPtr(k.layout, untouched)}`);
  assert.equal(r.lines[3].slice(-6), ' PTE 0');
  // ... while this CPU's TLB still holds the translation it used (the flush is lazy):
  assert.equal(k.paging.tlb.lookup(0, touched), pfn);
  assert.equal(k.kaddr.read32(touched), 0xabcd, 'use after vfree through a stale TLB entry');
  // Another CPU never cached it and faults.
  k.set_cpu(1);
  assert.throws(() => k.kaddr.read32(touched), KernelBug);
  k.set_cpu(0);
  // The purge flushes every CPU's TLB over the lazy ranges; then the access faults here too.
  assert.match(readProc(k, 'vmallocinfo'), /unpurged vm_area/);
  k.vm_unmap_aliases();
  assert.equal(k.paging.tlb.lookup(0, touched), -1);
  assert.throws(() => k.kaddr.read32(touched), KernelBug);
  assert.doesNotMatch(readProc(k, 'vmallocinfo'), /unpurged/);
});

test('bad vfree: nonexistent area, twice, an unaligned address; vunmap of a non-area', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const a = k.vmalloc(2 * PAGE_SIZE);
  k.vfree(a);
  const busy = JSON.stringify(k.paging.vm.ranges('busy'));
  let lines = logged(k, () => k.vfree(a));
  assert.deepEqual(lines.slice(0, 4), [
    '------------[ cut here ]------------',
    `Trying to vfree() nonexistent vm area (${ptr_to_id(k.layout, a)})`,
    'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree',
    'Modules linked in:',
  ]);
  assert.equal(lines.at(-1), '---[ end trace 0000000000000000 ]---');
  const kbuf = k.kmalloc(64, k.GFP_KERNEL) + 16;
  lines = logged(k, () => k.vfree(kbuf));
  // Not page-aligned: remove_vm_area()'s warning, then vfree()'s.
  assert.deepEqual(lines.filter((l) => l.startsWith('Trying') || l.startsWith('WARNING')), [
    `Trying to vfree() bad address (${ptr_to_id(k.layout, kbuf)})`,
    'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3291 remove_vm_area',
    `Trying to vfree() nonexistent vm area (${ptr_to_id(k.layout, kbuf)})`,
    'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree',
  ]);
  lines = logged(k, () => k.vunmap(k.VMALLOC_START + 64 * MiB));
  assert.equal(lines[1], `Trying to vunmap() nonexistent vm area (${ptr_to_id(k.layout, k.VMALLOC_START + 64 * MiB)})`);
  assert.equal(lines[2], 'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3473 vunmap');
  assert.equal(JSON.stringify(k.paging.vm.ranges('busy')), busy, 'no state change');
  assert.deepEqual(logged(k, () => k.vfree(0)), [], 'vfree(NULL) is fine');
  k.kfree(kbuf - 16);
  // errors: 'throw': the same report, then a KernelBug.
  const kt = boot({ mem: '64M', cpus: 1 }, { errors: 'throw' });
  const b = kt.vmalloc(PAGE_SIZE);
  kt.vfree(b);
  assert.throws(() => kt.vfree(b), (e: unknown) => e instanceof KernelBug && e.kind === 'WARNING' &&
    e.message === 'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree');
});

test('vfree in atomic context: a sleeping-function report, then the free; in interrupt context it is deferred', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const a = k.vmalloc(PAGE_SIZE);
  k.preempt_disable();
  let lines = logged(k, () => k.vfree(a));
  k.preempt_enable();
  assert.deepEqual(lines.slice(0, 4), [
    'BUG: sleeping function called from invalid context at mm/vmalloc.c:3419',
    'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0',
    'preempt_count: 1, expected: 0',
    'RCU nest depth: 0, expected: 0',
  ]);
  assert.equal(k.find_vm_area(a), 0, 'freed anyway');
  const b = k.vmalloc(2 * PAGE_SIZE);
  const c = k.vmalloc(PAGE_SIZE);
  const used = meminfoKb(k, 'VmallocUsed');
  k.irq_enter();
  lines = logged(k, () => {
    k.vfree(b);
    k.vfree(c);
  });
  k.irq_exit();
  assert.deepEqual(lines, [], 'vfree_atomic: no report');
  assert.notEqual(k.find_vm_area(b), 0, 'still busy: queued on the per-CPU llist');
  // The llist node is written into the area itself: c's first word points to b (LIFO).
  assert.equal(k.kaddr.readPtr(c), b);
  assert.equal(meminfoKb(k, 'VmallocUsed'), used);
  k.flush_scheduled_work();
  assert.equal(k.find_vm_area(b), 0);
  assert.equal(k.find_vm_area(c), 0);
  assert.equal(meminfoKb(k, 'VmallocUsed'), used - 12);
  // vmalloc in interrupt context is a BUG (BUG_ON(in_interrupt()) in __get_vm_area_node).
  k.irq_enter();
  lines = logged(k, () => assert.equal(k.vmalloc(PAGE_SIZE), 0));
  k.irq_exit();
  assert.equal(lines[1], 'kernel BUG at mm/vmalloc.c:3177!');
});

test('vmalloc failures: exceeds total pages, failed to allocate pages (and everything given back), vm_struct allocation failed', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  let lines = logged(k, () => assert.equal(k.vmalloc(128 * MiB), 0));
  assert.equal(lines[0], `swapper/0: vmalloc error: size ${128 * MiB}, exceeds total pages, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0`);
  assert.deepEqual(lines.slice(4, 8), [' <TASK>', ' dump_stack_lvl', ' warn_alloc', ' __vmalloc_node_range_noprof']);
  assert.equal(lines[8], ' vmalloc_noprof');
  // Ask for nearly all of memory: the pages run out part way; the report gives what was obtained.
  const free0 = meminfoKb(k, 'MemFree');
  const seq = k.log.nextSeq;
  const want = Math.floor(k.paging.vm.totalram_pages() * 0.98) * PAGE_SIZE;
  assert.equal(k.vmalloc(want), 0);
  lines = logged(k, () => {}).length ? [] : k.log.dmesg(seq).split('\n').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
  const err = lines.find((l) => l.includes('vmalloc error'))!;
  const m = /^swapper\/0: vmalloc error: size (\d+), failed to allocate pages, mode:0xcc2\(GFP_KERNEL\|__GFP_HIGHMEM\), nodemask=\(null\),cpuset=\/,mems_allowed=0$/.exec(err);
  assert.ok(m, err);
  assert.ok(Number(m[1]) < want && Number(m[1]) % PAGE_SIZE === 0);
  assert.ok(!lines.some((l) => l.includes('page allocation failure')), 'the page allocations are __GFP_NOWARN');
  k.vm_unmap_aliases();
  k.drain_all_pages();
  assert.ok(free0 - meminfoKb(k, 'MemFree') < 64, 'the pages of the failed vmalloc went back');
  assert.equal(meminfoKb(k, 'VmallocUsed'), 0);
  checkVmapAreas(k);
  // i386: the vmalloc space (~119 MiB with 1 GiB of RAM) runs out before memory does.
  const ki = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const big = ki.vmalloc(100 * MiB);
  assert.notEqual(big, 0);
  lines = logged(ki, () => assert.equal(ki.vmalloc(30 * MiB), 0));
  assert.equal(lines[0], `vmalloc_node_range for size ${30 * MiB + PAGE_SIZE} failed: Address range restricted to 0x${ki.VMALLOC_START.toString(16)} - 0x${ki.VMALLOC_END.toString(16)}`);
  assert.equal(lines[1], `swapper/0: vmalloc error: size ${30 * MiB}, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0`);
  ki.vfree(big);
  // __GFP_NOWARN: silent.
  assert.deepEqual(logged(k, () => assert.equal(k.__vmalloc(128 * MiB, k.GFP_KERNEL | k.__GFP_NOWARN), 0)), []);
});

test('i386: vmalloc takes highmem first, vmalloc_32 never does; VmallocTotal is the small window', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  assert.equal(meminfoKb(k, 'VmallocTotal'), Math.floor((k.VMALLOC_END - k.VMALLOC_START) / KiB));
  assert.ok(meminfoKb(k, 'VmallocTotal') < 128 * KiB);
  const a = k.vmalloc(8 * PAGE_SIZE);
  for (let i = 0; i < 8; i++) {
    const page = k.vmalloc_to_page(a + i * PAGE_SIZE);
    assert.ok(k.PageHighMem(page), 'highmem page');
    assert.equal(k.page_address(page), 0, 'not in the direct map: reachable only through the vmalloc mapping');
  }
  k.kaddr.write32(a + 4 * PAGE_SIZE, 0x600d);
  assert.equal(k.mem.read32(k.vmalloc_to_pfn(a + 4 * PAGE_SIZE) * PAGE_SIZE), 0x600d);
  const b = k.vmalloc_32(4 * PAGE_SIZE);
  for (let i = 0; i < 4; i++) assert.ok(!k.PageHighMem(k.vmalloc_to_page(b + i * PAGE_SIZE)));
  // Kernel PTE pages are not counted (6.12: no ctor for them), and i386 has no PMD/PUD pages.
  assert.equal(meminfoKb(k, 'PageTables'), 0);
  k.vfree(a);
  k.vfree(b);
});

test('vmap/vunmap: existing pages mapped contiguously; PAGE_KERNEL_RO faults on write; VM_MAP_PUT_PAGES', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const pages = [k.alloc_page(k.GFP_KERNEL), k.alloc_page(k.GFP_KERNEL), k.alloc_page(k.GFP_KERNEL)];
  k.kaddr.write32(k.page_address(pages[1]), 0x1234);
  const v = k.vmap(pages, 3, k.VM_MAP, k.PAGE_KERNEL);
  assert.equal(k.kaddr.read32(v + PAGE_SIZE), 0x1234, 'the same page through two mappings');
  k.kaddr.write32(v + 2 * PAGE_SIZE + 8, 0x77);
  assert.equal(k.kaddr.read32(k.page_address(pages[2]) + 8), 0x77);
  assert.match(readProc(k, 'vmallocinfo'), /^0x[0-9a-f]+-0x[0-9a-f]+   16384 \S+ vmap$/m);
  k.vunmap(v);
  assert.equal(k.page_count(pages[0]), 1, 'vunmap leaves the pages');
  const ro = k.vmap(pages, 1, k.VM_MAP, k.PAGE_KERNEL_RO);
  assert.equal(k.kaddr.read32(ro), 0);
  const r = faults(k, () => k.kaddr.write32(ro, 1));
  assert.equal(r.lines[2], '#PF: error_code(0x0003) - permissions violation');
  assert.match(r.lines[3], /PTE 8000000[0-9a-f]+121$/, 'NX, present, accessed, global: no RW');
  k.vunmap(ro);
  // VM_MAP_PUT_PAGES: the array (kmalloc'd) and the page references go to the area; vfree frees them.
  const arr = k.kmalloc(3 * 8, k.GFP_KERNEL);
  pages.forEach((p, i) => k.kaddr.writePtr(arr + i * 8, p));
  const w = k.vmap(arr, 3, k.VM_MAP | k.VM_MAP_PUT_PAGES, k.PAGE_KERNEL);
  assert.match(readProc(k, 'vmallocinfo'), / pages=3 vmap N0=3$/m);
  k.vfree(w);
  assert.equal(k.page_count(pages[0]), 0, 'freed by vfree');
  // WARN_ON_ONCE for VM_NO_GUARD: cleared, mapped anyway.
  const lines = logged(k, () => k.vunmap(k.vmap([k.alloc_page(k.GFP_KERNEL)], 1, k.VM_MAP | k.VM_NO_GUARD, k.PAGE_KERNEL)));
  assert.equal(lines[1], 'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3512 vmap');
});

test('/proc/vmallocinfo: the kernel format, busy areas in address order, then the unpurged ones', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  function mydrv_init() {
    return [k.vmalloc(4 * PAGE_SIZE), k.vzalloc(PAGE_SIZE), k.vmalloc_user(2 * PAGE_SIZE), k.vmalloc(600 * PAGE_SIZE),
      k.ioremap(0xfebf0000, 0x100)];
  }
  const [a, b, c, d, regs] = mydrv_init();
  k.vfree(b);
  const p = (v: number) => formatPtr(k.layout, v);
  const text = readProc(k, 'vmallocinfo');
  const lines = text.split('\n');
  assert.equal(lines[0], `0x${p(a)}-0x${p(a + 5 * PAGE_SIZE)}   20480 mydrv_init pages=4 vmalloc N0=4`);
  assert.equal(lines[1], `0x${p(c)}-0x${p(c + 3 * PAGE_SIZE)}   12288 mydrv_init pages=2 vmalloc user N0=2`);
  // pages[] of 600 entries is 4800 bytes: more than a page, so vmalloc'd itself (right after d's area).
  const pagesArr = k.paging.vm.vmPages(k.find_vm_area(d));
  assert.ok(k.is_vmalloc_addr(pagesArr));
  assert.equal(lines[2], `0x${p(d)}-0x${p(d + 601 * PAGE_SIZE)} 2461696 mydrv_init pages=600 vmalloc vpages N0=600`);
  assert.equal(lines[3], `0x${p(pagesArr)}-0x${p(pagesArr + 3 * PAGE_SIZE)}   12288 mydrv_init pages=2 vmalloc N0=2`);
  assert.equal(pagesArr, d + 601 * PAGE_SIZE);
  assert.equal(lines[4], `0x${p(regs)}-0x${p(regs + 2 * PAGE_SIZE)}    8192 mydrv_init phys=0x00000000febf0000 ioremap`);
  assert.equal(lines[5], `0x${p(b)}-0x${p(b + 2 * PAGE_SIZE)}    8192 unpurged vm_area`);
  assert.equal(lines[6], '');
  assert.equal(lines.length, 7);
  // i386: 8-digit addresses, 32-bit phys_addr_t, no NUMA counts.
  const ki = boot({ arch: 'i386', mem: '256M', cpus: 1 });
  const x = ki.vmalloc(PAGE_SIZE);
  const io = ki.ioremap(0xfebf0000, PAGE_SIZE);
  function caller() { return readProc(ki, 'vmallocinfo'); }
  const t = caller().split('\n');
  assert.match(t[0], new RegExp(`^0x${x.toString(16)}-0x${(x + 2 * PAGE_SIZE).toString(16)}    8192 \\S+ pages=1 vmalloc$`));
  assert.match(t[1], new RegExp(`^0x${io.toString(16)}-0x[0-9a-f]{8}    8192 \\S+ phys=0xfebf0000 ioremap$`));
  k.vfree(a); k.vfree(c); k.vfree(d); k.iounmap(regs);
});

test('meminfo: VmallocUsed counts vmalloc pages (not vmap/ioremap); PageTables counts PUD and PMD pages', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  assert.equal(meminfoKb(k, 'VmallocUsed'), 0);
  assert.equal(meminfoKb(k, 'PageTables'), 0);
  assert.equal(meminfoKb(k, 'VmallocTotal'), 34359738367);
  const a = k.vmalloc(MiB);
  assert.equal(meminfoKb(k, 'VmallocUsed'), 1024, '256 pages (the 2 KiB page array is kmalloc\'d)');
  // The first mapping allocated a PUD page and a PMD page (accounted) and a PTE page (not).
  assert.equal(meminfoKb(k, 'PageTables'), 8);
  const regs = k.ioremap(0xfebf0000, PAGE_SIZE);
  const v = k.vmap([k.alloc_page(k.GFP_KERNEL)], 1, k.VM_MAP, k.PAGE_KERNEL);
  assert.equal(meminfoKb(k, 'VmallocUsed'), 1024);
  k.vfree(a);
  assert.equal(meminfoKb(k, 'VmallocUsed'), 0, 'vfree subtracts at once (the range is freed lazily)');
  k.iounmap(regs);
  k.vunmap(v);
  // A 2 MiB + area needs a second PTE page but no new PMD page.
  const big = k.vmalloc(3 * MiB);
  assert.equal(meminfoKb(k, 'PageTables'), 8);
  k.vfree(big);
});

test('kvmalloc: kmalloc when it can, vmalloc above a page when it cannot; kvfree frees either', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  const small = k.kvmalloc(100, k.GFP_KERNEL);
  assert.ok(!k.is_vmalloc_addr(small));
  const mid = k.kvzalloc(64 * KiB, k.GFP_KERNEL);
  assert.ok(!k.is_vmalloc_addr(mid), 'an order-4 kmalloc succeeds on a fresh machine');
  assert.equal(k.kaddr.read32(mid + 1000), 0);
  // Larger than the biggest buddy block (4 MiB): kmalloc fails silently (__GFP_NOWARN), vmalloc takes over.
  const seq = k.log.nextSeq;
  const big = k.kvmalloc(6 * MiB, k.GFP_KERNEL);
  assert.ok(k.is_vmalloc_addr(big));
  assert.ok(!k.log.dmesg(seq).includes('WARNING'), k.log.dmesg(seq));
  // GFP_ATOMIC cannot fall back: NULL.
  assert.equal(k.kvmalloc(6 * MiB, k.GFP_ATOMIC), 0);
  assert.equal(k.kvcalloc(2 ** 40, 2 ** 30, k.GFP_KERNEL), 0);
  k.kvfree(small);
  k.kvfree(mid);
  k.kvfree(big);
  assert.equal(k.find_vm_area(big), 0);
});

test('lazy freeing: areas wait until lazy_max_pages() pages are lazy, then one purge flushes and merges them', () => {
  const k = boot({ mem: '512M', cpus: 1 });
  const vm = k.paging.vm;
  assert.equal(vm.lazy_max_pages(), 8192); // fls(1) * 32 MiB of pages
  const areas = Array.from({ length: 5 }, () => k.vmalloc(8 * MiB));
  const flushes0 = k.paging.tlb.stats(0).flushAll;
  // Each vfree makes 2048 + 1 pages lazy, and 4 + 1 more for its pages[] array (16 KiB: vmalloc'd).
  for (const a of areas.slice(0, 3)) k.vfree(a);
  assert.equal(vm.vmap_lazy_nr(), 3 * 2054);
  assert.equal(k.paging.tlb.stats(0).flushAll, flushes0, 'no flush yet');
  k.vfree(areas[3]); // 8211 > 8192: the drain work runs
  assert.ok(vm.vmap_lazy_nr() < 2054, `purged (${vm.vmap_lazy_nr()} left)`);
  assert.equal(k.paging.tlb.stats(0).flushAll, flushes0 + 1, 'one full flush (the range is above 33 pages)');
  const before = vm.vmap_lazy_nr();
  k.vfree(areas[4]);
  assert.equal(vm.vmap_lazy_nr(), before + 2054);
  checkVmapAreas(k);
  k.vm_unmap_aliases();
  assert.deepEqual(vm.ranges('free'), [[1, 2 ** 48 - 1]], 'the whole space merged back into one free area');
});

test('NUMA: vmalloc_node takes pages from the node asked for; vmallocinfo counts them per node', () => {
  const k = boot({ mem: '256M', cpus: 2, nodes: 2 });
  const a = k.vmalloc_node(8 * PAGE_SIZE, 1);
  const b = k.vmalloc_node(4 * PAGE_SIZE, 0);
  for (let i = 0; i < 8; i++) assert.equal(k.page_to_nid(k.vmalloc_to_page(a + i * PAGE_SIZE)), 1);
  const lines = readProc(k, 'vmallocinfo').split('\n');
  assert.match(lines[0], / pages=8 vmalloc N1=8$/);
  assert.match(lines[1], / pages=4 vmalloc N0=4$/);
  k.vfree(a);
  k.vfree(b);
});
