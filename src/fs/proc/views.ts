/*
 * What the /proc generators read: plain figures gathered from live machine
 * memory at the moment a file is opened (as seq_file's show() reads the
 * kernel's structures). The mm code fills these from simulated memory; the
 * files in this directory only format them, byte for byte as Linux 6.12.
 */

export const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'HighMem', 'Movable', 'Device'] as const;
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'] as const;

/**
 * The kernel configuration options that decide which lines the vmstat-based
 * files (/proc/zoneinfo) print. x86_64 defconfig and distribution kernels
 * (Debian 6.12 amd64): all true except unacceptedMemory on non-TDX/SNP
 * guests and shadowCallStack (arm64/riscv only). i386 typically has
 * numa = false and numaBalancing = false.
 */
export interface VmstatConfig {
  /** CONFIG_NUMA: numa_hit..numa_other per zone. */
  numa: boolean;
  /** CONFIG_SMP: "vm stats threshold" after each pageset. */
  smp: boolean;
  /** CONFIG_ZSMALLOC: nr_zspages. */
  zsmalloc: boolean;
  /** CONFIG_UNACCEPTED_MEMORY: nr_unaccepted. */
  unacceptedMemory: boolean;
  /** CONFIG_SHADOW_CALL_STACK: nr_shadow_call_stack. */
  shadowCallStack: boolean;
  /** CONFIG_IOMMU_SUPPORT: nr_iommu_pages. */
  iommu: boolean;
  /** CONFIG_SWAP: nr_swapcached. */
  swap: boolean;
  /** CONFIG_NUMA_BALANCING: pgpromote_success, pgpromote_candidate. */
  numaBalancing: boolean;
  /** CONFIG_TRANSPARENT_HUGEPAGE: THP node counters print in huge pages. */
  transparentHugepage: boolean;
}

export interface PagesetView {
  cpu: number;
  count: number;
  high: number;
  batch: number;
  /** pcp->high_min/high_max: not printed by 6.12 (6.18's zoneinfo shows them). */
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
  /**
   * zone_stat_item values by name (nr_zone_inactive_anon, ...); a name not
   * given prints 0. nr_free_pages always prints freePages.
   */
  zoneStats: Record<string, number>;
  /** NUMA event counters by name (numa_hit, ...); missing names print 0. */
  numaStats: Record<string, number>;
}

export interface NodeView {
  id: number;
  /** Every zone of the node, populated or not, in zone order. */
  zones: ZoneView[];
  /**
   * node_stat_item values by name (nr_slab_reclaimable, nr_kernel_stack, ...),
   * in pages (nr_kernel_stack in kB, as the kernel counts it); missing names
   * print 0. THP counters are in base pages: the formatter divides them by
   * hpagePmdNr as the kernel does.
   */
  nodeStats: Record<string, number>;
  /** pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES ("node_unreclaimable:"). */
  unreclaimable: boolean;
}

export interface MemoryView {
  /** MIGRATE_TYPES names that exist in this configuration, in order. */
  migratetypes: string[];
  pageblockOrder: number;
  /** MAX_PAGE_ORDER (10 on x86): the files print orders 0..maxOrder inclusive. */
  maxOrder: number;
  nodes: NodeView[];
  /** Configuration options that add or remove lines. */
  config: VmstatConfig;
  /** HPAGE_PMD_NR: 512 on x86_64 and i386 PAE, 1024 on i386 without PAE. */
  hpagePmdNr: number;
}

/**
 * /proc/meminfo figures, in pages unless the name says kB. A member that is
 * `| null` is a configuration switch: null means the kernel does not have the
 * option, so its lines are absent. Optional counters the simulation does not
 * model may be left out and print as 0, as on an idle real machine.
 */
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
  /** x86 DirectMap lines, in kB. */
  directMap4kKb: number;
  /** The large-page line: DirectMap2M (x86_64, i386 PAE) or DirectMap4M (i386 without PAE), in kB. */
  directMap2MKb: number;
  /** '4M' on i386 without PAE (arch_report_meminfo prints DirectMap4M there). */
  directMapLargePage: '2M' | '4M';
  /** DirectMap1G, only when direct_gbpages (x86_64 with 1 GiB pages); null: no line. */
  directMap1GKb: number | null;

  /** CONFIG_ZSWAP: zswap_total_pages() and zswap_stored_pages. */
  zswap: { totalPages: number; storedPages: number } | null;
  /** "EarlyMemtestBad:" only when the memtest= boot test ran (kB). */
  earlyMemtestBadKb: number | null;
  /** CONFIG_MEMORY_FAILURE: num_poisoned_pages ("HardwareCorrupted:"). */
  hardwareCorrupted: number | null;
  /** CONFIG_TRANSPARENT_HUGEPAGE counters, in base pages. */
  thp: { anon: number; shmem: number; shmemPmdMapped: number; file: number; filePmdMapped: number } | null;
  /** CONFIG_CMA: totalcma_pages and NR_FREE_CMA_PAGES. */
  cma: { total: number; free: number } | null;
  /** CONFIG_UNACCEPTED_MEMORY: NR_UNACCEPTED. */
  unaccepted: number | null;
  /** hugetlb_report_meminfo(): null when !hugepages_supported() (no CONFIG_HUGETLB_PAGE). */
  hugetlb: {
    /** The default hstate's nr_huge_pages, free, resv and surplus counts. */
    total: number;
    free: number;
    rsvd: number;
    surp: number;
    /** huge_page_size(default_hstate) in kB (2048 on x86_64). */
    pageSizeKb: number;
    /** Sum over all hstates of size * nr_huge_pages, in kB ("Hugetlb:"). */
    totalKb: number;
  } | null;

  /** Counters not (yet) modelled: absent means 0. All in pages. */
  bufferram?: number;
  /** NR_FILE_PAGES; Cached = filePages - swapCached - bufferram (at least 0). */
  filePages?: number;
  swapCached?: number;
  inactiveAnon?: number;
  activeAnon?: number;
  inactiveFile?: number;
  activeFile?: number;
  unevictable?: number;
  mlocked?: number;
  totalSwap?: number;
  freeSwap?: number;
  dirty?: number;
  writeback?: number;
  /** NR_ANON_MAPPED ("AnonPages:"). */
  anonPages?: number;
  /** NR_FILE_MAPPED ("Mapped:"). */
  mapped?: number;
  /** i.sharedram = NR_SHMEM ("Shmem:"). */
  shmem?: number;
  /** NR_KERNEL_MISC_RECLAIMABLE, added to SReclaimable for KReclaimable. */
  kernelMiscReclaimable?: number;
  secPageTables?: number;
  bounce?: number;
  writebackTmp?: number;
}
