// A worker for test/vm/highmem.test.ts: attach as a CPU, say so, wait a
// little, then kunmap a page another CPU kmapped, freeing a pkmap slot.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';

const { machine, page } = workerData as { machine: SharedMachine; page: number };
const k = attach(machine);
parentPort?.postMessage('attached');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
k.kunmap(page);
k.detach();
