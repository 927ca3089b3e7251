/*
 * The body of one stress-test worker (src/testing/smp_stress.ts): attach to
 * the machine as CPU `cpu`, run the loop, give the CPU back, say so.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../init/attach.ts';
import { StressWorker, type StressShared, type StressWorkerOptions } from '../testing/smp_stress.ts';

export interface StressWorkerData {
  machine: SharedMachine;
  stress: StressShared;
  cpu: number;
  options: StressWorkerOptions;
}

const data = workerData as StressWorkerData;
const k = attach(data.machine, { cpu: data.cpu, comm: `kmem_stress/${data.cpu}` });
let times: { startMs: number; endMs: number };
try {
  times = new StressWorker(k, data.stress, data.cpu, data.options).run();
} finally {
  k.detach();
}
parentPort?.postMessage(times);
