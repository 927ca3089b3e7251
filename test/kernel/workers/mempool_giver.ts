// A worker for test/kernel/smp.test.ts: attach as a CPU, say so, wait a
// little, then give an element back to a mempool another CPU is waiting on.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';

const { machine, pool, element } = workerData as { machine: SharedMachine; pool: number; element: number };
const k = attach(machine);
parentPort?.postMessage('attached');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
k.mempool_free(element, pool);
k.detach();
