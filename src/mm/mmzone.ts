/*
 * Nodes and zones (include/linux/mmzone.h): struct pglist_data, struct zone,
 * struct free_area and struct per_cpu_pages, laid out in simulated memory.
 *
 *   pglist_data (one per node, allocated node-local from memblock)
 *   +--------------------------------------------------------------+
 *   | node_zones[MAX_NR_ZONES]  struct zone, see below              |
 *   | node_zonelists[2]         ZONELIST_FALLBACK, ZONELIST_NOFALLBACK
 *   | nr_zones, node_start_pfn, node_present_pages, node_spanned_pages
 *   | node_id, kswapd_wait/order/highest_zoneidx/failures/wakeups,   |
 *   | totalreserve_pages                                             |
 *   | vm_stat[NR_VM_NODE_STAT_ITEMS]                                 |
 *   +--------------------------------------------------------------+
 *
 *   struct zone
 *   +--------------------------------------------------------------+
 *   | _watermark[min, low, high, promo]  watermark_boost            |
 *   | nr_reserved_highatomic  lowmem_reserve[MAX_NR_ZONES]          |
 *   | percpu_drift_mark                                             |
 *   | node  zone_pgdat  per_cpu_pageset  per_cpu_zonestats (__percpu)|
 *   | pageset_high_min/max, pageset_batch                            |
 *   | zone_start_pfn managed_pages spanned_pages present_pages       |
 *   | free_area[0..10]: { free_list[MIGRATE_TYPES]; nr_free }        |
 *   | flags  lock  vm_stat[NR_VM_ZONE_STAT_ITEMS]  vm_numa_event[6]  |
 *   +--------------------------------------------------------------+
 *
 * Invariants of the free lists (mm/page_alloc.c):
 *  - a free block of 2^order pages starts at a pfn aligned to 2^order, lies
 *    inside one zone, and only its first page is on a list: that page has
 *    page_type PGTY_buddy and private = order;
 *  - free_area[order].nr_free counts blocks, not pages;
 *  - the zone's NR_FREE_PAGES counts pages on the buddy lists only (pages on
 *    per-CPU lists are "allocated" as far as the counter goes).
 *
 * Per CPU, as __percpu allocations (percpu.ts), each zone has a struct
 * per_cpu_pages (the pcp lists, pcp.ts) and a struct per_cpu_zonestat (the
 * counter diffs, vmstat_percpu.ts):
 *
 *   per_cpu_zonestat   s8 vm_stat_diff[NR_VM_ZONE_STAT_ITEMS]  s8 stat_threshold
 *                      unsigned long vm_numa_event[NR_VM_NUMA_EVENT_ITEMS]
 *
 * Locks: zone->lock guards the free lists (free_area.ts), pcp->lock one
 * CPU's pcp lists; both are spinlock_t words (src/kernel/locking).
 *
 * The handles below keep, besides addresses, the typed arrays the fields are
 * in; rebind() fetches them again when a worker thread adopts the RAM.
 */
import { defineStruct } from '../kernel/struct_layout.ts';
import { HOST_SECTION_SIZE, PhysMem } from '../machine/memory.ts';
import type { Arch } from '../arch/x86/layout.ts';
import { zoneTypes, type ZoneTypes } from '../include/linux/gfp.ts';
import { MIGRATE_PCPTYPES } from '../include/linux/gfp.ts';
export { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES, MIGRATE_HIGHATOMIC } from '../include/linux/gfp.ts';

export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/**
 * pageblock_order: the unit of mobility grouping, min(HUGETLB_PAGE_ORDER,
 * MAX_PAGE_ORDER): 2 MiB huge pages on x86_64 and i386 with PAE (order 9),
 * 4 MiB on i386 without PAE (order 10).
 */
export function pageblockOrder(arch: Arch, pae = false): number {
  return arch === 'i386' && !pae ? 10 : 9;
}

/* enum migratetype: with CONFIG_MEMORY_ISOLATION, without CONFIG_CMA */
export const MIGRATE_ISOLATE = 4;
export const MIGRATE_TYPES = 5;
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'];

