/*
 * From memblock to the buddy allocator (mm/mm_init.c, mm/page_alloc.c
 * build_all_zonelists, mm/memblock.c memblock_free_all).
 *
 *   free_area_init()    zone spans from the arch limits, present pages from
 *                       memblock.memory, node and zone fields, "Zone ranges:"
 *   memmap_init()       every struct page initialised with its zone and node;
 *                       every pageblock MIGRATE_MOVABLE; holes PG_reserved
 *   build_all_zonelists() node-local zones highest first, then other nodes
 *   memblock_free_all() reserved ranges become PG_reserved; every free range
 *                       goes to the buddy lists in naturally aligned chunks of
 *                       up to MAX_PAGE_ORDER, counted in managed_pages
 *   init_per_zone_wmark_min() min_free_kbytes, watermarks, lowmem_reserve,
 *                       per-CPU page list sizes
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../arch/x86/layout.ts';
import type { Memblock } from './memblock.ts';
import { MAX_PAGE_ORDER, MIGRATE_MOVABLE, MIGRATE_TYPES, type MmzoneLayouts } from './mmzone.ts';
import { PG_reserved, type Pages } from './page.ts';
import type { PageAllocator, Zone } from './page_alloc.ts';
import type { Sparse } from './sparse.ts';
import { KERN_INFO, type Log } from '../kernel/bug.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';

export interface MmInitCtx {
  access: KmemAccess;
  memblock: Memblock;
  sparse: Sparse;
  pages: Pages;
  buddy: PageAllocator;
  mz: MmzoneLayouts;
  log: Log;
  pgdatPa: readonly number[];
  /** max_zone_pfns[] per zone index: the end pfn of each zone (arch limits). */
  maxZonePfn: readonly number[];
  /** Per node: its [startPfn, endPfn) spans. */
  nodeSpans: readonly (readonly [number, number])[];
  nrCpus: number;
  /** CONFIG_TRANSPARENT_HUGEPAGE: khugepaged raises min_free_kbytes. */
  thp: boolean;
  /** CONFIG_NUMA (x86_64 kernels have it even with one node). */
  numa: boolean;
}

const hex18 = (v: number) => '0x' + v.toString(16).padStart(16, '0');

/** Present (memblock.memory) pages of node nid within [start, end). */
function presentPages(ctx: MmInitCtx, nid: number, start: number, end: number): number {
  let n = 0;
  ctx.memblock.for_each_mem_pfn_range(nid, (s: number, e: number) => {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (b > a) n += b - a;
  });
  return n;
}

