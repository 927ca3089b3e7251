/*
 * Page allocator micro-benchmarks: one op = one allocation + one free.
 *
 *   raw free list   an Int32Array used as a LIFO stack of page indices:
 *                   pop to allocate, push to free. The physical limit for
 *                   a page allocator written in JavaScript.
 *   order 0         alloc_pages(GFP_KERNEL, 0) / __free_pages(page, 0):
 *                   served from this CPU's pcp list (refilled / drained
 *                   `batch` pages at a time from the buddy lists).
 *   order 0 (pfn)   k.buddy.__alloc_pages / k.buddy.__free_pages: the same
 *                   path without struct page * <-> pfn conversion.
 *   order 3         also pcp-cached in 6.12 (orders 0..PAGE_ALLOC_COSTLY_ORDER).
 *   order 4         the smallest order that bypasses the pcp lists: the buddy
 *                   path proper (__rmqueue_smallest + expand on allocation,
 *                   __free_one_page merging on free), under the zone lock.
 *
 * Access patterns:
 *   lifo     allocate, free the same block at once (the best case: the block
 *            just freed is the one handed out next).
 *   window   keep W blocks live; each op allocates one block and frees a
 *            randomly chosen live one (seeded: the same sequence every run).
 *            The struct pages touched are spread over the window.
 *   burst    allocate B blocks, then free them in a seeded random order;
 *            ns per pair = batch time / B. Exercises pcp refill
 *            (rmqueue_bulk) and drain (free_pcppages_bulk) when B exceeds
 *            what the pcp list holds.
 * The raw free list runs each pattern too, so every kernel row has a
 * baseline with the same bookkeeping around it.
 * bench/models.ts adds two reference rows (what a pcp pair could cost).
 */
import type { Kernel } from '../src/kernel/kernel.ts';
import { NR_FREE_PAGES } from '../src/mm/mmzone.ts';
import { permutation, randomInts, type Task } from './harness.ts';

const RANDOM_COUNT = 1 << 16;
const RANDOM_MASK = RANDOM_COUNT - 1;
export const WINDOW = 1000;
export const BURST = 1024;
export const ORDER4_WINDOW = 256;
const PERMS = 8;

/* ------------------------------------------------------------------ */
/* The raw Int32Array free list                                        */
/* ------------------------------------------------------------------ */

/** A LIFO stack of `n` page indices, all free. */
class RawFreeList {
  readonly stack: Int32Array;
  top: number;
  constructor(n: number) {
    this.stack = new Int32Array(n);
    for (let i = 0; i < n; i++) this.stack[i] = n - 1 - i;
    this.top = n;
  }
}

export function rawTasks(nPages: number): Task[] {
  const lifo = new RawFreeList(nPages);
  const win = new RawFreeList(nPages);
  const live = new Int32Array(WINDOW);
  for (let i = 0; i < WINDOW; i++) live[i] = win.stack[--win.top];
  const rnd = randomInts(1, RANDOM_COUNT, WINDOW);
  let rndPos = 0;
  const burst = new RawFreeList(nPages);
  const held = new Int32Array(BURST);
  const perms = Array.from({ length: PERMS }, (_, i) => permutation(100 + i, BURST));
  let permPos = 0;
  return [
    {
      name: 'raw Int32Array free list, lifo', unit: 'pair',
      run(n) {
        const s = lifo.stack;
        let top = lifo.top;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const idx = s[--top]; // allocate
          sum = (sum + idx) | 0;
          s[top++] = idx; // free
        }
        lifo.top = top;
        return sum;
      },
    },
    {
      name: `raw Int32Array free list, window ${WINDOW}`, unit: 'pair',
      run(n) {
        const s = win.stack;
        let top = win.top;
        let sum = 0;
        let j = rndPos;
        for (let i = 0; i < n; i++) {
          const idx = s[--top];
          const r = rnd[j++ & RANDOM_MASK];
          const old = live[r];
          live[r] = idx;
          s[top++] = old;
          sum = (sum + idx) | 0;
        }
        rndPos = j & RANDOM_MASK;
        win.top = top;
        return sum;
      },
    },
    {
      name: `raw Int32Array free list, burst ${BURST}`, unit: 'pair', minOps: BURST,
      run(n) {
        const s = burst.stack;
        let top = burst.top;
        let sum = 0;
        for (let done = 0; done < n; done += BURST) {
          for (let i = 0; i < BURST; i++) held[i] = s[--top];
          const p = perms[permPos++ & (PERMS - 1)];
          for (let i = 0; i < BURST; i++) {
            const idx = held[p[i]];
            sum = (sum + idx) | 0;
            s[top++] = idx;
          }
        }
        burst.top = top;
        return sum;
      },
    },
  ];
}

/* ------------------------------------------------------------------ */
/* The kernel's allocator                                              */
/* ------------------------------------------------------------------ */

function noMem(what: string): never {
  throw new Error(`benchmark: ${what} failed (out of memory?)`);
}

/** Pages the allocator can hand out: buddy free pages plus every pcp list. */
export function freePagesTotal(k: Kernel): number {
  let n = 0;
  for (const z of k.buddy.zones) {
    if (!k.buddy.populated(z)) continue;
    n += k.buddy.zoneStat(z, NR_FREE_PAGES);
    if (z.pcps.length) n += k.buddy.pcpTotal(z);
  }
  return n;
}

