/*
 * The SMP stress test (issue 5): several CPUs, each on its own host thread,
 * allocate and free at the same time through kmalloc/kfree,
 * kmem_cache_alloc/free and alloc_pages/__free_pages, and hand many of
 * their objects to another CPU to free (the cross-CPU frees SLUB's
 * __slab_free and the remote pcp paths exist for).
 *
 * Every object carries a tag: a word written at its first 4 bytes when it
 * is allocated and its complement in its last 4 bytes, checked when it is
 * freed, wherever that happens. A live bitmap (one bit per 8 bytes of
 * physical memory, set with Atomics.or when an address is handed out)
 * catches the same address handed to two holders at once; an overlap
 * between two live objects overwrites one of their tags.
 *
 * The bookkeeping is the test's, not the kernel's, so it lives in a
 * SharedArrayBuffer of its own (as a KUnit test's locals are not kernel
 * state):
 *
 *   Int32 words
 *   [0]  stop            set by any worker when time is up
 *   [1]  done            workers that freed or handed off all they hold
 *   [16 + 16w ...]       worker w: ops, allocs, frees, cross_sent, cross_freed,
 *                        tag_errors, double_allocations
 *   mailbox (from, to)   a single-producer single-consumer ring of RING
 *                        entries [va, kind, size, tag] (Float64), with its
 *                        head (consumer) and tail (producer) words
 *   live bitmap          one bit per 8 bytes of RAM
 *
 * The loop is core code (no Node API): the command line (src/cli/stress.ts)
 * runs it in worker_threads, a browser could run it in Web Workers.
 */
import type { Kernel } from '../kernel/kernel.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { MAX_PAGE_ORDER } from '../mm/mmzone.ts';

const HDR_WORDS = 16;
const WORKER_WORDS = 16;
const W_OPS = 0;
const W_ALLOCS = 1;
const W_FREES = 2;
const W_CROSS_SENT = 3;
const W_CROSS_FREED = 4;
const W_TAG_ERRORS = 5;
const W_DOUBLE = 6;
const RING = 256;
const ENTRY = 4;
/** Objects one worker holds at most. */
const MAX_LIVE = 2048;
/** How many ops between looks at the clock. */
const CLOCK_EVERY = 256;

const KIND_KMALLOC = 0;
const KIND_CACHE = 1;
const KIND_PAGES = 2;

/** The stress test's shared bookkeeping (structured-cloneable: post it to the workers). */
export interface StressShared {
  workers: number;
  ramBytes: number;
  sab: SharedArrayBuffer;
}

export interface StressWorkerOptions {
  /** Stop after this many operations (each worker). */
  maxOps: number;
  /** Stop after this many seconds (wall clock). */
  seconds: number;
  seed: number;
  /** The kmem_cache shared by all workers. */
  cache: number;
  cacheSize: number;
}

export function createStressShared(workers: number, ramBytes: number): StressShared {
  const bitmapWords = Math.ceil(ramBytes / 8 / 32);
  const bytes = layoutOf(workers).bitmapWord * 4 + bitmapWords * 4;
  return { workers, ramBytes, sab: new SharedArrayBuffer(bytes) };
}

function layoutOf(workers: number) {
  const counters = HDR_WORDS + workers * WORKER_WORDS;
  const pairs = workers * workers;
  const ringIdx = counters; // 2 words (head, tail) per pair
  const ringDataByte = Math.ceil(((ringIdx + 2 * pairs) * 4) / 8) * 8;
  const bitmapByte = ringDataByte + pairs * RING * ENTRY * 8;
  return { ringIdx, ringDataF64: ringDataByte / 8, bitmapWord: bitmapByte / 4 };
}

/** xorshift32: the same seed, the same operation sequence on each worker. */
function nextRandom(state: Int32Array): number {
  let x = state[0];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x;
  return (x >>> 0) / 4294967296;
}

