/*
 * One thread of bench/heap.ts's multi-worker rows. Modes:
 *
 *   heap-fixed   Heap.attach(), then `ops` pairs of alloc(64) + free
 *   heap-mixed   Heap.attach(), a window of WINDOW live blocks of 8..4096
 *                bytes, log-uniform (seeded per worker); each op frees a
 *                random one and allocates a new one
 *   heap-uniform the same with sizes uniform in 8..4096 (most blocks 2 and
 *                4 KiB, as in ../shared/reference/js-allocators.md)
 *   lock         one free list of slots shared by every worker, behind one
 *                Atomics compare-and-exchange spinlock: pop under the
 *                lock, push under the lock (what a JS user would write
 *                around a single-threaded allocator)
 *   local        a free list of the worker's own (an Int32Array nobody
 *                else touches): how far this machine lets independent
 *                threads scale at all, the ceiling for the others
 *
 * All workers warm up, then wait at a barrier so they run at the same
 * time; each reports its own ns for the timed ops.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Heap, type SharedHeap } from '../src/heap/index.ts';

export interface HeapWorkerData {
  mode: 'heap-fixed' | 'heap-mixed' | 'heap-uniform' | 'lock' | 'local';
  shared: SharedHeap | null;
  /** [0] lock word, [1] list head, [2] ready count, [3] go flag; then next[] of the lock list. */
  control: SharedArrayBuffer;
  ops: number;
  id: number;
}

export const LOCK_SLOTS = 1 << 16;
export const WINDOW = 1000;

function lockList(ctl: Int32Array, next: Int32Array, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k++) {
    while (Atomics.compareExchange(ctl, 0, 0, 1) !== 0) { /* spin */ }
    const i = ctl[1];
    ctl[1] = next[i];
    Atomics.store(ctl, 0, 0);
    sum = (sum + i) | 0;
    while (Atomics.compareExchange(ctl, 0, 0, 1) !== 0) { /* spin */ }
    next[i] = ctl[1];
    ctl[1] = i;
    Atomics.store(ctl, 0, 0);
  }
  return sum;
}

function localList(): (n: number) => number {
  const next = new Int32Array(LOCK_SLOTS);
  for (let i = 0; i < LOCK_SLOTS; i++) next[i] = i + 1;
  let head = 0;
  return (ops) => {
    let sum = 0;
    for (let k = 0; k < ops; k++) {
      const i = head;
      head = next[i];
      sum = (sum + i) | 0;
      next[i] = head;
      head = i;
    }
    return sum;
  };
}

function heapRun(heap: Heap, mode: string, id: number): (n: number) => number {
  if (mode === 'heap-fixed') {
    return (n) => {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        const p = heap.alloc(64);
        sum = (sum + p) | 0;
        heap.free(p);
      }
      return sum;
    };
  }
  let seed = 12345 + id * 7919;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const sizes = new Int32Array(1 << 16);
  const picks = new Int32Array(1 << 16);
  for (let i = 0; i < sizes.length; i++) {
    const r = rnd();
    sizes[i] = mode === 'heap-uniform' ? 8 + r % 4089 : Math.floor(8 * 2 ** ((r % 10000) / 10000 * 9));
    picks[i] = rnd() % WINDOW;
  }
  const live = new Int32Array(WINDOW);
  for (let i = 0; i < WINDOW; i++) live[i] = heap.alloc(sizes[i]);
  let j = 0;
  return (n) => {
    let sum = 0;
    for (let k = 0; k < n; k++, j++) {
      const p = heap.alloc(sizes[j & 0xffff]);
      const r = picks[j & 0xffff];
      heap.free(live[r]);
      live[r] = p;
      sum = (sum + p) | 0;
    }
    return sum;
  };
}

function main(d: HeapWorkerData): void {
  const ctl = new Int32Array(d.control);
  const next = new Int32Array(d.control, 16);
  const heap = d.shared === null ? null : Heap.attach(d.shared);
  const run = heap !== null ? heapRun(heap, d.mode, d.id)
    : d.mode === 'local' ? localList() : (n: number) => lockList(ctl, next, n);
  run(Math.min(d.ops, 1_000_000)); // warm-up: JIT and this CPU's slabs
  Atomics.add(ctl, 2, 1);
  while (Atomics.load(ctl, 3) === 0) Atomics.wait(ctl, 3, 0, 10);
  const t0 = performance.now();
  const sum = run(d.ops);
  const ns = (performance.now() - t0) * 1e6;
  parentPort!.postMessage({ ns, sum });
  if (heap !== null) heap.detach();
}

if (!isMainThread) main(workerData as HeapWorkerData);
