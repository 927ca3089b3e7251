/*
 * The heap's fast paths: SLUB's alloc_from_pcs() and free_to_pcs() (the
 * pop and push of mm/slub.c's percpu sheaves, src/mm/slub_sheaves.ts) on
 * the heap's machine, where they can be written tighter than the kernel's
 * general fast paths (src/mm/slub_fastpath.ts) because four things are
 * known when the heap is created:
 *
 *   - the RAM is one SharedArrayBuffer (machine.ts), so every structure is
 *     in the heap's one Int32Array: no RAM-section lookup per access, and
 *     V8 keeps the array's base and length in registers across a call;
 *   - the machine is i386: a pointer is one word, lowmem is PAGE_OFFSET +
 *     pa, a struct page * is PAGE_OFFSET + the struct page's pa, and every
 *     heap address (a pa below 128 MiB) is a small integer;
 *   - the thread drives one CPU for its whole life (Heap.attach), so its
 *     per-CPU unit is a constant word index;
 *   - the machine has one node, so every object is on this CPU's node and
 *     a free needs no slab_nid() == numa_mem_id() check (sheafWords()
 *     gives nothing to build this from on a machine with more).
 *
 * What one allocation and one free read (word offsets from SheafWords):
 *
 *   kmem_cache (cache pa)  +cpu_sheaves: per-CPU offset ----+   +sheaf_capacity
 *   this CPU's unit        +flushWork: 0 (no flush asked)    |
 *                          +cpu_sheaves --> slub_percpu_sheaves { lock (byte 0) | main } --> slab_sheaf
 *   slab_sheaf             +size, +objects[size - 1] (a virtual address)
 *   struct page of the block (free): page_type >>> 24 == PGTY_slab, slab_cache
 *     (on a tail page of an order > 0 slab, compound_head - 1 is the head's struct page)
 *
 * Anything else goes to the kernel's own entry points (kmem_cache_alloc,
 * kfree), which do it all: an empty or full main sheaf, a cache without
 * sheaves (a debug heap's: slab debugging gives a cache no sheaves), a
 * pending flush of this CPU's sheaves, the local lock held. That the block
 * is a live block's start the heap's shadow (kasan.ts) has checked before
 * free() is called; the heap allocates with GFP_KERNEL | __GFP_NORETRY |
 * __GFP_NOWARN from a thread never in atomic context (might_alloc() has
 * nothing to report) and zeroes through the kernel's path (calloc); the
 * heap's machine has no tracepoints, init_on_alloc or init_on_free: the
 * kernel's fast paths' other checks are settled.
 * Nothing is kept here but where things are: the sheaves, their sizes and
 * the caches are read from memory at every call, so blocks flow between
 * threads as the kernel's objects flow between CPUs.
 */
import * as layout from '../arch/x86/layout.ts';
import * as page from '../mm/page.ts';
import type { SheafWords } from '../mm/slub_fastpath.ts';
import type { Sparse } from '../mm/sparse.ts';

// Module-local copies: V8 checks an imported binding at every use, a local const it folds into the code.
const { PAGE_SHIFT } = layout;
const { PGTY_slab } = page;

export class SheafFastpath {
  /** PAGE_OFFSET as an int32 (pointer words are read as int32: pointer - poI32 is the pa). */
  private readonly poI32: number;
  private readonly unitWord: number;
  private readonly flushWord: number;
  private readonly kwCpuSheaves: number;
  private readonly kwSheafCapacity: number;
  private readonly pwMain: number;
  private readonly swSize: number;
  private readonly swObjects: number;
  private readonly wSlabCache: number;
  private readonly wType: number;

  constructor(private readonly ram: Int32Array, w: SheafWords, pageOffset: number, private readonly sparse: Sparse) {
    this.poI32 = pageOffset | 0;
    this.unitWord = w.unitPa >> 2;
    this.flushWord = this.unitWord + w.flushWork;
    this.kwCpuSheaves = w.kwCpuSheaves;
    this.kwSheafCapacity = w.kwSheafCapacity;
    this.pwMain = w.pwMain;
    this.swSize = w.swSize;
    this.swObjects = w.swObjects;
    this.wSlabCache = w.wSlabCache;
    this.wType = w.wType;
  }

  /**
   * This CPU's main sheaf of the cache at sWord (word index of its struct
   * kmem_cache): the word index of the struct slab_sheaf, or -1 when the
   * kernel's path must run (no sheaves, a flush asked, the lock held).
   */
  private mainSheaf(sWord: number): number {
    const r = this.ram;
    if (r[this.flushWord] !== 0) return -1;
    const off = r[sWord + this.kwCpuSheaves];
    if (off === 0) return -1;
    const pw = this.unitWord + (off >> 2);
    const main = r[pw + this.pwMain];
    if ((r[pw] & 0xff) !== 0 || main === 0) return -1;
    return (main - this.poI32) >> 2;
  }

  /** alloc_from_pcs(): a block (its pa) from the cache whose struct kmem_cache is at sPa, or 0. */
  alloc(sPa: number): number {
    const mi = this.mainSheaf(sPa >> 2);
    if (mi < 0) return 0;
    const r = this.ram;
    const size = r[mi + this.swSize] - 1;
    if (size < 0) return 0;
    r[mi + this.swSize] = size;
    return (r[mi + this.swObjects + size] - this.poI32) | 0;
  }

  /**
   * free_to_pcs() of the live block at pa, of the cache at cachePa (0: of
   * whichever cache it is in, as kfree()): false when the kernel's kfree()
   * or kmem_cache_free() must do it, and for a block of another cache than
   * cachePa (the kernel's cache_from_obj() warns).
   */
  free(pa: number, cachePa: number): boolean {
    const r = this.ram;
    let w = this.sparse.word(pa >>> PAGE_SHIFT);
    let head = r[w + this.wSlabCache];
    if ((head & 1) !== 0) {
      w = ((head - 1 - this.poI32) | 0) >> 2;
      head = r[w + this.wSlabCache];
    }
    if (r[w + this.wType] >>> 24 !== PGTY_slab) return false;
    const sWord = (head - this.poI32) >> 2;
    if (cachePa !== 0 && sWord !== cachePa >> 2) return false;
    const mi = this.mainSheaf(sWord);
    if (mi < 0) return false;
    const size = r[mi + this.swSize];
    if (size >= r[sWord + this.kwSheafCapacity]) return false;
    r[mi + this.swObjects + size] = (pa + this.poI32) | 0;
    r[mi + this.swSize] = size + 1;
    return true;
  }
}
