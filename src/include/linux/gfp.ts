/*
 * What the page allocator reads out of a gfp mask (include/linux/gfp.h,
 * 6.12): the highest zone it may use (gfp_zone), the free-list mobility class
 * (gfp_migratetype), whether it may sleep, and the internal alloc_flags
 * (mm/page_alloc.c gfp_to_alloc_flags(), __gfp_pfmemalloc_flags(), with the
 * ALLOC_* bits of mm/internal.h).
 *
 * gfp_zone() indexes GFP_ZONE_TABLE with the four zone-modifier bits:
 *
 *   flags & 0xf  zone                   flags & 0xf  zone
 *   0x0  -       NORMAL                 0x8  M       NORMAL
 *   0x1  D       DMA or NORMAL          0x9  M|D     DMA or NORMAL
 *   0x2  H       HIGHMEM or NORMAL      0xa  M|H     MOVABLE
 *   0x4  D32     DMA32 or NORMAL        0xc  M|D32   DMA32 or NORMAL
 *   any two of D, D32, H: BAD (GFP_ZONE_BAD; the kernel's VM_BUG_ON)
 *
 * ("or NORMAL": when the kernel is built without that zone.) The zone
 * numbers are enum zone_type, which has only the configured zones:
 *
 *   x86_64  DMA 0, DMA32 1, NORMAL 2, MOVABLE 3 (DEVICE 4 with ZONE_DEVICE)
 *   i386    DMA 0, NORMAL 1, HIGHMEM 2, MOVABLE 3
 *
 * so a caller builds its ZoneTypes once with zoneTypes() (or takes
 * X86_64_ZONES / I386_ZONES) and passes it to every gfp_zone() call.
 *
 * gfp_to_alloc_flags() needs a little of the current task's state (RT
 * priority, interrupt context, PF_MEMALLOC, OOM victim); the caller passes it
 * as a GfpTaskContext, kept as a constant object rather than built per call.
 *
 * (gfpflags_normal_context() no longer exists in 6.12 and is not modelled.)
 */
import {
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOMEMALLOC,
  __GFP_RECLAIMABLE,
  GFP_ZONEMASK,
} from './gfp_types.ts';

/* enum migratetype (include/linux/mmzone.h): the part every config has. */
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
/** The number of types on the pcp lists. */
export const MIGRATE_PCPTYPES = 3;
/** Then MIGRATE_CMA (CONFIG_CMA) and MIGRATE_ISOLATE (CONFIG_MEMORY_ISOLATION) follow. */
export const MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES;

/* The ALLOC_* flags (mm/internal.h). The WMARK bits index zone->_watermark. */
export const ALLOC_WMARK_MIN = 0;
export const ALLOC_WMARK_LOW = 1;
export const ALLOC_WMARK_HIGH = 2;
/** Don't check watermarks at all. */
export const ALLOC_NO_WATERMARKS = 0x04;
export const ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
/** OOM victim: half of what the other reserves leave (0x08 on MMU kernels). */
export const ALLOC_OOM = 0x08;
/** Caller cannot block: 25% of the min watermark, 62.5% with __GFP_HIGH. */
export const ALLOC_NON_BLOCK = 0x10;
/** __GFP_HIGH: 50% of the min watermark. */
export const ALLOC_MIN_RESERVE = 0x20;
/** Check for the correct cpuset. */
export const ALLOC_CPUSET = 0x40;
/** Allow allocations from CMA areas. */
export const ALLOC_CMA = 0x80;
/** Avoid mixing pageblock types; 0 in kernels without ZONE_DMA32 (i386). */
export const ALLOC_NOFRAGMENT = 0x100;
/** Allows access to MIGRATE_HIGHATOMIC. */
export const ALLOC_HIGHATOMIC = 0x200;
/** Allow waking kswapd; equal to __GFP_KSWAPD_RECLAIM. */
export const ALLOC_KSWAPD = 0x800;
/** Flags that allow allocations below the min watermark. */
export const ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

/** Which optional zones the kernel is built with. */
export interface ZoneConfig {
  /** CONFIG_ZONE_DMA */
  readonly dma: boolean;
  /** CONFIG_ZONE_DMA32 */
  readonly dma32: boolean;
  /** CONFIG_HIGHMEM */
  readonly highmem: boolean;
  /** CONFIG_ZONE_DEVICE */
  readonly device?: boolean;
}

/** enum zone_type for one ZoneConfig; an absent zone is -1. */
export interface ZoneTypes {
  readonly ZONE_DMA: number;
  readonly ZONE_DMA32: number;
  readonly ZONE_NORMAL: number;
  readonly ZONE_HIGHMEM: number;
  readonly ZONE_MOVABLE: number;
  readonly ZONE_DEVICE: number;
  readonly MAX_NR_ZONES: number;
  /** GFP_ZONE_TABLE unpacked: zone for each value of flags & GFP_ZONEMASK (0 where BAD). */
  readonly gfpZoneTable: Int8Array;
}

