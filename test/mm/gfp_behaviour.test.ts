/*
 * What the gfp flags make the page allocator do (mm/page_alloc.c, 6.12):
 * which zones a request may use, how far below the watermarks each kind of
 * caller may dig (__zone_watermark_ok, gfp_to_alloc_flags), what a failure
 * logs (warn_alloc), the sanity reports (might_alloc in atomic context,
 * order > MAX_PAGE_ORDER, GFP_ZONE_BAD), and page contents (__GFP_ZERO,
 * LIFO reuse of the per-CPU lists).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import type { Zone } from '../../src/mm/page_alloc.ts';
import { MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, NR_FREE_PAGES, WMARK_LOW, WMARK_MIN } from '../../src/mm/mmzone.ts';
import { boot, checkAllocator, logged, type LiveBlocks } from './helpers.ts';

const MiB = 1 << 20;
const GiB = 1 << 30;

function pa(k: Kernel, page: number): number {
  return k.page_to_pfn(page) * k.PAGE_SIZE;
}

/* ------------------------------------------------------------------ */
/* Zones                                                              */
/* ------------------------------------------------------------------ */

test('zones, x86_64 6G: GFP_KERNEL prefers Normal, GFP_DMA32 stays below 4 GiB, GFP_DMA below 16 MiB', () => {
  const k = boot({ arch: 'x86_64', mem: '6G', cpus: 2 });
  const zs = k.mz.zs;
  // The first GFP_KERNEL page comes from ZONE_NORMAL (the top of the zonelist), above 4 GiB.
  const first = k.alloc_pages(k.GFP_KERNEL, 0);
  assert.equal(k.page_zonenum(first), zs.ZONE_NORMAL);
  assert.ok(pa(k, first) >= 4 * GiB);
  for (let order = 0; order <= 10; order++) {
    const n = k.alloc_pages(k.GFP_KERNEL, order);
    assert.equal(k.page_zonenum(n), zs.ZONE_NORMAL, `GFP_KERNEL order ${order}`);
  }
  // GFP_DMA32 takes DMA32 first; when DMA32 is used up it falls back to DMA, never to Normal.
  let dma32 = 0;
  let dmaFallback = 0;
  for (;;) {
    const p = k.alloc_pages(k.GFP_KERNEL | k.GFP_DMA32 | k.__GFP_NOWARN | k.__GFP_NORETRY, 10);
    if (p === 0) break;
    assert.ok(pa(k, p) + (4 * MiB) <= 4 * GiB, `GFP_DMA32 block at ${pa(k, p).toString(16)}`);
    if (k.page_zonenum(p) === zs.ZONE_DMA32) dma32++;
    else {
      assert.equal(k.page_zonenum(p), zs.ZONE_DMA);
      dmaFallback++;
    }
  }
  assert.ok(dma32 > 700, `only ${dma32} order-10 blocks from DMA32`);
  // GFP_DMA: only ZONE_DMA, below 16 MiB; order 0 until the zone's reserve is reached, then failure.
  let dma = 0;
  for (;;) {
    const p = k.alloc_pages(k.GFP_KERNEL | k.GFP_DMA | k.__GFP_NOWARN | k.__GFP_NORETRY, 0);
    if (p === 0) break;
    assert.ok(pa(k, p) < 16 * MiB);
    assert.equal(k.page_zonenum(p), zs.ZONE_DMA);
    dma++;
  }
  assert.ok(dma + dmaFallback * 1024 > 1000, `DMA gave only ${dma} pages`);
  // Normal still has plenty: GFP_KERNEL is unaffected, DMA32 and DMA requests are not.
  assert.equal(k.page_zonenum(k.alloc_pages(k.GFP_KERNEL, 0)), zs.ZONE_NORMAL);
  assert.equal(k.alloc_pages(k.GFP_KERNEL | k.GFP_DMA | k.__GFP_NOWARN | k.__GFP_NORETRY, 0), 0);
});

test('zones, x86_64 128M: no Normal zone, so GFP_KERNEL is served by DMA32 then DMA', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const zs = k.mz.zs;
  assert.equal(k.page_zonenum(k.alloc_pages(k.GFP_KERNEL, 0)), zs.ZONE_DMA32);
  const seen = new Set<number>();
  for (;;) {
    const p = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN | k.__GFP_NORETRY, 9);
    if (p === 0) break;
    seen.add(k.page_zonenum(p));
  }
  assert.deepEqual([...seen].sort(), [zs.ZONE_DMA, zs.ZONE_DMA32]);
});

