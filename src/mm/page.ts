/*
 * struct page: one descriptor per physical page frame (include/linux/mm_types.h,
 * include/linux/page-flags.h), stored in simulated memory.
 *
 *   x86_64 (64 bytes)                         i386 (32 bytes)
 *   +0  flags          unsigned long          +0  flags
 *   +8  lru.next       \ buddy_list,          +4  lru.next
 *   +16 lru.prev       / pcp_list, slab_list  +8  lru.prev
 *   +24 mapping                               +12 mapping
 *   +32 index                                 +16 index
 *   +40 private        buddy order            +20 private
 *   +48 page_type / _mapcount                 +24 page_type / _mapcount
 *   +52 _refcount                             +28 _refcount
 *   +56 memcg_data
 *
 * flags: PG_* bits from bit 0 up; the zone and node numbers sit in the top
 * bits (page-flags-layout.h). x86_64: node in bits 63..58, zone in 57..55.
 * i386 (SPARSEMEM without vmemmap): section in bits 31..26, zone in 25..24.
 *
 * page_type shares its word with _mapcount: UINT_MAX (-1) means "no type";
 * a typed page holds PGTY_* << 24 (PGTY_buddy for a free block's head page,
 * PGTY_slab for a slab, PGTY_table for a page table).
 *
 * Compound pages (__GFP_COMP): the head has PG_head; every tail page holds
 * compound_head = head address | 1 in lru.next; the first tail page keeps
 * the order in the low byte of its flags (folio->_flags_1).
 *
 * This file gives the field offsets and the flag numbers. Where a struct page
 * lives (the memmap of each memory section) is sparse.ts's business.
 */
import type { ArchLayout } from '../arch/x86/layout.ts';

/* enum pageflags (6.12) */
export const PG_locked = 0;
export const PG_writeback = 1;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_head = 6;
export const PG_waiters = 7;
export const PG_active = 8;
export const PG_workingset = 9;
export const PG_owner_priv_1 = 10;
export const PG_owner_2 = 11;
export const PG_arch_1 = 12;
export const PG_reserved = 13;
export const PG_private = 14;
export const PG_private_2 = 15;
export const PG_reclaim = 16;
export const PG_swapbacked = 17;
export const PG_unevictable = 18;
export const PG_mlocked = 19;
export const __NR_PAGEFLAGS = 20;

/** Names as %pGp prints them (include/trace/events/mmflags.h __def_pageflag_names). */
export const PAGEFLAG_NAMES: readonly string[] = [
  'locked', 'writeback', 'referenced', 'uptodate', 'dirty', 'lru', 'head', 'waiters',
  'active', 'workingset', 'owner_priv_1', 'owner_2', 'arch_1', 'reserved', 'private',
  'private_2', 'reclaim', 'swapbacked', 'unevictable', 'mlocked',
];

/* enum pagetype: the top byte of page_type */
export const PGTY_buddy = 0xf0;
export const PGTY_offline = 0xf1;
export const PGTY_table = 0xf2;
export const PGTY_guard = 0xf3;
export const PGTY_slab = 0xf5;
/** page_type of an untyped page (UINT_MAX; _mapcount -1). */
export const PAGE_TYPE_NONE = -1;

/** Byte offsets of struct page's fields for one architecture. */
export interface PageLayout {
  readonly size: number;
  readonly flags: number;
  readonly lru: number;
  readonly mapping: number;
  readonly index: number;
  readonly private: number;
  readonly page_type: number;
  readonly _refcount: number;
  /** 32-bit word that holds the zone and node (or section) bits. */
  readonly zoneWord: number;
  readonly zoneShift: number;
  readonly zoneMask: number;
  readonly nodeShift: number;
  readonly nodeMask: number;
}

