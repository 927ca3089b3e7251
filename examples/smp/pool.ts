/*
 * A pool of workers sharing kmalloc'd objects (README, "SMP"): this thread
 * boots a 3-CPU machine and kmallocs 1000 objects; two workers attach as
 * CPUs 1 and 2, each fills half of the objects with its CPU number and
 * frees them: frees on another CPU than the one that allocated.
 *
 *   node --import tsx examples/smp/pool.ts
 */
import { start_kernel, resolveConfig, shareMachine } from 'kmem';
import { startTsWorker } from '../../src/node/ts_worker.ts';

const k = start_kernel(resolveConfig({ mem: '512M', cpus: 3 }));
const before = k.slab.slabinfo().find((c) => c.name === 'kmalloc-128')!.info.active_objs;
const objs = Array.from({ length: 1000 }, () => k.kmalloc(128, k.GFP_KERNEL));
const machine = shareMachine(k);
const halves = [objs.slice(0, 500), objs.slice(500)];
const sums = await Promise.all(halves.map((half) => new Promise<number>((resolve, reject) => {
  const w = startTsWorker(new URL('./pool_worker.ts', import.meta.url), { workerData: { machine, objs: half } });
  w.on('message', resolve);
  w.on('error', reject);
})));
for (const s of k.slab.caches()) k.kmem_cache_shrink(s);
const after = k.slab.slabinfo().find((c) => c.name === 'kmalloc-128')!.info.active_objs;
console.log(`workers filled ${sums.join(' and ')} bytes; kmalloc-128 active objects: ${before} before, ${before + objs.length} with ours, ${after} after the workers freed them`);
