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
 * the PointerMemory the kernel's lists work through.
 */
import type { KmemAccess } from '../../machine/kmem_access.ts';
import type { ArchLayout } from './layout.ts';
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
}