export function pageLayout(layout: ArchLayout): PageLayout {
  if (layout.ptrSize === 8) {
    return {
      size: 64, flags: 0, lru: 8, mapping: 24, index: 32, private: 40, page_type: 48, _refcount: 52,
      zoneWord: 4, zoneShift: 23, zoneMask: 7, nodeShift: 26, nodeMask: 63,
    };
  }
  return {
    size: 32, flags: 0, lru: 4, mapping: 12, index: 16, private: 20, page_type: 24, _refcount: 28,
    zoneWord: 0, zoneShift: 24, zoneMask: 3, nodeShift: 32, nodeMask: 0,
  };
}

/** Where struct pages live: implemented by Sparse. */
export interface MemmapLocator {
  pfn_valid(pfn: number): boolean;
  arr(pfn: number): Int32Array;
  word(pfn: number): number;
  page_to_virt(pfn: number): number;
  page_to_pfn(page: number): number;
  virt_to_pfn_of_page(va: number): number;
}

/**
 * Accessors for struct page fields, by pfn (include/linux/page-flags.h,
 * page_ref.h, mm.h). All reads and writes go to the memmap in simulated
 * memory; nothing is cached.
 */
export class Pages {
  private readonly wFlags: number;
  private readonly wZone: number;
  private readonly wPrivate: number;
  private readonly wType: number;
  private readonly wRef: number;
  private readonly wLruNext: number;
  private readonly wMapping: number;
  private readonly wIndex: number;
  private readonly words: number;
  readonly lruOffset: number;

  constructor(readonly loc: MemmapLocator, readonly pl: PageLayout) {
    this.wFlags = pl.flags >> 2;
    this.wZone = pl.zoneWord >> 2;
    this.wPrivate = pl.private >> 2;
    this.wType = pl.page_type >> 2;
    this.wRef = pl._refcount >> 2;
    this.wLruNext = pl.lru >> 2;
    this.wMapping = pl.mapping >> 2;
    this.wIndex = pl.index >> 2;
    this.words = pl.size >> 2;
    this.lruOffset = pl.lru;
  }

  /** struct page * of pfn. */
  pfn_to_page(pfn: number): number {
    return this.loc.page_to_virt(pfn);
  }

  /** pfn of a struct page *, or -1 if it is not one. */
  page_to_pfn(page: number): number {
    return this.loc.page_to_pfn(page);
  }

  /** pfn of the page whose lru list_head is at `lru`. */
  pfnOfLru(lru: number): number {
    return this.loc.virt_to_pfn_of_page(lru - this.lruOffset);
  }

  lru(pfn: number): number {
    return this.loc.page_to_virt(pfn) + this.lruOffset;
  }

