/*
 * The page's own reading of the vmalloc area and the kernel's page tables,
 * from the machine's RAM (as machine_view.ts reads struct page):
 *
 *   vmap_nodes[0].busy.head (kernel image)
 *     -> struct vmap_area.list -> ... (address order)
 *          va_start, va_end, vm -> struct vm_struct: addr, size (with the
 *                                  guard page), flags, nr_pages
 *
 *   a walk of init_mm's tables for any kernel address, level by level, with
 *   the kernel's own PageTables (src/arch/x86/pgtable.ts) reading the
 *   shared memory:
 *
 *     x86_64   PGD -> P4D (folded: the PGD entry again) -> PUD -> PMD -> PTE
 *     i386     PGD -> PTE;  PAE: PGD (the 4-entry PDPT) -> PMD -> PTE
 *
 * An area's pages are found by walking each of its addresses: the page
 * frames the kernel scattered it over, wherever they are.
 *
 * No DOM here: the tests run it in Node.
 */
import {
  PageTables, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_GLOBAL, _PAGE_NX, _PAGE_PCD, _PAGE_PRESENT, _PAGE_PSE, _PAGE_PWT, _PAGE_RW,
  _PAGE_USER, pte_pfn,
} from '../arch/x86/pgtable.ts';
import { PAGE_SIZE, type ArchLayout } from '../arch/x86/layout.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import type { VmallocDescriptor } from './protocol.ts';

/** VM_UNINITIALIZED: an area being set up, which /proc/vmallocinfo skips. */
const VM_UNINITIALIZED = 0x20;

/** A busy area as its struct vmap_area and struct vm_struct say. */
export interface VmArea {
  /** struct vmap_area * */
  va: number;
  start: number;
  /** va_end: the guard page included. */
  end: number;
  /** vm->size (the guard page included), vm->flags, vm->nr_pages. */
  size: number;
  flags: number;
  nrPages: number;
}

/** One level of a walk. */
export interface PtLevel {
  /** "PGD", "P4D", "PUD", "PMD", "PTE" (i386 PAE: "PDPT"...) */
  name: string;
  /** The table's physical address and the entry's index in it. */
  tablePa: number;
  index: number;
  entryPa: number;
  /** The entry's raw value as the kernel prints it (%0*Lx). */
  raw: string;
  /** Its flag bits by name: P RW US PWT PCD A D PSE G NX. */
  flags: string[];
  present: boolean;
  /** The entry maps a page (a PTE, or a huge PUD/PMD). */
  leaf: boolean;
  /** The frame it points at: the next table, or (leaf) the page. */
  pfn: number;
}

export interface PtWalk {
  va: number;
  levels: PtLevel[];
  /** The frame va is in, -1 if nothing maps it. */
  pfn: number;
  /** The physical address va translates to, -1 if none. */
  phys: number;
}

const FLAG_BITS: [number, string][] = [
  [_PAGE_PRESENT, 'P'], [_PAGE_RW, 'RW'], [_PAGE_USER, 'US'], [_PAGE_PWT, 'PWT'], [_PAGE_PCD, 'PCD'], [_PAGE_ACCESSED, 'A'],
  [_PAGE_DIRTY, 'D'], [_PAGE_PSE, 'PSE'], [_PAGE_GLOBAL, 'G'],
];

export class VmallocView {
  readonly pt: PageTables;
  private readonly po: number;

  constructor(
    private readonly mem: PhysMem,
    private readonly access: KmemAccess,
    layout: ArchLayout,
    private readonly d: VmallocDescriptor,
    paging: { pgdPa: number; pae: boolean },
  ) {
    const noAlloc = () => {
      throw new Error('the page only reads the page tables');
    };
    this.pt = new PageTables(mem, layout, paging.pae, paging.pgdPa, { allocPage: noAlloc, freePage: noAlloc, ctor: noAlloc, dtor: noAlloc });
    this.po = layout.PAGE_OFFSET;
  }

  /** A direct-map pointer's physical address, -1 if it is not one (a page torn mid-update). */
  private pa(va: number): number {
    const pa = va - this.po;
    return pa >= 0 && pa < this.mem.size ? pa : -1;
  }

