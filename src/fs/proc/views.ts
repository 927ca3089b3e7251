/*
 * What the /proc generators read: plain figures gathered from live machine
 * memory at the moment a file is opened (as seq_file's show() reads the
 * kernel's structures). The mm code fills these from simulated memory; the
 * files in this directory only format them, byte for byte as Linux 6.12.
 */

export const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'] as const;
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'] as const;

export interface PagesetView {
  cpu: number;
  count: number;
  high: number;
  batch: number;
  highMin: number;
  highMax: number;
}

export interface ZoneView {
  node: number;
  /** One of ZONE_NAMES. */
  name: string;
  /** present_pages > 0 (populated_zone()). */
  populated: boolean;
  freePages: number;
  boost: number;
  min: number;
  low: number;
  high: number;
  promo: number;
  spanned: number;
  present: number;
  managed: number;
  cma: number;
  /** lowmem_reserve[0 .. zone count - 1]. */
  protection: number[];
  /** free_area[order].nr_free, orders 0..MAX_PAGE_ORDER. */
  nrFree: number[];
  /** Free blocks per migratetype per order: [migratetype][order]. */
  freeByType: number[][];
  /** Pageblocks per migratetype. */
  blocksByType: number[];
  startPfn: number;
  pagesets: PagesetView[];
  /** vm stats threshold (per zone, same for every CPU here). */
  statThreshold: number;
  /** zone_stat_item values by name (nr_free_pages, nr_zone_inactive_anon, ...). */
  zoneStats: Record<string, number>;
  /** NUMA event counters by name (numa_hit, ...). */
  numaStats: Record<string, number>;
}

export interface NodeView {
  id: number;
  /** Every zone of the node, populated or not, in zone order. */
  zones: ZoneView[];
  /** node_stat_item values by name (nr_slab_reclaimable, nr_kernel_stack, ...), in pages. */
  nodeStats: Record<string, number>;
}

export interface MemoryView {
  /** MIGRATE_TYPES names that exist in this configuration, in order. */
  migratetypes: string[];
  pageblockOrder: number;
  maxOrder: number;
  nodes: NodeView[];
}

/** /proc/meminfo figures, in pages unless the name says kB. */
export interface MeminfoView {
  totalram: number;
  freeram: number;
  available: number;
  highTotal: number | null; // null when the kernel has no CONFIG_HIGHMEM
  highFree: number;
  slabReclaimable: number;
  slabUnreclaimable: number;
  kernelStackKb: number;
  pageTables: number;
  vmallocTotalKb: number;
  vmallocUsed: number;
  percpu: number;
  /** Commit limit and Committed_AS, in pages. */
  commitLimit: number;
  committedAs: number;
  /** x86 DirectMap lines, in kB (DirectMap1G only on x86_64). */
  directMap4kKb: number;
  directMap2MKb: number;
  directMap1GKb: number | null;
}
