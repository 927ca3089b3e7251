/*
 * Page reclaim (mm/vmscan.c, Linux 6.12): direct reclaim for allocations
 * that may sleep (try_to_free_pages), kswapd's background reclaim
 * (wakeup_kswapd, kswapd, balance_pgdat), and shrink_node(), which both use.
 *
 * kmem has no page cache, no anonymous memory and no swap, so the LRU lists
 * shrink_lruvec() scans are always empty. What reclaim can free is slab
 * memory: shrink_node() runs shrink_slab() (mm/shrinker.c, shrinker.ts),
 * and, as kmem's addition, gives back the empty slabs SLUB keeps cached.
 * Pages freed by the slab allocator while a task reclaims are counted in
 * its reclaim_state (mm_account_reclaimed_pages() from __free_slab) and
 * flushed into the reclaim total (flush_reclaim_state).
 *
 *   __alloc_pages_slowpath (page_alloc.ts)
 *     __alloc_pages_direct_reclaim -> hooks.reclaim = __perform_reclaim()
 *       PF_MEMALLOC (no reclaim recursion), reclaim_state
 *       try_to_free_pages(): priority DEF_PRIORITY (12) .. 0
 *         shrink_zones(): each node of the zonelist once -> shrink_node()
 *         stop once SWAP_CLUSTER_MAX (32) pages are reclaimed
 *     progress -> retry; drain_all_pages() -> retry
 *
 *   kswapd (woken below the low watermark; runs when the waking allocation
 *   returns, as its own task kswapdN with PF_MEMALLOC | PF_KSWAPD)
 *     balance_pgdat(): priority 12 .. 1, until some eligible zone is above
 *     its high watermark (or the boost is paid off); each round
 *     kswapd_shrink_node() asks for sum(max(high_wmark, 32)) pages.
 *
 * The empty-slab pass: since 6.x SLUB frees an empty slab at once unless
 * its node keeps fewer than min_partial partial slabs, and the per-CPU
 * partial lists hold a few more. The kernel gives those back only on
 * kmem_cache_shrink() (sysfs "shrink", memcg offlining); SLAB's cache_reap
 * used to do it periodically. kmem gives them back under pressure:
 * shrink_node() calls kmem_cache_shrink() on the caches holding an empty
 * slab on a partial list, in the first round of a reclaim pass and after
 * any round in which the shrinkers freed objects. Turn it off with
 * Vmscan.reclaimEmptySlabs = false for 6.12's exact behaviour.
 *
 * kmem is deterministic: a woken kswapd runs when the allocation call that
 * woke it returns, as if the scheduler picked it next. With nothing to
 * reclaim a pass only settles the boost and counts a failure, as
 * kswapd_failures does in the kernel.
 *
 * Per node, in struct pglist_data: kswapd_wait (woken, not yet run),
 * kswapd_order, kswapd_highest_zoneidx, kswapd_failures, and kmem's count
 * of wakeups.
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PhysMem } from '../machine/memory.ts';
import { GFP_KERNEL } from '../include/linux/gfp_types.ts';
import { gfp_zone } from '../include/linux/gfp.ts';
import { PF_KSWAPD, type Sched } from '../kernel/sched.ts';
import { WMARK_HIGH, type MmzoneLayouts, type Zone } from './mmzone.ts';
import type { Watermarks } from './watermark.ts';
import type { Shrinkers } from './shrinker.ts';
import type { SlabCommon } from './slab_common.ts';

/** MAX_RECLAIM_RETRIES: after this many fruitless passes the node is "unreclaimable". */
export const MAX_RECLAIM_RETRIES = 16;
/** DEF_PRIORITY: reclaim starts by scanning 1/2^12 of everything. */
export const DEF_PRIORITY = 12;
/** SWAP_CLUSTER_MAX: what direct reclaim aims to free. */
export const SWAP_CLUSTER_MAX = 32;

