/*
 * x86 page tables in simulated memory (arch/x86/include/asm/pgtable_types.h,
 * pgtable_64_types.h, pgtable-2level_types.h, pgtable-3level_types.h,
 * pgalloc.h, include/asm-generic/pgalloc.h, mm/vmalloc.c vmap_*_range).
 *
 * The hardware walks a tree of 4 KiB tables. Each table is an ordinary
 * page of RAM, and each entry holds the physical address of the next
 * table (or of the page itself, at the last level) plus flag bits:
 *
 *   x86_64, 4-level paging: 512 entries of 8 bytes per table
 *
 *     virtual address  [47..39]   [38..30]   [29..21]   [20..12]  [11..0]
 *                         |          |          |          |         |
 *     CR3 -> PGD[512] ----+          |          |          |         |
 *              P4D (folded: the PGD entry read again)      |         |
 *                 PUD[512] ----------+          |          |         |
 *                    PMD[512] ------------------+          |         |
 *                       PTE[512] --------------------------+         |
 *                          page frame + offset ----------------------+
 *
 *   i386 without PAE: 1024 entries of 4 bytes, two levels
 *     [31..22] PGD (page directory)  [21..12] PTE (page table)  [11..0]
 *
 *   i386 with PAE: entries of 8 bytes, three levels
 *     [31..30] PGD (the 4-entry PDPT)  [29..21] PMD  [20..12] PTE  [11..0]
 *
 * An entry (pte_t, pmd_t, ... all the same shape):
 *
 *   63  62..52   51 ........................ 12  11..9  8  7   6  5  4   3   2   1  0
 *   NX  (unused) physical frame number            soft   G  PSE D  A  PCD PWT U/S R/W P
 *                                                           /PAT
 *
 * P present, R/W writable, U/S user-accessible, PWT/PCD/PAT select the cache
 * mode through the PAT MSR, A accessed and D dirty (set by the CPU on use),
 * PSE a large page at the PUD/PMD level (1G/2M; 4M without PAE), G global
 * (survives CR3 switches), NX no-execute (not on i386 without PAE).
 *
 * How JavaScript holds an entry value (pte_t, pgprot_t): a number with bits
 * 0..51 exactly as in the entry, and NX (bit 63) represented by 2^52
 * (_PAGE_NX below). Bits 52..62 are available to software and unused by
 * kmem, so the form is exact for every entry kmem writes; set_pte() moves
 * the NX marker back to bit 63. Never combine these values with `|` or `&`
 * beyond the low 32 bits: add the flags instead (`pfn * PAGE_SIZE + prot`).
 *
 * Where the tables live (init_mm, the kernel's page tables):
 *  - the top table is swapper_pg_dir (init_top_pgt on x86_64), a page of
 *    the kernel image's .bss;
 *  - every lower table is a page from the buddy allocator, allocated when a
 *    mapping first needs it (pud_alloc, pmd_alloc, pte_alloc_kernel) with
 *    GFP_PGTABLE_KERNEL (GFP_KERNEL | __GFP_ZERO, never highmem). As in
 *    6.12, PUD and PMD pages go through pagetable_pud_ctor/_pmd_ctor (page
 *    type PGTY_table, counted in NR_PAGETABLE: PageTables in meminfo), while
 *    a kernel PTE page does not (__pte_alloc_one_kernel has no ctor). Kernel
 *    page tables are never freed when a range is unmapped, except a PTE page
 *    replaced by a huge PMD mapping (pmd_free_pte_page);
 *  - an entry pointing to a table is _PAGE_TABLE (0x067) | table address,
 *    except a PAE PDPT entry, which may only hold _PAGE_PRESENT.
 *
 * Locking: the tables are shared by every CPU (and every host thread
 * running one). A lower table is installed under init_mm.page_table_lock,
 * as __pte_alloc_kernel()/__pud_alloc()/__pmd_alloc() do: the page is
 * allocated first (GFP_KERNEL may sleep, so never under the spinlock), then
 * under the lock the entry is checked again; a CPU that lost the race frees
 * its page. The entries of a range are written by whoever owns the range
 * (vmalloc's vmap_area), with no lock, as in the kernel. `w` (the last
 * walk's result) is this thread's scratch.
 *
 * What kmem does not map through these tables: the direct map of RAM, the
 * x86_64 kernel image mapping and the vmemmap are translated by arithmetic
 * (kaddr.ts). The kernel maps them with 1G/2M (4M) pages at boot; kmem does
 * not build those entries, so their PGD slots are empty here and a walk of a
 * direct-map address beyond RAM shows "PGD 0". Everything else (vmalloc,
 * vmap, ioremap) is mapped by the entries in this file, and every access
 * goes through them (mmu.ts). x86_64 also preallocates the vmalloc area's 64
 * PUD pages at boot (preallocate_vmalloc_pages); kmem allocates each when
 * first needed, as the generic code does.
 */
