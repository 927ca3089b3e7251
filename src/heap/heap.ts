/*
 * kmem/heap: malloc/free for JavaScript threads sharing one
 * SharedArrayBuffer, with the Linux kernel's allocators underneath.
 *
 *   const heap = Heap.create({ size: 16 << 20, workers: 4 });
 *   const p = heap.alloc(24);            // an address: heap.u8[p] is its first byte
 *   heap.u32[p >>> 2] = 42;
 *   worker.postMessage(heap.share());    // in the worker: Heap.attach(data)
 *   heap.free(p);
 *
 *   Heap (this thread)                       kernel (src/mm), in the heap's memory
 *   ------------------                       ---------------------------------------
 *   alloc(n), n <= 8 KiB   -> kmem_cache_alloc(heap-<class>)     SLUB: a pop off this CPU's
 *   alloc(n), n >  8 KiB   -> kmalloc -> page allocator         sheaf, a free a push onto it
 *   free(p)                -> kfree (the block's cache known     (sheaf_fastpath.ts: no lock,
 *                             from its shadow byte)              no atomic); an object freed
 *   pool(size).alloc/free  -> kmem_cache_alloc/kmem_cache_free  by another CPU stays there
 *
 * Each thread drives one simulated CPU of a machine booted over the heap's
 * memory (machine.ts), so the per-CPU caches of SLUB and the page
 * allocator are per thread, as they are per CPU in the kernel. Addresses
 * are physical addresses (kmalloc's pointer less PAGE_OFFSET): 0 is NULL,
 * blocks are at least 8-byte aligned, and the typed views index the whole
 * heap by them. Everything the heap knows is in that memory (the header,
 * the shadow of kasan.ts, the kernel's own structures); what a Heap object
 * holds is where things are, so any thread answers the same.
 *
 * Bad frees throw the kernel's report (kasan.ts) and change nothing.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { GFP_KERNEL, __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, SLAB_NO_MERGE } from '../include/linux/slab.ts';
import { kmemCacheArgs, type SlabCommon } from '../mm/slab_common.ts';
import type { Slub } from '../mm/slub.ts';
import type { BootedMm } from '../init/main.ts';
import type { SharedMachine } from '../init/attach.ts';
import {
  HEAP_DEBUG_CMDLINE, H_CACHES, H_LARGE_BLOCKS, H_LARGE_PAGES, H_MAGIC, H_MUTEX, H_NR_CACHES, H_NR_CLASSES, H_SHADOW, KMEM_HEAP_MAGIC,
  MAX_CACHES, MAX_SHADOW_CHUNKS, attachHeapMachine, bootHeapMachine, heapConfig,
} from './machine.ts';
import { cpu_down } from '../kernel/cpuhp.ts';
import * as kasan from './kasan.ts';
import { Pool, type PoolContext } from './pool.ts';
import { SheafFastpath } from './sheaf_fastpath.ts';
import { createSizeClasses } from './size_classes.ts';
import { heapStats, type HeapStats } from './stats.ts';

export interface HeapOptions {
  /** Bytes of memory (rounded up to 4 KiB), 2 MiB to 128 MiB; the kernel's own structures take part of it. */
  size: number;
  /** Threads that may use the heap at once, the creating thread included (default 1). */
  workers?: number;
  /** SLUB debugging (slub_debug=FZP): red zones, poisoning and consistency checks on every block; slower. */
  debug?: boolean;
}

export interface PoolOptions {
  /** Alignment of each object, a power of two (default 8). */
  align?: number;
  /**
   * The pool's name (its kmem_cache's): with a name, heap.pool() in any
   * thread returns the pool of that name if it exists (same objectSize).
   */
  name?: string;
}

/** What Heap.attach() needs: post it to a worker (structured-cloneable; the memory is shared, not copied). */
export interface SharedHeap {
  machine: SharedMachine;
  /** Physical address of struct kmem_heap. */
  header: number;
}

// Module-local copies: V8 checks an imported binding at every use, a local const it folds into the code.
const { KasanReports, SHADOW_CHUNK_MASK, SHADOW_CHUNK_SHIFT, SHADOW_FREE, SHADOW_LIVE_CACHE, SHADOW_LIVE_PAGES, allocShadow } = kasan;
type KasanReports = kasan.KasanReports;

/** Requests up to this size come from a kmalloc cache; above it, whole pages. */
const SMALL_MAX = KMALLOC_MAX_CACHE_SIZE;
const NR_CACHE_IDS = MAX_CACHES;
/**
 * How the heap allocates: GFP_KERNEL (a thread that may wait: sheaves are
 * refilled from the slabs, memory is reclaimed when short), one try at
 * reclaim and no OOM killer (__GFP_NORETRY), no warning when it fails
 * (alloc returns 0).
 */
