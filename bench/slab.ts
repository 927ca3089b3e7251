/*
 * Slab allocator micro-benchmarks: one op = one allocation + one free.
 *
 *   kmem_cache 64 B, lifo    kmem_cache_alloc/kmem_cache_free of 64-byte
 *                            objects on CPU 0, freeing what was just
 *                            allocated: SLUB's lockless fast path both ways.
 *   kmalloc mixed, window    kmalloc/kfree of sizes 8..4096 (log-uniform:
 *                            every size class about equally often), keeping
 *                            WINDOW objects live; each op allocates one and
 *                            frees a random live one (seeded, so every run
 *                            sees the same sequence). Frees mostly miss the
 *                            CPU slab: __slab_free, partial lists, new slabs.
 *
 * Next to them, with the same access patterns, the physical limits for
 * JavaScript: the raw Int32Array free list of bench/alloc.ts (lifo) and
 * plain segregated free lists (one Int32Array stack per size class, the
 * class of a freed object remembered by the caller). And the same two
 * workloads (same sizes, same seeded frees) on two general-purpose JS
 * allocators (issue 3):
 *
 *   @thi.ng/malloc           MemPool over a 64 MiB ArrayBuffer, defaults
 *                            (first fit, address-ordered free list, split
 *                            and coalesce); one pool per workload.
 *   AssemblyScript TLSF      the memory manager of AssemblyScript's runtime
 *                            (std/assembly/rt/tlsf.ts), in a tiny module
 *                            exporting alloc(size) = heap.alloc(size) and
 *                            free(ptr) = heap.free(ptr), compiled with asc's
 *                            JS API (-O3, --noAssert, --runtime incremental)
 *                            and cached under os.tmpdir(); JS calls the
 *                            exports once per alloc and once per free. One
 *                            instance (its own wasm memory) per workload.
 *
 * The kernel rows run on SLUB (unprefixed), on SLUB with percpu sheaves
 * (sheafTasks(): a sheaf_capacity 32 cache, and kmalloc on a machine booted
 * with sheaves 'all'), and on SLAB, SLOB and SLQB machines of their own
 * ("SLAB: ..." rows). Each allocator and each kernel is measured in a
 * process of its own (bench/isolated.ts, which says why).
 *
 * `node --import tsx bench/slab.ts` runs these alone; bench/run.ts runs them
 * with the rest.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemPool } from '@thi.ng/malloc';
import type { Kernel } from '../src/kernel/kernel.ts';
import { mulberry32, randomInts, type Task } from './harness.ts';

export const SLAB_WINDOW = 10000;
const RANDOM_COUNT = 1 << 16;
const RANDOM_MASK = RANDOM_COUNT - 1;
const CLASSES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096];

/** Sizes 8..4096, log-uniform, from a fixed seed. */
function mixedSizes(seed: number): Int32Array {
  const rnd = mulberry32(seed);
  const out = new Int32Array(RANDOM_COUNT);
  for (let i = 0; i < RANDOM_COUNT; i++) out[i] = Math.floor(8 * 2 ** (rnd() * 9));
  return out;
}

function noMem(what: string): never {
  throw new Error(`benchmark: ${what} failed (out of memory?)`);
}

/** kmem_cache_alloc + kmem_cache_free of one object of `cache` at a time (the cache is destroyed afterwards). */
function cachePairTask(k: Kernel, cache: number, name: string): Task {
  const gfp = k.GFP_KERNEL;
  return {
    name, unit: 'pair',
    run(n) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const obj = k.kmem_cache_alloc(cache, gfp);
        if (obj === 0) noMem('kmem_cache_alloc');
        sum = (sum + obj) | 0;
        k.kmem_cache_free(cache, obj);
      }
      return sum;
    },
    teardown() {
      k.kmem_cache_destroy(cache);
    },
  };
}

/** The slab rows: a kernel booted by the caller, CPU 0. */
export function slabTasks(k: Kernel): Task[] {
  const gfp = k.GFP_KERNEL;
  const cache = k.kmem_cache_create('bench_64', 64, 0, k.SLAB_NO_MERGE, null);
  if (cache === 0) noMem('kmem_cache_create');
  const live = new Float64Array(SLAB_WINDOW);
  const sizes = mixedSizes(11);
  for (let i = 0; i < SLAB_WINDOW; i++) {
    live[i] = k.kmalloc(sizes[i], gfp);
    if (live[i] === 0) noMem('kmalloc');
  }
  const rnd = randomInts(12, RANDOM_COUNT, SLAB_WINDOW);
  let pos = SLAB_WINDOW;
  return [
    cachePairTask(k, cache, 'kmem_cache_alloc/kmem_cache_free 64 B, lifo'),
    {
      name: `kmalloc/kfree 8..4096 mixed, window ${SLAB_WINDOW}`, unit: 'pair',
      run(n) {
        let sum = 0;
        let j = pos;
        for (let i = 0; i < n; i++, j++) {
          const obj = k.kmalloc(sizes[j & RANDOM_MASK], gfp);
          if (obj === 0) noMem('kmalloc');
          const r = rnd[j & RANDOM_MASK];
          k.kfree(live[r]);
          live[r] = obj;
          sum = (sum + obj) | 0;
        }
        pos = j;
        return sum;
      },
      teardown() {
        for (let i = 0; i < SLAB_WINDOW; i++) k.kfree(live[i]);
      },
    },
  ];
}

