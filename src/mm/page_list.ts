/*
 * Lists of struct page threaded through page->lru: the buddy free lists and
 * the per-CPU page lists (mm/page_alloc.c uses list_add, list_add_tail,
 * list_del and list_first_entry/list_last_entry on &page->buddy_list and
 * &page->pcp_list).
 *
 * The bytes are exactly lib/list.ts's struct list_head: next at +0, prev at
 * +ptrSize, kernel virtual addresses, LIST_POISON1/2 after list_del. This
 * file open-codes those operations for the allocator's hot paths: a page is
 * named by its pfn, a list head by its address and the typed array holding
 * it. A pointer is handled as its words (lo, hi on x86_64): list_del and
 * list_add copy the words they move, and only the pointers they follow are
 * turned into a place in memory, by arithmetic:
 *
 *   x86_64  VMEMMAP_START <= p       -> struct page of pfn (p - VMEMMAP_START) / 64
 *           otherwise (a list head)  -> direct map: physical p - PAGE_OFFSET
 *   i386    every pointer            -> direct map (struct pages live in lowmem)
 *
 * Nothing here allocates: the last decoded place is left in `arr`/`w`, the
 * words of the last entry pointer made in `elo`/`ehi`.
 */
import { HOST_SECTION_SHIFT, HOST_SECTION_SIZE, sectionOffset, type PhysMem } from '../machine/memory.ts';
import { ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';
import type { PageLayout } from './page.ts';
import type { Sparse } from './sparse.ts';

const TWO32 = 4294967296;
/** LIST_POISON1 / LIST_POISON2 (0xdead000000000100 / ...122 on x86_64, 0x100 / 0x122 on i386), as words. */
export const POISON1_LO = 0x100;
export const POISON2_LO = 0x122;
export const POISON_HI = 0xdead0000 | 0;

/** A list head: its kernel virtual address and where its two words live. */
export interface ListHead {
  readonly va: number;
  readonly arr: Int32Array;
  /** Word index of head.next in arr. */
  readonly w: number;
}

export class PageLists {
  private readonly is64: boolean;
  private readonly vmemmap: number;
  /** The high word of a struct page pointer at VMEMMAP_START (whose low word is 0). */
  private readonly vmemmapHi: number;
  private readonly pageOffset: number;
  private readonly pageSize: number;
  /** Words from the start of struct page to lru.next, and from next to prev. */
  private readonly lruWord: number;
  private readonly prevWords: number;
  private readonly lruOffset: number;
  /** The place the last decode() found. */
  private arr: Int32Array;
  private w = 0;
  /** The words of the last entryWords() pointer. */
  private elo = 0;
  private ehi = 0;
  /**
   * x86_64 with 64-byte struct pages: a page pointer whose high word is
   * vmemmapHi is decoded with integer operations alone, pfn = lo >>> 6
   * (pfns below 2^26, 256 GiB of RAM); -1 where that does not apply.
   */
  readonly intHi: number;
  /** The high word of PAGE_OFFSET (x86_64, whose low word is 0): direct-map pointers decode with integers too. */
  private readonly directHi: number;

  constructor(private readonly mem: PhysMem, private readonly sparse: Sparse, pl: PageLayout, layout: ArchLayout) {
    this.is64 = layout.ptrSize === 8;
    this.vmemmap = layout.VMEMMAP_START;
    this.pageOffset = layout.PAGE_OFFSET;
    this.pageSize = pl.size;
    this.lruOffset = pl.lru;
    this.lruWord = pl.lru >> 2;
    this.prevWords = layout.ptrSize >> 2;
    this.arr = mem.i32[0];
    this.vmemmapHi = this.is64 ? ptr64HiWord(this.vmemmap) : 0;
    if (this.is64 && ptr64LoWord(this.vmemmap) !== 0) throw new Error('page_list: VMEMMAP_START must be 4 GiB aligned');
    this.intHi = this.is64 && pl.size === 64 && pl.lru < 64 ? this.vmemmapHi : -1;
    this.directHi = this.is64 && ptr64LoWord(this.pageOffset) === 0 ? ptr64HiWord(this.pageOffset) : -1;
  }

  /** A ListHead for the list_head at physical address pa. */
  head(pa: number): ListHead {
    return { va: pa + this.pageOffset, arr: this.mem.i32At(pa), w: sectionOffset(pa) >>> 2 };
  }

  /** &page->lru of pfn. */
  lruVa(pfn: number): number {
    return this.sparse.page_to_virt(pfn) + this.lruOffset;
  }

  /** pfn of the page whose &page->lru is va. */
  pfnOfLru(va: number): number {
    if (this.vmemmap !== 0) return Math.floor((va - this.vmemmap) / this.pageSize);
    return this.sparse.virt_to_pfn_of_page(va - this.lruOffset);
  }

  /** The pointer at word w of arr, as a number (x86_64: the 48-bit form ptr64FromWords gives). */
  private read(arr: Int32Array, w: number): number {
    return this.is64 ? ptr64FromWords(arr[w], arr[w + 1]) : arr[w] >>> 0;
  }

  /** Point arr/w at the list_head the pointer with words (lo, hi) points to. */
  private decode(lo: number, hi: number): void {
    if (hi === this.intHi) {
      const pfn = lo >>> 6;
      this.arr = this.sparse.arr(pfn);
      this.w = this.sparse.word(pfn) + this.lruWord;
      return;
    }
    // A list head in the direct map below 64 x 4 GiB: physical address (hi - directHi, lo).
    const rel = (hi - this.directHi) | 0;
    if (this.directHi !== -1 && rel >= 0 && rel < 64) {
      this.arr = this.mem.i32[rel * (TWO32 / HOST_SECTION_SIZE) + (lo >>> HOST_SECTION_SHIFT)];
      this.w = (lo & (HOST_SECTION_SIZE - 1)) >>> 2;
      return;
    }
    const va = this.is64 ? (hi & 0xffff) * TWO32 + (lo >>> 0) : lo >>> 0;
    if (this.vmemmap !== 0 && va >= this.vmemmap) {
      const pfn = Math.floor((va - this.vmemmap) / this.pageSize);
      this.arr = this.sparse.arr(pfn);
      this.w = this.sparse.word(pfn) + this.lruWord;
      return;
    }
    const pa = va - this.pageOffset;
    const s = Math.floor(pa / HOST_SECTION_SIZE);
    this.arr = this.mem.i32[s];
    this.w = (pa - s * HOST_SECTION_SIZE) >>> 2;
  }

  /** The words of &page->lru of pfn (x86_64), into elo/ehi. */
  private entryWords(pfn: number): void {
    if (this.intHi !== -1 && pfn < 1 << 26) {
      this.elo = (pfn << 6) | this.lruOffset;
      this.ehi = this.intHi;
      return;
    }
    const off = pfn * this.pageSize + this.lruOffset;
    const hi = Math.floor(off / TWO32);
    this.elo = (off - hi * TWO32) | 0;
    this.ehi = (this.vmemmapHi + hi) | 0;
  }

  /** INIT_LIST_HEAD() */
  init(h: ListHead): void {
    const p = this.prevWords;
    if (this.is64) {
      h.arr[h.w] = h.arr[h.w + p] = ptr64LoWord(h.va);
      h.arr[h.w + 1] = h.arr[h.w + p + 1] = ptr64HiWord(h.va);
    } else {
      h.arr[h.w] = h.arr[h.w + p] = h.va | 0;
    }
  }

  empty(h: ListHead): boolean {
    return this.read(h.arr, h.w) === h.va;
  }

  /** list_first_entry(): pfn of the first page, or -1 if the list is empty. */
  first(h: ListHead): number {
    if (this.intHi !== -1 && h.arr[h.w + 1] === this.intHi) return h.arr[h.w] >>> 6;
    const next = this.read(h.arr, h.w);
    return next === h.va ? -1 : this.pfnOfLru(next);
  }

  /** list_last_entry(): pfn of the last page, or -1. */
  last(h: ListHead): number {
    const p = this.prevWords;
    if (this.intHi !== -1 && h.arr[h.w + p + 1] === this.intHi) return h.arr[h.w + p] >>> 6;
    const prev = this.read(h.arr, h.w + this.prevWords);
    return prev === h.va ? -1 : this.pfnOfLru(prev);
  }

  /** list_add() (at the head) or list_add_tail(). */
  add(pfn: number, h: ListHead, tail: boolean): void {
    if (!this.is64) {
      this.add32(pfn, h, tail);
      return;
    }
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const ha = h.arr;
    const hw = h.w;
    this.entryWords(pfn);
    const elo = this.elo;
    const ehi = this.ehi;
    if (tail) {
      // prev = head->prev; head->prev = entry; prev->next = entry (prev->next held head's words)
      const plo = ha[hw + 2];
      const phi = ha[hw + 3];
      ha[hw + 2] = elo;
      ha[hw + 3] = ehi;
      this.decode(plo, phi);
      ea[ew] = this.arr[this.w];
      ea[ew + 1] = this.arr[this.w + 1];
      this.arr[this.w] = elo;
      this.arr[this.w + 1] = ehi;
      ea[ew + 2] = plo;
      ea[ew + 3] = phi;
    } else {
      // next = head->next; head->next = entry; next->prev = entry (next->prev held head's words)
      const nlo = ha[hw];
      const nhi = ha[hw + 1];
      ha[hw] = elo;
      ha[hw + 1] = ehi;
      this.decode(nlo, nhi);
      ea[ew + 2] = this.arr[this.w + 2];
      ea[ew + 3] = this.arr[this.w + 3];
      this.arr[this.w + 2] = elo;
      this.arr[this.w + 3] = ehi;
      ea[ew] = nlo;
      ea[ew + 1] = nhi;
    }
  }

  /** add() with 32-bit pointers (i386). */
  private add32(pfn: number, h: ListHead, tail: boolean): void {
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const ha = h.arr;
    const hw = h.w;
    const e = this.lruVa(pfn) | 0;
    if (tail) {
      const prev = ha[hw + 1];
      ha[hw + 1] = e;
      this.decode(prev, 0);
      ea[ew] = this.arr[this.w];
      this.arr[this.w] = e;
      ea[ew + 1] = prev;
    } else {
      const next = ha[hw];
      ha[hw] = e;
      this.decode(next, 0);
      ea[ew + 1] = this.arr[this.w + 1];
      this.arr[this.w + 1] = e;
      ea[ew] = next;
    }
  }

  /** list_del() of h's first entry, pfn: its prev is h itself, so one pointer fewer to follow. */
  delFirst(h: ListHead, pfn: number): void {
    if (!this.is64) {
      this.del(pfn);
      return;
    }
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const nlo = ea[ew];
    const nhi = ea[ew + 1];
    h.arr[h.w] = nlo;
    h.arr[h.w + 1] = nhi;
    this.decode(nlo, nhi);
    this.arr[this.w + 2] = ea[ew + 2];
    this.arr[this.w + 3] = ea[ew + 3];
    ea[ew] = POISON1_LO;
    ea[ew + 1] = POISON_HI;
    ea[ew + 2] = POISON2_LO;
    ea[ew + 3] = POISON_HI;
  }

  /** list_del(): unlink and poison (LIST_POISON1/2). */
  del(pfn: number): void {
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const p = this.prevWords;
    if (this.is64) {
      const nlo = ea[ew];
      const nhi = ea[ew + 1];
      const plo = ea[ew + p];
      const phi = ea[ew + p + 1];
      this.decode(nlo, nhi);
      this.arr[this.w + p] = plo;
      this.arr[this.w + p + 1] = phi;
      this.decode(plo, phi);
      this.arr[this.w] = nlo;
      this.arr[this.w + 1] = nhi;
      ea[ew] = POISON1_LO;
      ea[ew + 1] = POISON_HI;
      ea[ew + p] = POISON2_LO;
      ea[ew + p + 1] = POISON_HI;
      return;
    }
    const next = ea[ew];
    const prev = ea[ew + p];
    this.decode(next, 0);
    this.arr[this.w + p] = prev;
    this.decode(prev, 0);
    this.arr[this.w] = next;
    ea[ew] = POISON1_LO;
    ea[ew + p] = POISON2_LO;
  }

  /** Visit every page on a list, head to tail (cold paths: views and checks). */
  forEach(h: ListHead, fn: (pfn: number) => void): void {
    for (let pos = this.read(h.arr, h.w); pos !== h.va;) {
      const pfn = this.pfnOfLru(pos);
      fn(pfn);
      pos = this.read(this.sparse.arr(pfn), this.sparse.word(pfn) + this.lruWord);
    }
  }
}
