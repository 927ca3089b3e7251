/*
 * Per-CPU page lists (mm/page_alloc.c, Linux 6.12: rmqueue_pcplist,
 * free_unref_page_commit, nr_pcp_alloc/high/free, rmqueue_bulk,
 * free_pcppages_bulk, drain_pages_zone).
 *
 * Orders 0..3 (and the THP order) are cached per CPU and per zone, one list
 * per order and pcp migratetype:
 *
 *   per_cpu_pages   lock count high high_min high_max batch flags alloc_factor expire free_count
 *     lists[0]  order 0 Unmovable    lists[1]  order 0 Movable    lists[2]  order 0 Reclaimable
 *     lists[3]  order 1 Unmovable    ...                          lists[11] order 3 Reclaimable
 *     lists[12] THP Unmovable+Reclaimable    lists[13] THP Movable   (x86_64)
 *
 * An allocation pops the head of its list; an empty list is refilled with
 * `batch` blocks (scaled by alloc_factor, which doubles while allocations
 * come without frees) from the buddy lists under the zone lock, in pfn
 * order. A free pushes on the head (hot; free_cold_page uses the tail) and,
 * once `count` reaches `high`, returns the oldest pages to the buddy lists.
 * `high` floats between high_min (the zone's low watermark split over the
 * node's CPUs) and high_max as 6.12 tunes it. Pages here are free but not
 * counted in NR_FREE_PAGES.
 *
 * Locks, as 6.12 takes them: pcp->lock around a CPU's lists, taken with
 * pcp_spin_trylock() by allocation and free (when it is busy, the caller
 * goes to the buddy lists: rmqueue_buddy() / free_one_page()), and with
 * spin_lock() by drain_pages_zone(), which any CPU may run on any CPU's
 * lists (drain_all_pages()). zone->lock (FreeArea.lock) is taken inside it
 * for each refill (rmqueue_bulk) and each return (free_pcppages_bulk).
 * Only the owning CPU otherwise touches its lists.
 */
import {
  MIGRATE_MOVABLE, MIGRATE_PCPTYPES, PAGE_ALLOC_COSTLY_ORDER, WMARK_HIGH, ZONE_BELOW_HIGH, ZONE_RECLAIM_ACTIVE,
  type ListHeadPlace, type Pcp, type Zone,
} from './mmzone.ts';
import type { Sparse } from './sparse.ts';
import type { PageLists } from './page_list.ts';
import type { FreeArea } from './free_area.ts';
import type { Watermarks } from './watermark.ts';
import type { PageAllocHooks } from './page_alloc.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';

export const PCPF_PREV_FREE_HIGH_ORDER = 1 << 0;
export const PCPF_FREE_HIGH_BATCH = 1 << 1;
export const CONFIG_PCP_BATCH_SCALE_MAX = 5;
export const HPAGE_PMD_ORDER = 9;
const NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);

export class PcpLists {
  constructor(
    private readonly sparse: Sparse,
    private readonly lists: PageLists,
    private readonly freeArea: FreeArea,
    private readonly wm: Watermarks,
    private readonly hooks: PageAllocHooks,
    /** NR_PCP_LISTS: 14 with THP lists (x86_64), 12 without. */
    private readonly nrLists: number,
    private readonly zoneMovable: number,
    private readonly locks: Spinlocks,
  ) {}

  /** pcp_allowed_order() */
  allowedOrder(order: number): boolean {
    return order <= PAGE_ALLOC_COSTLY_ORDER || (this.nrLists > NR_LOWORDER_PCP_LISTS && order === HPAGE_PMD_ORDER);
  }

  /** order_to_pindex() */
  pindex(mt: number, order: number): number {
    if (order > PAGE_ALLOC_COSTLY_ORDER) return NR_LOWORDER_PCP_LISTS + (mt === MIGRATE_MOVABLE ? 1 : 0);
    return MIGRATE_PCPTYPES * order + mt;
  }

  private pindexToOrder(pindex: number): number {
    return pindex >= NR_LOWORDER_PCP_LISTS ? HPAGE_PMD_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
  }

  private clampHigh(pcp: Pcp): number {
    const a = pcp.arr;
    const high = Math.min(Math.max(a[pcp.iHigh], a[pcp.iHighMin]), a[pcp.iHighMax]);
    a[pcp.iHigh] = high;
    return high;
  }