const GFP_HEAP = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;

export class Heap {
  /** Bytes of heap memory (heap.u8.length). */
  readonly size: number;
  /** Threads that may use the heap at once. */
  readonly workers: number;
  /** The simulated CPU this thread drives (0 for the creating thread). */
  readonly cpu: number;
  readonly debug: boolean;
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly u64: BigUint64Array;
  readonly i64: BigInt64Array;
  readonly dv: DataView;

  /** @internal the booted machine */
  readonly m: BootedMm;
  /** @internal */
  readonly slub: Slub;
  /** @internal struct kmem_heap (physical address) */
  readonly header: number;
  private readonly slab: SlabCommon;
  private readonly po: number;
  private readonly gfp = GFP_HEAP;
  private readonly gfpZero = GFP_HEAP | __GFP_ZERO;
  /**
   * The id (machine.ts: the heap's table of caches) of the size class
   * (size_classes.ts) of each size 1..SMALL_MAX: alloc(n) is then what
   * kmalloc(n) of a constant n compiles to, an allocation from that cache
   * (the classes are made with the heap and never change).
   */
  private readonly idBySize: Uint8Array;
  /** The heap's caches by id, as physical addresses (this thread's copy of the header's table, extended as it learns pools). */
  private readonly cachePa: Int32Array;
  /** How many ids of cachePa this thread has learnt. */
  private knownCaches = 0;
  /** detach() was called: this thread no longer drives the CPU. */
  private detached = false;
  /** SLUB's sheaf pop and push for this thread's CPU. */
  private readonly fast: SheafFastpath;
  /** Physical address of each shadow chunk. */
  private readonly shadow: Int32Array;
  private readonly kasan: KasanReports;
  private readonly poolCtx: PoolContext;
  private readonly pools = new Map<number, Pool>();

  private constructor(m: BootedMm, header: number) {
    const buffer = m.mem.buffers[0];
    if (buffer === null || m.mem.buffers.length !== 1) throw new Error('kmem/heap: the machine is not one buffer');
    this.m = m;
    this.slab = m.slab;
    this.slub = m.slab.impl as Slub;
    this.header = header;
    this.po = m.layout.PAGE_OFFSET;
    this.size = buffer.byteLength;
    this.workers = m.config.cpus;
    this.cpu = m.sched.cpu;
    this.debug = m.config.cmdline === HEAP_DEBUG_CMDLINE;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.i8 = new Int8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i16 = new Int16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.u64 = new BigUint64Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.dv = new DataView(buffer);
    if (this.u32[(header + H_MAGIC) >>> 2] !== KMEM_HEAP_MAGIC) throw new Error('kmem/heap: not a heap (bad magic in the header)');
    this.shadow = new Int32Array(MAX_SHADOW_CHUNKS);
    for (let i = 0; i < MAX_SHADOW_CHUNKS; i++) this.shadow[i] = this.u32[(header + H_SHADOW + 4 * i) >>> 2];
    const words = this.slub.fastpath.sheafWords(this.cpu);
    if (words === null) throw new Error('kmem/heap: the machine has no percpu sheaves');
    this.fast = new SheafFastpath(this.i32, words, this.po, NR_CACHE_IDS);
    this.cachePa = new Int32Array(NR_CACHE_IDS);
    this.learnCaches();
    this.idBySize = new Uint8Array(SMALL_MAX + 1);
    for (let n = 1, id = 0; n <= SMALL_MAX; n++) {
      while (this.slab.kmem_cache_size(this.cachePa[id] + this.po) < n) id++;
      this.idBySize[n] = id;
    }
    this.kasan = new KasanReports(m, this.slub);
    this.poolCtx = {
      slab: this.slab, fast: this.fast, u8: this.u8, shadow: this.shadow, po: this.po, gfp: this.gfp, kasan: this.kasan,
      notASlab: () => m.bug.warn('mm/slub.c', 4756, 'kmem_cache_free', 'virt_to_cache: Object is not a Slab page!', []),
      checkAttached: () => this.checkAttached(),
    };
  }

  /** Read the entries of the header's table of caches this thread does not know yet (pools other threads made). */
  private learnCaches(): void {
    const nr = Atomics.load(this.i32, (this.header + H_NR_CACHES) >>> 2);
    for (let id = this.knownCaches; id < nr; id++) {
      this.cachePa[id] = this.i32[(this.header + H_CACHES) / 4 + id];
      this.fast.learn(id, this.cachePa[id]);
    }
    this.knownCaches = nr;
  }

