/*
 * Building the explorer (src/web) for the browser with esbuild.
 *
 * Three entry points: app.js (the page, src/web/app/main.ts), worker.js
 * (the kernel, src/web/worker.ts, which pulls in the whole kernel model:
 * the same TypeScript files Node runs through tsx, unchanged) and
 * cpu_worker.js (a CPU's worker, src/web/cpu_worker.ts), the code they
 * share split into chunk-*.js files. ES modules,
 * ES2022, minified, with source maps. Then the static files of
 * src/web/static, the traces the app offers (traces.json lists them: the
 * 20,000-event excerpt of the shared trace shipped in src/web/static/traces,
 * and the whole shared trace when ../shared is beside the repository), and
 * a `_headers` file with the two headers SharedArrayBuffer needs, which
 * Netlify and Cloudflare Pages read; any other static host must be told to
 * send them.
 *
 * Why esbuild: tsx (a runtime dependency) already brings it, so the
 * package needs nothing new; it reads the `.ts` imports as they are, builds
 * both bundles in about a quarter of a second, and its incremental rebuild
 * lets `kmem serve` rebuild on every page load without a watcher. Vite
 * would add a dev server and a plugin stack the explorer does not need.
 *
 *   buildWeb(outDir)    what `npm run build:web` runs (out/web)
 *   WebBundle           what `kmem serve` uses: the same files in memory,
 *                       rebuilt when a page is loaded
 */
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STATIC = join(ROOT, 'src/web/static');
/** The shared material beside the repository (../shared), when present. */
export const SHARED_TRACE = resolve(ROOT, '../shared/traces/kmem-trace-build.txt.xz');

export interface TraceEntry {
  name: string;
  url: string;
  events: number;
  bytes: number;
}

/** The headers every response needs for SharedArrayBuffer (cross-origin isolation). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.xz': 'application/x-xz',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentType(path: string): string {
  const m = /\.[a-z0-9]+$/i.exec(path);
  return (m && CONTENT_TYPES[m[0].toLowerCase()]) ?? 'application/octet-stream';
}

function esbuildOptions(): esbuild.BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: { app: 'src/web/app/main.ts', worker: 'src/web/worker.ts', cpu_worker: 'src/web/cpu_worker.ts' },
    bundle: true,
    // The kernel worker and the CPU workers share the kernel's code: one chunk, fetched once.
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    outdir: 'out/web',
    write: false,
    logLevel: 'silent',
    legalComments: 'eof',
  };
}

/** Every file of the site but the bundles: static files, traces, traces.json, _headers. */
function staticFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else files.set(prefix + name, readFileSync(p));
    }
  };
  walk(STATIC, '');
  const traces: TraceEntry[] = [];
  const excerpt = files.get('traces/build-20k.txt.xz');
  if (excerpt) {
    traces.push({ name: 'build excerpt: the first 20,000 events of the shared trace', url: 'traces/build-20k.txt.xz',
      events: 20000, bytes: excerpt.length });
  }
  if (existsSync(SHARED_TRACE)) {
    const bytes = readFileSync(SHARED_TRACE);
    files.set('traces/kmem-trace-build.txt.xz', bytes);
    traces.push({ name: 'the shared trace: a build on Linux 6.18, 2 CPUs (212,524 events)', url: 'traces/kmem-trace-build.txt.xz',
      events: 212524, bytes: bytes.length });
  }
  files.set('traces.json', new TextEncoder().encode(JSON.stringify(traces, null, 1) + '\n'));
  const headers = Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  files.set('_headers', new TextEncoder().encode(`/*\n${headers}\n`));
  return files;
}

function bundleFiles(result: esbuild.BuildResult<{ write: false }>): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const outdir = join(ROOT, 'out/web');
  for (const f of result.outputFiles) files.set(f.path.slice(outdir.length + 1).replaceAll('\\', '/'), f.contents);
  return files;
}

export interface BuildReport {
  outDir: string;
  files: { path: string; bytes: number }[];
  ms: number;
}

/** Build the static site into outDir (emptied first). */
export async function buildWeb(outDir = join(ROOT, 'out/web')): Promise<BuildReport> {
  const t0 = performance.now();
  const result = await esbuild.build({ ...esbuildOptions(), write: false });
  const files = new Map([...staticFiles(), ...bundleFiles(result)]);
  rmSync(outDir, { recursive: true, force: true });
  const report: BuildReport = { outDir, files: [], ms: 0 };
  for (const [path, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const p = join(outDir, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes);
    report.files.push({ path, bytes: bytes.length });
  }
  report.ms = performance.now() - t0;
  return report;
}

/**
 * The site in memory, for `kmem serve`: built on creation, rebuilt
 * (incrementally, some tens of ms) when refresh() is called, which the
 * server does when the page itself is requested.
 */
export class WebBundle {
  private ctx: esbuild.BuildContext<{ write: false }> | null = null;
  private files = new Map<string, Uint8Array>();
  lastBuildMs = 0;
  errors: string[] = [];

  async refresh(): Promise<void> {
    const t0 = performance.now();
    this.ctx ??= await esbuild.context({ ...esbuildOptions(), write: false });
    try {
      const result = await this.ctx.rebuild();
      this.files = new Map([...staticFiles(), ...bundleFiles(result)]);
      this.errors = [];
    } catch (e) {
      const failure = e as esbuild.BuildFailure;
      this.errors = failure.errors ? failure.errors.map((m) => `${m.location?.file ?? ''}:${m.location?.line ?? ''}: ${m.text}`) : [String(e)];
    }
    this.lastBuildMs = performance.now() - t0;
  }

  get(path: string): Uint8Array | undefined {
    return this.files.get(path);
  }

  async dispose(): Promise<void> {
    await this.ctx?.dispose();
    this.ctx = null;
  }
}

/* npm run build:web [OUTDIR] */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(ROOT, 'out/web'));
  buildWeb(out).then((r) => {
    for (const f of r.files) console.log(`${String(f.bytes).padStart(10)}  ${f.path}`);
    console.log(`Built the explorer into ${r.outDir} in ${Math.round(r.ms)} ms. Serve it with the headers in _headers (or run kmem serve).`);
  }, (e: unknown) => {
    const failure = e as esbuild.BuildFailure;
    for (const m of failure.errors ?? []) console.error(`${m.location?.file ?? ''}:${m.location?.line ?? ''}: ${m.text}`);
    if (!failure.errors) console.error(e);
    process.exitCode = 1;
  });
}
