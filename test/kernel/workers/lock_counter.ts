// A worker for test/kernel/smp.test.ts: attach as a CPU, then add 1 to a
// counter in simulated memory `rounds` times, each under a spinlock, with a
// plain read-modify-write that loses updates unless the lock excludes the
// other CPUs.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';

const { machine, cpu, lock, counter, rounds, ready } = workerData as {
  machine: SharedMachine; cpu: number; lock: number; counter: number; rounds: number; ready: Int32Array;
};
const k = attach(machine, { cpu });
// start together: every worker attached before any takes the lock
Atomics.add(ready, 0, 1);
while (Atomics.load(ready, 0) < ready[1]) Atomics.wait(ready, 0, Atomics.load(ready, 0), 5);
const threads = k.smp.threads();
const pa = k.kaddr.__pa(counter);
for (let i = 0; i < rounds; i++) {
  k.spin_lock(lock);
  const v = k.mem.read32(pa);
  k.mem.write32(pa, v + 1);
  k.spin_unlock(lock);
}
k.detach();
parentPort?.postMessage({ cpu: k.smp_processor_id(), threads });
