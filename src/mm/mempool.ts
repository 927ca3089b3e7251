/*
 * Memory pools (mm/mempool.c, include/linux/mempool.h, Linux 6.12): a
 * reserve of preallocated elements that keeps a driver going when the
 * allocator underneath fails, as block I/O must to free memory at all.
 *
 * struct mempool_s (mempool_t), kmalloc'd by mempool_create() or embedded
 * in the caller's structure (mempool_init()):
 *
 *   x86_64  i386
 *   +0      +0   lock       spinlock_t
 *   +4      +4   min_nr     int   elements kept in reserve
 *   +8      +8   curr_nr    int   elements in the reserve now
 *   +16     +12  elements   void **, kmalloc_array(min_nr, sizeof(void *))
 *   +24     +16  pool_data  void *: the kmem_cache, the kmalloc size, the page order
 *   +32     +20  alloc      mempool_alloc_t *  (a code address, kallsyms)
 *   +40     +24  free       mempool_free_t *
 *   +48     +28  wait       wait_queue_head_t (kernel/wait.ts)
 *   72      40   bytes: kmalloc-96 / kmalloc-64
 *
 *   elements[0 .. curr_nr)   the reserve, a stack: remove_element() takes
 *                            elements[--curr_nr], add_element() pushes
 *
 * mempool_alloc(pool, gfp):
 *   1. pool->alloc(gfp without __GFP_DIRECT_RECLAIM and __GFP_IO, plus
 *      __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN): cheap, no reclaim
 *   2. an element from the reserve
 *   3. (if 1 was without reclaim) pool->alloc with the caller's gfp: may reclaim
 *   4. a caller that cannot sleep gets NULL
 *   5. sleep on pool->wait until mempool_free() brings an element back (or
 *      5 s pass), then start over from 1. In kmem's single-threaded mode no
 *      one can bring one back: the wait would never end. kmem logs
 *
 *        kmem: mempool_alloc would sleep forever: no element can come back (single-threaded)
 *
 *      with the pool's state and the stack, raises KernelBug (kind
 *      'deadlock') under errors: 'throw', and returns NULL. With the SMP
 *      layer's Sleeper (kernel/wait.ts: other host threads attached as
 *      CPUs) the task really sleeps, and is woken by their mempool_free().
 *
 * mempool_free(element, pool): back into the reserve while curr_nr <
 * min_nr (and wake a waiter), else pool->free().
 *
 * The helpers mempool_alloc_slab/free_slab, mempool_kmalloc/kfree and
 * mempool_alloc_pages/free_pages are kernel functions with code addresses.
 * When slub_debug is on (CONFIG_SLUB_DEBUG_ON in the kernel; the slub_debug
 * boot option in kmem), elements resting in a pool of those helpers are
 * poisoned (POISON_FREE, POISON_END last) and checked when taken out
 * ("BUG: mempool element poison mismatch"), then filled with POISON_INUSE.
 * KASAN's mempool hooks are not modelled.
 */
