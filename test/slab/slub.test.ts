/*
 * SLUB's behaviour, case by case: object layout and free pointers, fresh
 * slabs and LIFO reuse, constructors, the CPU slab and frees from other
 * CPUs, CPU partial and node partial lists, min_partial, shrinking, RCU
 * slabs, zones and accounting of the slab pages, NUMA placement, merging,
 * bulk operations, and the kmalloc family. Each case names the kernel
 * behaviour it checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { PG_head, PG_workingset } from '../../src/mm/page.ts';
import { boot, buddyFreePages, logged, putString, slabCensus, slabinfo, slub } from './helpers.ts';

const pfnOf = (k: Kernel, va: number) => Math.floor(k.__pa(va) / 4096);
const slabOf = (k: Kernel, va: number) => {
  const pfn = pfnOf(k, va);
  return k.pages.PageTail(pfn) ? slub(k).folioPfn(va) : pfn;
};
const where = (k: Kernel, s: number, pfn: number) => slub(k).slabsOf(s).find((x) => x.pfn === pfn)?.where ?? 'none';

test('boot: the SLUB line, and the caches kmem_cache_init() leaves', () => {
  for (const [cfg, line] of [
    [{ mem: '256M', cpus: 2 }, 'SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1'],
    [{ mem: '512M', cpus: 4, nodes: 2 }, 'SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=4, Nodes=2'],
    [{ arch: 'i386' as const, mem: '1G', cpus: 1 }, 'SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=1, Nodes=1'],
  ] as const) {
    const k = boot(cfg);
    const lines = k.dmesg().split('\n').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    const at = lines.indexOf(line);
    assert.ok(at > 0, `${line} missing`);
    assert.ok(lines[at - 1].startsWith('Memory: '), 'kmem_cache_init() runs right after mem_init()');
    assert.equal(k.slab.caches().length, 54);
    assert.equal(k.bug.tainted, 0);
  }
  const i386 = boot({ arch: 'i386', mem: '1G', cpus: 2 });
  const rows = slabinfo(i386);
  assert.deepEqual([rows.get('kmem_cache')!.objsize, rows.get('kmem_cache_node')!.objsize], [192, 32]);
});

test('object layout: the free pointer in the middle of a free object, or after it with a ctor or RCU', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const L = slub(k).cache;
  const plain = k.kmem_cache_create('plain', 100, 0, k.SLAB_NO_MERGE, null);
  assert.equal(k.kaddr.read32(plain + L.offset), 48); // ALIGN_DOWN(100 / 2, 8)
  assert.equal(k.kaddr.read32(plain + L.size_), 104);
  assert.equal(k.kaddr.read32(plain + L.inuse), 104);
  const a = k.kmem_cache_alloc(plain, k.GFP_KERNEL);
  const b = k.kmem_cache_alloc(plain, k.GFP_KERNEL);
  assert.equal(b - a, 104, 'a fresh slab hands its objects out in address order');
  k.kmem_cache_free(plain, a);
  k.kmem_cache_free(plain, b);
  assert.equal(k.kaddr.readPtr(b + 48), a, 'b, freed last, points at a');
  assert.equal(k.kmem_cache_alloc(plain, k.GFP_KERNEL), b, 'LIFO');
  assert.equal(k.kmem_cache_alloc(plain, k.GFP_KERNEL), a);
  const withCtor = k.kmem_cache_create('with_ctor', 100, 0, 0, () => undefined);
  assert.equal(k.kaddr.read32(withCtor + L.offset), 104);
  assert.equal(k.kaddr.read32(withCtor + L.size_), 112);
  const rcu = k.kmem_cache_create('rcu', 100, 0, k.SLAB_TYPESAFE_BY_RCU, null);
  assert.equal(k.kaddr.read32(rcu + L.offset), 104);
  assert.equal(k.ksize(k.kmem_cache_alloc(rcu, k.GFP_KERNEL)), 104, 'slab_ksize(): inuse for RCU caches');
  // kmem_cache_size() is the object size asked for
  assert.equal(k.kmem_cache_size(plain), 100);
});

test('constructors run when a slab is populated, once per object, not on each allocation', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const seen: number[] = [];
  const s = k.kmem_cache_create('ctor_cache', 200, 0, 0, (kk, obj) => {
    seen.push(obj);
    kk.kaddr.write32(obj, 0x1234);
  });
  const perSlab = slabinfo(k).get('ctor_cache')!.perSlab;
  const first = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(seen.length, perSlab, 'the whole slab is constructed at once');
  assert.equal(seen[0], first);
  for (let i = 1; i < perSlab; i++) assert.equal(k.kaddr.read32(k.kmem_cache_alloc(s, k.GFP_KERNEL)), 0x1234);
  assert.equal(seen.length, perSlab);
  k.kmem_cache_free(s, first);
  assert.equal(k.kmem_cache_alloc(s, k.GFP_KERNEL), first);
  assert.equal(seen.length, perSlab, 'a reused object is not constructed again');
  k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(seen.length, 2 * perSlab, 'the next slab');
  // The same function for two caches is one code address.
  const f = (kk: Kernel, obj: number) => kk.kaddr.write32(obj, 1);
  const c1 = k.kmem_cache_create('ctor1', 64, 0, 0, f);
  const c2 = k.kmem_cache_create('ctor2', 64, 0, 0, f);
  const L = slub(k).cache;
  assert.equal(k.kaddr.readPtr(c1 + L.ctor), k.kaddr.readPtr(c2 + L.ctor));
  assert.equal(k.kallsyms.name(k.kaddr.readPtr(c1 + L.ctor)), 'f');
});

test('a free from another CPU goes to the slab\'s own freelist; the owning CPU takes it back when its list runs dry', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('xcpu', 256, 0, k.SLAB_NO_MERGE, null); // 16 per slab
  const objs = Array.from({ length: 16 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const pfn = slabOf(k, objs[0]);
  assert.equal(where(k, s, pfn), 'cpu0');
  assert.deepEqual(slub(k).slabState(pfn), { inuse: 16, objects: 16, frozen: true });
  k.set_cpu(1);
  k.kmem_cache_free(s, objs[3]);
  assert.deepEqual(slub(k).slabState(pfn), { inuse: 15, objects: 16, frozen: true }, 'frozen: no list changes');
  assert.equal(where(k, s, pfn), 'cpu0');
  k.set_cpu(0);
  assert.equal(k.kmem_cache_alloc(s, k.GFP_KERNEL), objs[3], 'get_freelist() took the remote free');
});

test('a full slab freed into from another CPU becomes that CPU\'s partial slab, then goes to the node list', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('partial', 256, 0, k.SLAB_NO_MERGE, null);
  const objs = Array.from({ length: 16 * 9 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const slabs = [...new Set(objs.map((o) => slabOf(k, o)))];
  assert.equal(slabs.length, 9);
  assert.equal(where(k, s, slabs[0]), 'none', 'a full slab is on no list');
  k.set_cpu(1);
  k.kmem_cache_free(s, objs[0]);
  assert.equal(where(k, s, slabs[0]), 'cpu1-partial');
  assert.ok(!k.pages.testFlag(slabs[0], PG_workingset));
  // cpu_partial_slabs is DIV_ROUND_UP(52 * 2, 16) = 7: the 8th full slab to get a free drains the list to the node.
  for (let i = 1; i < 8; i++) k.kmem_cache_free(s, objs[16 * i]);
  const placed = slabs.slice(0, 8).map((p) => where(k, s, p));
  assert.deepEqual(placed.slice(0, 7), Array(7).fill('node0-partial'));
  assert.equal(placed[7], 'cpu1-partial');
  assert.ok(k.pages.testFlag(slabs[0], PG_workingset), 'PG_workingset marks a node partial slab');
  // The node partial slabs feed a CPU whose own lists are empty.
  k.set_cpu(1);
  const got = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(got, objs[16 * 7], 'CPU 1 first uses its own partial slab');
});

test('empty slabs: min_partial of them stay on the node list, the rest go back to the page allocator', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('minpart', 2048, 0, k.SLAB_NO_MERGE, null); // 16 per order-3 slab
  const minPartial = k.access.readUlong(k.__pa(s) + slub(k).cache.min_partial);
  assert.equal(minPartial, 5); // ilog2(2048) / 2 clamped to [5, 10]
  const before = buddyFreePages(k);
  const objs = Array.from({ length: 16 * 20 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.equal(before - buddyFreePages(k), 20 * 8);
  for (const o of objs) k.kmem_cache_free(s, o);
  const r = slabinfo(k).get('minpart')!;
  assert.ok(r.numSlabs >= minPartial && r.numSlabs < 20, `${r.numSlabs} slabs kept`);
  assert.equal(before - buddyFreePages(k), r.numSlabs * 8);
  assert.equal(k.kmem_cache_shrink(s), 0);
  assert.equal(buddyFreePages(k), before);
});

test('kmem_cache_shrink() sorts the partial list: the fullest slabs first', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const s = k.kmem_cache_create('sorted', 256, 0, k.SLAB_NO_MERGE, null);
  const objs = Array.from({ length: 16 * 4 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const slabs = [...new Set(objs.map((o) => slabOf(k, o)))];
  // leave 1, 10, 5 and 16 (empty) free objects in the four slabs
  const frees = [1, 10, 5, 16];
  slabs.forEach((_, i) => objs.slice(16 * i, 16 * i + frees[i]).forEach((o) => k.kmem_cache_free(s, o)));
  assert.equal(k.kmem_cache_shrink(s), 1);
  const order = slub(k).slabsOf(s).map((x) => x.pfn);
  assert.deepEqual(order, [slabs[0], slabs[2], slabs[1]], 'by free objects, fewest first; the empty one freed');
});

test('SLAB_TYPESAFE_BY_RCU: slab pages go back only after a grace period; the memory stays a slab until then', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const s = k.kmem_cache_create('typesafe', 1000, 0, k.SLAB_TYPESAFE_BY_RCU, null);
  const before = buddyFreePages(k);
  const objs = Array.from({ length: 40 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  k.kaddr.write32(objs[0], 0xfeed);
  for (const o of objs) k.kmem_cache_free(s, o);
  assert.equal(k.kmem_cache_shrink(s), 0);
  assert.equal(slabinfo(k).get('typesafe')!.numSlabs, 0);
  assert.ok(k.rcu.pending() > 0);
  assert.ok(slabCensus(k, s).size > 0, 'the pages are still slabs of the cache');
  assert.equal(k.kaddr.read32(objs[0]), 0xfeed, 'a lockless reader can still read the object');
  assert.ok(buddyFreePages(k) < before);
  k.synchronize_rcu();
  assert.equal(k.rcu.pending(), 0);
  assert.equal(slabCensus(k, s).size, 0);
  assert.equal(buddyFreePages(k), before);
  k.kmem_cache_destroy(s);
});

test('slab pages come from the zones the cache asks for, on the node asked for', () => {
  const k = boot({ mem: '5G', cpus: 2 });
  const zone = (va: number) => k.mz.zs.names[k.page_zonenum(k.virt_to_page(va))];
  const dma = k.kmem_cache_create('dma_cache', 128, 0, k.SLAB_CACHE_DMA, null);
  assert.equal(zone(k.kmem_cache_alloc(dma, k.GFP_KERNEL)), 'DMA');
  const dma32 = k.kmem_cache_create('dma32_cache', 128, 0, k.SLAB_CACHE_DMA32, null);
  assert.ok(['DMA', 'DMA32'].includes(zone(k.kmem_cache_alloc(dma32, k.GFP_KERNEL))));
  assert.equal(zone(k.kmalloc(100, k.GFP_KERNEL | k.GFP_DMA)), 'DMA');
  assert.equal(zone(k.kmalloc(100, k.GFP_KERNEL)), 'Normal');
  const numa = boot({ mem: '512M', cpus: 2, nodes: 2 });
  const s = numa.kmem_cache_create('per_node', 128, 0, 0, null);
  for (const node of [0, 1, 1, 0]) {
    const o = numa.kmem_cache_alloc_node(s, numa.GFP_KERNEL, node);
    assert.equal(numa.page_to_nid(numa.virt_to_page(o)), node);
    assert.equal(numa.page_to_nid(numa.virt_to_page(numa.kmalloc_node(300, numa.GFP_KERNEL, node))), node);
  }
});

test('kmalloc types: __GFP_DMA beats __GFP_RECLAIMABLE beats __GFP_ACCOUNT', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const cacheOf = (p: number) => k.slab.cacheName(slub(k).slab_cache(slub(k).folioPfn(p)));
  assert.equal(cacheOf(k.kmalloc(50, k.GFP_KERNEL)), 'kmalloc-64');
  assert.equal(cacheOf(k.kmalloc(50, k.GFP_KERNEL_ACCOUNT)), 'kmalloc-cg-64');
  assert.equal(cacheOf(k.kmalloc(50, k.GFP_KERNEL | k.__GFP_RECLAIMABLE | k.__GFP_ACCOUNT)), 'kmalloc-rcl-64');
  assert.equal(cacheOf(k.kmalloc(50, k.GFP_DMA | k.__GFP_RECLAIMABLE | k.__GFP_ACCOUNT)), 'dma-kmalloc-64');
  assert.equal(cacheOf(k.kmalloc(50, k.GFP_KERNEL | k.GFP_DMA32)), 'kmalloc-64', 'no DMA32 kmalloc caches');
  assert.equal(cacheOf(k.kmalloc(70, k.GFP_KERNEL)), 'kmalloc-96');
  assert.equal(cacheOf(k.kmalloc(130, k.GFP_KERNEL)), 'kmalloc-192');
});

test('kzalloc, kcalloc and __GFP_ZERO clear even a reused object; kmalloc does not', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const p = k.kmalloc(64, k.GFP_KERNEL);
  k.memset(p, 0xaa, 64);
  k.kfree(p);
  const q = k.kmalloc(64, k.GFP_KERNEL);
  assert.equal(q, p);
  assert.equal(k.kaddr.read8(q), 0xaa, 'kmalloc gives the old contents (init_on_alloc is off)');
  k.kfree(q);
  const z = k.kzalloc(64, k.GFP_KERNEL);
  assert.equal(z, p);
  assert.ok(k.kaddr.readBytes(z, 64).every((b) => b === 0));
  k.memset(z, 0x55, 64);
  k.kfree(z);
  const c = k.kcalloc(8, 8, k.GFP_KERNEL);
  assert.ok(k.kaddr.readBytes(c, 64).every((b) => b === 0));
  const s = k.kmem_cache_create('zc', 64, 0, 0, null);
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.memset(o, 0x77, 64);
  k.kmem_cache_free(s, o);
  assert.ok(k.kaddr.readBytes(k.kmem_cache_zalloc(s, k.GFP_KERNEL), 64).every((b) => b === 0));
});

test('krealloc() keeps the contents, in place when the object is big enough', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const p = k.kmalloc(40, k.GFP_KERNEL);
  putString(k, p, 'hello, slab');
  assert.equal(k.krealloc(p, 60, k.GFP_KERNEL), p, 'kmalloc-64 holds 60 bytes');
  const q = k.krealloc(p, 100, k.GFP_KERNEL);
  assert.notEqual(q, p);
  assert.equal(k.slab.readString(q), 'hello, slab');
  assert.equal(k.ksize(q), 128);
  k.memset(q + 20, 0xee, 108);
  assert.equal(k.krealloc(q, 20, k.GFP_KERNEL | k.__GFP_ZERO), q);
  assert.ok(k.kaddr.readBytes(q + 20, 108).every((b) => b === 0), '__GFP_ZERO clears the tail when shrinking in place');
  assert.equal(k.krealloc(q, 0, k.GFP_KERNEL), k.ZERO_SIZE_PTR);
  const fresh = k.krealloc(0, 30, k.GFP_KERNEL);
  assert.equal(k.ksize(fresh), 32);
  const big = k.krealloc(fresh, 20000, k.GFP_KERNEL);
  assert.equal(k.ksize(big), 32768);
  k.kfree(big);
});

test('kfree_sensitive() (kzfree) clears the whole allocation; kmemdup() and kstrdup() copy', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const p = k.kmalloc(100, k.GFP_KERNEL);
  k.memset(p, 0x5a, 128);
  k.kfree_sensitive(p);
  const bytes = k.kaddr.readBytes(p, 128);
  // all zero but the free pointer SLUB wrote in the middle of the (kmalloc-128) object
  bytes.fill(0, 64, 72);
  assert.ok(bytes.every((b) => b === 0));
  k.kzfree(0);
  const src = k.kmalloc(32, k.GFP_KERNEL);
  putString(k, src, 'kmem');
  const dup = k.kstrdup(src, k.GFP_KERNEL);
  assert.notEqual(dup, src);
  assert.equal(k.slab.readString(dup), 'kmem');
  assert.equal(k.ksize(dup), 8);
  assert.equal(k.kstrdup(0, k.GFP_KERNEL), 0);
  const md = k.kmemdup(src, 5, k.GFP_KERNEL);
  assert.deepEqual([...k.kaddr.readBytes(md, 5)], [...k.kaddr.readBytes(src, 5)]);
  k.kfree(0);
  k.kfree(k.ZERO_SIZE_PTR);
});

test('allocate_slab(): when the cache\'s order is not to be had, a slab of the minimum order (fewer objects)', () => {
  const k = boot({ mem: '64M', cpus: 2 });
  // Fragment memory: take every page (reserves too), give back every other one: no free block is bigger than a page.
  const gfp = k.GFP_ATOMIC | k.__GFP_MEMALLOC | k.__GFP_NOWARN;
  const pages: number[] = [];
  for (let p = k.alloc_page(gfp); p !== 0; p = k.alloc_page(gfp)) pages.push(p);
  pages.sort((a, b) => a - b);
  for (let i = 0; i < pages.length; i += 2) k.__free_page(pages[i]);
  k.drain_all_pages();
  const lines = logged(k, () => {
    const obj = k.kmalloc(2000, k.GFP_KERNEL); // kmalloc-2k: order 3, 16 objects; min order 0, 2 objects
    assert.notEqual(obj, 0);
    const pfn = slabOf(k, obj);
    assert.equal(k.pages.compound_order(pfn), 0);
    assert.deepEqual(slub(k).slabState(pfn), { inuse: 2, objects: 2, frozen: true });
  });
  assert.deepEqual(lines, [], 'the first, high-order attempt is __GFP_NOWARN');
  const r = slabinfo(k).get('kmalloc-2k')!;
  assert.deepEqual([r.perSlab, r.pagesPerSlab, r.num, r.numSlabs], [16, 8, 2, 1], 'objperslab is the cache\'s; num_objs counts the real slab');
});

test('large kmalloc: a compound page from the page allocator, counted as unreclaimable slab', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const before = buddyFreePages(k);
  const p = k.kmalloc(100000, k.GFP_KERNEL | k.__GFP_ZERO);
  const pfn = pfnOf(k, p);
  assert.ok(k.pages.testFlag(pfn, PG_head));
  assert.equal(k.pages.compound_order(pfn), 5);
  assert.equal(before - buddyFreePages(k), 32);
  assert.ok(k.kaddr.readBytes(p, 100000).every((b) => b === 0));
  k.kfree(p);
  assert.equal(buddyFreePages(k), before);
});

test('merging: compatible caches share one struct kmem_cache (refcount), others do not', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const L = slub(k).cache;
  const a = k.kmem_cache_create('merge_a', 100, 0, 0, null);
  assert.equal(k.kmem_cache_create('merge_b', 98, 0, 0, null), a);
  assert.equal(k.kmem_cache_create('merge_c', 104, 8, 0, null), a);
  assert.equal(k.kaddr.read32(a + L.refcount), 3);
  assert.equal(k.kmem_cache_size(a), 104, 'object_size grows to the largest alias');
  assert.notEqual(k.kmem_cache_create('merge_ctor', 100, 0, 0, () => undefined), a);
  assert.notEqual(k.kmem_cache_create('merge_nomerge', 100, 0, k.SLAB_NO_MERGE, null), a);
  assert.notEqual(k.kmem_cache_create('merge_rcl', 100, 0, k.SLAB_RECLAIM_ACCOUNT, null), a);
  assert.notEqual(k.kmem_cache_create('merge_big', 120, 0, 0, null), a);
  k.kmem_cache_destroy(a);
  k.kmem_cache_destroy(a);
  assert.ok(k.slab.caches().includes(a));
  k.kmem_cache_destroy(a);
  assert.ok(!k.slab.caches().includes(a));
  const nomerge = boot({ mem: '128M', cpus: 1, cmdline: 'slab_nomerge' });
  const x = nomerge.kmem_cache_create('x', 100, 0, 0, null);
  assert.notEqual(nomerge.kmem_cache_create('y', 100, 0, 0, null), x);
});

test('bulk allocation and free, and kfree_bulk() of objects from several caches', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('bulk', 128, 0, k.SLAB_NO_MERGE, null);
  const p = k.kmalloc(8 * 100, k.GFP_KERNEL);
  assert.equal(k.kmem_cache_alloc_bulk(s, k.GFP_KERNEL | k.__GFP_ZERO, 100, p), 100);
  const objs = Array.from({ length: 100 }, (_, i) => k.kaddr.readPtr(p + 8 * i));
  assert.equal(new Set(objs).size, 100);
  assert.ok(objs.every((o) => k.kaddr.read32(o) === 0));
  assert.equal(slabinfo(k).get('bulk')!.active, Math.ceil(100 / 32) * 32);
  k.kmem_cache_free_bulk(s, 100, p);
  k.kmem_cache_shrink(s);
  assert.equal(slabinfo(k).get('bulk')!.active, 0);
  const mixed = [k.kmalloc(10, k.GFP_KERNEL), k.kmalloc(100, k.GFP_KERNEL), k.kmalloc(20000, k.GFP_KERNEL), k.kmalloc(10, k.GFP_KERNEL)];
  mixed.forEach((o, i) => k.kaddr.writePtr(p + 8 * i, o));
  const before = buddyFreePages(k);
  assert.deepEqual(logged(k, () => k.kfree_bulk(4, p)), []);
  assert.equal(buddyFreePages(k) - before, 8, 'the large kmalloc went back too');
  assert.equal(k.kmem_cache_alloc_bulk(s, k.GFP_KERNEL, 0, p), 0);
});

test('i386: 32-bit pointers, lowmem slabs, the same behaviour', () => {
  const k = boot({ arch: 'i386', mem: '2G', cpus: 2 }, { errors: 'throw' });
  const s = k.kmem_cache_create('i386_cache', 60, 0, k.SLAB_HWCACHE_ALIGN, null);
  const objs = Array.from({ length: 200 }, (_, i) => {
    k.set_cpu(i % 2);
    const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    assert.equal(o % 64, 0);
    assert.ok(!k.PageHighMem(k.virt_to_page(o)));
    return o;
  });
  const ks = Array.from({ length: 200 }, (_, i) => k.kmalloc(1 + ((i * 97) % 9000), k.GFP_KERNEL));
  objs.forEach((o, i) => {
    k.set_cpu((i + 1) % 2);
    k.kmem_cache_free(s, o);
  });
  ks.forEach((p) => k.kfree(p));
  assert.equal(k.kmem_cache_shrink(s), 0);
  k.kmem_cache_destroy(s);
});
