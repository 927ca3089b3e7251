/*
 * Virtually contiguous memory (mm/vmalloc.c, include/linux/vmalloc.h,
 * Linux 6.12): vmalloc and its family, vmap, the vmap_area allocator of the
 * VMALLOC_START..VMALLOC_END range, lazy freeing, vfree from interrupts,
 * kvmalloc's fallback, and what /proc/vmallocinfo and meminfo VmallocUsed
 * read.
 *
 * vmalloc(size) = pages from anywhere, made contiguous in virtual space:
 *
 *   virtual   VMALLOC_START                                     VMALLOC_END
 *             |  area A (3 pages)   |g|  area B (1) |g|   free ...        |
 *                 |      |     |                 |       (g: guard page, never mapped)
 *   physical  ... [p7] ...[p2]...[p40] .........[p13] ...  (any order, any zone;
 *                                                          highmem first on i386)
 *
 *   __vmalloc_node_range(size, align, start, end, gfp, prot, vm_flags, node, caller)
 *     __get_vm_area_node(): a struct vm_struct (kzalloc) and a struct
 *        vmap_area (from the "vmap_area" slab cache) for size + a guard page,
 *        the lowest free range that fits (alloc_vmap_area)
 *     __vmalloc_area_node(): the pages[] array (kmalloc, or a nested vmalloc
 *        above a page), one page at a time from the buddy allocator
 *        (__GFP_HIGHMEM added unless the caller asked for DMA/DMA32),
 *        then the PTEs (pgtable.ts)
 *   vfree(addr)
 *     remove_vm_area(): unlink the vmap_area from the busy list, clear the
 *        PTEs, put the range on the lazy list (no TLB flush yet)
 *     free the pages, pages[], vm_struct
 *   purge (when more than lazy_max_pages() pages are lazy, or when the
 *   address space is full): one flush_tlb_kernel_range() over all lazy
 *   ranges, which then merge back into the free list
 *
 * Everything is in simulated memory, laid out as the kernel's structs:
 *
 *   struct vmap_area (slab cache "vmap_area": 72 bytes x86_64, 36 i386)
 *     +0  va_start   +8  va_end      (unsigned long; [start, end) incl. the guard page)
 *     +16 rb_node    (3 words; left zero, see below)
 *     +40 list       (list_head: free, busy or lazy list, sorted by address)
 *     +56 vm         (struct vm_struct *, busy areas; the kernel's union
 *                     with subtree_max_size for free ones)
 *     +64 flags
 *
 *   struct vm_struct (kzalloc: 72 bytes x86_64, 36/40 i386)
 *     next addr size flags pages [page_order] nr_pages phys_addr caller requested_size
 *     (size includes the guard page, as vmallocinfo shows it)
 *
 *   mm/vmalloc.c's statics, in the kernel image's .bss (vmallocStaticsLayout):
 *     free_vmap_area_list, vmap_nodes[0].busy.head, vmap_nodes[0].lazy.head,
 *     vmap_lazy_nr, nr_vmalloc_pages, vmap_area_cachep, vmap_initialized,
 *     the per-CPU vfree_deferred llists and ne_fit_preload_node pointers
 *     (per-CPU variables as arrays indexed by CPU until kmem has a
 *     .data..percpu section), and the pending-work bits of the two work
 *     items (drain_vmap_work, vfree_deferred.wq).
 *
 * Simplifications, each with the same visible result for a single vmap node:
 *  - The kernel keeps free, busy and lazy areas in augmented rbtrees and in
 *    address-sorted lists; kmem keeps only the lists and searches them
 *    linearly. The free search returns the lowest-address fit, which is
 *    what find_vmap_lowest_match() returns (its DEBUG_AUGMENT_LOWEST_MATCH_CHECK
 *    compares against exactly this linear search), except that with an
 *    alignment above PAGE_SIZE the tree search prunes by size + align - 1
 *    and can pass over a small block the linear search would take.
 *  - Since 6.9 the kernel splits the busy areas over nr_vmap_nodes "vmap
 *    nodes" (one per CPU, by 16-page zones of address) and recycles freed
 *    small areas through per-node pools. kmem has one vmap node, as a
 *    1-CPU machine does: /proc/vmallocinfo is in address order, and a freed
 *    area goes back to the global free list when purged.
 *  - Huge vmalloc mappings (VM_ALLOW_HUGE_VMAP, kvmalloc) are off, as with
 *    the nohugevmalloc boot option; ioremap does use 2 MiB PMD mappings.
 *  - The pages come one alloc_pages_node() at a time where the kernel
 *    first tries the bulk allocator (the same per-CPU lists).
 *  - The vmap_area cache and the initial free range are set up at the
 *    first use (vmalloc_init), not at boot, so a machine that never uses
 *    vmalloc shows the slab caches of the earlier layers unchanged.
 *  - Work items (the lazy purge, deferred vfree) run at the next entry into
 *    this file from process context with preemption enabled, or at
 *    flush_scheduled_work(), not in a kworker.
 *  - vm_map_ram() (the per-CPU vmap blocks) is not modelled.
 *
 * Locking (several host threads may run CPUs at once; everything below is
 * in the statics, so every thread sees the same state):
 *
 *   free_vmap_area_lock    spinlock  the free list: the search and clip of
 *                                    alloc_vmap_area(), the merges of the purge
 *   vmap_nodes[0].busy.lock spinlock the busy list (insert, find, unlink,
 *                                    /proc/vmallocinfo's walk)
 *   vmap_nodes[0].lazy.lock spinlock the lazy list (free_vmap_area_noflush,
 *                                    the purge taking the list, show_purge_info)
 *   vmap_purge_lock        mutex     one purge at a time (it sleeps: TLB flush);
 *                                    kmem also creates the vmap_area cache under
 *                                    it on first use (vmalloc_init)
 *   vmap_lazy_nr, nr_vmalloc_pages   atomic_long_t (Atomics.add)
 *   work_pending           atomic bits (Atomics.or / exchange)
 *   vfree_deferred[cpu]    per-CPU: pushed by its CPU (vfree_atomic) and
 *                                    drained by its CPU's work item, as each CPU
 *                                    has its own vfree_deferred.wq in 6.12
 *   ne_fit_preload_node[cpu] per-CPU: filled outside the spinlock (the
 *                                    allocation may sleep), used under it
 *
 * No allocation that may sleep happens under a spinlock: the vmap_area for
 * a new area and the preload are allocated first; the NE_FIT fallback
 * under free_vmap_area_lock uses GFP_NOWAIT as the kernel does. Lock order:
 * vmap_purge_lock, then one spinlock at a time. JS fields cache only
 * layouts and addresses (callerAddr: names already registered in the shared
 * kallsyms table; runningWork: this thread's own recursion guard).
 */
