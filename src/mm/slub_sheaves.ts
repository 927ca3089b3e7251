/*
 * SLUB's percpu sheaves and per-node barns (mm/slub.c, Linux 6.18 for the
 * caches that ask for them, Linux 7.0 for every cache): a layer of arrays
 * of object pointers in front of the slabs.
 *
 * A sheaf is an array of free objects of one cache, any slab's, any order.
 * Each CPU has a main sheaf (never NULL) and maybe a spare; each node has a
 * barn of full and empty sheaves that the CPUs trade with:
 *
 *   kmem_cache --cpu_sheaves--> slub_percpu_sheaves (per CPU)
 *   sheaf_capacity = 4           lock      local_trylock_t: u8 acquired
 *                                main  --> slab_sheaf { size 2, objects[4] = [o7, o3, -, -] }
 *                                spare --> slab_sheaf { size 4, objects = [o1, o9, o2, o5] } or NULL
 *                                rcu_free --> slab_sheaf of kfree_rcu()'d objects, or NULL
 *              --node[n]-->  kmem_cache_node ... barn --> node_barn
 *                                lock        spinlock_t
 *                                sheaves_full  --> sheaf <-> sheaf (nr_full; a full main is traded in below MAX_FULL_SHEAVES)
 *                                sheaves_empty --> sheaf (nr_empty)
 *
 *   struct slab_sheaf (kzalloc'd from kmalloc: struct_size(objects, capacity))
 *     x86_64: +0 union { barn_list (list_head), rcu_head,
 *                        { u32 capacity; bool pfmemalloc (+4) } (a prefilled sheaf's) }
 *             +16 cache  +24 size  +28 node  +32 objects[]
 *     i386:   +0 barn_list  +8 cache  +12 size  +16 node  +20 objects[]
 *   struct slub_percpu_sheaves   x86_64: +0 lock +8 main +16 spare +24 rcu_free (32)
 *                                i386:   +0 lock +4 main +8 spare +12 rcu_free (16)
 *   struct node_barn             x86_64: +0 lock +8 sheaves_full +24 sheaves_empty
 *                                        +40 nr_full +44 nr_empty (48)
 *
 * Allocation (alloc_from_pcs): pop main->objects[--size]. An empty main is
 * replaced (__pcs_replace_empty_main): by the spare if it has objects; by
 * a full sheaf from the barn (the empty main goes to the barn); else, when
 * the gfp allows blocking, the spare or an empty sheaf from the barn is
 * refilled from the slabs (refill_sheaf(), through the bulk allocation
 * path as 6.18 does), or a new full one is made. Without blocking it fails
 * and the caller takes the slab path (the CPU slab, kept from 6.18: 7.0
 * removed it).
 * Free (free_to_pcs): push main->objects[size++], whichever slab the object
 * is in. A full main is replaced (__pcs_replace_full_main): with an empty
 * sheaf from the barn (main becomes the spare), by the spare if it has
 * room, by an empty one from the barn in exchange for the full main (unless
 * the barn already has MAX_FULL_SHEAVES: then the full spare is flushed to
 * the slabs and reused), else by a newly allocated empty sheaf, and when
 * even that fails the main is flushed to the slabs (sheaf_flush_main()).
 *
 * Bulk free (free_to_pcs_batch(), the sheaf half of slub.ts's
 * free_to_pcs_bulk()): whole batches are copied into main, as many as it
 * has room for; a full main is replaced as for one object, except that no
 * sheaf is allocated and nothing is flushed: what the barn cannot take an
 * empty sheaf for goes back to the caller, for the slabs.
 *
 * Prefilled sheaves (6.18, for callers that must not fail inside a critical
 * section, the maple tree first): kmem_cache_prefill_sheaf() hands the
 * caller a sheaf of its own holding at least `size` objects: this CPU's
 * spare, else a full (or empty) sheaf from the barn, else a new one,
 * filled up to s->sheaf_capacity; more than that makes an "oversize" sheaf
 * of exactly `size`. Its capacity is in the union at +0 (it is on no barn
 * list while the caller has it). kmem_cache_alloc_from_sheaf() pops one
 * object and fails only when the sheaf is empty; kmem_cache_refill_sheaf()
 * tops it up (a bigger request swaps it for a new oversize one);
 * kmem_cache_return_sheaf() makes it this CPU's spare if there is none,
 * else refills it and gives it to the barn, else (an oversize sheaf, a
 * pfmemalloc one, a barn with MAX_FULL_SHEAVES, a failed refill) flushes it
 * to the slabs and frees it.
 *
 * kfree_rcu() batching (6.18, kvfree_call_rcu()'s first try through
 * slab_common.ts): kfree_rcu() of an object of a cache with sheaves pushes
 * it into this CPU's rcu_free sheaf (taking an empty spare, else an empty
 * sheaf from the barn, else a new one with GFP_NOWAIT; failing all that,
 * the ordinary call_rcu() path). The sheaf that becomes full goes to
 * call_rcu(rcu_free_sheaf) whole, one rcu_head (the union at +0) for all
 * its objects. After the grace period rcu_free_sheaf() runs the objects'
 * free hooks and gives the sheaf, now full of free objects, to its node's
 * barn below MAX_FULL_SHEAVES; else it is flushed to the slabs and kept as
 * an empty sheaf (below MAX_EMPTY_SHEAVES) or freed. A partly filled
 * rcu_free sheaf waits for more: kmem_cache_destroy()'s kvfree_rcu_barrier()
 * sends it to call_rcu() first (flush_rcu_sheaf(), for every cache, as
 * 6.18's flush_all_rcu_sheaves()), and pcs_flush_all / a dead CPU's flush send it to
 * call_rcu(rcu_free_sheaf_nobarn): to the slabs, the sheaf freed. Until
 * its grace period ends an object in an rcu_free sheaf is allocated as far
 * as the slabs (and /proc/slabinfo) know.
 *
 * Objects in sheaves are allocated objects as far as the slabs know: they
 * count as active in /proc/slabinfo, as in the kernel. Flushing (shrink,
 * destroy, flush_all's per-CPU work) empties the sheaves into the slabs
 * (pcs_flush_all(), barn_shrink()).
 *
 * SMP: a CPU's slub_percpu_sheaves and its main and spare sheaves are that
 * CPU's alone (local_trylock: a per-CPU byte, plain loads and stores); the
 * barn changes only under its spinlock; another CPU's sheaves are flushed
 * by the owning CPU through slub.ts's flush_all() requests (or, with one
 * host thread, by whichever CPU asks, as the kernel does for a dead CPU in
 * __pcs_flush_all_cpu()). The fast paths (pop, push) are in
 * slub_fastpath.ts; this file is the rest.
 */
