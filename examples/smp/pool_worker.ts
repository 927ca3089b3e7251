// The worker of examples/smp/pool.ts: runs as CPU 1 or 2 of the shared machine.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from 'kmem';

const { machine, objs } = workerData as { machine: SharedMachine; objs: number[] };
const k = attach(machine);
let bytes = 0;
for (const p of objs) {
  k.mem.fill(k.kaddr.__pa(p), 128, k.smp_processor_id()); // the bytes are the machine's
  bytes += 128;
  k.kfree(p); // freed on another CPU than the allocating one
}
k.detach();
parentPort?.postMessage(bytes);
