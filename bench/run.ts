/*
 * kmem benchmarks: `npm run bench` (node --import tsx bench/run.ts).
 *
 *   --json        print the results as one JSON document instead of tables
 *   --no-profile  skip profiling the order-0 pair (by default it runs under
 *                 node --cpu-prof twice: as optimised, and with
 *                 --no-turbo-inlining for attribution; top functions printed)
 *   --quick       fewer rounds and boots (a smoke run; do not record its numbers)
 *
 * Progress goes to stderr; results to stdout. What is measured and how:
 * bench/harness.ts (timing), bench/alloc.ts (allocator patterns),
 * bench/boot.ts + bench/boot_child.ts (boot time and RSS, one process per boot),
 * bench/heap.ts (kmem/heap: one thread, worker threads, bundle size),
 * bench/smp.ts (per-CPU slab allocation with 1 and 2 workers on one machine),
 * bench/reference.ts (the issues' own harness, ../shared/reference/js-allocators.md, with kmem in it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { start_kernel } from '../src/init/main.ts';
import { TAINT_BAD_PAGE } from '../src/kernel/bug.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { BURST, freePagesTotal, kernelTasks, pcpContext, rawTasks } from './alloc.ts';
import { runBootBenches, type BootBench } from './boot.ts';
import { summariseFiles, type ProfileSummary } from './cpuprofile.ts';
import { measureInterleaved, table, timerOverheadNs, type TaskResult } from './harness.ts';
import { listHeadModelTask, pcpPathModelTask } from './models.ts';
import { PROFILE_LOOP } from './profile_order0.ts';
import { measureIsolated } from './isolated.ts';
import { THING_LABEL, TLSF_LABEL } from './slab.ts';
import { formatVmalloc, vmallocBenches } from './vmalloc.ts';
import { formatHeap, heapBenches, heapTargets } from './heap.ts';
import { formatSmp, smpBenches, smpTargets } from './smp.ts';
import { formatReference, referenceBenches } from './reference.ts';

const args = new Set(process.argv.slice(2));
const JSON_OUT = args.has('--json');
const PROFILE = !args.has('--no-profile');
const QUICK = args.has('--quick');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const log = (msg: string) => process.stderr.write(msg + '\n');

interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

interface CrossCheck {
  name: string;
  tinybenchMeanNs: number;
  tinybenchP50Ns: number;
  harnessNs: number;
}

/* ------------------------------------------------------------------ */

function machine() {
  const c = cpus();
  return {
    date: new Date().toISOString(),
    cpu: c[0]?.model ?? 'unknown',
    logicalCpus: c.length,
    totalMemGiB: totalmem() / 2 ** 30,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    /** 1-minute load average when the run started: other work on the machine skews every number. */
    loadAvg1: loadavg()[0],
  };
}

/** The allocator micro-benchmarks, all in one interleaved measurement on a 4 GiB, 2-CPU machine. */
function allocBenches() {
  log('allocator: booting a 4 GiB x86_64 machine, 2 CPUs');
  const k = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
  const freeBefore = freePagesTotal(k);
  const pcp = pcpContext(k);
  const raw = rawTasks(1 << 20);
  const kern = kernelTasks(k);
  const results = measureInterleaved([...raw, listHeadModelTask(), pcpPathModelTask(), ...kern], {
    rounds: QUICK ? 3 : 11, targetMs: QUICK ? 10 : 40, progress: log,
  });
  k.drain_all_pages();
  const freeAfter = freePagesTotal(k);
  if (freeAfter !== freeBefore) throw new Error(`allocator benchmarks leaked pages: ${freeBefore} free before, ${freeAfter} after`);
  if (k.bug.tainted & (1 << TAINT_BAD_PAGE)) throw new Error('allocator benchmarks reported bad pages (the kernel is tainted B)');
  return { results, pcp, freePages: freeAfter };
}

/**
 * The slab allocator next to its JS baselines and two JS allocators
 * (@thi.ng/malloc, AssemblyScript's TLSF in wasm; bench/slab.ts), with the
 * same slab rows on SLUB with sheaves, SLAB, SLOB and SLQB machines of
 * their own: each allocator and each kernel in a process of its own
 * (bench/isolated.ts; SLUB's pages must all be back afterwards).
 */