import { HOST_SECTION_SIZE, type PhysMem } from '../../machine/memory.ts';
import { PAGE_SHIFT, PAGE_SIZE, type ArchLayout } from './layout.ts';

/* ---------------------------------------------------------------- */
/* Entry bits (pgtable_types.h)                                      */
/* ---------------------------------------------------------------- */

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
/** Large page, in a PUD or PMD entry. */
export const _PAGE_PSE = 0x080;
/** The PAT bit of a 4 KiB PTE (the same bit as PSE one level up). */
export const _PAGE_PAT = 0x080;
export const _PAGE_GLOBAL = 0x100;
/** The PAT bit of a large page. */
export const _PAGE_PAT_LARGE = 0x1000;
/** NX (bit 63) in kmem's JS form of an entry: see the header. */
export const _PAGE_NX = 2 ** 52;

/** Table entries: _KERNPG_TABLE without, _PAGE_TABLE with the user bit (what *_populate write). */
export const _KERNPG_TABLE = _PAGE_PRESENT + _PAGE_RW + _PAGE_ACCESSED + _PAGE_DIRTY;
export const _PAGE_TABLE = _KERNPG_TABLE + _PAGE_USER;

/* The kernel's protections before __supported_pte_mask (which drops NX where the CPU has none). */
export const __PAGE_KERNEL = _PAGE_PRESENT + _PAGE_RW + _PAGE_ACCESSED + _PAGE_DIRTY + _PAGE_GLOBAL + _PAGE_NX;
export const __PAGE_KERNEL_EXEC = _PAGE_PRESENT + _PAGE_RW + _PAGE_ACCESSED + _PAGE_DIRTY + _PAGE_GLOBAL;
export const __PAGE_KERNEL_RO = _PAGE_PRESENT + _PAGE_ACCESSED + _PAGE_GLOBAL + _PAGE_NX;
export const __PAGE_KERNEL_ROX = _PAGE_PRESENT + _PAGE_ACCESSED + _PAGE_GLOBAL;
export const __PAGE_KERNEL_LARGE = __PAGE_KERNEL + _PAGE_PSE;

/* enum page_cache_mode */
export const _PAGE_CACHE_MODE_WB = 0;
export const _PAGE_CACHE_MODE_WC = 1;
export const _PAGE_CACHE_MODE_UC_MINUS = 2;
export const _PAGE_CACHE_MODE_UC = 3;
export const _PAGE_CACHE_MODE_WT = 4;
export const _PAGE_CACHE_MODE_WP = 5;

/**
 * The PAT as pat_bp_init() programs it on a current CPU:
 * PAT0 WB, PAT1 WC, PAT2 UC-, PAT3 UC, PAT4 WB, PAT5 WP, PAT6 UC-, PAT7 WT.
 * A 4 KiB PTE picks its PAT entry with PWT (bit 0 of the index), PCD (bit 1)
 * and PAT (bit 2). cachemode2protval() inverts the table (first match).
 */
const PAT_ENTRIES = [
  _PAGE_CACHE_MODE_WB, _PAGE_CACHE_MODE_WC, _PAGE_CACHE_MODE_UC_MINUS, _PAGE_CACHE_MODE_UC,
  _PAGE_CACHE_MODE_WB, _PAGE_CACHE_MODE_WP, _PAGE_CACHE_MODE_UC_MINUS, _PAGE_CACHE_MODE_WT,
];

function patIndexBits(idx: number): number {
  return (idx & 1 ? _PAGE_PWT : 0) + (idx & 2 ? _PAGE_PCD : 0) + (idx & 4 ? _PAGE_PAT : 0);
}

