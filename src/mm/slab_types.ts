/*
 * mm/slab.h (Linux 6.12): struct slab overlaid on struct page, struct
 * kmem_cache, and the interface every slab implementation provides to the
 * common code (mm/slab_common.ts).
 *
 * struct slab is not a separate structure: it is another view of the struct
 * page of a slab's first page (a folio with PGTY_slab in page_type). The
 * fields the page allocator owns keep their places (flags, _refcount,
 * page_type, memcg_data); the rest is reused:
 *
 *   x86_64 (64 bytes)                                      i386 (32 bytes)
 *   +0  __page_flags      = page->flags                    +0  __page_flags
 *   +8  slab_cache        = page->lru.next (bit 0 clear:   +4  slab_cache
 *                           not a tail page)
 *   +16 slab_list.next  | next (struct slab *, CPU partial list)   +8
 *   +24 slab_list.prev  | slabs (int: slabs left on that list)     +12
 *       (rcu_head { next, func } overlays the same 16 bytes when a
 *        SLAB_TYPESAFE_BY_RCU slab waits for its grace period)
 *   +32 freelist          first free object, NULL when none    +16
 *   +40 counters          inuse:16 | objects:15 | frozen:1     +20
 *   +48 __page_type       PGTY_slab << 24                      +24
 *   +52 __page_refcount   1 while the slab exists              +28
 *   +56 obj_exts          0 (no memcg objcg vectors)
 *
 * counters, as bit fields of the low 32-bit word:
 *
 *   31 30             16 15              0
 *   +--+----------------+----------------+
 *   |fz|    objects     |     inuse      |
 *   +--+----------------+----------------+
 *
 * PG_workingset in __page_flags marks a slab that is on a node's partial
 * list (slab_test_node_partial()).
 *
 * struct kmem_cache (SLUB's, with CONFIG_SLUB_CPU_PARTIAL, CONFIG_SYSFS,
 * CONFIG_NUMA and CONFIG_HARDENED_USERCOPY; without
 * CONFIG_SLAB_FREELIST_HARDENED, CONFIG_SLAB_FREELIST_RANDOM and KASAN):
 *
 *   x86_64 offset                              i386
 *   +0   cpu_slab        per-CPU pointer        +0
 *   +8   flags           slab_flags_t           +4
 *   +16  min_partial     unsigned long          +8
 *   +24  size            object + metadata, the stride      +12
 *   +28  object_size     what the user asked for            +16
 *   +32  reciprocal_size {u32 m; u8 sh1, sh2}               +20
 *   +40  offset          free pointer offset    +28
 *   +44  cpu_partial     objects                +32
 *   +48  cpu_partial_slabs                      +36
 *   +52  oo              order << 16 | objects  +40
 *   +56  min             the same for get_order(size)       +44
 *   +60  allocflags      gfp for slab pages     +48
 *   +64  refcount        -1: never merge, 1 + aliases       +52
 *   +72  ctor            code address (kallsyms) or NULL    +56
 *   +80  inuse           offset of the metadata             +60
 *   +84  align           +64      +88 red_left_pad          +68
 *   +96  name            char *                 +72
 *   +104 list            slab_caches linkage    +76
 *   +120 kobj            struct kobject (sysfs; not modelled, kept for the size)  +84
 *   +184 remote_node_defrag_ratio               +116
 *   +188 useroffset  +192 usersize              +120 +124
 *   +200 node[]          struct kmem_cache_node * per node   +128
 *
 * With percpu sheaves (Linux 6.18; MachineConfig.sheaves, slub_sheaves.ts)
 * struct kmem_cache has two more fields, which move the others:
 *
 *   x86_64                                          i386
 *   +8   cpu_sheaves     per-CPU pointer (struct slub_percpu_sheaves)   +4
 *   +60  sheaf_capacity  objects per sheaf, 0: no sheaves                +40
 *
 * (216 bytes with one node on x86_64, still 256 with SLAB_HWCACHE_ALIGN).
 *
 * A cache's struct is allocated from the "kmem_cache" cache with room for
 * nr_node_ids entries of node[], so on x86_64 with one node it is 208
 * bytes, 256 with SLAB_HWCACHE_ALIGN: the same objsize as a distribution
 * kernel's kmem_cache line in /proc/slabinfo.
 *
 * The common code touches only the fields every implementation's struct
 * kmem_cache has (as SLOB's struct kmem_cache in 4.x mm/slab.h had them):
 * name, object_size, size, align, flags, ctor, refcount, list, inuse,
 * useroffset, usersize. The rest is the implementation's business.
 */
