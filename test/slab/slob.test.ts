/*
 * SLOB (mm/slob.c, Linux 6.1) specifics: kmalloc's size header and
 * bytes_alloc = bytes_req + 8 below a page on i386 against every kmalloc of
 * the real SLOB boot trace (../shared/traces/slab_compare/kmem_SLOB.log.xz),
 * the three free lists by size, first fit with address-ordered coalescing,
 * pages going back when empty, large kmallocs straight from the page
 * allocator, kmem_cache objects without a header, no /proc/slabinfo, the
 * boot option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { open_trace } from '../../src/node/trace_file.ts';
import { procFileNames, readProc } from '../../src/fs/proc/procfs.ts';
import { ConfigError, resolveConfig } from '../../src/machine/config.ts';
import { SLOB_BREAK1, SLOB_BREAK2, SLOB_UNIT, type Slob } from '../../src/mm/slob.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, buddyFreePages } from './helpers.ts';

const SLOB_LOG = join(fileURLToPath(new URL('../../../shared/traces/', import.meta.url)), 'slab_compare', 'kmem_SLOB.log.xz');

const slob = (k: Kernel) => k.slab.impl as Slob;

/** Every trace_kmalloc of fn: [bytes_req, bytes_alloc]. */
function traced(k: Kernel, fn: () => void): [number, number][] {
  const out: [number, number][] = [];
  const hooks = k.slab.hooks;
  const saved = hooks.kmalloc;
  hooks.kmalloc = (_ptr, req, alloc) => out.push([req, alloc]);
  try {
    fn();
  } finally {
    hooks.kmalloc = saved;
  }
  return out;
}

test('the boot option: slab: slob boots SLOB, slab SLAB, slqb SLQB', () => {
  const k = boot({ mem: '64M', cpus: 1, slab: 'slob' }, { errors: 'throw' });
  assert.equal(k.slab.impl.name, 'SLOB');
  assert.equal(boot({ mem: '64M', cpus: 1 }).slab.impl.name, 'SLUB');
  assert.equal(boot({ mem: '64M', cpus: 1, slab: 'slab' }).slab.impl.name, 'SLAB');
  assert.equal(boot({ mem: '64M', cpus: 1, slab: 'slqb' }).slab.impl.name, 'SLQB');
  assert.throws(() => resolveConfig({ slab: 'jemalloc' }), ConfigError);
});

test('no /proc/slabinfo under SLOB (6.1 built it only with CONFIG_SLAB or CONFIG_SLUB_DEBUG)', () => {
  const k = boot({ mem: '64M', cpus: 1, slab: 'slob' });
  assert.ok(!procFileNames(k).includes('slabinfo'));
  assert.ok(procFileNames(k).includes('meminfo'));
  assert.throws(() => readProc(k, 'slabinfo'), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT' &&
    /No such file or directory/.test((e as Error).message));
});

for (const arch of ['x86_64', 'i386'] as const) {
  test(`${arch}: kmalloc's header holds the size; bytes_alloc = req + 8 below PAGE_SIZE - 8, pages above`, () => {
    const k = boot({ mem: '128M', cpus: 1, arch, slab: 'slob' }, { errors: 'throw' });
    const free0 = buddyFreePages(k);
    for (const size of [1, 7, 8, 22, 100, 255, 256, 1000, 1024, 4087]) {
      let p = 0;
      assert.deepEqual(traced(k, () => { p = k.kmalloc(size, k.GFP_KERNEL); }), [[size, size + 8]]);
      assert.equal(k.kaddr.read32(p - 8), size, 'the size header');
      assert.equal(k.ksize(p), Math.ceil(size / SLOB_UNIT) * SLOB_UNIT);
      if ((size & (size - 1)) === 0) assert.equal(p % Math.max(size, 8), 0, 'a power of two is aligned to itself');
      else assert.equal(p % 8, 0);
      k.kfree(p);
    }
    for (const [size, order] of [[4088, 0], [4096, 0], [4097, 1], [40000, 4]]) {
      let p = 0;
      assert.deepEqual(traced(k, () => { p = k.kmalloc(size, k.GFP_KERNEL); }), [[size, 4096 << order]]);
      assert.equal(p % 4096, 0);
      assert.equal(k.ksize(p), 4096 << order);
      k.kfree(p);
    }
    assert.deepEqual(traced(k, () => assert.equal(k.kmalloc(0, k.GFP_KERNEL), k.ZERO_SIZE_PTR)), []);
    assert.equal(k.slab.kmalloc_size_roundup(13), 16);
    assert.equal(buddyFreePages(k), free0, 'every page back');
  });
}