/** order-N alloc_pages/__free_pages pair on the same block. */
function lifoTask(k: Kernel, order: number, label: string): Task {
  const gfp = k.GFP_KERNEL;
  return {
    name: label, unit: 'pair',
    run(n) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const page = k.alloc_pages(gfp, order);
        if (page === 0) noMem('alloc_pages');
        sum = (sum + page) | 0;
        k.__free_pages(page, order);
      }
      return sum;
    },
  };
}

/** The same through the pfn-level entry points. */
function lifoPfnTask(k: Kernel, order: number, label: string): Task {
  const gfp = k.GFP_KERNEL;
  const b = k.buddy;
  return {
    name: label, unit: 'pair',
    run(n) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const pfn = b.__alloc_pages(gfp, order);
        if (pfn < 0) noMem('__alloc_pages');
        sum = (sum + pfn) | 0;
        b.__free_pages(pfn, order);
      }
      return sum;
    },
  };
}

/** Keep `w` blocks live; each op allocates one and frees a random live one. */
function windowTask(k: Kernel, order: number, w: number, seed: number, label: string): Task {
  const gfp = k.GFP_KERNEL;
  const live = new Float64Array(w); // struct page * values are 48-bit
  for (let i = 0; i < w; i++) {
    live[i] = k.alloc_pages(gfp, order);
    if (live[i] === 0) noMem('alloc_pages');
  }
  const rnd = randomInts(seed, RANDOM_COUNT, w);
  let rndPos = 0;
  return {
    name: label, unit: 'pair',
    run(n) {
      let sum = 0;
      let j = rndPos;
      for (let i = 0; i < n; i++) {
        const page = k.alloc_pages(gfp, order);
        if (page === 0) noMem('alloc_pages');
        const r = rnd[j++ & RANDOM_MASK];
        const old = live[r];
        live[r] = page;
        k.__free_pages(old, order);
        sum = (sum + page) | 0;
      }
      rndPos = j & RANDOM_MASK;
      return sum;
    },
    teardown() {
      for (let i = 0; i < w; i++) k.__free_pages(live[i], order);
    },
  };
}

function windowPfnTask(k: Kernel, w: number, seed: number, label: string): Task {
  const gfp = k.GFP_KERNEL;
  const b = k.buddy;
  const live = new Int32Array(w);
  for (let i = 0; i < w; i++) {
    live[i] = b.__alloc_pages(gfp, 0);
    if (live[i] < 0) noMem('__alloc_pages');
  }
  const rnd = randomInts(seed, RANDOM_COUNT, w);
  let rndPos = 0;
  return {
    name: label, unit: 'pair',
    run(n) {
      let sum = 0;
      let j = rndPos;
      for (let i = 0; i < n; i++) {
        const pfn = b.__alloc_pages(gfp, 0);
        if (pfn < 0) noMem('__alloc_pages');
        const r = rnd[j++ & RANDOM_MASK];
        const old = live[r];
        live[r] = pfn;
        b.__free_pages(old, 0);
        sum = (sum + pfn) | 0;
      }
      rndPos = j & RANDOM_MASK;
      return sum;
    },
    teardown() {
      for (let i = 0; i < w; i++) b.__free_pages(live[i], 0);
    },
  };
}

/** Allocate BURST order-0 pages, free them in a seeded random order. */
function burstTask(k: Kernel, label: string): Task {
  const gfp = k.GFP_KERNEL;
  const held = new Float64Array(BURST);
  const perms = Array.from({ length: PERMS }, (_, i) => permutation(200 + i, BURST));
  let permPos = 0;
  return {
    name: label, unit: 'pair', minOps: BURST,
    run(n) {
      let sum = 0;
      for (let done = 0; done < n; done += BURST) {
        for (let i = 0; i < BURST; i++) {
          const page = k.alloc_pages(gfp, 0);
          if (page === 0) noMem('alloc_pages');
          held[i] = page;
        }
        const p = perms[permPos++ & (PERMS - 1)];
        for (let i = 0; i < BURST; i++) {
          const page = held[p[i]];
          sum = (sum + page) | 0;
          k.__free_pages(page, 0);
        }
      }
      return sum;
    },
  };
}

export function kernelTasks(k: Kernel): Task[] {
  return [
    lifoTask(k, 0, 'order-0 alloc_pages/__free_pages, lifo (pcp)'),
    lifoPfnTask(k, 0, 'order-0 buddy.__alloc_pages/__free_pages (pfn), lifo (pcp)'),
    windowTask(k, 0, WINDOW, 2, `order-0 alloc_pages/__free_pages, window ${WINDOW} (pcp)`),
    windowPfnTask(k, WINDOW, 3, `order-0 (pfn), window ${WINDOW} (pcp)`),
    burstTask(k, `order-0 alloc_pages/__free_pages, burst ${BURST} (pcp refill/drain)`),
    lifoTask(k, 3, 'order-3 alloc_pages/__free_pages, lifo (pcp)'),
    lifoTask(k, 4, 'order-4 alloc_pages/__free_pages, lifo (buddy)'),
    windowTask(k, 4, ORDER4_WINDOW, 4, `order-4 alloc_pages/__free_pages, window ${ORDER4_WINDOW} (buddy)`),
  ];
}

/** pcp parameters of the zone GFP_KERNEL allocations come from, on the current CPU. */
export function pcpContext(k: Kernel): { zone: string; count: number; high: number; batch: number; highMin: number; highMax: number } {
  const page = k.alloc_pages(k.GFP_KERNEL, 0);
  if (page === 0) noMem('alloc_pages');
  const zone = k.page_zone(page);
  k.__free_pages(page, 0);
  return { zone: `Node ${zone.nid} ${zone.name}`, ...k.buddy.pcpCounts(zone, k.smp_processor_id()) };
}
