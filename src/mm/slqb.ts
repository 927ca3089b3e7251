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
 *    other CPUs freed that belong to this list's slabs; then stat[]
 *    (below).
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
 *    freelist and queue. Not writable (-EIO, as SLUB's): the patches'
 *    tunables were, as remembered, the sysfs attributes
 *    /sys/kernel/slab/<cache>/hiwater and freebatch, and kmem has no sysfs.
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
 * SMP, as the patches locked it: a CPU's kmem_cache_cpu (its list, its
 * rlist) is touched only by that CPU, with interrupts off
 * (local_irq_save() in slab_alloc()/slab_free(), re-enabled around the
 * page allocator when the gfp allows blocking); another CPU reaches a
 * list only through its remote_free queue, under remote_free.lock (taken
 * by flush_remote_free_cache() to append, by claim_remote_free_list() to
 * take the whole queue); a node's list is used under its kmem_cache_node
 * list_lock (then remote_free.lock inside it). kmem_cache_shrink() runs
 * the per-CPU trim as each CPU (on_each_cpu(), the CPUs this host thread
 * drives), then the node lists under their locks.
 *
 * Statistics: CONFIG_SLQB_STATS's per-list stat[] counters, three of
 * them (names as remembered from the patches): FLUSH_FREE_LIST_REMOTE
 * (objects this list's CPU queued for other lists), FLUSH_RFREE_LIST
 * (rlist flushes onto an owner's queue), CLAIM_REMOTE_LIST_OBJECTS
 * (objects this list claimed back). Each is bumped only by the list's
 * owner, so no atomics.
 *
 * SLQB's statics (the kernel's .bss): the boot kmem_cache_node pieces' cut
 * point (slab_pages.ts), then SLQB's jiffies (ms, advanced by reap_tick)
 * and each CPU's next cache_trim_worker time (ulong next_trim[nr_cpus]).
 * The slqb_rcu_free callback's code address is registered at boot, the
 * same in every thread's boot, so it stays a JS field.
 *
 * The periodic cache_trim_worker() (every 3 s per CPU, as remembered;
 * skipped when slab_mutex is taken, for the patches' down_read_trylock of
 * slqb_lock) runs on the simulated timer (reap_tick(ms), which kmem
 * replay drives with the trace's time): on each CPU, for each cache, its
 * node's list (remote queue claimed, one freebatch flushed, under
 * list_lock) and its own list (kmem_cache_trim_percpu(): remote queue
 * claimed, one freebatch flushed, rlist flushed).
 *
 * Not modelled: slab colouring (objects start at the page), CPU hotplug,
 * SLQB's debugging (it had SLUB's), the rest of its statistics, per-CPU
 * structures allocated per node (kmem uses the percpu allocator for
 * kmem_cache_cpu), cross-CPU calls to CPUs another host thread drives.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { VaWords, type RamWords } from '../machine/ram_words.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { local_irq_restore, local_irq_save, on_each_cpu } from '../kernel/irqflags.ts';
