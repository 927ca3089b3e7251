/*
 * SLAB (mm/slab.c, Linux 6.1; removed in 6.8): the original Bonwick-style
 * allocator with per-CPU array caches.
 *
 * Modelled from the 6.1 source, all state in machine memory:
 *
 *  - struct kmem_cache (mm/slab_def.h): cpu_cache (a per-CPU pointer to
 *    struct array_cache { avail, limit, batchcount, touched, entry[] }),
 *    batchcount, limit, shared, size, flags, num (objects per slab),
 *    gfporder, allocflags, colour, colour_off, freelist_cache,
 *    freelist_size, ctor, name, list, refcount, object_size, align,
 *    useroffset, usersize, node[]. kmem adds inuse (the common code's
 *    merge bookkeeping; 6.1 SLAB had no such field).
 *  - struct kmem_cache_node: slabs_partial, slabs_full, slabs_free,
 *    total_slabs, free_slabs, free_objects, free_limit, colour_next,
 *    shared (the node's shared array cache, shared * batchcount entries),
 *    next_reap, free_touched.
 *  - Allocation (____cache_alloc): the CPU's array cache, LIFO; when empty
 *    cache_alloc_refill(): batchcount objects (at most BATCHREFILL_LIMIT =
 *    16 when the array was not touched since the last reap) from the shared
 *    array, else from partial then free slabs, else a new slab
 *    (cache_grow_begin/end). Free (___cache_free): onto the array cache;
 *    when full, cache_flusharray() moves batchcount objects to the shared
 *    array or back to their slabs (free_block()), and free_block() gives
 *    free slabs beyond free_limit back to the page allocator.
 *  - Slabs: gfporder and num from calculate_slab_order() (slab_max_order 1
 *    above 32 MiB of RAM), the freelist an array of one-byte indices
 *    (freelist_idx_t is unsigned char with 4 KiB pages): inside the last
 *    free object (OBJFREELIST_SLAB, caches without constructor or RCU whose
 *    objects can hold it), off the slab in a kmalloc object (OFF_SLAB, when
 *    that saves space), or at the end of the slab (on-slab). Colouring:
 *    each new slab of a node starts colour_next * colour_off bytes in
 *    (colour_off the cache line or the alignment), colour_next cycling
 *    through colour = left-over / colour_off.
 *  - Tunables: enable_cpucache() picks limit 1/8/24/54/120 by object size,
 *    batchcount (limit + 1) / 2, shared 8 on SMP for objects up to a page;
 *    /proc/slabinfo shows them and accepts "name limit batchcount shared"
 *    (slabinfo_write(), do_tune_cpucache()). During boot every cache runs
 *    with limit 1, batchcount 1 and no shared array until
 *    kmem_cache_init_late() tunes them all.
 *  - Reaping: cache_reap() (every 2 s per CPU in the kernel: REAPTIMEOUT_AC)
 *    drains untouched array caches by a fifth of their limit, the shared
 *    array and some free slabs every 4 s per node (REAPTIMEOUT_NODE). kmem
 *    has no timer: reap_tick(ms) advances SLAB's own jiffies and runs
 *    cache_reap() on each CPU whose 2 s have passed.
 *  - kmalloc: the common code's kmalloc caches, from kmalloc-32 (6.1 SLAB's
 *    KMALLOC_SHIFT_LOW 5: sizes up to 32 go to kmalloc-32); as in the rest
 *    of kmem they stop at 8 KiB (6.12's KMALLOC_SHIFT_HIGH; 6.1 SLAB had
 *    caches up to 32 MiB) and larger requests get pages. 6.1's classes,
 *    not 3.x's: the real 3.x i386 SLAB trace of ../shared/traces/
 *    slab_compare had no kmalloc-96 with 64-byte cache lines (65..96
 *    bytes went to kmalloc-128), 6.1 has it (test/slab/slab.test.ts).
 *
 *  - Alien caches (NUMA): each node's kmem_cache_node has an array of
 *    per-remote-node array caches (12 entries, alloc_alien_cache()); a free
 *    of another node's object goes into the alien cache for that node,
 *    which is drained (into that node's shared array, the rest back to its
 *    slabs: __drain_alien_cache()) when full, by cache_reap() one node per
 *    CPU per reap in turn (reap_alien()), and on shrink. Until kmalloc
 *    works at boot, and with one node, there are none (the free goes
 *    straight back to the object's slab, as with noaliencache).
 *
 * SMP, as 6.1 locked it (one lock word per structure, src/kernel/locking/
 * spinlock.ts):
 *
 *   per-CPU array_cache     touched only by its own CPU, with interrupts
 *                           off (local_irq_save in kmem_cache_alloc/free;
 *                           re-enabled around the page allocator when the
 *                           gfp allows blocking, as cache_grow_begin() does)
 *   kmem_cache_node         list_lock: slabs_partial/full/free, the
 *                           counters, the shared array cache; free_block()
 *                           runs under it and hands empty slabs back on a
 *                           list that is destroyed after the unlock
 *   struct alien_cache      { spinlock_t lock; struct array_cache ac; }:
 *                           taken before the remote node's list_lock;
 *                           cache_reap() only trylocks it
 *   reaping                 each CPU's reap timer (next_reap[cpu],
 *                           kernel/percpu_timer.ts) and its slab_reap_node
 *                           are in SLAB's statics; the timer's cache_reap()
 *                           runs as the CPU it belongs to, for the CPUs this
 *                           host thread drives
 *   shrink / retune         on_each_cpu(do_drain) runs do_drain as each CPU
 *                           this thread drives; do_tune_cpucache() swaps
 *                           the per-CPU pointer, then drains the old arrays
 *                           under their nodes' list_lock as 6.1 does after
 *                           kick_all_cpus_sync()
 *
 * SLAB's statics (the kernel's .bss; every host thread sees them):
 *
 *   +0   early_nodes, early_left   boot kmem_cache_node pieces (slab_pages.ts)
 *   +2P  jiffies                   SLAB's own clock, ms (advanced by reap_tick)
 *   +3P  next_reap[nr_cpus]        ulong: each CPU's reap_work expiry
 *   ...  slab_reap_node[nr_cpus]   int: the remote node each CPU reaps next
 *
 * Two JS fields remain, both fixed at boot and the same in every thread's
 * boot of the machine: kmem_rcu_free's code address (kallsyms) and
 * slab_max_order (from the managed pages at kmem_cache_init()).
 *
 * cache_reap() walks slab_caches only if mutex_trylock(&slab_mutex)
 * succeeds (else it waits for its next expiry), as 6.1 does.
 *
 * Not modelled: kick_all_cpus_sync() and cross-CPU calls to CPUs another
 * host thread drives (on_each_cpu() reaches the CPUs this thread drives),
 * CONFIG_DEBUG_SLAB, freelist randomisation, CPU hotplug, the static
 * init_kmem_cache_node[] array (the boot caches' node structures are in a
 * page from the page allocator). struct slab under SLAB: slab_cache,
 * slab_list and freelist where 6.12's struct slab has them; s_mem and
 * active share the counters word (colour offset in the high 16 bits,
 * active in the low 16) as 6.12's struct page has no room for both on i386.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { VaWords, type RamWords } from '../machine/ram_words.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import type { Smp } from '../kernel/smp.ts';
import { local_irq_restore, local_irq_save, on_each_cpu } from '../kernel/irqflags.ts';
import { PerCpuTimer } from '../kernel/percpu_timer.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Rcu } from '../kernel/rcu.ts';
import { INIT_LIST_HEAD, list_add, list_add_tail, list_del, list_empty } from '../lib/list.ts';
import { GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../include/linux/slab.ts';
import type { Percpu } from './percpu.ts';
import type { SlabCommon } from './slab_common.ts';
import { SlabPages, type SlabPagesDeps } from './slab_pages.ts';
import { FULL, type KmemCacheArgs, type KmemCacheCommon, type SlabAllocator, type SlabInfo } from './slab_types.ts';

const CFLGS_OBJFREELIST_SLAB = 0x40000000;
const CFLGS_OFF_SLAB = 0x80000000;
const BOOT_CPUCACHE_ENTRIES = 1;
const BATCHREFILL_LIMIT = 16;
/** freelist_idx_t: unsigned char (FREELIST_BYTE_INDEX with 4 KiB pages) */
const IDX = 1;
const SLAB_OBJ_MAX_NUM = 256;
const SLAB_OBJ_MIN_SIZE = 16;
const KMALLOC_MAX_ORDER = 1; // 8 KiB: the largest kmalloc cache kmem has
const HZ = 1000;
const REAPTIMEOUT_AC = 2 * HZ;
const REAPTIMEOUT_NODE = 4 * HZ;
const EINVAL = 22;
const ENOMEM = 12;
const E2BIG = 7;