test('zones, i386 1G: GFP_KERNEL never gets HighMem, GFP_HIGHUSER does (and first); highmem has no page_address', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 2 });
  const zs = k.mz.zs;
  const high = k.buddy.zone(0, zs.ZONE_HIGHMEM);
  assert.ok(k.buddy.managed(high) > 30000);

  const hu = k.alloc_pages(k.GFP_HIGHUSER, 0);
  assert.equal(k.page_zonenum(hu), zs.ZONE_HIGHMEM);
  assert.ok(k.PageHighMem(hu));
  assert.equal(k.page_address(hu), 0);
  // __get_free_pages() drops __GFP_HIGHMEM: always a direct-mapped address.
  const va = k.__get_free_pages(k.GFP_HIGHUSER, 0);
  assert.notEqual(va, 0);
  assert.ok(k.virt_addr_valid(va));
  assert.ok(!k.PageHighMem(k.virt_to_page(va)));
  assert.equal(k.page_address(k.virt_to_page(va)), va);

  // Use up lowmem with GFP_KERNEL: every block is in DMA or Normal, and the
  // request fails while HighMem is still nearly all free.
  const highFree = k.buddy.zoneStat(high, NR_FREE_PAGES);
  let n = 0;
  for (const order of [10, 0]) {
    for (;;) {
      const p = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN | k.__GFP_NORETRY, order);
      if (p === 0) break;
      assert.ok(!k.PageHighMem(p));
      assert.notEqual(k.page_address(p), 0);
      n++;
    }
  }
  assert.ok(n > 200);
  assert.equal(k.buddy.zoneStat(high, NR_FREE_PAGES), highFree);
  assert.equal(k.__get_free_pages(k.GFP_HIGHUSER | k.__GFP_NOWARN | k.__GFP_NORETRY, 0), 0);
  // GFP_HIGHUSER still has HighMem.
  const p = k.alloc_pages(k.GFP_HIGHUSER, 3);
  assert.equal(k.page_zonenum(p), zs.ZONE_HIGHMEM);
  assert.equal(k.page_address(p), 0);
  // Freeing a highmem page by struct page works like any other.
  const before = k.buddy.zoneStat(high, NR_FREE_PAGES) + k.buddy.pcpTotal(high);
  k.__free_pages(p, 3);
  assert.equal(k.buddy.zoneStat(high, NR_FREE_PAGES) + k.buddy.pcpTotal(high), before + 8);
});

test('zones, i386 1G: GFP_HIGHUSER falls back to lowmem once HighMem is gone', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const zs = k.mz.zs;
  let highmem = 0;
  let low = 0;
  for (let i = 0; i < 60; i++) {
    const p = k.alloc_pages(k.GFP_HIGHUSER | k.__GFP_NOWARN, 10);
    assert.notEqual(p, 0);
    if (k.page_zonenum(p) === zs.ZONE_HIGHMEM) {
      assert.equal(low, 0, 'HighMem after a lowmem block: zonelist order broken');
      highmem++;
    } else low++;
  }
  assert.ok(highmem >= 30 && low > 0, `${highmem} highmem, ${low} lowmem blocks`);
});

/* ------------------------------------------------------------------ */
/* Watermarks and reserves                                            */
/* ------------------------------------------------------------------ */

/**
 * An oracle for order-0 requests written from the kernel's rules, not from
 * kmem's code: gfp_to_alloc_flags() (slow path: min watermark, __GFP_HIGH
 * -> ALLOC_MIN_RESERVE, no direct reclaim -> ALLOC_NON_BLOCK,
 * __GFP_MEMALLOC -> ALLOC_NO_WATERMARKS), __zone_watermark_ok() (min -=
 * min/2 for ALLOC_MIN_RESERVE, then min -= min/4 when also non-blocking;
 * free > min + lowmem_reserve[highest_zoneidx]), zone_watermark_fast()
 * (boosted marks, and the unboosted min for __GFP_HIGH), the fast path at
 * the low watermark. Nothing can be reclaimed, so nothing else helps.
 */
