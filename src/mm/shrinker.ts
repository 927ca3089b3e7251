/*
 * Shrinkers (mm/shrinker.c, include/linux/shrinker.h, Linux 6.12): caches
 * that can give memory back when reclaim asks, the dentry and inode caches
 * being the classic ones.
 *
 * A subsystem allocates a struct shrinker with shrinker_alloc(), fills in
 * count_objects and scan_objects (and seeks, batch, private_data), and
 * shrinker_register()s it; shrinker_free() unregisters and frees it (after
 * an RCU grace period). The pre-6.7 names register_shrinker() and
 * unregister_shrinker() are kept as aliases (kernel.ts).
 *
 *   struct shrinker (CONFIG_MEMCG, no CONFIG_SHRINKER_DEBUG)   x86_64  i386
 *     count_objects   code address (kallsyms)                 +0      +0
 *     scan_objects    code address                            +8      +4
 *     batch           long: objects per scan_objects call,    +16     +8
 *                     0 = SHRINK_BATCH (128)
 *     seeks           int: cost of recreating an object       +24     +12
 *     flags           SHRINKER_*                              +28     +16
 *     refcount        refcount_t: 1 while registered          +32     +20
 *     done            struct completion                       +40     +24
 *     rcu             struct rcu_head (shrinker_free)         +72     +40
 *     private_data                                            +88     +48
 *     list            on shrinker_list                        +96     +52
 *     id              (memcg shrinker id; unused)             +112    +60
 *     nr_deferred     long *: work put off, per node if       +120    +64
 *                     SHRINKER_NUMA_AWARE
 *                                                             128     68 bytes
 *
 *   struct shrink_control (what count and scan get)           x86_64  i386
 *     gfp_mask, nid, nr_to_scan, nr_scanned, memcg            0 4 8 16 24   0 4 8 12 16
 *
 * shrink_slab(gfp, nid, priority) calls every registered shrinker through
 * do_shrink_slab(), the kernel's arithmetic:
 *
 *   freeable   = count_objects()            0 or SHRINK_EMPTY: skip
 *   nr         = nr_deferred (taken)        work earlier calls put off
 *   delta      = (freeable >> priority) * 4 / seeks   (seeks 0: freeable / 2)
 *   total_scan = min((nr >> priority) + delta, 2 * freeable)
 *   while total_scan >= batch or total_scan >= freeable:
 *       scan_objects(nr_to_scan = min(batch, total_scan))   SHRINK_STOP: stop
 *       total_scan -= nr_scanned
 *   nr_deferred += min(max(nr + delta - scanned, 0), 2 * freeable)
 *
 * Reclaim starts at priority DEF_PRIORITY (12: 1/4096 of each cache) and
 * lowers it while it has not reclaimed enough (vmscan.ts).
 *
 * SHRINK_STOP and SHRINK_EMPTY are ~0UL and ~0UL - 1; JavaScript callbacks
 * return them as -1 and -2 (what a long holding them reads as).
 *
 * kmem has no kernel stacks: each CPU's shrink_control lives in a slot of
 * the subsystem's .bss area (shrinker_list, shrinker_mutex, then one
 * shrink_control per CPU). Nested shrink_slab() calls on one CPU cannot
 * happen: reclaim runs with PF_MEMALLOC, which keeps allocations made by a
 * shrinker out of direct reclaim.
 *
 * Several CPUs (host threads) at once, as in 6.12: shrinker_list changes
 * only under shrinker_mutex (register, free); shrink_slab() walks it
 * without the mutex (the kernel's rcu_read_lock()) and pins each shrinker
 * with refcount_inc_not_zero() (Atomics) before calling it; shrinker_free()
 * drops the initial reference and waits on shrinker->done, which the last
 * shrinker_put() completes, so no CPU is inside the callbacks when the
 * shrinker goes off the list. nr_deferred[] is an atomic_long_t per node
 * (taken and added to with Atomics). The callbacks are code pointers:
 * each thread that reclaims must register the same functions under the
 * same names (kallsyms.ts). kmem's RCU does not track readers, so a walk
 * on one CPU racing a shrinker_free() + synchronize_rcu() on another is
 * not covered (the freed shrinker's list pointers are read after the free).
 */
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { ArchLayout } from '../arch/x86/layout.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { KERN_WARNING, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Rcu } from '../kernel/rcu.ts';
import { INIT_LIST_HEAD, LIST_POISON2, __list_del_entry, list_add_tail } from '../lib/list.ts';
import { GFP_KERNEL, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import type { SlabCommon } from './slab_common.ts';
import type { Mutexes } from '../kernel/locking/mutex.ts';
import { waitWhileEqual, type ThreadCount } from '../kernel/locking/lock_word.ts';
import { PhysMem } from '../machine/memory.ts';
import { atomicLongAdd } from '../machine/ram_words.ts';

export const SHRINK_STOP = -1;
export const SHRINK_EMPTY = -2;
export const SHRINK_BATCH = 128;
export const DEFAULT_SEEKS = 2;
/* internal flags */
export const SHRINKER_REGISTERED = 1 << 0;
export const SHRINKER_ALLOCATED = 1 << 1;
/* flags for users */
export const SHRINKER_NUMA_AWARE = 1 << 2;
export const SHRINKER_MEMCG_AWARE = 1 << 3;
export const SHRINKER_NONSLAB = 1 << 4;

export function shrinkerLayout(ptrSize: 4 | 8) {
  const swait = defineStruct(ptrSize, [['lock', 'int'], ['task_list', 'list_head']]);
  const completion = defineStruct(ptrSize, [['done', 'u32'], ['wait', { size: swait.size, align: ptrSize }]]);
  return defineStruct(ptrSize, [
    ['count_objects', 'ptr'],
    ['scan_objects', 'ptr'],
    ['batch', 'long'],
    ['seeks', 'int'],
    ['flags', 'u32'],
    ['refcount', 'int'],
    ['done', { size: completion.size, align: ptrSize }],
    ['rcu', { size: 2 * ptrSize, align: ptrSize }],
    ['private_data', 'ptr'],
    ['list', 'list_head'],
    ['id', 'int'],
    ['nr_deferred', 'ptr'],
  ]);
}

export function shrinkControlLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [
    ['gfp_mask', 'u32'],
    ['nid', 'int'],
    ['nr_to_scan', 'ulong'],
    ['nr_scanned', 'ulong'],
    ['memcg', 'ptr'],
  ]);
}

function staticsLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['shrinker_list', 'list_head'], ['shrinker_mutex', 'int']]);
}

export interface ShrinkerDeps {
  layout: ArchLayout;
  kaddr: KernelAddr;
  slab: SlabCommon;
  kallsyms: Kallsyms;
  rcu: Rcu;
  log: Log;
  sched: Sched;
  mutexes: Mutexes;
  smp: ThreadCount;
  nrCpus: number;
  nrNodeIds: number;
  /** Physical address of the subsystem's .bss area (Shrinkers.staticBytes()). */
  dataPa: number;
}

/** What a scan or count callback is told, read and written in its shrink_control. */

export class Shrinkers {
  readonly L: ReturnType<typeof shrinkerLayout>;
  readonly SC: ReturnType<typeof shrinkControlLayout>;
  private readonly S: ReturnType<typeof staticsLayout>;
  private readonly k: KernelAddr;
  private readonly va: number;
  private readonly ptr: 4 | 8;
  private readonly freeRcu: number;

  constructor(private readonly d: ShrinkerDeps) {
    this.k = d.kaddr;
    this.ptr = d.layout.ptrSize;
    this.L = shrinkerLayout(this.ptr);
    this.SC = shrinkControlLayout(this.ptr);
    this.S = staticsLayout(this.ptr);
    this.va = d.kaddr.__va(d.dataPa);
    this.freeRcu = d.kallsyms.register('shrinker_free_rcu_cb', (head) => this.shrinker_free_rcu_cb(head));
  }

  /** Bytes of .bss: the list and mutex, then a shrink_control per CPU (64-byte slots). */
  static staticBytes(ptrSize: 4 | 8, nrCpus: number): number {
    return Math.ceil(staticsLayout(ptrSize).size / 64) * 64 + nrCpus * 64;
  }

  init(): void {
    this.k.fill(this.va, Shrinkers.staticBytes(this.ptr, this.d.nrCpus), 0);
    INIT_LIST_HEAD(this.k, this.shrinker_list);
  }

