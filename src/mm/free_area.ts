/*
 * The buddy free lists of a zone (mm/page_alloc.c: __free_one_page, expand,
 * __rmqueue_smallest, __rmqueue_claim, __rmqueue_steal, move_freepages_block).
 *
 * Every zone keeps free memory as naturally aligned blocks of 2^order pages,
 * order 0..MAX_PAGE_ORDER, on per-order, per-migratetype lists. A block's
 * "buddy" is the block of the same order it would merge with: the one at
 * pfn ^ (1 << order).
 *
 *   order 2 block at pfn 8:  [8 9 10 11]   buddy: [12 13 14 15]
 *   both free -> merge into the order-3 block [8 .. 15], and so on upward.
 *
 * Invariants (6.12):
 *  - only a free block's first page is on a list; it has page_type
 *    PGTY_buddy and page->private = order;
 *  - a block is on the list of its pageblock's migratetype;
 *  - free_area[order].nr_free counts blocks, the zone's NR_FREE_PAGES pages
 *    (isolated pageblocks excepted).
 *
 * Allocation takes the first block of the smallest order that has one, and
 * expand() puts back the upper halves while splitting it down. When the
 * wanted migratetype has nothing, __rmqueue_claim steals the largest block
 * of a fallback type, claiming the whole pageblock when enough of it is free
 * or alike; __rmqueue_steal takes the smallest one without claiming.
 *
 * Callers hold zone->lock (taken in page_alloc.ts and pcp.ts). NR_FREE_PAGES
 * changes through this CPU's counter diff (__mod_zone_freepage_state).
 */
import {
  MAX_PAGE_ORDER, NR_PAGE_ORDERS, MIGRATE_PCPTYPES, MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE, MIGRATE_ISOLATE, NR_FREE_PAGES, WMARK_HIGH, ZONE_BOOSTED_WATERMARK, type Zone,
} from './mmzone.ts';
import { ALLOC_KSWAPD, ALLOC_NOFRAGMENT } from '../include/linux/gfp.ts';
import { PGTY_buddy, type Pages } from './page.ts';
import type { Sparse } from './sparse.ts';
import type { PageLists } from './page_list.ts';
import type { PageAllocGlobals } from './page_alloc_globals.ts';
import type { PageAllocHooks } from './page_alloc.ts';
import type { VmCounters } from './vmstat_percpu.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';

/** fallbacks[] of 6.12: the migratetypes to steal from, in order. */
const FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];

const WATERMARK_BOOST_FACTOR = 15000;

export class FreeArea {
  private readonly pageblock_order: number;
  private readonly pageblock_nr_pages: number;

  constructor(
    private readonly p: Pages,
    private readonly sparse: Sparse,
    private readonly lists: PageLists,
    private readonly globals: PageAllocGlobals,
    private readonly hooks: PageAllocHooks,
    private readonly counters: VmCounters,
    private readonly locks: Spinlocks,
    /** pcp_allowed_order(), for the mm_page_alloc_zone_locked trace's percpu_refill. */
    private readonly pcpAllowedOrder: (order: number) => boolean,
  ) {
    this.pageblock_order = sparse.pageblockOrder;
    this.pageblock_nr_pages = 1 << sparse.pageblockOrder;
  }

  /**
   * spin_lock_irqsave(&zone->lock, flags). When taking it backs out (kmem's
   * report of a deadlock or soft lockup), the interrupt state is restored
   * before the report goes on up.
   */
  lock(zone: Zone): number {
    return this.locks.spin_lock_irqsave(zone.lockPa);
  }

  /** spin_unlock_irqrestore(&zone->lock, flags) */
  unlock(zone: Zone, flags: number): void {
    this.locks.spin_unlock_irqrestore(zone.lockPa, flags);
  }

  private add(pfn: number, zone: Zone, order: number, mt: number, tail: boolean): void {
    this.lists.add(pfn, zone.freeList(order, mt), tail);
    zone.setNrFree(order, zone.nrFree(order) + 1);
    if (mt !== MIGRATE_ISOLATE) this.counters.__mod_zone_page_state(zone, NR_FREE_PAGES, 1 << order);
  }

  private del(pfn: number, zone: Zone, order: number, mt: number): void {
    this.lists.del(pfn);
    this.p.clearType(pfn);
    this.p.setPrivate(pfn, 0);
    zone.setNrFree(order, zone.nrFree(order) - 1);
    if (mt !== MIGRATE_ISOLATE) this.counters.__mod_zone_page_state(zone, NR_FREE_PAGES, -(1 << order));
  }

