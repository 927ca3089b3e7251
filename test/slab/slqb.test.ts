/*
 * SLQB's own behaviour (src/mm/slqb.ts): per-CPU LIFO queues, frees of
 * another CPU's objects queued and flushed back to the owner in batches,
 * node lists for remote-node allocations, and its /proc/slabinfo line.
 * What every implementation shares is in conformance.test.ts and
 * model.property.test.ts, which run on SLQB too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { readProc, writeProc } from '../../src/fs/proc/procfs.ts';
import type { Slqb } from '../../src/mm/slqb.ts';
import { boot, buddyFreePages, shrinkAll, slabCensus } from './helpers.ts';

function slqb(k: Kernel): Slqb {
  return k.slab.impl as Slqb;
}

function slabinfoLine(k: Kernel, name: string): string {
  const line = readProc(k, 'slabinfo').split('\n').find((l) => l.startsWith(name + ' '));
  assert.ok(line, name);
  return line;
}

test('SLQB: same-CPU frees stay on the CPU\'s LIFO queue', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'throw' });
  assert.equal(k.slab.impl.name, 'SLQB');
  const s = k.kmem_cache_create('slqb_local', 256, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  k.set_cpu(0);
  const objs = Array.from({ length: 10 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const queued0 = q.stats(s).remote_queued;
  for (const o of objs) k.kmem_cache_free(s, o);
  assert.equal(q.listState(s, { cpu: 0 }).freelist, 10);
  assert.equal(q.chain(s, { cpu: 0 }), 10);
  assert.equal(q.stats(s).remote_queued, queued0);
  // LIFO: the last freed comes back first
  assert.equal(k.kmem_cache_alloc(s, k.GFP_KERNEL), objs[9]);
  assert.equal(k.kmem_cache_alloc(s, k.GFP_KERNEL), objs[8]);
});

test('SLQB: cross-CPU frees go through the remote queue and come back to the owning CPU in batches', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'throw' });
  shrinkAll(k);
  const free0 = buddyFreePages(k);
  const s = k.kmem_cache_create('slqb_remote', 256, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  const { hiwater, freebatch } = q.tunables(s);
  assert.ok(freebatch > 0 && hiwater >= freebatch);

  k.set_cpu(0);
  const objs = Array.from({ length: hiwater + freebatch }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const [pfn] of slabCensus(k, s)) assert.deepEqual(q.slabOwner(pfn), { cpu: 0 }, 'CPU 0\'s slabs');

  // CPU 1 frees them: onto its own queue first (local node), ...
  k.set_cpu(1);
  for (const o of objs.slice(0, hiwater)) k.kmem_cache_free(s, o);
  assert.equal(q.listState(s, { cpu: 1 }).freelist, hiwater);
  assert.equal(q.rlist(s, 1).nr, 0);
  assert.equal(q.listState(s, { cpu: 0 }).remote_free, 0);
  // ... past hiwater, flush_free_list() sends a batch of CPU 0's objects to CPU 1's rlist, which at freebatch flushes to CPU 0
  const queued0 = q.stats(s).remote_queued;
  k.kmem_cache_free(s, objs[hiwater]);
  assert.equal(q.stats(s).remote_queued - queued0, freebatch);
  assert.equal(q.listState(s, { cpu: 1 }).freelist, hiwater + 1 - freebatch);
  const owner = q.listState(s, { cpu: 0 });
  assert.equal(owner.remote_free, freebatch);
  assert.ok(owner.remote_free_check, 'remote_free_check set at freebatch');
  assert.equal(owner.freelist, 0);
  // the objects are free, but still counted to their slabs until CPU 0 takes them back
  for (const [, e] of slabCensus(k, s)) assert.ok(e.inuse > 0);

  // CPU 0's next allocation finds its queue empty and claims the remote queue: the first object flushed
  k.set_cpu(0);
  const again = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.equal(again, objs[hiwater], 'the head of the flushed batch (CPU 1\'s last free)');
  const after = q.listState(s, { cpu: 0 });
  assert.equal(after.remote_free, 0);
  assert.ok(!after.remote_free_check);
  assert.equal(after.freelist, freebatch - 1);
  assert.equal(q.stats(s).remote_claimed >= freebatch, true);

  // the rest, and a shrink: everything back in its slab, every page back
  k.kmem_cache_free(s, again);
  k.set_cpu(1);
  for (const o of objs.slice(hiwater + 1)) k.kmem_cache_free(s, o);
  k.set_cpu(0);
  assert.equal(k.kmem_cache_shrink(s), 0);
  assert.equal(slabCensus(k, s).size, 0);
  k.kmem_cache_destroy(s);
  shrinkAll(k);
  assert.equal(buddyFreePages(k), free0);
  assert.equal(k.bug.tainted, 0);
});

test('SLQB: a CPU allocates the objects another CPU of its node freed (they move without the owner)', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'throw' });
  const s = k.kmem_cache_create('slqb_move', 512, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  k.set_cpu(0);
  const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.set_cpu(1);
  k.kmem_cache_free(s, a);
  assert.equal(k.kmem_cache_alloc(s, k.GFP_KERNEL), a);
  assert.deepEqual(q.slabOwner(k.slab.impl.folioPfn(a)), { cpu: 0 });
});

test('SLQB NUMA: another node\'s object goes straight to the rlist; node allocations use the node list', () => {
  const k = boot({ mem: '512M', cpus: 4, nodes: 2, slab: 'slqb' }, { errors: 'throw' });
  shrinkAll(k);
  const free0 = buddyFreePages(k);
  const s = k.kmem_cache_create('slqb_numa', 256, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  const cpuOn = (nid: number) => k.config.nodes[nid].cpus[0];
  k.set_cpu(cpuOn(0));
  const far = k.kmem_cache_alloc_node(s, k.GFP_KERNEL, 1);
  const pfn = k.slab.impl.folioPfn(far);
  assert.equal(k.pages.page_to_nid(pfn), 1);
  assert.deepEqual(q.slabOwner(pfn), { node: 1 });
  assert.equal(q.listState(s, { node: 1 }).nr_slabs, 1);
  const near = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  assert.deepEqual(q.slabOwner(k.slab.impl.folioPfn(near)), { cpu: cpuOn(0) });
  // CPU on node 1 frees CPU 0's object: another node's slab, so the rlist at once
  k.set_cpu(cpuOn(1));
  k.kmem_cache_free(s, near);
  assert.deepEqual(q.rlist(s, cpuOn(1)), { nr: 1, owner_cpu: cpuOn(0) });
  assert.equal(q.listState(s, { cpu: cpuOn(1) }).freelist, 0);
  k.set_cpu(cpuOn(0));
  k.kmem_cache_free(s, far);
  assert.equal(k.kmem_cache_shrink(s), 0);
  k.kmem_cache_destroy(s);
  shrinkAll(k);
  assert.equal(buddyFreePages(k), free0);
});

test('SLQB /proc/slabinfo: the SLUB-like line with hiwater and freebatch as the tunables', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'throw' });
  const s = k.kmem_cache_create('slqb_info', 256, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  const t = q.tunables(s);
  const objs = Array.from({ length: 20 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const o of objs.slice(0, 5)) k.kmem_cache_free(s, o);
  const m = /^slqb_info\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) : tunables\s+(\d+)\s+(\d+)\s+(\d+) : slabdata\s+(\d+)\s+(\d+)\s+(\d+)$/
    .exec(slabinfoLine(k, 'slqb_info'));
  assert.ok(m);
  const [active, num, objsize, perSlab, pages, hiwater, freebatch, shared, activeSlabs, numSlabs, sharedAvail] = m.slice(1).map(Number);
  assert.equal(active, 15, 'objects on the per-CPU queue are not active');
  assert.equal(objsize, 256);
  assert.equal(perSlab, t.objects);
  assert.equal(pages, 1 << t.order);
  assert.equal(num, numSlabs * perSlab);
  assert.deepEqual([hiwater, freebatch, shared], [t.hiwater, t.freebatch, 0]);
  assert.equal(activeSlabs, numSlabs);
  assert.equal(sharedAvail, 0);
  assert.equal(readProc(k, 'slabinfo').split('\n')[0], 'slabinfo - version: 2.1');
  // read-only: SLQB's tunables were sysfs attributes (hiwater, freebatch), not slabinfo writes
  assert.equal(writeProc(k, 'slabinfo', 'slqb_info 64 16 0'), -5);
  assert.deepEqual([q.tunables(s).hiwater, q.tunables(s).freebatch], [t.hiwater, t.freebatch]);
});

test('SLQB cache_trim_worker on the timer: queued objects go home a freebatch per trim, then their empty slabs', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'throw' });
  shrinkAll(k);
  const free0 = buddyFreePages(k);
  const s = k.kmem_cache_create('slqb_trim', 256, 0, k.SLAB_NO_MERGE, null);
  const q = slqb(k);
  const { hiwater, freebatch } = q.tunables(s);
  k.set_cpu(0);
  const objs = Array.from({ length: hiwater }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  k.set_cpu(1);
  for (const o of objs) k.kmem_cache_free(s, o);
  assert.equal(q.listState(s, { cpu: 1 }).freelist, hiwater, 'below hiwater: nothing flushed on free');
  q.reap_tick(2999);
  assert.equal(q.listState(s, { cpu: 1 }).freelist, hiwater, 'not due yet');
  q.reap_tick(1);
  assert.equal(q.listState(s, { cpu: 1 }).freelist, hiwater - freebatch, 'one batch per trim');
  assert.equal(k.sched.cpu, 1, 'the timer ran each CPU\'s work as that CPU and came back');
  for (let i = 0; i < 2 * (hiwater / freebatch) + 2; i++) q.reap_tick(3000);
  for (const cpu of [0, 1]) {
    const st = q.listState(s, { cpu });
    assert.deepEqual([st.freelist, st.remote_free, st.nr_slabs], [0, 0, 0], `CPU ${cpu}: everything home, the slabs freed`);
  }
  k.set_cpu(0);
  k.kmem_cache_destroy(s);
  shrinkAll(k);
  assert.equal(buddyFreePages(k), free0);
});
