/*
 * SPARSEMEM: the physical address space in memory sections, each section with
 * its own array of struct page (mm/sparse.c, mm/sparse-vmemmap.c,
 * include/linux/mmzone.h struct mem_section).
 *
 *   physical memory    | section 0 (128M) | section 1 | ... hole ... | section 32 |
 *   mem_section[]      | map  usage       | map usage |   (absent)   | map  usage |
 *                          |                                             |
 *   memmap blocks          v  2 MiB, from memblock on the section's node v
 *                      [struct page x 32768]                    [struct page x 32768]
 *
 * x86_64 (SPARSEMEM_VMEMMAP): struct page of pfn N is at the virtual address
 * VMEMMAP_START + N * 64; each section's 2 MiB of it is backed by one
 * PMD-sized block. The kernel maps those blocks with PMD entries; until kmem
 * has page tables, `vmemmap_pmd[section]` holds what that entry would: the
 * block's physical address with _PAGE_PRESENT|_PAGE_PSE.
 *
 * i386 (SPARSEMEM, no vmemmap): section_mem_map holds the kernel's encoding,
 * the memmap's lowmem virtual address minus the section's first pfn times
 * sizeof(struct page), plus flag bits; struct page addresses are lowmem
 * direct-map addresses.
 *
 * struct mem_section { unsigned long section_mem_map; struct mem_section_usage *usage; }
 * usage points at one byte per pageblock: its migratetype (the kernel packs
 * 4 bits per pageblock in usage->pageblock_flags; a byte keeps it readable).
 *
 * The JS side keeps, per section, the Int32Array and word index where its
 * memmap starts: derived from mem_section at attach time, never the source
 * of truth.
 */
import { HOST_SECTION_SIZE, PhysMem, sectionOffset } from '../machine/memory.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PAGE_SHIFT, type ArchLayout } from '../arch/x86/layout.ts';
import type { PageLayout } from './page.ts';

export const SECTION_MARKED_PRESENT = 1 << 0;
export const SECTION_HAS_MEM_MAP = 1 << 1;
export const SECTION_IS_ONLINE = 1 << 2;
export const SECTION_IS_EARLY = 1 << 3;
const SECTION_MAP_LAST_BIT = 5;

const _PAGE_PRESENT = 0x1;
const _PAGE_PSE = 0x80;

export interface SparseBootAllocator {
  /** Physical address of `size` bytes aligned to `align` on node `nid`, or 0. */
  alloc(size: number, align: number, nid: number): number;
}

export class Sparse {
  readonly PFN_SECTION_SHIFT: number;
  readonly PAGES_PER_SECTION: number;
  readonly nrSections: number;
  /** Pageblocks per section (usage bytes). */
  readonly pageblocksPerSection: number;
  private readonly pfnMask: number;
  private readonly pageWordsShift: number;
  private readonly memSectionEntry: number;
  private readonly vmemmap: boolean;
  /** VMEMMAP_START, sizeof(struct page) and the pfn past the last section: immutable, kept here one hop closer. */
  private readonly vmemmapStart: number;
  private readonly pageSize: number;
  private readonly pfnLimit: number;
  /** Derived: per section, the typed array and word index of its first struct page. */
  private readonly memmapArr: Int32Array[];
  private readonly memmapWord: Int32Array;
  private readonly memmapPhys: Float64Array;
  /** Derived: per section, the byte array and index of its pageblock types. */
  private readonly usageArr: Uint8Array[];
  private readonly usageIdx: Int32Array;
  /** Derived (i386): memmap block number (physical address / memmapBytes) to section. */
  private readonly sectionOfMemmapBlock = new Map<number, number>();
  private readonly memmapBytes: number;
  /** 1 / sizeof(struct page): a multiply where V8 would emit a division. */
  private readonly invPageSize: number;

