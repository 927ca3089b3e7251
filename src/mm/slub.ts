/*
 * SLUB: the slab allocator that limits cache line use instead of queuing
 * objects in per-CPU and per-node lists (mm/slub.c, Linux 6.12).
 *
 * A slab is one page, or a compound page of 2^order pages, cut into
 * s->size-byte objects. Its free objects form a singly linked list through
 * the objects themselves: the free pointer sits inside each free object at
 * s->offset, the middle of the object (ALIGN_DOWN(object_size / 2,
 * sizeof(void *))), unless the object must keep its contents while free
 * (a constructor, SLAB_TYPESAFE_BY_RCU, poisoning): then it goes after it.
 *
 *   slab of kmalloc-64 (order 0, 64 objects)
 *   +--------+--------+--------+--------+-- ... --+--------+
 *   | obj 0  | obj 1  | obj 2  | obj 3  |         | obj 63 |
 *   +--------+--------+--------+--------+-- ... --+--------+
 *      used     free     used     free
 *               |fp@32|--------> |fp@32|--> NULL
 *   slab->freelist --^
 *
 * Where a cache's slabs are (struct kmem_cache, struct slab: slab_types.ts):
 *
 *   kmem_cache --cpu_slab--> kmem_cache_cpu, one per CPU (per-CPU memory):
 *                              freelist  lockless list of this CPU's slab
 *                              tid       transaction id, bumped by every operation
 *                              slab  --> the CPU slab: "frozen", on no list;
 *                                        its slab->freelist collects frees
 *                                        from other CPUs
 *                              partial --> slab -> slab -> ... (slab->next,
 *                                        slab->slabs: CPU partial slabs, not frozen)
 *              --node[n]---> kmem_cache_node, one per node:
 *                              nr_partial, partial: list of slabs with free
 *                              objects (PG_workingset set), at least
 *                              min_partial of them kept even when empty;
 *                              nr_slabs, total_objects: every slab of the node
 *   Full slabs are on no list: a free into one finds it again through
 *   virt_to_slab() and puts it on the freeing CPU's partial list.
 *
 * Allocation (slab_alloc_node): the fast path pops c->freelist of this CPU
 * and bumps c->tid, touching nothing else; no lock, no page allocator call
 * (it and the free's push are slub_fastpath.ts, which SlabCommon also
 * calls directly for kmalloc/kfree/kmem_cache_alloc/kmem_cache_free).
 * When that list is empty, ___slab_alloc() takes, in turn: the frees other
 * CPUs left on the CPU slab's own freelist; a slab from c->partial; a slab
 * from the node's partial list (moving up to cpu_partial_slabs / 2 more
 * slabs to c->partial on the way); a new slab from the page allocator.
 *
 * Freeing (do_slab_free): into this CPU's slab, a push onto c->freelist.
 * Otherwise __slab_free() pushes onto slab->freelist and fixes the lists:
 * a full slab becomes a CPU partial slab; an empty slab on the node list is
 * discarded once the node has min_partial partial slabs.
 *
 * Percpu sheaves (Linux 6.18 for a cache that asks, 7.0 for every cache;
 * MachineConfig.sheaves, absent on the default 6.12 machine): arrays of
 * free objects per CPU in front of all of the above (slub_sheaves.ts). A
 * cache with s->cpu_sheaves allocates from and frees to them first; they
 * refill from and flush to the paths above (the bulk ones), and every
 * flush of the CPU slabs (flush_all, shrink, destroy) flushes them first.
 * 6.18's prefilled sheaves (kmem_cache_prefill_sheaf()) are sheaves handed
 * to a caller of its own, for allocations that must not fail later.
 *
 * Lock order (as in the kernel): slab_mutex, then node->list_lock, then
 * the per-CPU local lock, then slab_lock.
 *
 * SMP (src/kernel/smp.ts: one host thread drives every CPU, switching with
 * set_cpu(), or worker threads drive CPUs in parallel over the same RAM):
 *  - kmem_cache_cpu (freelist, tid, slab, partial) is touched only by its
 *    own CPU, with plain loads and stores (the kernel's this_cpu_cmpxchg
 *    has no LOCK prefix either): the fast paths (slub_fastpath.ts) and the
 *    slow paths below. Another CPU's is only ever read (has_cpu_slab(),
 *    reports).
 *  - n->list_lock (spin_lock_irqsave, src/kernel/locking/spinlock.ts)
 *    around every change to a node's partial and full lists and nr_partial.
 *  - slab->freelist and slab->counters, which any CPU may change (a remote
 *    free pushes onto a slab another CPU holds): every change goes through
 *    slab_update_freelist() in the kernel's retry loops (__slab_free,
 *    get_freelist, freeze_slab, deactivate_slab). kmem takes the kernel's
 *    own fallback for an architecture without cmpxchg_double:
 *    __update_freelist_slow(), i.e. slab_lock = bit_spin_lock(PG_locked,
 *    &slab->__page_flags), here Atomics.or/Atomics.and on that word, then
 *    compare both fields and store. A real 128-bit compare-exchange is not
 *    possible on an Int32Array, and packing freelist and counters into one
 *    64-bit word would need BigInt (an allocation per operation) or a
 *    layout that is not the kernel's. As PG_locked shares its word with
 *    PG_workingset (the node-partial mark), those bits are set and cleared
 *    with Atomics too.
 *  - nr_slabs and total_objects (atomic_long_t) change by atomicLongAdd()
 *    (vmstat_percpu.ts: Atomics.add on the low word, the carry to the high).
 *  - Flushing other CPUs' slabs (shrink, destroy, validate): flush_all()
 *    below, with per-CPU flush requests that the owning CPU serves.
 *  - Backing out: in the deterministic mode a list_lock held by another CPU
 *    can never be released, and the spinlock code reports the soft lockup
 *    and throws. Every path takes the lock before it changes allocator
 *    state that leaving there would lose (where 6.12 takes it later, the
 *    place is noted), so the caches stay consistent after the report. (Not
 *    covered: retry_load_slab, when a constructor installed a CPU slab
 *    while a new one was being made; backing out there leaks the new slab.)
 *  While only one host thread is attached nothing can run between a read
 *  and the store that depends on it, so all of this is plain loads and
 *  stores (the words keep their meaning; a worker may attach at any time
 *  between two calls).
 *
 * Slab debugging (CONFIG_SLUB_DEBUG, off unless slab_debug= or a cache's
 * flags ask for it; the option's parsing and the object layout are in
 * slub_debug.ts): a cache with any of SLAB_CONSISTENCY_CHECKS (F),
 * SLAB_RED_ZONE (Z), SLAB_POISON (P), SLAB_STORE_USER (U), SLAB_TRACE (T)
 * never uses the per-CPU slabs: each allocation takes one object from a
 * node partial slab or a new slab (alloc_single_from_partial/new_slab) and
 * each free goes to the slab under the node lock (free_to_partial_list),
 * with the checks, red zones (0xbb free, 0xcc allocated), poison (0x6b ..
 * 0xa5 in a free object, 0x5a in padding), owner tracks (struct track,
 * with the stack trace in the stack depot) and the kernel's reports
 * ("BUG <cache> (<taint>): <what>", the object's hex dump, "FIX <cache>:
 * <repair>"). With U, full slabs are kept on the node's full list.
 * validate_slab_cache() checks a whole cache.
 *
 * What is not modelled yet: memcg charging, freelist pointer hardening and
 * randomisation (CONFIG_SLAB_FREELIST_HARDENED/RANDOM are off), pfmemalloc
 * slabs, KFENCE, sysfs, statistics (CONFIG_SLUB_STATS).
 * Of SLAB_FREELIST_HARDENED, two cheap checks are kept because they keep
 * the allocator's state intact: freeing the object that heads the freelist
 * again (BUG_ON(object == fp)) and cache_from_obj() (slab_common.ts).
 */
import { PAGE_SIZE, formatPtr, ptr64FromWords, ptr64HiWord, ptr64LoWord, type ArchLayout } from '../arch/x86/layout.ts';
import type { RamWords } from '../machine/ram_words.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import { HOST_SECTION_SIZE, type PhysMem } from '../machine/memory.ts';
import { defineStruct, type StructLayout } from '../kernel/struct_layout.ts';
import { KERN_ERR, KERN_INFO, KERN_WARNING, TAINT_BAD_PAGE, type Bug, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Smp } from '../kernel/smp.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import { waitWhileEqual } from '../kernel/locking/lock_word.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Rcu } from '../kernel/rcu.ts';
import { NO_HASH_POINTERS_BANNER, format_page_flags, ptr_to_id } from '../lib/vsprintf.ts';
import { DUMP_PREFIX_ADDRESS, print_hex_dump_lines } from '../lib/hexdump.ts';
import { StackDepot } from '../lib/stackdepot.ts';
import { stack_trace_save_js } from '../kernel/stacktrace.ts';
import { POISON_END, POISON_FREE, POISON_INUSE, SLUB_RED_ACTIVE, SLUB_RED_INACTIVE } from '../include/linux/poison.ts';
import {
  DEBUG_METADATA_FLAGS, SLAB_DEBUG_FLAGS, __OBJECT_POISON, calculateObjectLayout, kmem_cache_flags, parseSlubDebugCmdline,
  trackFrames, trackLayout, type MetadataSizes, type SlubDebugParams,
} from './slub_debug.ts';
import {
  GFP_DMA, GFP_DMA32, GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_FS, __GFP_HARDWALL, __GFP_HIGH,
  __GFP_IO, __GFP_MEMALLOC, __GFP_NOFAIL, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_RECLAIM,
  __GFP_RECLAIMABLE, __GFP_RETRY_MAYFAIL, __GFP_THISNODE, __GFP_ZERO,
} from '../include/linux/gfp_types.ts';
import { gfp_zone } from '../include/linux/gfp.ts';
import { format_gfp_mode } from '../include/trace/events/mmflags.ts';
import {
  SLAB_CACHE_DMA, SLAB_CACHE_DMA32, SLAB_CONSISTENCY_CHECKS, SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_NO_OBJ_EXT,
  SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE, SLAB_TYPESAFE_BY_RCU,
} from '../include/linux/slab.ts';
import { MAX_PAGE_ORDER, NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B, PAGE_ALLOC_COSTLY_ORDER, type MmzoneLayouts } from './mmzone.ts';
import { PG_locked, PG_workingset, PGTY_slab, type Pages } from './page.ts';
import type { Sparse } from './sparse.ts';
import type { PageAllocator } from './page_alloc.ts';
import { PageLists, type ListHead } from './page_list.ts';
import type { Percpu } from './percpu.ts';
import { atomicLongAdd } from '../machine/ram_words.ts';
import {
  DOWN, MAX_OBJS_PER_PAGE, PARTIAL, SLAB_FROZEN, SLAB_INUSE_MASK, SLAB_OBJECTS_MASK, SLAB_OBJECTS_SHIFT,
  checkSlabMatchesPage, kmemCacheLayout, slabLayout, type KmemCacheArgs, type KmemCacheLayout, type SlabAllocator,
  type PrefilledSheaves, type SlabInfo, type SlabLayout,
} from './slab_types.ts';
import type { SlabCommon } from './slab_common.ts';
import { DOUBLE_FREE, MISS, PUSHED, SlubFastpath, type SlubSlowPaths } from './slub_fastpath.ts';
import { PCS_BATCH_MAX, SlubSheaves, slabSheafLayout, slubPercpuSheavesLayout } from './slub_sheaves.ts';
import type { SheavesMode } from '../machine/config.ts';

/* struct kmem_cache_cpu: local_lock_t is empty without lockdep and PREEMPT_RT */
function kmemCacheCpuLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['freelist', 'ptr'], ['tid', 'ulong'], ['slab', 'ptr'], ['partial', 'ptr']]);
}

/*
 * struct kmem_cache_node, with CONFIG_SLUB_DEBUG (nr_slabs, total_objects,
 * full); with sheaves (6.18) also the node's barn (72 bytes on x86_64, so
 * 128 with SLAB_HWCACHE_ALIGN: the 6.18 host's kmem_cache_node row).
 */
function kmemCacheNodeLayout(ptrSize: 4 | 8, sheaves: boolean) {
  const l = defineStruct(ptrSize, [
    ['list_lock', 'int'], ['nr_partial', 'ulong'], ['partial', 'list_head'],
    ['nr_slabs', 'long'], ['total_objects', 'long'], ['full', 'list_head'],
    ...(sheaves ? [['barn', 'ptr'] as const] : []),
  ]) as StructLayout<'list_lock' | 'nr_partial' | 'partial' | 'nr_slabs' | 'total_objects' | 'full'> & { readonly barn?: number };
  return { ...l, barn: l.barn ?? -1 };
}

/**
 * struct slub_flush_work, one per CPU (DEFINE_PER_CPU(slub_flush)): the
 * flush_cpu_slab() work flush_all() queues on a CPU. kmem's work word:
 * 0 idle, WORK_PENDING queued (s set), WORK_RUNNING being served.
 */
function slubFlushWorkLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['work', 'int'], ['skip', 'int'], ['s', 'ptr']]);
}

/* mm/slub.c's static data: kmem_cache_node, the tunables, slab_nodes, the two boot caches */
function slubStaticsLayout(ptrSize: 4 | 8, bootCacheBytes: number) {
  return defineStruct(ptrSize, [
    ['kmem_cache_node', 'ptr'],
    /* flush_all()'s flush_lock (a mutex: 0, or the holder's CPU + 1) and the per-CPU slub_flush works */
    ['flush_lock', 'int'],
    ['slub_flush', 'ptr'],
    ['slub_min_order', 'u32'],
    ['slub_max_order', 'u32'],
    ['slub_min_objects', 'u32'],
    ['slab_nodes', 'ulong'],
    /* CONFIG_SLUB_DEBUG: slub_debug, slub_debug_string (pointing into slub_debug_buf, a copy of the option),
       disable_higher_order_debug; the KUnit slab_errors resource; lib/vsprintf.c's no_hash_pointers
       (kept here: slab_debug is what turns it on); lib/stackdepot.c's statics (SLUB is its user) */
    ['slub_debug', 'u32'],
    ['disable_higher_order_debug', 'u32'],
    ['no_hash_pointers', 'u32'],
    ['slub_debug_string', 'ptr'],
    ['slab_errors', 'ptr'],
    ['slub_debug_buf', { size: COMMAND_LINE_SIZE, align: 8 }],
    ['stackdepot', { size: StackDepot.staticBytes(ptrSize), align: 8 }],
    ['boot_kmem_cache', { size: bootCacheBytes, align: 64 }],
    ['boot_kmem_cache_node', { size: bootCacheBytes, align: 64 }],
  ]);
}

const MIN_PARTIAL = 5;
const MAX_PARTIAL = 10;
const OO_SHIFT = 16;
const OO_MASK = (1 << OO_SHIFT) - 1;
const SHRINK_PROMOTE_MAX = 32;
/* struct slub_flush_work's work word (kmem's stand-in for WORK_STRUCT_PENDING) and how long flush_all() waits for a CPU */
const WORK_PENDING = 1;
const WORK_RUNNING = 2;
const FLUSH_WAIT_MS = 200;
const MAX_PARTIAL_TO_SCAN = 10000;
/* Internal SLUB flags (__OBJECT_POISON: slub_debug.ts) */
const __CMPXCHG_DOUBLE = 1 << 18;
/* enum track_item */
const TRACK_ALLOC = 0;
const TRACK_FREE = 1;
/** x86's COMMAND_LINE_SIZE: room for the slab_debug= option. */
const COMMAND_LINE_SIZE = 2048;
/** HZ = 1000; INITIAL_JIFFIES is (unsigned int)(-300 * HZ), so jiffies wraps 5 minutes after boot on 32 bits. */
const HZ = 1000;
const INITIAL_JIFFIES = 2 ** 32 - 300 * HZ;
const SLAB_NO_CMPXCHG = SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE;
/* mm/internal.h */
const GFP_RECLAIM_MASK = __GFP_RECLAIM | __GFP_HIGH | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC;
const GFP_CONSTRAINT_MASK = __GFP_HARDWALL | __GFP_THISNODE;
const EINVAL = 22;
const TWO32 = 4294967296;
const INV_SECTION = 1 / HOST_SECTION_SIZE;
const SECTION_MASK = HOST_SECTION_SIZE - 1;

/** What SLUB needs from the booted machine. */
export interface SlubDeps {
  layout: ArchLayout;
  mem: PhysMem;
  words: RamWords;
  sparse: Sparse;
  pages: Pages;
  mz: MmzoneLayouts;
  buddy: PageAllocator;
  percpu: Percpu;
  log: Log;
  bug: Bug;
  sched: Sched;
  kallsyms: Kallsyms;
  rcu: Rcu;
  nrCpus: number;
  cpuToNode: readonly number[];
  pgdatPa: readonly number[];
  /** MAX_NUMNODES: the size of node[] in the static boot caches. */
  maxNumNodes: number;
  /** Physical address of mm/slub.c's static data (staticBytes()). */
  staticsPa: number;
  /**
   * slub_min_order=, slub_max_order=, slub_min_objects= (or slab_*), the
   * slab_debug= / slub_debug= options as setup_slub_debug() parsed them,
   * no_hash_pointers, from the command line.
   */
  params: { minOrder: number; maxOrder: number; minObjects: number; debug: SlubDebugParams; noHashPointers: boolean };
  /** The machine's clock (ns since boot), for jiffies (owner tracking's age=); INITIAL_JIFFIES when absent. */
  uptimeNs?: () => number;
  /** Which host thread drives which CPU, and spinlock_t (n->list_lock). */
  smp: Smp;
  locks: Spinlocks;
  /** __va()/__pa() and where the direct map ends. */
  kaddr: KernelAddr;
  /** Percpu sheaves (slub_sheaves.ts): 6.18's opt-in, 7.0's for all caches; absent: 6.12 (none, and its struct layouts). */
  sheaves?: SheavesMode;
}

/** get_order() for any size, however large. */
export function getOrder(size: number): number {
  const pages = Math.ceil(size / PAGE_SIZE);
  let order = 0;
  while (2 ** order < pages) order++;
  return order;
}

