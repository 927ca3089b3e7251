/*
 * Model-based property test of kmem/heap on one thread: random sequences
 * of alloc, calloc, realloc, free, pool alloc/free and bad frees against a
 * model, the map of live blocks [p, p + size) to the bytes written in
 * them.
 *
 * After every step: a new block is 8-byte aligned (its pool's alignment
 * for a pool object), inside the heap, overlaps no live block, has at
 * least the size asked for (usableSize), is zeroed for calloc, and after a
 * realloc holds the old block's bytes; a bad free (a freed or never
 * allocated address) throws a KernelBug and changes nothing. Every live
 * block keeps its pattern throughout (nothing wrote over it), stats()
 * counts exactly the model's blocks beyond those present at the start, and
 * exhaustion is alloc returning 0. At the end everything is freed and the
 * live counts are back to their start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Heap, KernelBug } from '../../src/heap/index.ts';

type Cmd =
  | { op: 'alloc' | 'calloc'; size: number }
  | { op: 'realloc'; pick: number; size: number }
  | { op: 'free'; pick: number }
  | { op: 'poolAlloc'; pool: number }
  | { op: 'badFree'; pick: number; offset: number };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 512 }) },
  { weight: 3, arbitrary: fc.integer({ min: 513, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 100_000 }) },
);

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('alloc' as const, 'calloc' as const), size: sizeArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('realloc' as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('poolAlloc' as const), pool: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('badFree' as const), pick: fc.nat(), offset: fc.constantFrom(0, 8, 1, 4096) }) },
);

interface Block { p: number; size: number; seed: number; pool: number }

const POOLS = [{ size: 24, align: 8 }, { size: 200, align: 64 }, { size: 3000, align: 8 }];

test('alloc/calloc/realloc/free and pools against a model', { timeout: 120_000 }, () => {
  fc.assert(fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 150 }), (cmds) => {
    const heap = Heap.create({ size: 3 << 20 });
    const pools = POOLS.map((d) => heap.pool(d.size, { align: d.align }));
    const start = heap.stats();
    const live: Block[] = [];
    const freed: number[] = [];
    let seed = 1;
    const fill = (b: Block) => {
      for (let i = 0; i < b.size; i++) heap.u8[b.p + i] = (b.seed + i * 31) & 0xff;
    };
    const intact = (b: Block) => {
      for (let i = 0; i < b.size; i++) if (heap.u8[b.p + i] !== ((b.seed + i * 31) & 0xff)) return false;
      return true;
    };
    const add = (p: number, size: number, pool: number) => {
      assert.ok(p > 0 && p + size <= heap.size);
      assert.equal(p % (pool >= 0 ? POOLS[pool].align : 8), 0);
      for (const b of live) assert.ok(p + size <= b.p || b.p + b.size <= p, `block ${p}+${size} overlaps ${b.p}+${b.size}`);
      assert.ok(heap.usableSize(p) >= size);
      const b = { p, size, seed: seed++, pool };
      fill(b);
      live.push(b);
      const i = freed.indexOf(p);
      if (i >= 0) freed.splice(i, 1);
    };
    const drop = (i: number) => {
      const [b] = live.splice(i, 1);
      assert.ok(intact(b), `block ${b.p} overwritten`);
      if (b.pool >= 0) pools[b.pool].free(b.p);
      else heap.free(b.p);
      freed.push(b.p);
    };
    for (const c of cmds) {
      switch (c.op) {
        case 'alloc':
        case 'calloc': {
          const p = c.op === 'alloc' ? heap.alloc(c.size) : heap.calloc(c.size);
          if (p === 0) break; // exhausted
          if (c.op === 'calloc') assert.ok(heap.u8.subarray(p, p + c.size).every((x) => x === 0));
          add(p, Math.max(c.size, 1), -1);
          break;
        }
        case 'realloc': {
          const i = live.findIndex((b, j) => b.pool < 0 && j >= c.pick % Math.max(live.length, 1));
          if (i < 0) break;
          const b = live[i];
          const q = heap.realloc(b.p, c.size);
          if (q === 0 && c.size !== 0) {
            assert.ok(intact(b)); // failed: the old block is untouched
            break;
          }
          live.splice(i, 1);
          if (c.size === 0) {
            freed.push(b.p);
            break;
          }
          const keep = Math.min(b.size, c.size);
          for (let k = 0; k < keep; k++) assert.equal(heap.u8[q + k], (b.seed + k * 31) & 0xff);
          if (q !== b.p) freed.push(b.p);
          add(q, c.size, -1);
          break;
        }
        case 'free':
          if (live.length > 0) drop(c.pick % live.length);
          break;
        case 'poolAlloc': {
          const p = pools[c.pool].alloc();
          if (p !== 0) add(p, POOLS[c.pool].size, c.pool);
          break;
        }
        case 'badFree': {
          const base = freed.length > 0 ? freed[c.pick % freed.length] : (live.length > 0 ? live[c.pick % live.length].p : 0);
          const x = base + c.offset;
          if (x === 0 || (c.offset === 0 && live.some((b) => b.p === x))) break;
          if (c.offset === 4096 && live.some((b) => b.p === x)) break;
          const before = heap.stats().liveBlocks;
          assert.throws(() => heap.free(x), KernelBug);
          assert.equal(heap.stats().liveBlocks, before);
          break;
        }
      }
      const s = heap.stats();
      assert.equal(s.liveBlocks - start.liveBlocks, live.length);
    }
    for (const b of live) assert.ok(intact(b), `block ${b.p} overwritten`);
    while (live.length > 0) drop(live.length - 1);
    const end = heap.stats();
    assert.equal(end.liveBlocks, start.liveBlocks);
    assert.equal(end.liveBytes, start.liveBytes);
  }), { numRuns: 40, seed: 9 });
});