function zonePasses(k: Kernel, z: Zone, highest: number, which: number, minReserve: boolean, nonBlock: boolean): boolean {
  // zone_page_state(): the watermark checks see the zone's counter, not the CPUs' pending diffs.
  const free = z.freePages();
  const boost = k.buddy.zget(z, 'watermark_boost');
  const raw = k.buddy.zget(z, '_watermark', which);
  const reserve = k.buddy.lowmemReserve(z, highest);
  const ok = (mark: number) => {
    let min = mark;
    if (minReserve) {
      min -= Math.floor(min / 2);
      if (nonBlock) min -= Math.floor(min / 4);
    }
    return free > min + reserve;
  };
  if (ok(raw + boost)) return true;
  return minReserve && boost > 0 && which === WMARK_MIN && ok(raw);
}

function predictOrder0(k: Kernel, gfp: number, highest: number): boolean {
  const zones = k.buddy.zonelist(0, false).filter((z) => z.idx <= highest);
  if (zones.some((z) => zonePasses(k, z, highest, WMARK_LOW, false, false))) return true;
  const memalloc = (gfp & k.__GFP_MEMALLOC) !== 0 && !(gfp & k.__GFP_NOMEMALLOC);
  if (memalloc) {
    // ALLOC_NO_WATERMARKS: anything on this CPU's list or the buddy lists.
    const mt = gfp & k.__GFP_MOVABLE ? 1 : gfp & k.__GFP_RECLAIMABLE ? 2 : 0;
    return zones.some((z) => k.buddy.zoneStat(z, NR_FREE_PAGES) > 0 || k.buddy.pcpListPfns(z, k.smp_processor_id(), mt, 0).length > 0);
  }
  const minReserve = (gfp & k.__GFP_HIGH) !== 0;
  const nonBlock = !(gfp & k.__GFP_DIRECT_RECLAIM) && !(gfp & k.__GFP_NOMEMALLOC);
  return zones.some((z) => zonePasses(k, z, highest, WMARK_MIN, minReserve, nonBlock));
}