  constructor(
    private readonly access: KmemAccess,
    private readonly layout: ArchLayout,
    private readonly pl: PageLayout,
    /** Physical address of mem_section[0]. */
    readonly memSectionPa: number,
    /** Physical address of vmemmap_pmd[0] (x86_64 only). */
    readonly vmemmapPmdPa: number,
    maxPfn: number,
    readonly pageblockOrder: number,
  ) {
    this.PFN_SECTION_SHIFT = layout.SECTION_SIZE_BITS - PAGE_SHIFT;
    this.PAGES_PER_SECTION = 1 << this.PFN_SECTION_SHIFT;
    this.pfnMask = this.PAGES_PER_SECTION - 1;
    this.pageWordsShift = Math.log2(pl.size / 4) | 0; // int fields: V8 keeps a double-valued field boxed
    this.nrSections = Math.ceil(maxPfn / this.PAGES_PER_SECTION) | 0;
    this.pfnLimit = this.nrSections * this.PAGES_PER_SECTION;
    this.pageblocksPerSection = this.PAGES_PER_SECTION >> pageblockOrder;
    this.memSectionEntry = 2 * layout.ptrSize;
    this.vmemmap = layout.VMEMMAP_START !== 0;
    this.vmemmapStart = layout.VMEMMAP_START;
    this.pageSize = pl.size;
    // Array.from, not new Array(n).fill(): a packed array, which V8 reads without a hole check.
    const none32 = new Int32Array(0);
    this.memmapArr = Array.from({ length: this.nrSections }, () => none32);
    this.memmapWord = new Int32Array(this.nrSections);
    this.memmapPhys = new Float64Array(this.nrSections);
    const none8 = new Uint8Array(0);
    this.usageArr = Array.from({ length: this.nrSections }, () => none8);
    this.usageIdx = new Int32Array(this.nrSections);
    this.memmapBytes = this.PAGES_PER_SECTION * pl.size;
    this.invPageSize = 1 / pl.size;
    access.mem.onRebind(() => this.attach());
  }

  /** Bytes the kernel needs for mem_section[] and vmemmap_pmd[] for maxPfn. */
  static tableBytes(layout: ArchLayout, maxPfn: number): { memSection: number; vmemmapPmd: number } {
    const n = Math.ceil(maxPfn / (1 << (layout.SECTION_SIZE_BITS - PAGE_SHIFT)));
    return { memSection: n * 2 * layout.ptrSize, vmemmapPmd: layout.VMEMMAP_START !== 0 ? n * 8 : 0 };
  }

  pfn_to_section_nr(pfn: number): number {
    return Math.floor(pfn / this.PAGES_PER_SECTION);
  }

  /** sparse_init(): give every section with memory a memmap and a usage map. */
  sparse_init(presentRanges: readonly { startPfn: number; endPfn: number; nid: number }[], boot: SparseBootAllocator): void {
    const memmapBytes = this.memmapBytes;
    // Naturally aligned: a PMD-sized block on x86_64, and on i386 an aligned
    // block, so that a struct page address tells its section by division.
    const memmapAlign = memmapBytes;
    for (const r of presentRanges) {
      for (let s = this.pfn_to_section_nr(r.startPfn); s <= this.pfn_to_section_nr(r.endPfn - 1); s++) {
        const entry = this.memSectionPa + s * this.memSectionEntry;
        if (this.access.readUlong(entry) & SECTION_MARKED_PRESENT) continue;
        const map = boot.alloc(memmapBytes, memmapAlign, r.nid);
        const usage = boot.alloc(this.pageblocksPerSection, 8, r.nid);
        if (map === 0 || usage === 0) throw new Error(`sparse_init: cannot allocate memmap for section ${s}`);
        const flags = SECTION_MARKED_PRESENT | SECTION_HAS_MEM_MAP | SECTION_IS_ONLINE | SECTION_IS_EARLY;
        const firstPfn = s * this.PAGES_PER_SECTION;
        if (this.vmemmap) {
          this.access.writeUlong(entry, flags);
          this.access.mem.write64(this.vmemmapPmdPa + s * 8, map + (_PAGE_PRESENT | _PAGE_PSE));
        } else {
          // (memmap virtual address - firstPfn * sizeof(struct page)) | flags, as 32-bit arithmetic
          const encoded = (map + this.layout.PAGE_OFFSET - firstPfn * this.pl.size) >>> 0;
          this.access.writeUlong(entry, (encoded | flags) >>> 0);
        }
        this.access.writePtr(entry + this.layout.ptrSize, usage + this.layout.PAGE_OFFSET);
        this.cacheSection(s);
      }
    }
  }

  /** Rebuild the derived per-section cache from mem_section (boot or attach). */
  attach(): void {
    for (let s = 0; s < this.nrSections; s++) this.cacheSection(s);
  }

