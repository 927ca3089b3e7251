/*
 * The translation lookaside buffers (arch/x86/mm/tlb.c, asm/tlbflush.h).
 *
 * A CPU does not walk the page tables on every access: it keeps recent
 * translations in its TLB, and the kernel must tell it when an entry it
 * may have cached changes (the TLB is not coherent with the page tables).
 * kmem gives each CPU a small direct-mapped TLB:
 *
 *   virtual page number vpn = va >> 12
 *   slot = cpu * TLB_ENTRIES + (vpn & (TLB_ENTRIES - 1))
 *
 *          tag[slot]     pfn[slot]      flags[slot]
 *         +-----------+--------------+---------------------------------+
 *   slot  |   vpn     |  page frame  | W (writable) D (dirty seen)     |
 *         |  (-1: no  |              | device + 1 in bits 8..  (0: RAM) |
 *         |   entry)  |              |                                 |
 *         +-----------+--------------+---------------------------------+
 *
 * A hit costs a compare and an add; a miss walks the page tables (mmu.ts)
 * and fills the slot, replacing whatever was there. Only addresses that
 * are translated through page tables get here: the direct map and the
 * other fixed mappings are arithmetic (kaddr.ts).
 *
 * The TLB is a cache of the page tables, not kernel state: the kernel
 * cannot read it, only flush it. So it lives in typed arrays beside the
 * simulated RAM rather than in it: one SharedArrayBuffer holding every
 * CPU's entries, so a flush reaches all of them as the flush IPI does (a
 * worker thread driving a CPU of the same machine must be handed this
 * buffer too). Stale entries behave as on the hardware: vfree() and
 * iounmap() clear the PTEs but flush lazily (mm/vmalloc.c purges freed
 * areas in batches, lazy_max_pages() at a time), so until the purge a CPU
 * that had used the mapping can still reach the old pages through its
 * TLB, and one that had not faults.
 *
 * flush_tlb_kernel_range() runs on every CPU (on_each_cpu): one INVLPG per
 * page up to tlb_single_page_flush_ceiling pages, a full flush above.
 */
import { PAGE_SIZE } from './layout.ts';

export const TLB_ENTRIES = 64;
export const TLB_MASK = TLB_ENTRIES - 1;
/** flags: the mapping is writable. */
export const TLB_WRITE = 1;
/** flags: the PTE's dirty bit is known to be set (a write needs no walk). */
export const TLB_DIRTY = 2;
/** flags: (device index + 1) << TLB_DEV_SHIFT; 0 for RAM. */
export const TLB_DEV_SHIFT = 8;
/** arch/x86/mm/tlb.c: above this many pages a range flush becomes a full flush. */
export const tlb_single_page_flush_ceiling = 33;
/** TLB_FLUSH_ALL as an end address. */
export const TLB_FLUSH_ALL = -1;

/* stat[] per CPU */
const S_HITS = 0;
const S_MISSES = 1;
const S_FLUSH_ALL = 2;
const S_FLUSH_ONE = 3;
const NR_STATS = 4;

export interface TlbStats {
  hits: number;
  misses: number;
  /** Full flushes of this CPU's TLB. */
  flushAll: number;
  /** Single-page invalidations (INVLPG) on this CPU. */
  flushOne: number;
}

export class Tlb {
  readonly tag: Float64Array;
  readonly pfn: Float64Array;
  readonly flags: Int32Array;
  readonly stat: Float64Array;

  constructor(readonly nrCpus: number) {
    const n = nrCpus * TLB_ENTRIES;
    const buf = new SharedArrayBuffer(n * 8 * 2 + n * 4 + nrCpus * NR_STATS * 8);
    this.tag = new Float64Array(buf, 0, n);
    this.pfn = new Float64Array(buf, n * 8, n);
    this.stat = new Float64Array(buf, n * 16, nrCpus * NR_STATS);
    this.flags = new Int32Array(buf, n * 16 + nrCpus * NR_STATS * 8, n);
    this.tag.fill(-1);
  }

  /** The slot vpn uses on cpu. */
  slot(cpu: number, vpn: number): number {
    return cpu * TLB_ENTRIES + (vpn & TLB_MASK);
  }

  hit(cpu: number): void {
    this.stat[cpu * NR_STATS + S_HITS]++;
  }

  /** Fill a slot after a walk. */
  fill(cpu: number, vpn: number, pfn: number, flags: number): void {
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    this.tag[i] = vpn;
    this.pfn[i] = pfn;
    this.flags[i] = flags;
    this.stat[cpu * NR_STATS + S_MISSES]++;
  }

  /** The cached frame of va on cpu, or -1 (for tests and demos: no statistics). */
  lookup(cpu: number, va: number): number {
    const vpn = Math.floor(va / PAGE_SIZE);
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    return this.tag[i] === vpn ? this.pfn[i] : -1;
  }

  /** local_flush_tlb() on one CPU. */
  private flushCpu(cpu: number): void {
    this.tag.fill(-1, cpu * TLB_ENTRIES, (cpu + 1) * TLB_ENTRIES);
    this.stat[cpu * NR_STATS + S_FLUSH_ALL]++;
  }

  /** flush_tlb_all(): every CPU drops every entry. */
  flush_tlb_all(): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.flushCpu(cpu);
  }

  /** __flush_tlb_one_kernel(addr) on every CPU (INVLPG). */
  flush_tlb_one_kernel(addr: number): void {
    const vpn = Math.floor(addr / PAGE_SIZE);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
      if (this.tag[i] === vpn) this.tag[i] = -1;
      this.stat[cpu * NR_STATS + S_FLUSH_ONE]++;
    }
  }

  /**
   * flush_tlb_kernel_range(start, end): on each CPU, invalidate the pages of
   * [start, end), or everything when the range is TLB_FLUSH_ALL or more than
   * tlb_single_page_flush_ceiling pages.
   */
  flush_tlb_kernel_range(start: number, end: number): void {
    if (end === TLB_FLUSH_ALL || end - start > tlb_single_page_flush_ceiling * PAGE_SIZE) {
      this.flush_tlb_all();
      return;
    }
    for (let addr = Math.floor(start / PAGE_SIZE) * PAGE_SIZE; addr < end; addr += PAGE_SIZE) this.flush_tlb_one_kernel(addr);
  }

  stats(cpu: number): TlbStats {
    const b = cpu * NR_STATS;
    return { hits: this.stat[b + S_HITS], misses: this.stat[b + S_MISSES], flushAll: this.stat[b + S_FLUSH_ALL], flushOne: this.stat[b + S_FLUSH_ONE] };
  }
}
