/*
 * /proc/sys/vm/{min_free_kbytes,watermark_scale_factor,lowmem_reserve_ratio}:
 * the ctl_table entries of mm/page_alloc.c (page_alloc_sysctl_table[]) and
 * the integer-vector handler they use, kernel/sysctl.c proc_dointvec_minmax()
 * -> __do_proc_dointvec() with do_proc_dointvec_minmax_conv(), Linux 6.12.
 *
 * Reading prints the ints separated by tabs, then a newline:
 *
 *   $ cat /proc/sys/vm/min_free_kbytes
 *   67584
 *   $ cat /proc/sys/vm/watermark_scale_factor
 *   10
 *   $ cat /proc/sys/vm/lowmem_reserve_ratio        (x86_64: DMA DMA32 Normal Movable Device)
 *   256	256	32	0	0
 *
 * Writing parses whitespace-separated integers into the vector from its first
 * element, stopping at its length (maxlen / sizeof(int)). Each number is read
 * by proc_get_long(): an optional '-', then a digit, then strtoul with base 0
 * (so "0x10" is 16 and "010" is 8), at most 20 characters, and it must be
 * followed by ' ', '\t', '\n' or the end. Values outside int, or outside the
 * table's [extra1, extra2], fail with -EINVAL; elements stored before the
 * failing one keep their new values (the kernel writes them in place). A
 * write with no number at all is -EINVAL (but an empty write returns 0). On success write() returns the
 * bytes consumed: trailing input beyond the vector's length is left over.
 *
 *   min_free_kbytes         extra1 = 0           (then setup_per_zone_wmarks())
 *   watermark_scale_factor  extra1 = 1, extra2 = 3000
 *   lowmem_reserve_ratio    no bounds; its handler ignores the parse result,
 *                           so bad input is never refused (ratios parsed
 *                           before the error stay), then turns every ratio
 *                           < 1 into 0.
 *
 * This module only formats and parses: the caller owns the values and applies
 * the side effects (recomputing watermarks or lowmem_reserve).
 */

export const EINVAL = 22;

/** Input is capped at PAGE_SIZE - 1 bytes (__do_proc_dointvec()). */
const WRITE_MAX = 4095;
/** TMPBUFLEN in kernel/sysctl.c: a number plus its trailer fits in 21 bytes. */
const TMPBUFLEN = 22;
const INT_MAX = 2147483647;

