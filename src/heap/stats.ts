/*
 * heap.stats(): the heap's figures, read from its memory (SLUB's and the
 * page allocator's own structures and the heap header), so every thread
 * gets the same answer; while other threads run, the figures are a
 * snapshot that may be slightly off, as /proc/slabinfo is.
 *
 * Per cache (a size class or a pool: caches of the heap's own, so nothing
 * the kernel allocates for itself is in them), as SLUB knows it:
 *
 *   objects in its slabs (kmem_cache_node nr_objs)
 *     - free objects: in the CPUs' main and spare sheaves and in the
 *       barn's full sheaves (slub_sheaves.ts), on a CPU's lockless
 *       freelist (kmem_cache_cpu.freelist), freed into a CPU slab by other
 *       CPUs (objects - inuse), in CPU partial and node partial slabs
 *       (objects - inuse)
 *     = live objects
 *
 * Per worker (CPU): what its per-CPU caches hold, the objects in its
 * sheaves and the free objects of its CPU slabs and CPU partial slabs
 * across all the heap's caches, and the pages on its per-CPU page lists.
 *
 *   size = liveBytes + cachedBytes + freeBytes + overheadBytes
 *
 * liveBytes counts each live block at its usable size (its size class);
 * cachedBytes the free objects in slabs; freeBytes the page allocator's
 * free pages (its buddy lists and every CPU's page lists); overheadBytes
 * the rest: the kernel image, struct pages, per-CPU areas, the shadow,
 * slab padding and metadata.
 */
import { PAGE_SIZE, ptr64FromWords } from '../arch/x86/layout.ts';
import { NR_FREE_PAGES } from '../mm/mmzone.ts';
import { BOOT_THREAD_ID } from '../kernel/smp.ts';
import type { SlabInfo } from '../mm/slab_types.ts';
import type { SheavesUsage } from '../mm/slub_sheaves.ts';
import type { Heap } from './heap.ts';
import { H_LARGE_BLOCKS, H_LARGE_PAGES } from './machine.ts';

export interface CacheStats {
  name: string;
  /** Bytes a block of this cache can hold. */
  objectSize: number;
  live: number;
  /** Free objects in this cache's slabs. */
  free: number;
  slabs: number;
}

export interface WorkerStats {
  cpu: number;
  /** A thread drives this CPU now (CPU 0 is the creating thread's). */
  attached: boolean;
  /** Objects in this CPU's sheaves and free objects in its slabs and CPU partial slabs, over all caches. */
  cachedObjects: number;
  /** This CPU's slabs and CPU partial slabs, over all caches. */
  cpuSlabs: number;
  /** Free pages on this CPU's per-CPU page lists. */
  cachedPages: number;
}

export interface HeapStats {
  size: number;
  liveBytes: number;
  liveBlocks: number;
  /** Free objects in slabs, in bytes. */
  cachedBytes: number;
  /** Free pages (the page allocator's), in bytes. */
  freeBytes: number;
  overheadBytes: number;
  /** Blocks above 8 KiB: whole pages. */
  large: { blocks: number; bytes: number };
  /** The size classes, heap-8 .. heap-8192. */
  classes: CacheStats[];
  pools: CacheStats[];
  workers: WorkerStats[];
}

