/*
 * The kernel API of a booted machine, under the kernel's own names, so that
 * code written against LDD3 chapter 8 reads the same in TypeScript:
 *
 *   const page = k.alloc_pages(k.GFP_KERNEL, 2);      // struct page *, 0 for NULL
 *   const buf = k.__get_free_pages(k.GFP_KERNEL, 1);  // kernel virtual address
 *   k.free_pages(buf, 1);
 *
 * Pointers are JS numbers in the form arch/x86/layout.ts describes (0 is
 * NULL). The subsystems behind the API keep their state in the machine's
 * memory; this object only holds where things are.
 *
 * Failure as the kernel fails: an allocation that cannot be satisfied
 * returns 0 and logs the kernel's warning; a bad free is reported
 * ("BUG: Bad page state ...") and ignored. With `errors: 'throw'` at boot,
 * every such report also throws a KernelBug carrying the report's text.
 */
import { cpu_down } from './cpuhp.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PAGE_SHIFT, PAGE_SIZE, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { MachineConfig } from '../machine/config.ts';
import type { Printk } from './printk.ts';
import type { Bug } from './bug.ts';
import type { Sched } from './sched.ts';
import { SmpError, type Smp } from './smp.ts';
import type { Spinlocks } from './locking/spinlock.ts';
import type { Mutexes } from './locking/mutex.ts';
import type { Memblock } from '../mm/memblock.ts';
import type { Sparse } from '../mm/sparse.ts';
import { PG_head, PG_reserved, type Pages } from '../mm/page.ts';
import { MAX_PAGE_ORDER, type MmzoneLayouts } from '../mm/mmzone.ts';
import type { PageAllocator, Zone } from '../mm/page_alloc.ts';
import type { MmInitCtx } from '../mm/mm_init.ts';
import type { Percpu } from '../mm/percpu.ts';
import type { ImageLayout } from '../init/main.ts';
import * as gfpTypes from '../include/linux/gfp_types.ts';
import { __GFP_COMP, __GFP_HIGHMEM } from '../include/linux/gfp_types.ts';
import { slabApiNames } from '../include/linux/slab.ts';
import { kmemCacheArgs, type SlabCommon } from '../mm/slab_common.ts';
import type { Kallsyms } from './kallsyms.ts';
import type { Rcu } from './rcu.ts';
import type { Tracing } from '../trace/events.ts';
/* --- highmem, scatterlist, DMA, per-CPU variables, kernel stacks (issue 4 items 5-8) --- */
import { PercpuDefs } from '../mm/percpu_defs.ts';
import { Highmem } from '../mm/highmem.ts';
import { Scatterlist } from '../lib/scatterlist.ts';
import { DmaMapping } from './dma/mapping.ts';
import { KernelStacks } from './fork.ts';
import { PercpuVmChunks } from '../mm/percpu_vm.ts';
import { KERN_ERR as KERN_ERR_LEVEL, TAINT_WARN as TAINT_WARN_FLAG } from './bug.ts';
/* --- paging, vmalloc and ioremap (issue 4) --- */
import { paging_init, type Paging } from '../arch/x86/paging_init.ts';
import {
  NUMA_NO_NODE, VM_ALLOC, VM_FLUSH_RESET_PERMS, VM_IOREMAP, VM_MAP, VM_MAP_PUT_PAGES, VM_NO_GUARD, VM_USERMAP,
} from '../mm/vmalloc.ts';
import { kernelCaller as callerSymbol } from './ret_ip.ts';
/* --- mempools and memory pressure (issue 3) --- */
import { reclaim_init, type MemPressure } from '../mm/reclaim_init.ts';
import {
  DEFAULT_SEEKS, SHRINKER_MEMCG_AWARE, SHRINKER_NONSLAB, SHRINKER_NUMA_AWARE, SHRINK_EMPTY, SHRINK_STOP, ShrinkControl,
} from '../mm/shrinker.ts';

export interface KernelParts {
  config: MachineConfig;
  layout: ArchLayout;
  mem: PhysMem;
  access: KmemAccess;
  kaddr: KernelAddr;
  log: Printk;
  bug: Bug;
  sched: Sched;
  smp: Smp;
  locks: Spinlocks;
  mutexes: Mutexes;
  memblock: Memblock;
  sparse: Sparse;
  pages: Pages;
  mz: MmzoneLayouts;
  buddy: PageAllocator;
  percpu: Percpu;
  img: ImageLayout;
  ctx: MmInitCtx;
  kallsyms: Kallsyms;
  rcu: Rcu;
  slab: SlabCommon;
  /** The kmem trace events and their ring buffers (/sys/kernel/tracing). */
  trace: Tracing;
}

/** get_order(size): the smallest order whose block holds size bytes (size > 0). */
export function get_order(size: number): number {
  let order = 0;
  size = Math.ceil(size / PAGE_SIZE);
  while (1 << order < size) order++;
  return order;
}

class KernelBase {
  readonly config: MachineConfig;
  readonly layout: ArchLayout;
  /** The machine's RAM, by physical address. */
  readonly mem: PhysMem;
  readonly access: KmemAccess;
  /** Kernel virtual address translation for the fixed mappings. */
  readonly kaddr: KernelAddr;
  readonly log: Printk;
  readonly bug: Bug;
  readonly sched: Sched;
  /** Which host thread drives which CPU (deterministic or parallel mode). */
  readonly smp: Smp;
  /** spinlock_t on Atomics: k.locks.spin_lock(pa) ...; the facade's spin_lock() takes virtual addresses. */
  readonly locks: Spinlocks;
  /** struct mutex on Atomics (sleeping locks): k.mutexes.mutex_lock(pa) ...; the facade's mutex_lock() takes virtual addresses. */
  readonly mutexes: Mutexes;
  readonly memblock: Memblock;
  readonly sparse: Sparse;
  readonly pages: Pages;
  readonly mz: MmzoneLayouts;
  readonly buddy: PageAllocator;
  readonly percpu: Percpu;
  readonly img: ImageLayout;
  readonly mmInit: MmInitCtx;
  /** Code pointers: constructors and RCU callbacks. */
  readonly kallsyms: Kallsyms;
  readonly rcu: Rcu;
  /** The slab allocator (mm/slab_common.c) and, as k.slab.impl, its implementation (SLUB). */
  readonly slab: SlabCommon;
  /** Tracing (/sys/kernel/tracing): k.trace.enable('kmem'), k.trace.read(), k.trace.clear(). */
  readonly trace: Tracing;

  constructor(p: KernelParts) {
    this.config = p.config;
    this.layout = p.layout;
    this.mem = p.mem;
    this.access = p.access;
    this.kaddr = p.kaddr;
    this.log = p.log;
    this.bug = p.bug;
    this.sched = p.sched;
    this.smp = p.smp;
    this.locks = p.locks;
    this.mutexes = p.mutexes;
    this.memblock = p.memblock;
    this.sparse = p.sparse;
    this.pages = p.pages;
    this.mz = p.mz;
    this.buddy = p.buddy;
    this.percpu = p.percpu;
    this.img = p.img;
    this.mmInit = p.ctx;
    this.kallsyms = p.kallsyms;
    this.rcu = p.rcu;
    this.slab = p.slab;
    this.trace = p.trace;
  }
}

/** A slab constructor, run on each object of a new slab: void (*ctor)(void *) with the kernel at hand. */
export type SlabCtor = (k: Kernel, obj: number) => void;

/** struct kmem_cache_args for kmem_cache_create()'s 6.18 form; absent fields are 0/NULL. */
export interface KmemCacheCreateArgs {
  align?: number;
  ctor?: SlabCtor | null;
  useroffset?: number;
  usersize?: number;
  /** Objects per percpu sheaf (SLUB on a machine with sheaves; ignored elsewhere). */
  sheaf_capacity?: number;
}

