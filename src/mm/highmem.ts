/*
 * Highmem: temporary kernel mappings of pages outside the direct map
 * (mm/highmem.c, include/linux/highmem.h, highmem-internal.h,
 * arch/x86/include/asm/fixmap.h, arch/x86/include/asm/pgtable_32_areas.h).
 *
 * On i386 only the first ~896 MiB of RAM (lowmem) is permanently mapped at
 * PAGE_OFFSET; a ZONE_HIGHMEM page has no kernel address until someone maps
 * it, so page_address() of it is NULL. Three ways to map one:
 *
 *   kmap(page)          may sleep. One of LAST_PKMAP (1024; 512 with PAE)
 *                       slots of the pkmap window at PKMAP_BASE (0xff800000),
 *                       reference-counted in pkmap_count[]: 0 free, 1 mapped
 *                       but unused (its PTE is cleared, with one TLB flush for
 *                       all of them, when the allocator wraps:
 *                       flush_all_zero_pkmaps), n+1 used n times. Visible on
 *                       every CPU; page_address() finds it while it lasts.
 *                       With every slot in use, kmap sleeps on pkmap_map_wait
 *                       until a kunmap drops a slot to unused (wait.ts: with
 *                       other threads attached as CPUs it really waits; alone,
 *                       no one could ever kunmap, and the would-be deadlock is
 *                       reported as mempool_alloc()'s is).
 *   kmap_local_page()   does not sleep; the mapping belongs to the task and
 *   kmap_atomic()       CPU: slot idx of the CPU's KM_MAX_IDX (16) fixmap
 *                       slots, FIX_KMAP_BEGIN + idx + KM_MAX_IDX * cpu, at
 *                       __fix_to_virt(i) = FIXADDR_TOP - i * PAGE_SIZE. Slots
 *                       nest like a stack: unmap in the reverse order.
 *                       kmap_atomic() also disables preemption and page
 *                       faults (so sleeping inside is reported).
 *
 * A lowmem page (and every page on x86_64, which has no highmem) is simply
 * page_address(page): kmap and friends return the direct-map address.
 *
 * State, in simulated memory: pkmap_count[] and last_pkmap_nr in two pages from
 * the buddy allocator, the pkmap and fixmap PTEs in init_mm's page tables,
 * and each CPU's kmap_local index in a static per-CPU variable (the kernel
 * keeps it in current->kmap_ctrl; kmem's tasks are bound to their CPU while
 * they hold local mappings, so per CPU is the same). The kernel finds a
 * kmapped page's address in a hash table (page_address_htable); kmem reads
 * it back from the pkmap PTEs.
 *
 * Locking, for several host threads running CPUs: kmap_lock (a spinlock in
 * .bss, ImageLayout.highmem +4) protects pkmap_count[], last_pkmap_nr and
 * the pkmap PTEs: kmap_high, kunmap_high, flush_all_zero_pkmaps, and the
 * page_address() look-up (the kernel's page_address_htable lock). The
 * bookkeeping's pfn + 1 is at ImageLayout.highmem +0: kmap_init runs once,
 * under kmap_lock (its allocations are GFP_NOWAIT), and publishes the pfn
 * last; its page tables are installed under init_mm.page_table_lock. The
 * kmap_local slots and index are this CPU's own and take no lock. The
 * bookkeeping page also holds the per-CPU index variable's pointer (+4100).
 *
 * kmem's fixmap index of FIX_KMAP_BEGIN: the entries before it on a 32-bit
 * PC (FIX_HOLE, FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE, FIX_APIC_BASE,
 * FIX_IO_APIC_BASE_0..63) make it 68.
 */