/** What kswapd and direct reclaim shrink a node with. */
export interface NodeReclaim {
  /** shrink_node(): pages reclaimed from node nid at this priority. */
  shrink_node(nid: number, gfp: number, priority: number): number;
  /** Run fn as node nid's kswapd task (current, PF_MEMALLOC | PF_KSWAPD, its reclaim_state). */
  asKswapd<T>(nid: number, fn: () => T): T;
}

export class Kswapd {
  /** Set by wakeup_kswapd() on any node; cleared when the woken kswapds have run. */
  private readonly pendingPa: number;
  /** The reclaim kswapd does (Vmscan); without it, the reclaim hook alone, as a node shrink at any priority. */
  reclaimer: NodeReclaim | null = null;
  /**
   * This host thread is running a kswapd (in balance_pgdat()): it is not
   * waiting, so wakeups only record the order, and the allocations its
   * reclaim makes run no kswapd nested on this thread's stack. Per thread:
   * a woken kswapd runs on the thread whose allocation woke it.
   */
  private running = false;

  constructor(
    private readonly access: KmemAccess,
    private readonly mz: MmzoneLayouts,
    private readonly pgdatPa: readonly number[],
    private readonly zones: readonly Zone[],
    private readonly wm: Watermarks,
    /** Physical address of a word that says some kswapd is woken (in the allocator's globals). */
    pendingPa: number,
    private readonly reclaim: () => ((gfp: number, order: number) => number) | undefined,
  ) {
    this.pendingPa = pendingPa;
  }

  private field(nid: number, f: 'kswapd_wait' | 'kswapd_order' | 'kswapd_highest_zoneidx' | 'kswapd_failures'): number {
    return this.pgdatPa[nid] + this.mz.pgdat[f];
  }

  /** wakeup_kswapd(zone, order, highest_zoneidx) */
  wakeup(zone: Zone, order: number, highestZoneidx: number): void {
    const m = this.access.mem;
    const nid = zone.nid;
    m.write32(this.field(nid, 'kswapd_order'), Math.max(order, m.read32(this.field(nid, 'kswapd_order'))));
    m.write32(this.field(nid, 'kswapd_highest_zoneidx'), Math.max(highestZoneidx, m.read32(this.field(nid, 'kswapd_highest_zoneidx'))));
    // if (!waitqueue_active(&pgdat->kswapd_wait)) return: a running kswapd is not woken
    if (this.running) return;
    m.write32(this.field(nid, 'kswapd_wait'), 1);
    const wakeups = this.pgdatPa[nid] + this.mz.pgdat.kswapd_wakeups;
    this.access.writeUlong(wakeups, this.access.readUlong(wakeups) + 1);
    m.write32(this.pendingPa, 1);
  }

  /** Run every woken kswapd (called when the waking allocation returns). */
  runPending(): void {
    const m = this.access.mem;
    if (this.running || m.read32(this.pendingPa) === 0) return;
    m.write32(this.pendingPa, 0);
    this.running = true;
    try {
      for (let nid = 0; nid < this.pgdatPa.length; nid++) {
        // Claim the wakeup: with several host threads, only one runs this node's kswapd for it.
        const wait = this.field(nid, 'kswapd_wait');
        if (Atomics.compareExchange(m.i32At(wait), PhysMem.wordIndex(wait), 1, 0) !== 1) continue;
        const order = m.read32(this.field(nid, 'kswapd_order'));
        const highest = m.read32(this.field(nid, 'kswapd_highest_zoneidx'));
        m.write32(this.field(nid, 'kswapd_order'), 0);
        m.write32(this.field(nid, 'kswapd_highest_zoneidx'), 0);
        if (this.reclaimer) this.reclaimer.asKswapd(nid, () => this.balance_pgdat(nid, order, highest));
        else this.balance_pgdat(nid, order, highest);
      }
    } finally {
      this.running = false;
    }
  }

