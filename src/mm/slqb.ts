/*
 * SLQB, "the quick slab allocator" (mm/slqb.c), as Nick Piggin posted it
 * in December 2008 and through 2009 (v1 to v3 of "[patch] SLQB slab
 * allocator" on linux-kernel and linux-mm; carried in linux-next for a
 * while, never merged). All state in machine memory.
 *
 * RECONSTRUCTED. There is no SLQB in any released kernel, so this file is
 * a reconstruction, not a port: from memory of the posted patches (the
 * structures of include/linux/slqb_def.h and the fast and slow paths of
 * mm/slqb.c: __slab_alloc(), __cache_list_get_object(),
 * __cache_list_get_page(), __slab_alloc_page(), __slab_free(),
 * flush_free_list(), slab_free_to_remote(), flush_remote_free_cache(),
 * claim_remote_free_list(), free_object_to_page(), s_show()) and from
 * LWN's coverage ("SLQB - and then there were four", December 2008). What
 * is kept:
 *
 *  - struct kmem_cache_list: the LIFO freelist of free objects (head, tail,
 *    nr; linked through the objects' free pointers), remote_free_check,
 *    the partial slabs (nr_partial, a list in NO particular order: a slab
 *    that becomes partial is put at the head; no sorting by fullness, no
 *    full list), nr_slabs, and remote_free { lock, head, tail, nr }: objects
 *    other CPUs freed that belong to this list's slabs.
 *  - struct kmem_cache_cpu { list, colour_next, rlist { head, tail, nr },
 *    remote_cache_list }: each CPU's own list, and its queue of frees for
 *    one other list. struct kmem_cache_node { list, list_lock }: a list per
 *    node for allocations asked of a remote node.
 *  - Allocation (__slab_alloc): this CPU's freelist (LIFO); when empty and
 *    remote_free_check is set, claim the remote-free queue onto it first;
 *    then the first partial slab's page freelist (__cache_list_get_page);
 *    then a new slab on this CPU's list. An allocation for another node
 *    uses that node's kmem_cache_node list.
 *  - Free (__slab_free): an object whose slab is on this CPU's node goes
 *    onto this CPU's freelist whoever owns its slab ("collects all
 *    local-node objects, not just those allocated from our per-CPU list"),
 *    so objects move between CPUs of a node without any locking. When the
 *    freelist passes hiwater, flush_free_list() takes freebatch objects off
 *    it: those of slabs this list owns go back to their slab
 *    (free_object_to_page(): an empty slab is freed at once, a full one
 *    becomes partial), the others are queued on this CPU's rlist for their
 *    owner (slab_free_to_remote()). The rlist holds objects for one list
 *    at a time (remote_cache_list); a free for another list, or freebatch
 *    objects queued, flushes it onto the owner's remote_free queue
 *    (flush_remote_free_cache()), which sets the owner's remote_free_check
 *    once freebatch objects are waiting; the owner claims them on its next
 *    allocation that finds its freelist empty. An object of another
 *    node's slab goes straight to slab_free_to_remote().
 *  - Tunables: hiwater and freebatch per cache, freebatch = max(4 *
 *    PAGE_SIZE / size, min(256, 64 * PAGE_SIZE / size)), hiwater =
 *    freebatch * 4 (the posted defaults as best remembered).
 *  - Slab order: SLUB's calculate_order()/slab_order(), which SLQB copied
 *    (min_objects 4 * (fls(nr_cpus) + 1), max order 3).
 *  - Object layout as SLUB's without debugging: the free pointer at offset
 *    0, or after the object for caches with a constructor or
 *    SLAB_TYPESAFE_BY_RCU; kmalloc size classes are the common code's,
 *    SLUB's (from kmalloc-8).
 *  - /proc/slabinfo: SLQB's s_show() printed the SLUB-like line with its
 *    own tunables: "name active_objs num_objs objsize objperslab
 *    pagesperslab : tunables hiwater freebatch 0 : slabdata num_slabs
 *    num_slabs 0" (active_slabs printed as num_slabs: SLQB did not know
 *    which slabs were full). active_objs excludes the objects on every
 *    freelist and queue. Not writable.
 *
 * struct slqb_page is the head page's struct page seen as struct slab
 * (slab_types.ts): slab_cache where the others have it (SLQB's own page
 * had only list, the kmem_cache_list, and reached the cache through
 * list->cache; kmem keeps slab_cache for the common code), slab_list as
 * the lru of the partial list (and the rcu_head of an RCU-delayed free),
 * freelist as page->freelist, and the counters word as inuse (low 16
 * bits) and the owning list (bits 16-30: 1 + CPU for a per-CPU list,
 * 1 + nr_cpus + node for a node list) in place of SLQB's page->list
 * pointer, which does not fit beside everything else in a 32-byte i386
 * struct page. The objects per slab are the cache's.
 *
 * Not modelled: slab colouring (objects start at the page), the periodic
 * cache_trim_worker (per-CPU freelists are flushed on free and on shrink,
 * not by a timer), CPU hotplug, SLQB's debugging (it had SLUB's), its
 * statistics beyond what the tests read, the spinlocks (the lock words are
 * there, never contended in kmem), per-CPU structures allocated per node
 * (kmem uses the percpu allocator for kmem_cache_cpu).
 */
