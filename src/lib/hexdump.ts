/*
 * lib/hexdump.c (Linux 6.12): hex_dump_to_buffer() and print_hex_dump(),
 * as SLUB's print_section() uses them (16 bytes a row, groups of 1, with
 * the ASCII column):
 *
 *   print_hex_dump(KERN_ERR, "Redzone  ", DUMP_PREFIX_ADDRESS, 16, 1, p, 8, 1)
 *   Redzone  000000003b9ab7d2: bb bb bb bb bb bb bb bb                          ........
 *   |prefix  |%p of the row    |hex, one group per byte, padded to column 49   |ascii
 *
 * The address is printed with %p, so it is hashed unless pointers are not
 * hashed (no_hash_pointers, which slab_debug= on the command line turns
 * on); the caller passes the formatter.
 */

export const DUMP_PREFIX_NONE = 0;
export const DUMP_PREFIX_ADDRESS = 1;
export const DUMP_PREFIX_OFFSET = 2;

const HEX = '0123456789abcdef';

/** isascii(c) && isprint(c) */
function printable(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/**
 * hex_dump_to_buffer() with a buffer large enough: one row of up to
 * rowsize bytes (16 or 32), in groups of groupsize bytes (1, 2, 4 or 8,
 * little-endian as x86 reads them), then, if ascii, the bytes as text
 * starting at column rowsize * 2 + rowsize / groupsize + 1.
 */
export function hex_dump_to_buffer(buf: Uint8Array, rowsize: number, groupsize: number, ascii: boolean): string {
  if (rowsize !== 16 && rowsize !== 32) rowsize = 16;
  const len = Math.min(buf.length, rowsize);
  if (![1, 2, 4, 8].includes(groupsize)) groupsize = 1;
  if (len % groupsize !== 0) groupsize = 1;
  const ngroups = len / groupsize;
  const asciiColumn = rowsize * 2 + rowsize / groupsize + 1;
  if (len === 0) return '';
  let out = '';
  for (let j = 0; j < ngroups; j++) {
    if (j) out += ' ';
    for (let b = groupsize - 1; b >= 0; b--) {
      const ch = buf[j * groupsize + b];
      out += HEX[ch >> 4] + HEX[ch & 15];
    }
  }
  if (!ascii) return out;
  out = out.padEnd(asciiColumn, ' ');
  for (let j = 0; j < len; j++) out += printable(buf[j]) ? String.fromCharCode(buf[j]) : '.';
  return out;
}

/**
 * print_hex_dump()'s lines (without the level): `prefix`, then the row's
 * address (`ptr(addr)`, what %p prints) or offset, then ": " and the row.
 */
export function print_hex_dump_lines(prefix: string, prefixType: number, rowsize: number, groupsize: number,
  buf: Uint8Array, addr: number, ascii: boolean, ptr: (addr: number) => string): string[] {
  if (rowsize !== 16 && rowsize !== 32) rowsize = 16;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i += rowsize) {
    const row = hex_dump_to_buffer(buf.subarray(i, Math.min(buf.length, i + rowsize)), rowsize, groupsize, ascii);
    if (prefixType === DUMP_PREFIX_ADDRESS) lines.push(`${prefix}${ptr(addr + i)}: ${row}`);
    else if (prefixType === DUMP_PREFIX_OFFSET) lines.push(`${prefix}${i.toString(16).padStart(8, '0')}: ${row}`);
    else lines.push(`${prefix}${row}`);
  }
  return lines;
}
