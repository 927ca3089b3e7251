/*
 * The slab rows of bench/slab.ts (SLUB's with and without percpu sheaves) timed by the process's CPU time
 * (process.cpuUsage(): user + system) instead of the wall clock, in
 * interleaved rounds (the first discarded), median [min..max]. On a loaded
 * machine a wall-clock median includes the time the process waited for a
 * CPU; CPU time does not (cache and SMT contention still count).
 *
 *   node --import tsx bench/slab_cpu.ts
 */
import { start_kernel } from '../src/init/main.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { table, type Task } from './harness.ts';
import { loadTlsf, segregatedTasks, sheafTasks, slabTasks, thingTasks, tlsfTasks } from './slab.ts';

const ROUNDS = 9;

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function main(): Promise<void> {
  const k = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
  const mod = await loadTlsf();
  // @thi.ng/malloc's mixed row takes hundreds of µs a pair: its 64 B row only
  const sheaves = sheafTasks(start_kernel(resolveConfig({ mem: '4G', cpus: 2, sheaves: 'opt-in' })),
    start_kernel(resolveConfig({ mem: '4G', cpus: 2, sheaves: 'all' })));
  const tasks: Task[] = [thingTasks()[0], ...(typeof mod === 'string' ? [] : tlsfTasks(mod)), ...segregatedTasks(), ...slabTasks(k), ...sheaves];
  const ops = tasks.map((t) => (t.name.includes('mixed') ? 20000 : 1000000));
  const samples: number[][] = tasks.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    tasks.forEach((t, i) => {
      const t0 = cpuNs();
      t.run(ops[i]);
      if (r > 0) samples[i].push((cpuNs() - t0) / ops[i]);
    });
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  process.stdout.write(`Slab rows by CPU time, ${ROUNDS - 1} interleaved rounds${typeof mod === 'string' ? ` (${mod})` : ''}; CPU ns per pair, median [min..max]:\n`);
  process.stdout.write(table(['benchmark', 'cpu ns/pair', 'min..max'], tasks.map((t, i) =>
    [t.name, median(samples[i]).toFixed(1), `${Math.min(...samples[i]).toFixed(1)}..${Math.max(...samples[i]).toFixed(1)}`])) + '\n');
}

await main();