/* struct array_cache { avail, limit, batchcount, touched; void *entry[] } */
const AC_AVAIL = 0;
const AC_LIMIT = 4;
const AC_BATCH = 8;
const AC_TOUCHED = 12;
const AC_ENTRY = 16;

function cacheLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['cpu_cache', 'ptr'],
    ['batchcount', 'u32'],
    ['limit', 'u32'],
    ['shared', 'u32'],
    ['size_', 'u32'],
    ['reciprocal_buffer_size', { size: 8, align: 4 }],
    ['flags', 'u32'],
    ['num', 'u32'],
    ['gfporder', 'u32'],
    ['allocflags', 'u32'],
    ['colour', 'ulong'],
    ['colour_off', 'u32'],
    ['freelist_cache', 'ptr'],
    ['freelist_size', 'u32'],
    ['ctor', 'ptr'],
    ['name', 'ptr'],
    ['list', 'list_head'],
    ['refcount', 'int'],
    ['object_size', 'u32'],
    ['align', 'u32'],
    ['useroffset', 'u32'],
    ['usersize', 'u32'],
    ['inuse', 'u32'],
    ['node', 'ptr'],
  ]);
}

function nodeLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['list_lock', 'u32'],
    ['slabs_partial', 'list_head'],
    ['slabs_full', 'list_head'],
    ['slabs_free', 'list_head'],
    ['total_slabs', 'ulong'],
    ['free_slabs', 'ulong'],
    ['free_objects', 'ulong'],
    ['free_limit', 'u32'],
    ['colour_next', 'u32'],
    ['shared', 'ptr'],
    ['alien', 'ptr'],
    ['next_reap', 'ulong'],
    ['free_touched', 'int'],
  ]);
}

/** SLAB's statics (see the header). */
function staticsLayout(ptrSize: 4 | 8, nrCpus: number) {
  return defineStruct(ptrSize, [
    ['early', { size: SlabPages.earlyBytes(ptrSize), align: ptrSize }],
    ['jiffies', 'ulong'],
    ['next_reap', 'ulong', nrCpus],
    ['slab_reap_node', 'int', nrCpus],
  ]);
}

export interface SlabDeps extends SlabPagesDeps {
  percpu: Percpu;
  smp: Smp;
  locks: Spinlocks;
  kallsyms: Kallsyms;
  rcu: Rcu;
  nrCpus: number;
  cpuToNode: readonly number[];
  nrNodes: number;
  /** Physical address of the implementation's statics (staticBytes()). */
  staticsPa: number;
}

export class Slab implements SlabAllocator {
  readonly name = 'SLAB';
  readonly cache: KmemCacheCommon;
  readonly kmemCacheBytes: number;
  /** KMALLOC_SHIFT_LOW 5 */
  readonly kmallocMinSize = 32;
  private readonly C: ReturnType<typeof cacheLayout>;
  private readonly N: ReturnType<typeof nodeLayout>;
  private readonly S: ReturnType<typeof staticsLayout>;
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly w: RamWords;
  /** Fields by kernel virtual address. */
  private readonly v: VaWords;
  private readonly sp: SlabPages;
  /** The reap timer (reap_work), and the work itself. */
  private readonly timer: PerCpuTimer;
  private readonly reapWork = () => this.cache_reap();
  /** slab_max_order, set at boot (the same in every thread's boot). */
  private slabMaxOrder = 0;
  /** kmem_rcu_free's code address (registered at boot, the same in every thread). */
  private rcuFree = 0;

  constructor(private readonly d: SlabDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    this.w = d.words;
    this.v = new VaWords(d.words, this.po);
    this.C = cacheLayout(this.ptr);
    this.N = nodeLayout(this.ptr);
    this.S = staticsLayout(this.ptr, d.nrCpus);
    this.cache = this.C;
    this.kmemCacheBytes = this.C.node + d.nrNodes * this.ptr;
    this.sp = new SlabPages(d, common, d.staticsPa + this.S.early);
    this.timer = new PerCpuTimer(d.words, d.sched, d.smp, d.nrCpus, d.staticsPa + this.S.jiffies, d.staticsPa + this.S.next_reap,
      REAPTIMEOUT_AC);
  }

  static staticBytes(ptrSize: 4 | 8, nrCpus: number): number {
    return staticsLayout(ptrSize, nrCpus).size;
  }

  /* fields -------------------------------------------------------------- */







  private get_node(s: number, node: number): number {
    return this.v.rp(s + this.C.node + node * this.ptr);
  }

  private cpu_cache_get(s: number, cpu = this.d.sched.cpu): number {
    const p = this.v.rp(s + this.C.cpu_cache);
    return this.po + this.d.percpu.per_cpu_ptr_pa(p, cpu);
  }

  private numaNode(): number {
    return this.d.cpuToNode[this.d.sched.cpu] ?? 0;
  }

  /** n->list_lock's physical address. */
  private listLock(n: number): number {
    return n - this.po + this.N.list_lock;
  }

  private get jiffies(): number {
    return this.timer.jiffies;
  }

  /* struct slab (the head page's struct page) ---------------------------- */

  private active(pfn: number): number {
    return this.sp.inuse(pfn);
  }

  private setActive(pfn: number, v: number): void {
    this.sp.setInuse(pfn, v);
  }

