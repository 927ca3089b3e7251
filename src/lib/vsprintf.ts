/*
 * printk's pointer formats that reports need (lib/vsprintf.c):
 *
 *   %p    a pointer, hashed: the kernel never prints a plain %p address.
 *         ptr_to_id() prints NULL (and error pointers) as they are, and
 *         otherwise a 32-bit hash of the address, zero-padded to the
 *         pointer's width ("000000007c89c7b9" on x86_64). The kernel keys
 *         siphash with a random boot-time secret; kmem uses a fixed keyed
 *         mix instead, so the same run prints the same text.
 *   %px   the address itself (formatPtr in arch/x86/layout.ts).
 *   %pGp  page flags: the raw flags word, then the names of the set PG_*
 *         bits and the node and zone fields ("0x200(workingset|node=0|zone=2)").
 */
import { formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import { PAGEFLAG_NAMES, __NR_PAGEFLAGS, type Pages } from '../mm/page.ts';

const TWO32 = 4294967296;
/** -MAX_ERRNO: pointers at or above this (as unsigned) are ERR_PTR values. */
const MAX_ERRNO = 4095;

function mix32(lo: number, hi: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi ^ 0xc2b2ae35, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** %p: the hashed form of a pointer. */
export function ptr_to_id(layout: ArchLayout, ptr: number): string {
  const width = layout.ptrSize * 2;
  const top = layout.ptrSize === 8 ? 2 ** 48 : TWO32;
  const isErr = ptr >= top - MAX_ERRNO && ptr < top;
  if (ptr === 0 || isErr) return formatPtr(layout, ptr);
  const lo = ptr % TWO32;
  return mix32(lo | 0, ((ptr - lo) / TWO32) | 0).toString(16).padStart(width, '0');
}

/** %pGp of pfn's struct page. */
export function format_page_flags(p: Pages, layout: ArchLayout, pfn: number): string {
  const raw = p.rawWords(pfn);
  const hex = (v: number) => (v >>> 0).toString(16);
  const full = layout.ptrSize === 8 && raw[1] !== 0 ? hex(raw[1]) + hex(raw[0]).padStart(8, '0') : hex(raw[0]);
  const flags = p.flags(pfn);
  const names: string[] = [];
  for (let b = 0; b < __NR_PAGEFLAGS; b++) if (flags & (1 << b)) names.push(PAGEFLAG_NAMES[b]);
  names.push(`node=${p.page_to_nid(pfn)}`, `zone=${p.page_zonenum(pfn)}`);
  return `0x${full}(${names.join('|')})`;
}

/** The banner no_hash_pointers_enable() (lib/vsprintf.c) prints when %p stops hashing. */
export const NO_HASH_POINTERS_BANNER = [
  '**********************************************************',
  '**   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **',
  '**                                                      **',
  '** This system shows unhashed kernel memory addresses   **',
  '** via the console, logs, and other interfaces. This    **',
  '** might reduce the security of your system.            **',
  '**                                                      **',
  '** If you see this message and you are not debugging    **',
  '** the kernel, report this immediately to your system   **',
  '** administrator!                                       **',
  '**                                                      **',
  '**   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **',
  '**********************************************************',
];
