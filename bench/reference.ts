/*
 * The issues' own measurement, with kmem in it: the harness and workloads
 * of ../shared/reference/js-allocators.md §4 (its bench.mjs), where the
 * figures the issues quote come from (raw free list 12.8 ns, segregated
 * lists 12.7 / 78.8, @thi.ng/malloc 26.4 / 354,527, TLSF from JS 74.8 /
 * 239, on that machine). The slab and heap tables (bench/slab.ts,
 * bench/heap.ts) inline each workload into its own loop; here, as there,
 * every allocator sits behind the same adapter, so the raw list costs an
 * adapter call too:
 *
 *   { alloc(size) -> handle, free(handle) }, one allocator per process, a
 *   warm-up on a separate instance (N / 8, no churn), then one timed run:
 *   fixed  N = 10 M x { h = alloc(64); ring[i & 15] = h; free(h) }
 *   mixed  10,000 live blocks of 8 + rnd() % 4089 bytes (xorshift32, seed
 *          12345), 20,000 untimed replacement steps, then N = 2 M timed
 *          steps { j = rnd() % 10000; free(slot[j]); slot[j] = alloc(8 + rnd() % 4089) }
 *   median of RUNS (5) processes per row
 *
 * kmem's rows: kmem/heap's alloc/free; the kernel API on the slab tables'
 * machine (4 GiB x86_64, 2 CPUs, CPU 0): kmalloc/kfree on 6.12's SLUB and
 * with 7.0's percpu sheaves on every cache, and (fixed only, a 4 KiB
 * "block") alloc_pages/__free_pages of order 0.
 *
 *   node --import tsx bench/reference.ts [--quick]     (also part of npm run bench)
 *   node --import tsx bench/reference.ts run IMPL fixed|mixed [N]   one run, JSON
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemPool } from '@thi.ng/malloc';
import { median, table } from './harness.ts';
import { loadTlsf } from './slab.ts';

interface Adapter {
  alloc(size: number): number;
  free(handle: number): void;
}

const ARENA = 64 << 20;
const W = 10000;
const SEED = 12345;
const CHURN = 20000;
const DEFAULT_N = { fixed: 10_000_000, mixed: 2_000_000 } as const;
type Workload = keyof typeof DEFAULT_N;

let rs = 1;
/** xorshift32, as bench.mjs (and its wasm twin) has it. */
function rnd(): number {
  let x = rs;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rs = x >>> 0;
  return rs;
}

async function bootKernel(sheaves: boolean) {
  const { start_kernel } = await import('../src/init/main.ts');
  const { resolveConfig } = await import('../src/machine/config.ts');
  return start_kernel(resolveConfig({ mem: '4G', cpus: 2, ...(sheaves ? { sheaves: 'all' as const } : {}) }));
}

