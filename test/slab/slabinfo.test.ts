/*
 * /proc/slabinfo: the exact text (header, a line's columns), the order of
 * the caches, and what its figures mean with SLUB (get_slabinfo()); the
 * Slab lines of /proc/meminfo. Golden lines are the kernel's own
 * (test/fixtures/host-6.18/slabinfo) re-created from the same figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readProc, procFileNames } from '../../src/fs/proc/procfs.ts';
import { SLABINFO_HEADER, slabinfo as formatSlabinfo, slabinfoLine } from '../../src/fs/proc/slabinfo.ts';
import { hasTool, withProcFile } from '../fs/proc/helpers.ts';
import { boot, slabinfo, slabinfoRows } from './helpers.ts';

const host = readFileSync(new URL('../fixtures/host-6.18/slabinfo', import.meta.url), 'utf8');

const info = (active: number, num: number, perSlab: number, order: number, slabs: number) => ({
  active_objs: active, num_objs: num, active_slabs: slabs, num_slabs: slabs, shared_avail: 0, limit: 0, batchcount: 0,
  shared: 0, objects_per_slab: perSlab, cache_order: order,
});

test('the header and a line are printed exactly as the kernel prints them', () => {
  const lines = host.split('\n');
  assert.equal(SLABINFO_HEADER, lines[0] + '\n' + lines[1] + '\n');
  // Re-create some of the host's lines from their figures: short and long names, wide numbers.
  for (const row of slabinfoRows(host)) {
    const order = Math.log2(row.pagesPerSlab);
    const line = slabinfoLine({ name: row.name, objsize: row.objsize, info: info(row.active, row.num, row.perSlab, order, row.numSlabs) });
    assert.equal(line, row.line + '\n', row.name);
  }
  assert.equal(slabinfoLine({ name: 'kmalloc-64', objsize: 64, info: info(1931, 1984, 64, 0, 31) }),
    'kmalloc-64          1931   1984     64   64    1 : tunables    0    0    0 : slabdata     31     31      0\n');
  assert.equal(slabinfoLine({ name: 'nfs4_xattr_cache_cache', objsize: 2128, info: info(0, 0, 15, 3, 0) }),
    'nfs4_xattr_cache_cache      0      0   2128   15    8 : tunables    0    0    0 : slabdata      0      0      0\n');
  assert.equal(formatSlabinfo([]), '');
});

test('slabinfo is a /proc file; caches are listed newest first, kmem_cache and kmem_cache_node last', () => {
  assert.ok(procFileNames().includes('slabinfo'));
  const k = boot({ mem: '256M', cpus: 2 });
  let rows = slabinfoRows(readProc(k, 'slabinfo'));
  assert.deepEqual(rows.slice(-2).map((r) => r.name), ['kmem_cache_node', 'kmem_cache']);
  assert.deepEqual(rows.slice(0, 3).map((r) => r.name), ['kmalloc-cg-8k', 'kmalloc-cg-4k', 'kmalloc-cg-2k']);
  assert.equal(rows.findIndex((r) => r.name === 'kmalloc-96'), rows.length - 3);
  assert.equal(rows.findIndex((r) => r.name === 'kmalloc-192'), rows.length - 4);
  const a = k.kmem_cache_create('first_cache', 100, 0, 0, null);
  const b = k.kmem_cache_create('second_cache', 300, 0, 0, null);
  rows = slabinfoRows(readProc(k, 'slabinfo'));
  assert.deepEqual(rows.slice(0, 2).map((r) => r.name), ['second_cache', 'first_cache']);
  // An alias (a merged cache) has no line of its own.
  const alias = k.kmem_cache_create('merged_into_first', 100, 0, 0, null);
  assert.equal(alias, a);
  assert.equal(slabinfoRows(readProc(k, 'slabinfo')).length, rows.length);
  k.kmem_cache_destroy(alias);
  k.kmem_cache_destroy(a);
  k.kmem_cache_destroy(b);
  assert.ok(!slabinfo(k).has('first_cache'));
});

test('SLUB figures: every object of every slab counts, free objects only on node partial slabs are inactive', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  const s = k.kmem_cache_create('figures', 256, 0, 0, null); // 16 per order-0 slab
  const objs = Array.from({ length: 40 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  let r = slabinfo(k).get('figures')!;
  // 3 slabs: two full (off every list), one CPU slab with 8 objects left on the lockless freelist.
  assert.deepEqual([r.active, r.num, r.numSlabs, r.activeSlabs], [48, 48, 3, 3]);
  for (const o of objs.slice(0, 10)) k.kmem_cache_free(s, o);
  r = slabinfo(k).get('figures')!;
  // The frees went to the first (full) slab, which became a CPU partial slab: still counted active.
  assert.deepEqual([r.active, r.num], [48, 48]);
  k.kmem_cache_shrink(s);
  r = slabinfo(k).get('figures')!;
  // Shrinking flushes the CPU slabs to the node partial list, whose free objects are not active.
  assert.deepEqual([r.active, r.num, r.numSlabs], [30, 48, 3]);
  for (const o of objs.slice(10)) k.kmem_cache_free(s, o);
  assert.equal(k.kmem_cache_shrink(s), 0);
  r = slabinfo(k).get('figures')!;
  assert.deepEqual([r.active, r.num, r.numSlabs], [0, 0, 0]);
  k.kmem_cache_destroy(s);
});

test('meminfo Slab, SReclaimable and SUnreclaim add up the slab pages (and large kmallocs)', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(readProc(k, 'meminfo'))![1]);
  const slabPagesKb = (pred: (n: string) => boolean) => [...slabinfo(k).values()]
    .filter((r) => pred(r.name)).reduce((n, r) => n + r.numSlabs * r.pagesPerSlab * 4, 0);
  const check = () => {
    assert.equal(kb('SReclaimable'), slabPagesKb((n) => n.startsWith('kmalloc-rcl-') || n === 'reclaimable'));
    assert.equal(kb('Slab'), kb('SReclaimable') + kb('SUnreclaim'));
  };
  check();
  assert.equal(kb('SUnreclaim'), slabPagesKb(() => true));
  const r = k.kmem_cache_create('reclaimable', 512, 0, k.SLAB_RECLAIM_ACCOUNT, null);
  const objs = Array.from({ length: 100 }, () => k.kmem_cache_alloc(r, k.GFP_KERNEL));
  const rcl = k.kmalloc(100, k.GFP_KERNEL | k.__GFP_RECLAIMABLE);
  check();
  assert.ok(kb('SReclaimable') > 0);
  const big = k.kmalloc(64 << 10, k.GFP_KERNEL); // order 4, counted as unreclaimable slab
  assert.equal(kb('SUnreclaim'), slabPagesKb((n) => !n.startsWith('kmalloc-rcl-') && n !== 'reclaimable') + 64);
  k.kfree(big);
  assert.equal(kb('SUnreclaim'), slabPagesKb((n) => !n.startsWith('kmalloc-rcl-') && n !== 'reclaimable'));
  for (const o of objs) k.kmem_cache_free(r, o);
  k.kfree(rcl);
  k.kmem_cache_destroy(r);
  check();
});

test('procps vmstat -m and slabtop -o read kmem\'s slabinfo', (t) => {
  if (!hasTool('vmstat') || !hasTool('slabtop')) return t.skip('procps vmstat/slabtop not installed');
  const k = boot({ mem: '256M', cpus: 2 });
  const s = k.kmem_cache_create('procps_cache', 1000, 0, k.SLAB_NO_MERGE, null);
  for (let i = 0; i < 50; i++) k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const text = readProc(k, 'slabinfo');
  const vm = withProcFile('slabinfo', text, 'vmstat -m');
  if ('skip' in vm) return t.skip(vm.skip);
  // vmstat -m: "Cache Num Total Size Pages", one line per cache
  const line = vm.stdout.split('\n').find((l) => l.startsWith('procps_cache'));
  assert.ok(line, vm.stdout);
  const r = slabinfo(k).get('procps_cache')!;
  assert.deepEqual(line.trim().split(/\s+/).slice(1).map(Number), [r.active, r.num, r.objsize, r.perSlab]);
  assert.equal(vm.stdout.split('\n').filter((l) => /^\S+\s+\d+\s+\d+\s+\d+\s+\d+$/.test(l)).length, slabinfo(k).size);
  const top = withProcFile('slabinfo', text, 'slabtop -o -s c');
  if ('skip' in top) return t.skip(top.skip);
  const cacheLine = top.stdout.split('\n').find((l) => l.endsWith('procps_cache') || /procps_cache\s*$/.test(l));
  assert.ok(cacheLine, top.stdout);
  const [objs, active] = cacheLine.trim().split(/\s+/).map(Number);
  assert.deepEqual([objs, active], [r.num, r.active]);
  assert.match(top.stdout, /Active \/ Total Caches \(% used\)\s+: \d+ \/ 55 /);
});
