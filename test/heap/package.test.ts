/*
 * `import { Heap } from 'kmem/heap'` from plain Node (no TypeScript
 * loader): the exports map points at dist/heap.js, which `npm ci` builds
 * (the prepare script); here it is rebuilt first, then a child `node -e`
 * imports the package by its own name (Node's self-reference), creates a
 * heap, uses it, attaches to it and catches a double free. The runnable
 * example (examples/heap/linked_records.mjs, plain JS with worker threads)
 * runs to the end. And the package's file list includes the bundle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHeap, HEAP_BUNDLE } from '../../src/node/heap_build.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SCRIPT = `
import { Heap, KernelBug } from 'kmem/heap';
const heap = Heap.create({ size: 4 << 20, workers: 2 });
const p = heap.alloc(100);
heap.u32[p >>> 2] = 0xc0ffee;
const other = Heap.attach(heap.share());
const same = other.u32[p >>> 2] === 0xc0ffee;
other.free(p);
let report = '';
try { heap.free(p); } catch (e) { if (e instanceof KernelBug) report = e.message; }
const pool = heap.pool(32, { name: 'x' });
pool.free(pool.alloc());
console.log(JSON.stringify({ p, same, cpu: other.cpu, report, pools: heap.stats().pools.length }));
`;

test('kmem/heap is importable by package name from plain node, after the build npm ci runs', { timeout: 60_000 }, async () => {
  await buildHeap();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; scripts: Record<string, string> };
  assert.deepEqual(pkg.exports['./heap'], { types: './src/heap/index.ts', default: './dist/heap.js' });
  assert.match(pkg.scripts.prepare, /heap_build\.ts/);
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const r = JSON.parse(out.trim()) as { p: number; same: boolean; cpu: number; report: string; pools: number };
  assert.ok(r.p > 0 && r.p % 8 === 0);
  assert.equal(r.same, true);
  assert.equal(r.cpu, 1);
  assert.equal(r.report, 'BUG: KASAN: double-free in kfree');
  assert.equal(r.pools, 1);
});

test('the published package carries the bundle', { timeout: 60_000 }, () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  assert.ok(files.includes('dist/heap.js'), 'dist/heap.js');
  assert.ok(files.includes('src/heap/index.ts'), 'src/heap/index.ts (the types)');
  assert.ok(HEAP_BUNDLE.endsWith(join('dist', 'heap.js')));
});

test('the runnable example: workers hand each other linked records and free them', { timeout: 60_000 }, () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'examples/heap/linked_records.mjs')],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.match(out, /^150000 records built, handed over and freed by 3 workers$/m);
  assert.match(out, /^records live before 0, after 0$/m);
});