import { defineStruct, type FieldSpec, type StructLayout } from '../kernel/struct_layout.ts';
import type { PageLayout } from './page.ts';

/* enum slab_state */
export const DOWN = 0;
/** SLUB: kmem_cache_node available */
export const PARTIAL = 1;
/** slab caches usable, kmalloc too */
export const UP = 2;
/** everything, sysfs included */
export const FULL = 3;

/* struct slab's counters word */
export const SLAB_INUSE_MASK = 0xffff;
export const SLAB_OBJECTS_SHIFT = 16;
export const SLAB_OBJECTS_MASK = 0x7fff;
export const SLAB_FROZEN = 1 << 31;
/** MAX_OBJS_PER_PAGE: objects is 15 bits. */
export const MAX_OBJS_PER_PAGE = 32767;

export type SlabLayout = ReturnType<typeof slabLayout>;

export function slabLayout(ptrSize: 4 | 8) {
  const fields: FieldSpec[] = [
    ['__page_flags', 'ulong'],
    ['slab_cache', 'ptr'],
    ['slab_list', 'list_head'],
    ['freelist', 'ptr'],
    ['counters', 'ulong'],
    ['__page_type', 'u32'],
    ['__page_refcount', 'int'],
  ];
  if (ptrSize === 8) fields.push(['obj_exts', 'ulong']);
  const l = defineStruct(ptrSize, fields) as { readonly [k: string]: number };
  return {
    size: l.size,
    __page_flags: l.__page_flags,
    slab_cache: l.slab_cache,
    slab_list: l.slab_list,
    /** struct slab *next, overlaying slab_list.next (CPU partial list) */
    next: l.slab_list,
    /** int slabs, overlaying slab_list.prev */
    slabs: l.slab_list + ptrSize,
    /** struct rcu_head, overlaying slab_list */
    rcu_head: l.slab_list,
    freelist: l.freelist,
    counters: l.counters,
    __page_type: l.__page_type,
    __page_refcount: l.__page_refcount,
  };
}

/** SLAB_MATCH(): struct slab must agree with struct page where they share fields. */
export function checkSlabMatchesPage(s: SlabLayout, pl: PageLayout): void {
  const match = (what: string, a: number, b: number) => {
    if (a !== b) throw new Error(`struct slab: ${what} at ${a}, struct page has it at ${b}`);
  };
  match('__page_flags', s.__page_flags, pl.flags);
  match('slab_cache (compound_head)', s.slab_cache, pl.lru);
  match('__page_type', s.__page_type, pl.page_type);
  match('__page_refcount', s.__page_refcount, pl._refcount);
  if (s.size > pl.size) throw new Error(`struct slab (${s.size} bytes) is bigger than struct page (${pl.size})`);
}

export type KmemCacheLayout = ReturnType<typeof kmemCacheLayout>;

/**
 * struct kmem_cache (SLUB): 6.12's, or with `sheaves` 6.18's (cpu_sheaves,
 * sheaf_capacity; -1 without). `size_` is the field s->size; `bytes(n)` the
 * struct with n node[] entries.
 */
