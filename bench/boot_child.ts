/*
 * One boot, in a process of its own, so that its resident memory is that
 * boot's alone. Spawned by bench/boot.ts as
 *
 *   node --import tsx bench/boot_child.ts <mem> <cpus>    e.g. 4G 2
 *   node --import tsx bench/boot_child.ts idle            load nothing, boot nothing
 *
 * and prints one JSON line (BootSample) on stdout. The kernel modules are
 * imported dynamically, after the first RSS reading, so "idle" measures the
 * bare `node --import tsx` process and the module load is timed apart from
 * start_kernel().
 */
import { performance } from 'node:perf_hooks';

export interface BootSample {
  mem: string;
  /** RSS (MiB) when this script starts: node + tsx, nothing of kmem loaded. */
  rssStartMiB: number;
  /** Import of src/init/main.ts and src/machine/config.ts (ms; 0 for idle). */
  importMs: number;
  /** RSS (MiB) after the imports, just before start_kernel(). */
  rssBeforeBootMiB: number;
  /** start_kernel(resolveConfig({ mem, cpus })), wall-clock ms. */
  bootMs: number;
  /** RSS (MiB) right after start_kernel() returned. */
  rssAfterBootMiB: number;
  /** Peak RSS of the process (MiB), from getrusage. */
  maxRssMiB: number;
  /** V8 heap in use and ArrayBuffer bytes (MiB) after boot. */
  heapUsedMiB: number;
  arrayBuffersMiB: number;
  /** Time since the process started (ms), when start_kernel() returned: node + tsx + imports + boot. */
  processMs: number;
}

const MiB = 1 << 20;
const mib = (b: number) => b / MiB;

async function main(): Promise<void> {
  const mem = process.argv[2] ?? '4G';
  const cpus = Number(process.argv[3] ?? '2');
  const rssStart = process.memoryUsage.rss();
  let importMs = 0;
  let bootMs = 0;
  let rssBefore = rssStart;
  if (mem !== 'idle') {
    const t0 = performance.now();
    const { start_kernel } = await import('../src/init/main.ts');
    const { resolveConfig } = await import('../src/machine/config.ts');
    importMs = performance.now() - t0;
    const config = resolveConfig({ mem, cpus });
    rssBefore = process.memoryUsage.rss();
    const t1 = performance.now();
    const k = start_kernel(config);
    bootMs = performance.now() - t1;
    if (k.buddy.zones.length === 0) throw new Error('boot produced no zones');
  }
  const mu = process.memoryUsage();
  const sample: BootSample = {
    mem,
    rssStartMiB: mib(rssStart),
    importMs,
    rssBeforeBootMiB: mib(rssBefore),
    bootMs,
    rssAfterBootMiB: mib(mu.rss),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    heapUsedMiB: mib(mu.heapUsed),
    arrayBuffersMiB: mib(mu.arrayBuffers),
    processMs: performance.now(),
  };
  process.stdout.write(JSON.stringify(sample) + '\n');
}

await main();
