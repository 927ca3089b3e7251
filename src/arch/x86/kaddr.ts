/*
 * Memory by kernel virtual address: __pa() and __va() for the kernel's fixed
 * mappings, and every other kernel address through the page tables
 * (arch/x86/include/asm/page.h, page_64.h, page_32.h; the MMU in mmu.ts).
 *
 *   direct map   PAGE_OFFSET + pa              (all RAM on x86_64, lowmem on i386)
 *   kernel image __START_KERNEL_map + pa       (x86_64 only: ffffffff80000000)
 *   vmemmap      VMEMMAP_START + pfn * 64      (x86_64: through the memmap of pfn's section)
 *   anything else: the page tables of init_mm, through the TLB (vmalloc,
 *   vmap, ioremap; and NULL, user addresses, guard pages, freed areas,
 *   which fault)
 *
 * The fixed mappings are arithmetic, so the hot path (the allocators'
 * own structures, all in the direct map) is one compare and the RAM
 * access. The kernel maps them with large pages that never change; kmem
 * does not build those entries (pgtable.ts).
 *
 *   read32(va)
 *     PAGE_OFFSET <= va, va + 4 <= end of direct map  -> RAM at va - PAGE_OFFSET
 *     else translate(va): image / vmemmap arithmetic, or Mmu.translate
 *          (TLB, walk, #PF -> the Oops and a thrown KernelBug)
 *          -> RAM, or the device of an MMIO page (IomemBus)
 *     an access that crosses a page boundary is done a byte at a time, each
 *     byte translated (the two pages need not be contiguous in RAM)
 *
 * `readPtr`/`writePtr` make this the PointerMemory the kernel's lists work
 * through; read8..write64 and the byte-range calls read and write memory by
 * kernel virtual address. Before paging is set up (mmu null), an address
 * outside the fixed mappings throws a RangeError naming it.
 */
