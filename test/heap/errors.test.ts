/*
 * Every error path of kmem/heap: a double free, a free of an address that
 * was never a block (inside one, misaligned, outside the heap, not a
 * number), a free into the wrong pool, the size of a block that is not
 * live. Each throws a KernelBug carrying the kernel's report (also in the
 * machine's log), every time, and leaves the heap as it was: the block
 * involved can still be used and freed properly and the live counts are
 * unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap, KernelBug, type Pool } from '../../src/heap/index.ts';

function fresh(): { heap: Heap; a: Pool; b: Pool } {
  const heap = Heap.create({ size: 4 << 20 });
  return { heap, a: heap.pool(48, { name: 'a' }), b: heap.pool(48, { name: 'b' }) };
}

/** fn throws a KernelBug whose first line matches `title` and whose report has every line of `lines`. */
function reports(fn: () => unknown, title: RegExp, lines: RegExp[]): KernelBug {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KernelBug, `expected a KernelBug, got ${String(caught)}`);
  assert.match(caught.message, title);
  for (const l of lines) assert.match(caught.report, l);
  return caught;
}

function liveBlocks(heap: Heap): number {
  return heap.stats().liveBlocks;
}

test('double free: KASAN double-free report, every time, in kfree and kmem_cache_free', () => {
  const { heap, a } = fresh();
  const p = heap.alloc(30);
  heap.free(p);
  const live = liveBlocks(heap);
  for (let i = 0; i < 2; i++) {
    const e = reports(() => heap.free(p), /^BUG: KASAN: double-free in kfree$/, [
      /^==================================================================$/m,
      /^Free of addr c[0-9a-f]{7} by task swapper\/0\/0$/m,
      /^ kasan_report_invalid_free$/m,
      /^The buggy address belongs to the object at c[0-9a-f]{7}$/m,
      /^ which belongs to the cache heap-32 of size 32$/m,
      /^The buggy address is located 0 bytes inside of$/m,
      /^The buggy address belongs to the physical page:$/m,
    ]);
    assert.equal(e.kind, 'BUG');
  }
  assert.equal(liveBlocks(heap), live);
  const o = a.alloc();
  a.free(o);
  reports(() => a.free(o), /^BUG: KASAN: double-free in kmem_cache_free$/, [/which belongs to the cache a of size 48/]);
  // a large block
  const big = heap.alloc(50_000);
  heap.free(big);
  reports(() => heap.free(big), /^BUG: KASAN: double-free in kfree$/, [/^page: refcount:/m]);
  assert.ok(heap.m.log.dmesg().includes('BUG: KASAN: double-free in kfree'), 'the report is in the kernel log');
  // still usable
  const q = heap.alloc(30);
  heap.free(q);
  assert.equal(liveBlocks(heap), live);
});

test('a free of an address that was never a block: KASAN invalid-free', () => {
  const { heap, a } = fresh();
  const p = heap.alloc(64);
  const live = liveBlocks(heap);
  const bad = [p + 8, p + 3, heap.size, heap.size + 4096, -8, 1.5, 2 ** 40, heap.size - 4096 * 100];
  for (const x of bad) reports(() => heap.free(x), /^BUG: KASAN: invalid-free in kfree$/, [/^Free of addr /m]);
  reports(() => heap.free(p + 8), /invalid-free/, [/^The buggy address is located 8 bytes inside of$/m, /64-byte region/]);
  reports(() => a.free(p + 16), /^BUG: KASAN: invalid-free in kmem_cache_free$/, []);
  assert.equal(liveBlocks(heap), live);
  heap.u32[p >>> 2] = 7;
  assert.equal(heap.u32[p >>> 2], 7);
  heap.free(p);
});

test('a free into the wrong pool: the kernel\'s "Wrong slab cache" warning, and the object stays allocated', () => {
  const { heap, a, b } = fresh();
  const o = a.alloc();
  const live = liveBlocks(heap);
  const e = reports(() => b.free(o), /^WARNING: CPU: 0 PID: 0 at mm\/slub\.c:\d+ kmem_cache_free$/, [
    /^------------\[ cut here \]------------$/m, /^cache_from_obj: Wrong slab cache\. b but object is from a$/m,
  ]);
  assert.equal(e.kind, 'WARNING');
  assert.equal(liveBlocks(heap), live);
  a.free(o); // the right pool takes it
  assert.equal(liveBlocks(heap), live - 1);
  const k = heap.alloc(48);
  reports(() => a.free(k), /kmem_cache_free$/, [/Wrong slab cache\. a but object is from heap-64/]);
  const big = heap.alloc(20_000);
  reports(() => a.free(big), /kmem_cache_free$/, [/^virt_to_cache: Object is not a Slab page!$/m]);
  reports(() => a.free(big), /kmem_cache_free$/, [/Object is not a Slab page/]); // not only once
  heap.free(k);
  heap.free(big);
  // heap.free() takes a pool's object, as kfree() does
  const o2 = b.alloc();
  heap.free(o2);
  reports(() => b.free(o2), /double-free in kmem_cache_free/, []);
});

test('the size of a block that is not live: KASAN use-after-free or invalid-access, in ksize and krealloc', () => {
  const { heap } = fresh();
  const p = heap.alloc(100);
  heap.free(p);
  reports(() => heap.usableSize(p), /^BUG: KASAN: slab-use-after-free in ksize$/, [
    /^Read of size 1 at addr c[0-9a-f]{7} by task swapper\/0\/0$/m, /^ freed 128-byte region /m,
  ]);
  reports(() => heap.realloc(p, 500), /^BUG: KASAN: slab-use-after-free in krealloc$/, []);
  reports(() => heap.usableSize(p + 8), /^BUG: KASAN: invalid-access in ksize$/, []);
  const big = heap.alloc(100_000);
  assert.notEqual(big, 0);
  heap.free(big);
  reports(() => heap.usableSize(big), /^BUG: KASAN: use-after-free in ksize$/, []);
  const q = heap.alloc(100);
  assert.equal(heap.usableSize(q), 128);
  heap.free(q);
});
