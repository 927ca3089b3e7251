/*
 * Slab allocator functions that do not depend on the implementation
 * (mm/slab_common.c, Linux 6.12, with kmalloc()'s front end from mm/slub.c):
 * creating and destroying caches, merging compatible caches, the list of
 * caches, the kmalloc caches and kmalloc() itself, kfree(), ksize(),
 * krealloc() and friends, and the figures of /proc/slabinfo.
 *
 * The implementation (SLUB, SLAB, SLOB or SLQB; chosen at
 * boot) sits behind the SlabAllocator interface of slab_types.ts. This
 * file calls it to set up a cache, to allocate and free objects, to shrink
 * and shut down a cache, and for a cache's slabinfo figures.
 *
 * The common state, in the kernel's .bss (a region of the image):
 *
 *   slab_state          DOWN -> PARTIAL -> UP -> FULL as boot proceeds
 *   slab_nomerge        the slab_nomerge / slab_merge boot options
 *   slab_caches         list_head of every cache, newest first (via s->list)
 *   kmem_cache          the cache of struct kmem_cache
 *   kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1]
 *                       struct kmem_cache * per type (normal, rcl, dma,
 *                       cg, no-objext) and size index (kmalloc_info[])
 *   kmalloc_size_index[24]  size / 8 -> index for sizes up to 192
 *   large_kmalloc_warned    free_large_kmalloc()'s warn-once
 *
 * The kmalloc caches' names live in the image's .rodata, as string
 * literals do; a cache created with kmem_cache_create() gets a kmalloc'd
 * copy of its name (kstrdup_const() of a string outside the kernel's
 * rodata), freed again by kmem_cache_destroy().
 *
 *   kmalloc(size, gfp)
 *     size > KMALLOC_MAX_CACHE_SIZE -> pages: a compound page of
 *                                      get_order(size), counted in
 *                                      NR_SLAB_UNRECLAIMABLE_B
 *     size == 0                     -> ZERO_SIZE_PTR
 *     else kmalloc_caches[kmalloc_type(gfp)][index(size)] -> the implementation
 *
 * kmalloc(), kfree(), kmem_cache_alloc() and kmem_cache_free() first try
 * the implementation's fast paths (SLUB's slub_fastpath.ts: the common
 * case on typed arrays), unless the matching tracepoint is on; whatever
 * they decline takes the general path below, which does every check.
 *
 * A caller's mistake is reported as the kernel reports it and the
 * allocator's state is left as it was; where the kernel (without KASAN or
 * slub_debug) would not notice and corrupt memory, kmem reports what the
 * kernel's checks report when they are on (KASAN for a cache destroyed
 * twice, SLUB's consistency checks for a pointer that is not an object).
 */
import type { ArchLayout } from '../arch/x86/layout.ts';
import { PAGE_SIZE, formatPtr } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import { PhysMem } from '../machine/memory.ts';
import type { RamWords } from '../machine/ram_words.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { KERN_ERR, KERN_WARNING, TAINT_BAD_PAGE, type Bug, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';
import { callerSymbol, type Kallsyms } from '../kernel/kallsyms.ts';
import type { Mutexes } from '../kernel/locking/mutex.ts';
import type { Rcu } from '../kernel/rcu.ts';
import { INIT_LIST_HEAD, list_add, list_del } from '../lib/list.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import {
  GFP_KERNEL, GFP_NOWAIT, __GFP_ACCOUNT, __GFP_BITS_MASK, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_DMA32, __GFP_HIGHMEM,
  __GFP_NO_OBJ_EXT, __GFP_ZERO,
} from '../include/linux/gfp_types.ts';
import { format_gfp_mode } from '../include/trace/events/mmflags.ts';
import {
  ARCH_KMALLOC_MINALIGN, ARCH_SLAB_MINALIGN, KMALLOC_CGROUP, KMALLOC_DMA, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE,
  KMALLOC_NORMAL, KMALLOC_NOT_NORMAL_BITS, KMALLOC_NO_OBJ_EXT, KMALLOC_RECLAIM, KMALLOC_SHIFT_HIGH, KMALLOC_SHIFT_LOW, NR_KMALLOC_TYPES,
  SLAB_ACCOUNT, SLAB_CACHE_DMA, SLAB_CACHE_DMA32, SLAB_CONSISTENCY_CHECKS, SLAB_DEBUG_OBJECTS, SLAB_FAILSLAB,
  SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_NOLEAKTRACE, SLAB_NO_MERGE, SLAB_NO_USER_FLAGS, SLAB_PANIC,
  SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TEMPORARY, SLAB_TRACE, SLAB_TYPESAFE_BY_RCU,
  ZERO_OR_NULL_PTR, ZERO_SIZE_PTR, kmalloc_type,
} from '../include/linux/slab.ts';
import { NR_SLAB_UNRECLAIMABLE_B, type MmzoneLayouts } from './mmzone.ts';
import type { Pages } from './page.ts';
import type { Sparse } from './sparse.ts';
import type { PageAllocator } from './page_alloc.ts';
import { getOrder } from './slub.ts';
import { __kmem_cache_alloc_bulk, __kmem_cache_free_bulk } from './slab_bulk.ts';
import { FULL, UP, type KmemCacheArgs, type PrefilledSheaves, type SlabAllocator, type SlabFastpath, type SlabInfo } from './slab_types.ts';

/* Flags that prevent merging, and flags merged caches must agree on */
const SLAB_NEVER_MERGE = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_TYPESAFE_BY_RCU |
  SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_NO_MERGE;
const SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT;
/* mm/slab.h: the flags kmem_cache_create() accepts */
const SLAB_CORE_FLAGS = SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU |
  SLAB_DEBUG_OBJECTS;
const SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;
const SLAB_CACHE_FLAGS = SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_TEMPORARY | SLAB_ACCOUNT | SLAB_NO_USER_FLAGS |
  SLAB_KMALLOC | SLAB_NO_MERGE;
const CACHE_CREATE_MASK = SLAB_CORE_FLAGS | SLAB_DEBUG_FLAGS | SLAB_CACHE_FLAGS;
const SLAB_FLAGS_PERMITTED = SLAB_CORE_FLAGS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE |
  SLAB_CONSISTENCY_CHECKS | SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_TEMPORARY | SLAB_ACCOUNT | SLAB_KMALLOC |
  SLAB_NO_MERGE | SLAB_NO_USER_FLAGS;
/* mm/internal.h */
const GFP_SLAB_BUG_MASK = __GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK;
const EINVAL = 22;
const ENOMEM = 12;
const KMALLOC_INDEXES = KMALLOC_SHIFT_HIGH + 1;
const TWO32 = 4294967296;

/** kmalloc_info[]: the size and name suffix of each kmalloc index (up to KMALLOC_SHIFT_HIGH). */
export const KMALLOC_INFO: readonly { size: number; name: string }[] = [
  { size: 0, name: '0' }, { size: 96, name: '96' }, { size: 192, name: '192' }, { size: 8, name: '8' },
  { size: 16, name: '16' }, { size: 32, name: '32' }, { size: 64, name: '64' }, { size: 128, name: '128' },
  { size: 256, name: '256' }, { size: 512, name: '512' }, { size: 1024, name: '1k' }, { size: 2048, name: '2k' },
  { size: 4096, name: '4k' }, { size: 8192, name: '8k' },
];

/** The kmalloc cache name of each type, for a kmalloc_info suffix. */
const KMALLOC_TYPE_NAMES: readonly ((sz: string) => string)[] = [
  (sz) => `kmalloc-${sz}`, (sz) => `kmalloc-rcl-${sz}`, (sz) => `dma-kmalloc-${sz}`, (sz) => `kmalloc-cg-${sz}`,
  (sz) => `kmalloc-no-objext-${sz}`,
];