/** The kernel's isspace() (lib/ctype.c): \t \n \v \f \r, space and Latin-1 NBSP. */
function isSpace(c: string): boolean {
  return c === ' ' || (c >= '\t' && c <= '\r') || c === '\u00a0';
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isXDigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** proc_dointvec read side: "%d" joined by '\t', then '\n' (nothing for an empty vector). */
export function formatIntVec(values: readonly number[]): string {
  return values.length === 0 ? '' : `${values.join('\t')}\n`;
}

export interface IntVecBounds {
  min?: number;
  max?: number;
}

export interface IntVecWrite {
  /** What write() returns: bytes consumed, or -EINVAL. */
  ret: number;
  /** The vector after the write (a copy; unchanged elements kept). */
  values: number[];
}

/**
 * proc_get_long() on `s` from `pos` with `size` bytes left: the number and how
 * many characters it took, or null for -EINVAL.
 */
function procGetLong(s: string, pos: number, size: number): { value: bigint; neg: boolean; len: number } | null {
  const len = Math.min(size, TMPBUFLEN - 1);
  const tmp = s.slice(pos, pos + len);
  let p = 0;
  let neg = false;
  if (tmp[0] === '-' && size > 1) {
    neg = true;
    p++;
  }
  if (!isDigit(tmp[p])) return null;

  // strtoul_lenient(): _parse_integer_fixup_radix() then _parse_integer().
  let base = 10n;
  if (tmp[p] === '0') {
    if (tmp[p + 1]?.toLowerCase() === 'x' && isXDigit(tmp[p + 2])) {
      base = 16n;
      p += 2;
    } else {
      base = 8n;
    }
  }
  let value = 0n;
  for (; p < tmp.length; p++) {
    const d = parseInt(tmp[p] as string, 16);
    if (Number.isNaN(d) || BigInt(d) >= base) break;
    value = value * base + BigInt(d);
  }
  if (value > 0xffffffffffffffffn) return null; // -ERANGE, reported as -EINVAL

  // The digits may have run to the end of the 21-byte window: refuse.
  if (p === TMPBUFLEN - 1) return null;
  if (p < size && !(tmp[p] === ' ' || tmp[p] === '\t' || tmp[p] === '\n')) return null;
  return { value, neg, len: p };
}

/**
 * __do_proc_dointvec() write with do_proc_dointvec_minmax_conv(): `rc` is its
 * return value, `lenp` what it leaves in *lenp (the bytes write() reports
 * when the handler returns 0).
 */
function doIntVecWrite(
  current: readonly number[],
  input: string,
  bounds: IntVecBounds,
): { rc: number; lenp: number; values: number[] } {
  const values = [...current];
  if (input.length === 0 || values.length === 0) return { rc: 0, lenp: 0, values }; // *lenp = 0
  let left = Math.min(input.length, WRITE_MAX);
  let pos = 0;
  let first = true;
  let err = 0;
  const skipSpaces = (): void => {
    while (left > 0 && isSpace(input[pos] as string)) {
      pos++;
      left--;
    }
  };

  for (let i = 0; left > 0 && i < values.length; i++, first = false) {
    skipSpaces();
    if (left === 0) break;
    const num = procGetLong(input, pos, left);
    if (num === null) {
      err = -EINVAL;
      break;
    }
    pos += num.len;
    left -= num.len;
    // do_proc_dointvec_conv() into an int, then the [min, max] check.
    if (num.value > (num.neg ? BigInt(INT_MAX) + 1n : BigInt(INT_MAX))) {
      err = -EINVAL;
      break;
    }
    const v = num.neg ? -Number(num.value) : Number(num.value);
    if ((bounds.min !== undefined && v < bounds.min) || (bounds.max !== undefined && v > bounds.max)) {
      err = -EINVAL;
      break;
    }
    values[i] = v === 0 ? 0 : v; // "-0" stores 0
  }
  if (err === 0 && left > 0) skipSpaces();
  if (first) return { rc: err !== 0 ? err : -EINVAL, lenp: input.length, values };
  return { rc: err, lenp: input.length - left, values };
}

/**
 * proc_dointvec_minmax() write of `input` (one character per byte, written
 * at offset 0) into a copy of `current`, whose length is the table's maxlen
 * in ints.
 */
export function writeIntVec(current: readonly number[], input: string, bounds: IntVecBounds = {}): IntVecWrite {
  const r = doIntVecWrite(current, input, bounds);
  return { ret: r.rc < 0 ? r.rc : r.lenp, values: r.values };
}

/** /proc/sys/vm/min_free_kbytes */
export function formatMinFreeKbytes(kbytes: number): string {
  return formatIntVec([kbytes]);
}

/** min_free_kbytes_sysctl_handler(): proc_dointvec_minmax with extra1 = SYSCTL_ZERO. */
export function writeMinFreeKbytes(current: number, input: string): { ret: number; value: number } {
  const r = writeIntVec([current], input, { min: 0 });
  return { ret: r.ret, value: r.values[0] as number };
}

/** /proc/sys/vm/watermark_scale_factor */
export function formatWatermarkScaleFactor(factor: number): string {
  return formatIntVec([factor]);
}

/** watermark_scale_factor_sysctl_handler(): extra1 = SYSCTL_ONE, extra2 = SYSCTL_THREE_THOUSAND. */
export function writeWatermarkScaleFactor(current: number, input: string): { ret: number; value: number } {
  const r = writeIntVec([current], input, { min: 1, max: 3000 });
  return { ret: r.ret, value: r.values[0] as number };
}

/** /proc/sys/vm/lowmem_reserve_ratio: one ratio per zone (MAX_NR_ZONES of them). */
export function formatLowmemReserveRatio(ratios: readonly number[]): string {
  return formatIntVec(ratios);
}

/**
 * lowmem_reserve_ratio_sysctl_handler(): ignores proc_dointvec_minmax()'s
 * result and returns 0, so a bad write is not refused: the ratios parsed
 * before the error are kept and write() returns what *lenp was left at (the
 * whole input when nothing parsed). Afterwards every ratio < 1 becomes 0.
 */
export function writeLowmemReserveRatio(current: readonly number[], input: string): IntVecWrite {
  const r = doIntVecWrite(current, input, {});
  return { ret: r.lenp, values: r.values.map((x) => (x < 1 ? 0 : x)) };
}