export function heapStats(h: Heap): HeapStats {
  const m = h.m;
  const nrCpus = m.config.cpus;
  const workers: WorkerStats[] = [];
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    let cachedPages = 0;
    for (const z of m.buddy.zones) if (m.buddy.populated(z)) cachedPages += m.buddy.pcpCounts(z, cpu).count;
    workers.push({ cpu, attached: cpu === 0 || m.smp.threadOf(cpu) !== BOOT_THREAD_ID, cachedObjects: 0, cpuSlabs: 0, cachedPages });
  }
  const classCaches = h.classCaches().map(({ cache }) => cache);
  const caches = [...classCaches, ...h.poolCaches()];
  const sheaves = caches.map((s) => sheavesOf(h, s));
  const cacheStats = (s: number, name: string, u: SheavesUsage | null): CacheStats => {
    const info: SlabInfo = {
      active_objs: 0, num_objs: 0, active_slabs: 0, num_slabs: 0, shared_avail: 0, limit: 0, batchcount: 0, shared: 0,
      objects_per_slab: 0, cache_order: 0,
    };
    h.slub.get_slabinfo(s, info);
    let free = 0;
    for (const { pfn, where } of h.slub.slabsOf(s)) {
      const st = h.slub.slabState(pfn);
      let n = st.objects - st.inuse;
      const cpu = /^cpu(\d+)/.exec(where);
      if (cpu !== null) {
        const w = workers[Number(cpu[1])];
        if (where === `cpu${cpu[1]}`) n += lockless_freelist_length(h, s, w.cpu, st.objects);
        w.cachedObjects += n;
        w.cpuSlabs++;
      }
      free += n;
    }
    if (u !== null) {
      u.cpuObjects.forEach((n, cpu) => {
        workers[cpu].cachedObjects += n;
        free += n;
      });
      free += u.barnObjects;
    }
    const live = info.num_objs - free;
    return { name, objectSize: h.slub.slab_ksize(s), live, free, slabs: info.num_slabs };
  };
  const all = caches.map((s, i) => cacheStats(s, m.slab.cacheName(s), sheaves[i]));
  const classes = all.slice(0, classCaches.length);
  const pools = all.slice(classes.length);
  const largeBytes = Atomics.load(h.i32, (h.header + H_LARGE_PAGES) >>> 2) * PAGE_SIZE;
  let liveBytes = largeBytes;
  const largeBlocks = Atomics.load(h.i32, (h.header + H_LARGE_BLOCKS) >>> 2);
  let liveBlocks = largeBlocks;
  let cachedBytes = 0;
  for (const c of [...classes, ...pools]) {
    liveBytes += c.live * c.objectSize;
    liveBlocks += c.live;
    cachedBytes += c.free * c.objectSize;
  }
  let freePages = 0;
  for (const z of m.buddy.zones) freePages += m.buddy.zoneStat(z, NR_FREE_PAGES);
  for (const w of workers) freePages += w.cachedPages;
  const freeBytes = freePages * PAGE_SIZE;
  return {
    size: h.size, liveBytes, liveBlocks, cachedBytes, freeBytes, overheadBytes: h.size - liveBytes - cachedBytes - freeBytes,
    large: { blocks: largeBlocks, bytes: largeBytes }, classes, pools, workers,
  };
}

/** The heap's machine has one node: what s's sheaves hold and cost, or null for a cache without sheaves. */
function sheavesOf(h: Heap, s: number): SheavesUsage | null {
  const sheaves = h.slub.sheaves;
  return sheaves === null || !sheaves.has_sheaves(s) ? null : sheaves.usage(s, [0]);
}

/**
 * The objects on CPU cpu's lockless freelist of cache s: struct
 * kmem_cache_cpu starts with freelist (mm/slub.c), each free object holds
 * the next at s->offset. Bounded by the slab's object count, as another
 * thread may be changing the list while it is read.
 */
function lockless_freelist_length(h: Heap, s: number, cpu: number, max: number): number {
  const m = h.m;
  const po = m.layout.PAGE_OFFSET;
  const ptr = (pa: number) => (m.layout.ptrSize === 8 ? ptr64FromWords(m.mem.read32(pa), m.mem.read32(pa + 4)) : m.mem.read32(pa));
  const c = m.percpu.per_cpu_ptr_pa(ptr(s - po + h.slub.cache.cpu_slab), cpu);
  const offset = m.mem.read32(s - po + h.slub.cache.offset);
  let n = 0;
  for (let obj = ptr(c); obj !== 0 && n < max; obj = ptr(obj - po + offset)) n++;
  return n;
}
