/*
 * kmem/heap on one thread: sizes and limits, views, alloc/calloc/realloc/
 * free/usableSize, blocks above 8 KiB, exhaustion (0, and the heap usable
 * afterwards), pools found by name, stats, debug mode's red zones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap, HEAP_MAX_SIZE, KernelBug } from '../../src/heap/index.ts';

const MiB = 1 << 20;

test('a heap is one SharedArrayBuffer of its size, with views over all of it', () => {
  const heap = Heap.create({ size: 4 * MiB });
  assert.ok(heap.buffer instanceof SharedArrayBuffer);
  assert.equal(heap.size, 4 * MiB);
  for (const v of [heap.u8, heap.i8, heap.u16, heap.i16, heap.u32, heap.i32, heap.f32, heap.f64, heap.u64, heap.i64]) {
    assert.equal(v.buffer, heap.buffer);
    assert.equal(v.byteLength, heap.size);
  }
  const p = heap.alloc(16);
  heap.f64[p >>> 3] = 1.5;
  assert.equal(heap.dv.getFloat64(p, true), 1.5);
  const v = heap.view(p, 16);
  assert.equal(v.byteOffset, p);
  assert.equal(v.length, 16);
  assert.equal(heap.cpu, 0);
  assert.equal(heap.workers, 1);
});

test('sizes out of range are refused with a clear error', () => {
  assert.throws(() => Heap.create({ size: HEAP_MAX_SIZE + 4096 }), /more than 134217728 \(128 MiB\), the largest heap one SharedArrayBuffer holds/);
  assert.throws(() => Heap.create({ size: MiB }), /less than the smallest heap/);
  assert.throws(() => Heap.create({ size: -1 }), RangeError);
  assert.throws(() => Heap.create({ size: 4 * MiB, workers: 0 }), /workers must be an integer from 1 to 64/);
  assert.throws(() => Heap.create({ size: 2 * MiB, workers: 8 }), /too small for 8 workers/);
  const big = Heap.create({ size: HEAP_MAX_SIZE });
  assert.equal(big.u8.length, HEAP_MAX_SIZE);
});

test('blocks are 8-byte aligned, disjoint, and hold at least what was asked', () => {
  const heap = Heap.create({ size: 8 * MiB });
  const blocks: [number, number][] = [];
  for (let n = 0; n <= 9000; n += 97) {
    const p = heap.alloc(n);
    assert.notEqual(p, 0);
    assert.equal(p % 8, 0);
    assert.ok(heap.usableSize(p) >= Math.max(n, 1));
    blocks.push([p, Math.max(n, 1)]);
  }
  blocks.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i - 1][0] + blocks[i - 1][1] <= blocks[i][0], 'overlap');
  for (const [p] of blocks) heap.free(p);
});

test('calloc zeroes, realloc keeps the contents, free(0) and realloc(0, n) work as in C', () => {
  const heap = Heap.create({ size: 4 * MiB });
  const p = heap.alloc(64);
  heap.u8.fill(0xee, p, p + 64);
  heap.free(p);
  const z = heap.calloc(64);
  assert.ok(heap.u8.subarray(z, z + 64).every((b) => b === 0));
  for (let i = 0; i < 64; i++) heap.u8[z + i] = i;
  assert.equal(heap.realloc(z, 40), z, 'shrinking within the block stays in place');
  const r = heap.realloc(z, 3000);
  assert.notEqual(r, z);
  for (let i = 0; i < 64; i++) assert.equal(heap.u8[r + i], i);
  const big = heap.realloc(r, 100_000);
  for (let i = 0; i < 64; i++) assert.equal(heap.u8[big + i], i);
  heap.free(0);
  const q = heap.realloc(0, 10);
  assert.notEqual(q, 0);
  assert.equal(heap.realloc(q, 0), 0);
  heap.free(big);
  assert.throws(() => heap.alloc(1.5), RangeError);
  assert.throws(() => heap.alloc(-8), RangeError);
});

test('blocks above 8 KiB are whole pages; above 4 MiB alloc returns 0', () => {
  const heap = Heap.create({ size: 16 * MiB });
  const p = heap.alloc(10_000);
  assert.equal(p % 4096, 0);
  assert.equal(heap.usableSize(p), 16384);
  const s = heap.stats();
  assert.deepEqual(s.large, { blocks: 1, bytes: 16384 });
  assert.equal(heap.alloc((4 << 20) + 1), 0);
  heap.free(p);
  assert.deepEqual(heap.stats().large, { blocks: 0, bytes: 0 });
});

test('exhaustion: alloc returns 0, nothing is reported, and the heap works on', () => {
  const heap = Heap.create({ size: 4 * MiB });
  const pool = heap.pool(100); // pool creation needs memory (the kernel's own GFP_KERNEL allocations)
  const held: number[] = [];
  for (;;) {
    const p = heap.alloc(2048);
    if (p === 0) break;
    held.push(p);
  }
  assert.ok(held.length * 2048 > 2 * MiB, `only ${held.length} blocks`);
  let n = 0;
  while (pool.alloc() !== 0) n++;
  assert.ok(n < 1000);
  for (const p of held) heap.free(p);
  assert.notEqual(heap.alloc(2048), 0);
  assert.notEqual(pool.alloc(), 0);
});

test('pools: object size and alignment, found again by name, a size mismatch is an error', () => {
  const heap = Heap.create({ size: 4 * MiB });
  const a = heap.pool(24, { name: 'node' });
  assert.equal(heap.pool(24, { name: 'node' }), a);
  assert.throws(() => heap.pool(32, { name: 'node' }), /pool "node" exists with objects of 24 bytes, not 32/);
  const b = heap.pool(100, { align: 64 });
  const objs = Array.from({ length: 50 }, () => b.alloc());
  for (const p of objs) assert.equal(p % 64, 0);
  assert.ok(b.usableSize >= 100);
  assert.deepEqual(heap.allPools().map((p) => p.name), ['node', 'pool-1']);
  assert.throws(() => heap.pool(0), RangeError);
  assert.throws(() => heap.pool(8, { align: 12 }), RangeError);
  for (const p of objs) b.free(p);
});

test('stats: live bytes and blocks per class and pool; the parts add up to the size', () => {
  const heap = Heap.create({ size: 8 * MiB, workers: 2 });
  // the size classes are the heap's own caches: the kernel's kmalloc objects (sheaves, barns, pool names) are not in them
  assert.deepEqual([heap.stats().liveBlocks, heap.stats().liveBytes], [0, 0]);
  assert.deepEqual(heap.stats().classes.map((c) => c.name),
    ['heap-8', 'heap-16', 'heap-32', 'heap-64', 'heap-96', 'heap-128', 'heap-192', 'heap-256', 'heap-512', 'heap-1024', 'heap-2048',
      'heap-4096', 'heap-8192']);
  const pool = heap.pool(40, { name: 'rec' });
  const s0 = heap.stats();
  const blocks = Array.from({ length: 100 }, () => heap.alloc(60));
  const objs = Array.from({ length: 30 }, () => pool.alloc());
  const s1 = heap.stats();
  assert.equal(s1.liveBlocks - s0.liveBlocks, 130);
  assert.equal(s1.liveBytes - s0.liveBytes, 100 * 64 + 30 * pool.usableSize);
  const k64 = (s: typeof s0) => s.classes.find((c) => c.name === 'heap-64')!.live;
  assert.equal(k64(s1) - k64(s0), 100);
  assert.equal(s1.pools[0].live, 30);
  for (const s of [s0, s1]) {
    assert.equal(s.liveBytes + s.cachedBytes + s.freeBytes + s.overheadBytes, s.size);
    assert.ok(s.overheadBytes > 0 && s.freeBytes > 0);
  }
  assert.equal(s1.workers.length, 2);
  assert.ok(s1.workers[0].attached && !s1.workers[1].attached);
  assert.ok(s1.workers[0].cpuSlabs > 0);
  for (const p of blocks) heap.free(p);
  for (const p of objs) pool.free(p);
  const s2 = heap.stats();
  assert.equal(s2.liveBlocks, s0.liveBlocks);
  assert.equal(s2.liveBytes, s0.liveBytes);
});

test('debug: a write past the end of a block is caught at free as the kernel reports it, and the heap goes on', () => {
  const heap = Heap.create({ size: 8 * MiB, debug: true });
  assert.equal(heap.debug, true);
  const p = heap.alloc(24);
  heap.u8[p + heap.usableSize(p)] = 0x41; // one byte into the red zone after the object
  assert.throws(() => heap.free(p), (e: unknown) => e instanceof KernelBug && /Redzone overwritten|Right Redzone/.test(e.report));
  const q = heap.alloc(24);
  assert.notEqual(q, 0);
  heap.free(q);
  const pool = heap.pool(32);
  const o = pool.alloc();
  heap.u8[o - 1] = 0x41; // left red zone
  assert.throws(() => pool.free(o), (e: unknown) => e instanceof KernelBug && /Redzone/.test(e.report));
});

test('blocks go through this CPU\'s percpu sheaves (SLUB as in 7.0): the kernel\'s own structures say so', () => {
  const heap = Heap.create({ size: 8 * MiB });
  const sheaves = heap.slub.sheaves;
  assert.ok(sheaves !== null, 'the heap boots with sheaves on every cache');
  const base = heap.stats();
  const live64 = () => heap.stats().classes.find((c) => c.objectSize === 64)!.live;
  const base64 = live64();
  const heap64 = heap.classCaches().find((c) => c.size === 64)!.cache;
  assert.ok(sheaves.has_sheaves(heap64));
  const p = heap.alloc(64); // the first allocation fills the main sheaf from the slabs
  const before = sheaves.pcsState(heap64, 0);
  assert.ok(before.mainSize > 0);
  heap.free(p); // free_to_pcs: pushed onto main
  assert.equal(sheaves.pcsState(heap64, 0).mainSize, before.mainSize + 1);
  assert.equal(heap.alloc(64), p, 'alloc_from_pcs pops what was pushed last');
  assert.equal(sheaves.pcsState(heap64, 0).mainSize, before.mainSize);
  // objects in sheaves are free blocks to the heap's figures, and the sheaves themselves are the kernel's
  const s = heap.stats();
  assert.equal(s.liveBlocks, base.liveBlocks + 1);
  assert.equal(live64(), base64 + 1);
  assert.ok(s.workers[0].cachedObjects >= before.mainSize);
  heap.free(p);
  assert.equal(heap.stats().liveBlocks, base.liveBlocks);
  // a pool's objects too, and a free into the wrong pool still reaches the kernel's check
  const a = heap.pool(40);
  const other = heap.pool(40, { name: 'other' });
  const withPools = heap.stats().liveBlocks;
  const o = a.alloc();
  assert.ok(sheaves.pcsState(a.cache, 0).main !== 0);
  assert.throws(() => other.free(o), (e) => e instanceof KernelBug && /Wrong slab cache/.test(e.report));
  a.free(o);
  assert.equal(heap.stats().liveBlocks, withPools);
});

test('a debug heap\'s caches have no sheaves (slab debugging checks every object), and its blocks still work', () => {
  const heap = Heap.create({ size: 8 * MiB, debug: true });
  const heap64 = heap.classCaches().find((c) => c.size === 64)!.cache;
  assert.equal(heap.slub.sheaves?.has_sheaves(heap64) ?? false, false);
  const live = heap.stats().liveBlocks;
  const p = heap.alloc(64);
  assert.equal(heap.stats().liveBlocks, live + 1);
  heap.free(p);
  assert.equal(heap.stats().liveBlocks, live);
});

test('a main sheaf that runs empty or full trades places with the spare on the heap\'s own path, as __pcs_replace_*_main() first does', () => {
  const heap = Heap.create({ size: 8 * MiB });
  const sheaves = heap.slub.sheaves!;
  const s = heap.classCaches().find((c) => c.size === 64)!.cache;
  const cap = sheaves.sheaf_capacity(s);
  const state = () => sheaves.pcsState(s, 0);
  const blocks: number[] = [];
  for (let i = 0; i < 3 * cap; i++) blocks.push(heap.alloc(64));
  for (let i = 0; i < 3 * cap; i++) heap.free(blocks.pop()!); // the kernel parks a full main as the spare
  while (!(state().mainSize === 0 && state().spareSize === cap)) blocks.push(heap.alloc(64));
  const emptied = state();
  const kernel = (heap as unknown as { slab: { kmem_cache_alloc: unknown; kfree: unknown } }).slab; // the kernel's entry points
  const { kmem_cache_alloc, kfree } = kernel;
  kernel.kmem_cache_alloc = () => assert.fail('the kernel was asked for a block the spare sheaf had');
  const p = heap.alloc(64);
  kernel.kmem_cache_alloc = kmem_cache_alloc;
  assert.deepEqual(state(), { main: emptied.spare, mainSize: cap - 1, spare: emptied.main, spareSize: 0 });
  heap.free(p);
  while (state().mainSize < cap) heap.free(blocks.pop()!);
  const filled = state();
  kernel.kfree = () => assert.fail('the kernel was asked to take a block the empty spare had room for');
  heap.free(blocks.pop()!);
  kernel.kfree = kfree;
  assert.deepEqual(state(), { main: filled.spare, mainSize: 1, spare: filled.main, spareSize: cap });
  for (const b of blocks) heap.free(b);
});

test('heap.free() takes a pool\'s object too (kfree of any slab object): back onto its own pool\'s sheaf', () => {
  const heap = Heap.create({ size: 8 * MiB });
  const sheaves = heap.slub.sheaves!;
  const pool = heap.pool(40, { name: 'rec' });
  const o = pool.alloc();
  const before = sheaves.pcsState(pool.cache, 0).mainSize;
  heap.free(o);
  assert.equal(sheaves.pcsState(pool.cache, 0).mainSize, before + 1);
  assert.equal(pool.alloc(), o);
  assert.throws(() => { heap.free(o); heap.free(o); }, (e) => e instanceof KernelBug && /double-free/.test(e.report));
});

test('each size class is a cache of the heap\'s own, its sheaves whole cache lines and sized to the heap (size_classes.ts)', () => {
  const heap = Heap.create({ size: 8 * MiB, workers: 3 });
  const sheaves = heap.slub.sheaves!;
  const header = sheaves.SH.size;
  const capacities = new Map<number, number>();
  for (const { size, cache } of heap.classCaches()) {
    const capacity = sheaves.sheaf_capacity(cache);
    capacities.set(size, capacity);
    const bytes = header + 4 * capacity;
    assert.ok(bytes >= 64 && bytes <= 512 && (bytes & (bytes - 1)) === 0, `heap-${size}: a ${bytes}-byte sheaf`);
    assert.ok(capacity >= sheaves.calculate_sheaf_capacity(size, 0, 0), 'at least what 7.0 gives a kmalloc cache');
    // each CPU's main sheaf starts a cache line of its own
    for (let cpu = 0; cpu < 3; cpu++) assert.equal((sheaves.pcsState(cache, cpu).main >>> 0) % 64, 0);
  }
  // 8 MiB: a sheaf may hold 128 KiB; 7.0 would give the 1 KiB class 96-byte sheaves (19 objects)
  assert.deepEqual([capacities.get(64), capacities.get(1024), capacities.get(4096), capacities.get(8192)], [123, 123, 27, 11]);
  assert.equal(heap.usableSize(heap.alloc(700)), 1024);
  assert.equal(heap.usableSize(heap.alloc(65)), 96);
});
