/*
 * The generic bulk functions of 6.1's mm/slab_common.c,
 * __kmem_cache_alloc_bulk() and __kmem_cache_free_bulk(): one object at a
 * time through the implementation's own alloc and free. SLUB has its own
 * bulk paths; SLAB, SLOB and SLQB use these (the common code calls them
 * when an implementation has no alloc_bulk/free_bulk).
 */
import type { RamWords } from '../machine/ram_words.ts';
import { ZERO_SIZE_PTR } from '../include/linux/slab.ts';
import type { SlabCommon } from './slab_common.ts';
import type { SlabAllocator } from './slab_types.ts';

/** __kmem_cache_alloc_bulk(): size objects into p[0..size), all or nothing; the number allocated. */
export function __kmem_cache_alloc_bulk(impl: SlabAllocator, w: RamWords, po: number, s: number, gfp: number, size: number, p: number): number {
  const ptr = w.ptr8 ? 8 : 4;
  for (let i = 0; i < size; i++) {
    const x = impl.slab_alloc_node(s, gfp, -1, 0);
    if (x === 0) {
      for (let j = 0; j < i; j++) impl.slab_free_object(s, w.rptr(p - po + j * ptr));
      return 0;
    }
    w.wptr(p - po + i * ptr, x);
  }
  return size;
}

/** __kmem_cache_free_bulk(): kmem_cache_free() (or kfree() when s is 0) of each; NULLs skipped. */
export function __kmem_cache_free_bulk(impl: SlabAllocator, common: SlabCommon, w: RamWords, po: number, s: number, size: number, p: number): void {
  const ptr = w.ptr8 ? 8 : 4;
  for (let i = 0; i < size; i++) {
    const x = w.rptr(p - po + i * ptr);
    if (x === 0 || x === ZERO_SIZE_PTR) continue;
    if (!impl.slab_free_object(s, x) && s === 0) common.free_large_kmalloc(impl.folioPfn(x), x);
  }
}