  /** A new heap over new shared memory; the calling thread is its first worker (CPU 0). */
  static create(opts: HeapOptions): Heap {
    const config = heapConfig(opts.size, opts.workers ?? 1, opts.debug === true);
    const m = bootHeapMachine(config);
    const chunks = allocShadow(m, config.memBytes);
    const pfn = m.buddy.__alloc_pages(__GFP_NOWARN | __GFP_ZERO, 0, -1);
    if (pfn < 0) throw new RangeError('kmem/heap: no room for the heap header');
    const header = pfn * PAGE_SIZE;
    m.mem.write32(header + H_MAGIC, KMEM_HEAP_MAGIC);
    chunks.forEach((pa, i) => m.mem.write32(header + H_SHADOW + 4 * i, pa));
    const classes = createSizeClasses(m, GFP_HEAP, config.memBytes);
    classes.forEach((pa, id) => m.mem.write32(header + H_CACHES + 4 * id, pa));
    m.mem.write32(header + H_NR_CLASSES, classes.length);
    m.mem.write32(header + H_NR_CACHES, classes.length);
    return new Heap(m, header);
  }

  /**
   * The heap another thread created (share()'s value), bound to a CPU of
   * this thread's own. Throws SmpError when `workers` threads already use it.
   */
  static attach(shared: SharedHeap): Heap {
    return new Heap(attachHeapMachine(shared.machine), shared.header);
  }

  /** The value to post to a worker for Heap.attach(). */
  share(): SharedHeap {
    return { machine: { config: this.m.config, ram: this.m.mem.share() }, header: this.header };
  }

  /**
   * A worker is done: its CPU goes offline (the free blocks and pages its
   * per-CPU caches held go back to the shared lists, as when the kernel
   * takes a CPU down: src/kernel/cpuhp.ts) and the worker slot is free.
   * This Heap object's allocations and frees throw from then on (another
   * worker may drive that CPU now).
   */
  detach(): void {
    if (this.cpu === 0) throw new Error('kmem/heap: the creating thread cannot detach');
    this.fast.forget();
    this.detached = true;
    cpu_down(this.m, this.cpu);
  }

  /** Before the kernel is entered as this thread's CPU: the CPU must still be this thread's. */
  private checkAttached(): void {
    if (this.detached) throw new Error('kmem/heap: this Heap was detached (its CPU may be another worker\'s now): attach again');
  }

  /* ------------------------------------------------------------------ */
  /* Blocks                                                              */
  /* ------------------------------------------------------------------ */

