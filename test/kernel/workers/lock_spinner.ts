// A worker for test/kernel/smp.test.ts: attach as a CPU and take a lock
// that another CPU holds and never releases; report what happened.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';
import { KernelBug } from '../../../src/kernel/bug.ts';

const { machine, lock } = workerData as { machine: SharedMachine; lock: number };
const k = attach(machine);
let outcome = 'took the lock';
try {
  k.spin_lock(lock);
} catch (e) {
  outcome = e instanceof KernelBug ? `${e.kind}: ${e.message}` : String(e);
}
const preempt = k.sched.preempt_count();
k.detach();
parentPort?.postMessage({ outcome, preempt });
