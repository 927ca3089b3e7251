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
 * it, and a pointer is turned into a place in memory by arithmetic:
 *
 *   x86_64  VMEMMAP_START <= p       -> struct page of pfn (p - VMEMMAP_START) / 64
 *           otherwise (a list head)  -> direct map: physical p - PAGE_OFFSET
 *   i386    every pointer            -> direct map (struct pages live in lowmem)
 *
 * Nothing here allocates: the last decoded place is left in `arr`/`w`.
 */
import { HOST_SECTION_SIZE, sectionOffset, type PhysMem } from '../machine/memory.ts';
import { ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';
import type { PageLayout } from './page.ts';
import type { Sparse } from './sparse.ts';

const TWO48 = 281474976710656;

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
  private readonly pageOffset: number;
  private readonly pageSize: number;
  /** Words from the start of struct page to lru.next, and from next to prev. */
  private readonly lruWord: number;
  private readonly prevWords: number;
  private readonly lruOffset: number;
  /** The place the last decode() found. */
  private arr: Int32Array = new Int32Array(0);
  private w = 0;

  constructor(private readonly mem: PhysMem, private readonly sparse: Sparse, pl: PageLayout, layout: ArchLayout) {
    this.is64 = layout.ptrSize === 8;
    this.vmemmap = layout.VMEMMAP_START;
    this.pageOffset = layout.PAGE_OFFSET;
    this.pageSize = pl.size;
    this.lruOffset = pl.lru;
    this.lruWord = pl.lru >> 2;
    this.prevWords = layout.ptrSize >> 2;
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

  private read(arr: Int32Array, w: number): number {
    return this.is64 ? ptr64FromWords(arr[w], arr[w + 1]) : arr[w] >>> 0;
  }

  private write(arr: Int32Array, w: number, v: number): void {
    if (this.is64) {
      arr[w] = ptr64LoWord(v);
      arr[w + 1] = ptr64HiWord(v);
    } else {
      arr[w] = v | 0;
    }
  }

  /** Point arr/w at the list_head whose address is va. */
  private decode(va: number): void {
    if (this.vmemmap !== 0 && va >= this.vmemmap) {
      const pfn = Math.floor((va - this.vmemmap) / this.pageSize);
      this.arr = this.sparse.arr(pfn);
      this.w = this.sparse.word(pfn) + this.lruWord;
      return;
    }
    const pa = va - this.pageOffset;
    this.arr = this.mem.i32[Math.floor(pa / HOST_SECTION_SIZE)];
    this.w = sectionOffset(pa) >>> 2;
  }

  /** INIT_LIST_HEAD() */
  init(h: ListHead): void {
    this.write(h.arr, h.w, h.va);
    this.write(h.arr, h.w + this.prevWords, h.va);
  }

  empty(h: ListHead): boolean {
    return this.read(h.arr, h.w) === h.va;
  }

  /** list_first_entry(): pfn of the first page, or -1 if the list is empty. */
  first(h: ListHead): number {
    const next = this.read(h.arr, h.w);
    return next === h.va ? -1 : this.pfnOfLru(next);
  }

  /** list_last_entry(): pfn of the last page, or -1. */
  last(h: ListHead): number {
    const prev = this.read(h.arr, h.w + this.prevWords);
    return prev === h.va ? -1 : this.pfnOfLru(prev);
  }

  /** list_add() (at the head) or list_add_tail(). */
  add(pfn: number, h: ListHead, tail: boolean): void {
    const entry = this.lruVa(pfn);
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const p = this.prevWords;
    let prevVa: number;
    let nextVa: number;
    if (tail) {
      prevVa = this.read(h.arr, h.w + p);
      nextVa = h.va;
      this.write(h.arr, h.w + p, entry);
      this.decode(prevVa);
      this.write(this.arr, this.w, entry);
    } else {
      prevVa = h.va;
      nextVa = this.read(h.arr, h.w);
      this.write(h.arr, h.w, entry);
      this.decode(nextVa);
      this.write(this.arr, this.w + p, entry);
    }
    this.write(ea, ew, nextVa);
    this.write(ea, ew + p, prevVa);
  }

  /** list_del(): unlink and poison (LIST_POISON1/2). */
  del(pfn: number): void {
    const ea = this.sparse.arr(pfn);
    const ew = this.sparse.word(pfn) + this.lruWord;
    const p = this.prevWords;
    const nextVa = this.read(ea, ew);
    const prevVa = this.read(ea, ew + p);
    this.decode(nextVa);
    this.write(this.arr, this.w + p, prevVa);
    this.decode(prevVa);
    this.write(this.arr, this.w, nextVa);
    const delta = this.is64 ? TWO48 : 0;
    this.write(ea, ew, 0x100 + delta);
    this.write(ea, ew + p, 0x122 + delta);
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