import { I386_FIXADDR_TOP, I386_PKMAP_BASE, PAGE_SIZE, formatPtr } from '../arch/x86/layout.ts';
import { pte_pfn, _KERNPG_TABLE, _PAGE_PRESENT, _PAGE_USER } from '../arch/x86/pgtable.ts';
import { GFP_NOWAIT, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { KERN_ERR } from '../kernel/bug.ts';
import { NR_PAGETABLE } from './mmzone.ts';
import { PGTY_table } from './page.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { PhysMem } from '../machine/memory.ts';

export const KM_MAX_IDX = 16;
/** How long, in jiffies, one sleep of kmap() lasts before it looks again (schedule() has none; wait.ts slices it anyway). */
const MAP_WAIT_JIFFIES = 250;
export const FIX_KMAP_BEGIN = 68;

/* The bookkeeping pages (order 1): pkmap_count[LAST_PKMAP] (int), then last_pkmap_nr at 4096. */
const LAST_NR_OFF = 4096;
/** The per-CPU pointer of kmap_ctrl_idx. */
const IDX_VAR_OFF = 4100;
/** pkmap_map_wait, a wait_queue_head_t (wait.ts). */
const MAP_WAIT_OFF = 4104;
/* .bss */
const G_META_PFN = 0;
const G_KMAP_LOCK = 4;

export class Highmem {
  /** False on x86_64: no highmem, kmap is page_address. */
  readonly enabled: boolean;
  readonly PKMAP_BASE = I386_PKMAP_BASE;
  readonly LAST_PKMAP: number;
  /** kmap_lock's physical address. */
  private readonly kmapLock: number;

  constructor(private readonly k: Kernel) {
    this.enabled = k.layout.arch === 'i386';
    this.LAST_PKMAP = k.paging.pt.lv.pae ? 512 : 1024;
    this.kmapLock = k.img.highmem + G_KMAP_LOCK;
  }

  /** The bookkeeping's physical address, or -1 before kmap_init. */
  private get metaPa(): number {
    const pa = this.k.img.highmem + G_META_PFN;
    const pfn1 = Atomics.load(this.k.mem.i32At(pa), PhysMem.wordIndex(pa));
    return pfn1 === 0 ? -1 : (pfn1 - 1) * PAGE_SIZE;
  }

  /** Static per-CPU int: this CPU's kmap_local index (kmap_ctrl.idx). */
  private get idxVar(): number {
    return this.k.mem.read32(this.meta() + IDX_VAR_OFF);
  }

  /**
   * kmap_init() and permanent_kmaps_init() (arch/x86/mm/init_32.c): the
   * bookkeeping and the page tables of the pkmap window and of the kmap
   * fixmap slots, so that mapping a slot never allocates (kmap_atomic
   * can't). The kernel does this at boot; kmem does it at the first use of
   * highmem (so a booted machine's memory is exactly the kernel's at boot),
   * with GFP_NOWAIT because that first use may be in atomic context.
   */
  private meta(): number {
    const pa = this.metaPa;
    if (pa >= 0) return pa;
    this.k.locks.spin_lock(this.kmapLock);
    try {
      if (this.metaPa < 0) this.kmap_init();
    } finally {
      this.k.locks.spin_unlock(this.kmapLock);
    }
    return this.metaPa;
  }

  /** Under kmap_lock: the bookkeeping, the per-CPU index, the page tables; the pfn published last. */
  private kmap_init(): void {
    const k = this.k;
    const pfn = k.buddy.__alloc_pages(GFP_NOWAIT | __GFP_ZERO, 1);
    if (pfn < 0) throw new Error('kmap_init: out of memory');
    k.mem.write32(pfn * PAGE_SIZE + IDX_VAR_OFF, k.percpuDefs.DEFINE_PER_CPU('kmap_ctrl_idx', 4));
    k.pressure.wait.init_waitqueue_head(k.kaddr.__va(pfn * PAGE_SIZE + MAP_WAIT_OFF));
    const pt = k.paging.pt;
    const last = pt.lv.nr - 1;
    const span = pt.levelSize(last - 1);
    const ranges: [number, number][] = [
      [this.PKMAP_BASE, this.PKMAP_ADDR(this.LAST_PKMAP)],
      [this.__fix_to_virt(FIX_KMAP_BEGIN + KM_MAX_IDX * k.config.cpus - 1), this.__fix_to_virt(FIX_KMAP_BEGIN) + PAGE_SIZE],
    ];
    for (const [lo, hi] of ranges) {
      for (let va = Math.floor(lo / span) * span; va < hi; va += span) this.populate(va);
    }
    const g = k.img.highmem + G_META_PFN;
    Atomics.store(k.mem.i32At(g), PhysMem.wordIndex(g), pfn + 1);
  }

  /** page_table_range_init() for one PTE table's span: the tables above va's PTE. */
  private populate(va: number): void {
    const k = this.k;
    const pt = k.paging.pt;
    const lv = pt.lv;
    let table = pt.pgdPa;
    for (let l = 0; l < lv.nr - 1; l++) {
      const pa = table + pt.index(va, l) * lv.entrySize;
      k.locks.spin_lock(k.img.initMm);
      let v = pt.readEntry(pa);
      if ((v & _PAGE_PRESENT) === 0) {
        const pfn = k.buddy.__alloc_pages(GFP_NOWAIT | __GFP_ZERO, 0);
        if (pfn < 0) {
          k.locks.spin_unlock(k.img.initMm);
          throw new Error('kmap_init: no memory for page tables');
        }
        if (lv.ctor[l + 1]) {
          // pagetable_pmd_ctor(): PGTY_table, NR_PAGETABLE
          k.pages.setType(pfn, PGTY_table);
          k.buddy.counters.mod_node_page_state(k.pages.page_to_nid(pfn), NR_PAGETABLE, 1);
        }
        v = pfn * PAGE_SIZE + (lv.pae && l === 0 ? _PAGE_PRESENT : _KERNPG_TABLE + _PAGE_USER);
        pt.writeEntry(pa, v);
      }
      k.locks.spin_unlock(k.img.initMm);
      table = pte_pfn(v) * PAGE_SIZE;
    }
  }

  PKMAP_ADDR(nr: number): number {
    return this.PKMAP_BASE + nr * PAGE_SIZE;
  }

  PKMAP_NR(va: number): number {
    return Math.floor((va - this.PKMAP_BASE) / PAGE_SIZE);
  }

  __fix_to_virt(idx: number): number {
    return I386_FIXADDR_TOP - idx * PAGE_SIZE;
  }

  pkmap_count(nr: number): number {
    return this.k.mem.read32(this.meta() + nr * 4) | 0;
  }

  private setCount(nr: number, v: number): void {
    this.k.mem.write32(this.meta() + nr * 4, v);
  }

  private isHigh(pfn: number): boolean {
    return this.enabled && this.k.pages.page_zonenum(pfn) === this.k.mz.zs.ZONE_HIGHMEM;
  }

  private pfnOf(page: number): number {
    const pfn = this.k.pages.page_to_pfn(page);
    if (pfn < 0) throw new RangeError(`${formatPtr(this.k.layout, page)} is not a struct page`);
    return pfn;
  }

  /** The pkmap slot mapping pfn, or -1 (page_address_htable lookup). */
  private slotOf(pfn: number): number {
    if (this.metaPa < 0) return -1;
    const pt = this.k.paging.pt;
    for (let nr = 0; nr < this.LAST_PKMAP; nr++) {
      if (this.pkmap_count(nr) === 0) continue;
      const w = pt.walk(this.PKMAP_ADDR(nr));
      if (w.mapped && pte_pfn(pt.readEntry(w.entryPa)) === pfn) return nr;
    }
    return -1;
  }

  /** page_address() of a highmem page: its pkmap address while kmapped, else 0. */
  page_address_high(pfn: number): number {
    if (this.metaPa < 0) return 0;
    this.k.locks.spin_lock(this.kmapLock);
    const nr = this.slotOf(pfn);
    this.k.locks.spin_unlock(this.kmapLock);
    return nr < 0 ? 0 : this.PKMAP_ADDR(nr);
  }

  private lowmemAddress(pfn: number): number {
    return this.k.kaddr.__va(pfn * PAGE_SIZE);
  }

  /** flush_all_zero_pkmaps(): clear every slot whose count is 1, one TLB flush for the window. */
  flush_all_zero_pkmaps(): void {
    this.meta();
    this.k.locks.spin_lock(this.kmapLock);
    this.flushZeroLocked();
    this.k.locks.spin_unlock(this.kmapLock);
  }

  private flushZeroLocked(): void {
    let need = false;
    const pt = this.k.paging.pt;
    for (let i = 0; i < this.LAST_PKMAP; i++) {
      if (this.pkmap_count(i) !== 1) continue;
      this.setCount(i, 0);
      pt.unmapRange(this.PKMAP_ADDR(i), this.PKMAP_ADDR(i + 1));
      need = true;
    }
    if (need) this.k.paging.tlb.flush_tlb_kernel_range(this.PKMAP_ADDR(0), this.PKMAP_ADDR(this.LAST_PKMAP));
  }

  /** pkmap_map_wait's kernel virtual address. */
  private mapWait(): number {
    return this.k.kaddr.__va(this.meta() + MAP_WAIT_OFF);
  }

  /**
   * map_new_virtual(), kmap_lock held: the next free slot after
   * last_pkmap_nr, mapped to pfn; when every slot is in use, sleep (the
   * lock dropped) until a kunmap wakes pkmap_map_wait, and look again,
   * first for a slot another task mapped pfn in meanwhile. Its address, or
   * 0 after kmem's report of a sleep that could never end.
   */
  private map_new_virtual(pfn: number): number {
    const m = this.meta();
    let last = this.k.mem.read32(m + LAST_NR_OFF);
    let count = this.LAST_PKMAP;
    for (;;) {
      last = (last + 1) & (this.LAST_PKMAP - 1);
      if (last === 0) {
        // no_more_pkmaps(): the unused slots are cleared, and a whole round may be scanned again
        this.flushZeroLocked();
        count = this.LAST_PKMAP;
      }
      if (this.pkmap_count(last) === 0) break;
      if (--count > 0) continue;
      // "Sleep for somebody else to unmap their entries"
      this.k.locks.spin_unlock(this.kmapLock);
      const slept = this.k.pressure.wait.sleep(this.mapWait(), MAP_WAIT_JIFFIES);
      this.k.locks.spin_lock(this.kmapLock);
      if (!slept) {
        this.sleepsForever(pfn);
        return 0;
      }
      // "Somebody else might have mapped it while we slept"
      const nr = this.slotOf(pfn);
      if (nr >= 0) return this.PKMAP_ADDR(nr);
      last = this.k.mem.read32(m + LAST_NR_OFF);
      count = this.LAST_PKMAP;
    }
    this.k.mem.write32(m + LAST_NR_OFF, last);
    const va = this.PKMAP_ADDR(last);
    const rc = this.k.paging.pt.mapPages(va, 1, () => pfn, this.k.paging.pt.PAGE_KERNEL);
    if (rc !== 0) throw new Error(`kmap: cannot map pkmap slot (${rc})`);
    this.setCount(last, 1);
    return va;
  }

  /** The would-be deadlock of a single-threaded machine: kmap() with every slot in use. */
  private sleepsForever(pfn: number): void {
    const s = this.k.sched;
    const lines = [
      'kmem: kmap would sleep forever: no pkmap slot can become free (single-threaded)',
      `kmem: task ${s.comm()}:${s.pid()} waits on pkmap_map_wait to map pfn ${pfn}: all ${this.LAST_PKMAP} pkmap slots are in use`,
    ];
    for (const l of lines) this.k.log.printk(KERN_ERR, l);
    lines.push(...this.k.bug.dump_stack(['schedule', 'kmap_high', 'kmap'], KERN_ERR));
    this.k.bug.reported('deadlock', lines, null);
  }

  /** kmap(page): might sleep; lowmem pages need no mapping. 0 only after kmem's deadlock report. */
  kmap(page: number): number {
    const pfn = this.pfnOf(page);
    this.k.bug.might_sleep('include/linux/highmem-internal.h', 40, ['kmap']);
    if (!this.isHigh(pfn)) return this.lowmemAddress(pfn);
    // kmap_high()
    this.meta();
    this.k.locks.spin_lock(this.kmapLock);
    try {
      let nr = this.slotOf(pfn);
      if (nr < 0) {
        const va = this.map_new_virtual(pfn);
        if (va === 0) return 0;
        nr = this.PKMAP_NR(va);
      }
      this.setCount(nr, this.pkmap_count(nr) + 1);
      return this.PKMAP_ADDR(nr);
    } finally {
      this.k.locks.spin_unlock(this.kmapLock);
    }
  }

  /** kunmap(page): drop a kmap reference; an unmapped page is the kernel's BUG_ON(!vaddr). */
  kunmap(page: number): void {
    const pfn = this.pfnOf(page);
    if (!this.isHigh(pfn)) return;
    if (this.metaPa < 0) {
      this.k.bug.bug('mm/highmem.c', 371, 'kunmap_high', ['kunmap']); // nothing was ever kmapped
      return;
    }
    this.k.locks.spin_lock(this.kmapLock); // lock_kmap_any()
    const nr = this.slotOf(pfn);
    const count = nr < 0 ? 0 : this.pkmap_count(nr);
    if (count >= 2) this.setCount(nr, count - 1);
    this.k.locks.spin_unlock(this.kmapLock);
    // the slot is unused now: a kmap() waiting for one may take it (need_wakeup)
    if (count === 2) this.k.pressure.wait.wake_up(this.mapWait());
    // BUG_ON(!vaddr) in kunmap_high(); a count of 1 would be the switch's BUG() (line 386).
    if (count < 2) this.k.bug.bug('mm/highmem.c', nr < 0 ? 371 : 386, 'kunmap_high', ['kunmap']);
  }

  private idx(): number {
    this.meta();
    return this.k.percpuDefs.this_cpu_read(this.idxVar, 4);
  }

  /** __kmap_local_page_prot(): a fixmap slot of this CPU (highmem), else page_address. */
  kmap_local_page(page: number): number {
    const pfn = this.pfnOf(page);
    if (!this.isHigh(pfn)) return this.lowmemAddress(pfn);
    const idx = this.idx();
    // kmap_local_idx_push()
    if (idx >= KM_MAX_IDX) {
      this.k.bug.bug('mm/highmem.c', 480, 'kmap_local_idx_push', ['__kmap_local_pfn_prot', 'kmap_local_page']);
      return 0;
    }
    this.k.percpuDefs.this_cpu_write(this.idxVar, 4, idx + 1);
    const va = this.__fix_to_virt(FIX_KMAP_BEGIN + idx + KM_MAX_IDX * this.k.sched.cpu);
    const pt = this.k.paging.pt;
    const rc = pt.mapPages(va, 1, () => pfn, pt.PAGE_KERNEL);
    if (rc !== 0) {
      this.k.bug.bug('mm/highmem.c', 565, '__kmap_local_pfn_prot', ['kmap_local_page']); // BUG_ON(!pte_none(*kmap_pte))
      return 0;
    }
    this.k.paging.tlb.flush_tlb_one_kernel(va);
    return va + 0;
  }

  /** kunmap_local(vaddr): must be the most recent local mapping of this CPU. */
  kunmap_local(vaddr: number): void {
    const va = vaddr - (vaddr % PAGE_SIZE);
    const lo = this.__fix_to_virt(FIX_KMAP_BEGIN + KM_MAX_IDX * this.k.config.cpus - 1);
    const hi = this.__fix_to_virt(FIX_KMAP_BEGIN);
    if (!this.enabled || va < lo || va > hi) {
      // kunmap_local_indexed(): "Sanity check: the address is not a local map" -> a lowmem address is fine.
      if (va < this.k.layout.PAGE_OFFSET) this.k.bug.warn('mm/highmem.c', 617, 'kunmap_local_indexed', null, ['kunmap_local'], true);
      return;
    }
    const idx = this.idx() - 1;
    const want = this.__fix_to_virt(FIX_KMAP_BEGIN + idx + KM_MAX_IDX * this.k.sched.cpu);
    if (idx < 0 || va !== want) {
      // WARN_ON_ONCE(addr != __fix_to_virt(FIX_KMAP_BEGIN + idx)): out of order (or nothing mapped).
      this.k.bug.warn('mm/highmem.c', 623, 'kunmap_local_indexed', null, ['kunmap_local'], true);
      if (idx < 0) return;
    }
    this.k.paging.pt.unmapRange(want, want + PAGE_SIZE);
    this.k.paging.tlb.flush_tlb_one_kernel(want);
    this.k.percpuDefs.this_cpu_write(this.idxVar, 4, idx);
  }

  /** kmap_atomic(page): preempt_disable, pagefault_disable, then a local mapping. */
  kmap_atomic(page: number): number {
    this.k.sched.preempt_disable();
    return this.kmap_local_page(page);
  }

  kunmap_atomic(vaddr: number): void {
    this.kunmap_local(vaddr);
    this.k.sched.preempt_enable();
  }

  /** This CPU's kmap_local nesting depth. */
  localDepth(): number {
    return this.enabled ? this.idx() : 0;
  }

  /** Slots in use (count >= 2) and mapped-but-idle (count 1). */
  pkmapStats(): { used: number; idle: number } {
    let used = 0;
    let idle = 0;
    if (this.metaPa < 0) return { used, idle };
    this.k.locks.spin_lock(this.kmapLock);
    for (let i = 0; i < this.LAST_PKMAP; i++) {
      const c = this.pkmap_count(i);
      if (c >= 2) used++;
      else if (c === 1) idle++;
    }
    this.k.locks.spin_unlock(this.kmapLock);
    return { used, idle };
  }

  /** Is the PTE for va present (for tests and the demo)? */
  mapped(va: number): boolean {
    const w = this.k.paging.pt.walk(va);
    return w.mapped && (this.k.paging.pt.readEntry(w.entryPa) & _PAGE_PRESENT) !== 0;
  }
}