/** fls(): the 1-based index of the highest set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

export class Slub implements SlabAllocator, SlubSlowPaths {
  readonly name = 'SLUB';
  readonly cache: KmemCacheLayout;
  readonly kmemCacheBytes: number;
  /** TID_STEP: roundup_pow_of_two(CONFIG_NR_CPUS) with CONFIG_PREEMPTION (NR_CPUS 8192 on x86_64, 32 on i386). */
  private readonly tidStep: number;
  private readonly w: RamWords;
  private readonly i32: readonly Int32Array[];
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly ptr8: boolean;
  private readonly vmemmap: number;
  private readonly structPage: number;
  private readonly invStructPage: number;
  private readonly S: SlabLayout;
  private readonly C: ReturnType<typeof kmemCacheCpuLayout>;
  private readonly N: ReturnType<typeof kmemCacheNodeLayout>;
  private readonly G: ReturnType<typeof slubStaticsLayout>;
  /* struct slab fields as word indexes into a struct page */
  private readonly wSlabCache: number;
  private readonly wNext: number;
  private readonly wSlabs: number;
  private readonly wFreelist: number;
  private readonly wCounters: number;
  private readonly wType: number;
  /** __page_flags' low word (PG_locked, PG_workingset), as a word index into a struct page. */
  private readonly wFlags: number;
  /** The fast paths (slub_fastpath.ts), which SlabCommon tries first. */
  readonly fastpath: SlubFastpath;
  /** The percpu sheaves and barns (slub_sheaves.ts); null on a 6.12 machine. */
  readonly sheaves: SlubSheaves | null;
  /** kmem_cache_prefill_sheaf() and the rest: the sheaves' (absent on a 6.12 machine: the API came with them). */
  readonly prefilled?: PrefilledSheaves;
  /** struct slub_flush_work */
  private readonly F: ReturnType<typeof slubFlushWorkLayout>;
  /** The per-CPU offset of slub_flush (fixed by the boot, the same on every thread). */
  private slubFlushOff = 0;
  /* derived: the per-CPU first chunk (fixed at boot) */
  private readonly pcpuBase: number;
  private readonly pcpuUnit: number;
  private readonly nrNodeIds: number;
  private readonly rcuFreeSlab: number;
  /**
   * The node partial lists are threaded through slab->slab_list, a
   * list_head inside struct page like page->lru (8 bytes further on x86_64):
   * PageLists does the list operations for whichever list_head of struct
   * page its layout names. `head` is the one list head being worked on.
   */
  private readonly lists: PageLists;
  private readonly head: { va: number; arr: Int32Array; w: number } = { va: 0, arr: new Int32Array(0), w: 0 };
  private readonly wSlabList: number;
  /** lib/stackdepot.c (its state is in SLUB's statics). */
  private readonly depot: StackDepot;
  /** struct track. */
  private readonly track: ReturnType<typeof trackLayout>;
  /** The metadata sizes calculate_sizes() adds (6.12 on this architecture). */
  private readonly metadataSizes: MetadataSizes;
  /* Transient, during one debug operation: set_track_prepare()'s result; the call chain a WARN prints. */
  private trkAddr = 0;
  private trkHandle = 0;
  private dbgFrames: readonly string[] = [];

  constructor(private readonly d: SlubDeps, private readonly common: SlabCommon) {
    this.ptr = d.layout.ptrSize;
    this.ptr8 = this.ptr === 8;
    this.w = d.words;
    this.i32 = d.words.i32;
    this.po = d.layout.PAGE_OFFSET;
    this.vmemmap = d.layout.VMEMMAP_START;
    this.structPage = d.pages.pl.size;
    this.invStructPage = 1 / this.structPage;
    this.cache = kmemCacheLayout(this.ptr, d.sheaves !== undefined);
    this.nrNodeIds = d.pgdatPa.length;
    this.kmemCacheBytes = this.cache.bytes(this.nrNodeIds);
    this.S = slabLayout(this.ptr);
    checkSlabMatchesPage(this.S, d.pages.pl);
    this.C = kmemCacheCpuLayout(this.ptr);
    this.N = kmemCacheNodeLayout(this.ptr, d.sheaves !== undefined);
    this.G = slubStaticsLayout(this.ptr, this.cache.bytes(d.maxNumNodes));
    this.wSlabCache = this.S.slab_cache >> 2;
    this.wNext = this.S.next >> 2;
    this.wSlabs = this.S.slabs >> 2;
    this.wFreelist = this.S.freelist >> 2;
    this.wCounters = this.S.counters >> 2;
    this.wType = this.S.__page_type >> 2;
    this.wFlags = d.pages.pl.flags >> 2;
    this.F = slubFlushWorkLayout(this.ptr);
    this.tidStep = this.ptr8 ? 8192 : 32;
    this.pcpuBase = d.percpu.per_cpu_ptr_pa(0, 0);
    this.pcpuUnit = d.percpu.unitSize;
    this.rcuFreeSlab = d.kallsyms.register('rcu_free_slab', (head) => this.rcu_free_slab(head));
    this.lists = new PageLists(d.mem, d.sparse, { ...d.pages.pl, lru: this.S.slab_list }, d.layout);
    this.wSlabList = this.S.slab_list >> 2;
    this.track = trackLayout(this.ptr);
    this.metadataSizes = { ptrSize: this.ptr, track: this.track.size, origSize: this.ptr };
    this.depot = new StackDepot({
      words: d.words, ptrSize: this.ptr, pageOffset: this.po, staticsPa: d.staticsPa + this.G.stackdepot, locks: d.locks,
      allocPages: (order) => {
        const pfn = d.buddy.__alloc_pages(GFP_NOWAIT | __GFP_NOWARN, order, -1);
        return pfn < 0 ? 0 : this.po + pfn * PAGE_SIZE;
      },
    });
    this.fastpath = new SlubFastpath({
      ptrSize: this.ptr, pageOffset: this.po, vmemmap: this.vmemmap, structPage: this.structPage, lowmemBytes: d.kaddr.directMapEnd - this.po,
      pcpuBase: this.pcpuBase, pcpuUnit: this.pcpuUnit, tidStep: this.tidStep, cpu_slab: this.cache.cpu_slab,
      flags: this.cache.flags, size: this.cache.size_, offset: this.cache.offset, c_freelist: this.C.freelist,
      c_tid: this.C.tid, c_slab: this.C.slab, slab_cache: this.S.slab_cache, counters: this.S.counters,
      page_type: this.S.__page_type, cpu_sheaves: this.cache.cpu_sheaves, sheaf_capacity: this.cache.sheaf_capacity,
      pcs_main: slubPercpuSheavesLayout(this.ptr).main, pcs_spare: slubPercpuSheavesLayout(this.ptr).spare, sheaf_size: slabSheafLayout(this.ptr).size_,
      sheaf_objects: slabSheafLayout(this.ptr).objects, singleNode: this.nrNodeIds === 1,
    }, d.mem, d.nrCpus, d.sparse, d.sched, d.buddy.globals, this);
    this.sheaves = d.sheaves === undefined ? null : new SlubSheaves({
      mem: d.mem, words: d.words, kaddr: d.kaddr, locks: d.locks, sched: d.sched, percpu: d.percpu, bug: d.bug, mode: d.sheaves,
      ptrSize: this.ptr, pageOffset: this.po, nrCpus: d.nrCpus, cpuToNode: d.cpuToNode, cache: this.cache, nodeBarn: this.N.barn,
      rcu: d.rcu, kallsyms: d.kallsyms,
    }, {
      alloc_from_slabs: (s, gfp, n, p) => this.__kmem_cache_alloc_bulk(s, gfp, n, p),
      free_to_slabs: (s, n, p) => this.__kmem_cache_free_bulk(s, n, p),
      get_node: (s, nid) => this.get_node(s, nid),
      object_nid: (x) => this.slab_nid(this.folioPfn(x)),
      kmalloc_node: (size, gfp, node) => common.__kmalloc_node(size, gfp, node),
      kfree: (x) => common.kfree(x),
      kmalloc_size_roundup: (size) => common.kmalloc_size_roundup(size),
      slab_free_hook: (s, x) => this.slab_free_hook(s, x),
    });
    if (this.sheaves !== null) this.prefilled = this.sheaves;
  }

  /**
   * Bytes of mm/slub.c static data for a machine with this pointer size and
   * MAX_NUMNODES: room for the larger struct kmem_cache (6.18's; the 64-byte
   * alignment of the boot caches gives both layouts the same total).
   */
  static staticBytes(ptrSize: 4 | 8, maxNumNodes: number): number {
    return slubStaticsLayout(ptrSize, kmemCacheLayout(ptrSize, true).bytes(maxNumNodes)).size;
  }

  /* ------------------------------------------------------------------ */
  /* Reading and writing the structures                                  */
  /* ------------------------------------------------------------------ */

  private u32(s: number, field: number): number {
    return this.w.r32(s - this.po + field) >>> 0;
  }

  private setU32(s: number, field: number, v: number): void {
    this.w.w32(s - this.po + field, v);
  }

  private ptrField(s: number, field: number): number {
    return this.w.rptr(s - this.po + field);
  }

  private setPtrField(s: number, field: number, v: number): void {
    this.w.wptr(s - this.po + field, v);
  }

  private get kmem_cache_node(): number {
    return this.w.rptr(this.d.staticsPa + this.G.kmem_cache_node);
  }

  private get slub_min_order(): number {
    return this.w.r32(this.d.staticsPa + this.G.slub_min_order);
  }

  private get slub_max_order(): number {
    return this.w.r32(this.d.staticsPa + this.G.slub_max_order);
  }

  private get slub_min_objects(): number {
    return this.w.r32(this.d.staticsPa + this.G.slub_min_objects);
  }

  private node_isset(node: number): boolean {
    return node >= 0 && node < this.nrNodeIds && Math.floor(this.w.rulong(this.d.staticsPa + this.G.slab_nodes) / 2 ** node) % 2 === 1;
  }

  /** Physical address of CPU cpu's struct kmem_cache_cpu of cache s. */
  private cpuSlab(s: number, cpu: number): number {
    return this.pcpuBase + cpu * this.pcpuUnit + this.w.rptr(s - this.po + this.cache.cpu_slab);
  }

  /** Physical address of the current CPU's. */
  private thisCpuSlab(s: number): number {
    const pa = s - this.po + this.cache.cpu_slab;
    return this.pcpuBase + this.d.sched.cpu * this.pcpuUnit + this.pget(this.i32[(pa * INV_SECTION) | 0], (pa & SECTION_MASK) >> 2);
  }

  /** next_tid(): c->tid += TID_STEP (an unsigned long). */
  private bumpTid(c: number): void {
    const pa = c + this.C.tid;
    const a = this.i32[(pa * INV_SECTION) | 0];
    const i = (pa & SECTION_MASK) >> 2;
    const lo = (a[i] >>> 0) + this.tidStep;
    a[i] = lo | 0;
    if (this.ptr8 && lo >= TWO32) a[i + 1] = (a[i + 1] + 1) | 0;
  }

  /** struct kmem_cache_node * of node nid, 0 if none. */
  private get_node(s: number, nid: number): number {
    return this.ptrField(s, this.cache.node + nid * this.ptr);
  }

  /* struct slab, by the pfn of its first page */

  /** struct slab * of the slab whose head page is pfn. */
  slabPtr(pfn: number): number {
    return this.vmemmap !== 0 ? this.vmemmap + pfn * this.structPage : this.d.sparse.page_to_virt(pfn);
  }

  /** pfn of the head page of a struct slab *. */
  private slabPfn(slab: number): number {
    return this.vmemmap !== 0 ? ((slab - this.vmemmap) * this.invStructPage) | 0 : this.d.sparse.virt_to_pfn_of_page(slab);
  }

  /**
   * A kernel pointer (or NULL) in a[i] (and a[i + 1] on x86_64): slab
   * freelists, free pointers, kmem_cache_cpu fields. Never a LIST_POISON
   * value (those are list_heads': slabGetPtr()).
   */
  private pget(a: Int32Array, i: number): number {
    return this.ptr8 ? (a[i] >>> 0) + (a[i + 1] & 0xffff) * TWO32 : a[i] >>> 0;
  }

  /** Store a kernel pointer (or NULL) as pget() reads it: x86_64's high word is 0xffff0000 | bits 32..47. */
  private pset(a: Int32Array, i: number, v: number): void {
    a[i] = v | 0;
    if (this.ptr8) a[i + 1] = v === 0 ? 0 : ((v * (1 / TWO32)) | 0) | 0xffff0000;
  }

  private slabGetPtr(pfn: number, word: number): number {
    const a = this.d.sparse.arr(pfn);
    const i = this.d.sparse.word(pfn) + word;
    return this.ptr8 ? ptr64FromWords(a[i], a[i + 1]) : a[i] >>> 0;
  }

  private slabSetPtr(pfn: number, word: number, v: number): void {
    const a = this.d.sparse.arr(pfn);
    const i = this.d.sparse.word(pfn) + word;
    if (this.ptr8) {
      a[i] = ptr64LoWord(v);
      a[i + 1] = ptr64HiWord(v);
    } else {
      a[i] = v | 0;
    }
  }

  slab_cache(pfn: number): number {
    return this.pget(this.d.sparse.arr(pfn), this.d.sparse.word(pfn) + this.wSlabCache);
  }

  private slabFreelist(pfn: number): number {
    return this.pget(this.d.sparse.arr(pfn), this.d.sparse.word(pfn) + this.wFreelist);
  }

  /** The low 32 bits of slab->counters: inuse | objects << 16 | frozen << 31. */
  private counters(pfn: number): number {
    return this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wCounters] >>> 0;
  }

  private setCounters(pfn: number, v: number): void {
    this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wCounters] = v | 0;
  }

  private inuse(pfn: number): number {
    return this.counters(pfn) & SLAB_INUSE_MASK;
  }

  private objects(pfn: number): number {
    return (this.counters(pfn) >>> SLAB_OBJECTS_SHIFT) & SLAB_OBJECTS_MASK;
  }

  private setInuse(pfn: number, inuse: number): void {
    this.setCounters(pfn, (this.counters(pfn) & ~SLAB_INUSE_MASK) | inuse);
  }

  private slabSlabs(pfn: number): number {
    return this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wSlabs];
  }

  private setSlabSlabs(pfn: number, slabs: number): void {
    this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wSlabs] = slabs;
  }

  private slab_nid(pfn: number): number {
    return this.d.pages.page_to_nid(pfn);
  }

  private slab_order(pfn: number): number {
    return this.d.pages.compound_order(pfn);
  }

  /** slab_address(): the direct-map address of the slab's first byte. */
  private slab_address(pfn: number): number {
    return this.po + pfn * PAGE_SIZE;
  }

  /**
   * virt_to_folio(): the pfn of the head page of the folio holding kernel
   * address va (direct map). A tail page's compound_head (head | 1) is in
   * the word that is slab_cache in a head page.
   */
  folioPfn(va: number): number {
    const pfn = Math.floor((va - this.po) / PAGE_SIZE);
    const head = this.d.pages.lruNextLo(pfn);
    if ((head & 1) === 0) return pfn;
    return this.slabPfn(this.slabGetPtr(pfn, this.wSlabCache) - 1);
  }

  /** folio_test_slab() */
  isSlab(pfn: number): boolean {
    return this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wType] >>> 24 === PGTY_slab;
  }

  /* ------------------------------------------------------------------ */
  /* Free pointers                                                       */
  /* ------------------------------------------------------------------ */

  private get_freepointer(s: number, object: number): number {
    const pa = object - this.po + this.u32(s, this.cache.offset);
    return this.pget(this.i32[(pa * INV_SECTION) | 0], (pa & SECTION_MASK) >> 2);
  }

  /* ------------------------------------------------------------------ */
  /* SMP: the node lists' lock, the slab's freelist and counters         */
  /* ------------------------------------------------------------------ */

  /** More than one host thread attached: words other CPUs also change need Atomics (the kernel's LOCK prefix). */
  private parallel(): boolean {
    return this.d.smp.threadsRelaxed() > 1;
  }

  /**
   * spin_lock_irqsave(&n->list_lock): the flags for unlock_node(). A soft
   * lockup throws before anything changed, with interrupts as they were.
   */
  private lock_node(n: number): number {
    return this.d.locks.spin_lock_irqsave(n - this.po + this.N.list_lock);
  }

  private unlock_node(n: number, flags: number): void {
    this.d.locks.spin_unlock_irqrestore(n - this.po + this.N.list_lock, flags);
  }

  /**
   * slab_update_freelist(), as __update_freelist_slow() does it, on the
   * struct slab at a[w..] (sparse.arr(pfn), sparse.word(pfn)): under
   * slab_lock, slab->freelist and slab->counters become newFreelist and
   * newCounters if they still are oldFreelist and oldCounters; false if
   * another CPU changed them since the caller read them (it reads again and
   * retries). With one host thread nothing runs between the caller's read
   * and this store, and the bit lock is not taken.
   */
  private slab_update_freelist(a: Int32Array, w: number, oldFreelist: number, oldCounters: number, newFreelist: number,
    newCounters: number): boolean {
    const parallel = this.parallel();
    if (parallel) this.slab_lock(a, w + this.wFlags);
    const ok = this.pget(a, w + this.wFreelist) === oldFreelist && a[w + this.wCounters] === (oldCounters | 0);
    if (ok) {
      this.pset(a, w + this.wFreelist, newFreelist);
      a[w + this.wCounters] = newCounters | 0;
    }
    if (parallel) Atomics.and(a, w + this.wFlags, ~(1 << PG_locked));
    return ok;
  }

  /** slab_lock(): bit_spin_lock(PG_locked, &slab->__page_flags), spinning on a plain read of the bit (cpu_relax()). */
  private slab_lock(a: Int32Array, i: number): void {
    const bit = 1 << PG_locked;
    while ((Atomics.or(a, i, bit) & bit) !== 0) {
      while ((Atomics.load(a, i) & bit) !== 0) { /* cpu_relax() */ }
    }
  }

  /**
   * slab_set_node_partial() / slab_clear_node_partial(): PG_workingset,
   * with set_bit()/clear_bit(), atomic: the same word holds PG_locked, which
   * another CPU's slab_lock may be setting.
   */
  private set_node_partial(pfn: number, on: boolean): void {
    const a = this.d.sparse.arr(pfn);
    const i = this.d.sparse.word(pfn) + this.wFlags;
    const bit = 1 << PG_workingset;
    if (this.parallel()) {
      if (on) Atomics.or(a, i, bit);
      else Atomics.and(a, i, ~bit);
    } else {
      a[i] = on ? a[i] | bit : a[i] & ~bit;
    }
  }

  private test_node_partial(pfn: number): boolean {
    return (this.d.sparse.arr(pfn)[this.d.sparse.word(pfn) + this.wFlags] & (1 << PG_workingset)) !== 0;
  }

  /* ------------------------------------------------------------------ */
  /* Allocation and free (the per-CPU parts are slub_fastpath.ts)        */
  /* ------------------------------------------------------------------ */

  /** slab_alloc_node() without the hooks: the percpu sheaves, this CPU's lockless freelist, else __slab_alloc(). */
  slab_alloc_node(s: number, gfp: number, node: number, origSize: number): number {
    if (this.sheaves !== null && this.sheaves.has_sheaves(s)) {
      this.serve_flush();
      const object = this.sheaves.alloc_from_pcs(s, gfp, node);
      if (object !== 0) return object;
    }
    if (node < 0) {
      const object = this.fastpath.pop(s);
      if (object !== 0) return object;
    }
    return this.__slab_alloc(s, gfp, node, origSize);
  }

  /**
   * __slab_alloc(): serve a flush another thread asked of this CPU; with a
   * node to match, the lockless freelist if the CPU slab is on it
   * (node_match()); else ___slab_alloc().
   */
  __slab_alloc(s: number, gfp: number, node: number, origSize: number): number {
    this.serve_flush();
    const c = this.thisCpuSlab(s);
    if (node >= 0) {
      const slab = this.w.rptr(c + this.C.slab);
      if (slab !== 0 && this.slab_nid(this.slabPfn(slab)) === node) {
        const object = this.fastpath.pop(s);
        if (object !== 0) return object;
      }
    }
    return this.___slab_alloc(s, gfp, node, c, origSize);
  }

  /** The fast path's miss on a cache with sheaves: alloc_from_pcs(), else the slabs. */
  alloc_pcs_slow(s: number, gfp: number, origSize: number): number {
    this.serve_flush();
    const object = this.sheaves!.alloc_from_pcs(s, gfp, -1);
    return object !== 0 ? object : this.__slab_alloc(s, gfp, -1, origSize);
  }

  /** The fast path's miss on a free to a cache with sheaves: free_to_pcs() for an object of this node, else do_slab_free(). */
  free_pcs_slow(s: number, pfn: number, x: number): void {
    this.serve_flush();
    if (this.slab_nid(pfn) === this.d.cpuToNode[this.d.sched.cpu] && this.sheaves!.free_to_pcs(s, x)) return;
    this.do_slab_free(s, pfn, x, x, 1);
  }

  /**
   * kfree() and kmem_cache_free() of x when the fast path did not take it
   * (slub_fastpath.ts): false if x is in no slab (the caller's business: a
   * large kmalloc, or a warning). s is the cache the caller names, 0 for
   * kfree(); if x belongs to another one, cache_from_obj() warns and x goes
   * to its real cache. A pointer that is not an object's start is reported
   * as the consistency checks report it, and not freed. Then
   * do_slab_free().
   */
  slab_free_object(s: number, x: number): boolean {
    this.serve_flush();
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const cache = this.slab_cache(pfn);
    const api = s === 0 ? 'kfree' : 'kmem_cache_free';
    if (cache !== s) {
      if (s !== 0) {
        try {
          this.common.wrong_cache(s, cache);
        } finally {
          this.print_tracking(cache, x); // cache_from_obj(): after the warning, the object's owner
        }
      }
      s = cache;
    }
    if (this.kmem_cache_debug(s)) {
      this.debug_slab_free(s, pfn, x, api);
      return true;
    }
    const size = this.u32(s, this.cache.size_);
    const off = x - this.slab_address(pfn);
    if (off % size !== 0 || off >= this.objects(pfn) * size) {
      this.invalid_object(s, pfn, x);
      return true;
    }
    this.slab_free_hook(s, x);
    if (this.sheaves !== null && this.sheaves.has_sheaves(s)) this.free_pcs_slow(s, pfn, x);
    else this.do_slab_free(s, pfn, x, x, 1);
    return true;
  }

  /** The object freed is already the head of the freelist: set_freepointer()'s BUG_ON(object == fp). */
  private double_free(): void {
    this.d.bug.bug('mm/slub.c', 550, 'do_slab_free', ['slab_free']);
  }

  /** do_slab_free(): onto this CPU's freelist if the slab is this CPU's slab, else __slab_free(). */
  private do_slab_free(s: number, slabPfn: number, head: number, tail: number, cnt: number): void {
    const r = this.fastpath.push(s, slabPfn, head, tail);
    if (r === PUSHED) return;
    if (r === DOUBLE_FREE) {
      this.double_free();
      return;
    }
    if (r === MISS) {
      // a flush to serve first, or a per-CPU unit the fast path cannot index: the same push, by the general accessors
      this.serve_flush();
      const w = this.w;
      const c = this.thisCpuSlab(s);
      if (w.rptr(c + this.C.slab) === this.slabPtr(slabPfn)) {
        const fp = w.rptr(c + this.C.freelist);
        if (fp === tail) {
          this.double_free();
          return;
        }
        w.wptr(tail - this.po + this.u32(s, this.cache.offset), fp);
        w.wptr(c + this.C.freelist, head);
        this.bumpTid(c);
        return;
      }
    }
    this.__slab_free(s, slabPfn, head, tail, cnt);
  }

  /* ------------------------------------------------------------------ */
  /* The allocation slow path                                            */
  /* ------------------------------------------------------------------ */

  /**
   * ___slab_alloc(): the lockless freelist is empty. Reload it from the CPU
   * slab's own freelist, a CPU partial slab, a node partial slab or a new
   * slab, in that order; c is this CPU's kmem_cache_cpu (physical address).
   */
  private ___slab_alloc(s: number, gfp: number, node: number, c: number, origSize: number): number {
    if (this.kmem_cache_debug(s)) return this.debug_slab_alloc(s, gfp, node, origSize);
    const w = this.w;
    // kmem_cache_cpu is aligned to its size: one section holds all of it
    const ca = this.i32[(c * INV_SECTION) | 0];
    const ci = (c & SECTION_MASK) >> 2;
    const cSlab = ci + (this.C.slab >> 2);
    const cPartial = ci + (this.C.partial >> 2);
    const slabPtr = this.pget(ca, cSlab);
    if (slabPtr === 0) {
      if (node >= 0 && !this.node_isset(node)) node = -1;
    } else {
      const pfn = this.slabPfn(slabPtr);
      let mismatch = false;
      if (node >= 0 && this.slab_nid(pfn) !== node) {
        if (!this.node_isset(node)) node = -1;
        else mismatch = true;
      }
      if (mismatch) {
        this.deactivate_cpu_slab(s, c);
      } else {
        let freelist = this.pget(ca, ci + (this.C.freelist >> 2));
        if (freelist === 0) freelist = this.get_freelist(pfn);
        if (freelist !== 0) return this.load_freelist(s, c, freelist);
        // The CPU slab is full: get_freelist() unfroze it; it stays on no list.
        this.pset(ca, cSlab, 0);
        this.bumpTid(c);
      }
    }
    // new_slab: the CPU partial slabs first.
    for (let p = this.pget(ca, cPartial); p !== 0; p = this.pget(ca, cPartial)) {
      const pfn = this.slabPfn(p);
      if (node < 0 || this.slab_nid(pfn) === node) {
        this.pset(ca, cPartial, this.pget(this.d.sparse.arr(pfn), this.d.sparse.word(pfn) + this.wNext));
        this.pset(ca, cSlab, p);
        return this.load_freelist(s, c, this.get_freelist(pfn));
      }
      this.__put_partials(s, c, -1, 1);
    }
    // new_objects: a node partial slab, else a new slab.
    let tryThisnode = true;
    for (;;) {
      let pcFlags = gfp;
      if (node >= 0 && !(gfp & __GFP_THISNODE) && tryThisnode) pcFlags = GFP_NOWAIT | __GFP_THISNODE;
      let pfn = this.get_partial(s, node, pcFlags);
      let freelist: number;
      if (pfn >= 0) {
        freelist = this.freeze_slab(pfn);
      } else {
        pfn = this.new_slab(s, pcFlags, node);
        if (pfn < 0) {
          if (node >= 0 && !(gfp & __GFP_THISNODE) && tryThisnode) {
            tryThisnode = false;
            continue;
          }
          this.slab_out_of_memory(s, gfp, node);
          return 0;
        }
        // No other reference to the slab yet: freeze it and take its whole freelist.
        freelist = this.slabFreelist(pfn);
        this.slabSetPtr(pfn, this.wFreelist, 0);
        const objects = this.objects(pfn);
        this.setCounters(pfn, objects | (objects << SLAB_OBJECTS_SHIFT) | SLAB_FROZEN);
        this.inc_slabs_node(s, this.slab_nid(pfn), objects);
      }
      // retry_load_slab: flush a CPU slab installed meanwhile (by a constructor that allocated from this cache).
      if (w.rptr(c + this.C.slab) !== 0) this.deactivate_cpu_slab(s, c);
      w.wptr(c + this.C.slab, this.slabPtr(pfn));
      return this.load_freelist(s, c, freelist);
    }
  }

  /** load_freelist: the first object is the caller's, the rest becomes c->freelist. */
  private load_freelist(s: number, c: number, freelist: number): number {
    this.pset(this.i32[(c * INV_SECTION) | 0], ((c + this.C.freelist) & SECTION_MASK) >> 2, this.get_freepointer(s, freelist));
    this.bumpTid(c);
    return freelist;
  }

  /** get_freelist(): take the CPU slab's freelist (remote frees); the slab stays frozen only if there was one. */
  private get_freelist(pfn: number): number {
    return this.take_freelist(pfn, false);
  }

  /** freeze_slab(): a slab taken off a partial list becomes a CPU slab; returns its freelist. */
  private freeze_slab(pfn: number): number {
    return this.take_freelist(pfn, true);
  }

  /**
   * The retry loop get_freelist() and freeze_slab() share: slab->freelist
   * becomes NULL and inuse = objects; frozen afterwards if `freeze`, else
   * only if there was a freelist to take.
   */
  private take_freelist(pfn: number, freeze: boolean): number {
    const a = this.d.sparse.arr(pfn);
    const w = this.d.sparse.word(pfn);
    for (;;) {
      const freelist = this.pget(a, w + this.wFreelist);
      const counters = a[w + this.wCounters];
      const objects = (counters >>> SLAB_OBJECTS_SHIFT) & SLAB_OBJECTS_MASK;
      const frozen = freeze || freelist !== 0 ? SLAB_FROZEN : 0;
      if (this.slab_update_freelist(a, w, freelist, counters, 0, (counters & ~(SLAB_INUSE_MASK | SLAB_FROZEN)) | objects | frozen)) {
        return freelist;
      }
    }
  }

  /** get_partial(): a partial slab of node (or this CPU's node), then of the others; its pfn or -1. */
  private get_partial(s: number, node: number, flags: number): number {
    const searchnode = node < 0 ? this.d.cpuToNode[this.d.sched.cpu] : node;
    const pfn = this.get_partial_node(s, searchnode < this.nrNodeIds ? this.get_node(s, searchnode) : 0);
    if (pfn >= 0 || (node >= 0 && (flags & __GFP_THISNODE))) return pfn;
    return this.get_any_partial(s, flags);
  }

  /**
   * get_partial_node(): under n->list_lock, take the first slab off n's
   * partial list for the CPU, and move more (up to cpu_partial_slabs / 2)
   * to its partial list. The slabs stay unfrozen until freeze_slab().
   */
  private get_partial_node(s: number, n: number): number {
    // Racy check, as the kernel's: a stale answer only means a new slab or a wasted lock.
    if (n === 0 || this.nr_partial(n) === 0) return -1;
    const cpuPartialSlabs = this.u32(s, this.cache.cpu_partial_slabs);
    const c = this.thisCpuSlab(s);
    let partial = -1;
    let partialSlabs = 0;
    const flags = this.lock_node(n);
    for (let pfn = this.firstPartial(n); pfn >= 0;) {
      const next = this.nextPartial(n, pfn);
      this.remove_partial(n, pfn);
      if (partial < 0) {
        partial = pfn;
        if (cpuPartialSlabs === 0) break;
      } else {
        this.put_cpu_partial(s, c, pfn, false);
        if (++partialSlabs > Math.floor(cpuPartialSlabs / 2)) break;
      }
      pfn = next;
    }
    this.unlock_node(n, flags);
    return partial;
  }

  /**
   * get_any_partial(): the other nodes' partial lists in zonelist order,
   * those with more than min_partial slabs. (The kernel skips this search
   * at random about 2% of the time, by get_cycles() against
   * remote_node_defrag_ratio; kmem always searches.)
   */
  private get_any_partial(s: number, flags: number): number {
    if (this.nrNodeIds === 1 || this.u32(s, this.cache.remote_node_defrag_ratio) === 0) return -1;
    const highest = gfp_zone(flags, this.d.mz.zs);
    const minPartial = this.w.rulong(s - this.po + this.cache.min_partial);
    for (const zone of this.d.buddy.zonelist(this.d.cpuToNode[this.d.sched.cpu], false)) {
      if (zone.idx > highest) continue;
      const n = this.get_node(s, zone.nid);
      if (n !== 0 && this.nr_partial(n) > minPartial) {
        const pfn = this.get_partial_node(s, n);
        if (pfn >= 0) return pfn;
      }
    }
    return -1;
  }

  /** slab_out_of_memory(): the SLUB warning after a failed new slab (unless __GFP_NOWARN). */
  private slab_out_of_memory(s: number, gfp: number, nid: number): void {
    if (gfp & __GFP_NOWARN) return;
    const log = this.d.log;
    const cpu = this.d.sched.cpu;
    const oo = this.u32(s, this.cache.oo);
    const min = this.u32(s, this.cache.min);
    const objectSize = this.u32(s, this.cache.object_size);
    log.printk(KERN_WARNING, `SLUB: Unable to allocate memory on CPU ${cpu} (of node ${this.d.cpuToNode[cpu]}) on node ${nid}, ` +
      `gfp=${format_gfp_mode(gfp)}`);
    log.printk(KERN_WARNING, `  cache: ${this.common.cacheName(s)}, object size: ${objectSize}, buffer size: ` +
      `${this.u32(s, this.cache.size_)}, default order: ${oo >>> OO_SHIFT}, min order: ${min >>> OO_SHIFT}`);
    if (min >>> OO_SHIFT > getOrder(objectSize)) {
      log.printk(KERN_WARNING, `  ${this.common.cacheName(s)} debugging increased min order, use slab_debug=O to disable.`);
    }
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      log.printk(KERN_WARNING, `  node ${node}: slabs: ${this.node_nr_slabs(n)}, objs: ${this.node_nr_objs(n)}, free: ${this.count_partial_free_approx(n)}`);
    }
  }

  /* ------------------------------------------------------------------ */
  /* New slabs                                                           */
  /* ------------------------------------------------------------------ */

  /** new_slab(): the pfn of a slab with every object on its freelist, or -1. */
  private new_slab(s: number, flags: number, node: number): number {
    flags = this.common.check_slab_flags(flags);
    if (this.ptrField(s, this.cache.ctor) !== 0 && (flags & __GFP_ZERO)) {
      this.d.bug.warn('mm/slub.c', 2700, 'new_slab', null, ['___slab_alloc'], true);
    }
    return this.allocate_slab(s, flags & (GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK), node);
  }

  /**
   * allocate_slab(): pages from the page allocator (the cache's order
   * without reclaim first, then its minimum order with the caller's
   * flags), marked PGTY_slab, accounted, objects constructed and linked.
   */
  private allocate_slab(s: number, flags: number, node: number): number {
    flags |= this.u32(s, this.cache.allocflags);
    let oo = this.u32(s, this.cache.oo);
    const min = this.u32(s, this.cache.min);
    let allocGfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
    if ((allocGfp & __GFP_DIRECT_RECLAIM) && oo >>> OO_SHIFT > min >>> OO_SHIFT) {
      allocGfp = (allocGfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
    }
    let pfn = this.d.buddy.__alloc_pages(allocGfp, oo >>> OO_SHIFT, node);
    if (pfn < 0) {
      oo = min;
      pfn = this.d.buddy.__alloc_pages(flags, oo >>> OO_SHIFT, node);
      if (pfn < 0) return -1;
    }
    this.d.pages.setType(pfn, PGTY_slab);
    const objects = oo & OO_MASK;
    this.setCounters(pfn, objects << SLAB_OBJECTS_SHIFT);
    this.account_slab(s, pfn, oo >>> OO_SHIFT, 1);
    this.slabSetPtr(pfn, this.wSlabCache, s);
    const size = this.u32(s, this.cache.size_);
    const ctor = this.ptrField(s, this.cache.ctor);
    const sflags = this.u32(s, this.cache.flags);
    let start = this.slab_address(pfn);
    const fpOff = this.u32(s, this.cache.offset);
    if (sflags & SLAB_DEBUG_FLAGS) {
      // setup_slab_debug(), fixup_red_left(), setup_object_debug() for each object (before its constructor)
      if (sflags & SLAB_POISON) this.d.mem.fill(start - this.po, PAGE_SIZE << (oo >>> OO_SHIFT), POISON_INUSE);
      start = this.fixup_red_left(s, start);
      for (let i = 0; i < objects; i++) {
        this.setup_object_debug(s, start + i * size);
        if (ctor !== 0) this.d.kallsyms.call(ctor, start + i * size);
      }
    } else if (ctor !== 0) {
      for (let i = 0; i < objects; i++) this.d.kallsyms.call(ctor, start + i * size);
    }
    this.slabSetPtr(pfn, this.wFreelist, start);
    let pa = start - this.po;
    for (let i = 0; i < objects - 1; i++, pa += size) this.w.wptr(pa + fpOff, start + (i + 1) * size);
    this.w.wptr(pa + fpOff, 0);
    return pfn;
  }

  /** account_slab() / unaccount_slab(): the node's NR_SLAB_*_B counter, in bytes. */
  private account_slab(s: number, pfn: number, order: number, sign: number): void {
    const item = this.u32(s, this.cache.flags) & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B;
    this.common.mod_node_page_state(this.slab_nid(pfn), item, sign * (PAGE_SIZE << order));
  }

  /** __free_slab(): undo the slab marking and give the pages back. */
  private __free_slab(s: number, pfn: number): void {
    const order = this.slab_order(pfn);
    // folio->mapping = NULL (slab_list.prev / rcu_head.func overlay it), then __folio_clear_slab().
    const a = this.d.sparse.arr(pfn);
    const i = this.d.sparse.word(pfn) + (this.d.pages.pl.mapping >> 2);
    a[i] = 0;
    if (this.ptr8) a[i + 1] = 0;
    this.d.pages.clearType(pfn);
    this.d.sched.mm_account_reclaimed_pages(1 << order);
    this.account_slab(s, pfn, order, -1);
    this.d.buddy.__free_pages(pfn, order);
  }

  /** rcu_free_slab(): the RCU callback of a SLAB_TYPESAFE_BY_RCU slab. */
  private rcu_free_slab(head: number): void {
    const pfn = this.slabPfn(head - this.S.rcu_head);
    this.__free_slab(this.slab_cache(pfn), pfn);
  }

  /** free_slab(): now, or after a grace period for SLAB_TYPESAFE_BY_RCU; with F, every object checked first. */
  private free_slab(s: number, pfn: number): void {
    if (this.u32(s, this.cache.flags) & SLAB_CONSISTENCY_CHECKS) {
      this.d.bug.deferBegin();
      try {
        this.slab_pad_check(s, pfn);
        const size = this.u32(s, this.cache.size_);
        const first = this.fixup_red_left(s, this.slab_address(pfn));
        for (let i = 0; i < this.objects(pfn); i++) this.check_object(s, pfn, first + i * size, SLUB_RED_INACTIVE);
      } finally {
        // the slab goes back even when a report throws
        if (this.u32(s, this.cache.flags) & SLAB_TYPESAFE_BY_RCU) this.d.rcu.call_rcu(this.slabPtr(pfn) + this.S.rcu_head, this.rcuFreeSlab);
        else this.__free_slab(s, pfn);
        this.d.bug.deferEnd();
      }
      return;
    }
    if (this.u32(s, this.cache.flags) & SLAB_TYPESAFE_BY_RCU) {
      this.d.rcu.call_rcu(this.slabPtr(pfn) + this.S.rcu_head, this.rcuFreeSlab);
    } else {
      this.__free_slab(s, pfn);
    }
  }

  private discard_slab(s: number, pfn: number): void {
    this.dec_slabs_node(s, this.slab_nid(pfn), this.objects(pfn));
    this.free_slab(s, pfn);
  }

  /* ------------------------------------------------------------------ */
  /* Partial lists                                                       */
  /* ------------------------------------------------------------------ */

  private nr_partial(n: number): number {
    return this.w.rulong(n - this.po + this.N.nr_partial);
  }

  /** A list head of kmem_cache_node n (its partial or full list), as PageLists takes it. */
  private listHead(n: number, field: number): ListHead {
    const pa = n - this.po + field;
    const h = this.head;
    h.va = n + field;
    h.arr = this.i32[(pa * INV_SECTION) | 0];
    h.w = (pa & SECTION_MASK) >> 2;
    return h;
  }

  private partialHead(n: number): ListHead {
    return this.listHead(n, this.N.partial);
  }

  /** The first slab on n's partial list, -1 if none. */
  private firstPartial(n: number): number {
    return this.lists.first(this.partialHead(n));
  }

  /** The slab after pfn on n's partial list, -1 at the end. */
  private nextPartial(n: number, pfn: number): number {
    const next = this.slabGetPtr(pfn, this.wSlabList);
    return next === n + this.N.partial ? -1 : this.slabPfn(next - this.S.slab_list);
  }

  /** add_partial() (n->list_lock held): n->nr_partial++, onto the list (head or tail), PG_workingset. */
  private add_partial(n: number, pfn: number, tail: boolean): void {
    const npa = n - this.po;
    this.w.wlong(npa + this.N.nr_partial, this.nr_partial(n) + 1);
    this.lists.add(pfn, this.partialHead(n), tail);
    this.set_node_partial(pfn, true);
  }

  /** remove_partial() (n->list_lock held) */
  private remove_partial(n: number, pfn: number): void {
    this.lists.del(pfn);
    this.set_node_partial(pfn, false);
    this.w.wlong(n - this.po + this.N.nr_partial, this.nr_partial(n) - 1);
  }

  /* node_nr_slabs(), node_nr_objs(): atomic_long_t */

  private node_nr_slabs(n: number): number {
    return this.w.rlong(n - this.po + this.N.nr_slabs);
  }

  private node_nr_objs(n: number): number {
    return this.w.rlong(n - this.po + this.N.total_objects);
  }

  /** atomic_long_add() on a kmem_cache_node counter (ram_words.ts): Atomics when other threads may add too. */
  private node_counter_add(pa: number, delta: number): void {
    atomicLongAdd(this.i32[(pa * INV_SECTION) | 0], (pa & SECTION_MASK) >> 2, this.ptr >> 2, delta, this.parallel());
  }

  private inc_slabs_node(s: number, nid: number, objects: number): void {
    const npa = this.get_node(s, nid) - this.po;
    this.node_counter_add(npa + this.N.nr_slabs, 1);
    this.node_counter_add(npa + this.N.total_objects, objects);
  }

  private dec_slabs_node(s: number, nid: number, objects: number): void {
    const npa = this.get_node(s, nid) - this.po;
    this.node_counter_add(npa + this.N.nr_slabs, -1);
    this.node_counter_add(npa + this.N.total_objects, -objects);
  }

  private min_partial(s: number): number {
    return this.w.rulong(s - this.po + this.cache.min_partial);
  }

  /**
   * flush_slab() + deactivate_slab(): c's CPU slab goes back to list
   * management. The CPU's freelist is spliced before the slab's own (the
   * unfreeze, a slab_update_freelist() loop: other CPUs may be freeing into
   * it); then the slab is discarded (empty, and the node has enough partial
   * slabs), put on the node's partial list (head, or tail if other CPUs
   * freed into it), or left off every list (full).
   *
   * 6.12 detaches the slab from the CPU, unfreezes it, then takes
   * n->list_lock to add it to the partial list. kmem takes the lock first
   * when the slab has free objects (it will need the list), so that a CPU
   * that backs out of a soft lockup on the lock keeps its CPU slab as it was.
   * (If a remote free gives a full slab free objects between the two, the
   * lock is taken after the unfreeze, as in 6.12.)
   */
  private deactivate_cpu_slab(s: number, c: number): void {
    const w = this.w;
    const slab = w.rptr(c + this.C.slab);
    if (slab === 0) return;
    const pfn = this.slabPfn(slab);
    const freelist = w.rptr(c + this.C.freelist);
    const n = this.get_node(s, this.slab_nid(pfn));
    const tail = this.slabFreelist(pfn) !== 0;
    let flags = freelist !== 0 || tail ? this.lock_node(n) : -1;
    w.wptr(c + this.C.slab, 0);
    w.wptr(c + this.C.freelist, 0);
    this.bumpTid(c);
    // Stage one: count the objects on the CPU's freelist and find its tail.
    let freeDelta = 0;
    let freelistTail = 0;
    for (let it = freelist; it !== 0; it = this.get_freepointer(s, it)) {
      freelistTail = it;
      freeDelta++;
    }
    // Stage two: unfreeze, splicing the CPU's freelist before the slab's own.
    let newFreelist: number;
    let inuse: number;
    for (;;) {
      const oldFreelist = this.slabFreelist(pfn);
      const counters = this.counters(pfn);
      inuse = counters & SLAB_INUSE_MASK;
      newFreelist = oldFreelist;
      if (freelistTail !== 0) {
        inuse -= freeDelta;
        w.wptr(freelistTail - this.po + this.u32(s, this.cache.offset), oldFreelist);
        newFreelist = freelist;
      }
      if (this.slab_update_freelist(this.d.sparse.arr(pfn), this.d.sparse.word(pfn), oldFreelist, counters, newFreelist, (counters & ~(SLAB_INUSE_MASK | SLAB_FROZEN)) | inuse)) break;
    }
    // Stage three: the lists.
    if (inuse === 0 && this.nr_partial(n) >= this.min_partial(s)) {
      if (flags >= 0) this.unlock_node(n, flags);
      this.discard_slab(s, pfn);
    } else if (newFreelist !== 0) {
      if (flags < 0) flags = this.lock_node(n);
      this.add_partial(n, pfn, tail);
      this.unlock_node(n, flags);
    } else if (flags >= 0) {
      this.unlock_node(n, flags);
    }
  }

  /**
   * __put_partials() / put_partials_cpu(): up to max CPU partial slabs of c
   * go to their nodes' partial lists (an empty one is discarded once its
   * node has min_partial others), taken from the front of c->partial (keep
   * < 0) or after the slab keep (whose count of slabs below it drops). 6.12
   * detaches the chain from the CPU first and then locks each node in turn;
   * kmem unlinks each slab while holding its node's list_lock, so that a CPU
   * backing out of a soft lockup keeps the slabs it did not move.
   */
  private __put_partials(s: number, c: number, keep: number, max: number): void {
    const w = this.w;
    let n = 0;
    let flags = 0;
    let discard = 0;
    for (let moved = 0; moved < max; moved++) {
      const p = keep < 0 ? w.rptr(c + this.C.partial) : this.slabGetPtr(keep, this.wNext);
      if (p === 0) break;
      const pfn = this.slabPfn(p);
      const n2 = this.get_node(s, this.slab_nid(pfn));
      if (n2 !== n) {
        if (n !== 0) this.unlock_node(n, flags);
        n = n2;
        flags = this.lock_node(n);
      }
      const next = this.slabGetPtr(pfn, this.wNext);
      if (keep < 0) {
        w.wptr(c + this.C.partial, next);
      } else {
        this.slabSetPtr(keep, this.wNext, next);
        this.setSlabSlabs(keep, this.slabSlabs(keep) - 1);
      }
      if (this.inuse(pfn) === 0 && this.nr_partial(n) >= this.min_partial(s)) {
        // slab_to_discard, chained through slab->next, newest first
        this.slabSetPtr(pfn, this.wNext, discard);
        discard = p;
      } else {
        this.add_partial(n, pfn, true);
      }
    }
    if (n !== 0) this.unlock_node(n, flags);
    while (discard !== 0) {
      const pfn = this.slabPfn(discard);
      discard = this.slabGetPtr(pfn, this.wNext);
      this.discard_slab(s, pfn);
    }
  }

  /**
   * put_cpu_partial(): push a slab on c's partial list (c is this CPU's);
   * when drain is set and the list already holds cpu_partial_slabs, the old
   * ones then go to the node lists (6.12 swaps the list out first; the end
   * state is the same).
   */
  private put_cpu_partial(s: number, c: number, pfn: number, drain: boolean): void {
    const ca = this.i32[(c * INV_SECTION) | 0];
    const cp = ((c + this.C.partial) & SECTION_MASK) >> 2;
    const old = this.pget(ca, cp);
    let slabs = 0;
    let drainOld = false;
    if (old !== 0) {
      slabs = this.slabSlabs(this.slabPfn(old));
      drainOld = drain && slabs >= this.u32(s, this.cache.cpu_partial_slabs);
    }
    const a = this.d.sparse.arr(pfn);
    const w = this.d.sparse.word(pfn);
    a[w + this.wSlabs] = slabs + 1;
    this.pset(a, w + this.wNext, old);
    this.pset(ca, cp, this.slabPtr(pfn));
    if (drainOld) this.__put_partials(s, c, pfn, Infinity);
  }

  /* ------------------------------------------------------------------ */
  /* The free slow path                                                  */
  /* ------------------------------------------------------------------ */

  /**
   * __slab_free(): push head..tail (cnt objects) onto the slab's own
   * freelist (a slab_update_freelist() loop) and fix the lists. A frozen
   * (CPU) slab needs nothing more; a slab that was full goes to this CPU's
   * partial list; a slab on the node list that became empty is discarded
   * if the node has min_partial others (n->list_lock taken before the
   * update, as 6.12 does, so that nobody moves the slab meanwhile).
   */
  __slab_free(s: number, pfn: number, head: number, tail: number, cnt: number): void {
    if (this.kmem_cache_debug(s)) {
      this.free_to_partial_list(s, pfn, head, tail, cnt);
      return;
    }
    const a = this.d.sparse.arr(pfn);
    const w = this.d.sparse.word(pfn);
    const tpa = tail - this.po + this.u32(s, this.cache.offset);
    const ta = this.i32[(tpa * INV_SECTION) | 0];
    const ti = (tpa & SECTION_MASK) >> 2;
    let n = 0;
    let flags = 0;
    let prior: number;
    let wasFrozen: boolean;
    let inuse: number;
    let onNodePartial = false;
    for (;;) {
      if (n !== 0) {
        this.unlock_node(n, flags);
        n = 0;
      }
      prior = this.pget(a, w + this.wFreelist);
      const counters = a[w + this.wCounters];
      if (tail === prior) {
        this.double_free();
        return;
      }
      this.pset(ta, ti, prior);
      wasFrozen = (counters & SLAB_FROZEN) !== 0;
      inuse = (counters & SLAB_INUSE_MASK) - cnt;
      // Emptied, and off the CPUs (a CPU partial slab was full before): its list must change.
      if (inuse === 0 && prior !== 0 && !wasFrozen) {
        n = this.get_node(s, this.slab_nid(pfn));
        flags = this.lock_node(n);
        onNodePartial = this.test_node_partial(pfn);
      }
      if (this.slab_update_freelist(a, w, prior, counters, head, (counters & ~SLAB_INUSE_MASK) | inuse)) break;
    }
    if (n === 0) {
      // Frozen: the CPU that owns the slab will find the objects. Full before: to this CPU's partial list.
      if (!wasFrozen && prior === 0) this.put_cpu_partial(s, this.thisCpuSlab(s), pfn, true);
      return;
    }
    // Partially free before, but on a CPU's partial list rather than the node's: nothing to do.
    if (!onNodePartial || this.nr_partial(n) < this.min_partial(s)) {
      this.unlock_node(n, flags);
      return;
    }
    this.remove_partial(n, pfn);
    this.unlock_node(n, flags);
    this.discard_slab(s, pfn);
  }

  /** kmem_cache_has_cpu_partial(): no CPU partial lists for caches with debug flags. */
  private has_cpu_partial(s: number): boolean {
    return (this.u32(s, this.cache.flags) & SLAB_DEBUG_FLAGS) === 0;
  }

  /** check_valid_pointer() for a pointer that is not NULL: obj is the start of one of the slab's objects. */
  private valid_object(s: number, pfn: number, obj: number): boolean {
    return obj !== 0 && this.check_valid_pointer(s, pfn, obj);
  }

  /** A free of a pointer that is not an object of the slab: slab_err() and "not freed". */
  private invalid_object(s: number, pfn: number, obj: number): void {
    this.d.bug.deferBegin();
    try {
      this.slab_err(s, pfn, `Invalid object pointer 0x${this.p(obj)}`, ['free_debug_processing']);
      this.slab_fix(s, `Object at 0x${this.p(obj)} not freed`);
    } finally {
      this.d.bug.deferEnd();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Reports (the parts of SLUB's error reporting that do not need slub_debug) */
  /* ------------------------------------------------------------------ */

  /** slab_bug(): the report's header. */
  private slab_bug(name: string, text: string): void {
    this.pr(KERN_ERR, '=============================================================================\n');
    this.pr(KERN_ERR, `BUG ${name} (${this.d.bug.print_tainted()}): ${text}\n`);
    this.pr(KERN_ERR, '-----------------------------------------------------------------------------\n\n');
  }

  /** print_slab_info() */
  private print_slab_info(pfn: number): string {
    const l = this.d.layout;
    return `Slab 0x${this.p(this.slabPtr(pfn))} objects=${this.objects(pfn)} used=${this.inuse(pfn)} ` +
      `fp=0x${this.p(this.slabFreelist(pfn))} flags=${format_page_flags(this.d.pages, l, pfn)}`;
  }

  /**
   * __slab_err(): print_slab_info(), taint, WARN_ON(1) (not under KUnit).
   * Callers that go on after it (slab_fix()) run inside bug.deferBegin()/
   * deferEnd(), so that with errors: 'throw' the report is complete and the
   * repair done before the KernelBug is thrown.
   */
  private __slab_err(pfn: number, where: readonly string[]): void {
    if (this.slab_in_kunit_test()) return;
    this.pr(KERN_ERR, this.print_slab_info(pfn) + '\n');
    this.d.bug.add_taint(TAINT_BAD_PAGE);
    this.d.bug.warn('mm/slub.c', 1152, '__slab_err', null, this.callChain(where));
  }

  /** list_slab_objects(): the objects a destroyed cache still holds in one slab. */
  private list_slab_objects(s: number, pfn: number): void {
    if (!this.slab_add_kunit_errors()) this.slab_bug(this.common.cacheName(s), 'Objects remaining on __kmem_cache_shutdown()');
    const free = this.freeObjectSet(s, pfn);
    const size = this.u32(s, this.cache.size_);
    const addr = this.slab_address(pfn);
    const first = this.fixup_red_left(s, addr);
    for (let i = 0; i < this.objects(pfn); i++) {
      const p = first + i * size;
      if (free.has(p)) continue;
      if (this.slab_add_kunit_errors()) continue;
      this.pr(KERN_ERR, `Object 0x${this.p(p)} @offset=${p - addr}\n`);
      this.print_tracking(s, p);
    }
    this.__slab_err(pfn, ['list_slab_objects', 'free_partial', '__kmem_cache_shutdown']);
  }

  /** __fill_map(): the objects on the slab's freelist. */
  private freeObjectSet(s: number, pfn: number): Set<number> {
    const free = new Set<number>();
    for (let p = this.slabFreelist(pfn); p !== 0 && free.size <= this.objects(pfn); p = this.get_freepointer(s, p)) free.add(p);
    return free;
  }

  /** Is obj a free object of s (on its slab's freelist, or a CPU's lockless freelist for that slab)? */
  object_is_free(s: number, pfn: number, obj: number): boolean {
    if (this.freeObjectSet(s, pfn).has(obj)) return true;
    const slab = this.slabPtr(pfn);
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const c = this.cpuSlab(s, cpu);
      if (this.w.rptr(c + this.C.slab) !== slab) continue;
      let n = 0;
      for (let p = this.w.rptr(c + this.C.freelist); p !== 0 && n <= this.objects(pfn); p = this.get_freepointer(s, p), n++) {
        if (p === obj) return true;
      }
    }
    return false;
  }

  /* ------------------------------------------------------------------ */
  /* Slab debugging (CONFIG_SLUB_DEBUG): slab_debug=, SLAB_RED_ZONE,      */
  /* SLAB_POISON, SLAB_STORE_USER, SLAB_CONSISTENCY_CHECKS, SLAB_TRACE    */
  /* ------------------------------------------------------------------ */

  private sflags(s: number): number {
    return this.u32(s, this.cache.flags);
  }

  /** kmem_cache_debug(): any debug flag; such a cache takes the debug paths, never the per-CPU ones. */
  private kmem_cache_debug(s: number): boolean {
    return (this.sflags(s) & SLAB_DEBUG_FLAGS) !== 0;
  }

  private get no_hash_pointers(): boolean {
    return this.w.r32(this.d.staticsPa + this.G.no_hash_pointers) !== 0;
  }

  /** %p: the hashed form, or the address itself once pointers are not hashed (slab_debug= at boot). */
  p(addr: number): string {
    return this.no_hash_pointers ? formatPtr(this.d.layout, addr) : ptr_to_id(this.d.layout, addr);
  }

  /** The call trace a WARN in a debug check prints: the checks, then the operation's path (each function once). */
  private callChain(where: readonly string[]): string[] {
    const out: string[] = [];
    for (const f of [...where, ...this.dbgFrames]) if (!out.includes(f)) out.push(f);
    return out;
  }

  /** printk() of a report line (also kept for the KernelBug when errors: 'throw'). */
  private pr(level: number, text: string): void {
    this.d.log.printk(level, text);
    this.d.bug.collect(text.endsWith('\n') ? text.slice(0, -1) : text);
  }

  /** no_hash_pointers_enable() (lib/vsprintf.c), which kmem_cache_init() calls when slab_debug is on. */
  private no_hash_pointers_enable(): void {
    if (this.no_hash_pointers) return;
    this.w.w32(this.d.staticsPa + this.G.no_hash_pointers, 1);
    for (const l of NO_HASH_POINTERS_BANNER) this.d.log.printk(KERN_WARNING, l);
  }

  /** The slab_debug= string naming caches, or null (slub_debug_string). */
  private get slub_debug_string(): string | null {
    const p = this.w.rptr(this.d.staticsPa + this.G.slub_debug_string);
    return p === 0 ? null : this.common.readString(p);
  }

  /** kmem_cache_flags(): the debug flags slab_debug= gives a cache of this name. */
  kmem_cache_flags(flags: number, name: string): number {
    return kmem_cache_flags(flags, name, this.w.r32(this.d.staticsPa + this.G.slub_debug) >>> 0, this.slub_debug_string);
  }

  /** Store what the slab_debug= options said (setup_slub_debug() has run on each). */
  private setup_slub_debug_statics(): void {
    const G = this.d.staticsPa;
    const dbg = this.d.params.debug;
    for (const e of dbg.errors) this.d.log.printk(KERN_ERR, e);
    this.w.w32(G + this.G.slub_debug, dbg.flags);
    this.w.w32(G + this.G.disable_higher_order_debug, dbg.disableHigherOrder ? 1 : 0);
    let str = 0;
    if (dbg.string !== null) {
      const bytes = new TextEncoder().encode(dbg.string).subarray(0, COMMAND_LINE_SIZE - 1);
      this.d.mem.writeBytes(G + this.G.slub_debug_buf, bytes);
      this.d.mem.write8(G + this.G.slub_debug_buf + bytes.length, 0);
      str = this.po + G + this.G.slub_debug_buf;
    }
    this.w.wptr(G + this.G.slub_debug_string, str);
    if ((this.d.buddy.globals.init_on_alloc || this.d.buddy.globals.init_on_free) && (dbg.flags & SLAB_POISON)) {
      this.d.log.printk(KERN_INFO, 'mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free');
    }
  }

  /* KUnit (lib/slub_kunit.c): errors counted instead of printed while a test's "slab_errors" resource exists */

  /**
   * Point SLUB at a KUnit test's slab_errors counter (an int in kernel
   * memory), or 0 when no test runs: while set, the reports are counted
   * there instead of printed, as slab_add_kunit_errors() does.
   */
  set_kunit_slab_errors(counter: number): void {
    this.w.wptr(this.d.staticsPa + this.G.slab_errors, counter);
  }

  /** slab_add_kunit_errors() */
  private slab_add_kunit_errors(): boolean {
    const res = this.w.rptr(this.d.staticsPa + this.G.slab_errors);
    if (res === 0) return false;
    this.w.w32(res - this.po, this.w.r32(res - this.po) + 1);
    return true;
  }

  /** slab_in_kunit_test() */
  private slab_in_kunit_test(): boolean {
    return this.w.rptr(this.d.staticsPa + this.G.slab_errors) !== 0;
  }

  /* The object's layout */

  /** fixup_red_left(): the first object of a slab starts after its left red zone. */
  private fixup_red_left(s: number, p: number): number {
    return this.sflags(s) & SLAB_RED_ZONE ? p + this.u32(s, this.cache.red_left_pad) : p;
  }

  private size_from_object(s: number): number {
    const size = this.u32(s, this.cache.size_);
    return this.sflags(s) & SLAB_RED_ZONE ? size - this.u32(s, this.cache.red_left_pad) : size;
  }

  private freeptr_outside_object(s: number): boolean {
    return this.u32(s, this.cache.offset) >= this.u32(s, this.cache.inuse);
  }

  /** get_info_end(): where the metadata after the free pointer starts. */
  private get_info_end(s: number): number {
    const inuse = this.u32(s, this.cache.inuse);
    return this.freeptr_outside_object(s) ? inuse + this.ptr : inuse;
  }

  /** check_valid_pointer(): NULL, or the start of one of the slab's objects. */
  private check_valid_pointer(s: number, pfn: number, object: number): boolean {
    if (object === 0) return true;
    const base = this.slab_address(pfn);
    const o = this.sflags(s) & SLAB_RED_ZONE ? object - this.u32(s, this.cache.red_left_pad) : object;
    const size = this.u32(s, this.cache.size_);
    return !(o < base || o >= base + this.objects(pfn) * size || (o - base) % size !== 0);
  }

  private slub_debug_orig_size(s: number): boolean {
    const f = this.sflags(s);
    return (f & SLAB_STORE_USER) !== 0 && (f & SLAB_KMALLOC) !== 0;
  }

  /** set_orig_size(): the size kmalloc() was asked for, after the two tracks. */
  private set_orig_size(s: number, object: number, origSize: number): void {
    if (!this.slub_debug_orig_size(s)) return;
    this.w.wlong(object - this.po + this.get_info_end(s) + 2 * this.track.size, origSize);
  }

  private get_orig_size(s: number, object: number): number {
    if (!this.slub_debug_orig_size(s)) return this.u32(s, this.cache.object_size);
    return this.w.rulong(object - this.po + this.get_info_end(s) + 2 * this.track.size);
  }

  /** skip_orig_size_check(): ksize() hands out the whole object, so its kmalloc red zone goes. */
  skip_orig_size_check(s: number, object: number): void {
    this.set_orig_size(s, object, this.u32(s, this.cache.object_size));
  }

  /* Owner tracking (SLAB_STORE_USER): struct track alloc, free after the free pointer */

  /** get_track(): the address of an object's alloc (0) or free (1) struct track. */
  private get_track(s: number, object: number, alloc: number): number {
    return object + this.get_info_end(s) + alloc * this.track.size;
  }

  /**
   * set_track_prepare(): the caller (_RET_IP_) and the stack trace, saved in
   * the stack depot; they wait in trkAddr/trkHandle for set_track_update().
   */
  private set_track_prepare(alloc: boolean): void {
    const ks = this.d.kallsyms;
    const frames = stack_trace_save_js();
    let t = trackFrames(frames);
    if (t === null) t = { entry: alloc ? 'kmem_cache_alloc_noprof' : 'kmem_cache_free', callers: frames.filter((f) => !f.kmem).map((f) => f.name) };
    const entries = [ks.symbol(t.entry), ...t.callers.map((n) => ks.symbol(n))].filter((a) => a !== 0);
    this.trkAddr = t.callers.length > 0 ? ks.symbol(t.callers[0]) : ks.symbol(t.entry);
    this.trkHandle = this.depot.stack_depot_save(entries);
  }

  /** set_track_update(): fill in an object's track from set_track_prepare()'s result. */
  private set_track_update(s: number, object: number, alloc: number): void {
    const t = this.get_track(s, object, alloc) - this.po;
    const T = this.track;
    this.w.wptr(t + T.addr, this.trkAddr);
    this.w.w32(t + T.handle, this.trkHandle);
    this.w.w32(t + T.cpu, this.d.sched.cpu);
    this.w.w32(t + T.pid, this.d.sched.pid());
    this.w.wlong(t + T.when, this.jiffies());
  }

  private set_track(s: number, object: number, alloc: number): void {
    this.set_track_prepare(alloc === TRACK_ALLOC);
    this.set_track_update(s, object, alloc);
  }

  /** init_tracking(): both tracks zeroed (a new slab's objects). */
  private init_tracking(s: number, object: number): void {
    if (!(this.sflags(s) & SLAB_STORE_USER)) return;
    this.d.mem.fill(this.get_track(s, object, TRACK_ALLOC) - this.po, 2 * this.track.size, 0);
  }

  /** jiffies (HZ = 1000, an unsigned long starting at INITIAL_JIFFIES), from the machine's clock. */
  private jiffies(): number {
    const j = INITIAL_JIFFIES + (this.d.uptimeNs !== undefined ? Math.floor(this.d.uptimeNs() / (1e9 / HZ)) : 0);
    return this.ptr8 ? j : j % TWO32;
  }

  /** print_track(): "<what> in <caller> age=... cpu=... pid=...", then the stack trace. */
  private print_track(what: string, t: number, prTime: number): void {
    const pa = t - this.po;
    const T = this.track;
    const addr = this.w.rptr(pa + T.addr);
    if (addr === 0) return;
    const ks = this.d.kallsyms;
    const when = this.w.rulong(pa + T.when);
    const age = prTime >= when ? prTime - when : prTime - when + (this.ptr8 ? 2 ** 64 : TWO32);
    this.pr(KERN_ERR, `${what} in ${ks.sprint_symbol(addr)} age=${age} cpu=${this.w.r32(pa + T.cpu) >>> 0} pid=${this.w.r32(pa + T.pid) | 0}\n`);
    const handle = this.w.r32(pa + T.handle) >>> 0;
    const entries = this.depot.stack_depot_fetch(handle);
    if (entries.length === 0) {
      this.pr(KERN_ERR, 'object allocation/free stack trace missing\n');
      return;
    }
    // stack_depot_print() -> stack_trace_print(): printk("%*c%pS\n", 1, ' ', ...) at the default level
    for (const e of entries) this.pr(KERN_WARNING, ` ${ks.sprint_symbol(e)}\n`);
  }

  /** print_tracking(): who allocated and who last freed the object (SLAB_STORE_USER). */
  print_tracking(s: number, object: number): void {
    if (!(this.sflags(s) & SLAB_STORE_USER)) return;
    const prTime = this.jiffies();
    this.print_track('Allocated', this.get_track(s, object, TRACK_ALLOC), prTime);
    this.print_track('Freed', this.get_track(s, object, TRACK_FREE), prTime);
  }

  /* Reports */

  /** print_section(): print_hex_dump(level, text, DUMP_PREFIX_ADDRESS, 16, 1, addr, length, 1). */
  private print_section(level: number, text: string, addr: number, length: number): void {
    if (length <= 0) return;
    const bytes = this.d.mem.readBytes(addr - this.po, length);
    for (const l of print_hex_dump_lines(text, DUMP_PREFIX_ADDRESS, 16, 1, bytes, addr, true, (a) => this.p(a))) this.pr(level, l);
  }

  /** slab_fix(): "FIX <cache>: <what was done>". */
  private slab_fix(s: number, text: string): void {
    if (this.slab_add_kunit_errors()) return;
    this.pr(KERN_ERR, `FIX ${this.common.cacheName(s)}: ${text}\n`);
  }

  /** print_trailer(): tracking, slab, the object line, and the object with its red zones and padding as hex. */
  private print_trailer(s: number, pfn: number, p: number): void {
    const L = this.cache;
    const addr = this.slab_address(pfn);
    const flags = this.sflags(s);
    const objectSize = this.u32(s, L.object_size);
    this.print_tracking(s, p);
    this.pr(KERN_ERR, this.print_slab_info(pfn) + '\n');
    this.pr(KERN_ERR, `Object 0x${this.p(p)} @offset=${p - addr} fp=0x${this.p(this.get_freepointer(s, p))}\n\n`);
    if (flags & SLAB_RED_ZONE) {
      const rlp = this.u32(s, L.red_left_pad);
      this.print_section(KERN_ERR, 'Redzone  ', p - rlp, rlp);
    } else if (p > addr + 16) {
      this.print_section(KERN_ERR, 'Bytes b4 ', p - 16, 16);
    }
    this.print_section(KERN_ERR, 'Object   ', p, Math.min(objectSize, PAGE_SIZE));
    if (flags & SLAB_RED_ZONE) this.print_section(KERN_ERR, 'Redzone  ', p + objectSize, this.u32(s, L.inuse) - objectSize);
    let off = this.get_info_end(s);
    if (flags & SLAB_STORE_USER) off += 2 * this.track.size;
    if (this.slub_debug_orig_size(s)) off += this.ptr;
    const end = this.size_from_object(s);
    // Beginning of the filler is the free pointer
    if (off !== end) this.print_section(KERN_ERR, 'Padding  ', p + off, end - off);
  }

  /** object_err(): the report about one object: header, trailer, taint, WARN_ON(1). */
  private object_err(s: number, pfn: number, object: number, reason: string, where: readonly string[]): void {
    if (this.slab_add_kunit_errors()) return;
    this.slab_bug(this.common.cacheName(s), reason);
    if (object === 0 || !this.check_valid_pointer(s, pfn, object)) {
      this.pr(KERN_ERR, this.print_slab_info(pfn) + '\n');
      this.pr(KERN_ERR, `Invalid pointer 0x${this.p(object)}\n`);
    } else {
      this.print_trailer(s, pfn, object);
    }
    this.d.bug.add_taint(TAINT_BAD_PAGE);
    this.d.bug.warn('mm/slub.c', 1127, 'object_err', null, this.callChain(where));
  }

  /** slab_err(): the report about a slab: header, slab line, taint, WARN_ON(1). */
  private slab_err(s: number, pfn: number, text: string, where: readonly string[]): void {
    if (this.slab_add_kunit_errors()) return;
    this.slab_bug(this.common.cacheName(s), text);
    this.__slab_err(pfn, where);
  }

  /** init_object(): red zones and poison for a free (SLUB_RED_INACTIVE) or allocated (SLUB_RED_ACTIVE) object. */
  private init_object(s: number, object: number, val: number): void {
    const L = this.cache;
    const mem = this.d.mem;
    const flags = this.sflags(s);
    const pa = object - this.po;
    const objectSize = this.u32(s, L.object_size);
    const inuse = this.u32(s, L.inuse);
    let poisonSize = objectSize;
    if (flags & SLAB_RED_ZONE) {
      const rlp = this.u32(s, L.red_left_pad);
      mem.fill(pa - rlp, rlp, val);
      // the bytes kmalloc gave beyond what was asked for are red zone too
      if (this.slub_debug_orig_size(s) && val === SLUB_RED_ACTIVE) poisonSize = Math.min(Math.max(this.get_orig_size(s, object), 1), objectSize);
    }
    if (flags & __OBJECT_POISON) {
      mem.fill(pa, poisonSize - 1, POISON_FREE);
      mem.write8(pa + poisonSize - 1, POISON_END);
    }
    if (flags & SLAB_RED_ZONE) mem.fill(pa + poisonSize, inuse - poisonSize, val);
  }

  /** restore_bytes(): "FIX <cache>: Restoring <what> 0x...-0x...=0x.." and put the value back. */
  private restore_bytes(s: number, message: string, data: number, from: number, to: number): void {
    this.slab_fix(s, `Restoring ${message} 0x${this.p(from)}-0x${this.p(to - 1)}=0x${data.toString(16)}`);
    this.d.mem.fill(from - this.po, to - from, data);
  }

  /** memchr_inv(): the first byte of [start, start + bytes) that is not value, or -1. */
  private memchr_inv(start: number, value: number, bytes: number): number {
    const pa = start - this.po;
    for (let i = 0; i < bytes; i++) if (this.d.mem.read8(pa + i) !== value) return start + i;
    return -1;
  }

  /**
   * check_bytes_and_report(): [start, start + bytes) should all be value;
   * if not, "[<what> overwritten] ..." (with the object's report the first
   * time in a check_object()), and the bytes are restored.
   */
  private check_bytes_and_report(s: number, pfn: number, object: number, what: string, start: number, value: number,
    bytes: number, slabObjPrint: boolean): boolean {
    if (bytes <= 0) return true;
    const fault = this.memchr_inv(start, value, bytes);
    if (fault < 0) return true;
    let end = start + bytes;
    while (end > fault && this.d.mem.read8(end - 1 - this.po) === value) end--;
    if (!this.slab_add_kunit_errors()) {
      const addr = this.slab_address(pfn);
      this.pr(KERN_ERR, `[${what} overwritten] 0x${this.p(fault)}-0x${this.p(end - 1)} @offset=${fault - addr}. ` +
        `First byte 0x${this.d.mem.read8(fault - this.po).toString(16)} instead of 0x${value.toString(16)}\n`);
      if (slabObjPrint) this.object_err(s, pfn, object, 'Object corrupt', ['check_bytes_and_report', 'check_object']);
    }
    this.restore_bytes(s, what, value, fault, end);
    return false;
  }

  /** check_pad_bytes(): the padding after the metadata is still POISON_INUSE. */
  private check_pad_bytes(s: number, pfn: number, p: number): boolean {
    let off = this.get_info_end(s);
    if (this.sflags(s) & SLAB_STORE_USER) {
      off += 2 * this.track.size;
      if (this.sflags(s) & SLAB_KMALLOC) off += this.ptr;
    }
    const end = this.size_from_object(s);
    if (end === off) return true;
    return this.check_bytes_and_report(s, pfn, p, 'Object padding', p + off, POISON_INUSE, end - off, true);
  }

  /** slab_pad_check(): the bytes at the end of the slab that no object uses are still POISON_INUSE. */
  private slab_pad_check(s: number, pfn: number): void {
    if (!(this.sflags(s) & SLAB_POISON)) return;
    const start = this.slab_address(pfn);
    const length = PAGE_SIZE << this.slab_order(pfn);
    let end = start + length;
    const remainder = length % this.u32(s, this.cache.size_);
    if (!remainder) return;
    const pad = end - remainder;
    const fault = this.memchr_inv(pad, POISON_INUSE, remainder);
    if (fault < 0) return;
    while (end > fault && this.d.mem.read8(end - 1 - this.po) === POISON_INUSE) end--;
    this.slab_bug(this.common.cacheName(s), `Padding overwritten. 0x${this.p(fault)}-0x${this.p(end - 1)} @offset=${fault - start}`);
    this.print_section(KERN_ERR, 'Padding ', pad, remainder);
    this.__slab_err(pfn, ['slab_pad_check']);
    this.restore_bytes(s, 'slab padding', POISON_INUSE, fault, end);
  }

  /**
   * check_object(): an object's red zones, poison, padding and free
   * pointer, for a free object (val SLUB_RED_INACTIVE) or an allocated one
   * (SLUB_RED_ACTIVE). Every fault is reported and repaired; false if any.
   */
  private check_object(s: number, pfn: number, object: number, val: number): boolean {
    const L = this.cache;
    const flags = this.sflags(s);
    const objectSize = this.u32(s, L.object_size);
    const inuse = this.u32(s, L.inuse);
    const endobject = object + objectSize;
    let ret = true;
    if (flags & SLAB_RED_ZONE) {
      const rlp = this.u32(s, L.red_left_pad);
      if (!this.check_bytes_and_report(s, pfn, object, 'Left Redzone', object - rlp, val, rlp, ret)) ret = false;
      if (!this.check_bytes_and_report(s, pfn, object, 'Right Redzone', endobject, val, inuse - objectSize, ret)) ret = false;
      if (this.slub_debug_orig_size(s) && val === SLUB_RED_ACTIVE) {
        const origSize = this.get_orig_size(s, object);
        if (objectSize > origSize &&
          !this.check_bytes_and_report(s, pfn, object, 'kmalloc Redzone', object + origSize, val, objectSize - origSize, ret)) ret = false;
      }
    } else if ((flags & SLAB_POISON) && objectSize < inuse) {
      if (!this.check_bytes_and_report(s, pfn, object, 'Alignment padding', endobject, POISON_INUSE, inuse - objectSize, ret)) ret = false;
    }
    if (flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && (flags & __OBJECT_POISON)) {
        if (objectSize - 1 > 0 &&
          !this.check_bytes_and_report(s, pfn, object, 'Poison', object, POISON_FREE, objectSize - 1, ret)) ret = false;
        if (!this.check_bytes_and_report(s, pfn, object, 'End Poison', object + objectSize - 1, POISON_END, 1, ret)) ret = false;
      }
      // check_pad_bytes cleans up on its own
      if (!this.check_pad_bytes(s, pfn, object)) ret = false;
    }
    // The free pointer cannot be checked while the object is allocated and overlays it.
    if ((this.freeptr_outside_object(s) || val !== SLUB_RED_ACTIVE) &&
      !this.check_valid_pointer(s, pfn, this.get_freepointer(s, object))) {
      this.object_err(s, pfn, object, 'Freepointer corrupt', ['check_object']);
      // No choice but to zap it and thus lose the remainder of the free objects in this slab.
      this.w.wptr(object - this.po + this.u32(s, L.offset), 0);
      ret = false;
    }
    return ret;
  }

  /** check_slab(): the slab's counters make sense. */
  private check_slab(s: number, pfn: number): boolean {
    if (!this.isSlab(pfn)) {
      this.slab_err(s, pfn, 'Not a valid slab page', ['check_slab']);
      return false;
    }
    const maxobj = Math.floor((PAGE_SIZE << this.slab_order(pfn)) / this.u32(s, this.cache.size_));
    if (this.objects(pfn) > maxobj) {
      this.slab_err(s, pfn, `objects ${this.objects(pfn)} > max ${maxobj}`, ['check_slab']);
      return false;
    }
    if (this.inuse(pfn) > this.objects(pfn)) {
      this.slab_err(s, pfn, `inuse ${this.inuse(pfn)} > max ${this.objects(pfn)}`, ['check_slab']);
      return false;
    }
    if (this.counters(pfn) & SLAB_FROZEN) {
      this.slab_err(s, pfn, 'Slab disabled since SLUB metadata consistency check failed', ['check_slab']);
      return false;
    }
    // slab_pad_check fixes things up after itself
    this.slab_pad_check(s, pfn);
    return true;
  }

  /**
   * on_freelist(): is search on the slab's freelist? With search 0, a walk
   * that checks the chain and the counters, repairing what it finds.
   */
  private on_freelist(s: number, pfn: number, search: number): boolean {
    let nr = 0;
    let fp = this.slabFreelist(pfn);
    let object = 0;
    while (fp !== 0 && nr <= this.objects(pfn)) {
      if (fp === search) return true;
      if (!this.check_valid_pointer(s, pfn, fp)) {
        if (object !== 0) {
          this.object_err(s, pfn, object, 'Freechain corrupt', ['on_freelist']);
          this.w.wptr(object - this.po + this.u32(s, this.cache.offset), 0);
        } else {
          this.slab_err(s, pfn, 'Freepointer corrupt', ['on_freelist']);
          this.slabSetPtr(pfn, this.wFreelist, 0);
          this.setInuse(pfn, this.objects(pfn));
          this.slab_fix(s, 'Freelist cleared');
          return false;
        }
        break;
      }
      object = fp;
      fp = this.get_freepointer(s, object);
      nr++;
    }
    const maxObjects = Math.min(Math.floor((PAGE_SIZE << this.slab_order(pfn)) / this.u32(s, this.cache.size_)), MAX_OBJS_PER_PAGE);
    if (this.objects(pfn) !== maxObjects) {
      this.slab_err(s, pfn, `Wrong number of objects. Found ${this.objects(pfn)} but should be ${maxObjects}`, ['on_freelist']);
      this.setCounters(pfn, (this.counters(pfn) & ~(SLAB_OBJECTS_MASK << SLAB_OBJECTS_SHIFT)) | (maxObjects << SLAB_OBJECTS_SHIFT));
      this.slab_fix(s, 'Number of objects adjusted');
    }
    if (this.inuse(pfn) !== this.objects(pfn) - nr) {
      this.slab_err(s, pfn, `Wrong object count. Counter is ${this.inuse(pfn)} but counted were ${this.objects(pfn) - nr}`, ['on_freelist']);
      this.setInuse(pfn, (this.objects(pfn) - nr) & SLAB_INUSE_MASK);
      this.slab_fix(s, 'Object count adjusted');
    }
    return search === 0;
  }

  /** trace(): SLAB_TRACE's line for each allocation and free (with the object's bytes on free) and a stack dump. */
  private trace(s: number, pfn: number, object: number, alloc: boolean): void {
    if (!(this.sflags(s) & SLAB_TRACE)) return;
    this.d.log.printk(KERN_INFO, `TRACE ${this.common.cacheName(s)} ${alloc ? 'alloc' : 'free'} 0x${this.p(object)} ` +
      `inuse=${this.inuse(pfn)} fp=0x${this.p(this.slabFreelist(pfn))}`);
    if (!alloc) {
      const bytes = this.d.mem.readBytes(object - this.po, this.u32(s, this.cache.object_size));
      for (const l of print_hex_dump_lines('Object ', DUMP_PREFIX_ADDRESS, 16, 1, bytes, object, true, (a) => this.p(a))) {
        this.d.log.printk(KERN_INFO, l);
      }
    }
    this.d.bug.dump_stack(this.dbgFrames);
  }

  /* The full list: slabs with no free object, kept on n->full for SLAB_STORE_USER caches */

  private add_full(s: number, n: number, pfn: number): void {
    if (!(this.sflags(s) & SLAB_STORE_USER)) return;
    this.lists.add(pfn, this.listHead(n, this.N.full), false);
  }

  private remove_full(s: number, _n: number, pfn: number): void {
    if (!(this.sflags(s) & SLAB_STORE_USER)) return;
    this.lists.del(pfn);
  }

  /** The slabs on n's full list, in list order. */
  private fullSlabs(n: number): number[] {
    const out: number[] = [];
    const headVa = n + this.N.full;
    for (let pfn = this.lists.first(this.listHead(n, this.N.full)); pfn >= 0;) {
      out.push(pfn);
      const next = this.slabGetPtr(pfn, this.wSlabList);
      pfn = next === headVa ? -1 : this.slabPfn(next - this.S.slab_list);
    }
    return out;
  }

  /** setup_object_debug(): a new slab's object starts out free: red zones, poison, empty tracks. */
  private setup_object_debug(s: number, object: number): void {
    if (!(this.sflags(s) & (SLAB_STORE_USER | SLAB_RED_ZONE | __OBJECT_POISON))) return;
    this.init_object(s, object, SLUB_RED_INACTIVE);
    this.init_tracking(s, object);
  }

  /* The debug allocation path */

  private alloc_consistency_checks(s: number, pfn: number, object: number): boolean {
    if (!this.check_slab(s, pfn)) return false;
    if (!this.check_valid_pointer(s, pfn, object)) {
      this.object_err(s, pfn, object, 'Freelist Pointer check fails', []);
      return false;
    }
    return this.check_object(s, pfn, object, SLUB_RED_INACTIVE);
  }

  /**
   * alloc_debug_processing(): checks (F), trace (T), the kmalloc size, and
   * the object's red zones for use. On a failed check the slab is given up:
   * every object counted used, no freelist, frozen, on no list.
   */
  private alloc_debug_processing(s: number, pfn: number, object: number, origSize: number): boolean {
    if (!(this.sflags(s) & SLAB_CONSISTENCY_CHECKS) || this.alloc_consistency_checks(s, pfn, object)) {
      this.trace(s, pfn, object, true);
      this.set_orig_size(s, object, origSize);
      this.init_object(s, object, SLUB_RED_ACTIVE);
      return true;
    }
    if (this.isSlab(pfn)) {
      // Marking all objects as used avoids touching the remaining objects.
      this.slab_fix(s, 'Marking all objects used');
      this.slabSetPtr(pfn, this.wFreelist, 0);
      const objects = this.objects(pfn);
      this.setCounters(pfn, objects | (objects << SLAB_OBJECTS_SHIFT) | SLAB_FROZEN);
    }
    return false;
  }

  /**
   * A debug slab on a list with no free object although its counter says
   * otherwise (a free pointer zapped by a check): the kernel would follow
   * the NULL freelist and oops. kmem prints that oops, then takes the slab
   * out of use (all objects counted used, on the full list) so the caches
   * stay consistent.
   */
  private null_freelist(s: number, n: number, pfn: number): void {
    const objects = this.objects(pfn);
    this.setInuse(pfn, objects);
    this.remove_partial(n, pfn);
    this.add_full(s, n, pfn);
    this.d.bug.oops('0000', 'alloc_single_from_partial', [...this.dbgFrames], [
      `BUG: kernel NULL pointer dereference, address: ${formatPtr(this.d.layout, this.u32(s, this.cache.offset))}`,
      '#PF: supervisor read access in kernel mode', '#PF: error_code(0x0000) - not-present page',
    ]);
  }

  /** alloc_single_from_partial(): one object off a node partial slab; full slabs move to the full list. */
  private alloc_single_from_partial(s: number, n: number, pfn: number, origSize: number): number {
    const object = this.slabFreelist(pfn);
    if (object === 0) {
      this.null_freelist(s, n, pfn);
      return 0;
    }
    this.slabSetPtr(pfn, this.wFreelist, this.get_freepointer(s, object));
    this.setInuse(pfn, (this.inuse(pfn) + 1) & SLAB_INUSE_MASK);
    if (!this.alloc_debug_processing(s, pfn, object, origSize)) {
      if (this.isSlab(pfn)) this.remove_partial(n, pfn);
      return 0;
    }
    if (this.inuse(pfn) === this.objects(pfn)) {
      this.remove_partial(n, pfn);
      this.add_full(s, n, pfn);
    }
    return object;
  }

  /** alloc_single_from_new_slab(): the first object of a new slab, which goes on the partial (or full) list. */
  private alloc_single_from_new_slab(s: number, pfn: number, origSize: number): number {
    const nid = this.slab_nid(pfn);
    const n = this.get_node(s, nid);
    const object = this.slabFreelist(pfn);
    this.slabSetPtr(pfn, this.wFreelist, this.get_freepointer(s, object));
    this.setInuse(pfn, 1);
    if (!this.alloc_debug_processing(s, pfn, object, origSize)) return 0;
    let flags: number;
    try {
      flags = this.lock_node(n);
    } catch (e) {
      // backing out (a soft lockup): the new slab is nobody's yet; give it back
      this.__free_slab(s, pfn);
      throw e;
    }
    if (this.inuse(pfn) === this.objects(pfn)) this.add_full(s, n, pfn);
    else this.add_partial(n, pfn, false);
    this.inc_slabs_node(s, nid, this.objects(pfn));
    this.unlock_node(n, flags);
    return object;
  }

  /** get_partial_node() for a debug cache: an object from the first slab of n's partial list that passes. */
  private get_partial_node_debug(s: number, n: number, origSize: number): number {
    if (n === 0 || this.nr_partial(n) === 0) return 0;
    const flags = this.lock_node(n);
    try {
      for (let pfn = this.firstPartial(n); pfn >= 0;) {
        const next = this.nextPartial(n, pfn);
        const object = this.alloc_single_from_partial(s, n, pfn, origSize);
        if (object !== 0) return object;
        pfn = next;
      }
      return 0;
    } finally {
      this.unlock_node(n, flags);
    }
  }

  /** get_partial() for a debug cache: this node's partial slabs, then (as get_any_partial()) the others'. */
  private get_partial_debug(s: number, node: number, flags: number, origSize: number): number {
    const searchnode = node < 0 ? this.d.cpuToNode[this.d.sched.cpu] : node;
    const object = this.get_partial_node_debug(s, searchnode < this.nrNodeIds ? this.get_node(s, searchnode) : 0, origSize);
    if (object !== 0 || (node >= 0 && (flags & __GFP_THISNODE))) return object;
    if (this.nrNodeIds === 1 || this.u32(s, this.cache.remote_node_defrag_ratio) === 0) return 0;
    const highest = gfp_zone(flags, this.d.mz.zs);
    const minPartial = this.min_partial(s);
    for (const zone of this.d.buddy.zonelist(this.d.cpuToNode[this.d.sched.cpu], false)) {
      if (zone.idx > highest) continue;
      const n = this.get_node(s, zone.nid);
      if (n !== 0 && this.nr_partial(n) > minPartial) {
        const o = this.get_partial_node_debug(s, n, origSize);
        if (o !== 0) return o;
      }
    }
    return 0;
  }

  /**
   * ___slab_alloc() for a debug cache (kmem_cache_debug()): no CPU slab;
   * one object at a time from a node partial slab or a new slab, with the
   * debug processing, then the owner's track.
   */
  private debug_slab_alloc(s: number, gfp: number, node: number, origSize: number): number {
    if (origSize === 0) origSize = this.u32(s, this.cache.object_size);
    const saved = this.dbgFrames;
    this.dbgFrames = ['alloc_debug_processing', '___slab_alloc', '__slab_alloc',
      this.sflags(s) & SLAB_KMALLOC ? '__kmalloc_noprof' : 'kmem_cache_alloc_noprof'];
    this.d.bug.deferBegin();
    try {
      if (node >= 0 && !this.node_isset(node)) node = -1;
      let tryThisnode = true;
      for (;;) {
        let pcFlags = gfp;
        if (node >= 0 && !(gfp & __GFP_THISNODE) && tryThisnode) pcFlags = GFP_NOWAIT | __GFP_THISNODE;
        let object = this.get_partial_debug(s, node, pcFlags, origSize);
        if (object === 0) {
          const pfn = this.new_slab(s, pcFlags, node);
          if (pfn < 0) {
            if (node >= 0 && !(gfp & __GFP_THISNODE) && tryThisnode) {
              tryThisnode = false;
              continue;
            }
            this.slab_out_of_memory(s, gfp, node);
            return 0;
          }
          object = this.alloc_single_from_new_slab(s, pfn, origSize);
          if (object === 0) continue;
        }
        if (this.sflags(s) & SLAB_STORE_USER) this.set_track(s, object, TRACK_ALLOC);
        return object;
      }
    } finally {
      this.dbgFrames = saved;
      this.d.bug.deferEnd();
    }
  }

  /* The debug free path */

  private free_consistency_checks(s: number, pfn: number, object: number): boolean {
    if (!this.check_valid_pointer(s, pfn, object)) {
      this.slab_err(s, pfn, `Invalid object pointer 0x${this.p(object)}`, []);
      return false;
    }
    if (this.on_freelist(s, pfn, object)) {
      this.object_err(s, pfn, object, 'Object already free', []);
      return false;
    }
    if (!this.check_object(s, pfn, object, SLUB_RED_ACTIVE)) return false;
    if (s !== this.slab_cache(pfn)) {
      if (!this.isSlab(pfn)) this.slab_err(s, pfn, `Attempt to free object(0x${this.p(object)}) outside of slab`, []);
      else this.object_err(s, pfn, object, 'page slab pointer corrupt.', []);
      return false;
    }
    return true;
  }

  /**
   * free_debug_processing(): for each object of the chain head..tail
   * (bulk: cnt objects), the checks (F), the free track (U), trace (T) and
   * the red zones and poison of a free object. The number of objects to
   * free comes back in bulkCnt[0]; false, after "Object at ... not freed",
   * if nothing may be freed.
   */
  private free_debug_processing(s: number, pfn: number, head: number, tail: number, bulkCnt: number[]): boolean {
    const flags = this.sflags(s);
    let checksOk = false;
    let object = head;
    let cnt = 0;
    out: {
      if ((flags & SLAB_CONSISTENCY_CHECKS) && !this.check_slab(s, pfn)) break out;
      if (this.inuse(pfn) < bulkCnt[0]) {
        this.slab_err(s, pfn, `Slab has ${this.inuse(pfn)} allocated objects but ${bulkCnt[0]} are to be freed\n`, ['free_debug_processing']);
        break out;
      }
      for (;;) {
        if (++cnt > bulkCnt[0]) break;
        if ((flags & SLAB_CONSISTENCY_CHECKS) && !this.free_consistency_checks(s, pfn, object)) break out;
        if (flags & SLAB_STORE_USER) this.set_track_update(s, object, TRACK_FREE);
        this.trace(s, pfn, object, false);
        // the free pointer is not overwritten by init_object(): SLAB_POISON moved it
        this.init_object(s, object, SLUB_RED_INACTIVE);
        if (object !== tail) {
          object = this.get_freepointer(s, object);
          continue;
        }
        checksOk = true;
        break;
      }
      if (cnt !== bulkCnt[0]) {
        this.slab_err(s, pfn, `Bulk free expected ${bulkCnt[0]} objects but found ${cnt}\n`, ['free_debug_processing']);
        bulkCnt[0] = cnt;
      }
    }
    if (!checksOk) this.slab_fix(s, `Object at 0x${this.p(object)} not freed`);
    return checksOk;
  }

  /**
   * free_to_partial_list(): a debug cache's free, under the node's
   * list_lock: the debug processing, then onto the slab's freelist; a
   * full slab comes off the full list onto the partial list, an empty one
   * is discarded when the node has min_partial others.
   */
  private free_to_partial_list(s: number, pfn: number, head: number, tail: number, bulkCnt: number): void {
    this.d.bug.deferBegin();
    try {
      const nid = this.slab_nid(pfn);
      const n = this.get_node(s, nid);
      if (this.sflags(s) & SLAB_STORE_USER) this.set_track_prepare(false);
      const cnt = [bulkCnt];
      let slabFree = -1;
      const flags = this.lock_node(n);
      try {
        if (this.free_debug_processing(s, pfn, head, tail, cnt)) {
          const prior = this.slabFreelist(pfn);
          if (tail === prior) {
            // set_freepointer()'s naive double-free check (reached without F)
            this.double_free();
            return;
          }
          this.setInuse(pfn, (this.inuse(pfn) - cnt[0]) & SLAB_INUSE_MASK);
          this.w.wptr(tail - this.po + this.u32(s, this.cache.offset), prior);
          this.slabSetPtr(pfn, this.wFreelist, head);
          if (this.inuse(pfn) === 0 && this.nr_partial(n) >= this.min_partial(s)) slabFree = pfn;
          // (A slab whose freelist a check cleared stays on the partial list: kmem does not add it twice.)
          const onPartial = this.test_node_partial(pfn);
          if (prior === 0 && !onPartial) {
            this.remove_full(s, n, pfn);
            if (slabFree < 0) this.add_partial(n, pfn, true);
          } else if (slabFree >= 0) {
            this.remove_partial(n, pfn);
          }
        }
      } finally {
        this.unlock_node(n, flags);
      }
      if (slabFree >= 0) {
        this.dec_slabs_node(s, nid, this.objects(slabFree));
        this.free_slab(s, slabFree);
      }
    } finally {
      this.d.bug.deferEnd();
    }
  }

  /** kfree() / kmem_cache_free() of an object of a debug cache. */
  private debug_slab_free(s: number, pfn: number, x: number, api: string): void {
    const saved = this.dbgFrames;
    this.dbgFrames = ['free_debug_processing', 'free_to_partial_list', '__slab_free', api];
    try {
      if (!(this.sflags(s) & SLAB_CONSISTENCY_CHECKS) && !this.check_valid_pointer(s, pfn, x)) {
        // without F the kernel would free it anyway and corrupt the slab; kmem reports it as F would
        this.invalid_object(s, pfn, x);
        return;
      }
      this.slab_free_hook(s, x);
      this.free_to_partial_list(s, pfn, x, x, 1);
    } finally {
      this.dbgFrames = saved;
    }
  }

  /**
   * slab_free_hook() with init_on_free: the object and its metadata after
   * the free pointer are cleared (the red zone and orig_size kept).
   */
  private slab_free_hook(s: number, x: number): void {
    if (!this.d.buddy.globals.init_on_free) return;
    const flags = this.sflags(s);
    if (this.ptrField(s, this.cache.ctor) !== 0 || (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))) return;
    const inuse = this.get_info_end(s);
    const origSize = this.get_orig_size(s, x);
    this.d.mem.fill(x - this.po, origSize, 0);
    const rsize = flags & SLAB_RED_ZONE ? this.u32(s, this.cache.red_left_pad) : 0;
    this.d.mem.fill(x - this.po + inuse, this.u32(s, this.cache.size_) - inuse - rsize, 0);
    this.set_orig_size(s, x, origSize);
  }

  /* validate_slab_cache() (/sys/kernel/slab/<cache>/validate) */

  private validate_slab(s: number, pfn: number): void {
    if (!this.check_slab(s, pfn) || !this.on_freelist(s, pfn, 0)) return;
    // Now we know that a valid freelist exists
    const free = this.freeObjectSet(s, pfn);
    const size = this.u32(s, this.cache.size_);
    const first = this.fixup_red_left(s, this.slab_address(pfn));
    for (let i = 0; i < this.objects(pfn); i++) {
      const p = first + i * size;
      if (!this.check_object(s, pfn, p, free.has(p) ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE)) break;
    }
  }

  private validate_slab_node(s: number, n: number): number {
    const flags = this.lock_node(n);
    try {
      return this.validate_node_slabs(s, n);
    } finally {
      this.unlock_node(n, flags);
    }
  }

  private validate_node_slabs(s: number, n: number): number {
    let count = 0;
    for (const pfn of this.partialSlabs(n)) {
      this.validate_slab(s, pfn);
      count++;
    }
    const name = this.common.cacheName(s);
    if (count !== this.nr_partial(n)) {
      this.pr(KERN_ERR, `SLUB ${name}: ${count} partial slabs counted but counter=${this.nr_partial(n)}\n`);
      this.slab_add_kunit_errors();
    }
    if (!(this.sflags(s) & SLAB_STORE_USER)) return count;
    for (const pfn of this.fullSlabs(n)) {
      this.validate_slab(s, pfn);
      count++;
    }
    if (count !== this.node_nr_slabs(n)) {
      this.pr(KERN_ERR, `SLUB: ${name} ${count} slabs counted but counter=${this.node_nr_slabs(n)}\n`);
      this.slab_add_kunit_errors();
    }
    return count;
  }

  /**
   * validate_slab_cache(): check every slab on the node lists (and, with
   * SLAB_STORE_USER, the full lists) and every object in them, reporting
   * and repairing as the allocation and free checks do. Returns the number
   * of slabs checked. (Writing 1 to /sys/kernel/slab/<cache>/validate does
   * this for a debug cache.)
   */
  validate_slab_cache(s: number): number {
    const saved = this.dbgFrames;
    this.dbgFrames = ['validate_slab', 'validate_slab_node', 'validate_slab_cache'];
    this.d.bug.deferBegin();
    try {
      this.flush_all(s);
      let count = 0;
      for (let node = 0; node < this.nrNodeIds; node++) {
        const n = this.get_node(s, node);
        if (n !== 0) count += this.validate_slab_node(s, n);
      }
      return count;
    } finally {
      this.dbgFrames = saved;
      this.d.bug.deferEnd();
    }
  }

  /** maybe_wipe_obj_freeptr(): with init_on_free, a free pointer inside the object is not left in it. */
  maybe_wipe_obj_freeptr(s: number, obj: number): void {
    const flags = this.sflags(s);
    if (this.ptrField(s, this.cache.ctor) !== 0 || (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))) return;
    if (!this.freeptr_outside_object(s)) this.w.wptr(obj - this.po + this.u32(s, this.cache.offset), 0);
  }

  /* ------------------------------------------------------------------ */
  /* Bulk operations                                                     */
  /* ------------------------------------------------------------------ */

  /**
   * kmem_cache_alloc_bulk(): from the percpu sheaves (alloc_from_pcs_bulk())
   * if the cache has them, the rest by __kmem_cache_alloc_bulk(): this
   * CPU's freelist, the slow path when it runs dry. All or nothing.
   */
  alloc_bulk(s: number, gfp: number, size: number, p: number): number {
    this.serve_flush();
    this.d.bug.deferBegin();
    try {
      const i = this.sheaves !== null && this.sheaves.has_sheaves(s) ? this.sheaves.alloc_from_pcs_bulk(s, size, p) : 0;
      if (i === size) return size;
      if (this.__kmem_cache_alloc_bulk(s, gfp, size - i, p + i * this.ptr) === 0) {
        // out of memory: the sheaves' objects go straight back to the slabs
        if (i > 0) this.__kmem_cache_free_bulk(s, i, p);
        return 0;
      }
      return size;
    } finally {
      this.d.bug.deferEnd();
    }
  }

  private __kmem_cache_alloc_bulk(s: number, gfp: number, size: number, p: number): number {
    const w = this.w;
    const ppa = p - this.po;
    let c = this.thisCpuSlab(s);
    for (let i = 0; i < size; i++) {
      const object = w.rptr(c + this.C.freelist);
      if (object === 0) {
        this.bumpTid(c);
        const obj = this.___slab_alloc(s, gfp, -1, c, this.u32(s, this.cache.object_size));
        if (obj === 0) {
          // the objects taken so far straight back to their slabs, never onto the sheaves (6.18)
          this.__kmem_cache_free_bulk(s, i, p);
          return 0;
        }
        w.wptr(ppa + i * this.ptr, obj);
        c = this.thisCpuSlab(s);
        continue;
      }
      w.wptr(c + this.C.freelist, this.get_freepointer(s, object));
      w.wptr(ppa + i * this.ptr, object);
    }
    this.bumpTid(c);
    return size;
  }

  /**
   * kmem_cache_free_bulk(): build_detached_freelist() takes the last
   * pointer and up to three look-ahead misses' worth of others in the same
   * slab, links them, and frees them in one do_slab_free(); repeat.
   */
  free_bulk(s: number, size: number, p: number): void {
    this.serve_flush();
    this.d.bug.deferBegin();
    try {
      if (s !== 0 && this.sheaves !== null && this.sheaves.has_sheaves(s)) this.free_to_pcs_bulk(s, size, p);
      else this.__kmem_cache_free_bulk(s, size, p);
    } finally {
      this.d.bug.deferEnd();
    }
  }

  /**
   * free_to_pcs_bulk() (6.18): first a pass over p[] that runs the free
   * hook on each object and takes out the remote ones (on another node
   * than this CPU's), freeing them to their slabs PCS_BATCH_MAX at a time
   * (__kmem_cache_free_bulk()); then the local ones are copied into this
   * CPU's sheaves in batches (SlubSheaves.free_to_pcs_batch()), and
   * whatever the sheaves cannot take goes to the slabs in one
   * __kmem_cache_free_bulk(); then the last remote ones. p[] is reordered,
   * as the kernel's is.
   *
   *   p[0 .. i)        local, looked at     p[i .. size)  not looked at yet
   *   p[size .. size + remote)  remote, waiting (the kernel's remote_objects[] on its stack)
   *
   * The kernel checks nothing here; kmem makes the checks
   * __kmem_cache_free_bulk() makes (bulk_free_check()), so that a bad
   * pointer is reported and skipped as there. (7.0's code also returns
   * without freeing the local objects when a full remote batch ends the
   * pass; kmem frees them.)
   */
  private free_to_pcs_bulk(s: number, size: number, p: number): void {
    const w = this.w;
    const ppa = p - this.po;
    const ptr = this.ptr;
    const node = this.d.cpuToNode[this.d.sched.cpu];
    let remote = 0;
    for (let i = 0; i < size;) {
      const object = w.rptr(ppa + i * ptr);
      const pfn = this.bulk_free_check(s, object);
      if (pfn < 0) {
        // p[i] = p[--size]; the waiting remote objects move down one slot
        w.wptr(ppa + i * ptr, w.rptr(ppa + (size - 1) * ptr));
        w.wptr(ppa + (size - 1) * ptr, w.rptr(ppa + (size - 1 + remote) * ptr));
        size--;
      } else if (this.slab_nid(pfn) !== node) {
        w.wptr(ppa + i * ptr, w.rptr(ppa + (size - 1) * ptr));
        w.wptr(ppa + (size - 1) * ptr, object);
        size--;
        if (++remote >= PCS_BATCH_MAX) {
          this.__kmem_cache_free_bulk(s, remote, p + size * ptr);
          remote = 0;
        }
      } else {
        i++;
      }
    }
    const onSheaves = size === 0 ? 0 : this.sheaves!.free_to_pcs_batch(s, size, p);
    if (onSheaves < size) this.__kmem_cache_free_bulk(s, size - onSheaves, p + onSheaves * ptr);
    if (remote > 0) this.__kmem_cache_free_bulk(s, remote, p + size * ptr);
  }

  /**
   * free_to_pcs_bulk()'s look at one object, with __kmem_cache_free_bulk()'s
   * checks: its slab's pfn after the free hook; -1 when it is done with:
   * in no slab or no object's start (reported), or of another cache than s
   * (cache_from_obj() warned; freed to its own cache, not onto s's sheaves).
   */
  private bulk_free_check(s: number, object: number): number {
    const cache = this.common.cache_from_obj(s, object);
    if (cache === 0) return -1;
    const pfn = this.folioPfn(object);
    if (!this.valid_object(cache, pfn, object)) {
      this.invalid_object(cache, pfn, object);
      return -1;
    }
    this.slab_free_hook(cache, object);
    if (cache === s) return pfn;
    if (this.sheaves!.has_sheaves(cache)) this.free_pcs_slow(cache, pfn, object);
    else this.do_slab_free(cache, pfn, object, object, 1);
    return -1;
  }

  private __kmem_cache_free_bulk(s: number, size: number, p: number): void {
    const w = this.w;
    const ppa = p - this.po;
    while (size > 0) {
      const object = w.rptr(ppa + --size * this.ptr);
      const pfn = this.folioPfn(object);
      let cache: number;
      if (s === 0) {
        if (!this.isSlab(pfn)) {
          this.common.free_large_kmalloc(pfn, object);
          continue;
        }
        cache = this.slab_cache(pfn);
      } else {
        cache = this.common.cache_from_obj(s, object);
        if (cache === 0) continue;
      }
      if (!this.valid_object(cache, pfn, object)) {
        this.invalid_object(cache, pfn, object);
        continue;
      }
      let head = object;
      let cnt = 1;
      const off = this.u32(cache, this.cache.offset);
      const initOnFree = this.d.buddy.globals.init_on_free;
      if (initOnFree) this.slab_free_hook(cache, object);
      w.wptr(object - this.po + off, 0);
      let same = size;
      let lookahead = 3;
      while (size > 0) {
        const o = w.rptr(ppa + --size * this.ptr);
        if (this.folioPfn(o) === pfn && this.valid_object(cache, pfn, o)) {
          if (initOnFree) this.slab_free_hook(cache, o);
          w.wptr(o - this.po + off, head);
          head = o;
          cnt++;
          same--;
          if (size !== same) {
            w.wptr(ppa + size * this.ptr, w.rptr(ppa + same * this.ptr));
            w.wptr(ppa + same * this.ptr, o);
          }
          continue;
        }
        if (--lookahead === 0) break;
      }
      this.do_slab_free(cache, pfn, head, object, cnt);
      size = same;
    }
  }

  /* ------------------------------------------------------------------ */
  /* Cache creation                                                      */
  /* ------------------------------------------------------------------ */

  /** calculate_order(): the slab order for objects of `size` bytes; -1 if none works. */
  calculate_order(size: number): number {
    let minObjects = this.slub_min_objects;
    if (minObjects === 0) minObjects = 4 * (fls(this.d.nrCpus) + 1);
    const maxOrder = this.slub_max_order;
    const orderObjects = (order: number) => Math.floor((PAGE_SIZE << order) / size);
    const maxObjects = Math.max(orderObjects(maxOrder), 1);
    minObjects = Math.min(minObjects, maxObjects);
    const minOrder = Math.max(this.slub_min_order, getOrder(minObjects * size));
    if (orderObjects(minOrder) > MAX_OBJS_PER_PAGE) return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
    for (let fraction = 16; fraction > 1; fraction /= 2) {
      let order = minOrder;
      for (; order <= maxOrder; order++) {
        const slabSize = PAGE_SIZE << order;
        if (slabSize % size <= slabSize / fraction) break;
      }
      if (order <= maxOrder) return order;
    }
    const order = getOrder(size);
    return order <= MAX_PAGE_ORDER ? order : -1;
  }

  /** calculate_sizes(): object layout, free pointer, order; false if no order fits. */
  private calculate_sizes(args: KmemCacheArgs, s: number): boolean {
    const L = this.cache;
    const lay = calculateObjectLayout(this.u32(s, L.object_size), this.u32(s, L.align), this.u32(s, L.flags),
      this.ptrField(s, L.ctor) !== 0, args.use_freeptr_offset ? args.freeptr_offset : null, this.metadataSizes);
    const flags = lay.flags;
    this.setU32(s, L.flags, flags);
    this.setU32(s, L.inuse, lay.inuse);
    this.setU32(s, L.offset, lay.offset);
    if (flags & SLAB_RED_ZONE) this.setU32(s, L.red_left_pad, lay.redLeftPad);
    const size = lay.size;
    this.setU32(s, L.size_, size);
    // reciprocal_size {m, sh1, sh2} (lib/math/reciprocal_div.c)
    const l = fls(size - 1);
    const m = (BigInt(TWO32) * (2n ** BigInt(l) - BigInt(size))) / BigInt(size) + 1n;
    this.setU32(s, L.reciprocal_size, Number(m & 0xffffffffn));
    this.setU32(s, L.reciprocal_size + 4, Math.min(l, 1) | (Math.max(l - 1, 0) << 8));
    const order = this.calculate_order(size);
    if (order < 0) return false;
    let allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) allocflags |= GFP_DMA;
    if (flags & SLAB_CACHE_DMA32) allocflags |= GFP_DMA32;
    if (flags & SLAB_RECLAIM_ACCOUNT) allocflags |= __GFP_RECLAIMABLE;
    this.setU32(s, L.allocflags, allocflags);
    const oo = (order << OO_SHIFT) + Math.floor((PAGE_SIZE << order) / size);
    this.setU32(s, L.oo, oo);
    const minOrder = getOrder(size);
    this.setU32(s, L.min, (minOrder << OO_SHIFT) + Math.floor((PAGE_SIZE << minOrder) / size));
    return (oo & OO_MASK) !== 0;
  }

  /** set_cpu_partial(): objects (and slabs) a CPU keeps on its partial list. */
  private set_cpu_partial(s: number): void {
    const size = this.u32(s, this.cache.size_);
    let nrObjects: number;
    if (!this.has_cpu_partial(s)) nrObjects = 0;
    else if (size >= PAGE_SIZE) nrObjects = 6;
    else if (size >= 1024) nrObjects = 24;
    else if (size >= 256) nrObjects = 52;
    else nrObjects = 120;
    this.setU32(s, this.cache.cpu_partial, nrObjects);
    const perSlab = this.u32(s, this.cache.oo) & OO_MASK;
    this.setU32(s, this.cache.cpu_partial_slabs, Math.ceil((nrObjects * 2) / perSlab));
  }

  do_kmem_cache_create(s: number, name: number, size: number, args: KmemCacheArgs, flags: number): number {
    const L = this.cache;
    this.setPtrField(s, L.name, name);
    this.setU32(s, L.size_, size);
    this.setU32(s, L.object_size, size);
    this.setU32(s, L.flags, this.kmem_cache_flags(flags, this.common.readString(name)));
    this.setU32(s, L.align, args.align);
    this.setPtrField(s, L.ctor, args.ctor);
    this.setU32(s, L.useroffset, args.useroffset);
    this.setU32(s, L.usersize, args.usersize);
    if (!this.calculate_sizes(args, s)) {
      this.__kmem_cache_release(s);
      return -EINVAL;
    }
    // slab_debug=O: no metadata for a cache whose minimum order it would raise
    if (this.w.r32(this.d.staticsPa + this.G.disable_higher_order_debug) !== 0 &&
      getOrder(this.u32(s, L.size_)) > getOrder(this.u32(s, L.object_size))) {
      this.setU32(s, L.flags, this.u32(s, L.flags) & ~DEBUG_METADATA_FLAGS);
      this.setU32(s, L.offset, 0);
      if (!this.calculate_sizes(args, s)) {
        this.__kmem_cache_release(s);
        return -EINVAL;
      }
    }
    // system_has_freelist_aba(): cmpxchg16b / cmpxchg8b
    if (!(this.u32(s, L.flags) & SLAB_NO_CMPXCHG)) this.setU32(s, L.flags, this.u32(s, L.flags) | __CMPXCHG_DOUBLE);
    const ilog2 = 31 - Math.clz32(this.u32(s, L.size_));
    this.w.wlong(s - this.po + L.min_partial, Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, ilog2 >> 1)));
    this.set_cpu_partial(s);
    this.setU32(s, L.remote_node_defrag_ratio, 1000);
    if (!this.init_kmem_cache_nodes(s) || !this.alloc_kmem_cache_cpus(s) || !this.init_sheaves(s, args)) {
      this.__kmem_cache_release(s);
      return -EINVAL;
    }
    return 0;
  }

  /**
   * The cache's percpu sheaves, if it gets any: 6.18 gives them to a cache
   * that asks (args.sheaf_capacity) and has no debugging; 7.0 to every
   * cache calculate_sheaf_capacity() allows, the kmalloc caches later
   * (bootstrap_kmalloc_sheaves()). false: no memory.
   */
  private init_sheaves(s: number, args: KmemCacheArgs): boolean {
    const sheaves = this.sheaves;
    if (sheaves === null) return true;
    const flags = this.u32(s, this.cache.flags);
    const asked = args.sheaf_capacity ?? 0;
    let capacity: number;
    if (this.d.sheaves === 'all') capacity = flags & SLAB_KMALLOC ? 0 : sheaves.calculate_sheaf_capacity(this.u32(s, this.cache.size_), flags, asked);
    else capacity = asked !== 0 && !(flags & SLAB_DEBUG_FLAGS) ? asked : 0;
    return capacity === 0 || sheaves.init_cache_sheaves(s, capacity, this.slabNodeList(s));
  }

  /** The nodes s has a kmem_cache_node on. */
  private slabNodeList(s: number): number[] {
    const out: number[] = [];
    for (let node = 0; node < this.nrNodeIds; node++) if (this.get_node(s, node) !== 0) out.push(node);
    return out;
  }

  /**
   * bootstrap_kmalloc_sheaves() (7.0): the kmalloc caches' sheaves, once
   * kmalloc works (sheaves and barns are kmalloc'd). 7.0 does this for the
   * KMALLOC_NORMAL caches and gives the other kmalloc types theirs at
   * creation; kmem does all of them here (every normal cache exists by then).
   */
  private bootstrap_kmalloc_sheaves(): void {
    const sheaves = this.sheaves!;
    for (const s of this.common.caches()) {
      const flags = this.u32(s, this.cache.flags);
      if (!(flags & SLAB_KMALLOC) || sheaves.has_sheaves(s)) continue;
      const capacity = sheaves.calculate_sheaf_capacity(this.u32(s, this.cache.size_), flags, 0);
      if (capacity !== 0 && !sheaves.init_cache_sheaves(s, capacity, this.slabNodeList(s))) {
        this.d.bug.panic(`Out of memory when creating kmem_cache ${this.common.cacheName(s)}`, ['bootstrap_kmalloc_sheaves', 'kmem_cache_init']);
      }
    }
  }

  private init_kmem_cache_node(n: number): void {
    const npa = n - this.po;
    this.w.w32(npa + this.N.list_lock, 0);
    this.w.wlong(npa + this.N.nr_partial, 0);
    this.lists.init(this.partialHead(n));
    this.w.wlong(npa + this.N.nr_slabs, 0);
    this.w.wlong(npa + this.N.total_objects, 0);
    this.lists.init(this.listHead(n, this.N.full));
  }

  /** init_kmem_cache_nodes(): a kmem_cache_node on every node with normal memory. */
  private init_kmem_cache_nodes(s: number): boolean {
    for (let node = 0; node < this.nrNodeIds; node++) {
      if (!this.node_isset(node)) continue;
      if (this.common.slab_state === DOWN) {
        this.early_kmem_cache_node_alloc(node);
        continue;
      }
      const n = this.common.kmem_cache_alloc_node(this.kmem_cache_node, GFP_KERNEL, node);
      if (n === 0) return false;
      this.init_kmem_cache_node(n);
      this.setPtrField(s, this.cache.node + node * this.ptr, n);
    }
    return true;
  }

  /**
   * early_kmem_cache_node_alloc(): the first kmem_cache_node of a node,
   * carved by hand out of a new slab of the kmem_cache_node cache, which
   * then goes on that very node's partial list.
   */
  private early_kmem_cache_node_alloc(node: number): void {
    const kcn = this.kmem_cache_node;
    const pfn = this.new_slab(kcn, GFP_NOWAIT, node);
    if (pfn < 0) throw new Error(`SLUB: no memory for the kmem_cache_node of node ${node} at boot`);
    if (this.slab_nid(pfn) !== node) {
      this.d.log.printk(KERN_ERR, `SLUB: Unable to allocate memory from node ${node}`);
      this.d.log.printk(KERN_ERR, 'SLUB: Allocating a useless per node structure in order to be able to continue');
    }
    const n = this.slabFreelist(pfn);
    this.init_object(kcn, n, SLUB_RED_ACTIVE);
    this.slabSetPtr(pfn, this.wFreelist, this.get_freepointer(kcn, n));
    this.setInuse(pfn, 1);
    this.setPtrField(kcn, this.cache.node + node * this.ptr, n);
    this.init_kmem_cache_node(n);
    this.inc_slabs_node(kcn, node, this.objects(pfn));
    this.add_partial(n, pfn, false);
  }

  /**
   * alloc_kmem_cache_cpus(): the per-CPU kmem_cache_cpu, each CPU's tid
   * starting at its number. The kernel aligns it to two words (for
   * cmpxchg_double); kmem aligns it to its own size, so that it never
   * straddles two of the RAM's host sections and the fast paths can index
   * one typed array.
   */
  private alloc_kmem_cache_cpus(s: number): boolean {
    const ptr = this.d.percpu.__alloc_percpu(this.C.size, this.C.size);
    if (ptr === 0) return false;
    this.setPtrField(s, this.cache.cpu_slab, ptr);
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) this.w.wlong(this.cpuSlab(s, cpu) + this.C.tid, cpu);
    return true;
  }

  __kmem_cache_release(s: number): void {
    if (this.sheaves !== null) this.sheaves.pcs_destroy(s, this.slabNodeList(s));
    const cpuSlab = this.ptrField(s, this.cache.cpu_slab);
    if (cpuSlab !== 0) this.d.percpu.free_percpu(cpuSlab);
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      this.setPtrField(s, this.cache.node + node * this.ptr, 0);
      this.common.kmem_cache_free(this.kmem_cache_node, n);
    }
  }

  /* ------------------------------------------------------------------ */
  /* Boot                                                                */
  /* ------------------------------------------------------------------ */

  /**
   * kmem_cache_init(): the bootstrap. The caches that hold struct
   * kmem_cache_node and struct kmem_cache are first set up in static
   * structures (boot_kmem_cache_node, boot_kmem_cache, in the kernel's
   * .bss); the very first kmem_cache_node is carved out of a slab by hand.
   * Once both caches work, bootstrap() copies each into an object
   * allocated from the kmem_cache cache itself and repoints its slabs.
   * Then the kmalloc caches.
   */
  kmem_cache_init(): void {
    const common = this.common;
    const G = this.d.staticsPa;
    const p = this.d.params;
    this.w.w32(G + this.G.slub_min_order, p.minOrder);
    this.w.w32(G + this.G.slub_max_order, p.maxOrder);
    this.w.w32(G + this.G.slub_min_objects, p.minObjects);
    this.setup_slub_debug_statics();
    // DEFINE_PER_CPU(struct slub_flush_work, slub_flush)
    const slubFlush = this.d.percpu.__alloc_percpu(this.F.size, this.ptr);
    if (slubFlush === 0) throw new Error('SLUB: no per-CPU memory for slub_flush at boot');
    this.w.wptr(G + this.G.slub_flush, slubFlush);
    this.slubFlushOff = slubFlush;
    this.fastpath.setFlushWork(slubFlush + this.F.work);
    // Print slub debugging pointers without hashing
    if (p.debug.flags !== 0 || p.debug.string !== null || p.noHashPointers) this.no_hash_pointers_enable();
    // slab_nodes: the nodes with normal memory (N_NORMAL_MEMORY), a bitmap of up to 64 nodes
    const nodes = new Set<number>();
    for (const z of this.d.buddy.zones) if (z.idx <= this.d.mz.zs.ZONE_NORMAL && this.d.buddy.populated(z)) nodes.add(z.nid);
    let mask = 0;
    for (const nid of nodes) mask += 2 ** nid;
    this.w.wlong(G + this.G.slab_nodes, mask);
    const bootCache = this.po + G + this.G.boot_kmem_cache;
    const bootCacheNode = this.po + G + this.G.boot_kmem_cache_node;
    this.w.wptr(G + this.G.kmem_cache_node, bootCacheNode);
    common.kmem_cache = bootCache;
    common.create_boot_cache(bootCacheNode, common.rodataString('kmem_cache_node'), this.N.size,
      SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT, 0, 0);
    common.slab_state = PARTIAL;
    common.create_boot_cache(bootCache, common.rodataString('kmem_cache'), this.kmemCacheBytes,
      SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT, 0, 0);
    common.kmem_cache = this.bootstrap(bootCache);
    this.w.wptr(G + this.G.kmem_cache_node, this.bootstrap(bootCacheNode));
    common.create_kmalloc_caches();
    if (this.d.sheaves === 'all') this.bootstrap_kmalloc_sheaves();
    this.d.log.printk(KERN_INFO, `SLUB: HWalign=${this.d.layout.cacheLine}, Order=${this.slub_min_order}-${this.slub_max_order}, ` +
      `MinObjects=${this.slub_min_objects}, CPUs=${this.d.nrCpus}, Nodes=${this.nrNodeIds}`);
  }

  /** bootstrap(): move a static boot cache into an object of the kmem_cache cache. */
  private bootstrap(staticCache: number): number {
    const kc = this.common.kmem_cache;
    const s = this.common.kmem_cache_zalloc(kc, GFP_NOWAIT);
    if (s === 0) throw new Error('SLUB: no memory to bootstrap the kmem_cache caches');
    this.d.mem.copy(s - this.po, staticCache - this.po, this.u32(kc, this.cache.object_size));
    this.__flush_cpu_slab(s, this.d.sched.cpu);
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      for (let pfn = this.firstPartial(n); pfn >= 0; pfn = this.nextPartial(n, pfn)) this.slabSetPtr(pfn, this.wSlabCache, s);
      for (const pfn of this.fullSlabs(n)) this.slabSetPtr(pfn, this.wSlabCache, s);
    }
    this.common.link_cache(s);
    return s;
  }

  /* ------------------------------------------------------------------ */
  /* Flushing, shrinking, shutting down                                  */
  /* ------------------------------------------------------------------ */

  /** __flush_cpu_slab(): cpu's slab back to the lists, and its partial slabs to the node lists. */
  private __flush_cpu_slab(s: number, cpu: number): void {
    const c = this.cpuSlab(s, cpu);
    this.deactivate_cpu_slab(s, c);
    this.__put_partials(s, c, -1, Infinity);
  }

  /** has_cpu_slab(): does cpu hold slabs of s (a racy look at another CPU's data, as the kernel's)? */
  private has_cpu_slab(cpu: number, s: number): boolean {
    const c = this.cpuSlab(s, cpu);
    return this.w.rptr(c + this.C.slab) !== 0 || this.w.rptr(c + this.C.partial) !== 0;
  }

  /** has_cpu_slab() || has_pcs_used() */
  private has_cpu_work(cpu: number, s: number): boolean {
    return this.has_cpu_slab(cpu, s) || (this.sheaves !== null && this.sheaves.has_pcs_used(cpu, s));
  }

  /**
   * flush_cpu_slab() for the CPUs this thread does the flushing of: first
   * every one's sheaves (their objects go to the slabs, possibly onto this
   * CPU's slab or partial list), then every one's slabs, so that nothing
   * stays on a CPU already flushed.
   */
  private flush_cpus(s: number, mine: (cpu: number) => boolean): void {
    const sheaves = this.sheaves;
    if (sheaves !== null) {
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) if (mine(cpu) && sheaves.has_pcs_used(cpu, s)) sheaves.pcs_flush_cpu(s, cpu);
    }
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) if (mine(cpu) && this.has_cpu_slab(cpu, s)) this.__flush_cpu_slab(s, cpu);
  }

  /**
   * slub_cpu_dead()'s work on one cache: cpu's sheaves (6.18's
   * __pcs_flush_all_cpu()) and its CPU slab and partial slabs
   * (__flush_cpu_slab()) back to the node lists. kmem calls it from the
   * thread that drove cpu, as that thread lets it go (src/kernel/cpuhp.ts).
   */
  cpu_dead(s: number, cpu: number): void {
    this.flush_cpus(s, (c) => c === cpu);
  }

  /**
   * kfree_rcu_sheaf(): kvfree_call_rcu()'s first try (6.18): an object of
   * a cache with sheaves goes into this CPU's rcu_free sheaf
   * (slub_sheaves.ts). false: not in the direct map (is_vmalloc_addr(), or
   * no address of RAM at all), not a slab object, no sheaves, or no sheaf to
   * be had: the ordinary kfree_rcu() path.
   */
  kfree_rcu_sheaf(x: number): boolean {
    if (this.sheaves === null) return false;
    const pa = x - this.po;
    if (!(pa >= 0 && x < this.d.kaddr.directMapEnd && this.d.sparse.pfn_valid(Math.floor(pa / PAGE_SIZE)))) return false;
    const pfn = this.folioPfn(x);
    if (!this.isSlab(pfn)) return false;
    const s = this.slab_cache(pfn);
    return this.sheaves.has_sheaves(s) && this.sheaves.kfree_rcu_sheaf(s, x);
  }

  /**
   * flush_rcu_sheaves_on_cache(): every CPU's partly filled rcu_free sheaf
   * of s to call_rcu(), for the rcu_barrier() of kvfree_rcu_barrier().
   */
  flush_rcu_sheaves_on_cache(s: number): void {
    const sheaves = this.sheaves;
    if (sheaves === null || !sheaves.has_sheaves(s)) return;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) sheaves.flush_rcu_sheaf(s, cpu);
  }

  /** Physical address of cpu's struct slub_flush_work. */
  private slubFlush(cpu: number): number {
    return this.pcpuBase + cpu * this.pcpuUnit + this.slubFlushOff;
  }

  /**
   * flush_all(): every CPU's slabs of s back to the node lists.
   *
   * 6.12 queues flush_cpu_slab() as a work item on each CPU that holds
   * slabs of s and waits for them (flush_work()): a CPU's kmem_cache_cpu is
   * only ever touched by that CPU. kmem does the same across host threads
   * with the per-CPU struct slub_flush_work. A CPU this thread drives is
   * flushed here and now, as its work item would run (in the deterministic
   * mode that is every CPU). For a CPU driven by another thread, s goes into
   * its slub_flush and work becomes WORK_PENDING; the fast paths of that CPU
   * then miss, and its next slab call serves the request (serve_flush():
   * flush_cpu_slab(), then work = 0 and a notify). The requester waits up to
   * FLUSH_WAIT_MS for each. Limitation: a CPU whose thread makes no slab
   * call in that time (an idle worker) keeps its slabs; the request is
   * withdrawn, shrinking leaves those slabs, and destroying the cache
   * reports them as objects remaining. flush_lock (6.12's mutex) keeps
   * requesters one at a time; a thread waiting for it serves its own CPU's
   * requests meanwhile, so two threads flushing at once do not wait on each
   * other.
   */
  private flush_all(s: number): void {
    if (!this.parallel()) {
      this.flush_cpus(s, (cpu) => cpu >= 0);
      return;
    }
    const lock = this.d.staticsPa + this.G.flush_lock;
    const la = this.i32[(lock * INV_SECTION) | 0];
    const li = (lock & SECTION_MASK) >> 2;
    for (;;) {
      const holder = Atomics.compareExchange(la, li, 0, this.d.sched.cpu + 1);
      if (holder === 0) break;
      this.serve_flush();
      waitWhileEqual(la, li, holder, 1);
    }
    try {
      this.flush_cpus(s, (cpu) => this.d.smp.drives(cpu));
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        const sfw = this.slubFlush(cpu);
        if (!this.has_cpu_work(cpu, s) || this.d.smp.drives(cpu)) {
          this.w.w32(sfw + this.F.skip, 1);
          continue;
        }
        this.w.w32(sfw + this.F.skip, 0);
        this.w.wptr(sfw + this.F.s, s);
        Atomics.store(this.i32[(sfw * INV_SECTION) | 0], ((sfw + this.F.work) & SECTION_MASK) >> 2, WORK_PENDING);
      }
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        const sfw = this.slubFlush(cpu);
        if (this.w.r32(sfw + this.F.skip) === 0) this.flush_work(sfw + this.F.work);
      }
    } finally {
      Atomics.store(la, li, 0);
      Atomics.notify(la, li);
    }
  }

  /** flush_work(): wait for a queued flush; withdraw it after FLUSH_WAIT_MS if its CPU has not started it. */
  private flush_work(workPa: number): void {
    const a = this.i32[(workPa * INV_SECTION) | 0];
    const i = (workPa & SECTION_MASK) >> 2;
    const deadline = Date.now() + FLUSH_WAIT_MS;
    for (;;) {
      const state = Atomics.load(a, i);
      if (state === 0) return;
      const left = deadline - Date.now();
      if (left <= 0 && state === WORK_PENDING) {
        if (Atomics.compareExchange(a, i, WORK_PENDING, 0) === WORK_PENDING) return;
        continue;
      }
      // WORK_RUNNING past the deadline: the CPU is flushing; wait for it to finish.
      waitWhileEqual(a, i, state, left > 0 ? left : FLUSH_WAIT_MS);
    }
  }

  /**
   * flush_cpu_slab(): the flush another thread queued on this CPU, if any
   * (at the start of this CPU's slab slow paths; the fast paths miss while
   * one is pending).
   */
  private serve_flush(): void {
    const sfw = this.slubFlush(this.d.sched.cpu);
    const work = sfw + this.F.work;
    const a = this.i32[(work * INV_SECTION) | 0];
    const i = (work & SECTION_MASK) >> 2;
    if (a[i] === 0) return;
    if (Atomics.compareExchange(a, i, WORK_PENDING, WORK_RUNNING) !== WORK_PENDING) return;
    try {
      const s = this.w.rptr(sfw + this.F.s);
      const me = this.d.sched.cpu;
      this.flush_cpus(s, (cpu) => cpu === me);
    } finally {
      Atomics.store(a, i, 0);
      Atomics.notify(a, i);
    }
  }

  /** The slabs on n's partial list, in list order. */
  private partialSlabs(n: number): number[] {
    const out: number[] = [];
    for (let pfn = this.firstPartial(n); pfn >= 0; pfn = this.nextPartial(n, pfn)) out.push(pfn);
    return out;
  }

  /**
   * __kmem_cache_shrink(): flush the CPUs, free every empty slab on the
   * node lists, and sort the rest so the fullest come first (slabs with up
   * to 32 free objects, fewest free first; the others keep their order).
   */
  __kmem_cache_shrink(s: number): number {
    return this.d.bug.deferred(() => this.__kmem_cache_do_shrink(s));
  }

  private __kmem_cache_do_shrink(s: number): number {
    this.shrink_barns(s);
    this.flush_all(s);
    let ret = 0;
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      const discard: number[] = [];
      const promote: number[][] = Array.from({ length: SHRINK_PROMOTE_MAX }, () => []);
      const rest: number[] = [];
      const flags = this.lock_node(n);
      for (const pfn of this.partialSlabs(n)) {
        const free = this.objects(pfn) - this.inuse(pfn);
        if (free === this.objects(pfn)) {
          this.remove_partial(n, pfn);
          this.dec_slabs_node(s, node, this.objects(pfn));
          discard.push(pfn);
        } else if (free <= SHRINK_PROMOTE_MAX) {
          promote[free - 1].unshift(pfn);
        } else {
          rest.push(pfn);
        }
      }
      const order = [...promote.flat(), ...rest];
      for (const pfn of order) this.lists.del(pfn);
      for (const pfn of order) this.lists.add(pfn, this.partialHead(n), true);
      this.unlock_node(n, flags);
      // The discard list was built with list_move(): last found, first freed.
      for (let i = discard.length - 1; i >= 0; i--) this.free_slab(s, discard[i]);
      if (this.node_nr_slabs(n) !== 0) ret = 1;
    }
    return ret;
  }

  /**
   * barn_shrink() of every node's barn: the barns' sheaves to the slabs and
   * freed. 6.18 does it after flush_all(), node by node; kmem does it first,
   * so that objects it frees onto a CPU's slab are flushed with the rest.
   */
  private shrink_barns(s: number): void {
    const sheaves = this.sheaves;
    if (sheaves === null || !sheaves.has_sheaves(s)) return;
    for (let node = 0; node < this.nrNodeIds; node++) {
      const barn = sheaves.barnOf(s, node);
      if (barn !== 0) sheaves.barn_shrink(s, barn);
    }
  }

  /** __kmem_cache_shutdown(): free everything; 1 (after listing them) if objects remain. */
  __kmem_cache_shutdown(s: number): number {
    return this.d.bug.deferred(() => this.kmem_cache_do_shutdown(s));
  }

  private kmem_cache_do_shutdown(s: number): number {
    this.shrink_barns(s);
    this.flush_all(s);
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      // free_partial(): under n->list_lock, the empty slabs off the list, the others' objects listed
      const discard: number[] = [];
      const flags = this.lock_node(n);
      try {
        for (const pfn of this.partialSlabs(n)) {
          if (this.inuse(pfn) === 0) {
            this.remove_partial(n, pfn);
            discard.push(pfn);
          } else {
            this.list_slab_objects(s, pfn);
          }
        }
      } finally {
        this.unlock_node(n, flags);
      }
      for (let i = discard.length - 1; i >= 0; i--) this.discard_slab(s, discard[i]);
      if (this.nr_partial(n) !== 0 || this.node_nr_slabs(n) !== 0) return 1;
    }
    return 0;
  }

  /* ------------------------------------------------------------------ */
  /* Figures                                                             */
  /* ------------------------------------------------------------------ */

  /**
   * count_partial_free_approx(): free objects on n's partial list
   * (scanning at most 10000 slabs), under n->list_lock.
   */
  private count_partial_free_approx(n: number): number {
    const flags = this.lock_node(n);
    try {
      return this.count_partial_free(n);
    } finally {
      this.unlock_node(n, flags);
    }
  }

  private count_partial_free(n: number): number {
    const nrPartial = this.nr_partial(n);
    let x = 0;
    let scanned = 0;
    for (let pfn = this.firstPartial(n); pfn >= 0; pfn = this.nextPartial(n, pfn)) {
      x += this.objects(pfn) - this.inuse(pfn);
      if (nrPartial > MAX_PARTIAL_TO_SCAN && ++scanned === MAX_PARTIAL_TO_SCAN / 2) break;
    }
    if (nrPartial <= MAX_PARTIAL_TO_SCAN) return x;
    // A long list: the first and the last 5000 slabs, scaled to the whole list.
    const head = n + this.N.partial;
    for (let pos = this.lists.last(this.partialHead(n)); pos >= 0 && scanned < MAX_PARTIAL_TO_SCAN; scanned++) {
      x += this.objects(pos) - this.inuse(pos);
      const prev = this.slabGetPtr(pos, this.wSlabList + this.ptr / 4);
      pos = prev === head ? -1 : this.slabPfn(prev - this.S.slab_list);
    }
    x = Math.floor(x / scanned) * nrPartial + Math.floor(((x % scanned) * nrPartial) / scanned);
    return Math.min(x, this.node_nr_objs(n));
  }

  get_slabinfo(s: number, out: SlabInfo): void {
    let nrSlabs = 0;
    let nrObjs = 0;
    let nrFree = 0;
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      nrSlabs += this.node_nr_slabs(n);
      nrObjs += this.node_nr_objs(n);
      nrFree += this.count_partial_free_approx(n);
    }
    const oo = this.u32(s, this.cache.oo);
    out.active_objs = nrObjs - nrFree;
    out.num_objs = nrObjs;
    out.active_slabs = nrSlabs;
    out.num_slabs = nrSlabs;
    out.shared_avail = 0;
    out.limit = 0;
    out.batchcount = 0;
    out.shared = 0;
    out.objects_per_slab = oo & OO_MASK;
    out.cache_order = oo >>> OO_SHIFT;
  }

  slab_ksize(s: number): number {
    const flags = this.u32(s, this.cache.flags);
    if (flags & (SLAB_RED_ZONE | SLAB_POISON)) return this.u32(s, this.cache.object_size);
    if (flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER)) return this.u32(s, this.cache.inuse);
    return this.u32(s, this.cache.size_);
  }

  /** A slab's counters, for tests and tools. */
  slabState(pfn: number): { inuse: number; objects: number; frozen: boolean } {
    return { inuse: this.inuse(pfn), objects: this.objects(pfn), frozen: (this.counters(pfn) & SLAB_FROZEN) !== 0 };
  }

  /**
   * Where the slabs SLUB can reach are, for tests and tools: each CPU's
   * slab and partial list, each node's partial list and (SLAB_STORE_USER
   * caches) full list. (Other full slabs are on no list.)
   */
  slabsOf(s: number): { pfn: number; where: string }[] {
    const out: { pfn: number; where: string }[] = [];
    // Another thread may be changing its CPU's slabs while they are read (tools read without its lock, as
    // /proc does): a pointer that is no struct page ends that CPU's walk.
    const pfnOf = (slab: number) => {
      const pfn = this.slabPfn(slab);
      return pfn >= 0 && this.d.sparse.pfn_valid(pfn) ? pfn : -1;
    };
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const c = this.cpuSlab(s, cpu);
      const slab = this.w.rptr(c + this.C.slab);
      const slabPfn = slab === 0 ? -1 : pfnOf(slab);
      if (slabPfn >= 0) out.push({ pfn: slabPfn, where: `cpu${cpu}` });
      let n = 0;
      for (let p = this.w.rptr(c + this.C.partial); p !== 0 && n < 1 << 16; n++) {
        const pfn = pfnOf(p);
        if (pfn < 0) break;
        out.push({ pfn, where: `cpu${cpu}-partial` });
        p = this.slabGetPtr(pfn, this.wNext);
      }
    }
    for (let node = 0; node < this.nrNodeIds; node++) {
      const n = this.get_node(s, node);
      if (n === 0) continue;
      for (const pfn of this.partialSlabs(n)) out.push({ pfn, where: `node${node}-partial` });
      for (const pfn of this.fullSlabs(n)) out.push({ pfn, where: `node${node}-full` });
    }
    return out;
  }
}