/** cachemode2protval(): the PWT/PCD/PAT bits of a 4 KiB PTE for a cache mode. */
export function cachemode2protval(pcm: number): number {
  const idx = PAT_ENTRIES.indexOf(pcm);
  return patIndexBits(idx < 0 ? 3 : idx);
}

/** pgprot2cachemode(): the cache mode a 4 KiB PTE's bits select. */
export function pgprot2cachemode(prot: number): number {
  const idx = (prot & _PAGE_PWT ? 1 : 0) | (prot & _PAGE_PCD ? 2 : 0) | (prot & _PAGE_PAT ? 4 : 0);
  return PAT_ENTRIES[idx];
}

/** protval_4k_2_large(): move the PAT bit from bit 7 to bit 12 for a large page. */
export function protval_4k_2_large(prot: number): number {
  return prot & _PAGE_PAT ? prot - _PAGE_PAT + _PAGE_PAT_LARGE : prot;
}

/** The low 12 flag bits of an entry in JS form. */
export function pte_flags(v: number): number {
  return v & 0xfff;
}

/** The NX bit of an entry in JS form. */
export function pte_nx(v: number): boolean {
  return v >= _PAGE_NX;
}

/** The frame number an entry points to (4 KiB units; for a large page, its first frame). */
export function pte_pfn(v: number): number {
  const a = v >= _PAGE_NX ? v - _PAGE_NX : v;
  return Math.floor(a / PAGE_SIZE);
}

/** pfn_pte(): an entry for pfn with protection prot (both in JS form). */
export function pfn_pte(pfn: number, prot: number): number {
  return pfn * PAGE_SIZE + prot;
}

/** pgprot_nx(): the protection with NX set. */
export function pgprot_nx(prot: number): number {
  return prot >= _PAGE_NX ? prot : prot + _PAGE_NX;
}

/* ---------------------------------------------------------------- */
/* Geometry                                                          */
/* ---------------------------------------------------------------- */

export interface PagingLevels {
  /** Hardware levels: 4 (x86_64), 3 (i386 PAE), 2 (i386). */
  readonly nr: number;
  /** Address bit where each level's index starts, top level first. */
  readonly shift: readonly number[];
  /** Entries per table, per level. */
  readonly ptrs: readonly number[];
  readonly entrySize: 8 | 4;
  /** The kernel's name of each level's table, top first ("pgd", "pud", "pmd", "pte"). */
  readonly name: readonly string[];
  /** Whether a table of this level is allocated with a pagetable ctor (PGTY_table, NR_PAGETABLE). */
  readonly ctor: readonly boolean[];
  /** The CPU honours NX (x86_64, PAE). */
  readonly nx: boolean;
  readonly pae: boolean;
  /** A huge mapping is possible at this level (CONFIG_HAVE_ARCH_HUGE_VMAP: x86_64 or PAE): PMD level index, or -1. */
  readonly hugePmdLevel: number;
}

export function pagingLevels(layout: ArchLayout, pae = false): PagingLevels {
  if (layout.bits === 64) {
    return {
      nr: 4, shift: [39, 30, 21, 12], ptrs: [512, 512, 512, 512], entrySize: 8, name: ['pgd', 'pud', 'pmd', 'pte'],
      ctor: [false, true, true, false], nx: true, pae: false, hugePmdLevel: 2,
    };
  }
  if (pae) {
    return {
      nr: 3, shift: [30, 21, 12], ptrs: [4, 512, 512], entrySize: 8, name: ['pgd', 'pmd', 'pte'],
      ctor: [false, true, false], nx: true, pae: true, hugePmdLevel: 1,
    };
  }
  return {
    nr: 2, shift: [22, 12], ptrs: [1024, 1024], entrySize: 4, name: ['pgd', 'pte'],
    ctor: [false, false], nx: false, pae: false, hugePmdLevel: -1,
  };
}

/** What the page tables need from the page allocator and the memmap. */
export interface PageTableAlloc {
  /** pagetable_alloc(GFP_PGTABLE_KERNEL & ~__GFP_HIGHMEM, 0): a zeroed lowmem page's pfn, or -1. */
  allocPage(): number;
  freePage(pfn: number): void;
  /** pagetable_*_ctor: page type PGTY_table and NR_PAGETABLE += 1 on the page's node (dtor: -1). */
  ctor(pfn: number): void;
  dtor(pfn: number): void;
}