import { PAGE_SHIFT, PAGE_SIZE, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import type { PageTables } from '../arch/x86/pgtable.ts';
import type { Tlb } from '../arch/x86/tlb.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { KERN_WARNING, type Bug, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import { INIT_LIST_HEAD, __list_add, list_add_tail, list_del_init, list_empty } from '../lib/list.ts';
import {
  GFP_DMA, GFP_DMA32, GFP_KERNEL, GFP_NOWAIT, __GFP_FS, __GFP_HIGH, __GFP_HIGHMEM, __GFP_IO, __GFP_MEMALLOC,
  __GFP_NOFAIL, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIM, __GFP_RETRY_MAYFAIL, __GFP_ZERO,
} from '../include/linux/gfp_types.ts';
import { gfpflags_allow_blocking } from '../include/linux/gfp.ts';
import { SLAB_PANIC } from '../include/linux/slab.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import type { Mutexes } from '../kernel/locking/mutex.ts';
import type { Smp } from '../kernel/smp.ts';
import { atomicLongAdd } from '../machine/ram_words.ts';
import { PhysMem } from '../machine/memory.ts';
import { kmemCacheArgs, type SlabCommon } from './slab_common.ts';
import type { PageAllocator } from './page_alloc.ts';
import type { Pages } from './page.ts';
import type { Sparse } from './sparse.ts';

/* include/linux/vmalloc.h: vm_struct flags */
export const VM_IOREMAP = 0x00000001;
export const VM_ALLOC = 0x00000002;
export const VM_MAP = 0x00000004;
export const VM_USERMAP = 0x00000008;
export const VM_DMA_COHERENT = 0x00000010;
export const VM_UNINITIALIZED = 0x00000020;
export const VM_NO_GUARD = 0x00000040;
export const VM_KASAN = 0x00000080;
export const VM_FLUSH_RESET_PERMS = 0x00000100;
export const VM_MAP_PUT_PAGES = 0x00000200;
export const VM_ALLOW_HUGE_VMAP = 0x00000400;
export const VM_SPARSE = 0x00001000;

export const NUMA_NO_NODE = -1;

/** mm/internal.h GFP_RECLAIM_MASK: the flags a nested allocation inherits. */
export const GFP_RECLAIM_MASK = __GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC;

/** INT_MAX: kvmalloc's limit. */
const INT_MAX = 0x7fffffff;

export function vmapAreaLayout(ptrSize: number) {
  return defineStruct(ptrSize, [
    ['va_start', 'ulong'],
    ['va_end', 'ulong'],
    ['rb_node', { size: 3 * ptrSize, align: ptrSize }],
    ['list', 'list_head'],
    ['vm', 'ptr'],
    ['flags', 'ulong'],
  ]);
}

/** struct vm_struct; page_order exists with CONFIG_HAVE_ARCH_HUGE_VMALLOC (x86_64); phys_addr_t is 64-bit on x86_64 and PAE. */
export function vmStructLayout(ptrSize: number, pae: boolean) {
  const x64 = ptrSize === 8;
  return defineStruct(ptrSize, [
    ['next', 'ptr'],
    ['addr', 'ptr'],
    ['size', 'ulong'],
    ['flags', 'ulong'],
    ['pages', 'ptr'],
    ['page_order', { size: x64 ? 4 : 0, align: x64 ? 4 : 1 }],
    ['nr_pages', 'u32'],
    ['phys_addr', x64 || pae ? 'u64' : 'u32'],
    ['caller', 'ptr'],
    ['requested_size', 'ulong'],
  ]);
}

export function vmallocStaticsLayout(ptrSize: number, nrCpus: number) {
  return defineStruct(ptrSize, [
    ['free_vmap_area_list', 'list_head'],
    ['busy_head', 'list_head'],
    ['lazy_head', 'list_head'],
    ['vmap_lazy_nr', 'long'],
    ['nr_vmalloc_pages', 'long'],
    ['vmap_area_cachep', 'ptr'],
    ['vmap_initialized', 'int'],
    /** bit 0: drain_vmap_work queued (each CPU's vfree_deferred work is pending while its list is not empty). */
    ['work_pending', 'int'],
    /** lib/iomap.c bad_io_access(): reports made so far (it stops after 10). */
    ['bad_io_reports', 'int'],
    ['free_vmap_area_lock', 'int'],
    /** vmap_nodes[0].busy.lock and .lazy.lock */
    ['busy_lock', 'int'],
    ['lazy_lock', 'int'],
    /** struct mutex vmap_purge_lock */
    ['vmap_purge_lock', 'int'],
    ['vfree_deferred', 'ptr', nrCpus],
    ['ne_fit_preload_node', 'ptr', nrCpus],
  ]);
}

export function vmallocStaticsBytes(ptrSize: number, nrCpus: number): number {
  return vmallocStaticsLayout(ptrSize, nrCpus).size;
}

const WORK_DRAIN = 1;

export interface VmallocDeps {
  layout: ArchLayout;
  access: KmemAccess;
  kaddr: KernelAddr;
  pt: PageTables;
  tlb: Tlb;
  buddy: PageAllocator;
  pages: Pages;
  sparse: Sparse;
  slab: SlabCommon;
  bug: Bug;
  log: Log;
  sched: Sched;
  kallsyms: Kallsyms;
  locks: Spinlocks;
  mutexes: Mutexes;
  smp: Smp;
  nrCpus: number;
  /** Physical address of the statics in .bss. */
  staticsPa: number;
  pae: boolean;
  /** CONFIG_NUMA (x86_64): vmallocinfo prints N<node>= counts. */
  numa: boolean;
}

/** One line of /proc/vmallocinfo (fs/proc/vmallocinfo.ts prints it). */
export interface VmallocInfoEntry {
  start: number;
  end: number;
  size: number;
  /** %pS of the caller, or null. */
  caller: string | null;
  nrPages: number;
  /** phys_addr, or 0. */
  phys: number;
  flags: number;
  /** pages[] lives in vmalloc space. */
  vpages: boolean;
  /** Pages per node (CONFIG_NUMA), index = node. */
  numa: number[] | null;
  /** An area freed but not purged yet ("unpurged vm_area"). */
  unpurged: boolean;
}

export class Vmalloc {
  readonly va: ReturnType<typeof vmapAreaLayout>;
  readonly vm: ReturnType<typeof vmStructLayout>;
  readonly S: ReturnType<typeof vmallocStaticsLayout>;
  readonly VMALLOC_START: number;
  readonly VMALLOC_END: number;
  /** ULONG_MAX in the JS address form. */
  private readonly ULONG_MAX: number;
  private readonly ptr: number;
  private readonly statics: number;
  /** IOREMAP_MAX_ORDER: PUD_SHIFT on x86_64, PMD_SHIFT on i386. */
  readonly IOREMAP_MAX_ORDER: number;
  /** Caller names already given a code address (the kallsyms table is the state; this only finds it). */
  private readonly callerAddr = new Map<string, number>();
  private runningWork = false;

  constructor(readonly d: VmallocDeps) {
    const p = d.layout.ptrSize;
    this.ptr = p;
    this.va = vmapAreaLayout(p);
    this.vm = vmStructLayout(p, d.pae);
    this.S = vmallocStaticsLayout(p, d.nrCpus);
    this.statics = d.kaddr.imageVa(d.staticsPa);
    this.VMALLOC_START = d.layout.VMALLOC_START;
    this.VMALLOC_END = d.layout.VMALLOC_END;
    this.ULONG_MAX = p === 8 ? 2 ** 48 - 1 : 0xffffffff;
    this.IOREMAP_MAX_ORDER = p === 8 ? 30 : d.pae ? 21 : 22;
  }

  /* ---------------------------------------------------------------- */
  /* Memory accessors                                                 */
  /* ---------------------------------------------------------------- */

  private rp(va: number): number {
    return this.d.kaddr.readPtr(va);
  }

  private wp(va: number, v: number): void {
    this.d.kaddr.writePtr(va, v);
  }

  /** unsigned long (sizes, flags, counters). */
  private rl(va: number): number {
    return this.ptr === 8 ? this.d.kaddr.read64(va) : this.d.kaddr.read32(va);
  }

  private wl(va: number, v: number): void {
    if (this.ptr === 8) this.d.kaddr.write64(va, v);
    else this.d.kaddr.write32(va, v >>> 0);
  }

  private r32(va: number): number {
    return this.d.kaddr.read32(va);
  }

  private w32(va: number, v: number): void {
    this.d.kaddr.write32(va, v >>> 0);
  }

  private s(field: keyof VmallocStaticsFields): number {
    return this.statics + this.S[field];
  }

  /** A static's physical address (what the lock and atomic code take). */
  private sPa(field: keyof VmallocStaticsFields): number {
    return this.d.staticsPa + this.S[field];
  }

  /** atomic_long_add(delta, &field) */
  private atomicLongAdd(field: keyof VmallocStaticsFields, delta: number): void {
    const pa = this.sPa(field);
    atomicLongAdd(this.d.access.mem.i32At(pa), PhysMem.wordIndex(pa), this.ptr / 4, delta, true);
  }

  private lock(field: 'free_vmap_area_lock' | 'busy_lock' | 'lazy_lock'): void {
    this.d.locks.spin_lock(this.sPa(field));
  }

  private unlock(field: 'free_vmap_area_lock' | 'busy_lock' | 'lazy_lock'): void {
    this.d.locks.spin_unlock(this.sPa(field));
  }

  /* struct vmap_area */
  private vaStart(va: number): number { return this.rp(va + this.va.va_start); }
  private vaEnd(va: number): number { return this.rp(va + this.va.va_end); }
  private setVaStart(va: number, v: number): void { this.wp(va + this.va.va_start, v); }
  private setVaEnd(va: number, v: number): void { this.wp(va + this.va.va_end, v); }
  private vaOfList(node: number): number { return node - this.va.list; }
  private listOf(va: number): number { return va + this.va.list; }

  /* struct vm_struct */
  vmAddr(vm: number): number { return this.rp(vm + this.vm.addr); }
  vmSize(vm: number): number { return this.rl(vm + this.vm.size); }
  vmFlags(vm: number): number { return this.rl(vm + this.vm.flags); }
  vmPages(vm: number): number { return this.rp(vm + this.vm.pages); }
  vmNrPages(vm: number): number { return this.r32(vm + this.vm.nr_pages); }
  vmCaller(vm: number): number { return this.rp(vm + this.vm.caller); }
  vmPhysAddr(vm: number): number {
    const o = vm + this.vm.phys_addr;
    return this.ptr === 8 || this.d.pae ? this.d.kaddr.read64(o) : this.r32(o);
  }

  setVmPhysAddr(vm: number, pa: number): void {
    const o = vm + this.vm.phys_addr;
    if (this.ptr === 8 || this.d.pae) this.d.kaddr.write64(o, pa);
    else this.w32(o, pa);
  }

  /** get_vm_area_size(): the size without the guard page. */
  get_vm_area_size(vm: number): number {
    const size = this.vmSize(vm);
    return this.vmFlags(vm) & VM_NO_GUARD ? size : size - PAGE_SIZE;
  }

  /* ---------------------------------------------------------------- */
  /* Setup                                                            */
  /* ---------------------------------------------------------------- */

  get initialized(): boolean {
    return this.r32(this.s('vmap_initialized')) !== 0;
  }

  /**
   * vmalloc_init() and vmap_init_free_space(): the vmap_area cache
   * (KMEM_CACHE(vmap_area, SLAB_PANIC)), the lists, and one free area
   * covering [1, ULONG_MAX]. Run at the first use (see the header).
   */
  vmalloc_init(): void {
    if (this.initialized) return;
    const purgeLock = this.sPa('vmap_purge_lock');
    this.d.mutexes.mutex_lock(purgeLock);
    try {
      if (!this.initialized) this.vmalloc_init_locked();
    } finally {
      this.d.mutexes.mutex_unlock(purgeLock);
    }
  }

  private vmalloc_init_locked(): void {
    const cachep = this.d.slab.kmem_cache_create('vmap_area', this.va.size, kmemCacheArgs(this.ptr, 0), SLAB_PANIC);
    this.wp(this.s('vmap_area_cachep'), cachep);
    INIT_LIST_HEAD(this.d.kaddr, this.s('free_vmap_area_list'));
    INIT_LIST_HEAD(this.d.kaddr, this.s('busy_head'));
    INIT_LIST_HEAD(this.d.kaddr, this.s('lazy_head'));
    const free = this.d.slab.kmem_cache_zalloc(cachep, GFP_NOWAIT);
    this.setVaStart(free, 1);
    this.setVaEnd(free, this.ULONG_MAX);
    list_add_tail(this.d.kaddr, this.listOf(free), this.s('free_vmap_area_list'));
    const flag = this.sPa('vmap_initialized');
    Atomics.store(this.d.access.mem.i32At(flag), PhysMem.wordIndex(flag), 1); // published after the lists
  }

  private get cachep(): number {
    return this.rp(this.s('vmap_area_cachep'));
  }

  private kmemCacheFree(va: number): void {
    this.d.slab.kmem_cache_free(this.cachep, va);
  }

  /* ---------------------------------------------------------------- */
  /* Counters                                                         */
  /* ---------------------------------------------------------------- */

  /** vmalloc_nr_pages(): meminfo VmallocUsed, in pages. */
  vmalloc_nr_pages(): number {
    return this.initialized ? this.rl(this.s('nr_vmalloc_pages')) : 0;
  }

  private addVmallocPages(n: number): void {
    this.atomicLongAdd('nr_vmalloc_pages', n);
  }

  /** vmap_lazy_nr: pages in freed areas waiting for the purge. */
  vmap_lazy_nr(): number {
    return this.initialized ? this.rl(this.s('vmap_lazy_nr')) : 0;
  }

  /** lazy_max_pages(): fls(num_online_cpus()) * 32 MiB worth of pages. */
  lazy_max_pages(): number {
    const fls = 32 - Math.clz32(this.d.nrCpus);
    return fls * ((32 << 20) / PAGE_SIZE);
  }

  /** totalram_pages() */
  totalram_pages(): number {
    let n = 0;
    for (const z of this.d.buddy.zones) n += this.d.buddy.managed(z);
    return n;
  }

  /* ---------------------------------------------------------------- */
  /* Address-sorted lists of vmap_areas                               */
  /* ---------------------------------------------------------------- */

  /** insert_vmap_area(): into an address-sorted list. */
  private insertSorted(va: number, head: number): void {
    const m = this.d.kaddr;
    const start = this.vaStart(va);
    let pos = m.readPtr(head);
    while (pos !== head && this.vaStart(this.vaOfList(pos)) < start) pos = m.readPtr(pos);
    // before pos
    __list_add(m, this.listOf(va), m.readPtr(pos + this.ptr), pos);
  }

  /** The areas of a list, in order (a transient JS array for a walk that unlinks as it goes). */
  private listAreas(head: number): number[] {
    const out: number[] = [];
    const m = this.d.kaddr;
    for (let pos = m.readPtr(head); pos !== head; pos = m.readPtr(pos)) out.push(this.vaOfList(pos));
    return out;
  }

  /** __find_vmap_area(): the busy area containing addr (guard page included), or 0. */
  find_vmap_area(addr: number): number {
    if (!this.initialized) return 0;
    this.lock('busy_lock');
    const va = this.findBusyLocked(addr);
    this.unlock('busy_lock');
    return va;
  }

  private findBusyLocked(addr: number): number {
    const m = this.d.kaddr;
    const head = this.s('busy_head');
    for (let pos = m.readPtr(head); pos !== head; pos = m.readPtr(pos)) {
      const va = this.vaOfList(pos);
      if (addr < this.vaStart(va)) return 0;
      if (addr < this.vaEnd(va)) return va;
    }
    return 0;
  }

  /** find_vm_area(addr): the vm_struct of the busy area containing addr, or 0. */
  find_vm_area(addr: number): number {
    const va = this.find_vmap_area(addr);
    return va === 0 ? 0 : this.rp(va + this.va.vm);
  }

  /* ---------------------------------------------------------------- */
  /* alloc_vmap_area()                                                */
  /* ---------------------------------------------------------------- */

  private static ALIGN(x: number, a: number): number {
    return Math.ceil(x / a) * a;
  }

  /** is_within_this_va() */
  private isWithin(va: number, size: number, align: number, vstart: number): boolean {
    const s = this.vaStart(va);
    const nva = Vmalloc.ALIGN(s > vstart ? s : vstart, align);
    if (nva < vstart) return false;
    return nva + size <= this.vaEnd(va);
  }

  /**
   * preload_this_cpu_lock(): make sure this CPU holds a spare vmap_area for
   * an NE_FIT split (the per-CPU ne_fit_preload_node).
   */
  private preload(gfp: number, node: number): void {
    const slot = this.s('ne_fit_preload_node') + this.d.sched.cpu * this.ptr;
    if (this.rp(slot) !== 0) return;
    const va = this.d.slab.kmem_cache_alloc_node(this.cachep, gfp, node);
    if (va !== 0) this.wp(slot, va);
  }

  /** va_clip(): cut [nva, nva + size) out of free area va. 0, or -1 when a split found no spare vmap_area. */
  private vaClip(va: number, nva: number, size: number): number {
    const s = this.vaStart(va);
    const e = this.vaEnd(va);
    if (nva < s || nva + size > e) return -1;
    if (s === nva && e === nva + size) { // FL_FIT_TYPE
      list_del_init(this.d.kaddr, this.listOf(va));
      this.kmemCacheFree(va);
    } else if (s === nva) { // LE_FIT_TYPE
      this.setVaStart(va, nva + size);
    } else if (e === nva + size) { // RE_FIT_TYPE
      this.setVaEnd(va, nva);
    } else { // NE_FIT_TYPE: a new area for the left part
      const slot = this.s('ne_fit_preload_node') + this.d.sched.cpu * this.ptr;
      let lva = this.rp(slot);
      if (lva !== 0) this.wp(slot, 0);
      else {
        lva = this.d.slab.kmem_cache_alloc(this.cachep, GFP_NOWAIT);
        if (lva === 0) return -1;
      }
      this.setVaStart(lva, s);
      this.setVaEnd(lva, nva);
      this.setVaStart(va, nva + size);
      const m = this.d.kaddr;
      const node = this.listOf(va);
      __list_add(m, this.listOf(lva), m.readPtr(node + this.ptr), node);
    }
    return 0;
  }

  /** __alloc_vmap_area(): the lowest fit in the free list; vend when there is none. */
  private allocRange(size: number, align: number, vstart: number, vend: number): number {
    const m = this.d.kaddr;
    const head = this.s('free_vmap_area_list');
    for (let pos = m.readPtr(head); pos !== head; pos = m.readPtr(pos)) {
      const va = this.vaOfList(pos);
      if (!this.isWithin(va, size, align, vstart)) continue;
      const s = this.vaStart(va);
      const nva = Vmalloc.ALIGN(s > vstart ? s : vstart, align);
      if (nva + size > vend) return vend;
      if (this.vaClip(va, nva, size) !== 0) {
        this.d.bug.warn('mm/vmalloc.c', 1804, 'va_alloc', null, ['alloc_vmap_area'], true);
        return vend;
      }
      return nva;
    }
    return vend;
  }

  /** The search of alloc_vmap_area(), purging once when nothing fits: the address, or vend. */
  private findRange(size: number, align: number, vstart: number, vend: number, gfp: number, node: number): number {
    for (let purged = false; ; purged = true) {
      this.preload(gfp, node);
      this.lock('free_vmap_area_lock');
      const addr = this.allocRange(size, align, vstart, vend);
      this.unlock('free_vmap_area_lock');
      if (addr !== vend || purged) return addr;
      this.reclaim_and_purge_vmap_areas();
    }
  }

  /**
   * alloc_vmap_area(): a busy vmap_area of `size` bytes (guard included) in
   * [vstart, vend), or a negative errno (-EINVAL, -ENOMEM, -EBUSY).
   */
  alloc_vmap_area(size: number, align: number, vstart: number, vend: number, node: number, gfp: number, vaFlags: number, vm: number): number {
    if (!size || size % PAGE_SIZE !== 0 || !(align > 0 && Number.isInteger(Math.log2(align)))) return -22;
    this.vmalloc_init();
    gfp &= GFP_RECLAIM_MASK;
    const va = this.d.slab.kmem_cache_alloc_node(this.cachep, gfp, node);
    if (va === 0) return -12;
    let addr: number;
    try {
      addr = this.findRange(size, align, vstart, vend, gfp, node);
    } catch (e) { // a deadlock report backed out of a lock: give the vmap_area back
      this.kmemCacheFree(va);
      throw e;
    }
    if (addr === vend) {
      if (!(gfp & __GFP_NOWARN)) {
        this.d.log.printk(KERN_WARNING, `vmalloc_node_range for size ${size} failed: Address range restricted to ` +
          `${hexl(this.d.layout, vstart)} - ${hexl(this.d.layout, vend)}`);
      }
      this.kmemCacheFree(va);
      return -16;
    }
    this.setVaStart(va, addr);
    this.setVaEnd(va, addr + size);
    this.wp(va + this.va.vm, vm);
    this.wl(va + this.va.flags, vaFlags);
    if (vm !== 0) {
      this.wp(vm + this.vm.addr, addr);
      this.wl(vm + this.vm.size, size);
    }
    this.lock('busy_lock');
    this.insertSorted(va, this.s('busy_head'));
    this.unlock('busy_lock');
    return va;
  }

  /**
   * merge_or_add_vmap_area(): put a range back on the free list, merging
   * with its neighbours (the merged-away vmap_area goes back to the cache).
   */
  private mergeOrAdd(va: number): void {
    const m = this.d.kaddr;
    const head = this.s('free_vmap_area_list');
    const start = this.vaStart(va);
    const end = this.vaEnd(va);
    let next = m.readPtr(head);
    while (next !== head && this.vaStart(this.vaOfList(next)) < start) next = m.readPtr(next);
    let merged = false;
    let cur = va;
    if (next !== head) {
      const sib = this.vaOfList(next);
      if (this.vaStart(sib) === end) {
        this.setVaStart(sib, start);
        this.kmemCacheFree(cur);
        cur = sib;
        merged = true;
      }
    }
    const prevNode = m.readPtr(next + this.ptr);
    if (prevNode !== head) {
      const sib = this.vaOfList(prevNode);
      if (this.vaEnd(sib) === start) {
        if (merged) list_del_init(m, this.listOf(cur));
        this.setVaEnd(sib, this.vaEnd(cur));
        this.kmemCacheFree(cur);
        cur = sib;
        merged = true;
      }
    }
    if (!merged) __list_add(m, this.listOf(cur), prevNode, next);
  }

  /* ---------------------------------------------------------------- */
  /* Lazy freeing and the purge                                       */
  /* ---------------------------------------------------------------- */

  /** free_vmap_area_noflush(): onto the lazy list; schedule the purge past lazy_max_pages(). */
  private free_vmap_area_noflush(va: number): void {
    if (!list_empty(this.d.kaddr, this.listOf(va))) {
      this.d.bug.warn('mm/vmalloc.c', 2419, 'free_vmap_area_noflush', null, [], true);
      return;
    }
    const nrPages = (this.vaEnd(va) - this.vaStart(va)) / PAGE_SIZE;
    this.atomicLongAdd('vmap_lazy_nr', nrPages);
    const nrLazy = this.rl(this.s('vmap_lazy_nr'));
    this.lock('lazy_lock');
    this.insertSorted(va, this.s('lazy_head'));
    this.unlock('lazy_lock');
    if (nrLazy > this.lazy_max_pages()) this.schedule_work(WORK_DRAIN);
  }

  /** free_unmap_vmap_area(): clear the PTEs (the TLB keeps its entries until the purge). */
  private free_unmap_vmap_area(va: number): void {
    this.d.pt.unmapRange(this.vaStart(va), this.vaEnd(va));
    this.free_vmap_area_noflush(va);
  }

  /**
   * __purge_vmap_area_lazy(): flush the TLBs over all lazily freed ranges,
   * then give the ranges back to the free list. True if anything was purged.
   */
  private purge(start: number, end: number): boolean {
    const purgeLock = this.sPa('vmap_purge_lock');
    this.d.mutexes.mutex_lock(purgeLock);
    try {
      return this.purgeLocked(start, end);
    } finally {
      this.d.mutexes.mutex_unlock(purgeLock);
    }
  }

  /** Under vmap_purge_lock: take the lazy list (under its lock), flush, merge (under free_vmap_area_lock). */
  private purgeLocked(start: number, end: number): boolean {
    const m = this.d.kaddr;
    const lazy = this.s('lazy_head');
    this.lock('lazy_lock');
    const areas = this.listAreas(lazy);
    for (const va of areas) list_del_init(m, this.listOf(va)); // list_replace_init() onto the purge list
    this.unlock('lazy_lock');
    if (areas.length === 0) return false;
    start = Math.min(start, this.vaStart(areas[0]));
    end = Math.max(end, this.vaEnd(areas[areas.length - 1]));
    this.d.tlb.flush_tlb_kernel_range(start, end);
    // purge_vmap_node(): each area moves to a local list (list_add: reversed), then reclaim_list_global().
    let nrPurged = 0;
    for (const va of areas) nrPurged += (this.vaEnd(va) - this.vaStart(va)) / PAGE_SIZE;
    this.atomicLongAdd('vmap_lazy_nr', -nrPurged);
    this.lock('free_vmap_area_lock');
    for (let i = areas.length - 1; i >= 0; i--) this.mergeOrAdd(areas[i]);
    this.unlock('free_vmap_area_lock');
    return true;
  }

  /** reclaim_and_purge_vmap_areas() */
  reclaim_and_purge_vmap_areas(): void {
    this.purge(this.ULONG_MAX, 0);
  }

  /** vm_unmap_aliases(): purge now, flushing the TLBs. */
  vm_unmap_aliases(): void {
    if (!this.initialized) return;
    this.purge(this.ULONG_MAX, 0);
  }

  /* ---------------------------------------------------------------- */
  /* Work items                                                       */
  /* ---------------------------------------------------------------- */

  private schedule_work(bit: number): void {
    const p = this.sPa('work_pending');
    Atomics.or(this.d.access.mem.i32At(p), PhysMem.wordIndex(p), bit);
  }

  /** Take the pending bits (test_and_clear of each work item's PENDING bit). */
  private takePendingWork(): number {
    const p = this.sPa('work_pending');
    return Atomics.exchange(this.d.access.mem.i32At(p), PhysMem.wordIndex(p), 0);
  }

  /** Run the queued work items (drain_vmap_area_work, delayed_vfree_work) if this context could let a kworker run. */
  run_pending_work(force = false): void {
    if (this.runningWork) return;
    if (!force && (this.d.sched.atomicContext() || this.d.sched.in_interrupt())) return;
    this.runningWork = true;
    try {
      for (;;) {
        const vfreed = this.delayed_vfree_work();
        const pending = this.takePendingWork();
        if (pending & WORK_DRAIN) this.purge(this.ULONG_MAX, 0);
        else if (!vfreed) break;
      }
    } finally {
      this.runningWork = false;
    }
  }

  /**
   * delayed_vfree_work() of every CPU this thread drives (each CPU's work
   * item runs on that CPU): vfree() what vfree_atomic() queued there. True
   * if anything was queued.
   */
  private delayed_vfree_work(): boolean {
    let any = false;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const head = this.s('vfree_deferred') + cpu * this.ptr;
      let node = this.rp(head);
      if (node === 0 || !this.d.smp.drives(cpu)) continue;
      any = true;
      this.wp(head, 0);
      while (node !== 0) {
        const next = this.rp(node);
        this.vfree(node);
        node = next;
      }
    }
    return any;
  }

  /* ---------------------------------------------------------------- */
  /* vm areas                                                         */
  /* ---------------------------------------------------------------- */

  /** A code address for a caller name (what vm_struct->caller holds; %pS prints the name back). */
  callerAddress(name: string): number {
    let a = this.callerAddr.get(name);
    if (a === undefined) {
      a = this.d.kallsyms.register(name, () => {}, {});
      this.callerAddr.set(name, a);
    }
    return a;
  }

  /**
   * __get_vm_area_node(): a vm_struct and its vmap_area (size rounded up to
   * 1 << shift, plus a guard page unless VM_NO_GUARD), or 0.
   */
  __get_vm_area_node(size: number, align: number, shift: number, flags: number, start: number, end: number, node: number,
    gfp: number, caller: string, frames: readonly string[]): number {
    if (this.d.sched.in_interrupt()) {
      this.d.bug.bug('mm/vmalloc.c', 3177, '__get_vm_area_node', frames);
      return 0;
    }
    const requested = size;
    size = Vmalloc.ALIGN(size, 2 ** shift);
    if (!size) return 0;
    if (flags & VM_IOREMAP) {
      const order = Math.ceil(Math.log2(size));
      align = 2 ** Math.min(Math.max(order, PAGE_SHIFT), this.IOREMAP_MAX_ORDER);
    }
    const area = this.d.slab.__kmalloc_node(this.vm.size, (gfp & GFP_RECLAIM_MASK) | __GFP_ZERO, node);
    if (area === 0) return 0;
    if (!(flags & VM_NO_GUARD)) size += PAGE_SIZE;
    this.wl(area + this.vm.flags, flags);
    this.wp(area + this.vm.caller, this.callerAddress(caller));
    this.wl(area + this.vm.requested_size, requested);
    let va: number;
    try {
      va = this.alloc_vmap_area(size, align, start, end, node, gfp, 0, area);
    } catch (e) {
      this.d.slab.kfree(area);
      throw e;
    }
    if (va < 0) {
      this.d.slab.kfree(area);
      return 0;
    }
    return area;
  }

  /** get_vm_area_caller(size, flags, caller): a vm area in VMALLOC_START..VMALLOC_END, or 0. */
  get_vm_area_caller(size: number, flags: number, caller: string, frames: readonly string[] = ['get_vm_area_caller']): number {
    this.run_pending_work();
    return this.__get_vm_area_node(size, 1, PAGE_SHIFT, flags, this.VMALLOC_START, this.VMALLOC_END, NUMA_NO_NODE,
      GFP_KERNEL, caller, frames);
  }

  /**
   * remove_vm_area(addr): unlink the area containing addr, clear its PTEs,
   * free its range lazily; its vm_struct, or 0.
   */
  remove_vm_area(addr: number, frames: readonly string[] = []): number {
    if (addr % PAGE_SIZE !== 0) {
      this.d.bug.warn('mm/vmalloc.c', 3291, 'remove_vm_area', `Trying to vfree() bad address (${ptr_to_id(this.d.layout, addr)})`,
        frames);
      return 0;
    }
    if (!this.initialized) return 0;
    this.lock('busy_lock'); // find_unlink_vmap_area()
    const va = this.findBusyLocked(addr);
    if (va !== 0) list_del_init(this.d.kaddr, this.listOf(va));
    this.unlock('busy_lock');
    if (va === 0) return 0;
    const vm = this.rp(va + this.va.vm);
    if (vm === 0) return 0;
    this.free_unmap_vmap_area(va);
    return vm;
  }

  /** free_vm_area(area): remove it and free the vm_struct (not the pages). */
  free_vm_area(area: number): void {
    const ret = this.remove_vm_area(this.vmAddr(area), ['free_vm_area']);
    if (ret !== area) {
      this.d.bug.bug('mm/vmalloc.c', 4613, 'free_vm_area', []);
      return;
    }
    this.d.slab.kfree(area);
  }

  /** kfree() of a vm_struct (iounmap's last step). */
  kfreeArea(vm: number): void {
    this.d.slab.kfree(vm);
  }

  /* ---------------------------------------------------------------- */
  /* vmalloc                                                          */
  /* ---------------------------------------------------------------- */

  private warnAlloc(gfp: number, what: string, fn: string): void {
    this.d.buddy.warn_alloc(gfp, what, ['warn_alloc', '__vmalloc_node_range_noprof', fn]);
  }

  /**
   * __vmalloc_node_range(): the whole of vmalloc. `fn` is the API function
   * the caller called (for the call trace of a failure report), `caller`
   * what vmallocinfo names.
   */
  __vmalloc_node_range(size: number, align: number, start: number, end: number, gfp: number, prot: number, vmFlags: number,
    node: number, caller: string, fn: string): number {
    this.run_pending_work();
    if (!size) {
      this.d.bug.warn('mm/vmalloc.c', 3838, '__vmalloc_node_range_noprof', null, [fn], true);
      return 0;
    }
    // size_t: a negative or fractional JS size is a huge unsigned number to the kernel.
    if (!Number.isSafeInteger(size) || size < 0 || Math.floor(size / PAGE_SIZE) > this.totalram_pages()) {
      const lu = Number.isSafeInteger(size) ? BigInt.asUintN(this.ptr * 8, BigInt(size)).toString() : String(size);
      this.warnAlloc(gfp, `vmalloc error: size ${lu}, exceeds total pages`, fn);
      return 0;
    }
    const area = this.__get_vm_area_node(size, align, PAGE_SHIFT, VM_ALLOC | VM_UNINITIALIZED | vmFlags, start, end, node, gfp,
      caller, ['__vmalloc_node_range_noprof', fn]);
    if (area === 0) {
      const nofail = (gfp & __GFP_NOFAIL) !== 0;
      // With __GFP_NOFAIL the kernel sleeps and retries forever; kmem reports once and fails.
      this.warnAlloc(gfp, `vmalloc error: size ${size}, vm_struct allocation failed${nofail ? '. Retrying.' : ''}`, fn);
      return 0;
    }
    const addr = this.__vmalloc_area_node(area, gfp, prot, node, fn);
    if (addr === 0) return 0;
    // clear_vm_uninitialized_flag()
    this.wl(area + this.vm.flags, this.vmFlags(area) & ~VM_UNINITIALIZED);
    return addr;
  }

  /** __vmalloc_area_node(): pages[], the pages, the PTEs. */
  private __vmalloc_area_node(area: number, gfp: number, prot: number, node: number, fn: string): number {
    const nestedGfp = (gfp & GFP_RECLAIM_MASK) | __GFP_ZERO;
    const addr = this.vmAddr(area);
    const size = this.get_vm_area_size(area);
    const nrSmall = size / PAGE_SIZE;
    const arraySize = nrSmall * this.ptr;
    if (!(gfp & (GFP_DMA | GFP_DMA32))) gfp |= __GFP_HIGHMEM;
    const pagesArr = arraySize > PAGE_SIZE
      ? this.__vmalloc_node_range(arraySize, 1, this.VMALLOC_START, this.VMALLOC_END, nestedGfp, this.d.pt.PAGE_KERNEL, 0, node,
        this.d.kallsyms.name(this.vmCaller(area)) ?? '0x0', fn)
      : this.d.slab.__kmalloc_node(arraySize, nestedGfp, node);
    if (pagesArr === 0) {
      this.warnAlloc(gfp, `vmalloc error: size ${nrSmall * PAGE_SIZE}, failed to allocated page array size ${arraySize}`, fn);
      this.free_vm_area(area);
      return 0;
    }
    this.wp(area + this.vm.pages, pagesArr);
    // vm_area_alloc_pages(): order-0 pages, __GFP_NOWARN (this function reports instead).
    const pageGfp = gfp | __GFP_NOWARN;
    let nr = 0;
    for (; nr < nrSmall; nr++) {
      const pfn = this.d.buddy.__alloc_pages(pageGfp, 0, node);
      if (pfn < 0) break;
      this.wp(pagesArr + nr * this.ptr, this.d.pages.pfn_to_page(pfn));
    }
    this.w32(area + this.vm.nr_pages, nr);
    this.addVmallocPages(nr);
    if (nr !== nrSmall) {
      this.warnAlloc(gfp, `vmalloc error: size ${nr * PAGE_SIZE}, failed to allocate pages`, fn);
      this.vfree(addr);
      return 0;
    }
    let ret: number;
    try {
      ret = this.vmap_pages_range(addr, nrSmall, (i) => this.rp(pagesArr + i * this.ptr), prot);
    } catch (e) { // init_mm.page_table_lock could never be had: undo the area
      this.vfree(addr);
      throw e;
    }
    if (ret < 0) {
      this.warnAlloc(gfp, `vmalloc error: size ${nr * PAGE_SIZE}, failed to map pages`, fn);
      this.vfree(addr);
      return 0;
    }
    return addr;
  }

  /**
   * vmap_pages_range() -> vmap_small_pages_range_noflush(): the PTEs for nr
   * struct pages. The kernel WARNs on a NULL page or a page without a valid
   * pfn (-ENOMEM, -EINVAL) and on a PTE already in use (-EBUSY).
   */
  private vmap_pages_range(addr: number, nr: number, pageAt: (i: number) => number, prot: number): number {
    for (let i = 0; i < nr; i++) {
      const page = pageAt(i);
      if (page === 0) {
        this.d.bug.warn('mm/vmalloc.c', 556, 'vmap_pages_pte_range', null, ['vmap_small_pages_range_noflush']);
        return -12;
      }
      if (this.d.pages.page_to_pfn(page) < 0) {
        this.d.bug.warn('mm/vmalloc.c', 560, 'vmap_pages_pte_range', null, ['vmap_small_pages_range_noflush']);
        return -22;
      }
    }
    const ret = this.d.pt.mapPages(addr, nr, (i) => this.d.pages.page_to_pfn(pageAt(i)), prot);
    if (ret === -16) this.d.bug.warn('mm/vmalloc.c', 552, 'vmap_pages_pte_range', null, ['vmap_small_pages_range_noflush']);
    return ret;
  }

  /* ---------------------------------------------------------------- */
  /* vfree, vunmap, vmap                                              */
  /* ---------------------------------------------------------------- */

  /**
   * vfree(addr): in interrupt context the free is deferred (vfree_atomic);
   * elsewhere it may sleep (a report in atomic context, then the free).
   */
  vfree(addr: number): void {
    const d = this.d;
    if (d.sched.in_interrupt()) {
      this.vfree_atomic(addr);
      return;
    }
    d.bug.might_sleep('mm/vmalloc.c', 3419, ['__might_resched', 'vfree']);
    if (!addr) return;
    this.run_pending_work();
    const vm = this.initialized ? this.remove_vm_area(addr, ['vfree']) : 0;
    if (vm === 0) {
      d.bug.warn('mm/vmalloc.c', 3426, 'vfree', `Trying to vfree() nonexistent vm area (${ptr_to_id(d.layout, addr)})`, []);
      return;
    }
    const flags = this.vmFlags(vm);
    const nr = this.vmNrPages(vm);
    const pagesArr = this.vmPages(vm);
    for (let i = 0; i < nr; i++) {
      const page = this.rp(pagesArr + i * this.ptr);
      if (page === 0) {
        d.bug.bug('mm/vmalloc.c', 3436, 'vfree', []);
        continue;
      }
      d.buddy.__free_pages(d.pages.page_to_pfn(page), 0);
    }
    if (!(flags & VM_MAP_PUT_PAGES)) this.addVmallocPages(-nr);
    this.kvfree(pagesArr);
    d.slab.kfree(vm);
    this.run_pending_work();
  }

  /** vfree_atomic(addr): queue the area on this CPU's llist (the list node is written into the area itself). */
  vfree_atomic(addr: number): void {
    if (!addr) return;
    const head = this.s('vfree_deferred') + this.d.sched.cpu * this.ptr;
    const first = this.rp(head);
    this.wp(addr, first); // may fault: the kernel writes through addr too
    this.wp(head, addr); // schedule_work(&p->wq): the non-empty list is the pending work
  }

  /** vunmap(addr): remove a vmap() mapping (not the pages). */
  vunmap(addr: number): void {
    const d = this.d;
    if (d.sched.in_interrupt()) {
      d.bug.bug('mm/vmalloc.c', 3466, 'vunmap', []);
      return;
    }
    d.bug.might_sleep('mm/vmalloc.c', 3467, ['__might_resched', 'vunmap']);
    if (!addr) return;
    const vm = this.initialized ? this.remove_vm_area(addr, ['vunmap']) : 0;
    if (vm === 0) {
      d.bug.warn('mm/vmalloc.c', 3473, 'vunmap', `Trying to vunmap() nonexistent vm area (${ptr_to_id(d.layout, addr)})`, []);
      return;
    }
    d.slab.kfree(vm);
    this.run_pending_work();
  }

  /**
   * vmap(pages, count, flags, prot): map count pages contiguously. `pages`
   * is the kernel address of a struct page *array, or (for JavaScript
   * callers) an array of struct page pointers. VM_MAP_PUT_PAGES hands the
   * array (kmalloc'd or vmalloc'd) and the page references to the area.
   */
  vmap(pages: number | readonly number[], count: number, flags: number, prot: number, caller: string): number {
    const d = this.d;
    d.bug.might_sleep('mm/vmalloc.c', 3503, ['__might_resched', 'vmap']);
    if (flags & VM_FLUSH_RESET_PERMS) {
      d.bug.warn('mm/vmalloc.c', 3505, 'vmap', null, [], true);
      return 0;
    }
    if (flags & VM_NO_GUARD) {
      d.bug.warn('mm/vmalloc.c', 3512, 'vmap', null, [], true);
      flags &= ~VM_NO_GUARD;
    }
    if (count > this.totalram_pages()) return 0;
    if (flags & VM_MAP_PUT_PAGES && typeof pages !== 'number') {
      throw new TypeError('vmap: VM_MAP_PUT_PAGES needs the kernel address of a kmalloc/vmalloc page array');
    }
    const area = this.get_vm_area_caller(count * PAGE_SIZE, flags, caller, ['vmap']);
    if (area === 0) return 0;
    const addr = this.vmAddr(area);
    const pageAt = typeof pages === 'number' ? (i: number) => this.rp(pages + i * this.ptr) : (i: number) => pages[i] ?? 0;
    if (this.vmap_pages_range(addr, count, pageAt, this.d.pt.pgprot_nx(prot)) < 0) {
      this.vunmap(addr);
      return 0;
    }
    if (flags & VM_MAP_PUT_PAGES) {
      this.wp(area + this.vm.pages, pages as number);
      this.w32(area + this.vm.nr_pages, count);
    }
    return addr;
  }

  /* ---------------------------------------------------------------- */
  /* kvmalloc (mm/util.c)                                             */
  /* ---------------------------------------------------------------- */

  /** kvfree(): vfree() for a vmalloc address, kfree() for anything else. */
  kvfree(addr: number): void {
    if (this.is_vmalloc_addr(addr)) this.vfree(addr);
    else this.d.slab.kfree(addr);
  }

  /**
   * __kvmalloc_node(): kmalloc first (for more than a page, without warnings,
   * retries or NOFAIL), then vmalloc if the caller may sleep.
   */
  kvmalloc_node(size: number, gfp: number, node: number, caller: string, fn: string): number {
    let kgfp = gfp;
    if (size > PAGE_SIZE) {
      kgfp |= __GFP_NOWARN;
      if (!(kgfp & __GFP_RETRY_MAYFAIL)) kgfp |= __GFP_NORETRY;
      kgfp &= ~__GFP_NOFAIL;
    }
    const ret = this.d.slab.__kmalloc_node(size, kgfp, node);
    if (ret !== 0 || size <= PAGE_SIZE) return ret;
    if (!gfpflags_allow_blocking(gfp)) return 0;
    if (size > INT_MAX) {
      if (!(gfp & __GFP_NOWARN)) this.d.bug.warn('mm/util.c', 670, '__kvmalloc_node_noprof', null, [fn], true);
      return 0;
    }
    return this.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END, gfp, this.d.pt.PAGE_KERNEL,
      VM_ALLOW_HUGE_VMAP, node, caller, fn);
  }

  /* ---------------------------------------------------------------- */
  /* Lookups                                                          */
  /* ---------------------------------------------------------------- */

  /** is_vmalloc_addr() */
  is_vmalloc_addr(x: number): boolean {
    return x >= this.VMALLOC_START && x < this.VMALLOC_END;
  }

  /**
   * vmalloc_to_page(): the struct page mapped at addr (a walk of the page
   * tables), or 0. kmem also returns 0 for a frame without a struct page
   * (an MMIO page), where the kernel would compute a pointer anyway.
   */
  vmalloc_to_page(addr: number): number {
    const pfn = this.vmalloc_to_pfn(addr);
    return pfn > 0 && this.d.sparse.pfn_valid(pfn) ? this.d.pages.pfn_to_page(pfn) : 0;
  }

  /** vmalloc_to_pfn(): the frame mapped at addr; 0 when nothing is (the kernel returns page_to_pfn(NULL)). */
  vmalloc_to_pfn(addr: number): number {
    const pfn = this.d.pt.pfnOf(addr);
    return pfn < 0 ? 0 : pfn;
  }

  /* ---------------------------------------------------------------- */
  /* /proc/vmallocinfo                                                */
  /* ---------------------------------------------------------------- */

  /** What vmalloc_info_show() prints, busy areas in address order, then show_purge_info(). */
  vmallocinfo(nrNodes: number): VmallocInfoEntry[] {
    if (!this.initialized) return [];
    const out: VmallocInfoEntry[] = [];
    this.lock('busy_lock');
    for (const va of this.listAreas(this.s('busy_head'))) {
      const vm = this.rp(va + this.va.vm);
      if (vm === 0) continue;
      const flags = this.vmFlags(vm);
      if (flags & VM_UNINITIALIZED) continue;
      const start = this.vmAddr(vm);
      const size = this.vmSize(vm);
      const nr = this.vmNrPages(vm);
      const pagesArr = this.vmPages(vm);
      let numa: number[] | null = null;
      if (this.d.numa) {
        numa = new Array(nrNodes).fill(0);
        for (let i = 0; i < nr; i++) numa[this.d.pages.page_to_nid(this.d.pages.page_to_pfn(this.rp(pagesArr + i * this.ptr)))]++;
      }
      const caller = this.vmCaller(vm);
      out.push({
        start, end: start + size, size, caller: caller === 0 ? null : this.d.kallsyms.name(caller) ?? `0x${formatPtr(this.d.layout, caller)}`,
        nrPages: nr, phys: this.vmPhysAddr(vm), flags, vpages: this.is_vmalloc_addr(pagesArr), numa, unpurged: false,
      });
    }
    this.unlock('busy_lock');
    this.lock('lazy_lock');
    for (const va of this.listAreas(this.s('lazy_head'))) {
      const start = this.vaStart(va);
      const end = this.vaEnd(va);
      out.push({ start, end, size: end - start, caller: null, nrPages: 0, phys: 0, flags: 0, vpages: false, numa: null, unpurged: true });
    }
    this.unlock('lazy_lock');
    return out;
  }

  /** The areas on a list as [start, end) pairs (free, busy or lazy): for tests and demos. */
  ranges(which: 'free' | 'busy' | 'lazy'): [number, number][] {
    if (!this.initialized) return [];
    const head = this.s(which === 'free' ? 'free_vmap_area_list' : which === 'busy' ? 'busy_head' : 'lazy_head');
    const lock = which === 'free' ? 'free_vmap_area_lock' : which === 'busy' ? 'busy_lock' : 'lazy_lock';
    this.lock(lock);
    const out = this.listAreas(head).map((va): [number, number] => [this.vaStart(va), this.vaEnd(va)]);
    this.unlock(lock);
    return out;
  }

  /** lib/iomap.c bad_io_access()'s "static int count = 10": true while reports are still allowed (and counts one). */
  takeBadIoReport(): boolean {
    const p = this.sPa('bad_io_reports');
    const a = this.d.access.mem.i32At(p);
    const i = PhysMem.wordIndex(p);
    for (let n = Atomics.load(a, i); n < 10; n = Atomics.load(a, i)) {
      if (Atomics.compareExchange(a, i, n, n + 1) === n) return true;
    }
    return false;
  }
}

type VmallocStaticsFields = Omit<ReturnType<typeof vmallocStaticsLayout>, 'size'>;

/** %#lx of an address. */
function hexl(layout: ArchLayout, v: number): string {
  return '0x' + formatPtr(layout, v).replace(/^0+(?=.)/, '');
}
