/*
 * The slab allocator's public constants (include/linux/slab.h, Linux 6.12):
 * the SLAB_* flags of kmem_cache_create(), the kmalloc size classes and
 * limits, ZERO_SIZE_PTR, and the choice of kmalloc cache type from the gfp
 * flags.
 *
 * The flag bits come from enum _slab_flag_bits, whose optional members shift
 * the ones after them. This is the configuration kmem models (as for the gfp
 * bits in gfp_types.ts): CONFIG_MEMCG and CONFIG_SLAB_OBJ_EXT on,
 * CONFIG_KFENCE on, CONFIG_DEBUG_OBJECTS, CONFIG_FAILSLAB and
 * CONFIG_KASAN_GENERIC off, CONFIG_SLUB_TINY off:
 *
 *   bit  value     flag                      bit  value     flag
 *    0   0x1       SLAB_CONSISTENCY_CHECKS   10   0x400     SLAB_TRACE
 *    1   0x2       SLAB_RED_ZONE             11   0x800     SLAB_NOLEAKTRACE
 *    2   0x4       SLAB_POISON               12   0x1000    SLAB_NO_MERGE
 *    3   0x8       SLAB_KMALLOC              13   0x2000    SLAB_ACCOUNT
 *    4   0x10      SLAB_HWCACHE_ALIGN        14   0x4000    SLAB_NO_USER_FLAGS
 *    5   0x20      SLAB_CACHE_DMA            15   0x8000    SLAB_SKIP_KFENCE
 *    6   0x40      SLAB_CACHE_DMA32          16   0x10000   SLAB_RECLAIM_ACCOUNT
 *    7   0x80      SLAB_STORE_USER           17   0x20000   __OBJECT_POISON (SLUB internal)
 *    8   0x100     SLAB_PANIC                18   0x40000   __CMPXCHG_DOUBLE (SLUB internal)
 *    9   0x200     SLAB_TYPESAFE_BY_RCU      19   0x80000   SLAB_NO_OBJ_EXT
 *
 * SLAB_DEBUG_OBJECTS, SLAB_FAILSLAB and SLAB_KASAN are 0 here, as the kernel
 * defines them when their option is off. SLAB_TEMPORARY is another name for
 * SLAB_RECLAIM_ACCOUNT.
 *
 * kmalloc size classes with 4 KiB pages (kmalloc_info[] in slab_common.c):
 *
 *   index  1   2    3  4   5   6   7    8    9    10  11  12  13
 *   size   96  192  8  16  32  64  128  256  512  1k  2k  4k  8k
 *
 * Requests up to KMALLOC_MAX_CACHE_SIZE (8 KiB, an order-1 page) come from
 * these caches; bigger ones go to the page allocator, up to
 * KMALLOC_MAX_SIZE (4 MiB, MAX_PAGE_ORDER).
 */
import { PAGE_SHIFT } from '../../arch/x86/layout.ts';
import { __GFP_ACCOUNT, __GFP_DMA, __GFP_RECLAIMABLE } from './gfp_types.ts';

/* enum _slab_flag_bits, for the configuration above */
export const SLAB_CONSISTENCY_CHECKS = 1 << 0;
export const SLAB_RED_ZONE = 1 << 1;
export const SLAB_POISON = 1 << 2;
export const SLAB_KMALLOC = 1 << 3;
export const SLAB_HWCACHE_ALIGN = 1 << 4;
export const SLAB_CACHE_DMA = 1 << 5;
export const SLAB_CACHE_DMA32 = 1 << 6;
export const SLAB_STORE_USER = 1 << 7;
export const SLAB_PANIC = 1 << 8;
/** Slab pages go back to the page allocator only after an RCU grace period (objects do not wait). */
export const SLAB_TYPESAFE_BY_RCU = 1 << 9;
export const SLAB_TRACE = 1 << 10;
export const SLAB_NOLEAKTRACE = 1 << 11;
export const SLAB_NO_MERGE = 1 << 12;
export const SLAB_ACCOUNT = 1 << 13;
export const SLAB_NO_USER_FLAGS = 1 << 14;
export const SLAB_SKIP_KFENCE = 1 << 15;
export const SLAB_RECLAIM_ACCOUNT = 1 << 16;
export const SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT;
export const SLAB_NO_OBJ_EXT = 1 << 19;
/** CONFIG_DEBUG_OBJECTS, CONFIG_FAILSLAB, CONFIG_KASAN_GENERIC: off. */
export const SLAB_DEBUG_OBJECTS = 0;
export const SLAB_FAILSLAB = 0;
export const SLAB_KASAN = 0;