export function kmemCacheLayout(ptrSize: 4 | 8, sheaves = false) {
  const sheafFields = (spec: FieldSpec): FieldSpec[] => (sheaves ? [spec] : []);
  const l = defineStruct(ptrSize, [
    ['cpu_slab', 'ptr'],
    ...sheafFields(['cpu_sheaves', 'ptr']),
    ['flags', 'u32'],
    ['min_partial', 'ulong'],
    ['size_', 'u32'],
    ['object_size', 'u32'],
    ['reciprocal_size', { size: 8, align: 4 }],
    ['offset', 'u32'],
    ['cpu_partial', 'u32'],
    ['cpu_partial_slabs', 'u32'],
    ...sheafFields(['sheaf_capacity', 'u32']),
    ['oo', 'u32'],
    ['min', 'u32'],
    ['allocflags', 'u32'],
    ['refcount', 'int'],
    ['ctor', 'ptr'],
    ['inuse', 'u32'],
    ['align', 'u32'],
    ['red_left_pad', 'u32'],
    ['name', 'ptr'],
    ['list', 'list_head'],
    ['kobj', { size: 8 * ptrSize, align: ptrSize }],
    ['remote_node_defrag_ratio', 'u32'],
    ['useroffset', 'u32'],
    ['usersize', 'u32'],
    ['node', 'ptr'],
  ]) as StructLayout<KmemCacheField> & { readonly cpu_sheaves?: number; readonly sheaf_capacity?: number };
  return {
    ...l, cpu_sheaves: l.cpu_sheaves ?? -1, sheaf_capacity: l.sheaf_capacity ?? -1,
    bytes: (nrNodes: number) => l.node + nrNodes * ptrSize,
  };
}

type KmemCacheField = 'cpu_slab' | 'flags' | 'min_partial' | 'size_' | 'object_size' | 'reciprocal_size' | 'offset' |
  'cpu_partial' | 'cpu_partial_slabs' | 'oo' | 'min' | 'allocflags' | 'refcount' | 'ctor' | 'inuse' | 'align' |
  'red_left_pad' | 'name' | 'list' | 'kobj' | 'remote_node_defrag_ratio' | 'useroffset' | 'usersize' | 'node';

/** The struct kmem_cache fields slab_common.c uses, wherever an implementation puts them. */
export interface KmemCacheCommon {
  readonly name: number;
  readonly object_size: number;
  readonly size_: number;
  readonly align: number;
  readonly flags: number;
  readonly ctor: number;
  readonly refcount: number;
  readonly list: number;
  readonly inuse: number;
  readonly useroffset: number;
  readonly usersize: number;
}

/** struct kmem_cache_args (the optional arguments of kmem_cache_create). */
export interface KmemCacheArgs {
  align: number;
  useroffset: number;
  usersize: number;
  freeptr_offset: number;
  use_freeptr_offset: boolean;
  /** Code address of the constructor (kallsyms), 0 for none. */
  ctor: number;
  /** Linux 6.18: objects per percpu sheaf the cache asks for (SLUB with sheaves; 0 or absent: none). */
  sheaf_capacity?: number;
}

/** struct slabinfo: what /proc/slabinfo prints for a cache. */
export interface SlabInfo {
  active_objs: number;
  num_objs: number;
  active_slabs: number;
  num_slabs: number;
  shared_avail: number;
  limit: number;
  batchcount: number;
  shared: number;
  objects_per_slab: number;
  cache_order: number;
}

/**
 * An implementation's fast paths for the common case (SLUB's: slub_fastpath.ts),
 * tried by the common code before its general path. alloc(): the object, 0
 * on failure, -1 for "take the general path"; the frees: false for that.
 * The common code calls them only while the matching tracepoint is off.
 */
export interface SlabFastpath {
  /** kmem_cache_alloc(s, gfp) (origSize 0), or kmalloc's allocation from kmalloc_slab() (origSize: the size asked for). */
  alloc(s: number, gfp: number, origSize: number): number;
  kfree(x: number): boolean;
  cache_free(s: number, x: number): boolean;
}

