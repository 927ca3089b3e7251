/*
 * The CPU workers, page side: a Web Worker for each CPU above 0, started
 * at the first operation on that CPU, attached to the machine the kernel
 * worker booted (src/web/cpu_worker.ts; protocol.ts shows the messages).
 *
 *   run(op, cpu)   CPU 0, or no machine to share: the kernel worker runs it;
 *                  else CPU cpu's worker (attached first if need be), and
 *                  the kernel worker is told what changed
 *   release()      every CPU back to the kernel worker (before a trace or a
 *                  snapshot, which need all CPUs on one thread)
 *   reset(machine) a new machine: the workers of the old one end
 */
import type { FromCpuWorker, Op, OpResult, ToCpuWorker } from '../protocol.ts';
import type { SharedMachine } from '../../init/attach.ts';
import type { KernelClient } from './client.ts';

interface CpuWorker {
  cpu: number;
  worker: Worker;
  /** Resolves once attached (rejects if attaching failed). */
  attached: Promise<void>;
  pending: Map<number, (r: OpResult) => void>;
  detached: (() => void) | null;
}

export class CpuWorkers {
  private machine: SharedMachine | null = null;
  private readonly workers = new Map<number, CpuWorker>();
  private nextId = 1;
  /** Attach times (ms, in the worker: a boot on scratch RAM, then the shared RAM adopted), for the tests. */
  readonly attachMs: number[] = [];

  constructor(private readonly url: string, private readonly kernel: KernelClient) {}

  /** The CPUs a worker of their own runs now. */
  get attachedCpus(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  /** A new machine (booted, loaded, a demo's): the workers of the one before end. Null: ops all go to the kernel worker. */
  reset(machine: SharedMachine | null): void {
    for (const w of this.workers.values()) this.end(w, 'a new machine');
    this.workers.clear();
    this.machine = machine;
  }

  async run(op: Op, cpu: number): Promise<OpResult> {
    if (cpu === 0 || !this.machine) return this.kernel.op(op, cpu);
    let w: CpuWorker;
    try {
      w = this.worker(cpu);
      await w.attached;
    } catch (e) {
      return { ok: false, text: `CPU ${cpu}: ${e instanceof Error ? e.message : String(e)}`, pfns: [], caches: [] };
    }
    const id = this.nextId++;
    const result = await new Promise<OpResult>((done) => {
      w.pending.set(id, done);
      this.post(w, { type: 'op', id, op });
    });
    this.kernel.send({ type: 'changed', result });
    return result;
  }

  /** Every CPU worker gives its CPU back and ends. */
  async release(): Promise<void> {
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map(async (w) => {
      try {
        await w.attached;
      } catch {
        w.worker.terminate();
        return;
      }
      await new Promise<void>((done) => {
        w.detached = done;
        this.post(w, { type: 'detach' });
      });
      w.worker.terminate();
    }));
  }

  private worker(cpu: number): CpuWorker {
    const existing = this.workers.get(cpu);
    if (existing) return existing;
    const worker = new Worker(this.url, { type: 'module', name: `kmem CPU ${cpu}` });
    let attachedOk: () => void = () => {};
    let attachedFail: (e: Error) => void = () => {};
    const attached = new Promise<void>((ok, fail) => {
      attachedOk = ok;
      attachedFail = fail;
    });
    attached.catch(() => {});
    const cw: CpuWorker = { cpu, worker, attached, pending: new Map(), detached: null };
    worker.onmessage = (ev: MessageEvent<FromCpuWorker>) => {
      const m = ev.data;
      if (m.type === 'attached') {
        this.attachMs.push(m.ms);
        attachedOk();
      } else if (m.type === 'op_result') {
        cw.pending.get(m.id)?.(m.result);
        cw.pending.delete(m.id);
      } else if (m.type === 'detached') {
        cw.detached?.();
      } else {
        attachedFail(new Error(m.message));
        this.fail(cw, m.message);
      }
    };
    worker.onerror = (ev) => {
      const message = ev.message || `the CPU ${cpu} worker failed to start`;
      attachedFail(new Error(message));
      this.fail(cw, message);
    };
    this.workers.set(cpu, cw);
    this.post(cw, { type: 'attach', machine: this.machine!, cpu });
    return cw;
  }

  /** Answer whatever the worker still owes with the error. */
  private fail(w: CpuWorker, message: string): void {
    for (const done of w.pending.values()) done({ ok: false, text: `CPU ${w.cpu}: ${message}`, pfns: [], caches: [] });
    w.pending.clear();
    w.detached?.();
  }

  private end(w: CpuWorker, why: string): void {
    this.fail(w, why);
    w.worker.terminate();
  }

  private post(w: CpuWorker, m: ToCpuWorker): void {
    w.worker.postMessage(m);
  }
}