  /** Kernel virtual address of shrinker_list. */
  get shrinker_list(): number {
    return this.va + this.S.shrinker_list;
  }

  /** This CPU's shrink_control. */
  private scSlot(): number {
    return this.va + Math.ceil(this.S.size / 64) * 64 + this.d.sched.cpu * 64;
  }

  /** The registered shrinkers, in list (registration) order. */
  registered(): number[] {
    const out: number[] = [];
    const head = this.shrinker_list;
    for (let pos = this.k.readPtr(head); pos !== head; pos = this.k.readPtr(pos)) out.push(pos - this.L.list);
    return out;
  }

  /* ------------------------------------------------------------------ */
  /* struct shrinker's fields                                            */
  /* ------------------------------------------------------------------ */

  flags(s: number): number {
    return this.k.read32(s + this.L.flags);
  }

  private setFlags(s: number, v: number): void {
    this.k.write32(s + this.L.flags, v);
  }

  seeks(s: number): number {
    return this.k.read32(s + this.L.seeks) | 0;
  }

  batch(s: number): number {
    return this.d.kaddr.access.readLong(this.k.__pa(s + this.L.batch));
  }

  /** An int field of a shrinker as [array, index] for Atomics. */
  private word(va: number): [Int32Array, number] {
    const pa = this.k.__pa(va);
    return [this.k.access.mem.i32At(pa), PhysMem.wordIndex(pa)];
  }

  /** shrinker_try_get(): refcount_inc_not_zero() */
  private shrinker_try_get(s: number): boolean {
    const [a, i] = this.word(s + this.L.refcount);
    for (let c = Atomics.load(a, i); c !== 0; c = Atomics.load(a, i)) {
      if (Atomics.compareExchange(a, i, c, c + 1) === c) return true;
    }
    return false;
  }

  /** shrinker_put(): the last reference completes shrinker->done. */
  private shrinker_put(s: number): void {
    const [a, i] = this.word(s + this.L.refcount);
    if (Atomics.sub(a, i, 1) !== 1) return;
    const [d, j] = this.word(s + this.L.done);
    Atomics.store(d, j, 1); // complete()
    Atomics.notify(d, j);
  }

  /**
   * wait_for_completion(&shrinker->done): until no shrink_slab() holds the
   * shrinker. With one host thread, a holder can only be this thread's own
   * shrink_slab() (a callback freeing its shrinker): kmem goes on, as the
   * walk already steps past it safely.
   */
  private wait_for_done(s: number): void {
    const [d, j] = this.word(s + this.L.done);
    while (Atomics.load(d, j) === 0 && this.d.smp.threads() > 1) waitWhileEqual(d, j, 0, 50);
  }

  private get mutexPa(): number {
    return this.d.dataPa + this.S.shrinker_mutex;
  }

  /** The fields a caller sets before shrinker_register(): s->count_objects = ..., and so on. */
  setFields(s: number, f: { count_objects?: number; scan_objects?: number; seeks?: number; batch?: number; private_data?: number }): void {
    const k = this.k;
    if (f.count_objects !== undefined) k.writePtr(s + this.L.count_objects, f.count_objects);
    if (f.scan_objects !== undefined) k.writePtr(s + this.L.scan_objects, f.scan_objects);
    if (f.seeks !== undefined) k.write32(s + this.L.seeks, f.seeks);
    if (f.batch !== undefined) this.d.kaddr.access.writeLong(k.__pa(s + this.L.batch), f.batch);
    if (f.private_data !== undefined) k.writePtr(s + this.L.private_data, f.private_data);
  }

  private nrDeferredSlot(s: number, nid: number): number {
    const node = this.flags(s) & SHRINKER_NUMA_AWARE ? nid : 0;
    return this.k.readPtr(s + this.L.nr_deferred) + node * this.ptr;
  }

  /** shrinker->nr_deferred[nid] (node 0 for shrinkers that are not NUMA aware). */
  nr_deferred(s: number, nid = 0): number {
    return this.d.kaddr.access.readLong(this.k.__pa(this.nrDeferredSlot(s, nid)));
  }

