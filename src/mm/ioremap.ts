/*
 * Mapping device memory (arch/x86/mm/ioremap.c, mm/ioremap.c,
 * mm/vmalloc.c ioremap_page_range, lib/iomap.c, arch/x86/include/asm/io.h).
 *
 * A device's registers and on-board memory sit at physical addresses that
 * are not RAM (the MMIO windows of the machine configuration, the PCI BARs).
 * The kernel has no permanent mapping of them: a driver asks for one.
 *
 *   void __iomem *regs = ioremap(0xfebf0000, 4096);
 *       ioremap -> __ioremap_caller(phys, size, _PAGE_CACHE_MODE_UC_MINUS)
 *         refuse: size 0 / wraparound; a physical address beyond the CPU's
 *                 (WARN); RAM the kernel uses ("ioremap on RAM at ..." WARN_ONCE)
 *         get_vm_area_caller(size, VM_IOREMAP): a range of vmalloc space,
 *                 aligned to the size's power of two (up to IOREMAP_MAX_ORDER)
 *         ioremap_page_range(): PTEs with PAGE_KERNEL_IO and the cache mode's
 *                 PAT bits (uncached: PCD), NX; a 2 MiB PMD entry where the
 *                 range covers an aligned 2 MiB (x86_64, PAE)
 *       -> the virtual address of phys (the offset inside the page kept)
 *   u32 id = ioread32(regs + 0);    a load through that mapping reaches the device
 *   iounmap(regs);                  remove_vm_area(): PTEs cleared, range freed lazily
 *
 *   ioremap      UC-  (PCD)         ioremap_uc    UC  (PCD|PWT)
 *   ioremap_wc   WC   (PWT)         ioremap_wt    WT  (PAT|PCD|PWT)
 *   ioremap_cache WB  (no bits)     ioremap_prot  the cache mode of a pgprot
 *
 * kmem has no caches to bypass, so the cache mode only shows in the PTE
 * bits (and in a device seeing every access, which it does anyway). The
 * PAT memtype tracking (memtype_reserve: conflicting mappings of one range)
 * is not modelled.
 *
 * Accessors (lib/iomap.c, asm/io.h): readb/readw/readl/readq and the write*
 * forms are plain loads and stores through the mapping (x86 MOVs);
 * ioread8/16/32 and iowrite8/16/32 do the same for an address from ioremap
 * and would do port I/O for an ioport_map() cookie (0x10000..0x3ffff: kmem
 * has no ports, so inb reads all ones); anything lower is a bug the kernel
 * reports as "Bad IO access at port 0x... (...)", ten times per boot.
 *
 * SMP: ioremap keeps no state of its own. The area comes from vmalloc's
 * allocator under its locks (vmalloc.ts), the page tables are installed
 * under init_mm.page_table_lock (pgtable.ts), and the PTEs of a range are
 * written by the CPU that owns the area. bad_io_access()'s report budget is
 * an atomic counter in vmalloc's statics. The devices behind the windows
 * are shared by every host thread (drivers/iomem.ts).
 */