  /** pgdat_balanced(): some eligible zone is above its high watermark for this order. */
  private balanced(nid: number, order: number, highest: number): boolean {
    for (const z of this.zones) {
      if (z.nid !== nid || z.idx > highest || z.present() === 0) continue;
      if (this.wm.zone_watermark_ok_safe(z, order, z.wmark(WMARK_HIGH), highest)) return true;
    }
    return false;
  }

  /** shrink_node() for kswapd: the reclaimer's, or the bare reclaim hook's. */
  private shrinkNode(nid: number, order: number, priority: number): number {
    if (this.reclaimer) return this.reclaimer.shrink_node(nid, GFP_KERNEL, priority);
    const hook = this.reclaim();
    return hook ? Math.max(hook(GFP_KERNEL, order), 0) : 0;
  }

  /**
   * balance_pgdat(): reclaim at falling priority until some eligible zone
   * is balanced (and any watermark boost is paid off), then take the
   * boosts back.
   */
  private balance_pgdat(nid: number, order: number, highest: number): void {
    const eligible = this.zones.filter((z) => z.nid === nid && z.idx <= highest && z.managed() > 0);
    const boosts = this.zones.map((z) => (eligible.includes(z) ? z.get(z.iBoost) : 0));
    let nrBoostReclaim = boosts.reduce((a, b) => a + b, 0);
    const boosted = nrBoostReclaim > 0;
    let nrReclaimed = 0;
    let priority = DEF_PRIORITY;
    let balanced = false;
    do {
      let raisePriority = true;
      balanced = this.balanced(nid, order, highest);
      if (!balanced && nrBoostReclaim) {
        // restart: ignore the boost, reclaim for the watermarks (priority starts over)
        nrBoostReclaim = 0;
        priority = DEF_PRIORITY;
        continue;
      }
      if (!nrBoostReclaim && balanced) break;
      if (nrBoostReclaim && priority === DEF_PRIORITY - 2) raisePriority = false;
      // kswapd_shrink_node(): a number of pages proportional to the number of zones
      const nrToReclaim = eligible.reduce((n, z) => n + Math.max(z.wmark(WMARK_HIGH), SWAP_CLUSTER_MAX), 0);
      const reclaimed = this.shrinkNode(nid, order, priority);
      nrReclaimed += reclaimed;
      if (order && nrReclaimed >= 2 << order) order = 0; // compact_gap(order)
      if (reclaimed >= nrToReclaim) raisePriority = false;
      nrBoostReclaim -= Math.min(nrBoostReclaim, reclaimed);
      if (nrBoostReclaim && !reclaimed) break;
      if (raisePriority || !reclaimed) priority--;
    } while (priority >= 1);
    balanced = this.balanced(nid, order, highest);
    // The kernel counts a failure whenever a pass reclaimed nothing, and resets the count when
    // reclaim makes progress (LRU pages, in practice always). kmem has no LRU pages: a pass that
    // ends balanced resets it too, and only an unbalanced, fruitless pass counts.
    const failures = this.field(nid, 'kswapd_failures');
    const m = this.access.mem;
    if (!balanced && nrReclaimed === 0) m.write32(failures, m.read32(failures) + 1);
    else if (balanced) m.write32(failures, 0);
    if (boosted) {
      this.zones.forEach((z, i) => {
        if (boosts[i]) z.set(z.iBoost, z.get(z.iBoost) - Math.min(z.get(z.iBoost), boosts[i]));
      });
    }
  }

  /** "node_unreclaimable" in zoneinfo: kswapd_failures >= MAX_RECLAIM_RETRIES. */
  unreclaimable(nid: number): boolean {
    return this.access.mem.read32(this.field(nid, 'kswapd_failures')) >= MAX_RECLAIM_RETRIES;
  }

  /** shrink_node()'s reset on progress: a successful reclaim revives a dormant kswapd. */
  resetFailures(nid: number): void {
    this.access.mem.write32(this.field(nid, 'kswapd_failures'), 0);
  }
}