  /** n bytes (contents undefined, at least 8-byte aligned), or 0 when memory is exhausted. alloc(0) is a minimal block. */
  alloc(n: number): number {
    if ((n | 0) !== n || n <= 0 || n > SMALL_MAX) return this.allocOther(n, this.gfp);
    const id = this.idBySize[n];
    let p = this.fast.alloc(id);
    if (p === 0) {
      p = this.allocSlow(id);
      if (p === 0) return 0;
    }
    this.u8[this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3)] = SHADOW_LIVE_CACHE + id;
    return p;
  }

  /** A block of cache id when this CPU's main sheaf had none: from the spare sheaf, else through kmem_cache_alloc(); 0 if none. */
  private allocSlow(id: number): number {
    const p = this.fast.allocFromSpare(id);
    if (p !== 0) return p;
    this.checkAttached();
    const va = this.slab.kmem_cache_alloc(this.cachePa[id] + this.po, this.gfp);
    return va === 0 ? 0 : (va - this.po) | 0; // an int32: the callers' arithmetic stays on small integers
  }

  /** alloc(n) with the block zeroed. */
  calloc(n: number): number {
    this.checkAttached();
    if ((n | 0) !== n || n <= 0 || n > SMALL_MAX) return this.allocOther(n, this.gfpZero);
    const id = this.idBySize[n];
    const va = this.slab.kmem_cache_alloc(this.cachePa[id] + this.po, this.gfpZero);
    if (va === 0) return 0;
    const p = (va - this.po) | 0;
    this.u8[this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3)] = SHADOW_LIVE_CACHE + id;
    return p;
  }

  /**
   * What alloc/calloc do off their fast path: 0 bytes (the smallest
   * block), a bad size (RangeError), a block above 8 KiB (kmalloc's large
   * path: whole pages, up to 4 MiB, counted in the header).
   */
  private allocOther(n: number, gfp: number): number {
    if (n === 0) return gfp === this.gfp ? this.alloc(1) : this.calloc(1);
    if (!(n >= 0 && Math.floor(n) === n)) throw new RangeError(`kmem/heap: ${n} is not a size in bytes`);
    if (n > KMALLOC_MAX_SIZE) return 0;
    this.checkAttached();
    const va = this.slab.kmalloc(n, gfp);
    if (va === 0) return 0;
    Atomics.add(this.i32, (this.header + H_LARGE_PAGES) >>> 2, this.slab.ksize(va) / PAGE_SIZE);
    Atomics.add(this.i32, (this.header + H_LARGE_BLOCKS) >>> 2, 1);
    const p = (va - this.po) | 0;
    this.u8[this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3)] = SHADOW_LIVE_PAGES;
    return p;
  }

  /** Give a block back (from alloc/calloc/realloc, or a pool's: like kfree); 0 is ignored. */
  free(p: number): void {
    if ((p >>> 0) !== p || (p & 7) !== 0 || p >= this.size) {
      if (p !== 0) this.kasan.badFree(p, 'kfree', 0);
      return;
    }
    const sh = this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3);
    const state = this.u8[sh];
    const id = state - SHADOW_LIVE_CACHE;
    // this CPU's main sheaf takes it (the block is ours alone until it is marked free, so the mark may come second)
    if ((id >>> 0) < NR_CACHE_IDS && this.fast.free(p, id)) this.u8[sh] = SHADOW_FREE;
    else this.freeSlow(p, sh, state);
  }

  /**
   * free() of what the main sheaf did not take: 0, a block of whole pages,
   * a bad free (the kernel's report), or a live block of cache `state -
   * SHADOW_LIVE_CACHE` whose main sheaf is full (the spare, else kfree()).
   */
  private freeSlow(p: number, sh: number, state: number): void {
    if (p === 0) return;
    this.checkAttached();
    const id = state - SHADOW_LIVE_CACHE;
    if ((id >>> 0) >= NR_CACHE_IDS) {
      if (state !== SHADOW_LIVE_PAGES) this.kasan.badFree(p, 'kfree', state);
      this.freePages(p, sh);
      return;
    }
    this.u8[sh] = SHADOW_FREE;
    if (this.fast.freeToSpare(p, id)) return;
    if (id >= this.knownCaches) this.learnCaches();
    try {
      this.slab.kfree(p + this.po);
    } catch (e) {
      this.u8[sh] = state; // the kernel refused (a debug check): still the caller's
      throw e;
    }
  }

  private freePages(p: number, sh: number): void {
    const pages = this.slab.ksize(p + this.po) / PAGE_SIZE;
    this.u8[sh] = SHADOW_FREE;
    this.slab.kfree(p + this.po);
    Atomics.sub(this.i32, (this.header + H_LARGE_PAGES) >>> 2, pages);
    Atomics.sub(this.i32, (this.header + H_LARGE_BLOCKS) >>> 2, 1);
  }

  /**
   * The block at p resized to n bytes, as krealloc() does it: p itself
   * while n fits its usable size, else a new block with the contents
   * copied and p freed; 0 (p untouched) when memory is exhausted.
   * realloc(0, n) is alloc(n); realloc(p, 0) frees p and returns 0.
   */
  realloc(p: number, n: number): number {
    if (p === 0) return this.alloc(n);
    const size = this.liveSize(p, 'krealloc');
    if (n === 0) {
      this.free(p);
      return 0;
    }
    if (!(n >= 0 && Math.floor(n) === n)) throw new RangeError(`kmem/heap: ${n} is not a size in bytes`);
    if (n <= size) return p;
    const q = this.alloc(n);
    if (q === 0) return 0;
    this.u8.copyWithin(q, p, p + size);
    this.free(p);
    return q;
  }

  /** The bytes the block at p really has (ksize(): at least what was asked for). */
  usableSize(p: number): number {
    return this.liveSize(p, 'ksize');
  }

  private liveSize(p: number, fn: string): number {
    const bad = (p >>> 0) !== p || (p & 7) !== 0 || p >= this.size;
    const state = bad ? 0 : this.u8[this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3)];
    if ((state - SHADOW_LIVE_CACHE) >>> 0 >= NR_CACHE_IDS && state !== SHADOW_LIVE_PAGES) this.kasan.badAccess(p, fn, state);
    return this.slab.ksize(p + this.po);
  }

  /** A view of n bytes at p (a new Uint8Array over the heap's memory). */
  view(p: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer, p, n);
  }

  /* ------------------------------------------------------------------ */
  /* Pools                                                               */
  /* ------------------------------------------------------------------ */

  /** A pool of objectSize-byte objects (see PoolOptions for finding a named pool from another thread). */
  pool(objectSize: number, opts: PoolOptions = {}): Pool {
    this.checkAttached();
    const align = opts.align ?? 8;
    if (!Number.isInteger(objectSize) || objectSize < 1 || objectSize > KMALLOC_MAX_SIZE) {
      throw new RangeError(`kmem/heap: pool object size must be an integer from 1 to ${KMALLOC_MAX_SIZE}, got ${objectSize}`);
    }
    if (!Number.isInteger(align) || align < 8 || align > PAGE_SIZE || (align & (align - 1)) !== 0) {
      throw new RangeError(`kmem/heap: pool alignment must be a power of two from 8 to ${PAGE_SIZE}, got ${align}`);
    }
    this.lock();
    try {
      if (opts.name !== undefined) {
        const s = this.findPool(opts.name);
        if (s !== 0) {
          const have = this.slab.kmem_cache_size(s);
          if (have !== objectSize) throw new Error(`kmem/heap: pool "${opts.name}" exists with objects of ${have} bytes, not ${objectSize}`);
          return this.poolOf(s);
        }
      }
      const id = this.i32[(this.header + H_NR_CACHES) >>> 2];
      const nrClasses = this.i32[(this.header + H_NR_CLASSES) >>> 2];
      if (id === NR_CACHE_IDS) throw new RangeError(`kmem/heap: a heap has at most ${NR_CACHE_IDS - nrClasses} pools`);
      const s = this.slab.kmem_cache_create(opts.name ?? `pool-${id - nrClasses}`, objectSize, kmemCacheArgs(align, 0), SLAB_NO_MERGE);
      if (s === 0) throw new RangeError(`kmem/heap: no memory for a pool of ${objectSize}-byte objects`);
      this.u32[(this.header + H_CACHES + 4 * id) >>> 2] = s - this.po;
      Atomics.store(this.i32, (this.header + H_NR_CACHES) >>> 2, id + 1);
      return this.poolOf(s);
    } finally {
      this.unlock();
    }
  }

  /** Every pool of the heap, whichever thread created it. */
  allPools(): Pool[] {
    return this.poolCaches().map((s) => this.poolOf(s));
  }

  /** @internal struct kmem_cache * of each pool, in creation order. */
  poolCaches(): number[] {
    this.learnCaches();
    const from = this.i32[(this.header + H_NR_CLASSES) >>> 2];
    return Array.from(this.cachePa.subarray(from, this.knownCaches), (pa) => pa + this.po);
  }

  /** @internal the size classes' caches, smallest first, with their sizes. */
  classCaches(): { size: number; cache: number }[] {
    const nr = this.i32[(this.header + H_NR_CLASSES) >>> 2];
    return Array.from(this.cachePa.subarray(0, nr), (pa) => ({ size: this.slab.kmem_cache_size(pa + this.po), cache: pa + this.po }));
  }

  private findPool(name: string): number {
    for (const s of this.poolCaches()) if (this.slab.cacheName(s) === name) return s;
    return 0;
  }

  private poolOf(s: number): Pool {
    let pool = this.pools.get(s);
    if (pool === undefined) {
      this.learnCaches();
      const id = this.cachePa.indexOf(s - this.po);
      pool = new Pool(this.poolCtx, s, id, this.slab.cacheName(s), this.slab.kmem_cache_size(s), this.slub.slab_ksize(s));
      this.pools.set(s, pool);
    }
    return pool;
  }

  /**
   * The heap's mutex (struct kmem_heap.mutex), around pool creation: held
   * across kmem_cache_create(), which may sleep, so not a spinlock; pool
   * creation is rare, so contenders simply spin.
   */
  private lock(): void {
    const i = (this.header + H_MUTEX) >>> 2;
    while (Atomics.compareExchange(this.i32, i, 0, 1) !== 0) {
      /* another thread is creating a pool */
    }
  }

  private unlock(): void {
    Atomics.store(this.i32, (this.header + H_MUTEX) >>> 2, 0);
  }

  /* ------------------------------------------------------------------ */
  /* Figures                                                             */
  /* ------------------------------------------------------------------ */

  /** Live and free bytes, per size class, per pool, per worker: read from the heap's memory. */
  stats(): HeapStats {
    return heapStats(this);
  }
}