/* enum zone_watermarks */
export const WMARK_MIN = 0;
export const WMARK_LOW = 1;
export const WMARK_HIGH = 2;
export const WMARK_PROMO = 3;
export const NR_WMARK = 4;

/* enum zone_stat_item (6.12, CONFIG_ZSMALLOC) */
export const NR_FREE_PAGES = 0;
export const NR_VM_ZONE_STAT_ITEMS = 11;
/* enum numa_stat_item */
export const NUMA_HIT = 0;
export const NUMA_MISS = 1;
export const NUMA_FOREIGN = 2;
export const NUMA_INTERLEAVE_HIT = 3;
export const NUMA_LOCAL = 4;
export const NUMA_OTHER = 5;
export const NR_VM_NUMA_EVENT_ITEMS = 6;
/* enum node_stat_item: the ones kmem updates, by index in vmstat_text order */
export const NR_SLAB_RECLAIMABLE_B = 5;
export const NR_SLAB_UNRECLAIMABLE_B = 6;
export const NR_KERNEL_STACK_KB = 37;
export const NR_PAGETABLE = 38;
export const NR_VM_NODE_STAT_ITEMS = 47;

/** The zones one architecture configures (enum zone_type), their names and reserve ratios. */
export interface ZoneSet extends ZoneTypes {
  readonly names: readonly string[];
  /** sysctl_lowmem_reserve_ratio defaults, per zone. */
  readonly lowmemReserveRatio: readonly number[];
}

export function zoneSet(arch: Arch): ZoneSet {
  if (arch === 'x86_64') {
    return { ...zoneTypes({ dma: true, dma32: true, highmem: false, device: true }),
      names: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'], lowmemReserveRatio: [256, 256, 32, 0, 0] };
  }
  return { ...zoneTypes({ dma: true, dma32: false, highmem: true }),
    names: ['DMA', 'Normal', 'HighMem', 'Movable'], lowmemReserveRatio: [256, 32, 0, 0] };
}

/** NR_PCP_LISTS: orders 0..3 for each pcp migratetype, plus two THP lists where THP exists. */
export function nrPcpLists(arch: Arch): number {
  return MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1) + (arch === 'x86_64' ? 2 : 0);
}

export type MmzoneLayouts = ReturnType<typeof mmzoneLayouts>;

export function mmzoneLayouts(ptrSize: 4 | 8, arch: Arch) {
  const zs = zoneSet(arch);
  const freeArea = defineStruct(ptrSize, [
    ['free_list', 'list_head', MIGRATE_TYPES],
    ['nr_free', 'ulong'],
  ]);
  const zone = defineStruct(ptrSize, [
    ['_watermark', 'ulong', NR_WMARK],
    ['watermark_boost', 'ulong'],
    ['nr_reserved_highatomic', 'ulong'],
    ['lowmem_reserve', 'long', zs.MAX_NR_ZONES],
    ['percpu_drift_mark', 'ulong'],
    ['node', 'int'],
    ['zone_pgdat', 'ptr'],
    ['per_cpu_pageset', 'ptr'],
    ['per_cpu_zonestats', 'ptr'],
    ['pageset_high_min', 'int'],
    ['pageset_high_max', 'int'],
    ['pageset_batch', 'int'],
    ['zone_start_pfn', 'ulong'],
    ['managed_pages', 'ulong'],
    ['spanned_pages', 'ulong'],
    ['present_pages', 'ulong'],
    ['free_area', { size: freeArea.size, align: ptrSize }, NR_PAGE_ORDERS],
    ['flags', 'ulong'],
    ['lock', 'int'],
    ['vm_stat', 'long', NR_VM_ZONE_STAT_ITEMS],
    ['vm_numa_event', 'long', NR_VM_NUMA_EVENT_ITEMS],
  ]);
  const zoneref = defineStruct(ptrSize, [['zone', 'ptr'], ['zone_idx', 'int']]);
  /** Room for every zone of up to MAX_NUMNODES nodes plus the terminating NULL entry. */
  const zonelistEntries = zs.MAX_NR_ZONES * 64 + 1;
  const pgdat = defineStruct(ptrSize, [
    ['node_zones', { size: zone.size, align: ptrSize }, zs.MAX_NR_ZONES],
    ['node_zonelists', { size: zoneref.size * zonelistEntries, align: ptrSize }, 2],
    ['nr_zones', 'int'],
    ['node_start_pfn', 'ulong'],
    ['node_present_pages', 'ulong'],
    ['node_spanned_pages', 'ulong'],
    ['node_id', 'int'],
    ['kswapd_wait', 'int'],
    ['kswapd_order', 'int'],
    ['kswapd_highest_zoneidx', 'int'],
    ['kswapd_failures', 'int'],
    ['kswapd_wakeups', 'ulong'],
    ['totalreserve_pages', 'ulong'],
    ['vm_stat', 'long', NR_VM_NODE_STAT_ITEMS],
  ]);
  const pcpLists = nrPcpLists(arch);
  const pcpRaw = defineStruct(ptrSize, [
    ['lock', 'int'],
    ['count', 'int'],
    ['high', 'int'],
    ['high_min', 'int'],
    ['high_max', 'int'],
    ['batch', 'int'],
    ['flags', 'u8'],
    ['alloc_factor', 'u8'],
    ['expire', 'u8'],
    ['free_count', 'u16'],
    ['lists', 'list_head', pcpLists],
  ]);
  const pcp = { ...pcpRaw, size: Math.ceil(pcpRaw.size / 64) * 64 };
  const zonestat = defineStruct(ptrSize, [
    ['vm_stat_diff', 'u8', NR_VM_ZONE_STAT_ITEMS],
    ['stat_threshold', 'u8'],
    ['vm_numa_event', 'ulong', NR_VM_NUMA_EVENT_ITEMS],
  ]);
  return { zs, freeArea, zone, zoneref, zonelistEntries, pgdat, pcp, pcpLists, zonestat };
}

