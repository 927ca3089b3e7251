/*
 * __pa() and __va(): the kernel's fixed mappings, translated by arithmetic
 * (arch/x86/include/asm/page.h, page_64.h, page_32.h).
 *
 *   direct map   PAGE_OFFSET + pa              (all RAM on x86_64, lowmem on i386)
 *   kernel image __START_KERNEL_map + pa       (x86_64 only: ffffffff80000000)
 *   vmemmap      VMEMMAP_START + pfn * 64      (x86_64: through the memmap of pfn's section)
 *
 * Addresses elsewhere (vmalloc, ioremap, pkmap) go through page tables: that
 * is the paging layer's job, not this file's. `readPtr`/`writePtr` make this
 * the PointerMemory the kernel's lists work through; read8..write64 and the
 * byte-range calls read and write memory by kernel virtual address. An
 * address outside the fixed mappings throws a RangeError naming it.
 */
import type { KmemAccess } from '../../machine/kmem_access.ts';
import { formatPtr, type ArchLayout } from './layout.ts';
import type { Sparse } from '../../mm/sparse.ts';

/** x86_64 __START_KERNEL_map (ffffffff80000000) in the 48-bit JS form. */
const START_KERNEL_MAP = 0xffff80000000;

export class KernelAddr {
  readonly ptrSize: 8 | 4;
  sparse: Sparse | null = null;
  private readonly vmemmapStart: number;
  private readonly pageOffset: number;
  /** End of the direct map (PAGE_OFFSET + end of lowmem). */
  directMapEnd: number;

  constructor(readonly access: KmemAccess, readonly layout: ArchLayout, lowmemEnd: number) {
    this.ptrSize = layout.ptrSize;
    this.vmemmapStart = layout.VMEMMAP_START;
    this.pageOffset = layout.PAGE_OFFSET;
    this.directMapEnd = layout.PAGE_OFFSET + lowmemEnd;
  }

  __va(pa: number): number {
    return pa + this.pageOffset;
  }

  /** Kernel virtual to physical for the fixed mappings; -1 if va is not in one. */
  __pa(va: number): number {
    if (va >= this.pageOffset && va < this.directMapEnd) return va - this.pageOffset;
    if (this.vmemmapStart !== 0) {
      if (va >= START_KERNEL_MAP) return va - START_KERNEL_MAP;
      if (va >= this.vmemmapStart && this.sparse !== null) {
        const pfnOfPage = this.sparse.virt_to_pfn_of_page(va);
        return pfnOfPage < 0 ? -1 : this.sparse.pagePhysFromVirt(va);
      }
    }
    return -1;
  }

  /** Kernel-image virtual address of a physical address inside the image (x86_64 symbols). */
  imageVa(pa: number): number {
    return this.vmemmapStart !== 0 ? pa + START_KERNEL_MAP : pa + this.pageOffset;
  }

  readPtr(va: number): number {
    return this.access.readPtr(this.__pa(va));
  }

  writePtr(va: number, v: number): void {
    this.access.writePtr(this.__pa(va), v);
  }

  /** __pa() for an access of len bytes, which must stay inside one mapping. */
  private pa(va: number, len: number): number {
    const pa = this.__pa(va);
    if (pa < 0 || this.__pa(va + len - 1) !== pa + len - 1) {
      throw new RangeError(`kernel address ${formatPtr(this.layout, va)} (+${len}) is not in a fixed kernel mapping`);
    }
    return pa;
  }

  read8(va: number): number { return this.access.mem.read8(this.pa(va, 1)); }
  read16(va: number): number { return this.access.mem.read16(this.pa(va, 2)); }
  read32(va: number): number { return this.access.mem.read32(this.pa(va, 4)); }
  /** 64-bit read as a number (exact below 2^53); read64n for all 64 bits. */
  read64(va: number): number { return this.access.mem.read64(this.pa(va, 8)); }
  read64n(va: number): bigint { return this.access.mem.read64n(this.pa(va, 8)); }
  write8(va: number, v: number): void { this.access.mem.write8(this.pa(va, 1), v); }
  write16(va: number, v: number): void { this.access.mem.write16(this.pa(va, 2), v); }
  write32(va: number, v: number): void { this.access.mem.write32(this.pa(va, 4), v); }
  write64(va: number, v: number): void { this.access.mem.write64(this.pa(va, 8), v); }
  write64n(va: number, v: bigint): void { this.access.mem.write64n(this.pa(va, 8), v); }
  readBytes(va: number, len: number): Uint8Array { return this.access.mem.readBytes(this.pa(va, len), len); }
  writeBytes(va: number, src: Uint8Array): void { this.access.mem.writeBytes(this.pa(va, src.length), src); }
  /** memset() */
  fill(va: number, len: number, byte: number): void { this.access.mem.fill(this.pa(va, len), len, byte); }
}