import { PerCpuTimer } from '../kernel/percpu_timer.ts';
import { INIT_LIST_HEAD, list_add, list_del } from '../lib/list.ts';
import { GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../include/linux/slab.ts';
import type { SlabCommon } from './slab_common.ts';
import type { SlabDeps } from './slab.ts';
import { SlabPages } from './slab_pages.ts';
import { FULL, type KmemCacheArgs, type KmemCacheCommon, type SlabAllocator, type SlabInfo } from './slab_types.ts';

const SLQB_MAX_ORDER = 3; // PAGE_ALLOC_COSTLY_ORDER
const MAX_OBJS = 0xffff; // inuse is 16 bits
const ENOMEM = 12;
const E2BIG = 7;
/* stat[] items kmem counts (CONFIG_SLQB_STATS) */
const FLUSH_FREE_LIST_REMOTE = 0;
const FLUSH_RFREE_LIST = 1;
const CLAIM_REMOTE_LIST_OBJECTS = 2;
const NR_SLQB_STAT_ITEMS = 3;
/** cache_trim_worker's period, ms */
const TRIM_INTERVAL = 3000;

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

/** SLQB's statics (see the header). */
function staticsLayout(ptrSize: 4 | 8, nrCpus: number) {
  return defineStruct(ptrSize, [
    ['early', { size: SlabPages.earlyBytes(ptrSize), align: ptrSize }],
    ['jiffies', 'ulong'],
    ['next_trim', 'ulong', nrCpus],
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
    ['stat', 'ulong', NR_SLQB_STAT_ITEMS],
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
  private readonly S: ReturnType<typeof staticsLayout>;
  /** cache_trim_worker's timer, and the work itself. */
  private readonly timer: PerCpuTimer;
  private readonly trimWork = () => this.cache_trim_worker();
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly w: RamWords;
  /** Fields by kernel virtual address. */
  private readonly v: VaWords;
  private readonly sp: SlabPages;
  /** slqb_rcu_free's code address (registered at boot, the same in every thread). */
  private rcuFree = 0;

  constructor(private readonly d: SlabDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    this.w = d.words;
    this.v = new VaWords(d.words, this.po);
    this.C = cacheLayout(this.ptr);
    this.L = listLayout(this.ptr);
    this.CPU = cpuLayout(this.ptr, this.L.size);
    this.N = nodeLayout(this.ptr, this.L.size);
    this.cache = this.C;
    this.kmemCacheBytes = this.C.node_slab + d.nrNodes * this.ptr;
    this.S = staticsLayout(this.ptr, d.nrCpus);
    this.sp = new SlabPages(d, common, d.staticsPa + this.S.early);
    this.timer = new PerCpuTimer(d.words, d.sched, d.smp, d.nrCpus, d.staticsPa + this.S.jiffies, d.staticsPa + this.S.next_trim,
      TRIM_INTERVAL);
  }

  static staticBytes(ptrSize: 4 | 8, nrCpus: number): number {
    return staticsLayout(ptrSize, nrCpus).size;
  }

  /* fields -------------------------------------------------------------- */








  /** slqb_stat_inc(l, item) by n */
  private stat(l: number, item: number, n: number): void {
    this.v.addUl(l + this.L.stat + item * this.ptr, n);
  }

  /** n->list_lock's physical address. */
  private nodeLock(n: number): number {
    return n - this.po + this.N.list_lock;
  }

  private numaNode(cpu = this.d.sched.cpu): number {
    return this.d.cpuToNode[cpu] ?? 0;
  }

  /** get_cpu_slab(s, cpu) */
  private cpuSlab(s: number, cpu: number): number {
    return this.po + this.d.percpu.per_cpu_ptr_pa(this.v.rp(s + this.C.cpu_slab), cpu);
  }

  private nodeSlab(s: number, node: number): number {
    return this.v.rp(s + this.C.node_slab + node * this.ptr);
  }

  /** The kmem_cache_list of an owner id (1 + cpu, or 1 + nr_cpus + node). */
  private listOf(s: number, owner: number): number {
    return owner <= this.d.nrCpus ? this.cpuSlab(s, owner - 1) + this.CPU.list : this.nodeSlab(s, owner - 1 - this.d.nrCpus) + this.N.list;
  }

  private get_freepointer(s: number, obj: number): number {
    return this.v.rp(obj + this.v.u32(s, this.C.offset));
  }

  private set_freepointer(s: number, obj: number, v: number): void {
    this.v.wp(obj + this.v.u32(s, this.C.offset), v);
  }

  /* struct slqb_page ------------------------------------------------------ */

  private inuse(pfn: number): number {
    return this.sp.inuse(pfn);
  }

  private setInuse(pfn: number, v: number): void {
    this.sp.setInuse(pfn, v);
  }

  private owner(pfn: number): number {
    return (this.sp.counters(pfn) >>> 16) & 0x7fff;
  }

  private pageList(s: number, pfn: number): number {
    return this.listOf(s, this.owner(pfn));
  }

  private base(pfn: number): number {
    return this.po + pfn * PAGE_SIZE;
  }

  slab_cache(pfn: number): number {
    return this.sp.slab_cache(pfn);
  }

  folioPfn(va: number): number {
    return this.sp.folioPfn(va);
  }

  isSlab(pfn: number): boolean {
    return this.sp.isSlab(pfn);
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
    this.d.mem.fill(this.d.staticsPa, this.S.size, 0);
    this.timer.init();
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
    this.v.set32(s, this.C.object_size, objectSize);
    this.v.set32(s, this.C.useroffset, args.useroffset);
    this.v.set32(s, this.C.usersize, args.usersize);
    this.w.wptr(pa + this.C.ctor, args.ctor);
    this.v.set32(s, this.C.flags, flags >>> 0);
    // calculate_sizes(), SLUB's without debugging
    let size = Math.ceil(objectSize / this.ptr) * this.ptr;
    this.v.set32(s, this.C.inuse, size);
    let offset = 0;
    if ((flags & SLAB_TYPESAFE_BY_RCU) || args.ctor !== 0) {
      offset = size;
      size += this.ptr;
    }
    const align = Math.max(this.ptr, args.align);
    this.v.set32(s, this.C.align, align);
    size = Math.ceil(size / align) * align;
    this.v.set32(s, this.C.offset, offset);
    this.v.set32(s, this.C.size_, size);
    const order = this.calculate_order(size);
    if (order < 0) return -E2BIG;
    const objects = Math.min(MAX_OBJS, Math.floor((PAGE_SIZE << order) / size));
    if (objects === 0) return -E2BIG;
    this.v.set32(s, this.C.order, order);
    this.v.set32(s, this.C.objects, objects);
    const freebatch = Math.max(1, Math.max(Math.floor(4 * PAGE_SIZE / size), Math.min(256, Math.floor(64 * PAGE_SIZE / size))));
    this.v.set32(s, this.C.freebatch, freebatch);
    this.v.set32(s, this.C.hiwater, freebatch << 2);
    this.v.set32(s, this.C.colour_off, Math.max(this.d.layout.cacheLine, align));
    this.v.set32(s, this.C.colour_range, ((PAGE_SIZE << order) % size));
    let allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) allocflags |= __GFP_DMA;
    if (flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    this.v.set32(s, this.C.allocflags, allocflags);
    // alloc_kmem_cache_cpus(), alloc_kmem_cache_nodes()
    const pcp = this.d.percpu.__alloc_percpu(this.CPU.size, this.ptr, true);
    if (pcp === 0) return -ENOMEM;
    this.v.wp(s + this.C.cpu_slab, pcp);
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const c = this.cpuSlab(s, cpu);
      this.d.mem.fill(c - this.po, this.CPU.size, 0);
      this.init_list(s, c + this.CPU.list);
    }
    for (let node = 0; node < this.d.nrNodes; node++) {
      const n = this.alloc_node_struct(node);
      if (n === 0) return -ENOMEM;
      this.init_list(s, n + this.N.list);
      this.d.locks.spin_lock_init(this.nodeLock(n));
      this.v.wp(s + this.C.node_slab + node * this.ptr, n);
    }
    return 0;
  }

  private init_list(s: number, l: number): void {
    this.d.mem.fill(l - this.po, this.L.size, 0);
    this.v.wp(l + this.L.cache, s);
    this.d.locks.spin_lock_init(l - this.po + this.L.rf_lock);
    INIT_LIST_HEAD(this.d.kaddr, l + this.L.partial);
  }

  /** A kmem_cache_node: kmalloc'd once kmalloc can, else an early piece. */
  private alloc_node_struct(node: number): number {
    if (this.common.slab_state >= FULL - 1 && this.common.kmalloc_slab(this.N.size, GFP_KERNEL) !== 0) {
      const n = this.common.__kmalloc_node(this.N.size, GFP_KERNEL, node);
      if (n !== 0) this.d.mem.fill(n - this.po, this.N.size, 0);
      return n;
    }
    return this.sp.earlyNode(this.N.size);
  }

  /* allocation ------------------------------------------------------------ */

  /** __cache_list_get_object(): the LIFO freelist, claiming the remote-free queue when flagged. */
  private get_object(s: number, l: number): number {
    const obj = this.v.rp(l + this.L.fl_head);
    if (obj !== 0) {
      this.v.wp(l + this.L.fl_head, this.get_freepointer(s, obj));
      this.v.addUl(l + this.L.fl_nr, -1);
      if (this.v.ul(l + this.L.fl_nr) === 0) this.v.wp(l + this.L.fl_tail, 0);
      return obj;
    }
    if (this.v.u32(l, this.L.remote_free_check)) {
      this.claim_remote_free_list(s, l);
      if (this.v.ul(l + this.L.fl_nr) !== 0) return this.get_object(s, l);
    }
    return 0;
  }

  /** __cache_list_get_page(): an object from the first partial slab. */
  private get_page_object(s: number, l: number): number {
    if (this.v.ul(l + this.L.nr_partial) === 0) return 0;
    const pfn = this.sp.pfnOfList(this.v.rp(l + this.L.partial));
    const objects = this.v.u32(s, this.C.objects);
    const inuse = this.inuse(pfn);
    if (inuse + 1 === objects) {
      this.v.addUl(l + this.L.nr_partial, -1);
      list_del(this.d.kaddr, this.sp.slabList(pfn));
    }
    this.setInuse(pfn, inuse + 1);
    const obj = this.sp.getPtr(pfn, this.sp.wFreelist);
    this.sp.setPtr(pfn, this.sp.wFreelist, this.get_freepointer(s, obj));
    return obj;
  }

  /**
   * allocate_slab(): a new slab owned by `owner` (1 + cpu, or 1 + nr_cpus +
   * node), its objects constructed and chained; the pfn or -1. Interrupts
   * are on around the page allocator and the constructors when the gfp
   * allows blocking.
   */
  private allocate_slab(s: number, gfp: number, node: number, owner: number): number {
    const sched = this.d.sched;
    const blocking = (gfp & __GFP_DIRECT_RECLAIM) !== 0 && sched.irqs_disabled();
    if (blocking) sched.local_irq_enable();
    const order = this.v.u32(s, this.C.order);
    const flags = this.v.u32(s, this.C.flags) >>> 0;
    const pfn = this.sp.alloc((gfp & ~__GFP_ZERO) | this.v.u32(s, this.C.allocflags), order, node, (flags & SLAB_RECLAIM_ACCOUNT) !== 0);
    if (pfn >= 0) {
      this.sp.setPtr(pfn, this.sp.wSlabCache, s);
      this.sp.setCounters(pfn, owner << 16);
      // setup_object() each, chained in address order
      const size = this.v.u32(s, this.C.size_);
      const objects = this.v.u32(s, this.C.objects);
      const ctor = this.v.rp(s + this.C.ctor);
      const start = this.base(pfn);
      for (let j = 0; j < objects; j++) {
        const obj = start + j * size;
        if (ctor !== 0) this.d.kallsyms.call(ctor, obj);
        this.set_freepointer(s, obj, j + 1 < objects ? obj + size : 0);
      }
      this.sp.setPtr(pfn, this.sp.wFreelist, start);
    }
    if (blocking) sched.local_irq_disable();
    return pfn;
  }

  /** __slab_alloc_page()'s second half (l's owner or lock held): the new slab onto l, its first object. */
  private install_slab(s: number, l: number, pfn: number): number {
    INIT_LIST_HEAD(this.d.kaddr, this.sp.slabList(pfn));
    this.v.addUl(l + this.L.nr_slabs, 1);
    const start = this.sp.getPtr(pfn, this.sp.wFreelist);
    this.setInuse(pfn, 1);
    this.sp.setPtr(pfn, this.sp.wFreelist, this.get_freepointer(s, start));
    if (this.v.u32(s, this.C.objects) > 1) {
      list_add(this.d.kaddr, this.sp.slabList(pfn), l + this.L.partial);
      this.v.addUl(l + this.L.nr_partial, 1);
    }
    return start;
  }

  /** slab_alloc(): __slab_alloc() with interrupts off. */
  slab_alloc_node(s: number, gfp: number, node: number): number {
    const sched = this.d.sched;
    const flags = local_irq_save(sched);
    const obj = this.__slab_alloc(s, gfp, node);
    local_irq_restore(sched, flags);
    return obj;
  }

  private __slab_alloc(s: number, gfp: number, node: number): number {
    const cpu = this.d.sched.cpu;
    if (node >= 0 && node !== this.numaNode()) return this.remote_slab_alloc(s, gfp, node);
    const c = this.cpuSlab(s, cpu);
    const l = c + this.CPU.list;
    let obj = this.get_object(s, l);
    if (obj === 0) obj = this.get_page_object(s, l);
    if (obj === 0) {
      const pfn = this.allocate_slab(s, gfp, -1, 1 + cpu);
      if (pfn >= 0) {
        // colour_next advances as SLQB's did; objects are not offset (no colouring in kmem)
        const next = this.v.u32(c, this.CPU.colour_next) + this.v.u32(s, this.C.colour_off);
        this.v.set32(c, this.CPU.colour_next, next >= this.v.u32(s, this.C.colour_range) ? 0 : next);
        obj = this.install_slab(s, l, pfn);
      }
    }
    if (obj === 0 && this.d.nrNodes > 1) {
      // __slab_alloc(): try_remote on the local node's list failed too; any node
      for (let nd = 0; nd < this.d.nrNodes && obj === 0; nd++) if (nd !== this.numaNode()) obj = this.remote_slab_alloc(s, gfp, nd);
    }
    return obj;
  }

  /** __remote_slab_alloc_node(): from a node's list, under its list_lock (dropped for a new slab). */
  private remote_slab_alloc(s: number, gfp: number, node: number): number {
    const n = this.nodeSlab(s, node);
    const l = n + this.N.list;
    const lock = this.nodeLock(n);
    this.d.locks.spin_lock(lock);
    let obj = this.get_object(s, l);
    if (obj === 0) obj = this.get_page_object(s, l);
    this.d.locks.spin_unlock(lock);
    if (obj !== 0) return obj;
    const pfn = this.allocate_slab(s, gfp, node, 1 + this.d.nrCpus + node);
    if (pfn < 0) return 0;
    this.d.locks.spin_lock(lock);
    obj = this.install_slab(s, l, pfn);
    this.d.locks.spin_unlock(lock);
    return obj;
  }

  /* free ------------------------------------------------------------------ */

  /** free_object_to_page(): true if the slab was freed. */
  private free_object_to_page(s: number, l: number, pfn: number, obj: number): boolean {
    this.set_freepointer(s, obj, this.sp.getPtr(pfn, this.sp.wFreelist));
    this.sp.setPtr(pfn, this.sp.wFreelist, obj);
    const inuse = this.inuse(pfn) - 1;
    this.setInuse(pfn, inuse);
    const objects = this.v.u32(s, this.C.objects);
    if (inuse === 0) {
      if (objects > 1) {
        this.v.addUl(l + this.L.nr_partial, -1);
        list_del(this.d.kaddr, this.sp.slabList(pfn));
      }
      this.v.addUl(l + this.L.nr_slabs, -1);
      this.free_slab(s, pfn);
      return true;
    }
    if (inuse + 1 === objects) {
      // no ordering: a slab that becomes partial goes to the head
      this.v.addUl(l + this.L.nr_partial, 1);
      list_add(this.d.kaddr, this.sp.slabList(pfn), l + this.L.partial);
    }
    return false;
  }

  private free_slab(s: number, pfn: number): void {
    if (this.v.u32(s, this.C.flags) & SLAB_TYPESAFE_BY_RCU) {
      this.d.rcu.call_rcu(this.sp.slabList(pfn), this.rcuFree);
    } else {
      this.__free_slab(s, pfn);
    }
  }

  private rcu_free_slab(head: number): number {
    const pfn = this.sp.pfnOfList(head);
    this.__free_slab(this.slab_cache(pfn), pfn);
    return 0;
  }

  private __free_slab(s: number, pfn: number): void {
    this.sp.free(pfn, this.v.u32(s, this.C.order), (this.v.u32(s, this.C.flags) & SLAB_RECLAIM_ACCOUNT) !== 0);
  }

  /** flush_free_list(): up to max objects (freebatch) off the head of l's freelist (l's owner, or its lock held). */
  private flush_free_list(s: number, l: number, max = this.v.u32(s, this.C.freebatch)): void {
    let nr = Math.min(max, this.v.ul(l + this.L.fl_nr));
    if (nr === 0) return;
    this.v.addUl(l + this.L.fl_nr, -nr);
    let head = this.v.rp(l + this.L.fl_head);
    while (nr-- > 0) {
      const obj = head;
      head = this.get_freepointer(s, obj);
      const pfn = this.folioPfn(obj);
      const pl = this.pageList(s, pfn);
      if (pl !== l) this.slab_free_to_remote(s, pfn, obj);
      else this.free_object_to_page(s, l, pfn, obj);
    }
    this.v.wp(l + this.L.fl_head, head);
    if (this.v.ul(l + this.L.fl_nr) === 0) this.v.wp(l + this.L.fl_tail, 0);
  }

  /** slab_free_to_remote(): queue obj on this CPU's rlist for the list that owns its slab. */
  private slab_free_to_remote(s: number, pfn: number, obj: number): void {
    const c = this.cpuSlab(s, this.d.sched.cpu);
    const dst = this.pageList(s, pfn);
    if (dst !== this.v.rp(c + this.CPU.remote_cache_list)) {
      this.flush_remote_free_cache(s, c);
      this.v.wp(c + this.CPU.remote_cache_list, dst);
    }
    if (this.v.rp(c + this.CPU.rl_head) === 0) this.v.wp(c + this.CPU.rl_head, obj);
    else this.set_freepointer(s, this.v.rp(c + this.CPU.rl_tail), obj);
    this.set_freepointer(s, obj, 0);
    this.v.wp(c + this.CPU.rl_tail, obj);
    this.v.addUl(c + this.CPU.rl_nr, 1);
    this.stat(c + this.CPU.list, FLUSH_FREE_LIST_REMOTE, 1);
    if (this.v.ul(c + this.CPU.rl_nr) >= this.v.u32(s, this.C.freebatch)) this.flush_remote_free_cache(s, c);
  }

  /** flush_remote_free_cache(): this CPU's rlist onto its list's remote_free queue, under remote_free.lock. */
  private flush_remote_free_cache(s: number, c: number): void {
    const nr = this.v.ul(c + this.CPU.rl_nr);
    if (nr === 0) return;
    const dst = this.v.rp(c + this.CPU.remote_cache_list);
    const head = this.v.rp(c + this.CPU.rl_head);
    const lock = dst - this.po + this.L.rf_lock;
    this.d.locks.spin_lock(lock);
    if (this.v.rp(dst + this.L.rf_head) === 0) this.v.wp(dst + this.L.rf_head, head);
    else this.set_freepointer(s, this.v.rp(dst + this.L.rf_tail), head);
    this.v.wp(dst + this.L.rf_tail, this.v.rp(c + this.CPU.rl_tail));
    const batch = this.v.u32(s, this.C.freebatch);
    const was = this.v.ul(dst + this.L.rf_nr);
    this.v.setUl(dst + this.L.rf_nr, was + nr);
    if (was < batch && was + nr >= batch) this.v.set32(dst, this.L.remote_free_check, 1);
    this.d.locks.spin_unlock(lock);
    this.v.wp(c + this.CPU.rl_head, 0);
    this.v.wp(c + this.CPU.rl_tail, 0);
    this.v.setUl(c + this.CPU.rl_nr, 0);
    this.stat(c + this.CPU.list, FLUSH_RFREE_LIST, 1);
  }

  /** claim_remote_free_list(): the remote-free queue (taken under its lock) onto the tail of the freelist. */
  private claim_remote_free_list(s: number, l: number): void {
    if (this.v.ul(l + this.L.rf_nr) === 0) return;
    const lock = l - this.po + this.L.rf_lock;
    this.d.locks.spin_lock(lock);
    this.v.set32(l, this.L.remote_free_check, 0);
    const head = this.v.rp(l + this.L.rf_head);
    const tail = this.v.rp(l + this.L.rf_tail);
    const nr = this.v.ul(l + this.L.rf_nr);
    this.v.wp(l + this.L.rf_head, 0);
    this.v.wp(l + this.L.rf_tail, 0);
    this.v.setUl(l + this.L.rf_nr, 0);
    this.d.locks.spin_unlock(lock);
    if (this.v.ul(l + this.L.fl_nr) === 0) this.v.wp(l + this.L.fl_head, head);
    else this.set_freepointer(s, this.v.rp(l + this.L.fl_tail), head);
    this.v.wp(l + this.L.fl_tail, tail);
    this.v.addUl(l + this.L.fl_nr, nr);
    this.stat(l, CLAIM_REMOTE_LIST_OBJECTS, nr);
  }

  /** __slab_free() (interrupts off) */
  private cache_free(s: number, obj: number): void {
    const cpu = this.d.sched.cpu;
    const pfn = this.folioPfn(obj);
    if (this.d.pages.page_to_nid(pfn) !== this.numaNode(cpu)) {
      this.slab_free_to_remote(s, pfn, obj);
      return;
    }
    const l = this.cpuSlab(s, cpu) + this.CPU.list;
    this.set_freepointer(s, obj, this.v.rp(l + this.L.fl_head));
    this.v.wp(l + this.L.fl_head, obj);
    if (this.v.ul(l + this.L.fl_nr) === 0) this.v.wp(l + this.L.fl_tail, obj);
    this.v.addUl(l + this.L.fl_nr, 1);
    if (this.v.ul(l + this.L.fl_nr) > this.v.u32(s, this.C.hiwater)) this.flush_free_list(s, l);
  }

  slab_free_object(s: number, x: number): boolean {
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const cachep = this.slab_cache(pfn);
    if (s !== 0 && cachep !== s) this.common.wrong_cache(s, cachep);
    const size = this.v.u32(cachep, this.C.size_);
    const off = x - this.base(pfn);
    if (off < 0 || off % size !== 0 || off / size >= this.v.u32(cachep, this.C.objects)) return true;
    const flags = local_irq_save(this.d.sched);
    this.cache_free(cachep, x);
    local_irq_restore(this.d.sched, flags);
    return true;
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
   * kmem_cache_shrink(): on each CPU, kmem_cache_trim_percpu() (its remote
   * queue claimed, its freelist flushed, its rlist flushed), then each
   * node's list under its list_lock; three rounds, so that objects queued
   * for a list in one round are home by the last.
   */
  private drain_all(s: number): void {
    for (let round = 0; round < 3; round++) {
      on_each_cpu(this.d.sched, this.d.smp, this.d.nrCpus, (cpu) => {
        const c = this.cpuSlab(s, cpu);
        this.claim_remote_free_list(s, c + this.CPU.list);
        this.flush_free_list(s, c + this.CPU.list, Infinity);
        this.flush_remote_free_cache(s, c);
      });
      for (let node = 0; node < this.d.nrNodes; node++) {
        const n = this.nodeSlab(s, node);
        if (n === 0) continue;
        this.d.locks.spin_lock_irq(this.nodeLock(n));
        this.claim_remote_free_list(s, n + this.N.list);
        this.flush_free_list(s, n + this.N.list, Infinity);
        this.d.locks.spin_unlock_irq(this.nodeLock(n));
      }
    }
  }

  /** kmem_cache_trim_percpu() (this CPU, interrupts off): its remote queue claimed, one batch flushed, its rlist flushed. */
  private trim_percpu(s: number): void {
    const c = this.cpuSlab(s, this.d.sched.cpu);
    this.claim_remote_free_list(s, c + this.CPU.list);
    this.flush_free_list(s, c + this.CPU.list);
    this.flush_remote_free_cache(s, c);
  }

  /** cache_trim_worker(), run as the CPU it belongs to: its node's list under list_lock, then its own. */
  private cache_trim_worker(): void {
    const sched = this.d.sched;
    const node = this.numaNode();
    // down_read_trylock(&slqb_lock) in the patches; kmem's slab_caches is under slab_mutex
    if (!this.common.slab_mutex_trylock()) return;
    for (const s of this.common.caches()) {
      const n = this.nodeSlab(s, node);
      if (n !== 0) {
        this.d.locks.spin_lock_irq(this.nodeLock(n));
        this.claim_remote_free_list(s, n + this.N.list);
        this.flush_free_list(s, n + this.N.list);
        this.d.locks.spin_unlock_irq(this.nodeLock(n));
      }
      sched.local_irq_disable();
      this.trim_percpu(s);
      sched.local_irq_enable();
    }
    this.common.slab_mutex_unlock();
  }

  /** The simulated timer: SLQB's jiffies advance by ms; each CPU this thread drives runs its due cache_trim_worker(). */
  reap_tick(ms: number): void {
    this.timer.tick(ms, this.trimWork);
  }

  __kmem_cache_shrink(s: number): number {
    this.drain_all(s);
    return this.lists(s).some((l) => this.v.ul(l + this.L.nr_slabs) !== 0) ? 1 : 0;
  }

  __kmem_cache_shutdown(s: number): number {
    return this.__kmem_cache_shrink(s);
  }

  __kmem_cache_release(s: number): void {
    const pcp = this.v.rp(s + this.C.cpu_slab);
    if (pcp !== 0) this.d.percpu.free_percpu(pcp);
    this.v.wp(s + this.C.cpu_slab, 0);
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.nodeSlab(s, nid);
      if (n !== 0 && this.isSlab(this.folioPfn(n))) this.common.kfree(n);
      this.v.wp(s + this.C.node_slab + nid * this.ptr, 0);
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
    const objects = this.v.u32(s, this.C.objects);
    let slabs = 0;
    let free = 0;
    const k = this.d.kaddr;
    for (const l of this.lists(s)) {
      slabs += this.v.ul(l + this.L.nr_slabs);
      free += this.v.ul(l + this.L.fl_nr) + this.v.ul(l + this.L.rf_nr);
      // gather_stats() ran on each list's CPU; read from here, a list another host thread is changing is
      // walked no further than its nr_partial (a snapshot that may be a little stale, never a loop)
      const head = l + this.L.partial;
      let n = this.v.ul(l + this.L.nr_partial);
      for (let pos = k.readPtr(head); pos !== head && n-- > 0; pos = k.readPtr(pos)) {
        free += objects - this.inuse(this.sp.pfnOfList(pos));
      }
    }
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) free += this.v.ul(this.cpuSlab(s, cpu) + this.CPU.rl_nr);
    out.num_objs = slabs * objects;
    out.active_objs = out.num_objs - free;
    out.active_slabs = slabs;
    out.num_slabs = slabs;
    out.shared_avail = 0;
    out.limit = this.v.u32(s, this.C.hiwater);
    out.batchcount = this.v.u32(s, this.C.freebatch);
    out.shared = 0;
    out.objects_per_slab = objects;
    out.cache_order = this.v.u32(s, this.C.order);
  }

  /* the rest of the interface ---------------------------------------------------- */

  slab_ksize(s: number): number {
    const flags = this.v.u32(s, this.C.flags);
    if ((flags & SLAB_TYPESAFE_BY_RCU) || this.w.rptr(s - this.po + this.C.ctor) !== 0) return this.v.u32(s, this.C.inuse);
    return this.v.u32(s, this.C.size_);
  }

  object_is_free(s: number, slabPfn: number, obj: number): boolean {
    const onChain = (head: number) => {
      for (let o = head; o !== 0; o = this.get_freepointer(s, o)) if (o === obj) return true;
      return false;
    };
    if (this.inuse(slabPfn) < this.v.u32(s, this.C.objects) && onChain(this.sp.getPtr(slabPfn, this.sp.wFreelist))) return true;
    for (const l of this.lists(s)) if (onChain(this.v.rp(l + this.L.fl_head)) || onChain(this.v.rp(l + this.L.rf_head))) return true;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) if (onChain(this.v.rp(this.cpuSlab(s, cpu) + this.CPU.rl_head))) return true;
    return false;
  }

  maybe_wipe_obj_freeptr(s: number, obj: number): void {
    if (obj !== 0) this.v.wp(obj + this.v.u32(s, this.C.offset), 0);
  }

  /* for tests ------------------------------------------------------------------------ */

  /** The slab at pfn as the tests' census reads it (SLUB's slabState() shape). */
  slabState(pfn: number): { inuse: number; objects: number; frozen: boolean } {
    return { inuse: this.inuse(pfn), objects: this.v.u32(this.slab_cache(pfn), this.C.objects), frozen: false };
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
      freelist: this.v.ul(l + this.L.fl_nr), remote_free: this.v.ul(l + this.L.rf_nr),
      remote_free_check: this.v.u32(l, this.L.remote_free_check) !== 0,
      nr_partial: this.v.ul(l + this.L.nr_partial), nr_slabs: this.v.ul(l + this.L.nr_slabs),
    };
  }

  /** A CPU's rlist: objects queued, and for which CPU's list (-1 none or a node list). */
  rlist(s: number, cpu: number): { nr: number; owner_cpu: number } {
    const c = this.cpuSlab(s, cpu);
    const dst = this.v.rp(c + this.CPU.remote_cache_list);
    let owner = -1;
    for (let o = 0; o < this.d.nrCpus; o++) if (dst !== 0 && this.cpuSlab(s, o) + this.CPU.list === dst) owner = o;
    return { nr: this.v.ul(c + this.CPU.rl_nr), owner_cpu: owner };
  }

  tunables(s: number): { hiwater: number; freebatch: number; objects: number; order: number } {
    return {
      hiwater: this.v.u32(s, this.C.hiwater), freebatch: this.v.u32(s, this.C.freebatch),
      objects: this.v.u32(s, this.C.objects), order: this.v.u32(s, this.C.order),
    };
  }

  /** The stat[] counters of every list of s, summed: objects queued for other lists, rlist flushes, objects claimed back. */
  stats(s: number): { remote_queued: number; remote_flushes: number; remote_claimed: number } {
    const sum = (item: number) => this.lists(s).reduce((n, l) => n + this.v.ul(l + this.L.stat + item * this.ptr), 0);
    return { remote_queued: sum(FLUSH_FREE_LIST_REMOTE), remote_flushes: sum(FLUSH_RFREE_LIST), remote_claimed: sum(CLAIM_REMOTE_LIST_OBJECTS) };
  }

  /** The lock words of s (physical addresses): each list's remote_free.lock, each node's list_lock. */
  lockWords(s: number): number[] {
    const out = this.lists(s).map((l) => l - this.po + this.L.rf_lock);
    for (let node = 0; node < this.d.nrNodes; node++) out.push(this.nodeLock(this.nodeSlab(s, node)));
    return out;
  }

  /** Objects on the freelist chain of l (for tests: the counters agree with the chain). */
  chain(s: number, where: { cpu: number }): number {
    return this.chainLength(s, this.v.rp(this.cpuSlab(s, where.cpu) + this.CPU.list + this.L.fl_head));
  }
}