import { PAGE_SIZE, ptr64FromWords, ptr64HiWord, ptr64LoWord } from '../arch/x86/layout.ts';
import type { RamWords } from '../machine/ram_words.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { INIT_LIST_HEAD, list_add, list_del } from '../lib/list.ts';
import { GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU, ZERO_SIZE_PTR } from '../include/linux/slab.ts';
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './mmzone.ts';
import { PGTY_slab } from './page.ts';
import type { SlabCommon } from './slab_common.ts';
import type { SlabDeps } from './slab.ts';
import { FULL, slabLayout, type KmemCacheArgs, type KmemCacheCommon, type SlabAllocator, type SlabInfo } from './slab_types.ts';

const SLQB_MAX_ORDER = 3; // PAGE_ALLOC_COSTLY_ORDER
const MAX_OBJS = 0xffff; // inuse is 16 bits
const ENOMEM = 12;
const E2BIG = 7;

function cacheLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['flags', 'u32'],
    ['hiwater', 'u32'],
    ['freebatch', 'u32'],
    ['object_size', 'u32'],
    ['offset', 'u32'],
    ['objects', 'u32'],
    ['size_', 'u32'],
    ['order', 'u32'],
    ['allocflags', 'u32'],
    ['colour_range', 'u32'],
    ['colour_off', 'u32'],
    ['ctor', 'ptr'],
    ['name', 'ptr'],
    ['list', 'list_head'],
    ['align', 'u32'],
    ['inuse', 'u32'],
    ['refcount', 'int'],
    ['useroffset', 'u32'],
    ['usersize', 'u32'],
    ['cpu_slab', 'ptr'],
    ['node_slab', 'ptr'],
  ]);
}

/** struct kmem_cache_list */
function listLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['cache', 'ptr'],
    ['fl_head', 'ptr'],
    ['fl_tail', 'ptr'],
    ['fl_nr', 'ulong'],
    ['remote_free_check', 'int'],
    ['nr_partial', 'ulong'],
    ['partial', 'list_head'],
    ['nr_slabs', 'ulong'],
    ['rf_lock', 'u32'],
    ['rf_head', 'ptr'],
    ['rf_tail', 'ptr'],
    ['rf_nr', 'ulong'],
  ]);
}

/** struct kmem_cache_cpu, the list first */
function cpuLayout(ptrSize: 4 | 8, listBytes: number) {
  return defineStruct(ptrSize, [
    ['list', { size: listBytes, align: ptrSize }],
    ['colour_next', 'u32'],
    ['rl_head', 'ptr'],
    ['rl_tail', 'ptr'],
    ['rl_nr', 'ulong'],
    ['remote_cache_list', 'ptr'],
  ]);
}

/** struct kmem_cache_node { list; list_lock } */
function nodeLayout(ptrSize: 4 | 8, listBytes: number) {
  return defineStruct(ptrSize, [
    ['list', { size: listBytes, align: ptrSize }],
    ['list_lock', 'u32'],
  ]);
}

/** What the tests read of one kmem_cache_list. */
export interface SlqbListState {
  freelist: number;
  remote_free: number;
  remote_free_check: boolean;
  nr_partial: number;
  nr_slabs: number;
}

export class Slqb implements SlabAllocator {
  readonly name = 'SLQB';
  readonly cache: KmemCacheCommon;
  readonly kmemCacheBytes: number;
  private readonly C: ReturnType<typeof cacheLayout>;
  private readonly L: ReturnType<typeof listLayout>;
  private readonly CPU: ReturnType<typeof cpuLayout>;
  private readonly N: ReturnType<typeof nodeLayout>;
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly w: RamWords;
  private readonly wSlabCache: number;
  private readonly wFreelist: number;
  private readonly wCounters: number;
  private readonly slabListOff: number;
  private earlyNodes = 0;
  private earlyLeft = 0;
  private rcuFree = 0;
  /** Counts for the tests: objects queued to another list, and claimed back. */
  readonly stats = { remote_queued: 0, remote_flushes: 0, remote_claimed: 0 };

  constructor(private readonly d: SlabDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    this.w = d.words;
    this.C = cacheLayout(this.ptr);
    this.L = listLayout(this.ptr);
    this.CPU = cpuLayout(this.ptr, this.L.size);
    this.N = nodeLayout(this.ptr, this.L.size);
    this.cache = this.C;
    this.kmemCacheBytes = this.C.node_slab + d.nrNodes * this.ptr;
    const sl = slabLayout(this.ptr);
    this.wSlabCache = sl.slab_cache >> 2;
    this.wFreelist = sl.freelist >> 2;
    this.wCounters = sl.counters >> 2;
    this.slabListOff = sl.slab_list;
  }

  static staticBytes(): number {
    return 0;
  }

  /* fields -------------------------------------------------------------- */

  private u32(s: number, off: number): number {
    return this.w.r32(s - this.po + off);
  }

  private set32(s: number, off: number, v: number): void {
    this.w.w32(s - this.po + off, v);
  }

  private rp(va: number): number {
    return this.d.kaddr.readPtr(va);
  }