  private cacheSection(s: number): void {
    const entry = this.memSectionPa + s * this.memSectionEntry;
    const smm = this.access.readUlong(entry);
    if ((smm & SECTION_HAS_MEM_MAP) === 0) return;
    let map: number;
    if (this.vmemmap) {
      map = this.access.mem.read64(this.vmemmapPmdPa + s * 8) - (_PAGE_PRESENT | _PAGE_PSE);
    } else {
      const mask = (1 << SECTION_MAP_LAST_BIT) - 1;
      const encoded = (smm - (smm & mask)) >>> 0;
      map = ((encoded + s * this.PAGES_PER_SECTION * this.pl.size) >>> 0) - this.layout.PAGE_OFFSET;
    }
    this.memmapPhys[s] = map;
    this.sectionOfMemmapBlock.set(map / this.memmapBytes, s);
    this.memmapArr[s] = this.access.mem.i32At(map);
    this.memmapWord[s] = PhysMem.wordIndex(map);
    const usage = this.access.readPtr(entry + this.layout.ptrSize) - this.layout.PAGE_OFFSET;
    this.usageArr[s] = this.access.mem.u8[Math.floor(usage / HOST_SECTION_SIZE)];
    this.usageIdx[s] = sectionOffset(usage);
  }

  pfn_valid(pfn: number): boolean {
    // (pfn >>> 0) === pfn: an integer in 0..2^32-1, a test that costs nothing when pfn is an int already
    if ((pfn >>> 0) !== pfn || pfn >= this.pfnLimit) return false;
    return this.memmapArr[pfn >>> this.PFN_SECTION_SHIFT].length !== 0;
  }

  /** The Int32Array holding pfn's struct page (pfn must be valid). */
  arr(pfn: number): Int32Array {
    return this.memmapArr[pfn >>> this.PFN_SECTION_SHIFT];
  }

  /** Word index of pfn's struct page inside arr(pfn). */
  word(pfn: number): number {
    return this.memmapWord[pfn >>> this.PFN_SECTION_SHIFT] + ((pfn & this.pfnMask) << this.pageWordsShift);
  }

  /** Physical address of pfn's struct page. */
  pagePhys(pfn: number): number {
    return this.memmapPhys[pfn >>> this.PFN_SECTION_SHIFT] + (pfn & this.pfnMask) * this.pl.size;
  }

  /** Kernel virtual address of pfn's struct page (what a struct page * holds). */
  page_to_virt(pfn: number): number {
    if (this.vmemmap) return this.vmemmapStart + pfn * this.pageSize;
    return this.pagePhys(pfn) + this.layout.PAGE_OFFSET;
  }

  /** pfn of the struct page starting at kernel virtual address page (a struct page *), or -1. */
  page_to_pfn(page: number): number {
    if (this.vmemmap) {
      // Exact in doubles (addresses below 2^53, times 1/size, a power of two): an integer pfn means page is a struct page's start.
      const pfn = (page - this.vmemmapStart) * this.invPageSize;
      return (pfn >>> 0) === pfn && this.pfn_valid(pfn) ? pfn : -1;
    }
    const pfn = this.virt_to_pfn_of_page(page);
    return pfn >= 0 && this.page_to_virt(pfn) === page ? pfn : -1;
  }

  /** pfn of the struct page containing kernel virtual address va, or -1. */
  virt_to_pfn_of_page(va: number): number {
    if (this.vmemmap) {
      const off = va - this.layout.VMEMMAP_START;
      if (off < 0) return -1;
      const pfn = Math.floor(off / this.pl.size);
      return this.pfn_valid(pfn) ? pfn : -1;
    }
    const pa = va - this.layout.PAGE_OFFSET;
    const s = this.sectionOfMemmapBlock.get(Math.floor(pa / this.memmapBytes));
    if (s === undefined) return -1;
    return s * this.PAGES_PER_SECTION + Math.floor((pa - this.memmapPhys[s]) / this.pl.size);
  }

  /** Physical address of the struct page field at kernel virtual address va (vmemmap or lowmem). */
  pagePhysFromVirt(va: number): number {
    if (this.vmemmap) {
      const off = va - this.layout.VMEMMAP_START;
      const pfn = Math.floor(off / this.pl.size);
      return this.pagePhys(pfn) + (off - pfn * this.pl.size);
    }
    return va - this.layout.PAGE_OFFSET;
  }

  /** Pageblock migratetype byte of pfn (get_pageblock_migratetype). */
  get_pageblock_migratetype(pfn: number): number {
    const s = pfn >>> this.PFN_SECTION_SHIFT;
    return this.usageArr[s][this.usageIdx[s] + ((pfn & this.pfnMask) >>> this.pageblockOrder)];
  }

  set_pageblock_migratetype(pfn: number, mt: number): void {
    const s = pfn >>> this.PFN_SECTION_SHIFT;
    this.usageArr[s][this.usageIdx[s] + ((pfn & this.pfnMask) >>> this.pageblockOrder)] = mt;
  }
}
