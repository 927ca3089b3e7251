/*
 * The buddy page allocator (mm/page_alloc.c, Linux 6.12).
 *
 * Every zone keeps free memory as naturally aligned blocks of 2^order pages,
 * order 0..MAX_PAGE_ORDER, on per-order, per-migratetype lists. A block's
 * "buddy" is the block of the same order it would merge with: the one at
 * pfn ^ (1 << order).
 *
 *   order 2 block at pfn 8:  [8 9 10 11]   buddy: [12 13 14 15]
 *   both free -> merge into the order-3 block [8 .. 15], and so on upward.
 *
 * Allocation (__rmqueue_smallest) takes the first block of the smallest order
 * that has one, and expand() gives back the upper halves while splitting it
 * down to the requested order. When the wanted migratetype has nothing,
 * __rmqueue_claim steals the largest block of a fallback type (claiming the
 * whole pageblock when enough of it is free or alike), and __rmqueue_steal
 * takes the smallest one without claiming.
 *
 * Orders 0..3 (and the THP order) go through per-CPU page lists first: each
 * CPU keeps up to `high` pages per zone, refilled and drained `batch` at a
 * time under the zone lock, so most allocations and frees touch no shared
 * state. `high` floats between high_min and high_max as 6.12 tunes it.
 *
 * Watermarks (min/low/high) decide who may take the last pages: the fast
 * path needs free > low; the slow path wakes kswapd and retries at min,
 * minus a half for __GFP_HIGH and a further quarter for callers that cannot
 * sleep (GFP_ATOMIC), and with no check at all for __GFP_MEMALLOC. Each
 * zone also keeps lowmem_reserve[] pages back from allocations that could
 * have used a higher zone.
 *
 * Lock order (as in the kernel): pcp->lock, then zone->lock. kmem drives one
 * CPU per host thread; the locks are words in memory, taken by the SMP layer.
 *
 * All state (free lists, counters, watermarks, pcp lists) lives in the zone
 * and per_cpu_pages structures in simulated memory (mmzone.ts); the lists are
 * list_heads threaded through struct page->lru.
 */
import {
  __GFP_BITS_MASK, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_HIGHMEM, __GFP_KSWAPD_RECLAIM, __GFP_NOFAIL,
  __GFP_NOWARN, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_THISNODE, __GFP_ZERO, __GFP_DMA,
} from '../include/linux/gfp_types.ts';
import {
  ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE, ALLOC_NOFRAGMENT, ALLOC_NO_WATERMARKS,
  ALLOC_NON_BLOCK, ALLOC_OOM, ALLOC_RESERVES, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK,
  __gfp_pfmemalloc_flags, gfp_migratetype, gfp_to_alloc_flags, gfp_zone, gfpflags_allow_blocking,
  type GfpTaskContext,
} from '../include/linux/gfp.ts';
import { format_gfp_mode } from '../include/trace/events/mmflags.ts';
import { list_add, list_add_tail, list_del, INIT_LIST_HEAD, type PointerMemory } from '../lib/list.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PAGE_SIZE, PAGE_SHIFT, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import {
  MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_ALLOC_COSTLY_ORDER, MIGRATE_PCPTYPES, MIGRATE_HIGHATOMIC,
  MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, MIGRATE_TYPES, MIGRATE_ISOLATE, NR_FREE_PAGES,
  WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO, pageblock_order, pageblock_nr_pages, NUMA_HIT, NUMA_MISS,
  NUMA_FOREIGN, NUMA_LOCAL, NUMA_OTHER, type MmzoneLayouts,
} from './mmzone.ts';
import {
  PG_active, PG_head, PG_locked, PG_lru, PG_mlocked, PG_private, PG_private_2, PG_reserved, PG_unevictable,
  PG_writeback, PGTY_buddy, PAGE_TYPE_NONE, PAGEFLAG_NAMES, __NR_PAGEFLAGS, type Pages,
} from './page.ts';
import type { Sparse } from './sparse.ts';
import { KERN_ALERT, KERN_WARNING, TAINT_BAD_PAGE, type Bug, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';

/** A zone as JS sees it: where its struct zone is. Immutable after boot. */
export interface Zone {
  readonly nid: number;
  readonly idx: number;
  readonly name: string;
  /** Physical and kernel virtual address of struct zone. */
  readonly pa: number;
  readonly va: number;
  /** Physical address of per_cpu_pages[0] of this zone. */
  readonly pcpPa: number;
}

/** Flags of zone->flags (enum zone_flags). */
const ZONE_BOOSTED_WATERMARK = 0;
const ZONE_RECLAIM_ACTIVE = 1;
const ZONE_BELOW_HIGH = 2;

const PCPF_PREV_FREE_HIGH_ORDER = 1 << 0;
const PCPF_FREE_HIGH_BATCH = 1 << 1;
const CONFIG_PCP_BATCH_SCALE_MAX = 5;
const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;
const SWAP_CLUSTER_MAX = 32;
const HPAGE_PMD_ORDER = 9;

/** fallbacks[] of 6.12: the migratetypes to steal from, in order. */
const FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];

/** PAGE_FLAGS_CHECK_AT_FREE: flags a page must not carry when it is freed. */
const PAGE_FLAGS_CHECK_AT_FREE =
  1 << PG_lru | 1 << PG_locked | 1 << PG_private | 1 << PG_private_2 | 1 << PG_writeback | 1 << PG_reserved |
  1 << PG_active | 1 << PG_unevictable | 1 << PG_mlocked;

export interface PageAllocDeps {
  access: KmemAccess;
  layout: ArchLayout;
  list: PointerMemory;
  sparse: Sparse;
  pages: Pages;
  mz: MmzoneLayouts;
  log: Log;
  bug: Bug;
  sched: Sched;
  nrCpus: number;
  cpuToNode: readonly number[];
  /** Physical address of each node's pglist_data. */
  pgdatPa: readonly number[];
  /** Physical address of the allocator's globals (see globalsBytes). */
  globalsPa: number;
  __va(pa: number): number;
  /** Hooks later layers install: tracepoints, reclaim. */
  hooks?: PageAllocHooks;
}

export interface PageAllocHooks {
  /** Shrinkers and friends: try to free at least nr pages; returns pages freed. */
  reclaim?(gfp: number, order: number): number;
  mm_page_alloc?(pfn: number, order: number, gfp: number, migratetype: number): void;
  mm_page_free?(pfn: number, order: number): void;
  mm_page_alloc_zone_locked?(pfn: number, order: number, migratetype: number, percpuRefill: boolean): void;
  mm_page_pcpu_drain?(pfn: number, order: number, migratetype: number): void;
  mm_page_alloc_extfrag?(pfn: number, allocOrder: number, fallbackOrder: number, allocMt: number, fallbackMt: number, changeOwnership: boolean): void;
}

/** Outcome codes for a free that was refused, for tests and library users. */
export class PageAllocator {
  readonly zones: Zone[] = [];
  /** Zones by node and index: zoneAt[nid * MAX_NR_ZONES + idx]. */
  private readonly zoneAt: (Zone | null)[];
  private readonly zoneByVa = new Map<number, Zone>();
  private readonly a: KmemAccess;
  private readonly l: PointerMemory;
  private readonly p: Pages;
  private readonly z: MmzoneLayouts['zone'];
  private readonly fa: MmzoneLayouts['freeArea'];
  private readonly pcpL: MmzoneLayouts['pcp'];
  private readonly ptr: number;
  hooks: PageAllocHooks;
  private badPageReports = 0;

  constructor(readonly d: PageAllocDeps) {
    this.a = d.access;
    this.l = d.list;
    this.p = d.pages;
    this.z = d.mz.zone;
    this.fa = d.mz.freeArea;
    this.pcpL = d.mz.pcp;
    this.ptr = d.layout.ptrSize;
    this.hooks = d.hooks ?? {};
    this.zoneAt = new Array(d.pgdatPa.length * d.mz.zs.MAX_NR_ZONES).fill(null);
    this.globalsPa = d.globalsPa;
    for (let nid = 0; nid < d.pgdatPa.length; nid++) {
      for (let idx = 0; idx < d.mz.zs.MAX_NR_ZONES; idx++) {
        const pa = d.pgdatPa[nid] + d.mz.pgdat.node_zones + idx * this.z.size;
        const zone: Zone = {
          nid, idx, name: d.mz.zs.names[idx], pa, va: d.__va(pa),
          pcpPa: 0,
        };
        this.zones.push(zone);
        this.zoneAt[nid * d.mz.zs.MAX_NR_ZONES + idx] = zone;
        this.zoneByVa.set(zone.va, zone);
      }
    }
  }

