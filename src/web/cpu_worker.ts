/*
 * A CPU's worker: the explorer's second and further Web Workers, one per
 * simulated CPU above 0 (see protocol.ts). It attaches to the machine the
 * kernel worker booted (src/init/attach.ts: the same boot on scratch RAM,
 * then the shared RAM swapped in, and this CPU taken over) and runs the
 * operations the page sends for its CPU, at the same time as the kernel
 * worker runs CPU 0. Asked to, it gives the CPU back and says so; the page
 * then ends it.
 */
import { ExplorerHost } from './host.ts';
import type { FromCpuWorker, ToCpuWorker } from './protocol.ts';

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (m: FromCpuWorker) => scope.postMessage(m);

const host = new ExplorerHost();
let cpu = -1;

scope.onmessage = (ev: MessageEvent) => {
  const m = ev.data as ToCpuWorker;
  try {
    switch (m.type) {
      case 'attach': {
        host.attachTo(m.machine, m.cpu);
        cpu = m.cpu;
        post({ type: 'attached', cpu, ms: host.bootMs });
        break;
      }
      case 'op':
        // The events enabled since (by the kernel worker) need this thread's hooks too.
        host.k.trace.attach();
        post({ type: 'op_result', id: m.id, result: host.op(m.op, cpu) });
        break;
      case 'detach':
        host.k.detach();
        post({ type: 'detached', cpu });
        break;
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
};