  /** atomic_long_add(v, &nr_deferred[nid]) */
  private addNrDeferred(s: number, nid: number, v: number): void {
    const pa = this.k.__pa(this.nrDeferredSlot(s, nid));
    atomicLongAdd(this.k.access.mem.i32At(pa), PhysMem.wordIndex(pa), this.ptr / 4, v, this.d.smp.threads() > 1);
  }

  /** xchg_nr_deferred(): take the deferred work (what was there is subtracted, so a concurrent add is kept). */
  private takeNrDeferred(s: number, nid: number): number {
    const nr = this.nr_deferred(s, nid);
    if (nr !== 0) this.addNrDeferred(s, nid, -nr);
    return nr;
  }

  /* shrink_control */

  scGet(sc: number, f: 'gfp_mask' | 'nid' | 'nr_to_scan' | 'nr_scanned'): number {
    if (f === 'gfp_mask') return this.k.read32(sc + this.SC.gfp_mask);
    if (f === 'nid') return this.k.read32(sc + this.SC.nid) | 0;
    return this.d.kaddr.access.readUlong(this.k.__pa(sc + this.SC[f]));
  }

  scSet(sc: number, f: 'nr_to_scan' | 'nr_scanned', v: number): void {
    this.d.kaddr.access.writeUlong(this.k.__pa(sc + this.SC[f]), v);
  }

  /* ------------------------------------------------------------------ */
  /* Allocating, registering, freeing                                    */
  /* ------------------------------------------------------------------ */

  /** shrinker_alloc(flags, fmt): a zeroed shrinker with seeks = DEFAULT_SEEKS and its nr_deferred; 0 on failure. */
  shrinker_alloc(flags: number): number {
    const slab = this.d.slab;
    const s = slab.kmalloc(this.L.size, GFP_KERNEL | __GFP_ZERO);
    if (s === 0) return 0;
    // No memcg in kmem: shrinker_memcg_alloc() returns -ENOSYS and the shrinker is not memcg aware.
    flags = (flags | SHRINKER_ALLOCATED) & ~SHRINKER_MEMCG_AWARE;
    this.setFlags(s, flags);
    this.k.write32(s + this.L.seeks, DEFAULT_SEEKS);
    const size = this.ptr * (flags & SHRINKER_NUMA_AWARE ? this.d.nrNodeIds : 1);
    const nrDeferred = slab.kmalloc(size, GFP_KERNEL | __GFP_ZERO);
    if (nrDeferred === 0) {
      slab.kfree(s);
      return 0;
    }
    this.k.writePtr(s + this.L.nr_deferred, nrDeferred);
    return s;
  }

  /** shrinker_register(): onto shrinker_list, refcount 1. */
  shrinker_register(s: number): void {
    if (!(this.flags(s) & SHRINKER_ALLOCATED)) {
      this.d.log.printk(KERN_WARNING, 'Must use shrinker_alloc() to dynamically allocate the shrinker');
      return;
    }
    this.d.mutexes.mutex_lock(this.mutexPa);
    list_add_tail(this.k, s + this.L.list, this.shrinker_list); // list_add_tail_rcu()
    this.setFlags(s, this.flags(s) | SHRINKER_REGISTERED);
    this.d.mutexes.mutex_unlock(this.mutexPa);
    this.k.write32(s + this.L.done, 0); // init_completion()
    // the first reference: from now on shrink_slab() may use it
    const [a, i] = this.word(s + this.L.refcount);
    Atomics.store(a, i, 1);
  }

  /** shrinker_free(): off the list (if registered); the memory goes after a grace period. NULL is fine. */
  shrinker_free(s: number): void {
    if (s === 0) return;
    if (this.flags(s) & SHRINKER_REGISTERED) {
      this.shrinker_put(s);
      this.wait_for_done(s);
      this.d.mutexes.mutex_lock(this.mutexPa);
      // list_del_rcu(): next stays valid for a shrink_slab() walking the list right now
      __list_del_entry(this.k, s + this.L.list);
      this.k.writePtr(s + this.L.list + this.ptr, LIST_POISON2(this.ptr));
      this.setFlags(s, this.flags(s) & ~SHRINKER_REGISTERED);
      this.d.mutexes.mutex_unlock(this.mutexPa);
    }
    this.d.rcu.call_rcu(s + this.L.rcu, this.freeRcu);
  }

