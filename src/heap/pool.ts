/*
 * heap.pool(objectSize): a fixed-size object cache, which is what the
 * kernel calls a kmem_cache (kmem_cache_create, kmem_cache_alloc,
 * kmem_cache_free). Each pool is its own cache (SLAB_NO_MERGE: never
 * merged with a kmalloc cache or another pool), so a block freed into the
 * wrong pool is the kernel's "cache_from_obj: Wrong slab cache" warning.
 *
 * A pool is found by its struct kmem_cache address, so every thread of a
 * heap reaches the same pool: heap.pool(size, { name }) in a worker returns
 * the pool of that name another thread created.
 */
import type { SlabCommon } from '../mm/slab_common.ts';
import type { SheafFastpath } from './sheaf_fastpath.ts';
import * as kasan from './kasan.ts';
import { MAX_CACHES } from './machine.ts';

// Module-local copies: V8 checks an imported binding at every use, a local const it folds into the code.
const { SHADOW_CHUNK_MASK, SHADOW_CHUNK_SHIFT, SHADOW_FREE, SHADOW_LIVE_CACHE, SHADOW_LIVE_PAGES } = kasan;
const NR_CACHE_IDS = MAX_CACHES;

/** What a pool shares with its heap (immutable after creation). */
export interface PoolContext {
  slab: SlabCommon;
  /** The heap's sheaf fast paths. */
  fast: SheafFastpath;
  u8: Uint8Array;
  shadow: Int32Array;
  po: number;
  gfp: number;
  kasan: kasan.KasanReports;
  /** The kernel's warning for a block that is in no slab ("virt_to_cache: Object is not a Slab page!"). */
  notASlab: () => void;
  /** Throws once the heap's thread has detached (Heap.detach()). */
  checkAttached: () => void;
}

export class Pool {
  private readonly slab: SlabCommon;
  private readonly fast: SheafFastpath;
  /** The shadow mark of a live object of this pool: SHADOW_LIVE_CACHE + the cache's id. */
  private readonly liveMark: number;
  private readonly u8: Uint8Array;
  private readonly shadow: Int32Array;
  private readonly po: number;
  private readonly gfp: number;
  private readonly limit: number;

  /** @internal Heap.pool() makes pools. */
  constructor(
    private readonly ctx: PoolContext,
    /** struct kmem_cache * (kernel virtual address): the same number in every thread. */
    readonly cache: number,
    /** The cache's id in the heap's table of caches (machine.ts). */
    private readonly id: number,
    readonly name: string,
    /** The size asked for. */
    readonly objectSize: number,
    /** Bytes each object really has (s->size less the debug metadata): what usableSize() gives. */
    readonly usableSize: number,
  ) {
    this.slab = ctx.slab;
    this.fast = ctx.fast;
    this.liveMark = SHADOW_LIVE_CACHE + id;
    this.u8 = ctx.u8;
    this.shadow = ctx.shadow;
    this.po = ctx.po;
    this.gfp = ctx.gfp;
    this.limit = ctx.u8.length;
  }

  /** An object (its heap address, at least 8-byte aligned, contents undefined), or 0 when memory is exhausted. */
  alloc(): number {
    let p = this.fast.alloc(this.id);
    if (p === 0) p = this.fast.allocFromSpare(this.id);
    if (p === 0) {
      this.ctx.checkAttached();
      const va = this.slab.kmem_cache_alloc(this.cache, this.gfp);
      if (va === 0) return 0;
      p = (va - this.po) | 0;
    }
    this.u8[this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3)] = this.liveMark;
    return p;
  }

  /** Give an object back; 0 is ignored. Throws (KernelBug) for a block not live or not from this pool. */
  free(p: number): void {
    if (p === 0) return;
    if ((p >>> 0) !== p || (p & 7) !== 0 || p >= this.limit) this.ctx.kasan.badFree(p, 'kmem_cache_free', 0);
    const sh = this.shadow[p >>> SHADOW_CHUNK_SHIFT] + ((p & SHADOW_CHUNK_MASK) >>> 3);
    const state = this.u8[sh];
    if (state !== this.liveMark && (state - SHADOW_LIVE_CACHE) >>> 0 >= NR_CACHE_IDS) {
      if (state === SHADOW_LIVE_PAGES) this.ctx.notASlab();
      this.ctx.kasan.badFree(p, 'kmem_cache_free', state);
    }
    this.u8[sh] = SHADOW_FREE;
    if (state === this.liveMark && (this.fast.free(p, this.id) || this.fast.freeToSpare(p, this.id))) return;
    try {
      this.ctx.checkAttached();
      this.slab.kmem_cache_free(this.cache, p + this.po); // a block of another cache: cache_from_obj()'s report
    } catch (e) {
      this.u8[sh] = state; // the kernel refused (wrong pool, a debug check): still the caller's
      throw e;
    }
  }
}
