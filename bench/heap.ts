/*
 * kmem/heap benchmarks (issue 9), in one run:
 *
 * 1. One thread, one op = one alloc + one free, each allocator in a
 *    process of its own (bench/isolated.ts says why), measured interleaved
 *    (bench/harness.ts) with the same workloads and harness as the slab
 *    rows (bench/slab.ts allocatorTasks: 64 B lifo; 8..4096 log-uniform
 *    with 10,000 live): kmem/heap's alloc/free and a 64-byte pool; next
 *    to @thi.ng/malloc, AssemblyScript's TLSF, plain segregated free lists
 *    and the raw Int32Array free list.
 * 2. Worker threads on one heap (bench/heap_worker.ts): 1, 2 and, when
 *    the machine has the cores, 4 workers running at the same time, fixed
 *    64 B pairs and the mixed window; next to one free list shared by the
 *    same workers behind one Atomics spinlock, and to a free list of each
 *    worker's own (the machine's own limit on scaling: on a machine whose
 *    CPUs are busy with other work, even that does not scale). Per worker ns per pair
 *    (median of the workers) and the aggregate in M pairs/s, each the
 *    median of ROUNDS runs with fresh workers and a fresh heap.
 * 3. The minified size of the kmem/heap bundle (src/node/heap_build.ts).
 *
 *   node --import tsx bench/heap.ts [--quick]     (also part of npm run bench)
 */
import { availableParallelism } from 'node:os';
import { Heap } from '../src/heap/index.ts';
import { heapBundleSize } from '../src/node/heap_build.ts';
import { startTsWorker } from '../src/node/ts_worker.ts';
import { median, table, type Task, type TaskResult } from './harness.ts';
import { LOCK_SLOTS, type HeapWorkerData } from './heap_worker.ts';
import { measureIsolated } from './isolated.ts';
import { allocatorTasks, THING_LABEL, TLSF_LABEL } from './slab.ts';

export const HEAP_LABEL = 'kmem/heap alloc/free';
const POOL_LABEL = 'kmem/heap pool(64) alloc/free, lifo';
const HEAP_BYTES = 64 << 20;

export interface WorkerRow {
  mode: HeapWorkerData['mode'];
  workers: number;
  /** Median over the workers of each one's ns per pair, median over the rounds. */
  nsPerPair: number;
  /** All workers' pairs over the slowest worker's time. */
  mpairsPerSecond: number;
}

export interface HeapBenchResults {
  single: TaskResult[];
  note: string;
  workers: WorkerRow[];
  bundle: { bytes: number; gzip: number; top: { path: string; bytes: number }[] };
}

function poolTask(): Task {
  const heap = Heap.create({ size: 16 << 20 });
  const pool = heap.pool(64);
  return {
    name: POOL_LABEL, unit: 'pair',
    run(n) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const p = pool.alloc();
        sum = (sum + p) | 0;
        pool.free(p);
      }
      return sum;
    },
  };
}

/** One run of `workers` threads in `mode`: each worker's ns for `ops` pairs. */
async function workerRun(mode: HeapWorkerData['mode'], workers: number, ops: number): Promise<number[]> {
  const control = new SharedArrayBuffer(16 + 4 * LOCK_SLOTS);
  const next = new Int32Array(control, 16);
  for (let i = 0; i < LOCK_SLOTS; i++) next[i] = i + 1;
  const heap = mode === 'lock' || mode === 'local' ? null : Heap.create({ size: HEAP_BYTES, workers: workers + 1 });
  const shared = heap === null ? null : heap.share();
  const threads = Array.from({ length: workers }, (_, id) => startTsWorker(new URL('./heap_worker.ts', import.meta.url), {
    workerData: { mode, shared, control, ops, id } satisfies HeapWorkerData,
  }));
  const ctl = new Int32Array(control);
  const results = Promise.all(threads.map((t) => new Promise<number>((resolve, reject) => {
    t.on('message', (m: { ns: number }) => resolve(m.ns));
    t.on('error', reject);
  })));
  while (Atomics.load(ctl, 2) < workers) await new Promise((r) => setTimeout(r, 1));
  Atomics.store(ctl, 3, 1);
  Atomics.notify(ctl, 3);
  const ns = await results;
  await Promise.all(threads.map((t) => t.terminate()));
  return ns;
}

/**
 * Pairs per worker and run, about a quarter of a second of each mode on
 * one worker here: shorter runs measure the JIT's warm-up more than the
 * allocator (2 M mixed pairs ran at 32 M pairs/s, 20 M at 42 M).
 */
const OPS = { 'heap-fixed': 20_000_000, 'heap-mixed': 10_000_000, 'heap-uniform': 10_000_000, lock: 4_000_000, local: 100_000_000 } as const;

async function workerRows(quick: boolean, log: (m: string) => void): Promise<WorkerRow[]> {
  const counts = availableParallelism() >= 4 ? [1, 2, 4] : [1, 2];
  const rounds = quick ? 1 : 5;
  const rows: WorkerRow[] = [];
  for (const mode of ['heap-fixed', 'heap-mixed', 'heap-uniform', 'lock', 'local'] as const) {
    const ops = (quick ? 0.1 : 1) * OPS[mode];
    for (const workers of counts) {
      const per: number[] = [];
      const agg: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const ns = await workerRun(mode, workers, ops);
        per.push(median(ns) / ops);
        agg.push((workers * ops) / Math.max(...ns) * 1e3);
      }
      rows.push({ mode, workers, nsPerPair: median(per), mpairsPerSecond: median(agg) });
      log(`heap: ${mode} x${workers}: ${median(per).toFixed(1)} ns/pair per worker, ${median(agg).toFixed(1)} M pairs/s`);
    }
  }
  return rows;
}

