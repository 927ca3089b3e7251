/*
 * Building and serving the explorer: `npm run build:web` (buildWeb) and
 * `kmem serve` (startWebServer, and the command's flags).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb, ROOT } from '../../src/node/web_build.ts';
import { startWebServer } from '../../src/node/web_server.ts';

function kmem(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/kmem.js'), ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

describe('the explorer web site', { concurrency: true }, () => {
  it('kmem serve: the page, the bundles, the isolation headers, the defaults from the command line', async () => {
    const s = await startWebServer({ port: 0, defaults: { mem: '2G', cpus: 4 } });
    try {
      const index = await fetch(s.url);
      assert.equal(index.status, 200);
      assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(index.headers.get('cross-origin-embedder-policy'), 'require-corp');
      assert.match(index.headers.get('content-type')!, /^text\/html/);
      const html = await index.text();
      assert.ok(html.includes(`<meta name="kmem-defaults" content='{"mem":"2G","cpus":4}'>`), 'defaults in a meta tag');
      for (const path of ['app.js', 'worker.js', 'cpu_worker.js']) {
        const r = await fetch(s.url + path);
        assert.equal(r.status, 200, path);
        assert.match(r.headers.get('content-type')!, /^text\/javascript/);
        assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
        assert.ok((await r.text()).length > 500, `${path} is a bundle`);
      }
      const traces = (await (await fetch(s.url + 'traces.json')).json()) as { url: string; events: number }[];
      assert.ok(traces.some((t) => t.url === 'traces/build-20k.txt.xz' && t.events === 20000));
      const xz = new Uint8Array(await (await fetch(s.url + 'traces/build-20k.txt.xz')).arrayBuffer());
      assert.deepEqual([...xz.subarray(0, 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
      assert.equal((await fetch(s.url + 'no/such/file')).status, 404);
      assert.equal((await fetch(s.url, { method: 'POST' })).status, 405);
    } finally {
      await s.close();
    }
  });

  it('npm run build:web writes a static site with a _headers file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kmem-web-'));
    try {
      const r = await buildWeb(out);
      for (const f of ['index.html', 'style.css', 'app.js', 'worker.js', 'cpu_worker.js', 'app.js.map', 'traces.json', 'traces/build-20k.txt.xz', '_headers']) {
        assert.ok(existsSync(join(out, f)), f);
      }
      assert.ok(r.files.length >= 8);
      const headers = readFileSync(join(out, '_headers'), 'utf8');
      assert.match(headers, /Cross-Origin-Opener-Policy: same-origin/);
      assert.match(headers, /Cross-Origin-Embedder-Policy: require-corp/);
      // The workers and the chunks they share: no Node module, and the kernel in them.
      const js = r.files.filter((f) => /^(worker|cpu_worker|chunk-[\w-]+)\.js$/.test(f.path));
      assert.ok(js.length >= 3, js.map((f) => f.path).join());
      for (const f of js) assert.ok(!/from\s*["']node:/.test(readFileSync(join(out, f.path), 'utf8')), `no Node module in ${f.path}`);
      assert.ok(js.reduce((n, f) => n + f.bytes, 0) > 300000, 'the kernel is in the workers\' code');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('kmem serve checks its machine options before serving', async () => {
    const bad = await kmem(['serve', '--mem', '10M', '--port', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^kmem: mem: 10 MiB is less than the minimum 32 MiB/m);
    const port = await kmem(['serve', '--port', 'http']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /port: "http" is not a TCP port/);
    const help = await kmem(['serve', '--help']);
    assert.equal(help.code, 0);
    for (const f of ['--port', '--host', '--mem', '--cpus', '--nodes', '--arch', '--cmdline']) assert.ok(help.stdout.includes(f), f);
  });
});
