/*
 * The page's end of the worker connection: send requests, dispatch what
 * comes back by type; an operation's result resolves the promise of the
 * request that asked for it.
 */
import type { FromWorker, Op, OpResult, ToWorker } from '../protocol.ts';

type Handlers = { [T in FromWorker['type']]?: ((m: Extract<FromWorker, { type: T }>) => void)[] };

export class KernelClient {
  private readonly worker: Worker;
  private readonly handlers: Handlers = {};
  private nextId = 1;
  private readonly pending = new Map<number, (r: OpResult) => void>();

  constructor(url: string) {
    this.worker = new Worker(url, { type: 'module', name: 'kmem kernel' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.dispatch(ev.data);
    this.worker.onerror = (ev) => this.dispatch({ type: 'error', message: ev.message || 'the kernel worker failed to start' });
  }

  on<T extends FromWorker['type']>(type: T, fn: (m: Extract<FromWorker, { type: T }>) => void): void {
    ((this.handlers[type] ??= []) as ((m: Extract<FromWorker, { type: T }>) => void)[]).push(fn);
  }

  private dispatch(m: FromWorker): void {
    if (m.type === 'op_result') {
      this.pending.get(m.id)?.(m.result);
      this.pending.delete(m.id);
    }
    for (const fn of (this.handlers[m.type] ?? []) as ((m: FromWorker) => void)[]) fn(m);
  }

  send(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Run op on a CPU of the machine (one worker runs them all today: see protocol.ts). */
  op(op: Op, cpu: number): Promise<OpResult> {
    const id = this.nextId++;
    return new Promise((done) => {
      this.pending.set(id, done);
      this.send({ type: 'op', id, op, cpu });
    });
  }
}
