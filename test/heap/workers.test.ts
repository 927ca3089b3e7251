/*
 * kmem/heap with worker threads (issue 9's multi-worker scenario): 2 and 4
 * workers allocate, tag every block, hand half of their blocks to the next
 * worker, which checks and frees them; the same with one pool shared by
 * name. At the end: no tag overwritten, no address handed out twice (a
 * shared owner map, claimed with compareExchange), every block freed, and
 * the heap's live counts back where they started. A fifth thread on a heap
 * made for four is refused. Bounded: a few thousand blocks per worker and
 * a 60 s timeout per scenario.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import { Heap, SmpError } from '../../src/heap/index.ts';
import type { HeapStats } from '../../src/heap/index.ts';

const SCENARIO = new URL('./workers_scenario.ts', import.meta.url);
const ROUNDS = 20;
const PER_ROUND = 100;

interface Done { done: true; errors: string[]; checked: number; cpu: number }

function liveCounts(s: HeapStats): unknown {
  return { blocks: s.liveBlocks, bytes: s.liveBytes, classes: s.classes.map((c) => [c.name, c.live]), pools: s.pools.map((p) => [p.name, p.live]) };
}

async function scenario(workers: number, pool: string | null): Promise<void> {
  const heap = Heap.create({ size: 32 << 20, workers: workers + 1 });
  if (pool !== null) heap.pool(48, { name: pool });
  const before = liveCounts(heap.stats());
  const owners = new SharedArrayBuffer((heap.size >>> 3) * 4);
  const shared = heap.share();
  const threads = Array.from({ length: workers }, (_, id) => startTsWorker(SCENARIO, {
    workerData: { shared, owners, id, rounds: ROUNDS, perRound: PER_ROUND, pool },
  }));
  const results = await new Promise<Done[]>((resolve, reject) => {
    const done: Done[] = [];
    const timer = setTimeout(() => reject(new Error('workers did not finish in 60 s')), 60_000);
    threads.forEach((t, id) => {
      t.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      t.on('message', (m: Done | { blocks: number[] }) => {
        if ('blocks' in m) {
          threads[(id + 1) % workers].postMessage(m);
          return;
        }
        done.push(m);
        if (done.length === workers) {
          clearTimeout(timer);
          resolve(done);
        }
      });
    });
  });
  await Promise.all(threads.map((t) => t.terminate()));
  for (const r of results) assert.deepEqual(r.errors, [], `worker on CPU ${r.cpu}`);
  assert.equal(results.reduce((n, r) => n + r.checked, 0), workers * ROUNDS * PER_ROUND);
  // each drove a CPU of its own while attached (a CPU given back by detach() may be taken by a later worker)
  for (const r of results) assert.ok(r.cpu >= 1 && r.cpu <= workers, `CPU ${r.cpu}`);
  assert.ok(new Int32Array(owners).every((v) => v === 0), 'every block was freed');
  assert.deepEqual(liveCounts(heap.stats()), before);
  // the heap is still usable by the creating thread
  const p = heap.alloc(100);
  assert.notEqual(p, 0);
  heap.free(p);
}

for (const workers of [2, 4]) {
  test(`${workers} workers hand each other kmalloc'd blocks`, { timeout: 90_000 }, () => scenario(workers, null));
  test(`${workers} workers hand each other objects of one pool`, { timeout: 90_000 }, () => scenario(workers, 'rec'));
}

test('attaching more threads than workers is a clear error', () => {
  const heap = Heap.create({ size: 4 << 20, workers: 2 });
  const shared = heap.share();
  const second = Heap.attach(shared); // as a worker would; this thread now also drives CPU 1
  assert.equal(second.cpu, 1);
  assert.throws(() => Heap.attach(shared), (e: unknown) => e instanceof SmpError && /all 2 workers of this heap are attached/.test(e.message));
  second.detach();
  const again = Heap.attach(shared);
  assert.equal(again.cpu, 1);
});