  /** nr_pcp_alloc(): how many blocks one refill brings. */
  private nrPcpAlloc(pcp: Pcp, zone: Zone, order: number): number {
    const a = pcp.arr;
    const baseBatch = a[pcp.iBatch];
    const highMin = a[pcp.iHighMin];
    const highMax = a[pcp.iHighMax];
    let high = this.clampHigh(pcp);
    if (high < baseBatch) return 1;
    const factor = pcp.u8[pcp.bAllocFactor];
    let batch = order ? baseBatch : baseBatch << factor;
    if (highMin !== highMax && !zone.testFlag(ZONE_BELOW_HIGH)) {
      high = Math.min(high + batch, highMax);
      a[pcp.iHigh] = high;
    }
    if (!order) {
      const maxNrAlloc = Math.max(high - a[pcp.iCount] - baseBatch, baseBatch);
      if (batch <= maxNrAlloc && factor < CONFIG_PCP_BATCH_SCALE_MAX) pcp.u8[pcp.bAllocFactor] = factor + 1;
      batch = Math.min(batch, maxNrAlloc);
    }
    if (batch > 1) batch = Math.max(batch >> order, 2);
    return batch;
  }

  /** nr_pcp_high() */
  private nrPcpHigh(pcp: Pcp, zone: Zone, batch: number, freeHigh: boolean): number {
    const a = pcp.arr;
    const highMin = a[pcp.iHighMin];
    const highMax = a[pcp.iHighMax];
    let high = this.clampHigh(pcp);
    if (!high) return 0;
    if (freeHigh) {
      a[pcp.iHigh] = Math.max(high - (batch << CONFIG_PCP_BATCH_SCALE_MAX), highMin);
      return 0;
    }
    if (zone.testFlag(ZONE_RECLAIM_ACTIVE)) {
      a[pcp.iHigh] = Math.max(high - Math.max(pcp.u16[pcp.hFreeCount], batch), highMin);
      return Math.min(batch << 2, a[pcp.iHigh]);
    }
    if (highMin === highMax) return high;
    if (zone.testFlag(ZONE_BELOW_HIGH)) {
      a[pcp.iHigh] = Math.max(high - Math.max(pcp.u16[pcp.hFreeCount], batch), highMin);
      high = Math.max(a[pcp.iCount], highMin);
    } else if (a[pcp.iCount] >= high) {
      const needHigh = pcp.u16[pcp.hFreeCount] + batch;
      if (a[pcp.iHigh] < needHigh) a[pcp.iHigh] = Math.min(Math.max(needHigh, highMin), highMax);
    }
    return high;
  }

  /** nr_pcp_free() */
  private nrPcpFree(pcp: Pcp, batch: number, high: number, freeHigh: boolean): number {
    if (freeHigh) return Math.min(pcp.arr[pcp.iCount], batch << CONFIG_PCP_BATCH_SCALE_MAX);
    if (high < batch) return 1;
    return Math.min(Math.max(pcp.u16[pcp.hFreeCount], batch), high - batch);
  }

  /** free_pcppages_bulk(): give `count` pages back to the buddy lists under zone->lock, round-robin over lists, oldest first. */
  private freePcppagesBulk(zone: Zone, count: number, pcp: Pcp, pindex: number): void {
    const a = pcp.arr;
    count = Math.min(a[pcp.iCount], count);
    if (count <= 0) return;
    const flags = this.freeArea.lock(zone);
    try {
      pindex--;
      while (count > 0) {
        let list;
        do {
          if (++pindex > this.nrLists - 1) pindex = 0;
          list = pcp.lists[pindex];
        } while (this.lists.empty(list));
        const order = this.pindexToOrder(pindex);
        const nr = 1 << order;
        do {
          const pfn = this.lists.last(list);
          const mt = this.sparse.get_pageblock_migratetype(pfn);
          this.lists.del(pfn);
          count -= nr;
          a[pcp.iCount] -= nr;
          this.freeArea.__free_one_page(pfn, zone, order, mt, false);
          this.hooks.mm_page_pcpu_drain?.(pfn, order, mt);
        } while (count > 0 && !this.lists.empty(list));
      }
    } finally {
      this.freeArea.unlock(zone, flags);
    }
  }

  /** rmqueue_bulk(): up to `count` blocks from the buddy lists onto a pcp list, under zone->lock. */
  private rmqueueBulk(zone: Zone, pcp: Pcp, list: ListHeadPlace, order: number, count: number, mt: number, allocFlags: number): void {
    const flags = this.freeArea.lock(zone);
    let got = 0;
    try {
      for (; got < count; got++) {
        const b = this.freeArea.rmqueue(zone, order, mt, allocFlags, true);
        if (b < 0) break;
        this.lists.add(b, list, true);
      }
    } finally {
      pcp.arr[pcp.iCount] += got << order;
      this.freeArea.unlock(zone, flags);
    }
  }

