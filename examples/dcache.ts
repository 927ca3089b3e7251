/*
 * dcache: a shrinkable object cache in the style of the kernel's dentry
 * cache (fs/dcache.c), small enough to read in one go. Unused "dentries"
 * stay cached on an LRU list in case someone looks them up again; when
 * memory runs short, reclaim calls the cache's shrinker, which frees the
 * oldest ones so their slab pages can go back to the page allocator.
 *
 *   npm run kmem -- run examples/dcache.ts --mem 64M
 *
 * (kmem run may count a few pages "not returned" after exit: the slabs the
 * kmalloc caches grew for the shrinker and the toy_dcache struct stay
 * cached in those caches, as they would in the kernel; kmem_cache_shrink()
 * gives them back.)
 *
 * Everything lives in the machine's memory:
 *
 *   struct toy_dentry (64 bytes, cache "toy_dentry", SLAB_RECLAIM_ACCOUNT:
 *   its slabs count as SReclaimable in /proc/meminfo)
 *     +0   d_lru     struct list_head: on the LRU, newest first
 *     +16  d_hash    u32
 *     +20  d_iname   char[44], NUL-terminated
 *
 *   struct toy_dcache (kmalloc'd)
 *     +0   lru        struct list_head
 *     +16  nr_unused  long
 *     +24  cache      struct kmem_cache *
 *     +32  shrinker   struct shrinker *
 *
 * The shrinker, as super_cache_count()/super_cache_scan() do it:
 *   count_objects: nr_unused (SHRINK_EMPTY when there is none)
 *   scan_objects:  SHRINK_STOP without __GFP_FS (reclaim from inside a
 *                  filesystem must not re-enter it), else free up to
 *                  nr_to_scan dentries from the LRU's tail (the oldest)
 *
 * The TypeScript object only knows where the structures are (and keeps a
 * log of the shrinker calls for tests and the demo).
 */
import type { Kernel, ShrinkControl } from '../src/kernel/kernel.ts';

const ENOMEM = 12;
const D_SIZE = 64;
const D_LRU = 0;
const D_HASH = 16;
const D_INAME = 20;
const D_INAME_LEN = 44;
const DC_LRU = 0;
const DC_NR_UNUSED = 16;
const DC_CACHE = 24;
const DC_SHRINKER = 32;
const DC_SIZE = 40;

export interface ShrinkerCall {
  fn: 'count' | 'scan';
  /** count: what it returned; scan: nr_to_scan. */
  n: number;
  gfp: number;
  /** scan: dentries freed (or SHRINK_STOP). */
  freed?: number;
  /** The task the call ran as (kswapd0, or the allocating task in direct reclaim). */
  comm: string;
}

export class ToyDcache {
  readonly calls: ShrinkerCall[] = [];

  private constructor(private readonly k: Kernel, readonly dc: number) {}

  /** Set up the cache and register its shrinker (seeks DEFAULT_SEEKS); null when out of memory. */
  static create(k: Kernel, seeks = k.DEFAULT_SEEKS, batch = 0): ToyDcache | null {
    const dc = k.kzalloc(DC_SIZE, k.GFP_KERNEL);
    if (dc === 0) return null;
    k.kaddr.writePtr(dc + DC_LRU, dc + DC_LRU);
    k.kaddr.writePtr(dc + DC_LRU + k.layout.ptrSize, dc + DC_LRU);
    const cache = k.kmem_cache_create('toy_dentry', D_SIZE, 0, k.SLAB_RECLAIM_ACCOUNT, null);
    const shrinker = cache === 0 ? 0 : k.shrinker_alloc(0, 'toy-dcache');
    if (shrinker === 0) {
      k.kmem_cache_destroy(cache);
      k.kfree(dc);
      return null;
    }
    const self = new ToyDcache(k, dc);
    k.kaddr.writePtr(dc + DC_CACHE, cache);
    k.kaddr.writePtr(dc + DC_SHRINKER, shrinker);
    k.shrinker_set(shrinker, {
      count_objects: function toy_dcache_count(_s, sc) { return self.count(sc); },
      scan_objects: function toy_dcache_scan(_s, sc) { return self.scan(sc); },
      seeks, batch, private_data: dc,
    });
    k.shrinker_register(shrinker);
    return self;
  }

  get cache(): number {
    return this.k.kaddr.readPtr(this.dc + DC_CACHE);
  }

  get shrinker(): number {
    return this.k.kaddr.readPtr(this.dc + DC_SHRINKER);
  }