/**
 * GFP_ZONE_BAD: bit n set when zone modifiers n are not a permitted
 * combination (two or more of __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM).
 */
export const GFP_ZONE_BAD =
  1 << (__GFP_DMA | __GFP_HIGHMEM) |
  1 << (__GFP_DMA | __GFP_DMA32) |
  1 << (__GFP_DMA32 | __GFP_HIGHMEM) |
  1 << (__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM) |
  1 << (__GFP_MOVABLE | __GFP_HIGHMEM | __GFP_DMA) |
  1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_DMA) |
  1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_HIGHMEM) |
  1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_DMA | __GFP_HIGHMEM);

/** Numbers the configured zones as enum zone_type does and fills GFP_ZONE_TABLE. */
export function zoneTypes(config: ZoneConfig): ZoneTypes {
  let n = 0;
  const ZONE_DMA = config.dma ? n++ : -1;
  const ZONE_DMA32 = config.dma32 ? n++ : -1;
  const ZONE_NORMAL = n++;
  const ZONE_HIGHMEM = config.highmem ? n++ : -1;
  const ZONE_MOVABLE = n++;
  const ZONE_DEVICE = config.device ? n++ : -1;

  const OPT_ZONE_DMA = config.dma ? ZONE_DMA : ZONE_NORMAL;
  const OPT_ZONE_DMA32 = config.dma32 ? ZONE_DMA32 : ZONE_NORMAL;
  const OPT_ZONE_HIGHMEM = config.highmem ? ZONE_HIGHMEM : ZONE_NORMAL;
  const gfpZoneTable = new Int8Array(GFP_ZONEMASK + 1);
  gfpZoneTable[0] = ZONE_NORMAL;
  gfpZoneTable[__GFP_DMA] = OPT_ZONE_DMA;
  gfpZoneTable[__GFP_HIGHMEM] = OPT_ZONE_HIGHMEM;
  gfpZoneTable[__GFP_DMA32] = OPT_ZONE_DMA32;
  gfpZoneTable[__GFP_MOVABLE] = ZONE_NORMAL;
  gfpZoneTable[__GFP_MOVABLE | __GFP_DMA] = OPT_ZONE_DMA;
  gfpZoneTable[__GFP_MOVABLE | __GFP_HIGHMEM] = ZONE_MOVABLE;
  gfpZoneTable[__GFP_MOVABLE | __GFP_DMA32] = OPT_ZONE_DMA32;

  return {
    ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_HIGHMEM, ZONE_MOVABLE, ZONE_DEVICE,
    MAX_NR_ZONES: n,
    gfpZoneTable,
  };
}

/** x86_64: DMA (below 16 MiB), DMA32 (below 4 GiB), Normal, Movable. */
export const X86_64_ZONES = zoneTypes({ dma: true, dma32: true, highmem: false });
/** i386 with CONFIG_HIGHMEM: DMA, Normal (lowmem), HighMem, Movable. */
export const I386_ZONES = zoneTypes({ dma: true, dma32: false, highmem: true });

/**
 * The highest zone an allocation with these flags may use, or -1 for a
 * GFP_ZONE_BAD combination, where the kernel hits VM_BUG_ON().
 */
export function gfp_zone(flags: number, zones: ZoneTypes): number {
  const bit = flags & GFP_ZONEMASK;
  if ((GFP_ZONE_BAD >> bit) & 1) return -1;
  return zones.gfpZoneTable[bit];
}

const GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
const GFP_MOVABLE_SHIFT = 3;

/**
 * The free-list migratetype: __GFP_MOVABLE gives MIGRATE_MOVABLE,
 * __GFP_RECLAIMABLE MIGRATE_RECLAIMABLE, neither MIGRATE_UNMOVABLE; both
 * (which the kernel VM_WARNs about) come out as MIGRATE_HIGHATOMIC.
 * page_group_by_mobility_disabled is set by build_all_zonelists() when there
 * is too little memory for grouping by mobility to be worth it.
 */