  private s_mem(pfn: number): number {
    return this.po + pfn * PAGE_SIZE + (this.sp.counters(pfn) >>> 16);
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

  /* the freelist ------------------------------------------------------- */

  private get_free_obj(pfn: number, idx: number): number {
    return this.w.r8(this.sp.getPtr(pfn, this.sp.wFreelist) - this.po + idx * IDX);
  }

  private set_free_obj(pfn: number, idx: number, v: number): void {
    this.d.mem.write8(this.sp.getPtr(pfn, this.sp.wFreelist) - this.po + idx * IDX, v);
  }

  private index_to_obj(s: number, pfn: number, idx: number): number {
    return this.s_mem(pfn) + this.v.u32(s, this.C.size_) * idx;
  }

  private obj_to_index(s: number, pfn: number, obj: number): number {
    return Math.floor((obj - this.s_mem(pfn)) / this.v.u32(s, this.C.size_));
  }

  private slab_get_obj(s: number, pfn: number): number {
    const act = this.active(pfn);
    const obj = this.index_to_obj(s, pfn, this.get_free_obj(pfn, act));
    this.setActive(pfn, act + 1);
    return obj;
  }

  private slab_put_obj(s: number, pfn: number, obj: number): void {
    const objnr = this.obj_to_index(s, pfn, obj);
    const act = this.active(pfn) - 1;
    this.setActive(pfn, act);
    if (this.sp.getPtr(pfn, this.sp.wFreelist) === 0) this.sp.setPtr(pfn, this.sp.wFreelist, obj);
    this.set_free_obj(pfn, act, objnr);
  }

  /* sizing --------------------------------------------------------------- */

  private cache_estimate(order: number, size: number, flags: number): [number, number] {
    const slabSize = PAGE_SIZE << order;
    if (flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)) return [Math.floor(slabSize / size), slabSize % size];
    return [Math.floor(slabSize / (size + IDX)), slabSize % (size + IDX)];
  }
  /** calculate_slab_order(): sets num and gfporder; the left-over bytes. */
  private calculate_slab_order(s: number, size: number, flags: number): number {
    let leftOver = 0;
    for (let order = 0; order <= KMALLOC_MAX_ORDER + 2; order++) {
      const [num, rem] = this.cache_estimate(order, size, flags);
      if (num === 0) continue;
      if (num > SLAB_OBJ_MAX_NUM) break;
      if (flags & CFLGS_OFF_SLAB) {
        const fc = this.common.kmalloc_slab(Math.max(1, num * IDX), 0);
        if (fc === 0) continue;
        if ((this.v.u32(fc, this.C.flags) >>> 0) & CFLGS_OFF_SLAB) continue;
        if (this.v.u32(fc, this.C.size_) > size / 2) continue;
      }
      this.v.set32(s, this.C.num, num);
      this.v.set32(s, this.C.gfporder, order);
      leftOver = rem;
      if (flags & SLAB_RECLAIM_ACCOUNT) break;
      if (order >= this.slabMaxOrder) break;
      if (leftOver * 8 <= PAGE_SIZE << order) break;
    }
    return leftOver;
  }

  /** The layout choice of __kmem_cache_create(): 0 on-slab, or a CFLGS_ flag; -1 if nothing fits. */
  private choose_layout(s: number, size: number, flags: number, ctor: number): number {
    const colourOff = this.v.u32(s, this.C.colour_off);
    const setColour = (left: number) => this.w.wlong(s - this.po + this.C.colour, Math.floor(left / colourOff));
    // set_objfreelist_slab_cache()
    this.v.set32(s, this.C.num, 0);
    if (ctor === 0 && !(flags & SLAB_TYPESAFE_BY_RCU)) {
      const left = this.calculate_slab_order(s, size, flags | CFLGS_OBJFREELIST_SLAB);
      const num = this.v.u32(s, this.C.num);
      if (num !== 0 && num * IDX <= this.v.u32(s, this.C.object_size)) {
        setColour(left);
        return CFLGS_OBJFREELIST_SLAB;
      }
    }
    // set_off_slab_cache(): only once kmalloc can hold the freelist
    this.v.set32(s, this.C.num, 0);
    if (this.common.slab_state >= FULL - 1) {
      const left = this.calculate_slab_order(s, size, flags | CFLGS_OFF_SLAB);
      const num = this.v.u32(s, this.C.num);
      if (num !== 0 && left < num * IDX) {
        setColour(left);
        return CFLGS_OFF_SLAB;
      }
    }
    // set_on_slab_cache()
    this.v.set32(s, this.C.num, 0);
    const left = this.calculate_slab_order(s, size, flags);
    if (this.v.u32(s, this.C.num) === 0) return -1;
    setColour(left);
    return 0;
  }

  /* caches -------------------------------------------------------------- */