export interface VmscanDeps {
  access: KmemAccess;
  mz: MmzoneLayouts;
  sched: Sched;
  shrinkers: Shrinkers;
  slab: SlabCommon;
  kswapd: Kswapd;
  /** The zonelist of a node as the page allocator walks it (build_all_zonelists). */
  zonelist(nid: number, thisNode: boolean): readonly Zone[];
  cpuToNode: readonly number[];
  nrCpus: number;
  nrNodes: number;
  /** Physical address of the .bss area (Vmscan.staticBytes()): the reclaim_states. */
  dataPa: number;
  __va(pa: number): number;
  /** kswapd's task_struct per node. */
  kswapdTasks: readonly number[];
}

/** What SLUB shows of its lists (Slub.slabsOf, Slub.slabState). */
interface SlubLists {
  slabsOf(s: number): { pfn: number; where: string }[];
  slabState(pfn: number): { inuse: number };
}

/** scan_control, the part kmem uses. */
interface ScanControl {
  gfp: number;
  reclaimIdx: number;
  priority: number;
  nrToReclaim: number;
  nrReclaimed: number;
}

export class Vmscan implements NodeReclaim {
  /** Give back the empty slabs SLUB keeps cached (kmem's addition; see the top of the file). */
  reclaimEmptySlabs = true;
  /** Direct reclaim runs (ALLOCSTALL) and pages they reclaimed; kswapd passes; for views and tests. */
  readonly stats = { allocstall: 0, directReclaimed: 0, kswapdReclaimed: 0, emptySlabPages: 0 };

  constructor(private readonly d: VmscanDeps) {
    d.kswapd.reclaimer = this;
  }

  /** .bss: a struct reclaim_state per CPU (direct reclaim) and per node (kswapd). */
  static staticBytes(ptrSize: 4 | 8, nrCpus: number, maxNodes: number): number {
    return (nrCpus + maxNodes) * ptrSize;
  }

  private reclaimStatePa(slot: number): number {
    return this.d.dataPa + slot * this.d.access.ptrSize;
  }

  /** set_task_reclaim_state(current, rs): the reclaim_state in slot zeroed and hung on the task (null: taken off). */
  private setReclaimState(slot: number | null): void {
    if (slot === null) {
      this.d.sched.setReclaimState(0);
      return;
    }
    this.d.access.writeUlong(this.reclaimStatePa(slot), 0);
    this.d.sched.setReclaimState(this.d.__va(this.reclaimStatePa(slot)));
  }

  /** flush_reclaim_state(): pages freed outside the LRU (slab pages) count as reclaimed. */
  private flush_reclaim_state(): number {
    const rs = this.d.sched.reclaimState();
    if (rs === 0) return 0;
    const pa = rs - this.d.__va(0);
    const n = this.d.access.readUlong(pa);
    this.d.access.writeUlong(pa, 0);
    return n;
  }

  /**
   * shrink_node(): shrink_lruvec() (nothing: kmem has no LRU pages), then
   * shrink_slab() for the node, then kmem's empty-slab pass; the pages
   * reclaimed (from the task's reclaim_state).
   */
  shrink_node(nid: number, gfp: number, priority: number): number {
    const freed = this.d.shrinkers.shrink_slab(gfp, nid, priority);
    // Empty slabs appear when objects are freed: look at the first round of a pass and after
    // rounds in which the shrinkers freed something.
    if (this.reclaimEmptySlabs && (priority === DEF_PRIORITY || freed > 0)) this.shrinkEmptySlabs();
    const reclaimed = this.flush_reclaim_state();
    if (reclaimed > 0) this.d.kswapd.resetFailures(nid);
    if (this.d.sched.taskFlags() & PF_KSWAPD) this.stats.kswapdReclaimed += reclaimed;
    return reclaimed;
  }