import { defineStruct } from '../kernel/struct_layout.ts';
import type { RamWords } from '../machine/ram_words.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Percpu } from './percpu.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import { INIT_LIST_HEAD, list_add, list_del } from '../lib/list.ts';
import { GFP_KERNEL, GFP_NOWAIT, __GFP_DIRECT_RECLAIM, __GFP_NOMEMALLOC, __GFP_NO_OBJ_EXT, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { SLAB_KMALLOC, SLAB_NOLEAKTRACE, SLAB_NO_OBJ_EXT } from '../include/linux/slab.ts';
import { SLAB_DEBUG_FLAGS } from './slub_debug.ts';
import type { KmemCacheLayout } from './slab_types.ts';
import type { Bug } from '../kernel/bug.ts';
import type { Rcu } from '../kernel/rcu.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { SheavesMode } from '../machine/config.ts';
import { gfp_pfmemalloc_allowed } from '../include/linux/gfp.ts';

/** The barn keeps at most this many full sheaves (barn_replace_full_sheaf()). */
export const MAX_FULL_SHEAVES = 10;
/** The most empty sheaves rcu_free_sheaf() leaves in a barn. */
export const MAX_EMPTY_SHEAVES = 10;
/** sheaf_flush_main() frees at most this many objects per batch; free_to_pcs_bulk() as many remote ones. */
export const PCS_BATCH_MAX = 32;
const ENOMEM = 12;
const E2BIG = 7;
const EINVAL = 22;

/** struct slub_percpu_sheaves (local_trylock_t is a u8 without lockdep and PREEMPT_RT). */
export function slubPercpuSheavesLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['lock', 'u8'], ['main', 'ptr'], ['spare', 'ptr'], ['rcu_free', 'ptr']]);
}

/** struct slab_sheaf; `size` is the header, objects[] starts there (struct_size(sheaf, objects, 0)). */
export function slabSheafLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['barn_list', 'list_head'], ['cache', 'ptr'], ['size_', 'u32'], ['node', 'int'], ['objects', 'ptr', 0]]);
}

/** The struct in slab_sheaf's first union, for a sheaf kmem_cache_prefill_sheaf() gave out (at +0, over barn_list). */
export function slabSheafPrefilledLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['capacity', 'u32'], ['pfmemalloc', 'u8']]);
}

/** struct node_barn */
export function nodeBarnLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['lock', 'int'], ['sheaves_full', 'list_head'], ['sheaves_empty', 'list_head'], ['nr_full', 'u32'], ['nr_empty', 'u32'],
  ]);
}

/** What the sheaves need from SLUB and the common code. */
export interface SheavesDeps {
  mem: PhysMem;
  words: RamWords;
  kaddr: KernelAddr;
  locks: Spinlocks;
  sched: Sched;
  percpu: Percpu;
  bug: Bug;
  /** 'opt-in' (6.18) or 'all' (7.0). */
  mode: SheavesMode;
  ptrSize: 4 | 8;
  pageOffset: number;
  nrCpus: number;
  cpuToNode: readonly number[];
  /** struct kmem_cache with the sheaves' fields. */
  cache: KmemCacheLayout;
  /** Offset of `barn` in struct kmem_cache_node. */
  nodeBarn: number;
  rcu: Rcu;
  kallsyms: Kallsyms;
}

/** SLUB's paths below the sheaves, and the kmalloc the sheaves are allocated with. */
export interface SheavesBackend {
  /** __kmem_cache_alloc_bulk() into the void *[n] at p, from the slabs: n, or 0 (nothing allocated). */
  alloc_from_slabs(s: number, gfp: number, n: number, p: number): number;
  /** __kmem_cache_free_bulk() of the void *[n] at p to the slabs (the array may be reordered). */
  free_to_slabs(s: number, n: number, p: number): void;
  get_node(s: number, nid: number): number;
  /** folio_nid(virt_to_folio(x)) */
  object_nid(x: number): number;
  kmalloc_node(size: number, gfp: number, node: number): number;
  kfree(x: number): void;
  kmalloc_size_roundup(size: number): number;
  /** slab_free_hook() of an object leaving its user (rcu_free_sheaf()'s __rcu_free_sheaf_prepare()). */
  slab_free_hook(s: number, x: number): void;
}

/** What one CPU's sheaves hold (tests and tools). */
export interface PcsState {
  main: number;
  mainSize: number;
  spare: number;
  spareSize: number;
}

/** SlubSheaves.usage() */
export interface SheavesUsage {
  /** Objects in each CPU's main and spare sheaves. */
  cpuObjects: number[];
  /** Objects in the barns' full sheaves. */
  barnObjects: number;
  /** struct slab_sheaf allocated (the CPUs' and the barns'). */
  sheaves: number;
}

export class SlubSheaves {
  readonly P: ReturnType<typeof slubPercpuSheavesLayout>;
  readonly SH: ReturnType<typeof slabSheafLayout>;
  readonly SHP: ReturnType<typeof slabSheafPrefilledLayout>;
  readonly B: ReturnType<typeof nodeBarnLayout>;
  private readonly w: RamWords;
  private readonly po: number;
  private readonly ptr: 4 | 8;
  private readonly pcpuBase: number;
  private readonly pcpuUnit: number;
  /** PrefilledSheaves.nullDeref */
  readonly nullDeref: { readonly sheaf_capacity: number; readonly sheaf_size: number };
  /** Code addresses (kallsyms) of the RCU callbacks of a kfree_rcu() sheaf. */
  private readonly rcuFreeSheaf: number;
  private readonly rcuFreeSheafNobarn: number;

  constructor(private readonly d: SheavesDeps, private readonly slabs: SheavesBackend) {
    this.w = d.words;
    this.po = d.pageOffset;
    this.ptr = d.ptrSize;
    this.P = slubPercpuSheavesLayout(d.ptrSize);
    this.SH = slabSheafLayout(d.ptrSize);
    this.SHP = slabSheafPrefilledLayout(d.ptrSize);
    this.nullDeref = { sheaf_capacity: d.cache.sheaf_capacity, sheaf_size: this.SH.size_ };
    this.B = nodeBarnLayout(d.ptrSize);
    this.pcpuBase = d.percpu.per_cpu_ptr_pa(0, 0);
    this.pcpuUnit = d.percpu.unitSize;
    this.rcuFreeSheaf = d.kallsyms.register('rcu_free_sheaf', (head) => this.rcu_free_sheaf(head));
    this.rcuFreeSheafNobarn = d.kallsyms.register('rcu_free_sheaf_nobarn', (head) => this.rcu_free_sheaf_nobarn(head));
  }

  /* ------------------------------------------------------------------ */
  /* Fields                                                              */
  /* ------------------------------------------------------------------ */

  /** s->cpu_sheaves != NULL */
  has_sheaves(s: number): boolean {
    return this.w.rptr(s - this.po + this.d.cache.cpu_sheaves) !== 0;
  }

  sheaf_capacity(s: number): number {
    return this.w.r32(s - this.po + this.d.cache.sheaf_capacity) >>> 0;
  }

  /** Physical address of cpu's struct slub_percpu_sheaves of s. */
  pcs(s: number, cpu: number): number {
    return this.per_cpu_ptr(this.w.rptr(s - this.po + this.d.cache.cpu_sheaves), cpu);
  }

  private per_cpu_ptr(ptr: number, cpu: number): number {
    return this.pcpuBase + cpu * this.pcpuUnit + ptr;
  }

  private main(pcs: number): number {
    return this.w.rptr(pcs + this.P.main);
  }

  private spare(pcs: number): number {
    return this.w.rptr(pcs + this.P.spare);
  }