/** Each implementation: a factory of fresh instances (one for the warm-up, one timed), and which workloads it runs. */
const IMPLS: Record<string, { label: string; workloads: Workload[]; make(): Promise<() => Adapter> }> = {
  i32fl: {
    label: 'raw Int32Array free list (bench.mjs i32fl)', workloads: ['fixed'],
    async make() {
      return () => {
        const n = ARENA >>> 6;
        const next = new Int32Array(n);
        for (let i = 0; i < n - 1; i++) next[i] = i + 1;
        next[n - 1] = -1;
        let head = 0;
        return {
          alloc: () => { const i = head; head = next[i]; return i; },
          free: (i) => { next[i] = head; head = i; },
        };
      };
    },
  },
  segfl: {
    label: 'segregated free lists (bench.mjs segfl)', workloads: ['fixed', 'mixed'],
    async make() {
      return () => {
        const SH = 16;
        const mem = new Int32Array(ARENA >>> 2);
        const slabCls = new Uint8Array(ARENA >>> SH);
        const head = new Int32Array(13).fill(-1);
        const bump = new Int32Array(13);
        const lim = new Int32Array(13);
        let nextSlab = 1;
        return {
          alloc: (n) => {
            const c = n <= 8 ? 3 : 32 - Math.clz32(n - 1);
            let p = head[c];
            if (p >= 0) { head[c] = mem[p >>> 2]; return p; }
            if (bump[c] >= lim[c]) { const s = nextSlab++; slabCls[s] = c; bump[c] = s << SH; lim[c] = (s + 1) << SH; }
            p = bump[c];
            bump[c] = p + (1 << c);
            return p;
          },
          free: (p) => { const c = slabCls[p >>> SH]; mem[p >>> 2] = head[c]; head[c] = p; },
        };
      };
    },
  },
  thing: {
    label: '@thi.ng/malloc MemPool', workloads: ['fixed', 'mixed'],
    async make() {
      return () => {
        const pool = new MemPool({ buf: new SharedArrayBuffer(ARENA) });
        return { alloc: (n) => pool.malloc(n), free: (p) => { pool.free(p); } };
      };
    },
  },
  tlsf: {
    label: 'AssemblyScript TLSF (wasm, called from JS)', workloads: ['fixed', 'mixed'],
    async make() {
      const mod = await loadTlsf();
      if (typeof mod === 'string') throw new Error(mod);
      return () => {
        const e = new WebAssembly.Instance(mod, { env: { abort() { throw new Error('abort'); } } }).exports as unknown as Adapter;
        return { alloc: e.alloc, free: e.free };
      };
    },
  },
  heap: {
    label: 'kmem/heap alloc/free', workloads: ['fixed', 'mixed'],
    async make() {
      const { Heap } = await import('../src/heap/index.ts');
      return () => {
        const h = Heap.create({ size: ARENA });
        return { alloc: (n) => h.alloc(n), free: (p) => h.free(p) };
      };
    },
  },
  kmalloc: {
    label: 'kmem kmalloc/kfree (SLUB, 6.12)', workloads: ['fixed', 'mixed'],
    async make() {
      const k = await bootKernel(false);
      const gfp = k.GFP_KERNEL;
      return () => ({ alloc: (n) => k.kmalloc(n, gfp), free: (p) => k.kfree(p) });
    },
  },
  'kmalloc-sheaves': {
    label: 'kmem kmalloc/kfree (SLUB, sheaves on every cache)', workloads: ['fixed', 'mixed'],
    async make() {
      const k = await bootKernel(true);
      const gfp = k.GFP_KERNEL;
      return () => ({ alloc: (n) => k.kmalloc(n, gfp), free: (p) => k.kfree(p) });
    },
  },
  pages: {
    label: 'kmem alloc_pages/__free_pages, order 0', workloads: ['fixed'],
    async make() {
      const k = await bootKernel(false);
      const gfp = k.GFP_KERNEL;
      return () => ({ alloc: () => k.alloc_pages(gfp, 0), free: (p) => k.__free_pages(p, 0) });
    },
  },
};

function fixed(a: Adapter, n: number): number {
  const ring = new Array<number>(16);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const h = a.alloc(64);
    ring[i & 15] = h;
    a.free(h);
  }
  return Number(process.hrtime.bigint() - t0);
}

function mixed(a: Adapter, n: number, churn: number): number {
  rs = SEED;
  const slot = new Array<number>(W);
  for (let i = 0; i < W; i++) slot[i] = a.alloc(8 + rnd() % 4089);
  for (let i = 0; i < churn; i++) {
    const j = rnd() % W;
    a.free(slot[j]);
    slot[j] = a.alloc(8 + rnd() % 4089);
  }
  let fails = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const j = rnd() % W;
    a.free(slot[j]);
    const h = a.alloc(8 + rnd() % 4089);
    if (!h) fails++;
    slot[j] = h;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (fails) throw new Error(`alloc failed ${fails} times`);
  for (let i = 0; i < W; i++) a.free(slot[i]);
  return ns;
}

/** One timed run in this process: ns per pair. */
async function runOne(impl: string, wl: Workload, n: number): Promise<number> {
  const make = await IMPLS[impl].make();
  const warm = Math.max(1, n >>> 3);
  if (wl === 'fixed') fixed(make(), warm);
  else mixed(make(), warm, 0);
  return (wl === 'fixed' ? fixed(make(), n) : mixed(make(), n, CHURN)) / n;
}

export interface ReferenceRow {
  impl: string;
  label: string;
  workload: Workload;
  n: number;
  nsPerPair: number;
  min: number;
  max: number;
}