  /**
   * kmem_cache_shrink() of every cache holding an empty slab on a partial
   * list (a CPU's or a node's; a CPU's active slab is in use). SLUB shows
   * its lists (slabsOf); for an implementation that does not, a cache
   * whose slabinfo has a slab's worth of free objects is shrunk.
   */
  private shrinkEmptySlabs(): void {
    const slab = this.d.slab;
    const impl = slab.impl as Partial<SlubLists> & typeof slab.impl;
    const info = {
      active_objs: 0, num_objs: 0, active_slabs: 0, num_slabs: 0, shared_avail: 0, limit: 0, batchcount: 0, shared: 0,
      objects_per_slab: 0, cache_order: 0,
    };
    const rs = this.d.sched.reclaimState();
    const before = rs === 0 ? 0 : this.d.access.readUlong(rs - this.d.__va(0));
    for (const s of slab.caches()) {
      let empty: boolean;
      if (impl.slabsOf && impl.slabState) {
        empty = impl.slabsOf(s).some((e) => e.where.endsWith('partial') && impl.slabState!(e.pfn).inuse === 0);
      } else {
        impl.get_slabinfo(s, info);
        empty = info.objects_per_slab > 0 && info.num_objs - info.active_objs >= info.objects_per_slab;
      }
      if (empty) slab.kmem_cache_shrink(s);
    }
    if (rs !== 0) this.stats.emptySlabPages += this.d.access.readUlong(rs - this.d.__va(0)) - before;
  }

  /**
   * __perform_reclaim(): direct reclaim for an allocation that may sleep,
   * under PF_MEMALLOC (allocations made while reclaiming do not reclaim
   * themselves); the pages reclaimed, the allocator's "progress".
   */
  __perform_reclaim(gfp: number, order: number): number {
    const sched = this.d.sched;
    const noreclaim = sched.memalloc_noreclaim_save();
    try {
      return this.try_to_free_pages(gfp, order);
    } finally {
      sched.memalloc_noreclaim_restore(noreclaim);
    }
  }

  /** try_to_free_pages(): the reclaim_state on, do_try_to_free_pages(), off. */
  try_to_free_pages(gfp: number, _order: number): number {
    const reclaimIdx = gfp_zone(gfp, this.d.mz.zs);
    const sc: ScanControl = { gfp, reclaimIdx: reclaimIdx < 0 ? 0 : reclaimIdx, priority: DEF_PRIORITY, nrToReclaim: SWAP_CLUSTER_MAX, nrReclaimed: 0 };
    this.setReclaimState(this.d.sched.cpu);
    try {
      this.stats.allocstall++;
      const n = this.do_try_to_free_pages(sc);
      this.stats.directReclaimed += n;
      return n;
    } finally {
      this.setReclaimState(null);
    }
  }

  /** do_try_to_free_pages(): shrink the zonelist's nodes at falling priority until enough is reclaimed. */
  private do_try_to_free_pages(sc: ScanControl): number {
    const nid = this.d.cpuToNode[this.d.sched.cpu] ?? 0;
    const zonelist = this.d.zonelist(nid, false);
    do {
      // shrink_zones(): each node once, for the zones the request may use
      let lastNid = -1;
      for (const zone of zonelist) {
        if (zone.idx > sc.reclaimIdx || zone.managed() === 0 || zone.nid === lastNid) continue;
        lastNid = zone.nid;
        sc.nrReclaimed += this.shrink_node(zone.nid, sc.gfp, sc.priority);
      }
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
    } while (--sc.priority >= 0);
    return sc.nrReclaimed;
  }

  /** Run fn as node nid's kswapd: its task current, its reclaim_state set. */
  asKswapd<T>(nid: number, fn: () => T): T {
    const sched = this.d.sched;
    const prev = sched.current;
    const task = this.d.kswapdTasks[nid];
    if (task !== undefined) sched.setCurrent(task);
    this.setReclaimState(this.d.nrCpus + nid);
    try {
      return fn();
    } finally {
      this.setReclaimState(null);
      if (task !== undefined) sched.setCurrent(prev);
    }
  }
}