test('reserves: each kind of caller stops exactly where the kernel stops it, ATOMIC < HIGH < KERNEL/NOWAIT', () => {
  const k = boot({ arch: 'x86_64', mem: '64M', cpus: 2 });
  const zs = k.mz.zs;
  const dma32 = k.buddy.zone(0, zs.ZONE_DMA32);
  const live: LiveBlocks = new Map();
  // Bulk fill with big blocks, leaving the last few thousand pages for the order-0 phase.
  for (;;) {
    const free = k.buddy.zoneStat(dma32, NR_FREE_PAGES);
    if (free < k.buddy.zget(dma32, '_watermark', WMARK_LOW) + 2048) break;
    const p = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN | k.__GFP_NORETRY, 9);
    assert.notEqual(p, 0);
    live.set(k.page_to_pfn(p), 9);
  }
  const classes = [
    { name: 'GFP_KERNEL|__GFP_NORETRY', gfp: k.GFP_KERNEL | k.__GFP_NORETRY | k.__GFP_NOWARN },
    { name: 'GFP_NOWAIT', gfp: k.GFP_NOWAIT },
    { name: 'GFP_KERNEL|__GFP_HIGH|__GFP_NORETRY', gfp: k.GFP_KERNEL | k.__GFP_HIGH | k.__GFP_NORETRY | k.__GFP_NOWARN },
    { name: 'GFP_ATOMIC', gfp: k.GFP_ATOMIC | k.__GFP_NOWARN },
  ];
  const firstFail = new Map<string, number>();
  let step = 0;
  let atomicBelowLowChecked = false;
  while (firstFail.size < classes.length) {
    for (const c of classes) {
      k.set_cpu(step % 2);
      const expect = predictOrder0(k, c.gfp, zs.ZONE_NORMAL);
      const dmaFree = k.buddy.zoneStat(dma32, NR_FREE_PAGES);
      const p = k.alloc_pages(c.gfp, 0);
      assert.equal(p !== 0, expect, `${c.name} at step ${step}: DMA32 free ${dmaFree}, expected ${expect ? 'success' : 'failure'}`);
      if (p) live.set(k.page_to_pfn(p), 0);
      else if (!firstFail.has(c.name)) firstFail.set(c.name, step);
      if (!p && c.name === 'GFP_KERNEL|__GFP_NORETRY' && !atomicBelowLowChecked) {
        // Below the (boosted) low and min watermarks: the sleeping request failed, GFP_ATOMIC still gets a page.
        // (Unmovable requests stealing from movable pageblocks boost the marks until kswapd pays them off.)
        atomicBelowLowChecked = true;
        const boost = k.buddy.zget(dma32, 'watermark_boost');
        assert.ok(k.buddy.zoneStat(dma32, NR_FREE_PAGES) <= k.buddy.zget(dma32, '_watermark', WMARK_MIN) + boost);
        assert.ok(k.buddy.zoneStat(dma32, NR_FREE_PAGES) < k.buddy.zget(dma32, '_watermark', WMARK_LOW) + boost);
        const a = k.alloc_pages(k.GFP_ATOMIC, 0);
        assert.notEqual(a, 0, 'GFP_ATOMIC failed where only GFP_KERNEL|__GFP_NORETRY should');
        live.set(k.page_to_pfn(a), 0);
      }
      step++;
    }
    assert.ok(step < 200000);
  }
  assert.ok(atomicBelowLowChecked);
  const at = (n: string) => firstFail.get(n) as number;
  assert.ok(at('GFP_ATOMIC') > at('GFP_KERNEL|__GFP_HIGH|__GFP_NORETRY'), 'GFP_ATOMIC must reach deeper than __GFP_HIGH');
  assert.ok(at('GFP_KERNEL|__GFP_HIGH|__GFP_NORETRY') > at('GFP_KERNEL|__GFP_NORETRY'), '__GFP_HIGH must reach below min');
  assert.ok(at('GFP_NOWAIT') >= at('GFP_KERNEL|__GFP_NORETRY') - 4, 'GFP_NOWAIT gets no reserves');
  // Where GFP_ATOMIC stopped: at or below 3/8 of the unboosted min (zone_watermark_fast()
  // ignores the boost for __GFP_HIGH order-0 requests at the min mark), not at zero.
  const min = k.buddy.zget(dma32, '_watermark', WMARK_MIN);
  const free = k.buddy.zoneStat(dma32, NR_FREE_PAGES);
  let atomicMin = min - Math.floor(min / 2);
  atomicMin -= Math.floor(atomicMin / 4);
  assert.ok(free <= atomicMin, `DMA32 free ${free} above GFP_ATOMIC's floor ${atomicMin}`);
  assert.ok(free > 0);
  checkAllocator(k, live);

  // __GFP_MEMALLOC ignores the watermarks: it drains the zones to the last page.
  for (;;) {
    const gfp = k.GFP_ATOMIC | k.__GFP_MEMALLOC | k.__GFP_NOWARN;
    const expect = predictOrder0(k, gfp, zs.ZONE_NORMAL);
    const p = k.alloc_pages(gfp, 0);
    assert.equal(p !== 0, expect);
    if (!p) break;
    live.set(k.page_to_pfn(p), 0);
  }
  assert.equal(k.buddy.zoneStat(dma32, NR_FREE_PAGES), 0);
  assert.equal(k.buddy.zoneStat(k.buddy.zone(0, zs.ZONE_DMA), NR_FREE_PAGES), 0);
  // __GFP_NOMEMALLOC beats __GFP_MEMALLOC.
  k.set_cpu(1);
  assert.equal(predictOrder0(k, k.GFP_ATOMIC | k.__GFP_MEMALLOC | k.__GFP_NOMEMALLOC, zs.ZONE_NORMAL), false);
  assert.equal(k.alloc_pages(k.GFP_ATOMIC | k.__GFP_MEMALLOC | k.__GFP_NOMEMALLOC | k.__GFP_NOWARN, 0), 0);
  checkAllocator(k, live);
});