/**
 * kmem_cache_prefill_sheaf() and the rest of 6.18's prefilled-sheaf API
 * (slub_sheaves.ts), without the common hooks: SlabCommon adds the
 * allocation hooks and the trace event around alloc_from_sheaf().
 */
export interface PrefilledSheaves {
  /** Where a NULL struct kmem_cache * and a NULL struct slab_sheaf * are first dereferenced (the oops address). */
  readonly nullDeref: { readonly sheaf_capacity: number; readonly sheaf_size: number };
  /** A sheaf of at least size objects of s, or 0. */
  kmem_cache_prefill_sheaf(s: number, gfp: number, size: number): number;
  /** The sheaf to use from now on (sheaf, or a new one with sheaf returned), or -errno with sheaf intact. */
  kmem_cache_refill_sheaf(s: number, gfp: number, sheaf: number, size: number): number;
  kmem_cache_return_sheaf(s: number, gfp: number, sheaf: number): void;
  /** An object off the sheaf, or 0 when it is empty. */
  alloc_from_sheaf(sheaf: number): number;
  kmem_cache_sheaf_size(sheaf: number): number;
}

/**
 * What a slab implementation (SLUB, SLAB, SLOB, SLQB; chosen
 * at boot with the `slab` option) gives the common code. Caches are named by the kernel virtual
 * address of their struct kmem_cache; objects by their address. Nothing
 * here reports a caller's mistake on behalf of the common code: arguments
 * arrive checked.
 */
