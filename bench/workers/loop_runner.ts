// One worker of bench/workers.ts: load the loop module, set up, wait for go, run until the deadline.
import { parentPort, workerData } from 'node:worker_threads';

const { loop, go, ms, data } = workerData as { loop: string; go: Int32Array; ms: number; data: unknown };
const mod = (await import(loop)) as { setup(data: unknown): (batch: number) => number };
const run = mod.setup(data);
let sink = run(1024); // warm up
parentPort?.postMessage({ ready: true });
Atomics.wait(go, 0, 0);
const BATCH = 1024;
const t0 = performance.now();
const deadline = t0 + ms;
let ops = 0;
while (performance.now() < deadline) {
  sink = (sink + run(BATCH)) | 0;
  ops += BATCH;
}
parentPort?.postMessage({ ops, ms: performance.now() - t0, sink });