/** kmalloc(0) returns this; kfree() and ksize() accept it like NULL. */
export const ZERO_SIZE_PTR = 16;

export function ZERO_OR_NULL_PTR(p: number): boolean {
  return p <= ZERO_SIZE_PTR;
}

/** __alignof__(unsigned long long): 8 on x86_64 and on i386. */
export const ARCH_KMALLOC_MINALIGN = 8;
export const ARCH_SLAB_MINALIGN = 8;

export const KMALLOC_SHIFT_LOW = 3;
/** SLUB serves requests up to an order-1 page from caches. */
export const KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;
/** MAX_PAGE_ORDER + PAGE_SHIFT */
export const KMALLOC_SHIFT_MAX = 10 + PAGE_SHIFT;
export const KMALLOC_MAX_SIZE = 2 ** KMALLOC_SHIFT_MAX;
export const KMALLOC_MAX_CACHE_SIZE = 2 ** KMALLOC_SHIFT_HIGH;
export const KMALLOC_MAX_ORDER = KMALLOC_SHIFT_MAX - PAGE_SHIFT;
export const KMALLOC_MIN_SIZE = 1 << KMALLOC_SHIFT_LOW;
export const SLAB_OBJ_MIN_SIZE = KMALLOC_MIN_SIZE < 16 ? KMALLOC_MIN_SIZE : 16;

/* enum kmalloc_cache_type: CONFIG_ZONE_DMA, CONFIG_MEMCG, CONFIG_SLAB_OBJ_EXT; no random caches */
export const KMALLOC_NORMAL = 0;
export const KMALLOC_RECLAIM = 1;
export const KMALLOC_DMA = 2;
export const KMALLOC_CGROUP = 3;
export const KMALLOC_NO_OBJ_EXT = 4;
export const NR_KMALLOC_TYPES = 5;

/** gfp bits that take an allocation out of KMALLOC_NORMAL. */
export const KMALLOC_NOT_NORMAL_BITS = __GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT;

/** kmalloc_type(): __GFP_DMA beats __GFP_RECLAIMABLE beats __GFP_ACCOUNT. */
export function kmalloc_type(flags: number): number {
  if ((flags & KMALLOC_NOT_NORMAL_BITS) === 0) return KMALLOC_NORMAL;
  if (flags & __GFP_DMA) return KMALLOC_DMA;
  if (flags & __GFP_RECLAIMABLE) return KMALLOC_RECLAIM;
  return KMALLOC_CGROUP;
}

/**
 * __kmalloc_index(): the kmalloc_caches[] index serving `size` (0 for 0;
 * 1 for 65..96, 2 for 129..192, n for 2^(n-1)+1 .. 2^n). The kernel BUG()s
 * above 2 MiB; here that is a RangeError.
 */
export function kmalloc_index(size: number): number {
  if (size === 0) return 0;
  if (size <= KMALLOC_MIN_SIZE) return KMALLOC_SHIFT_LOW;
  if (size > 64 && size <= 96) return 1;
  if (size > 128 && size <= 192) return 2;
  if (size > 2 * 1024 * 1024) throw new RangeError(`kmalloc_index: unexpected size ${size}`);
  return 32 - Math.clz32(size - 1);
}

/** The names module code reads from the Kernel object (k.SLAB_HWCACHE_ALIGN, k.ZERO_SIZE_PTR, ...). */
export const slabApiNames = {
  SLAB_CONSISTENCY_CHECKS, SLAB_RED_ZONE, SLAB_POISON, SLAB_HWCACHE_ALIGN, SLAB_CACHE_DMA, SLAB_CACHE_DMA32,
  SLAB_STORE_USER, SLAB_PANIC, SLAB_TYPESAFE_BY_RCU, SLAB_TRACE, SLAB_NOLEAKTRACE, SLAB_NO_MERGE, SLAB_ACCOUNT,
  SLAB_RECLAIM_ACCOUNT, SLAB_TEMPORARY, SLAB_NO_USER_FLAGS, ZERO_SIZE_PTR, KMALLOC_MAX_SIZE, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MIN_SIZE,
  KMALLOC_SHIFT_LOW, KMALLOC_SHIFT_HIGH, KMALLOC_SHIFT_MAX,
} as const;
