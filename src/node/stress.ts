/*
 * Run the SMP stress test on host threads: one worker_threads Worker per
 * CPU, all attached to the machine `k` was booted as, then the books.
 */
import type { Kernel } from '../kernel/kernel.ts';
import { shareMachine } from '../init/attach.ts';
import {
  createStressShared, kernelBooks, stressResult, type StressResult,
} from '../testing/smp_stress.ts';
import type { StressWorkerData } from './stress_worker.ts';
import { startTsWorker } from './ts_worker.ts';

export interface StressOptions {
  workers: number;
  seconds: number;
  /** Operations per worker at most. */
  maxOps: number;
  seed: number;
}

/** The cache every worker allocates from: 192-byte objects, as a driver's lookaside cache. */
export const STRESS_CACHE_SIZE = 192;

export async function runStress(k: Kernel, o: StressOptions): Promise<StressResult> {
  if (o.workers > k.config.cpus) throw new RangeError(`${o.workers} workers need as many CPUs; the machine has ${k.config.cpus}`);
  const cache = k.kmem_cache_create('kmem_stress', STRESS_CACHE_SIZE, 0, k.SLAB_HWCACHE_ALIGN, null);
  if (cache === 0) throw new Error('kmem_cache_create(kmem_stress) failed');
  const before = kernelBooks(k);
  const stress = createStressShared(o.workers, k.mem.size);
  const machine = shareMachine(k);
  const times = await Promise.all(Array.from({ length: o.workers }, (_, cpu) => new Promise<{ startMs: number; endMs: number }>((resolve, reject) => {
    const workerData: StressWorkerData = {
      machine, stress, cpu,
      options: { maxOps: o.maxOps, seconds: o.seconds, seed: o.seed, cache, cacheSize: STRESS_CACHE_SIZE },
    };
    const w = startTsWorker(new URL('./stress_worker.ts', import.meta.url), { workerData });
    w.on('message', resolve);
    w.on('error', reject);
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`stress worker for CPU ${cpu} exited with ${code}`));
    });
  })));
  const seconds = (Math.max(...times.map((t) => t.endMs)) - Math.min(...times.map((t) => t.startMs))) / 1000;
  const result = stressResult(k, stress, before, seconds);
  k.kmem_cache_destroy(cache);
  return result;
}