/** spin_lock(&init_mm.page_table_lock) and its unlock. */
export interface PageTableLock {
  lock(): void;
  unlock(): void;
}

/** The result of a walk (PageTables.walk), in fields so a walk allocates nothing. */
export interface WalkResult {
  /** Level of the last entry read (the leaf, or the first not-present one). */
  level: number;
  /** Physical address of that entry. */
  entryPa: number;
  /** Its value in JS form (0 if not present). */
  value: number;
  /** The entry maps a page (present leaf: a PTE, or a large PUD/PMD). */
  mapped: boolean;
}

const TWO32 = 4294967296;

/**
 * init_mm's page tables: the walk, the allocation of lower tables, and the
 * mapping helpers mm/vmalloc.c uses (vmap_range_noflush,
 * vmap_small_pages_range_noflush, vunmap_range_noflush).
 */
export class PageTables {
  readonly lv: PagingLevels;
  readonly PAGE_KERNEL: number;
  readonly PAGE_KERNEL_RO: number;
  readonly PAGE_KERNEL_EXEC: number;
  readonly PAGE_KERNEL_NOCACHE: number;
  readonly PAGE_KERNEL_IO: number;
  /** Reused by walk(): the last walk's result. */
  readonly w: WalkResult = { level: 0, entryPa: 0, value: 0, mapped: false };
  private readonly div: number[];
  private readonly i32: readonly Int32Array[];

  constructor(
    private readonly mem: PhysMem,
    readonly layout: ArchLayout,
    pae: boolean,
    /** Physical address of swapper_pg_dir / init_top_pgt. */
    readonly pgdPa: number,
    private readonly alloc: PageTableAlloc,
    /** init_mm.page_table_lock; null for a read-only view of the tables. */
    private readonly ptLock: PageTableLock | null = null,
  ) {
    this.lv = pagingLevels(layout, pae);
    this.div = this.lv.shift.map((s) => 2 ** s);
    this.i32 = mem.i32;
    this.PAGE_KERNEL = this.__pgprot_mask(__PAGE_KERNEL);
    this.PAGE_KERNEL_RO = this.__pgprot_mask(__PAGE_KERNEL_RO);
    this.PAGE_KERNEL_EXEC = this.__pgprot_mask(__PAGE_KERNEL_EXEC);
    this.PAGE_KERNEL_NOCACHE = this.__pgprot_mask(__PAGE_KERNEL + cachemode2protval(_PAGE_CACHE_MODE_UC));
    this.PAGE_KERNEL_IO = this.PAGE_KERNEL;
  }

  /** __pgprot_mask(): drop what __supported_pte_mask does not have (NX on i386 without PAE). */
  __pgprot_mask(prot: number): number {
    return !this.lv.nx && prot >= _PAGE_NX ? prot - _PAGE_NX : prot;
  }

  /** pgprot_nx(): set NX, where the CPU has it (_PAGE_NX is 0 on i386 without PAE). */
  pgprot_nx(prot: number): number {
    return this.lv.nx ? pgprot_nx(prot) : this.__pgprot_mask(prot);
  }

  /** The index of va in a table of the given level. */
  index(va: number, level: number): number {
    return Math.floor(va / this.div[level]) & (this.lv.ptrs[level] - 1);
  }

  /* ---------------------------------------------------------------- */
  /* Entries in memory                                                */
  /* ---------------------------------------------------------------- */

  /** An entry's value in JS form. */
  readEntry(pa: number): number {
    const a = this.mem.i32At(pa);
    const i = (pa % HOST_SECTION_SIZE) >>> 2;
    if (this.lv.entrySize === 4) return a[i] >>> 0;
    const hi = a[i + 1];
    return (a[i] >>> 0) + (hi & 0xfffff) * TWO32 + (hi < 0 ? _PAGE_NX : 0);
  }

  /** The entry's raw words as the kernel prints it (%lx / %0*Lx). */
  entryHex(pa: number): string {
    const lo = this.mem.read32(pa);
    if (this.lv.entrySize === 4) return lo.toString(16);
    const hi = this.mem.read32(pa + 4);
    return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
  }