test('reserves without boosting: GFP_ATOMIC succeeds below the low watermark where GFP_KERNEL|__GFP_NORETRY fails', () => {
  // Movable requests on movable pageblocks never steal, so the watermarks stay unboosted.
  const M = (k: Kernel) => k.__GFP_MOVABLE | k.__GFP_NOWARN;
  /** A 128M machine filled until GFP_KERNEL|__GFP_NORETRY fails. */
  function filled(): { k: Kernel; dma32: Zone; min: number; low: number } {
    const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
    const dma32 = k.buddy.zone(0, k.mz.zs.ZONE_DMA32);
    for (const order of [10, 3, 0]) {
      while (k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY | M(k), order) !== 0);
    }
    assert.equal(k.buddy.zget(dma32, 'watermark_boost'), 0);
    return { k, dma32, min: k.buddy.zget(dma32, '_watermark', WMARK_MIN), low: k.buddy.zget(dma32, '_watermark', WMARK_LOW) };
  }
  /**
   * Allocate order-0 pages until gfp fails; the zone then sits at or below
   * floor, and the last refill of the CPU list (a whole batch, taken after
   * the watermark check passed) is why it may sit well below it.
   */
  function drain(k: Kernel, dma32: Zone, gfp: number, floor: number): number {
    let n = 0;
    while (k.alloc_pages(gfp, 0) !== 0) n++;
    const free = k.buddy.zoneStat(dma32, NR_FREE_PAGES);
    assert.ok(free <= floor, `stopped at ${free}, above the floor ${floor}`);
    assert.ok(free + k.buddy.pcpTotal(dma32) > floor, `stopped at ${free} + ${k.buddy.pcpTotal(dma32)} on the pcp list, floor ${floor}`);
    return n;
  }

  const a = filled();
  let free = a.k.buddy.zoneStat(a.dma32, NR_FREE_PAGES);
  assert.ok(free <= a.min && free < a.low, `DMA32 free ${free}, min ${a.min}, low ${a.low}`);
  // Nothing can be reclaimed and nothing is drained: the failure is final for sleeping
  // callers, and GFP_NOWAIT has no reserves either...
  assert.equal(a.k.alloc_pages(a.k.GFP_KERNEL | a.k.__GFP_NORETRY | M(a.k), 0), 0);
  assert.equal(a.k.alloc_pages(a.k.GFP_NOWAIT | a.k.__GFP_MOVABLE, 0), 0);
  // ...but GFP_ATOMIC may go down to 3/8 of min (ALLOC_MIN_RESERVE, then ALLOC_NON_BLOCK).
  let atomicFloor = a.min - Math.floor(a.min / 2);
  atomicFloor -= Math.floor(atomicFloor / 4);
  assert.ok(drain(a.k, a.dma32, a.k.GFP_ATOMIC | M(a.k), atomicFloor) > 0);

  // __GFP_HIGH alone (a sleeping caller) dips to half of min: less deep than GFP_ATOMIC.
  const h = filled();
  const highFloor = h.min - Math.floor(h.min / 2);
  assert.ok(highFloor > atomicFloor);
  assert.ok(drain(h.k, h.dma32, h.k.GFP_KERNEL | h.k.__GFP_HIGH | h.k.__GFP_NORETRY | M(h.k), highFloor) > 0);

  // __GFP_MEMALLOC: no watermark at all, down to the last page of every zone.
  const m = filled();
  while (m.k.alloc_pages(m.k.GFP_KERNEL | m.k.__GFP_MEMALLOC | m.k.__GFP_NORETRY | M(m.k), 0) !== 0);
  free = m.k.buddy.zoneStat(m.dma32, NR_FREE_PAGES);
  assert.equal(free, 0);
  assert.equal(m.k.buddy.zoneStat(m.k.buddy.zone(0, m.k.mz.zs.ZONE_DMA), NR_FREE_PAGES), 0);
  // What is left is on the CPU's lists of other orders (the order-3 fill's leftovers), out of an order-0 request's reach.
  assert.deepEqual(m.k.buddy.pcpListPfns(m.dma32, 0, 1, 0), []);
});