  /** Unused dentries on the LRU. */
  get nr_unused(): number {
    return this.k.kaddr.readPtr(this.dc + DC_NR_UNUSED);
  }

  private setNrUnused(n: number): void {
    this.k.kaddr.writePtr(this.dc + DC_NR_UNUSED, n);
  }

  /** d_alloc(): a dentry named `name`, cached on the LRU; 0 when the cache cannot grow. */
  d_alloc(name: string, gfp = this.k.GFP_KERNEL): number {
    const k = this.k;
    const d = k.kmem_cache_alloc(this.cache, gfp);
    if (d === 0) return 0;
    const bytes = new TextEncoder().encode(name.slice(0, D_INAME_LEN - 1));
    k.kaddr.write32(d + D_HASH, hash(name));
    k.kaddr.fill(d + D_INAME, D_INAME_LEN, 0);
    k.kaddr.writeBytes(d + D_INAME, bytes);
    // list_add(&d->d_lru, &dc->lru)
    const head = this.dc + DC_LRU;
    const first = k.kaddr.readPtr(head);
    k.kaddr.writePtr(d + D_LRU, first);
    k.kaddr.writePtr(d + D_LRU + k.layout.ptrSize, head);
    k.kaddr.writePtr(first + k.layout.ptrSize, d + D_LRU);
    k.kaddr.writePtr(head, d + D_LRU);
    this.setNrUnused(this.nr_unused + 1);
    return d;
  }

  /** The name stored in a dentry. */
  d_name(d: number): string {
    const raw = this.k.kaddr.readBytes(d + D_INAME, D_INAME_LEN);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(raw.subarray(0, end < 0 ? D_INAME_LEN : end));
  }

  /** The oldest dentry off the LRU and freed; false when the LRU is empty. */
  private pruneOne(): boolean {
    const k = this.k;
    const head = this.dc + DC_LRU;
    const last = k.kaddr.readPtr(head + k.layout.ptrSize);
    if (last === head) return false;
    const prev = k.kaddr.readPtr(last + k.layout.ptrSize);
    k.kaddr.writePtr(prev, head);
    k.kaddr.writePtr(head + k.layout.ptrSize, prev);
    k.kmem_cache_free(this.cache, last - D_LRU);
    this.setNrUnused(this.nr_unused - 1);
    return true;
  }

  count(sc: ShrinkControl): number {
    const n = this.nr_unused;
    const ret = n === 0 ? this.k.SHRINK_EMPTY : n;
    this.calls.push({ fn: 'count', n: ret, gfp: sc.gfp_mask, comm: this.k.sched.comm() });
    return ret;
  }

  scan(sc: ShrinkControl): number {
    const k = this.k;
    const call: ShrinkerCall = { fn: 'scan', n: sc.nr_to_scan, gfp: sc.gfp_mask, comm: k.sched.comm() };
    this.calls.push(call);
    if (!(sc.gfp_mask & k.__GFP_FS)) {
      call.freed = k.SHRINK_STOP;
      return k.SHRINK_STOP;
    }
    let freed = 0;
    while (freed < sc.nr_to_scan && this.pruneOne()) freed++;
    sc.nr_scanned = freed;
    call.freed = freed;
    return freed;
  }

  /** Free every dentry, unregister the shrinker, destroy the cache. */
  destroy(): void {
    const k = this.k;
    while (this.pruneOne());
    k.shrinker_free(this.shrinker);
    k.kmem_cache_destroy(this.cache);
    k.kfree(this.dc);
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

/* As a module: cache a few thousand dentries, then shrink them the way reclaim would. */

let dcache: ToyDcache | null = null;

export function init(k: Kernel): number {
  dcache = ToyDcache.create(k);
  if (dcache === null) return -ENOMEM;
  let n = 0;
  while (n < 4096 && dcache.d_alloc(`file${n}`) !== 0) n++;
  k.log.pr_info(`dcache: ${n} dentries cached in ${k.kmem_cache_size(dcache.cache)}-byte objects`);
  // What kswapd or direct reclaim would do at priority 0: shrink_slab() over every shrinker.
  const freed = k.pressure.shrinkers.shrink_slab(k.GFP_KERNEL, 0, 0);
  k.log.pr_info(`dcache: shrink_slab() at priority 0 freed ${freed}, ${dcache.nr_unused} left`);
  return 0;
}

export function exit(k: Kernel): void {
  dcache?.destroy();
  dcache = null;
  k.synchronize_rcu(); // the shrinker's memory goes after a grace period
}
