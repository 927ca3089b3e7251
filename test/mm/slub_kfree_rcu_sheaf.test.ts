/*
 * 6.18's kfree_rcu() batching through sheaves (slub_sheaves.ts
 * kfree_rcu_sheaf(), rcu_free_sheaf()): kfree_rcu() of an object of a cache
 * with sheaves puts it in this CPU's rcu_free sheaf; a full one goes to
 * call_rcu() and, after the grace period, to the barn as a full sheaf.
 * Objects waiting are not handed out again before a grace period and are
 * after it; destroy after kfree_rcu() finds the cache empty; a dead CPU's
 * sheaf is flushed through call_rcu(); a 6.12
 * machine takes the old path. Then a model test of random kmalloc / kfree
 * / kfree_rcu / synchronize_rcu sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { boot, logged, slabinfo, slub } from '../slab/helpers.ts';

const CAP = 4;

function setup(mode: 'opt-in' | 'all' = 'opt-in') {
  const k = boot({ mem: '128M', cpus: 2, sheaves: mode }, { errors: 'throw' });
  const s = k.kmem_cache_create('rcu_sheaf_test', 64, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const sh = slub(k).sheaves!;
  return { k, s, sh, active: () => slabinfo(k).get('rcu_sheaf_test')!.active, barn: () => sh.barnCounts(sh.barnOf(s, 0)) };
}

test('a kfree_rcu() object waits in the rcu_free sheaf, still allocated, and is reusable after a grace period', () => {
  const { k, s, sh, active } = setup();
  const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const before = active();
  k.kfree_rcu(a, 0);
  assert.equal(sh.rcuFreeSize(s, k.smp_processor_id()), 1);
  assert.equal(active(), before, 'allocated as far as the slabs know');
  const got: number[] = [];
  for (let i = 0; i < 3 * CAP; i++) got.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.ok(!got.includes(a), 'not handed out before a grace period');
  for (const x of got) k.kmem_cache_free(s, x);
  // a partly filled sheaf waits for more: kvfree_rcu_barrier's flush sends it
  k.kmem_cache_shrink(s);
  assert.equal(sh.rcuFreeSize(s, k.smp_processor_id()), 0, 'flushed to call_rcu()');
  k.synchronize_rcu();
  const again: number[] = [];
  for (let i = 0; i < 64 && !again.includes(a); i++) again.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.ok(again.includes(a), 'reusable after the grace period');
  for (const x of again) k.kmem_cache_free(s, x);
  k.kmem_cache_destroy(s);
});

test('a full rcu_free sheaf goes to call_rcu() and comes back to the barn as a full sheaf', () => {
  const { k, s, sh, barn } = setup();
  const objs = Array.from({ length: CAP }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  const pending = k.rcu.pending();
  for (const x of objs) k.kfree_rcu(x, 0);
  assert.equal(sh.rcuFreeSize(s, k.smp_processor_id()), 0, 'the full sheaf left the CPU');
  assert.equal(k.rcu.pending(), pending + 1, 'one call_rcu() for the whole sheaf');
  const full = barn().full;
  k.synchronize_rcu();
  assert.equal(barn().full, full + 1, 'rcu_free_sheaf() put it in the barn');
  k.kmem_cache_destroy(s);
});

test('destroy after kfree_rcu() does not report objects remaining', () => {
  const { k, s } = setup();
  const objs = Array.from({ length: CAP + 2 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const x of objs) k.kfree_rcu(x, 0);
  const log = logged(k, () => k.kmem_cache_destroy(s));
  assert.ok(!log.some((l) => l.includes('still has objects')), log.join('\n'));
  assert.equal(slabinfo(k).get('rcu_sheaf_test'), undefined);
});

test('a dead CPU\'s partly filled rcu_free sheaf goes to call_rcu() and its objects to the slabs', () => {
  const { k, s, sh, active } = setup();
  const base = active();
  k.set_cpu(1);
  const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.kfree_rcu(a, 0);
  const pending = k.rcu.pending();
  k.slab.cpu_dead(1);
  assert.equal(sh.rcuFreeSize(s, 1), 0);
  assert.equal(k.rcu.pending(), pending + 1, 'rcu_free_sheaf_nobarn queued');
  k.set_cpu(0);
  k.synchronize_rcu();
  k.kmem_cache_shrink(s);
  assert.equal(active(), base, 'the object is back in its slab');
  k.kmem_cache_destroy(s);
});

test('kfree_rcu() of a pointer outside the direct map takes the ordinary path, as on 6.12', () => {
  const { k, s, sh } = setup('all');
  const v = k.vmalloc(8192);
  assert.doesNotThrow(() => k.kfree_rcu(v, 0));
  assert.equal(sh.rcuFreeSize(s, k.smp_processor_id()), 0);
  // no address of RAM at all: call_rcu() writes its rcu_head there, the page fault the kernel would take
  assert.throws(() => k.kfree_rcu(0x1000, 0), /BUG: unable to handle page fault for address: 0000000000001000/);
});

test('a 6.12 machine queues kfree_rcu() objects on the RCU list as before', () => {
  const k = boot({ mem: '128M', cpus: 2 }, { errors: 'throw' });
  const s = k.kmem_cache_create('rcu_sheaf_test', 64, {}, k.SLAB_NO_MERGE);
  const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const pending = k.rcu.pending();
  k.kfree_rcu(a, 0);
  assert.equal(k.rcu.pending(), pending + 1);
  k.synchronize_rcu();
  assert.equal(k.rcu.pending(), pending);
  k.kmem_cache_destroy(s);
});

test('model: no object handed out again before a grace period after its kfree_rcu(); nothing lost', () => {
  const op = fc.oneof(
    fc.constant({ t: 'alloc' as const, i: 0 }),
    fc.record({ t: fc.constant('free' as const), i: fc.nat() }),
    fc.record({ t: fc.constant('rcu' as const), i: fc.nat() }),
    fc.constant({ t: 'sync' as const, i: 0 }),
    fc.constant({ t: 'shrink' as const, i: 0 }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
    const { k, s, sh, active } = setup();
    const cpu = k.smp_processor_id();
    const base = active();
    const live: number[] = [];
    let batch: number[] = []; // in this CPU's rcu_free sheaf
    let submitted: number[] = []; // handed to call_rcu(), grace period not over
    const waiting = new Set<number>(); // kfree_rcu()'d, grace period not over
    for (const o of ops) {
      if (o.t === 'alloc') {
        const x = k.kmem_cache_alloc(s, k.GFP_KERNEL);
        assert.notEqual(x, 0);
        assert.ok(!waiting.has(x), 'handed out before its grace period');
        assert.ok(!live.includes(x), 'handed out twice');
        live.push(x);
      } else if (o.t === 'free' && live.length > 0) {
        k.kmem_cache_free(s, live.splice(o.i % live.length, 1)[0]);
      } else if (o.t === 'rcu' && live.length > 0) {
        const x = live.splice(o.i % live.length, 1)[0];
        k.kfree_rcu(x, 0);
        waiting.add(x);
        batch.push(x);
        assert.equal(sh.rcuFreeSize(s, cpu), batch.length % CAP);
        if (batch.length === CAP) {
          submitted.push(...batch);
          batch = [];
        }
      } else if (o.t === 'sync') {
        k.synchronize_rcu();
        for (const x of submitted) waiting.delete(x);
        submitted = [];
      } else if (o.t === 'shrink') {
        k.kmem_cache_shrink(s); // pcs_flush_all: a partly filled rcu_free sheaf to call_rcu()
        submitted.push(...batch);
        batch = [];
      }
    }
    k.kmem_cache_shrink(s);
    k.rcu.rcu_barrier();
    k.kmem_cache_shrink(s);
    assert.equal(active() - base, live.length, 'slabinfo: exactly the live objects are active');
    for (const x of live) k.kmem_cache_free(s, x);
    const log = logged(k, () => k.kmem_cache_destroy(s));
    assert.ok(!log.some((l) => l.includes('still has objects')), log.join('\n'));
  }), { numRuns: 40 });
});
