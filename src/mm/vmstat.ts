/*
 * Reading the allocator's counters for /proc (mm/vmstat.c, fs/proc/meminfo.c,
 * mm/show_mem.c si_mem_available, arch/x86/mm/pat/set_memory.c).
 *
 * Everything here is read from simulated memory at the moment of the call:
 * zone and node counters, free lists, pageblock types, per-CPU pagesets.
 * The result is the plain view the /proc formatters print. Zone counters
 * and NUMA events are snapshots (zone_page_state_snapshot(): the zone's
 * counter plus every CPU's pending diff), so they read as the kernel's do
 * once its vmstat worker has folded the diffs.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { usableRanges } from '../machine/config.ts';
import type { MeminfoView, MemoryView, NodeView, VmstatConfig, ZoneView } from '../fs/proc/views.ts';
import { nodeStatNames, zoneStatNames, NUMA_STAT_NAMES } from '../fs/proc/zoneinfo.ts';
import {
  MAX_PAGE_ORDER, MIGRATETYPE_NAMES, MIGRATE_TYPES, NR_FREE_PAGES, NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B,
  NR_KERNEL_STACK_KB, NR_PAGETABLE, NR_VM_NODE_STAT_ITEMS, NR_VM_NUMA_EVENT_ITEMS, NR_VM_ZONE_STAT_ITEMS,
  WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO,
} from './mmzone.ts';
import type { Zone } from './page_alloc.ts';

/** The kernel configuration options that decide which counters exist. */
export function vmstatConfig(k: Kernel): VmstatConfig {
  const x64 = k.config.arch === 'x86_64';
  return {
    numa: x64, smp: true, zsmalloc: true, unacceptedMemory: false, shadowCallStack: false, iommu: true, swap: true,
    numaBalancing: x64, transparentHugepage: x64,
  };
}

/** Free-list walk cap of pagetypeinfo_showfree_print(). */
const FREE_LIST_WALK_CAP = 100000;

function nodeStat(k: Kernel, nid: number, item: number): number {
  return k.access.readLong(k.mmInit.pgdatPa[nid] + k.mz.pgdat.vm_stat + item * k.layout.ptrSize);
}

function zoneView(k: Kernel, zone: Zone, cfg: VmstatConfig): ZoneView {
  const b = k.buddy;
  const populated = b.populated(zone);
  const nrFree: number[] = [];
  const freeByType: number[][] = Array.from({ length: MIGRATE_TYPES }, () => []);
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    nrFree.push(b.nr_free(zone, o));
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      const head = b.freeList(zone, o, mt);
      let n = 0;
      for (let pos = k.kaddr.readPtr(head); pos !== head && n < FREE_LIST_WALK_CAP; pos = k.kaddr.readPtr(pos)) n++;
      freeByType[mt].push(n);
    }
  }
  const blocksByType = new Array(MIGRATE_TYPES).fill(0);
  const start = b.zget(zone, 'zone_start_pfn');
  const end = start + b.zget(zone, 'spanned_pages');
  const pageblock_nr_pages = 1 << k.sparse.pageblockOrder;
  for (let pfn = start & ~(pageblock_nr_pages - 1); pfn < end; pfn += pageblock_nr_pages) {
    const first = Math.max(pfn, start);
    if (!k.sparse.pfn_valid(first) || k.pages.page_zonenum(first) !== zone.idx) continue;
    blocksByType[k.sparse.get_pageblock_migratetype(first)]++;
  }
  const zoneStats: Record<string, number> = {};
  const names = zoneStatNames(cfg);
  for (let i = 0; i < Math.min(names.length, NR_VM_ZONE_STAT_ITEMS); i++) zoneStats[names[i]] = b.zoneStat(zone, i);
  const numaStats: Record<string, number> = {};
  for (let i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++) numaStats[NUMA_STAT_NAMES[i]] = b.numaEvent(zone, i);
  const protection: number[] = [];
  for (let j = 0; j < k.mz.zs.MAX_NR_ZONES; j++) protection.push(b.lowmemReserve(zone, j));
  const pagesets = [];
  for (let cpu = 0; cpu < k.config.cpus; cpu++) pagesets.push({ cpu, ...b.pcpCounts(zone, cpu) });
  return {
    node: zone.nid, name: zone.name, populated,
    freePages: b.zoneStat(zone, NR_FREE_PAGES),
    boost: b.zget(zone, 'watermark_boost'),
    min: b.zget(zone, '_watermark', WMARK_MIN),
    low: b.zget(zone, '_watermark', WMARK_LOW),
    high: b.zget(zone, '_watermark', WMARK_HIGH),
    promo: b.zget(zone, '_watermark', WMARK_PROMO),
    spanned: b.zget(zone, 'spanned_pages'),
    present: b.zget(zone, 'present_pages'),
    managed: b.managed(zone),
    cma: 0,
    protection, nrFree, freeByType, blocksByType,
    startPfn: start,
    pagesets,
    statThreshold: b.statThreshold(zone, 0),
    zoneStats, numaStats,
  };
}