/** One worker's part: runs on CPU `w`'s thread with the Kernel attach() returned. */
export class StressWorker {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly L: ReturnType<typeof layoutOf>;
  private readonly base: number;
  private readonly rnd = new Int32Array(1);
  /* what this worker holds: va, kind, size (bytes; order for pages), tag */
  private readonly va = new Float64Array(MAX_LIVE);
  private readonly kind = new Int32Array(MAX_LIVE);
  private readonly size = new Int32Array(MAX_LIVE);
  private readonly tag = new Int32Array(MAX_LIVE);
  private live = 0;
  private nextTag: number;

  constructor(
    private readonly k: Kernel,
    private readonly h: StressShared,
    private readonly w: number,
    private readonly o: StressWorkerOptions,
  ) {
    this.i32 = new Int32Array(h.sab);
    this.f64 = new Float64Array(h.sab);
    this.L = layoutOf(h.workers);
    this.base = HDR_WORDS + w * WORKER_WORDS;
    this.rnd[0] = (o.seed * 2654435761 + w * 40503 + 1) | 0 || 1;
    this.nextTag = (w + 1) << 24;
  }

  /** The loop; returns when it started and ended (Date.now() ms), for the throughput. */
  run(): { startMs: number; endMs: number } {
    const startMs = Date.now();
    const deadline = startMs + this.o.seconds * 1000;
    let ops = 0;
    while (ops < this.o.maxOps && Atomics.load(this.i32, 0) === 0) {
      this.drainInbox();
      const r = nextRandom(this.rnd);
      if (this.live < MAX_LIVE && (this.live === 0 || r < 0.55)) this.allocate(nextRandom(this.rnd));
      else this.release(Math.floor(nextRandom(this.rnd) * this.live));
      ops++;
      this.add(W_OPS, 1);
      if ((ops & (CLOCK_EVERY - 1)) === 0 && Date.now() >= deadline) Atomics.store(this.i32, 0, 1);
    }
    // Give back everything: half to the others (more cross-CPU frees), half here.
    while (this.live > 0) this.release(this.live - 1);
    Atomics.add(this.i32, 1, 1);
    // Free what the others still send until every worker is done and the inbox is empty.
    for (;;) {
      const allDone = Atomics.load(this.i32, 1) === this.h.workers;
      if (this.drainInbox() === 0 && allDone) break;
    }
    return { startMs, endMs: Date.now() };
  }

  private add(field: number, n: number): void {
    this.i32[this.base + field] += n;
  }

  private allocate(r: number): void {
    const k = this.k;
    let va = 0;
    let kind = KIND_KMALLOC;
    let size = 0;
    if (r < 0.6) {
      size = 8 + Math.floor(nextRandom(this.rnd) * nextRandom(this.rnd) * 4089);
      va = k.kmalloc(size, k.GFP_KERNEL);
    } else if (r < 0.9) {
      kind = KIND_CACHE;
      size = this.o.cacheSize;
      va = k.kmem_cache_alloc(this.o.cache, k.GFP_KERNEL);
    } else {
      kind = KIND_PAGES;
      const order = Math.floor(nextRandom(this.rnd) * 3);
      const page = k.alloc_pages(k.GFP_KERNEL, order);
      va = page === 0 ? 0 : k.page_address(page);
      size = PAGE_SIZE << order;
    }
    if (va === 0) return;
    this.add(W_ALLOCS, 1);
    const pa = k.kaddr.__pa(va);
    if (!this.markLive(pa)) this.add(W_DOUBLE, 1);
    const tag = this.nextTag++ | 0;
    k.mem.write32(pa, tag >>> 0);
    k.mem.write32(pa + size - 4, ~tag >>> 0);
    const i = this.live++;
    this.va[i] = va;
    this.kind[i] = kind;
    this.size[i] = kind === KIND_PAGES ? Math.log2(size / PAGE_SIZE) : size;
    this.tag[i] = tag;
  }

