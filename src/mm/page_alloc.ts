/*
 * The buddy page allocator's entry points (mm/page_alloc.c, Linux 6.12):
 * __alloc_pages() and its slow path, get_page_from_freelist() walking the
 * zonelist, and the free path with the checks free_pages_prepare() makes.
 *
 * The pieces it is built from, one file each:
 *   free_area.ts   the buddy free lists of a zone: split, merge, fallback
 *   pcp.ts         the per-CPU page lists in front of them (orders 0..3)
 *   watermark.ts   who may take a zone's last pages; min_free_kbytes
 *   mmzone.ts      struct zone / per_cpu_pages / per_cpu_zonestat and their handles
 *   page_list.ts   lists of struct page threaded through page->lru
 *   pcp_fast.ts    the common order-0..3 case, flat
 *   vmstat_percpu.ts  zone counters through per-CPU diffs
 *
 *   __alloc_pages(gfp, order)
 *     gfp_zone() -> highest zone; gfp_migratetype() -> free list
 *     get_page_from_freelist(ALLOC_WMARK_LOW)     the fast path
 *       for each zone in the zonelist, highest first, node-local first:
 *         watermark ok?  -> rmqueue(): pcp list (order <= 3) or buddy lists
 *     __alloc_pages_slowpath()                    below the low watermark
 *       wake kswapd; retry at min (less for __GFP_HIGH / atomic callers,
 *       nothing for __GFP_MEMALLOC); direct reclaim if the caller may
 *       sleep; OOM; __GFP_NOFAIL; else warn_alloc() and NULL
 *
 * Locks (as in the kernel): pcp->lock, then zone->lock. pcp_spin_trylock()
 * guards a CPU's lists; when it fails, allocation takes rmqueue_buddy() and
 * free takes free_one_page(), both under zone->lock. The locks are words in
 * struct zone / per_cpu_pages (src/kernel/locking/spinlock.ts); one CPU's
 * lists are drained by any CPU under that pcp's lock (drain_all_pages).
 * Counters change through per-CPU diffs (vmstat_percpu.ts).
 *
 * The common case, a pcp-served order with the pcp list non-empty, runs
 * through pcp_fast.ts first; everything else is the general code here.
 *
 * All state (free lists, counters, watermarks, pcp lists, globals) lives in
 * simulated memory; the JS objects here only know where.
 */
import {
  __GFP_BITS_MASK, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_KSWAPD_RECLAIM, __GFP_NOFAIL,
  __GFP_NOWARN, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_THISNODE, __GFP_ZERO,
} from '../include/linux/gfp_types.ts';
import {
  ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE, ALLOC_NOFRAGMENT, ALLOC_NO_WATERMARKS,
  ALLOC_NON_BLOCK, ALLOC_OOM, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK,
  __gfp_pfmemalloc_flags, gfp_migratetype, gfp_to_alloc_flags, gfp_zone, type GfpTaskContext,
} from '../include/linux/gfp.ts';
import { format_gfp_mode } from '../include/trace/events/mmflags.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PAGE_SIZE, type ArchLayout } from '../arch/x86/layout.ts';
import {
  MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_ALLOC_COSTLY_ORDER, MIGRATE_HIGHATOMIC, MIGRATE_ISOLATE, MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES, MIGRATE_TYPES, NUMA_FOREIGN, NUMA_HIT, NUMA_LOCAL, NUMA_MISS, NUMA_OTHER, WMARK_HIGH, WMARK_LOW,
  ZONE_BELOW_HIGH, ZONE_BOOSTED_WATERMARK, Pcp, Zone, Zonestat, type MmzoneLayouts,
} from './mmzone.ts';
import {
  PG_active, PG_head, PG_locked, PG_lru, PG_mlocked, PG_private, PG_private_2, PG_reserved, PG_unevictable,
  PG_writeback, PAGE_TYPE_NONE, type Pages,
} from './page.ts';
import type { Sparse } from './sparse.ts';
import type { PageLists } from './page_list.ts';
import { PageAllocGlobals } from './page_alloc_globals.ts';
import { FreeArea } from './free_area.ts';
import { PcpLists } from './pcp.ts';
import { Watermarks } from './watermark.ts';
import { dump_page } from './debug.ts';
import { show_mem } from './show_mem.ts';
import { Kswapd } from './vmscan.ts';
import { KERN_ALERT, KERN_WARNING, TAINT_BAD_PAGE, TAINT_WARN, type Bug, type Log } from '../kernel/bug.ts';
import { PF_MEMALLOC, type Sched } from '../kernel/sched.ts';
import type { Smp } from '../kernel/smp.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import type { Percpu } from './percpu.ts';
import { VmCounters } from './vmstat_percpu.ts';
import { PcpFastPath } from './pcp_fast.ts';

export { Zone };

/** PAGE_FLAGS_CHECK_AT_FREE: flags a page must not carry when it is freed. */
const PAGE_FLAGS_CHECK_AT_FREE =
  1 << PG_lru | 1 << PG_locked | 1 << PG_private | 1 << PG_private_2 | 1 << PG_writeback | 1 << PG_reserved |
  1 << PG_active | 1 << PG_unevictable | 1 << PG_mlocked;

/* Call traces of the reports, innermost first after the reporting function. */
const ALLOC_FRAMES = ['alloc_pages_mpol_noprof', 'alloc_pages_noprof'];
const MIGHT_ALLOC_FRAMES = ['__might_resched', '__alloc_pages_noprof', 'alloc_pages_mpol_noprof', 'alloc_pages_noprof'];
const NOFAIL_FRAMES = ['__alloc_pages_noprof', 'alloc_pages_mpol_noprof', 'alloc_pages_noprof'];
const FREE_FRAMES = ['free_unref_page', '__free_pages'];

export interface PageAllocDeps {
  access: KmemAccess;
  layout: ArchLayout;
  lists: PageLists;
  sparse: Sparse;
  pages: Pages;
  mz: MmzoneLayouts;
  log: Log;
  bug: Bug;
  sched: Sched;
  smp: Smp;
  locks: Spinlocks;
  nrCpus: number;
  cpuToNode: readonly number[];
  /** Physical address of each node's pglist_data. */
  pgdatPa: readonly number[];
  /** Physical address of the allocator's globals (PageAllocGlobals.bytes). */
  globalsPa: number;
  __va(pa: number): number;
}

