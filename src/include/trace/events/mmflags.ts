/*
 * gfp flags as text (include/trace/events/mmflags.h, 6.12): the gfp_flags=
 * field of the kmem tracepoints (show_gfp_flags(), printed by __print_flags,
 * kernel/trace/trace_output.c trace_print_flags_seq()) and the "%pGg" of
 * printk (lib/vsprintf.c format_flags(), e.g. warn_alloc's
 * "mode:0xcc0(GFP_KERNEL)"), and parse_gfp_flags(), the reverse.
 *
 * Both printers walk the name table in order and take every entry whose mask
 * is wholly contained in what is left, so composites listed first win:
 *
 *   GFP_KERNEL | __GFP_ZERO | __GFP_COMP  ->  GFP_KERNEL|__GFP_COMP|__GFP_ZERO  (6.12)
 *
 * Bits no entry covers are printed as one hex number at the end ("0x200").
 * They differ only for 0: the tracepoint prints "none", %pGg nothing, so
 * warn_alloc shows "mode:0x0()" (the kernel's %#x prints 0 as 0x0).
 *
 * The order of the single bits changed after 6.12: later kernels (6.18, which
 * wrote the project's real trace) list them in bit order, generated from the
 * ___GFP_*_BIT enum, after the composites and __GFP_RECLAIM:
 *
 *   6.12  GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO
 *   6.18  GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP
 *
 * Neither table names __GFP_NO_OBJ_EXT or the unused bit 9; they print as hex.
 *
 * Kernels before 4.6 spelled the names without leading underscores
 * (GFP_KERNEL|GFP_ZERO, GFP_NOWARN), had no "none" (0 printed as GFP_NOWAIT,
 * which was 0 until 4.4) and used other bit positions; parse_gfp_flags()
 * maps those names onto today's bits.
 */
import {
  __GFP_ACCOUNT,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HARDWALL,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NO_OBJ_EXT,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  __GFP_WRITE,
  __GFP_ZERO,
  __GFP_ZEROTAGS,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_KERNEL_ACCOUNT,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  GFP_TRANSHUGE,
  GFP_TRANSHUGE_LIGHT,
  GFP_USER,
  GFP_ZONEMASK,
} from '../../linux/gfp_types.ts';

/** struct trace_print_flags: one entry of a __print_flags table. */
export interface TracePrintFlag {
  readonly mask: number;
  readonly name: string;
}

const COMPOSITES: readonly TracePrintFlag[] = [
  { mask: GFP_TRANSHUGE, name: 'GFP_TRANSHUGE' },
  { mask: GFP_TRANSHUGE_LIGHT, name: 'GFP_TRANSHUGE_LIGHT' },
  { mask: GFP_HIGHUSER_MOVABLE, name: 'GFP_HIGHUSER_MOVABLE' },
  { mask: GFP_HIGHUSER, name: 'GFP_HIGHUSER' },
  { mask: GFP_USER, name: 'GFP_USER' },
  { mask: GFP_KERNEL_ACCOUNT, name: 'GFP_KERNEL_ACCOUNT' },
  { mask: GFP_KERNEL, name: 'GFP_KERNEL' },
  { mask: GFP_NOFS, name: 'GFP_NOFS' },
  { mask: GFP_ATOMIC, name: 'GFP_ATOMIC' },
  { mask: GFP_NOIO, name: 'GFP_NOIO' },
  { mask: GFP_NOWAIT, name: 'GFP_NOWAIT' },
];

/** gfpflag_names[] (mm/debug.c) = __def_gfpflag_names of 6.12. */
export const gfpflag_names: readonly TracePrintFlag[] = [
  ...COMPOSITES,
  { mask: GFP_DMA, name: 'GFP_DMA' },
  { mask: __GFP_HIGHMEM, name: '__GFP_HIGHMEM' },
  { mask: GFP_DMA32, name: 'GFP_DMA32' },
  { mask: __GFP_HIGH, name: '__GFP_HIGH' },
  { mask: __GFP_IO, name: '__GFP_IO' },
  { mask: __GFP_FS, name: '__GFP_FS' },
  { mask: __GFP_NOWARN, name: '__GFP_NOWARN' },
  { mask: __GFP_RETRY_MAYFAIL, name: '__GFP_RETRY_MAYFAIL' },
  { mask: __GFP_NOFAIL, name: '__GFP_NOFAIL' },
  { mask: __GFP_NORETRY, name: '__GFP_NORETRY' },
  { mask: __GFP_COMP, name: '__GFP_COMP' },
  { mask: __GFP_ZERO, name: '__GFP_ZERO' },
  { mask: __GFP_NOMEMALLOC, name: '__GFP_NOMEMALLOC' },
  { mask: __GFP_MEMALLOC, name: '__GFP_MEMALLOC' },
  { mask: __GFP_HARDWALL, name: '__GFP_HARDWALL' },
  { mask: __GFP_THISNODE, name: '__GFP_THISNODE' },
  { mask: __GFP_RECLAIMABLE, name: '__GFP_RECLAIMABLE' },
  { mask: __GFP_MOVABLE, name: '__GFP_MOVABLE' },
  { mask: __GFP_ACCOUNT, name: '__GFP_ACCOUNT' },
  { mask: __GFP_WRITE, name: '__GFP_WRITE' },
  { mask: __GFP_RECLAIM, name: '__GFP_RECLAIM' },
  { mask: __GFP_DIRECT_RECLAIM, name: '__GFP_DIRECT_RECLAIM' },
  { mask: __GFP_KSWAPD_RECLAIM, name: '__GFP_KSWAPD_RECLAIM' },
  { mask: __GFP_ZEROTAGS, name: '__GFP_ZEROTAGS' },
];