export function gfp_migratetype(gfp_flags: number, page_group_by_mobility_disabled = false): number {
  if (page_group_by_mobility_disabled) return MIGRATE_UNMOVABLE;
  return (gfp_flags & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT;
}

export function gfpflags_allow_blocking(gfp_flags: number): boolean {
  return (gfp_flags & __GFP_DIRECT_RECLAIM) !== 0;
}

/** Both __GFP_IO and __GFP_FS. */
export function gfp_has_io_fs(gfp: number): boolean {
  return (gfp & (__GFP_IO | __GFP_FS)) === (__GFP_IO | __GFP_FS);
}

/** The parts of `current` and the preempt count that the flag helpers read. */
export interface GfpTaskContext {
  /** rt_or_dl_task(current): RT or deadline priority, PI boosts included. */
  readonly rtTask?: boolean;
  /** In hardirq or NMI context. */
  readonly inHardirq?: boolean;
  /** in_serving_softirq(): running a softirq handler. */
  readonly inServingSoftirq?: boolean;
  /** Softirqs disabled (local_bh_disable()) in task context. */
  readonly softirqDisabled?: boolean;
  /** current->flags & PF_MEMALLOC: the task is itself freeing memory. */
  readonly pfMemalloc?: boolean;
  /** tsk_is_oom_victim(current). */
  readonly oomVictim?: boolean;
}

/** A plain process: not RT, not in interrupt, no PF_MEMALLOC, not an OOM victim. */
export const TASK_CONTEXT: GfpTaskContext = {};

/** in_task(): not in hardirq, NMI or a softirq handler. */
function in_task(ctx: GfpTaskContext): boolean {
  return !ctx.inHardirq && !ctx.inServingSoftirq;
}

/** in_interrupt(): irq_count() != 0, which softirqs merely being disabled also makes true. */
function in_interrupt(ctx: GfpTaskContext): boolean {
  return !!(ctx.inHardirq || ctx.inServingSoftirq || ctx.softirqDisabled);
}

/**
 * With CONFIG_CMA, movable allocations may use CMA pageblocks. Must be
 * applied after current_gfp_context() has adjusted the mask.
 */
export function gfp_to_alloc_flags_cma(gfp_mask: number, alloc_flags: number, config_cma: boolean): number {
  if (config_cma && gfp_migratetype(gfp_mask) === MIGRATE_MOVABLE) alloc_flags |= ALLOC_CMA;
  return alloc_flags;
}

/**
 * The slow path's alloc_flags for a request (mm/page_alloc.c, 6.12). The
 * fast path uses ALLOC_WMARK_LOW instead. __GFP_HIGH and
 * __GFP_KSWAPD_RECLAIM carry over bit for bit (ALLOC_MIN_RESERVE,
 * ALLOC_KSWAPD); a caller that cannot enter direct reclaim gets
 * ALLOC_NON_BLOCK (and for order > 0 with __GFP_HIGH, ALLOC_HIGHATOMIC)
 * unless __GFP_NOMEMALLOC, and non-blocking __GFP_HIGH ignores cpusets; an
 * RT task in task context gets ALLOC_MIN_RESERVE.
 *
 * ALLOC_NO_WATERMARKS and ALLOC_OOM are not set here: the slow path asks
 * __gfp_pfmemalloc_flags() separately and, when that is nonzero, *replaces*
 * alloc_flags with gfp_to_alloc_flags_cma(gfp_mask, reserve_flags) |
 * (alloc_flags & ALLOC_KSWAPD).
 */
export function gfp_to_alloc_flags(
  gfp_mask: number,
  order: number,
  ctx: GfpTaskContext = TASK_CONTEXT,
  config_cma = false,
): number {
  let alloc_flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;

  alloc_flags |= gfp_mask & (__GFP_HIGH | __GFP_KSWAPD_RECLAIM);

  if (!(gfp_mask & __GFP_DIRECT_RECLAIM)) {
    if (!(gfp_mask & __GFP_NOMEMALLOC)) {
      alloc_flags |= ALLOC_NON_BLOCK;
      if (order > 0 && alloc_flags & ALLOC_MIN_RESERVE) alloc_flags |= ALLOC_HIGHATOMIC;
    }
    if (alloc_flags & ALLOC_MIN_RESERVE) alloc_flags &= ~ALLOC_CPUSET;
  } else if (ctx.rtTask && in_task(ctx)) {
    alloc_flags |= ALLOC_MIN_RESERVE;
  }

  return gfp_to_alloc_flags_cma(gfp_mask, alloc_flags, config_cma);
}

/**
 * Full access to the reserves (ALLOC_NO_WATERMARKS) for __GFP_MEMALLOC and
 * for PF_MEMALLOC tasks (outside interrupts, or in a softirq that
 * interrupted one); ALLOC_OOM for OOM victims outside interrupts; nothing
 * with __GFP_NOMEMALLOC.
 */
export function __gfp_pfmemalloc_flags(gfp_mask: number, ctx: GfpTaskContext = TASK_CONTEXT): number {
  if (gfp_mask & __GFP_NOMEMALLOC) return 0;
  if (gfp_mask & __GFP_MEMALLOC) return ALLOC_NO_WATERMARKS;
  if (ctx.inServingSoftirq && ctx.pfMemalloc) return ALLOC_NO_WATERMARKS;
  if (!in_interrupt(ctx)) {
    if (ctx.pfMemalloc) return ALLOC_NO_WATERMARKS;
    if (ctx.oomVictim) return ALLOC_OOM;
  }
  return 0;
}

export function gfp_pfmemalloc_allowed(gfp_mask: number, ctx: GfpTaskContext = TASK_CONTEXT): boolean {
  return __gfp_pfmemalloc_flags(gfp_mask, ctx) !== 0;
}
