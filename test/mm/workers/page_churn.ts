// A worker for test/mm/page_alloc_parallel.test.ts: attach as a CPU, meet the
// other workers at a barrier, then allocate and free pages (orders 0..3,
// mostly 0) for `rounds` steps, writing a tag into each block's first and
// last word and checking it before the free; every `drainEvery` steps drain
// every CPU's pcp lists (drain_all_pages: the other CPUs' lists, under their
// pcp->lock, while their owners use them). Reports what went wrong.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';
import { PAGE_SIZE } from '../../../src/arch/x86/layout.ts';

const { machine, cpu, rounds, seed, drainEvery, ready } = workerData as {
  machine: SharedMachine; cpu: number; rounds: number; seed: number; drainEvery: number; ready: Int32Array;
};
const k = attach(machine, { cpu });
function barrier(phase: number): void {
  Atomics.add(ready, 0, 1);
  Atomics.notify(ready, 0);
  for (let seen = Atomics.load(ready, 0); seen < phase * ready[1]; seen = Atomics.load(ready, 0)) Atomics.wait(ready, 0, seen, 5);
}
barrier(1);
const threads = k.smp.threads();
barrier(2);

let state = seed >>> 0;
function rand(n: number): number {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return (state >>> 8) % n;
}

const live: { page: number; order: number; tag: number }[] = [];
let bad = 0;
let failed = 0;
let drains = 0;
const words = (order: number) => (PAGE_SIZE << order) - 4;

function release(i: number): void {
  const { page, order, tag } = live[i];
  live[i] = live[live.length - 1];
  live.pop();
  const pa = k.page_to_pfn(page) * PAGE_SIZE;
  if ((k.mem.read32(pa) | 0) !== tag || (k.mem.read32(pa + words(order)) | 0) !== ~tag) bad++;
  k.__free_pages(page, order);
}

for (let i = 0; i < rounds; i++) {
  if (live.length < 64 && (live.length === 0 || rand(3) !== 0)) {
    const order = rand(8) === 0 ? rand(4) : 0;
    const page = k.alloc_pages(k.GFP_KERNEL, order);
    if (page === 0) {
      failed++;
      continue;
    }
    const tag = (cpu << 24) ^ i;
    const pa = k.page_to_pfn(page) * PAGE_SIZE;
    k.mem.write32(pa, tag);
    k.mem.write32(pa + words(order), ~tag);
    live.push({ page, order, tag });
  } else {
    release(rand(live.length));
  }
  if (i % drainEvery === drainEvery - 1) {
    k.drain_all_pages();
    drains++;
  }
}
while (live.length) release(live.length - 1);
k.detach();
parentPort?.postMessage({ cpu, threads, bad, failed, drains });
