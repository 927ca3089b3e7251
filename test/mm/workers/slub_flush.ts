// A worker for test/mm/slub_smp_workers.test.ts: attach as CPU 1, use a
// cache the booting thread created (known by its address alone), then
// follow the phases the test sets in ctl[0]:
//   1 busy: kmalloc/kfree in a loop (slab calls: a flush asked of CPU 1 is served)
//   2 idle: no slab call at all (a flush asked of CPU 1 is not served)
//   3 done: free what is left, detach
// ctl[1] is set to the phase the worker has reached.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';

const { machine, cache, ctl } = workerData as { machine: SharedMachine; cache: number; ctl: Int32Array };
const k = attach(machine, { cpu: 1, errors: 'throw' });
const gfp = k.GFP_KERNEL;

function phase(p: number): void {
  Atomics.store(ctl, 1, p);
  Atomics.notify(ctl, 1);
}

function waitFor(p: number, busy: boolean): void {
  while (Atomics.load(ctl, 0) < p) {
    if (busy) k.kfree(k.kmalloc(32, gfp));
    else Atomics.wait(ctl, 0, Atomics.load(ctl, 0), 5);
  }
}

// 40 objects of the cache: three slabs' worth on CPU 1; keep 10, free the rest (some into full slabs)
const objs: number[] = [];
for (let i = 0; i < 40; i++) objs.push(k.kmem_cache_alloc(cache, gfp));
const kept = objs.filter((_, i) => i % 4 === 0);
for (const p of objs) if (!kept.includes(p)) k.kmem_cache_free(cache, p);
parentPort!.postMessage({ kept });
phase(1);
waitFor(2, true);
// idle, holding a CPU slab of the cache again
const more = [k.kmem_cache_alloc(cache, gfp), k.kmem_cache_alloc(cache, gfp)];
phase(2);
waitFor(3, false);
for (const p of [...kept.slice(5), ...more]) k.kmem_cache_free(cache, p);
k.detach();
phase(3);
parentPort!.postMessage({ done: true });