  /** The entry's raw value zero-padded to its size (%0*Lx with sizeof(entry) * 2). */
  entryHexPadded(pa: number): string {
    const lo = this.mem.read32(pa).toString(16).padStart(8, '0');
    if (this.lv.entrySize === 4) return lo;
    return this.mem.read32(pa + 4).toString(16).padStart(8, '0') + lo;
  }

  /** set_pte() (and set_pmd, set_pud, set_pgd: the same store): write an entry. */
  writeEntry(pa: number, v: number): void {
    if (this.lv.entrySize === 4) {
      this.mem.write32(pa, v >= _PAGE_NX ? v - _PAGE_NX : v);
      return;
    }
    const nx = v >= _PAGE_NX;
    const a = nx ? v - _PAGE_NX : v;
    const hi = Math.floor(a / TWO32);
    // The x86 stores the high word first when clearing and last when setting (native_set_pte);
    // one thread sees both orders the same.
    this.mem.write32(pa, a - hi * TWO32);
    this.mem.write32(pa + 4, (hi | (nx ? 0x80000000 : 0)) >>> 0);
  }

  /** Set flag bits (in the low word) of an entry in place: the CPU setting Accessed/Dirty. */
  setEntryBits(pa: number, bits: number): void {
    const a = this.i32[Math.floor(pa / HOST_SECTION_SIZE)];
    a[(pa % HOST_SECTION_SIZE) >>> 2] |= bits;
  }

  /* ---------------------------------------------------------------- */
  /* Walking                                                          */
  /* ---------------------------------------------------------------- */

  /**
   * Walk init_mm's tables for va, as the CPU does (and lookup_address()):
   * stops at the first entry that is not present, or at a leaf (a PTE, or a
   * PUD/PMD with PSE). The result is in this.w (no allocation).
   */
  walk(va: number): WalkResult {
    const lv = this.lv;
    const w = this.w;
    let table = this.pgdPa;
    for (let level = 0; ; level++) {
      const pa = table + this.index(va, level) * lv.entrySize;
      const v = this.readEntry(pa);
      w.level = level;
      w.entryPa = pa;
      w.value = v;
      if ((v & _PAGE_PRESENT) === 0) {
        w.mapped = false;
        return w;
      }
      // A PAE PDPT entry has no PSE bit; elsewhere above the last level PSE means a large page.
      const leaf = level === lv.nr - 1 || (level > 0 && (v & _PAGE_PSE) !== 0);
      if (leaf) {
        w.mapped = true;
        return w;
      }
      table = pte_pfn(v) * PAGE_SIZE;
    }
  }

  /** The 4 KiB frame va is in, when mapped by a leaf found by walk(); -1 otherwise. */
  pfnOf(va: number): number {
    const w = this.walk(va);
    if (!w.mapped) return -1;
    const pfn = pte_pfn(w.value);
    if (w.level === this.lv.nr - 1) return pfn;
    // A large page: the frame of va inside it (the PAT bit of a large page is bit 12).
    const span = this.div[w.level] / PAGE_SIZE;
    const base = pfn - (pfn % span);
    return base + (Math.floor(va / PAGE_SIZE) % span);
  }

  /** pgd_offset_k(addr): the kernel virtual address of addr's PGD entry, given __va. */
  pgd_offset_k(addr: number, __va: (pa: number) => number): number {
    return __va(this.pgdPa + this.index(addr, 0) * this.lv.entrySize);
  }

  /* ---------------------------------------------------------------- */
  /* Building                                                         */
  /* ---------------------------------------------------------------- */

  /**
   * The entry at `level` for va, allocating the tables above it as needed
   * (pud_alloc, pmd_alloc, pte_alloc_kernel_track). Returns the entry's
   * physical address, or -1 when a table could not be allocated (-ENOMEM).
   * Stops early, returning -2, at a large leaf above `level`.
   */
  entryAlloc(va: number, level: number): number {
    const lv = this.lv;
    let table = this.pgdPa;
    for (let l = 0; l < level; l++) {
      const pa = table + this.index(va, l) * lv.entrySize;
      let v = this.readEntry(pa);
      if ((v & _PAGE_PRESENT) === 0) {
        v = this.populate(pa, l);
        if (v < 0) return -1;
      } else if (l > 0 && (v & _PAGE_PSE) !== 0) {
        return -2;
      }
      table = pte_pfn(v) * PAGE_SIZE;
    }
    return table + this.index(va, level) * lv.entrySize;
  }