/** Every implementation and workload, RUNS processes each, one after another. */
export function referenceBenches(quick: boolean, log: (m: string) => void): ReferenceRow[] {
  const runs = quick ? 1 : 5;
  const rows: ReferenceRow[] = [];
  for (const wl of ['fixed', 'mixed'] as const) {
    for (const [impl, def] of Object.entries(IMPLS)) {
      if (!def.workloads.includes(wl)) continue;
      // @thi.ng/malloc's free() walks its lists: 5,000 mixed steps, as bench.mjs runs it
      const n = (impl === 'thing' && wl === 'mixed' ? 5000 : DEFAULT_N[wl]) / (quick ? 10 : 1);
      const xs: number[] = [];
      for (let r = 0; r < runs; r++) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'run', impl, wl, String(n)],
          { encoding: 'utf8', maxBuffer: 1 << 20 });
        xs.push(Number(JSON.parse(out.trim().split('\n').pop()!).nsPerPair));
      }
      rows.push({ impl, label: def.label, workload: wl, n, nsPerPair: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
      log(`reference: ${impl} ${wl}: ${median(xs).toFixed(1)} ns/pair`);
    }
  }
  return rows;
}

const fmt = (x: number) => x.toFixed(x < 10 ? 2 : 1);

export function formatReference(rows: readonly ReferenceRow[]): string {
  const out = ['The issues\' reference harness (../shared/reference/js-allocators.md §4, bench/reference.ts): every allocator behind one',
    'adapter, one process per run, median of the runs; mixed = sizes uniform in 8 + rnd() % 4089 with 10,000 live; ns per pair:'];
  out.push(table(['allocator', 'workload', 'N pairs', 'ns/pair', 'min..max'],
    rows.map((r) => [r.label, r.workload, String(r.n), fmt(r.nsPerPair), `${fmt(r.min)}..${fmt(r.max)}`])));
  const find = (impl: string, wl: Workload) => rows.find((r) => r.impl === impl && r.workload === wl);
  const raw = find('i32fl', 'fixed');
  const seg = find('segfl', 'mixed');
  const thing = find('thing', 'fixed');
  const tlsf = find('tlsf', 'mixed');
  const ratio = (a: ReferenceRow | undefined, b: ReferenceRow | undefined) => (a && b ? `${(a.nsPerPair / b.nsPerPair).toFixed(2)}x` : '-');
  const lines: [string, string, string][] = [
    ['order-0 alloc_pages/__free_pages vs raw free list (issue 2: <= 4x)', ratio(find('pages', 'fixed'), raw), 'its time'],
    ['kmalloc/kfree 64 B vs raw free list (issue 3: <= 2x)', ratio(find('kmalloc', 'fixed'), raw), 'its time'],
    ['kmalloc/kfree 64 B vs @thi.ng/malloc (issue 3: faster)', ratio(find('kmalloc', 'fixed'), thing), 'its time'],
    ['kmalloc/kfree mixed vs segregated lists (issue 3: <= 1.5x)', ratio(find('kmalloc', 'mixed'), seg), 'its time'],
    ['kmalloc/kfree mixed vs TLSF (issue 3: >= 2x faster)', ratio(tlsf, find('kmalloc', 'mixed')), 'as fast'],
    ['kmalloc/kfree with sheaves, mixed vs TLSF (issue 3: >= 2x faster)', ratio(tlsf, find('kmalloc-sheaves', 'mixed')), 'as fast'],
    ['kmem/heap 64 B vs @thi.ng/malloc (issue 9: at least as fast)', ratio(thing, find('heap', 'fixed')), 'as fast'],
    ['kmem/heap mixed vs TLSF (issue 9: >= 2x faster)', ratio(tlsf, find('heap', 'mixed')), 'as fast'],
  ];
  out.push('');
  out.push(table(['in this harness', 'ratio', ''], lines.map(([a, b, c]) => [a, b, c])));
  return out.join('\n');
}

if (process.argv[2] === 'run') {
  const [impl, wl, nArg] = process.argv.slice(3);
  const n = Number(nArg ?? DEFAULT_N[wl as Workload]);
  process.stdout.write(JSON.stringify({ impl, wl, n, nsPerPair: await runOne(impl, wl as Workload, n) }) + '\n');
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = referenceBenches(process.argv.includes('--quick'), (m) => process.stderr.write(m + '\n'));
  process.stdout.write(formatReference(rows) + '\n');
}
