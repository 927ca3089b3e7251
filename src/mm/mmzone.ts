/*
 * Nodes and zones (include/linux/mmzone.h): struct pglist_data, struct zone,
 * struct free_area and struct per_cpu_pages, laid out in simulated memory.
 *
 *   pglist_data (one per node, allocated node-local from memblock)
 *   +--------------------------------------------------------------+
 *   | node_zones[MAX_NR_ZONES]  struct zone, see below              |
 *   | node_zonelists[2]         ZONELIST_FALLBACK, ZONELIST_NOFALLBACK
 *   | nr_zones, node_start_pfn, node_present_pages, node_spanned_pages
 *   | node_id, kswapd_order, kswapd_highest_zoneidx, totalreserve_pages
 *   | vm_stat[NR_VM_NODE_STAT_ITEMS]                                 |
 *   +--------------------------------------------------------------+
 *
 *   struct zone
 *   +--------------------------------------------------------------+
 *   | _watermark[min, low, high, promo]  watermark_boost            |
 *   | nr_reserved_highatomic  lowmem_reserve[MAX_NR_ZONES]          |
 *   | node  zone_pgdat  per_cpu_pageset (-> per_cpu_pages[nr_cpus]) |
 *   | pageset_high_min/max, pageset_batch                            |
 *   | zone_start_pfn managed_pages spanned_pages present_pages       |
 *   | free_area[0..10]: { free_list[MIGRATE_TYPES]; nr_free }        |
 *   | lock  vm_stat[NR_VM_ZONE_STAT_ITEMS]  vm_numa_event[6]         |
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
 * The per-CPU page lists would be a __percpu allocation; until kmem has the
 * per-CPU allocator they are an array of per_cpu_pages, one cache line
 * apart, allocated from memblock with the zone.
 */
import { defineStruct } from '../kernel/struct_layout.ts';
import type { Arch } from '../arch/x86/layout.ts';
import { zoneTypes, type ZoneTypes } from '../include/linux/gfp.ts';
import { MIGRATE_PCPTYPES } from '../include/linux/gfp.ts';
export { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES, MIGRATE_HIGHATOMIC } from '../include/linux/gfp.ts';

export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const PAGE_ALLOC_COSTLY_ORDER = 3;
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;

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
    ['node', 'int'],
    ['zone_pgdat', 'ptr'],
    ['per_cpu_pageset', 'ptr'],
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
    ['kswapd_order', 'int'],
    ['kswapd_highest_zoneidx', 'int'],
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
  return { zs, freeArea, zone, zoneref, zonelistEntries, pgdat, pcp, pcpLists };
}