/** kmem/heap's one-thread rows: alloc/free on the slab workloads, and a 64-byte pool (bench/isolated.ts runs them in a process of their own). */
export function heapTasks(): Task[] {
  const rows = allocatorTasks(HEAP_LABEL, () => {
    const heap = Heap.create({ size: HEAP_BYTES });
    return { alloc: (n) => heap.alloc(n), free: (p) => heap.free(p) };
  });
  return [...rows, poolTask()];
}

export async function heapBenches(quick: boolean, log: (m: string) => void): Promise<HeapBenchResults> {
  log('heap: one thread (each allocator in a process of its own)');
  const { results: single, notes } = measureIsolated(['raw', 'segregated', 'thing', 'tlsf', 'heap'], {
    rounds: quick ? 3 : 9, targetMs: quick ? 15 : 40, repeats: quick ? 1 : 2, log,
  });
  const workers = await workerRows(quick, log);
  const b = await heapBundleSize();
  return { single, note: notes.join('; '), workers, bundle: { bytes: b.bytes, gzip: b.gzip, top: b.inputs.slice(0, 8) } };
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Issue 9's targets from this run. */
export function heapTargets(r: HeapBenchResults): { what: string; target: string; measured: string; met: boolean }[] {
  const find = (prefix: string) => r.single.find((t) => t.name.startsWith(prefix));
  const out = [];
  const hf = find(`${HEAP_LABEL}, 64 B`);
  const hm = find(`${HEAP_LABEL}, 8..4096`);
  const thing = find(`${THING_LABEL}, 64 B`);
  const tlsf = find(`${TLSF_LABEL}, 8..4096`);
  if (hf && thing) {
    out.push({ what: 'kmem/heap 64 B pair vs @thi.ng/malloc 64 B pair (one thread)', target: 'at least as fast',
      measured: `${fmt(thing.ns / hf.ns, 2)}x as fast (${fmt(hf.ns)} vs ${fmt(thing.ns)} ns)`, met: hf.ns <= thing.ns });
  }
  if (hm && tlsf) {
    out.push({ what: 'kmem/heap 8..4096 mixed vs AssemblyScript TLSF (one thread)', target: '>= 2x faster',
      measured: `${fmt(tlsf.ns / hm.ns, 2)}x as fast (${fmt(hm.ns)} vs ${fmt(tlsf.ns)} ns)`, met: 2 * hm.ns <= tlsf.ns });
  }
  const scaling = (mode: string) => {
    const one = r.workers.find((w) => w.mode === mode && w.workers === 1);
    const two = r.workers.find((w) => w.mode === mode && w.workers === 2);
    return one && two ? { x: two.mpairsPerSecond / one.mpairsPerSecond, one, two } : null;
  };
  const local = scaling('local');
  for (const mode of ['heap-fixed', 'heap-mixed', 'heap-uniform']) {
    const s = scaling(mode);
    if (s) {
      out.push({ what: `kmem/heap ${mode.slice(5)}: 2 workers vs 1 (aggregate pairs/s)`, target: '>= 1.7x',
        measured: `${fmt(s.x, 2)}x (${fmt(s.two.mpairsPerSecond)} vs ${fmt(s.one.mpairsPerSecond)} M pairs/s; ` +
          `private lists: ${local ? fmt(local.x, 2) : '-'}x)`,
        met: s.x >= 1.7 });
    }
  }
  return out;
}

export function formatHeap(r: HeapBenchResults): string {
  const out: string[] = [];
  out.push('kmem/heap, one thread (64 MiB heaps; the others as in the slab table); ns per alloc+free pair, median [min..max]:');
  out.push(table(['benchmark', 'ns/pair', 'min..max', 'Mpairs/s'], r.single.map((t) =>
    [t.name, fmt(t.ns, t.ns < 10 ? 2 : 1), `${fmt(t.min, t.ns < 10 ? 2 : 0)}..${fmt(t.max, t.ns < 10 ? 2 : 0)}`, fmt(1e3 / t.ns, 2)])));
  if (r.note) out.push(r.note);
  out.push('');
  out.push('kmem/heap, worker threads at the same time on one heap; fixed = alloc(64)+free, mixed = 8..4096 B log-uniform with 1000 live');
  out.push('per worker, uniform = the same with sizes uniform in 8..4096 (the mixed workload of ../shared/reference/js-allocators.md);');
  out.push('lock = one free list shared by the workers behind one Atomics spinlock (pop and push each under the lock);');
  out.push('local = a free list of each worker\'s own, nothing shared (how far this machine lets threads scale at all):');
  out.push(table(['workload', 'workers', 'ns/pair per worker', 'aggregate M pairs/s'], r.workers.map((w) =>
    [w.mode, String(w.workers), fmt(w.nsPerPair), fmt(w.mpairsPerSecond)])));
  out.push('');
  out.push(`kmem/heap bundle (dist/heap.js, esbuild --minify, neutral platform): ${fmt(r.bundle.bytes / 1024)} KiB, ` +
    `${fmt(r.bundle.gzip / 1024)} KiB gzipped; largest parts: ` + r.bundle.top.map((i) => `${i.path} ${fmt(i.bytes / 1024)} KiB`).join(', '));
  out.push('');
  out.push(table(['target', 'goal', 'measured', 'met'], heapTargets(r).map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : 'NO'])));
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const r = await heapBenches(quick, (m) => process.stderr.write(m + '\n'));
  process.stdout.write((process.argv.includes('--json') ? JSON.stringify(r, null, 2) : formatHeap(r)) + '\n');
}
