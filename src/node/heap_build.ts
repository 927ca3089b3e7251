/*
 * Building kmem/heap (src/heap) for the package's exports map: one ES
 * module, dist/heap.js, that Node and browsers load as it is (no
 * TypeScript loader), minified, with a source map. `npm ci` and `npm
 * install` in a checkout run it (the `prepare` script), so
 * `import { Heap } from 'kmem/heap'` works there with nothing else to do;
 * the package's types point at src/heap/index.ts.
 *
 * The bundle is built for the neutral platform: an import of a Node
 * module anywhere under src/heap fails the build, which keeps the heap
 * usable in Web Workers. Only what the heap reaches is bundled (the boot,
 * the page allocator, SLUB); heapBundleSize() reports what that costs.
 *
 *   node --import tsx src/node/heap_build.ts      writes dist/heap.js (+ .map)
 */
import * as esbuild from 'esbuild';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const HEAP_ENTRY = join(ROOT, 'src/heap/index.ts');
export const HEAP_BUNDLE = join(ROOT, 'dist/heap.js');

/**
 * kmem's modules do nothing at load time but define things (their
 * top-level struct layouts and tables are computed, not registered
 * anywhere), so the bundler may drop a module the heap imports nothing
 * from, such as the slab implementations other than SLUB, which the boot
 * code names for start_kernel().
 */
const noSideEffects: esbuild.Plugin = {
  name: 'kmem-no-side-effects',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => ({ path: resolve(args.resolveDir, args.path), sideEffects: false }));
  },
};

const OPTIONS: esbuild.BuildOptions = {
  entryPoints: [HEAP_ENTRY],
  plugins: [noSideEffects],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
};

/** Write dist/heap.js and its source map. */
export async function buildHeap(outfile = HEAP_BUNDLE): Promise<void> {
  await esbuild.build({ ...OPTIONS, outfile, sourcemap: true });
}

/** Bytes of the minified bundle and of it gzipped, and the source files in it, largest first. */
export async function heapBundleSize(): Promise<{ bytes: number; gzip: number; inputs: { path: string; bytes: number }[] }> {
  const r = await esbuild.build({ ...OPTIONS, write: false, metafile: true, outfile: 'heap.js' });
  const code = r.outputFiles[0].contents;
  const inputs = Object.entries(Object.values(r.metafile.outputs)[0].inputs)
    .map(([path, i]) => ({ path, bytes: i.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return { bytes: code.length, gzip: gzipSync(code).length, inputs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildHeap();
  const { bytes, gzip } = await heapBundleSize();
  process.stdout.write(`dist/heap.js: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzipped\n`);
}