/** free_area_init(): zone boundaries and sizes, logged as the kernel logs them. */
export function free_area_init(ctx: MmInitCtx): void {
  const { buddy, log, mz } = ctx;
  const zs = mz.zs;
  const zoneStart: number[] = [];
  let prev = ctx.memblock.memblock_start_of_DRAM() >> PAGE_SHIFT;
  for (let i = 0; i < zs.MAX_NR_ZONES; i++) {
    zoneStart.push(prev);
    prev = Math.max(prev, ctx.maxZonePfn[i]);
  }
  log.printk(KERN_INFO, 'Zone ranges:');
  for (let i = 0; i < zs.ZONE_MOVABLE; i++) {
    const s = zoneStart[i];
    const e = ctx.maxZonePfn[i];
    const name = zs.names[i].padEnd(8);
    log.printk(KERN_INFO, e > s ? `  ${name} [mem ${hex18(s * PAGE_SIZE)}-${hex18(e * PAGE_SIZE - 1)}]` : `  ${name} empty`);
  }
  log.printk(KERN_INFO, 'Movable zone start for each node');
  log.printk(KERN_INFO, 'Early memory node ranges');
  ctx.memblock.for_each_mem_pfn_range(-1, (s: number, e: number, nid: number) => {
    log.printk(KERN_INFO, `  node ${String(nid).padStart(3)}: [mem ${hex18(s * PAGE_SIZE)}-${hex18(e * PAGE_SIZE - 1)}]`);
  });

  for (let nid = 0; nid < ctx.pgdatPa.length; nid++) {
    const [nodeStart, nodeEnd] = ctx.nodeSpans[nid];
    const pg = ctx.pgdatPa[nid];
    const a = ctx.access;
    a.writeUlong(pg + mz.pgdat.node_start_pfn, nodeStart);
    a.writeUlong(pg + mz.pgdat.node_spanned_pages, nodeEnd - nodeStart);
    a.mem.write32(pg + mz.pgdat.node_id, nid);
    let nodePresent = 0;
    for (let i = 0; i < zs.MAX_NR_ZONES; i++) {
      const zone = buddy.zone(nid, i);
      let start = Math.max(zoneStart[i], nodeStart);
      let end = Math.min(i < zs.ZONE_MOVABLE ? ctx.maxZonePfn[i] : 0, nodeEnd);
      if (end <= start) start = end = 0;
      // A zone's span starts at its first present page (zone_spanned_pages_in_node clamps to the node's memory).
      const present = end > start ? presentPages(ctx, nid, start, end) : 0;
      if (present > 0) {
        let first = -1;
        let last = -1;
        ctx.memblock.for_each_mem_pfn_range(nid, (s: number, e: number) => {
          const x = Math.max(s, start);
          const y = Math.min(e, end);
          if (y > x) {
            if (first < 0) first = x;
            last = y;
          }
        });
        start = first;
        end = last;
      }
      buddy.zset(zone, 'zone_start_pfn', present ? start : 0);
      buddy.zset(zone, 'spanned_pages', present ? end - start : 0);
      buddy.zset(zone, 'present_pages', present);
      buddy.zset(zone, 'managed_pages', present);
      buddy.zsetInt(zone, 'node', nid);
      a.writePtr(zone.pa + mz.zone.zone_pgdat, ctx.access.layout.PAGE_OFFSET + pg);
      nodePresent += present;
      buddy.init_zone_lists(zone);
    }
    a.writeUlong(pg + mz.pgdat.node_present_pages, nodePresent);
    let nrZones = 0;
    for (let i = 0; i < zs.MAX_NR_ZONES; i++) if (buddy.populated(buddy.zone(nid, i))) nrZones = i + 1;
    a.mem.write32(pg + mz.pgdat.nr_zones, nrZones);
    log.printk(KERN_INFO, `Initmem setup node ${nid} [mem ${hex18(nodeStart * PAGE_SIZE)}-${hex18(nodeEnd * PAGE_SIZE - 1)}]`);
  }
}

/** The zone a pfn falls in on node nid, or -1 (a hole). */
function zoneOfPfn(ctx: MmInitCtx, nid: number, pfn: number): number {
  for (let i = 0; i < ctx.mz.zs.MAX_NR_ZONES; i++) {
    const z = ctx.buddy.zone(nid, i);
    const start = ctx.buddy.zget(z, 'zone_start_pfn');
    if (pfn >= start && pfn < start + ctx.buddy.zget(z, 'spanned_pages')) return i;
  }
  return -1;
}

/**
 * memmap_init(): every struct page of every present section gets its zone
 * and node, refcount 1, and PG_reserved until memblock_free_all() frees it.
 * Pageblocks start MIGRATE_MOVABLE.
 */