  /** The busy areas, in address order (what /proc/vmallocinfo lists, without the unpurged ones). */
  areas(): VmArea[] {
    const out: VmArea[] = [];
    const d = this.d;
    if (this.mem.read32(d.initializedPa) === 0) return out;
    const long = (pa: number) => this.access.readLong(pa);
    let pos = this.access.readPtr(d.busyHeadPa);
    for (let guard = 0; pos !== d.busyHeadVa && guard < 1 << 20; guard++) {
      const vaPa = this.pa(pos - d.vmapArea.list);
      if (vaPa < 0) break;
      const vm = this.pa(this.access.readPtr(vaPa + d.vmapArea.vm));
      if (vm >= 0) {
        const flags = long(vm + d.vmStruct.flags);
        if ((flags & VM_UNINITIALIZED) === 0) {
          out.push({
            va: pos - d.vmapArea.list, start: this.access.readPtr(vaPa + d.vmapArea.va_start), end: this.access.readPtr(vaPa + d.vmapArea.va_end),
            size: long(vm + d.vmStruct.size), flags, nrPages: this.mem.read32(vm + d.vmStruct.nr_pages),
          });
        }
      }
      pos = this.access.readPtr(vaPa + d.vmapArea.list);
    }
    return out;
  }

  /** The frame each page of an area is mapped to (-1 where nothing is). */
  pfns(area: VmArea): number[] {
    const out: number[] = [];
    for (let i = 0; i < area.nrPages; i++) out.push(this.pt.pfnOf(area.start + i * PAGE_SIZE));
    return out;
  }

  /** Call fn(pfn, va) for every page every vmalloc area maps (no allocation per page). */
  forEachPage(fn: (pfn: number, va: number) => void): void {
    for (const a of this.areas()) {
      for (let i = 0; i < a.nrPages; i++) {
        const va = a.start + i * PAGE_SIZE;
        const pfn = this.pt.pfnOf(va);
        if (pfn >= 0) fn(pfn, va);
      }
    }
  }

  /** Walk init_mm's page tables for va, level by level, as the MMU does. */
  walk(va: number): PtWalk {
    const pt = this.pt;
    const lv = pt.lv;
    const names = lv.nr === 4 ? ['PGD', 'PUD', 'PMD', 'PTE'] : lv.nr === 3 ? ['PDPT', 'PMD', 'PTE'] : ['PGD', 'PTE'];
    const levels: PtLevel[] = [];
    let table = pt.pgdPa;
    let pfn = -1;
    let phys = -1;
    for (let level = 0; level < lv.nr; level++) {
      const index = pt.index(va, level);
      const entryPa = table + index * lv.entrySize;
      const v = pt.readEntry(entryPa);
      const present = (v & _PAGE_PRESENT) !== 0;
      // A PAE PDPT entry has no PSE bit; elsewhere above the last level PSE means a large page.
      const leaf = present && (level === lv.nr - 1 || (level > 0 && (v & _PAGE_PSE) !== 0));
      // Bit 7 is PSE above the last level and PAT in a PTE.
      const flags = FLAG_BITS.filter(([bit]) => (v & bit) !== 0).map(([bit, n]) => (bit === _PAGE_PSE && level === lv.nr - 1 ? 'PAT' : n));
      if (v >= _PAGE_NX) flags.push('NX');
      const e: PtLevel = { name: names[level], tablePa: table, index, entryPa, raw: pt.entryHexPadded(entryPa), flags, present, leaf,
        pfn: present ? pte_pfn(v) : -1 };
      levels.push(e);
      // 4-level paging: the P4D level is folded into the PGD (pgd_present() always true, p4d = the same entry).
      if (lv.nr === 4 && level === 0) levels.push({ ...e, name: 'P4D' });
      if (!present) break;
      if (leaf) {
        pfn = pt.pfnOf(va);
        phys = pfn * PAGE_SIZE + (va % PAGE_SIZE);
        break;
      }
      table = e.pfn * PAGE_SIZE;
    }
    return { va, levels, pfn, phys };
  }
}