/**
 * __def_gfpflag_names as 6.18 builds it: the composites, GFP_DMA, GFP_DMA32,
 * __GFP_RECLAIM, then every bit of TRACE_GFP_FLAGS in bit order.
 */
export const gfpflag_names_6_18: readonly TracePrintFlag[] = [
  ...COMPOSITES,
  { mask: GFP_DMA, name: 'GFP_DMA' },
  { mask: GFP_DMA32, name: 'GFP_DMA32' },
  { mask: __GFP_RECLAIM, name: '__GFP_RECLAIM' },
  { mask: __GFP_DMA, name: '__GFP_DMA' },
  { mask: __GFP_HIGHMEM, name: '__GFP_HIGHMEM' },
  { mask: __GFP_DMA32, name: '__GFP_DMA32' },
  { mask: __GFP_MOVABLE, name: '__GFP_MOVABLE' },
  { mask: __GFP_RECLAIMABLE, name: '__GFP_RECLAIMABLE' },
  { mask: __GFP_HIGH, name: '__GFP_HIGH' },
  { mask: __GFP_IO, name: '__GFP_IO' },
  { mask: __GFP_FS, name: '__GFP_FS' },
  { mask: __GFP_ZERO, name: '__GFP_ZERO' },
  { mask: __GFP_DIRECT_RECLAIM, name: '__GFP_DIRECT_RECLAIM' },
  { mask: __GFP_KSWAPD_RECLAIM, name: '__GFP_KSWAPD_RECLAIM' },
  { mask: __GFP_WRITE, name: '__GFP_WRITE' },
  { mask: __GFP_NOWARN, name: '__GFP_NOWARN' },
  { mask: __GFP_RETRY_MAYFAIL, name: '__GFP_RETRY_MAYFAIL' },
  { mask: __GFP_NOFAIL, name: '__GFP_NOFAIL' },
  { mask: __GFP_NORETRY, name: '__GFP_NORETRY' },
  { mask: __GFP_MEMALLOC, name: '__GFP_MEMALLOC' },
  { mask: __GFP_COMP, name: '__GFP_COMP' },
  { mask: __GFP_NOMEMALLOC, name: '__GFP_NOMEMALLOC' },
  { mask: __GFP_HARDWALL, name: '__GFP_HARDWALL' },
  { mask: __GFP_THISNODE, name: '__GFP_THISNODE' },
  { mask: __GFP_ACCOUNT, name: '__GFP_ACCOUNT' },
  { mask: __GFP_ZEROTAGS, name: '__GFP_ZEROTAGS' },
];

/**
 * format_flags() / trace_print_flags_seq(): greedy in table order, names
 * joined with '|', leftover bits as one hex number; "" for 0.
 */
function format_flags(flags: number, names: readonly TracePrintFlag[]): string {
  let rest = flags >>> 0;
  let out = '';
  for (let i = 0; rest !== 0 && i < names.length; i++) {
    const { mask, name } = names[i];
    if ((rest & mask) !== mask) continue;
    out += out === '' ? name : '|' + name;
    rest = (rest & ~mask) >>> 0;
  }
  if (rest !== 0) out += (out === '' ? '0x' : '|0x') + rest.toString(16);
  return out;
}

/** The gfp_flags=%s of the kmem tracepoints. */
export function show_gfp_flags(flags: number, names: readonly TracePrintFlag[] = gfpflag_names): string {
  return flags >>> 0 ? format_flags(flags, names) : 'none';
}

/** printk's "%#x(%pGg)" of a gfp mask, as in warn_alloc's "mode:0xcc0(GFP_KERNEL)". */
export function format_gfp_mode(flags: number, names: readonly TracePrintFlag[] = gfpflag_names): string {
  return '0x' + (flags >>> 0).toString(16) + '(' + format_flags(flags, names) + ')';
}