/** What later layers hook in: tracepoints, reclaim. Set the fields of PageAllocator.hooks. */
export interface PageAllocHooks {
  /** Shrinkers and friends: try to free memory for an allocation; returns pages freed. */
  reclaim?(gfp: number, order: number): number;
  mm_page_alloc?(pfn: number, order: number, gfp: number, migratetype: number): void;
  mm_page_free?(pfn: number, order: number): void;
  mm_page_alloc_zone_locked?(pfn: number, order: number, migratetype: number, percpuRefill: boolean): void;
  mm_page_pcpu_drain?(pfn: number, order: number, migratetype: number): void;
  mm_page_alloc_extfrag?(pfn: number, allocOrder: number, fallbackOrder: number, allocMt: number, fallbackMt: number, changeOwnership: boolean): void;
}

export class PageAllocator {
  readonly zones: Zone[] = [];
  readonly hooks: PageAllocHooks = {};
  readonly globals: PageAllocGlobals;
  readonly freeArea: FreeArea;
  readonly pcp: PcpLists;
  readonly wm: Watermarks;
  readonly kswapd: Kswapd;
  readonly counters: VmCounters;
  private readonly fast: PcpFastPath;
  private readonly zoneByVa = new Map<number, Zone>();
  private readonly maxNrZones: number;
  private readonly a: KmemAccess;
  private readonly p: Pages;
  private readonly z: MmzoneLayouts['zone'];
  private readonly ptr: number;
  /**
   * zonelists[nid * 2 + (THISNODE ? 1 : 0)], built by build_all_zonelists.
   * Like `preferred`, a JS copy of what the pgdats hold: fixed once the zones
   * are up (no memory hotplug), and the same in every thread's boot.
   */
  private zonelists: Zone[][] = [];
  /** First zone of each zonelist at or below each highest_zoneidx: [list * MAX_NR_ZONES + idx]. */
  private preferred: (Zone | null)[] = [];

  constructor(readonly d: PageAllocDeps) {
    this.a = d.access;
    this.p = d.pages;
    this.z = d.mz.zone;
    this.ptr = d.layout.ptrSize;
    this.maxNrZones = d.mz.zs.MAX_NR_ZONES;
    this.globals = new PageAllocGlobals(d.access.mem, d.globalsPa, this.maxNrZones);
    const head = (pa: number) => d.lists.head(pa);
    for (let nid = 0; nid < d.pgdatPa.length; nid++) {
      for (let idx = 0; idx < this.maxNrZones; idx++) {
        const pa = d.pgdatPa[nid] + d.mz.pgdat.node_zones + idx * this.z.size;
        const zone = new Zone(nid, idx, d.mz.zs.names[idx], pa, d.__va(pa), d.access.mem, d.mz, this.ptr, head);
        this.zones.push(zone);
        this.zoneByVa.set(zone.va, zone);
      }
    }
    this.counters = new VmCounters(this.zones, d.sched, d.smp, d.nrCpus, d.access.mem,
      d.pgdatPa.map((pa) => pa + d.mz.pgdat.vm_stat), this.ptr);
    this.wm = new Watermarks(this.zones, d.mz.zs, d.lists, this.globals, d.log, d.access,
      d.pgdatPa.map((pa) => pa + d.mz.pgdat.totalreserve_pages), d.cpuToNode, this.counters);
    let pcpRef: PcpLists | null = null;
    this.freeArea = new FreeArea(d.pages, d.sparse, d.lists, this.globals, this.hooks, this.counters, d.locks,
      (order) => pcpRef!.allowedOrder(order));
    this.pcp = pcpRef = new PcpLists(d.sparse, d.lists, this.freeArea, this.wm, this.hooks, d.mz.pcpLists, d.mz.zs.ZONE_MOVABLE,
      d.locks);
    this.kswapd = new Kswapd(d.access, d.mz, d.pgdatPa, this.zones, this.wm, this.globals.kswapdPendingPa(d.globalsPa),
      () => this.hooks.reclaim);
    this.fast = new PcpFastPath(this, d.access.mem, d.sparse, d.pages.pl, d.lists, d.sched, d.smp, this.globals, d.mz.zs,
      d.cpuToNode, PAGE_FLAGS_CHECK_AT_FREE, this.ptr);
    d.access.mem.onRebind(() => {
      for (const z of this.zones) z.rebind(d.access.mem);
      this.globals.rebind(d.access.mem);
    });
  }

  /* ---------------------------------------------------------------- */
  /* Globals (vm sysctls and boot state)                              */
  /* ---------------------------------------------------------------- */

  initGlobals(): void {
    this.globals.init(this.d.mz.zs.lowmemReserveRatio);
  }

  get min_free_kbytes(): number { return this.globals.min_free_kbytes; }
  set min_free_kbytes(v: number) { this.globals.min_free_kbytes = v; }
  get user_min_free_kbytes(): number { return this.globals.user_min_free_kbytes; }
  set user_min_free_kbytes(v: number) { this.globals.user_min_free_kbytes = v; }
  get watermark_scale_factor(): number { return this.globals.watermark_scale_factor; }
  set watermark_scale_factor(v: number) { this.globals.watermark_scale_factor = v; }
  get page_group_by_mobility_disabled(): boolean { return this.globals.page_group_by_mobility_disabled; }
  set page_group_by_mobility_disabled(v: boolean) { this.globals.page_group_by_mobility_disabled = v; }
  get ready(): boolean { return this.globals.ready; }
  set ready(v: boolean) { this.globals.ready = v; }
  get totalreserve_pages(): number { return this.globals.totalreserve_pages; }
  get lowmem_reserve_ratio(): number[] { return this.globals.lowmem_reserve_ratio; }
  set lowmem_reserve_ratio(v: readonly number[]) { this.globals.lowmem_reserve_ratio = v; }

  /* ---------------------------------------------------------------- */
  /* Zones                                                            */
  /* ---------------------------------------------------------------- */

  zone(nid: number, idx: number): Zone {
    return this.zones[nid * this.maxNrZones + idx];
  }

