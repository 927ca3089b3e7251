/*
 * Model-based property tests of the buddy allocator: random sequences of
 * allocations (orders 0..10, mixed zones and flags, several CPUs) and frees
 * (__free_pages, free_pages, free_cold_page), against a model that is just
 * the set of live blocks [pfn, pfn + 2^order).
 *
 * After every step: the allocator's invariants (test/mm/helpers.ts
 * checkAllocator: free lists, pcp lists and live blocks tile the managed
 * pages exactly once, counters agree with the lists, /proc agrees with the
 * counters), and each new block obeys its flags (zone limits, zeroing,
 * compound state). At the end, freeing everything and draining the pcp
 * lists must give back exactly the free blocks the machine booted with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { MachineConfigInput } from '../../src/machine/config.ts';
import {
  boot, checkAllocator, freeBlockKeys, pagetypeinfoFreeTotals, pcpCountSum, type LiveBlocks,
} from './helpers.ts';

const MiB = 1 << 20;

type Cmd =
  | { op: 'alloc'; cpu: number; order: number; flags: number; zero: boolean; comp: boolean }
  | { op: 'free'; cpu: number; pick: number; how: number };

/** Orders weighted towards the small ones, as real callers are; every order 0..10 occurs. */
const orderArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 2, arbitrary: fc.integer({ min: 4, max: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9, max: 10 }) },
);

function cmdArb(cpus: number, nFlags: number, allocWeight: number): fc.Arbitrary<Cmd> {
  return fc.oneof(
    { weight: allocWeight, arbitrary: fc.record({
      op: fc.constant('alloc' as const), cpu: fc.integer({ min: 0, max: cpus - 1 }), order: orderArb,
      flags: fc.integer({ min: 0, max: nFlags - 1 }), zero: fc.boolean(), comp: fc.boolean(),
    }) },
    { weight: 2, arbitrary: fc.record({
      op: fc.constant('free' as const), cpu: fc.integer({ min: 0, max: cpus - 1 }),
      pick: fc.nat(), how: fc.integer({ min: 0, max: 2 }),
    }) },
  );
}

/** The base flags the sequences draw from (each may get __GFP_ZERO / __GFP_COMP added). */
function flagChoices(k: Kernel): { name: string; gfp: number }[] {
  return [
    { name: 'GFP_KERNEL', gfp: k.GFP_KERNEL },
    { name: 'GFP_ATOMIC', gfp: k.GFP_ATOMIC },
    { name: 'GFP_DMA', gfp: k.GFP_DMA },
    { name: 'GFP_KERNEL|GFP_DMA', gfp: k.GFP_KERNEL | k.GFP_DMA },
    { name: 'GFP_KERNEL|GFP_DMA32', gfp: k.GFP_KERNEL | k.GFP_DMA32 },
    { name: 'GFP_HIGHUSER', gfp: k.GFP_HIGHUSER },
    { name: 'GFP_HIGHUSER_MOVABLE', gfp: k.GFP_HIGHUSER_MOVABLE },
    { name: 'GFP_NOWAIT', gfp: k.GFP_NOWAIT },
  ];
}

/** The highest physical address (exclusive) a block allocated with gfp may reach. */
function zoneLimitOk(k: Kernel, gfp: number, pfn: number, order: number): string | null {
  const end = (pfn + (1 << order)) * k.PAGE_SIZE;
  const zone = k.page_zonenum(k.pfn_to_page(pfn));
  const zs = k.mz.zs;
  if (gfp & k.__GFP_DMA) return end <= 16 * MiB && zone === zs.ZONE_DMA ? null : `GFP_DMA block ends at ${end.toString(16)}`;
  // i386 has no ZONE_DMA32: __GFP_DMA32 there means ZONE_NORMAL (GFP_ZONE_TABLE's OPT_ZONE_DMA32).
  const dma32Top = zs.ZONE_DMA32 >= 0 ? zs.ZONE_DMA32 : zs.ZONE_NORMAL;
  if (gfp & k.__GFP_DMA32) return end <= 2 ** 32 && zone <= dma32Top ? null : `GFP_DMA32 block ends at ${end.toString(16)}`;
  if (!(gfp & k.__GFP_HIGHMEM) && zs.ZONE_HIGHMEM >= 0 && zone >= zs.ZONE_HIGHMEM) return 'lowmem request got highmem';
  if (zone > zs.ZONE_NORMAL && zone !== zs.ZONE_HIGHMEM) return `zone ${zone} beyond Normal`;
  return null;
}