/* enum zone_flags */
export const ZONE_BOOSTED_WATERMARK = 0;
export const ZONE_RECLAIM_ACTIVE = 1;
export const ZONE_BELOW_HIGH = 2;

const TWO32 = 4294967296;

/** Where a list_head lives: what PageLists.head() returns. */
export interface ListHeadPlace {
  readonly va: number;
  readonly arr: Int32Array;
  readonly w: number;
}

/**
 * A handle on one struct zone: its address, the typed array holding it, and
 * the word index of each field the allocator touches on its hot paths. The
 * zone's state is in memory; the handle only says where. `long` fields are
 * read and written whole (two words on x86_64).
 */
export class Zone {
  /** The typed array holding the struct (fetched again by rebind()). */
  arr: Int32Array;
  /** Words per long/unsigned long: 2 on x86_64, 1 on i386. */
  readonly lw: number;
  /** Word index of the struct's start in arr. */
  readonly w: number;
  /** Physical address of zone->lock. */
  readonly lockPa: number;
  readonly iWatermark: number;
  readonly iBoost: number;
  readonly iReservedHighatomic: number;
  readonly iLowmemReserve: number;
  readonly iDriftMark: number;
  readonly iStartPfn: number;
  readonly iManaged: number;
  readonly iSpanned: number;
  readonly iPresent: number;
  readonly iFlags: number;
  readonly iVmStat: number;
  readonly iNumaEvent: number;
  /** free_area[order].nr_free is at iNrFree + order * faWords. */
  readonly iNrFree: number;
  readonly faWords: number;
  /** free_area[order].free_list[mt] at freeLists[order * MIGRATE_TYPES + mt]. */
  readonly freeLists: ListHeadPlace[] = [];
  /** per_cpu_pageset: this zone's per_cpu_pages of each CPU (filled when the pagesets exist). */
  readonly pcps: Pcp[] = [];
  /** per_cpu_zonestats: this zone's counter diffs of each CPU (filled with the pagesets). */
  readonly stats: Zonestat[] = [];
  /** Derived at zonelist build time: ZONE_NORMAL with a populated ZONE_DMA32 below it (alloc_flags_nofragment). */
  nofragment = false;
  private readonly freeListPa: number[] = [];