test('warn_alloc: the failure report, and __GFP_NOWARN silences it', () => {
  const k = boot({ arch: 'x86_64', mem: '64M', cpus: 1 });
  // Exhaust everything a GFP_KERNEL|__GFP_NORETRY request may have.
  for (const order of [10, 4, 0]) {
    while (k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY | k.__GFP_NOWARN, order) !== 0);
  }
  const quiet = logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY | k.__GFP_NOWARN, 0), 0));
  assert.deepEqual(quiet, []);
  assert.deepEqual(logged(k, () => assert.equal(k.alloc_pages(k.GFP_NOWAIT, 0), 0)), []);

  const lines = logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY, 0), 0));
  assert.equal(lines[0], 'swapper/0: page allocation failure: order:0, mode:0x10cc0(GFP_KERNEL|__GFP_NORETRY), nodemask=(null),cpuset=/,mems_allowed=0');
  assert.match(lines[1], /^CPU: 0 UID: 0 PID: 0 Comm: swapper\/0 (Not tainted|Tainted: .*) 6\.12\.0-kmem #1$/);
  const trace = lines.indexOf('Call Trace:');
  const memInfo = lines.indexOf('Mem-Info:');
  assert.ok(trace > 0 && memInfo > trace, 'dump_stack, then Mem-Info');
  assert.ok(lines.slice(trace, memInfo).includes(' warn_alloc'));
  // show_mem: the zone lines agree with the counters.
  const dma32 = k.buddy.zone(0, k.mz.zs.ZONE_DMA32);
  const zoneLine = lines.find((l) => l.startsWith('Node 0 DMA32 free:'));
  assert.ok(zoneLine);
  assert.match(zoneLine, new RegExp(`^Node 0 DMA32 free:${k.buddy.zoneStat(dma32, NR_FREE_PAGES) * 4}kB boost:\\d+kB min:${k.buddy.zget(dma32, '_watermark', WMARK_MIN) * 4}kB `));
  const buddyLine = lines.find((l) => l.startsWith('Node 0 DMA32: '));
  assert.ok(buddyLine?.endsWith(`= ${k.buddy.zoneStat(dma32, NR_FREE_PAGES) * 4}kB`));
  // Higher orders report their order.
  const big = logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY, 5), 0));
  assert.equal(big[0], 'swapper/0: page allocation failure: order:5, mode:0x10cc0(GFP_KERNEL|__GFP_NORETRY), nodemask=(null),cpuset=/,mems_allowed=0');
});

/* ------------------------------------------------------------------ */
/* Sanity reports                                                     */
/* ------------------------------------------------------------------ */

test('might_alloc: a sleeping allocation in atomic context is reported, and still served', () => {
  const k = boot({ arch: 'x86_64', mem: '64M', cpus: 2 });
  // GFP_ATOMIC in atomic context is what it is for: no report.
  k.preempt_disable();
  assert.deepEqual(logged(k, () => assert.notEqual(k.alloc_pages(k.GFP_ATOMIC, 0), 0)), []);
  let page = 0;
  const lines = logged(k, () => (page = k.alloc_pages(k.GFP_KERNEL, 0)));
  assert.notEqual(page, 0);
  // __might_resched() called via might_alloc(), an inline function of include/linux/sched/mm.h.
  assert.equal(lines[0], 'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321');
  assert.equal(lines[1], 'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0');
  assert.equal(lines[2], 'preempt_count: 1, expected: 0');
  assert.equal(lines[3], 'RCU nest depth: 0, expected: 0');
  assert.match(lines[4], /^CPU: 0 UID: 0 PID: 0 Comm: swapper\/0 /);
  k.preempt_enable();
  assert.deepEqual(logged(k, () => assert.notEqual(k.alloc_pages(k.GFP_KERNEL, 0), 0)), []);

  k.set_cpu(1);
  k.local_irq_disable();
  const irq = logged(k, () => assert.notEqual(k.get_zeroed_page(k.GFP_KERNEL), 0));
  assert.equal(irq[1], 'in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 0, name: swapper/0');
  k.local_irq_enable();

  const t = boot({ arch: 'x86_64', mem: '64M', cpus: 1 }, { errors: 'throw' });
  t.preempt_disable();
  assert.throws(() => t.alloc_pages(t.GFP_KERNEL, 0), (e: unknown) =>
    e instanceof KernelBug && e.kind === 'might_sleep' &&
    e.report.startsWith('BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321\n'));
});

