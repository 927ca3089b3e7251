// A worker for test/vm/vmalloc_smp.test.ts: attach as a CPU, meet the other
// workers at a barrier, then vmalloc and vfree `rounds` areas of random
// sizes (some freed with vfree_atomic from an interrupt), writing a tag
// through each mapping and checking it before the free. Reports what it
// saw go wrong (a tag overwritten: two CPUs were handed the same range).
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';
import { barrier } from './barrier.ts';
import { PAGE_SIZE } from '../../../src/arch/x86/layout.ts';

const { machine, cpu, rounds, seed, ready } = workerData as {
  machine: SharedMachine; cpu: number; rounds: number; seed: number; ready: Int32Array;
};
const k = attach(machine, { cpu });
barrier(ready, 1); // all attached
const threads = k.smp.threads();
barrier(ready, 2); // all counted before any starts (and could detach)

let state = seed >>> 0;
function rand(n: number): number {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return (state >>> 8) % n;
}

const live: { addr: number; size: number; tag: number }[] = [];
let bad = 0;
let failed = 0;
let deferred = 0;

function release(i: number): void {
  const { addr, size, tag } = live[i];
  live[i] = live[live.length - 1];
  live.pop();
  for (let off = 0; off < size; off += PAGE_SIZE) if (k.kaddr.read32(addr + off) !== ((tag + off) | 0)) bad++;
  if (rand(8) === 0) {
    k.sched.irq_enter();
    k.vfree_atomic(addr);
    k.sched.irq_exit();
    deferred++;
  } else {
    k.vfree(addr);
  }
}

function churn_vmalloc(): void {
  for (let n = 0; n < rounds; n++) {
    if (live.length >= 12 || (live.length > 0 && rand(3) === 0)) release(rand(live.length));
    const size = (1 + rand(12)) * PAGE_SIZE - rand(PAGE_SIZE);
    const addr = k.vmalloc(size);
    if (addr === 0) {
      failed++;
      continue;
    }
    const tag = (cpu << 24) | n;
    for (let off = 0; off < size; off += PAGE_SIZE) k.kaddr.write32(addr + off, (tag + off) | 0);
    live.push({ addr, size, tag });
  }
  while (live.length > 0) release(live.length - 1);
  k.flush_scheduled_work(); // this CPU's deferred vfrees
}

churn_vmalloc();
k.detach();
parentPort?.postMessage({ threads, bad, failed, deferred });