  constructor(
    readonly nid: number,
    readonly idx: number,
    readonly name: string,
    /** Physical and kernel virtual address of struct zone. */
    readonly pa: number,
    readonly va: number,
    mem: PhysMem,
    L: MmzoneLayouts,
    ptrSize: number,
    private readonly head: (pa: number) => ListHeadPlace,
  ) {
    this.arr = mem.i32At(pa);
    const w = (this.w = PhysMem.wordIndex(pa));
    const at = (off: number) => w + (off >> 2);
    this.lw = ptrSize >> 2;
    this.lockPa = pa + L.zone.lock;
    this.iWatermark = at(L.zone._watermark);
    this.iBoost = at(L.zone.watermark_boost);
    this.iReservedHighatomic = at(L.zone.nr_reserved_highatomic);
    this.iLowmemReserve = at(L.zone.lowmem_reserve);
    this.iDriftMark = at(L.zone.percpu_drift_mark);
    this.iStartPfn = at(L.zone.zone_start_pfn);
    this.iManaged = at(L.zone.managed_pages);
    this.iSpanned = at(L.zone.spanned_pages);
    this.iPresent = at(L.zone.present_pages);
    this.iFlags = at(L.zone.flags);
    this.iVmStat = at(L.zone.vm_stat);
    this.iNumaEvent = at(L.zone.vm_numa_event);
    this.iNrFree = at(L.zone.free_area + L.freeArea.nr_free);
    this.faWords = L.freeArea.size >> 2;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const headPa = pa + L.zone.free_area + o * L.freeArea.size + L.freeArea.free_list + mt * 2 * ptrSize;
        this.freeListPa.push(headPa);
        this.freeLists.push(head(headPa));
      }
    }
  }

  /** The RAM was adopted from another thread: fetch every typed array again. */
  rebind(mem: PhysMem): void {
    this.arr = mem.i32At(this.pa);
    this.freeListPa.forEach((pa, i) => (this.freeLists[i] = this.head(pa)));
    for (const pcp of this.pcps) pcp.rebind(mem);
    for (const st of this.stats) st.rebind(mem);
  }

  /** A long (or unsigned long) field at word index i, exact below 2^53. */
  get(i: number): number {
    const a = this.arr;
    return this.lw === 2 ? (a[i] >>> 0) + a[i + 1] * TWO32 : a[i];
  }

  set(i: number, v: number): void {
    const a = this.arr;
    if (this.lw === 2) {
      const hi = Math.floor(v / TWO32);
      a[i] = (v - hi * TWO32) | 0;
      a[i + 1] = hi;
    } else {
      a[i] = v;
    }
  }

  add(i: number, delta: number): void {
    this.set(i, this.get(i) + delta);
  }

  /** _watermark[which] + watermark_boost: wmark_pages(). */
  wmark(which: number): number {
    return this.get(this.iWatermark + which * this.lw) + this.get(this.iBoost);
  }

  lowmemReserve(highestZoneidx: number): number {
    return this.get(this.iLowmemReserve + highestZoneidx * this.lw);
  }

  /** zone_page_state(zone, NR_FREE_PAGES): the zone's counter, without the CPUs' pending diffs. */
  freePages(): number {
    const v = this.get(this.iVmStat + NR_FREE_PAGES * this.lw);
    return v < 0 ? 0 : v;
  }

  managed(): number {
    return this.get(this.iManaged);
  }

  present(): number {
    return this.get(this.iPresent);
  }

  nrFree(order: number): number {
    return this.get(this.iNrFree + order * this.faWords);
  }

  setNrFree(order: number, v: number): void {
    this.set(this.iNrFree + order * this.faWords, v);
  }

  freeList(order: number, mt: number): ListHeadPlace {
    return this.freeLists[order * MIGRATE_TYPES + mt];
  }

  testFlag(bit: number): boolean {
    return (this.arr[this.iFlags] & (1 << bit)) !== 0;
  }

  /** set_bit() / clear_bit(): atomic, as CPUs change zone->flags without zone->lock. */
  setFlag(bit: number, on: boolean): void {
    if (on) Atomics.or(this.arr, this.iFlags, 1 << bit);
    else Atomics.and(this.arr, this.iFlags, ~(1 << bit));
  }

  /** zone_spans_pfn() */
  spans(pfn: number): boolean {
    const start = this.get(this.iStartPfn);
    return pfn >= start && pfn < start + this.get(this.iSpanned);
  }
}