import { PAGE_SIZE, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import {
  _PAGE_CACHE_MODE_UC, _PAGE_CACHE_MODE_UC_MINUS, _PAGE_CACHE_MODE_WB, _PAGE_CACHE_MODE_WC, _PAGE_CACHE_MODE_WT,
  cachemode2protval, pgprot2cachemode, type PageTables,
} from '../arch/x86/pgtable.ts';
import { KERN_ERR, KERN_WARNING, type Bug, type Log } from '../kernel/bug.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import { usableRanges, type E820Entry } from '../machine/config.ts';
import { PG_reserved, type Pages } from './page.ts';
import type { Sparse } from './sparse.ts';
import { VM_IOREMAP, type Vmalloc } from './vmalloc.ts';

/* lib/iomap.c */
export const PIO_OFFSET = 0x10000;
export const PIO_MASK = 0x0ffff;
export const PIO_RESERVED = 0x40000;

export interface IoremapDeps {
  layout: ArchLayout;
  kaddr: KernelAddr;
  pt: PageTables;
  vm: Vmalloc;
  bug: Bug;
  log: Log;
  pages: Pages;
  sparse: Sparse;
  e820: readonly E820Entry[];
  /** boot_cpu_data.x86_phys_bits, or 0 where phys_addr_t is 32-bit (phys_addr_valid() is then always true). */
  physBits: number;
  /** sizeof(phys_addr_t) * 2: the digits of %pa. */
  physDigits: number;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

export class Ioremap {
  private readonly ram: readonly (readonly [number, number])[];

  constructor(private readonly d: IoremapDeps) {
    this.ram = usableRanges(d.e820);
  }

  /** %pa */
  private pa(v: number): string {
    return '0x' + v.toString(16).padStart(this.d.physDigits, '0');
  }

  /**
   * __ioremap_check_ram() over the System RAM resources (the usable e820
   * ranges): a page of [phys, last] that has a struct page and is not
   * PG_reserved is RAM in use.
   */
  private mapsSystemRam(phys: number, last: number): boolean {
    for (const [rs, re] of this.ram) {
      const s = Math.max(rs, phys);
      const e = Math.min(re - 1, last);
      if (s > e) continue;
      const startPfn = Math.ceil(s / PAGE_SIZE);
      const stopPfn = Math.floor((e + 1) / PAGE_SIZE);
      for (let pfn = startPfn; pfn < stopPfn; pfn++) {
        if (this.d.sparse.pfn_valid(pfn) && !this.d.pages.testFlag(pfn, PG_reserved)) return true;
      }
    }
    return false;
  }

  /** __ioremap_caller(): see the header. Returns the __iomem address, or 0. */
  __ioremap_caller(phys: number, size: number, pcm: number, caller: string, fn: string): number {
    const d = this.d;
    const last = phys + size - 1;
    if (!size || last < phys || !Number.isSafeInteger(phys) || phys < 0) return 0;
    if (d.physBits !== 0 && phys >= 2 ** d.physBits) {
      d.log.printk(KERN_WARNING, `ioremap: invalid physical address ${phys.toString(16)}`);
      d.bug.warn('arch/x86/mm/ioremap.c', 207, '__ioremap_caller', null, [fn], true);
      return 0;
    }
    if (this.mapsSystemRam(phys, last)) {
      d.bug.warn('arch/x86/mm/ioremap.c', 217, '__ioremap_caller', `ioremap on RAM at ${this.pa(phys)} - ${this.pa(last)}`, [fn], true);
      return 0;
    }
    const offset = phys % PAGE_SIZE;
    const base = phys - offset;
    const mapSize = Math.ceil((last + 1) / PAGE_SIZE) * PAGE_SIZE - base;
    const prot = d.pt.__pgprot_mask(d.pt.PAGE_KERNEL_IO + cachemode2protval(pcm));
    const area = d.vm.get_vm_area_caller(mapSize, VM_IOREMAP, caller, ['__ioremap_caller', fn]);
    if (area === 0) return 0;
    d.vm.setVmPhysAddr(area, base);
    const vaddr = d.vm.vmAddr(area);
    if (this.ioremap_page_range(vaddr, vaddr + mapSize, base, prot, fn) < 0) {
      d.vm.free_vm_area(area);
      return 0;
    }
    return vaddr + offset;
  }

  /** ioremap_page_range(): the area must be the VM_IOREMAP area of exactly [addr, end). */
  private ioremap_page_range(addr: number, end: number, phys: number, prot: number, fn: string): number {
    const d = this.d;
    const area = d.vm.find_vm_area(addr);
    if (area === 0 || !(d.vm.vmFlags(area) & VM_IOREMAP)) {
      d.bug.warn('mm/vmalloc.c', 384, 'ioremap_page_range', `vm_area at addr ${addr.toString(16)} is not marked as VM_IOREMAP`, [fn], true);
      return -22;
    }
    // vmap_page_range() -> vmap_range_noflush(addr, end, phys, pgprot_nx(prot), ioremap_max_page_shift)
    const err = d.pt.mapRange(addr, end, phys, d.pt.pgprot_nx(prot), true);
    return err;
  }

  ioremap(phys: number, size: number, caller: string): number {
    return this.__ioremap_caller(phys, size, _PAGE_CACHE_MODE_UC_MINUS, caller, 'ioremap');
  }

  ioremap_uc(phys: number, size: number, caller: string): number {
    return this.__ioremap_caller(phys, size, _PAGE_CACHE_MODE_UC, caller, 'ioremap_uc');
  }

  ioremap_wc(phys: number, size: number, caller: string): number {
    return this.__ioremap_caller(phys, size, _PAGE_CACHE_MODE_WC, caller, 'ioremap_wc');
  }

  ioremap_wt(phys: number, size: number, caller: string): number {
    return this.__ioremap_caller(phys, size, _PAGE_CACHE_MODE_WT, caller, 'ioremap_wt');
  }

  ioremap_cache(phys: number, size: number, caller: string): number {
    return this.__ioremap_caller(phys, size, _PAGE_CACHE_MODE_WB, caller, 'ioremap_cache');
  }

  /** ioremap_prot(phys, size, prot): the cache mode the protection's PAT bits select. */
  ioremap_prot(phys: number, size: number, prot: number, caller: string): number {
    return this.__ioremap_caller(phys, size, pgprot2cachemode(prot), caller, 'ioremap_prot');
  }

  /** is_ioremap_addr(): IOREMAP_START..IOREMAP_END, which x86 makes the vmalloc range. */
  is_ioremap_addr(addr: number): boolean {
    return this.d.vm.is_vmalloc_addr(addr);
  }

  /**
   * iounmap(addr): remove an ioremap mapping. An address outside the
   * ioremap range is a WARN_ON_ONCE; one inside it that no area covers gets
   * "iounmap: bad address" and a stack dump. Nothing changes in either case.
   */
  iounmap(addr: number): void {
    const d = this.d;
    if (!this.is_ioremap_addr(addr)) {
      d.bug.warn('arch/x86/mm/ioremap.c', 461, 'iounmap', null, [], true);
      return;
    }
    const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const p = d.vm.find_vm_area(page);
    if (p === 0) {
      const lines = [`iounmap: bad address ${ptr_to_id(d.layout, page)}`];
      d.log.printk(KERN_ERR, lines[0]);
      lines.push(...d.bug.dump_stack(['iounmap'], KERN_ERR));
      d.bug.reported('WARNING', lines, null);
      return;
    }
    const o = d.vm.remove_vm_area(page, ['iounmap']);
    if (o !== p) {
      d.bug.bug('arch/x86/mm/ioremap.c', 501, 'iounmap', []);
      return;
    }
    d.vm.kfreeArea(p);
    d.vm.run_pending_work();
  }

  /* ---------------------------------------------------------------- */
  /* lib/iomap.c                                                      */
  /* ---------------------------------------------------------------- */

  /** bad_io_access(): WARN, at most ten times per boot. */
  private bad_io_access(port: number, access: string, fn: string): void {
    if (!this.d.vm.takeBadIoReport()) return;
    this.d.bug.warn('lib/iomap.c', 45, 'bad_io_access', `Bad IO access at port 0x${port.toString(16)} (${access})`, [fn]);
  }

  /** ioread8/16/32: MMIO through the mapping, port I/O for a PIO cookie, a report for anything lower. */
  ioread(addr: number, size: 1 | 2 | 4, pio: string, fn: string): number {
    if (addr >= PIO_RESERVED) {
      const k = this.d.kaddr;
      return size === 1 ? k.read8(addr) : size === 2 ? k.read16(addr) : k.read32(addr);
    }
    if (addr > PIO_OFFSET) return ALL_ONES[size]; // in*(port & PIO_MASK): no I/O ports in kmem
    this.bad_io_access(addr, pio, fn);
    return ALL_ONES[size];
  }

  /** iowrite8/16/32 */
  iowrite(val: number, addr: number, size: 1 | 2 | 4, pio: string, fn: string): void {
    if (addr >= PIO_RESERVED) {
      const k = this.d.kaddr;
      if (size === 1) k.write8(addr, val);
      else if (size === 2) k.write16(addr, val);
      else k.write32(addr, val);
      return;
    }
    if (addr > PIO_OFFSET) return; // out*(val, port): no I/O ports in kmem
    this.bad_io_access(addr, pio, fn);
  }
}
