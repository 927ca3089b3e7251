/*
 * /proc/slabinfo of debug caches: objsize is s->size with the debug
 * metadata (calculate_sizes()), objperslab and pagesperslab follow from it
 * (calculate_order()).
 *
 * The one real slub_debug slabinfo at hand (test/fixtures/real-dumps/
 * procfs-slabinfo-slub_debug, 8 CPUs, F,Z,P,U) comes from a 5.x kernel whose
 * metadata was bigger than 6.12's: a struct track held 16 return addresses
 * (152 bytes; 6.12 keeps a stack depot handle instead: 32 bytes), there was
 * no word for kmalloc's requested size (6.12 adds an unsigned long), and
 * kmalloc-96 / -192 were only 8-byte aligned (6.12 aligns kmalloc caches to
 * the largest power of two dividing the size). So kmem's 6.12 rows cannot
 * equal it; instead:
 *  - kmem's calculate_sizes() given that kernel's metadata sizes reproduces
 *    every kmalloc objsize of the fixture (and kmem_cache_node's), and
 *    kmem's calculate_order() on 8 CPUs every objperslab and pagesperslab;
 *  - kmem booted with slub_debug=FZPU on 8 CPUs prints for each kmalloc
 *    cache the objsize 6.12's calculate_sizes() gives, worked out here
 *    independently, with the order for that size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { calculateObjectLayout } from '../../src/mm/slub_debug.ts';
import {
  SLAB_CONSISTENCY_CHECKS, SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER,
} from '../../src/include/linux/slab.ts';
import { boot, slabinfo, slabinfoRows, slub } from './helpers.ts';

const FZPU = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
const ALIGN = (x: number, a: number) => Math.ceil(x / a) * a;

/** The object size a kmalloc cache's name says ("8k" is 8192). */
function kmallocSize(name: string): number {
  const m = /kmalloc-(?:rcl-|cg-)?(\d+)(k?)$/.exec(name);
  assert.ok(m, name);
  return Number(m[1]) * (m[2] === 'k' ? 1024 : 1);
}

/**
 * 6.12's calculate_sizes() for a kmalloc cache with F, Z, P, U on x86_64,
 * written out: the object rounded to a word, a red zone word if that left
 * none, the free pointer (moved out by poisoning), two 32-byte tracks, the
 * requested-size word, the padding word, the left red zone (a word,
 * aligned), all aligned to the cache's alignment.
 */
function size612(objectSize: number): number {
  const align = Math.max(8, objectSize & -objectSize);
  let size = ALIGN(objectSize, 8);
  if (size === objectSize) size += 8;
  size += 8 + 2 * 32 + 8 + 8 + ALIGN(8, align);
  return ALIGN(size, align);
}

test('slub_debug=FZPU on 8 CPUs: every kmalloc row has 6.12\'s debug objsize and the order for it', () => {
  const k = boot({ mem: '512M', cpus: 8, cmdline: 'slub_debug=FZPU' });
  const rows = [...slabinfo(k).values()].filter((r) => /^(dma-)?kmalloc-/.test(r.name));
  assert.equal(rows.length, 52);
  for (const r of rows) {
    const size = size612(kmallocSize(r.name));
    const order = slub(k).calculate_order(size);
    assert.deepEqual([r.objsize, r.perSlab, r.pagesPerSlab], [size, Math.floor((4096 << order) / size), 1 << order], r.name);
  }
  // a few by hand: kmalloc-8 is 8 + 8 red zone + 8 free pointer + 64 tracks + 8 size + 8 padding + 8 left red zone
  const byName = slabinfo(k);
  assert.deepEqual(['kmalloc-8', 'kmalloc-16', 'kmalloc-64', 'kmalloc-96', 'kmalloc-192', 'kmalloc-1k', 'kmalloc-8k']
    .map((n) => byName.get(n)!.objsize), [112, 128, 256, 224, 384, 3072, 24576]);
  // and the boot caches: kmem_cache_node (64 bytes, HWCACHE_ALIGN) and kmem_cache (208 bytes)
  assert.equal(byName.get('kmem_cache_node')!.objsize, 256);
  assert.equal(byName.get('kmem_cache')!.objsize, 384);
});

test('kmem\'s calculate_sizes() and calculate_order() with a 5.x kernel\'s metadata give the real slub_debug slabinfo', () => {
  const text = readFileSync(new URL('../fixtures/real-dumps/procfs-slabinfo-slub_debug', import.meta.url), 'utf8');
  const real = slabinfoRows(text);
  const k = boot({ mem: '512M', cpus: 8 });
  const legacy = { ptrSize: 8 as const, track: 152, origSize: 0 };
  let checked = 0;
  for (const r of real) {
    let objectSize: number;
    let align: number;
    let flags = FZPU;
    if (/^(dma-)?kmalloc-/.test(r.name)) {
      objectSize = kmallocSize(r.name);
      // before 6.x: only power-of-two kmalloc sizes were aligned to their size
      align = (objectSize & (objectSize - 1)) === 0 ? objectSize : 8;
      flags |= SLAB_KMALLOC;
    } else if (r.name === 'kmem_cache_node') {
      objectSize = 64;
      align = 64; // SLAB_HWCACHE_ALIGN on 64 bytes
      flags |= SLAB_HWCACHE_ALIGN;
    } else {
      continue;
    }
    const size = calculateObjectLayout(objectSize, align, flags, false, null, legacy).size;
    const order = slub(k).calculate_order(size);
    assert.deepEqual([size, Math.floor((4096 << order) / size), 1 << order], [r.objsize, r.perSlab, r.pagesPerSlab], r.name);
    checked++;
  }
  assert.equal(checked, 40, 'the dma-, rcl- and plain kmalloc rows and kmem_cache_node');
});

test('slub_debug=O leaves out the caches whose minimum order the metadata would raise', () => {
  const k = boot({ mem: '512M', cpus: 2, cmdline: 'slub_debug=FZPUO' });
  const rows = slabinfo(k);
  // kmalloc-2k: 2048 -> 6144 with the metadata (order 1 instead of 0): no debugging, plain size
  assert.equal(rows.get('kmalloc-2k')!.objsize, 2048);
  assert.equal(rows.get('kmalloc-4k')!.objsize, 4096);
  assert.equal(rows.get('kmalloc-8k')!.objsize, 8192);
  // kmalloc-1k: 1024 -> 3072, still order 0: debugged
  assert.equal(rows.get('kmalloc-1k')!.objsize, 3072);
  assert.equal(rows.get('kmalloc-64')!.objsize, 256);
  // O alone switches nothing on (a block of flags without a cache list sets the global flags: none)
  const o = boot({ mem: '128M', cpus: 2, cmdline: 'slub_debug=O' });
  assert.equal(slabinfo(o).get('kmalloc-64')!.objsize, 64);
});
