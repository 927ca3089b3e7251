/*
 * CPU hotplug's teardown (src/kernel/cpuhp.ts): a worker that detaches
 * takes its CPU offline, and what the CPU kept for itself comes back to the
 * shared lists: SLUB's CPU slab, CPU partial slabs and percpu sheaves
 * (slub_cpu_dead()), the pages on its pcp lists and its vmstat diffs
 * (page_alloc_cpu_dead()). And the heap's detach does the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start_kernel } from '../../src/init/main.ts';
import { attach, shareMachine } from '../../src/init/attach.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Slub } from '../../src/mm/slub.ts';
import { Heap } from '../../src/heap/index.ts';

/** What CPU `cpu` holds: slabs of s on it, objects in its sheaves of s, pages on its pcp lists. */
function heldBy(k: Kernel, s: number, cpu: number): { slabs: number; sheafObjects: number; pcpPages: number } {
  const slub = k.slab.impl as Slub;
  const slabs = slub.slabsOf(s).filter((x) => x.where === `cpu${cpu}` || x.where === `cpu${cpu}-partial`).length;
  const st = slub.sheaves?.has_sheaves(s) ? slub.sheaves.pcsState(s, cpu) : { mainSize: 0, spareSize: 0 };
  let pcpPages = 0;
  for (const z of k.buddy.zones) if (k.buddy.populated(z)) pcpPages += k.buddy.pcpCounts(z, cpu).count;
  return { slabs, sheafObjects: st.mainSize + st.spareSize, pcpPages };
}

for (const sheaves of [undefined, 'all'] as const) {
  test(`a worker's detach gives its CPU's ${sheaves ? 'sheaves, ' : ''}slabs and pcp pages back (${sheaves ? '7.0' : '6.12'})`, () => {
    const k = start_kernel(resolveConfig({ mem: '256M', cpus: 2, ...(sheaves === undefined ? {} : { sheaves }) }), { errors: 'throw' });
    const s = k.kmem_cache_create('hotplug_test', 64, 0, k.SLAB_NO_MERGE, null);
    const free0 = k.buddy.zones.reduce((n, z) => n + (k.buddy.populated(z) ? k.buddy.pcpCounts(z, 1).count : 0), 0);
    const k1 = attach(shareMachine(k), { errors: 'throw' });
    assert.equal(k1.smp_processor_id(), 1);
    const objs = Array.from({ length: 300 }, () => k1.kmem_cache_alloc(s, k1.GFP_KERNEL));
    for (const o of objs.slice(100)) k1.kmem_cache_free(s, o);
    const pages = Array.from({ length: 20 }, () => k1.alloc_pages(k1.GFP_KERNEL, 0));
    for (const p of pages) k1.__free_pages(p, 0);
    const before = heldBy(k, s, 1);
    assert.ok(before.slabs + before.sheafObjects > 0 && before.pcpPages > free0, JSON.stringify(before));
    // kmalloc-96 too: with sheaves, its spare's struct slab_sheaf is a kmalloc-512 object, freed by the teardown
    const small = Array.from({ length: 200 }, () => k1.kmalloc(96, k1.GFP_KERNEL));
    for (const o of small) k1.kfree(o);
    k1.detach();
    assert.deepEqual(heldBy(k, s, 1), { slabs: 0, sheafObjects: 0, pcpPages: 0 });
    // every cache, the kmalloc ones whose sheaves' own structs the teardown frees included
    for (const c of k.slab.caches()) assert.deepEqual(heldBy(k, c, 1), { slabs: 0, sheafObjects: 0, pcpPages: 0 }, k.slab.cacheName(c));
    assert.equal(k.smp.threads(), 1);
    // the 100 objects still live are where any CPU finds their slabs; freeing them empties the cache
    for (const o of objs.slice(0, 100)) k.kmem_cache_free(s, o);
    k.kmem_cache_shrink(s);
    assert.equal((k.slab.impl as Slub).slabsOf(s).length, 0);
    k.kmem_cache_destroy(s);
    assert.equal(k.log.dmesg().includes('Objects remaining'), false);
  });
}

test('the booting thread\'s detach takes no CPU down', () => {
  const k = start_kernel(resolveConfig({ mem: '256M', cpus: 2 }), { errors: 'throw' });
  const p = k.alloc_pages(k.GFP_KERNEL, 0);
  k.__free_pages(p, 0);
  const before = heldBy(k, k.slab.kmalloc_slab(64, k.GFP_KERNEL), 0);
  k.detach();
  assert.deepEqual(heldBy(k, k.slab.kmalloc_slab(64, k.GFP_KERNEL), 0), before);
  assert.equal(k.smp.threads(), 1);
});

test('a heap worker\'s detach leaves nothing cached on its CPU (stats: cachedObjects and cachedPages 0)', () => {
  const heap = Heap.create({ size: 8 << 20, workers: 2 });
  const w = Heap.attach(heap.share());
  assert.equal(w.cpu, 1);
  const blocks = Array.from({ length: 500 }, (_, i) => w.alloc(8 << (i % 10)));
  for (const p of blocks.slice(50)) w.free(p);
  const before = heap.stats().workers[1];
  assert.ok(before.attached && before.cachedObjects > 0, JSON.stringify(before));
  w.detach();
  const after = heap.stats();
  assert.deepEqual([after.workers[1].attached, after.workers[1].cachedObjects, after.workers[1].cpuSlabs, after.workers[1].cachedPages],
    [false, 0, 0, 0]);
  assert.equal(after.liveBlocks, 50);
  // the detached Heap object is refused: its CPU may be another worker's now
  assert.throws(() => w.alloc(64), /this Heap was detached/);
  assert.throws(() => w.free(blocks[0]), /this Heap was detached/);
  assert.throws(() => w.pool(16), /this Heap was detached/);
  assert.equal(heap.stats().liveBlocks, 50, 'nothing changed');
  for (const p of blocks.slice(0, 50)) heap.free(p); // blocks of a departed worker are anyone's to free
  assert.equal(heap.stats().liveBlocks, 0);
});