  kmem_cache_init(): void {
    const common = this.common;
    const managed = this.d.buddy.zones.reduce((n, z) => n + this.d.buddy.zget(z, 'managed_pages'), 0);
    this.slabMaxOrder = managed > (32 << 20) / PAGE_SIZE ? 1 : 0;
    this.rcuFree = this.d.kallsyms.register('kmem_rcu_free', (head) => this.kmem_rcu_free(head));
    // kmem_cache_boot: in an early page (the kernel's is static) for good
    this.d.mem.fill(this.d.staticsPa, this.S.size, 0);
    const boot = this.po + this.d.buddy.__alloc_pages(GFP_NOWAIT, 0, -1) * PAGE_SIZE;
    this.d.mem.fill(boot - this.po, PAGE_SIZE, 0);
    // the reap timers: each CPU's first in REAPTIMEOUT_AC; init_reap_node(): the node after the CPU's own
    this.timer.init();
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      this.w.w32(this.d.staticsPa + this.S.slab_reap_node + cpu * 4, ((this.d.cpuToNode[cpu] ?? 0) + 1) % this.d.nrNodes);
    }
    common.kmem_cache = boot;
    common.create_boot_cache(boot, common.rodataString('kmem_cache'), this.kmemCacheBytes, SLAB_HWCACHE_ALIGN, 0, 0);
    common.link_cache(boot);
    common.create_kmalloc_caches();
    // kmem_cache_init_late(): tune every cache
    for (const s of common.caches()) this.enable_cpucache(s);
  }

  do_kmem_cache_create(s: number, name: number, objectSize: number, args: KmemCacheArgs, flags: number): number {
    const pa = s - this.po;
    this.w.wptr(pa + this.C.name, name);
    this.v.set32(s, this.C.object_size, objectSize);
    this.v.set32(s, this.C.useroffset, args.useroffset);
    this.v.set32(s, this.C.usersize, args.usersize);
    this.w.wptr(pa + this.C.ctor, args.ctor);
    let size = Math.ceil(objectSize / this.ptr) * this.ptr;
    const align = Math.max(this.ptr, args.align);
    this.v.set32(s, this.C.align, align);
    this.v.set32(s, this.C.colour_off, Math.max(this.d.layout.cacheLine, align));
    size = Math.ceil(size / align) * align;
    if (size < SLAB_OBJ_MIN_SIZE) size = Math.ceil(SLAB_OBJ_MIN_SIZE / align) * align;
    this.v.set32(s, this.C.size_, size);
    this.v.set32(s, this.C.inuse, size);
    const cf = this.choose_layout(s, size, flags, args.ctor);
    if (cf < 0) return -E2BIG;
    const num = this.v.u32(s, this.C.num);
    this.v.set32(s, this.C.freelist_size, num * IDX);
    this.v.set32(s, this.C.flags, (flags | cf) >>> 0);
    let allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) allocflags |= __GFP_DMA;
    if (flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    this.v.set32(s, this.C.allocflags, allocflags);
    if (cf === CFLGS_OFF_SLAB) this.w.wptr(pa + this.C.freelist_cache, this.common.kmalloc_slab(num * IDX, 0));
    // setup_cpu_cache(): boot tunables until kmem_cache_init_late(), then enable_cpucache()
    for (let node = 0; node < this.d.nrNodes; node++) {
      const n = this.alloc_node_struct(node);
      if (n === 0) return -ENOMEM;
      this.w.wptr(pa + this.C.node + node * this.ptr, n);
    }
    if (this.common.slab_state >= FULL) return this.enable_cpucache(s);
    return this.do_tune_cpucache(s, BOOT_CPUCACHE_ENTRIES, 1, 0);
  }

  /** A kmem_cache_node: kmalloc'd once kmalloc can, else an early piece. */
  private alloc_node_struct(node: number): number {
    let n = 0;
    if (this.common.kmalloc_slab(this.N.size, GFP_KERNEL) !== 0 && this.common.slab_state >= FULL - 1) {
      n = this.common.__kmalloc_node(this.N.size, GFP_KERNEL, node);
      if (n !== 0) this.d.mem.fill(n - this.po, this.N.size, 0);
    } else {
      n = this.sp.earlyNode(this.N.size);
    }
    if (n === 0) return 0;
    const k = this.d.kaddr;
    this.d.locks.spin_lock_init(this.listLock(n));
    for (const l of [this.N.slabs_partial, this.N.slabs_full, this.N.slabs_free]) INIT_LIST_HEAD(k, n + l);
    this.w.wlong(n - this.po + this.N.next_reap, this.jiffies + REAPTIMEOUT_NODE + ((this.d.sched.cpu * 7 + node) % 1000));
    return n;
  }

  /** enable_cpucache(): the default tunables for the object size. */
  private enable_cpucache(s: number): number {
    const size = this.v.u32(s, this.C.size_);
    const limit = size > 131072 ? 1 : size > PAGE_SIZE ? 8 : size > 1024 ? 24 : size > 256 ? 54 : 120;
    const shared = size <= PAGE_SIZE && this.d.nrCpus > 1 ? 8 : 0;
    return this.do_tune_cpucache(s, limit, (limit + 1) >> 1, shared);
  }

  private acBytes(limit: number): number {
    return AC_ENTRY + limit * this.ptr;
  }

  private init_ac(ac: number, limit: number, batch: number): void {
    this.v.set32(ac, AC_AVAIL, 0);
    this.v.set32(ac, AC_LIMIT, limit);
    this.v.set32(ac, AC_BATCH, batch);
    this.v.set32(ac, AC_TOUCHED, 0);
  }

  private acEntry(ac: number, i: number): number {
    return ac + AC_ENTRY + i * this.ptr;
  }

  /** ac->entry[ac->avail++] = obj */
  private push(ac: number, obj: number): void {
    const avail = this.v.u32(ac, AC_AVAIL);
    this.v.wp(this.acEntry(ac, avail), obj);
    this.v.set32(ac, AC_AVAIL, avail + 1);
  }

  /** do_tune_cpucache(): new per-CPU arrays, the old ones drained; the nodes' shared arrays and free_limit. */
  private do_tune_cpucache(s: number, limit: number, batch: number, shared: number): number {
    const pcp = this.d.percpu.__alloc_percpu(this.acBytes(limit), this.ptr, true);
    if (pcp === 0) return -ENOMEM;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) this.init_ac(this.po + this.d.percpu.per_cpu_ptr_pa(pcp, cpu), limit, batch);
    const old = this.v.rp(s + this.C.cpu_cache);
    this.v.wp(s + this.C.cpu_cache, pcp);
    this.v.set32(s, this.C.limit, limit);
    this.v.set32(s, this.C.batchcount, batch);
    this.v.set32(s, this.C.shared, shared);
    if (old !== 0) {
      // after kick_all_cpus_sync(): every CPU uses the new arrays; the old ones go back under their node's lock
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        const ac = this.po + this.d.percpu.per_cpu_ptr_pa(old, cpu);
        const node = this.d.cpuToNode[cpu] ?? 0;
        const lock = this.listLock(this.get_node(s, node));
        const list: number[] = [];
        this.d.locks.spin_lock_irq(lock);
        this.free_block(s, this.acEntry(ac, 0), this.v.u32(ac, AC_AVAIL), node, list);
        this.d.locks.spin_unlock_irq(lock);
        this.slabs_destroy(s, list);
        this.v.set32(ac, AC_AVAIL, 0);
      }
      this.d.percpu.free_percpu(old);
    }
    for (let node = 0; node < this.d.nrNodes; node++) this.setup_kmem_cache_node(s, node, limit, batch, shared);
    return 0;
  }

  /** setup_kmem_cache_node(..., force_change): a new shared array, the alien caches, free_limit. */
  private setup_kmem_cache_node(s: number, node: number, limit: number, batch: number, shared: number): void {
    const n = this.get_node(s, node);
    let sh = 0;
    if (shared) {
      sh = this.common.__kmalloc_node(this.acBytes(shared * batch), GFP_KERNEL, node);
      if (sh !== 0) this.init_ac(sh, shared * batch, 0xbaadf00d);
    }
    const alien = this.alloc_alien_caches(n, node, limit);
    const lock = this.listLock(n);
    const list: number[] = [];
    this.d.locks.spin_lock_irq(lock);
    const old = this.v.rp(n + this.N.shared);
    if (old !== 0) this.free_block(s, this.acEntry(old, 0), this.v.u32(old, AC_AVAIL), node, list);
    this.v.wp(n + this.N.shared, sh);
    if (alien !== 0) this.v.wp(n + this.N.alien, alien);
    const cpusOnNode = this.d.cpuToNode.filter((x) => x === node).length;
    this.v.set32(n, this.N.free_limit, (1 + cpusOnNode) * batch + this.v.u32(s, this.C.num));
    this.d.locks.spin_unlock_irq(lock);
    this.slabs_destroy(s, list);
    if (old !== 0) this.common.kfree(old);
  }

  /* alien caches ---------------------------------------------------------- */

  /** sizeof(struct alien_cache) for limit entries: the lock, then the array_cache. */
  private alienBytes(limit: number): number {
    return this.ptr + this.acBytes(limit);
  }

  /** alloc_alien_cache() for each other node, once kmalloc works and if n has none yet; the array or 0. */
  private alloc_alien_caches(n: number, node: number, limit: number): number {
    if (this.d.nrNodes < 2 || this.v.rp(n + this.N.alien) !== 0 || this.common.slab_state < FULL - 1) return 0;
    const arr = this.common.__kmalloc_node(this.d.nrNodes * this.ptr, GFP_KERNEL, node);
    if (arr === 0) return 0;
    const lim = limit > 1 ? 12 : limit;
    for (let i = 0; i < this.d.nrNodes; i++) {
      let alc = 0;
      if (i !== node) {
        alc = this.common.__kmalloc_node(this.alienBytes(lim), GFP_KERNEL, node);
        if (alc !== 0) {
          this.d.locks.spin_lock_init(alc - this.po);
          this.init_ac(alc + this.ptr, lim, 0xbaadf00d);
        }
      }
      this.v.wp(arr + i * this.ptr, alc);
    }
    return arr;
  }

  /** n->alien[nid], 0 if none. */
  private alien_cache(n: number, nid: number): number {
    const arr = this.v.rp(n + this.N.alien);
    return arr === 0 ? 0 : this.v.rp(arr + nid * this.ptr);
  }

  /** __drain_alien_cache() (alc->lock held): to node nid's shared array, the rest back to its slabs. */
  private __drain_alien_cache(s: number, ac: number, nid: number, list: number[]): void {
    if (this.v.u32(ac, AC_AVAIL) === 0) return;
    const n = this.get_node(s, nid);
    this.d.locks.spin_lock(this.listLock(n));
    const sh = this.v.rp(n + this.N.shared);
    if (sh !== 0) this.transfer_objects(sh, ac, this.v.u32(ac, AC_LIMIT));
    this.free_block(s, this.acEntry(ac, 0), this.v.u32(ac, AC_AVAIL), nid, list);
    this.v.set32(ac, AC_AVAIL, 0);
    this.d.locks.spin_unlock(this.listLock(n));
  }

  /** __cache_free_alien(): obj of node slabNode, freed on node `node` (interrupts off). */
  private cache_free_alien(s: number, obj: number, node: number, slabNode: number): void {
    const alc = this.alien_cache(this.get_node(s, node), slabNode);
    const list: number[] = [];
    if (alc !== 0) {
      const ac = alc + this.ptr;
      this.d.locks.spin_lock(alc - this.po);
      if (this.v.u32(ac, AC_AVAIL) >= this.v.u32(ac, AC_LIMIT)) this.__drain_alien_cache(s, ac, slabNode, list);
      this.push(ac, obj);
      this.d.locks.spin_unlock(alc - this.po);
    } else {
      const lock = this.listLock(this.get_node(s, slabNode));
      this.d.locks.spin_lock(lock);
      this.free_one(s, obj, slabNode);
      this.free_surplus(s, slabNode, list);
      this.d.locks.spin_unlock(lock);
    }
    this.slabs_destroy(s, list);
  }

  /** drain_alien_cache(): every alien cache of n, each under its lock. */
  private drain_alien_cache(s: number, n: number): void {
    for (let r = 0; r < this.d.nrNodes; r++) {
      const alc = this.alien_cache(n, r);
      if (alc === 0) continue;
      const list: number[] = [];
      const flags = this.d.locks.spin_lock_irqsave(alc - this.po);
      this.__drain_alien_cache(s, alc + this.ptr, r, list);
      this.d.locks.spin_unlock_irqrestore(alc - this.po, flags);
      this.slabs_destroy(s, list);
    }
  }

  /** reap_alien(): this CPU's turn at one remote node's alien cache, if its lock is free. */
  private reap_alien(s: number, n: number, rn: number): void {
    const alc = this.alien_cache(n, rn);
    if (alc === 0 || this.v.u32(alc + this.ptr, AC_AVAIL) === 0) return;
    // spin_trylock_irq()
    this.d.sched.local_irq_disable();
    if (!this.d.locks.spin_trylock(alc - this.po)) {
      this.d.sched.local_irq_enable();
      return;
    }
    const list: number[] = [];
    this.__drain_alien_cache(s, alc + this.ptr, rn, list);
    this.d.locks.spin_unlock_irq(alc - this.po);
    this.slabs_destroy(s, list);
  }

  /* allocation ------------------------------------------------------------ */

  /** slab_alloc_node(): __do_cache_alloc() with interrupts off. */
  slab_alloc_node(s: number, gfp: number, nodeid: number): number {
    const sched = this.d.sched;
    const flags = local_irq_save(sched);
    const local = this.numaNode();
    let obj = 0;
    if (nodeid < 0 || nodeid === local) {
      const ac = this.cpu_cache_get(s);
      const avail = this.v.u32(ac, AC_AVAIL);
      if (avail !== 0) {
        this.v.set32(ac, AC_TOUCHED, 1);
        this.v.set32(ac, AC_AVAIL, avail - 1);
        obj = this.v.rp(this.acEntry(ac, avail - 1));
      } else {
        obj = this.cache_alloc_refill(s, gfp, local);
      }
    }
    else obj = this.cache_alloc_node(s, gfp, nodeid);
    local_irq_restore(sched, flags);
    return obj;
  }

  /** ____cache_alloc_node(): one object straight from a node's slabs. */
  private cache_alloc_node(s: number, gfp: number, node: number): number {
    const n = this.get_node(s, node);
    const lock = this.listLock(n);
    this.d.locks.spin_lock(lock);
    const pfn = this.get_first_slab(n);
    if (pfn >= 0) {
      const obj = this.slab_get_obj(s, pfn);
      this.v.addUl(n + this.N.free_objects, -1);
      this.fixup_slab_list(s, n, pfn);
      this.d.locks.spin_unlock(lock);
      return obj;
    }
    this.d.locks.spin_unlock(lock);
    const grown = this.cache_grow_begin(s, gfp, node);
    const obj = grown >= 0 ? this.slab_get_obj(s, grown) : 0;
    this.cache_grow_end(s, grown);
    return obj;
  }

  /** get_first_slab() (list_lock held): the first partial slab, else a free one; -1 if none. */
  private get_first_slab(n: number): number {
    const k = this.d.kaddr;
    for (const l of [this.N.slabs_partial, this.N.slabs_free]) {
      const head = n + l;
      const first = k.readPtr(head);
      if (first !== head) {
        if (l === this.N.slabs_free) this.v.addUl(n + this.N.free_slabs, -1);
        return this.sp.pfnOfList(first);
      }
    }
    return -1;
  }

  private fixup_slab_list(s: number, n: number, pfn: number): void {
    const k = this.d.kaddr;
    list_del(k, this.sp.slabList(pfn));
    if (this.active(pfn) === this.v.u32(s, this.C.num)) {
      list_add(k, this.sp.slabList(pfn), n + this.N.slabs_full);
      if (this.v.u32(s, this.C.flags) & CFLGS_OBJFREELIST_SLAB) this.sp.setPtr(pfn, this.sp.wFreelist, 0);
    } else {
      list_add(k, this.sp.slabList(pfn), n + this.N.slabs_partial);
    }
  }

  private alloc_block(s: number, ac: number, pfn: number, batch: number): number {
    const num = this.v.u32(s, this.C.num);
    while (this.active(pfn) < num && batch-- > 0) this.push(ac, this.slab_get_obj(s, pfn));
    return batch;
  }

  /** transfer_objects(): up to max entries from the end of from to to. */
  private transfer_objects(to: number, from: number, max: number): number {
    const nr = Math.min(this.v.u32(from, AC_AVAIL), max, this.v.u32(to, AC_LIMIT) - this.v.u32(to, AC_AVAIL));
    if (nr <= 0) return 0;
    const fa = this.v.u32(from, AC_AVAIL) - nr;
    const ta = this.v.u32(to, AC_AVAIL);
    for (let i = 0; i < nr; i++) this.v.wp(this.acEntry(to, ta + i), this.v.rp(this.acEntry(from, fa + i)));
    this.v.set32(from, AC_AVAIL, fa);
    this.v.set32(to, AC_AVAIL, ta + nr);
    return nr;
  }

  /** cache_alloc_refill() (interrupts off): batchcount objects from the shared array or the node's slabs, else a new slab. */
  private cache_alloc_refill(s: number, gfp: number, node: number): number {
    const ac = this.cpu_cache_get(s);
    let batch = this.v.u32(ac, AC_BATCH);
    if (!this.v.u32(ac, AC_TOUCHED) && batch > BATCHREFILL_LIMIT) batch = BATCHREFILL_LIMIT;
    const n = this.get_node(s, node);
    const shared = this.v.rp(n + this.N.shared);
    if (this.v.ul(n + this.N.free_objects) !== 0 || (shared !== 0 && this.v.u32(shared, AC_AVAIL) !== 0)) {
      const lock = this.listLock(n);
      this.d.locks.spin_lock(lock);
      const sh = this.v.rp(n + this.N.shared);
      if (sh !== 0 && this.transfer_objects(ac, sh, batch)) {
        this.v.set32(sh, AC_TOUCHED, 1);
      } else {
        while (batch > 0) {
          const pfn = this.get_first_slab(n);
          if (pfn < 0) break;
          batch = this.alloc_block(s, ac, pfn, batch);
          this.fixup_slab_list(s, n, pfn);
        }
        this.v.addUl(n + this.N.free_objects, -this.v.u32(ac, AC_AVAIL));
      }
      this.d.locks.spin_unlock(lock);
    }
    if (this.v.u32(ac, AC_AVAIL) === 0) {
      // direct_grow
      const pfn = this.cache_grow_begin(s, gfp, node);
      if (pfn >= 0 && this.v.u32(ac, AC_AVAIL) === 0) this.alloc_block(s, ac, pfn, batch);
      this.cache_grow_end(s, pfn);
      if (this.v.u32(ac, AC_AVAIL) === 0) return 0;
    }
    this.v.set32(ac, AC_TOUCHED, 1);
    const avail = this.v.u32(ac, AC_AVAIL) - 1;
    this.v.set32(ac, AC_AVAIL, avail);
    return this.v.rp(this.acEntry(ac, avail));
  }

  /**
   * cache_grow_begin(): a new slab (pages, colour, freelist, constructed
   * objects); its pfn or -1. Interrupts are on around the page allocator
   * and the constructors when the gfp allows blocking.
   */
  private cache_grow_begin(s: number, gfp: number, node: number): number {
    const sched = this.d.sched;
    const blocking = (gfp & __GFP_DIRECT_RECLAIM) !== 0 && sched.irqs_disabled();
    if (blocking) sched.local_irq_enable();
    const pfn = this.grow(s, gfp, node);
    if (blocking) sched.local_irq_disable();
    return pfn;
  }

  private grow(s: number, gfp: number, node: number): number {
    const order = this.v.u32(s, this.C.gfporder);
    const flags = this.v.u32(s, this.C.flags) >>> 0;
    const pfn = this.sp.alloc((gfp & ~__GFP_ZERO) | this.v.u32(s, this.C.allocflags), order, node, (flags & SLAB_RECLAIM_ACCOUNT) !== 0);
    if (pfn < 0) return -1;
    const n = this.get_node(s, this.d.pages.page_to_nid(pfn));
    const colour = this.v.u32(n, this.N.colour_next);
    const next = colour + 1;
    this.v.set32(n, this.N.colour_next, next >= this.v.ul(s + this.C.colour) ? 0 : next);
    const offset = colour * this.v.u32(s, this.C.colour_off);
    const addr = this.po + pfn * PAGE_SIZE;
    // alloc_slabmgmt()
    this.sp.setCounters(pfn, (offset << 16) | 0);
    let freelist = 0;
    if (flags & CFLGS_OFF_SLAB) {
      freelist = this.common.kmem_cache_alloc_node(this.v.rp(s + this.C.freelist_cache), gfp & ~__GFP_ZERO, node);
      if (freelist === 0) {
        this.kmem_freepages(s, pfn);
        return -1;
      }
    } else if (!(flags & CFLGS_OBJFREELIST_SLAB)) {
      freelist = addr + (PAGE_SIZE << order) - this.v.u32(s, this.C.freelist_size);
    }
    this.sp.setPtr(pfn, this.sp.wSlabCache, s);
    const num = this.v.u32(s, this.C.num);
    if (flags & CFLGS_OBJFREELIST_SLAB) freelist = this.index_to_obj(s, pfn, num - 1);
    this.sp.setPtr(pfn, this.sp.wFreelist, freelist);
    // cache_init_objs()
    const ctor = this.v.rp(s + this.C.ctor);
    for (let j = 0; j < num; j++) {
      if (ctor !== 0) this.d.kallsyms.call(ctor, this.index_to_obj(s, pfn, j));
      this.set_free_obj(pfn, j, j);
    }
    return pfn;
  }

  /** cache_grow_end(): the new slab (if any) onto its node's lists, under list_lock. */
  private cache_grow_end(s: number, pfn: number): void {
    if (pfn < 0) return;
    const k = this.d.kaddr;
    INIT_LIST_HEAD(k, this.sp.slabList(pfn));
    const n = this.get_node(s, this.d.pages.page_to_nid(pfn));
    const lock = this.listLock(n);
    this.d.locks.spin_lock(lock);
    this.v.addUl(n + this.N.total_slabs, 1);
    if (this.active(pfn) === 0) {
      list_add_tail(k, this.sp.slabList(pfn), n + this.N.slabs_free);
      this.v.addUl(n + this.N.free_slabs, 1);
    } else {
      this.fixup_slab_list(s, n, pfn);
    }
    this.v.addUl(n + this.N.free_objects, this.v.u32(s, this.C.num) - this.active(pfn));
    this.d.locks.spin_unlock(lock);
  }

  private kmem_freepages(s: number, pfn: number): void {
    this.sp.free(pfn, this.v.u32(s, this.C.gfporder), (this.v.u32(s, this.C.flags) & SLAB_RECLAIM_ACCOUNT) !== 0);
  }

  /** slab_destroy() */
  private slab_destroy(s: number, pfn: number): void {
    const flags = this.v.u32(s, this.C.flags) >>> 0;
    const freelist = this.sp.getPtr(pfn, this.sp.wFreelist);
    if (flags & SLAB_TYPESAFE_BY_RCU) {
      // rcu_head overlays slab_list
      this.d.rcu.call_rcu(this.sp.slabList(pfn), this.rcuFree);
    } else {
      this.kmem_freepages(s, pfn);
    }
    if (flags & CFLGS_OFF_SLAB) this.common.kmem_cache_free(this.v.rp(s + this.C.freelist_cache), freelist);
  }

  /** slabs_destroy(): the slabs free_block() took off the lists, after the lock is dropped. */
  private slabs_destroy(s: number, list: readonly number[]): void {
    for (const pfn of list) this.slab_destroy(s, pfn);
  }

  private kmem_rcu_free(head: number): number {
    const pfn = this.sp.pfnOfList(head);
    this.kmem_freepages(this.slab_cache(pfn), pfn);
    return 0;
  }

  /* free ------------------------------------------------------------------ */

  /** free_block() (n->list_lock held): nr objects of node from the pointer array at objpp back to their slabs. */
  private free_block(s: number, objpp: number, nr: number, node: number, list: number[]): void {
    for (let i = 0; i < nr; i++) this.free_one(s, this.v.rp(objpp + i * this.ptr), node);
    this.free_surplus(s, node, list);
  }

  /** free_block()'s loop body: one object back to its slab, the slab to the partial or free list. */
  private free_one(s: number, obj: number, node: number): void {
    const k = this.d.kaddr;
    const n = this.get_node(s, node);
    const pfn = this.folioPfn(obj);
    this.v.addUl(n + this.N.free_objects, 1);
    list_del(k, this.sp.slabList(pfn));
    this.slab_put_obj(s, pfn, obj);
    if (this.active(pfn) === 0) {
      list_add(k, this.sp.slabList(pfn), n + this.N.slabs_free);
      this.v.addUl(n + this.N.free_slabs, 1);
    } else {
      list_add_tail(k, this.sp.slabList(pfn), n + this.N.slabs_partial);
    }
  }

  /** The end of free_block(): free slabs beyond free_limit move to list, for slabs_destroy(). */
  private free_surplus(s: number, node: number, list: number[]): void {
    const k = this.d.kaddr;
    const n = this.get_node(s, node);
    const num = this.v.u32(s, this.C.num);
    while (this.v.ul(n + this.N.free_objects) > this.v.u32(n, this.N.free_limit) && !list_empty(k, n + this.N.slabs_free)) {
      this.v.addUl(n + this.N.free_objects, -num);
      const last = k.readPtr(n + this.N.slabs_free + this.ptr);
      list_del(k, last);
      this.v.addUl(n + this.N.free_slabs, -1);
      this.v.addUl(n + this.N.total_slabs, -1);
      list.push(this.sp.pfnOfList(last));
    }
  }

  /** Drop the first nr entries of ac (the memmove after a flush). */
  private shift(ac: number, nr: number): void {
    const avail = this.v.u32(ac, AC_AVAIL) - nr;
    for (let i = 0; i < avail; i++) this.v.wp(this.acEntry(ac, i), this.v.rp(this.acEntry(ac, i + nr)));
    this.v.set32(ac, AC_AVAIL, avail);
  }

  /** cache_flusharray(): batchcount objects to the shared array, or back to their slabs. */
  private cache_flusharray(s: number, ac: number): void {
    let batch = this.v.u32(ac, AC_BATCH);
    const node = this.numaNode();
    const n = this.get_node(s, node);
    const lock = this.listLock(n);
    const list: number[] = [];
    this.d.locks.spin_lock(lock);
    const shared = this.v.rp(n + this.N.shared);
    const max = shared !== 0 ? this.v.u32(shared, AC_LIMIT) - this.v.u32(shared, AC_AVAIL) : 0;
    if (max > 0) {
      if (batch > max) batch = max;
      const sa = this.v.u32(shared, AC_AVAIL);
      for (let i = 0; i < batch; i++) this.v.wp(this.acEntry(shared, sa + i), this.v.rp(this.acEntry(ac, i)));
      this.v.set32(shared, AC_AVAIL, sa + batch);
    } else {
      this.free_block(s, this.acEntry(ac, 0), batch, node, list);
    }
    this.d.locks.spin_unlock(lock);
    this.shift(ac, batch);
    this.slabs_destroy(s, list);
  }

  /** ___cache_free() (interrupts off); a remote node's object goes to cache_free_alien(). */
  private cache_free(s: number, obj: number): void {
    const node = this.numaNode();
    if (this.d.nrNodes > 1) {
      const slabNode = this.d.pages.page_to_nid(this.folioPfn(obj));
      if (slabNode !== node) {
        this.cache_free_alien(s, obj, node, slabNode);
        return;
      }
    }
    const ac = this.cpu_cache_get(s);
    if (this.v.u32(ac, AC_AVAIL) >= this.v.u32(ac, AC_LIMIT)) this.cache_flusharray(s, ac);
    this.push(ac, obj);
  }

  slab_free_object(s: number, x: number): boolean {
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const cachep = this.slab_cache(pfn);
    if (s !== 0 && cachep !== s) this.common.wrong_cache(s, cachep);
    const size = this.v.u32(cachep, this.C.size_);
    if ((x - this.s_mem(pfn)) % size !== 0 || x < this.s_mem(pfn)) return true;
    const flags = local_irq_save(this.d.sched);
    this.cache_free(cachep, x);
    local_irq_restore(this.d.sched, flags);
    return true;
  }

  /* shrinking, reaping ------------------------------------------------------ */

  /** drain_freelist(): destroy up to tofree free slabs of the node, each taken under list_lock. */
  private drain_freelist(s: number, n: number, tofree: number): number {
    const k = this.d.kaddr;
    const lock = this.listLock(n);
    let nr = 0;
    while (nr < tofree) {
      this.d.locks.spin_lock_irq(lock);
      if (list_empty(k, n + this.N.slabs_free)) {
        this.d.locks.spin_unlock_irq(lock);
        break;
      }
      const last = k.readPtr(n + this.N.slabs_free + this.ptr);
      list_del(k, last);
      this.v.addUl(n + this.N.free_slabs, -1);
      this.v.addUl(n + this.N.total_slabs, -1);
      this.v.addUl(n + this.N.free_objects, -this.v.u32(s, this.C.num));
      this.d.locks.spin_unlock_irq(lock);
      this.slab_destroy(s, this.sp.pfnOfList(last));
      nr++;
    }
    return nr;
  }

  /** drain_array_locked() (list_lock held): part (or all) of an array cache back to the slabs. */
  private drain_array_locked(s: number, ac: number, node: number, all: boolean, list: number[]): void {
    const avail = ac === 0 ? 0 : this.v.u32(ac, AC_AVAIL);
    if (avail === 0) return;
    let tofree = all ? avail : Math.floor((this.v.u32(ac, AC_LIMIT) + 4) / 5);
    if (tofree > avail) tofree = (avail + 1) >> 1;
    this.free_block(s, this.acEntry(ac, 0), tofree, node, list);
    this.shift(ac, tofree);
  }

  /** drain_array() (cache_reap): an untouched array loses a fifth of its limit; a touched one is marked untouched. */
  private drain_array(s: number, n: number, ac: number, node: number): void {
    if (ac === 0 || this.v.u32(ac, AC_AVAIL) === 0) return;
    if (this.v.u32(ac, AC_TOUCHED)) {
      this.v.set32(ac, AC_TOUCHED, 0);
      return;
    }
    const list: number[] = [];
    this.d.locks.spin_lock_irq(this.listLock(n));
    this.drain_array_locked(s, ac, node, false, list);
    this.d.locks.spin_unlock_irq(this.listLock(n));
    this.slabs_destroy(s, list);
  }

  /** drain_cpu_caches(): on_each_cpu(do_drain), the alien caches, the shared arrays. */
  private drain_cpu_caches(s: number): void {
    on_each_cpu(this.d.sched, this.d.smp, this.d.nrCpus, () => {
      // do_drain()
      const node = this.numaNode();
      const ac = this.cpu_cache_get(s);
      const lock = this.listLock(this.get_node(s, node));
      const list: number[] = [];
      this.d.locks.spin_lock(lock);
      this.free_block(s, this.acEntry(ac, 0), this.v.u32(ac, AC_AVAIL), node, list);
      this.d.locks.spin_unlock(lock);
      this.v.set32(ac, AC_AVAIL, 0);
      this.slabs_destroy(s, list);
    });
    for (let nid = 0; nid < this.d.nrNodes; nid++) this.drain_alien_cache(s, this.get_node(s, nid));
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      const list: number[] = [];
      this.d.locks.spin_lock_irq(this.listLock(n));
      this.drain_array_locked(s, this.v.rp(n + this.N.shared), nid, true, list);
      this.d.locks.spin_unlock_irq(this.listLock(n));
      this.slabs_destroy(s, list);
    }
  }

  __kmem_cache_shrink(s: number): number {
    this.drain_cpu_caches(s);
    const k = this.d.kaddr;
    let ret = 0;
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      this.drain_freelist(s, n, Infinity);
      if (!list_empty(k, n + this.N.slabs_full) || !list_empty(k, n + this.N.slabs_partial)) ret = 1;
    }
    return ret;
  }

  __kmem_cache_shutdown(s: number): number {
    return this.__kmem_cache_shrink(s);
  }

  __kmem_cache_release(s: number): void {
    const pcp = this.v.rp(s + this.C.cpu_cache);
    if (pcp !== 0) this.d.percpu.free_percpu(pcp);
    this.v.wp(s + this.C.cpu_cache, 0);
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      if (n === 0) continue;
      const sh = this.v.rp(n + this.N.shared);
      if (sh !== 0) this.common.kfree(sh);
      const arr = this.v.rp(n + this.N.alien);
      if (arr !== 0) {
        for (let r = 0; r < this.d.nrNodes; r++) if (this.v.rp(arr + r * this.ptr) !== 0) this.common.kfree(this.v.rp(arr + r * this.ptr));
        this.common.kfree(arr);
      }
      if (this.isSlab(this.folioPfn(n))) this.common.kfree(n);
      this.v.wp(s + this.C.node + nid * this.ptr, 0);
    }
  }

  /**
   * cache_reap(), the reap timer's work, run as the CPU it belongs to: its
   * array caches, one remote node's alien cache, and per node every
   * REAPTIMEOUT_NODE the shared array and some free slabs.
   */
  private cache_reap(): void {
    const cpu = this.d.sched.cpu;
    const node = this.numaNode();
    const reapNodePa = this.d.staticsPa + this.S.slab_reap_node + cpu * 4;
    const rn = this.w.r32(reapNodePa);
    const jiffies = this.jiffies;
    // cache creation or destruction on another CPU: give up till next time
    if (!this.common.slab_mutex_trylock()) return;
    for (const s of this.common.caches()) {
      const n = this.get_node(s, node);
      if (rn !== node) this.reap_alien(s, n, rn);
      this.drain_array(s, n, this.cpu_cache_get(s), node);
      if (this.v.ul(n + this.N.next_reap) > jiffies) continue;
      this.w.wlong(n - this.po + this.N.next_reap, jiffies + REAPTIMEOUT_NODE);
      this.drain_array(s, n, this.v.rp(n + this.N.shared), node);
      if (this.v.u32(n, this.N.free_touched)) {
        this.v.set32(n, this.N.free_touched, 0);
      } else {
        const num = this.v.u32(s, this.C.num);
        this.drain_freelist(s, n, Math.floor((this.v.u32(n, this.N.free_limit) + 5 * num - 1) / (5 * num)));
      }
    }
    this.common.slab_mutex_unlock();
    // next_reap_node()
    this.w.w32(reapNodePa, (rn + 1) % this.d.nrNodes);
  }

  /**
   * The simulated timer: SLAB's jiffies advance by ms, and each CPU this
   * host thread drives runs its cache_reap() as often as its 2 s have
   * passed (as that CPU, interrupts on: a workqueue item).
   */
  reap_tick(ms: number): void {
    this.timer.tick(ms, this.reapWork);
  }

  /* /proc/slabinfo ----------------------------------------------------------- */

  get_slabinfo(s: number, out: SlabInfo): void {
    let total = 0;
    let free = 0;
    let freeObjs = 0;
    let sharedAvail = 0;
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      const lock = this.listLock(n);
      this.d.locks.spin_lock_irq(lock);
      total += this.v.ul(n + this.N.total_slabs);
      free += this.v.ul(n + this.N.free_slabs);
      freeObjs += this.v.ul(n + this.N.free_objects);
      const sh = this.v.rp(n + this.N.shared);
      if (sh !== 0) sharedAvail += this.v.u32(sh, AC_AVAIL);
      this.d.locks.spin_unlock_irq(lock);
    }
    const num = this.v.u32(s, this.C.num);
    out.num_objs = total * num;
    out.active_slabs = total - free;
    out.num_slabs = total;
    out.active_objs = out.num_objs - freeObjs;
    out.shared_avail = sharedAvail;
    out.limit = this.v.u32(s, this.C.limit);
    out.batchcount = this.v.u32(s, this.C.batchcount);
    out.shared = this.v.u32(s, this.C.shared);
    out.objects_per_slab = num;
    out.cache_order = this.v.u32(s, this.C.gfporder);
  }

  /** slabinfo_write(): "name limit batchcount shared"; the bytes consumed or -EINVAL. */
  slabinfo_write(text: string): number {
    const m = /^\s*(\S+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)/.exec(text);
    if (!m) return -EINVAL;
    const [limit, batch, shared] = [+m[2], +m[3], +m[4]];
    if (limit < 1 || batch < 1 || batch > limit || shared < 0) return -EINVAL;
    const s = this.common.caches().find((c) => this.common.cacheName(c) === m[1]);
    if (s === undefined) return -EINVAL;
    const r = this.do_tune_cpucache(s, limit, batch, shared);
    return r < 0 ? r : text.length;
  }

  /* the rest of the interface ---------------------------------------------------- */

  slab_ksize(s: number): number {
    return this.v.u32(s, this.C.object_size);
  }

  object_is_free(s: number, slabPfn: number, obj: number): boolean {
    const idx = this.obj_to_index(s, slabPfn, obj);
    for (let i = this.active(slabPfn); i < this.v.u32(s, this.C.num); i++) if (this.get_free_obj(slabPfn, i) === idx) return true;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const ac = this.cpu_cache_get(s, cpu);
      for (let i = 0; i < this.v.u32(ac, AC_AVAIL); i++) if (this.v.rp(this.acEntry(ac, i)) === obj) return true;
    }
    return false;
  }

  /** Tunables and lists of a cache, for tests. */
  tunables(s: number): { limit: number; batchcount: number; shared: number; num: number; gfporder: number; colour: number; colour_off: number; offSlab: boolean; objFreelist: boolean } {
    const f = this.v.u32(s, this.C.flags) >>> 0;
    return {
      limit: this.v.u32(s, this.C.limit), batchcount: this.v.u32(s, this.C.batchcount), shared: this.v.u32(s, this.C.shared),
      num: this.v.u32(s, this.C.num), gfporder: this.v.u32(s, this.C.gfporder), colour: this.v.ul(s + this.C.colour),
      colour_off: this.v.u32(s, this.C.colour_off), offSlab: (f & CFLGS_OFF_SLAB) !== 0, objFreelist: (f & CFLGS_OBJFREELIST_SLAB) !== 0,
    };
  }

  /** The colour offset of the slab at pfn (s_mem - page address). */
  colourOffset(pfn: number): number {
    return this.s_mem(pfn) - (this.po + pfn * PAGE_SIZE);
  }

  /** The slab at pfn as the tests' census reads it (SLUB's slabState() shape). */
  slabState(pfn: number): { inuse: number; objects: number; frozen: boolean } {
    return { inuse: this.active(pfn), objects: this.v.u32(this.slab_cache(pfn), this.C.num), frozen: false };
  }

  /** avail of a CPU's array cache. */
  cpuAvail(s: number, cpu: number): number {
    return this.v.u32(this.cpu_cache_get(s, cpu), AC_AVAIL);
  }

  /** avail of node's alien cache for remote node nid (-1: none). */
  alienAvail(s: number, node: number, nid: number): number {
    const alc = this.alien_cache(this.get_node(s, node), nid);
    return alc === 0 ? -1 : this.v.u32(alc + this.ptr, AC_AVAIL);
  }

  /** The lock words of a cache's node structures and alien caches, for tests (physical addresses). */
  lockWords(s: number): number[] {
    const out: number[] = [];
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      out.push(this.listLock(n));
      for (let r = 0; r < this.d.nrNodes; r++) if (this.alien_cache(n, r) !== 0) out.push(this.alien_cache(n, r) - this.po);
    }
    return out;
  }
}