import { PAGE_SIZE, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import type { KernelAddr } from '../arch/x86/kaddr.ts';
import type { PhysMem } from '../machine/memory.ts';
import { defineStruct } from '../kernel/struct_layout.ts';
import { KERN_ERR, type Bug, type Log } from '../kernel/bug.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import { HZ, type WaitQueues } from '../kernel/wait.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import {
  GFP_KERNEL, __GFP_DIRECT_RECLAIM, __GFP_IO, __GFP_NOMEMALLOC, __GFP_NORETRY, __GFP_NOWARN, __GFP_ZERO,
} from '../include/linux/gfp_types.ts';
import { format_gfp_mode } from '../include/trace/events/mmflags.ts';
import type { Pages } from './page.ts';
import type { PageAllocator } from './page_alloc.ts';
import type { SlabCommon } from './slab_common.ts';

/* include/linux/poison.h */
export const POISON_INUSE = 0x5a;
export const POISON_FREE = 0x6b;
export const POISON_END = 0xa5;

const ENOMEM = 12;
const EINVAL = 22;
const ALLOC_FRAMES = ['mempool_alloc_noprof'];

export function mempoolLayout(ptrSize: 4 | 8, waitBytes: number) {
  return defineStruct(ptrSize, [
    ['lock', 'int'],
    ['min_nr', 'int'],
    ['curr_nr', 'int'],
    ['elements', 'ptr'],
    ['pool_data', 'ptr'],
    ['alloc', 'ptr'],
    ['free', 'ptr'],
    ['wait', { size: waitBytes, align: ptrSize }],
  ]);
}

/** The kernel's alloc and free helpers, by code address. */
export interface MempoolHelpers {
  mempool_alloc_slab: number;
  mempool_free_slab: number;
  mempool_kmalloc: number;
  mempool_kfree: number;
  mempool_alloc_pages: number;
  mempool_free_pages: number;
}

export interface MempoolDeps {
  layout: ArchLayout;
  mem: PhysMem;
  kaddr: KernelAddr;
  pages: Pages;
  buddy: PageAllocator;
  slab: SlabCommon;
  kallsyms: Kallsyms;
  wait: WaitQueues;
  log: Log;
  bug: Bug;
  sched: Sched;
  /** CONFIG_SLUB_DEBUG_ON: poison the elements a pool holds. */
  poison: boolean;
}

/** slub_debug on the command line, in any form but "slub_debug=-" (all off): mempool poisoning is on. */
export function slubDebugOn(cmdline: string): boolean {
  let on = false;
  for (const param of cmdline.split(/\s+/)) {
    const m = /^sl[au]b_debug(?:=(.*))?$/.exec(param);
    if (m) on = m[1] === undefined || !m[1].startsWith('-');
  }
  return on;
}

export class Mempools {
  readonly L: ReturnType<typeof mempoolLayout>;
  readonly helpers: MempoolHelpers;
  private readonly k: KernelAddr;
  private readonly ptr: 4 | 8;

  constructor(private readonly d: MempoolDeps) {
    this.k = d.kaddr;
    this.ptr = d.layout.ptrSize;
    this.L = mempoolLayout(this.ptr, d.wait.L.size);
    const reg = (name: string, fn: (a: number, b: number) => number | void) => d.kallsyms.register(name, fn, fn);
    this.helpers = {
      mempool_alloc_slab: reg('mempool_alloc_slab', (gfp, kc) => this.mempool_alloc_slab(gfp, kc)),
      mempool_free_slab: reg('mempool_free_slab', (el, kc) => this.mempool_free_slab(el, kc)),
      mempool_kmalloc: reg('mempool_kmalloc', (gfp, size) => this.mempool_kmalloc(gfp, size)),
      mempool_kfree: reg('mempool_kfree', (el, size) => this.mempool_kfree(el, size)),
      mempool_alloc_pages: reg('mempool_alloc_pages', (gfp, order) => this.mempool_alloc_pages(gfp, order)),
      mempool_free_pages: reg('mempool_free_pages', (el, order) => this.mempool_free_pages(el, order)),
    };
  }

  /** sizeof(mempool_t) */
  get size(): number {
    return this.L.size;
  }

  /* ------------------------------------------------------------------ */
  /* The fields                                                          */
  /* ------------------------------------------------------------------ */

  min_nr(pool: number): number {
    return this.k.read32(pool + this.L.min_nr) | 0;
  }

  curr_nr(pool: number): number {
    return this.k.read32(pool + this.L.curr_nr) | 0;
  }

  private set_curr_nr(pool: number, v: number): void {
    this.k.write32(pool + this.L.curr_nr, v);
  }

  elements(pool: number): number {
    return this.k.readPtr(pool + this.L.elements);
  }

  pool_data(pool: number): number {
    return this.k.readPtr(pool + this.L.pool_data);
  }

  allocFn(pool: number): number {
    return this.k.readPtr(pool + this.L.alloc);
  }

  freeFn(pool: number): number {
    return this.k.readPtr(pool + this.L.free);
  }

  /** mempool_initialized(): the elements array exists. */
  mempool_initialized(pool: number): boolean {
    return this.elements(pool) !== 0;
  }

  /** mempool_is_saturated(): the reserve is full. */
  mempool_is_saturated(pool: number): boolean {
    return this.curr_nr(pool) >= this.min_nr(pool);
  }

  /** The reserved elements, bottom of the stack first (views and tests). */
  reserved(pool: number): number[] {
    const els = this.elements(pool);
    return Array.from({ length: this.curr_nr(pool) }, (_, i) => this.k.readPtr(els + i * this.ptr));
  }

  /* ------------------------------------------------------------------ */
  /* Poisoning (CONFIG_SLUB_DEBUG_ON)                                    */
  /* ------------------------------------------------------------------ */

  /** The bytes an element of a helper-backed pool covers: [physical address, size] runs; null for other pools. */
  private elementBytes(pool: number, element: number, byFree: boolean): [number, number] | null {
    const fn = byFree ? this.freeFn(pool) : this.allocFn(pool);
    const h = this.helpers;
    const data = this.pool_data(pool);
    if (fn === (byFree ? h.mempool_kfree : h.mempool_kmalloc)) return [this.k.__pa(element), data];
    if (fn === (byFree ? h.mempool_free_slab : h.mempool_alloc_slab)) return [this.k.__pa(element), this.d.slab.kmem_cache_size(data)];
    if (fn === (byFree ? h.mempool_free_pages : h.mempool_alloc_pages)) {
      // page_address(), or kmap_local_page() page by page for highmem: the same bytes.
      return [this.d.pages.page_to_pfn(element) * PAGE_SIZE, PAGE_SIZE << data];
    }
    return null;
  }

  /** poison_element() */
  private poison_element(pool: number, element: number): void {
    const run = this.elementBytes(pool, element, false);
    if (run === null || run[1] === 0) return;
    this.d.mem.fill(run[0], run[1] - 1, POISON_FREE);
    this.d.mem.write8(run[0] + run[1] - 1, POISON_END);
  }

  /** check_element(): the poison intact, then POISON_INUSE over the element. */
  private check_element(pool: number, element: number): void {
    const run = this.elementBytes(pool, element, true);
    if (run === null || run[1] === 0) return;
    const [pa, size] = run;
    const bytes = this.d.mem.readBytes(pa, size);
    for (let i = 0; i < size; i++) {
      const exp = i < size - 1 ? POISON_FREE : POISON_END;
      if (bytes[i] !== exp) {
        this.poison_error(pool, element, bytes, i);
        break;
      }
    }
    this.d.mem.fill(pa, size, POISON_INUSE);
  }

  /** poison_error(): the bytes around the first bad one. */
  private poison_error(pool: number, element: number, bytes: Uint8Array, byte: number): void {
    const size = bytes.length;
    const word = this.d.layout.bits / 8;
    const start = Math.max(byte - word, 0);
    const end = Math.min(byte + word, size);
    let dump = '';
    for (let i = start; i < end; i++) dump += `${bytes[i].toString(16)} `;
    const l = this.d.layout;
    const lines = [
      'BUG: mempool element poison mismatch',
      `Mempool ${ptr_to_id(l, pool)} size ${size}`,
      ` nr=${this.curr_nr(pool)} @ ${ptr_to_id(l, element)}: ${start > 0 ? '... ' : ''}0x${dump}${end < size ? '...' : ''}`,
    ];
    for (const line of lines) this.d.log.printk(KERN_ERR, line);
    lines.push(...this.d.bug.dump_stack(['remove_element', 'mempool_alloc_noprof']));
    this.d.bug.reported('BUG', lines, null);
  }

  /** add_element(): BUG_ON(curr_nr >= min_nr); poison; push. */
  private add_element(pool: number, element: number): void {
    const n = this.curr_nr(pool);
    if (n >= this.min_nr(pool)) {
      this.d.bug.bug('mm/mempool.c', 159, 'add_element', ['mempool_free']);
      return;
    }
    if (this.d.poison) this.poison_element(pool, element);
    this.k.writePtr(this.elements(pool) + n * this.ptr, element);
    this.set_curr_nr(pool, n + 1);
  }

  /** remove_element(): pop (the caller checked curr_nr > 0); check the poison. */
  private remove_element(pool: number): number {
    const n = this.curr_nr(pool) - 1;
    this.set_curr_nr(pool, n);
    const element = this.k.readPtr(this.elements(pool) + n * this.ptr);
    if (this.d.poison) this.check_element(pool, element);
    return element;
  }

  /* ------------------------------------------------------------------ */
  /* Creating and destroying                                             */
  /* ------------------------------------------------------------------ */

  /**
   * mempool_init_node(): set up a zeroed mempool_t at pool and fill the
   * reserve with min_nr elements allocated with gfp; 0 or -ENOMEM (after
   * giving back whatever was allocated).
   */
  mempool_init_node(pool: number, minNr: number, allocFn: number, freeFn: number, poolData: number, gfp: number, node: number): number {
    const k = this.k;
    const L = this.L;
    k.write32(pool + L.lock, 0);
    k.write32(pool + L.min_nr, minNr);
    k.writePtr(pool + L.pool_data, poolData);
    k.writePtr(pool + L.alloc, allocFn);
    k.writePtr(pool + L.free, freeFn);
    this.d.wait.init_waitqueue_head(pool + L.wait);
    // kmalloc_array_node(min_nr, sizeof(void *), gfp, node): a negative int is a huge size_t, which overflows
    const elements = minNr < 0 ? 0 : this.d.slab.__kmalloc_node(minNr * this.ptr, gfp, node);
    k.writePtr(pool + L.elements, elements);
    if (elements === 0) return -ENOMEM;
    while (this.curr_nr(pool) < minNr) {
      const element = this.d.kallsyms.call(allocFn, gfp, poolData);
      if (element === 0) {
        this.mempool_exit(pool);
        return -ENOMEM;
      }
      this.add_element(pool, element);
    }
    return 0;
  }

  /** mempool_create_node(): a kzalloc'd pool set up by mempool_init_node(); 0 on failure. */
  mempool_create_node(minNr: number, allocFn: number, freeFn: number, poolData: number, gfp: number, node: number): number {
    const pool = this.d.slab.__kmalloc_node(this.L.size, gfp | __GFP_ZERO, node);
    if (pool === 0) return 0;
    if (this.mempool_init_node(pool, minNr, allocFn, freeFn, poolData, gfp, node)) {
      this.d.slab.kfree(pool);
      return 0;
    }
    return pool;
  }

  /** mempool_exit(): free the reserve and the elements array (a zeroed, never initialised pool is fine). */
  mempool_exit(pool: number): void {
    while (this.curr_nr(pool) > 0) {
      const element = this.remove_element(pool);
      this.d.kallsyms.call(this.freeFn(pool), element, this.pool_data(pool));
    }
    this.d.slab.kfree(this.elements(pool));
    this.k.writePtr(pool + this.L.elements, 0);
  }

  /**
   * mempool_destroy(): mempool_exit() and kfree(pool); NULL is fine.
   * Elements still handed out are not the pool's business, as in the
   * kernel: they stay allocated until someone frees them (not through
   * this pool, which is gone).
   */
  mempool_destroy(pool: number): void {
    if (pool === 0) return;
    if (this.nullPool(pool, 'mempool_destroy')) return;
    this.mempool_exit(pool);
    this.d.slab.kfree(pool);
  }

  /**
   * mempool_resize(): a smaller reserve frees the surplus; a bigger one
   * gets a new elements array and is refilled with GFP_KERNEL as far as
   * that goes (mempool_free() fills the rest later). 0 or -ENOMEM.
   */
  mempool_resize(pool: number, newMinNr: number): number {
    if (newMinNr <= 0) {
      this.d.bug.bug('mm/mempool.c', 334, 'mempool_resize', []);
      return -EINVAL;
    }
    this.d.bug.might_sleep('mm/mempool.c', 335, ['__might_sleep', 'mempool_resize']);
    const k = this.k;
    const L = this.L;
    if (newMinNr <= this.min_nr(pool)) {
      while (newMinNr < this.curr_nr(pool)) {
        const element = this.remove_element(pool);
        this.d.kallsyms.call(this.freeFn(pool), element, this.pool_data(pool));
      }
      k.write32(pool + L.min_nr, newMinNr);
      return 0;
    }
    const newElements = this.d.slab.kmalloc(newMinNr * this.ptr, GFP_KERNEL);
    if (newElements === 0) return -ENOMEM;
    const old = this.elements(pool);
    const n = this.curr_nr(pool);
    if (n > 0) k.writeBytes(newElements, k.readBytes(old, n * this.ptr));
    this.d.slab.kfree(old);
    k.writePtr(pool + L.elements, newElements);
    k.write32(pool + L.min_nr, newMinNr);
    while (this.curr_nr(pool) < newMinNr) {
      const element = this.d.kallsyms.call(this.allocFn(pool), GFP_KERNEL, this.pool_data(pool));
      if (element === 0) break;
      this.add_element(pool, element);
    }
    return 0;
  }

  /* ------------------------------------------------------------------ */
  /* Allocating and freeing                                              */
  /* ------------------------------------------------------------------ */

  /** A NULL mempool_t * dereferenced: the page fault oops; kmem backs out. True if pool is NULL. */
  private nullPool(pool: number, fn: string, field = 0): boolean {
    if (pool !== 0) return false;
    this.d.bug.oops('Oops: 0000', fn, [], [
      `BUG: kernel NULL pointer dereference, address: ${formatPtr(this.d.layout, field)}`,
      '#PF: supervisor read access in kernel mode', '#PF: error_code(0x0000) - not-present page',
    ]);
    return true;
  }

  /** mempool_alloc(pool, gfp): an element, or NULL (only for callers that cannot sleep, or kmem's deadlock report). */
  mempool_alloc(pool: number, gfp: number): number {
    if (gfp & __GFP_ZERO) this.d.bug.warn('mm/mempool.c', 411, 'mempool_alloc_noprof', null, [], true);
    // might_alloc()
    if (gfp & __GFP_DIRECT_RECLAIM) this.d.bug.might_sleep('include/linux/sched/mm.h', 321, ['__might_resched', ...ALLOC_FRAMES]);
    if (this.nullPool(pool, 'mempool_alloc_noprof', this.L.pool_data)) return 0;
    gfp |= __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN;
    let gfpTemp = gfp & ~(__GFP_DIRECT_RECLAIM | __GFP_IO);
    for (;;) {
      const element = this.d.kallsyms.call(this.allocFn(pool), gfpTemp, this.pool_data(pool));
      if (element !== 0) return element;
      if (this.curr_nr(pool) > 0) return this.remove_element(pool);
      if (gfpTemp !== gfp) {
        gfpTemp = gfp;
        continue;
      }
      if (!(gfp & __GFP_DIRECT_RECLAIM)) return 0;
      // prepare_to_wait(&pool->wait, TASK_UNINTERRUPTIBLE); io_schedule_timeout(5*HZ); finish_wait()
      if (!this.d.wait.sleep(pool + this.L.wait, 5 * HZ)) {
        this.sleepsForever(pool, gfp);
        return 0;
      }
    }
  }

  /** The would-be deadlock of a single-threaded machine. */
  private sleepsForever(pool: number, gfp: number): void {
    const s = this.d.sched;
    const min = this.min_nr(pool);
    const lines = [
      'kmem: mempool_alloc would sleep forever: no element can come back (single-threaded)',
      `kmem: task ${s.comm()}:${s.pid()} waits on mempool ${formatPtr(this.d.layout, pool)}: all ${min} reserved ` +
        `element${min === 1 ? ' is' : 's are'} handed out and the allocator failed (mode:${format_gfp_mode(gfp)})`,
    ];
    for (const l of lines) this.d.log.printk(KERN_ERR, l);
    lines.push(...this.d.bug.dump_stack(['schedule', 'schedule_timeout', 'io_schedule_timeout', ...ALLOC_FRAMES], KERN_ERR));
    this.d.bug.reported('deadlock', lines, null);
  }

  /** mempool_alloc_preallocated(): an element from the reserve only, or NULL; never sleeps. */
  mempool_alloc_preallocated(pool: number): number {
    if (this.nullPool(pool, 'mempool_alloc_preallocated', this.L.curr_nr)) return 0;
    return this.curr_nr(pool) > 0 ? this.remove_element(pool) : 0;
  }

  /** mempool_free(element, pool): refill the reserve first, else give it to pool->free. NULL is fine. */
  mempool_free(element: number, pool: number): void {
    if (element === 0) return;
    if (this.nullPool(pool, 'mempool_free', this.L.curr_nr)) return;
    if (this.curr_nr(pool) < this.min_nr(pool)) {
      this.add_element(pool, element);
      this.d.wait.wake_up(pool + this.L.wait);
      return;
    }
    this.d.kallsyms.call(this.freeFn(pool), element, this.pool_data(pool));
  }

  /* ------------------------------------------------------------------ */
  /* The common alloc and free functions                                 */
  /* ------------------------------------------------------------------ */

  /** mempool_alloc_slab(): VM_BUG_ON(mem->ctor): a pool of a cache with a constructor is a bug. */
  mempool_alloc_slab(gfp: number, kc: number): number {
    if (kc !== 0 && this.k.readPtr(kc + this.d.slab.impl.cache.ctor) !== 0) {
      this.d.bug.bug('mm/mempool.c', 578, 'mempool_alloc_slab', ALLOC_FRAMES);
      return 0;
    }
    return this.d.slab.kmem_cache_alloc(kc, gfp);
  }

  mempool_free_slab(element: number, kc: number): void {
    this.d.slab.kmem_cache_free(kc, element);
  }

  mempool_kmalloc(gfp: number, size: number): number {
    return this.d.slab.kmalloc(size, gfp);
  }

  mempool_kfree(element: number, _size: number): void {
    this.d.slab.kfree(element);
  }

  /** mempool_alloc_pages(): struct page * of 2^order pages. */
  mempool_alloc_pages(gfp: number, order: number): number {
    const pfn = this.d.buddy.__alloc_pages(gfp, order);
    return pfn < 0 ? 0 : this.d.pages.pfn_to_page(pfn);
  }

  mempool_free_pages(element: number, order: number): void {
    this.d.buddy.__free_pages(this.d.pages.page_to_pfn(element), order);
  }
}
