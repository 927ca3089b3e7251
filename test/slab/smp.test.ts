/*
 * The slab implementations under SMP, in the deterministic mode (one host
 * thread switching CPUs with k.set_cpu): objects allocated on one CPU and
 * freed on another, across nodes on a two-node machine, on every
 * implementation; /proc/slabinfo's counts against a census of the memmap
 * afterwards; every lock word released, interrupts back on and preemption
 * count back to 0 on every CPU after each call. And that the locks are
 * really taken: a lock held by another CPU makes the call that needs it
 * spin, which in the deterministic mode is reported at once as the
 * watchdog's soft lockup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Slab } from '../../src/mm/slab.ts';
import type { Slqb } from '../../src/mm/slqb.ts';
import type { Slob } from '../../src/mm/slob.ts';
import { SLAB_IMPLS, boot, buddyFreePages, countsObjects, shrinkAll, slabCensus } from './helpers.ts';

interface Row { active: number; num: number; perSlab: number; pagesPerSlab: number; activeSlabs: number; numSlabs: number }

/** A cache's /proc/slabinfo line, whatever its tunables. */
function slabinfoRow(k: Kernel, name: string): Row {
  const line = readProc(k, 'slabinfo').split('\n').find((l) => l.startsWith(name + ' '));
  assert.ok(line, name);
  const m = /^\S+\s+(\d+)\s+(\d+)\s+\d+\s+(\d+)\s+(\d+) : tunables\s+\d+\s+\d+\s+\d+ : slabdata\s+(\d+)\s+(\d+)\s+\d+$/.exec(line);
  assert.ok(m, line);
  const v = m.slice(1).map(Number);
  return { active: v[0], num: v[1], perSlab: v[2], pagesPerSlab: v[3], activeSlabs: v[4], numSlabs: v[5] };
}

/** The lock words an implementation exposes for tests (SLUB's are its own engineer's). */
function lockWords(k: Kernel, s: number): number[] {
  const impl = k.slab.impl as { lockWords?(s: number): number[] };
  return impl.lockWords === undefined ? [] : impl.lockWords(s);
}

/** No lock held, interrupts on and preempt_count 0 on every CPU; back on CPU `cpu`. */
function quiescent(k: Kernel, s: number, cpu: number, what: string): void {
  for (const pa of lockWords(k, s)) assert.ok(!k.locks.spin_is_locked(pa), `${what}: lock word at ${pa.toString(16)} left held`);
  for (let c = 0; c < k.config.cpus; c++) {
    k.set_cpu(c);
    assert.ok(!k.sched.irqs_disabled(), `${what}: CPU ${c} left with interrupts off`);
    assert.equal(k.sched.preempt_count(), 0, `${what}: CPU ${c} preempt_count`);
  }
  k.set_cpu(cpu);
}

/** slabinfo against the memmap: the slabs and their objects; active at least the live objects. */
function countsAgree(k: Kernel, s: number, name: string, live: number): void {
  const row = slabinfoRow(k, name);
  const census = slabCensus(k, s);
  assert.equal(row.numSlabs, census.size, `${name}: num_slabs against the memmap`);
  assert.equal(row.num, census.size * row.perSlab, `${name}: num_objs`);
  const inuse = [...census.values()].reduce((n, e) => n + e.inuse, 0);
  assert.ok(row.active >= live, `${name}: active_objs ${row.active} < ${live} live`);
  assert.ok(inuse >= live && inuse <= row.num, `${name}: objects in use in the slabs ${inuse}`);
}