  /** Free object i here, or (half the time, with other workers) hand it to one of them. */
  private release(i: number): void {
    const va = this.va[i];
    const kind = this.kind[i];
    const size = this.size[i];
    const tag = this.tag[i];
    const last = --this.live;
    this.va[i] = this.va[last];
    this.kind[i] = this.kind[last];
    this.size[i] = this.size[last];
    this.tag[i] = this.tag[last];
    if (this.h.workers > 1 && nextRandom(this.rnd) < 0.5) {
      let to = Math.floor(nextRandom(this.rnd) * (this.h.workers - 1));
      if (to >= this.w) to++;
      if (this.send(to, va, kind, size, tag)) {
        this.add(W_CROSS_SENT, 1);
        return;
      }
    }
    this.freeObject(va, kind, size, tag);
  }

  private freeObject(va: number, kind: number, size: number, tag: number): void {
    const k = this.k;
    const pa = k.kaddr.__pa(va);
    const bytes = kind === KIND_PAGES ? PAGE_SIZE << size : size;
    if ((k.mem.read32(pa) | 0) !== tag || (k.mem.read32(pa + bytes - 4) | 0) !== ~tag) this.add(W_TAG_ERRORS, 1);
    this.clearLive(pa);
    if (kind === KIND_KMALLOC) k.kfree(va);
    else if (kind === KIND_CACHE) k.kmem_cache_free(this.o.cache, va);
    else k.free_pages(va, size);
    this.add(W_FREES, 1);
  }

  private markLive(pa: number): boolean {
    const bit = pa / 8;
    const word = this.L.bitmapWord + Math.floor(bit / 32);
    const mask = 1 << (bit % 32);
    return (Atomics.or(this.i32, word, mask) & mask) === 0;
  }

  private clearLive(pa: number): void {
    const bit = pa / 8;
    Atomics.and(this.i32, this.L.bitmapWord + Math.floor(bit / 32), ~(1 << (bit % 32)));
  }

  /* --- mailboxes: ring (from, to) has head at ringIdx + 2*pair, tail at +1 --- */

  private send(to: number, va: number, kind: number, size: number, tag: number): boolean {
    const pair = this.w * this.h.workers + to;
    const hi = this.L.ringIdx + 2 * pair;
    const tail = Atomics.load(this.i32, hi + 1);
    if (tail - Atomics.load(this.i32, hi) >= RING) return false;
    const e = this.L.ringDataF64 + (pair * RING + (tail % RING)) * ENTRY;
    this.f64[e] = va;
    this.f64[e + 1] = kind;
    this.f64[e + 2] = size;
    this.f64[e + 3] = tag;
    Atomics.store(this.i32, hi + 1, tail + 1);
    return true;
  }

  /** Free everything the other workers sent; returns how many. */
  private drainInbox(): number {
    let n = 0;
    for (let from = 0; from < this.h.workers; from++) {
      if (from === this.w) continue;
      const pair = from * this.h.workers + this.w;
      const hi = this.L.ringIdx + 2 * pair;
      let head = Atomics.load(this.i32, hi);
      const tail = Atomics.load(this.i32, hi + 1);
      while (head !== tail) {
        const e = this.L.ringDataF64 + (pair * RING + (head % RING)) * ENTRY;
        this.freeObject(this.f64[e], this.f64[e + 1], this.f64[e + 2], this.f64[e + 3]);
        this.add(W_CROSS_FREED, 1);
        head++;
        n++;
      }
      Atomics.store(this.i32, hi, head);
    }
    return n;
  }
}

/** The machine's side of the books, taken before and after the run on the booting thread. */
export interface KernelBooks {
  /** active_objs of every cache, by address. */
  activeObjs: Map<number, number>;
  freePages: number;
  /** Pages in slabs (/proc/slabinfo's num_slabs times pages per slab, every cache). */
  slabPages: number;
  logSeq: number;
}

