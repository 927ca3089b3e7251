/*
 * Throughput of N host threads at once: each worker runs a loop module
 * (bench/workers/*.ts) that does `batch` operations per call, as many calls
 * as fit in `ms` milliseconds, starting together. The result is the total
 * operations per second over all workers, and each worker's share.
 *
 *   main                       worker i
 *   ----                       --------
 *   spawn N, wait "ready" <--- set up (attach, pools), post "ready"
 *   go[0] = 1, notify   -----> Atomics.wait(go) returns; loop until the
 *                              deadline; post { ops, ms }
 *
 * A loop module exports `setup(data): (batch: number) => number` returning
 * the batch runner (which returns a checksum).
 */
import { startTsWorker } from '../src/node/ts_worker.ts';

export interface ParallelResult {
  workers: number;
  opsPerSecond: number;
  perWorker: number[];
}

export async function runParallel(loop: URL, workers: number, ms: number, data: (i: number) => unknown): Promise<ParallelResult> {
  const go = new Int32Array(new SharedArrayBuffer(4));
  const ready: Promise<void>[] = [];
  const done: Promise<{ ops: number; ms: number }>[] = [];
  const threads = Array.from({ length: workers }, (_, i) => {
    const w = startTsWorker(new URL('./workers/loop_runner.ts', import.meta.url), {
      workerData: { loop: loop.href, go, ms, data: data(i) },
    });
    let readyResolve!: () => void;
    ready.push(new Promise<void>((r) => (readyResolve = r)));
    done.push(new Promise((resolve, reject) => {
      w.on('message', (m: { ready?: true; ops?: number; ms?: number }) => {
        if (m.ready) readyResolve();
        else resolve({ ops: m.ops ?? 0, ms: m.ms ?? 1 });
      });
      w.on('error', reject);
    }));
    return w;
  });
  await Promise.all(ready);
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  const results = await Promise.all(done);
  await Promise.all(threads.map((w) => w.terminate()));
  const perWorker = results.map((r) => (r.ops / r.ms) * 1000);
  return { workers, opsPerSecond: perWorker.reduce((a, b) => a + b, 0), perWorker };
}