  private setBuddyOrder(pfn: number, order: number): void {
    this.p.setPrivate(pfn, order);
    this.p.setType(pfn, PGTY_buddy);
  }

  /** page_is_buddy(): buddyPfn heads a free block of exactly `order` in pfn's zone. */
  private isBuddy(pfn: number, buddyPfn: number, order: number): boolean {
    if (!this.sparse.pfn_valid(buddyPfn)) return false;
    if (!this.p.PageBuddy(buddyPfn) || this.p.private_(buddyPfn) !== order) return false;
    return this.p.page_zonenum(buddyPfn) === this.p.page_zonenum(pfn) && this.p.page_to_nid(buddyPfn) === this.p.page_to_nid(pfn);
  }

  /** buddy_merge_likely(): will the merged block merge again soon? Then it goes to the tail. */
  private buddyMergeLikely(pfn: number, buddyPfn: number, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false;
    const higher = buddyPfn & pfn;
    return this.isBuddy(higher, higher ^ (1 << (order + 1)), order + 1);
  }

  /** __free_one_page(): put a block back, merging with free buddies as far as possible. */
  __free_one_page(pfn: number, zone: Zone, order: number, mt: number, toTail: boolean): void {
    let buddyPfn = pfn;
    while (order < MAX_PAGE_ORDER) {
      buddyPfn = pfn ^ (1 << order);
      if (!this.isBuddy(pfn, buddyPfn, order)) break;
      const buddyMt = this.sparse.get_pageblock_migratetype(buddyPfn);
      if (order >= this.pageblock_order && mt !== buddyMt && (mt >= MIGRATE_PCPTYPES || buddyMt >= MIGRATE_PCPTYPES)) break;
      this.del(buddyPfn, zone, order, buddyMt);
      if (buddyMt !== mt) this.sparse.set_pageblock_migratetype(buddyPfn, mt);
      pfn &= buddyPfn;
      order++;
    }
    this.setBuddyOrder(pfn, order);
    this.add(pfn, zone, order, mt, toTail || this.buddyMergeLikely(pfn, buddyPfn, order));
  }

