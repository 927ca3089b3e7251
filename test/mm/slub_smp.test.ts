/*
 * SLUB on several CPUs, in the deterministic mode (one host thread, CPUs
 * switched with k.set_cpu()): objects allocated on CPU 0 and freed on
 * CPU 1 go back to their slab whatever state it is in (CPU 0's CPU slab,
 * a slab on CPU 0's partial list, a full slab on no list), the counts of
 * /proc/slabinfo agree with a census of the memmap afterwards, and
 * validate finds nothing; a node's list_lock held by CPU 1 makes CPU 0's
 * slow paths that need it report the soft lockup and back out, leaving
 * the cache as it was (for a debug cache too, whose allocations and frees
 * always go through the node's lists).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import { boot, logged, slabCensus, slabinfo, slub } from '../slab/helpers.ts';

const OBJ = 256;
/** 4096 / 256: objects in one order-0 slab of the test cache. */
const PER_SLAB = 16;

function machine(): { k: Kernel; s: number } {
  const k = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  const s = k.kmem_cache_create('smp_test', OBJ, 0, k.SLAB_NO_MERGE, null);
  assert.notEqual(s, 0);
  return { k, s };
}

function allocOn(k: Kernel, s: number, cpu: number, n: number): number[] {
  k.set_cpu(cpu);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    assert.notEqual(p, 0);
    out.push(p);
  }
  return out;
}

function freeOn(k: Kernel, s: number, cpu: number, objs: readonly number[]): void {
  k.set_cpu(cpu);
  for (const p of objs) k.kmem_cache_free(s, p);
}

/** Where SLUB's lists have the slab holding obj ("cpu0", "cpu1-partial", "node0-partial", ...), or "none" (a full slab). */
function where(k: Kernel, s: number, obj: number): string {
  const pfn = slub(k).folioPfn(obj);
  return slub(k).slabsOf(s).find((e) => e.pfn === pfn)?.where ?? 'none';
}

/** /proc/slabinfo's figures for the cache agree with the memmap; after a shrink, active_objs is exactly `live`. */
function checkCounts(k: Kernel, s: number, live: number): void {
  const census = [...slabCensus(k, s).values()];
  let row = slabinfo(k).get('smp_test')!;
  assert.equal(row.numSlabs, census.length);
  assert.equal(row.num, census.reduce((n, e) => n + e.objects, 0));
  assert.ok(row.active >= live);
  k.set_cpu(0);
  k.kmem_cache_shrink(s);
  row = slabinfo(k).get('smp_test')!;
  assert.equal(row.active, live);
  const after = [...slabCensus(k, s).values()];
  assert.equal(row.numSlabs, after.length);
  assert.equal(after.reduce((n, e) => n + e.inuse, 0), live);
  assert.ok(after.every((e) => !e.frozen && e.inuse > 0), 'no CPU slab and no empty slab after a shrink');
  const lines = logged(k, () => k.validate_slab_cache(s));
  assert.deepEqual(lines.filter((l) => /BUG|FIX|counted but/.test(l)), []);
}

test('a remote free into another CPU\'s CPU slab lands on the slab\'s freelist; that CPU takes it back when its own list runs dry', () => {
  const { k, s } = machine();
  const a = allocOn(k, s, 0, 3);
  assert.equal(where(k, s, a[0]), 'cpu0');
  const pfn = slub(k).folioPfn(a[0]);
  freeOn(k, s, 1, [a[1]]);
  assert.deepEqual(slub(k).slabState(pfn), { inuse: PER_SLAB - 1, objects: PER_SLAB, frozen: true });
  assert.equal(where(k, s, a[1]), 'cpu0', 'a frozen slab stays where it is');
  // CPU 0 uses up its lockless freelist (13 objects), then gets a[1] back from the slab's freelist
  const rest = allocOn(k, s, 0, PER_SLAB - 3);
  const again = allocOn(k, s, 0, 1)[0];
  assert.equal(again, a[1]);
  assert.deepEqual(slub(k).slabState(pfn), { inuse: PER_SLAB, objects: PER_SLAB, frozen: true });
  checkCounts(k, s, 2 + rest.length + 1);
});

