/*
 * One worker thread of test/heap/workers.test.ts: attach to the heap,
 * then for each round allocate blocks (kmalloc sizes or pool objects),
 * claim each in the shared owner map (an address handed out twice fails
 * the claim), tag it at both ends, send half to the next worker and check
 * and free the other half; check and free what the previous worker sends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Heap, type SharedHeap } from '../../src/heap/index.ts';

interface Data {
  shared: SharedHeap;
  /** One Int32 per 8-byte granule of the heap: the tag of the block starting there, 0 if none. */
  owners: SharedArrayBuffer;
  id: number;
  rounds: number;
  perRound: number;
  pool: string | null;
}

const d = workerData as Data;
const heap = Heap.attach(d.shared);
const owners = new Int32Array(d.owners);
const pool = d.pool === null ? null : heap.pool(48, { name: d.pool });
let seed = 0x9e3779b9 ^ (d.id * 7919);
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const errors: string[] = [];
let received = 0;
let checked = 0;

function check(p: number, size: number, tag: number): void {
  if (heap.i32[p >>> 2] !== tag || heap.i32[(p + size - 4) >>> 2] !== tag) errors.push(`tag of ${p} overwritten`);
  if (Atomics.compareExchange(owners, p >>> 3, tag, 0) !== tag) errors.push(`owner of ${p} changed`);
  if (pool === null) heap.free(p);
  else pool.free(p);
  checked++;
}

parentPort!.on('message', (m: { blocks: number[] }) => {
  for (let i = 0; i < m.blocks.length; i += 3) check(m.blocks[i], m.blocks[i + 1], m.blocks[i + 2]);
  received++;
});

for (let r = 0; r < d.rounds; r++) {
  const mine: number[] = [];
  for (let i = 0; i < d.perRound; i++) {
    const size = pool === null ? 8 + (rnd() % 2041) : 48;
    const p = pool === null ? heap.alloc(size) : pool.alloc();
    if (p === 0) {
      errors.push('out of memory');
      continue;
    }
    const tag = ((d.id + 1) << 24) | ((r * d.perRound + i) & 0xffffff) | 0;
    if (Atomics.compareExchange(owners, p >>> 3, 0, tag) !== 0) errors.push(`address ${p} handed out twice`);
    heap.i32[p >>> 2] = tag;
    heap.i32[(p + size - 4) >>> 2] = tag;
    mine.push(p, size, tag);
  }
  const half = (mine.length / 6 | 0) * 3;
  parentPort!.postMessage({ blocks: mine.slice(0, half) });
  for (let i = half; i < mine.length; i += 3) check(mine[i], mine[i + 1], mine[i + 2]);
  await new Promise((resolve) => setImmediate(resolve));
}
while (received < d.rounds) await new Promise((resolve) => setTimeout(resolve, 1));
const stats = heap.stats().workers[heap.cpu];
heap.detach();
parentPort!.postMessage({ done: true, errors, checked, cpu: heap.cpu, cached: stats });