/** Every GFP flag, for module code that writes k.GFP_KERNEL; the SLAB_* flags and kmalloc limits too. */
type GfpNames = typeof gfpTypes;
type SlabNames = typeof slabApiNames;
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Kernel extends GfpNames, SlabNames {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Kernel extends KernelBase {
  readonly PAGE_SIZE = PAGE_SIZE;
  readonly PAGE_SHIFT = PAGE_SHIFT;
  readonly MAX_PAGE_ORDER = MAX_PAGE_ORDER;
  /** LDD3-era name: orders 0..MAX_ORDER-1 before 6.4 made it inclusive. */
  readonly MAX_ORDER = MAX_PAGE_ORDER + 1;

  constructor(p: KernelParts) {
    super(p);
    Object.assign(this, gfpTypes, slabApiNames);
  }

  /* ---------------------------------------------------------------- */
  /* Addresses                                                        */
  /* ---------------------------------------------------------------- */

  __pa(va: number): number {
    const pa = this.kaddr.__pa(va);
    if (pa < 0) throw new RangeError(`__pa: ${formatPtr(this.layout, va)} is not a direct-mapped address`);
    return pa;
  }

  __va(pa: number): number {
    return this.kaddr.__va(pa);
  }

  pfn_to_page(pfn: number): number {
    return this.sparse.pfn_valid(pfn) ? this.pages.pfn_to_page(pfn) : 0;
  }

  page_to_pfn(page: number): number {
    return this.pages.page_to_pfn(page);
  }

  pfn_valid(pfn: number): boolean {
    return this.sparse.pfn_valid(pfn);
  }

  /** virt_addr_valid(): a direct-map address of RAM that has a struct page. */
  virt_addr_valid(va: number): boolean {
    if (va < this.layout.PAGE_OFFSET || va >= this.kaddr.directMapEnd) return false;
    return this.sparse.pfn_valid(Math.floor((va - this.layout.PAGE_OFFSET) / PAGE_SIZE));
  }

  virt_to_page(va: number): number {
    return this.pfn_to_page(Math.floor(this.__pa(va) / PAGE_SIZE));
  }

  /** page_address(): the direct-map address of a lowmem page; 0 for an unmapped highmem page. */
  page_address(page: number): number {
    const pfn = this.pageToPfnOrThrow(page);
    const pa = pfn * PAGE_SIZE;
    if (this.layout.PAGE_OFFSET + pa >= this.kaddr.directMapEnd) return this.highmem.page_address_high(pfn); // kmapped highmem, or NULL
    return this.kaddr.__va(pa);
  }

  page_to_phys(page: number): number {
    return this.pageToPfnOrThrow(page) * PAGE_SIZE;
  }

  page_zone(page: number): Zone {
    const pfn = this.pageToPfnOrThrow(page);
    return this.buddy.zone(this.pages.page_to_nid(pfn), this.pages.page_zonenum(pfn));
  }

  page_zonenum(page: number): number {
    return this.pages.page_zonenum(this.pageToPfnOrThrow(page));
  }

  page_to_nid(page: number): number {
    return this.pages.page_to_nid(this.pageToPfnOrThrow(page));
  }

  PageHighMem(page: number): boolean {
    return this.page_zonenum(page) === this.mz.zs.ZONE_HIGHMEM;
  }

  PageReserved(page: number): boolean {
    return this.pages.testFlag(this.pageToPfnOrThrow(page), PG_reserved);
  }

  PageBuddy(page: number): boolean {
    return this.pages.PageBuddy(this.pageToPfnOrThrow(page));
  }

  page_count(page: number): number {
    return this.pages.page_ref_count(this.pageToPfnOrThrow(page));
  }

  get_page(page: number): void {
    const pfn = this.pageToPfnOrThrow(page);
    this.pages.set_page_count(pfn, this.pages.page_ref_count(pfn) + 1);
  }

  /** put_page(): drop a reference; the last one frees the page (or the whole compound page). */
  put_page(page: number): void {
    const pfn = this.pageToPfnOrThrow(page);
    this.buddy.__free_pages(pfn, this.pages.compound_order(pfn));
  }

  private pageToPfnOrThrow(page: number): number {
    const pfn = this.pages.page_to_pfn(page);
    if (pfn < 0) throw new RangeError(`${formatPtr(this.layout, page)} is not a struct page`);
    return pfn;
  }

  /* ---------------------------------------------------------------- */
  /* The page allocator                                               */
  /* ---------------------------------------------------------------- */

  /** alloc_pages(gfp, order): struct page * of 2^order contiguous pages, or 0. */
  alloc_pages(gfp: number, order: number): number {
    const pfn = this.buddy.__alloc_pages(gfp, order);
    return pfn < 0 ? 0 : this.pages.pfn_to_page(pfn);
  }

  /** alloc_pages_node(nid, gfp, order): prefer node nid (NUMA_NO_NODE = -1: this CPU's node). */
  alloc_pages_node(nid: number, gfp: number, order: number): number {
    const pfn = this.buddy.__alloc_pages(gfp, order, nid);
    return pfn < 0 ? 0 : this.pages.pfn_to_page(pfn);
  }

  alloc_page(gfp: number): number {
    return this.alloc_pages(gfp, 0);
  }

  /** __get_free_pages(): like alloc_pages, but returns a kernel virtual address (never highmem). */
  __get_free_pages(gfp: number, order: number): number {
    const page = this.alloc_pages(gfp & ~__GFP_HIGHMEM, order);
    return page === 0 ? 0 : this.page_address(page);
  }

  __get_free_page(gfp: number): number {
    return this.__get_free_pages(gfp, 0);
  }

  get_zeroed_page(gfp: number): number {
    return this.__get_free_pages(gfp | gfpTypes.__GFP_ZERO, 0);
  }

  get_order(size: number): number {
    return get_order(size);
  }

  /** __free_pages(page, order): drop a reference; free the block when it was the last. */
  __free_pages(page: number, order: number): void {
    if (page === 0) return;
    this.buddy.__free_pages(this.pageToPfnOrThrow(page), order);
  }

  __free_page(page: number): void {
    this.__free_pages(page, 0);
  }

  /** free_pages(addr, order): by kernel virtual address; 0 is ignored. */
  free_pages(addr: number, order: number): void {
    if (addr === 0) return;
    if (!this.virt_addr_valid(addr)) {
      // VM_BUG_ON(!virt_addr_valid((void *)addr)): a plain BUG(), no page to dump.
      this.bug.bug('mm/page_alloc.c', 4955, 'free_pages', ['free_page']);
      return;
    }
    this.buddy.__free_pages(Math.floor((addr - this.layout.PAGE_OFFSET) / PAGE_SIZE), order);
  }

  free_page(addr: number): void {
    this.free_pages(addr, 0);
  }

  /** LDD3's free_hot_page(): today's free_unref_page, at the head of the CPU's list. */
  free_hot_page(page: number): void {
    this.__free_pages(page, 0);
  }

  /** LDD3's free_cold_page(): onto the tail of the CPU's list, to be reused last. */
  free_cold_page(page: number): void {
    if (page === 0) return;
    this.buddy.__free_pages(this.pageToPfnOrThrow(page), 0, true);
  }

  /** split_page(): turn a non-compound order-N allocation into 2^N order-0 pages. */
  split_page(page: number, order: number): void {
    const pfn = this.pageToPfnOrThrow(page);
    const bugOn = (cond: string, line: number) => this.buddy.vmBugOnPage(pfn, cond, 'mm/page_alloc.c', line, 'split_page', []);
    if (this.pages.testFlag(pfn, PG_head) || this.pages.PageTail(pfn)) return bugOn('PageCompound(page)', 2878);
    if (this.pages.page_ref_count(pfn) === 0) return bugOn('!page_count(page)', 2879);
    for (let i = 1; i < 1 << order; i++) this.pages.set_page_count(pfn + i, 1);
  }

  /** alloc_pages_exact(size, gfp): exactly the pages size needs; the tail of the block is freed. */
  alloc_pages_exact(size: number, gfp: number): number {
    const order = get_order(size);
    if (gfp & (__GFP_COMP | __GFP_HIGHMEM)) {
      this.bug.warn('mm/page_alloc.c', 5139, 'alloc_pages_exact_noprof', null, [], true);
      gfp &= ~(__GFP_COMP | __GFP_HIGHMEM);
    }
    const addr = this.__get_free_pages(gfp, order);
    if (addr === 0) return 0;
    return this.makeAllocExact(addr, order, size);
  }

  /** make_alloc_exact(): the used pages get their own reference; the rest go to the tail of the buddy lists. */
  private makeAllocExact(addr: number, order: number, size: number): number {
    const pfn = Math.floor((addr - this.layout.PAGE_OFFSET) / PAGE_SIZE);
    const used = Math.ceil(size / PAGE_SIZE);
    for (let i = 1; i < used; i++) this.pages.set_page_count(pfn + i, 1);
    for (let i = used; i < 1 << order; i++) this.buddy.__free_pages_ok(pfn + i, 0, true);
    return addr;
  }

  /** free_pages_exact(virt, size) */
  free_pages_exact(virt: number, size: number): void {
    const n = Math.ceil(size / PAGE_SIZE);
    for (let i = 0; i < n; i++) this.free_page(virt + i * PAGE_SIZE);
  }

  /** drain_all_pages(NULL): return every CPU's cached pages to the buddy lists. */
  drain_all_pages(): void {
    this.buddy.drain_all_pages();
  }

  /* ---------------------------------------------------------------- */
  /* Per-CPU memory                                                   */
  /* ---------------------------------------------------------------- */

  /** __alloc_percpu(size, align): a per-CPU pointer (zeroed on every CPU), or 0. */
  __alloc_percpu(size: number, align: number): number {
    // issue 4: the first chunk, then chunks in vmalloc space (src/mm/percpu_vm.ts)
    const ptr = this.percpu.__alloc_percpu(size, align, true);
    if (ptr !== 0) return ptr;
    const vp = size > 0 && size <= this.percpu.unitSize && align <= PAGE_SIZE && (align & (align - 1)) === 0
      ? this.percpuVm.alloc(size, align) : 0;
    return vp !== 0 ? vp : this.percpu.__alloc_percpu(size, align);
  }

  /** free_percpu(ptr); a pointer that is not an allocation is reported and ignored. */
  free_percpu(ptr: number): void {
    if (ptr !== 0 && this.percpuVm.owns(ptr) && this.percpuVm.free(ptr)) return;
    if (!this.percpu.free_percpu(ptr)) {
      this.bug.warn('mm/percpu.c', 2275, 'free_percpu', `kmem: free_percpu(${formatPtr(this.layout, ptr)}): not a per-CPU allocation`, [], false);
    }
  }

  /** per_cpu_ptr(ptr, cpu): the kernel virtual address of cpu's copy. */
  per_cpu_ptr(ptr: number, cpu: number): number {
    return ptr >= this.percpu.unitSize ? this.percpuVm.per_cpu_ptr(ptr, cpu) : this.percpu.per_cpu_ptr(ptr, cpu);
  }

  /** this_cpu_ptr(ptr): this CPU's copy. */
  this_cpu_ptr(ptr: number): number {
    return this.per_cpu_ptr(ptr, this.sched.cpu);
  }

  /* ---------------------------------------------------------------- */
  /* The slab allocator: lookaside caches and kmalloc                 */
  /* (mm/slab_common.c, mm/slub.c, include/linux/slab.h, kernel/rcu)  */
  /* ---------------------------------------------------------------- */

  /**
   * kmem_cache_create(name, size, align, flags, ctor): a cache of `size`-byte
   * objects (its struct kmem_cache address), or 0 after the kernel's report.
   * ctor(k, obj) runs on every object when a new slab is populated, not on
   * each allocation. The LDD3 form kmem_cache_create(name, size, offset,
   * flags, ctor, dtor) is accepted, the offset taken as the alignment as
   * since 2.6.23; slab destructors were removed then, so dtor must be null
   * (a compile error in TypeScript, a TypeError from JavaScript).
   */
  kmem_cache_create(name: string | null, size: number, align: number, flags: number, ctor?: SlabCtor | null): number;
  kmem_cache_create(name: string | null, size: number, offset: number, flags: number, ctor: SlabCtor | null, dtor: null): number;
  /** Linux 6.18's form: kmem_cache_create(name, size, &args, flags), struct kmem_cache_args with sheaf_capacity. */
  kmem_cache_create(name: string | null, size: number, args: KmemCacheCreateArgs, flags: number): number;
  kmem_cache_create(name: string | null, size: number, align: number | KmemCacheCreateArgs, flags: number, ctor: SlabCtor | null = null,
    dtor: unknown = null): number {
    if (dtor !== null && dtor !== undefined) {
      throw new TypeError('kmem_cache_create: slab destructors were removed in Linux 2.6.23; pass NULL');
    }
    if (typeof align === 'object') {
      const a = align;
      return this.slab.kmem_cache_create(name, size, kmemCacheArgs(a.align ?? 0, this.ctorAddress(a.ctor ?? null), a.useroffset ?? 0,
        a.usersize ?? 0, a.sheaf_capacity ?? 0), flags);
    }
    return this.slab.kmem_cache_create(name, size, kmemCacheArgs(align, this.ctorAddress(ctor)), flags);
  }

  /** kmem_cache_create_usercopy(): the same, with a region that may be copied to and from user space. */
  kmem_cache_create_usercopy(name: string | null, size: number, align: number, flags: number, useroffset: number,
    usersize: number, ctor: SlabCtor | null = null): number {
    return this.slab.kmem_cache_create(name, size, kmemCacheArgs(align, this.ctorAddress(ctor), useroffset, usersize), flags);
  }

  /** The code address standing for a JS constructor (kallsyms: one per function). */
  private ctorAddress(ctor: SlabCtor | null): number {
    if (ctor === null) return 0;
    return this.kallsyms.register(ctor.name || 'ctor', (obj) => ctor(this, obj), ctor);
  }

  kmem_cache_destroy(s: number): void {
    this.slab.kmem_cache_destroy(s);
  }

  /** kmem_cache_shrink(): give empty slabs back; 0 if the cache holds no slab afterwards. */
  kmem_cache_shrink(s: number): number {
    return this.slab.kmem_cache_shrink(s);
  }

  kmem_cache_size(s: number): number {
    return this.slab.kmem_cache_size(s);
  }

  /**
   * validate_slab_cache(s): check every slab and object of the cache (what
   * writing 1 to /sys/kernel/slab/<cache>/validate does for a debug cache),
   * reporting and repairing what slab debugging finds; the slabs checked.
   */
  validate_slab_cache(s: number): number {
    return this.slab.validate_slab_cache(s);
  }

  /** kmem_cache_alloc(s, gfp): an object (not cleared unless __GFP_ZERO), or 0. */
  kmem_cache_alloc(s: number, gfp: number): number {
    return this.slab.kmem_cache_alloc(s, gfp);
  }

  kmem_cache_zalloc(s: number, gfp: number): number {
    return this.slab.kmem_cache_zalloc(s, gfp);
  }

  /** kmem_cache_alloc_node(s, gfp, node): prefer node (NUMA_NO_NODE = -1: this CPU's). */
  kmem_cache_alloc_node(s: number, gfp: number, node: number): number {
    return this.slab.kmem_cache_alloc_node(s, gfp, node);
  }

  kmem_cache_free(s: number, obj: number): void {
    this.slab.kmem_cache_free(s, obj);
  }

  /** kmem_cache_alloc_bulk(s, gfp, size, p): fill the pointer array at p (kernel memory); size or 0. */
  kmem_cache_alloc_bulk(s: number, gfp: number, size: number, p: number): number {
    return this.slab.kmem_cache_alloc_bulk(s, gfp, size, p);
  }

  /** kmem_cache_free_bulk(s, size, p): free the objects whose pointers are at p. */
  kmem_cache_free_bulk(s: number, size: number, p: number): void {
    this.slab.kmem_cache_free_bulk(s, size, p);
  }

  /** kfree_bulk(size, p): kmem_cache_free_bulk() of kmalloc'd objects. */
  kfree_bulk(size: number, p: number): void {
    this.slab.kmem_cache_free_bulk(0, size, p);
  }

  /*
   * Prefilled sheaves (Linux 6.18; SLUB on a machine with `sheaves`, a
   * TypeError elsewhere): a caller that must allocate inside a section that
   * cannot fail or sleep takes a sheaf of enough objects beforehand, as the
   * maple tree does for its nodes.
   */

  /** kmem_cache_prefill_sheaf(s, gfp, size): a struct slab_sheaf * holding at least size objects of s, or 0. */
  kmem_cache_prefill_sheaf(s: number, gfp: number, size: number): number {
    return this.slab.kmem_cache_prefill_sheaf(s, gfp, size);
  }

  /** kmem_cache_alloc_from_sheaf(s, gfp, sheaf): an object off the sheaf, 0 only once it is empty (gfp: __GFP_ZERO). */
  kmem_cache_alloc_from_sheaf(s: number, gfp: number, sheaf: number): number {
    return this.slab.kmem_cache_alloc_from_sheaf(s, gfp, sheaf);
  }

  /**
   * kmem_cache_refill_sheaf(s, gfp, sheaf, size): top sheaf up to at least
   * size objects. C's int kmem_cache_refill_sheaf(s, gfp, struct slab_sheaf
   * **sheafp, size) may replace *sheafp; here the sheaf to use from now on
   * is returned (sheaf itself, or a bigger one, sheaf having been returned
   * to the cache), or -ENOMEM (-EINVAL for NULL) with sheaf as it was:
   *
   *   const r = k.kmem_cache_refill_sheaf(s, gfp, sheaf, 40);
   *   if (r < 0) return r;
   *   sheaf = r;
   */
  kmem_cache_refill_sheaf(s: number, gfp: number, sheaf: number, size: number): number {
    return this.slab.kmem_cache_refill_sheaf(s, gfp, sheaf, size);
  }

  /** kmem_cache_return_sheaf(s, gfp, sheaf): give the sheaf back (gfp: for refilling it, if it is kept in the barn). */
  kmem_cache_return_sheaf(s: number, gfp: number, sheaf: number): void {
    this.slab.kmem_cache_return_sheaf(s, gfp, sheaf);
  }

  /** kmem_cache_sheaf_size(sheaf): the objects left in it. */
  kmem_cache_sheaf_size(sheaf: number): number {
    return this.slab.kmem_cache_sheaf_size(sheaf);
  }

  /** kmalloc(size, gfp): ZERO_SIZE_PTR for 0, 0 on failure. */
  kmalloc(size: number, gfp: number): number {
    return this.slab.kmalloc(size, gfp);
  }

  kzalloc(size: number, gfp: number): number {
    return this.slab.kmalloc(size, gfp | gfpTypes.__GFP_ZERO);
  }

  kmalloc_node(size: number, gfp: number, node: number): number {
    return this.slab.__kmalloc_node(size, gfp, node);
  }

  kzalloc_node(size: number, gfp: number, node: number): number {
    return this.slab.__kmalloc_node(size, gfp | gfpTypes.__GFP_ZERO, node);
  }

  /** kmalloc_array(n, size, gfp): NULL (no warning) if n * size overflows size_t. */
  kmalloc_array(n: number, size: number, gfp: number): number {
    const bytes = n * size;
    // check_mul_overflow(): only a product near 2^53 needs the exact test
    if (bytes > Number.MAX_SAFE_INTEGER && BigInt(n) * BigInt(size) >= 2n ** BigInt(8 * this.layout.ptrSize)) return 0;
    if (this.layout.ptrSize === 4 && bytes >= 2 ** 32) return 0;
    return this.slab.kmalloc(bytes, gfp);
  }

  kcalloc(n: number, size: number, gfp: number): number {
    return this.kmalloc_array(n, size, gfp | gfpTypes.__GFP_ZERO);
  }

  /** krealloc(p, new_size, gfp): contents kept up to the smaller size; new_size 0 frees (ZERO_SIZE_PTR). */
  krealloc(p: number, newSize: number, gfp: number): number {
    return this.slab.krealloc(p, newSize, gfp);
  }

  /** ksize(p): the usable size of an allocation. */
  ksize(p: number): number {
    return this.slab.ksize(p);
  }

  /** kmalloc_size_roundup(size): what kmalloc(size) really allocates. */
  kmalloc_size_roundup(size: number): number {
    return this.slab.kmalloc_size_roundup(size);
  }

  /** kfree(p); NULL and ZERO_SIZE_PTR are ignored. */
  kfree(p: number): void {
    this.slab.kfree(p);
  }

  /** kfree_sensitive(p): clear, then free. */
  kfree_sensitive(p: number): void {
    this.slab.kfree_sensitive(p);
  }

  /** The pre-5.9 name of kfree_sensitive(). */
  kzfree(p: number): void {
    this.slab.kfree_sensitive(p);
  }

  kmemdup(src: number, len: number, gfp: number): number {
    return this.slab.kmemdup(src, len, gfp);
  }

  /** kstrdup(s, gfp): a kmalloc'd copy of the NUL-terminated string at s. */
  kstrdup(s: number, gfp: number): number {
    return this.slab.kstrdup(s, gfp);
  }

  /** kfree_rcu(ptr, offset): kfree(ptr) after a grace period; its struct rcu_head is at ptr + offset. */
  kfree_rcu(ptr: number, offset: number): void {
    this.slab.kvfree_call_rcu(ptr, offset);
  }

  /** synchronize_rcu(): end the grace period; callbacks queued before it run now. */
  synchronize_rcu(): void {
    this.rcu.synchronize_rcu();
  }

  /** rcu_barrier(): every callback queued so far has run when this returns. */
  rcu_barrier(): void {
    this.rcu.rcu_barrier();
  }

  /* ---------------------------------------------------------------- */
  /* Memory by kernel virtual address                                 */
  /* ---------------------------------------------------------------- */

  /** memset(s, c, n) */
  memset(s: number, c: number, n: number): number {
    this.kaddr.fill(s, n, c & 0xff);
    return s;
  }

  /** memcpy(dest, src, n) */
  memcpy(dest: number, src: number, n: number): number {
    this.kaddr.writeBytes(dest, this.kaddr.readBytes(src, n));
    return dest;
  }

  /* ---------------------------------------------------------------- */
  /* CPU and context                                                  */
  /* ---------------------------------------------------------------- */

  smp_processor_id(): number {
    return this.sched.cpu;
  }

  /**
   * A worker attached with attach() (src/init/attach.ts) gives its CPU back
   * to the booting thread, after taking it offline (cpuhp.ts: its slabs,
   * sheaves and pcp pages go back to the shared lists).
   */
  detach(): void {
    cpu_down(this, this.sched.cpu);
  }

  /** Run as another CPU from now on (the deterministic SMP mode switches CPUs this way). */
  set_cpu(cpu: number): void {
    if (cpu < 0 || cpu >= this.config.cpus) throw new RangeError(`cpu ${cpu} does not exist (${this.config.cpus} CPUs)`);
    if (!this.smp.drives(cpu)) throw new SmpError(`CPU ${cpu} is driven by another host thread (parallel mode)`);
    this.sched.cpu = cpu;
  }

  /* spinlock_t (include/linux/spinlock.h): a lock is an int in simulated memory, named by its virtual address. */
  spin_lock_init(lock: number): void {
    this.locks.spin_lock_init(this.kaddr.__pa(lock));
  }

  spin_lock(lock: number): void {
    this.locks.spin_lock(this.kaddr.__pa(lock));
  }

  spin_unlock(lock: number): void {
    this.locks.spin_unlock(this.kaddr.__pa(lock));
  }

  spin_trylock(lock: number): boolean {
    return this.locks.spin_trylock(this.kaddr.__pa(lock));
  }

  spin_lock_irqsave(lock: number): number {
    return this.locks.spin_lock_irqsave(this.kaddr.__pa(lock));
  }

  spin_unlock_irqrestore(lock: number, flags: number): void {
    this.locks.spin_unlock_irqrestore(this.kaddr.__pa(lock), flags);
  }

  spin_lock_irq(lock: number): void {
    this.locks.spin_lock_irq(this.kaddr.__pa(lock));
  }

  spin_unlock_irq(lock: number): void {
    this.locks.spin_unlock_irq(this.kaddr.__pa(lock));
  }

  spin_lock_bh(lock: number): void {
    this.locks.spin_lock_bh(this.kaddr.__pa(lock));
  }

  spin_unlock_bh(lock: number): void {
    this.locks.spin_unlock_bh(this.kaddr.__pa(lock));
  }

  spin_is_locked(lock: number): boolean {
    return this.locks.spin_is_locked(this.kaddr.__pa(lock));
  }

  /* struct mutex (include/linux/mutex.h): a sleeping lock, an int in simulated memory named by its virtual address. */
  mutex_init(lock: number): void {
    this.mutexes.mutex_init(this.kaddr.__pa(lock));
  }

  mutex_lock(lock: number): void {
    this.mutexes.mutex_lock(this.kaddr.__pa(lock));
  }

  mutex_trylock(lock: number): boolean {
    return this.mutexes.mutex_trylock(this.kaddr.__pa(lock));
  }

  mutex_unlock(lock: number): void {
    this.mutexes.mutex_unlock(this.kaddr.__pa(lock));
  }

  mutex_is_locked(lock: number): boolean {
    return this.mutexes.mutex_is_locked(this.kaddr.__pa(lock));
  }

  preempt_disable(): void {
    this.sched.preempt_disable();
  }

  preempt_enable(): void {
    this.sched.preempt_enable();
  }

  local_irq_disable(): void {
    this.sched.local_irq_disable();
  }

  local_irq_enable(): void {
    this.sched.local_irq_enable();
  }

  readonly KERN_EMERG = 0;
  readonly KERN_ALERT = 1;
  readonly KERN_CRIT = 2;
  readonly KERN_ERR = 3;
  readonly KERN_WARNING = 4;
  readonly KERN_NOTICE = 5;
  readonly KERN_INFO = 6;
  readonly KERN_DEBUG = 7;

  /** printk(KERN_INFO, "..."): a record at that level in the kernel log. */
  printk(level: number, text: string): void {
    this.log.printk(level, text);
  }

  pr_err(text: string): void {
    this.log.pr_err(text);
  }

  pr_warn(text: string): void {
    this.log.pr_warn(text);
  }

  pr_info(text: string): void {
    this.log.pr_info(text);
  }

  pr_debug(text: string): void {
    this.log.pr_debug(text);
  }

  /** The kernel log as dmesg prints it. */
  dmesg(): string {
    return this.log.dmesg();
  }

  /* ================================================================ */
  /* Paging, vmalloc and ioremap (issue 4)                            */
  /* arch/x86/mm, mm/vmalloc.c, mm/util.c, arch/x86/mm/ioremap.c,     */
  /* lib/iomap.c, asm/io.h. The pieces are in k.paging (paging_init). */
  /* ================================================================ */

  /** Page tables, TLBs, MMU, MMIO bus, vmalloc and ioremap (see src/arch/x86/paging_init.ts). */
  readonly paging: Paging = paging_init(this);

  readonly VM_IOREMAP = VM_IOREMAP;
  readonly VM_ALLOC = VM_ALLOC;
  readonly VM_MAP = VM_MAP;
  readonly VM_USERMAP = VM_USERMAP;
  readonly VM_NO_GUARD = VM_NO_GUARD;
  readonly VM_MAP_PUT_PAGES = VM_MAP_PUT_PAGES;
  readonly VM_FLUSH_RESET_PERMS = VM_FLUSH_RESET_PERMS;
  readonly NUMA_NO_NODE = NUMA_NO_NODE;
  /** Protections for vmap() (pgprot_t in the JS form of src/arch/x86/pgtable.ts). */
  readonly PAGE_KERNEL = this.paging.pt.PAGE_KERNEL;
  readonly PAGE_KERNEL_RO = this.paging.pt.PAGE_KERNEL_RO;
  readonly PAGE_KERNEL_EXEC = this.paging.pt.PAGE_KERNEL_EXEC;
  readonly PAGE_KERNEL_NOCACHE = this.paging.pt.PAGE_KERNEL_NOCACHE;
  readonly VMALLOC_START = this.layout.VMALLOC_START;
  readonly VMALLOC_END = this.layout.VMALLOC_END;

  /** vmalloc(size): virtually contiguous, zone-less pages (highmem first on i386), or 0. */
  vmalloc(size: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END, gfpTypes.GFP_KERNEL,
      this.PAGE_KERNEL, 0, NUMA_NO_NODE, callerSymbol(), 'vmalloc_noprof');
  }

  /** vzalloc(size): vmalloc, zeroed. */
  vzalloc(size: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END,
      gfpTypes.GFP_KERNEL | gfpTypes.__GFP_ZERO, this.PAGE_KERNEL, 0, NUMA_NO_NODE, callerSymbol(), 'vzalloc_noprof');
  }

  /** vmalloc_node(size, node): pages from node (and the bookkeeping too). */
  vmalloc_node(size: number, node: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END, gfpTypes.GFP_KERNEL,
      this.PAGE_KERNEL, 0, node, callerSymbol(), 'vmalloc_node_noprof');
  }

  vzalloc_node(size: number, node: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END,
      gfpTypes.GFP_KERNEL | gfpTypes.__GFP_ZERO, this.PAGE_KERNEL, 0, node, callerSymbol(), 'vzalloc_node_noprof');
  }

  /** vmalloc_32(size): pages a 32-bit device can address (GFP_DMA32 | GFP_KERNEL: never highmem). */
  vmalloc_32(size: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END,
      gfpTypes.GFP_DMA32 | gfpTypes.GFP_KERNEL, this.PAGE_KERNEL, 0, NUMA_NO_NODE, callerSymbol(), 'vmalloc_32_noprof');
  }

  /** vmalloc_user(size): zeroed, VM_USERMAP (may be mapped to user space), SHMLBA-aligned. */
  vmalloc_user(size: number): number {
    return this.paging.vm.__vmalloc_node_range(size, PAGE_SIZE, this.VMALLOC_START, this.VMALLOC_END,
      gfpTypes.GFP_KERNEL | gfpTypes.__GFP_ZERO, this.PAGE_KERNEL, VM_USERMAP, NUMA_NO_NODE, callerSymbol(), 'vmalloc_user_noprof');
  }

  vmalloc_32_user(size: number): number {
    return this.paging.vm.__vmalloc_node_range(size, PAGE_SIZE, this.VMALLOC_START, this.VMALLOC_END,
      gfpTypes.GFP_DMA32 | gfpTypes.GFP_KERNEL | gfpTypes.__GFP_ZERO, this.PAGE_KERNEL, VM_USERMAP, NUMA_NO_NODE, callerSymbol(),
      'vmalloc_32_user_noprof');
  }

  /** __vmalloc(size, gfp) */
  __vmalloc(size: number, gfp: number): number {
    return this.paging.vm.__vmalloc_node_range(size, 1, this.VMALLOC_START, this.VMALLOC_END, gfp, this.PAGE_KERNEL, 0,
      NUMA_NO_NODE, callerSymbol(), '__vmalloc_noprof');
  }

  /** __vmalloc_node_range(size, align, start, end, gfp, prot, vm_flags, node): the general form. */
  __vmalloc_node_range(size: number, align: number, start: number, end: number, gfp: number, prot: number, vmFlags: number,
    node: number): number {
    return this.paging.vm.__vmalloc_node_range(size, align, start, end, gfp, prot, vmFlags, node, callerSymbol(),
      '__vmalloc_node_range_noprof');
  }

  /** vfree(addr): 0 is fine; in interrupt context the free is deferred. */
  vfree(addr: number): void {
    this.paging.vm.vfree(addr);
  }

  /** vfree_atomic(addr): free later, from a work item (any context but NMI). */
  vfree_atomic(addr: number): void {
    this.paging.vm.vfree_atomic(addr);
  }

  /**
   * vmap(pages, count, flags, prot): count pages mapped contiguously. pages
   * is the kernel address of a struct page *array, or a JS array of struct
   * page pointers.
   */
  vmap(pages: number | readonly number[], count: number, flags: number, prot: number): number {
    return this.paging.vm.vmap(pages, count, flags, prot, callerSymbol());
  }

  vunmap(addr: number): void {
    this.paging.vm.vunmap(addr);
  }

  /** vmalloc_to_page(addr): the struct page mapped there (page-table walk), or 0. */
  vmalloc_to_page(addr: number): number {
    return this.paging.vm.vmalloc_to_page(addr);
  }

  vmalloc_to_pfn(addr: number): number {
    return this.paging.vm.vmalloc_to_pfn(addr);
  }

  is_vmalloc_addr(addr: number): boolean {
    return this.paging.vm.is_vmalloc_addr(addr);
  }

  /** get_vm_area(size, flags): a struct vm_struct * for a range of vmalloc space, nothing mapped; or 0. */
  get_vm_area(size: number, flags: number): number {
    return this.paging.vm.get_vm_area_caller(size, flags, callerSymbol(), ['get_vm_area']);
  }

  free_vm_area(area: number): void {
    this.paging.vm.free_vm_area(area);
  }

  /** find_vm_area(addr): the vm_struct of the area containing addr, or 0. */
  find_vm_area(addr: number): number {
    return this.paging.vm.find_vm_area(addr);
  }

  /** vm_unmap_aliases(): purge the lazily freed areas now (one TLB flush). */
  vm_unmap_aliases(): void {
    this.paging.vm.vm_unmap_aliases();
  }

  /** kvmalloc(size, gfp): kmalloc, or vmalloc when that fails for more than a page. */
  kvmalloc(size: number, gfp: number): number {
    return this.paging.vm.kvmalloc_node(size, gfp, NUMA_NO_NODE, callerSymbol(), 'kvmalloc_node_noprof');
  }

  kvzalloc(size: number, gfp: number): number {
    return this.paging.vm.kvmalloc_node(size, gfp | gfpTypes.__GFP_ZERO, NUMA_NO_NODE, callerSymbol(), 'kvmalloc_node_noprof');
  }

  kvmalloc_node(size: number, gfp: number, node: number): number {
    return this.paging.vm.kvmalloc_node(size, gfp, node, callerSymbol(), 'kvmalloc_node_noprof');
  }

  kvzalloc_node(size: number, gfp: number, node: number): number {
    return this.paging.vm.kvmalloc_node(size, gfp | gfpTypes.__GFP_ZERO, node, callerSymbol(), 'kvmalloc_node_noprof');
  }

  /** kvmalloc_array(n, size, gfp): NULL if n * size overflows size_t. */
  kvmalloc_array(n: number, size: number, gfp: number): number {
    const bytes = BigInt(n) * BigInt(size);
    if (bytes >= 2n ** BigInt(8 * this.layout.ptrSize)) return 0;
    return this.paging.vm.kvmalloc_node(Number(bytes), gfp, NUMA_NO_NODE, callerSymbol(), 'kvmalloc_node_noprof');
  }

  kvcalloc(n: number, size: number, gfp: number): number {
    return this.kvmalloc_array(n, size, gfp | gfpTypes.__GFP_ZERO);
  }

  /** kvfree(addr): vfree or kfree, whichever allocated it. */
  kvfree(addr: number): void {
    this.paging.vm.kvfree(addr);
  }

  /** Let the queued work items run (the lazy purge, deferred vfree): flush_scheduled_work(). */
  flush_scheduled_work(): void {
    this.paging.vm.run_pending_work(true);
  }

  flush_tlb_all(): void {
    this.paging.tlb.flush_tlb_all();
  }

  flush_tlb_kernel_range(start: number, end: number): void {
    this.paging.tlb.flush_tlb_kernel_range(start, end);
  }

  /** ioremap(phys, size): an uncached (UC-) mapping of device memory; the __iomem address or 0. */
  ioremap(phys: number, size: number): number {
    return this.paging.io.ioremap(phys, size, callerSymbol());
  }

  ioremap_uc(phys: number, size: number): number {
    return this.paging.io.ioremap_uc(phys, size, callerSymbol());
  }

  /** ioremap_wc(phys, size): write-combining (framebuffers). */
  ioremap_wc(phys: number, size: number): number {
    return this.paging.io.ioremap_wc(phys, size, callerSymbol());
  }

  ioremap_wt(phys: number, size: number): number {
    return this.paging.io.ioremap_wt(phys, size, callerSymbol());
  }

  ioremap_cache(phys: number, size: number): number {
    return this.paging.io.ioremap_cache(phys, size, callerSymbol());
  }

  ioremap_prot(phys: number, size: number, prot: number): number {
    return this.paging.io.ioremap_prot(phys, size, prot, callerSymbol());
  }

  iounmap(addr: number): void {
    this.paging.io.iounmap(addr);
  }

  /* MMIO accessors: loads and stores through the mapping (any kernel address). */
  readb(addr: number): number { return this.kaddr.read8(addr); }
  readw(addr: number): number { return this.kaddr.read16(addr); }
  readl(addr: number): number { return this.kaddr.read32(addr); }
  /** readq(): a number, exact below 2^53. */
  readq(addr: number): number { return this.kaddr.read64(addr); }
  writeb(val: number, addr: number): void { this.kaddr.write8(addr, val); }
  writew(val: number, addr: number): void { this.kaddr.write16(addr, val); }
  writel(val: number, addr: number): void { this.kaddr.write32(addr, val); }
  writeq(val: number, addr: number): void { this.kaddr.write64(addr, val); }
  ioread8(addr: number): number { return this.paging.io.ioread(addr, 1, 'return inb(port)', 'ioread8'); }
  ioread16(addr: number): number { return this.paging.io.ioread(addr, 2, 'return inw(port)', 'ioread16'); }
  ioread32(addr: number): number { return this.paging.io.ioread(addr, 4, 'return inl(port)', 'ioread32'); }
  iowrite8(val: number, addr: number): void { this.paging.io.iowrite(val, addr, 1, 'outb(val,port)', 'iowrite8'); }
  iowrite16(val: number, addr: number): void { this.paging.io.iowrite(val, addr, 2, 'outw(val,port)', 'iowrite16'); }
  iowrite32(val: number, addr: number): void { this.paging.io.iowrite(val, addr, 4, 'outl(val,port)', 'iowrite32'); }

  /** memcpy_fromio(dst, src, n): from device memory (src: __iomem) to kernel memory. */
  memcpy_fromio(dst: number, src: number, n: number): void {
    this.kaddr.writeBytes(dst, this.kaddr.readBytes(src, n));
  }

  /** memcpy_toio(dst, src, n): from kernel memory to device memory (dst: __iomem). */
  memcpy_toio(dst: number, src: number, n: number): void {
    this.kaddr.writeBytes(dst, this.kaddr.readBytes(src, n));
  }

  memset_io(addr: number, val: number, n: number): void {
    this.kaddr.fill(addr, n, val & 0xff);
  }

  /* Interrupt context (preempt_count's HARDIRQ and SOFTIRQ fields). */
  irq_enter(): void { this.sched.irq_enter(); }
  irq_exit(): void { this.sched.irq_exit(); }
  local_bh_disable(): void { this.sched.local_bh_disable(); }
  local_bh_enable(): void { this.sched.local_bh_enable(); }
  in_interrupt(): boolean { return this.sched.in_interrupt(); }

  /* ================================================================ */
  /* Mempools and memory pressure (issue 3)                           */
  /* mm/mempool.c, include/linux/mempool.h, mm/shrinker.c,            */
  /* mm/vmscan.c. The pieces are in k.pressure (reclaim_init).        */
  /* ================================================================ */

  /** Shrinkers, reclaim (direct and kswapd), wait queues and mempools (see src/mm/reclaim_init.ts). */
  readonly pressure: MemPressure = reclaim_init(this);

  readonly DEFAULT_SEEKS = DEFAULT_SEEKS;
  /** ~0UL as a JavaScript callback returns it: scan_objects() can make no progress now. */
  readonly SHRINK_STOP = SHRINK_STOP;
  /** ~0UL - 1: count_objects() has nothing at all. */
  readonly SHRINK_EMPTY = SHRINK_EMPTY;
  readonly SHRINKER_NUMA_AWARE = SHRINKER_NUMA_AWARE;
  readonly SHRINKER_MEMCG_AWARE = SHRINKER_MEMCG_AWARE;
  readonly SHRINKER_NONSLAB = SHRINKER_NONSLAB;

  /** sizeof(mempool_t), for a pool embedded in a zeroed structure (mempool_init). */
  get sizeof_mempool_t(): number {
    return this.pressure.mempools.size;
  }

  /**
   * The code address of a mempool_alloc_t / mempool_free_t: the kernel's
   * helpers when given k.mempool_alloc_slab and friends (so the pool
   * recognises them, as mempool.c compares pool->alloc with them), a
   * registered JS function otherwise, or a code address as it is.
   */
  private mempoolFn(fn: MempoolAllocFn | MempoolFreeFn | number, what: string): number {
    if (typeof fn === 'number') return fn;
    const h = this.pressure.mempools.helpers;
    const proto = Kernel.prototype;
    const known = new Map<unknown, number>([
      [proto.mempool_alloc_slab, h.mempool_alloc_slab], [proto.mempool_free_slab, h.mempool_free_slab],
      [proto.mempool_kmalloc, h.mempool_kmalloc], [proto.mempool_kfree, h.mempool_kfree],
      [proto.mempool_alloc_pages, h.mempool_alloc_pages], [proto.mempool_free_pages, h.mempool_free_pages],
    ]);
    const addr = known.get(fn);
    if (addr !== undefined) return addr;
    const f = fn as (a: number, b: number) => number | void;
    return this.kallsyms.register(fn.name || what, (a, b) => f(a, b), fn);
  }

  /**
   * mempool_create(min_nr, alloc_fn, free_fn, pool_data): a pool with
   * min_nr elements preallocated (GFP_KERNEL), or 0. alloc_fn(gfp,
   * pool_data) returns an element (0 on failure); free_fn(element,
   * pool_data) frees one. Pass k.mempool_alloc_slab / k.mempool_free_slab
   * (and the kmalloc and pages pairs) for the kernel's helpers.
   */
  mempool_create(minNr: number, allocFn: MempoolAllocFn | number, freeFn: MempoolFreeFn | number, poolData: number): number {
    return this.mempool_create_node(minNr, allocFn, freeFn, poolData, gfpTypes.GFP_KERNEL, NUMA_NO_NODE);
  }

  mempool_create_node(minNr: number, allocFn: MempoolAllocFn | number, freeFn: MempoolFreeFn | number, poolData: number,
    gfp: number, node: number): number {
    return this.pressure.mempools.mempool_create_node(minNr, this.mempoolFn(allocFn, 'mempool_alloc_t'),
      this.mempoolFn(freeFn, 'mempool_free_t'), poolData, gfp, node);
  }

  /** mempool_init(pool, ...): set up a zeroed mempool_t embedded at pool (k.sizeof_mempool_t bytes); 0 or -ENOMEM. */
  mempool_init(pool: number, minNr: number, allocFn: MempoolAllocFn | number, freeFn: MempoolFreeFn | number, poolData: number): number {
    return this.mempool_init_node(pool, minNr, allocFn, freeFn, poolData, gfpTypes.GFP_KERNEL, NUMA_NO_NODE);
  }

  mempool_init_node(pool: number, minNr: number, allocFn: MempoolAllocFn | number, freeFn: MempoolFreeFn | number,
    poolData: number, gfp: number, node: number): number {
    return this.pressure.mempools.mempool_init_node(pool, minNr, this.mempoolFn(allocFn, 'mempool_alloc_t'),
      this.mempoolFn(freeFn, 'mempool_free_t'), poolData, gfp, node);
  }

  /** mempool_create_slab_pool(min_nr, kc): elements from a cache (which must have no constructor). */
  mempool_create_slab_pool(minNr: number, kc: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_create(minNr, h.mempool_alloc_slab, h.mempool_free_slab, kc);
  }

  /** mempool_create_kmalloc_pool(min_nr, size): kmalloc(size) elements. */
  mempool_create_kmalloc_pool(minNr: number, size: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_create(minNr, h.mempool_kmalloc, h.mempool_kfree, size);
  }

  /** mempool_create_page_pool(min_nr, order): struct page * elements of 2^order pages. */
  mempool_create_page_pool(minNr: number, order: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_create(minNr, h.mempool_alloc_pages, h.mempool_free_pages, order);
  }

  mempool_init_slab_pool(pool: number, minNr: number, kc: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_init(pool, minNr, h.mempool_alloc_slab, h.mempool_free_slab, kc);
  }

  mempool_init_kmalloc_pool(pool: number, minNr: number, size: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_init(pool, minNr, h.mempool_kmalloc, h.mempool_kfree, size);
  }

  mempool_init_page_pool(pool: number, minNr: number, order: number): number {
    const h = this.pressure.mempools.helpers;
    return this.mempool_init(pool, minNr, h.mempool_alloc_pages, h.mempool_free_pages, order);
  }

  /**
   * mempool_alloc(pool, gfp): the allocator without reclaim, then the
   * reserve, then the allocator with gfp; NULL for callers that cannot
   * sleep. A caller that may sleep would wait for mempool_free(): on
   * kmem's single-threaded machine nobody can free one, so that is
   * reported ("kmem: mempool_alloc would sleep forever ...") and NULL returned.
   */
  mempool_alloc(pool: number, gfp: number): number {
    return this.pressure.mempools.mempool_alloc(pool, gfp);
  }

  /** mempool_alloc_preallocated(pool): a reserved element or NULL, never the allocator. */
  mempool_alloc_preallocated(pool: number): number {
    return this.pressure.mempools.mempool_alloc_preallocated(pool);
  }

  /** mempool_free(element, pool): refills the reserve first; NULL is fine. */
  mempool_free(element: number, pool: number): void {
    this.pressure.mempools.mempool_free(element, pool);
  }

  /** mempool_resize(pool, new_min_nr): 0 or -ENOMEM. */
  mempool_resize(pool: number, newMinNr: number): number {
    return this.pressure.mempools.mempool_resize(pool, newMinNr);
  }

  /** mempool_destroy(pool): the reserve and the pool freed; NULL is fine. */
  mempool_destroy(pool: number): void {
    this.pressure.mempools.mempool_destroy(pool);
  }

  /** mempool_exit(pool): for mempool_init() pools. */
  mempool_exit(pool: number): void {
    this.pressure.mempools.mempool_exit(pool);
  }

  mempool_initialized(pool: number): boolean {
    return this.pressure.mempools.mempool_initialized(pool);
  }

  mempool_is_saturated(pool: number): boolean {
    return this.pressure.mempools.mempool_is_saturated(pool);
  }

  /* The kernel's mempool_alloc_t / mempool_free_t helpers (callable too). */
  mempool_alloc_slab(gfp: number, poolData: number): number {
    return this.pressure.mempools.mempool_alloc_slab(gfp, poolData);
  }

  mempool_free_slab(element: number, poolData: number): void {
    this.pressure.mempools.mempool_free_slab(element, poolData);
  }

  mempool_kmalloc(gfp: number, poolData: number): number {
    return this.pressure.mempools.mempool_kmalloc(gfp, poolData);
  }

  mempool_kfree(element: number, poolData: number): void {
    this.pressure.mempools.mempool_kfree(element, poolData);
  }

  mempool_alloc_pages(gfp: number, poolData: number): number {
    return this.pressure.mempools.mempool_alloc_pages(gfp, poolData);
  }

  mempool_free_pages(element: number, poolData: number): void {
    this.pressure.mempools.mempool_free_pages(element, poolData);
  }

  /** shrinker_alloc(flags, name): a struct shrinker (seeks DEFAULT_SEEKS) to fill in and register, or 0. */
  shrinker_alloc(flags: number, _name = ''): number {
    return this.pressure.shrinkers.shrinker_alloc(flags);
  }

  /**
   * The assignments C makes before shrinker_register(): s->count_objects =
   * ..., s->scan_objects = ..., s->seeks, s->batch, s->private_data. The
   * callbacks get the shrinker's address and a view of the shrink_control.
   */
  shrinker_set(s: number, f: ShrinkerFields): void {
    const sh = this.pressure.shrinkers;
    const code = (fn: ShrinkerFn | undefined, what: string) => {
      if (fn === undefined) return undefined;
      return this.kallsyms.register(fn.name || what, (shrinker, sc) => fn(shrinker, new ShrinkControl(sh, sc)), fn);
    };
    sh.setFields(s, {
      count_objects: code(f.count_objects, 'count_objects'), scan_objects: code(f.scan_objects, 'scan_objects'),
      seeks: f.seeks, batch: f.batch, private_data: f.private_data,
    });
  }

  shrinker_register(s: number): void {
    this.pressure.shrinkers.shrinker_register(s);
  }

  /** shrinker_free(s): unregister and free (after a grace period); NULL is fine. */
  shrinker_free(s: number): void {
    this.pressure.shrinkers.shrinker_free(s);
  }

  /** The pre-6.7 API: register_shrinker(shrinker, name) with the callbacks and seeks/batch in a JS object; 0 or -ENOMEM. */
  register_shrinker(shrinker: ShrinkerFields & { count_objects: ShrinkerFn; scan_objects: ShrinkerFn }, name = ''): number {
    const s = this.shrinker_alloc(0, name);
    if (s === 0) return -12;
    this.shrinker_set(s, shrinker);
    this.shrinker_register(s);
    this.oldShrinkers.set(shrinker, s);
    return 0;
  }

  /** unregister_shrinker(shrinker): the object given to register_shrinker(). */
  unregister_shrinker(shrinker: object): void {
    const s = this.oldShrinkers.get(shrinker);
    if (s === undefined) return;
    this.oldShrinkers.delete(shrinker);
    this.shrinker_free(s);
  }

  private readonly oldShrinkers = new WeakMap<object, number>();

  /* ================================================================ */
  /* Highmem, scatter/gather + DMA, per-CPU variables, kernel stacks  */
  /* (issue 4 items 5-8): mm/highmem.c, lib/scatterlist.c,            */
  /* kernel/dma, include/linux/percpu-defs.h, kernel/fork.c.          */
  /* ================================================================ */

  /** Static per-CPU variables (src/mm/percpu_defs.ts). */
  readonly percpuDefs: PercpuDefs = new PercpuDefs(this);
  /** kmap/kmap_local_page/kmap_atomic and the pkmap/fixmap areas (src/mm/highmem.ts). */
  readonly highmem: Highmem = new Highmem(this);
  /** struct scatterlist and sg_table (src/lib/scatterlist.ts). */
  readonly sg: Scatterlist = new Scatterlist(this);
  /** The DMA API over dma-direct (src/kernel/dma/mapping.ts). */
  readonly dma: DmaMapping = new DmaMapping(this);
  /** Kernel stacks (src/kernel/fork.ts). */
  readonly stacks: KernelStacks = new KernelStacks(this);
  /** Per-CPU chunks in vmalloc space, after the first chunk (src/mm/percpu_vm.ts). */
  readonly percpuVm: PercpuVmChunks = new PercpuVmChunks(this);

  kmap(page: number): number { return this.highmem.kmap(page); }
  kunmap(page: number): void { this.highmem.kunmap(page); }
  kmap_local_page(page: number): number { return this.highmem.kmap_local_page(page); }
  kunmap_local(vaddr: number): void { this.highmem.kunmap_local(vaddr); }
  kmap_atomic(page: number): number { return this.highmem.kmap_atomic(page); }
  kunmap_atomic(vaddr: number): void { this.highmem.kunmap_atomic(vaddr); }

  DEFINE_PER_CPU(name: string, size: number, init: Uint8Array | number = 0): number {
    return this.percpuDefs.DEFINE_PER_CPU(name, size, init);
  }
  per_cpu(ptr: number, cpu: number): number { return this.percpuDefs.per_cpu(ptr, cpu); }
  this_cpu_read(ptr: number, size: 1 | 2 | 4 | 8 = 4): number { return this.percpuDefs.this_cpu_read(ptr, size); }
  this_cpu_write(ptr: number, v: number, size: 1 | 2 | 4 | 8 = 4): void { this.percpuDefs.this_cpu_write(ptr, size, v); }
  this_cpu_add(ptr: number, v: number, size: 1 | 2 | 4 | 8 = 4): void { this.percpuDefs.this_cpu_add(ptr, size, v); }
  this_cpu_inc(ptr: number, size: 1 | 2 | 4 | 8 = 4): void { this.percpuDefs.this_cpu_inc(ptr, size); }
  get_cpu_var(ptr: number): number { return this.percpuDefs.get_cpu_var(ptr); }
  put_cpu_var(ptr: number): void { this.percpuDefs.put_cpu_var(ptr); }
  get_cpu(): number { return this.percpuDefs.get_cpu(); }
  put_cpu(): void { this.percpuDefs.put_cpu(); }

  /**
   * schedule(): with preemption disabled this is __schedule_bug()'s report
   * ("BUG: scheduling while atomic: comm/pid/0x%08x"); it also checks the
   * end of current's stack (CONFIG_SCHED_STACK_END_CHECK).
   */
  schedule(): void {
    this.stacks.schedule_debug();
    const pc = this.sched.preempt_count();
    if (pc === 0 && !this.sched.irqs_disabled()) return;
    const lines = [`BUG: scheduling while atomic: ${this.sched.comm()}/${this.sched.pid()}/0x${(pc >>> 0).toString(16).padStart(8, '0')}`,
      'Modules linked in:'];
    for (const l of lines) this.log.printk(KERN_ERR_LEVEL, l);
    lines.push(...this.bug.dump_stack(['__schedule_bug', '__schedule', 'schedule', callerSymbol()], KERN_ERR_LEVEL));
    this.bug.reported('might_sleep', lines, TAINT_WARN_FLAG);
  }

  /** msleep(ms) (kernel/time/timer.c): schedule_timeout() -> schedule(); kmem has no timers, so no time passes. */
  msleep(_ms: number): void {
    this.schedule();
  }
}

/** mempool_alloc_t: an element (a pointer), or 0. */
export type MempoolAllocFn = (gfp: number, poolData: number) => number;
/** mempool_free_t */
export type MempoolFreeFn = (element: number, poolData: number) => void;
/** A shrinker's count_objects or scan_objects: objects (freeable or freed), SHRINK_STOP or SHRINK_EMPTY. */
export type ShrinkerFn = (shrinker: number, sc: ShrinkControl) => number;
export interface ShrinkerFields {
  count_objects?: ShrinkerFn;
  scan_objects?: ShrinkerFn;
  seeks?: number;
  batch?: number;
  private_data?: number;
}
export { ShrinkControl };