test('remote frees into a slab on another CPU\'s partial list: the slab stays there, even once empty', () => {
  const { k, s } = machine();
  const first = allocOn(k, s, 0, PER_SLAB);
  const next = allocOn(k, s, 0, 1); // the first slab is full: CPU 0 moves to a new one
  assert.equal(where(k, s, first[0]), 'none');
  freeOn(k, s, 0, [first[0]]); // a full slab freed into by its CPU: onto CPU 0's partial list
  assert.equal(where(k, s, first[0]), 'cpu0-partial');
  const pfn = slub(k).folioPfn(first[0]);
  freeOn(k, s, 1, first.slice(1, 5));
  assert.equal(where(k, s, first[1]), 'cpu0-partial');
  assert.deepEqual(slub(k).slabState(pfn), { inuse: PER_SLAB - 5, objects: PER_SLAB, frozen: false });
  freeOn(k, s, 1, first.slice(5));
  assert.equal(where(k, s, first[1]), 'cpu0-partial', 'not on the node list, so the emptying free leaves it');
  assert.equal(slub(k).slabState(pfn).inuse, 0);
  checkCounts(k, s, next.length);
});

test('a remote free into a full slab makes it the freeing CPU\'s partial slab; CPU 0 then allocates from it again', () => {
  const { k, s } = machine();
  const full = allocOn(k, s, 0, PER_SLAB);
  const live = allocOn(k, s, 0, 3);
  freeOn(k, s, 1, [full[7]]);
  assert.equal(where(k, s, full[7]), 'cpu1-partial');
  assert.deepEqual(slub(k).slabState(slub(k).folioPfn(full[7])), { inuse: PER_SLAB - 1, objects: PER_SLAB, frozen: false });
  // CPU 1 allocates: its partial slab becomes its CPU slab and hands out the object freed into it
  const back = allocOn(k, s, 1, 1)[0];
  assert.equal(back, full[7]);
  assert.equal(where(k, s, back), 'cpu1');
  checkCounts(k, s, PER_SLAB + live.length);
});

test('many objects allocated on CPU 0 and freed on CPU 1 in a shuffled order all come back; every slab returns', () => {
  const { k, s } = machine();
  const before = slabinfo(k).get('smp_test')!;
  const objs = allocOn(k, s, 0, 10 * PER_SLAB + 3);
  // a fixed shuffle: stride 7 through the list
  const order = objs.map((_, i) => objs[(i * 7) % objs.length]);
  freeOn(k, s, 1, order.slice(0, 100));
  checkCounts(k, s, objs.length - 100);
  freeOn(k, s, 1, order.slice(100));
  checkCounts(k, s, 0);
  assert.equal(slabinfo(k).get('smp_test')!.numSlabs, before.numSlabs);
  assert.equal(slabCensus(k, s).size, 0);
  k.kmem_cache_destroy(s);
});

/** kmem_cache_node->list_lock of node 0 of s (the first field of struct kmem_cache_node). */
function listLock(k: Kernel, s: number): number {
  return k.kaddr.readPtr(s + slub(k).cache.node);
}

