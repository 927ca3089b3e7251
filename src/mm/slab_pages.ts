/*
 * The struct slab side of the slab implementations that keep free objects
 * in per-CPU arrays or queues (SLAB and SLQB): what they do alike with a
 * slab's pages, apart from what each does with the objects.
 *
 * struct slab is the head page's struct page (slab_types.ts):
 *
 *   +slab_cache   struct kmem_cache *     +slab_list  list_head (node or list
 *   +freelist     pointer                             lists; rcu_head when a
 *   +counters     low 16 bits: objects                SLAB_TYPESAFE_BY_RCU slab
 *                 in use (SLAB: active),              waits for its grace
 *                 high 16: the implementation's       period)
 *
 * Here: reading and writing those fields by pfn, a slab's pages from and
 * back to the page allocator (PGTY_slab, NR_SLAB_[UN]RECLAIMABLE_B, the
 * reclaim_state count), the head page of an object's folio, and the early
 * kmem_cache_node structures: until kmalloc works a node structure comes
 * from a page of the page allocator cut in 64-byte pieces (the kernel's
 * static init_kmem_cache_node[] / boot node arrays), the cut point being
 * two words of the implementation's statics so that every host thread
 * sees it:
 *
 *   early  +0  early_nodes   ptr     next free piece
 *          +P  early_left    ulong   bytes left in that page
 */
import { PAGE_SIZE, ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { RamWords } from '../machine/ram_words.ts';
import type { Sched } from '../kernel/sched.ts';
import { GFP_NOWAIT } from '../include/linux/gfp_types.ts';
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './mmzone.ts';
import { PGTY_slab, type Pages } from './page.ts';
import type { PageAllocator } from './page_alloc.ts';
import type { SlabCommon } from './slab_common.ts';
import { slabLayout } from './slab_types.ts';

export interface SlabPagesDeps {
  layout: ArchLayout;
  mem: PhysMem;
  words: RamWords;
  kaddr: KernelAddr;
  pages: Pages;
  buddy: PageAllocator;
  sched: Sched;
}

export class SlabPages {
  private readonly po: number;
  private readonly ptr: 4 | 8;
  readonly wSlabCache: number;
  readonly wFreelist: number;
  private readonly wCounters: number;
  private readonly slabListOff: number;

  constructor(private readonly d: SlabPagesDeps, private readonly common: SlabCommon,
    /** Physical address of the early_nodes / early_left pair. */
    private readonly earlyPa: number) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    const sl = slabLayout(this.ptr);
    this.wSlabCache = sl.slab_cache >> 2;
    this.wFreelist = sl.freelist >> 2;
    this.wCounters = sl.counters >> 2;
    this.slabListOff = sl.slab_list;
  }

  /** Bytes of statics the early node pieces need. */
  static earlyBytes(ptrSize: 4 | 8): number {
    return 2 * ptrSize;
  }

  /* fields ------------------------------------------------------------- */

  /** A pointer field of struct slab, by its word index. */
  getPtr(pfn: number, word: number): number {
    const a = this.d.pages.loc.arr(pfn);
    const i = this.d.pages.loc.word(pfn) + word;
    return this.ptr === 8 ? ptr64FromWords(a[i], a[i + 1]) : a[i] >>> 0;
  }

  setPtr(pfn: number, word: number, v: number): void {
    const a = this.d.pages.loc.arr(pfn);
    const i = this.d.pages.loc.word(pfn) + word;
    if (this.ptr === 8) {
      a[i] = ptr64LoWord(v);
      a[i + 1] = ptr64HiWord(v);
    } else {
      a[i] = v | 0;
    }
  }

  /** The low 32 bits of counters. */
  counters(pfn: number): number {
    return this.d.pages.loc.arr(pfn)[this.d.pages.loc.word(pfn) + this.wCounters];
  }

  setCounters(pfn: number, v: number): void {
    this.d.pages.loc.arr(pfn)[this.d.pages.loc.word(pfn) + this.wCounters] = v;
  }

  /** The objects in use: counters' low 16 bits. */
  inuse(pfn: number): number {
    return this.counters(pfn) & 0xffff;
  }

  setInuse(pfn: number, v: number): void {
    this.setCounters(pfn, (this.counters(pfn) & ~0xffff) | v);
  }

  slab_cache(pfn: number): number {
    return this.getPtr(pfn, this.wSlabCache);
  }

  /** The struct slab's slab_list (a list_head address). */
  slabList(pfn: number): number {
    return this.d.pages.pfn_to_page(pfn) + this.slabListOff;
  }

  pfnOfList(pos: number): number {
    return this.d.pages.page_to_pfn(pos - this.slabListOff);
  }

  /** The head page of the folio holding the direct-map address va. */
  folioPfn(va: number): number {
    const pfn = Math.floor((va - this.po) / PAGE_SIZE);
    if (!this.d.pages.PageTail(pfn)) return pfn;
    return this.d.pages.page_to_pfn(this.d.kaddr.readPtr(this.d.pages.lru(pfn)) - 1);
  }

  isSlab(pfn: number): boolean {
    return this.d.pages.page_type(pfn) >>> 24 === PGTY_slab;
  }

  /* pages ---------------------------------------------------------------- */

  /** A slab's pages (kmem_getpages(), allocate_slab()): PGTY_slab, counted; the pfn or -1. */
  alloc(gfp: number, order: number, node: number, reclaimable: boolean): number {
    const pfn = this.d.buddy.__alloc_pages(gfp, order, node);
    if (pfn < 0) return -1;
    this.d.pages.setType(pfn, PGTY_slab);
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), reclaimable ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
      PAGE_SIZE << order);
    return pfn;
  }

  /** kmem_freepages() / __free_slab(): struct slab cleared, the pages back to the page allocator. */
  free(pfn: number, order: number, reclaimable: boolean): void {
    this.setCounters(pfn, 0);
    this.setPtr(pfn, this.wFreelist, 0);
    this.setPtr(pfn, this.d.pages.pl.mapping >> 2, 0);
    this.d.pages.clearType(pfn);
    this.d.sched.mm_account_reclaimed_pages(1 << order);
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), reclaimable ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
      -(PAGE_SIZE << order));
    this.d.buddy.__free_pages(pfn, order);
  }

  /** An early (boot) kmem_cache_node of size bytes, zeroed; 0 when no page is left. */
  earlyNode(size: number): number {
    const w = this.d.words;
    const sz = Math.ceil(size / 64) * 64;
    if (w.rulong(this.earlyPa + this.ptr) < sz) {
      const pfn = this.d.buddy.__alloc_pages(GFP_NOWAIT, 0, -1);
      if (pfn < 0) return 0;
      w.wptr(this.earlyPa, this.po + pfn * PAGE_SIZE);
      w.wlong(this.earlyPa + this.ptr, PAGE_SIZE);
    }
    const n = w.rptr(this.earlyPa);
    w.wptr(this.earlyPa, n + sz);
    w.wlong(this.earlyPa + this.ptr, w.rulong(this.earlyPa + this.ptr) - sz);
    this.d.mem.fill(n - this.po, size, 0);
    return n;
  }
}