  /**
   * rmqueue_pcplist(): pcp_spin_trylock() this CPU's lists, pop the head of
   * the list (refilled first if empty). -1 if the lock is busy or the buddy
   * lists have nothing: the caller goes to rmqueue_buddy().
   */
  rmqueue(zone: Zone, cpu: number, order: number, mt: number, allocFlags: number): number {
    const pcp = zone.pcps[cpu];
    if (!this.locks.spin_trylock(pcp.lockPa)) return -1;
    try {
      pcp.u16[pcp.hFreeCount] >>= 1;
      const list = pcp.lists[this.pindex(mt, order)];
      let pfn = this.lists.first(list);
      if (pfn < 0) {
        this.rmqueueBulk(zone, pcp, list, order, this.nrPcpAlloc(pcp, zone, order), mt, allocFlags);
        pfn = this.lists.first(list);
        if (pfn < 0) return -1;
      }
      this.lists.delFirst(list, pfn);
      pcp.arr[pcp.iCount] -= 1 << order;
      return pfn;
    } finally {
      this.locks.spin_unlock(pcp.lockPa);
    }
  }

  /**
   * free_unref_page(): pcp_spin_trylock() this CPU's lists and commit the
   * block to them. false if the lock is busy: the caller frees to the buddy
   * lists (free_one_page()).
   */
  free(zone: Zone, cpu: number, pfn: number, mt: number, order: number, cold: boolean): boolean {
    const pcp = zone.pcps[cpu];
    if (!this.locks.spin_trylock(pcp.lockPa)) return false;
    try {
      this.commit(zone, pcp, pfn, mt, order, cold);
    } finally {
      this.locks.spin_unlock(pcp.lockPa);
    }
    return true;
  }

  /** free_unref_page_commit(), pcp->lock held: onto the list (the tail if cold); give back a batch if over high. */
  commit(zone: Zone, pcp: Pcp, pfn: number, mt: number, order: number, cold: boolean): void {
    this.lists.add(pfn, pcp.lists[this.pindex(mt, order)], cold);
    this.afterAdd(zone, pcp, mt, order);
  }

  /** The rest of free_unref_page_commit(), once the block is on the list. */
  afterAdd(zone: Zone, pcp: Pcp, mt: number, order: number): void {
    const a = pcp.arr;
    pcp.u8[pcp.bAllocFactor] >>= 1;
    const pindex = this.pindex(mt, order);
    a[pcp.iCount] += 1 << order;
    const batch = a[pcp.iBatch];
    let freeHigh = false;
    let flags = pcp.u8[pcp.bFlags];
    if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
      freeHigh = pcp.u16[pcp.hFreeCount] >= batch && (flags & PCPF_PREV_FREE_HIGH_ORDER) !== 0 &&
        (!(flags & PCPF_FREE_HIGH_BATCH) || a[pcp.iCount] >= batch);
      flags |= PCPF_PREV_FREE_HIGH_ORDER;
    } else {
      flags &= ~PCPF_PREV_FREE_HIGH_ORDER;
    }
    pcp.u8[pcp.bFlags] = flags;
    if (pcp.u16[pcp.hFreeCount] < batch << CONFIG_PCP_BATCH_SCALE_MAX) pcp.u16[pcp.hFreeCount] += 1 << order;
    const high = this.nrPcpHigh(pcp, zone, batch, freeHigh);
    if (a[pcp.iCount] >= high) {
      this.freePcppagesBulk(zone, this.nrPcpFree(pcp, batch, high, freeHigh), pcp, pindex);
      if (zone.testFlag(ZONE_BELOW_HIGH) && this.wm.zone_watermark_ok(zone, 0, zone.wmark(WMARK_HIGH), this.zoneMovable, 0)) {
        zone.setFlag(ZONE_BELOW_HIGH, false);
      }
    }
  }

  /**
   * drain_pages_zone(): empty one CPU's lists of a zone, under that pcp's
   * lock, a bounded batch (batch << CONFIG_PCP_BATCH_SCALE_MAX) per hold.
   * Any CPU may drain any CPU's lists.
   */
  drain(zone: Zone, cpu: number): void {
    const pcp = zone.pcps[cpu];
    let count;
    do {
      this.locks.spin_lock(pcp.lockPa);
      try {
        count = pcp.arr[pcp.iCount];
        if (count) {
          const toDrain = Math.min(count, pcp.arr[pcp.iBatch] << CONFIG_PCP_BATCH_SCALE_MAX);
          this.freePcppagesBulk(zone, toDrain, pcp, 0);
          count -= toDrain;
        }
      } finally {
        this.locks.spin_unlock(pcp.lockPa);
      }
    } while (count);
  }

  /** The pfns on one CPU's list for (migratetype, order), head first. */
  listPfns(zone: Zone, cpu: number, mt: number, order: number): number[] {
    const out: number[] = [];
    this.lists.forEach(zone.pcps[cpu].lists[this.pindex(mt, order)], (pfn) => out.push(pfn));
    return out;
  }
}