  /**
   * The table below the entry at pa (level l) was missing: allocate one and
   * install it under init_mm.page_table_lock, unless another CPU did first.
   * Returns the entry's value, or -1 (-ENOMEM).
   */
  private populate(pa: number, l: number): number {
    const lv = this.lv;
    const pfn = this.alloc.allocPage();
    if (pfn < 0) return -1;
    if (lv.ctor[l + 1]) this.alloc.ctor(pfn);
    try {
      this.ptLock?.lock();
    } catch (e) { // a lock that can never be had (kmem's deadlock reports back out): leave nothing behind
      this.alloc.freePage(pfn);
      throw e;
    }
    let v = this.readEntry(pa);
    const lost = (v & _PAGE_PRESENT) !== 0;
    if (!lost) {
      // pud_populate / pmd_populate_kernel / p4d_populate: _PAGE_TABLE | __pa(table);
      // a PAE PDPT entry (pud_populate on PAE) is __pa(pmd) | _PAGE_PRESENT.
      v = pfn * PAGE_SIZE + (lv.pae && l === 0 ? _PAGE_PRESENT : _PAGE_TABLE);
      this.writeEntry(pa, v);
    }
    this.ptLock?.unlock();
    if (lost) this.alloc.freePage(pfn); // pmd_free / pte_free_kernel: another CPU populated it first
    return v;
  }

  /**
   * vmap_small_pages_range_noflush(): map nr pages at addr, the pfn of page
   * i given by pfnAt(i). Fails (-12 ENOMEM, -16 EBUSY after the kernel's
   * WARN_ON, which the caller reports) without undoing what was mapped, as
   * the kernel does; the caller unmaps the range.
   */
  mapPages(addr: number, nr: number, pfnAt: (i: number) => number, prot: number): number {
    const last = this.lv.nr - 1;
    let pte = -1;
    for (let i = 0; i < nr; i++) {
      const va = addr + i * PAGE_SIZE;
      if (pte < 0 || this.index(va, last) === 0) {
        pte = this.entryAlloc(va, last);
        if (pte === -1) return -12;
        if (pte === -2) return -16;
      } else {
        pte += this.lv.entrySize;
      }
      if (this.readEntry(pte) !== 0) return -16; // WARN_ON(!pte_none(ptep_get(pte)))
      this.writeEntry(pte, pfn_pte(pfnAt(i), prot));
    }
    return 0;
  }

  /**
   * vmap_range_noflush() for a physically contiguous range (ioremap_page_range):
   * 4 KiB PTEs, or a huge PMD entry where the range covers an aligned 2 MiB
   * (vmap_try_huge_pmd: x86_64 and PAE, max_page_shift >= PMD_SHIFT).
   */
  mapRange(addr: number, end: number, phys: number, prot: number, huge: boolean): number {
    const lv = this.lv;
    const pmdLevel = lv.hugePmdLevel;
    const pmdSize = pmdLevel >= 0 ? this.div[pmdLevel] : 0;
    let va = addr;
    let pa = phys;
    while (va < end) {
      if (huge && pmdLevel >= 0 && va % pmdSize === 0 && pa % pmdSize === 0 && end - va >= pmdSize) {
        const pmd = this.entryAlloc(va, pmdLevel);
        if (pmd === -1) return -12;
        const old = this.readEntry(pmd);
        if (old & _PAGE_PRESENT) {
          if (old & _PAGE_PSE) return -16;
          // pmd_free_pte_page(): drop the (empty) PTE table under this PMD first.
          const ptePfn = pte_pfn(old);
          this.writeEntry(pmd, 0);
          this.alloc.freePage(ptePfn);
          this.onFreeTable?.(va, va + pmdSize);
        }
        // pmd_set_huge(): pfn_pte(addr >> PAGE_SHIFT, protval_4k_2_large(prot) | _PAGE_PSE)
        this.writeEntry(pmd, pfn_pte(pa / PAGE_SIZE, protval_4k_2_large(prot) + _PAGE_PSE));
        va += pmdSize;
        pa += pmdSize;
        continue;
      }
      const pte = this.entryAlloc(va, lv.nr - 1);
      if (pte === -1) return -12;
      if (pte === -2) return -16;
      if (this.readEntry(pte) !== 0) return -16;
      this.writeEntry(pte, pfn_pte(pa / PAGE_SIZE, prot));
      va += PAGE_SIZE;
      pa += PAGE_SIZE;
    }
    return 0;
  }

