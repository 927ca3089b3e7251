/*
 * kmem/heap in a browser: Debian's Chromium, headless, driven by
 * playwright-core, on a page served with the two headers that give it
 * SharedArrayBuffer (cross-origin isolation). The page loads the same
 * bundle the package exports (dist/heap.js, built first), creates a heap
 * and starts two module Web Workers that attach to it; each allocates
 * tagged blocks and pool objects, frees half itself and posts the other
 * half, through the page, to the other worker, which checks the tags and
 * frees them. The page reads the heap's stats afterwards. Skipped when no
 * Chromium is found, as test/web/browser.test.ts is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildHeap } from '../../src/node/heap_build.ts';

function findChromium(): string | null {
  if (process.env.KMEM_CHROMIUM === 'none') return null;
  const candidates = [process.env.KMEM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}
const CHROMIUM = findChromium();

const PAGE = `<!doctype html><script type="module">
import { Heap } from './heap.js';
const heap = Heap.create({ size: 8 << 20, workers: 3 });
heap.pool(40, { name: 'rec' });
const before = heap.stats();
const shared = heap.share();
const workers = [0, 1].map((id) => new Worker('./worker.js', { type: 'module' }));
const done = [];
workers.forEach((w, id) => {
  w.onmessage = ({ data }) => {
    if (data.blocks) { workers[1 - id].postMessage(data); return; }
    done.push(data);
    if (done.length === 2) {
      const after = heap.stats();
      window.result = { isolated: crossOriginIsolated, done, before: before.liveBlocks, after: after.liveBlocks,
        pools: after.pools.map((p) => p.live), workers: after.workers.map((x) => x.attached) };
    }
  };
  w.onerror = (e) => { window.result = { error: String(e.message) }; };
  w.postMessage({ shared, id });
});
</script>`;

const WORKER = `
import { Heap } from './heap.js';
let heap, pool, id, received = 0, checked = 0; const errors = [];
const ROUNDS = 10, PER = 200;
function check(p, size, tag) {
  if (heap.i32[p >>> 2] !== tag || heap.i32[(p + size - 4) >>> 2] !== tag) errors.push('tag of ' + p);
  if (size === 40) pool.free(p); else heap.free(p);
  checked++;
}
function finish() { const cpu = heap.cpu; heap.detach(); postMessage({ id, cpu, checked, errors }); }
onmessage = ({ data }) => {
  if (data.shared) {
    heap = Heap.attach(data.shared); pool = heap.pool(40, { name: 'rec' }); id = data.id;
    for (let r = 0; r < ROUNDS; r++) {
      const mine = [];
      for (let i = 0; i < PER; i++) {
        const size = i % 3 === 0 ? 40 : 8 + ((i * 97 + r * 13) % 3000);
        const p = size === 40 ? pool.alloc() : heap.alloc(size);
        const tag = ((id + 1) << 24) | (r * PER + i);
        heap.i32[p >>> 2] = tag; heap.i32[(p + size - 4) >>> 2] = tag;
        mine.push(p, size, tag);
      }
      const half = (mine.length / 6 | 0) * 3;
      postMessage({ blocks: mine.slice(0, half) });
      for (let i = half; i < mine.length; i += 3) check(mine[i], mine[i + 1], mine[i + 2]);
    }
    return;
  }
  for (let i = 0; i < data.blocks.length; i += 3) check(data.blocks[i], data.blocks[i + 1], data.blocks[i + 2]);
  if (++received === ROUNDS) finish();
};
`;

test('kmem/heap in Web Workers on a cross-origin isolated page', { skip: CHROMIUM ? false : 'no Chromium found', timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-heap-'));
  const bundle = join(dir, 'heap.js');
  await buildHeap(bundle);
  const files: Record<string, [string, string]> = {
    '/': ['text/html', PAGE],
    '/worker.js': ['text/javascript', WORKER],
    '/heap.js': ['text/javascript', readFileSync(bundle, 'utf8')],
  };
  const server: Server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (f === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': f[0], 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    }).end(f[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 60_000 });
    const r = await page.evaluate(() => (window as unknown as { result: unknown }).result) as {
      error?: string; isolated: boolean; done: { id: number; cpu: number; checked: number; errors: string[] }[];
      before: number; after: number; pools: number[]; workers: boolean[];
    };
    assert.deepEqual(consoleErrors, []);
    assert.equal(r.error, undefined);
    assert.equal(r.isolated, true);
    for (const d of r.done) assert.deepEqual(d.errors, []);
    assert.equal(r.done.reduce((n, d) => n + d.checked, 0), 2 * 10 * 200);
    assert.deepEqual(r.done.map((d) => d.cpu).sort(), [1, 2]);
    assert.equal(r.after, r.before);
    assert.deepEqual(r.pools, [0]);
    assert.deepEqual(r.workers, [true, false, false], 'both workers detached');
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