/**
 * SLUB with percpu sheaves (src/mm/slub_sheaves.ts): the 64 B lifo row on a
 * cache created with 6.18's args.sheaf_capacity = 32 (kOptIn: a machine
 * booted with sheaves 'opt-in'), and the mixed kmalloc row on a machine
 * booted with sheaves 'all' (7.0: the kmalloc caches have sheaves).
 */
export function sheafTasks(kOptIn: Kernel, kAll: Kernel): Task[] {
  const cache = kOptIn.kmem_cache_create('bench_64_sheaf', 64, { sheaf_capacity: 32 }, kOptIn.SLAB_NO_MERGE);
  if (cache === 0) noMem('kmem_cache_create');
  return [
    cachePairTask(kOptIn, cache, 'kmem_cache 64 B (sheaf_capacity 32), lifo'),
    { ...slabTasks(kAll)[1], name: `sheaves all: kmalloc/kfree 8..4096 mixed, window ${SLAB_WINDOW}` },
  ];
}

/** Plain segregated free lists: one LIFO stack of object numbers per size class. */
export function segregatedTasks(): Task[] {
  const perClass = 1 << 16;
  const stacks = CLASSES.map(() => {
    const s = new Int32Array(perClass);
    for (let i = 0; i < perClass; i++) s[i] = perClass - 1 - i;
    return s;
  });
  const tops = new Int32Array(CLASSES.length).fill(perClass);
  const classOf = new Uint8Array(4097);
  for (let size = 1, c = 0; size <= 4096; size++) {
    while (CLASSES[c] < size) c++;
    classOf[size] = c;
  }
  const sizes = mixedSizes(11);
  const liveObj = new Int32Array(SLAB_WINDOW);
  const liveClass = new Uint8Array(SLAB_WINDOW);
  for (let i = 0; i < SLAB_WINDOW; i++) {
    const c = classOf[sizes[i]];
    liveClass[i] = c;
    liveObj[i] = stacks[c][--tops[c]];
  }
  const rnd = randomInts(12, RANDOM_COUNT, SLAB_WINDOW);
  let pos = SLAB_WINDOW;
  const c64 = classOf[64];
  return [
    {
      name: 'segregated free lists, 64 B, lifo', unit: 'pair',
      run(n) {
        const s = stacks[c64];
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const obj = s[--tops[c64]];
          sum = (sum + obj) | 0;
          s[tops[c64]++] = obj;
        }
        return sum;
      },
    },
    {
      name: `segregated free lists, 8..4096 mixed, window ${SLAB_WINDOW}`, unit: 'pair',
      run(n) {
        let sum = 0;
        let j = pos;
        for (let i = 0; i < n; i++, j++) {
          const c = classOf[sizes[j & RANDOM_MASK]];
          const obj = stacks[c][--tops[c]];
          const r = rnd[j & RANDOM_MASK];
          const oc = liveClass[r];
          stacks[oc][tops[oc]++] = liveObj[r];
          liveObj[r] = obj;
          liveClass[r] = c;
          sum = (sum + obj) | 0;
        }
        pos = j;
        return sum;
      },
    },
  ];
}

/** A general-purpose allocator seen from JS: alloc returns 0 when out of memory. */
export interface JsAllocator {
  alloc(size: number): number;
  free(ptr: number): void;
}

/**
 * The two slab workloads on a general-purpose allocator: `make()` gives a
 * fresh instance per workload. The mixed row replays kmalloc's sequence:
 * the same sizes (seed 11) and the same seeded choice of the live object
 * to free (seed 12), with SLAB_WINDOW objects live.
 */
export function allocatorTasks(label: string, make: () => JsAllocator, mixedMinOps = 256): Task[] {
  const fixed = make();
  const mixed = make();
  const sizes = mixedSizes(11);
  const live = new Float64Array(SLAB_WINDOW);
  for (let i = 0; i < SLAB_WINDOW; i++) {
    live[i] = mixed.alloc(sizes[i]);
    if (live[i] === 0) noMem(`${label} alloc`);
  }
  const rnd = randomInts(12, RANDOM_COUNT, SLAB_WINDOW);
  let pos = SLAB_WINDOW;
  return [
    {
      name: `${label}, 64 B, lifo`, unit: 'pair',
      run(n) {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const obj = fixed.alloc(64);
          if (obj === 0) noMem(`${label} alloc`);
          sum = (sum + obj) | 0;
          fixed.free(obj);
        }
        return sum;
      },
    },
    {
      name: `${label}, 8..4096 mixed, window ${SLAB_WINDOW}`, unit: 'pair', minOps: mixedMinOps,
      run(n) {
        let sum = 0;
        let j = pos;
        for (let i = 0; i < n; i++, j++) {
          const obj = mixed.alloc(sizes[j & RANDOM_MASK]);
          if (obj === 0) noMem(`${label} alloc`);
          const r = rnd[j & RANDOM_MASK];
          mixed.free(live[r]);
          live[r] = obj;
          sum = (sum + obj) | 0;
        }
        pos = j;
        return sum;
      },
      teardown() {
        for (let i = 0; i < SLAB_WINDOW; i++) mixed.free(live[i]);
      },
    },
  ];
}