  /** Low 32 bits of page->flags: the PG_* bits. */
  flags(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wFlags];
  }

  testFlag(pfn: number, bit: number): boolean {
    return (this.flags(pfn) & (1 << bit)) !== 0;
  }

  setFlag(pfn: number, bit: number): void {
    this.loc.arr(pfn)[this.loc.word(pfn) + this.wFlags] |= 1 << bit;
  }

  clearFlag(pfn: number, bit: number): void {
    this.loc.arr(pfn)[this.loc.word(pfn) + this.wFlags] &= ~(1 << bit);
  }

  page_zonenum(pfn: number): number {
    return (this.loc.arr(pfn)[this.loc.word(pfn) + this.wZone] >>> this.pl.zoneShift) & this.pl.zoneMask;
  }

  page_to_nid(pfn: number): number {
    if (this.pl.nodeMask === 0) return 0;
    return (this.loc.arr(pfn)[this.loc.word(pfn) + this.wZone] >>> this.pl.nodeShift) & this.pl.nodeMask;
  }

  /** __init_single_page(): zero the descriptor, then zone/node links, refcount 1, no mapcount. */
  init_single_page(pfn: number, zone: number, nid: number): void {
    const a = this.loc.arr(pfn);
    const w = this.loc.word(pfn);
    a.fill(0, w, w + this.words);
    let link = (zone & this.pl.zoneMask) << this.pl.zoneShift;
    if (this.pl.nodeMask !== 0) link |= (nid & this.pl.nodeMask) << this.pl.nodeShift;
    a[w + this.wZone] |= link;
    a[w + this.wType] = PAGE_TYPE_NONE;
    a[w + this.wRef] = 1;
    // lru points to itself (INIT_LIST_HEAD(&page->lru))
    const lru = this.lru(pfn);
    this.writeLruPtr(a, w + this.wLruNext, lru);
    this.writeLruPtr(a, w + this.wLruNext + (this.pl.size === 64 ? 2 : 1), lru);
  }

  private writeLruPtr(a: Int32Array, i: number, v: number): void {
    if (this.pl.size === 32) {
      a[i] = v | 0;
      return;
    }
    const hi = Math.floor(v / 4294967296);
    a[i] = (v - hi * 4294967296) | 0;
    a[i + 1] = hi | 0xffff0000;
  }

  page_type(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wType];
  }

  /** PageBuddy(): page_type >> 24 == PGTY_buddy. */
  PageBuddy(pfn: number): boolean {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wType] >>> 24 === PGTY_buddy;
  }

  setType(pfn: number, type: number): void {
    this.loc.arr(pfn)[this.loc.word(pfn) + this.wType] = (type << 24) | 0;
  }

  clearType(pfn: number): void {
    this.loc.arr(pfn)[this.loc.word(pfn) + this.wType] = PAGE_TYPE_NONE;
  }

  /** _mapcount as the kernel reports it (page_mapcount: _mapcount + 1, for untyped pages). */
  mapcountRaw(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wType];
  }

  /** page->private (low 32 bits; buddy order and small values). */
  private_(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wPrivate];
  }

  setPrivate(pfn: number, v: number): void {
    const a = this.loc.arr(pfn);
    const w = this.loc.word(pfn) + this.wPrivate;
    a[w] = v;
    if (this.pl.size === 64) a[w + 1] = 0;
  }

  page_ref_count(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wRef];
  }

  set_page_count(pfn: number, v: number): void {
    this.loc.arr(pfn)[this.loc.word(pfn) + this.wRef] = v;
  }

  /** Low 32 bits of the first word after lru.next: compound_head | 1 on tail pages. */
  lruNextLo(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wLruNext];
  }

  /** page->mapping and page->index (low words; nonzero mapping makes a page "bad" at free). */
  mappingLo(pfn: number): number {
    const a = this.loc.arr(pfn);
    const w = this.loc.word(pfn) + this.wMapping;
    return this.pl.size === 64 ? a[w] | a[w + 1] : a[w];
  }

  indexLo(pfn: number): number {
    return this.loc.arr(pfn)[this.loc.word(pfn) + this.wIndex];
  }

  /** The raw 32-bit words of the descriptor, for dump_page's "raw:" lines. */
  rawWords(pfn: number): Int32Array {
    const w = this.loc.word(pfn);
    return this.loc.arr(pfn).subarray(w, w + this.words);
  }

  /** Tail page of a compound page: lru.next holds the head's address | 1. */
  PageTail(pfn: number): boolean {
    return (this.lruNextLo(pfn) & 1) !== 0;
  }

  set_compound_head(pfn: number, headPage: number): void {
    const a = this.loc.arr(pfn);
    this.writeLruPtr(a, this.loc.word(pfn) + this.wLruNext, headPage + 1);
  }

  clear_compound_head(pfn: number): void {
    this.writeLruPtr(this.loc.arr(pfn), this.loc.word(pfn) + this.wLruNext, this.lru(pfn));
  }

  /** Order of a compound page, kept in the first tail page's flags (folio->_flags_1 & 0xff). */
  compound_order(headPfn: number): number {
    if (!this.testFlag(headPfn, PG_head)) return 0;
    return this.flags(headPfn + 1) & 0xff;
  }

  set_compound_order(headPfn: number, order: number): void {
    const a = this.loc.arr(headPfn + 1);
    const w = this.loc.word(headPfn + 1) + this.wFlags;
    a[w] = (a[w] & ~0xff) | order;
  }
}