function isZero(k: Kernel, pfn: number, order: number): boolean {
  const bytes = k.mem.readBytes(pfn * k.PAGE_SIZE, k.PAGE_SIZE << order);
  for (let i = 0; i < bytes.length; i += 4) if ((bytes[i] | bytes[i + 1] | bytes[i + 2] | bytes[i + 3]) !== 0) return false;
  return true;
}

/** Run one command sequence on a fresh machine, checking after every step; returns the failed allocations. */
function runSequence(config: MachineConfigInput, cmds: Cmd[]): number {
  let failures = 0;
  const k = boot(config);
  k.drain_all_pages(); // the pages kmem_cache_init()'s slabs left on the pcp lists: back to the buddy lists
  const bootBuddyinfo = readProc(k, 'buddyinfo');
  const bootFree = freeBlockKeys(k);
  const bootTypeTotals = pagetypeinfoFreeTotals(readProc(k, 'pagetypeinfo'));
  const bootDmesg = k.dmesg();
  const flags = flagChoices(k);
  const live: LiveBlocks = new Map();
  const compound = new Map<number, boolean>();
  checkAllocator(k, live, { perPage: true });

  for (const c of cmds) {
    k.set_cpu(c.cpu);
    if (c.op === 'alloc') {
      const f = flags[c.flags];
      // __GFP_COMP is only meaningful for order > 0; __GFP_NOWARN keeps the log quiet when memory runs out.
      const gfp = f.gfp | k.__GFP_NOWARN | (c.zero ? k.__GFP_ZERO : 0) | (c.comp ? k.__GFP_COMP : 0);
      const page = k.alloc_pages(gfp, c.order);
      if (page === 0) {
        failures++;
        continue;
      }
      const pfn = k.page_to_pfn(page);
      assert.equal(pfn % (1 << c.order), 0, `order-${c.order} block at pfn ${pfn} is not naturally aligned`);
      assert.ok(!live.has(pfn), `pfn ${pfn} handed out twice`);
      assert.equal(zoneLimitOk(k, gfp, pfn, c.order), null, `${f.name} order ${c.order}`);
      assert.equal(k.page_count(page), 1);
      if (c.zero) assert.ok(isZero(k, pfn, c.order), `__GFP_ZERO block at pfn ${pfn} order ${c.order} is not zeroed`);
      live.set(pfn, c.order);
      compound.set(pfn, c.comp && c.order > 0);
    } else {
      if (live.size === 0) continue;
      const pfns = [...live.keys()];
      const pfn = pfns[c.pick % pfns.length];
      const order = live.get(pfn) as number;
      const page = k.pfn_to_page(pfn);
      // Dirty the block so that a later __GFP_ZERO allocation has something to clear.
      k.mem.fill(pfn * k.PAGE_SIZE, k.PAGE_SIZE << order, 0xa5);
      const addr = k.page_address(page);
      if (c.how === 0 && order === 0) k.free_cold_page(page);
      else if (c.how === 1 && addr !== 0) k.free_pages(addr, order);
      else k.__free_pages(page, order);
      live.delete(pfn);
      compound.delete(pfn);
    }
    checkAllocator(k, live, { compound });
  }
  checkAllocator(k, live, { compound, perPage: true });
  // A valid sequence causes no BUG or WARNING; running out of memory only fails
  // allocations (__GFP_NOWARN: no allocation-failure report, but the OOM killer
  // still says it found nothing to kill).
  const added = k.dmesg().slice(bootDmesg.length).split('\n').filter(Boolean).map((l) => l.replace(/^\[[ .\d]+\] /, ''));
  for (const line of added) assert.match(line, /^swapper\/0 invoked oom-killer: |^Out of memory and no killable processes\.\.\.$/);

  for (const [pfn, order] of live) k.__free_pages(k.pfn_to_page(pfn), order);
  live.clear();
  k.drain_all_pages();
  assert.equal(pcpCountSum(k), 0);
  checkAllocator(k, live, { perPage: true });
  assert.equal(readProc(k, 'buddyinfo'), bootBuddyinfo);
  assert.deepEqual(freeBlockKeys(k), bootFree);
  assert.deepEqual(pagetypeinfoFreeTotals(readProc(k, 'pagetypeinfo')), bootTypeTotals);
  return failures;
}