/** Everything buddyinfo, pagetypeinfo and zoneinfo print. */
export function memoryView(k: Kernel): MemoryView {
  const cfg = vmstatConfig(k);
  const nodes: NodeView[] = [];
  const nodeNames = nodeStatNames(cfg);
  for (let nid = 0; nid < k.mmInit.pgdatPa.length; nid++) {
    const zones: ZoneView[] = [];
    for (let idx = 0; idx < k.mz.zs.MAX_NR_ZONES; idx++) zones.push(zoneView(k, k.buddy.zone(nid, idx), cfg));
    const nodeStats: Record<string, number> = {};
    for (let i = 0; i < Math.min(nodeNames.length, NR_VM_NODE_STAT_ITEMS); i++) nodeStats[nodeNames[i]] = nodeStat(k, nid, i);
    // Slab counters are kept in bytes (the _B items) and shown in pages.
    nodeStats.nr_slab_reclaimable = Math.floor(nodeStat(k, nid, NR_SLAB_RECLAIMABLE_B) / PAGE_SIZE);
    nodeStats.nr_slab_unreclaimable = Math.floor(nodeStat(k, nid, NR_SLAB_UNRECLAIMABLE_B) / PAGE_SIZE);
    nodes.push({ id: nid, zones, nodeStats, unreclaimable: k.buddy.node_unreclaimable(nid) });
  }
  return {
    migratetypes: MIGRATETYPE_NAMES, pageblockOrder: k.sparse.pageblockOrder, maxOrder: MAX_PAGE_ORDER, nodes, config: cfg,
    hpagePmdNr: 512,
  };
}

/** The x86 direct map's page sizes over RAM (arch_report_meminfo), in kB. */
function directMap(k: Kernel): { k4: number; large: number; g1: number } {
  const large = k.config.arch === 'x86_64' ? 2 << 20 : 4 << 20;
  const gig = 1 << 30;
  let k4 = 0;
  let big = 0;
  let g1 = 0;
  const limit = k.kaddr.directMapEnd - k.layout.PAGE_OFFSET;
  for (const [s0, e0] of usableRanges(k.config.e820)) {
    const s = Math.ceil(s0 / PAGE_SIZE) * PAGE_SIZE;
    const e = Math.min(Math.floor(e0 / PAGE_SIZE) * PAGE_SIZE, limit);
    let pos = s;
    while (pos < e) {
      // The first large page keeps 4K mappings (the BIOS area has mixed cache attributes).
      if (k.config.arch === 'x86_64' && pos % gig === 0 && pos + gig <= e && pos >= large) {
        g1 += gig;
        pos += gig;
      } else if (pos % large === 0 && pos + large <= e && pos >= large) {
        big += large;
        pos += large;
      } else {
        k4 += PAGE_SIZE;
        pos += PAGE_SIZE;
      }
    }
  }
  return { k4: k4 / 1024, large: big / 1024, g1: g1 / 1024 };
}

/** si_meminfo() + si_mem_available() and friends, for /proc/meminfo. */
export function meminfoView(k: Kernel): MeminfoView {
  const b = k.buddy;
  let totalram = 0;
  let freeram = 0;
  let wmarkLow = 0;
  let highTotal = 0;
  let highFree = 0;
  for (const z of b.zones) {
    totalram += b.managed(z);
    freeram += b.zoneStat(z, NR_FREE_PAGES);
    wmarkLow += b.zget(z, '_watermark', WMARK_LOW);
    if (z.idx === k.mz.zs.ZONE_HIGHMEM) {
      highTotal += b.managed(z);
      highFree += b.zoneStat(z, NR_FREE_PAGES);
    }
  }
  let slabRecl = 0;
  let slabUnrecl = 0;
  let kstack = 0;
  let ptables = 0;
  for (let nid = 0; nid < k.mmInit.pgdatPa.length; nid++) {
    slabRecl += nodeStat(k, nid, NR_SLAB_RECLAIMABLE_B);
    slabUnrecl += nodeStat(k, nid, NR_SLAB_UNRECLAIMABLE_B);
    kstack += nodeStat(k, nid, NR_KERNEL_STACK_KB);
    ptables += nodeStat(k, nid, NR_PAGETABLE);
  }
  slabRecl = Math.floor(slabRecl / PAGE_SIZE);
  slabUnrecl = Math.floor(slabUnrecl / PAGE_SIZE);
  let available = freeram - b.totalreserve_pages;
  available += slabRecl - Math.min(Math.floor(slabRecl / 2), wmarkLow);
  if (available < 0) available = 0;
  const x64 = k.config.arch === 'x86_64';
  const dm = directMap(k);
  return {
    totalram, freeram, available,
    highTotal: x64 ? null : highTotal,
    highFree,
    slabReclaimable: slabRecl,
    slabUnreclaimable: slabUnrecl,
    kernelStackKb: kstack,
    pageTables: ptables,
    vmallocTotalKb: Math.floor((k.layout.VMALLOC_END - k.layout.VMALLOC_START) / 1024),
    vmallocUsed: k.paging.vm.vmalloc_nr_pages(),
    percpu: k.percpu.nr_pages() + k.percpuVm.nr_pages(), // issue 4: + the chunks in vmalloc space
    commitLimit: Math.floor((totalram * 50) / 100),
    committedAs: 0,
    directMap4kKb: dm.k4,
    directMap2MKb: dm.large,
    directMapLargePage: x64 ? '2M' : '4M',
    directMap1GKb: x64 ? dm.g1 : null,
    zswap: x64 ? { totalPages: 0, storedPages: 0 } : null,
    earlyMemtestBadKb: null,
    hardwareCorrupted: null,
    thp: x64 ? { anon: 0, shmem: 0, shmemPmdMapped: 0, file: 0, filePmdMapped: 0 } : null,
    cma: null,
    unaccepted: null,
    hugetlb: { total: 0, free: 0, rsvd: 0, surp: 0, pageSizeKb: x64 ? 2048 : 4096, totalKb: 0 },
  };
}