  /*
   * The allocator's globals, in the kernel's .data like their C counterparts:
   *   +0 min_free_kbytes  +4 user_min_free_kbytes  +8 watermark_scale_factor
   *   +12 page_group_by_mobility_disabled  +16 ready (memblock_free_all done)
   *   +24 totalreserve_pages (u64)  +32 sysctl_lowmem_reserve_ratio[MAX_NR_ZONES]
   */
  private readonly globalsPa: number;
  static globalsBytes(maxNrZones: number): number {
    return 32 + 4 * maxNrZones;
  }

  /** Write the boot-time defaults of the globals. */
  initGlobals(): void {
    const m = this.a.mem;
    m.fill(this.globalsPa, PageAllocator.globalsBytes(this.d.mz.zs.MAX_NR_ZONES), 0);
    this.user_min_free_kbytes = -1;
    this.watermark_scale_factor = 10;
    this.lowmem_reserve_ratio = this.d.mz.zs.lowmemReserveRatio;
  }

  get min_free_kbytes(): number { return this.a.mem.read32(this.globalsPa) | 0; }
  set min_free_kbytes(v: number) { this.a.mem.write32(this.globalsPa, v); }
  get user_min_free_kbytes(): number { return this.a.mem.read32(this.globalsPa + 4) | 0; }
  set user_min_free_kbytes(v: number) { this.a.mem.write32(this.globalsPa + 4, v); }
  get watermark_scale_factor(): number { return this.a.mem.read32(this.globalsPa + 8) | 0; }
  set watermark_scale_factor(v: number) { this.a.mem.write32(this.globalsPa + 8, v); }
  /** Set when memory is too small to group pages by mobility (build_all_zonelists). */
  get page_group_by_mobility_disabled(): boolean { return this.a.mem.read32(this.globalsPa + 12) !== 0; }
  set page_group_by_mobility_disabled(v: boolean) { this.a.mem.write32(this.globalsPa + 12, v ? 1 : 0); }
  /** Boot finished handing memory to the buddy allocator. */
  get ready(): boolean { return this.a.mem.read32(this.globalsPa + 16) !== 0; }
  set ready(v: boolean) { this.a.mem.write32(this.globalsPa + 16, v ? 1 : 0); }
  get totalreserve_pages(): number { return this.a.mem.read64(this.globalsPa + 24); }
  set totalreserve_pages(v: number) { this.a.mem.write64(this.globalsPa + 24, v); }
  get lowmem_reserve_ratio(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.d.mz.zs.MAX_NR_ZONES; i++) out.push(this.a.mem.read32(this.globalsPa + 32 + 4 * i) | 0);
    return out;
  }
  set lowmem_reserve_ratio(v: readonly number[]) {
    for (let i = 0; i < this.d.mz.zs.MAX_NR_ZONES; i++) this.a.mem.write32(this.globalsPa + 32 + 4 * i, v[i] ?? 0);
  }

  /** Called by boot once the per-CPU pagesets exist. */
  setPcpBase(zone: Zone, pcpPa: number): void {
    const i = this.zones.indexOf(zone);
    const z: Zone = { ...zone, pcpPa };
    this.zones[i] = z;
    this.zoneAt[z.nid * this.d.mz.zs.MAX_NR_ZONES + z.idx] = z;
    this.zoneByVa.set(z.va, z);
  }

  zone(nid: number, idx: number): Zone {
    return this.zoneAt[nid * this.d.mz.zs.MAX_NR_ZONES + idx]!;
  }

  /* ---------------------------------------------------------------- */
  /* struct zone fields                                               */
  /* ---------------------------------------------------------------- */

  zget(zone: Zone, field: keyof MmzoneLayouts['zone'], i = 0): number {
    return this.a.readLong(zone.pa + this.z[field] + i * this.ptr);
  }

  zset(zone: Zone, field: keyof MmzoneLayouts['zone'], v: number, i = 0): void {
    this.a.writeLong(zone.pa + this.z[field] + i * this.ptr, v);
  }

  zint(zone: Zone, field: 'node' | 'pageset_high_min' | 'pageset_high_max' | 'pageset_batch' | 'lock'): number {
    return this.a.mem.read32(zone.pa + this.z[field]) | 0;
  }

  zsetInt(zone: Zone, field: 'node' | 'pageset_high_min' | 'pageset_high_max' | 'pageset_batch' | 'lock', v: number): void {
    this.a.mem.write32(zone.pa + this.z[field], v);
  }

  managed(zone: Zone): number {
    return this.zget(zone, 'managed_pages');
  }

  populated(zone: Zone): boolean {
    return this.zget(zone, 'present_pages') > 0;
  }

  wmark(zone: Zone, which: number): number {
    return this.zget(zone, '_watermark', which) + this.zget(zone, 'watermark_boost');
  }

  lowmemReserve(zone: Zone, idx: number): number {
    return this.zget(zone, 'lowmem_reserve', idx);
  }

  zoneStat(zone: Zone, item: number): number {
    return this.zget(zone, 'vm_stat', item);
  }

  private modZoneStat(zone: Zone, item: number, delta: number): void {
    const pa = zone.pa + this.z.vm_stat + item * this.ptr;
    this.a.writeLong(pa, this.a.readLong(pa) + delta);
  }

  numaEvent(zone: Zone, item: number): number {
    return this.zget(zone, 'vm_numa_event', item);
  }

  private zoneFlag(zone: Zone, bit: number): boolean {
    return (this.zget(zone, 'flags') & (1 << bit)) !== 0;
  }

  private setZoneFlag(zone: Zone, bit: number, on: boolean): void {
    const f = this.zget(zone, 'flags');
    this.zset(zone, 'flags', on ? f | (1 << bit) : f & ~(1 << bit));
  }

  private freeAreaPa(zone: Zone, order: number): number {
    return zone.pa + this.z.free_area + order * this.fa.size;
  }

  nr_free(zone: Zone, order: number): number {
    return this.a.readUlong(this.freeAreaPa(zone, order) + this.fa.nr_free);
  }

  private setNrFree(zone: Zone, order: number, v: number): void {
    this.a.writeUlong(this.freeAreaPa(zone, order) + this.fa.nr_free, v);
  }

  /** Kernel virtual address of free_area[order].free_list[mt]. */
  freeList(zone: Zone, order: number, mt: number): number {
    return zone.va + this.z.free_area + order * this.fa.size + this.fa.free_list + mt * 2 * this.ptr;
  }

  private listEmpty(head: number): boolean {
    return this.l.readPtr(head) === head;
  }

  /* ---------------------------------------------------------------- */
  /* Initialisation helpers used by boot (mm_init.ts)                 */
  /* ---------------------------------------------------------------- */

  /** zone_init_free_lists() and the per-CPU pagesets of one zone. */
  init_zone_lists(zone: Zone): void {
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) INIT_LIST_HEAD(this.l, this.freeList(zone, o, mt));
      this.setNrFree(zone, o, 0);
    }
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const pcp = this.pcpPa(zone, cpu);
      this.a.mem.fill(pcp, this.pcpL.size, 0);
      for (let i = 0; i < this.d.mz.pcpLists; i++) INIT_LIST_HEAD(this.l, this.d.__va(pcp + this.pcpL.lists + i * 2 * this.ptr));
      this.a.mem.write32(pcp + this.pcpL.batch, 1);
    }
  }

  /* ---------------------------------------------------------------- */
  /* Free lists                                                       */
  /* ---------------------------------------------------------------- */

  private addToFreeList(pfn: number, zone: Zone, order: number, mt: number, tail: boolean): void {
    const head = this.freeList(zone, order, mt);
    if (tail) list_add_tail(this.l, this.p.lru(pfn), head);
    else list_add(this.l, this.p.lru(pfn), head);
    this.setNrFree(zone, order, this.nr_free(zone, order) + 1);
    if (mt !== MIGRATE_ISOLATE) this.modZoneStat(zone, NR_FREE_PAGES, 1 << order);
  }

  private delFromFreeList(pfn: number, zone: Zone, order: number, mt: number): void {
    list_del(this.l, this.p.lru(pfn));
    this.p.clearType(pfn);
    this.p.setPrivate(pfn, 0);
    this.setNrFree(zone, order, this.nr_free(zone, order) - 1);
    if (mt !== MIGRATE_ISOLATE) this.modZoneStat(zone, NR_FREE_PAGES, -(1 << order));
  }

  private setBuddyOrder(pfn: number, order: number): void {
    this.p.setPrivate(pfn, order);
    this.p.setType(pfn, PGTY_buddy);
  }

  /** page_is_buddy(): pfn heads a free block of exactly `order` in the same zone. */
  private isBuddy(pfn: number, buddyPfn: number, order: number): boolean {
    if (!this.d.sparse.pfn_valid(buddyPfn)) return false;
    if (!this.p.PageBuddy(buddyPfn) || this.p.private_(buddyPfn) !== order) return false;
    return this.p.page_zonenum(buddyPfn) === this.p.page_zonenum(pfn) && this.p.page_to_nid(buddyPfn) === this.p.page_to_nid(pfn);
  }

  private buddyMergeLikely(pfn: number, buddyPfn: number, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false;
    const higher = buddyPfn & pfn;
    const higherBuddy = higher ^ (1 << (order + 1));
    return this.isBuddy(higher, higherBuddy, order + 1);
  }

  /** __free_one_page(): put a block back, merging with free buddies as far as possible. */
  __free_one_page(pfn: number, zone: Zone, order: number, mt: number, toTail = false): void {
    let buddyPfn = pfn;
    while (order < MAX_PAGE_ORDER) {
      buddyPfn = pfn ^ (1 << order);
      if (!this.isBuddy(pfn, buddyPfn, order)) break;
      const buddyMt = this.d.sparse.get_pageblock_migratetype(buddyPfn);
      if (order >= pageblock_order && mt !== buddyMt &&
        (!this.mergeable(mt) || !this.mergeable(buddyMt))) break;
      this.delFromFreeList(buddyPfn, zone, order, buddyMt);
      if (buddyMt !== mt) this.d.sparse.set_pageblock_migratetype(buddyPfn, mt);
      pfn &= buddyPfn;
      order++;
    }
    this.setBuddyOrder(pfn, order);
    const tail = toTail || this.buddyMergeLikely(pfn, buddyPfn, order);
    this.addToFreeList(pfn, zone, order, mt, tail);
  }

  private mergeable(mt: number): boolean {
    return mt < MIGRATE_PCPTYPES;
  }

  /** expand(): split a block of order `high` down to `low`, freeing the upper halves. */
  private expand(zone: Zone, pfn: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      this.addToFreeList(pfn + size, zone, high, mt, false);
      this.setBuddyOrder(pfn + size, high);
    }
  }

  private firstOnList(head: number): number {
    const first = this.l.readPtr(head);
    return first === head ? -1 : this.p.pfnOfLru(first);
  }

  /** __rmqueue_smallest(): the smallest free block of migratetype mt that fits. */
  private rmqueueSmallest(zone: Zone, order: number, mt: number, percpuRefill: boolean): number {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const pfn = this.firstOnList(this.freeList(zone, o, mt));
      if (pfn < 0) continue;
      this.delFromFreeList(pfn, zone, o, mt);
      this.expand(zone, pfn, order, o, mt);
      this.hooks.mm_page_alloc_zone_locked?.(pfn, order, mt, percpuRefill && this.pcpAllowedOrder(order) && mt < MIGRATE_PCPTYPES);
      return pfn;
    }
    return -1;
  }

  private canStealFallback(order: number, startMt: number): boolean {
    if (order >= pageblock_order) return true;
    return order >= pageblock_order / 2 || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE ||
      this.page_group_by_mobility_disabled;
  }

  /** find_suitable_fallback(): the first fallback type with a block at this order, or -1. */
  private findFallback(zone: Zone, order: number, mt: number): number {
    if (this.nr_free(zone, order) === 0) return -1;
    for (const f of FALLBACKS[mt]) if (!this.listEmpty(this.freeList(zone, order, f))) return f;
    return -1;
  }

  /** move_freepages_block(): move every free block of a pageblock to another list. */
  private moveFreepagesBlock(zone: Zone, startPfn: number, newMt: number): void {
    let pfn = startPfn;
    const end = startPfn + pageblock_nr_pages;
    while (pfn < end) {
      if (this.p.PageBuddy(pfn)) {
        const order = this.p.private_(pfn);
        list_del(this.l, this.p.lru(pfn));
        const head = this.freeList(zone, order, newMt);
        list_add_tail(this.l, this.p.lru(pfn), head);
        pfn += 1 << order;
      } else {
        pfn++;
      }
    }
    this.d.sparse.set_pageblock_migratetype(startPfn, newMt);
  }

  /** Free pages of the pageblock starting at startPfn (prep_move_freepages_block's free_pages). */
  private countBlockFree(startPfn: number): number {
    let free = 0;
    let pfn = startPfn;
    const end = startPfn + pageblock_nr_pages;
    while (pfn < end) {
      if (this.p.PageBuddy(pfn)) {
        const n = 1 << this.p.private_(pfn);
        free += n;
        pfn += n;
      } else {
        pfn++;
      }
    }
    return free;
  }

  /** try_to_steal_block() */
  private tryToStealBlock(zone: Zone, pfn: number, currentOrder: number, order: number, startMt: number, allocFlags: number): number {
    const blockMt = this.d.sparse.get_pageblock_migratetype(pfn);
    if (blockMt === MIGRATE_HIGHATOMIC) return -1;
    if (currentOrder >= pageblock_order) {
      this.delFromFreeList(pfn, zone, currentOrder, blockMt);
      for (let b = pfn; b < pfn + (1 << currentOrder); b += pageblock_nr_pages) this.d.sparse.set_pageblock_migratetype(b, startMt);
      this.expand(zone, pfn, order, currentOrder, startMt);
      return pfn;
    }
    if (this.boostWatermark(zone) && (allocFlags & ALLOC_KSWAPD)) this.setZoneFlag(zone, ZONE_BOOSTED_WATERMARK, true);
    const start = pfn & ~(pageblock_nr_pages - 1);
    if (!this.zoneSpans(zone, start) || !this.zoneSpans(zone, start + pageblock_nr_pages - 1)) return -1;
    const free = this.countBlockFree(start);
    // movable_pages counts LRU and __PageMovable pages; kmem has none yet, so it is 0.
    let alike = 0;
    if (startMt !== MIGRATE_MOVABLE && blockMt === MIGRATE_MOVABLE) alike = pageblock_nr_pages - free;
    if (free + alike >= 1 << (pageblock_order - 1) || this.page_group_by_mobility_disabled) {
      this.moveFreepagesBlock(zone, start, startMt);
      return this.rmqueueSmallest(zone, order, startMt, false);
    }
    return -1;
  }

  private zoneSpans(zone: Zone, pfn: number): boolean {
    const start = this.zget(zone, 'zone_start_pfn');
    return pfn >= start && pfn < start + this.zget(zone, 'spanned_pages');
  }

  private boostWatermark(zone: Zone): boolean {
    const watermark_boost_factor = 15000;
    if (pageblock_nr_pages * 4 > this.managed(zone)) return false;
    const high = this.zget(zone, '_watermark', WMARK_HIGH);
    let maxBoost = Math.floor((high * watermark_boost_factor) / 10000);
    if (!maxBoost) return false;
    maxBoost = Math.max(pageblock_nr_pages, maxBoost);
    this.zset(zone, 'watermark_boost', Math.min(this.zget(zone, 'watermark_boost') + pageblock_nr_pages, maxBoost));
    return true;
  }

  /** __rmqueue_claim(): steal the largest fallback block, claiming its pageblock when it can. */
  private rmqueueClaim(zone: Zone, order: number, startMt: number, allocFlags: number): number {
    const minOrder = order < pageblock_order && (allocFlags & ALLOC_NOFRAGMENT) ? pageblock_order : order;
    for (let o = MAX_PAGE_ORDER; o >= minOrder; o--) {
      const f = this.findFallback(zone, o, startMt);
      if (f < 0) continue;
      if (!this.canStealFallback(o, startMt)) break;
      const pfn = this.firstOnList(this.freeList(zone, o, f));
      const got = this.tryToStealBlock(zone, pfn, o, order, startMt, allocFlags);
      if (got >= 0) {
        this.hooks.mm_page_alloc_extfrag?.(got, order, o, startMt, f, this.d.sparse.get_pageblock_migratetype(got) === startMt);
        return got;
      }
    }
    return -1;
  }

  /** __rmqueue_steal(): take the smallest fallback block without claiming the pageblock. */
  private rmqueueSteal(zone: Zone, order: number, startMt: number): number {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const f = this.findFallback(zone, o, startMt);
      if (f < 0) continue;
      const pfn = this.firstOnList(this.freeList(zone, o, f));
      this.delFromFreeList(pfn, zone, o, f);
      this.expand(zone, pfn, order, o, f);
      this.hooks.mm_page_alloc_extfrag?.(pfn, order, o, startMt, f, false);
      return pfn;
    }
    return -1;
  }

  /** __rmqueue(): wanted type first, then claim, then steal. */
  private rmqueueAny(zone: Zone, order: number, mt: number, allocFlags: number, percpuRefill: boolean): number {
    let pfn = this.rmqueueSmallest(zone, order, mt, percpuRefill);
    if (pfn >= 0) return pfn;
    pfn = this.rmqueueClaim(zone, order, mt, allocFlags);
    if (pfn >= 0) return pfn;
    if (!(allocFlags & ALLOC_NOFRAGMENT)) pfn = this.rmqueueSteal(zone, order, mt);
    return pfn;
  }

  /* ---------------------------------------------------------------- */
  /* Per-CPU page lists                                               */
  /* ---------------------------------------------------------------- */

  pcpPa(zone: Zone, cpu: number): number {
    return zone.pcpPa + cpu * this.pcpL.size;
  }

  private pcpAllowedOrder(order: number): boolean {
    return order <= PAGE_ALLOC_COSTLY_ORDER || (this.d.mz.pcpLists > 12 && order === HPAGE_PMD_ORDER);
  }

  private orderToPindex(mt: number, order: number): number {
    if (order > PAGE_ALLOC_COSTLY_ORDER) return MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1) + (mt === MIGRATE_MOVABLE ? 1 : 0);
    return MIGRATE_PCPTYPES * order + mt;
  }

  private pindexToOrder(pindex: number): number {
    const low = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
    return pindex >= low ? HPAGE_PMD_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
  }

  private pcpList(pcp: number, pindex: number): number {
    return this.d.__va(pcp + this.pcpL.lists + pindex * 2 * this.ptr);
  }

  private pcpGet(pcp: number, f: 'count' | 'high' | 'high_min' | 'high_max' | 'batch'): number {
    return this.a.mem.read32(pcp + this.pcpL[f]) | 0;
  }

  private pcpSet(pcp: number, f: 'count' | 'high' | 'high_min' | 'high_max' | 'batch', v: number): void {
    this.a.mem.write32(pcp + this.pcpL[f], v);
  }

  private pcpU8(pcp: number, f: 'flags' | 'alloc_factor'): number {
    return this.a.mem.read8(pcp + this.pcpL[f]);
  }

  private pcpSetU8(pcp: number, f: 'flags' | 'alloc_factor', v: number): void {
    this.a.mem.write8(pcp + this.pcpL[f], v);
  }

  private freeCount(pcp: number): number {
    return this.a.mem.read16(pcp + this.pcpL.free_count);
  }

  private setFreeCount(pcp: number, v: number): void {
    this.a.mem.write16(pcp + this.pcpL.free_count, v);
  }

  pcpCounts(zone: Zone, cpu: number): { count: number; high: number; batch: number; highMin: number; highMax: number } {
    const pcp = this.pcpPa(zone, cpu);
    return { count: this.pcpGet(pcp, 'count'), high: this.pcpGet(pcp, 'high'), batch: this.pcpGet(pcp, 'batch'),
      highMin: this.pcpGet(pcp, 'high_min'), highMax: this.pcpGet(pcp, 'high_max') };
  }

  /** Pages of one CPU's pcp list for order/migratetype, head first (for views and tests). */
  pcpListPfns(zone: Zone, cpu: number, mt: number, order: number): number[] {
    const head = this.pcpList(this.pcpPa(zone, cpu), this.orderToPindex(mt, order));
    const out: number[] = [];
    for (let pos = this.l.readPtr(head); pos !== head; pos = this.l.readPtr(pos)) out.push(this.p.pfnOfLru(pos));
    return out;
  }

  private clampHigh(pcp: number): number {
    const high = Math.min(Math.max(this.pcpGet(pcp, 'high'), this.pcpGet(pcp, 'high_min')), this.pcpGet(pcp, 'high_max'));
    this.pcpSet(pcp, 'high', high);
    return high;
  }

  /** nr_pcp_alloc(): how many blocks one refill brings. */
  private nrPcpAlloc(pcp: number, zone: Zone, order: number): number {
    const baseBatch = this.pcpGet(pcp, 'batch');
    const highMin = this.pcpGet(pcp, 'high_min');
    const highMax = this.pcpGet(pcp, 'high_max');
    let high = this.clampHigh(pcp);
    if (high < baseBatch) return 1;
    const factor = this.pcpU8(pcp, 'alloc_factor');
    let batch = order ? baseBatch : baseBatch << factor;
    if (highMin !== highMax && !this.zoneFlag(zone, ZONE_BELOW_HIGH)) {
      high = Math.min(high + batch, highMax);
      this.pcpSet(pcp, 'high', high);
    }
    if (!order) {
      const maxNrAlloc = Math.max(high - this.pcpGet(pcp, 'count') - baseBatch, baseBatch);
      if (batch <= maxNrAlloc && factor < CONFIG_PCP_BATCH_SCALE_MAX) this.pcpSetU8(pcp, 'alloc_factor', factor + 1);
      batch = Math.min(batch, maxNrAlloc);
    }
    if (batch > 1) batch = Math.max(batch >> order, 2);
    return batch;
  }

  /** nr_pcp_high() */
  private nrPcpHigh(pcp: number, zone: Zone, batch: number, freeHigh: boolean): number {
    const highMin = this.pcpGet(pcp, 'high_min');
    const highMax = this.pcpGet(pcp, 'high_max');
    let high = this.clampHigh(pcp);
    if (!high) return 0;
    if (freeHigh) {
      this.pcpSet(pcp, 'high', Math.max(high - (batch << CONFIG_PCP_BATCH_SCALE_MAX), highMin));
      return 0;
    }
    if (this.zoneFlag(zone, ZONE_RECLAIM_ACTIVE)) {
      const fc = Math.max(this.freeCount(pcp), batch);
      this.pcpSet(pcp, 'high', Math.max(high - fc, highMin));
      return Math.min(batch << 2, this.pcpGet(pcp, 'high'));
    }
    if (highMin === highMax) return high;
    if (this.zoneFlag(zone, ZONE_BELOW_HIGH)) {
      const fc = Math.max(this.freeCount(pcp), batch);
      this.pcpSet(pcp, 'high', Math.max(high - fc, highMin));
      high = Math.max(this.pcpGet(pcp, 'count'), highMin);
    } else if (this.pcpGet(pcp, 'count') >= high) {
      const needHigh = this.freeCount(pcp) + batch;
      if (this.pcpGet(pcp, 'high') < needHigh) this.pcpSet(pcp, 'high', Math.min(Math.max(needHigh, highMin), highMax));
    }
    return high;
  }

  /** nr_pcp_free() */
  private nrPcpFree(pcp: number, batch: number, high: number, freeHigh: boolean): number {
    if (freeHigh) return Math.min(this.pcpGet(pcp, 'count'), batch << CONFIG_PCP_BATCH_SCALE_MAX);
    if (high < batch) return 1;
    return Math.min(Math.max(this.freeCount(pcp), batch), high - batch);
  }

  /** rmqueue_bulk(): move `count` blocks from the buddy lists to a pcp list, in pfn order. */
  private rmqueueBulk(zone: Zone, order: number, count: number, list: number, mt: number, allocFlags: number): number {
    let i = 0;
    for (; i < count; i++) {
      const pfn = this.rmqueueAny(zone, order, mt, allocFlags, true);
      if (pfn < 0) break;
      list_add_tail(this.l, this.p.lru(pfn), list);
    }
    return i;
  }

  /** free_pcppages_bulk(): give `count` pages back to the buddy lists, round-robin over lists, oldest first. */
  private freePcppagesBulk(zone: Zone, count: number, pcp: number, pindex: number): void {
    count = Math.min(this.pcpGet(pcp, 'count'), count);
    pindex--;
    const nLists = this.d.mz.pcpLists;
    while (count > 0) {
      let list: number;
      do {
        if (++pindex > nLists - 1) pindex = 0;
        list = this.pcpList(pcp, pindex);
      } while (this.listEmpty(list));
      const order = this.pindexToOrder(pindex);
      const nr = 1 << order;
      do {
        const last = this.l.readPtr(list + this.ptr);
        const pfn = this.p.pfnOfLru(last);
        const mt = this.d.sparse.get_pageblock_migratetype(pfn);
        list_del(this.l, last);
        count -= nr;
        this.pcpSet(pcp, 'count', this.pcpGet(pcp, 'count') - nr);
        this.__free_one_page(pfn, zone, order, mt);
        this.hooks.mm_page_pcpu_drain?.(pfn, order, mt);
      } while (count > 0 && !this.listEmpty(list));
    }
  }

  /** rmqueue_pcplist() */
  private rmqueuePcplist(zone: Zone, order: number, mt: number, allocFlags: number): number {
    const pcp = this.pcpPa(zone, this.d.sched.cpu);
    this.setFreeCount(pcp, this.freeCount(pcp) >> 1);
    const list = this.pcpList(pcp, this.orderToPindex(mt, order));
    if (this.listEmpty(list)) {
      const batch = this.nrPcpAlloc(pcp, zone, order);
      const got = this.rmqueueBulk(zone, order, batch, list, mt, allocFlags);
      this.pcpSet(pcp, 'count', this.pcpGet(pcp, 'count') + (got << order));
      if (this.listEmpty(list)) return -1;
    }
    const first = this.l.readPtr(list);
    list_del(this.l, first);
    this.pcpSet(pcp, 'count', this.pcpGet(pcp, 'count') - (1 << order));
    return this.p.pfnOfLru(first);
  }

  /** free_unref_page_commit(): a page goes onto this CPU's list; drain if over high. `cold` adds at the tail. */
  private freeUnrefPageCommit(zone: Zone, pcp: number, pfn: number, mt: number, order: number, cold: boolean): void {
    this.pcpSetU8(pcp, 'alloc_factor', this.pcpU8(pcp, 'alloc_factor') >> 1);
    const pindex = this.orderToPindex(mt, order);
    const list = this.pcpList(pcp, pindex);
    if (cold) list_add_tail(this.l, this.p.lru(pfn), list);
    else list_add(this.l, this.p.lru(pfn), list);
    this.pcpSet(pcp, 'count', this.pcpGet(pcp, 'count') + (1 << order));
    const batch = this.pcpGet(pcp, 'batch');
    let freeHigh = false;
    let flags = this.pcpU8(pcp, 'flags');
    if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
      freeHigh = this.freeCount(pcp) >= batch && (flags & PCPF_PREV_FREE_HIGH_ORDER) !== 0 &&
        (!(flags & PCPF_FREE_HIGH_BATCH) || this.pcpGet(pcp, 'count') >= batch);
      flags |= PCPF_PREV_FREE_HIGH_ORDER;
    } else {
      flags &= ~PCPF_PREV_FREE_HIGH_ORDER;
    }
    this.pcpSetU8(pcp, 'flags', flags);
    if (this.freeCount(pcp) < batch << CONFIG_PCP_BATCH_SCALE_MAX) this.setFreeCount(pcp, this.freeCount(pcp) + (1 << order));
    const high = this.nrPcpHigh(pcp, zone, batch, freeHigh);
    if (this.pcpGet(pcp, 'count') >= high) {
      this.freePcppagesBulk(zone, this.nrPcpFree(pcp, batch, high, freeHigh), pcp, pindex);
      if (this.zoneFlag(zone, ZONE_BELOW_HIGH) &&
        this.zone_watermark_ok(zone, 0, this.wmark(zone, WMARK_HIGH), this.d.mz.zs.ZONE_MOVABLE, 0)) {
        this.setZoneFlag(zone, ZONE_BELOW_HIGH, false);
      }
    }
  }

  /** drain_pages_zone(): empty one CPU's lists for a zone. */
  drain_pages_zone(cpu: number, zone: Zone): void {
    const pcp = this.pcpPa(zone, cpu);
    const count = this.pcpGet(pcp, 'count');
    if (count) this.freePcppagesBulk(zone, count, pcp, 0);
  }

  /** drain_all_pages(): every CPU's lists, every zone (or one zone). */
  drain_all_pages(zone: Zone | null = null): void {
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      for (const z of zone ? [zone] : this.zones) if (this.populated(z)) this.drain_pages_zone(cpu, z);
    }
  }

  /* ---------------------------------------------------------------- */
  /* Watermarks                                                       */
  /* ---------------------------------------------------------------- */

  private unusableFree(zone: Zone, order: number, allocFlags: number): number {
    let unusable = (1 << order) - 1;
    if (!(allocFlags & ALLOC_RESERVES)) unusable += this.zget(zone, 'nr_reserved_highatomic');
    return unusable;
  }

  /** __zone_watermark_ok() */
  __zone_watermark_ok(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number, freePages: number): boolean {
    let min = mark;
    freePages -= this.unusableFree(zone, order, allocFlags);
    if (allocFlags & ALLOC_RESERVES) {
      if (allocFlags & ALLOC_MIN_RESERVE) {
        min -= Math.trunc(min / 2);
        if (allocFlags & ALLOC_NON_BLOCK) min -= Math.trunc(min / 4);
      }
      if (allocFlags & ALLOC_OOM) min -= Math.trunc(min / 2);
    }
    if (freePages <= min + this.lowmemReserve(zone, highestZoneidx)) return false;
    if (!order) return true;
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      if (!this.nr_free(zone, o)) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (!this.listEmpty(this.freeList(zone, o, mt))) return true;
      if ((allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && !this.listEmpty(this.freeList(zone, o, MIGRATE_HIGHATOMIC))) return true;
    }
    return false;
  }

  zone_watermark_ok(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    return this.__zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags, this.zoneStat(zone, NR_FREE_PAGES));
  }

  /** zone_watermark_fast() */
  private zoneWatermarkFast(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    const freePages = this.zoneStat(zone, NR_FREE_PAGES);
    if (!order) {
      const reserved = this.unusableFree(zone, 0, allocFlags);
      const usable = freePages - Math.min(freePages, reserved);
      if (usable > mark + this.lowmemReserve(zone, highestZoneidx)) return true;
    }
    if (this.__zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags, freePages)) return true;
    if (!order && (allocFlags & ALLOC_MIN_RESERVE) && this.zget(zone, 'watermark_boost') &&
      (allocFlags & ALLOC_WMARK_MASK) === WMARK_MIN) {
      return this.__zone_watermark_ok(zone, order, this.zget(zone, '_watermark', WMARK_MIN), highestZoneidx, allocFlags, freePages);
    }
    return false;
  }

  /* ---------------------------------------------------------------- */
  /* The allocation paths                                             */
  /* ---------------------------------------------------------------- */

  /** Zonelist of a node: its zones' addresses, highest first, then other nodes'. */
  zonelist(nid: number, noFallback: boolean): Zone[] {
    const pgdat = this.d.pgdatPa[nid];
    const base = pgdat + this.d.mz.pgdat.node_zonelists + (noFallback ? 1 : 0) * this.d.mz.zoneref.size * this.d.mz.zonelistEntries;
    const out: Zone[] = [];
    for (let i = 0; ; i++) {
      const zva = this.a.readPtr(base + i * this.d.mz.zoneref.size + this.d.mz.zoneref.zone);
      if (zva === 0) break;
      out.push(this.zoneByVa.get(zva)!);
    }
    return out;
  }

  /** Cached zonelists (rebuilt by build_all_zonelists), to keep the hot path allocation-free. */
  private zonelists: Zone[][] = [];

  setZonelistCache(lists: Zone[][]): void {
    this.zonelists = lists;
  }

  private nodeOfCpu(): number {
    return this.d.cpuToNode[this.d.sched.cpu] ?? 0;
  }

  /** get_page_from_freelist(): the first zone in the zonelist that passes its watermark and has a block. */
  private getPageFromFreelist(gfp: number, order: number, allocFlags: number, nid: number, highestZoneidx: number, mt: number): number {
    const list = this.zonelists[nid * 2 + ((gfp & __GFP_THISNODE) ? 1 : 0)];
    const multiNode = this.d.pgdatPa.length > 1;
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
        if (!this.zoneFlag(zone, ZONE_BELOW_HIGH)) {
          if (this.zoneWatermarkFast(zone, order, this.wmark(zone, WMARK_HIGH), highestZoneidx, allocFlags)) ok = true;
          else this.setZoneFlag(zone, ZONE_BELOW_HIGH, true);
        }
        if (!ok) {
          const mark = this.wmark(zone, allocFlags & ALLOC_WMARK_MASK);
          ok = this.zoneWatermarkFast(zone, order, mark, highestZoneidx, allocFlags) || (allocFlags & ALLOC_NO_WATERMARKS) !== 0;
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

  /** zone_statistics(): NUMA hit/miss/local/other accounting. */
  private zoneStatistics(preferred: Zone, z: Zone): void {
    const local = this.nodeOfCpu();
    const inc = (zone: Zone, item: number) => {
      const pa = zone.pa + this.z.vm_numa_event + item * this.ptr;
      this.a.writeLong(pa, this.a.readLong(pa) + 1);
    };
    if (z.nid === preferred.nid) inc(z, NUMA_HIT);
    else {
      inc(z, NUMA_MISS);
      inc(preferred, NUMA_FOREIGN);
    }
    inc(z, z.nid === local ? NUMA_LOCAL : NUMA_OTHER);
  }

  /** rmqueue(): pcp lists for small orders, else the buddy lists under the zone lock. */
  private rmqueue(zone: Zone, order: number, allocFlags: number, mt: number): number {
    let pfn = -1;
    if (this.pcpAllowedOrder(order)) pfn = this.rmqueuePcplist(zone, order, mt, allocFlags);
    if (pfn < 0) {
      if (allocFlags & ALLOC_HIGHATOMIC) pfn = this.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC, false);
      if (pfn < 0) pfn = this.rmqueueAny(zone, order, mt, allocFlags, false);
      if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK))) pfn = this.rmqueueSmallest(zone, order, MIGRATE_HIGHATOMIC, false);
    }
    if ((allocFlags & ALLOC_KSWAPD) && this.zoneFlag(zone, ZONE_BOOSTED_WATERMARK)) {
      this.setZoneFlag(zone, ZONE_BOOSTED_WATERMARK, false);
      this.wakeup_kswapd(zone, 0);
    }
    return pfn;
  }

  /** alloc_flags_nofragment(): avoid fragmenting Normal when DMA32 can take the allocation. */
  private allocFlagsNofragment(zone: Zone | undefined, gfp: number): number {
    let flags = gfp & __GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0;
    if (!zone || zone.idx !== this.d.mz.zs.ZONE_NORMAL || this.d.mz.zs.ZONE_DMA32 < 0) return flags;
    if (this.populated(this.zone(zone.nid, this.d.mz.zs.ZONE_DMA32))) flags |= ALLOC_NOFRAGMENT;
    return flags;
  }

  /** wakeup_kswapd(): background reclaim for the node. kmem's kswapd reclaims through the reclaim hook. */
  wakeup_kswapd(zone: Zone, order: number): void {
    const pgdat = this.d.pgdatPa[zone.nid];
    const pa = pgdat + this.d.mz.pgdat.kswapd_wakeups;
    this.a.writeUlong(pa, this.a.readUlong(pa) + 1);
    this.a.mem.write32(pgdat + this.d.mz.pgdat.kswapd_order, Math.max(order, this.a.mem.read32(pgdat + this.d.mz.pgdat.kswapd_order)));
  }

  kswapdWakeups(nid: number): number {
    return this.a.readUlong(this.d.pgdatPa[nid] + this.d.mz.pgdat.kswapd_wakeups);
  }

  private wakeAllKswapds(order: number, nid: number, highestZoneidx: number): void {
    for (const zone of this.zonelists[nid * 2]) {
      if (zone.idx > highestZoneidx || !this.populated(zone)) continue;
      if (!this.zone_watermark_ok(zone, order, this.wmark(zone, WMARK_LOW), highestZoneidx, 0)) this.wakeup_kswapd(zone, order);
    }
  }

  private taskCtx(): GfpTaskContext {
    return { pfMemalloc: (this.d.sched.taskFlags() & 0x800) !== 0 };
  }

  /**
   * __alloc_pages(): the entry point. Returns the first pfn of the block, or -1.
   * Checks its arguments before touching anything, as the kernel does.
   */
  __alloc_pages(gfp: number, order: number, preferredNid = -1): number {
    if (!this.ready) return this.refuseEarly(gfp, order);
    if (order > MAX_PAGE_ORDER || order < 0 || order !== Math.floor(order)) {
      if (!(gfp & __GFP_NOWARN)) {
        this.d.bug.warn('mm/page_alloc.c', 4832, '__alloc_pages_noprof', null, ['alloc_pages_mpol_noprof', 'alloc_pages_noprof'], true);
      }
      return -1;
    }
    // gfp &= gfp_allowed_mask: bits the kernel does not know are dropped without a word
    // (only kmalloc's kmalloc_fix_flags() complains about them, in mm/slab_common.c).
    gfp &= __GFP_BITS_MASK;
    const highestZoneidx = gfp_zone(gfp, this.d.mz.zs);
    if (highestZoneidx < 0) {
      // VM_BUG_ON((GFP_ZONE_BAD >> bit) & 1) in gfp_zone(), include/linux/gfp.h (CONFIG_DEBUG_VM).
      this.d.bug.bug('include/linux/gfp.h', 143, '__alloc_pages_noprof', ['alloc_pages_mpol_noprof', 'alloc_pages_noprof']);
      return -1;
    }
    // prepare_alloc_pages() -> might_alloc(), an inline of include/linux/sched/mm.h: __FILE__ is the header.
    if (gfpflags_allow_blocking(gfp)) {
      this.d.bug.might_sleep('include/linux/sched/mm.h', 321, ['__might_resched', '__alloc_pages_noprof', 'alloc_pages_mpol_noprof', 'alloc_pages_noprof']);
    }
    const nid = preferredNid < 0 ? this.nodeOfCpu() : preferredNid;
    const mt = gfp_migratetype(gfp, this.page_group_by_mobility_disabled);
    const preferred = this.firstZone(nid, gfp, highestZoneidx);
    const allocFlags = ALLOC_WMARK_LOW | this.allocFlagsNofragment(preferred, gfp);
    let pfn = this.getPageFromFreelist(gfp, order, allocFlags, nid, highestZoneidx, mt);
    if (pfn < 0) pfn = this.slowpath(gfp, order, nid, highestZoneidx, mt);
    if (pfn >= 0) this.prepNewPage(pfn, order, gfp);
    this.hooks.mm_page_alloc?.(pfn, order, gfp, mt);
    return pfn;
  }

  private firstZone(nid: number, gfp: number, highestZoneidx: number): Zone | undefined {
    const list = this.zonelists[nid * 2 + ((gfp & __GFP_THISNODE) ? 1 : 0)];
    for (const z of list) if (z.idx <= highestZoneidx) return z;
    return undefined;
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
    if (gfp & __GFP_NOFAIL) {
      // The WARN_ON_ONCE()s at the top of __alloc_pages_slowpath().
      const frames = ['__alloc_pages_noprof', 'alloc_pages_mpol_noprof', 'alloc_pages_noprof'];
      if (order > 1) this.d.bug.warn('mm/page_alloc.c', 4309, '__alloc_pages_slowpath', null, frames, true);
      if (!canDirectReclaim) this.d.bug.warn('mm/page_alloc.c', 4314, '__alloc_pages_slowpath', null, frames, true);
      if (ctx.pfMemalloc) this.d.bug.warn('mm/page_alloc.c', 4320, '__alloc_pages_slowpath', null, frames, true);
    }
    let allocFlags = gfp_to_alloc_flags(gfp, order, ctx);
    if (allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(order, nid, highestZoneidx);
    let pfn = this.getPageFromFreelist(gfp, order, allocFlags, nid, highestZoneidx, mt);
    if (pfn >= 0) return pfn;

    let retries = 0;
    for (;;) {
      if (allocFlags & ALLOC_KSWAPD) this.wakeAllKswapds(order, nid, highestZoneidx);
      const reserve = __gfp_pfmemalloc_flags(gfp, ctx);
      if (reserve) allocFlags = reserve | (allocFlags & ALLOC_KSWAPD);
      pfn = this.getPageFromFreelist(gfp, order, allocFlags, nid, highestZoneidx, mt);
      if (pfn >= 0) return pfn;
      if (!canDirectReclaim || ctx.pfMemalloc) break;
      // __alloc_pages_direct_reclaim(): shrink; only if that made progress, retry,
      // then drain the pcp lists and retry once more. No progress: straight on.
      const progress = this.hooks.reclaim?.(gfp, order) ?? 0;
      if (progress > 0) {
        pfn = this.getPageFromFreelist(gfp, order, allocFlags, nid, highestZoneidx, mt);
        if (pfn < 0) {
          this.drain_all_pages();
          pfn = this.getPageFromFreelist(gfp, order, allocFlags, nid, highestZoneidx, mt);
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

    if (gfp & __GFP_NOFAIL) {
      // Without direct reclaim the kernel gives up too (goto fail); with it, it loops forever.
      if (canDirectReclaim) {
        // __alloc_pages_cpuset_fallback(ALLOC_MIN_RESERVE), then the OOM killer's reserves.
        pfn = this.getPageFromFreelist(gfp, order, ALLOC_MIN_RESERVE | ALLOC_CPUSET, nid, highestZoneidx, mt);
        if (pfn < 0) pfn = this.getPageFromFreelist(gfp, order, ALLOC_OOM | ALLOC_MIN_RESERVE, nid, highestZoneidx, mt);
        if (pfn >= 0) return pfn;
        this.d.log.printk(KERN_WARNING, `kmem: __GFP_NOFAIL allocation of order ${order} cannot be satisfied: the kernel would retry forever here`);
      }
    }
    this.warn_alloc(gfp, `page allocation failure: order:${order}`);
    return -1;
  }

  /** out_of_memory() with nothing to kill: the kernel panics; kmem reports and fails the allocation. */
  private oomNoVictim(gfp: number, order: number): void {
    const log = this.d.log;
    log.printk(KERN_WARNING, `${this.d.sched.comm()} invoked oom-killer: gfp_mask=${format_gfp_mode(gfp)}, order=${order}, oom_score_adj=0`);
    log.printk(KERN_WARNING, 'Out of memory and no killable processes...');
  }

  /** warn_alloc(): "<comm>: page allocation failure: order:N, mode:0x...(...), nodemask=(null)" + dump + Mem-Info. */
  warn_alloc(gfp: number, what: string): void {
    if (gfp & __GFP_NOWARN) return;
    const s = this.d.sched;
    const lines = [`${s.comm()}: ${what}, mode:${format_gfp_mode(gfp)}, nodemask=(null)`];
    this.d.log.printk(KERN_WARNING, lines[0]);
    lines.push(...this.d.bug.dump_stack(['warn_alloc', '__alloc_pages_slowpath', '__alloc_pages_noprof']));
    for (const l of this.show_mem()) {
      this.d.log.printk(KERN_WARNING, l);
      lines.push(l);
    }
    this.d.bug.reported('WARNING', lines, 9);
  }

  /** __show_mem(): the Mem-Info summary printed with allocation failures. */
  show_mem(): string[] {
    const kB = (pages: number) => `${pages * (PAGE_SIZE >> 10)}kB`;
    let free = 0;
    let freePcp = 0;
    for (const z of this.zones) {
      free += this.zoneStat(z, NR_FREE_PAGES);
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) if (z.pcpPa) freePcp += this.pcpGet(this.pcpPa(z, cpu), 'count');
    }
    const out = [
      'Mem-Info:',
      'active_anon:0 inactive_anon:0 isolated_anon:0',
      ' active_file:0 inactive_file:0 isolated_file:0',
      ' unevictable:0 dirty:0 writeback:0',
      ' slab_reclaimable:0 slab_unreclaimable:0',
      ' mapped:0 shmem:0 pagetables:0',
      ' sec_pagetables:0 bounce:0',
      ' kernel_misc_reclaimable:0',
      ` free:${free} free_pcp:${freePcp} free_cma:0`,
    ];
    const letters = ['U', 'M', 'E', 'H', 'I'];
    for (const z of this.zones) {
      if (!this.populated(z)) continue;
      let zpcp = 0;
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) zpcp += this.pcpGet(this.pcpPa(z, cpu), 'count');
      out.push(`Node ${z.nid} ${z.name} free:${kB(this.zoneStat(z, NR_FREE_PAGES))} boost:${kB(this.zget(z, 'watermark_boost'))} ` +
        `min:${kB(this.zget(z, '_watermark', WMARK_MIN))} low:${kB(this.zget(z, '_watermark', WMARK_LOW))} ` +
        `high:${kB(this.zget(z, '_watermark', WMARK_HIGH))} reserved_highatomic:${this.zget(z, 'nr_reserved_highatomic') * 4}KB ` +
        `free_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB ` +
        `present:${kB(this.zget(z, 'present_pages'))} managed:${kB(this.managed(z))} mlocked:0kB bounce:0kB ` +
        `free_pcp:${kB(zpcp)} local_pcp:${kB(this.pcpGet(this.pcpPa(z, this.d.sched.cpu), 'count'))} free_cma:0kB`);
      const res: string[] = [];
      for (let j = 0; j < this.d.mz.zs.MAX_NR_ZONES; j++) res.push(String(this.lowmemReserve(z, j)));
      out.push(`lowmem_reserve[]: ${res.join(' ')}`);
    }
    for (const z of this.zones) {
      if (!this.populated(z)) continue;
      let line = `Node ${z.nid} ${z.name}: `;
      let total = 0;
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const n = this.nr_free(z, o);
        total += n << o;
        let types = '';
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (!this.listEmpty(this.freeList(z, o, mt))) types += letters[mt];
        line += `${n}*${4 << o}kB ` + (types ? `(${types}) ` : '');
      }
      out.push(`${line}= ${kB(total)}`);
    }
    let ram = 0;
    let reserved = 0;
    for (const z of this.zones) {
      ram += this.zget(z, 'present_pages');
      reserved += this.zget(z, 'present_pages') - this.managed(z);
    }
    out.push('0 total pagecache pages', '0 pages in swap cache', 'Free swap  = 0kB', 'Total swap = 0kB',
      `${ram} pages RAM`, `${this.highmemPresent()} pages HighMem/MovableOnly`, `${reserved} pages reserved`);
    return out;
  }

  private highmemPresent(): number {
    let n = 0;
    for (const z of this.zones) if (z.idx === this.d.mz.zs.ZONE_HIGHMEM || z.idx === this.d.mz.zs.ZONE_MOVABLE) n += this.zget(z, 'present_pages');
    return n;
  }

  /** prep_new_page(): refcount 1, compound setup, zeroing. */
  private prepNewPage(pfn: number, order: number, gfp: number): void {
    const p = this.p;
    p.set_page_count(pfn, 1);
    p.setPrivate(pfn, 0);
    if (gfp & __GFP_ZERO) this.clearPages(pfn, order);
    if (order && (gfp & __GFP_COMP)) this.prepCompoundPage(pfn, order);
  }

  private clearPages(pfn: number, order: number): void {
    this.a.mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
  }

  private prepCompoundPage(pfn: number, order: number): void {
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
    this.badPageReports++;
    lines.push(...this.d.bug.dump_stack(['bad_page', 'free_unref_page', '__free_pages']));
    // add_taint(TAINT_BAD_PAGE) after dump_stack(), as bad_page() does.
    this.d.bug.reported('Bad page state', lines, TAINT_BAD_PAGE);
  }

  /** dump_page() (mm/debug.c): the page line, the flags, the raw words, the reason. */
  dump_page(pfn: number, reason: string): string[] {
    const p = this.p;
    const layout = this.d.layout;
    const px = (v: number) => formatPtr(layout, v);
    const mapcount = p.PageBuddy(pfn) || p.mapcountRaw(pfn) >>> 24 >= 0xf0 ? 0 : p.mapcountRaw(pfn) + 1;
    const out = [
      `page: refcount:${p.page_ref_count(pfn)} mapcount:${mapcount} mapping:${px(0)} index:0x${(p.indexLo(pfn) >>> 0).toString(16)} pfn:0x${pfn.toString(16)}`,
    ];
    const flags = p.flags(pfn);
    const names: string[] = [];
    for (let b = 0; b < __NR_PAGEFLAGS; b++) if (flags & (1 << b)) names.push(PAGEFLAG_NAMES[b]);
    const zone = p.page_zonenum(pfn);
    const nid = p.page_to_nid(pfn);
    names.push(`node=${nid}`, `zone=${zone}`);
    const raw = p.rawWords(pfn);
    const fullFlags = layout.ptrSize === 8 ? (raw[1] >>> 0).toString(16) + (raw[0] >>> 0).toString(16).padStart(8, '0') : (raw[0] >>> 0).toString(16);
    out.push(`flags: 0x${fullFlags.replace(/^0+(?=.)/, '')}(${names.join('|')})`);
    if (p.PageBuddy(pfn)) out.push(`page_type: f0(buddy)`);
    const words = layout.ptrSize === 8 ? 8 : 8;
    const perLine = layout.ptrSize === 8 ? 4 : 8;
    const vals: string[] = [];
    for (let i = 0; i < words; i++) {
      if (layout.ptrSize === 8) vals.push((raw[2 * i + 1] >>> 0).toString(16).padStart(8, '0') + (raw[2 * i] >>> 0).toString(16).padStart(8, '0'));
      else vals.push((raw[i] >>> 0).toString(16).padStart(8, '0'));
    }
    for (let i = 0; i < vals.length; i += perLine) out.push(`raw: ${vals.slice(i, i + perLine).join(' ')}`);
    out.push(`page dumped because: ${reason}`);
    return out;
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
    const sp = this.d.sparse;
    if (p.testFlag(pfn, PG_head) && p.compound_order(pfn) !== order) {
      this.vmBugOnPage(pfn, 'compound && compound_order(page) != order', 'mm/page_alloc.c', 1132, 'free_pages_prepare', frames);
      return false;
    }
    if (pfn & ((1 << order) - 1)) {
      this.vmBugOnPage(pfn, 'pfn & ((1 << order) - 1)', 'mm/page_alloc.c', 825, '__free_one_page', frames);
      return false;
    }
    // A block running off its zone (a wrong order, at the edge of memory): the
    // kernel's lists would be corrupted; kmem reports it as __free_one_page's
    // bad_range() check and refuses.
    const end = pfn + (1 << order);
    const zoneIdx = p.page_zonenum(pfn);
    const nid = p.page_to_nid(pfn);
    for (let i = pfn + 1; i < end; i++) {
      if (!sp.pfn_valid(i) || p.page_zonenum(i) !== zoneIdx || p.page_to_nid(i) !== nid) {
        this.vmBugOnPage(pfn, 'bad_range(zone, page)', 'mm/page_alloc.c', 826, '__free_one_page', frames);
        return false;
      }
    }
    // Tail pages first, then the head (whose last reference the caller has dropped).
    let bad = 0;
    const compound = p.testFlag(pfn, PG_head);
    for (let i = pfn + 1; i < end; i++) {
      if (compound && (!p.PageTail(i) || p.lruNextLo(i) !== ((p.pfn_to_page(pfn) + 1) | 0))) {
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
    if (p.testFlag(pfn, PG_head)) {
      for (let i = pfn + 1; i < pfn + (1 << order); i++) p.clear_compound_head(i);
      p.set_compound_order(pfn, 0);
      p.clearFlag(pfn, PG_head);
    }
    p.setPrivate(pfn, 0);
    this.hooks.mm_page_free?.(pfn, order);
    const zone = this.zone(p.page_to_nid(pfn), p.page_zonenum(pfn));
    // free_unref_page(): pcp lists track unmovable, reclaimable and movable;
    // isolated pages go straight back, HIGHATOMIC ones ride the movable list.
    let mt = this.d.sparse.get_pageblock_migratetype(pfn);
    if (!pcpAllowed || !this.pcpAllowedOrder(order) || mt === MIGRATE_ISOLATE) {
      this.__free_one_page(pfn, zone, order, mt, toTail);
    } else {
      if (mt >= MIGRATE_PCPTYPES) mt = MIGRATE_MOVABLE;
      this.freeUnrefPageCommit(zone, this.pcpPa(zone, this.d.sched.cpu), pfn, mt, order, cold);
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
      ok = this.freeCheck(pfn, order, ['free_unref_page', '__free_pages']);
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
        for (let o = order - 1; o >= 0; o--) if (!this.freeCheck(pfn + (1 << o), o, ['free_unref_page', '__free_pages'])) return false;
        for (let o = order - 1; o >= 0; o--) this.freeCommit(pfn + (1 << o), o, cold, true, false);
      }
      p.set_page_count(pfn, ref - 1);
      return true;
    }
    return this.freePagesChecked(pfn, order, cold);
  }

  /* ---------------------------------------------------------------- */
  /* Watermark and reserve setup (also rerun by sysctl writes)        */
  /* ---------------------------------------------------------------- */

  /** nr_free_zone_pages(gfp_zone(GFP_USER)): managed minus high watermark, lowmem zones. */
  nr_free_buffer_pages(): number {
    let sum = 0;
    for (const z of this.zones) {
      if (z.idx > this.d.mz.zs.ZONE_NORMAL) continue;
      const size = this.managed(z);
      const high = this.zget(z, '_watermark', WMARK_HIGH);
      if (size > high) sum += size - high;
    }
    return sum;
  }

  /** calculate_min_free_kbytes(): int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]. */
  calculate_min_free_kbytes(): void {
    const lowmemKbytes = this.nr_free_buffer_pages() * (PAGE_SIZE >> 10);
    const newMin = Math.floor(Math.sqrt(lowmemKbytes * 16));
    if (newMin > this.user_min_free_kbytes) this.min_free_kbytes = Math.min(Math.max(newMin, 128), 262144);
    else this.d.log.printk(KERN_WARNING, `min_free_kbytes is not updated to ${newMin} because user defined value ${this.user_min_free_kbytes} is preferred`);
  }

  private isHighOrMovable(z: Zone): boolean {
    return z.idx === this.d.mz.zs.ZONE_HIGHMEM || z.idx === this.d.mz.zs.ZONE_MOVABLE;
  }

  /** __setup_per_zone_wmarks() */
  setup_per_zone_wmarks(): void {
    const pagesMin = this.min_free_kbytes >> (PAGE_SHIFT - 10);
    let lowmemPages = 0;
    for (const z of this.zones) if (!this.isHighOrMovable(z) && z.idx <= this.d.mz.zs.ZONE_MOVABLE) lowmemPages += this.managed(z);
    for (const z of this.zones) {
      if (z.idx > this.d.mz.zs.ZONE_MOVABLE) continue;
      const managed = this.managed(z);
      // u64 in the kernel: the product can pass 2^53, so divide exactly.
      const tmp = lowmemPages ? Number((BigInt(pagesMin) * BigInt(managed)) / BigInt(lowmemPages)) : 0;
      if (this.isHighOrMovable(z)) this.zset(z, '_watermark', Math.min(Math.max(Math.floor(managed / 1024), SWAP_CLUSTER_MAX), 128), WMARK_MIN);
      else this.zset(z, '_watermark', tmp, WMARK_MIN);
      const delta = Math.max(Math.floor(tmp / 4), Math.floor((managed * this.watermark_scale_factor) / 10000));
      this.zset(z, 'watermark_boost', 0);
      const min = this.zget(z, '_watermark', WMARK_MIN);
      this.zset(z, '_watermark', min + delta, WMARK_LOW);
      this.zset(z, '_watermark', min + 2 * delta, WMARK_HIGH);
      this.zset(z, '_watermark', min + 3 * delta, WMARK_PROMO);
    }
    this.calculate_totalreserve_pages();
  }

  /** setup_per_zone_lowmem_reserve() */
  setup_per_zone_lowmem_reserve(): void {
    const n = this.d.mz.zs.MAX_NR_ZONES;
    for (let nid = 0; nid < this.d.pgdatPa.length; nid++) {
      const ratios = this.lowmem_reserve_ratio;
      for (let i = 0; i < n - 1; i++) {
        const zone = this.zone(nid, i);
        const ratio = ratios[i];
        const clear = !ratio || !this.managed(zone);
        let managed = 0;
        for (let j = i + 1; j < n; j++) {
          managed += this.managed(this.zone(nid, j));
          this.zset(zone, 'lowmem_reserve', clear ? 0 : Math.floor(managed / ratio), j);
        }
      }
    }
    this.calculate_totalreserve_pages();
  }

  /** calculate_totalreserve_pages() */
  calculate_totalreserve_pages(): void {
    let total = 0;
    const n = this.d.mz.zs.MAX_NR_ZONES;
    for (let nid = 0; nid < this.d.pgdatPa.length; nid++) {
      let node = 0;
      for (let i = 0; i < n; i++) {
        const zone = this.zone(nid, i);
        let max = 0;
        for (let j = i; j < n; j++) max = Math.max(max, this.lowmemReserve(zone, j));
        max += this.zget(zone, '_watermark', WMARK_HIGH);
        max = Math.min(max, this.managed(zone));
        node += max;
      }
      this.a.writeUlong(this.d.pgdatPa[nid] + this.d.mz.pgdat.totalreserve_pages, node);
      total += node;
    }
    this.totalreserve_pages = total;
  }

  /** zone_batchsize() */
  zone_batchsize(zone: Zone): number {
    let batch = Math.min(this.managed(zone) >> 10, (1 << 20) / PAGE_SIZE);
    batch = Math.floor(batch / 4);
    if (batch < 1) batch = 1;
    const x = batch + Math.floor(batch / 2);
    return 2 ** Math.floor(Math.log2(x)) - 1;
  }

  /** zone_highsize() */
  private zoneHighsize(zone: Zone, batch: number, cpuOnline: number, highFraction: number): number {
    const total = highFraction ? Math.floor(this.managed(zone) / highFraction) : this.zget(zone, '_watermark', WMARK_LOW);
    let split = this.d.cpuToNode.filter((n) => n === zone.nid).length + cpuOnline;
    if (!split) split = this.d.nrCpus;
    return Math.max(Math.floor(total / split), batch << 2);
  }

  /** zone_set_pageset_high_and_batch() for every zone. */
  zone_pcp_update_all(): void {
    for (const z of this.zones) {
      if (!z.pcpPa) continue;
      const batch = Math.max(1, this.zone_batchsize(z));
      const highMin = this.zoneHighsize(z, batch, 0, 0);
      const highMax = this.zoneHighsize(z, batch, 0, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
      this.zsetInt(z, 'pageset_high_min', highMin);
      this.zsetInt(z, 'pageset_high_max', highMax);
      this.zsetInt(z, 'pageset_batch', batch);
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        const pcp = this.pcpPa(z, cpu);
        this.pcpSet(pcp, 'batch', batch);
        this.pcpSet(pcp, 'high_min', highMin);
        this.pcpSet(pcp, 'high_max', highMax);
      }
    }
  }

  /** Pages sitting on all CPUs' pcp lists of a zone. */
  pcpTotal(zone: Zone): number {
    let n = 0;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) n += this.pcpGet(this.pcpPa(zone, cpu), 'count');
    return n;
  }

  get badPageCount(): number {
    return this.badPageReports;
  }

  /** Constants re-exported for callers that think in kernel names. */
  static readonly MAX_PAGE_ORDER = MAX_PAGE_ORDER;
  static readonly WMARK = { MIN: WMARK_MIN, LOW: WMARK_LOW, HIGH: WMARK_HIGH, PROMO: WMARK_PROMO };
  static readonly HIGHMEM_GFP = __GFP_HIGHMEM;
  static readonly DMA_GFP = __GFP_DMA;
  static readonly NOFAIL = __GFP_NOFAIL;
}