export interface SlabAllocator {
  /** "SLUB" */
  readonly name: string;
  /** Where the common fields sit in this implementation's struct kmem_cache. */
  readonly cache: KmemCacheCommon;
  /** sizeof the struct kmem_cache the common code allocates (nr_node_ids node pointers). */
  readonly kmemCacheBytes: number;
  /** kmem_cache_init(): bootstrap until kmem_cache_create() and kmalloc work (creates the kmalloc caches). */
  kmem_cache_init(): void;
  /** Fill in a zeroed struct kmem_cache; 0 or -errno (state released on failure). */
  do_kmem_cache_create(s: number, name: number, size: number, args: KmemCacheArgs, flags: number): number;
  /** An object of s (not zeroed, no hooks), preferring node (-1: this CPU's); 0 on failure. */
  slab_alloc_node(s: number, gfp: number, node: number, origSize: number): number;
  /**
   * Free x, an object of s (s 0: of whatever cache it belongs to); false
   * if x lies in no slab. An object of another cache than s goes to its
   * own after SlabCommon.wrong_cache()'s warning; a pointer that is not the
   * start of an object is reported and not freed.
   */
  slab_free_object(s: number, x: number): boolean;
  /** kmem_cache_alloc_bulk(): fill p[0..size) (a void ** in memory); the number allocated or 0. Absent: one at a time (slab_bulk.ts). */
  alloc_bulk?(s: number, gfp: number, size: number, p: number): number;
  /** kmem_cache_free_bulk() with s possibly 0 (kfree_bulk). Absent: one at a time (slab_bulk.ts). */
  free_bulk?(s: number, size: number, p: number): void;
  /** Give back empty slabs; 0 when the cache holds no slab afterwards. */
  __kmem_cache_shrink(s: number): number;
  /** Free everything; 0 on success, 1 when objects remain (already reported). */
  __kmem_cache_shutdown(s: number): number;
  /** Release what do_kmem_cache_create() set up (per-CPU and per-node data). */
  __kmem_cache_release(s: number): void;
  /**
   * The CPU-hotplug teardown for a CPU going offline (SLUB's slub_cpu_dead()):
   * what cpu holds of cache s goes back to the node lists. Called with
   * slab_mutex held, by the thread that drives cpu. Absent: nothing per-CPU
   * to give back.
   */
  cpu_dead?(s: number, cpu: number): void;
  /** kvfree_call_rcu()'s kfree_rcu_sheaf() (SLUB with sheaves): true if x was queued in a percpu rcu_free sheaf. */
  kfree_rcu_sheaf?(x: number): boolean;
  /** kvfree_rcu_barrier()'s flush of s's percpu rcu_free sheaves to call_rcu(), before its rcu_barrier(). */
  flush_rcu_sheaves_on_cache?(s: number): void;
  get_slabinfo(s: number, out: SlabInfo): void;
  /** The usable size of an object of s (slab_ksize). */
  slab_ksize(s: number): number;
  /** Is obj, in the slab at slabPfn, a free object of s (for use-after-free reports)? */
  object_is_free(s: number, slabPfn: number, obj: number): boolean;
  /** The head page of the folio holding the direct-map address va; the folio is a slab of this allocator? */
  folioPfn(va: number): number;
  isSlab(pfn: number): boolean;
  /** struct slab's slab_cache. */
  slab_cache(pfn: number): number;
  /*
   * Slab debugging hooks; an implementation without slab debugging leaves
   * them out and the common code does without (flags unchanged, nothing to
   * skip or wipe, 0 slabs validated).
   */
  /** kmem_cache_flags(): flags with the debug flags the boot options give a cache of this name. */
  kmem_cache_flags?(flags: number, name: string): number;
  /** __ksize()'s skip_orig_size_check(): the caller may now use the whole object (slab debugging's kmalloc red zone goes). */
  skip_orig_size_check?(s: number, obj: number): void;
  /** maybe_wipe_obj_freeptr(): with init_on_free, clear a free pointer left inside a newly allocated object. */
  maybe_wipe_obj_freeptr?(s: number, obj: number): void;
  /** validate_slab_cache(): check (and repair, reporting) every slab and object of s; the number of slabs checked. */
  validate_slab_cache?(s: number): number;
  /** The fast paths of the common case, if the implementation has them (SLUB). */
  readonly fastpath?: SlabFastpath;
  /** 6.18's prefilled sheaves, if the implementation has them (SLUB on a machine with percpu sheaves). */
  readonly prefilled?: PrefilledSheaves;
  /**
   * The implementation's periodic work on the simulated timer (SLAB's
   * cache_reap(), SLQB's cache_trim_worker()): time advances by ms and each
   * CPU's due work runs as that CPU. Absent: no periodic work (SLUB, SLOB).
   */
  reap_tick?(ms: number): void;
  /** false: __kmem_cache_alias() never merges (SLOB). Default true. */
  readonly mergeable?: boolean;
  /** KMALLOC_MIN_SIZE, the smallest kmalloc cache (SLAB: 32); default 8. */
  readonly kmallocMinSize?: number;
  /** A write to /proc/slabinfo (SLAB's tunables): bytes consumed or -errno; absent: not writable. */
  slabinfo_write?(text: string): number;
  /** false: the kernel had no /proc/slabinfo (SLOB). Default true. */
  readonly hasSlabinfo?: boolean;
  /**
   * An implementation with its own kmalloc (SLOB's header-in-front
   * __do_kmalloc_node()): [object or 0 (ZERO_SIZE_PTR for 0), bytes_alloc
   * for trace_kmalloc, -1 for no event]. Without it kmalloc uses the
   * kmalloc caches.
   */
  kmalloc_node?(size: number, gfp: number, node: number): [number, number];
  /** The bytes_alloc trace_kmalloc reports for a kmalloc of size (> 0), for an implementation with its own kmalloc. */
  kmalloc_bytes_alloc?(size: number): number;
  /** __ksize() of an implementation with its own kmalloc. */
  ksize?(x: number): number;
  /** kmalloc_size_roundup() of an implementation with its own kmalloc. */
  kmalloc_size_roundup?(size: number): number;
}
