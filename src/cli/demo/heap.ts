/*
 * Chapter: kmem/heap, the kernel's allocators as malloc for JavaScript
 * threads sharing one SharedArrayBuffer (src/heap/). The chapter makes a
 * heap, allocates and frees through its size classes (caches of the
 * heap's own, with 7.0's percpu sheaves), uses a pool, shows the figures
 * stats() reads from the heap's memory, and makes the mistake the heap
 * catches as KASAN does: a double free.
 */
import { Heap, KernelBug } from '../../heap/index.ts';
import type { Demo, DemoChapter } from './chapter.ts';

/** This thread's sheaves of the heap's cache of `size`-byte blocks, in one line. */
function sheafLine(heap: Heap, size: number): string {
  const sheaves = heap.slub.sheaves;
  const c = heap.classCaches().find((x) => x.size === size);
  if (sheaves === null || c === undefined) return '';
  const st = sheaves.pcsState(c.cache, heap.cpu);
  const cap = sheaves.sheaf_capacity(c.cache);
  return `heap-${size} on this thread's CPU: main sheaf ${st.mainSize}/${cap}, spare ${st.spare === 0 ? 'none' : `${st.spareSize}/${cap}`}`;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

export const heapChapter: DemoChapter = {
  id: 'heap',
  title: 'kmem/heap: the kernel\'s allocators as malloc for JavaScript workers',
  summary: 'Heap.create, alloc/free through size classes with percpu sheaves, a pool, stats, a double free caught',
  run(d: Demo) {
    d.say(`JavaScript has no allocator that stays correct when several workers
      allocate from one SharedArrayBuffer. The kernel solved that with per-CPU
      caches, and kmem has them: import { Heap } from 'kmem/heap' boots a
      small i386 machine over the buffer, each thread drives a CPU of its
      own, and alloc/free are SLUB's sheaf pop and push on that CPU.`);
    const heap = Heap.create({ size: 16 << 20, workers: 2 });
    d.call('const heap = Heap.create({ size: 16 << 20, workers: 2 })',
      `a ${kib(heap.size)} SharedArrayBuffer; this thread is CPU ${heap.cpu}`);
    const p = heap.alloc(24);
    heap.u32[p >>> 2] = 42;
    d.call('const p = heap.alloc(24); heap.u32[p >>> 2] = 42', `p = ${p} (an offset into the buffer), usableSize ${heap.usableSize(p)}`);
    d.blank();
    d.say(`Sizes up to 8 KiB come from size classes with kmalloc's sizes, each a
      kmem_cache of the heap's own (heap-8 .. heap-8192), whose sheaves are
      sized so that two threads never share a sheaf's cache line. The first
      allocation filled this CPU's sheaf from the slabs; the next ones are
      pops, the frees pushes:`);
    d.show(sheafLine(heap, 32));
    const more = Array.from({ length: 5 }, () => heap.alloc(30));
    d.call('5 x heap.alloc(30)');
    d.show(sheafLine(heap, 32));
    for (const q of more) heap.free(q);
    d.call('free the 5');
    d.show(sheafLine(heap, 32));
    d.blank();

    const nodes = heap.pool(48, { name: 'node' });
    const n = nodes.alloc();
    d.call('const nodes = heap.pool(48, { name: \'node\' }); nodes.alloc()', `${n}`);
    d.blank();
    d.say(`A pool is a kmem_cache of its own (kmem_cache_create with
      SLAB_NO_MERGE); a worker finds it by name. stats() reads everything from
      the heap's memory, so every thread gets the same figures:`);
    const s = heap.stats();
    d.show([
      `live ${s.liveBlocks} blocks, ${s.liveBytes} bytes; cached in slabs and sheaves ${kib(s.cachedBytes)}; ` +
        `free pages ${kib(s.freeBytes)}; the kernel's own ${kib(s.overheadBytes)}`,
      ...s.classes.filter((c) => c.live > 0).map((c) => `class ${c.name}: ${c.live} live, ${c.free} free in ${c.slabs} slab(s)`),
      ...s.pools.map((c) => `pool ${c.name}: ${c.live} live, ${c.free} free in ${c.slabs} slab(s)`),
    ]);
    d.blank();

    d.say(`Each block's first 8-byte granule has a shadow byte, as generic KASAN
      keeps them, holding whether a block starts there, is live, and which
      cache it came from. A free checks it before anything changes, so a
      double free is the kernel's report, thrown, and the heap goes on:`);
    heap.free(p);
    try {
      heap.free(p);
    } catch (e) {
      if (!(e instanceof KernelBug)) throw e;
      d.call('heap.free(p); heap.free(p)', `throws KernelBug: ${e.message}`);
      d.show(e.report.split('\n').filter((l) => /^(BUG|Free of|The buggy address belongs to the object| which belongs)/.test(l)));
    }
    nodes.free(n);
    d.blank();
    d.say(`In a worker: Heap.attach(heap.share()) is the same heap on a CPU of
      the worker's own; blocks may be freed by any thread. BENCHMARKS.md has
      the figures: a 64-byte alloc+free in about 6 ns on one thread, and two
      workers on one heap doing about 1.9 times the pairs of one.`);
  },
};
