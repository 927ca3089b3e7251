/*
 * Zone watermarks and reserves (mm/page_alloc.c, Linux 6.12):
 * __zone_watermark_ok(), zone_watermark_fast(), calculate_min_free_kbytes(),
 * __setup_per_zone_wmarks(), setup_per_zone_lowmem_reserve(),
 * calculate_totalreserve_pages(), and the per-CPU list sizes that follow
 * from the low watermark (zone_batchsize, zone_highsize).
 *
 * Who may take a zone's last pages:
 *
 *   free pages  ^
 *               |  high    kswapd stops reclaiming here
 *               |  low     the fast path's mark; below it, kswapd is woken
 *               |  min     the slow path's mark for GFP_KERNEL
 *               |  min/2   __GFP_HIGH callers that may sleep
 *               |  3/8 min GFP_ATOMIC (__GFP_HIGH and cannot sleep)
 *               |  0       __GFP_MEMALLOC: no check at all
 *
 * plus lowmem_reserve[j]: pages a lower zone keeps back from allocations
 * that could have been served by zone j.
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../arch/x86/layout.ts';
import {
  ALLOC_HIGHATOMIC, ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK, ALLOC_OOM, ALLOC_RESERVES, ALLOC_WMARK_MASK,
} from '../include/linux/gfp.ts';
import {
  MIGRATE_HIGHATOMIC, MIGRATE_PCPTYPES, NR_FREE_PAGES, NR_PAGE_ORDERS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO,
  type ZoneSet, type Zone,
} from './mmzone.ts';
import type { PageLists } from './page_list.ts';
import type { PageAllocGlobals } from './page_alloc_globals.ts';
import { KERN_WARNING, type Log } from '../kernel/bug.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import type { VmCounters } from './vmstat_percpu.ts';

const SWAP_CLUSTER_MAX = 32;
const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

export class Watermarks {
  constructor(
    private readonly zones: readonly Zone[],
    private readonly zs: ZoneSet,
    private readonly lists: PageLists,
    private readonly globals: PageAllocGlobals,
    private readonly log: Log,
    private readonly access: KmemAccess,
    /** Physical address of each node's pgdat->totalreserve_pages. */
    private readonly totalreservePa: readonly number[],
    private readonly cpuToNode: readonly number[],
    private readonly counters: VmCounters,
  ) {}

  private unusableFree(zone: Zone, order: number, allocFlags: number): number {
    let unusable = (1 << order) - 1;
    if (!(allocFlags & ALLOC_RESERVES)) unusable += zone.get(zone.iReservedHighatomic);
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
    if (freePages <= min + zone.lowmemReserve(highestZoneidx)) return false;
    if (!order) return true;
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      if (!zone.nrFree(o)) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (!this.lists.empty(zone.freeList(o, mt))) return true;
      if ((allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && !this.lists.empty(zone.freeList(o, MIGRATE_HIGHATOMIC))) return true;
    }
    return false;
  }

  zone_watermark_ok(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    return this.__zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags, zone.freePages());
  }

  /** zone_watermark_ok_safe(): below percpu_drift_mark, the counter with the CPUs' diffs (kswapd's check). */
  zone_watermark_ok_safe(zone: Zone, order: number, mark: number, highestZoneidx: number): boolean {
    let freePages = zone.freePages();
    const drift = zone.get(zone.iDriftMark);
    if (drift && freePages < drift) freePages = this.counters.zone_page_state_snapshot(zone, NR_FREE_PAGES);
    return this.__zone_watermark_ok(zone, order, mark, highestZoneidx, 0, freePages);
  }

  /** zone_watermark_fast(): the order-0 shortcut, then the full check. */
  zone_watermark_fast(zone: Zone, order: number, mark: number, highestZoneidx: number, allocFlags: number): boolean {
    const freePages = zone.freePages();
    if (!order) {
      const reserved = this.unusableFree(zone, 0, allocFlags);
      if (freePages - Math.min(freePages, reserved) > mark + zone.lowmemReserve(highestZoneidx)) return true;
    }
    if (this.__zone_watermark_ok(zone, order, mark, highestZoneidx, allocFlags, freePages)) return true;
    if (!order && (allocFlags & ALLOC_MIN_RESERVE) && zone.get(zone.iBoost) && (allocFlags & ALLOC_WMARK_MASK) === WMARK_MIN) {
      return this.__zone_watermark_ok(zone, order, zone.get(zone.iWatermark), highestZoneidx, allocFlags, freePages);
    }
    return false;
  }

  /** nr_free_zone_pages(gfp_zone(GFP_USER)): managed minus the high watermark, lowmem zones. */
  nr_free_buffer_pages(): number {
    let sum = 0;
    for (const z of this.zones) {
      if (z.idx > this.zs.ZONE_NORMAL) continue;
      const size = z.managed();
      const high = z.get(z.iWatermark + WMARK_HIGH * z.lw);
      if (size > high) sum += size - high;
    }
    return sum;
  }

  /** calculate_min_free_kbytes(): int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]. */
  calculate_min_free_kbytes(): void {
    const lowmemKbytes = this.nr_free_buffer_pages() * (PAGE_SIZE >> 10);
    const newMin = Math.floor(Math.sqrt(lowmemKbytes * 16));
    const user = this.globals.user_min_free_kbytes;
    if (newMin > user) this.globals.min_free_kbytes = Math.min(Math.max(newMin, 128), 262144);
    else this.log.printk(KERN_WARNING, `min_free_kbytes is not updated to ${newMin} because user defined value ${user} is preferred`);
  }

  private isHighOrMovable(z: Zone): boolean {
    return z.idx === this.zs.ZONE_HIGHMEM || z.idx === this.zs.ZONE_MOVABLE;
  }

  /** __setup_per_zone_wmarks() */
  setup_per_zone_wmarks(): void {
    const pagesMin = this.globals.min_free_kbytes >> (PAGE_SHIFT - 10);
    const scale = this.globals.watermark_scale_factor;
    let lowmemPages = 0;
    for (const z of this.zones) if (!this.isHighOrMovable(z) && z.idx <= this.zs.ZONE_MOVABLE) lowmemPages += z.managed();
    for (const z of this.zones) {
      if (z.idx > this.zs.ZONE_MOVABLE) continue;
      const managed = z.managed();
      // u64 in the kernel: the product can pass 2^53, so divide exactly.
      const tmp = lowmemPages ? Number((BigInt(pagesMin) * BigInt(managed)) / BigInt(lowmemPages)) : 0;
      const min = this.isHighOrMovable(z) ? Math.min(Math.max(Math.floor(managed / 1024), SWAP_CLUSTER_MAX), 128) : tmp;
      const delta = Math.max(Math.floor(tmp / 4), Math.floor((managed * scale) / 10000));
      z.set(z.iBoost, 0);
      z.set(z.iWatermark + WMARK_MIN * z.lw, min);
      z.set(z.iWatermark + WMARK_LOW * z.lw, min + delta);
      z.set(z.iWatermark + WMARK_HIGH * z.lw, min + 2 * delta);
      z.set(z.iWatermark + WMARK_PROMO * z.lw, min + 3 * delta);
    }
    this.calculate_totalreserve_pages();
  }

  private nodeZones(nid: number): Zone[] {
    return this.zones.filter((z) => z.nid === nid);
  }

  /** setup_per_zone_lowmem_reserve() */
  setup_per_zone_lowmem_reserve(): void {
    const ratios = this.globals.lowmem_reserve_ratio;
    for (let nid = 0; nid < this.totalreservePa.length; nid++) {
      const zones = this.nodeZones(nid);
      for (let i = 0; i < zones.length - 1; i++) {
        const zone = zones[i];
        const ratio = ratios[i];
        const clear = !ratio || !zone.managed();
        let managed = 0;
        for (let j = i + 1; j < zones.length; j++) {
          managed += zones[j].managed();
          zone.set(zone.iLowmemReserve + j * zone.lw, clear ? 0 : Math.floor(managed / ratio));
        }
      }
    }
    this.calculate_totalreserve_pages();
  }

  /** calculate_totalreserve_pages(): the high watermark plus the largest reserve, per zone. */
  calculate_totalreserve_pages(): void {
    let total = 0;
    for (let nid = 0; nid < this.totalreservePa.length; nid++) {
      let node = 0;
      const zones = this.nodeZones(nid);
      for (let i = 0; i < zones.length; i++) {
        const zone = zones[i];
        let max = 0;
        for (let j = i; j < zones.length; j++) max = Math.max(max, zone.lowmemReserve(j));
        max += zone.get(zone.iWatermark + WMARK_HIGH * zone.lw);
        node += Math.min(max, zone.managed());
      }
      this.access.writeUlong(this.totalreservePa[nid], node);
      total += node;
    }
    this.globals.totalreserve_pages = total;
  }

  /** zone_batchsize(): about 0.1% of the zone or 1 MiB, whichever is smaller, as 2^n - 1. */
  zone_batchsize(zone: Zone): number {
    let batch = Math.min(Math.floor(zone.managed() / 1024), (1 << 20) / PAGE_SIZE);
    batch = Math.floor(batch / 4);
    if (batch < 1) batch = 1;
    return 2 ** Math.floor(Math.log2(batch + Math.floor(batch / 2))) - 1;
  }

  /** zone_highsize(): the low watermark (or a fraction of the zone) split across the node's CPUs. */
  private zoneHighsize(zone: Zone, batch: number, highFraction: number): number {
    const total = highFraction ? Math.floor(zone.managed() / highFraction) : zone.get(zone.iWatermark + WMARK_LOW * zone.lw);
    let split = 0;
    for (const n of this.cpuToNode) if (n === zone.nid) split++;
    if (!split) split = this.cpuToNode.length;
    return Math.max(Math.floor(total / split), batch << 2);
  }

  /** zone_set_pageset_high_and_batch() for every zone: zone->pageset_* and each CPU's pcp. */
  zone_pcp_update_all(setZoneInts: (zone: Zone, highMin: number, highMax: number, batch: number) => void): void {
    for (const z of this.zones) {
      const batch = Math.max(1, this.zone_batchsize(z));
      const highMin = this.zoneHighsize(z, batch, 0);
      const highMax = this.zoneHighsize(z, batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
      setZoneInts(z, highMin, highMax, batch);
      for (const pcp of z.pcps) {
        pcp.arr[pcp.iBatch] = batch;
        pcp.arr[pcp.iHighMin] = highMin;
        pcp.arr[pcp.iHighMax] = highMax;
      }
    }
  }
}
