/*
 * gfp_t, the page allocator's request flags (include/linux/gfp_types.h, 6.12).
 *
 * The bit numbers come from an enum, so the optional bits shift the ones after
 * them. This is the x86_64 configuration without CONFIG_KASAN_HW_TAGS and
 * without CONFIG_LOCKDEP, with CONFIG_MEMCG (which selects
 * CONFIG_SLAB_OBJ_EXT, hence __GFP_NO_OBJ_EXT):
 *
 *   bit  value      flag                   kind
 *    0   0x1        __GFP_DMA              zone modifier
 *    1   0x2        __GFP_HIGHMEM          zone modifier
 *    2   0x4        __GFP_DMA32            zone modifier
 *    3   0x8        __GFP_MOVABLE          zone modifier and mobility
 *    4   0x10       __GFP_RECLAIMABLE      mobility
 *    5   0x20       __GFP_HIGH             watermark (== ALLOC_MIN_RESERVE)
 *    6   0x40       __GFP_IO               reclaim
 *    7   0x80       __GFP_FS               reclaim
 *    8   0x100      __GFP_ZERO             action
 *    9   0x200      (unused; __GFP_ATOMIC until 6.3)
 *   10   0x400      __GFP_DIRECT_RECLAIM   reclaim
 *   11   0x800      __GFP_KSWAPD_RECLAIM   reclaim (== ALLOC_KSWAPD)
 *   12   0x1000     __GFP_WRITE            placement
 *   13   0x2000     __GFP_NOWARN           action
 *   14   0x4000     __GFP_RETRY_MAYFAIL    reclaim
 *   15   0x8000     __GFP_NOFAIL           reclaim
 *   16   0x10000    __GFP_NORETRY          reclaim
 *   17   0x20000    __GFP_MEMALLOC         watermark
 *   18   0x40000    __GFP_COMP             action
 *   19   0x80000    __GFP_NOMEMALLOC       watermark
 *   20   0x100000   __GFP_HARDWALL         placement
 *   21   0x200000   __GFP_THISNODE         placement
 *   22   0x400000   __GFP_ACCOUNT          placement (kmemcg)
 *   23   0x800000   __GFP_ZEROTAGS         action
 *   24   0x1000000  __GFP_NO_OBJ_EXT       placement (CONFIG_SLAB_OBJ_EXT)
 *
 * __GFP_SKIP_ZERO, __GFP_SKIP_KASAN (CONFIG_KASAN_HW_TAGS) and
 * __GFP_NOLOCKDEP (CONFIG_LOCKDEP) are 0 in this configuration, as the
 * kernel defines them when their option is off.
 *
 * The composites:
 *
 *   GFP_ATOMIC            0x820     __GFP_HIGH | __GFP_KSWAPD_RECLAIM
 *   GFP_KERNEL            0xcc0     __GFP_RECLAIM | __GFP_IO | __GFP_FS
 *   GFP_KERNEL_ACCOUNT    0x400cc0  GFP_KERNEL | __GFP_ACCOUNT
 *   GFP_NOWAIT            0x2800    __GFP_KSWAPD_RECLAIM | __GFP_NOWARN
 *   GFP_NOIO              0xc00     __GFP_RECLAIM
 *   GFP_NOFS              0xc40     __GFP_RECLAIM | __GFP_IO
 *   GFP_USER              0x100cc0  __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL
 *   GFP_DMA               0x1       __GFP_DMA
 *   GFP_DMA32             0x4       __GFP_DMA32
 *   GFP_HIGHUSER          0x100cc2  GFP_USER | __GFP_HIGHMEM
 *   GFP_HIGHUSER_MOVABLE  0x100cca  GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN
 *   GFP_TRANSHUGE_LIGHT   0x1c20ca  (GFP_HIGHUSER_MOVABLE | __GFP_COMP |
 *                                    __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM
 *   GFP_TRANSHUGE         0x1c24ca  GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM
 *
 * gfp_t is a 32-bit unsigned int; every value here fits in 31 bits, so plain
 * JavaScript bit operations on them are exact.
 */

/* Physical address zone modifiers (the low four bits, see gfp_zone()). */
export const __GFP_DMA = 1 << 0;
export const __GFP_HIGHMEM = 1 << 1;
export const __GFP_DMA32 = 1 << 2;
/** ZONE_MOVABLE allowed (together with __GFP_HIGHMEM); also MIGRATE_MOVABLE. */
export const __GFP_MOVABLE = 1 << 3;
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;

/* Page mobility and placement hints. */
/** MIGRATE_RECLAIMABLE: slab pages of SLAB_RECLAIM_ACCOUNT caches. */
export const __GFP_RECLAIMABLE = 1 << 4;
/** The caller will dirty the page: spread such pages over the local zones. */
export const __GFP_WRITE = 1 << 12;
/** Enforce the cpuset memory policy. */
export const __GFP_HARDWALL = 1 << 20;
/** The requested node only, no fallback. */
export const __GFP_THISNODE = 1 << 21;
/** Charge to kmemcg. */
export const __GFP_ACCOUNT = 1 << 22;
/** Slab allocation without object extension (CONFIG_SLAB_OBJ_EXT). */
export const __GFP_NO_OBJ_EXT = 1 << 24;

/* Watermark modifiers: access to the emergency reserves. */
/** High priority: may use part of the min reserve. */
export const __GFP_HIGH = 1 << 5;
/** Ignore the watermarks entirely. */
export const __GFP_MEMALLOC = 1 << 17;
/** Never use the emergency reserves; beats __GFP_MEMALLOC. */
export const __GFP_NOMEMALLOC = 1 << 19;

/* Reclaim modifiers. */
/** May start physical I/O. */
export const __GFP_IO = 1 << 6;
/** May call into the filesystem. */
export const __GFP_FS = 1 << 7;
/** May enter direct reclaim, i.e. may sleep. */
export const __GFP_DIRECT_RECLAIM = 1 << 10;
/** Wake kswapd at the low watermark. */
export const __GFP_KSWAPD_RECLAIM = 1 << 11;
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
/** Retry reclaim while it makes progress; may still fail; no OOM kill. */
export const __GFP_RETRY_MAYFAIL = 1 << 14;
/** Never fail: retry forever. */
export const __GFP_NOFAIL = 1 << 15;
/** One lightweight reclaim attempt, no OOM kill. */
export const __GFP_NORETRY = 1 << 16;

/* Action modifiers. */
/** No allocation-failure report. */
export const __GFP_NOWARN = 1 << 13;
/** Make a compound page. */
export const __GFP_COMP = 1 << 18;
/** Return zeroed memory. */
export const __GFP_ZERO = 1 << 8;
/** Zero the memory tags too (arm64 MTE). */
export const __GFP_ZEROTAGS = 1 << 23;
/** CONFIG_KASAN_HW_TAGS only; 0 here. */
export const __GFP_SKIP_ZERO = 0;
/** CONFIG_KASAN_HW_TAGS only; 0 here. */
export const __GFP_SKIP_KASAN = 0;
/** CONFIG_LOCKDEP only; 0 here. */
export const __GFP_NOLOCKDEP = 0;

/** Room for this many __GFP_* bits (___GFP_LAST_BIT). */
export const __GFP_BITS_SHIFT = 25;
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1;

/* Useful combinations. */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN;
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;