  private size(sheaf: number): number {
    return this.w.r32(sheaf - this.po + this.SH.size_) >>> 0;
  }

  private setSize(sheaf: number, n: number): void {
    this.w.w32(sheaf - this.po + this.SH.size_, n);
  }

  /** &sheaf->objects[i] (kernel virtual address). */
  private objectsAt(sheaf: number, i: number): number {
    return sheaf + this.SH.objects + i * this.ptr;
  }

  /** numa_mem_id() */
  private numa_mem_id(): number {
    return this.d.cpuToNode[this.d.sched.cpu];
  }

  /**
   * get_barn(): this CPU's node's barn. The kernel returns NULL for a
   * memoryless node (no kmem_cache_node); kmem cannot configure one
   * (config.ts: "node N has no memory"), so every CPU's node has a barn.
   */
  private get_barn(s: number): number {
    return this.barnOf(s, this.numa_mem_id());
  }

  /** n->barn of node nid, 0 if none. */
  barnOf(s: number, nid: number): number {
    const n = this.slabs.get_node(s, nid);
    return n === 0 ? 0 : this.w.rptr(n - this.po + this.d.nodeBarn);
  }

  /*
   * local_trylock(&s->cpu_sheaves->lock): this CPU's byte (written as its
   * word: the rest is padding before main). Held only while this CPU's
   * sheaves change; released before anything that may re-enter SLUB
   * (kmalloc of a sheaf, the slabs), as the kernel does.
   */

  private local_trylock(pcs: number): boolean {
    if (this.w.r8(pcs + this.P.lock) !== 0) return false;
    this.w.w32(pcs + this.P.lock, 1);
    return true;
  }

  private local_unlock(pcs: number): void {
    this.w.w32(pcs + this.P.lock, 0);
  }

  /** local_lock(): never contended here (the lock is held only inside SLUB, which does not re-enter these callers). */
  private local_lock(pcs: number): void {
    this.w.w32(pcs + this.P.lock, 1);
  }

  /* ------------------------------------------------------------------ */
  /* Creating and destroying                                             */
  /* ------------------------------------------------------------------ */

  /**
   * calculate_sheaf_capacity() (7.0): roughly half of what set_cpu_partial()
   * gives (two sheaves per CPU), grown to fill the kmalloc bucket the sheaf
   * lands in, at least what args asked for. 0: no sheaves (debug caches,
   * the bootstrap caches, SLAB_NOLEAKTRACE).
   */
  calculate_sheaf_capacity(size: number, flags: number, asked: number): number {
    if (flags & (SLAB_DEBUG_FLAGS | SLAB_NO_OBJ_EXT | SLAB_NOLEAKTRACE)) return 0;
    let capacity: number;
    if (size >= PAGE_SIZE) capacity = 4;
    else if (size >= 1024) capacity = 12;
    else if (size >= 256) capacity = 26;
    else capacity = 60;
    const bytes = this.slabs.kmalloc_size_roundup(this.SH.size + capacity * this.ptr);
    capacity = Math.floor((bytes - this.SH.size) / this.ptr);
    return Math.max(capacity, asked);
  }

  /**
   * Give s sheaves of `capacity` objects: alloc_percpu(struct
   * slub_percpu_sheaves) (aligned to its size, so that the fast paths
   * index one RAM section), a barn on each node that has a
   * kmem_cache_node, an empty main sheaf on each CPU (init_percpu_sheaves()).
   * s->cpu_sheaves is set last: until then the cache has no sheaves, so
   * that allocating a kmalloc cache's own sheaves does not use them (7.0
   * points the mains at a static empty bootstrap_sheaf meanwhile). false on
   * failure, with everything given back.
   */
  init_cache_sheaves(s: number, capacity: number, nodes: readonly number[]): boolean {
    const L = this.d.cache;
    const ptr = this.d.percpu.__alloc_percpu(this.P.size, this.P.size);
    if (ptr === 0) return false;
    this.w.w32(s - this.po + L.sheaf_capacity, capacity);
    let ok = true;
    for (const nid of nodes) {
      const barn = this.slabs.kmalloc_node(this.B.size, GFP_KERNEL, nid);
      if (barn === 0) {
        ok = false;
        break;
      }
      this.barn_init(barn);
      this.w.wptr(this.slabs.get_node(s, nid) - this.po + this.d.nodeBarn, barn);
    }
    for (let cpu = 0; ok && cpu < this.d.nrCpus; cpu++) {
      const main = this.alloc_empty_sheaf(s, GFP_KERNEL);
      if (main === 0) ok = false;
      else this.w.wptr(this.per_cpu_ptr(ptr, cpu) + this.P.main, main);
    }
    if (!ok) {
      this.destroy(s, ptr, nodes);
      return false;
    }
    this.w.wptr(s - this.po + L.cpu_sheaves, ptr);
    return true;
  }

  /**
   * pcs_destroy() and free_kmem_cache_nodes()'s barn part: after
   * __kmem_cache_shutdown() every sheaf is empty; the mains, the per-CPU
   * structs and the barns are freed. A sheaf with objects (a failed
   * shutdown) is left to leak, as the kernel's WARN_ON() path does.
   */
  pcs_destroy(s: number, nodes: readonly number[]): void {
    const ptr = this.w.rptr(s - this.po + this.d.cache.cpu_sheaves);
    if (ptr !== 0) this.destroy(s, ptr, nodes);
  }

