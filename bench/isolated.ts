/*
 * Allocators measured each in a process of its own.
 *
 * Why: V8 keeps one set of type feedback, and one optimised code, for all
 * the closures made from one function literal. Rows that run through the
 * same workload code in one process (allocatorTasks() for thi.ng, TLSF and
 * kmem/heap; slabTasks() for SLUB, SLAB, SLOB and SLQB kernels) make each
 * other's call sites polymorphic or megamorphic: nothing gets inlined, and
 * each row pays for the others. No program pays that: it has one
 * allocator. Measured here: kmem/heap's 64 B pair 29 ns next to thi.ng
 * and TLSF in one process, 18 ns alone; the reference measurements of
 * ../shared/reference/js-allocators.md ran one allocator per process too.
 *
 *   parent  measureIsolated(groups)  for each repeat, for each group:
 *             node --import tsx bench/isolated.ts child GROUP ROUNDS TARGET_MS
 *   child   builds GROUP's tasks (below), measureInterleaved(), prints its
 *           TaskResult[] and notes as one JSON line on stdout
 *
 * A group is what belongs in one process: one allocator (or one kernel)
 * with its rows. Per row the parent reports the median of the children's
 * medians, and the smallest min and largest max; with several repeats the
 * groups run in turn, so slow drift on the machine hits them alike.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureInterleaved, median, type Task, type TaskResult } from './harness.ts';

export const GROUPS = ['raw', 'segregated', 'thing', 'tlsf', 'slub', 'sheaves', 'slab', 'slob', 'slqb', 'heap'] as const;
export type Group = (typeof GROUPS)[number];

interface GroupTasks {
  tasks: Task[];
  notes: string[];
  /** Checks after measuring (the SLUB machine must have every page back). */
  after?: () => void;
}

/** The tasks of one group, built in the child. */
async function groupTasks(group: Group): Promise<GroupTasks> {
  const slab = await import('./slab.ts');
  const boot = async (opts: Record<string, string>) => {
    const { start_kernel } = await import('../src/init/main.ts');
    const { resolveConfig } = await import('../src/machine/config.ts');
    return start_kernel(resolveConfig({ mem: '4G', cpus: 2, ...opts }));
  };
  switch (group) {
    case 'raw':
      return { tasks: [(await import('./alloc.ts')).rawTasks(1 << 16)[0]], notes: [] };
    case 'segregated':
      return { tasks: slab.segregatedTasks(), notes: [] };
    case 'thing':
      return { tasks: slab.thingTasks(), notes: [] };
    case 'tlsf': {
      const mod = await slab.loadTlsf();
      return typeof mod === 'string' ? { tasks: [], notes: [`AssemblyScript TLSF skipped: ${mod}`] } : { tasks: slab.tlsfTasks(mod), notes: [] };
    }
    case 'slub': {
      const k = await boot({});
      const { freePagesTotal } = await import('./alloc.ts');
      const shrinkAll = () => {
        for (const s of k.slab.caches()) k.kmem_cache_shrink(s);
        k.drain_all_pages();
      };
      shrinkAll();
      const freeBefore = freePagesTotal(k);
      return {
        tasks: slab.slabTasks(k), notes: [],
        after() {
          shrinkAll();
          const freeAfter = freePagesTotal(k);
          if (freeAfter !== freeBefore) throw new Error(`slab benchmarks leaked pages: ${freeBefore} free before, ${freeAfter} after`);
        },
      };
    }
    case 'sheaves':
      return { tasks: slab.sheafTasks(await boot({ sheaves: 'opt-in' }), await boot({ sheaves: 'all' })), notes: [] };
    case 'slab':
    case 'slob':
    case 'slqb': {
      const k = await boot({ slab: group });
      return { tasks: slab.slabTasks(k).map((t) => ({ ...t, name: `${group.toUpperCase()}: ${t.name}` })), notes: [] };
    }
    case 'heap':
      return { tasks: (await import('./heap.ts')).heapTasks(), notes: [] };
  }
}

export interface IsolatedOptions {
  rounds: number;
  targetMs: number;
  /** How many times each group runs (in turn); default 1. */
  repeats?: number;
  log?(msg: string): void;
}

/** Every group's rows, each group measured in processes of its own. */
export function measureIsolated(groups: readonly Group[], o: IsolatedOptions): { results: TaskResult[]; notes: string[] } {
  const runs = new Map<string, TaskResult[]>();
  const notes = new Set<string>();
  for (let r = 0; r < (o.repeats ?? 1); r++) {
    for (const g of groups) {
      o.log?.(`  process for ${g} (repeat ${r + 1})`);
      const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', g, String(o.rounds), String(o.targetMs)], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
      });
      const child = JSON.parse(out.trim().split('\n').pop() ?? '') as { results: TaskResult[]; notes: string[] };
      child.notes.forEach((n) => notes.add(n));
      for (const t of child.results) runs.set(t.name, [...(runs.get(t.name) ?? []), t]);
    }
  }
  const results = [...runs.values()].map((ts) => ({
    ...ts[0], ns: median(ts.map((t) => t.ns)), min: Math.min(...ts.map((t) => t.min)), max: Math.max(...ts.map((t) => t.max)),
    rounds: ts.reduce((a, t) => a + t.rounds, 0),
  }));
  return { results, notes: [...notes] };
}

async function child(group: Group, rounds: number, targetMs: number): Promise<void> {
  const g = await groupTasks(group);
  const results = measureInterleaved(g.tasks, { rounds, targetMs, progress: (m) => process.stderr.write(m + '\n') });
  g.after?.();
  process.stdout.write(JSON.stringify({ results, notes: g.notes }) + '\n');
}

if (process.argv[2] === 'child' && import.meta.url === `file://${process.argv[1]}`) {
  const group = process.argv[3] as Group;
  if (!GROUPS.includes(group)) throw new Error(`bench/isolated.ts: no group ${group}`);
  // not awaited at the top level: the groups' modules import this one (bench/heap.ts), which must finish loading first
  child(group, Number(process.argv[4]), Number(process.argv[5])).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