export const THING_LABEL = '@thi.ng/malloc MemPool';
export const TLSF_LABEL = 'AssemblyScript TLSF (wasm, called from JS)';

/**
 * @thi.ng/malloc: MemPool with its defaults over a 64 MiB ArrayBuffer. Its
 * free() walks the used list and every free re-scans the free list to
 * coalesce, so with 10k live objects one mixed pair takes hundreds of µs:
 * small batches (minOps 16) keep the row to a few seconds.
 */
export function thingTasks(): Task[] {
  return allocatorTasks(THING_LABEL, () => {
    const pool = new MemPool({ buf: new ArrayBuffer(64 << 20) });
    return { alloc: (size) => pool.malloc(size), free: (ptr) => { pool.free(ptr); } };
  }, 16);
}

const TLSF_SOURCE = `// heap.alloc/heap.free are AssemblyScript's __alloc/__free: TLSF (std/assembly/rt/tlsf.ts)
export function alloc(size: usize): usize { return heap.alloc(size); }
export function free(ptr: usize): void { heap.free(ptr); }
`;
const TLSF_OPTIONS = { optimizeLevel: 3, shrinkLevel: 0, noAssert: true, runtime: 'incremental' };

/**
 * Compiles the TLSF module with asc's JS API, or loads it from the cache in
 * os.tmpdir() (keyed by the assemblyscript version, the source and the
 * options). Returns the module, or why it could not be built.
 */
export async function loadTlsf(log: (msg: string) => void = () => {}): Promise<WebAssembly.Module | string> {
  try {
    const require = createRequire(import.meta.url);
    const version = (JSON.parse(readFileSync(require.resolve('assemblyscript/package.json'), 'utf8')) as { version: string }).version;
    const key = createHash('sha256').update(`${version}\0${TLSF_SOURCE}\0${JSON.stringify(TLSF_OPTIONS)}`).digest('hex').slice(0, 16);
    const file = join(tmpdir(), `kmem-bench-tlsf-${version}-${key}.wasm`);
    let binary: Uint8Array;
    if (existsSync(file)) {
      binary = readFileSync(file);
      log(`tlsf: using ${file}`);
    } else {
      log(`tlsf: compiling with assemblyscript ${version} (asc JS API)`);
      const { default: asc } = await import('assemblyscript/asc');
      const r = await asc.compileString({ 'tlsf.ts': TLSF_SOURCE }, TLSF_OPTIONS);
      if (r.error || !r.binary) return `asc failed: ${r.error?.message ?? 'no binary'} ${r.stderr.toString().trim()}`;
      binary = r.binary;
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, binary);
      renameSync(tmp, file);
      log(`tlsf: cached ${binary.length} bytes in ${file}`);
    }
    return new WebAssembly.Module(new Uint8Array(binary));
  } catch (e) {
    return `could not build the AssemblyScript TLSF module: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** AssemblyScript's TLSF in wasm: one instance (its own memory) per workload; JS calls alloc/free per op. */
export function tlsfTasks(mod: WebAssembly.Module): Task[] {
  return allocatorTasks(TLSF_LABEL, () => {
    const inst = new WebAssembly.Instance(mod, { env: { abort() { throw new Error('AssemblyScript abort'); } } });
    const e = inst.exports as unknown as { alloc(size: number): number; free(ptr: number): void };
    const alloc = e.alloc;
    const free = e.free;
    return { alloc: (size) => alloc(size) >>> 0, free: (ptr) => free(ptr) };
  });
}

async function main(): Promise<void> {
  const { table } = await import('./harness.ts');
  const { measureIsolated } = await import('./isolated.ts');
  const { results, notes } = measureIsolated(['raw', 'segregated', 'thing', 'tlsf', 'slub', 'sheaves', 'slab', 'slob', 'slqb'], {
    rounds: 7, targetMs: 40, log: (m) => process.stderr.write(m + '\n'),
  });
  for (const n of notes) process.stdout.write(n + '\n');
  process.stdout.write(table(['benchmark', 'ns/pair', 'min..max'],
    results.map((r) => [r.name, r.ns.toFixed(r.ns < 10 ? 2 : 1), `${r.min.toFixed(1)}..${r.max.toFixed(1)}`])) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