/**
 * With every CPU back on this thread: empty the per-CPU caches (so that
 * only objects in use count as active) and read the books. Shrinking a
 * cache with percpu sheaves frees its sheaves into kmalloc caches that may
 * have been shrunk already: shrink all until the counts stop changing.
 */
export function kernelBooks(k: Kernel): KernelBooks {
  const activeObjs = new Map<number, number>();
  let last = '';
  for (let pass = 0; pass < 8; pass++) {
    for (const s of k.slab.caches()) k.kmem_cache_shrink(s);
    const now = k.slab.slabinfo().map((r) => r.info.active_objs).join(' ');
    if (now === last) break;
    last = now;
  }
  k.drain_all_pages();
  const info = k.slab.slabinfo();
  k.slab.caches().forEach((s, i) => activeObjs.set(s, info[i].info.active_objs));
  let freePages = 0;
  for (const z of k.buddy.zones) for (let order = 0; order <= MAX_PAGE_ORDER; order++) freePages += k.buddy.nr_free(z, order) << order;
  const slabPages = info.reduce((n, r) => n + r.info.num_slabs * 2 ** r.info.cache_order, 0);
  return { activeObjs, freePages, slabPages, logSeq: k.log.nextSeq };
}

export interface StressResult {
  workers: number;
  slab: string;
  seconds: number;
  ops: number;
  ops_per_second: number;
  allocations: number;
  frees: number;
  cross_cpu_frees: number;
  double_allocations: number;
  /** Objects the workers allocated and never freed, plus objects the caches still count as active. */
  lost_objects: number;
  /** Pages missing from the free lists after everything was freed. */
  lost_pages: number;
  /** Tags found overwritten at free. */
  overwritten_tags: number;
  /** Reports in the kernel log during the run and from validate_slab_cache() on every cache after it. */
  debug_reports: number;
  per_worker_ops: number[];
}

/**
 * Sum the workers' books and compare the machine's before and after.
 * `seconds`: from the first worker's start to the last one's end (their loops, not their start-up).
 */
export function stressResult(k: Kernel, h: StressShared, before: KernelBooks, seconds: number): StressResult {
  const i32 = new Int32Array(h.sab);
  const sum = (field: number) => {
    let n = 0;
    for (let w = 0; w < h.workers; w++) n += i32[HDR_WORDS + w * WORKER_WORDS + field];
    return n;
  };
  const after = kernelBooks(k);
  let cacheLost = 0;
  for (const [s, n] of after.activeObjs) cacheLost += Math.abs(n - (before.activeObjs.get(s) ?? 0));
  for (const s of k.slab.caches()) k.validate_slab_cache(s); // reports what it finds in the log
  const reports = (k.log.dmesg(before.logSeq).match(/^(?:\[[ \d.]+\] )?(?:BUG|WARNING|watchdog: BUG|kernel BUG)/gm) ?? []).length;
  const ops = sum(W_OPS);
  return {
    workers: h.workers,
    slab: k.config.slab ?? 'slub',
    seconds,
    ops,
    ops_per_second: Math.round(ops / Math.max(seconds, 1e-6)),
    allocations: sum(W_ALLOCS),
    frees: sum(W_FREES),
    cross_cpu_frees: sum(W_CROSS_FREED),
    double_allocations: sum(W_DOUBLE),
    lost_objects: sum(W_ALLOCS) - sum(W_FREES) + cacheLost,
    // With percpu sheaves the CPUs' main sheaves (kmalloc objects) are others than before, possibly in other slabs:
    // slab pages holding the same number of live objects are not lost (lost objects counts those exactly).
    lost_pages: before.freePages - after.freePages - (k.config.sheaves !== undefined ? after.slabPages - before.slabPages : 0),
    overwritten_tags: sum(W_TAG_ERRORS),
    debug_reports: reports,
    per_worker_ops: Array.from({ length: h.workers }, (_, w) => i32[HDR_WORDS + w * WORKER_WORDS + W_OPS]),
  };
}
