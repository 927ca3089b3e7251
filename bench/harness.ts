/*
 * A small measuring harness for operations that take nanoseconds.
 *
 * Why not tinybench for these: tinybench times every call of the task
 * function separately (one timestamp before and after each call). That
 * costs tens of nanoseconds per sample (bench/run.ts measures and prints
 * it), which is more than the whole raw free-list pair we compare against.
 * Here a task is a function that performs `n` operations in its own loop
 * and returns a checksum (so the JIT cannot drop the work); one timestamp
 * pair covers a whole batch, so timer cost is below 0.01%.
 *
 *   calibrate: double n until one batch takes >= targetMs (this also warms
 *              up the JIT, as the loop gets optimised during calibration)
 *   measure:   `rounds` rounds; in each round every task runs one batch,
 *              in the same order, so slow drift (thermal, GC, neighbours)
 *              hits all candidates alike. Report the median ns/op, with
 *              min and max as the spread.
 *
 * tinybench is still used once, as a cross-check on a task whose ops are
 * long enough for per-call timing (bench/run.ts).
 */

/** A benchmark: does `n` operations and returns something derived from them. */
export interface Task {
  name: string;
  /** What one "op" is, for the table. */
  unit: string;
  run(n: number): number;
  /** Smallest batch (a power of two); batches are multiples of it. Default 256. */
  minOps?: number;
  /** Called once after measuring (free what setup kept live). */
  teardown?(): void;
}

export interface TaskResult {
  name: string;
  unit: string;
  /** Median ns per op over the rounds. */
  ns: number;
  min: number;
  max: number;
  opsPerRound: number;
  rounds: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Where checksums go, so no loop is dead code. */
export let sink = 0;

function batchMs(t: Task, n: number): number {
  const t0 = performance.now();
  sink = (sink + t.run(n)) | 0;
  return performance.now() - t0;
}

/** Smallest power-of-two n (>= minOps) whose batch takes at least targetMs. */
export function calibrate(t: Task, targetMs: number, minOps = 256): number {
  let n = minOps;
  for (;;) {
    const ms = batchMs(t, n);
    if (ms >= targetMs || n >= 1 << 30) return n;
    n *= ms < targetMs / 8 ? 4 : 2;
  }
}

export interface MeasureOptions {
  rounds: number;
  targetMs: number;
  /** Called after each task is calibrated (progress reporting). */
  progress?(msg: string): void;
}

/** Calibrate every task, then run them round-robin; median ns/op per task. */
export function measureInterleaved(tasks: readonly Task[], o: MeasureOptions): TaskResult[] {
  const ns: number[][] = tasks.map(() => []);
  const ops = tasks.map((t) => {
    const n = calibrate(t, o.targetMs, t.minOps);
    o.progress?.(`  calibrated ${t.name}: ${n} ops/batch`);
    return n;
  });
  // One discarded round: every task runs once more after all are compiled.
  tasks.forEach((t, i) => batchMs(t, ops[i]));
  for (let r = 0; r < o.rounds; r++) {
    tasks.forEach((t, i) => ns[i].push((batchMs(t, ops[i]) * 1e6) / ops[i]));
  }
  for (const t of tasks) t.teardown?.();
  return tasks.map((t, i) => ({
    name: t.name, unit: t.unit, ns: median(ns[i]), min: Math.min(...ns[i]), max: Math.max(...ns[i]),
    opsPerRound: ops[i], rounds: o.rounds,
  }));
}

/** Median cost of one performance.now() call, in ns (what per-call timing adds to every sample). */
export function timerOverheadNs(): number {
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    const n = 200_000;
    const t0 = performance.now();
    let x = 0;
    for (let i = 0; i < n; i++) x += performance.now();
    const t1 = performance.now();
    sink = (sink + (x > 0 ? 1 : 0)) | 0;
    samples.push(((t1 - t0) * 1e6) / n);
  }
  return median(samples);
}

/** mulberry32: a small seeded PRNG, so every run sees the same "random" sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` seeded random integers in [0, bound). */
export function randomInts(seed: number, count: number, bound: number): Int32Array {
  const rnd = mulberry32(seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(rnd() * bound);
  return out;
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(seed: number, n: number): Int32Array {
  const rnd = mulberry32(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Render rows as a fixed-width text table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