  private wp(va: number, v: number): void {
    this.d.kaddr.writePtr(va, v);
  }

  private ul(va: number): number {
    return this.ptr === 8 ? this.w.r32(va - this.po) + (this.w.r32(va - this.po + 4) | 0) * 2 ** 32 : this.w.r32(va - this.po);
  }

  private setUl(va: number, v: number): void {
    this.w.w32(va - this.po, v % 2 ** 32);
    if (this.ptr === 8) this.w.w32(va - this.po + 4, Math.floor(v / 2 ** 32));
  }

  private addUl(va: number, d: number): void {
    this.setUl(va, this.ul(va) + d);
  }

  private numaNode(cpu = this.d.sched.cpu): number {
    return this.d.cpuToNode[cpu] ?? 0;
  }

  /** get_cpu_slab(s, cpu) */
  private cpuSlab(s: number, cpu: number): number {
    return this.po + this.d.percpu.per_cpu_ptr_pa(this.rp(s + this.C.cpu_slab), cpu);
  }

  private nodeSlab(s: number, node: number): number {
    return this.rp(s + this.C.node_slab + node * this.ptr);
  }

  /** The kmem_cache_list of an owner id (1 + cpu, or 1 + nr_cpus + node). */
  private listOf(s: number, owner: number): number {
    return owner <= this.d.nrCpus ? this.cpuSlab(s, owner - 1) + this.CPU.list : this.nodeSlab(s, owner - 1 - this.d.nrCpus) + this.N.list;
  }

  private get_freepointer(s: number, obj: number): number {
    return this.rp(obj + this.u32(s, this.C.offset));
  }

  private set_freepointer(s: number, obj: number, v: number): void {
    this.wp(obj + this.u32(s, this.C.offset), v);
  }

  /* struct slqb_page ------------------------------------------------------ */

  private pw(pfn: number): [Int32Array, number] {
    return [this.d.pages.loc.arr(pfn), this.d.pages.loc.word(pfn)];
  }

  private getPtrW(pfn: number, word: number): number {
    const [a, i] = this.pw(pfn);
    return this.ptr === 8 ? ptr64FromWords(a[i + word], a[i + word + 1]) : a[i + word] >>> 0;
  }

  private setPtrW(pfn: number, word: number, v: number): void {
    const [a, i] = this.pw(pfn);
    if (this.ptr === 8) {
      a[i + word] = ptr64LoWord(v);
      a[i + word + 1] = ptr64HiWord(v);
    } else {
      a[i + word] = v | 0;
    }
  }

  private inuse(pfn: number): number {
    const [a, i] = this.pw(pfn);
    return a[i + this.wCounters] & 0xffff;
  }

  private setInuse(pfn: number, v: number): void {
    const [a, i] = this.pw(pfn);
    a[i + this.wCounters] = (a[i + this.wCounters] & ~0xffff) | v;
  }

  private owner(pfn: number): number {
    const [a, i] = this.pw(pfn);
    return (a[i + this.wCounters] >>> 16) & 0x7fff;
  }

  private pageList(s: number, pfn: number): number {
    return this.listOf(s, this.owner(pfn));
  }

  private slabList(pfn: number): number {
    return this.d.pages.pfn_to_page(pfn) + this.slabListOff;
  }

  private pfnOfList(pos: number): number {
    return this.d.pages.page_to_pfn(pos - this.slabListOff);
  }

  private base(pfn: number): number {
    return this.po + pfn * PAGE_SIZE;
  }

  slab_cache(pfn: number): number {
    return this.getPtrW(pfn, this.wSlabCache);
  }

  folioPfn(va: number): number {
    const pfn = Math.floor((va - this.po) / PAGE_SIZE);
    if (!this.d.pages.PageTail(pfn)) return pfn;
    return this.d.pages.page_to_pfn(this.d.kaddr.readPtr(this.d.pages.lru(pfn)) - 1);
  }

  isSlab(pfn: number): boolean {
    return this.d.pages.page_type(pfn) >>> 24 === PGTY_slab;
  }

  /* sizing --------------------------------------------------------------- */

  /** slab_order() (SLUB's, as SLQB had it). */
  private slab_order(size: number, minObjects: number, maxOrder: number, fract: number): number {
    if (PAGE_SIZE / size > MAX_OBJS) return 0;
    let order = Math.max(0, Math.ceil(Math.log2(Math.max(1, minObjects * size) / PAGE_SIZE)));
    for (; order <= maxOrder; order++) {
      const slabSize = PAGE_SIZE << order;
      if (slabSize < minObjects * size) continue;
      if (slabSize % size <= slabSize / fract) break;
    }
    return order;
  }

  /** calculate_order() */
  private calculate_order(size: number): number {
    let minObjects = 4 * (Math.floor(Math.log2(this.d.nrCpus)) + 2);
    while (minObjects > 1) {
      for (let fract = 8; fract >= 4; fract /= 2) {
        const order = this.slab_order(size, minObjects, SLQB_MAX_ORDER, fract);
        if (order <= SLQB_MAX_ORDER) return order;
      }
      minObjects >>= 1;
    }
    const order = this.slab_order(size, 1, SLQB_MAX_ORDER, 1);
    return order <= SLQB_MAX_ORDER ? order : -1;
  }

