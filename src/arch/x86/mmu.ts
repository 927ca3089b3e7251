/*
 * The CPU's address translation for kernel accesses that are not fixed
 * mappings: TLB lookup, page walk on a miss, #PF when the walk finds no
 * page (what the hardware does between a MOV and the memory bus).
 *
 *   translate(va, write)
 *     vpn = va >> 12, slot = this CPU's TLB slot for vpn
 *     hit:  tag == vpn (and, for a write, the entry is writable and dirty)
 *           -> pa = pfn << 12 | offset                     (no walk, no allocation)
 *     miss: walk init_mm's tables (pgtable.ts)
 *           not present            -> #PF, error code 0 (read) / 2 (write)
 *           write to a read-only   -> #PF, error code 3 (protection)
 *           else set Accessed (and Dirty for a write) in the leaf entry as
 *           the CPU does, classify the frame (RAM or which device), fill
 *           the slot, return pa
 *
 * The caller learns whether pa is RAM or a device from `ioDev` (-1 for RAM,
 * else the device index for IomemBus.read/write): an MMIO page is mapped
 * like any other, and only the bus behind it differs.
 */
import { PAGE_SIZE } from './layout.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_RW, pte_pfn, type PageTables } from './pgtable.ts';
import { TLB_DEV_SHIFT, TLB_DIRTY, TLB_ENTRIES, TLB_MASK, TLB_WRITE, type Tlb } from './tlb.ts';
import { X86_PF_PROT, X86_PF_WRITE, type Faults } from './fault.ts';
import type { IomemBus } from '../../drivers/iomem.ts';

/** The current CPU, read on every translation. */
export interface CpuContext {
  readonly cpu: number;
}

const TLB_WD = TLB_WRITE | TLB_DIRTY;

export class Mmu {
  /** After translate(): -1 if pa is RAM, else the device index on the I/O bus. */
  ioDev = -1;

  constructor(
    readonly pt: PageTables,
    readonly tlb: Tlb,
    private readonly ctx: CpuContext,
    readonly iomem: IomemBus,
    readonly faults: Faults,
  ) {}

  /** The physical address va maps to, for an access of up to the rest of its page. */
  translate(va: number, write: boolean): number {
    const vpn = Math.floor(va / PAGE_SIZE);
    const cpu = this.ctx.cpu;
    const t = this.tlb;
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    if (t.tag[i] === vpn) {
      const f = t.flags[i];
      if (!write || (f & TLB_WD) === TLB_WD) {
        t.hit(cpu);
        this.ioDev = (f >> TLB_DEV_SHIFT) - 1;
        return t.pfn[i] * PAGE_SIZE + (va - vpn * PAGE_SIZE);
      }
    }
    return this.miss(va, vpn, cpu, write);
  }

  private miss(va: number, vpn: number, cpu: number, write: boolean): number {
    if (va >= 2 ** 48) this.faults.general_protection(va);
    const pt = this.pt;
    const w = pt.walk(va);
    if (!w.mapped) this.faults.page_fault_oops(va, write ? X86_PF_WRITE : 0);
    const v = w.value;
    if (write && (v & _PAGE_RW) === 0) this.faults.page_fault_oops(va, X86_PF_PROT | X86_PF_WRITE);
    // The CPU sets Accessed on use and Dirty on the first write, in the leaf entry.
    const need = _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
    if ((v & need) !== need) pt.setEntryBits(w.entryPa, need);
    const pfn = w.level === pt.lv.nr - 1 ? pte_pfn(v) : pt.pfnOf(va);
    const dev = this.iomem.classify(pfn * PAGE_SIZE);
    const dirty = write || (v & _PAGE_DIRTY) !== 0;
    this.tlb.fill(cpu, vpn, pfn, (v & _PAGE_RW ? TLB_WRITE : 0) | (dirty ? TLB_DIRTY : 0) | ((dev + 1) << TLB_DEV_SHIFT));
    this.ioDev = dev;
    return pfn * PAGE_SIZE + (va - vpn * PAGE_SIZE);
  }
}