/* Every name either table prints, plus the bits neither names. */
const GFP_NAMES = new Map<string, number>([
  ...gfpflag_names.map((f) => [f.name, f.mask] as const),
  ...gfpflag_names_6_18.map((f) => [f.name, f.mask] as const),
  ['__GFP_NO_OBJ_EXT', __GFP_NO_OBJ_EXT],
]);

/*
 * The names of kernels before 4.6, mapped onto today's bits. Those whose
 * flag no longer exists (COLD, NOTRACK, OTHER_NODE) map to 0; __GFP_WAIT
 * became __GFP_RECLAIM in 4.4 and __GFP_REPEAT __GFP_RETRY_MAYFAIL in 4.13;
 * GFP_TEMPORARY (gone in 4.14) was GFP_KERNEL | __GFP_RECLAIMABLE.
 * GFP_NO_KSWAPD is the absence of today's __GFP_KSWAPD_RECLAIM. The
 * composites kept their names and meaning, so GFP_KERNEL etc. need no entry
 * (4.4 and 4.5 also printed __GFP_ATOMIC as "GFP_ATOMIC"; that reads as
 * today's GFP_ATOMIC).
 */
const LEGACY_GFP_NAMES = new Map<string, number>([
  ['GFP_TEMPORARY', GFP_KERNEL | __GFP_RECLAIMABLE],
  ['GFP_HIGH', __GFP_HIGH],
  ['GFP_WAIT', __GFP_RECLAIM],
  ['GFP_IO', __GFP_IO],
  ['GFP_COLD', 0],
  ['GFP_NOWARN', __GFP_NOWARN],
  ['GFP_REPEAT', __GFP_RETRY_MAYFAIL],
  ['GFP_NOFAIL', __GFP_NOFAIL],
  ['GFP_NORETRY', __GFP_NORETRY],
  ['GFP_COMP', __GFP_COMP],
  ['GFP_ZERO', __GFP_ZERO],
  ['GFP_NOMEMALLOC', __GFP_NOMEMALLOC],
  ['GFP_MEMALLOC', __GFP_MEMALLOC],
  ['GFP_HARDWALL', __GFP_HARDWALL],
  ['GFP_THISNODE', __GFP_THISNODE],
  ['GFP_RECLAIMABLE', __GFP_RECLAIMABLE],
  ['GFP_MOVABLE', __GFP_MOVABLE],
  ['GFP_NOTRACK', 0],
  ['GFP_NO_KSWAPD', 0],
  ['GFP_OTHER_NODE', 0],
  /* 4.4 and 4.5 */
  ['GFP_FS', __GFP_FS],
  ['GFP_WRITE', __GFP_WRITE],
  ['GFP_DIRECT_RECLAIM', __GFP_DIRECT_RECLAIM],
  ['GFP_KSWAPD_RECLAIM', __GFP_KSWAPD_RECLAIM],
]);

/*
 * Bits at the same position in every kernel since 2.6.24 (the zone
 * modifiers, __GFP_HIGH, __GFP_IO, __GFP_FS): the only hex leftovers of an
 * old trace that mean the same today.
 */
const LEGACY_STABLE_BITS = GFP_ZONEMASK | __GFP_HIGH | __GFP_IO | __GFP_FS;

const HEX = /^0x[0-9a-f]{1,8}$/i;

/**
 * The gfp mask a show_gfp_flags() or %pGg text stands for, or null if it
 * names something unknown. Accepts either table's order, "none", hex
 * leftovers and the pre-4.6 spellings (GFP_KERNEL|GFP_ZERO). `legacy` says
 * the text comes from a pre-4.6 kernel: there a lone GFP_NOWAIT means 0, and
 * a hex leftover is accepted only where the bit has kept its position.
 */
export function parse_gfp_flags(text: string, legacy = false): number | null {
  if (text === 'none') return 0;
  if (legacy && text === 'GFP_NOWAIT') return 0;
  let flags = 0;
  let noKswapd = false;
  for (const token of text.split('|')) {
    const known = GFP_NAMES.get(token) ?? LEGACY_GFP_NAMES.get(token);
    if (known !== undefined) {
      flags |= known;
      noKswapd ||= token === 'GFP_NO_KSWAPD';
    } else if (HEX.test(token)) {
      const bits = parseInt(token.slice(2), 16);
      if (legacy && (bits & ~LEGACY_STABLE_BITS) !== 0) return null;
      flags |= bits;
    } else {
      return null;
    }
  }
  if (noKswapd) flags &= ~__GFP_KSWAPD_RECLAIM;
  return flags >>> 0;
}