for (const slab of SLAB_IMPLS) {
  test(`${slab}: objects freed on other CPUs and other nodes; slabinfo agrees with the memmap; locks released`, () => {
    const k = boot({ mem: '512M', cpus: 4, nodes: 2, slab }, { errors: 'throw' });
    const cpus = k.config.cpus;
    shrinkAll(k);
    const free0 = buddyFreePages(k);
    const name = `smp_${slab}`;
    const s = k.kmem_cache_create(name, 192, 0, k.SLAB_NO_MERGE, null);
    let kept: number[] = [];
    for (let round = 0; round < 4; round++) {
      const made: number[][] = [];
      for (let c = 0; c < cpus; c++) {
        k.set_cpu(c);
        made.push(Array.from({ length: 150 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL)));
        assert.ok(made[c].every((o) => o !== 0));
      }
      quiescent(k, s, 0, `${slab} round ${round} allocations`);
      if (countsObjects(slab)) countsAgree(k, s, name, kept.length + cpus * 150);
      // each CPU's objects freed by the CPU `round + 1` further on (on the other node half the time); half kept
      for (let c = 0; c < cpus; c++) {
        k.set_cpu((c + round + 1) % cpus);
        for (const [i, o] of made[c].entries()) {
          if (i % 2 === 0) k.kmem_cache_free(s, o);
          else kept.push(o);
        }
      }
      quiescent(k, s, 0, `${slab} round ${round} frees`);
      if (countsObjects(slab)) countsAgree(k, s, name, kept.length);
      // the old half goes on yet another CPU
      if (round % 2 === 1) {
        k.set_cpu((round + 2) % cpus);
        for (const o of kept) k.kmem_cache_free(s, o);
        kept = [];
      }
    }
    for (const o of kept) k.kmem_cache_free(s, o);
    k.set_cpu(1);
    assert.equal(k.kmem_cache_shrink(s), 0, 'nothing live: every slab goes');
    quiescent(k, s, 0, `${slab} shrink`);
    if (countsObjects(slab)) {
      const row = slabinfoRow(k, name);
      assert.deepEqual([row.active, row.num, row.numSlabs], [0, 0, 0]);
      assert.equal(slabCensus(k, s).size, 0);
    }
    k.kmem_cache_destroy(s);
    shrinkAll(k);
    assert.equal(buddyFreePages(k), free0, 'every page back');
    assert.equal(k.bug.tainted, 0);
  });
}