import type { KmemAccess } from '../../machine/kmem_access.ts';
import type { PhysMem } from '../../machine/memory.ts';
import { PAGE_SIZE, formatPtr, ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from './layout.ts';
import type { Sparse } from '../../mm/sparse.ts';
import type { Mmu } from './mmu.ts';
import type { IomemBus } from '../../drivers/iomem.ts';

/** x86_64 __START_KERNEL_map (ffffffff80000000) in the 48-bit JS form. */
const START_KERNEL_MAP = 0xffff80000000;
const TWO32 = 4294967296;
const TWO48 = 2 ** 48;

export class KernelAddr {
  readonly ptrSize: 8 | 4;
  sparse: Sparse | null = null;
  /** The MMU (page tables, TLB, faults), once paging is set up. */
  mmu: Mmu | null = null;
  iomem: IomemBus | null = null;
  /** After translate(): -1 for RAM, else the device index on the I/O bus. */
  private ioDev = -1;
  private readonly vmemmapStart: number;
  private readonly pageOffset: number;
  private readonly mem: PhysMem;
  /** End of the direct map (PAGE_OFFSET + end of lowmem). */
  directMapEnd: number;
  private readonly vmallocStart: number;
  private readonly vmallocEnd: number;

  constructor(readonly access: KmemAccess, readonly layout: ArchLayout, lowmemEnd: number) {
    this.ptrSize = layout.ptrSize;
    this.vmemmapStart = layout.VMEMMAP_START;
    this.pageOffset = layout.PAGE_OFFSET;
    this.directMapEnd = layout.PAGE_OFFSET + lowmemEnd;
    this.mem = access.mem;
    this.vmallocStart = layout.VMALLOC_START;
    this.vmallocEnd = layout.VMALLOC_END;
  }

  __va(pa: number): number {
    return pa + this.pageOffset;
  }

  /** Kernel virtual to physical for the fixed mappings; -1 if va is not in one. */
  __pa(va: number): number {
    if (va >= this.pageOffset && va < this.directMapEnd) return va - this.pageOffset;
    if (this.vmemmapStart !== 0 && va < TWO48) {
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

  /**
   * The physical address of va for an access that stays in its page: the
   * fixed mappings by arithmetic, the rest through the MMU (which may fault
   * and throw). Sets ioDev.
   */
  translate(va: number, write: boolean): number {
    const mmu = this.mmu;
    // vmalloc space first: the common case of a translated access, no fixed mapping to rule out.
    if (va >= this.vmallocStart && va < this.vmallocEnd && mmu !== null) {
      const r = mmu.translate(va, write);
      this.ioDev = mmu.ioDev;
      return r;
    }
    const pa = this.__pa(va);
    if (pa >= 0) {
      this.ioDev = -1;
      return pa;
    }
    if (mmu === null) throw new RangeError(`kernel address ${formatPtr(this.layout, va)} is not in a fixed kernel mapping`);
    const r = mmu.translate(va, write);
    this.ioDev = mmu.ioDev;
    return r;
  }

  private inDirectMap(va: number, len: number): boolean {
    return va >= this.pageOffset && va + len <= this.directMapEnd;
  }

  /* ---------------------------------------------------------------- */
  /* Scalars                                                          */
  /* ---------------------------------------------------------------- */

  private slowRead(va: number, size: number): number {
    if ((va & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + this.read8(va + i);
      return v;
    }
    const pa = this.translate(va, false);
    if (this.ioDev >= 0) return this.iomem!.read(this.ioDev, pa, size);
    const m = this.mem;
    switch (size) {
      case 1: return m.read8(pa);
      case 2: return m.read16(pa);
      case 4: return m.read32(pa);
      default: return m.read64(pa);
    }
  }

  private slowWrite(va: number, size: number, v: number): void {
    if ((va & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      // Translate every byte first: a fault leaves nothing half written.
      for (let i = 0; i < size; i++) this.translate(va + i, true);
      for (let i = 0; i < size; i++) {
        this.write8(va + i, v & 0xff);
        v = Math.floor(v / 256);
      }
      return;
    }
    const pa = this.translate(va, true);
    if (this.ioDev >= 0) {
      this.iomem!.write(this.ioDev, pa, size, v);
      return;
    }
    const m = this.mem;
    switch (size) {
      case 1: m.write8(pa, v); return;
      case 2: m.write16(pa, v); return;
      case 4: m.write32(pa, v); return;
      default: m.write64(pa, v);
    }
  }

  readPtr(va: number): number {
    if (this.inDirectMap(va, this.ptrSize)) return this.access.readPtr(va - this.pageOffset);
    if (this.ptrSize === 4) return this.slowRead(va, 4);
    return ptr64FromWords(this.slowRead(va, 4), this.slowRead(va + 4, 4));
  }

  writePtr(va: number, v: number): void {
    if (this.inDirectMap(va, this.ptrSize)) {
      this.access.writePtr(va - this.pageOffset, v);
      return;
    }
    if (this.ptrSize === 4) {
      this.slowWrite(va, 4, v >>> 0);
      return;
    }
    this.translate(va, true);
    this.translate(va + 7, true);
    this.slowWrite(va, 4, ptr64LoWord(v) >>> 0);
    this.slowWrite(va + 4, 4, ptr64HiWord(v) >>> 0);
  }

  read8(va: number): number {
    if (va >= this.pageOffset && va < this.directMapEnd) return this.mem.read8(va - this.pageOffset);
    return this.slowRead(va, 1);
  }

  read16(va: number): number {
    if (this.inDirectMap(va, 2)) return this.mem.read16(va - this.pageOffset);
    return this.slowRead(va, 2);
  }

  read32(va: number): number {
    if (this.inDirectMap(va, 4)) return this.mem.read32(va - this.pageOffset);
    return this.slowRead(va, 4);
  }

  /** 64-bit read as a number (exact below 2^53); read64n for all 64 bits. */
  read64(va: number): number {
    if (this.inDirectMap(va, 8)) return this.mem.read64(va - this.pageOffset);
    return this.slowRead(va, 4) + this.slowRead(va + 4, 4) * TWO32;
  }

  read64n(va: number): bigint {
    return BigInt(this.read32(va)) | (BigInt(this.read32(va + 4)) << 32n);
  }

  write8(va: number, v: number): void {
    if (va >= this.pageOffset && va < this.directMapEnd) {
      this.mem.write8(va - this.pageOffset, v);
      return;
    }
    this.slowWrite(va, 1, v & 0xff);
  }

  write16(va: number, v: number): void {
    if (this.inDirectMap(va, 2)) {
      this.mem.write16(va - this.pageOffset, v);
      return;
    }
    this.slowWrite(va, 2, v & 0xffff);
  }

  write32(va: number, v: number): void {
    if (this.inDirectMap(va, 4)) {
      this.mem.write32(va - this.pageOffset, v);
      return;
    }
    this.slowWrite(va, 4, v >>> 0);
  }

  write64(va: number, v: number): void {
    if (this.inDirectMap(va, 8)) {
      this.mem.write64(va - this.pageOffset, v);
      return;
    }
    const hi = Math.floor(v / TWO32);
    this.translate(va, true);
    this.translate(va + 7, true);
    this.slowWrite(va, 4, (v - hi * TWO32) >>> 0);
    this.slowWrite(va + 4, 4, hi >>> 0);
  }

  write64n(va: number, v: bigint): void {
    this.translate(va, true);
    this.translate(va + 7, true);
    this.write32(va, Number(v & 0xffffffffn));
    this.write32(va + 4, Number((v >> 32n) & 0xffffffffn));
  }

  /* ---------------------------------------------------------------- */
  /* Byte ranges                                                      */
  /* ---------------------------------------------------------------- */

  /**
   * Walk [va, va+len) page by page: fn(pa, off, n, dev) for each piece
   * (dev -1 for RAM). With `write`, every page is translated before the
   * first byte moves, so a fault leaves the range untouched.
   */
  private pieces(va: number, len: number, write: boolean, fn: (pa: number, off: number, n: number, dev: number) => void): void {
    if (write) {
      for (let off = 0; off < len;) {
        const n = Math.min(len - off, PAGE_SIZE - ((va + off) & (PAGE_SIZE - 1)));
        this.translate(va + off, true);
        off += n;
      }
    }
    for (let off = 0; off < len;) {
      const a = va + off;
      const n = Math.min(len - off, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
      const pa = this.translate(a, write);
      fn(pa, off, n, this.ioDev);
      off += n;
    }
  }

  readBytes(va: number, len: number): Uint8Array {
    if (this.inDirectMap(va, len)) return this.mem.readBytes(va - this.pageOffset, len);
    const out = new Uint8Array(len);
    this.pieces(va, len, false, (pa, off, n, dev) => {
      if (dev < 0) this.mem.readBytes(pa, n, out.subarray(off, off + n));
      else for (let i = 0; i < n; i++) out[off + i] = this.iomem!.read(dev, pa + i, 1);
    });
    return out;
  }

  writeBytes(va: number, src: Uint8Array): void {
    if (this.inDirectMap(va, src.length)) {
      this.mem.writeBytes(va - this.pageOffset, src);
      return;
    }
    this.pieces(va, src.length, true, (pa, off, n, dev) => {
      if (dev < 0) this.mem.writeBytes(pa, src.subarray(off, off + n));
      else for (let i = 0; i < n; i++) this.iomem!.write(dev, pa + i, 1, src[off + i]);
    });
  }

  /** memset() */
  fill(va: number, len: number, byte: number): void {
    if (this.inDirectMap(va, len)) {
      this.mem.fill(va - this.pageOffset, len, byte);
      return;
    }
    this.pieces(va, len, true, (pa, _off, n, dev) => {
      if (dev < 0) this.mem.fill(pa, n, byte);
      else for (let i = 0; i < n; i++) this.iomem!.write(dev, pa + i, 1, byte);
    });
  }
}