  /**
   * setup_per_cpu_pageset() -> setup_zone_pageset() for every zone: its
   * per_cpu_pages and per_cpu_zonestat, per-CPU allocations.
   */
  setup_per_cpu_pageset(percpu: Percpu): void {
    const mz = this.d.mz;
    const mem = this.a.mem;
    for (const zone of this.zones) {
      const pageset = percpu.__alloc_percpu(mz.pcp.size, 64);
      const zonestats = percpu.__alloc_percpu(mz.zonestat.size, this.ptr);
      this.a.writePtr(zone.pa + this.z.per_cpu_pageset, pageset);
      this.a.writePtr(zone.pa + this.z.per_cpu_zonestats, zonestats);
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        zone.pcps.push(new Pcp(cpu, percpu.per_cpu_ptr_pa(pageset, cpu), mem, mz, this.ptr, (headPa) => this.d.lists.head(headPa)));
        zone.stats.push(new Zonestat(cpu, percpu.per_cpu_ptr_pa(zonestats, cpu), mem, mz));
      }
    }
  }

  /** The kernel's struct zone fields by name, for cold paths, views and tests. */
  zget(zone: Zone, field: keyof MmzoneLayouts['zone'], i = 0): number {
    return zone.get(zone.w + ((this.z[field] + i * this.ptr) >> 2));
  }

  zset(zone: Zone, field: keyof MmzoneLayouts['zone'], v: number, i = 0): void {
    zone.set(zone.w + ((this.z[field] + i * this.ptr) >> 2), v);
  }

  zint(zone: Zone, field: 'node' | 'pageset_high_min' | 'pageset_high_max' | 'pageset_batch' | 'lock'): number {
    return zone.arr[zone.w + (this.z[field] >> 2)];
  }

  zsetInt(zone: Zone, field: 'node' | 'pageset_high_min' | 'pageset_high_max' | 'pageset_batch' | 'lock', v: number): void {
    zone.arr[zone.w + (this.z[field] >> 2)] = v;
  }

  managed(zone: Zone): number {
    return zone.managed();
  }

  populated(zone: Zone): boolean {
    return zone.present() > 0;
  }

  wmark(zone: Zone, which: number): number {
    return zone.wmark(which);
  }

  lowmemReserve(zone: Zone, idx: number): number {
    return zone.lowmemReserve(idx);
  }

  /** zone_page_state_snapshot(): the counter with every CPU's pending diff (views, /proc, tests). */
  zoneStat(zone: Zone, item: number): number {
    return this.counters.zone_page_state_snapshot(zone, item);
  }

  /** The NUMA event counter with every CPU's share (zoneinfo folds them before printing). */
  numaEvent(zone: Zone, item: number): number {
    return this.counters.zone_numa_event_snapshot(zone, item);
  }

  /** pzstats->stat_threshold of one CPU. */
  statThreshold(zone: Zone, cpu: number): number {
    return this.counters.stat_threshold(zone, cpu);
  }

  /** refresh_zone_stat_thresholds(), once the zones' sizes are known. */
  refresh_zone_stat_thresholds(): void {
    this.counters.refresh_zone_stat_thresholds();
  }

  /** refresh_cpu_vm_stats() on this CPU (what vmstat_update runs every second). */
  refresh_cpu_vm_stats(): void {
    this.counters.refresh_cpu_vm_stats();
  }

  nr_free(zone: Zone, order: number): number {
    return zone.nrFree(order);
  }

  /** Kernel virtual address of free_area[order].free_list[mt]. */
  freeList(zone: Zone, order: number, mt: number): number {
    return zone.freeList(order, mt).va;
  }

  /** The free blocks on one free list, head first (views and checks). */
  freeListPfns(zone: Zone, order: number, mt: number): number[] {
    const out: number[] = [];
    this.d.lists.forEach(zone.freeList(order, mt), (pfn) => out.push(pfn));
    return out;
  }

  /** zone_init_free_lists() and the zone's per-CPU pagesets: empty lists, boot pageset sizes. */
  init_zone_lists(zone: Zone): void {
    const lists = this.d.lists;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) lists.init(zone.freeList(o, mt));
      zone.setNrFree(o, 0);
    }
    for (const pcp of zone.pcps) {
      this.a.mem.fill(pcp.pa, this.d.mz.pcp.size, 0);
      for (const h of pcp.lists) lists.init(h);
      pcp.arr[pcp.iBatch] = 1; // BOOT_PAGESET_BATCH
    }
  }

  /* ---------------------------------------------------------------- */
  /* Per-CPU lists, as views and tests see them                       */
  /* ---------------------------------------------------------------- */

  pcpPa(zone: Zone, cpu: number): number {
    return zone.pcps[cpu].pa;
  }

  pcpCounts(zone: Zone, cpu: number): { count: number; high: number; batch: number; highMin: number; highMax: number } {
    const pcp = zone.pcps[cpu];
    const a = pcp.arr;
    return { count: a[pcp.iCount], high: a[pcp.iHigh], batch: a[pcp.iBatch], highMin: a[pcp.iHighMin], highMax: a[pcp.iHighMax] };
  }

  /** Pages of one CPU's pcp list for order/migratetype, head first. */
  pcpListPfns(zone: Zone, cpu: number, mt: number, order: number): number[] {
    return this.pcp.listPfns(zone, cpu, mt, order);
  }

  /** Pages sitting on all CPUs' pcp lists of a zone. */
  pcpTotal(zone: Zone): number {
    let n = 0;
    for (const pcp of zone.pcps) n += pcp.arr[pcp.iCount];
    return n;
  }

  drain_pages_zone(cpu: number, zone: Zone): void {
    this.pcp.drain(zone, cpu);
  }

  /**
   * page_alloc_cpu_dead() (CPUHP_PAGE_ALLOC's teardown, src/kernel/cpuhp.ts):
   * drain_pages(cpu), every zone's pcp lists of cpu back to the buddy lists,
   * and cpu_vm_stats_fold(cpu), its counter diffs into the zones' counters.
   * Run by the thread that drives cpu (refresh_cpu_vm_stats() folds this
   * CPU's diffs). There are no LRU or mlock batches to drain, and
   * zone_pcp_update() has nothing to do: kmem keeps every possible CPU
   * counted in the pcp high limits, online or not.
   */
  page_alloc_cpu_dead(cpu: number): void {
    for (const zone of this.zones) if (this.pcpHasPages(zone, cpu)) this.pcp.drain(zone, cpu);
    this.counters.refresh_cpu_vm_stats();
  }

  /**
   * drain_all_pages() -> __drain_all_pages(): every CPU that has pages on
   * its lists of the zone (or of any zone) has them drained, from this CPU,
   * under that CPU's pcp->lock (drain_pages_zone()).
   */
  drain_all_pages(zone: Zone | null = null): void {
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      if (zone !== null) {
        if (this.pcpHasPages(zone, cpu)) this.pcp.drain(zone, cpu);
        continue;
      }
      for (const z of this.zones) if (this.pcpHasPages(z, cpu)) this.pcp.drain(z, cpu);
    }
  }

  /** pcp->count of one CPU's lists of the zone is not 0 (__drain_all_pages()'s has_pcps). */
  private pcpHasPages(zone: Zone, cpu: number): boolean {
    return zone.pcps.length !== 0 && zone.pcps[cpu].arr[zone.pcps[cpu].iCount] !== 0;
  }

  /* ---------------------------------------------------------------- */
  /* Watermarks                                                       */
  /* ---------------------------------------------------------------- */

  __zone_watermark_ok(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number, freePages: number): boolean {
    return this.wm.__zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags, freePages);
  }

  zone_watermark_ok(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    return this.wm.zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags);
  }

  nr_free_buffer_pages(): number {
    return this.wm.nr_free_buffer_pages();
  }

  calculate_min_free_kbytes(): void {
    this.wm.calculate_min_free_kbytes();
  }

  setup_per_zone_wmarks(): void {
    this.wm.setup_per_zone_wmarks();
  }

  setup_per_zone_lowmem_reserve(): void {
    this.wm.setup_per_zone_lowmem_reserve();
  }

  calculate_totalreserve_pages(): void {
    this.wm.calculate_totalreserve_pages();
  }

  zone_batchsize(zone: Zone): number {
    return this.wm.zone_batchsize(zone);
  }

  /** zone_set_pageset_high_and_batch() for every zone. */
  zone_pcp_update_all(): void {
    this.wm.zone_pcp_update_all((z, highMin, highMax, batch) => {
      this.zsetInt(z, 'pageset_high_min', highMin);
      this.zsetInt(z, 'pageset_high_max', highMax);
      this.zsetInt(z, 'pageset_batch', batch);
    });
  }

  /* ---------------------------------------------------------------- */
  /* Zonelists                                                        */
  /* ---------------------------------------------------------------- */

  /** A node's zonelist as stored in its pgdat: zones highest first, then other nodes'. */
  zonelist(nid: number, noFallback: boolean): Zone[] {
    const mz = this.d.mz;
    const base = this.d.pgdatPa[nid] + mz.pgdat.node_zonelists + (noFallback ? 1 : 0) * mz.zoneref.size * mz.zonelistEntries;
    const out: Zone[] = [];
    for (let i = 0; ; i++) {
      const zva = this.a.readPtr(base + i * mz.zoneref.size + mz.zoneref.zone);
      if (zva === 0) break;
      out.push(this.zoneByVa.get(zva)!);
    }
    return out;
  }

  /**
   * Called by build_all_zonelists() with what it wrote to the pgdats: the
   * allocator keeps the lists (and what follows from them) at hand, so the
   * hot path walks no memory to find its zones.
   */
  setZonelistCache(lists: Zone[][]): void {
    this.zonelists = lists;
    this.preferred = [];
    for (const list of lists) {
      for (let idx = 0; idx < this.maxNrZones; idx++) this.preferred.push(list.find((z) => z.idx <= idx) ?? null);
    }
    this.fast.setZonelists(lists);
    const zs = this.d.mz.zs;
    for (const z of this.zones) {
      z.nofragment = z.idx === zs.ZONE_NORMAL && zs.ZONE_DMA32 >= 0 && this.zone(z.nid, zs.ZONE_DMA32).present() > 0;
    }
  }

  private nodeOfCpu(): number {
    return this.d.cpuToNode[this.d.sched.cpu] ?? 0;
  }

  /* ---------------------------------------------------------------- */
  /* Allocation                                                       */
  /* ---------------------------------------------------------------- */

  /**
   * __alloc_pages(): the entry point. Returns the first pfn of the block, or -1.
   * Checks its arguments before touching anything, as the kernel does.
   */
  __alloc_pages(gfp: number, order: number, preferredNid = -1): number {
    if (preferredNid < 0) {
      const pfn = this.fast.alloc(gfp, order);
      if (pfn >= 0) return pfn;
    }
    return this.allocGeneral(gfp, order, preferredNid);
  }

  /** __alloc_pages() beyond the fast path (kept apart so that the entry point is small enough to inline). */
  private allocGeneral(gfp: number, order: number, preferredNid: number): number {
    if (!this.globals.ready) return this.refuseEarly(gfp, order);
    if (order > MAX_PAGE_ORDER || order < 0 || order !== Math.floor(order)) {
      if (!(gfp & __GFP_NOWARN)) this.d.bug.warn('mm/page_alloc.c', 4832, '__alloc_pages_noprof', null, ALLOC_FRAMES, true);
      return -1;
    }
    // gfp &= gfp_allowed_mask: bits the kernel does not know are dropped without a word
    // (only kmalloc's kmalloc_fix_flags() complains about them, in mm/slab_common.c).
    gfp &= __GFP_BITS_MASK;
    const highestZoneidx = gfp_zone(gfp, this.d.mz.zs);
    if (highestZoneidx < 0) {
      // VM_BUG_ON((GFP_ZONE_BAD >> bit) & 1) in gfp_zone(), include/linux/gfp.h (CONFIG_DEBUG_VM).
      this.d.bug.bug('include/linux/gfp.h', 143, '__alloc_pages_noprof', ALLOC_FRAMES);
      return -1;
    }
    // prepare_alloc_pages() -> might_alloc(), an inline of include/linux/sched/mm.h: __FILE__ is the header.
    if (gfp & __GFP_DIRECT_RECLAIM && this.d.sched.atomicContext()) {
      this.d.bug.might_sleep('include/linux/sched/mm.h', 321, MIGHT_ALLOC_FRAMES);
    }
    const nid = preferredNid < 0 ? this.nodeOfCpu() : preferredNid;
    const mt = gfp_migratetype(gfp, this.globals.page_group_by_mobility_disabled);
    const list = nid * 2 + (gfp & __GFP_THISNODE ? 1 : 0);
    const preferred = this.preferred[list * this.maxNrZones + highestZoneidx];
    let allocFlags = ALLOC_WMARK_LOW | (gfp & __GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0);
    if (preferred !== null && preferred.nofragment) allocFlags |= ALLOC_NOFRAGMENT;
    let pfn = this.getPageFromFreelist(list, order, allocFlags, nid, highestZoneidx, mt);
    if (pfn < 0) pfn = this.slowpath(gfp, order, nid, highestZoneidx, mt);
    if (pfn >= 0) this.prepNewPage(pfn, order, gfp);
    if (this.hooks.mm_page_alloc !== undefined) this.hooks.mm_page_alloc(pfn, order, gfp, mt);
    this.kswapd.runPending();
    return pfn;
  }

  /** get_page_from_freelist(): the first zone in the zonelist that passes its watermark and has a block. */
  private getPageFromFreelist(listIdx: number, order: number, allocFlags: number, nid: number, highestZoneidx: number, mt: number): number {
    const list = this.zonelists[listIdx];
    const multiNode = this.d.pgdatPa.length > 1;
    const wm = this.wm;
    for (;;) {
      const noFallback = (allocFlags & ALLOC_NOFRAGMENT) !== 0;
      let restart = false;
      for (let i = 0; i < list.length; i++) {
        const zone = list[i];
        if (zone.idx > highestZoneidx) continue;
        if (noFallback && multiNode && zone.nid !== nid) {
          allocFlags &= ~ALLOC_NOFRAGMENT;
          restart = true;
          break;
        }
        let ok = false;
        if (!zone.testFlag(ZONE_BELOW_HIGH)) {
          if (wm.zone_watermark_fast(zone, order, zone.wmark(WMARK_HIGH), highestZoneidx, allocFlags)) ok = true;
          else zone.setFlag(ZONE_BELOW_HIGH, true);
        }
        if (!ok) {
          ok = wm.zone_watermark_fast(zone, order, zone.wmark(allocFlags & ALLOC_WMARK_MASK), highestZoneidx, allocFlags) ||
            (allocFlags & ALLOC_NO_WATERMARKS) !== 0;
        }
        if (!ok) continue;
        const pfn = this.rmqueue(zone, order, allocFlags, mt);
        if (pfn >= 0) {
          this.zoneStatistics(list[0], zone);
          return pfn;
        }
      }
      if (restart) continue;
      if (noFallback) {
        allocFlags &= ~ALLOC_NOFRAGMENT;
        continue;
      }
      return -1;
    }
  }

  /** zone_statistics(): NUMA hit/miss/local/other accounting, on this CPU's counters. */
  private zoneStatistics(preferred: Zone, z: Zone): void {
    const c = this.counters;
    if (z.nid === preferred.nid) c.__count_numa_event(z, NUMA_HIT);
    else {
      c.__count_numa_event(z, NUMA_MISS);
      c.__count_numa_event(preferred, NUMA_FOREIGN);
    }
    c.__count_numa_event(z, z.nid === this.nodeOfCpu() ? NUMA_LOCAL : NUMA_OTHER);
  }

  /** rmqueue(): pcp lists for small orders (if their lock is free), else rmqueue_buddy(). */
  private rmqueue(zone: Zone, order: number, allocFlags: number, mt: number): number {
    let pfn = -1;
    if (this.pcp.allowedOrder(order)) pfn = this.pcp.rmqueue(zone, this.d.sched.cpu, order, mt, allocFlags);
    if (pfn < 0) pfn = this.rmqueueBuddy(zone, order, allocFlags, mt);
    this.boostedWakeup(zone, allocFlags);
    return pfn;
  }

  /** rmqueue_buddy(): straight from the free lists, under zone->lock. */
  private rmqueueBuddy(zone: Zone, order: number, allocFlags: number, mt: number): number {
    const fa = this.freeArea;
    const flags = fa.lock(zone);
    try {
      let pfn = -1;
      if (allocFlags & ALLOC_HIGHATOMIC) pfn = fa.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC, false);
      if (pfn < 0) pfn = fa.rmqueue(zone, order, mt, allocFlags, false);
      if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK))) pfn = fa.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC, false);
      return pfn;
    } finally {
      fa.unlock(zone, flags);
    }
  }

  /** The end of rmqueue(): a fragmenting fallback boosted the watermark; kswapd pays it off. */
  boostedWakeup(zone: Zone, allocFlags: number): void {
    if ((allocFlags & ALLOC_KSWAPD) && zone.testFlag(ZONE_BOOSTED_WATERMARK)) {
      zone.setFlag(ZONE_BOOSTED_WATERMARK, false);
      this.wakeup_kswapd(zone, 0, zone.idx);
    }
  }

  /**
   * wakeup_kswapd(): wake the node's background reclaim, unless it has
   * failed too often or the node is balanced and not boosted (then the
   * kernel wakes kcompactd instead, which kmem does not model).
   */
  wakeup_kswapd(zone: Zone, order: number, highestZoneidx: number): void {
    if (zone.managed() === 0) return;
    if (this.kswapd.unreclaimable(zone.nid)) return;
    let boosted = false;
    let balanced = false;
    for (const z of this.zones) {
      if (z.nid !== zone.nid || z.idx > highestZoneidx || z.present() === 0) continue;
      if (z.get(z.iBoost)) boosted = true;
      if (this.wm.zone_watermark_ok_safe(z, order, z.wmark(WMARK_HIGH), highestZoneidx)) balanced = true; // pgdat_balanced()
    }
    if (balanced && !boosted) return;
    this.kswapd.wakeup(zone, order, highestZoneidx);
  }

  kswapdWakeups(nid: number): number {
    return this.a.readUlong(this.d.pgdatPa[nid] + this.d.mz.pgdat.kswapd_wakeups);
  }

  /** pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES: zoneinfo's node_unreclaimable. */
  node_unreclaimable(nid: number): boolean {
    return this.kswapd.unreclaimable(nid);
  }

  private wakeAllKswapds(order: number, nid: number, highestZoneidx: number): void {
    for (const zone of this.zonelists[nid * 2]) {
      if (zone.idx > highestZoneidx || zone.present() === 0) continue;
      if (!this.wm.zone_watermark_ok(zone, order, zone.wmark(WMARK_LOW), highestZoneidx, 0)) this.wakeup_kswapd(zone, order, highestZoneidx);
    }
  }

  private taskCtx(): GfpTaskContext {
    return { pfMemalloc: (this.d.sched.taskFlags() & PF_MEMALLOC) !== 0 };
  }

  private refuseEarly(gfp: number, order: number): number {
    this.d.log.printk(KERN_WARNING, `kmem: page allocation before the buddy allocator is up (order:${order}, mode:${format_gfp_mode(gfp)}): use memblock`);
    return -1;
  }

  /** __alloc_pages_slowpath(), within what a simulated machine can do. */
  private slowpath(gfp: number, order: number, nid: number, highestZoneidx: number, mt: number): number {
    const canDirectReclaim = (gfp & __GFP_DIRECT_RECLAIM) !== 0;
    const costly = order > PAGE_ALLOC_COSTLY_ORDER;
    const ctx = this.taskCtx();
    const list = nid * 2 + (gfp & __GFP_THISNODE ? 1 : 0);
    if (gfp & __GFP_NOFAIL) {
      // The WARN_ON_ONCE()s at the top of __alloc_pages_slowpath().
      if (order > 1) this.d.bug.warn('mm/page_alloc.c', 4309, '__alloc_pages_slowpath', null, NOFAIL_FRAMES, true);
      if (!canDirectReclaim) this.d.bug.warn('mm/page_alloc.c', 4314, '__alloc_pages_slowpath', null, NOFAIL_FRAMES, true);
      if (ctx.pfMemalloc) this.d.bug.warn('mm/page_alloc.c', 4320, '__alloc_pages_slowpath', null, NOFAIL_FRAMES, true);
    }
    let allocFlags = gfp_to_alloc_flags(gfp, order, ctx);
    if (allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(order, nid, highestZoneidx);
    let pfn = this.getPageFromFreelist(list, order, allocFlags, nid, highestZoneidx, mt);
    if (pfn >= 0) return pfn;

    let retries = 0;
    for (;;) {
      if (allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(order, nid, highestZoneidx);
      const reserve = __gfp_pfmemalloc_flags(gfp, ctx);
      if (reserve) allocFlags = reserve | (allocFlags & ALLOC_KSWAPD);
      pfn = this.getPageFromFreelist(list, order, allocFlags, nid, highestZoneidx, mt);
      if (pfn >= 0) return pfn;
      if (!canDirectReclaim || ctx.pfMemalloc) break;
      // __alloc_pages_direct_reclaim(): shrink; only if that made progress, retry,
      // then drain the pcp lists and retry once more. No progress: straight on.
      const progress = this.hooks.reclaim?.(gfp, order) ?? 0;
      if (progress > 0) {
        pfn = this.getPageFromFreelist(list, order, allocFlags, nid, highestZoneidx, mt);
        if (pfn < 0) {
          this.drain_all_pages();
          pfn = this.getPageFromFreelist(list, order, allocFlags, nid, highestZoneidx, mt);
        }
        if (pfn >= 0) return pfn;
      }
      if (gfp & __GFP_NORETRY) break;
      if (costly && !(gfp & __GFP_RETRY_MAYFAIL)) break;
      if (progress > 0 && ++retries <= 16) continue;
      // __alloc_pages_may_oom(): not for costly orders, __GFP_RETRY_MAYFAIL or __GFP_THISNODE
      // requests, nor lowmem-only ones (highest_zoneidx < ZONE_NORMAL); out_of_memory() does
      // nothing for requests without __GFP_FS.
      if (!costly && !(gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) && highestZoneidx >= this.d.mz.zs.ZONE_NORMAL &&
        (gfp & __GFP_FS)) this.oomNoVictim(gfp, order);
      break;
    }

    // __GFP_NOFAIL: without direct reclaim the kernel gives up too (goto fail); with it, it loops forever.
    if (gfp & __GFP_NOFAIL && canDirectReclaim) {
      // __alloc_pages_cpuset_fallback(ALLOC_MIN_RESERVE), then the OOM killer's reserves.
      pfn = this.getPageFromFreelist(list, order, ALLOC_MIN_RESERVE | ALLOC_CPUSET, nid, highestZoneidx, mt);
      if (pfn < 0) pfn = this.getPageFromFreelist(list, order, ALLOC_OOM | ALLOC_MIN_RESERVE, nid, highestZoneidx, mt);
      if (pfn >= 0) return pfn;
      this.d.log.printk(KERN_WARNING, `kmem: __GFP_NOFAIL allocation of order ${order} cannot be satisfied: the kernel would retry forever here`);
    }
    this.warn_alloc(gfp, `page allocation failure: order:${order}`);
    return -1;
  }

  /** out_of_memory() with nothing to kill: the kernel panics; kmem reports and fails the allocation. */
  private oomNoVictim(gfp: number, order: number): void {
    this.d.log.printk(KERN_WARNING, `${this.d.sched.comm()} invoked oom-killer: gfp_mask=${format_gfp_mode(gfp)}, order=${order}, oom_score_adj=0`);
    this.d.log.printk(KERN_WARNING, 'Out of memory and no killable processes...');
  }

  /** warn_alloc(): "<comm>: page allocation failure: order:N, mode:0x...(...), nodemask=(null),cpuset=/,mems_allowed=0" + dump + Mem-Info. */
  warn_alloc(gfp: number, what: string, frames: readonly string[] = ['warn_alloc', '__alloc_pages_slowpath', '__alloc_pages_noprof']): void {
    if (gfp & __GFP_NOWARN) return;
    // pr_warn("%s: %pV, mode:%#x(%pGg), nodemask=%*pbl"), then cpuset_print_current_mems_allowed()
    // continues the line with the task's cpuset and the nodes it may use.
    const nodes = this.d.pgdatPa.length === 1 ? '0' : `0-${this.d.pgdatPa.length - 1}`;
    const lines = [`${this.d.sched.comm()}: ${what}, mode:${format_gfp_mode(gfp)}, nodemask=(null),cpuset=/,mems_allowed=${nodes}`];
    this.d.log.printk(KERN_WARNING, lines[0]);
    lines.push(...this.d.bug.dump_stack(frames));
    for (const l of this.show_mem()) {
      this.d.log.printk(KERN_WARNING, l);
      lines.push(l);
    }
    this.d.bug.reported('WARNING', lines, TAINT_WARN);
  }

  /** __show_mem(): the Mem-Info summary. */
  show_mem(): string[] {
    return show_mem(this.zones, this.d.mz.zs, this.d.lists, this.counters, this.d.sched.cpu);
  }

  /**
   * prep_new_page(): refcount 1, zeroing, compound setup. post_alloc_hook()
   * zeroes for __GFP_ZERO or init_on_alloc, unless init_on_free already did
   * (kmem zeroes for __GFP_ZERO even then: pages that reach the free lists
   * other than through the free path, at boot, were not cleared).
   */
  private prepNewPage(pfn: number, order: number, gfp: number): void {
    const p = this.p;
    p.set_page_count(pfn, 1);
    p.setPrivate(pfn, 0);
    if ((gfp & __GFP_ZERO) || (this.globals.init_on_alloc && !this.globals.init_on_free)) {
      this.a.mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
    }
    if (order && (gfp & __GFP_COMP)) this.prepCompoundPage(pfn, order);
  }

  prepCompoundPage(pfn: number, order: number): void {
    const p = this.p;
    p.setFlag(pfn, PG_head);
    const head = p.pfn_to_page(pfn);
    for (let i = 1; i < 1 << order; i++) {
      p.set_page_count(pfn + i, 0);
      p.set_compound_head(pfn + i, head);
    }
    p.set_compound_order(pfn, order);
  }

  /* ---------------------------------------------------------------- */
  /* Freeing                                                          */
  /* ---------------------------------------------------------------- */

  /**
   * free_page_is_bad() -> page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE):
   * the reason bad_page() prints (the last matching check wins, as in the
   * kernel), or null when the page may be freed. `refcount` is the count the
   * free sees (0 for a head whose last reference was just dropped).
   */
  private pageBadReason(pfn: number, refcount: number, ignoreFlags = 0): string | null {
    const p = this.p;
    let reason: string | null = null;
    if (p.mapcountRaw(pfn) !== PAGE_TYPE_NONE) reason = 'nonzero mapcount';
    if (p.mappingLo(pfn) !== 0) reason = 'non-NULL mapping';
    if (refcount !== 0) reason = 'nonzero _refcount';
    if (p.flags(pfn) & ~ignoreFlags & PAGE_FLAGS_CHECK_AT_FREE) reason = 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set';
    return reason;
  }

  /** bad_page(): "BUG: Bad page state in process ..." with the page dump; taints the kernel. */
  bad_page(pfn: number, reason: string): void {
    const lines = [`BUG: Bad page state in process ${this.d.sched.comm()}  pfn:${pfn.toString(16).padStart(5, '0')}`,
      ...this.dump_page(pfn, reason)];
    lines.push('Modules linked in:');
    for (const l of lines) this.d.log.printk(KERN_ALERT, l);
    lines.push(...this.d.bug.dump_stack(['bad_page', 'free_unref_page', '__free_pages']));
    // add_taint(TAINT_BAD_PAGE) after dump_stack(), as bad_page() does.
    this.d.bug.reported('Bad page state', lines, TAINT_BAD_PAGE);
  }

  dump_page(pfn: number, reason: string): string[] {
    return dump_page(this.p, this.d.layout, pfn, reason);
  }

  /** VM_BUG_ON_PAGE(cond, page) with CONFIG_DEBUG_VM: dump_page(), then BUG(). */
  vmBugOnPage(pfn: number, cond: string, file: string, line: number, fn: string, frames: readonly string[]): void {
    this.d.bug.bug(file, line, fn, frames, this.dump_page(pfn, `VM_BUG_ON_PAGE(${cond})`));
  }

  /**
   * The checks of free_pages_prepare() (and of __free_one_page()'s
   * VM_BUG_ONs, which kmem makes at free time rather than when a pcp list
   * is drained) for a block whose last reference is being dropped. Every
   * bad page is reported, as the kernel does; true when the block may be
   * freed. Nothing is changed here.
   */
  private freeCheck(pfn: number, order: number, frames: readonly string[]): boolean {
    const p = this.p;
    const compound = p.testFlag(pfn, PG_head);
    if (compound && p.compound_order(pfn) !== order) {
      this.vmBugOnPage(pfn, 'compound && compound_order(page) != order', 'mm/page_alloc.c', 1132, 'free_pages_prepare', frames);
      return false;
    }
    if (pfn & ((1 << order) - 1)) {
      this.vmBugOnPage(pfn, 'pfn & ((1 << order) - 1)', 'mm/page_alloc.c', 825, '__free_one_page', frames);
      return false;
    }
    let bad = 0;
    if (order > 0) {
      // A block running off its zone (a wrong order, at the edge of memory): the
      // kernel's lists would be corrupted; kmem reports it as __free_one_page's
      // bad_range() check and refuses.
      const end = pfn + (1 << order);
      const zoneIdx = p.page_zonenum(pfn);
      const nid = p.page_to_nid(pfn);
      const sp = this.d.sparse;
      for (let i = pfn + 1; i < end; i++) {
        if (!sp.pfn_valid(i) || p.page_zonenum(i) !== zoneIdx || p.page_to_nid(i) !== nid) {
          this.vmBugOnPage(pfn, 'bad_range(zone, page)', 'mm/page_alloc.c', 826, '__free_one_page', frames);
          return false;
        }
      }
      // Tail pages first, then the head (whose last reference the caller has dropped).
      const headTag = (p.pfn_to_page(pfn) + 1) | 0;
      for (let i = pfn + 1; i < end; i++) {
        if (compound && (!p.PageTail(i) || p.lruNextLo(i) !== headTag)) {
          this.bad_page(i, p.PageTail(i) ? 'compound_head not consistent' : 'PageTail not set');
          bad++;
          continue;
        }
        // page[1].flags &= ~PAGE_FLAGS_SECOND first: the compound order lives in its low byte.
        const why = this.pageBadReason(i, p.page_ref_count(i), compound && i === pfn + 1 ? 0xff : 0);
        if (why !== null) {
          this.bad_page(i, why);
          bad++;
        }
      }
    }
    const why = this.pageBadReason(pfn, p.page_ref_count(pfn));
    if (why !== null) {
      this.bad_page(pfn, why);
      bad++;
    }
    return bad === 0;
  }

  /** The freeing itself, once freeCheck() passed: undo compound state, then to a pcp list or the buddy lists. */
  private freeCommit(pfn: number, order: number, cold: boolean, pcpAllowed: boolean, toTail: boolean): void {
    const p = this.p;
    p.set_page_count(pfn, 0);
    if (order > 0 && p.testFlag(pfn, PG_head)) {
      for (let i = pfn + 1; i < pfn + (1 << order); i++) p.clear_compound_head(i);
      p.set_compound_order(pfn, 0);
      p.clearFlag(pfn, PG_head);
    }
    p.setPrivate(pfn, 0);
    // free_pages_prepare(): init_on_free clears the pages (kernel_init_pages())
    if (this.globals.init_on_free) this.a.mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
    if (this.hooks.mm_page_free !== undefined) this.hooks.mm_page_free(pfn, order);
    const zone = this.zones[p.page_to_nid(pfn) * this.maxNrZones + p.page_zonenum(pfn)];
    // free_unref_page(): pcp lists track unmovable, reclaimable and movable;
    // isolated pages go straight back, HIGHATOMIC ones ride the movable list.
    const mt = this.d.sparse.get_pageblock_migratetype(pfn);
    if (pcpAllowed && this.pcp.allowedOrder(order) && mt !== MIGRATE_ISOLATE &&
      this.pcp.free(zone, this.d.sched.cpu, pfn, mt >= MIGRATE_PCPTYPES ? MIGRATE_MOVABLE : mt, order, cold)) return;
    this.__free_one_page(pfn, zone, order, mt, toTail);
  }

  /**
   * free_one_page(): straight onto the buddy lists under zone->lock (boot's
   * memblock_free_all, frees past the pcp lists, and frees whose pcp lock
   * was busy).
   */
  __free_one_page(pfn: number, zone: Zone, order: number, mt: number, toTail = false): void {
    const flags = this.freeArea.lock(zone);
    try {
      this.freeArea.__free_one_page(pfn, zone, order, mt, toTail);
    } finally {
      this.freeArea.unlock(zone, flags);
    }
  }

  /**
   * free_unref_page(): return a block whose last reference is gone. Checks
   * everything first; a bad block is reported and left as it was. Returns
   * false if refused.
   */
  freePagesChecked(pfn: number, order: number, cold: boolean): boolean {
    if (!this.d.sparse.pfn_valid(pfn)) return false;
    // put_page_testzero() has dropped the last reference: reports show refcount 0.
    // A refused free gets the reference back (also when the report throws).
    const ref = this.p.page_ref_count(pfn);
    this.p.set_page_count(pfn, 0);
    let ok = false;
    try {
      ok = this.freeCheck(pfn, order, FREE_FRAMES);
    } finally {
      if (!ok) this.p.set_page_count(pfn, ref);
    }
    if (!ok) return false;
    this.freeCommit(pfn, order, cold, true, false);
    return true;
  }

  /**
   * __free_pages_ok(page, order, FPI_TO_TAIL?): straight to the buddy lists,
   * past the pcp lists (make_alloc_exact() frees the unused tail this way).
   * The page's refcount is already 0.
   */
  __free_pages_ok(pfn: number, order: number, toTail: boolean): boolean {
    if (!this.d.sparse.pfn_valid(pfn)) return false;
    if (this.p.page_ref_count(pfn) !== 0 || this.p.PageBuddy(pfn)) {
      this.bad_page(pfn, this.pageBadReason(pfn, this.p.page_ref_count(pfn)) ?? 'nonzero mapcount');
      return false;
    }
    if (!this.freeCheck(pfn, order, ['__free_pages_ok'])) return false;
    this.freeCommit(pfn, order, false, false, toTail);
    return true;
  }

  /**
   * __free_pages(page, order): put_page_testzero(), and free the block when
   * that was the last reference. When it was not, a non-compound block
   * keeps only page 0 for the other holder and the rest goes back now
   * (___free_pages(): "free the subsequent pages here"). A page already at
   * zero is the kernel's VM_BUG_ON_PAGE(page_ref_count(page) == 0):
   * reported, state untouched.
   */
  __free_pages(pfn: number, order: number, cold = false): boolean {
    return this.fast.free(pfn, order, cold) || this.freeGeneral(pfn, order, cold);
  }

  /** __free_pages() beyond the fast path. */
  private freeGeneral(pfn: number, order: number, cold: boolean): boolean {
    const p = this.p;
    if (order > MAX_PAGE_ORDER || order < 0) {
      this.d.bug.warn('mm/page_alloc.c', 4924, '__free_pages', null, ['free_pages'], false);
      return false;
    }
    const ref = p.page_ref_count(pfn);
    if (ref <= 0 || p.PageBuddy(pfn)) {
      this.vmBugOnPage(pfn, 'page_ref_count(page) == 0', 'include/linux/mm.h', 1140, '__free_pages', ['free_pages']);
      return false;
    }
    if (ref > 1) {
      if (!p.testFlag(pfn, PG_head)) {
        for (let o = order - 1; o >= 0; o--) if (!this.freeCheck(pfn + (1 << o), o, FREE_FRAMES)) return false;
        for (let o = order - 1; o >= 0; o--) this.freeCommit(pfn + (1 << o), o, cold, true, false);
      }
      p.set_page_count(pfn, ref - 1);
      return true;
    }
    return this.freePagesChecked(pfn, order, cold);
  }
}