  /** expand(): split a block of order `high` down to `low`, freeing the upper halves. */
  private expand(zone: Zone, pfn: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      this.add(pfn + size, zone, high, mt, false);
      this.setBuddyOrder(pfn + size, high);
    }
  }

  /** __rmqueue_smallest(): the smallest free block of migratetype mt that fits. */
  rmqueueSmallest(zone: Zone, order: number, mt: number, percpuRefill: boolean): number {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const pfn = this.lists.first(zone.freeList(o, mt));
      if (pfn < 0) continue;
      this.del(pfn, zone, o, mt);
      this.expand(zone, pfn, order, o, mt);
      this.hooks.mm_page_alloc_zone_locked?.(pfn, order, mt, percpuRefill && this.pcpAllowedOrder(order) && mt < MIGRATE_PCPTYPES);
      return pfn;
    }
    return -1;
  }

  private canStealFallback(order: number, startMt: number): boolean {
    if (order >= this.pageblock_order) return true;
    return order >= this.pageblock_order / 2 || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE ||
      this.globals.page_group_by_mobility_disabled;
  }

  /** find_suitable_fallback(): the first fallback type with a block at this order, or -1. */
  private findFallback(zone: Zone, order: number, mt: number): number {
    if (zone.nrFree(order) === 0) return -1;
    for (const f of FALLBACKS[mt]) if (!this.lists.empty(zone.freeList(order, f))) return f;
    return -1;
  }

  /** move_freepages_block(): every free block of a pageblock onto another type's lists. */
  private moveFreepagesBlock(zone: Zone, startPfn: number, newMt: number): void {
    const end = startPfn + this.pageblock_nr_pages;
    for (let pfn = startPfn; pfn < end;) {
      if (this.p.PageBuddy(pfn)) {
        const order = this.p.private_(pfn);
        this.lists.del(pfn);
        this.lists.add(pfn, zone.freeList(order, newMt), true);
        pfn += 1 << order;
      } else {
        pfn++;
      }
    }
    this.sparse.set_pageblock_migratetype(startPfn, newMt);
  }

  /** Free pages of the pageblock starting at startPfn (prep_move_freepages_block's free_pages). */
  private countBlockFree(startPfn: number): number {
    let free = 0;
    const end = startPfn + this.pageblock_nr_pages;
    for (let pfn = startPfn; pfn < end;) {
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

  /** boost_watermark(): raise the marks after a fragmenting fallback, so kswapd makes room. */
  private boostWatermark(zone: Zone): boolean {
    if (this.pageblock_nr_pages * 4 > zone.managed()) return false;
    let maxBoost = Math.floor((zone.get(zone.iWatermark + WMARK_HIGH * zone.lw) * WATERMARK_BOOST_FACTOR) / 10000);
    if (!maxBoost) return false;
    maxBoost = Math.max(this.pageblock_nr_pages, maxBoost);
    zone.set(zone.iBoost, Math.min(zone.get(zone.iBoost) + this.pageblock_nr_pages, maxBoost));
    return true;
  }

  /** try_to_steal_block() */
  private tryToStealBlock(zone: Zone, pfn: number, currentOrder: number, order: number, startMt: number, allocFlags: number): number {
    const blockMt = this.sparse.get_pageblock_migratetype(pfn);
    if (blockMt === MIGRATE_HIGHATOMIC) return -1;
    if (currentOrder >= this.pageblock_order) {
      this.del(pfn, zone, currentOrder, blockMt);
      for (let b = pfn; b < pfn + (1 << currentOrder); b += this.pageblock_nr_pages) this.sparse.set_pageblock_migratetype(b, startMt);
      this.expand(zone, pfn, order, currentOrder, startMt);
      return pfn;
    }
    if (this.boostWatermark(zone) && (allocFlags & ALLOC_KSWAPD)) zone.setFlag(ZONE_BOOSTED_WATERMARK, true);
    const start = pfn & ~(this.pageblock_nr_pages - 1);
    if (!zone.spans(start) || !zone.spans(start + this.pageblock_nr_pages - 1)) return -1;
    const free = this.countBlockFree(start);
    // movable_pages counts LRU and __PageMovable pages; kmem has none yet, so it is 0.
    let alike = 0;
    if (startMt !== MIGRATE_MOVABLE && blockMt === MIGRATE_MOVABLE) alike = this.pageblock_nr_pages - free;
    if (free + alike >= 1 << (this.pageblock_order - 1) || this.globals.page_group_by_mobility_disabled) {
      this.moveFreepagesBlock(zone, start, startMt);
      return this.rmqueueSmallest(zone, order, startMt, false);
    }
    return -1;
  }

  /** __rmqueue_claim(): steal the largest fallback block, claiming its pageblock when it can. */
  private rmqueueClaim(zone: Zone, order: number, startMt: number, allocFlags: number): number {
    const minOrder = order < this.pageblock_order && (allocFlags & ALLOC_NOFRAGMENT) ? this.pageblock_order : order;
    for (let o = MAX_PAGE_ORDER; o >= minOrder; o--) {
      const f = this.findFallback(zone, o, startMt);
      if (f < 0) continue;
      if (!this.canStealFallback(o, startMt)) break;
      const got = this.tryToStealBlock(zone, this.lists.first(zone.freeList(o, f)), o, order, startMt, allocFlags);
      if (got >= 0) {
        this.hooks.mm_page_alloc_extfrag?.(got, order, o, startMt, f, this.sparse.get_pageblock_migratetype(got) === startMt);
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
      const pfn = this.lists.first(zone.freeList(o, f));
      this.del(pfn, zone, o, f);
      this.expand(zone, pfn, order, o, f);
      this.hooks.mm_page_alloc_extfrag?.(pfn, order, o, startMt, f, false);
      return pfn;
    }
    return -1;
  }

  /** __rmqueue(): the wanted type first, then claim, then steal. */
  rmqueue(zone: Zone, order: number, mt: number, allocFlags: number, percpuRefill: boolean): number {
    let pfn = this.rmqueueSmallest(zone, order, mt, percpuRefill);
    if (pfn >= 0) return pfn;
    pfn = this.rmqueueClaim(zone, order, mt, allocFlags);
    if (pfn >= 0) return pfn;
    if (!(allocFlags & ALLOC_NOFRAGMENT)) pfn = this.rmqueueSteal(zone, order, mt);
    return pfn;
  }
}