/** The initial kmalloc_size_index[]: (size - 1) / 8 -> index, sizes 8..192. */
const KMALLOC_SIZE_INDEX = [3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2];

function slabCommonLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['slab_state', 'int'],
    ['slab_nomerge', 'int'],
    ['slab_caches', 'list_head'],
    ['kmem_cache', 'ptr'],
    ['kmalloc_caches', 'ptr', NR_KMALLOC_TYPES * KMALLOC_INDEXES],
    ['kmalloc_size_index', 'u8', 24],
    /* free_large_kmalloc()'s WARN_ON_ONCE and pr_warn_once */
    ['large_kmalloc_warned', 'u8'],
    /* slab_mutex: cache creation and destruction, and the slab_caches list (a struct mutex, kernel/locking/mutex.ts) */
    ['slab_mutex', 'int'],
  ]);
}

/** The strings the slab code keeps in .rodata: the two boot caches' names and every kmalloc name. */
function rodataStrings(): string[] {
  const out = ['kmem_cache_node', 'kmem_cache'];
  for (let type = 0; type < KMALLOC_NO_OBJ_EXT; type++) {
    for (let i = 1; i <= KMALLOC_SHIFT_HIGH; i++) out.push(KMALLOC_TYPE_NAMES[type](KMALLOC_INFO[i].name));
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FRAMES_ALLOC: readonly string[] = ['__might_resched', 'slab_pre_alloc_hook'];

/**
 * The slab tracepoints (include/trace/events/kmem.h), called where mm/slub.c
 * calls trace_kmalloc() and friends, with what the events record; the
 * tracer (src/trace/events.ts) names the call site. An unset hook costs one
 * test, like a disabled tracepoint's static branch.
 */
export interface SlabHooks {
  /** __do_kmalloc_node(): also a failed allocation (ptr 0); bytesAlloc is s->size or PAGE_SIZE << order. */
  kmalloc?(ptr: number, bytesReq: number, bytesAlloc: number, gfp: number, node: number): void;
  /** kmem_cache_alloc{,_node}(): bytes_req s->object_size, bytes_alloc s->size; accounted: __GFP_ACCOUNT or SLAB_ACCOUNT. */
  kmem_cache_alloc?(ptr: number, s: number, bytesReq: number, bytesAlloc: number, gfp: number, node: number, accounted: boolean): void;
  /** kfree(), NULL and ZERO_SIZE_PTR included. */
  kfree?(ptr: number): void;
  kmem_cache_free?(ptr: number, s: number): void;
}

export interface SlabCommonDeps {
  layout: ArchLayout;
  mem: PhysMem;
  words: RamWords;
  kaddr: KernelAddr;
  sparse: Sparse;
  pages: Pages;
  mz: MmzoneLayouts;
  buddy: PageAllocator;
  log: Log;
  bug: Bug;
  sched: Sched;
  /** slab_mutex is a struct mutex. */
  mutexes: Mutexes;
  kallsyms: Kallsyms;
  rcu: Rcu;
  pgdatPa: readonly number[];
  /** Physical address and size of the .bss area for slab_common.c's and the implementation's statics. */
  dataPa: number;
  dataBytes: number;
  /** Physical address and size of the .rodata area for the slab's string literals. */
  rodataPa: number;
  rodataBytes: number;
  /** The slab_nomerge / slab_merge boot options (true: no merging). */
  nomerge: boolean;
}

export class SlabCommon {
  readonly impl: SlabAllocator;
  /** The implementation's fast paths (SLUB), tried first while the tracepoints are off; null if none. */
  private readonly fast: SlabFastpath | null;
  /** The tracepoints (set by the tracer). */
  readonly hooks: SlabHooks = {};
  private readonly L: ReturnType<typeof slabCommonLayout>;
  private readonly w: RamWords;
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly lowmemBytes: number;
  /**
   * kmalloc()'s fast lookup: the RAM section holding the statics (refetched
   * on rebind), the byte index in it of kmalloc_size_index[] and the word
   * index of kmalloc_caches[KMALLOC_NORMAL][0].
   */
  private statics: Int32Array;
  private readonly bSizeIndex: number;
  private readonly wKmallocNormal: number;
  /** Derived: where each .rodata string is (a pure function of the string table). */
  private readonly rodata = new Map<string, number>();

  /** makeImpl builds the implementation; implStaticsPa is where its static data goes. */
  constructor(private readonly d: SlabCommonDeps, makeImpl: (implStaticsPa: number, common: SlabCommon) => SlabAllocator) {
    this.w = d.words;
    this.po = d.layout.PAGE_OFFSET;
    this.ptr = d.layout.ptrSize;
    this.lowmemBytes = d.kaddr.directMapEnd - this.po;
    this.L = slabCommonLayout(this.ptr);
    this.statics = d.mem.i32At(d.dataPa);
    d.mem.onRebind(() => (this.statics = d.mem.i32At(d.dataPa)));
    this.bSizeIndex = PhysMem.wordIndex(d.dataPa) * 4 + this.L.kmalloc_size_index;
    this.wKmallocNormal = PhysMem.wordIndex(d.dataPa) + ((this.L.kmalloc_caches + KMALLOC_NORMAL * KMALLOC_INDEXES * this.ptr) >> 2);
    const implPa = d.dataPa + Math.ceil(this.L.size / 64) * 64;
    this.impl = makeImpl(implPa, this);
    this.fast = this.impl.fastpath ?? null;
    let off = 0;
    for (const s of rodataStrings()) {
      this.rodata.set(s, this.po + d.rodataPa + off);
      off += encoder.encode(s).length + 1;
    }
    if (off > d.rodataBytes) throw new Error(`slab: ${off} bytes of string literals do not fit the ${d.rodataBytes} reserved in .rodata`);
  }

  /** Bytes of .bss for slab_common.c's statics (the implementation's come after, 64-byte aligned). */
  static staticBytes(ptrSize: 4 | 8): number {
    return Math.ceil(slabCommonLayout(ptrSize).size / 64) * 64;
  }

  /** Bytes of .rodata for the string literals. */
  static rodataBytes(): number {
    return rodataStrings().reduce((n, s) => n + encoder.encode(s).length + 1, 0);
  }

  /* ------------------------------------------------------------------ */
  /* The statics                                                         */
  /* ------------------------------------------------------------------ */

  get slab_state(): number {
    return this.w.r32(this.d.dataPa + this.L.slab_state);
  }

  set slab_state(v: number) {
    this.w.w32(this.d.dataPa + this.L.slab_state, v);
  }

  /** The cache of struct kmem_cache. */
  get kmem_cache(): number {
    return this.w.rptr(this.d.dataPa + this.L.kmem_cache);
  }

  set kmem_cache(s: number) {
    this.w.wptr(this.d.dataPa + this.L.kmem_cache, s);
  }

  private get slab_nomerge(): boolean {
    return this.w.r32(this.d.dataPa + this.L.slab_nomerge) !== 0;
  }

  /** Kernel virtual address of the slab_caches list head. */
  get slab_caches(): number {
    return this.po + this.d.dataPa + this.L.slab_caches;
  }

  /** kmalloc_caches[type][index] */
  kmalloc_cache(type: number, index: number): number {
    return this.w.rptr(this.d.dataPa + this.L.kmalloc_caches + (type * KMALLOC_INDEXES + index) * this.ptr);
  }

  private set_kmalloc_cache(type: number, index: number, s: number): void {
    this.w.wptr(this.d.dataPa + this.L.kmalloc_caches + (type * KMALLOC_INDEXES + index) * this.ptr, s);
  }

  /** The address of a string literal of the slab code in .rodata. */
  rodataString(s: string): number {
    const va = this.rodata.get(s);
    if (va === undefined) throw new Error(`slab: "${s}" is not one of the slab code's string literals`);
    return va;
  }

  private is_kernel_rodata(va: number): boolean {
    const pa = va - this.po;
    return pa >= this.d.rodataPa && pa < this.d.rodataPa + this.d.rodataBytes;
  }

  /* s's fields the common code uses */

  private field32(s: number, off: number): number {
    return this.w.r32(s - this.po + off) >>> 0;
  }

  private setField32(s: number, off: number, v: number): void {
    this.w.w32(s - this.po + off, v);
  }

  /** The name of a cache, read from memory. */
  cacheName(s: number): string {
    return this.readString(this.w.rptr(s - this.po + this.impl.cache.name));
  }

  /** A NUL-terminated string at a direct-map address. */
  readString(va: number): string {
    const bytes: number[] = [];
    for (let pa = va - this.po; ; pa++) {
      const b = this.w.r8(pa);
      if (b === 0 || b === undefined) break;
      bytes.push(b);
    }
    return decoder.decode(new Uint8Array(bytes));
  }

  private writeString(va: number, bytes: Uint8Array): void {
    this.d.mem.writeBytes(va - this.po, bytes);
    this.d.mem.write8(va - this.po + bytes.length, 0);
  }

  /** The caches on slab_caches, newest first. */
  caches(): number[] {
    const out: number[] = [];
    const head = this.slab_caches;
    for (let pos = this.d.kaddr.readPtr(head); pos !== head; pos = this.d.kaddr.readPtr(pos)) {
      out.push(pos - this.impl.cache.list);
    }
    return out;
  }

  /** list_add(&s->list, &slab_caches) */
  link_cache(s: number): void {
    list_add(this.d.kaddr, s + this.impl.cache.list, this.slab_caches);
  }

  /** mod_node_page_state(NODE_DATA(nid), item, delta): lossless when several CPUs update it (vmstat_percpu.ts). */
  mod_node_page_state(nid: number, item: number, delta: number): void {
    this.d.buddy.counters.mod_node_page_state(nid, item, delta);
  }

  /* ------------------------------------------------------------------ */
  /* Boot                                                                */
  /* ------------------------------------------------------------------ */

  /** Zero the statics, write the string literals and the size table, hand over to the implementation. */
  kmem_cache_init(): void {
    this.d.mem.fill(this.d.dataPa, this.d.dataBytes, 0);
    for (const [s, va] of this.rodata) this.writeString(va, encoder.encode(s));
    INIT_LIST_HEAD(this.d.kaddr, this.slab_caches);
    this.w.w32(this.d.dataPa + this.L.slab_nomerge, this.d.nomerge ? 1 : 0);
    for (let i = 0; i < KMALLOC_SIZE_INDEX.length; i++) {
      this.d.mem.write8(this.d.dataPa + this.L.kmalloc_size_index + i, KMALLOC_SIZE_INDEX[i]);
    }
    // setup_kmalloc_cache_index_table(): sizes below KMALLOC_MIN_SIZE go to the smallest cache
    const minSize = this.impl.kmallocMinSize ?? 1 << KMALLOC_SHIFT_LOW;
    for (let i = 8; i < minSize; i += 8) {
      this.d.mem.write8(this.d.dataPa + this.L.kmalloc_size_index + ((i - 1) >> 3), 31 - Math.clz32(minSize));
    }
    this.d.rcu.set_kvfree(this.d.kallsyms.register('kvfree', (p) => this.kfree(p)));
    this.impl.kmem_cache_init();
    this.slab_state = FULL;
  }

  /** create_boot_cache(): a cache set up in memory the caller provides (no merging, no list). */
  create_boot_cache(s: number, name: number, size: number, flags: number, useroffset: number, usersize: number): void {
    let align = ARCH_KMALLOC_MINALIGN;
    // kmalloc caches guarantee the largest power-of-two divisor of their size
    if (flags & SLAB_KMALLOC) align = Math.max(align, size & -size);
    const args: KmemCacheArgs = {
      align: this.calculate_alignment(flags, align, size), useroffset, usersize, freeptr_offset: 0,
      use_freeptr_offset: false, ctor: 0,
    };
    const err = this.impl.do_kmem_cache_create(s, name, size, args, flags);
    if (err) this.d.bug.panic(`Creation of kmalloc slab ${this.readString(name)} size=${size} failed. Reason ${err}`, ['create_boot_cache']);
    this.setField32(s, this.impl.cache.refcount, -1);
  }

  private create_kmalloc_cache(name: number, size: number, flags: number): number {
    const s = this.kmem_cache_zalloc(this.kmem_cache, GFP_NOWAIT);
    if (s === 0) this.d.bug.panic(`Out of memory when creating slab ${this.readString(name)}`, ['create_kmalloc_cache']);
    this.create_boot_cache(s, name, size, flags | SLAB_KMALLOC, 0, size);
    this.link_cache(s);
    this.setField32(s, this.impl.cache.refcount, 1);
    return s;
  }

  /** new_kmalloc_cache(): one kmalloc cache of a type (or an alias of the normal one). */
  private new_kmalloc_cache(idx: number, type: number): void {
    let flags = 0;
    if (type === KMALLOC_RECLAIM) {
      flags |= SLAB_RECLAIM_ACCOUNT;
    } else if (type === KMALLOC_CGROUP) {
      flags |= SLAB_ACCOUNT;
    } else if (type === KMALLOC_NO_OBJ_EXT) {
      // need_kmalloc_no_objext(): only with memory allocation profiling, which kmem does not have
      this.set_kmalloc_cache(type, idx, this.kmalloc_cache(KMALLOC_NORMAL, idx));
      return;
    } else if (type === KMALLOC_DMA) {
      flags |= SLAB_CACHE_DMA;
    }
    // CONFIG_MEMCG: the normal caches are never merged with
    if (type === KMALLOC_NORMAL) flags |= SLAB_NO_MERGE;
    if (this.kmalloc_cache(type, idx) === 0) {
      const name = this.rodataString(KMALLOC_TYPE_NAMES[type](KMALLOC_INFO[idx].name));
      this.set_kmalloc_cache(type, idx, this.create_kmalloc_cache(name, KMALLOC_INFO[idx].size, flags));
    }
  }

  /** create_kmalloc_caches(): per type, kmalloc-96 and -192, then 8 .. 8k. */
  create_kmalloc_caches(): void {
    for (let type = KMALLOC_NORMAL; type < NR_KMALLOC_TYPES; type++) {
      this.new_kmalloc_cache(1, type);
      this.new_kmalloc_cache(2, type);
      const low = 31 - Math.clz32(this.impl.kmallocMinSize ?? 1 << KMALLOC_SHIFT_LOW);
      for (let i = low; i <= KMALLOC_SHIFT_HIGH; i++) this.new_kmalloc_cache(i, type);
    }
    this.slab_state = UP;
  }

  /* ------------------------------------------------------------------ */
  /* Creating, merging, destroying caches                                */
  /* ------------------------------------------------------------------ */

  /** calculate_alignment(): SLAB_HWCACHE_ALIGN halves the cache line while the object fits twice. */
  calculate_alignment(flags: number, align: number, size: number): number {
    if (flags & SLAB_HWCACHE_ALIGN) {
      let ralign = this.d.layout.cacheLine;
      while (ralign > 1 && size <= ralign / 2) ralign /= 2;
      align = Math.max(align, ralign);
    }
    align = Math.max(align, ARCH_SLAB_MINALIGN);
    return ALIGN(align, this.ptr);
  }

  /** slab_unmergeable() */
  private slab_unmergeable(s: number): boolean {
    const c = this.impl.cache;
    if (this.slab_nomerge || (this.field32(s, c.flags) & SLAB_NEVER_MERGE)) return true;
    if (this.w.rptr(s - this.po + c.ctor) !== 0) return true;
    if (this.field32(s, c.usersize) !== 0) return true;
    return (this.field32(s, c.refcount) | 0) < 0;
  }

  /** find_mergeable(): the oldest cache that can take objects of this size and these flags. */
  private find_mergeable(size: number, flags: number, name: string, args: KmemCacheArgs): number {
    // slab_args_unmergeable(): a constructor, a usercopy region, or (6.18) sheaves asked for
    if (this.impl.mergeable === false || this.slab_nomerge || args.ctor !== 0 || args.usersize !== 0 || (args.sheaf_capacity ?? 0) !== 0) return 0;
    flags = this.impl.kmem_cache_flags?.(flags, name) ?? flags;
    if (flags & SLAB_NEVER_MERGE) return 0;
    size = ALIGN(size, this.ptr);
    const align = this.calculate_alignment(flags, args.align, size);
    size = ALIGN(size, align);
    const c = this.impl.cache;
    const caches = this.caches();
    for (let i = caches.length - 1; i >= 0; i--) {
      const s = caches[i];
      if (this.slab_unmergeable(s)) continue;
      const ssize = this.field32(s, c.size_);
      if (size > ssize) continue;
      if ((flags & SLAB_MERGE_SAME) !== (this.field32(s, c.flags) & SLAB_MERGE_SAME)) continue;
      if ((ssize & ~(align - 1)) !== ssize) continue;
      if (ssize - size >= this.ptr) continue;
      return s;
    }
    return 0;
  }

  /** __kmem_cache_alias(): a merge target, its refcount and sizes adjusted; 0 if none. */
  private __kmem_cache_alias(name: string, size: number, flags: number, args: KmemCacheArgs): number {
    const s = this.find_mergeable(size, flags, name, args);
    if (s === 0) return 0;
    const c = this.impl.cache;
    this.setField32(s, c.refcount, this.field32(s, c.refcount) + 1);
    this.setField32(s, c.object_size, Math.max(this.field32(s, c.object_size), size));
    this.setField32(s, c.inuse, Math.max(this.field32(s, c.inuse), ALIGN(size, this.ptr)));
    return s;
  }

  private is_duplicate_name(name: string): boolean {
    return this.caches().some((s) => this.cacheName(s) === name);
  }

  /**
   * __kmem_cache_create_args(): the cache's address, or 0 after the
   * kernel's report. `name` null stands for a NULL pointer.
   */
  kmem_cache_create(name: string | null, objectSize: number, args: KmemCacheArgs, flags: number): number {
    this.slab_mutex_lock();
    try {
      return this.kmem_cache_create_locked(name, objectSize, args, flags);
    } finally {
      this.slab_mutex_unlock();
    }
  }

  /**
   * slub_cpu_dead() (CPUHP_SLUB_DEAD's teardown, src/kernel/cpuhp.ts): for
   * every cache, what `cpu` holds goes back to the node lists. The kernel
   * runs it on another CPU; kmem runs it on the CPU going down, so the
   * struct slab_sheaf of a spare it flushes is kfree()d onto this CPU's
   * sheaf of a kmalloc cache that may have been flushed already: a second
   * pass gives those back (it frees no sheaf struct: the mains are kept,
   * the spares are gone).
   */
  cpu_dead(cpu: number): void {
    const dead = this.impl.cpu_dead;
    if (dead === undefined) return;
    this.slab_mutex_lock();
    try {
      for (let pass = 0; pass < 2; pass++) for (const s of this.caches()) dead.call(this.impl, s, cpu);
    } finally {
      this.slab_mutex_unlock();
    }
  }

  /** mutex_lock(&slab_mutex): several host threads may create and destroy caches at once. */
  private slab_mutex_lock(): void {
    this.d.mutexes.mutex_lock(this.d.dataPa + this.L.slab_mutex);
  }

  /** mutex_trylock(&slab_mutex), for the periodic walks of slab_caches (SLAB's cache_reap()); release with slab_mutex_unlock(). */
  slab_mutex_trylock(): boolean {
    return this.d.mutexes.mutex_trylock(this.d.dataPa + this.L.slab_mutex);
  }

  slab_mutex_unlock(): void {
    this.d.mutexes.mutex_unlock(this.d.dataPa + this.L.slab_mutex);
  }

  /** __kmem_cache_create_args() with slab_mutex held. */
  private kmem_cache_create_locked(name: string | null, objectSize: number, args: KmemCacheArgs, flags: number): number {
    const fn = '__kmem_cache_create_args';
    const log = this.d.log;
    let err = 0;
    let s = 0;
    // kmem_cache_sanity_check() (CONFIG_DEBUG_VM)
    if (name === null || objectSize > KMALLOC_MAX_SIZE) {
      log.printk(KERN_ERR, `kmem_cache_create(${name ?? '(null)'}) integrity check failed`);
      err = -EINVAL;
    } else {
      if (this.is_duplicate_name(name)) {
        this.d.bug.warn('mm/slab_common.c', 107, fn, `kmem_cache of name '${name}' already exists`, []);
      }
      if (name.includes(' ')) this.d.bug.warn('mm/slab_common.c', 110, fn, null, []);
      if (flags & ~SLAB_FLAGS_PERMITTED) err = -EINVAL;
    }
    if (err === 0) {
      flags &= CACHE_CREATE_MASK;
      if ((args.usersize === 0 && args.useroffset !== 0 && this.warnOn(343)) ||
        ((objectSize < args.usersize || objectSize - args.usersize < args.useroffset) && this.warnOn(344))) {
        args = { ...args, useroffset: 0, usersize: 0 };
      }
      s = this.__kmem_cache_alias(name!, objectSize, flags, args);
      if (s !== 0) return s;
      if (objectSize === 0) {
        // calculate_sizes() -> reciprocal_value(0) divides by zero. (With SLAB_HWCACHE_ALIGN the
        // kernel never gets there: calculate_alignment() loops forever on size 0.) Nothing is
        // allocated yet in kmem, so backing out leaves no trace.
        this.d.bug.oops('divide error: 0000', 'reciprocal_value', ['do_kmem_cache_create', fn]);
        return 0;
      }
      const nameBytes = encoder.encode(name!);
      const cacheName = this.kmalloc(nameBytes.length + 1, GFP_KERNEL);
      if (cacheName === 0) {
        err = -ENOMEM;
      } else {
        this.writeString(cacheName, nameBytes);
        args = { ...args, align: this.calculate_alignment(flags, args.align, objectSize) };
        const r = this.create_cache(cacheName, objectSize, args, flags);
        if (r < 0) {
          err = r;
          this.kfree(cacheName);
        } else {
          s = r;
        }
      }
    }
    if (err !== 0) {
      if (flags & SLAB_PANIC) this.d.bug.panic(`${fn}: Failed to create slab '${name ?? '(null)'}'. Error ${err}`, [fn]);
      log.printk(KERN_WARNING, `${fn}(${name ?? '(null)'}) failed with error ${err}`);
      this.d.bug.dump_stack([fn]);
      return 0;
    }
    return s;
  }

  private warnOn(line: number): boolean {
    this.d.bug.warn('mm/slab_common.c', line, '__kmem_cache_create_args', null, []);
    return true;
  }

  /** create_cache(): a new struct kmem_cache, set up and on the list; or -errno. */
  private create_cache(name: number, objectSize: number, args: KmemCacheArgs, flags: number): number {
    if (args.useroffset + args.usersize > objectSize) {
      this.d.bug.warn('mm/slab_common.c', 229, 'create_cache', null, ['__kmem_cache_create_args']);
      args = { ...args, useroffset: 0, usersize: 0 };
    }
    if (args.use_freeptr_offset && (args.freeptr_offset >= objectSize || !(flags & SLAB_TYPESAFE_BY_RCU) ||
      args.freeptr_offset % this.ptr !== 0)) return -EINVAL;
    const s = this.kmem_cache_zalloc(this.kmem_cache, GFP_KERNEL);
    if (s === 0) return -ENOMEM;
    const err = this.impl.do_kmem_cache_create(s, name, objectSize, args, flags);
    if (err) {
      this.kmem_cache_free(this.kmem_cache, s);
      return err;
    }
    this.setField32(s, this.impl.cache.refcount, 1);
    this.link_cache(s);
    return s;
  }

  /**
   * kmem_cache_destroy(): drop a reference; the last one shuts the cache
   * down ("Slab cache still has objects" if it cannot) and frees it. A
   * cache that is not live is KASAN's report (kasan_check_byte()).
   */
  kmem_cache_destroy(s: number): void {
    if (s === 0) return;
    if (!this.kasan_check_cache(s)) return;
    // kvfree_rcu_barrier(): in-flight kfree_rcu()s may be ours, some still in
    // rcu_free sheaves (6.18's flush_all_rcu_sheaves(): every cache's, under slab_mutex)
    const flushRcu = this.impl.flush_rcu_sheaves_on_cache;
    if (flushRcu !== undefined) {
      this.slab_mutex_lock();
      try {
        for (const c of this.caches()) flushRcu.call(this.impl, c);
      } finally {
        this.slab_mutex_unlock();
      }
    }
    this.d.rcu.rcu_barrier();
    this.slab_mutex_lock();
    let release = false;
    try {
      release = this.kmem_cache_destroy_locked(s);
    } finally {
      this.slab_mutex_unlock();
    }
    if (!release) return;
    const c = this.impl.cache;
    if (this.field32(s, c.flags) & SLAB_TYPESAFE_BY_RCU) this.d.rcu.rcu_barrier();
    this.impl.__kmem_cache_release(s);
    this.kfree_const(this.w.rptr(s - this.po + c.name));
    this.kmem_cache_free(this.kmem_cache, s);
  }

  /** The part of kmem_cache_destroy() under slab_mutex: true when the cache is off the list and may be freed. */
  private kmem_cache_destroy_locked(s: number): boolean {
    const c = this.impl.cache;
    const refcount = (this.field32(s, c.refcount) | 0) - 1;
    this.setField32(s, c.refcount, refcount);
    if (refcount !== 0) return false;
    const err = this.impl.__kmem_cache_shutdown(s);
    const name = this.cacheName(s);
    // The kernel warns, then unlinks; unlinking first keeps the state right when the warning throws.
    list_del(this.d.kaddr, s + c.list);
    if (err) {
      this.d.bug.warn('mm/slab_common.c', 548, 'kmem_cache_destroy',
        `kmem_cache_destroy ${name}: Slab cache still has objects when called from ${callerSymbol()}`, []);
      return false;
    }
    return true;
  }

  /**
   * kasan_check_byte(s) as KASAN does it for a struct kmem_cache: true for
   * a cache that exists; a cache already destroyed (its struct freed) or
   * an address that is no cache at all gets KASAN's report.
   */
  private kasan_check_cache(s: number): boolean {
    if (this.caches().includes(s)) return true;
    const kc = this.kmem_cache;
    let kind = 'wild-memory-access';
    let freed = false;
    if (s >= this.po && s - this.po < this.lowmemBytes && this.d.sparse.pfn_valid(Math.floor((s - this.po) / PAGE_SIZE))) {
      const pfn = this.impl.folioPfn(s);
      if (this.impl.isSlab(pfn) && this.impl.slab_cache(pfn) === kc) {
        freed = this.impl.object_is_free(kc, pfn, s);
        // allocated but unlisted: a cache whose destroy found objects left (it leaks, as in the kernel)
        if (!freed) return true;
        kind = 'slab-use-after-free';
      }
    }
    const l = this.d.layout;
    const size = this.field32(kc, this.impl.cache.object_size);
    const lines = [
      '==================================================================',
      `BUG: KASAN: ${kind} in kmem_cache_destroy`,
      `Read of size 1 at addr ${formatPtr(l, s)} by task ${this.d.sched.comm()}/${this.d.sched.pid()}`,
      '',
    ];
    for (const line of lines) this.d.log.printk(KERN_ERR, line);
    lines.push(...this.d.bug.dump_stack(['print_report', 'kasan_report', 'kmem_cache_destroy'], KERN_ERR));
    const tail = freed ? [
      '',
      `The buggy address belongs to the object at ${formatPtr(l, s)}`,
      ` which belongs to the cache kmem_cache of size ${size}`,
      'The buggy address is located 0 bytes inside of',
      ` freed ${size}-byte region [${formatPtr(l, s)}, ${formatPtr(l, s + size)})`,
      '==================================================================',
    ] : ['=================================================================='];
    for (const line of tail) this.d.log.printk(KERN_ERR, line);
    lines.push(...tail);
    this.d.bug.reported('BUG', lines, TAINT_BAD_PAGE);
    return false;
  }

  /** kmem_cache_shrink(): 0 if the cache holds no slab afterwards. */
  kmem_cache_shrink(s: number): number {
    if (this.null_cache(s, 0, 'kmem_cache_shrink')) return 0;
    return this.impl.__kmem_cache_shrink(s);
  }

  /** kmem_cache_size(): the object size the cache was created with. */
  kmem_cache_size(s: number): number {
    if (this.null_cache(s, this.impl.cache.object_size, 'kmem_cache_size')) return 0;
    return this.field32(s, this.impl.cache.object_size);
  }

  /* ------------------------------------------------------------------ */
  /* Objects                                                             */
  /* ------------------------------------------------------------------ */

  /** kmalloc_fix_flags(), for the flags of a new slab or a large kmalloc. */
  check_slab_flags(flags: number): number {
    if ((flags & GFP_SLAB_BUG_MASK) === 0) return flags;
    const invalid = flags & GFP_SLAB_BUG_MASK;
    const fixed = flags & ~GFP_SLAB_BUG_MASK;
    const pg = (f: number) => format_gfp_mode(f).replace('(', ' (');
    this.d.log.printk(KERN_WARNING, `Unexpected gfp: ${pg(invalid)}. Fixing up to gfp: ${pg(fixed)}. Fix your code!`);
    this.d.bug.dump_stack(['kmalloc_fix_flags']);
    return fixed;
  }

  /**
   * A NULL struct kmem_cache * (what a failed kmem_cache_create() returned)
   * is dereferenced at the field's offset: the page fault oops. kmem backs
   * out instead of killing the task; true if s is NULL.
   */
  private null_cache(s: number, field: number, fn: string): boolean {
    if (s !== 0) return false;
    const addr = formatPtr(this.d.layout, field);
    this.d.bug.oops('Oops: 0000', fn, [], [
      `BUG: kernel NULL pointer dereference, address: ${addr}`, '#PF: supervisor read access in kernel mode',
      '#PF: error_code(0x0000) - not-present page',
    ]);
    return true;
  }

  /** slab_alloc_node(): the hooks around the implementation's allocation. */
  private slab_alloc_node(s: number, gfp: number, node: number, origSize: number): number {
    if (s === 0 && this.null_cache(s, 0, 'kmem_cache_alloc_noprof')) return 0;
    // slab_pre_alloc_hook() -> might_alloc()
    if (gfp & __GFP_DIRECT_RECLAIM) this.d.bug.might_sleep('include/linux/sched/mm.h', 321, FRAMES_ALLOC);
    const obj = this.impl.slab_alloc_node(s, gfp, node, origSize);
    if (obj === 0) return 0;
    const g = this.d.buddy.globals;
    if (g.init_on_free) this.impl.maybe_wipe_obj_freeptr?.(s, obj);
    // slab_post_alloc_hook(): __GFP_ZERO, or init_on_alloc (slab_want_init_on_alloc()) clears
    if ((gfp & __GFP_ZERO) || (g.init_on_alloc && this.want_init_on_alloc(s))) this.d.mem.fill(obj - this.po, this.zero_size(s, origSize), 0);
    return obj;
  }

  /**
   * slab_want_init_on_alloc() with init_on_alloc on: not for a cache with a
   * constructor, and only with __GFP_ZERO for SLAB_TYPESAFE_BY_RCU and
   * SLAB_POISON caches.
   */
  private want_init_on_alloc(s: number): boolean {
    if (this.w.rptr(s - this.po + this.impl.cache.ctor) !== 0) return false;
    return (this.field32(s, this.impl.cache.flags) & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)) === 0;
  }

  /**
   * How much slab_post_alloc_hook() clears: the object, or only what
   * kmalloc() was asked for when slab debugging keeps the size (the rest is
   * a red zone).
   */
  private zero_size(s: number, origSize: number): number {
    const flags = this.field32(s, this.impl.cache.flags);
    if ((flags & SLAB_STORE_USER) && (flags & SLAB_KMALLOC) && origSize !== 0) return origSize;
    return this.field32(s, this.impl.cache.object_size);
  }

  /** __kmalloc_cache_noprof(): kmalloc() from a given kmalloc cache (what kmalloc() of a constant size compiles to). */
  __kmalloc_cache(s: number, gfp: number, size: number): number {
    return this.slab_alloc_node(s, gfp, -1, size);
  }

  /** validate_slab_cache(s): check every slab and object of the cache (slab_debug's validate); the slabs checked. */
  validate_slab_cache(s: number): number {
    if (this.null_cache(s, 0, 'validate_slab_cache')) return 0;
    return this.impl.validate_slab_cache?.(s) ?? 0;
  }

  kmem_cache_alloc(s: number, gfp: number): number {
    if (this.fast !== null && this.hooks.kmem_cache_alloc === undefined) {
      const object = this.fast.alloc(s, gfp, 0);
      if (object >= 0) return object;
    }
    return this.kmem_cache_alloc_node(s, gfp, -1);
  }

  kmem_cache_alloc_node(s: number, gfp: number, node: number): number {
    const obj = this.slab_alloc_node(s, gfp, node, 0);
    if (this.hooks.kmem_cache_alloc !== undefined && s !== 0) this.trace_kmem_cache_alloc(obj, s, gfp, node);
    return obj;
  }

  kmem_cache_zalloc(s: number, gfp: number): number {
    return this.kmem_cache_alloc(s, gfp | __GFP_ZERO);
  }

  /** trace_kmem_cache_alloc(): the figures the event records, read from s. */
  private trace_kmem_cache_alloc(obj: number, s: number, gfp: number, node: number): void {
    const accounted = (gfp & __GFP_ACCOUNT) !== 0 || (this.field32(s, this.impl.cache.flags) & SLAB_ACCOUNT) !== 0;
    this.hooks.kmem_cache_alloc!(obj, s, this.field32(s, this.impl.cache.object_size), this.field32(s, this.impl.cache.size_),
      gfp, node, accounted);
  }

  /** A pointer kfree() and friends cannot even look up: __phys_addr()'s VIRTUAL_BUG_ON (CONFIG_DEBUG_VIRTUAL). */
  private directMapped(x: number, fn: string): boolean {
    const pa = x - this.po;
    if (pa >= 0 && pa < this.lowmemBytes && this.d.sparse.pfn_valid(Math.floor(pa / PAGE_SIZE))) return true;
    this.d.bug.bug('arch/x86/mm/physaddr.c', this.ptr === 8 ? 28 : 41, '__phys_addr', [fn]);
    return false;
  }

  /**
   * cache_from_obj() (SLAB_FREELIST_HARDENED's check), for the bulk free:
   * the cache x really belongs to, after a warning if that is not s; 0
   * (after a warning) if x is not in a slab at all.
   */
  cache_from_obj(s: number, x: number): number {
    const pfn = this.impl.folioPfn(x);
    if (!this.impl.isSlab(pfn)) {
      this.not_a_slab_page('kmem_cache_free_bulk');
      return 0;
    }
    const cachep = this.impl.slab_cache(pfn);
    if (cachep !== s) this.wrong_cache(s, cachep, 'kmem_cache_free_bulk');
    return cachep;
  }

  /** cache_from_obj()'s warning: the object belongs to another cache than the caller said. */
  wrong_cache(s: number, cachep: number, fn = 'kmem_cache_free'): void {
    this.d.bug.warn('mm/slub.c', 4770, fn,
      `cache_from_obj: Wrong slab cache. ${this.cacheName(s)} but object is from ${this.cacheName(cachep)}`, []);
  }

  /** virt_to_cache()'s warning (once): the object is in no slab at all. */
  private not_a_slab_page(fn: string): void {
    this.d.bug.warn('mm/slub.c', 4756, fn, 'virt_to_cache: Object is not a Slab page!', [], true);
  }

  /** kmem_cache_free(s, x) */
  kmem_cache_free(s: number, x: number): void {
    if (this.fast !== null && this.hooks.kmem_cache_free === undefined && this.fast.cache_free(s, x)) return;
    if (this.null_cache(s, this.impl.cache.name, 'kmem_cache_free')) return;
    if (this.hooks.kmem_cache_free !== undefined) this.hooks.kmem_cache_free(x, s);
    if (!this.directMapped(x, 'kmem_cache_free')) return;
    if (!this.impl.slab_free_object(s, x)) this.not_a_slab_page('kmem_cache_free');
  }

  /** kmem_cache_alloc_bulk(): size objects into the pointer array p; the number allocated (all or 0). */
  kmem_cache_alloc_bulk(s: number, gfp: number, size: number, p: number): number {
    if (size === 0 || this.null_cache(s, 0, 'kmem_cache_alloc_bulk_noprof')) return 0;
    if (gfp & __GFP_DIRECT_RECLAIM) this.d.bug.might_sleep('include/linux/sched/mm.h', 321, FRAMES_ALLOC);
    const n = this.impl.alloc_bulk !== undefined ? this.impl.alloc_bulk(s, gfp, size, p)
      : __kmem_cache_alloc_bulk(this.impl, this.w, this.po, s, gfp, size, p);
    if (n !== 0 && this.d.buddy.globals.init_on_free) {
      for (let i = 0; i < n; i++) this.impl.maybe_wipe_obj_freeptr?.(s, this.w.rptr(p - this.po + i * this.ptr));
    }
    if (n !== 0 && ((gfp & __GFP_ZERO) || (this.d.buddy.globals.init_on_alloc && this.want_init_on_alloc(s)))) {
      const objectSize = this.field32(s, this.impl.cache.object_size);
      for (let i = 0; i < n; i++) this.d.mem.fill(this.w.rptr(p - this.po + i * this.ptr) - this.po, objectSize, 0);
    }
    return n;
  }

  /** kmem_cache_free_bulk(s, size, p); kfree_bulk() is s == 0. */
  kmem_cache_free_bulk(s: number, size: number, p: number): void {
    if (size === 0) return;
    if (this.impl.free_bulk !== undefined) this.impl.free_bulk(s, size, p);
    else __kmem_cache_free_bulk(this.impl, this, this.w, this.po, s, size, p);
  }

  /*
   * 6.18's prefilled sheaves (SLUB with percpu sheaves: slub_sheaves.ts).
   * A kernel without them has no such functions: calling one is the
   * caller's mistake, a TypeError, not something the kernel reports.
   */

  private prefilled(fn: string): PrefilledSheaves {
    const pf = this.impl.prefilled;
    if (pf === undefined) throw new TypeError(`${fn}: no such function before Linux 6.18's percpu sheaves (SLUB, machine option sheaves)`);
    return pf;
  }

  /** kmem_cache_prefill_sheaf(s, gfp, size): a sheaf of at least size objects, the caller's; 0 on failure. */
  kmem_cache_prefill_sheaf(s: number, gfp: number, size: number): number {
    const pf = this.prefilled('kmem_cache_prefill_sheaf');
    if (this.null_cache(s, pf.nullDeref.sheaf_capacity, 'kmem_cache_prefill_sheaf')) return 0;
    return pf.kmem_cache_prefill_sheaf(s, gfp, size);
  }

  /** kmem_cache_refill_sheaf(): the sheaf to use from now on, or -errno (SlubSheaves.kmem_cache_refill_sheaf()). */
  kmem_cache_refill_sheaf(s: number, gfp: number, sheaf: number, size: number): number {
    const pf = this.prefilled('kmem_cache_refill_sheaf');
    // a NULL cache: the oops (the kernel would not come back), and the caller's sheaf untouched
    if (sheaf !== 0 && this.null_cache(s, pf.nullDeref.sheaf_capacity, 'kmem_cache_refill_sheaf')) return -EINVAL;
    return pf.kmem_cache_refill_sheaf(s, gfp, sheaf, size);
  }

  /** kmem_cache_return_sheaf(): the caller is done with sheaf (kept as a spare or in the barn, or flushed and freed). */
  kmem_cache_return_sheaf(s: number, gfp: number, sheaf: number): void {
    const pf = this.prefilled('kmem_cache_return_sheaf');
    if (this.null_cache(sheaf, 0, 'kmem_cache_return_sheaf') || this.null_cache(s, pf.nullDeref.sheaf_capacity, 'kmem_cache_return_sheaf')) return;
    pf.kmem_cache_return_sheaf(s, gfp, sheaf);
  }

  /**
   * kmem_cache_alloc_from_sheaf(): an object off the sheaf (0 once it is
   * empty: no fallback to the slabs), with slab_post_alloc_hook()'s
   * __GFP_ZERO / init_on_alloc clearing; gfp is for that (and
   * __GFP_ACCOUNT) only. The free pointer wipe of init_on_free is the one
   * the kernel's __kmem_cache_alloc_bulk() does when it fills the sheaf.
   */
  kmem_cache_alloc_from_sheaf(s: number, gfp: number, sheaf: number): number {
    const pf = this.prefilled('kmem_cache_alloc_from_sheaf');
    const fn = 'kmem_cache_alloc_from_sheaf_noprof';
    if (this.null_cache(sheaf, pf.nullDeref.sheaf_size, fn) || this.null_cache(s, this.impl.cache.object_size, fn)) return 0;
    const obj = pf.alloc_from_sheaf(sheaf);
    if (obj !== 0) {
      const g = this.d.buddy.globals;
      if (g.init_on_free) this.impl.maybe_wipe_obj_freeptr?.(s, obj);
      if ((gfp & __GFP_ZERO) || (g.init_on_alloc && this.want_init_on_alloc(s))) {
        this.d.mem.fill(obj - this.po, this.field32(s, this.impl.cache.object_size), 0);
      }
    }
    if (this.hooks.kmem_cache_alloc !== undefined) this.trace_kmem_cache_alloc(obj, s, gfp, -1);
    return obj;
  }

  /** kmem_cache_sheaf_size(): the objects left in a prefilled sheaf. */
  kmem_cache_sheaf_size(sheaf: number): number {
    const pf = this.prefilled('kmem_cache_sheaf_size');
    if (this.null_cache(sheaf, pf.nullDeref.sheaf_size, 'kmem_cache_sheaf_size')) return 0;
    return pf.kmem_cache_sheaf_size(sheaf);
  }

  /* ------------------------------------------------------------------ */
  /* kmalloc                                                             */
  /* ------------------------------------------------------------------ */

  /** kmalloc_slab(): the cache for a size (1 .. KMALLOC_MAX_CACHE_SIZE) and gfp. */
  kmalloc_slab(size: number, gfp: number): number {
    const type = gfp & __GFP_NO_OBJ_EXT ? KMALLOC_NO_OBJ_EXT : kmalloc_type(gfp);
    return this.kmalloc_cache(type, this.kmalloc_size_index(size));
  }

  /** The kmalloc_caches[] index of a size: kmalloc_size_index[] up to 192 bytes, fls(size - 1) above. */
  private kmalloc_size_index(size: number): number {
    if (size > 192) return 32 - Math.clz32(size - 1);
    const b = this.bSizeIndex + ((size - 1) >> 3);
    return (this.statics[b >> 2] >>> ((b & 3) << 3)) & 0xff;
  }

  /** kmalloc_caches[KMALLOC_NORMAL][kmalloc_size_index(size)], read from the statics' words. */
  private kmalloc_normal_cache(size: number): number {
    const a = this.statics;
    const w = this.wKmallocNormal + this.kmalloc_size_index(size) * (this.ptr >> 2);
    return this.ptr === 8 ? (a[w] >>> 0) + (a[w + 1] & 0xffff) * TWO32 : a[w] >>> 0;
  }

  /** __do_kmalloc_node() */
  __kmalloc_node(size: number, gfp: number, node: number): number {
    if (this.impl.kmalloc_node !== undefined) {
      // an implementation with its own kmalloc (SLOB)
      const [ret, bytesAlloc] = this.impl.kmalloc_node(size, gfp, node);
      if (this.hooks.kmalloc !== undefined && bytesAlloc >= 0) this.hooks.kmalloc(ret, size, bytesAlloc, gfp, node);
      return ret;
    }
    // (size >>> 0) !== size: negative or fractional, a size_t JS cannot hold as given
    if ((size >>> 0) !== size || size > KMALLOC_MAX_CACHE_SIZE) {
      const ret = this.__kmalloc_large_node(size, gfp, node);
      if (this.hooks.kmalloc !== undefined) this.hooks.kmalloc(ret, size, PAGE_SIZE * 2 ** (size >= 0 ? getOrder(size) : 0), gfp, node);
      return ret;
    }
    if (size === 0) return ZERO_SIZE_PTR;
    const s = this.kmalloc_slab(size, gfp);
    const ret = this.slab_alloc_node(s, gfp, node, size);
    if (this.hooks.kmalloc !== undefined) this.hooks.kmalloc(ret, size, this.field32(s, this.impl.cache.size_), gfp, node);
    return ret;
  }

  kmalloc(size: number, gfp: number): number {
    if (this.fast !== null && this.hooks.kmalloc === undefined && size > 0 && size <= KMALLOC_MAX_CACHE_SIZE &&
      (size | 0) === size && (gfp & (KMALLOC_NOT_NORMAL_BITS | __GFP_NO_OBJ_EXT)) === 0) {
      const object = this.fast.alloc(this.kmalloc_normal_cache(size), gfp, size);
      if (object >= 0) return object;
    }
    return this.__kmalloc_node(size, gfp, -1);
  }

  /**
   * ___kmalloc_large_node(): a compound page of get_order(size), counted as
   * unreclaimable slab. Above KMALLOC_MAX_SIZE the page allocator's
   * order check warns and fails.
   */
  private __kmalloc_large_node(size: number, gfp: number, node: number): number {
    // size_t: a negative or fractional JS size wraps to something enormous
    const order = size >= 0 && size === Math.floor(size) ? getOrder(size) : 64;
    gfp = this.check_slab_flags(gfp) | __GFP_COMP;
    const pfn = this.d.buddy.__alloc_pages(gfp, order, node);
    if (pfn < 0) return 0;
    this.mod_node_page_state(this.d.pages.page_to_nid(pfn), NR_SLAB_UNRECLAIMABLE_B, PAGE_SIZE * 2 ** order);
    return this.po + pfn * PAGE_SIZE;
  }

  /**
   * free_large_kmalloc(): give back the pages of a large kmalloc. A page
   * that is no compound page was never a large kmalloc: the kernel warns
   * (and would free it anyway); kmem warns and leaves it.
   */
  free_large_kmalloc(pfn: number, object: number): void {
    const order = this.d.pages.compound_order(pfn);
    if (order === 0) {
      const warned = this.d.dataPa + this.L.large_kmalloc_warned;
      if (this.w.r8(warned) === 0) {
        this.d.mem.write8(warned, 1);
        try {
          this.d.bug.warn('mm/slub.c', 4799, 'free_large_kmalloc', null, ['kfree']);
        } finally {
          this.d.log.printk(KERN_WARNING, `object pointer: 0x${ptr_to_id(this.d.layout, object)}`);
        }
      }
      return;
    }
    this.mod_node_page_state(this.d.pages.page_to_nid(pfn), NR_SLAB_UNRECLAIMABLE_B, -(PAGE_SIZE * 2 ** order));
    this.d.buddy.__free_pages(pfn, order);
  }

  /** kvfree_call_rcu(ptr, offset): kfree_rcu_sheaf() first (6.18 SLUB with sheaves), else call_rcu() of its rcu_head. */
  kvfree_call_rcu(ptr: number, offset: number): void {
    if (this.impl.kfree_rcu_sheaf !== undefined && this.impl.kfree_rcu_sheaf(ptr)) return;
    this.d.rcu.kfree_rcu(ptr, offset);
  }

  /** kfree(x): NULL and ZERO_SIZE_PTR are fine. */
  kfree(x: number): void {
    if (this.fast !== null && this.hooks.kfree === undefined && this.fast.kfree(x)) return;
    if (this.hooks.kfree !== undefined) this.hooks.kfree(x);
    if (ZERO_OR_NULL_PTR(x)) return;
    if (!this.directMapped(x, 'kfree')) return;
    if (!this.impl.slab_free_object(0, x)) this.free_large_kmalloc(this.impl.folioPfn(x), x);
  }

  /** ksize(): the usable size of an allocation (0 for NULL and ZERO_SIZE_PTR). */
  ksize(x: number): number {
    if (ZERO_OR_NULL_PTR(x)) return 0;
    if (!this.directMapped(x, 'ksize')) return 0;
    if (this.impl.ksize !== undefined) return this.impl.ksize(x);
    const pfn = this.impl.folioPfn(x);
    if (!this.impl.isSlab(pfn)) {
      const size = PAGE_SIZE * 2 ** this.d.pages.compound_order(pfn);
      if (size <= KMALLOC_MAX_CACHE_SIZE) {
        this.d.bug.warn('mm/slab_common.c', 1046, '__ksize', null, ['ksize']);
        return 0;
      }
      if (x !== this.po + pfn * PAGE_SIZE) {
        this.d.bug.warn('mm/slab_common.c', 1048, '__ksize', null, ['ksize']);
        return 0;
      }
      return size;
    }
    const s = this.impl.slab_cache(pfn);
    this.impl.skip_orig_size_check?.(s, x);
    return this.impl.slab_ksize(s);
  }

  /** kmalloc_size_roundup(): what kmalloc(size) would really give. */
  kmalloc_size_roundup(size: number): number {
    if (this.impl.kmalloc_size_roundup !== undefined) return this.impl.kmalloc_size_roundup(size);
    if (size !== 0 && size <= KMALLOC_MAX_CACHE_SIZE) return this.field32(this.kmalloc_slab(size, GFP_KERNEL), this.impl.cache.object_size);
    if (size !== 0 && size <= KMALLOC_MAX_SIZE) return PAGE_SIZE * 2 ** getOrder(size);
    return size;
  }

  /** krealloc(): resize in place when the allocation is big enough, else move. */
  krealloc(p: number, newSize: number, gfp: number): number {
    if (newSize === 0) {
      this.kfree(p);
      return ZERO_SIZE_PTR;
    }
    const ks = ZERO_OR_NULL_PTR(p) ? 0 : this.ksize(p);
    if (ks >= newSize) {
      if (gfp & __GFP_ZERO) this.d.mem.fill(p - this.po + newSize, ks - newSize, 0);
      return p;
    }
    const ret = this.__kmalloc_node(newSize, gfp, -1);
    if (ret !== 0 && !ZERO_OR_NULL_PTR(p)) {
      this.d.mem.copy(ret - this.po, p - this.po, ks);
      this.kfree(p);
    }
    return ret;
  }

  /** kfree_sensitive() (the old kzfree()): clear the whole allocation, then free it. */
  kfree_sensitive(p: number): void {
    const ks = this.ksize(p);
    if (ks !== 0) this.d.mem.fill(p - this.po, ks, 0);
    this.kfree(p);
  }

  /** kmemdup(src, len, gfp) */
  kmemdup(src: number, len: number, gfp: number): number {
    const p = this.__kmalloc_node(len, gfp, -1);
    if (p !== 0 && len !== 0) this.d.mem.copy(p - this.po, src - this.po, len);
    return p;
  }

  /** kstrdup(s, gfp): a kmalloc'd copy of the C string at s (NULL gives NULL). */
  kstrdup(s: number, gfp: number): number {
    if (s === 0) return 0;
    let len = 0;
    while (this.w.r8(s - this.po + len) !== 0) len++;
    return this.kmemdup(s, len + 1, gfp);
  }

  /** kstrdup_const(): strings in the kernel's .rodata are not copied. */
  kstrdup_const(s: number, gfp: number): number {
    return this.is_kernel_rodata(s) ? s : this.kstrdup(s, gfp);
  }

  /** kfree_const(): free what kstrdup_const() allocated. */
  kfree_const(x: number): void {
    if (!this.is_kernel_rodata(x)) this.kfree(x);
  }

  /* ------------------------------------------------------------------ */
  /* /proc/slabinfo                                                      */
  /* ------------------------------------------------------------------ */

  /** Every cache on slab_caches, newest first: name, s->size and the implementation's figures. */
  slabinfo(): { name: string; objsize: number; info: SlabInfo }[] {
    return this.caches().map((s) => {
      const info: SlabInfo = {
        active_objs: 0, num_objs: 0, active_slabs: 0, num_slabs: 0, shared_avail: 0, limit: 0, batchcount: 0, shared: 0,
        objects_per_slab: 0, cache_order: 0,
      };
      this.impl.get_slabinfo(s, info);
      return { name: this.cacheName(s), objsize: this.field32(s, this.impl.cache.size_), info };
    });
  }
}

/** ALIGN(x, a), with the kernel's mask arithmetic (a non-power-of-two a gives what the kernel gets). */
function ALIGN(x: number, a: number): number {
  return (x + a - 1) & ~(a - 1);
}

/** The kmem_cache_args a plain kmem_cache_create(name, size, align, flags, ctor) passes (and 6.18's sheaf_capacity). */
export function kmemCacheArgs(align: number, ctor: number, useroffset = 0, usersize = 0, sheaf_capacity = 0): KmemCacheArgs {
  return { align, ctor, useroffset, usersize, freeptr_offset: 0, use_freeptr_offset: false, sheaf_capacity };
}

/** slab_nomerge / slub_nomerge and slab_merge / slub_merge on the command line: the last one wins. */
export function parseSlabNomerge(cmdline: string): boolean {
  let nomerge = false; // CONFIG_SLAB_MERGE_DEFAULT=y
  for (const param of cmdline.split(/\s+/)) {
    if (param === 'slab_nomerge' || param === 'slub_nomerge') nomerge = true;
    if (param === 'slab_merge' || param === 'slub_merge') nomerge = false;
  }
  return nomerge;
}