test('first fit over three lists by size; blocks coalesce; an empty page goes back', () => {
  const k = boot({ mem: '64M', cpus: 1, slab: 'slob' }, { errors: 'throw' });
  const free0 = buddyFreePages(k);
  const small = k.kmalloc(100, k.GFP_KERNEL);
  const medium = k.kmalloc(SLOB_BREAK1, k.GFP_KERNEL);
  const large = k.kmalloc(SLOB_BREAK2, k.GFP_KERNEL);
  const lists = slob(k).freeLists();
  assert.deepEqual(lists.map((l) => l.length), [1, 1, 1], 'one page on each list');
  const pfnOf = (p: number) => Math.floor((p - k.layout.PAGE_OFFSET) / 4096);
  assert.deepEqual(lists.map((l) => l[0].pfn), [pfnOf(small), pfnOf(medium), pfnOf(large)]);
  // 108 bytes = 54 units in use on the small page
  assert.equal(lists[0][0].units, 2048 - 54);
  const b = k.kmalloc(100, k.GFP_KERNEL);
  assert.equal(pfnOf(b), pfnOf(small), 'first fit: the same page');
  k.kfree(small);
  // the freed block is first in address order, and the next allocation of its size takes it again
  const blocks = slob(k).freeBlocks(pfnOf(b));
  assert.equal(blocks[0][0], small - 8);
  const c = k.kmalloc(100, k.GFP_KERNEL);
  assert.equal(c, small, 'first fit reuses the lowest block');
  for (const p of [b, c, medium, large]) k.kfree(p);
  assert.deepEqual(slob(k).freeLists().map((l) => l.length), [0, 0, 0]);
  assert.equal(buddyFreePages(k), free0);
});

test('kmem_cache objects: no header, the cache\'s alignment, the constructor on every allocation', () => {
  const k = boot({ mem: '64M', cpus: 1, slab: 'slob' }, { errors: 'throw' });
  let ctorCalls = 0;
  const s = k.kmem_cache_create('slob_test', 24, 0, k.SLAB_HWCACHE_ALIGN, () => { ctorCalls++; });
  const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const b = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(a % 32, 0);
  assert.equal(b % 32, 0);
  assert.equal(b - a, 32, 'no header between objects of a cache');
  k.kmem_cache_free(s, a);
  const c = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(c, a);
  assert.equal(ctorCalls, 3);
  // SLOB never merges caches
  const t = k.kmem_cache_create('slob_twin', 24, 0, k.SLAB_HWCACHE_ALIGN, null);
  const u = k.kmem_cache_create('slob_twin2', 24, 0, k.SLAB_HWCACHE_ALIGN, null);
  assert.notEqual(t, u);
  for (const o of [b, c]) k.kmem_cache_free(s, o);
  for (const x of [s, t, u]) k.kmem_cache_destroy(x);
});

test('i386: every kmalloc of the real SLOB boot trace gets the trace\'s bytes_alloc', { skip: !existsSync(SLOB_LOG) && 'the shared traces are not beside the repository' }, async () => {
  const chunks: Uint8Array[] = [];
  for await (const c of (await open_trace(SLOB_LOG)).chunks) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  const pairs: [number, number][] = [];
  for (const m of text.matchAll(/ kmalloc(?:_node)?: .*?bytes_req=(\d+) bytes_alloc=(\d+)/g)) pairs.push([+m[1], +m[2]]);
  assert.equal(pairs.length, 2100);
  const k = boot({ mem: '256M', cpus: 1, arch: 'i386', slab: 'slob' }, { errors: 'throw' });
  let mismatches = 0;
  let below = 0;
  for (const [req, alloc] of pairs) {
    if (req < 4096 - 8) {
      below++;
      assert.equal(alloc, req + 8, 'the trace itself follows the rule');
    }
    let p = 0;
    const got = traced(k, () => { p = k.kmalloc(req, k.GFP_KERNEL); });
    if (got.length !== 1 || got[0][1] !== alloc) mismatches++;
    k.kfree(p);
  }
  assert.ok(below > 100);
  assert.equal(mismatches, 0);
});
