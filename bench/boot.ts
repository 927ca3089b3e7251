/*
 * Boot benchmarks: each boot runs in a fresh child process (bench/boot_child.ts),
 * so its RSS is its own. Sizes are interleaved run by run (idle, 4G, 16G,
 * idle, 4G, ...) so drift affects them alike; the median of the runs is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { BootSample } from './boot_child.ts';
import { median } from './harness.ts';

const CHILD = fileURLToPath(new URL('./boot_child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BootResult {
  mem: string;
  runs: number;
  bootMs: number;
  bootMsMin: number;
  bootMsMax: number;
  importMs: number;
  processMs: number;
  rssStartMiB: number;
  rssBeforeBootMiB: number;
  rssAfterBootMiB: number;
  /** rssAfterBoot - rssBeforeBoot: what start_kernel() itself made resident. */
  rssDeltaMiB: number;
  maxRssMiB: number;
  heapUsedMiB: number;
  arrayBuffersMiB: number;
}

function spawnJson<T>(args: string[]): T {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

export function bootOnce(mem: string, cpus = 2, bundle: string | null = null): BootSample {
  return spawnJson<BootSample>(bundle === null ? ['--import', 'tsx', CHILD, mem, String(cpus)] : [bundle, mem, String(cpus)]);
}

/**
 * boot_child.ts and the kernel bundled into one plain JavaScript file by
 * esbuild, as a published build of kmem would run: no TypeScript loader in
 * the process. tsx's loader runs in a worker thread of its own, which costs
 * some 30 MiB of resident memory that is not kmem's.
 */
export function bundleBootChild(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'kmem-bench-')), 'boot_child.mjs');
  buildSync({ entryPoints: [CHILD], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
  return out;
}

/** RSS (MiB) of a plain `node` process that does nothing, no tsx. */
export function bareNodeRssMiB(): number {
  const r = spawnJson<{ rss: number }>(['-e', 'process.stdout.write(JSON.stringify({ rss: process.memoryUsage.rss() }))']);
  return r.rss / (1 << 20);
}

function summarise(mem: string, xs: BootSample[]): BootResult {
  const m = (f: (s: BootSample) => number) => median(xs.map(f));
  return {
    mem,
    runs: xs.length,
    bootMs: m((s) => s.bootMs),
    bootMsMin: Math.min(...xs.map((s) => s.bootMs)),
    bootMsMax: Math.max(...xs.map((s) => s.bootMs)),
    importMs: m((s) => s.importMs),
    processMs: m((s) => s.processMs),
    rssStartMiB: m((s) => s.rssStartMiB),
    rssBeforeBootMiB: m((s) => s.rssBeforeBootMiB),
    rssAfterBootMiB: m((s) => s.rssAfterBootMiB),
    rssDeltaMiB: m((s) => s.rssAfterBootMiB - s.rssBeforeBootMiB),
    maxRssMiB: m((s) => s.maxRssMiB),
    heapUsedMiB: m((s) => s.heapUsedMiB),
    arrayBuffersMiB: m((s) => s.arrayBuffersMiB),
  };
}

export interface BootBench {
  bareNodeRssMiB: number;
  /** Run through tsx, as `npm run`/`node --import tsx` does. */
  results: BootResult[];
  /** The same boots from an esbuild bundle in plain node. */
  bundled: BootResult[];
}

export function runBootBenches(sizes: readonly string[], runs: number, progress: (msg: string) => void): BootBench {
  const all = ['idle', ...sizes];
  const samples = new Map<string, BootSample[]>(all.map((s) => [s, []]));
  const bundledSamples = new Map<string, BootSample[]>(all.map((s) => [s, []]));
  const bundle = bundleBootChild();
  // One unrecorded boot first: tsx's transform cache is then warm for every recorded run.
  bootOnce(sizes[0]);
  const bare: number[] = [];
  for (let r = 0; r < runs; r++) {
    bare.push(bareNodeRssMiB());
    for (const mem of all) {
      const s = bootOnce(mem);
      samples.get(mem)!.push(s);
      const b = bootOnce(mem, 2, bundle);
      bundledSamples.get(mem)!.push(b);
      progress(`  boot ${mem} run ${r + 1}/${runs}: ${s.bootMs.toFixed(0)} ms, RSS ${s.rssAfterBootMiB.toFixed(0)} MiB (bundled: ${b.bootMs.toFixed(0)} ms, ${b.rssAfterBootMiB.toFixed(0)} MiB)`);
    }
  }
  return {
    bareNodeRssMiB: median(bare),
    results: all.map((mem) => summarise(mem, samples.get(mem)!)),
    bundled: all.map((mem) => summarise(mem, bundledSamples.get(mem)!)),
  };
}