  /* caches -------------------------------------------------------------- */

  kmem_cache_init(): void {
    const common = this.common;
    this.rcuFree = this.d.kallsyms.register('slqb_rcu_free', (head) => this.rcu_free_slab(head));
    // kmem_cache_cache: in an early page for good
    const boot = this.po + this.d.buddy.__alloc_pages(GFP_NOWAIT, 0, -1) * PAGE_SIZE;
    this.d.mem.fill(boot - this.po, PAGE_SIZE, 0);
    common.kmem_cache = boot;
    common.create_boot_cache(boot, common.rodataString('kmem_cache'), this.kmemCacheBytes, SLAB_HWCACHE_ALIGN, 0, 0);
    common.link_cache(boot);
    common.create_kmalloc_caches();
  }

  do_kmem_cache_create(s: number, name: number, objectSize: number, args: KmemCacheArgs, flags: number): number {
    const pa = s - this.po;
    this.w.wptr(pa + this.C.name, name);
    this.set32(s, this.C.object_size, objectSize);
    this.set32(s, this.C.useroffset, args.useroffset);
    this.set32(s, this.C.usersize, args.usersize);
    this.w.wptr(pa + this.C.ctor, args.ctor);
    this.set32(s, this.C.flags, flags >>> 0);
    // calculate_sizes(), SLUB's without debugging
    let size = Math.ceil(objectSize / this.ptr) * this.ptr;
    this.set32(s, this.C.inuse, size);
    let offset = 0;
    if ((flags & SLAB_TYPESAFE_BY_RCU) || args.ctor !== 0) {
      offset = size;
      size += this.ptr;
    }
    const align = Math.max(this.ptr, args.align);
    this.set32(s, this.C.align, align);
    size = Math.ceil(size / align) * align;
    this.set32(s, this.C.offset, offset);
    this.set32(s, this.C.size_, size);
    const order = this.calculate_order(size);
    if (order < 0) return -E2BIG;
    const objects = Math.min(MAX_OBJS, Math.floor((PAGE_SIZE << order) / size));
    if (objects === 0) return -E2BIG;
    this.set32(s, this.C.order, order);
    this.set32(s, this.C.objects, objects);
    const freebatch = Math.max(1, Math.max(Math.floor(4 * PAGE_SIZE / size), Math.min(256, Math.floor(64 * PAGE_SIZE / size))));
    this.set32(s, this.C.freebatch, freebatch);
    this.set32(s, this.C.hiwater, freebatch << 2);
    this.set32(s, this.C.colour_off, Math.max(this.d.layout.cacheLine, align));
    this.set32(s, this.C.colour_range, ((PAGE_SIZE << order) % size));
    let allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) allocflags |= __GFP_DMA;
    if (flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    this.set32(s, this.C.allocflags, allocflags);
    // alloc_kmem_cache_cpus(), alloc_kmem_cache_nodes()
    const pcp = this.d.percpu.__alloc_percpu(this.CPU.size, this.ptr, true);
    if (pcp === 0) return -ENOMEM;
    this.wp(s + this.C.cpu_slab, pcp);
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const c = this.cpuSlab(s, cpu);
      this.d.mem.fill(c - this.po, this.CPU.size, 0);
      this.init_list(s, c + this.CPU.list);
    }
    for (let node = 0; node < this.d.nrNodes; node++) {
      const n = this.alloc_node_struct(node);
      if (n === 0) return -ENOMEM;
      this.init_list(s, n + this.N.list);
      this.wp(s + this.C.node_slab + node * this.ptr, n);
    }
    return 0;
  }

  private init_list(s: number, l: number): void {
    this.d.mem.fill(l - this.po, this.L.size, 0);
    this.wp(l + this.L.cache, s);
    INIT_LIST_HEAD(this.d.kaddr, l + this.L.partial);
  }

  /** A kmem_cache_node: kmalloc'd once kmalloc can, else from an early page. */
  private alloc_node_struct(node: number): number {
    let n = 0;
    if (this.common.slab_state >= FULL - 1 && this.common.kmalloc_slab(this.N.size, GFP_KERNEL) !== 0) {
      n = this.common.__kmalloc_node(this.N.size, GFP_KERNEL, node);
    } else {
      const sz = Math.ceil(this.N.size / 64) * 64;
      if (this.earlyLeft < sz) {
        const pfn = this.d.buddy.__alloc_pages(GFP_NOWAIT, 0, -1);
        if (pfn < 0) return 0;
        this.earlyNodes = this.po + pfn * PAGE_SIZE;
        this.earlyLeft = PAGE_SIZE;
      }
      n = this.earlyNodes;
      this.earlyNodes += sz;
      this.earlyLeft -= sz;
    }
    if (n !== 0) this.d.mem.fill(n - this.po, this.N.size, 0);
    return n;
  }

  /* allocation ------------------------------------------------------------ */

  /** __cache_list_get_object(): the LIFO freelist, claiming the remote-free queue when flagged. */
  private get_object(s: number, l: number): number {
    const obj = this.rp(l + this.L.fl_head);
    if (obj !== 0) {
      this.wp(l + this.L.fl_head, this.get_freepointer(s, obj));
      this.addUl(l + this.L.fl_nr, -1);
      if (this.ul(l + this.L.fl_nr) === 0) this.wp(l + this.L.fl_tail, 0);
      return obj;
    }
    if (this.u32(l, this.L.remote_free_check)) {
      this.claim_remote_free_list(s, l);
      if (this.ul(l + this.L.fl_nr) !== 0) return this.get_object(s, l);
    }
    return 0;
  }

  /** __cache_list_get_page(): an object from the first partial slab. */
  private get_page_object(s: number, l: number): number {
    if (this.ul(l + this.L.nr_partial) === 0) return 0;
    const pfn = this.pfnOfList(this.rp(l + this.L.partial));
    const objects = this.u32(s, this.C.objects);
    const inuse = this.inuse(pfn);
    if (inuse + 1 === objects) {
      this.addUl(l + this.L.nr_partial, -1);
      list_del(this.d.kaddr, this.slabList(pfn));
    }
    this.setInuse(pfn, inuse + 1);
    const obj = this.getPtrW(pfn, this.wFreelist);
    this.setPtrW(pfn, this.wFreelist, this.get_freepointer(s, obj));
    return obj;
  }

  /** allocate_slab() + __slab_alloc_page(): a new slab on list l (owner id), its first object; 0 on failure. */
  private alloc_page_object(s: number, gfp: number, node: number, l: number, owner: number, c: number): number {
    const order = this.u32(s, this.C.order);
    const flags = this.u32(s, this.C.flags) >>> 0;
    const pfn = this.d.buddy.__alloc_pages((gfp & ~__GFP_ZERO) | this.u32(s, this.C.allocflags), order, node);
    if (pfn < 0) return 0;
    this.d.pages.setType(pfn, PGTY_slab);
    const item = flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B;
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), item, PAGE_SIZE << order);
    if (c !== 0) {
      // colour_next advances as SLQB's did; objects are not offset (no colouring in kmem)
      const next = this.u32(c, this.CPU.colour_next) + this.u32(s, this.C.colour_off);
      this.set32(c, this.CPU.colour_next, next >= this.u32(s, this.C.colour_range) ? 0 : next);
    }
    this.setPtrW(pfn, this.wSlabCache, s);
    const [a, i] = this.pw(pfn);
    a[i + this.wCounters] = owner << 16;
    // setup_object() each, chained in address order
    const size = this.u32(s, this.C.size_);
    const objects = this.u32(s, this.C.objects);
    const ctor = this.w.rptr(s - this.po + this.C.ctor);
    const start = this.base(pfn);
    for (let j = 0; j < objects; j++) {
      const obj = start + j * size;
      if (ctor !== 0) this.d.kallsyms.call(ctor, obj);
      this.set_freepointer(s, obj, j + 1 < objects ? obj + size : 0);
    }
    INIT_LIST_HEAD(this.d.kaddr, this.slabList(pfn));
    this.addUl(l + this.L.nr_slabs, 1);
    this.setInuse(pfn, 1);
    this.setPtrW(pfn, this.wFreelist, this.get_freepointer(s, start));
    if (objects > 1) {
      list_add(this.d.kaddr, this.slabList(pfn), l + this.L.partial);
      this.addUl(l + this.L.nr_partial, 1);
    }
    return start;
  }

  slab_alloc_node(s: number, gfp: number, node: number): number {
    const cpu = this.d.sched.cpu;
    if (node >= 0 && node !== this.numaNode()) return this.remote_slab_alloc(s, gfp, node);
    const c = this.cpuSlab(s, cpu);
    const l = c + this.CPU.list;
    let obj = this.get_object(s, l);
    if (obj === 0) obj = this.get_page_object(s, l);
    if (obj === 0) obj = this.alloc_page_object(s, gfp, -1, l, 1 + cpu, c);
    if (obj === 0 && this.d.nrNodes > 1) {
      // __slab_alloc(): try_remote on the local node's list failed too; any node
      for (let nd = 0; nd < this.d.nrNodes && obj === 0; nd++) if (nd !== this.numaNode()) obj = this.remote_slab_alloc(s, gfp, nd);
    }
    return obj;
  }

  /** __remote_slab_alloc(): from a node's list (under its list_lock). */
  private remote_slab_alloc(s: number, gfp: number, node: number): number {
    const l = this.nodeSlab(s, node) + this.N.list;
    let obj = this.get_object(s, l);
    if (obj === 0) obj = this.get_page_object(s, l);
    if (obj === 0) obj = this.alloc_page_object(s, gfp, node, l, 1 + this.d.nrCpus + node, 0);
    return obj;
  }

  /* free ------------------------------------------------------------------ */

  /** free_object_to_page(): true if the slab was freed. */
  private free_object_to_page(s: number, l: number, pfn: number, obj: number): boolean {
    this.set_freepointer(s, obj, this.getPtrW(pfn, this.wFreelist));
    this.setPtrW(pfn, this.wFreelist, obj);
    const inuse = this.inuse(pfn) - 1;
    this.setInuse(pfn, inuse);
    const objects = this.u32(s, this.C.objects);
    if (inuse === 0) {
      if (objects > 1) {
        this.addUl(l + this.L.nr_partial, -1);
        list_del(this.d.kaddr, this.slabList(pfn));
      }
      this.addUl(l + this.L.nr_slabs, -1);
      this.free_slab(s, pfn);
      return true;
    }
    if (inuse + 1 === objects) {
      // no ordering: a slab that becomes partial goes to the head
      this.addUl(l + this.L.nr_partial, 1);
      list_add(this.d.kaddr, this.slabList(pfn), l + this.L.partial);
    }
    return false;
  }

  private free_slab(s: number, pfn: number): void {
    if (this.u32(s, this.C.flags) & SLAB_TYPESAFE_BY_RCU) {
      this.d.rcu.call_rcu(this.slabList(pfn), this.rcuFree);
    } else {
      this.__free_slab(s, pfn);
    }
  }

  private rcu_free_slab(head: number): number {
    const pfn = this.pfnOfList(head);
    this.__free_slab(this.slab_cache(pfn), pfn);
    return 0;
  }

  private __free_slab(s: number, pfn: number): void {
    const order = this.u32(s, this.C.order);
    const item = (this.u32(s, this.C.flags) & SLAB_RECLAIM_ACCOUNT) ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B;
    const [a, i] = this.pw(pfn);
    a[i + this.wCounters] = 0;
    this.setPtrW(pfn, this.wFreelist, 0);
    const m = i + (this.d.pages.pl.mapping >> 2);
    a[m] = 0;
    if (this.ptr === 8) a[m + 1] = 0;
    this.d.pages.clearType(pfn);
    this.d.sched.mm_account_reclaimed_pages(1 << order);
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), item, -(PAGE_SIZE << order));
    this.d.buddy.__free_pages(pfn, order);
  }

  /** flush_free_list(): up to max objects (freebatch) off the head of l's freelist, on CPU cpu. */
  private flush_free_list(s: number, l: number, cpu: number, max = this.u32(s, this.C.freebatch)): void {
    let nr = Math.min(max, this.ul(l + this.L.fl_nr));
    if (nr === 0) return;
    this.addUl(l + this.L.fl_nr, -nr);
    let head = this.rp(l + this.L.fl_head);
    while (nr-- > 0) {
      const obj = head;
      head = this.get_freepointer(s, obj);
      const pfn = this.folioPfn(obj);
      const pl = this.pageList(s, pfn);
      if (pl !== l) this.slab_free_to_remote(s, pfn, obj, cpu);
      else this.free_object_to_page(s, l, pfn, obj);
    }
    this.wp(l + this.L.fl_head, head);
    if (this.ul(l + this.L.fl_nr) === 0) this.wp(l + this.L.fl_tail, 0);
  }

  /** slab_free_to_remote(): queue obj on cpu's rlist for the list that owns its slab. */
  private slab_free_to_remote(s: number, pfn: number, obj: number, cpu: number): void {
    const c = this.cpuSlab(s, cpu);
    const dst = this.pageList(s, pfn);
    if (dst !== this.rp(c + this.CPU.remote_cache_list)) {
      this.flush_remote_free_cache(s, c);
      this.wp(c + this.CPU.remote_cache_list, dst);
    }
    if (this.rp(c + this.CPU.rl_head) === 0) this.wp(c + this.CPU.rl_head, obj);
    else this.set_freepointer(s, this.rp(c + this.CPU.rl_tail), obj);
    this.set_freepointer(s, obj, 0);
    this.wp(c + this.CPU.rl_tail, obj);
    this.addUl(c + this.CPU.rl_nr, 1);
    this.stats.remote_queued++;
    if (this.ul(c + this.CPU.rl_nr) >= this.u32(s, this.C.freebatch)) this.flush_remote_free_cache(s, c);
  }

  /** flush_remote_free_cache(): the rlist onto its list's remote_free queue. */
  private flush_remote_free_cache(s: number, c: number): void {
    const nr = this.ul(c + this.CPU.rl_nr);
    if (nr === 0) return;
    const dst = this.rp(c + this.CPU.remote_cache_list);
    const head = this.rp(c + this.CPU.rl_head);
    if (this.rp(dst + this.L.rf_head) === 0) this.wp(dst + this.L.rf_head, head);
    else this.set_freepointer(s, this.rp(dst + this.L.rf_tail), head);
    this.wp(dst + this.L.rf_tail, this.rp(c + this.CPU.rl_tail));
    this.wp(c + this.CPU.rl_head, 0);
    this.wp(c + this.CPU.rl_tail, 0);
    this.setUl(c + this.CPU.rl_nr, 0);
    const batch = this.u32(s, this.C.freebatch);
    const was = this.ul(dst + this.L.rf_nr);
    this.setUl(dst + this.L.rf_nr, was + nr);
    if (was < batch && was + nr >= batch) this.set32(dst, this.L.remote_free_check, 1);
    this.stats.remote_flushes++;
  }

  /** claim_remote_free_list(): the remote-free queue onto the tail of the freelist. */
  private claim_remote_free_list(s: number, l: number): void {
    const nr = this.ul(l + this.L.rf_nr);
    this.set32(l, this.L.remote_free_check, 0);
    if (nr === 0) return;
    const head = this.rp(l + this.L.rf_head);
    const tail = this.rp(l + this.L.rf_tail);
    this.wp(l + this.L.rf_head, 0);
    this.wp(l + this.L.rf_tail, 0);
    this.setUl(l + this.L.rf_nr, 0);
    if (this.ul(l + this.L.fl_nr) === 0) this.wp(l + this.L.fl_head, head);
    else this.set_freepointer(s, this.rp(l + this.L.fl_tail), head);
    this.wp(l + this.L.fl_tail, tail);
    this.addUl(l + this.L.fl_nr, nr);
    this.stats.remote_claimed += nr;
  }

  /** __slab_free() */
  private cache_free(s: number, obj: number): void {
    const cpu = this.d.sched.cpu;
    const pfn = this.folioPfn(obj);
    if (this.d.pages.page_to_nid(pfn) !== this.numaNode(cpu)) {
      this.slab_free_to_remote(s, pfn, obj, cpu);
      return;
    }
    const l = this.cpuSlab(s, cpu) + this.CPU.list;
    this.set_freepointer(s, obj, this.rp(l + this.L.fl_head));
    this.wp(l + this.L.fl_head, obj);
    if (this.ul(l + this.L.fl_nr) === 0) this.wp(l + this.L.fl_tail, obj);
    this.addUl(l + this.L.fl_nr, 1);
    if (this.ul(l + this.L.fl_nr) > this.u32(s, this.C.hiwater)) this.flush_free_list(s, l, cpu);
  }

  slab_free_object(s: number, x: number): boolean {
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const cachep = this.slab_cache(pfn);
    if (s !== 0 && cachep !== s) this.common.wrong_cache(s, cachep);
    const size = this.u32(cachep, this.C.size_);
    const off = x - this.base(pfn);
    if (off < 0 || off % size !== 0 || off / size >= this.u32(cachep, this.C.objects)) return true;
    this.cache_free(cachep, x);
    return true;
  }

  alloc_bulk(s: number, gfp: number, size: number, p: number): number {
    for (let i = 0; i < size; i++) {
      const x = this.slab_alloc_node(s, gfp, -1);
      if (x === 0) {
        for (let j = 0; j < i; j++) this.cache_free(s, this.w.rptr(p - this.po + j * this.ptr));
        return 0;
      }
      this.w.wptr(p - this.po + i * this.ptr, x);
    }
    return size;
  }

  free_bulk(s: number, size: number, p: number): void {
    for (let i = 0; i < size; i++) {
      const x = this.w.rptr(p - this.po + i * this.ptr);
      if (x === 0 || x === ZERO_SIZE_PTR) continue;
      if (!this.slab_free_object(s, x) && s === 0) this.common.free_large_kmalloc(this.folioPfn(x), x);
    }
  }

  /* shrinking ----------------------------------------------------------------- */

  /** Every list of s: the CPUs', then the nodes'. */
  private lists(s: number): number[] {
    const out: number[] = [];
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) out.push(this.cpuSlab(s, cpu) + this.CPU.list);
    for (let node = 0; node < this.d.nrNodes; node++) {
      const n = this.nodeSlab(s, node);
      if (n !== 0) out.push(n + this.N.list);
    }
    return out;
  }

  /**
   * kmem_cache_shrink() (SLQB's flush_free_list_all(), flush_remote_free_cache()
   * and claim_remote_free_list() on every CPU and node list): every queued
   * object back in its slab, empty slabs freed on the way.
   */
  private drain_all(s: number): void {
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const c = this.cpuSlab(s, cpu);
      this.flush_free_list(s, c + this.CPU.list, cpu, Infinity);
      this.flush_remote_free_cache(s, c);
    }
    // node lists' freelists hold only their own slabs' objects; a CPU id is needed only for strays
    const any = this.d.sched.cpu;
    for (let pass = 0; pass < 3; pass++) {
      for (const l of this.lists(s)) {
        this.claim_remote_free_list(s, l);
        this.flush_free_list(s, l, any, Infinity);
      }
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) this.flush_remote_free_cache(s, this.cpuSlab(s, cpu));
    }
  }

  __kmem_cache_shrink(s: number): number {
    this.drain_all(s);
    return this.lists(s).some((l) => this.ul(l + this.L.nr_slabs) !== 0) ? 1 : 0;
  }

  __kmem_cache_shutdown(s: number): number {
    return this.__kmem_cache_shrink(s);
  }

  __kmem_cache_release(s: number): void {
    const pcp = this.rp(s + this.C.cpu_slab);
    if (pcp !== 0) this.d.percpu.free_percpu(pcp);
    this.wp(s + this.C.cpu_slab, 0);
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.nodeSlab(s, nid);
      if (n !== 0 && this.isSlab(this.folioPfn(n))) this.common.kfree(n);
      this.wp(s + this.C.node_slab + nid * this.ptr, 0);
    }
  }

  /* /proc/slabinfo -------------------------------------------------------------- */

  /** Free objects on a chain of free pointers. */
  private chainLength(s: number, head: number): number {
    let n = 0;
    for (let o = head; o !== 0; o = this.get_freepointer(s, o)) n++;
    return n;
  }

  get_slabinfo(s: number, out: SlabInfo): void {
    const objects = this.u32(s, this.C.objects);
    let slabs = 0;
    let free = 0;
    const k = this.d.kaddr;
    for (const l of this.lists(s)) {
      slabs += this.ul(l + this.L.nr_slabs);
      free += this.ul(l + this.L.fl_nr) + this.ul(l + this.L.rf_nr);
      for (let pos = k.readPtr(l + this.L.partial); pos !== l + this.L.partial; pos = k.readPtr(pos)) {
        free += objects - this.inuse(this.pfnOfList(pos));
      }
    }
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) free += this.ul(this.cpuSlab(s, cpu) + this.CPU.rl_nr);
    out.num_objs = slabs * objects;
    out.active_objs = out.num_objs - free;
    out.active_slabs = slabs;
    out.num_slabs = slabs;
    out.shared_avail = 0;
    out.limit = this.u32(s, this.C.hiwater);
    out.batchcount = this.u32(s, this.C.freebatch);
    out.shared = 0;
    out.objects_per_slab = objects;
    out.cache_order = this.u32(s, this.C.order);
  }

  /* the rest of the interface ---------------------------------------------------- */

  slab_ksize(s: number): number {
    const flags = this.u32(s, this.C.flags);
    if ((flags & SLAB_TYPESAFE_BY_RCU) || this.w.rptr(s - this.po + this.C.ctor) !== 0) return this.u32(s, this.C.inuse);
    return this.u32(s, this.C.size_);
  }

  object_is_free(s: number, slabPfn: number, obj: number): boolean {
    const onChain = (head: number) => {
      for (let o = head; o !== 0; o = this.get_freepointer(s, o)) if (o === obj) return true;
      return false;
    };
    if (this.inuse(slabPfn) < this.u32(s, this.C.objects) && onChain(this.getPtrW(slabPfn, this.wFreelist))) return true;
    for (const l of this.lists(s)) if (onChain(this.rp(l + this.L.fl_head)) || onChain(this.rp(l + this.L.rf_head))) return true;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) if (onChain(this.rp(this.cpuSlab(s, cpu) + this.CPU.rl_head))) return true;
    return false;
  }

  kmem_cache_flags(flags: number): number {
    return flags;
  }

  skip_orig_size_check(): void {
    /* no slab debugging */
  }

  maybe_wipe_obj_freeptr(s: number, obj: number): void {
    if (obj !== 0) this.wp(obj + this.u32(s, this.C.offset), 0);
  }

  validate_slab_cache(): number {
    return 0;
  }

  /* for tests ------------------------------------------------------------------------ */

  /** The slab at pfn as the tests' census reads it (SLUB's slabState() shape). */
  slabState(pfn: number): { inuse: number; objects: number; frozen: boolean } {
    return { inuse: this.inuse(pfn), objects: this.u32(this.slab_cache(pfn), this.C.objects), frozen: false };
  }

  /** The owner of the slab at pfn: { cpu } or { node }. */
  slabOwner(pfn: number): { cpu: number } | { node: number } {
    const o = this.owner(pfn);
    return o <= this.d.nrCpus ? { cpu: o - 1 } : { node: o - 1 - this.d.nrCpus };
  }

  /** A CPU's list of s (node: a node's list instead). */
  listState(s: number, where: { cpu: number } | { node: number }): SlqbListState {
    const l = 'cpu' in where ? this.cpuSlab(s, where.cpu) + this.CPU.list : this.nodeSlab(s, where.node) + this.N.list;
    return {
      freelist: this.ul(l + this.L.fl_nr), remote_free: this.ul(l + this.L.rf_nr),
      remote_free_check: this.u32(l, this.L.remote_free_check) !== 0,
      nr_partial: this.ul(l + this.L.nr_partial), nr_slabs: this.ul(l + this.L.nr_slabs),
    };
  }

  /** A CPU's rlist: objects queued, and for which CPU's list (-1 none or a node list). */
  rlist(s: number, cpu: number): { nr: number; owner_cpu: number } {
    const c = this.cpuSlab(s, cpu);
    const dst = this.rp(c + this.CPU.remote_cache_list);
    let owner = -1;
    for (let o = 0; o < this.d.nrCpus; o++) if (dst !== 0 && this.cpuSlab(s, o) + this.CPU.list === dst) owner = o;
    return { nr: this.ul(c + this.CPU.rl_nr), owner_cpu: owner };
  }

  tunables(s: number): { hiwater: number; freebatch: number; objects: number; order: number } {
    return {
      hiwater: this.u32(s, this.C.hiwater), freebatch: this.u32(s, this.C.freebatch),
      objects: this.u32(s, this.C.objects), order: this.u32(s, this.C.order),
    };
  }

  /** Objects on the freelist chain of l (for tests: the counters agree with the chain). */
  chain(s: number, where: { cpu: number }): number {
    return this.chainLength(s, this.rp(this.cpuSlab(s, where.cpu) + this.CPU.list + this.L.fl_head));
  }
}
