/*
 * The flat fast path (src/mm/pcp_fast.ts) against the general code: the same
 * random sequence of allocations and frees (orders 0..4, several flags, two
 * CPUs, hot and cold frees, drains) on two identical machines, one of them
 * with no-op mm_page_alloc / mm_page_free tracepoint hooks, which send every
 * call down the general path. Every call must return the same block, and
 * the allocators' whole state (free lists, pcp lists and counts, counters,
 * /proc/zoneinfo) must be the same after the sequence. Bursts (up to 5000
 * blocks allocated, then freed) take the pcp lists past `high`, so frees
 * drain and retune `high`, and high-order frees meet the "free high" batch.
 * Squeezes (order-5 blocks held, up to all of memory) put the zone below
 * its high watermark, where the pcp code tunes `high` down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { MachineConfigInput } from '../../src/machine/config.ts';
import { allocatorState, boot } from './helpers.ts';

type Cmd =
  | { op: 'alloc'; cpu: number; order: number; flags: number }
  | { op: 'free'; cpu: number; pick: number; cold: boolean }
  | { op: 'drain'; cpu: number }
  | { op: 'burst'; cpu: number; order: number; n: number; cold: boolean }
  | { op: 'squeeze'; cpu: number; n: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    op: fc.constant('alloc' as const), cpu: fc.integer({ min: 0, max: 1 }), order: fc.integer({ min: 0, max: 4 }),
    flags: fc.integer({ min: 0, max: 5 }),
  }) },
  { weight: 4, arbitrary: fc.record({
    op: fc.constant('free' as const), cpu: fc.integer({ min: 0, max: 1 }), pick: fc.nat(), cold: fc.boolean(),
  }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const), cpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constant('burst' as const), cpu: fc.integer({ min: 0, max: 1 }), order: fc.integer({ min: 0, max: 3 }),
    n: fc.integer({ min: 1, max: 5000 }), cold: fc.boolean(),
  }) },
  { weight: 1, arbitrary: fc.record({
    op: fc.constant('squeeze' as const), cpu: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 1, max: 2500 }),
  }) },
);

function gfpOf(k: Kernel, i: number): number {
  return [k.GFP_KERNEL, k.GFP_ATOMIC, k.GFP_KERNEL | k.__GFP_ZERO, k.GFP_HIGHUSER_MOVABLE, k.GFP_KERNEL | k.__GFP_COMP,
    k.GFP_NOWAIT | k.__GFP_RECLAIMABLE][i];
}

/** Run the sequence; the pfn each allocation returned (-1 for none), then the final state. */
function run(config: MachineConfigInput, cmds: Cmd[], general: boolean): { pfns: number[]; state: string; zoneinfo: string } {
  const k = boot(config);
  if (general) {
    k.buddy.hooks.mm_page_alloc = () => {};
    k.buddy.hooks.mm_page_free = () => {};
  }
  const live: [number, number][] = [];
  const pfns: number[] = [];
  for (const c of cmds) {
    k.set_cpu(c.cpu);
    if (c.op === 'alloc') {
      const page = k.alloc_pages(gfpOf(k, c.flags) | k.__GFP_NOWARN, c.order);
      pfns.push(page === 0 ? -1 : k.page_to_pfn(page));
      if (page !== 0) live.push([k.page_to_pfn(page), c.order]);
    } else if (c.op === 'free') {
      if (live.length === 0) continue;
      const [pfn, order] = live.splice(c.pick % live.length, 1)[0];
      if (c.cold && order === 0) k.free_cold_page(k.pfn_to_page(pfn));
      else k.__free_pages(k.pfn_to_page(pfn), order);
    } else if (c.op === 'burst') {
      const pages: number[] = [];
      for (let i = 0; i < c.n; i++) {
        const page = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN, c.order);
        pfns.push(page === 0 ? -1 : k.page_to_pfn(page));
        if (page !== 0) pages.push(page);
      }
      for (const page of pages) {
        if (c.cold && c.order === 0) k.free_cold_page(page);
        else k.__free_pages(page, c.order);
      }
    } else if (c.op === 'squeeze') {
      for (let i = 0; i < c.n; i++) {
        const page = k.alloc_pages(k.GFP_NOWAIT | k.__GFP_NOWARN, 5);
        pfns.push(page === 0 ? -1 : k.page_to_pfn(page));
        if (page === 0) break;
        live.push([k.page_to_pfn(page), 5]);
      }
    } else {
      k.drain_all_pages();
    }
  }
  k.set_cpu(0);
  return { pfns, state: allocatorState(k), zoneinfo: readProc(k, 'zoneinfo') };
}

/**
 * Sequences run before the random ones: frees far past `high` (drains, `high` retuned up),
 * runs of high-order frees ("free high" batches, free_count at its cap) and an order-0 free
 * between two high-order ones; then frees below the zone's high watermark.
 */
const pcpBoundaries: Cmd[][] = [
  [
    { op: 'burst', cpu: 0, order: 0, n: 5000, cold: false },
    { op: 'burst', cpu: 0, order: 2, n: 600, cold: false },
    { op: 'burst', cpu: 1, order: 1, n: 900, cold: false },
    { op: 'burst', cpu: 1, order: 0, n: 3000, cold: true },
    ...[2, 0, 2].map((order): Cmd => ({ op: 'alloc', cpu: 0, order, flags: 0 })),
    ...[0, 0, 0].map((pick): Cmd => ({ op: 'free', cpu: 0, pick, cold: false })),
  ],
  [
    { op: 'squeeze', cpu: 0, n: 1800 },
    { op: 'burst', cpu: 0, order: 0, n: 500, cold: false },
  ],
];

for (const config of [{ arch: 'x86_64', mem: '256M', cpus: 2 }, { arch: 'i386', mem: '256M', cpus: 2 }] as const) {
  test(`fast path = general path, ${config.arch}: same blocks, same state`, () => {
    fc.assert(fc.property(fc.array(cmdArb, { minLength: 50, maxLength: 400 }), (cmds) => {
      const fast = run(config, cmds, false);
      const general = run(config, cmds, true);
      assert.deepEqual(fast.pfns, general.pfns);
      assert.equal(fast.state, general.state);
      assert.equal(fast.zoneinfo, general.zoneinfo);
    }), { numRuns: 6, seed: 1122, examples: pcpBoundaries.map((cmds) => [cmds]) });
  });
}
