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
 *    caches up to 32 MiB) and larger requests get pages.
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
 * Not modelled: the alien_cache's lock (the array cache alone is kept),
 * CONFIG_DEBUG_SLAB, freelist randomisation, CPU hotplug, the static
 * init_kmem_cache_node[] array (the boot caches' node structures are in a
 * page from the page allocator). struct slab under SLAB: slab_cache,
 * slab_list and freelist where 6.12's struct slab has them; s_mem and
 * active share the counters word (colour offset in the high 16 bits,
 * active in the low 16) as 6.12's struct page has no room for both on i386.
 */
import { PAGE_SIZE, ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { RamWords } from '../machine/ram_words.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Rcu } from '../kernel/rcu.ts';
import { INIT_LIST_HEAD, list_add, list_add_tail, list_del, list_empty } from '../lib/list.ts';
import { GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_DMA, __GFP_RECLAIMABLE, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { SLAB_CACHE_DMA, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU, ZERO_SIZE_PTR } from '../include/linux/slab.ts';
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './mmzone.ts';
import { PGTY_slab, type Pages } from './page.ts';
import type { PageAllocator } from './page_alloc.ts';
import type { Percpu } from './percpu.ts';
import type { SlabCommon } from './slab_common.ts';
import { FULL, slabLayout, type KmemCacheArgs, type KmemCacheCommon, type SlabAllocator, type SlabInfo } from './slab_types.ts';

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

export interface SlabDeps {
  layout: ArchLayout;
  mem: PhysMem;
  words: RamWords;
  kaddr: KernelAddr;
  pages: Pages;
  buddy: PageAllocator;
  percpu: Percpu;
  sched: Sched;
  kallsyms: Kallsyms;
  rcu: Rcu;
  nrCpus: number;
  cpuToNode: readonly number[];
  nrNodes: number;
  /** Physical address of SLAB's statics (staticBytes()). */
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
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly w: RamWords;
  private readonly wSlabCache: number;
  private readonly wFreelist: number;
  private readonly wCounters: number;
  private readonly slabListOff: number;
  private slabMaxOrder = 0;
  /** Early node structures (init_kmem_cache_node[]) until kmalloc can give them. */
  private earlyNodes = 0;
  private earlyLeft = 0;
  private rcuFree = 0;
  /** SLAB's jiffies (ms) and each CPU's next reap */
  private jiffies = 0;
  private readonly nextReap: number[];
  /** slab_reap_node: the remote node whose alien cache each CPU drains next */
  private readonly reapNode: number[];

  constructor(private readonly d: SlabDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.po = d.layout.PAGE_OFFSET;
    this.w = d.words;
    this.C = cacheLayout(this.ptr);
    this.N = nodeLayout(this.ptr);
    this.cache = this.C;
    this.kmemCacheBytes = this.C.node + d.nrNodes * this.ptr;
    const sl = slabLayout(this.ptr);
    this.wSlabCache = sl.slab_cache >> 2;
    this.wFreelist = sl.freelist >> 2;
    this.wCounters = sl.counters >> 2;
    this.slabListOff = sl.slab_list;
    this.nextReap = new Array<number>(d.nrCpus).fill(REAPTIMEOUT_AC);
    // init_reap_node(): the node after the CPU's own
    this.reapNode = Array.from({ length: d.nrCpus }, (_, cpu) => ((d.cpuToNode[cpu] ?? 0) + 1) % d.nrNodes);
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

  private get_node(s: number, node: number): number {
    return this.rp(s + this.C.node + node * this.ptr);
  }

  private cpu_cache_get(s: number, cpu = this.d.sched.cpu): number {
    const p = this.rp(s + this.C.cpu_cache);
    return this.po + this.d.percpu.per_cpu_ptr_pa(p, cpu);
  }

  private numaNode(): number {
    return this.d.cpuToNode[this.d.sched.cpu] ?? 0;
  }

  /* struct slab (the head page's struct page) ---------------------------- */

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

  private active(pfn: number): number {
    const [a, i] = this.pw(pfn);
    return a[i + this.wCounters] & 0xffff;
  }

  private setActive(pfn: number, v: number): void {
    const [a, i] = this.pw(pfn);
    a[i + this.wCounters] = (a[i + this.wCounters] & ~0xffff) | v;
  }

  private s_mem(pfn: number): number {
    const [a, i] = this.pw(pfn);
    return this.po + pfn * PAGE_SIZE + (a[i + this.wCounters] >>> 16);
  }

  private slabList(pfn: number): number {
    return this.d.pages.pfn_to_page(pfn) + this.slabListOff;
  }

  private pfnOfList(pos: number): number {
    return this.d.pages.page_to_pfn(pos - this.slabListOff);
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

  /* the freelist ------------------------------------------------------- */

  private get_free_obj(pfn: number, idx: number): number {
    return this.d.mem.read8(this.getPtrW(pfn, this.wFreelist) - this.po + idx * IDX);
  }

  private set_free_obj(pfn: number, idx: number, v: number): void {
    this.d.mem.write8(this.getPtrW(pfn, this.wFreelist) - this.po + idx * IDX, v);
  }

  private index_to_obj(s: number, pfn: number, idx: number): number {
    return this.s_mem(pfn) + this.u32(s, this.C.size_) * idx;
  }

  private obj_to_index(s: number, pfn: number, obj: number): number {
    return Math.floor((obj - this.s_mem(pfn)) / this.u32(s, this.C.size_));
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
    if (this.getPtrW(pfn, this.wFreelist) === 0) this.setPtrW(pfn, this.wFreelist, obj);
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
        if ((this.u32(fc, this.C.flags) >>> 0) & CFLGS_OFF_SLAB) continue;
        if (this.u32(fc, this.C.size_) > size / 2) continue;
      }
      this.set32(s, this.C.num, num);
      this.set32(s, this.C.gfporder, order);
      leftOver = rem;
      if (flags & SLAB_RECLAIM_ACCOUNT) break;
      if (order >= this.slabMaxOrder) break;
      if (leftOver * 8 <= PAGE_SIZE << order) break;
    }
    return leftOver;
  }

  /** The layout choice of __kmem_cache_create(): 0 on-slab, or a CFLGS_ flag; -1 if nothing fits. */
  private choose_layout(s: number, size: number, flags: number, ctor: number): number {
    const colourOff = this.u32(s, this.C.colour_off);
    const setColour = (left: number) => this.setUl(s + this.C.colour, Math.floor(left / colourOff));
    // set_objfreelist_slab_cache()
    this.set32(s, this.C.num, 0);
    if (ctor === 0 && !(flags & SLAB_TYPESAFE_BY_RCU)) {
      const left = this.calculate_slab_order(s, size, flags | CFLGS_OBJFREELIST_SLAB);
      const num = this.u32(s, this.C.num);
      if (num !== 0 && num * IDX <= this.u32(s, this.C.object_size)) {
        setColour(left);
        return CFLGS_OBJFREELIST_SLAB;
      }
    }
    // set_off_slab_cache(): only once kmalloc can hold the freelist
    this.set32(s, this.C.num, 0);
    if (this.common.slab_state >= FULL - 1) {
      const left = this.calculate_slab_order(s, size, flags | CFLGS_OFF_SLAB);
      const num = this.u32(s, this.C.num);
      if (num !== 0 && left < num * IDX) {
        setColour(left);
        return CFLGS_OFF_SLAB;
      }
    }
    // set_on_slab_cache()
    this.set32(s, this.C.num, 0);
    const left = this.calculate_slab_order(s, size, flags);
    if (this.u32(s, this.C.num) === 0) return -1;
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
    const boot = this.po + this.d.buddy.__alloc_pages(GFP_NOWAIT, 0, -1) * PAGE_SIZE;
    this.d.mem.fill(boot - this.po, PAGE_SIZE, 0);
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
    this.set32(s, this.C.object_size, objectSize);
    this.set32(s, this.C.useroffset, args.useroffset);
    this.set32(s, this.C.usersize, args.usersize);
    this.w.wptr(pa + this.C.ctor, args.ctor);
    let size = Math.ceil(objectSize / this.ptr) * this.ptr;
    const align = Math.max(this.ptr, args.align);
    this.set32(s, this.C.align, align);
    this.set32(s, this.C.colour_off, Math.max(this.d.layout.cacheLine, align));
    size = Math.ceil(size / align) * align;
    if (size < SLAB_OBJ_MIN_SIZE) size = Math.ceil(SLAB_OBJ_MIN_SIZE / align) * align;
    this.set32(s, this.C.size_, size);
    this.set32(s, this.C.inuse, size);
    const cf = this.choose_layout(s, size, flags, args.ctor);
    if (cf < 0) return -E2BIG;
    const num = this.u32(s, this.C.num);
    this.set32(s, this.C.freelist_size, num * IDX);
    this.set32(s, this.C.flags, (flags | cf) >>> 0);
    let allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) allocflags |= __GFP_DMA;
    if (flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    this.set32(s, this.C.allocflags, allocflags);
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

  /** A kmem_cache_node: kmalloc'd once kmalloc can, else from the early page. */
  private alloc_node_struct(node: number): number {
    let n = 0;
    if (this.common.kmalloc_slab(this.N.size, GFP_KERNEL) !== 0 && this.common.slab_state >= FULL - 1) {
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
    if (n === 0) return 0;
    this.d.mem.fill(n - this.po, this.N.size, 0);
    const k = this.d.kaddr;
    for (const l of [this.N.slabs_partial, this.N.slabs_full, this.N.slabs_free]) INIT_LIST_HEAD(k, n + l);
    this.set32(n, this.N.colour_next, 0);
    this.setUl(n + this.N.next_reap, this.jiffies + REAPTIMEOUT_NODE + ((this.d.sched.cpu * 7 + node) % 1000));
    return n;
  }

  /** enable_cpucache(): the default tunables for the object size. */
  private enable_cpucache(s: number): number {
    const size = this.u32(s, this.C.size_);
    const limit = size > 131072 ? 1 : size > PAGE_SIZE ? 8 : size > 1024 ? 24 : size > 256 ? 54 : 120;
    const shared = size <= PAGE_SIZE && this.d.nrCpus > 1 ? 8 : 0;
    return this.do_tune_cpucache(s, limit, (limit + 1) >> 1, shared);
  }

  private acBytes(limit: number): number {
    return 4 * 4 + limit * this.ptr;
  }

  private init_ac(ac: number, limit: number, batch: number): void {
    this.set32(ac, 0, 0);
    this.set32(ac, 4, limit);
    this.set32(ac, 8, batch);
    this.set32(ac, 12, 0);
  }

  private acEntry(ac: number, i: number): number {
    return ac + 16 + i * this.ptr;
  }

  /** do_tune_cpucache(): new per-CPU arrays, the old ones drained; the nodes' shared arrays and free_limit. */
  private do_tune_cpucache(s: number, limit: number, batch: number, shared: number): number {
    const pcp = this.d.percpu.__alloc_percpu(this.acBytes(limit), this.ptr, true);
    if (pcp === 0) return -ENOMEM;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) this.init_ac(this.po + this.d.percpu.per_cpu_ptr_pa(pcp, cpu), limit, batch);
    const old = this.rp(s + this.C.cpu_cache);
    if (old !== 0) {
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        const ac = this.po + this.d.percpu.per_cpu_ptr_pa(old, cpu);
        const node = this.d.cpuToNode[cpu] ?? 0;
        this.free_block(s, ac, this.u32(ac, 0), node);
        this.set32(ac, 0, 0);
      }
      this.d.percpu.free_percpu(old);
    }
    this.wp(s + this.C.cpu_cache, pcp);
    this.set32(s, this.C.limit, limit);
    this.set32(s, this.C.batchcount, batch);
    this.set32(s, this.C.shared, shared);
    // setup_kmem_cache_node() for each node
    for (let node = 0; node < this.d.nrNodes; node++) {
      const n = this.get_node(s, node);
      const old = this.rp(n + this.N.shared);
      let sh = 0;
      if (shared) {
        sh = this.common.__kmalloc_node(this.acBytes(shared * batch), GFP_KERNEL, node);
        if (sh !== 0) this.init_ac(sh, shared * batch, 0xbaadf00d);
      }
      if (old !== 0) {
        this.free_block(s, old, this.u32(old, 0), node);
        this.common.kfree(old);
      }
      this.wp(n + this.N.shared, sh);
      this.setup_alien(n, node, limit);
      const cpusOnNode = this.d.cpuToNode.filter((x) => x === node).length;
      this.set32(n, this.N.free_limit, (1 + cpusOnNode) * batch + this.u32(s, this.C.num));
    }
    return 0;
  }

  /* allocation ------------------------------------------------------------ */

  slab_alloc_node(s: number, gfp: number, nodeid: number): number {
    const node = nodeid < 0 ? this.numaNode() : nodeid;
    let obj: number;
    if (nodeid >= 0 && nodeid !== this.numaNode()) {
      obj = this.alloc_from_node(s, gfp, node);
    } else {
      const ac = this.cpu_cache_get(s);
      const avail = this.u32(ac, 0);
      if (avail !== 0) {
        this.set32(ac, 12, 1);
        this.set32(ac, 0, avail - 1);
        obj = this.rp(this.acEntry(ac, avail - 1));
      } else {
        obj = this.cache_alloc_refill(s, gfp, node);
      }
    }
    return obj;
  }

  /** ____cache_alloc_node(): one object straight from a node's slabs. */
  private alloc_from_node(s: number, gfp: number, node: number): number {
    const n = this.get_node(s, node);
    let pfn = this.get_first_slab(n);
    if (pfn < 0) {
      pfn = this.cache_grow_begin(s, gfp, node);
      if (pfn < 0) return 0;
      this.cache_grow_end(s, pfn);
      pfn = this.get_first_slab(n);
      if (pfn < 0) return 0;
    }
    const obj = this.slab_get_obj(s, pfn);
    this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) - 1);
    this.fixup_slab_list(s, n, pfn);
    return obj;
  }

  private get_first_slab(n: number): number {
    const k = this.d.kaddr;
    for (const l of [this.N.slabs_partial, this.N.slabs_free]) {
      const head = n + l;
      const first = k.readPtr(head);
      if (first !== head) {
        if (l === this.N.slabs_free) this.setUl(n + this.N.free_slabs, this.ul(n + this.N.free_slabs) - 1);
        return this.pfnOfList(first);
      }
    }
    return -1;
  }

  private fixup_slab_list(s: number, n: number, pfn: number): void {
    const k = this.d.kaddr;
    list_del(k, this.slabList(pfn));
    if (this.active(pfn) === this.u32(s, this.C.num)) {
      list_add(k, this.slabList(pfn), n + this.N.slabs_full);
      if (this.u32(s, this.C.flags) & CFLGS_OBJFREELIST_SLAB) this.setPtrW(pfn, this.wFreelist, 0);
    } else {
      list_add(k, this.slabList(pfn), n + this.N.slabs_partial);
    }
  }

  private alloc_block(s: number, ac: number, pfn: number, batch: number): number {
    const num = this.u32(s, this.C.num);
    while (this.active(pfn) < num && batch-- > 0) {
      const avail = this.u32(ac, 0);
      this.wp(this.acEntry(ac, avail), this.slab_get_obj(s, pfn));
      this.set32(ac, 0, avail + 1);
    }
    return batch;
  }

  /** transfer_objects(): up to max entries from the end of from to to. */
  private transfer_objects(to: number, from: number, max: number): number {
    const nr = Math.min(this.u32(from, 0), max, this.u32(to, 4) - this.u32(to, 0));
    if (nr <= 0) return 0;
    const fa = this.u32(from, 0) - nr;
    const ta = this.u32(to, 0);
    for (let i = 0; i < nr; i++) this.wp(this.acEntry(to, ta + i), this.rp(this.acEntry(from, fa + i)));
    this.set32(from, 0, fa);
    this.set32(to, 0, ta + nr);
    return nr;
  }

  private cache_alloc_refill(s: number, gfp: number, node: number): number {
    const ac = this.cpu_cache_get(s);
    let batch = this.u32(ac, 8);
    if (!this.u32(ac, 12) && batch > BATCHREFILL_LIMIT) batch = BATCHREFILL_LIMIT;
    const n = this.get_node(s, node);
    const shared = this.rp(n + this.N.shared);
    const freeObjs = this.ul(n + this.N.free_objects);
    if (freeObjs !== 0 || (shared !== 0 && this.u32(shared, 0) !== 0)) {
      if (shared !== 0 && this.transfer_objects(ac, shared, batch)) {
        this.set32(shared, 12, 1);
      } else {
        while (batch > 0) {
          const pfn = this.get_first_slab(n);
          if (pfn < 0) break;
          batch = this.alloc_block(s, ac, pfn, batch);
          this.fixup_slab_list(s, n, pfn);
        }
        this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) - this.u32(ac, 0));
      }
    }
    if (this.u32(ac, 0) === 0) {
      // direct_grow
      const pfn = this.cache_grow_begin(s, gfp, node);
      if (pfn >= 0) {
        this.alloc_block(s, ac, pfn, batch);
        this.cache_grow_end(s, pfn);
      }
      if (this.u32(ac, 0) === 0) return 0;
    }
    this.set32(ac, 12, 1);
    const avail = this.u32(ac, 0) - 1;
    this.set32(ac, 0, avail);
    return this.rp(this.acEntry(ac, avail));
  }

  /** cache_grow_begin(): a new slab (pages, colour, freelist, constructed objects); its pfn or -1. */
  private cache_grow_begin(s: number, gfp: number, node: number): number {
    const order = this.u32(s, this.C.gfporder);
    const flags = this.u32(s, this.C.flags) >>> 0;
    const pfn = this.d.buddy.__alloc_pages((gfp & ~__GFP_ZERO) | this.u32(s, this.C.allocflags), order, node);
    if (pfn < 0) return -1;
    this.d.pages.setType(pfn, PGTY_slab);
    const item = flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B;
    this.common.mod_node_page_state(this.d.pages.page_to_nid(pfn), item, PAGE_SIZE << order);
    const n = this.get_node(s, this.d.pages.page_to_nid(pfn));
    let colour = this.u32(n, this.N.colour_next);
    const next = colour + 1;
    this.set32(n, this.N.colour_next, next >= this.ul(s + this.C.colour) ? 0 : next);
    const offset = colour * this.u32(s, this.C.colour_off);
    colour = offset;
    const addr = this.po + pfn * PAGE_SIZE;
    // alloc_slabmgmt()
    const [a, i] = this.pw(pfn);
    a[i + this.wCounters] = (offset << 16) | 0;
    let freelist = 0;
    if (flags & CFLGS_OFF_SLAB) {
      freelist = this.common.kmem_cache_alloc_node(this.rp(s + this.C.freelist_cache), gfp & ~__GFP_ZERO, node);
      if (freelist === 0) {
        this.kmem_freepages(s, pfn);
        return -1;
      }
    } else if (!(flags & CFLGS_OBJFREELIST_SLAB)) {
      freelist = addr + (PAGE_SIZE << order) - this.u32(s, this.C.freelist_size);
    }
    this.setPtrW(pfn, this.wSlabCache, s);
    const num = this.u32(s, this.C.num);
    if (flags & CFLGS_OBJFREELIST_SLAB) freelist = this.index_to_obj(s, pfn, num - 1);
    this.setPtrW(pfn, this.wFreelist, freelist);
    // cache_init_objs()
    const ctor = this.w.rptr(s - this.po + this.C.ctor);
    for (let j = 0; j < num; j++) {
      if (ctor !== 0) this.d.kallsyms.call(ctor, this.index_to_obj(s, pfn, j));
      this.set_free_obj(pfn, j, j);
    }
    void colour;
    return pfn;
  }

  private cache_grow_end(s: number, pfn: number): void {
    const k = this.d.kaddr;
    INIT_LIST_HEAD(k, this.slabList(pfn));
    const n = this.get_node(s, this.d.pages.page_to_nid(pfn));
    this.setUl(n + this.N.total_slabs, this.ul(n + this.N.total_slabs) + 1);
    if (this.active(pfn) === 0) {
      list_add_tail(k, this.slabList(pfn), n + this.N.slabs_free);
      this.setUl(n + this.N.free_slabs, this.ul(n + this.N.free_slabs) + 1);
    } else {
      this.fixup_slab_list(s, n, pfn);
    }
    this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) + this.u32(s, this.C.num) - this.active(pfn));
  }

  private kmem_freepages(s: number, pfn: number): void {
    const order = this.u32(s, this.C.gfporder);
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

  /** slab_destroy() */
  private slab_destroy(s: number, pfn: number): void {
    const flags = this.u32(s, this.C.flags) >>> 0;
    const freelist = this.getPtrW(pfn, this.wFreelist);
    if (flags & SLAB_TYPESAFE_BY_RCU) {
      // rcu_head overlays slab_list
      this.d.rcu.call_rcu(this.slabList(pfn), this.rcuFree);
    } else {
      this.kmem_freepages(s, pfn);
    }
    if (flags & CFLGS_OFF_SLAB) this.common.kmem_cache_free(this.rp(s + this.C.freelist_cache), freelist);
  }

  private kmem_rcu_free(head: number): number {
    const pfn = this.pfnOfList(head);
    this.kmem_freepages(this.slab_cache(pfn), pfn);
    return 0;
  }

  /* free ------------------------------------------------------------------ */

  /** free_block(): nr objects from ac's front back to their slabs; surplus free slabs destroyed. */
  private free_block(s: number, ac: number, nr: number, node: number): void {
    const objs: number[] = [];
    for (let i = 0; i < nr; i++) objs.push(this.rp(this.acEntry(ac, i)));
    this.free_objs(s, objs, node);
  }

  /** free_block() over objects given by value. */
  private free_objs(s: number, objs: readonly number[], node: number): void {
    const k = this.d.kaddr;
    const destroy: number[] = [];
    for (const obj of objs) {
      const pfn = this.folioPfn(obj);
      const n = this.get_node(s, this.d.pages.page_to_nid(pfn));
      this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) + 1);
      list_del(k, this.slabList(pfn));
      this.slab_put_obj(s, pfn, obj);
      if (this.active(pfn) === 0) {
        list_add(k, this.slabList(pfn), n + this.N.slabs_free);
        this.setUl(n + this.N.free_slabs, this.ul(n + this.N.free_slabs) + 1);
      } else {
        list_add_tail(k, this.slabList(pfn), n + this.N.slabs_partial);
      }
    }
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      const num = this.u32(s, this.C.num);
      while (this.ul(n + this.N.free_objects) > this.u32(n, this.N.free_limit) && !list_empty(k, n + this.N.slabs_free)) {
        this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) - num);
        const last = k.readPtr(n + this.N.slabs_free + this.ptr);
        list_del(k, last);
        this.setUl(n + this.N.free_slabs, this.ul(n + this.N.free_slabs) - 1);
        this.setUl(n + this.N.total_slabs, this.ul(n + this.N.total_slabs) - 1);
        destroy.push(this.pfnOfList(last));
      }
    }
    void node;
    for (const pfn of destroy) this.slab_destroy(s, pfn);
  }

  /** Drop the first nr entries of ac. */
  private shift(ac: number, nr: number): void {
    const avail = this.u32(ac, 0) - nr;
    for (let i = 0; i < avail; i++) this.wp(this.acEntry(ac, i), this.rp(this.acEntry(ac, i + nr)));
    this.set32(ac, 0, avail);
  }

  private cache_flusharray(s: number, ac: number): void {
    let batch = this.u32(ac, 8);
    const node = this.numaNode();
    const n = this.get_node(s, node);
    const shared = this.rp(n + this.N.shared);
    if (shared !== 0) {
      const max = this.u32(shared, 4) - this.u32(shared, 0);
      if (max > 0) {
        if (batch > max) batch = max;
        const sa = this.u32(shared, 0);
        for (let i = 0; i < batch; i++) this.wp(this.acEntry(shared, sa + i), this.rp(this.acEntry(ac, i)));
        this.set32(shared, 0, sa + batch);
        this.shift(ac, batch);
        return;
      }
    }
    this.free_block(s, ac, batch, node);
    this.shift(ac, batch);
  }

  /** alloc_alien_cache() for each other node, once kmalloc works (setup_kmem_cache_node()). */
  private setup_alien(n: number, node: number, limit: number): void {
    if (this.d.nrNodes < 2 || this.rp(n + this.N.alien) !== 0 || this.common.slab_state < FULL - 1) return;
    const arr = this.common.__kmalloc_node(this.d.nrNodes * this.ptr, GFP_KERNEL, node);
    if (arr === 0) return;
    const lim = limit > 1 ? 12 : limit;
    for (let i = 0; i < this.d.nrNodes; i++) {
      let ac = 0;
      if (i !== node) {
        ac = this.common.__kmalloc_node(this.acBytes(lim), GFP_KERNEL, node);
        if (ac !== 0) this.init_ac(ac, lim, 0xbaadf00d);
      }
      this.wp(arr + i * this.ptr, ac);
    }
    this.wp(n + this.N.alien, arr);
  }

  /** n->alien[nid]'s array cache, 0 if none. */
  private alien_ac(n: number, nid: number): number {
    const arr = this.rp(n + this.N.alien);
    return arr === 0 ? 0 : this.rp(arr + nid * this.ptr);
  }

  /** __drain_alien_cache(): to the remote node's shared array, the rest back to its slabs. */
  private drain_alien_ac(s: number, ac: number, nid: number): void {
    if (ac === 0 || this.u32(ac, 0) === 0) return;
    const sh = this.rp(this.get_node(s, nid) + this.N.shared);
    if (sh !== 0) this.transfer_objects(sh, ac, this.u32(ac, 4));
    this.free_block(s, ac, this.u32(ac, 0), nid);
    this.set32(ac, 0, 0);
  }

  /** ___cache_free(); a remote node's object goes to the alien cache for its node (cache_free_alien()). */
  private cache_free(s: number, obj: number): void {
    const pfn = this.folioPfn(obj);
    const pageNode = this.d.pages.page_to_nid(pfn);
    if (this.d.nrNodes > 1 && pageNode !== this.numaNode()) {
      const ac = this.alien_ac(this.get_node(s, this.numaNode()), pageNode);
      if (ac === 0) {
        this.free_objs(s, [obj], pageNode);
        return;
      }
      if (this.u32(ac, 0) >= this.u32(ac, 4)) this.drain_alien_ac(s, ac, pageNode);
      const avail = this.u32(ac, 0);
      this.wp(this.acEntry(ac, avail), obj);
      this.set32(ac, 0, avail + 1);
      return;
    }
    const ac = this.cpu_cache_get(s);
    if (this.u32(ac, 0) >= this.u32(ac, 4)) this.cache_flusharray(s, ac);
    const avail = this.u32(ac, 0);
    this.wp(this.acEntry(ac, avail), obj);
    this.set32(ac, 0, avail + 1);
  }

  slab_free_object(s: number, x: number): boolean {
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const cachep = this.slab_cache(pfn);
    if (s !== 0 && cachep !== s) this.common.wrong_cache(s, cachep);
    const c = cachep;
    const size = this.u32(c, this.C.size_);
    if ((x - this.s_mem(pfn)) % size !== 0 || x < this.s_mem(pfn)) return true;
    this.cache_free(c, x);
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

  /* shrinking, reaping ------------------------------------------------------ */

  /** drain_freelist(): destroy up to tofree free slabs of the node. */
  private drain_freelist(s: number, n: number, tofree: number): number {
    const k = this.d.kaddr;
    let nr = 0;
    while (nr < tofree && !list_empty(k, n + this.N.slabs_free)) {
      const last = k.readPtr(n + this.N.slabs_free + this.ptr);
      list_del(k, last);
      this.setUl(n + this.N.free_slabs, this.ul(n + this.N.free_slabs) - 1);
      this.setUl(n + this.N.total_slabs, this.ul(n + this.N.total_slabs) - 1);
      this.setUl(n + this.N.free_objects, this.ul(n + this.N.free_objects) - this.u32(s, this.C.num));
      this.slab_destroy(s, this.pfnOfList(last));
      nr++;
    }
    return nr;
  }

  /** drain_array(): give back part (or all) of an array cache. */
  private drain_array(s: number, ac: number, node: number, all: boolean): void {
    if (ac === 0 || this.u32(ac, 0) === 0) return;
    if (!all && this.u32(ac, 12)) {
      this.set32(ac, 12, 0);
      return;
    }
    let tofree = all ? this.u32(ac, 0) : Math.floor((this.u32(ac, 4) + 4) / 5);
    if (tofree > this.u32(ac, 0)) tofree = (this.u32(ac, 0) + 1) >> 1;
    this.free_block(s, ac, tofree, node);
    this.shift(ac, tofree);
  }

  private drain_cpu_caches(s: number): void {
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) this.drain_array(s, this.cpu_cache_get(s, cpu), this.d.cpuToNode[cpu] ?? 0, true);
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      for (let r = 0; r < this.d.nrNodes; r++) this.drain_alien_ac(s, this.alien_ac(this.get_node(s, nid), r), r);
    }
    for (let nid = 0; nid < this.d.nrNodes; nid++) this.drain_array(s, this.rp(this.get_node(s, nid) + this.N.shared), nid, true);
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
    const pcp = this.rp(s + this.C.cpu_cache);
    if (pcp !== 0) this.d.percpu.free_percpu(pcp);
    this.wp(s + this.C.cpu_cache, 0);
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      if (n === 0) continue;
      const sh = this.rp(n + this.N.shared);
      if (sh !== 0) this.common.kfree(sh);
      const arr = this.rp(n + this.N.alien);
      if (arr !== 0) {
        for (let r = 0; r < this.d.nrNodes; r++) if (this.rp(arr + r * this.ptr) !== 0) this.common.kfree(this.rp(arr + r * this.ptr));
        this.common.kfree(arr);
      }
      if (this.isSlab(this.folioPfn(n))) this.common.kfree(n);
      this.wp(s + this.C.node + nid * this.ptr, 0);
    }
  }

  /** cache_reap() on one CPU: its array caches, and per node every REAPTIMEOUT_NODE the shared array and free slabs. */
  cache_reap(cpu: number): void {
    const node = this.d.cpuToNode[cpu] ?? 0;
    for (const s of this.common.caches()) {
      const n = this.get_node(s, node);
      // reap_alien(): this CPU's turn at one remote node
      const rn = this.reapNode[cpu];
      if (rn !== node) this.drain_alien_ac(s, this.alien_ac(n, rn), rn);
      this.drain_array(s, this.cpu_cache_get(s, cpu), node, false);
      if (this.ul(n + this.N.next_reap) > this.jiffies) continue;
      this.setUl(n + this.N.next_reap, this.jiffies + REAPTIMEOUT_NODE);
      this.drain_array(s, this.rp(n + this.N.shared), node, false);
      if (this.u32(n, this.N.free_touched)) {
        this.set32(n, this.N.free_touched, 0);
      } else {
        const num = this.u32(s, this.C.num);
        this.drain_freelist(s, n, Math.floor((this.u32(n, this.N.free_limit) + 5 * num - 1) / (5 * num)));
      }
    }
    // next_reap_node()
    this.reapNode[cpu] = (this.reapNode[cpu] + 1) % this.d.nrNodes;
  }

  /** The simulated timer: advance SLAB's jiffies by ms and run each CPU's due cache_reap(). */
  reap_tick(ms: number): void {
    this.jiffies += ms;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      while (this.nextReap[cpu] <= this.jiffies) {
        this.cache_reap(cpu);
        this.nextReap[cpu] += REAPTIMEOUT_AC;
      }
    }
  }

  /* /proc/slabinfo ----------------------------------------------------------- */

  get_slabinfo(s: number, out: SlabInfo): void {
    let total = 0;
    let free = 0;
    let freeObjs = 0;
    let sharedAvail = 0;
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      const n = this.get_node(s, nid);
      total += this.ul(n + this.N.total_slabs);
      free += this.ul(n + this.N.free_slabs);
      freeObjs += this.ul(n + this.N.free_objects);
      const sh = this.rp(n + this.N.shared);
      if (sh !== 0) sharedAvail += this.u32(sh, 0);
    }
    const num = this.u32(s, this.C.num);
    out.num_objs = total * num;
    out.active_slabs = total - free;
    out.num_slabs = total;
    out.active_objs = out.num_objs - freeObjs;
    out.shared_avail = sharedAvail;
    out.limit = this.u32(s, this.C.limit);
    out.batchcount = this.u32(s, this.C.batchcount);
    out.shared = this.u32(s, this.C.shared);
    out.objects_per_slab = num;
    out.cache_order = this.u32(s, this.C.gfporder);
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
    return this.u32(s, this.C.object_size);
  }

  object_is_free(s: number, slabPfn: number, obj: number): boolean {
    const idx = this.obj_to_index(s, slabPfn, obj);
    for (let i = this.active(slabPfn); i < this.u32(s, this.C.num); i++) if (this.get_free_obj(slabPfn, i) === idx) return true;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const ac = this.cpu_cache_get(s, cpu);
      for (let i = 0; i < this.u32(ac, 0); i++) if (this.rp(this.acEntry(ac, i)) === obj) return true;
    }
    return false;
  }

  kmem_cache_flags(flags: number): number {
    return flags;
  }

  skip_orig_size_check(): void {
    /* no slab debugging */
  }

  maybe_wipe_obj_freeptr(): void {
    /* SLAB keeps no free pointer in objects */
  }

  validate_slab_cache(): number {
    return 0;
  }

  /** Tunables and lists of a cache, for tests. */
  tunables(s: number): { limit: number; batchcount: number; shared: number; num: number; gfporder: number; colour: number; colour_off: number; offSlab: boolean; objFreelist: boolean } {
    const f = this.u32(s, this.C.flags) >>> 0;
    return {
      limit: this.u32(s, this.C.limit), batchcount: this.u32(s, this.C.batchcount), shared: this.u32(s, this.C.shared),
      num: this.u32(s, this.C.num), gfporder: this.u32(s, this.C.gfporder), colour: this.ul(s + this.C.colour),
      colour_off: this.u32(s, this.C.colour_off), offSlab: (f & CFLGS_OFF_SLAB) !== 0, objFreelist: (f & CFLGS_OBJFREELIST_SLAB) !== 0,
    };
  }

  /** The colour offset of the slab at pfn (s_mem - page address). */
  colourOffset(pfn: number): number {
    return this.s_mem(pfn) - (this.po + pfn * PAGE_SIZE);
  }

  /** The slab at pfn as the tests' census reads it (SLUB's slabState() shape). */
  slabState(pfn: number): { inuse: number; objects: number; frozen: boolean } {
    return { inuse: this.active(pfn), objects: this.u32(this.slab_cache(pfn), this.C.num), frozen: false };
  }

  /** avail of a CPU's array cache. */
  cpuAvail(s: number, cpu: number): number {
    return this.u32(this.cpu_cache_get(s, cpu), 0);
  }
}