/**
 * A handle on one CPU's struct per_cpu_pages of a zone: where its fields
 * and its list heads are. The pagesets are a per-CPU allocation (percpu.ts).
 */
export class Pcp {
  arr: Int32Array;
  u8: Uint8Array;
  u16: Uint16Array;
  /** Physical address of pcp->lock. */
  readonly lockPa: number;
  readonly iLock: number;
  readonly iCount: number;
  readonly iHigh: number;
  readonly iHighMin: number;
  readonly iHighMax: number;
  readonly iBatch: number;
  /** Byte index of flags and alloc_factor in u8; u16 index of free_count. */
  readonly bFlags: number;
  readonly bAllocFactor: number;
  readonly hFreeCount: number;
  /** lists[pindex] */
  readonly lists: ListHeadPlace[] = [];
  private readonly listPa: number[] = [];

  constructor(
    readonly cpu: number,
    /** Physical address of this per_cpu_pages. */
    readonly pa: number,
    mem: PhysMem,
    L: MmzoneLayouts,
    ptrSize: number,
    private readonly head: (pa: number) => ListHeadPlace,
  ) {
    const s = Math.floor(pa / HOST_SECTION_SIZE);
    this.arr = mem.i32[s];
    this.u8 = mem.u8[s];
    this.u16 = mem.u16[s];
    const off = (pa - s * HOST_SECTION_SIZE) | 0; // an int: V8 would keep the byte-index fields below as boxed doubles
    const w = off >> 2;
    this.lockPa = pa + L.pcp.lock;
    this.iLock = w + (L.pcp.lock >> 2);
    this.iCount = w + (L.pcp.count >> 2);
    this.iHigh = w + (L.pcp.high >> 2);
    this.iHighMin = w + (L.pcp.high_min >> 2);
    this.iHighMax = w + (L.pcp.high_max >> 2);
    this.iBatch = w + (L.pcp.batch >> 2);
    this.bFlags = off + L.pcp.flags;
    this.bAllocFactor = off + L.pcp.alloc_factor;
    this.hFreeCount = (off + L.pcp.free_count) >> 1;
    for (let i = 0; i < L.pcpLists; i++) {
      this.listPa.push(pa + L.pcp.lists + i * 2 * ptrSize);
      this.lists.push(head(this.listPa[i]));
    }
  }

  rebind(mem: PhysMem): void {
    const s = Math.floor(this.pa / HOST_SECTION_SIZE);
    this.arr = mem.i32[s];
    this.u8 = mem.u8[s];
    this.u16 = mem.u16[s];
    this.listPa.forEach((pa, i) => (this.lists[i] = this.head(pa)));
  }
}

/**
 * A handle on one CPU's struct per_cpu_zonestat of a zone: the s8 counter
 * diffs and their threshold (bytes of u8), the NUMA event counters (longs
 * of arr).
 */
export class Zonestat {
  u8: Uint8Array;
  arr: Int32Array;
  /** Byte index of vm_stat_diff[0] and of stat_threshold in u8. */
  readonly bDiff: number;
  readonly bThreshold: number;
  /** Word index of vm_numa_event[0] in arr. */
  readonly iNumaEvent: number;

  constructor(readonly cpu: number, readonly pa: number, mem: PhysMem, L: MmzoneLayouts) {
    const s = Math.floor(pa / HOST_SECTION_SIZE);
    this.u8 = mem.u8[s];
    this.arr = mem.i32[s];
    const off = (pa - s * HOST_SECTION_SIZE) | 0; // an int: V8 would keep the byte-index fields below as boxed doubles
    this.bDiff = off + L.zonestat.vm_stat_diff;
    this.bThreshold = off + L.zonestat.stat_threshold;
    this.iNumaEvent = (off + L.zonestat.vm_numa_event) >> 2;
  }

  rebind(mem: PhysMem): void {
    const s = Math.floor(this.pa / HOST_SECTION_SIZE);
    this.u8 = mem.u8[s];
    this.arr = mem.i32[s];
  }
}
