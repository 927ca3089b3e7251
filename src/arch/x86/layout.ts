/*
 * The x86 kernel address-space layouts (Documentation/arch/x86/x86_64/mm.rst,
 * arch/x86/include/asm/page_{32,64}_types.h, pgtable_32_areas.h).
 *
 * x86_64, 4-level paging, no KASLR (addresses are deterministic):
 *
 *   ffff888000000000 +---------------------------+ PAGE_OFFSET
 *                    | direct map of all RAM     |  __va(pa) = pa + PAGE_OFFSET
 *   ffffc90000000000 +---------------------------+ VMALLOC_START
 *                    | vmalloc / ioremap (32 TB) |
 *   ffffe8ffffffffff +---------------------------+ VMALLOC_END
 *   ffffea0000000000 +---------------------------+ VMEMMAP_START
 *                    | struct page[pfn]          |  64 bytes each
 *   ffffffff80000000 +---------------------------+ __START_KERNEL_map
 *                    | kernel text, data, bss    |
 *
 * i386, 3G/1G split: lowmem is direct-mapped from 0xc0000000 up to
 * high_memory (at most MAXMEM, about 896 MiB); above it an 8 MiB hole, the
 * vmalloc area, two guard pages, the pkmap window (highmem kmap) and fixmap.
 *
 * How JavaScript holds a kernel virtual address: x86_64 addresses are
 * canonical (bits 63..48 copy bit 47), so a JS number holds the low 48 bits
 * exactly and bit 47 says whether the top 16 are ones. The kernel half
 * (ffff8000_00000000 and up) thus becomes 0x8000_0000_0000 and up. Stored in
 * simulated memory, a pointer is the full 8-byte canonical value. On i386 an
 * address is simply a 32-bit number.
 *
 * One exception: the list poison values (POISON_POINTER_DELTA 0xdead000000000000
 * + 0x100/0x122) are not canonical. Their JS form sets bit 48, which no
 * canonical address form has, so they round-trip exactly:
 *   stored 8 bytes     ffff888000001000   dead000000000100
 *   JS number          0x888000001000     2**48 + 0x100
 */

export type Arch = 'x86_64' | 'i386';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export interface ArchLayout {
  readonly arch: Arch;
  readonly bits: 64 | 32;
  /** sizeof(void *) and sizeof(unsigned long). */
  readonly ptrSize: 8 | 4;
  readonly PAGE_OFFSET: number;
  /** Where the kernel image is loaded, physical (CONFIG_PHYSICAL_START). */
  readonly PHYSICAL_START: number;
  /** Virtual address the kernel image is linked at (x86_64: __START_KERNEL_map + PHYSICAL_START). */
  readonly KERNEL_IMAGE_VADDR: number;
  /** x86_64: fixed. i386: depends on RAM, see i386VmallocStart(). */
  readonly VMALLOC_START: number;
  readonly VMALLOC_END: number;
  /** x86_64 only (0 on i386, whose struct pages live in lowmem). */
  readonly VMEMMAP_START: number;
  /** SPARSEMEM section size: 128 MiB on x86_64, 64 MiB on i386 without PAE. */
  readonly SECTION_SIZE_BITS: number;
  readonly MAX_PHYSMEM_BITS: number;
  /** sizeof(struct page). */
  readonly structPageSize: number;
  /** L1_CACHE_BYTES, used as SMP_CACHE_BYTES. */
  readonly cacheLine: number;
}

const TWO32 = 4294967296;
const TWO48 = 281474976710656;
const KERNEL_HALF = 0x800000000000;
/** The high 16 bits that mark a stored x86_64 pointer as POISON_POINTER_DELTA (0xdead000000000000) + offset. */
const POISON_HI16 = 0xdead;

export const X86_64: ArchLayout = {
  arch: 'x86_64',
  bits: 64,
  ptrSize: 8,
  PAGE_OFFSET: 0x888000000000,
  PHYSICAL_START: 0x1000000,
  KERNEL_IMAGE_VADDR: 0xffff81000000,
  VMALLOC_START: 0xc90000000000,
  VMALLOC_END: 0xe8ffffffffff,
  VMEMMAP_START: 0xea0000000000,
  SECTION_SIZE_BITS: 27,
  MAX_PHYSMEM_BITS: 46,
  structPageSize: 64,
  cacheLine: 64,
};

/** i386 constants that do not depend on the amount of RAM. */
export const I386_PAGE_OFFSET = 0xc0000000;
export const I386_FIXADDR_TOP = 0xfffff000;
export const I386_PKMAP_BASE = 0xff800000;
export const I386_LAST_PKMAP = 1024;
export const I386_VMALLOC_END = I386_PKMAP_BASE - 2 * PAGE_SIZE;
export const I386_VMALLOC_OFFSET = 8 << 20;
export const I386_VMALLOC_RESERVE = 128 << 20;
/** Largest lowmem: MAXMEM = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE. */
export const I386_MAXMEM = I386_VMALLOC_END - I386_PAGE_OFFSET - I386_VMALLOC_RESERVE;

export function i386Layout(lowmemEnd: number): ArchLayout {
  return {
    arch: 'i386',
    bits: 32,
    ptrSize: 4,
    PAGE_OFFSET: I386_PAGE_OFFSET,
    PHYSICAL_START: 0x1000000,
    KERNEL_IMAGE_VADDR: I386_PAGE_OFFSET + 0x1000000,
    VMALLOC_START: I386_PAGE_OFFSET + lowmemEnd + I386_VMALLOC_OFFSET,
    VMALLOC_END: I386_VMALLOC_END,
    VMEMMAP_START: 0,
    SECTION_SIZE_BITS: 26,
    MAX_PHYSMEM_BITS: 32,
    structPageSize: 32,
    cacheLine: 64,
  };
}

/** Format a kernel address as %px prints it (16 or 8 hex digits). */
export function formatPtr(layout: ArchLayout, addr: number): string {
  if (layout.bits === 32) return (addr >>> 0).toString(16).padStart(8, '0');
  if (addr >= 0x800000000000) return 'ffff' + addr.toString(16).padStart(12, '0');
  return addr.toString(16).padStart(16, '0');
}

/** Low 32-bit word stored for an x86_64 pointer in JS form (as an int32): ToInt32 is v mod 2^32 below 2^53. */
export function ptr64LoWord(v: number): number {
  return v | 0;
}

/** High 32-bit word stored for an x86_64 pointer in JS form (as an int32). */
export function ptr64HiWord(v: number): number {
  if (v >= TWO48) return (Math.floor((v - TWO48) / TWO32) & 0xffff) | (POISON_HI16 << 16);
  // v < 2^48: the product is exact and truncating it is floor()
  const hi = (v * (1 / TWO32)) | 0;
  return v >= KERNEL_HALF ? hi | 0xffff0000 : hi;
}

/**
 * The JS form of a stored x86_64 pointer given its two 32-bit words.
 * Canonical values and the 0xdead poison range round-trip exactly; any
 * other non-canonical value (only corruption makes one) reads as its low
 * 48 bits.
 */
export function ptr64FromWords(lo: number, hi: number): number {
  const v = (lo >>> 0) + (hi & 0xffff) * TWO32;
  return hi >>> 16 === POISON_HI16 ? v + TWO48 : v;
}