test('order > MAX_PAGE_ORDER: refused with a WARN_ON_ONCE unless __GFP_NOWARN', () => {
  const k = boot({ arch: 'x86_64', mem: '64M', cpus: 1 });
  const before = JSON.stringify(k.buddy.zones.map((z) => k.buddy.zoneStat(z, NR_FREE_PAGES)));
  assert.deepEqual(logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN, 11), 0)), []);
  const lines = logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL, 11), 0));
  assert.deepEqual(lines.slice(0, 2), ['------------[ cut here ]------------', 'WARNING: CPU: 0 PID: 0 at mm/page_alloc.c:4832 __alloc_pages_noprof']);
  assert.equal(lines.at(-1), '---[ end trace 0000000000000000 ]---');
  // WARN_ON_ONCE: the second time is silent.
  assert.deepEqual(logged(k, () => assert.equal(k.alloc_pages(k.GFP_KERNEL, 12), 0)), []);
  assert.equal(k.__get_free_pages(k.GFP_KERNEL, 11), 0);
  assert.equal(JSON.stringify(k.buddy.zones.map((z) => k.buddy.zoneStat(z, NR_FREE_PAGES))), before);
  // MAX_PAGE_ORDER itself is fine.
  assert.notEqual(k.alloc_pages(k.GFP_KERNEL, 10), 0);
});

test('GFP_ZONE_BAD: __GFP_DMA|__GFP_HIGHMEM is a kernel BUG and NULL', () => {
  const k = boot({ arch: 'i386', mem: '128M', cpus: 1 });
  const before = JSON.stringify(k.buddy.zones.map((z) => k.buddy.zoneStat(z, NR_FREE_PAGES)));
  for (const bad of [k.__GFP_DMA | k.__GFP_HIGHMEM, k.__GFP_DMA | k.__GFP_DMA32, k.GFP_KERNEL | k.__GFP_DMA32 | k.__GFP_HIGHMEM]) {
    const lines = logged(k, () => assert.equal(k.alloc_pages(bad, 0), 0));
    assert.equal(lines[0], '------------[ cut here ]------------');
    assert.equal(lines[1], 'kernel BUG at include/linux/gfp.h:143!');
    assert.match(lines[2], /^Oops: invalid opcode: 0000 \[#1\] /);
  }
  assert.equal(JSON.stringify(k.buddy.zones.map((z) => k.buddy.zoneStat(z, NR_FREE_PAGES))), before);
  const t = boot({ arch: 'x86_64', mem: '64M', cpus: 1 }, { errors: 'throw' });
  assert.throws(() => t.alloc_pages(t.__GFP_DMA | t.__GFP_HIGHMEM, 0),
    (e: unknown) => e instanceof KernelBug && e.kind === 'BUG' && e.report.includes('kernel BUG at include/linux/gfp.h:143!'));
});

/* ------------------------------------------------------------------ */
/* Page contents                                                      */
/* ------------------------------------------------------------------ */

function bytesOf(k: Kernel, va: number, len = 4096): Uint8Array {
  return k.mem.readBytes(k.__pa(va), len);
}

test('get_zeroed_page clears a dirtied, freed page; __get_free_page hands the same page back dirty (LIFO pcp)', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    const k = boot({ arch, mem: '128M', cpus: 2 });
    const a = k.__get_free_page(k.GFP_KERNEL);
    k.mem.fill(k.__pa(a), 4096, 0xaa);
    k.free_page(a);
    const z = k.get_zeroed_page(k.GFP_KERNEL);
    assert.equal(z, a, 'the page just freed is at the head of the CPU list');
    assert.ok(bytesOf(k, z).every((b) => b === 0));

    k.mem.fill(k.__pa(z), 4096, 0xaa);
    k.free_page(z);
    const d = k.__get_free_page(k.GFP_KERNEL);
    assert.equal(d, z);
    assert.ok(bytesOf(k, d).every((b) => b === 0xaa), '__get_free_page must not clear');

    // Higher orders: __GFP_ZERO clears the whole block.
    const blk = k.__get_free_pages(k.GFP_KERNEL, 2);
    k.mem.fill(k.__pa(blk), 4 * 4096, 0x5c);
    k.free_pages(blk, 2);
    const zb = k.__get_free_pages(k.GFP_KERNEL | k.__GFP_ZERO, 2);
    assert.equal(zb, blk);
    assert.ok(bytesOf(k, zb, 4 * 4096).every((b) => b === 0));

    // Another CPU has its own list: the page freed on CPU 0 is not what CPU 1 gets next.
    k.mem.fill(k.__pa(d), 4096, 0xaa);
    k.free_page(d);
    k.set_cpu(1);
    const other = k.__get_free_page(k.GFP_KERNEL);
    assert.notEqual(other, d);
    k.set_cpu(0);
    assert.equal(k.__get_free_page(k.GFP_KERNEL), d);
  }
});