  /** pcs_destroy() of the per-CPU sheaves at ptr (s->cpu_sheaves, or not yet installed). */
  private destroy(s: number, ptr: number, nodes: readonly number[]): void {
    const L = this.d.cache;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const pcs = this.per_cpu_ptr(ptr, cpu);
      const main = this.main(pcs);
      if (main !== 0 && this.size(main) === 0) this.free_empty_sheaf(main);
      this.w.wptr(pcs + this.P.main, 0);
    }
    for (const nid of nodes) {
      const n = this.slabs.get_node(s, nid);
      if (n === 0) continue;
      const barn = this.w.rptr(n - this.po + this.d.nodeBarn);
      if (barn === 0) continue;
      this.slabs.kfree(barn);
      this.w.wptr(n - this.po + this.d.nodeBarn, 0);
    }
    this.d.percpu.free_percpu(ptr);
    this.w.wptr(s - this.po + L.cpu_sheaves, 0);
    this.w.w32(s - this.po + L.sheaf_capacity, 0);
  }

  /**
   * __alloc_empty_sheaf(): kzalloc(struct_size(sheaf, objects, capacity)).
   * __GFP_NO_OBJ_EXT in gfp means "already allocating a kmalloc cache's
   * sheaf": fail rather than recurse (7.0).
   */
  private alloc_empty_sheaf(s: number, gfp: number): number {
    if (gfp & __GFP_NO_OBJ_EXT) return 0;
    if (this.w.r32(s - this.po + this.d.cache.flags) & SLAB_KMALLOC) gfp |= __GFP_NO_OBJ_EXT;
    const sheaf = this.slabs.kmalloc_node(this.SH.size + this.sheaf_capacity(s) * this.ptr, gfp | __GFP_ZERO, -1);
    if (sheaf === 0) return 0;
    this.w.wptr(sheaf - this.po + this.SH.cache, s);
    return sheaf;
  }

  private free_empty_sheaf(sheaf: number): void {
    this.slabs.kfree(sheaf);
  }

  /** refill_sheaf(): fill sheaf up to capacity from the slabs; false (-ENOMEM) if that failed. */
  private refill_sheaf(s: number, sheaf: number, gfp: number): boolean {
    const size = this.size(sheaf);
    const toFill = this.sheaf_capacity(s) - size;
    if (toFill <= 0) return true;
    const filled = this.slabs.alloc_from_slabs(s, gfp, toFill, this.objectsAt(sheaf, size));
    this.setSize(sheaf, size + filled);
    return filled >= toFill;
  }

  private alloc_full_sheaf(s: number, gfp: number): number {
    const sheaf = this.alloc_empty_sheaf(s, gfp);
    if (sheaf === 0) return 0;
    if (!this.refill_sheaf(s, sheaf, gfp | __GFP_NOMEMALLOC)) {
      this.sheaf_flush_unused(s, sheaf);
      this.free_empty_sheaf(sheaf);
      return 0;
    }
    return sheaf;
  }

  /** sheaf_flush_unused(): a sheaf no CPU uses, all its objects to the slabs. */
  private sheaf_flush_unused(s: number, sheaf: number): void {
    const size = this.size(sheaf);
    if (size === 0) return;
    this.slabs.free_to_slabs(s, size, this.objectsAt(sheaf, 0));
    this.setSize(sheaf, 0);
  }

  /**
   * sheaf_flush_main(): this CPU's main sheaf to the slabs, PCS_BATCH_MAX
   * objects at a time from the top (the kernel copies each batch to the
   * stack under the lock and frees it unlocked; here the batch is freed
   * where it lies, above the new size). false only if the lock could not
   * be taken for the first batch.
   */
  private sheaf_flush_main(s: number): boolean {
    let ret = false;
    for (;;) {
      const pcs = this.pcs(s, this.d.sched.cpu);
      if (!this.local_trylock(pcs)) return ret;
      const main = this.main(pcs);
      const size = this.size(main);
      const batch = Math.min(PCS_BATCH_MAX, size);
      this.setSize(main, size - batch);
      this.local_unlock(pcs);
      if (batch > 0) this.slabs.free_to_slabs(s, batch, this.objectsAt(main, size - batch));
      ret = true;
      if (size - batch === 0) return ret;
    }
  }

  /* ------------------------------------------------------------------ */
  /* The barn                                                            */
  /* ------------------------------------------------------------------ */

  private barn_init(barn: number): void {
    const b = barn - this.po;
    this.w.w32(b + this.B.lock, 0);
    INIT_LIST_HEAD(this.d.kaddr, barn + this.B.sheaves_full);
    INIT_LIST_HEAD(this.d.kaddr, barn + this.B.sheaves_empty);
    this.w.w32(b + this.B.nr_full, 0);
    this.w.w32(b + this.B.nr_empty, 0);
  }

  private nr(barn: number, field: number): number {
    return this.w.r32(barn - this.po + field) >>> 0;
  }

  private addNr(barn: number, field: number, delta: number): void {
    this.w.w32(barn - this.po + field, this.nr(barn, field) + delta);
  }

  /** The barn's sheaf counts (tests and tools). */
  barnCounts(barn: number): { full: number; empty: number } {
    return { full: this.nr(barn, this.B.nr_full), empty: this.nr(barn, this.B.nr_empty) };
  }

  private barn_lock(barn: number): number {
    return this.d.locks.spin_lock_irqsave(barn - this.po + this.B.lock);
  }

  private barn_unlock(barn: number, flags: number): void {
    this.d.locks.spin_unlock_irqrestore(barn - this.po + this.B.lock, flags);
  }

  /** list_first_entry() of a barn list, unlinked; the count field decremented. */
  private barn_take(barn: number, list: number, count: number): number {
    const sheaf = this.w.rptr(barn - this.po + list);
    list_del(this.d.kaddr, sheaf + this.SH.barn_list);
    this.addNr(barn, count, -1);
    return sheaf;
  }

  private barn_add(barn: number, sheaf: number, list: number, count: number): void {
    list_add(this.d.kaddr, sheaf + this.SH.barn_list, barn + list);
    this.addNr(barn, count, 1);
  }

  private barn_get_empty_sheaf(barn: number): number {
    if (this.nr(barn, this.B.nr_empty) === 0) return 0;
    const flags = this.barn_lock(barn);
    const empty = this.nr(barn, this.B.nr_empty) !== 0 ? this.barn_take(barn, this.B.sheaves_empty, this.B.nr_empty) : 0;
    this.barn_unlock(barn, flags);
    return empty;
  }

  /** barn_get_full_or_empty_sheaf(): a full sheaf off the barn, else an empty one, else 0. */
  private barn_get_full_or_empty_sheaf(barn: number): number {
    if (this.nr(barn, this.B.nr_full) === 0 && this.nr(barn, this.B.nr_empty) === 0) return 0;
    const flags = this.barn_lock(barn);
    let sheaf = 0;
    if (this.nr(barn, this.B.nr_full) !== 0) sheaf = this.barn_take(barn, this.B.sheaves_full, this.B.nr_full);
    else if (this.nr(barn, this.B.nr_empty) !== 0) sheaf = this.barn_take(barn, this.B.sheaves_empty, this.B.nr_empty);
    this.barn_unlock(barn, flags);
    return sheaf;
  }

  /* barn_put_empty_sheaf() / barn_put_full_sheaf(): undoing a race, a returned sheaf; no limits checked */

  private barn_put_empty_sheaf(barn: number, sheaf: number): void {
    const flags = this.barn_lock(barn);
    this.barn_add(barn, sheaf, this.B.sheaves_empty, this.B.nr_empty);
    this.barn_unlock(barn, flags);
  }

  private barn_put_full_sheaf(barn: number, sheaf: number): void {
    const flags = this.barn_lock(barn);
    this.barn_add(barn, sheaf, this.B.sheaves_full, this.B.nr_full);
    this.barn_unlock(barn, flags);
  }

  /** barn_replace_empty_sheaf(): a full sheaf for the empty one, or 0. */
  private barn_replace_empty_sheaf(barn: number, empty: number): number {
    if (this.nr(barn, this.B.nr_full) === 0) return 0;
    const flags = this.barn_lock(barn);
    let full = 0;
    if (this.nr(barn, this.B.nr_full) !== 0) {
      full = this.barn_take(barn, this.B.sheaves_full, this.B.nr_full);
      this.barn_add(barn, empty, this.B.sheaves_empty, this.B.nr_empty);
    }
    this.barn_unlock(barn, flags);
    return full;
  }

  /**
   * barn_replace_full_sheaf(): an empty sheaf for the full one; E2BIG when
   * the barn has MAX_FULL_SHEAVES full ones, ENOMEM when it has no empty one.
   */
  private barn_replace_full_sheaf(barn: number, full: number): number {
    if (this.nr(barn, this.B.nr_full) >= MAX_FULL_SHEAVES) return -E2BIG;
    if (this.nr(barn, this.B.nr_empty) === 0) return -ENOMEM;
    const flags = this.barn_lock(barn);
    let empty = -ENOMEM;
    if (this.nr(barn, this.B.nr_empty) !== 0) {
      empty = this.barn_take(barn, this.B.sheaves_empty, this.B.nr_empty);
      this.barn_add(barn, full, this.B.sheaves_full, this.B.nr_full);
    }
    this.barn_unlock(barn, flags);
    return empty;
  }

  /** barn_shrink(): every sheaf of the barn off it; the full ones flushed to the slabs; all freed. */
  barn_shrink(s: number, barn: number): void {
    const flags = this.barn_lock(barn);
    const full: number[] = [];
    const empty: number[] = [];
    while (this.nr(barn, this.B.nr_full) !== 0) full.push(this.barn_take(barn, this.B.sheaves_full, this.B.nr_full));
    while (this.nr(barn, this.B.nr_empty) !== 0) empty.push(this.barn_take(barn, this.B.sheaves_empty, this.B.nr_empty));
    this.barn_unlock(barn, flags);
    for (const sheaf of full) {
      this.sheaf_flush_unused(s, sheaf);
      this.free_empty_sheaf(sheaf);
    }
    for (const sheaf of empty) this.free_empty_sheaf(sheaf);
  }

  /* ------------------------------------------------------------------ */
  /* Allocation                                                          */
  /* ------------------------------------------------------------------ */

  /**
   * alloc_from_pcs(): an object from this CPU's main sheaf (replaced when
   * empty); 0 when the sheaves cannot give one (the caller goes to the
   * slabs). With a node asked for, only on this CPU's node, and only an
   * object that is on it.
   */
  alloc_from_pcs(s: number, gfp: number, node: number): number {
    if (node >= 0 && node !== this.numa_mem_id()) return 0;
    let pcs = this.pcs(s, this.d.sched.cpu);
    if (!this.local_trylock(pcs)) return 0;
    if (this.size(this.main(pcs)) === 0) {
      pcs = this.__pcs_replace_empty_main(s, pcs, gfp);
      if (pcs === 0) return 0;
    }
    const main = this.main(pcs);
    const size = this.size(main);
    const object = this.w.rptr(this.objectsAt(main, size - 1) - this.po);
    if (node >= 0 && this.slabs.object_nid(object) !== node) {
      this.local_unlock(pcs);
      return 0;
    }
    this.setSize(main, size - 1);
    this.local_unlock(pcs);
    return object;
  }

  /**
   * __pcs_replace_empty_main(): called with the lock held and main empty;
   * returns pcs (locked) with a main that has objects, or 0 (unlocked).
   */
  private __pcs_replace_empty_main(s: number, pcs: number, gfp: number): number {
    const spare = this.spare(pcs);
    if (spare !== 0 && this.size(spare) > 0) {
      this.w.wptr(pcs + this.P.spare, this.main(pcs));
      this.w.wptr(pcs + this.P.main, spare);
      return pcs;
    }
    const barn = this.get_barn(s);
    let full = this.barn_replace_empty_sheaf(barn, this.main(pcs));
    if (full !== 0) {
      this.w.wptr(pcs + this.P.main, full);
      return pcs;
    }
    const canAlloc = (gfp & __GFP_DIRECT_RECLAIM) !== 0; // gfpflags_allow_blocking()
    let empty = 0;
    if (canAlloc) {
      if (spare !== 0) {
        empty = spare;
        this.w.wptr(pcs + this.P.spare, 0);
      } else {
        empty = this.barn_get_empty_sheaf(barn);
      }
    }
    this.local_unlock(pcs);
    if (!canAlloc) return 0;
    if (empty !== 0) {
      if (this.refill_sheaf(s, empty, gfp | __GFP_NOMEMALLOC)) {
        full = empty;
      } else {
        // very low on memory: don't bother with the barn
        this.sheaf_flush_unused(s, empty);
        this.free_empty_sheaf(empty);
      }
    } else {
      full = this.alloc_full_sheaf(s, gfp);
    }
    if (full === 0) return 0;
    pcs = this.pcs(s, this.d.sched.cpu);
    this.local_trylock(pcs);
    const main = this.main(pcs);
    if (this.size(main) === 0) {
      this.barn_put_empty_sheaf(barn, main);
      this.w.wptr(pcs + this.P.main, full);
      return pcs;
    }
    const spare2 = this.spare(pcs);
    if (spare2 === 0) {
      this.w.wptr(pcs + this.P.spare, full);
      return pcs;
    }
    if (this.size(spare2) === 0) {
      this.barn_put_empty_sheaf(barn, spare2);
      this.w.wptr(pcs + this.P.spare, full);
      return pcs;
    }
    this.barn_put_full_sheaf(barn, full);
    return pcs;
  }

  /**
   * alloc_from_pcs_bulk(): up to n objects into the void *[n] at p from
   * this CPU's sheaves and the barn's full sheaves; the number taken (the
   * rest comes from the slabs: refilling would copy the pointers twice).
   */
  alloc_from_pcs_bulk(s: number, n: number, p: number): number {
    let allocated = 0;
    while (allocated < n) {
      const pcs = this.pcs(s, this.d.sched.cpu);
      if (!this.local_trylock(pcs)) return allocated;
      let main = this.main(pcs);
      if (this.size(main) === 0) {
        const spare = this.spare(pcs);
        if (spare !== 0 && this.size(spare) > 0) {
          this.w.wptr(pcs + this.P.spare, main);
          this.w.wptr(pcs + this.P.main, spare);
        } else {
          const full = this.barn_replace_empty_sheaf(this.get_barn(s), main);
          if (full === 0) {
            this.local_unlock(pcs);
            return allocated;
          }
          this.w.wptr(pcs + this.P.main, full);
        }
        main = this.main(pcs);
      }
      const size = this.size(main);
      const batch = Math.min(n - allocated, size);
      this.setSize(main, size - batch);
      this.d.mem.copy(p - this.po + allocated * this.ptr, this.objectsAt(main, size - batch) - this.po, batch * this.ptr);
      this.local_unlock(pcs);
      allocated += batch;
    }
    return allocated;
  }

  /* ------------------------------------------------------------------ */
  /* Free                                                                */
  /* ------------------------------------------------------------------ */

  /** free_to_pcs(): x onto this CPU's main sheaf (replaced when full); false: free it to its slab. */
  free_to_pcs(s: number, x: number): boolean {
    let pcs = this.pcs(s, this.d.sched.cpu);
    if (!this.local_trylock(pcs)) return false;
    if (this.size(this.main(pcs)) >= this.sheaf_capacity(s)) {
      pcs = this.__pcs_replace_full_main(s, pcs);
      if (pcs === 0) return false;
    }
    const main = this.main(pcs);
    const size = this.size(main);
    this.w.wptr(this.objectsAt(main, size) - this.po, x);
    this.setSize(main, size + 1);
    this.local_unlock(pcs);
    return true;
  }

  /**
   * __pcs_replace_full_main(): called with the lock held and main full;
   * returns pcs (locked) with room in main, or 0 (unlocked).
   */
  private __pcs_replace_full_main(s: number, pcs: number): number {
    const cap = this.sheaf_capacity(s);
    for (;;) {
      const barn = this.get_barn(s);
      let empty: number;
      const spare = this.spare(pcs);
      if (spare === 0) {
        empty = this.barn_get_empty_sheaf(barn);
        if (empty !== 0) {
          this.w.wptr(pcs + this.P.spare, this.main(pcs));
          this.w.wptr(pcs + this.P.main, empty);
          return pcs;
        }
      } else {
        if (this.size(spare) < cap) {
          this.w.wptr(pcs + this.P.spare, this.main(pcs));
          this.w.wptr(pcs + this.P.main, spare);
          return pcs;
        }
        empty = this.barn_replace_full_sheaf(barn, this.main(pcs));
        if (empty > 0) {
          this.w.wptr(pcs + this.P.main, empty);
          return pcs;
        }
        if (empty === -E2BIG) {
          // the spare is full: flush it to the slabs and use it as the empty sheaf
          this.w.wptr(pcs + this.P.spare, 0);
          this.local_unlock(pcs);
          this.sheaf_flush_unused(s, spare);
          return this.install_empty(s, spare, barn);
        }
      }
      this.local_unlock(pcs);
      empty = this.alloc_empty_sheaf(s, GFP_NOWAIT);
      if (empty !== 0) return this.install_empty(s, empty, barn);
      if (!this.sheaf_flush_main(s)) return 0;
      pcs = this.pcs(s, this.d.sched.cpu);
      if (!this.local_trylock(pcs)) return 0;
      // flushed, so main should have room now, unless something refilled it meanwhile
      if (this.size(this.main(pcs)) < cap) return pcs;
    }
  }

  /** got_empty: retake the lock and install the empty sheaf (__pcs_install_empty_sheaf()); pcs locked, or 0. */
  private install_empty(s: number, empty: number, barn: number): number {
    const pcs = this.pcs(s, this.d.sched.cpu);
    if (!this.local_trylock(pcs)) {
      this.barn_put_empty_sheaf(barn, empty);
      return 0;
    }
    const cap = this.sheaf_capacity(s);
    const main = this.main(pcs);
    const spare = this.spare(pcs);
    if (spare === 0) {
      this.w.wptr(pcs + this.P.spare, main);
      this.w.wptr(pcs + this.P.main, empty);
    } else if (this.size(main) < cap) {
      this.barn_put_empty_sheaf(barn, empty);
    } else if (this.size(spare) < cap) {
      this.w.wptr(pcs + this.P.spare, main);
      this.w.wptr(pcs + this.P.main, spare);
      this.barn_put_empty_sheaf(barn, empty);
    } else {
      this.barn_put_full_sheaf(barn, main);
      this.w.wptr(pcs + this.P.main, empty);
    }
    return pcs;
  }

  /**
   * The sheaf half of free_to_pcs_bulk() (next_batch / do_free): the n
   * objects of the void *[n] at p copied into this CPU's main sheaf, as
   * many at a time as it has room for. A full main is swapped for an empty
   * sheaf from the barn (main becomes the spare), for the spare if it has
   * room, or traded in to the barn for an empty one; when none of that
   * works (the barn has no empty sheaf, or MAX_FULL_SHEAVES full ones) or
   * the lock is taken, the rest is the caller's to free to the slabs.
   * Returns how many objects went onto the sheaves (p[0..that)).
   */
  free_to_pcs_batch(s: number, n: number, p: number): number {
    const cap = this.sheaf_capacity(s);
    let done = 0;
    while (done < n) {
      const pcs = this.pcs(s, this.d.sched.cpu);
      if (!this.local_trylock(pcs)) return done;
      let main = this.main(pcs);
      if (this.size(main) >= cap) {
        const barn = this.get_barn(s);
        const spare = this.spare(pcs);
        let empty: number;
        if (spare === 0) {
          empty = this.barn_get_empty_sheaf(barn);
          if (empty !== 0) this.w.wptr(pcs + this.P.spare, main);
        } else if (this.size(spare) < cap) {
          this.w.wptr(pcs + this.P.spare, main);
          empty = spare;
        } else {
          empty = this.barn_replace_full_sheaf(barn, main);
        }
        if (empty <= 0) {
          this.local_unlock(pcs);
          return done;
        }
        this.w.wptr(pcs + this.P.main, empty);
        main = empty;
      }
      const size = this.size(main);
      const batch = Math.min(n - done, cap - size);
      this.d.mem.copy(this.objectsAt(main, size) - this.po, p - this.po + done * this.ptr, batch * this.ptr);
      this.setSize(main, size + batch);
      this.local_unlock(pcs);
      done += batch;
    }
    return done;
  }

  /* ------------------------------------------------------------------ */
  /* Prefilled sheaves: the caller's own                                 */
  /* ------------------------------------------------------------------ */

  /** A prefilled sheaf's capacity (the union at +0). */
  private capacity(sheaf: number): number {
    return this.w.r32(sheaf - this.po + this.SHP.capacity) >>> 0;
  }

  private pfmemalloc(sheaf: number): boolean {
    return this.w.r8(sheaf - this.po + this.SHP.pfmemalloc) !== 0;
  }

  /** Set capacity and pfmemalloc (the bool's word: the union is the caller's while it has the sheaf). */
  private setPrefilled(sheaf: number, capacity: number, pfmemalloc: boolean): void {
    this.w.w32(sheaf - this.po + this.SHP.capacity, capacity);
    this.w.w32(sheaf - this.po + this.SHP.pfmemalloc, pfmemalloc ? 1 : 0);
  }

  /**
   * kmem_cache_prefill_sheaf(): a sheaf holding at least `size` objects of
   * s, the caller's until kmem_cache_return_sheaf(); 0 for size 0 on 7.0, or
   * when the sheaf or its objects cannot be allocated (with everything given
   * back). Up to s->sheaf_capacity it is this CPU's spare, or a barn's
   * sheaf (full first), or a new one, filled up to capacity; beyond that
   * an oversize sheaf of exactly `size` objects, allocated and filled here.
   */
  kmem_cache_prefill_sheaf(s: number, gfp: number, size: number): number {
    const cap = this.sheaf_capacity(s);
    // size 0: NULL in 7.0 ("sheaves for all" added the check); 6.18 hands back a sheaf as for any size up to the
    // capacity, refilled only if it holds fewer objects than asked (kmem returns NULL for a cache without sheaves,
    // where 6.18 would dereference a NULL cpu_sheaves)
    if (size === 0 && (this.d.mode === 'all' || cap === 0)) return 0;
    if (size > cap) {
      // 6.18: a cache without sheaves (one that did not ask for them) is not expected here, unless debugging took them
      // away (the line is the one 7.0's "sheaves for all" series removed the check from)
      if (this.d.mode === 'opt-in' && cap === 0 && !(this.w.r32(s - this.po + this.d.cache.flags) & SLAB_DEBUG_FLAGS)) {
        this.d.bug.warn('mm/slub.c', 5365, 'kmem_cache_prefill_sheaf', null, [], true);
      }
      const sheaf = this.slabs.kmalloc_node(this.SH.size + size * this.ptr, gfp | __GFP_ZERO, -1);
      if (sheaf === 0) return 0;
      this.w.wptr(sheaf - this.po + this.SH.cache, s);
      this.setPrefilled(sheaf, size, false);
      // no pfmemalloc care: an oversize sheaf is always flushed and freed when returned
      if (this.slabs.alloc_from_slabs(s, gfp, size, this.objectsAt(sheaf, 0)) === 0) {
        this.slabs.kfree(sheaf);
        return 0;
      }
      this.setSize(sheaf, size);
      return sheaf;
    }
    const pcs = this.pcs(s, this.d.sched.cpu);
    this.local_lock(pcs);
    let sheaf = this.spare(pcs);
    if (sheaf !== 0) {
      this.w.wptr(pcs + this.P.spare, 0);
    } else {
      const barn = this.get_barn(s);
      if (barn !== 0) sheaf = this.barn_get_full_or_empty_sheaf(barn);
    }
    this.local_unlock(pcs);
    if (sheaf === 0) sheaf = this.alloc_empty_sheaf(s, gfp);
    if (sheaf === 0) return 0;
    this.setPrefilled(sheaf, cap, false);
    if (this.size(sheaf) < size && !this.__prefill_sheaf_pfmemalloc(s, sheaf, gfp)) {
      this.sheaf_flush_unused(s, sheaf);
      this.free_empty_sheaf(sheaf);
      return 0;
    }
    return sheaf;
  }

  /**
   * __prefill_sheaf_pfmemalloc(): refill without the memory reserves; if
   * that fails and gfp may use them, again with them, and the sheaf is
   * marked so that it is not kept when returned. false: -ENOMEM.
   */
  private __prefill_sheaf_pfmemalloc(s: number, sheaf: number, gfp: number): boolean {
    const ok = this.refill_sheaf(s, sheaf, gfp | __GFP_NOMEMALLOC);
    if (ok || !gfp_pfmemalloc_allowed(gfp)) return ok;
    const retried = this.refill_sheaf(s, sheaf, gfp);
    this.setPrefilled(sheaf, this.capacity(sheaf), true);
    return retried;
  }

  /**
   * kmem_cache_refill_sheaf(): top the caller's sheaf up to at least
   * `size` objects. The C function takes struct slab_sheaf **sheafp and
   * returns 0 or -errno; here the sheaf to use from now on is returned
   * (the same one, or a new oversize sheaf when `size` is beyond its
   * capacity: the old one has then been returned with
   * kmem_cache_return_sheaf()), or -ENOMEM with the caller's sheaf left as
   * it was (possibly topped up part of the way), -EINVAL for NULL.
   */
  kmem_cache_refill_sheaf(s: number, gfp: number, sheaf: number, size: number): number {
    if (sheaf === 0) return -EINVAL;
    const have = this.size(sheaf);
    if (have >= size) return sheaf;
    const capacity = this.capacity(sheaf);
    if (capacity >= size) {
      if (capacity === this.sheaf_capacity(s)) return this.__prefill_sheaf_pfmemalloc(s, sheaf, gfp) ? sheaf : -ENOMEM;
      if (this.slabs.alloc_from_slabs(s, gfp, capacity - have, this.objectsAt(sheaf, have)) === 0) return -ENOMEM;
      this.setSize(sheaf, capacity);
      return sheaf;
    }
    // a regular sheaf that must become an oversize one, or an oversize one too small: rare, so simply a new one
    const bigger = this.kmem_cache_prefill_sheaf(s, gfp, size);
    if (bigger === 0) return -ENOMEM;
    this.kmem_cache_return_sheaf(s, gfp, sheaf);
    return bigger;
  }

  /**
   * kmem_cache_return_sheaf(): the caller is done with sheaf. A sheaf of
   * the cache's capacity (not pfmemalloc) becomes this CPU's spare if it
   * has none, else is refilled and given to the barn as a full one; an
   * oversize or pfmemalloc sheaf, or one the barn has no room for or that
   * cannot be refilled (gfp without reclaim, say), is flushed to the slabs
   * and freed.
   */
  kmem_cache_return_sheaf(s: number, gfp: number, sheaf: number): void {
    if (this.capacity(sheaf) !== this.sheaf_capacity(s) || this.pfmemalloc(sheaf)) {
      this.sheaf_flush_unused(s, sheaf);
      this.slabs.kfree(sheaf);
      return;
    }
    const pcs = this.pcs(s, this.d.sched.cpu);
    this.local_lock(pcs);
    const barn = this.get_barn(s);
    const keep = this.spare(pcs) === 0;
    if (keep) this.w.wptr(pcs + this.P.spare, sheaf);
    this.local_unlock(pcs);
    if (keep) return;
    if (barn === 0 || this.nr(barn, this.B.nr_full) >= MAX_FULL_SHEAVES || !this.refill_sheaf(s, sheaf, gfp)) {
      this.sheaf_flush_unused(s, sheaf);
      this.free_empty_sheaf(sheaf);
      return;
    }
    this.barn_put_full_sheaf(barn, sheaf);
  }

  /** The pop of kmem_cache_alloc_from_sheaf() (the hooks are the caller's): an object, or 0 when the sheaf is empty. */
  alloc_from_sheaf(sheaf: number): number {
    const size = this.size(sheaf);
    if (size === 0) return 0;
    this.setSize(sheaf, size - 1);
    return this.w.rptr(this.objectsAt(sheaf, size - 1) - this.po);
  }

  /** kmem_cache_sheaf_size(): the objects left in a prefilled sheaf. */
  kmem_cache_sheaf_size(sheaf: number): number {
    return this.size(sheaf);
  }

  /* ------------------------------------------------------------------ */
  /* Flushing                                                            */
  /* ------------------------------------------------------------------ */

  /** has_pcs_used(): does cpu hold a spare or rcu_free sheaf of s, or objects in main (a racy look, as the kernel's)? */
  has_pcs_used(cpu: number, s: number): boolean {
    if (!this.has_sheaves(s)) return false;
    const pcs = this.pcs(s, cpu);
    return this.spare(pcs) !== 0 || this.rcu_free(pcs) !== 0 || this.size(this.main(pcs)) !== 0;
  }

  /**
   * pcs_flush_all() for this CPU, __pcs_flush_all_cpu() for another one
   * whose thread is this one: the spare flushed and freed, the main
   * flushed (straight to the slabs, skipping the barn).
   */
  pcs_flush_cpu(s: number, cpu: number): void {
    const pcs = this.pcs(s, cpu);
    const spare = this.spare(pcs);
    this.w.wptr(pcs + this.P.spare, 0);
    if (spare !== 0) {
      this.sheaf_flush_unused(s, spare);
      this.free_empty_sheaf(spare);
    }
    if (cpu === this.d.sched.cpu) this.sheaf_flush_main(s);
    else this.sheaf_flush_unused(s, this.main(pcs));
    const rcuFree = this.rcu_free(pcs);
    this.w.wptr(pcs + this.P.rcu_free, 0);
    if (rcuFree !== 0) this.d.rcu.call_rcu(rcuFree + this.SH.barn_list, this.rcuFreeSheafNobarn);
  }

  /* ------------------------------------------------------------------ */
  /* kfree_rcu() batching (6.18)                                         */
  /* ------------------------------------------------------------------ */

  private rcu_free(pcs: number): number {
    return this.w.rptr(pcs + this.P.rcu_free);
  }

  /**
   * __kfree_rcu_sheaf(): x (an object of s, which has sheaves) into this
   * CPU's rcu_free sheaf, taking the spare if it is empty, else an empty
   * sheaf from the barn, else a new one (GFP_NOWAIT). A sheaf that becomes
   * full goes to call_rcu(rcu_free_sheaf) before the lock is dropped.
   * false: the caller takes the ordinary kvfree_call_rcu() path.
   */
  kfree_rcu_sheaf(s: number, x: number): boolean {
    let pcs = this.pcs(s, this.d.sched.cpu);
    if (!this.local_trylock(pcs)) return false;
    if (this.rcu_free(pcs) === 0) {
      const spare = this.spare(pcs);
      let empty = 0;
      if (spare !== 0 && this.size(spare) === 0) {
        this.w.wptr(pcs + this.P.spare, 0);
        empty = spare;
      }
      const barn = this.get_barn(s);
      if (empty === 0) empty = this.barn_get_empty_sheaf(barn);
      if (empty === 0) {
        this.local_unlock(pcs);
        empty = this.alloc_empty_sheaf(s, GFP_NOWAIT);
        if (empty === 0) return false;
        pcs = this.pcs(s, this.d.sched.cpu);
        if (!this.local_trylock(pcs)) {
          this.put_or_free_empty(barn, empty);
          return false;
        }
        if (this.rcu_free(pcs) !== 0) this.put_or_free_empty(barn, empty);
        else this.w.wptr(pcs + this.P.rcu_free, empty);
      } else {
        this.w.wptr(pcs + this.P.rcu_free, empty);
      }
    }
    const sheaf = this.rcu_free(pcs);
    const size = this.size(sheaf);
    this.w.wptr(this.objectsAt(sheaf, size) - this.po, x);
    this.setSize(sheaf, size + 1);
    if (size + 1 >= this.sheaf_capacity(s)) {
      this.w.wptr(pcs + this.P.rcu_free, 0);
      this.w.w32(sheaf - this.po + this.SH.node, this.numa_mem_id());
      this.d.rcu.call_rcu(sheaf + this.SH.barn_list, this.rcuFreeSheaf);
    }
    this.local_unlock(pcs);
    return true;
  }

  /** An empty sheaf nobody took: to the barn below MAX_EMPTY_SHEAVES, else freed. */
  private put_or_free_empty(barn: number, sheaf: number): void {
    if (barn !== 0 && this.nr(barn, this.B.nr_empty) < MAX_EMPTY_SHEAVES) this.barn_put_empty_sheaf(barn, sheaf);
    else this.free_empty_sheaf(sheaf);
  }

  /** __rcu_free_sheaf_prepare(): the grace period is over: each object's free hook. */
  private rcu_free_sheaf_prepare(s: number, sheaf: number): void {
    const n = this.size(sheaf);
    for (let i = 0; i < n; i++) this.slabs.slab_free_hook(s, this.w.rptr(this.objectsAt(sheaf, i) - this.po));
  }

  /**
   * rcu_free_sheaf(): a full rcu_free sheaf after its grace period: its
   * objects are free objects now, so the sheaf goes to its node's barn as
   * a full sheaf below MAX_FULL_SHEAVES; else it is flushed to the slabs
   * and kept as an empty one (below MAX_EMPTY_SHEAVES) or freed.
   */
  private rcu_free_sheaf(head: number): void {
    const sheaf = head - this.SH.barn_list;
    const s = this.w.rptr(sheaf - this.po + this.SH.cache);
    this.rcu_free_sheaf_prepare(s, sheaf);
    const barn = this.barnOf(s, this.w.r32(sheaf - this.po + this.SH.node));
    if (barn !== 0 && this.size(sheaf) !== 0 && this.nr(barn, this.B.nr_full) < MAX_FULL_SHEAVES) {
      this.barn_put_full_sheaf(barn, sheaf);
      return;
    }
    this.sheaf_flush_unused(s, sheaf);
    this.put_or_free_empty(barn, sheaf);
  }

  /** rcu_free_sheaf_nobarn(): a flushed CPU's partial rcu_free sheaf after its grace period: to the slabs, then freed. */
  private rcu_free_sheaf_nobarn(head: number): void {
    const sheaf = head - this.SH.barn_list;
    const s = this.w.rptr(sheaf - this.po + this.SH.cache);
    this.rcu_free_sheaf_prepare(s, sheaf);
    this.sheaf_flush_unused(s, sheaf);
    this.free_empty_sheaf(sheaf);
  }

  /**
   * flush_rcu_sheaf() on cpu (flush_rcu_sheaves_on_cache()'s work): a
   * partly filled rcu_free sheaf goes to call_rcu(rcu_free_sheaf) now, so
   * that the rcu_barrier() after it sees its objects freed.
   */
  flush_rcu_sheaf(s: number, cpu: number): void {
    const pcs = this.pcs(s, cpu);
    this.local_lock(pcs);
    const sheaf = this.rcu_free(pcs);
    this.w.wptr(pcs + this.P.rcu_free, 0);
    if (sheaf !== 0) {
      this.w.w32(sheaf - this.po + this.SH.node, this.d.cpuToNode[cpu]);
      this.d.rcu.call_rcu(sheaf + this.SH.barn_list, this.rcuFreeSheaf);
    }
    this.local_unlock(pcs);
  }

  /** Objects in cpu's rcu_free sheaf of s (tests and tools). */
  rcuFreeSize(s: number, cpu: number): number {
    const sheaf = this.rcu_free(this.pcs(s, cpu));
    return sheaf === 0 ? 0 : this.size(sheaf);
  }

  /**
   * What the sheaves of s hold, summed over the CPUs and the barns of
   * `nodes` (tools: kmem/heap's stats). The objects are free objects to
   * the cache's users and allocated ones to its slabs.
   */
  usage(s: number, nodes: readonly number[]): SheavesUsage {
    const cpuObjects: number[] = [];
    let sheaves = 0;
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
      const st = this.pcsState(s, cpu);
      cpuObjects.push(st.mainSize + st.spareSize);
      sheaves += (st.main !== 0 ? 1 : 0) + (st.spare !== 0 ? 1 : 0);
    }
    let barnObjects = 0;
    for (const nid of nodes) {
      const barn = this.barnOf(s, nid);
      if (barn === 0) continue;
      const c = this.barnCounts(barn);
      barnObjects += c.full * this.sheaf_capacity(s); // a barn's full sheaves are full
      sheaves += c.full + c.empty;
    }
    return { cpuObjects, barnObjects, sheaves };
  }

  /** What cpu's sheaves of s hold (tests and tools). */
  pcsState(s: number, cpu: number): PcsState {
    const pcs = this.pcs(s, cpu);
    const main = this.main(pcs);
    const spare = this.spare(pcs);
    return { main, mainSize: this.size(main), spare, spareSize: spare === 0 ? 0 : this.size(spare) };
  }
}