test('SLAB on two nodes: a remote free goes to the alien cache under its lock; the reaper drains it as the CPU it runs for', () => {
  const k = boot({ mem: '512M', cpus: 4, nodes: 2, slab: 'slab' }, { errors: 'throw' });
  const impl = k.slab.impl as Slab;
  const s = k.kmem_cache_create('alien_smp', 256, 0, 0, null);
  const on = (nid: number) => k.config.nodes[nid].cpus[0];
  k.set_cpu(on(1));
  const remote = Array.from({ length: 5 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  k.set_cpu(on(0));
  for (const o of remote) k.kmem_cache_free(s, o);
  assert.equal(impl.alienAvail(s, 0, 1), 5, 'queued in node 0\'s alien cache for node 1');
  quiescent(k, s, on(0), 'alien frees');
  // the reap timer: each CPU's cache_reap() runs in turn; node 0's CPUs reach node 1's alien cache
  for (let i = 0; i < 3; i++) impl.reap_tick(2000);
  assert.equal(impl.alienAvail(s, 0, 1), 0, 'drained by the reaper');
  assert.equal(k.sched.cpu, on(0), 'the reaper switched back');
  quiescent(k, s, on(0), 'reap');
  assert.equal(k.kmem_cache_shrink(s), 0);
  k.kmem_cache_destroy(s);
});

test('SLAB: cache_reap() skips its walk while another CPU holds slab_mutex, and catches up at the next expiry', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slab' }, { errors: 'throw' });
  const impl = k.slab.impl as Slab;
  const s = k.kmem_cache_create('reap_mutex', 300, 0, 0, null);
  const objs = Array.from({ length: 100 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const o of objs) k.kmem_cache_free(s, o);
  impl.reap_tick(2000); // marks the arrays untouched
  const before = impl.cpuAvail(s, 0);
  k.set_cpu(1);
  assert.ok(k.slab.slab_mutex_trylock(), 'CPU 1 takes slab_mutex');
  k.set_cpu(0);
  impl.reap_tick(2000);
  assert.equal(impl.cpuAvail(s, 0), before, 'no reaping while slab_mutex is held');
  k.set_cpu(1);
  k.slab.slab_mutex_unlock();
  k.set_cpu(0);
  impl.reap_tick(2000);
  assert.ok(impl.cpuAvail(s, 0) < before, 'reaped at the next expiry');
  assert.equal(k.kmem_cache_shrink(s), 0);
  k.kmem_cache_destroy(s);
});

test('SLAB: a flush needs n->list_lock; held by another CPU, the freeing CPU spins (soft lockup at once)', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slab' }, { errors: 'log' });
  const impl = k.slab.impl as Slab;
  const s = k.kmem_cache_create('locked_node', 300, 0, 0, null);
  const { limit } = impl.tunables(s);
  k.set_cpu(0);
  const objs = Array.from({ length: 2 * limit }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  let i = 0;
  while (impl.cpuAvail(s, 0) < limit) k.kmem_cache_free(s, objs[i++]);
  assert.equal(impl.cpuAvail(s, 0), limit, 'CPU 0\'s array is full: the next free flushes');
  const listLock = impl.lockWords(s)[0];
  k.set_cpu(1);
  k.locks.spin_lock(listLock);
  k.set_cpu(0);
  assert.throws(() => k.kmem_cache_free(s, objs[i]), /soft lockup - CPU#0 stuck/);
  k.set_cpu(1);
  k.locks.spin_unlock(listLock);
  assert.ok(!k.locks.spin_is_locked(listLock));
});

test('SLQB: a CPU\'s remote frees are flushed to the owner\'s queue under its remote_free lock', () => {
  const k = boot({ mem: '128M', cpus: 2, slab: 'slqb' }, { errors: 'log' });
  const q = k.slab.impl as Slqb;
  const s = k.kmem_cache_create('slqb_locked', 256, 0, k.SLAB_NO_MERGE, null);
  const { hiwater, freebatch } = q.tunables(s);
  k.set_cpu(0);
  const objs = Array.from({ length: hiwater + 2 * freebatch }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  // unlocked: CPU 1's frees of CPU 0's objects reach CPU 0's queue in batches, counted
  k.set_cpu(1);
  for (const o of objs.slice(0, hiwater + freebatch)) k.kmem_cache_free(s, o);
  const st = q.stats(s);
  assert.equal(st.remote_queued, freebatch);
  assert.equal(st.remote_flushes, 1);
  assert.equal(q.listState(s, { cpu: 0 }).remote_free, freebatch);
  quiescent(k, s, 1, 'remote flush');
  // CPU 0 claims them with its next allocation that finds its freelist empty
  k.set_cpu(0);
  const again = Array.from({ length: freebatch }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  assert.equal(q.stats(s).remote_claimed, freebatch);
  assert.equal(q.listState(s, { cpu: 0 }).remote_free, 0);
  quiescent(k, s, 0, 'claim');
  // CPU 0 holds its list's remote_free.lock: CPU 1's next flush spins
  const rfLock = q.lockWords(s)[0];
  k.locks.spin_lock(rfLock);
  k.set_cpu(1);
  assert.throws(() => {
    for (const o of [...objs.slice(hiwater + freebatch), ...again]) k.kmem_cache_free(s, o);
  }, /soft lockup - CPU#1 stuck/);
  k.set_cpu(0);
  k.locks.spin_unlock(rfLock);
});

test('SLOB: every list operation under slob_lock; held by another CPU, kmalloc spins', () => {
  const k = boot({ mem: '64M', cpus: 2, slab: 'slob' }, { errors: 'log' });
  const impl = k.slab.impl as Slob;
  const [slobLock] = impl.lockWords();
  k.set_cpu(0);
  const a = k.kmalloc(100, k.GFP_KERNEL);
  k.set_cpu(1);
  k.kfree(a);
  assert.ok(!k.locks.spin_is_locked(slobLock));
  k.locks.spin_lock(slobLock);
  k.set_cpu(0);
  assert.throws(() => k.kmalloc(100, k.GFP_KERNEL), /soft lockup - CPU#0 stuck/);
  k.set_cpu(1);
  k.locks.spin_unlock(slobLock);
  k.set_cpu(0);
  assert.notEqual(k.kmalloc(100, k.GFP_KERNEL), 0, 'works again once released');
});
