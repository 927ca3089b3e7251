/*
 * Fidelity against real machines:
 *  - the kmalloc-* rows of /proc/slabinfo (objsize, objperslab,
 *    pagesperslab) on a 2-CPU machine equal the development host's (a 2-CPU
 *    Linux 6.18; test/fixtures/host-6.18/slabinfo), and kmem_cache's too;
 *    calculate_order() also gives what the reference digest lists for 1 and
 *    4 CPUs;
 *  - every kmalloc of a real 2-CPU trace (test/fixtures/traces/
 *    kmalloc-build.txt: 4,765 events, 44 distinct requests) gets exactly the
 *    bytes_alloc the real kernel gave it, with the trace's own gfp flags and
 *    node;
 *  - the size classes, kmalloc_size_roundup() and the large-kmalloc sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse_gfp_flags } from '../../src/include/trace/events/mmflags.ts';
import { kmalloc_index } from '../../src/include/linux/slab.ts';
import { boot, slabinfo, slabinfoRows } from './helpers.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

test('kmalloc-* rows of a 2-CPU machine equal the 2-CPU host\'s /proc/slabinfo', () => {
  const host = new Map(slabinfoRows(fixture('host-6.18/slabinfo')).map((r) => [r.name, r]));
  const k = boot({ mem: '512M', cpus: 2 });
  const ours = slabinfo(k);
  const kmallocs = [...ours.keys()].filter((n) => /^(dma-)?kmalloc-/.test(n));
  assert.equal(kmallocs.length, 52, 'kmalloc, kmalloc-rcl, dma-kmalloc and kmalloc-cg: 13 sizes each');
  for (const name of kmallocs) {
    const h = host.get(name);
    assert.ok(h, `${name} missing from the host`);
    const o = ours.get(name)!;
    assert.deepEqual([o.objsize, o.perSlab, o.pagesPerSlab], [h.objsize, h.perSlab, h.pagesPerSlab], name);
  }
  // The host's kmalloc rows that kmem has too: every one of them.
  for (const name of host.keys()) if (/^(dma-)?kmalloc-(cg-|rcl-)?\d+k?$/.test(name)) assert.ok(ours.has(name), name);
  const kc = ours.get('kmem_cache')!;
  const hkc = host.get('kmem_cache')!;
  assert.deepEqual([kc.objsize, kc.perSlab, kc.pagesPerSlab], [hkc.objsize, hkc.perSlab, hkc.pagesPerSlab]);
  // 6.12's struct kmem_cache_node is 64 bytes; 6.18's (128) has the sheaves' barn pointer.
  const kcn = ours.get('kmem_cache_node')!;
  assert.deepEqual([kcn.objsize, kcn.perSlab, kcn.pagesPerSlab], [64, 64, 1]);
  assert.deepEqual([host.get('kmem_cache_node')!.objsize, host.get('kmem_cache_node')!.perSlab], [128, 32]);
});

test('calculate_order(): objects per slab follow the CPU count (reference digest examples)', () => {
  const orders = (cpus: number) => {
    const rows = slabinfo(boot({ mem: '256M', cpus }));
    return (name: string) => [rows.get(name)!.perSlab, rows.get(name)!.pagesPerSlab];
  };
  const four = orders(4); // min_objects 16
  assert.deepEqual(four('kmalloc-64'), [64, 1]);
  assert.deepEqual(four('kmalloc-192'), [21, 1]);
  assert.deepEqual(four('kmalloc-512'), [16, 2]);
  assert.deepEqual(four('kmalloc-1k'), [16, 4]);
  assert.deepEqual(four('kmalloc-2k'), [16, 8]);
  assert.deepEqual(four('kmalloc-4k'), [8, 8]);
  assert.deepEqual(four('kmalloc-8k'), [4, 8]);
  const one = orders(1); // min_objects 8
  assert.deepEqual(one('kmalloc-1k'), [8, 2]);
  assert.deepEqual(one('kmalloc-512'), [8, 1]);
  assert.deepEqual(one('kmalloc-8k'), [4, 8]);
});

test('slab_max_order= and slab_min_objects= change the layout as the kernel does', () => {
  const rows = slabinfo(boot({ mem: '256M', cpus: 2, cmdline: 'slab_max_order=1 slub_min_objects=4' }));
  assert.deepEqual([rows.get('kmalloc-2k')!.perSlab, rows.get('kmalloc-2k')!.pagesPerSlab], [4, 2]);
  assert.deepEqual([rows.get('kmalloc-8k')!.perSlab, rows.get('kmalloc-8k')!.pagesPerSlab], [1, 2]);
  assert.deepEqual([rows.get('kmalloc-512')!.perSlab, rows.get('kmalloc-512')!.pagesPerSlab], [8, 1]);
});

test('every kmalloc of a real 2-CPU trace gets the bytes_alloc the kernel gave it', () => {
  const k = boot({ mem: '512M', cpus: 2 });
  const lines = fixture('traces/kmalloc-build.txt').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(lines.length, 44);
  let events = 0;
  for (const line of lines) {
    const [req, alloc, gfpText, node, count] = line.split(' ');
    const gfp = parse_gfp_flags(gfpText);
    assert.notEqual(gfp, null, gfpText);
    const p = k.kmalloc_node(+req, gfp!, +node);
    assert.notEqual(p, 0, line);
    assert.equal(k.ksize(p), +alloc, `ksize of kmalloc(${req}, ${gfpText})`);
    assert.equal(k.kmalloc_size_roundup(+req), +alloc);
    if (gfp! & k.__GFP_ZERO) assert.ok(k.kaddr.readBytes(p, +alloc).every((b) => b === 0), `${line}: not zeroed`);
    k.kfree(p);
    events += +count;
  }
  assert.equal(events, 4765);
});

test('size classes: kmalloc_index(), kmalloc_size_roundup(), ksize() of every size up to 8 KiB and beyond', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  const classes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
  for (let size = 1; size <= 8192; size++) {
    const expect = classes.find((c) => c >= size)!;
    assert.equal(k.kmalloc_size_roundup(size), expect, `size ${size}`);
    if (size % 37 === 1 || classes.includes(size) || classes.includes(size - 1)) {
      const p = k.kmalloc(size, k.GFP_KERNEL);
      assert.equal(k.ksize(p), expect, `ksize(kmalloc(${size}))`);
      k.kfree(p);
    }
  }
  assert.equal(kmalloc_index(96), 1);
  assert.equal(kmalloc_index(192), 2);
  assert.equal(kmalloc_index(8192), 13);
  // Above KMALLOC_MAX_CACHE_SIZE: whole pages, PAGE_SIZE << get_order(size).
  for (const [size, bytes] of [[8193, 16384], [16384, 16384], [16385, 32768], [4 << 20, 4 << 20]]) {
    assert.equal(k.kmalloc_size_roundup(size), bytes);
    const p = k.kmalloc(size, k.GFP_KERNEL);
    assert.notEqual(p, 0);
    assert.equal(k.ksize(p), bytes);
    assert.equal(p % 4096, 0);
    k.kfree(p);
  }
  assert.equal(k.kmalloc(0, k.GFP_KERNEL), k.ZERO_SIZE_PTR);
  assert.equal(k.ksize(k.ZERO_SIZE_PTR), 0);
});
