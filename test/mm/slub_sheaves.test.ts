/*
 * SLUB's percpu sheaves, step by step (slub_sheaves.ts): which caches get
 * sheaves and of what capacity, the main/spare/barn transitions of
 * __pcs_replace_empty_main() and __pcs_replace_full_main() with the barn's
 * MAX_FULL_SHEAVES limit, the flushes (shrink, destroy) that empty them,
 * and the bulk paths (kmem_cache_free_bulk() in batches, remote objects on
 * a two-node machine to their slabs, no sheaf allocated).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { MAX_FULL_SHEAVES } from '../../src/mm/slub_sheaves.ts';
import { boot, slabinfo, slub } from '../slab/helpers.ts';

const CAP = 4;

function setup(): { k: Kernel; s: number; state: () => { main: number; spare: number | null; full: number; empty: number }; active: () => number } {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'throw' });
  const s = k.kmem_cache_create('sheaf_test', 64, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const sh = slub(k).sheaves!;
  const state = () => {
    const p = sh.pcsState(s, k.smp_processor_id());
    const b = sh.barnCounts(sh.barnOf(s, 0));
    return { main: p.mainSize, spare: p.spare === 0 ? null : p.spareSize, full: b.full, empty: b.empty };
  };
  return { k, s, state, active: () => slabinfo(k).get('sheaf_test')!.active };
}

test('6.18 opt-in: only a cache that asks gets sheaves, and not with slab debugging; 6.12 (no option) has none', () => {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'throw' });
  const sh = slub(k).sheaves!;
  const plain = k.kmem_cache_create('plain', 64, 0, k.SLAB_NO_MERGE, null);
  const asked = k.kmem_cache_create('asked', 64, { sheaf_capacity: 32 }, 0);
  const debug = k.kmem_cache_create('debug', 64, { sheaf_capacity: 32 }, k.SLAB_RED_ZONE);
  assert.deepEqual([plain, asked, debug].map((s) => sh.has_sheaves(s)), [false, true, false]);
  assert.equal(sh.sheaf_capacity(asked), 32);
  assert.ok(k.slab.caches().filter((s) => sh.has_sheaves(s)).length === 1, 'no kmalloc cache has sheaves');
  // a cache that asks for sheaves is not merged with another
  assert.notEqual(k.kmem_cache_create('asked2', 64, { sheaf_capacity: 32 }, 0), asked);
  // 6.18's struct sizes: kmem_cache_node with the barn pointer (the 6.18 host's 128-byte objects)
  assert.equal(slabinfo(k).get('kmem_cache_node')!.objsize, 128);
  const old = boot({ mem: '128M', cpus: 2 }, { errors: 'throw' });
  assert.equal(slub(old).sheaves, null);
  assert.equal(slabinfo(old).get('kmem_cache_node')!.objsize, 64);
  assert.notEqual(old.kmem_cache_create('asked', 64, { sheaf_capacity: 32 }, 0), 0, 'sheaf_capacity is ignored');
});

test('7.0 all: every cache but the bootstrap and debug ones, capacity from calculate_sheaf_capacity()', () => {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'all', cmdline: 'slab_debug=Z,dbg_cache' }, { errors: 'throw' });
  const sh = slub(k).sheaves!;
  const byName = new Map(k.slab.caches().map((s) => [k.slab.cacheName(s), s]));
  assert.equal(sh.has_sheaves(byName.get('kmem_cache')!), false);
  assert.equal(sh.has_sheaves(byName.get('kmem_cache_node')!), false);
  // the sheaf fills its kmalloc bucket: (512 - 32) / 8 objects for small objects, and so on
  const cap = (name: string) => sh.sheaf_capacity(byName.get(name)!);
  assert.deepEqual(['kmalloc-8', 'kmalloc-192', 'kmalloc-256', 'kmalloc-1k', 'kmalloc-4k', 'kmalloc-8k'].map(cap), [60, 60, 28, 12, 4, 4]);
  const c = k.kmem_cache_create('some_cache', 100, 0, 0, null);
  assert.equal(sh.sheaf_capacity(c), 60);
  assert.equal(sh.sheaf_capacity(k.kmem_cache_create('big_ask', 100, { sheaf_capacity: 100 }, 0)), 100, 'at least what was asked');
  assert.equal(sh.has_sheaves(k.kmem_cache_create('dbg_cache', 100, 0, 0, null)), false, 'slab_debug=Z');
});

test('allocation: an empty main is replaced by a full sheaf, made from the slabs, the old one going to the barn', () => {
  const { k, s, state, active } = setup();
  assert.deepEqual(state(), { main: 0, spare: null, full: 0, empty: 0 });
  const objs = [k.kmem_cache_alloc(s, k.GFP_KERNEL)];
  assert.deepEqual(state(), { main: CAP - 1, spare: null, full: 0, empty: 1 }, 'alloc_full_sheaf(), the empty main to the barn');
  assert.ok(active() >= CAP, 'the sheaf\'s objects are allocated as far as the slabs know');
  for (let i = 1; i < CAP + 1; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.deepEqual(state(), { main: CAP - 1, spare: null, full: 0, empty: 1 }, 'the barn\'s empty sheaf refilled and swapped in');
  // without __GFP_DIRECT_RECLAIM no refill: the object comes from the slabs
  for (let i = 0; i < CAP - 1; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  objs.push(k.kmem_cache_alloc(s, k.GFP_NOWAIT));
  assert.deepEqual(state(), { main: 0, spare: null, full: 0, empty: 1 });
  assert.equal(new Set(objs).size, objs.length);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
});

test('free: a full main becomes the spare, then goes to the barn for an empty sheaf; the spare serves allocations', () => {
  const { k, s, state } = setup();
  const objs: number[] = [];
  for (let i = 0; i < 3 * CAP; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.deepEqual(state(), { main: 0, spare: null, full: 0, empty: 1 });
  for (let i = 0; i < CAP; i++) k.kmem_cache_free(s, objs.pop()!);
  assert.deepEqual(state(), { main: CAP, spare: null, full: 0, empty: 1 });
  k.kmem_cache_free(s, objs.pop()!);
  assert.deepEqual(state(), { main: 1, spare: CAP, full: 0, empty: 0 }, 'the barn\'s empty sheaf is the new main');
  for (let i = 1; i < CAP; i++) k.kmem_cache_free(s, objs.pop()!);
  k.kmem_cache_free(s, objs.pop()!);
  assert.deepEqual(state(), { main: 1, spare: CAP, full: 1, empty: 0 }, 'a new empty sheaf; the full main to the barn');
  // allocating: main, then the spare (swap), then the barn's full sheaf
  for (let i = 0; i < 1 + CAP; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.deepEqual(state(), { main: 0, spare: 0, full: 1, empty: 0 });
  objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.deepEqual(state(), { main: CAP - 1, spare: 0, full: 0, empty: 1 });
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
});

test(`the barn keeps at most MAX_FULL_SHEAVES (${MAX_FULL_SHEAVES}) full sheaves; then the full spare is flushed to the slabs`, () => {
  const { k, s, state, active } = setup();
  const n = (MAX_FULL_SHEAVES + 4) * CAP;
  const objs: number[] = [];
  for (let i = 0; i < n; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const o of objs) k.kmem_cache_free(s, o);
  const st = state();
  assert.equal(st.full, MAX_FULL_SHEAVES);
  assert.equal(st.spare, CAP);
  // the rest went back to the slabs (all active while on the CPU slab: SLUB counts only node partial slabs' free objects)
  assert.ok(active() >= st.main + st.spare! + st.full * CAP);
  assert.ok(st.main + st.spare! + st.full * CAP < n);
  k.kmem_cache_shrink(s);
  assert.deepEqual(state(), { main: 0, spare: null, full: 0, empty: 0 }, 'shrink flushes the CPU\'s sheaves and empties the barn');
  assert.equal(active(), 0);
  assert.equal(slabinfo(k).get('sheaf_test')!.num, 0, 'no slab left');
});

test('other CPUs\' sheaves are flushed too, and destroying a cache whose objects sit in sheaves reports nothing', () => {
  const { k, s, active } = setup();
  const sh = slub(k).sheaves!;
  for (const cpu of [0, 1]) {
    k.set_cpu(cpu);
    const objs = Array.from({ length: 3 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
    for (const o of objs) k.kmem_cache_free(s, o);
  }
  k.set_cpu(0);
  assert.ok(sh.has_pcs_used(0, s) && sh.has_pcs_used(1, s));
  assert.ok(active() > 0);
  k.kmem_cache_destroy(s);
  assert.ok(!k.slab.caches().includes(s));
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
});

test('kmem_cache_alloc_bulk / kmem_cache_free_bulk go through the sheaves', () => {
  const { k, s, state } = setup();
  const p = k.kmalloc(64 * k.layout.ptrSize, k.GFP_KERNEL);
  assert.equal(k.kmem_cache_alloc_bulk(s, k.GFP_KERNEL, 10, p), 10);
  const objs = Array.from({ length: 10 }, (_, i) => k.kaddr.readPtr(p + i * k.layout.ptrSize));
  assert.equal(new Set(objs).size, 10);
  k.kmem_cache_free_bulk(s, 10, p);
  const st = state();
  assert.ok(st.main > 0, 'freed into the main sheaf');
  // the bulk allocation takes from the sheaves first
  assert.equal(k.kmem_cache_alloc_bulk(s, k.GFP_KERNEL, 2, p), 2);
  assert.equal(state().main, st.main - 2);
  k.kmem_cache_free_bulk(s, 2, p);
  k.kfree(p);
  k.kmem_cache_destroy(s);
});

test('a bulk allocation that runs out of memory gives what it took back to the slabs, not to the sheaves', () => {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'throw' });
  const s = k.kmem_cache_create('big_sheaf', 256 * 1024, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const sh = slub(k).sheaves!;
  const n = 1024; // 256 MiB of objects on a 128 MiB machine
  const p = k.kmalloc(n * k.layout.ptrSize, k.GFP_KERNEL);
  assert.equal(k.kmem_cache_alloc_bulk(s, k.GFP_KERNEL | k.__GFP_NOWARN, n, p), 0);
  const st = sh.pcsState(s, k.smp_processor_id());
  assert.deepEqual([st.mainSize, st.spare], [0, 0], 'nothing on this CPU\'s sheaves');
  assert.deepEqual(sh.barnCounts(sh.barnOf(s, 0)), { full: 0, empty: 0 });
  k.kfree(p);
  k.kmem_cache_destroy(s);
  assert.ok(!k.slab.caches().includes(s));
});

test('kmem_cache_free_bulk on two nodes: this node\'s objects onto the sheaves in batches, the other node\'s (more than a batch of them) to their slabs', () => {
  const k = boot({ mem: '256M', cpus: 2, nodes: 2, sheaves: 'opt-in' }, { errors: 'log' });
  const s = k.kmem_cache_create('bulk_numa', 64, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const sh = slub(k).sheaves!;
  const ptr = k.layout.ptrSize;
  const nid = (o: number) => k.page_to_nid(k.virt_to_page(o));
  k.set_cpu(1);
  const remote = Array.from({ length: 40 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  k.set_cpu(0);
  const local = Array.from({ length: 2 * CAP + 3 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.ok(remote.every((o) => nid(o) === 1) && local.every((o) => nid(o) === 0));
  const stranger = k.kmalloc(64, k.GFP_KERNEL);
  // interleaved, with an object of another cache in the middle
  const all = [...local.flatMap((o, i) => [o, ...remote.slice(i * 4, i * 4 + 4)]), ...remote.slice(local.length * 4)];
  all.splice(7, 0, stranger);
  const p = k.kmalloc(all.length * ptr, k.GFP_KERNEL);
  all.forEach((o, i) => k.kaddr.writePtr(p + i * ptr, o));
  const sheavesBefore = sh.usage(s, [0, 1]).sheaves;
  const cpuBefore = sh.usage(s, [0, 1]).cpuObjects[0];
  k.kmem_cache_free_bulk(s, all.length, p);
  assert.match(k.log.dmesg(), /cache_from_obj: Wrong slab cache\. bulk_numa but object is from kmalloc-64/);
  const st = sh.pcsState(s, 0);
  const onSheaf = (sheaf: number, n: number) => Array.from({ length: n }, (_, i) => k.kaddr.readPtr(sheaf + sh.SH.objects + i * ptr));
  const held = [...onSheaf(st.main, st.mainSize), ...(st.spare === 0 ? [] : onSheaf(st.spare, st.spareSize))];
  assert.ok(held.every((o) => nid(o) === 0), 'no remote object on this CPU\'s sheaves');
  assert.ok(held.length > cpuBefore, 'local objects went onto the sheaves');
  assert.equal(sh.usage(s, [0, 1]).sheaves, sheavesBefore, 'the bulk free allocates no sheaf');
  assert.equal(sh.pcsState(s, 1).mainSize + sh.pcsState(s, 1).spareSize, sh.usage(s, [0, 1]).cpuObjects[1], 'CPU 1 untouched');
  k.kfree(p);
  k.kmem_cache_shrink(s);
  assert.equal(slabinfo(k).get('bulk_numa')!.active, 0, 'nothing lost');
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'));
});

test('kmem_cache_free_bulk with more objects than the sheaves and the barn\'s empty sheaves take: the rest to the slabs, no sheaf allocated', () => {
  const { k, s, state, active } = setup();
  const sh = slub(k).sheaves!;
  const n = 6 * CAP;
  const objs = Array.from({ length: n }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const p = k.kmalloc(n * k.layout.ptrSize, k.GFP_KERNEL);
  objs.forEach((o, i) => k.kaddr.writePtr(p + i * k.layout.ptrSize, o));
  const before = state();
  const sheaves = sh.usage(s, [0]).sheaves;
  k.kmem_cache_free_bulk(s, n, p);
  const after = state();
  assert.equal(sh.usage(s, [0]).sheaves, sheaves);
  const held = after.main + (after.spare ?? 0) + after.full * CAP;
  assert.ok(held > before.main && held < n, `${JSON.stringify(after)}`);
  assert.equal(after.main, CAP, 'main filled in one batch');
  k.kfree(p);
  k.kmem_cache_shrink(s);
  assert.equal(active(), 0);
  k.kmem_cache_destroy(s);
});
