/*
 * kmem stress [--workers N] [--seconds S] [--ops N] [--seed N] [--slab IMPL] [--json] [boot flags]
 *
 * The SMP stress test (src/testing/smp_stress.ts) on a booted machine: N
 * host threads, one per CPU, allocating and freeing at the same time with
 * many cross-CPU frees; then the books. Exit 1 when an object was handed
 * out twice, lost, or the kernel reported anything.
 */
import type { Command } from 'commander';
import { addBootOptions, bootFromFlags, describeMachine, type BootFlags } from './options.ts';
import type { Output } from './output.ts';
import { runStress } from '../node/stress.ts';

export interface StressFlags extends BootFlags {
  workers?: string;
  seconds?: string;
  ops?: string;
  seed?: string;
  json?: boolean;
}

function positive(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name}: expected a positive number, got ${JSON.stringify(v)}`);
  return n;
}

export function addStressCommand(program: Command, out: Output, err: Output): void {
  addBootOptions(program.command('stress')
    .description('SMP stress test: CPUs as worker threads allocating and freeing at once, with cross-CPU frees; then check the books'))
    .option('--workers <n>', 'worker threads, one per CPU (default 2; the machine gets at least as many CPUs)')
    .option('--seconds <s>', 'stop after S seconds (default 5)')
    .option('--ops <n>', 'stop each worker after N operations (default 1000000)')
    .option('--seed <n>', 'seed of the operation sequences (default 1)')
    .option('--slab <impl>', 'slab allocator: slub (default), slob, slab or slqb')
    .option('--json', 'print one JSON object')
    .action(async (flags: StressFlags) => {
      let workers: number, seconds: number, maxOps: number, seed: number;
      try {
        workers = Math.floor(positive('workers', flags.workers, 2));
        seconds = positive('seconds', flags.seconds, 5);
        maxOps = Math.floor(positive('ops', flags.ops, 1_000_000));
        seed = Math.floor(positive('seed', flags.seed, 1));
      } catch (e) {
        err.line(`kmem: ${(e as Error).message}`);
        process.exitCode = 2;
        return;
      }
      const cpus = flags.cpus === undefined ? String(workers) : flags.cpus;
      const k = bootFromFlags({ ...flags, cpus });
      const r = await runStress(k, { workers, seconds, maxOps, seed });
      if (flags.json) out.line(JSON.stringify(r));
      else {
        out.line(`kmem stress on ${describeMachine(k.config)}, slab ${r.slab}`);
        out.line(`  ${r.workers} workers, ${r.ops.toLocaleString('en-US')} operations in ${r.seconds.toFixed(2)} s ` +
          `(${r.ops_per_second.toLocaleString('en-US')}/s; per worker ${r.per_worker_ops.join(', ')})`);
        out.line(`  ${r.allocations} allocations, ${r.frees} frees, ${r.cross_cpu_frees} of them on another CPU`);
        out.line(`  double allocations ${r.double_allocations}, lost objects ${r.lost_objects}, lost pages ${r.lost_pages}, ` +
          `overwritten tags ${r.overwritten_tags}, kernel reports ${r.debug_reports}`);
      }
      const bad = r.double_allocations + r.lost_objects + r.debug_reports + r.overwritten_tags + Math.abs(r.lost_pages);
      process.exitCode = bad === 0 ? 0 : 1;
    });
}
