/*
 * The heap's size classes: kmalloc's sizes (on the heap's i386 machine 8,
 * 16, 32, 64, 96, 128, 192, 256, 512 B, 1, 2, 4 and 8 KiB), each a
 * kmem_cache of the heap's own, "heap-<size>", made when the heap is
 * created with kmem_cache_create() and the alignment kmalloc gives
 * (create_boot_cache(): the largest power of two dividing the size, so 32
 * for 96 and 64 for 192). alloc(n) takes a
 * block from the smallest class that holds n, as kmalloc(n) would.
 *
 * Why caches of its own rather than the kmalloc caches: the size of their
 * percpu sheaves. 7.0 sizes each cache's sheaves to fill a kmalloc bucket
 * exactly (calculate_sheaf_capacity(): struct_size(sheaf, objects, n)
 * rounded up by kmalloc_size_roundup()). On i386, where struct slab_sheaf
 * is 20 bytes and a pointer 4, the 1 and 2 KiB caches' sheaves (12
 * objects asked, 19 given) come out at 96 bytes, kmalloc-96 objects, 8-byte
 * aligned; the CPUs' main sheaves are allocated one after the other when
 * the cache is made (init_percpu_sheaves()), so two CPUs' sheaves share a
 * cache line, and every push or pop on one CPU takes the line from the
 * other:
 *
 *   kmalloc-96 slab   | CPU 1's sheaf (96 B)  | CPU 2's sheaf (96 B)  |
 *   cache lines       |    64    |    64    |    64    |    64    |
 *                                      ^ written by both CPUs
 *
 * (x86_64's 32-byte header and 8-byte pointers give 64, 128, 256 and
 * 512-byte sheaves, whole cache lines.) And the capacity: with two
 * workers, what costs is the barn. A CPU whose main and spare are both
 * full trades a full sheaf in for an empty one, and the other CPU takes
 * it when both of its own are empty: the barn's lock, and then a sheaf and
 * objects (their shadow bytes) last written on the other CPU. How often a
 * sheaf runs full or empty falls with the square of its capacity (each
 * alloc and free is a step of a random walk between 0 and capacity), and
 * the 4 KiB class's 11 objects (7.0's 4, rounded up to a 64-byte sheaf)
 * make it the busiest. A cache of one's own may ask for a capacity (6.18's
 * kmem_cache_args.sheaf_capacity, which 7.0 honours as max(calculated,
 * asked)): each class asks for a power-of-two sheaf of 64 to 512 bytes,
 * as big as keeps its objects to 1/64 of the heap (sheafCapacity()).
 *
 * Measured, two workers against one on one 64 MiB heap (pairs/s), the
 * mixed workload: 1.55x with the kmalloc caches' 96-byte sheaves, 1.71x
 * with the same capacities in 128-byte objects, 1.90x with these classes
 * (123 objects each); with sizes uniform in 8..4096, 1.47x and 1.87x.
 */
import { KMALLOC_MAX_CACHE_SIZE, SLAB_NO_MERGE } from '../include/linux/slab.ts';
import { kmemCacheArgs } from '../mm/slab_common.ts';
import type { BootedMm } from '../init/main.ts';
import type { Slub } from '../mm/slub.ts';

/** A sheaf's objects may add up to this share of the heap. */
const SHEAF_SHARE = 64;
/** The largest sheaf asked for: a 512-byte kmalloc bucket (123 objects on i386). */
const MAX_SHEAF_BYTES = 512;

/**
 * The sheaf capacity the class of `size`-byte objects asks for, on a heap
 * of heapBytes: the struct slab_sheaf a power-of-two bucket of at least a
 * cache line and at most 512 bytes, as big as lets its objects add up to
 * no more than 1/64 of the heap; never less than the kernel would give a
 * kmalloc cache of that size (rounded up to such a bucket).
 */
export function sheafCapacity(m: BootedMm, size: number, heapBytes: number): number {
  const sheaves = (m.slab.impl as Slub).sheaves;
  if (sheaves === null) return 0;
  const header = sheaves.SH.size;
  const ptr = m.layout.ptrSize;
  const capacityOf = (bucket: number) => (bucket - header) / ptr;
  const kernel = header + sheaves.calculate_sheaf_capacity(size, 0, 0) * ptr;
  let bucket = m.layout.cacheLine;
  while (bucket < kernel) bucket *= 2;
  while (bucket < MAX_SHEAF_BYTES && capacityOf(2 * bucket) * size <= heapBytes / SHEAF_SHARE) bucket *= 2;
  return capacityOf(bucket);
}

/**
 * Create the heap's size-class caches (a machine just booted for a heap):
 * the physical address of each struct kmem_cache, smallest class first.
 */
export function createSizeClasses(m: BootedMm, gfp: number, heapBytes: number): number[] {
  const po = m.layout.PAGE_OFFSET;
  const sizes = new Set<number>();
  for (let n = 1; n <= KMALLOC_MAX_CACHE_SIZE; n++) sizes.add(m.slab.kmem_cache_size(m.slab.kmalloc_slab(n, gfp)));
  return [...sizes].map((size) => {
    const align = size & -size; // create_boot_cache(): the largest power of two that divides size
    const args = kmemCacheArgs(align, 0, 0, 0, sheafCapacity(m, size, heapBytes));
    const s = m.slab.kmem_cache_create(`heap-${size}`, size, args, SLAB_NO_MERGE);
    if (s === 0) throw new RangeError(`kmem/heap: no memory for the ${size}-byte size class`);
    return s - po;
  });
}