export function memmap_init(ctx: MmInitCtx): void {
  const { sparse, pages } = ctx;
  for (let s = 0; s < sparse.nrSections; s++) {
    const first = s * sparse.PAGES_PER_SECTION;
    if (!sparse.pfn_valid(first)) continue;
    let nid = 0;
    for (let n = 0; n < ctx.nodeSpans.length; n++) if (first >= ctx.nodeSpans[n][0] && first < ctx.nodeSpans[n][1]) nid = n;
    let zone = zoneOfPfn(ctx, nid, first);
    let zoneEnd = zone >= 0 ? ctx.buddy.zget(ctx.buddy.zone(nid, zone), 'zone_start_pfn') + ctx.buddy.zget(ctx.buddy.zone(nid, zone), 'spanned_pages') : -1;
    for (let pfn = first; pfn < first + sparse.PAGES_PER_SECTION; pfn++) {
      if (zone < 0 || pfn >= zoneEnd) {
        zone = zoneOfPfn(ctx, nid, pfn);
        zoneEnd = zone >= 0 ? ctx.buddy.zget(ctx.buddy.zone(nid, zone), 'zone_start_pfn') + ctx.buddy.zget(ctx.buddy.zone(nid, zone), 'spanned_pages') : -1;
      }
      pages.init_single_page(pfn, Math.max(zone, 0), nid);
      pages.setFlag(pfn, PG_reserved);
      if ((pfn & ((1 << sparse.pageblockOrder) - 1)) === 0) sparse.set_pageblock_migratetype(pfn, MIGRATE_MOVABLE);
    }
  }
}

/**
 * build_all_zonelists(): for each node, ZONELIST_FALLBACK lists its own
 * populated zones from the highest down, then every other node's, nearest
 * first (node order here: by distance, which for kmem's flat topology is
 * simply nid order after the local node); ZONELIST_NOFALLBACK the local
 * zones only. Returns the number of pages the allocator can use.
 */
export function build_all_zonelists(ctx: MmInitCtx): number {
  const { buddy, mz, access } = ctx;
  const nodes = ctx.pgdatPa.length;
  const lists: Zone[][] = [];
  for (let nid = 0; nid < nodes; nid++) {
    const order = [nid, ...Array.from({ length: nodes }, (_, i) => i).filter((i) => i !== nid)];
    for (let which = 0; which < 2; which++) {
      const zones: Zone[] = [];
      for (const n of which === 0 ? order : [nid]) {
        for (let i = mz.zs.MAX_NR_ZONES - 1; i >= 0; i--) {
          const z = buddy.zone(n, i);
          if (buddy.zget(z, 'managed_pages') > 0 || buddy.populated(z)) zones.push(z);
        }
      }
      const base = ctx.pgdatPa[nid] + mz.pgdat.node_zonelists + which * mz.zoneref.size * mz.zonelistEntries;
      zones.forEach((z, i) => {
        access.writePtr(base + i * mz.zoneref.size + mz.zoneref.zone, z.va);
        access.mem.write32(base + i * mz.zoneref.size + mz.zoneref.zone_idx, z.idx);
      });
      access.writePtr(base + zones.length * mz.zoneref.size + mz.zoneref.zone, 0);
      lists.push(zones);
    }
  }
  buddy.setZonelistCache(lists);
  // vm_total_pages = nr_free_zone_pages(gfp_zone(GFP_HIGHUSER_MOVABLE))
  let total = 0;
  for (const z of lists[0]) if (z.idx <= mz.zs.ZONE_MOVABLE) total += Math.max(0, buddy.managed(z) - buddy.zget(z, '_watermark', 2));
  // page_group_by_mobility_disabled when there is too little memory for grouping to help.
  buddy.page_group_by_mobility_disabled = total < (1 << ctx.sparse.pageblockOrder) * MIGRATE_TYPES;
  ctx.log.printk(KERN_INFO, `Built ${nodes} zonelists, mobility grouping ${buddy.page_group_by_mobility_disabled ? 'off' : 'on'}.  Total pages: ${total}`);
  if (ctx.numa) {
    // check_highest_zone(): the highest populated zone below Movable
    let policy = 0;
    for (const z of buddy.zones) if (buddy.populated(z) && z.idx < mz.zs.ZONE_MOVABLE) policy = Math.max(policy, z.idx);
    ctx.log.printk(KERN_INFO, `Policy zone: ${mz.zs.names[policy]}`);
  }
  return total;
}

