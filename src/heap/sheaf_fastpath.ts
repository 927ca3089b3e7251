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
 *     pa, and every heap address (a pa below 128 MiB) is a small integer;
 *   - the thread drives one CPU for its whole life (Heap.attach), so its
 *     per-CPU unit is a constant word index;
 *   - the machine has one node, so every object is on this CPU's node and
 *     a free needs no slab_nid() == numa_mem_id() check (sheafWords()
 *     gives nothing to build this from on a machine with more).
 *
 * What one allocation and one free touch (word offsets from SheafWords),
 * for the heap's cache `id` (machine.ts: the heap's table of caches; the
 * shadow mark of a live block holds its cache's id, so a free needs no
 * virt_to_slab(): the struct page is not read at all):
 *
 *   pcs[id] = this CPU's unit + s->cpu_sheaves     (learnt once: a cache's per-CPU
 *   capacity[id] = s->sheaf_capacity                offset and capacity never change)
 *   this CPU's unit        +flushWork: 0 (no flush asked)
 *   slub_percpu_sheaves    lock (byte 0: 0, not held), main --> slab_sheaf, spare
 *   slab_sheaf             +size, +objects[size - 1] (a virtual address)
 *
 * When main is empty (alloc) or full (free), the first step of
 * __pcs_replace_empty_main() / __pcs_replace_full_main() is done here too:
 * main and spare swap places if the spare has objects (alloc) or room
 * (free). Still this CPU's own sheaves under its local lock, and with mixed
 * sizes it is the common way off the pop and push (a few percent of the
 * operations: each size class's main sheaf walks between empty and full).
 *
 * Anything else goes to the kernel's own entry points (kmem_cache_alloc,
 * kfree), which do it all: main and spare both empty (alloc) or both
 * full (free), so that the barn or the slabs are needed, a cache without
 * sheaves (a debug heap's: slab debugging gives a cache no sheaves), a
 * pending flush of this CPU's sheaves, the local lock held, a cache this
 * thread has not learnt yet (a pool another thread made). That the block
 * is a live block of cache id the heap's shadow (kasan.ts) has checked
 * before free() is called; the heap allocates with GFP_KERNEL |
 * __GFP_NORETRY | __GFP_NOWARN from a thread never in atomic context
 * (might_alloc() has nothing to report) and zeroes through the kernel's
 * path (calloc); the heap's machine has no tracepoints, init_on_alloc or
 * init_on_free, and kmem models no pfmemalloc slabs (whose objects 6.18's
 * slab_free() keeps off the sheaves): the kernel's fast paths' other checks
 * are settled.
 * Nothing is kept here but where things are: the sheaves and their sizes
 * are read from memory at every call, so blocks flow between threads as
 * the kernel's objects flow between CPUs.
 */
import { I386_PAGE_OFFSET } from '../arch/x86/layout.ts';
import type { SheafWords } from '../mm/slub_fastpath.ts';
import { slabSheafLayout, slubPercpuSheavesLayout } from '../mm/slub_sheaves.ts';

/*
 * The i386 layouts as constants of the module, which V8 folds into the
 * code (fields of an object it must load at every call once a second heap
 * exists): struct slub_percpu_sheaves' main and spare, struct slab_sheaf's
 * size and objects (word offsets), PAGE_OFFSET as an int32.
 */
const PCS = slubPercpuSheavesLayout(4);
const SHEAF = slabSheafLayout(4);
const PW_MAIN = PCS.main >> 2;
const PW_SPARE = PCS.spare >> 2;
const SW_SIZE = SHEAF.size_ >> 2;
const SW_OBJECTS = SHEAF.objects >> 2;
const PO_I32 = I386_PAGE_OFFSET | 0;

export class SheafFastpath {
  private readonly flushWord: number;
  private readonly unitWord: number;
  private readonly kwCpuSheaves: number;
  private readonly kwSheafCapacity: number;
  /**
   * Per cache id, two words: [2 id] the word index of this CPU's struct
   * slub_percpu_sheaves of the cache (0: not learnt, or no sheaves),
   * [2 id + 1] the cache's sheaf_capacity.
   */
  private readonly pcs: Int32Array;

  constructor(private readonly ram: Int32Array, w: SheafWords, pageOffset: number, maxCaches: number) {
    if (pageOffset !== I386_PAGE_OFFSET || w.pwMain !== PW_MAIN || w.pwSpare !== PW_SPARE || w.swSize !== SW_SIZE ||
      w.swObjects !== SW_OBJECTS) {
      throw new Error('kmem/heap: the sheaf fast path is written for i386\'s layouts');
    }
    this.unitWord = w.unitPa >> 2;
    this.flushWord = this.unitWord + w.flushWork;
    this.kwCpuSheaves = w.kwCpuSheaves;
    this.kwSheafCapacity = w.kwSheafCapacity;
    this.pcs = new Int32Array(2 * maxCaches);
  }

  /** This thread no longer drives the CPU (Heap.detach()): every call goes to the kernel's paths, which refuse. */
  forget(): void {
    this.pcs.fill(0);
  }

  /** Learn cache id, whose struct kmem_cache is at cachePa (a cache without sheaves stays on the kernel's paths). */
  learn(id: number, cachePa: number): void {
    const off = this.ram[(cachePa >> 2) + this.kwCpuSheaves];
    this.pcs[2 * id] = off === 0 ? 0 : this.unitWord + (off >> 2);
    this.pcs[2 * id + 1] = this.ram[(cachePa >> 2) + this.kwSheafCapacity];
  }

  /**
   * This CPU's main sheaf of cache id: the word index of the struct
   * slab_sheaf, or -1 when the kernel's path must run (no sheaves or not
   * learnt, a flush asked, the lock held, no main sheaf).
   */
  private mainSheaf(id: number): number {
    const r = this.ram;
    const pw = this.pcs[2 * id];
    if (pw === 0 || r[this.flushWord] !== 0 || (r[pw] & 0xff) !== 0) return -1;
    const main = r[pw + PW_MAIN];
    return main === 0 ? -1 : (main - PO_I32) >> 2;
  }

  /** alloc_from_pcs(): a block (its pa) from cache id's main sheaf, or 0 (then try allocFromSpare()). */
  alloc(id: number): number {
    const mi = this.mainSheaf(id);
    if (mi < 0) return 0;
    const r = this.ram;
    const size = r[mi + SW_SIZE] - 1;
    if (size < 0) return 0;
    r[mi + SW_SIZE] = size;
    return (r[mi + SW_OBJECTS + size] - PO_I32) | 0;
  }

  /** free_to_pcs() of the live block at pa, of cache id, onto the main sheaf: false if it cannot (then try freeToSpare()). */
  free(pa: number, id: number): boolean {
    const mi = this.mainSheaf(id);
    if (mi < 0) return false;
    const r = this.ram;
    const size = r[mi + SW_SIZE];
    if (size >= this.pcs[2 * id + 1]) return false;
    r[mi + SW_OBJECTS + size] = (pa + PO_I32) | 0;
    r[mi + SW_SIZE] = size + 1;
    return true;
  }

  /**
   * __pcs_replace_empty_main()'s first step after alloc() found main
   * empty: if the spare has objects, main and spare swap and the block
   * comes from the new main; else 0 (the kernel's path: the barn, a refill).
   */
  allocFromSpare(id: number): number {
    return this.mainSheaf(id) >= 0 && this.swapIfSpare(id, 1) ? this.alloc(id) : 0;
  }

  /** __pcs_replace_full_main()'s first step after free() found main full: swap with a spare that has room, then free(). */
  freeToSpare(pa: number, id: number): boolean {
    return this.mainSheaf(id) >= 0 && this.swapIfSpare(id, 0) && this.free(pa, id);
  }

  /**
   * swap(pcs->main, pcs->spare) when there is a spare and it has objects
   * (forAlloc 1) or room (forAlloc 0); whether they swapped.
   */
  private swapIfSpare(id: number, forAlloc: number): boolean {
    const r = this.ram;
    const pw = this.pcs[2 * id];
    const spare = r[pw + PW_SPARE];
    if (spare === 0) return false;
    const size = r[((spare - PO_I32) >> 2) + SW_SIZE];
    if (forAlloc === 1 ? size === 0 : size >= this.pcs[2 * id + 1]) return false;
    r[pw + PW_SPARE] = r[pw + PW_MAIN];
    r[pw + PW_MAIN] = spare;
    return true;
  }
}
