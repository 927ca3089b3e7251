/*
 * SMP benchmark (issue 5): throughput of per-CPU-cached slab allocation
 * with 1, 2 and (when the host has 4 threads) 4 workers on the same
 * machine, next to the same workload on @thi.ng/malloc behind one Atomics
 * lock (what a JS user would otherwise do). One op = one allocation + one
 * free of a 64-byte object.
 *
 *   kmem_cache, N workers    each worker attached as its own CPU
 *                            (src/init/attach.ts), kmem_cache_alloc/free on
 *                            one shared cache: SLUB's per-CPU freelist, no
 *                            atomic operation, no shared cache line written
 *   thi.ng + lock, N workers one MemPool over one SharedArrayBuffer, every
 *                            malloc and free under one futex-style lock
 *
 * Target: 2 workers at least 1.7x one. `node --import tsx bench/smp.ts`
 * runs it alone (--json for JSON); bench/run.ts runs it with the rest.
 */
import { availableParallelism } from 'node:os';
import { MemPool } from '@thi.ng/malloc';
import { start_kernel } from '../src/init/main.ts';
import { shareMachine } from '../src/init/attach.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { runParallel, type ParallelResult } from './workers.ts';

export interface SmpBench {
  name: string;
  runs: ParallelResult[];
  /** Throughput with 2 workers over throughput with 1. */
  scaling: number;
}

export async function smpBenches(ms = 1500): Promise<SmpBench[]> {
  const counts = availableParallelism() >= 4 ? [1, 2, 4] : [1, 2];
  const out: SmpBench[] = [];

  const kmemRuns: ParallelResult[] = [];
  for (const n of counts) {
    const k = start_kernel(resolveConfig({ mem: '512M', cpus: n + 1 }), { errors: 'log' });
    const cache = k.kmem_cache_create('bench_64', 64, 0, 0, null);
    const machine = shareMachine(k);
    kmemRuns.push(await runParallel(new URL('./workers/kmem_cache_loop.ts', import.meta.url), n, ms,
      (i) => ({ machine, cpu: i + 1, cache })));
  }
  out.push({ name: 'kmem kmem_cache 64 B (per-CPU)', runs: kmemRuns, scaling: kmemRuns[1].opsPerSecond / kmemRuns[0].opsPerSecond });

  const thingRuns: ParallelResult[] = [];
  for (const n of counts) {
    const buf = new SharedArrayBuffer(64 << 20);
    new MemPool({ buf: buf as unknown as ArrayBuffer });
    const lock = new Int32Array(new SharedArrayBuffer(4));
    thingRuns.push(await runParallel(new URL('./workers/thing_locked_loop.ts', import.meta.url), n, ms, () => ({ buf, lock })));
  }
  out.push({ name: '@thi.ng/malloc + one Atomics lock', runs: thingRuns, scaling: thingRuns[1].opsPerSecond / thingRuns[0].opsPerSecond });
  return out;
}

/** The target: 2 workers at least 1.7x one on the per-CPU path. */
export function smpTargets(results: readonly SmpBench[]): { what: string; target: string; measured: string; met: boolean }[] {
  const kmem = results[0];
  return [{
    what: 'kmem_cache 64 B per-CPU pairs: 2 workers vs 1 (aggregate pairs/s)', target: '>= 1.7x',
    measured: `${kmem.scaling.toFixed(2)}x (${(kmem.runs[1].opsPerSecond / 1e6).toFixed(1)} vs ${(kmem.runs[0].opsPerSecond / 1e6).toFixed(1)} M pairs/s;` +
      ` thi.ng + lock ${results[1].scaling.toFixed(2)}x)`,
    met: kmem.scaling >= 1.7,
  }];
}

export function formatSmp(results: readonly SmpBench[]): string {
  const lines = ['| workload | workers | M pairs/s total | per worker | ns/pair per worker | 2 vs 1 |', '|---|---|---|---|---|---|'];
  for (const r of results) {
    for (const run of r.runs) {
      lines.push(`| ${r.name} | ${run.workers} | ${(run.opsPerSecond / 1e6).toFixed(2)} | ` +
        `${run.perWorker.map((x) => (x / 1e6).toFixed(2)).join(', ')} | ` +
        `${run.perWorker.map((x) => (1e9 / x).toFixed(0)).join(', ')} | ${run.workers === 2 ? r.scaling.toFixed(2) + 'x' : ''} |`);
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await smpBenches();
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : formatSmp(r));
}