/**
 * memblock_free_all(): reserved ranges stay PG_reserved; each free range is
 * handed to the buddy allocator in the largest aligned chunks it holds
 * (__free_pages_memory), at the tail of the free lists (FPI_TO_TAIL).
 * Returns the number of pages released.
 */
export function memblock_free_all(ctx: MmInitCtx): number {
  const { pages, buddy, memblock } = ctx;
  let released = 0;
  for (const z of buddy.zones) buddy.zset(z, 'managed_pages', 0); // reset_all_zones_managed_pages()
  memblock.for_each_free_mem_range(-1, (startPa: number, endPa: number) => {
    let start = Math.ceil(startPa / PAGE_SIZE);
    const end = Math.floor(endPa / PAGE_SIZE);
    while (start < end) {
      let order = start ? Math.min(MAX_PAGE_ORDER, ctz(start)) : MAX_PAGE_ORDER;
      while (start + (1 << order) > end) order--;
      for (let pfn = start; pfn < start + (1 << order); pfn++) {
        pages.clearFlag(pfn, PG_reserved);
        pages.set_page_count(pfn, 0);
      }
      const zone = buddy.zone(pages.page_to_nid(start), pages.page_zonenum(start));
      buddy.zset(zone, 'managed_pages', buddy.managed(zone) + (1 << order));
      buddy.__free_one_page(start, zone, order, ctx.sparse.get_pageblock_migratetype(start), true);
      released += 1 << order;
      start += 1 << order;
    }
  });
  memblock.memblock_free_all_done();
  buddy.ready = true;
  return released;
}

/** Count trailing zero bits (__ffs) of a positive integer below 2^53. */
function ctz(x: number): number {
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/**
 * init_per_zone_wmark_min() and, with THP on a machine of 512 MiB or more,
 * khugepaged's set_recommended_min_free_kbytes(): the watermarks every
 * allocation checks.
 */
export function init_per_zone_wmark_min(ctx: MmInitCtx): void {
  const b = ctx.buddy;
  b.calculate_min_free_kbytes();
  setup_per_zone_wmarks(ctx);
  b.refresh_zone_stat_thresholds();
  b.setup_per_zone_lowmem_reserve();
  // hugepage_init() (a later initcall) starts khugepaged, which raises
  // min_free_kbytes, only on machines with at least 512 MiB of RAM: below
  // that, THP is off by default ("the extra memory used could hurt more than
  // TLB overhead is likely to save", mm/huge_memory.c).
  let totalram = 0;
  for (const z of b.zones) totalram += b.managed(z);
  if (ctx.thp && totalram >= 512 << (20 - PAGE_SHIFT)) set_recommended_min_free_kbytes(ctx);
}

/** setup_per_zone_wmarks(): watermarks, then the pcp high/batch that depend on them. */
export function setup_per_zone_wmarks(ctx: MmInitCtx): void {
  ctx.buddy.setup_per_zone_wmarks();
  ctx.buddy.zone_pcp_update_all();
}

/**
 * mm/khugepaged.c set_recommended_min_free_kbytes(): keep enough free
 * pageblocks for THP: (2 + MIGRATE_PCPTYPES^2) pageblocks per populated
 * lowmem zone, at most 5% of lowmem.
 */
export function set_recommended_min_free_kbytes(ctx: MmInitCtx): void {
  const b = ctx.buddy;
  let nrZones = 0;
  for (const z of b.zones) if (b.populated(z) && z.idx <= ctx.mz.zs.ZONE_NORMAL) nrZones++;
  const pageblock_nr_pages = 1 << ctx.sparse.pageblockOrder;
  let recommended = pageblock_nr_pages * nrZones * 2 + pageblock_nr_pages * nrZones * 3 * 3;
  recommended = Math.min(recommended, Math.floor(b.nr_free_buffer_pages() / 20));
  recommended <<= PAGE_SHIFT - 10;
  if (recommended > b.min_free_kbytes) {
    b.min_free_kbytes = recommended;
  }
  setup_per_zone_wmarks(ctx);
}
