/*
 * Putting paging together (arch/x86/mm/init_64.c / init_32.c paging_init,
 * mm/vmalloc.c vmalloc_init, arch/x86/mm/ioremap.c): init_mm's page tables
 * rooted at swapper_pg_dir, the per-CPU TLBs, the MMU that translates
 * through them, the machine's MMIO bus, and the vmalloc and ioremap layers
 * above them; then KernelAddr is told to send every address outside the
 * fixed mappings through the MMU.
 *
 *   Kernel.paging
 *     pt      PageTables   swapper_pg_dir (.bss) + tables from the buddy allocator
 *     tlb     Tlb          one per CPU
 *     faults  Faults       the page fault / #GP oops
 *     mmu     Mmu          TLB -> walk -> #PF
 *     iomem   IomemBus     the devices behind the MMIO windows (hardware)
 *     vm      Vmalloc      mm/vmalloc.c
 *     io      Ioremap      arch/x86/mm/ioremap.c, lib/iomap.c
 *
 * Locks: init_mm.page_table_lock (ImageLayout.initMm) for installing page
 * tables (pgtable.ts); vmalloc's own in vmalloc.ts.
 *
 * Nothing here allocates memory at boot: the top table is in the image, and
 * everything else is allocated when first needed.
 */
import { PAGE_SIZE } from './layout.ts';
import { PageTables } from './pgtable.ts';
import { Tlb } from './tlb.ts';
import { Faults } from './fault.ts';
import { Mmu } from './mmu.ts';
import { IomemBus } from '../../drivers/iomem.ts';
import { Vmalloc } from '../../mm/vmalloc.ts';
import { Ioremap } from '../../mm/ioremap.ts';
import { PGTY_table, PAGE_TYPE_NONE } from '../../mm/page.ts';
import { NR_PAGETABLE } from '../../mm/mmzone.ts';
import { GFP_KERNEL, __GFP_ZERO } from '../../include/linux/gfp_types.ts';
import type { Kernel } from '../../kernel/kernel.ts';

export interface Paging {
  readonly pt: PageTables;
  readonly tlb: Tlb;
  readonly faults: Faults;
  readonly mmu: Mmu;
  readonly iomem: IomemBus;
  readonly vm: Vmalloc;
  readonly io: Ioremap;
  /** max_low_pfn */
  readonly maxLowPfn: number;
  /** sizeof(phys_addr_t) * 2 */
  readonly physDigits: number;
}

/** The parts of the kernel paging needs (everything built before it). */
type PagingParts = Pick<Kernel, 'config' | 'layout' | 'mem' | 'access' | 'kaddr' | 'log' | 'bug' | 'sched' | 'sparse' | 'pages' |
  'mz' | 'buddy' | 'img' | 'mmInit' | 'kallsyms' | 'slab' | 'locks' | 'mutexes' | 'smp'>;

export function paging_init(k: PagingParts): Paging {
  const pae = k.config.arch === 'i386' && k.config.pae === true;
  const ptr = k.layout.ptrSize;
  // mod_node_page_state(NR_PAGETABLE): an atomic add, as several CPUs may allocate tables at once
  const modPagetable = (pfn: number, delta: number) => k.buddy.counters.mod_node_page_state(k.pages.page_to_nid(pfn), NR_PAGETABLE, delta);
  const ptLockPa = k.img.initMm;
  const pt = new PageTables(k.mem, k.layout, pae, k.img.swapperPgDir, {
    // GFP_PGTABLE_KERNEL & ~__GFP_HIGHMEM: zeroed, lowmem
    allocPage: () => k.buddy.__alloc_pages(GFP_KERNEL | __GFP_ZERO, 0),
    freePage: (pfn) => {
      if (k.pages.page_type(pfn) >>> 24 === PGTY_table) {
        k.pages.clearType(pfn);
        modPagetable(pfn, -1);
      }
      k.buddy.__free_pages(pfn, 0);
    },
    ctor: (pfn) => {
      k.pages.setType(pfn, PGTY_table);
      modPagetable(pfn, 1);
    },
    dtor: (pfn) => {
      if (k.pages.page_type(pfn) !== PAGE_TYPE_NONE) k.pages.clearType(pfn);
      modPagetable(pfn, -1);
    },
  }, { lock: () => k.locks.spin_lock(ptLockPa), unlock: () => k.locks.spin_unlock(ptLockPa) });
  const tlb = new Tlb(k.config.cpus);
  pt.onFreeTable = (start, end) => tlb.flush_tlb_kernel_range(start, end);
  const maxLowPfn = Math.floor((k.kaddr.directMapEnd - k.layout.PAGE_OFFSET) / PAGE_SIZE);
  const faults = new Faults(k.bug, k.layout, pt, maxLowPfn);
  const iomem = new IomemBus(k.config.mmio, k.config.e820, k.mem);
  const mmu = new Mmu(pt, tlb, k.sched, iomem, faults);
  k.kaddr.mmu = mmu;
  k.kaddr.iomem = iomem;
  const vm = new Vmalloc({
    layout: k.layout, access: k.access, kaddr: k.kaddr, pt, tlb, buddy: k.buddy, pages: k.pages, sparse: k.sparse, slab: k.slab,
    bug: k.bug, log: k.log, sched: k.sched, kallsyms: k.kallsyms, locks: k.locks, mutexes: k.mutexes, smp: k.smp, nrCpus: k.config.cpus, staticsPa: k.img.vmalloc, pae,
    numa: k.config.arch === 'x86_64',
  });
  const physDigits = ptr === 8 || pae ? 16 : 8;
  const io = new Ioremap({
    layout: k.layout, kaddr: k.kaddr, pt, vm, bug: k.bug, log: k.log, pages: k.pages, sparse: k.sparse, e820: k.config.e820,
    physBits: ptr === 8 ? k.layout.MAX_PHYSMEM_BITS : pae ? 36 : 0, physDigits,
  });
  return { pt, tlb, faults, mmu, iomem, vm, io, maxLowPfn, physDigits };
}