async function slabBenches() {
  log('slab: each allocator and each kernel (4 GiB x86_64, 2 CPUs) in a process of its own');
  const { results, notes } = measureIsolated(['raw', 'segregated', 'thing', 'tlsf', 'slub', 'sheaves', 'slab', 'slob', 'slqb'], {
    rounds: QUICK ? 3 : 11, targetMs: QUICK ? 10 : 40, repeats: QUICK ? 1 : 2, log,
  });
  notes.forEach(log);
  return { results, note: notes.join('; ') };
}

/** The baseline (raw free list, same access pattern) of each kernel row. */
function baselineOf(name: string, results: readonly TaskResult[]): TaskResult | undefined {
  const pattern = name.includes('window') ? 'window' : name.includes('burst') ? 'burst' : 'lifo';
  return results.find((r) => r.name.startsWith('raw Int32Array free list') && r.name.includes(pattern));
}

/** tinybench on one raw pair and one kernel pair per call: shows what per-call timing adds. */
async function crossCheck(harness: readonly TaskResult[]): Promise<CrossCheck[]> {
  log('cross-check: tinybench, one pair per call');
  const k = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
  const gfp = k.GFP_KERNEL;
  const stack = new Int32Array(1 << 20).map((_, i) => i);
  let top = stack.length;
  let sum = 0;
  const bench = new Bench({ time: QUICK ? 200 : 1000, warmupTime: 200 });
  bench.add('raw Int32Array free list, lifo', () => {
    const idx = stack[--top];
    sum = (sum + idx) | 0;
    stack[top++] = idx;
  });
  bench.add('order-0 alloc_pages/__free_pages, lifo (pcp)', () => {
    const page = k.alloc_pages(gfp, 0);
    sum = (sum + page) | 0;
    k.__free_pages(page, 0);
  });
  await bench.run();
  const out: CrossCheck[] = [];
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`tinybench ${t.name}: ${r.state}`);
    const h = harness.find((x) => x.name.startsWith(t.name));
    out.push({ name: t.name, tinybenchMeanNs: r.period * 1e6, tinybenchP50Ns: r.latency.p50 * 1e6, harnessNs: h ? h.ns : NaN });
  }
  if (sum === 0.5) log(''); // keep sum observable
  return out;
}