test('free_cold_page puts the page at the tail: it is reused last', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  k.drain_all_pages(); // start from empty pcp lists (kmem_cache_init() left some pages on them)
  const a = k.alloc_page(k.GFP_KERNEL);
  const b = k.alloc_page(k.GFP_KERNEL);
  const zone = k.page_zone(a);
  k.free_cold_page(a);
  const list = k.buddy.pcpListPfns(zone, 0, 0, 0);
  assert.equal(list.at(-1), k.page_to_pfn(a));
  k.free_hot_page(b);
  assert.equal(k.buddy.pcpListPfns(zone, 0, 0, 0)[0], k.page_to_pfn(b));
  assert.equal(k.alloc_page(k.GFP_KERNEL), b);
  assert.notEqual(k.alloc_page(k.GFP_KERNEL), a);
});

test('alloc_pages_exact: exactly the pages asked for; the rest of the block goes back to the buddy lists', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const live: LiveBlocks = new Map();
  const va = k.alloc_pages_exact(5 * 4096 + 1, k.GFP_KERNEL); // 6 pages of an order-3 block
  assert.notEqual(va, 0);
  const pfn = k.page_to_pfn(k.virt_to_page(va));
  for (let i = 0; i < 6; i++) {
    assert.equal(k.page_count(k.pfn_to_page(pfn + i)), 1, `page ${i} has its own reference`);
    live.set(pfn + i, 0);
  }
  assert.ok(k.PageBuddy(k.pfn_to_page(pfn + 6)), 'the unused order-1 tail is a free buddy block');
  checkAllocator(k, live);
  k.free_pages_exact(va, 5 * 4096 + 1);
  k.drain_all_pages();
  checkAllocator(k, new Map());
});

test('__free_pages of a shared non-compound block keeps page 0 and frees the rest (___free_pages)', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const page = k.alloc_pages(k.GFP_KERNEL, 3);
  const pfn = k.page_to_pfn(page);
  k.get_page(page); // a speculative reference
  k.__free_pages(page, 3);
  assert.equal(k.page_count(page), 1);
  // Pages 1..7 went back as order-2, order-1 and order-0 blocks.
  checkAllocator(k, new Map([[pfn, 0]]));
  k.put_page(page);
  k.drain_all_pages();
  checkAllocator(k, new Map());
  // A compound page is one unit: the last put_page frees it whole.
  const c = k.alloc_pages(k.GFP_KERNEL | k.__GFP_COMP, 3);
  k.get_page(c);
  k.__free_pages(c, 3);
  checkAllocator(k, new Map([[k.page_to_pfn(c), 3]]), { compound: new Map([[k.page_to_pfn(c), true]]) });
  k.put_page(c);
  checkAllocator(k, new Map());
});

test('free_unref_page: a page of a HIGHATOMIC pageblock goes on the movable pcp list of its order', () => {
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const page = k.alloc_page(k.GFP_KERNEL);
  const pfn = k.page_to_pfn(page);
  const zone = k.page_zone(page);
  const mt = k.sparse.get_pageblock_migratetype(pfn);
  // reserve_highatomic_pageblock() would have done this (kmem never reserves on its own yet).
  k.sparse.set_pageblock_migratetype(pfn, MIGRATE_HIGHATOMIC);
  k.__free_page(page);
  assert.equal(k.buddy.pcpListPfns(zone, 0, MIGRATE_MOVABLE, 0)[0], pfn);
  assert.ok(!k.buddy.pcpListPfns(zone, 0, MIGRATE_UNMOVABLE, 1).includes(pfn), 'an order-0 page on an order-1 list');
  k.sparse.set_pageblock_migratetype(pfn, mt);
  k.drain_all_pages();
  checkAllocator(k, new Map());
});