/**
 * slab_min_order=, slab_max_order=, slab_min_objects= (and their slub_*
 * spellings) from the command line, applied in order as setup_slub_*()
 * apply them: each order is capped at MAX_PAGE_ORDER and pulls the other
 * along if they cross.
 */
export function parseSlubParams(cmdline: string): SlubDeps['params'] {
  let minOrder = 0;
  let maxOrder = PAGE_ALLOC_COSTLY_ORDER;
  let minObjects = 0;
  for (const param of cmdline.split(/\s+/)) {
    const m = /^sl[au]b_(min_order|max_order|min_objects)=(\d+)/.exec(param);
    if (!m) continue;
    const v = Number(m[2]);
    if (m[1] === 'min_order') {
      minOrder = Math.min(v, MAX_PAGE_ORDER);
      if (minOrder > maxOrder) maxOrder = minOrder;
    } else if (m[1] === 'max_order') {
      maxOrder = Math.min(v, MAX_PAGE_ORDER);
      if (minOrder > maxOrder) minOrder = maxOrder;
    } else {
      minObjects = v;
    }
  }
  return {
    minOrder, maxOrder, minObjects, debug: parseSlubDebugCmdline(cmdline),
    noHashPointers: cmdline.split(/\s+/).includes('no_hash_pointers'),
  };
}