  private shrinker_free_rcu_cb(head: number): void {
    const s = head - this.L.rcu;
    this.d.slab.kfree(this.k.readPtr(s + this.L.nr_deferred));
    this.d.slab.kfree(s);
  }

  /* ------------------------------------------------------------------ */
  /* Shrinking                                                           */
  /* ------------------------------------------------------------------ */

  /** do_shrink_slab(): objects freed, or SHRINK_EMPTY. */
  do_shrink_slab(sc: number, s: number, priority: number): number {
    const k = this.d.kallsyms;
    const batchSize = this.batch(s) || SHRINK_BATCH;
    const freeable = k.call(this.k.readPtr(s + this.L.count_objects), s, sc);
    if (freeable === 0 || freeable === SHRINK_EMPTY) return freeable;
    const nid = this.scGet(sc, 'nid');
    const nr = this.takeNrDeferred(s, nid);
    const seeks = this.seeks(s);
    const delta = seeks ? Math.floor((Math.floor(freeable / 2 ** priority) * 4) / seeks) : Math.floor(freeable / 2);
    let totalScan = Math.floor(nr / 2 ** priority) + delta;
    totalScan = Math.min(totalScan, 2 * freeable);
    let freed = 0;
    let scanned = 0;
    while (totalScan >= batchSize || totalScan >= freeable) {
      const nrToScan = Math.min(batchSize, totalScan);
      this.scSet(sc, 'nr_to_scan', nrToScan);
      this.scSet(sc, 'nr_scanned', nrToScan);
      const ret = k.call(this.k.readPtr(s + this.L.scan_objects), s, sc);
      if (ret === SHRINK_STOP) break;
      freed += ret;
      const done = this.scGet(sc, 'nr_scanned');
      totalScan -= done;
      scanned += done;
      // A callback that says it scanned nothing would have the kernel spin here forever.
      if (done === 0) break;
    }
    let nextDeferred = Math.max(nr + delta - scanned, 0);
    nextDeferred = Math.min(nextDeferred, 2 * freeable);
    if (nextDeferred !== 0) this.addNrDeferred(s, nid, nextDeferred); // add_nr_deferred()
    return freed;
  }

  /** shrink_slab(gfp, nid, memcg = root, priority): objects freed by all shrinkers. */
  shrink_slab(gfp: number, nid: number, priority: number): number {
    let freed = 0;
    const head = this.shrinker_list;
    const sc = this.scSlot();
    for (let pos = this.k.readPtr(head); pos !== head;) {
      const s = pos - this.L.list;
      if (!this.shrinker_try_get(s)) {
        pos = this.k.readPtr(pos);
        continue;
      }
      this.k.fill(sc, this.SC.size, 0);
      this.k.write32(sc + this.SC.gfp_mask, gfp);
      this.k.write32(sc + this.SC.nid, nid);
      let ret = this.do_shrink_slab(sc, s, priority);
      if (ret === SHRINK_EMPTY) ret = 0;
      freed += ret;
      // Step to the next shrinker before shrinker_put(): a shrinker_free() from a callback
      // has unlinked s but its memory stays until the grace period (the kernel's rcu_read_lock()).
      pos = this.k.readPtr(pos);
      this.shrinker_put(s);
    }
    return freed;
  }
}

/**
 * A shrink_control as a count or scan callback written in JavaScript sees
 * it: each field read from (nr_scanned also written to) the struct in
 * memory at `addr`.
 */
export class ShrinkControl {
  constructor(private readonly sh: Shrinkers, readonly addr: number) {}

  get gfp_mask(): number {
    return this.sh.scGet(this.addr, 'gfp_mask');
  }

  get nid(): number {
    return this.sh.scGet(this.addr, 'nid');
  }

  get nr_to_scan(): number {
    return this.sh.scGet(this.addr, 'nr_to_scan');
  }

  /** How many objects the scan looked at; preset to nr_to_scan. */
  get nr_scanned(): number {
    return this.sh.scGet(this.addr, 'nr_scanned');
  }

  set nr_scanned(v: number) {
    this.sh.scSet(this.addr, 'nr_scanned', v);
  }
}