  /** Called when a table page under [start, end) was freed: the TLB flush of pmd_free_pte_page(). */
  onFreeTable: ((start: number, end: number) => void) | null = null;

  /**
   * vunmap_range_noflush(): clear every PTE (and huge PMD: pmd_clear_huge) in
   * [start, end). Tables stay allocated; the TLB is not flushed here.
   */
  unmapRange(start: number, end: number): void {
    const lv = this.lv;
    let va = start;
    while (va < end) {
      const w = this.walk(va);
      if (!w.mapped) {
        // Nothing mapped from here to the end of the missing table's span (or this page).
        const span = w.level === lv.nr - 1 ? PAGE_SIZE : this.div[w.level];
        va = w.level === lv.nr - 1 ? va + PAGE_SIZE : Math.floor(va / span) * span + span;
        continue;
      }
      this.writeEntry(w.entryPa, 0);
      if (w.level === lv.nr - 1) va += PAGE_SIZE;
      else va = Math.floor(va / this.div[w.level]) * this.div[w.level] + this.div[w.level];
    }
  }

  /* ---------------------------------------------------------------- */
  /* dump_pagetable() (arch/x86/mm/fault.c)                           */
  /* ---------------------------------------------------------------- */

  /**
   * The page-table line of a page fault report, as dump_pagetable() prints it:
   *   x86_64  "PGD 10a3067 P4D 10a3067 PUD 10a4067 PMD 10a5067 PTE 0"
   *   i386    "*pde = 0010a067 *pte = 00000000 "
   *   PAE     "*pdpt = 000000000010a001 *pde = 000000000010b067 *pte = 0000000000000000 "
   */
  dump_pagetable(va: number, maxLowPfn: number): string {
    const lv = this.lv;
    const entry = (level: number, table: number) => table + this.index(va, level) * lv.entrySize;
    if (lv.nr === 4) {
      const pgd = entry(0, this.pgdPa);
      const pgdv = this.readEntry(pgd);
      // 4-level paging: pgd_present() is always true and the P4D is the PGD entry read again.
      let out = `PGD ${this.entryHex(pgd)} P4D ${this.entryHex(pgd)} `;
      if ((pgdv & _PAGE_PRESENT) === 0) return out;
      let table = pte_pfn(pgdv) * PAGE_SIZE;
      const names = ['PUD', 'PMD', 'PTE'];
      for (let level = 1; level < 4; level++) {
        const e = entry(level, table);
        const v = this.readEntry(e);
        if (level === 3) return out + `PTE ${this.entryHex(e)}`;
        out += `${names[level - 1]} ${this.entryHex(e)} `;
        if ((v & _PAGE_PRESENT) === 0 || (v & _PAGE_PSE) !== 0) return out;
        table = pte_pfn(v) * PAGE_SIZE;
      }
      return out;
    }
    let out = '';
    let table = this.pgdPa;
    if (lv.pae) {
      const e = entry(0, table);
      const v = this.readEntry(e);
      out += `*pdpt = ${this.entryHexPadded(e)} `;
      if (pte_pfn(v) >= maxLowPfn || (v & _PAGE_PRESENT) === 0) return out;
      table = pte_pfn(v) * PAGE_SIZE;
    }
    const pmdLevel = lv.nr - 2;
    const pmd = entry(pmdLevel, table);
    const pmdv = this.readEntry(pmd);
    out += `*pde = ${this.entryHexPadded(pmd)} `;
    if (pte_pfn(pmdv) >= maxLowPfn || (pmdv & _PAGE_PRESENT) === 0 || (pmdv & _PAGE_PSE) !== 0) return out;
    const pte = entry(lv.nr - 1, pte_pfn(pmdv) * PAGE_SIZE);
    return out + `*pte = ${this.entryHexPadded(pte)} `;
  }

  /** Size of the address range one entry of a level covers. */
  levelSize(level: number): number {
    return this.div[level];
  }
}

/** PAGE_SHIFT re-exported for the files that map pages. */
export { PAGE_SHIFT };