/** node --cpu-prof on bench/profile_order0.ts; top functions under the loop. */
function profile(extraFlags: string[], mode: string): ProfileSummary & { flags: string[]; mode: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-prof-'));
  try {
    const r = spawnSync(process.execPath, [...extraFlags, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx',
      fileURLToPath(new URL('./profile_order0.ts', import.meta.url)), mode, QUICK ? '1' : '3'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`profile run failed: ${r.stderr}`);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
    return { ...summariseFiles(files, PROFILE_LOOP, 12), flags: extraFlags, mode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/* ------------------------------------------------------------------ */

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Issue 3's speed targets, from the slab table of this run. */
function slabTargets(slab: readonly TaskResult[], note: string): Target[] {
  const find = (prefix: string) => slab.find((r) => r.name.startsWith(prefix));
  const raw = find('raw Int32Array free list, lifo');
  const seg = find('segregated free lists, 8..4096 mixed');
  const cache = find('kmem_cache_alloc/kmem_cache_free 64 B');
  const kmalloc = find('kmalloc/kfree 8..4096 mixed');
  const thing = find(`${THING_LABEL}, 64 B`);
  const tlsf = find(`${TLSF_LABEL}, 8..4096 mixed`);
  const sheafCache = find('kmem_cache 64 B (sheaf_capacity 32)');
  const sheafKmalloc = find('sheaves all: kmalloc/kfree 8..4096 mixed');
  const missing = (what: string) => `${what} not measured${note ? ` (${note})` : ''}`;
  const out: Target[] = [];
  if (cache && raw) {
    out.push({ what: 'kmem_cache_alloc/free 64 B pair vs raw Int32Array free list (lifo)', target: '<= 2x',
      measured: `${fmt(cache.ns / raw.ns, 0)}x (${fmt(cache.ns)} vs ${fmt(raw.ns, 2)} ns)`, met: cache.ns <= 2 * raw.ns });
  }
  if (cache) {
    out.push(thing
      ? { what: 'kmem_cache_alloc/free 64 B pair vs @thi.ng/malloc 64 B pair', target: 'faster',
        measured: `${fmt(cache.ns / thing.ns, 2)}x its time (${fmt(cache.ns)} vs ${fmt(thing.ns)} ns)`, met: cache.ns < thing.ns }
      : { what: 'kmem_cache_alloc/free 64 B pair vs @thi.ng/malloc 64 B pair', target: 'faster', measured: missing('@thi.ng/malloc'), met: false });
  }
  if (kmalloc && seg) {
    out.push({ what: 'kmalloc/kfree 8..4096 mixed (window 10k) vs segregated free lists', target: '<= 1.5x',
      measured: `${fmt(kmalloc.ns / seg.ns, 0)}x (${fmt(kmalloc.ns)} vs ${fmt(seg.ns, 2)} ns)`, met: kmalloc.ns <= 1.5 * seg.ns });
  }
  if (kmalloc) {
    out.push(tlsf
      ? { what: 'kmalloc/kfree 8..4096 mixed (window 10k) vs AssemblyScript TLSF from JS', target: '>= 2x faster',
        measured: `${fmt(tlsf.ns / kmalloc.ns, 2)}x as fast (${fmt(kmalloc.ns)} vs ${fmt(tlsf.ns)} ns)`, met: 2 * kmalloc.ns <= tlsf.ns }
      : { what: 'kmalloc/kfree 8..4096 mixed (window 10k) vs AssemblyScript TLSF from JS', target: '>= 2x faster',
        measured: missing('TLSF'), met: false });
  }
  if (sheafCache && thing) {
    out.push({ what: 'kmem_cache 64 B pair with sheaves (capacity 32) vs @thi.ng/malloc 64 B pair', target: 'faster',
      measured: `${fmt(sheafCache.ns / thing.ns, 2)}x its time (${fmt(sheafCache.ns)} vs ${fmt(thing.ns)} ns)`, met: sheafCache.ns < thing.ns });
  }
  if (sheafKmalloc && tlsf) {
    out.push({ what: 'kmalloc/kfree 8..4096 mixed with sheaves \'all\' vs AssemblyScript TLSF from JS', target: '>= 2x faster',
      measured: `${fmt(tlsf.ns / sheafKmalloc.ns, 2)}x as fast (${fmt(sheafKmalloc.ns)} vs ${fmt(tlsf.ns)} ns)`, met: 2 * sheafKmalloc.ns <= tlsf.ns });
  }
  return out;
}

function targets(alloc: TaskResult[], boot: BootBench): Target[] {
  const raw = alloc.find((r) => r.name === 'raw Int32Array free list, lifo')!;
  const o0 = alloc.find((r) => r.name.startsWith('order-0 alloc_pages/__free_pages, lifo'))!;
  const b4 = boot.results.find((r) => r.mem === '4G')!;
  const b4b = boot.bundled.find((r) => r.mem === '4G')!;
  return [
    { what: 'order-0 alloc_pages/__free_pages pair vs raw Int32Array free list (lifo)', target: '<= 4x',
      measured: `${fmt(o0.ns / raw.ns, 0)}x (${fmt(o0.ns)} vs ${fmt(raw.ns, 2)} ns)`, met: o0.ns <= 4 * raw.ns },
    { what: '4 GiB boot, start_kernel() (median)', target: '< 300 ms', measured: `${fmt(b4.bootMs)} ms`, met: b4.bootMs < 300 },
    { what: '4 GiB boot, process RSS after boot (median), plain node (bundled)', target: '< 150 MiB',
      measured: `${fmt(b4b.rssAfterBootMiB)} MiB (peak ${fmt(b4b.maxRssMiB)})`, met: b4b.rssAfterBootMiB < 150 },
    { what: '4 GiB boot, process RSS after boot (median), through tsx', target: '< 150 MiB',
      measured: `${fmt(b4.rssAfterBootMiB)} MiB (peak ${fmt(b4.maxRssMiB)})`, met: b4.rssAfterBootMiB < 150 },
  ];
}

async function main(): Promise<void> {
  const m = machine();
  log(`kmem benchmarks ${m.date} on ${m.cpu} (${m.logicalCpus} CPUs), node ${m.node}`);
  const timerNs = timerOverheadNs();

  log('boot: fresh child process per boot');
  const boot = runBootBenches(['4G', '16G'], QUICK ? 1 : 5, log);

  const alloc = allocBenches();
  const { results: slab, note: slabNote } = await slabBenches();
  const vmalloc = vmallocBenches(QUICK, log);
  const heap = await heapBenches(QUICK, log);
  log('smp: kmem_cache per-CPU pairs and @thi.ng/malloc behind one lock, 1 and 2 workers');
  const smp = await smpBenches(QUICK ? 500 : 1500);
  const cross = await crossCheck(alloc.results);
  log('reference: the harness of ../shared/reference/js-allocators.md, one process per run');
  const reference = referenceBenches(QUICK, log);

  const profiles = PROFILE ? [profile([], 'page'), profile(['--no-turbo-inlining'], 'page')] : [];
  const tgt = [...targets(alloc.results, boot), ...slabTargets(slab, slabNote), ...heapTargets(heap), ...smpTargets(smp)];

  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ machine: { ...m, loadAvg1End: loadavg()[0] }, timerOverheadNs: timerNs, alloc, slab, slabNote, vmalloc, heap, smp, crossCheck: cross, reference, boot, targets: tgt, profiles }, null, 2) + '\n');
    return;
  }

  const out: string[] = [];
  out.push(`kmem benchmarks  ${m.date}`);
  out.push(`${m.cpu}, ${m.logicalCpus} logical CPUs, ${fmt(m.totalMemGiB)} GiB, node ${m.node} (V8 ${m.v8}), ${m.platform}`);
  out.push(`load average (1 min) at start ${fmt(m.loadAvg1, 2)}, at end ${fmt(loadavg()[0], 2)}`);
  out.push('');
  out.push(`Page allocator, 4 GiB x86_64, 2 CPUs, GFP_KERNEL from ${alloc.pcp.zone}` +
    ` (pcp batch ${alloc.pcp.batch}, high ${alloc.pcp.high} [${alloc.pcp.highMin}..${alloc.pcp.highMax}]); ns per alloc+free pair,` +
    ` median of ${alloc.results[0].rounds} rounds [min..max]:`);
  out.push(table(['benchmark', 'ns/pair', 'min..max', 'x raw', 'Mpairs/s'], alloc.results.map((r) => {
    const base = r.name.startsWith('raw Int32Array free list') ? undefined : baselineOf(r.name, alloc.results);
    return [r.name, fmt(r.ns, r.ns < 10 ? 2 : 1), `${fmt(r.min, r.ns < 10 ? 2 : 0)}..${fmt(r.max, r.ns < 10 ? 2 : 0)}`,
      base ? `${fmt(r.ns / base.ns, 0)}x` : '', fmt(1e3 / r.ns, 2)];
  })));
  out.push(`(x raw: against the raw free list with the same pattern; burst = ${BURST} allocations then ${BURST} frees in random order;`);
  out.push(' models (bench/models.ts): the pcp list alone, and every field kmem\'s order-0 fast path touches, in one flat function)');
  out.push('');
  out.push('Slab allocator, 4 GiB x86_64, 2 CPUs, GFP_KERNEL on CPU 0; ns per alloc+free pair, median [min..max]:');
  out.push(table(['benchmark', 'ns/pair', 'min..max', 'Mpairs/s'], slab.map((r) =>
    [r.name, fmt(r.ns, r.ns < 10 ? 2 : 1), `${fmt(r.min, r.ns < 10 ? 2 : 0)}..${fmt(r.max, r.ns < 10 ? 2 : 0)}`, fmt(1e3 / r.ns, 2)])));
  out.push('(bench/slab.ts: sizes log-uniform in 8..4096 from a fixed seed; segregated lists = one Int32Array stack per size class;');
  out.push(' @thi.ng/malloc: MemPool defaults over a 64 MiB ArrayBuffer; TLSF: AssemblyScript\'s heap.alloc/heap.free in wasm, one JS call each)');
  if (slabNote) out.push(slabNote);
  out.push('');
  out.push(formatVmalloc(vmalloc));
  out.push('');
  out.push(formatHeap(heap));
  out.push('');
  out.push('SMP (issue 5): one op = alloc + free of 64 bytes on each worker\'s own CPU, all workers at once:');
  out.push(formatSmp(smp));
  out.push('');
  out.push(`Cross-check with tinybench (one pair per call; performance.now() costs ${fmt(timerNs)} ns here):`);
  out.push(table(['benchmark', 'tinybench mean', 'tinybench p50', 'batched harness'],
    cross.map((c) => [c.name, `${fmt(c.tinybenchMeanNs)} ns`, `${fmt(c.tinybenchP50Ns)} ns`, `${fmt(c.harnessNs, 2)} ns`])));
  out.push('');
  out.push(formatReference(reference));
  out.push('');
  out.push(`Boot (x86_64, 2 CPUs), fresh process each, median of ${boot.results[0].runs} runs; bare \`node\` RSS ${fmt(boot.bareNodeRssMiB)} MiB:`);
  out.push(table(['machine', 'start_kernel ms', 'min..max', 'import ms', 'process ms', 'RSS before', 'RSS after', 'RSS delta', 'peak RSS', 'JS heap'],
    boot.results.map((b) => [b.mem === 'idle' ? 'idle (node --import tsx)' : b.mem, b.mem === 'idle' ? '' : fmt(b.bootMs),
      b.mem === 'idle' ? '' : `${fmt(b.bootMsMin, 0)}..${fmt(b.bootMsMax, 0)}`, b.mem === 'idle' ? '' : fmt(b.importMs, 0),
      fmt(b.processMs, 0), `${fmt(b.rssBeforeBootMiB)} MiB`, `${fmt(b.rssAfterBootMiB)} MiB`,
      b.mem === 'idle' ? '' : `${fmt(b.rssDeltaMiB)} MiB`, `${fmt(b.maxRssMiB)} MiB`, `${fmt(b.heapUsedMiB)} MiB`])));
  out.push('(RSS before: after node + tsx + the kmem imports; delta: what start_kernel() made resident; process ms: from process start)');
  out.push('');
  out.push('The same boots from an esbuild bundle in plain node (no TypeScript loader thread in the process):');
  out.push(table(['machine', 'start_kernel ms', 'RSS before', 'RSS after', 'RSS delta', 'peak RSS'],
    boot.bundled.map((b) => [b.mem === 'idle' ? 'idle (node, bundle loaded)' : b.mem, b.mem === 'idle' ? '' : fmt(b.bootMs),
      `${fmt(b.rssBeforeBootMiB)} MiB`, `${fmt(b.rssAfterBootMiB)} MiB`, b.mem === 'idle' ? '' : `${fmt(b.rssDeltaMiB)} MiB`,
      `${fmt(b.maxRssMiB)} MiB`])));
  out.push('');
  out.push('Targets:');
  out.push(table(['target', 'goal', 'measured', 'met'], tgt.map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : 'NO'])));
  for (const p of profiles) {
    out.push('');
    out.push(`Profile: order-0 alloc_pages/__free_pages pair, node ${['--cpu-prof', ...p.flags].join(' ')}; ${p.samples} samples` +
      ` under the loop, GC ${fmt(p.gcPct)}% of all samples:`);
    out.push(table(['function', 'self %', 'total %'], p.top.map((t) => [t.fn, fmt(t.selfPct), fmt(t.totalPct)])));
  }
  process.stdout.write(out.join('\n') + '\n');
}

await main();
