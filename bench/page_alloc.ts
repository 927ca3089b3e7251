/*
 * The page allocator's rows alone (what `npm run bench` measures in its
 * first table), timed twice in the same interleaved rounds:
 *
 *   node --import tsx bench/page_alloc.ts [--rounds N]
 *
 *   wall   performance.now() around each batch, as bench/harness.ts does
 *   cpu    process.cpuUsage() (user + system) around the same batch: the
 *          time this process was on a CPU, which other processes on a
 *          loaded machine inflate much less than wall time
 *
 * Each kernel row is compared with the raw free list of the same pattern,
 * in the same run (bench/alloc.ts). The machine is the one bench/run.ts
 * uses: 4 GiB x86_64, 2 CPUs, GFP_KERNEL on CPU 0. Two more rows run the
 * order-0 lifo pair on a second such machine whose mm_page_alloc /
 * mm_page_free hooks are set (to no-ops), which sends every call down the
 * general path: the same work without src/mm/pcp_fast.ts.
 */
import { cpus, loadavg } from 'node:os';
import { start_kernel } from '../src/init/main.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { freePagesTotal, kernelTasks, pcpContext, rawTasks } from './alloc.ts';
import { calibrate, median, table, type Task } from './harness.ts';
import { listHeadModelTask, pcpPathModelTask } from './models.ts';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 11;
const TARGET_MS = 40;

let sink = 0;

interface Row { name: string; wall: number; cpu: number; cpuMin: number; cpuMax: number }

/** Interleaved rounds; each batch timed by the wall clock and by this process's CPU time. */
function measure(tasks: readonly Task[]): Row[] {
  const ops = tasks.map((t) => calibrate(t, TARGET_MS, t.minOps));
  tasks.forEach((t, i) => (sink = (sink + t.run(ops[i])) | 0));
  const wall: number[][] = tasks.map(() => []);
  const cpu: number[][] = tasks.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    tasks.forEach((t, i) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      sink = (sink + t.run(ops[i])) | 0;
      const t1 = performance.now();
      const c = process.cpuUsage(c0);
      wall[i].push(((t1 - t0) * 1e6) / ops[i]);
      cpu[i].push(((c.user + c.system) * 1e3) / ops[i]);
    });
  }
  for (const t of tasks) t.teardown?.();
  return tasks.map((t, i) => ({
    name: t.name, wall: median(wall[i]), cpu: median(cpu[i]), cpuMin: Math.min(...cpu[i]), cpuMax: Math.max(...cpu[i]),
  }));
}

/** The raw row of the same access pattern (lifo, window, burst). */
function rawFor(name: string, rows: readonly Row[]): Row | undefined {
  const pattern = /window/.test(name) ? 'window' : /burst/.test(name) ? 'burst' : 'lifo';
  return rows.find((r) => r.name.startsWith('raw Int32Array free list') && r.name.includes(pattern));
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

const k = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
const freeBefore = freePagesTotal(k);
const pcp = pcpContext(k);
const load0 = loadavg()[0];
const general = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
general.buddy.hooks.mm_page_alloc = () => {};
general.buddy.hooks.mm_page_free = () => {};
const generalRows = kernelTasks(general).slice(0, 2).map((t) => ({ ...t, name: `${t.name}, general path` }));
const rows = measure([...rawTasks(1 << 20), listHeadModelTask(), pcpPathModelTask(), ...kernelTasks(k), ...generalRows]);
k.drain_all_pages();
if (freePagesTotal(k) !== freeBefore) throw new Error('page allocator benchmarks leaked pages');
process.stdout.write(`${new Date().toISOString()}  ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs, node ${process.version}; ` +
  `load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end\n`);
process.stdout.write(`Page allocator, 4 GiB x86_64, 2 CPUs, GFP_KERNEL from ${pcp.zone} (pcp batch ${pcp.batch}, high ${pcp.high}); ` +
  `median of ${ROUNDS} interleaved rounds, ns per alloc+free pair:\n`);
process.stdout.write(table(['benchmark', 'wall', 'cpu', 'cpu min..max', 'x raw (cpu)'], rows.map((r) => {
  const raw = r.name.startsWith('raw Int32Array free list') ? undefined : rawFor(r.name, rows);
  return [r.name, fmt(r.wall), fmt(r.cpu), `${fmt(r.cpuMin)}..${fmt(r.cpuMax)}`, raw ? `${(r.cpu / raw.cpu).toFixed(1)}x` : ''];
})) + '\n');
process.stdout.write(`(checksum ${sink})\n`);
