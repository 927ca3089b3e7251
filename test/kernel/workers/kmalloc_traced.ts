// A worker for test/kernel/smp.test.ts: attach as a CPU (tracing was
// enabled before), kmalloc and kfree a few objects, report their addresses.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';

const { machine } = workerData as { machine: SharedMachine };
const k = attach(machine);
k.trace.set_caller('scull_write+0x20/0x80');
const p = k.kmalloc(100, k.GFP_KERNEL);
k.kfree(p);
k.detach();
parentPort?.postMessage(p);
