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
import type { PhysMem } from '../machine/memory.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PAGE_SHIFT, PAGE_SIZE, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { MachineConfig } from '../machine/config.ts';
import type { Printk } from './printk.ts';
import type { Bug } from './bug.ts';
import type { Sched } from './sched.ts';
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

export interface KernelParts {
  config: MachineConfig;
  layout: ArchLayout;
  mem: PhysMem;
  access: KmemAccess;
  kaddr: KernelAddr;
  log: Printk;
  bug: Bug;
  sched: Sched;
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

  constructor(p: KernelParts) {
    this.config = p.config;
    this.layout = p.layout;
    this.mem = p.mem;
    this.access = p.access;
    this.kaddr = p.kaddr;
    this.log = p.log;
    this.bug = p.bug;
    this.sched = p.sched;
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
  }
}

/** A slab constructor, run on each object of a new slab: void (*ctor)(void *) with the kernel at hand. */
export type SlabCtor = (k: Kernel, obj: number) => void;

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
    if (this.layout.PAGE_OFFSET + pa >= this.kaddr.directMapEnd) return 0;
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
    return this.percpu.__alloc_percpu(size, align);
  }

  /** free_percpu(ptr); a pointer that is not an allocation is reported and ignored. */
  free_percpu(ptr: number): void {
    if (!this.percpu.free_percpu(ptr)) {
      this.bug.warn('mm/percpu.c', 2275, 'free_percpu', `kmem: free_percpu(${formatPtr(this.layout, ptr)}): not a per-CPU allocation`, [], false);
    }
  }

  /** per_cpu_ptr(ptr, cpu): the kernel virtual address of cpu's copy. */
  per_cpu_ptr(ptr: number, cpu: number): number {
    return this.percpu.per_cpu_ptr(ptr, cpu);
  }

  /** this_cpu_ptr(ptr): this CPU's copy. */
  this_cpu_ptr(ptr: number): number {
    return this.percpu.per_cpu_ptr(ptr, this.sched.cpu);
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
  kmem_cache_create(name: string | null, size: number, align: number, flags: number, ctor: SlabCtor | null = null, dtor: unknown = null): number {
    if (dtor !== null && dtor !== undefined) {
      throw new TypeError('kmem_cache_create: slab destructors were removed in Linux 2.6.23; pass NULL');
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
    this.rcu.kfree_rcu(ptr, offset);
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

  /** Run as another CPU from now on (the deterministic SMP mode switches CPUs this way). */
  set_cpu(cpu: number): void {
    if (cpu < 0 || cpu >= this.config.cpus) throw new RangeError(`cpu ${cpu} does not exist (${this.config.cpus} CPUs)`);
    this.sched.cpu = cpu;
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
}
