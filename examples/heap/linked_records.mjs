// Worker threads building and handing each other linked records in shared
// memory, with kmem/heap (plain JavaScript, no build step of its own):
//
//   node examples/heap/linked_records.mjs            (after npm ci in a checkout)
//
// Each worker builds a linked list of records in a pool (a fixed-size
// object cache), then posts the address of its head to the next worker.
// That worker walks the list, checks every record and frees it: records
// are allocated on one thread and freed on another. A record:
//
//   +0 next   (heap address of the next record, 0 at the end)
//   +4 value
//   +8 maker  (the id of the worker that built it)
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Heap } from 'kmem/heap';

const WORKERS = 3;
const ROUNDS = 50;
const RECORDS = 1000;
const RECORD = 12;

if (isMainThread) {
  // The creating thread counts as one of the heap's workers.
  const heap = Heap.create({ size: 16 << 20, workers: WORKERS + 1 });
  heap.pool(RECORD, { name: 'record' });
  const before = heap.stats();
  const shared = heap.share();
  const workers = Array.from({ length: WORKERS }, (_, id) =>
    new Worker(new URL(import.meta.url), { workerData: { shared, id } }));
  let finished = 0;
  let checked = 0;
  workers.forEach((w, id) => w.on('message', (m) => {
    if (m.head !== undefined) workers[(id + 1) % WORKERS].postMessage(m); // pass the list on
    else {
      checked += m.checked;
      if (++finished === WORKERS) {
        const after = heap.stats();
        console.log(`${checked} records built, handed over and freed by ${WORKERS} workers`);
        console.log(`records live before ${before.pools[0].live}, after ${after.pools[0].live}`);
        console.log('per-worker caches:', after.workers.map((x) => `cpu${x.cpu} ${x.cachedObjects} objects`).join(', '));
        for (const w of workers) w.terminate();
      }
    }
  }));
} else {
  const heap = Heap.attach(workerData.shared);
  const records = heap.pool(RECORD, { name: 'record' });
  const me = workerData.id;
  const u32 = heap.u32;
  let received = 0;
  let checked = 0;

  // Build a list, last record first, and send its head on.
  const build = (round) => {
    let head = 0;
    for (let i = RECORDS - 1; i >= 0; i--) {
      const r = records.alloc();
      if (r === 0) throw new Error('heap exhausted');
      u32[r >>> 2] = head;
      u32[(r + 4) >>> 2] = round * RECORDS + i;
      u32[(r + 8) >>> 2] = me;
      head = r;
    }
    parentPort.postMessage({ head, maker: me, round });
  };

  parentPort.on('message', ({ head, maker, round }) => {
    // Walk a list another worker built, check it, free every record.
    let i = 0;
    for (let r = head; r !== 0; i++) {
      const next = u32[r >>> 2];
      if (u32[(r + 4) >>> 2] !== round * RECORDS + i || u32[(r + 8) >>> 2] !== maker) throw new Error(`record ${r} corrupted`);
      records.free(r);
      r = next;
    }
    checked += i;
    if (++received === ROUNDS) {
      heap.detach();
      parentPort.postMessage({ checked });
    }
  });
  for (let round = 0; round < ROUNDS; round++) build(round);
}
