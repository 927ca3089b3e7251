/*
 * kmem/heap: the package entry `import { Heap } from 'kmem/heap'`.
 *
 * A malloc for JavaScript threads (Node worker_threads, Web Workers with
 * cross-origin isolation) sharing one SharedArrayBuffer, built on the
 * Linux kernel's SLUB and page allocator as kmem models them: per-thread
 * caches on the fast path, the kernel's reports for bad frees. Core code
 * only: no Node API, so the same bundle runs in browsers.
 */
export { Heap, type HeapOptions, type PoolOptions, type SharedHeap } from './heap.ts';
export { Pool } from './pool.ts';
export type { CacheStats, HeapStats, WorkerStats } from './stats.ts';
export { KernelBug } from '../kernel/bug.ts';
export { SmpError } from '../kernel/smp.ts';
export { HEAP_MAX_SIZE, HEAP_MIN_SIZE } from './machine.ts';