/** Returns how many allocations failed over all runs (so a test can insist memory ran out). */
function property(config: MachineConfigInput, cpus: number, runs: number, maxLength: number, allocWeight = 3): number {
  const nFlags = 8;
  let failures = 0;
  fc.assert(
    fc.property(fc.array(cmdArb(cpus, nFlags, allocWeight), { minLength: 1, maxLength, size: 'max' }), (cmds) => {
      failures += runSequence(config, cmds);
    }),
    { numRuns: runs, seed: 0x6b6d656d },
  );
  return failures;
}

test('buddy allocator model: x86_64 128M, 2 CPUs (DMA + DMA32)', () => {
  property({ arch: 'x86_64', mem: '128M', cpus: 2 }, 2, 60, 120);
});

test('buddy allocator model: x86_64 64M, 3 CPUs, long sequences that run memory out', () => {
  const failures = property({ arch: 'x86_64', mem: '64M', cpus: 3 }, 3, 12, 400, 8);
  assert.ok(failures > 50, `memory never ran out (${failures} failed allocations)`);
});

test('buddy allocator model: i386 1G with HighMem, 2 CPUs', () => {
  property({ arch: 'i386', mem: '1G', cpus: 2 }, 2, 20, 120);
});

test('buddy allocator model: x86_64 256M, 2 NUMA nodes, 4 CPUs', () => {
  property({ arch: 'x86_64', mem: '256M', cpus: 4, nodes: 2 }, 4, 30, 120);
});

test('buddy allocator model: a fixed long sequence touches every order, flag and free path', () => {
  // A scripted counterpart to the random runs, so that coverage does not depend on the seed.
  const cmds: Cmd[] = [];
  for (let round = 0; round < 3; round++) {
    for (let order = 0; order <= 10; order++) {
      for (let f = 0; f < 8; f++) {
        cmds.push({ op: 'alloc', cpu: (order + f) % 2, order, flags: f, zero: (f + round) % 2 === 0, comp: (order + round) % 2 === 0 });
      }
    }
    for (let i = 0; i < 60; i++) cmds.push({ op: 'free', cpu: i % 2, pick: i * 7919, how: i % 3 });
  }
  runSequence({ arch: 'x86_64', mem: '128M', cpus: 2 }, cmds);
  runSequence({ arch: 'i386', mem: '1G', cpus: 2 }, cmds);
});

test('the invariant checker itself notices a broken allocator or a wrong model', () => {
  const k = boot({ arch: 'x86_64', mem: '64M', cpus: 1 });
  const page = k.alloc_pages(k.GFP_KERNEL, 2);
  const pfn = k.page_to_pfn(page);
  const live: LiveBlocks = new Map([[pfn, 2]]);
  checkAllocator(k, live);
  // The model forgets a block: the zone no longer adds up.
  assert.throws(() => checkAllocator(k, new Map()), /free \+ pcp \+ allocated != managed/);
  // The model claims a page inside a free block (refcount 0 there), or one it already holds.
  const free = freeBlockKeys(k).map((key) => key.split(':').map(Number)).find(([, , o]) => o > 0) as number[];
  const [, head, order] = free;
  assert.throws(() => checkAllocator(k, new Map([...live, [head + 1, 0]])), /refcount 0/);
  k.get_page(k.pfn_to_page(head + 1));
  assert.throws(() => checkAllocator(k, new Map([...live, [head + 1, 0]])), /overlap/);
  k.pages.set_page_count(head + 1, 0);
  // ...or its head.
  assert.throws(() => checkAllocator(k, new Map([...live, [head, 0]])), /PageBuddy while allocated/);
  // A free block's head loses its order.
  k.pages.setPrivate(head, order + 1);
  assert.throws(() => checkAllocator(k, live), /private != order/);
  k.pages.setPrivate(head, order);
  checkAllocator(k, live);
  // A pcp count that does not match its lists.
  k.__free_page(k.alloc_page(k.GFP_KERNEL));
  const zone = k.page_zone(page);
  const pcp = k.buddy.pcpPa(zone, 0);
  const count = k.mem.read32(pcp + k.mz.pcp.count);
  k.mem.write32(pcp + k.mz.pcp.count, count + 1);
  assert.throws(() => checkAllocator(k, live), /pcp count/);
  k.mem.write32(pcp + k.mz.pcp.count, count);
  checkAllocator(k, live);
});