/** A soft lockup on CPU 0, and the slab state is what it was before the call. */
function backsOut(k: Kernel, s: number, call: () => void): void {
  const slabs = JSON.stringify(slub(k).slabsOf(s));
  const census = JSON.stringify([...slabCensus(k, s)]);
  k.set_cpu(0);
  const seq = k.log.nextSeq;
  assert.throws(call, (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock');
  assert.match(k.log.dmesg(seq), /watchdog: BUG: soft lockup - CPU#0 stuck for \d+s!/);
  assert.equal(JSON.stringify(slub(k).slabsOf(s)), slabs);
  assert.equal(JSON.stringify([...slabCensus(k, s)]), census);
  assert.equal(k.sched.preempt_count(), 0);
  assert.equal(k.sched.irqs_disabled(), false);
}

test('n->list_lock held by CPU 1: CPU 0\'s slow paths that need it report a soft lockup and back out; all works once it is released', () => {
  const { k, s } = machine();
  // Three full slabs and a fourth partly used; CPU 1 frees into the first three (they go to its partial list);
  // a shrink puts every slab on the node's partial list.
  const objs = allocOn(k, s, 0, 3 * PER_SLAB + 4);
  const freed = [objs[0], objs[PER_SLAB], objs[2 * PER_SLAB]];
  freeOn(k, s, 1, freed);
  k.set_cpu(0);
  k.kmem_cache_shrink(s);
  assert.ok(slub(k).slabsOf(s).every((e) => e.where === 'node0-partial'));
  // three of the fourth slab's four objects: a free that leaves objects in a node partial slab needs no lock
  const fourth = objs.slice(3 * PER_SLAB);
  freeOn(k, s, 0, fourth.slice(0, 3));
  const live = objs.filter((p) => !freed.includes(p) && !fourth.slice(0, 3).includes(p));
  const lock = listLock(k, s);
  k.set_cpu(1);
  k.spin_lock(lock);

  // allocation: no CPU slab, no CPU partial slab: get_partial_node() needs the lock
  backsOut(k, s, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  // free: the last object of a slab on the node list; __slab_free() takes the lock before it changes the slab
  backsOut(k, s, () => k.kmem_cache_free(s, fourth[3]));
  assert.equal(slub(k).slabState(slub(k).folioPfn(fourth[3])).inuse, 1, 'the object is still allocated');
  // shrink: the node list is walked under the lock
  backsOut(k, s, () => k.kmem_cache_shrink(s));
  // /proc/slabinfo counts the node's partial slabs under the lock too
  backsOut(k, s, () => slabinfo(k));

  // CPU 0 gets a CPU slab while the lock is free, then CPU 1 takes the lock again:
  // deactivating that CPU slab (kmem_cache_shrink's flush) backs out with the CPU slab kept
  k.set_cpu(1);
  k.spin_unlock(lock);
  const more = allocOn(k, s, 0, 2);
  assert.equal(where(k, s, more[1]), 'cpu0');
  k.set_cpu(1);
  k.spin_lock(lock);
  backsOut(k, s, () => k.kmem_cache_shrink(s));
  assert.equal(where(k, s, more[1]), 'cpu0');

  k.set_cpu(1);
  k.spin_unlock(lock);
  const after = allocOn(k, s, 0, 3);
  checkCounts(k, s, live.length + more.length + after.length);
  freeOn(k, s, 0, [...live, ...more, ...after]);
  checkCounts(k, s, 0);
});

test('a debug cache backs out too: its free and both allocation paths take n->list_lock before changing anything', () => {
  const k = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  const s = k.kmem_cache_create('smp_debug', OBJ, 0, k.SLAB_NO_MERGE | k.SLAB_CONSISTENCY_CHECKS | k.SLAB_RED_ZONE | k.SLAB_POISON, null);
  assert.notEqual(s, 0);
  const objs = allocOn(k, s, 0, 3);
  const slabsBefore = slabCensus(k, s).size;
  const lock = listLock(k, s);
  k.set_cpu(1);
  k.spin_lock(lock);
  // free_to_partial_list(); alloc_single_from_partial() under get_partial_node()
  backsOut(k, s, () => k.kmem_cache_free(s, objs[0]));
  backsOut(k, s, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  k.set_cpu(1);
  k.spin_unlock(lock);
  // fill the slab, so that the next allocation makes a new one: alloc_single_from_new_slab() locks after making it
  const fill = allocOn(k, s, 0, slabCensus(k, s).values().next().value!.objects - 3);
  const full = slabCensus(k, s).size;
  k.set_cpu(1);
  k.spin_lock(lock);
  backsOut(k, s, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.equal(slabCensus(k, s).size, full, 'the new slab went back to the page allocator');
  k.set_cpu(1);
  k.spin_unlock(lock);
  freeOn(k, s, 1, [...objs, ...fill]);
  k.set_cpu(0);
  const lines = logged(k, () => k.validate_slab_cache(s));
  assert.deepEqual(lines.filter((l) => /BUG|FIX|counted but/.test(l)), []);
  k.kmem_cache_shrink(s);
  assert.ok(slabCensus(k, s).size <= slabsBefore);
  assert.equal(slabinfo(k).get('smp_debug')!.active, 0);
});
