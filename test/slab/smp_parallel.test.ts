/*
 * SLAB, SLOB and SLQB in the parallel SMP mode: worker threads attached as
 * CPUs allocate and free at the same time and free many of each other's
 * objects (src/testing/smp_stress.ts, through src/node/stress.ts), on a
 * two-node machine for SLAB's alien caches and SLQB's node lists. Nothing
 * may be handed out twice or lost, no tag overwritten, nothing reported
 * (kmem_cache_destroy() of the stress cache afterwards finds it empty:
 * the workers' array caches and queues drained back); every lock word is
 * free and /proc/slabinfo's counts are sane (SLAB, SLQB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig, type SlabImpl } from '../../src/machine/config.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { runStress } from '../../src/node/stress.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';

/** The lock words an implementation exposes for tests, for every cache. */
function lockWords(k: Kernel): number[] {
  const impl = k.slab.impl as { lockWords?(s: number): number[] };
  if (impl.lockWords === undefined) return [];
  return k.slab.caches().flatMap((s) => impl.lockWords!(s));
}

const CASES: { slab: SlabImpl; nodes: number }[] = [{ slab: 'slab', nodes: 2 }, { slab: 'slqb', nodes: 2 }, { slab: 'slob', nodes: 1 }];

for (const { slab, nodes } of CASES) {
  test(`${slab}: 4 workers on ${nodes} node(s), cross-CPU frees in parallel: nothing handed out twice, nothing lost, no reports`, async () => {
    const k = start_kernel(resolveConfig({ mem: '512M', cpus: 4, nodes, slab }), { errors: 'log' });
    const r = await runStress(k, { workers: 4, seconds: 2, maxOps: 20000, seed: 11 });
    assert.ok(r.per_worker_ops.every((n) => n > 0), 'every worker ran');
    assert.ok(r.cross_cpu_frees * 10 > r.frees, `frees on another CPU: ${r.cross_cpu_frees} of ${r.frees}`);
    const kernelLog = k.log.dmesg();
    const failures = ['double_allocations', 'lost_objects', 'lost_pages', 'overwritten_tags', 'debug_reports'] as const;
    for (const what of failures) assert.equal(r[what], 0, `${what}\n${kernelLog}`);
    assert.equal(r.frees, r.allocations, 'every object freed');
    assert.equal(k.smp.threads(), 1, 'the workers detached');
    for (const pa of lockWords(k)) assert.ok(!k.locks.spin_is_locked(pa), `lock word at ${pa.toString(16)} left held`);
    if (slab !== 'slob') {
      // every line parses, active_objs <= num_objs
      for (const line of readProc(k, 'slabinfo').split('\n').slice(2).filter((l) => l !== '')) {
        const m = /^\S+\s+(\d+)\s+(\d+)\s/.exec(line);
        assert.ok(m && +m[1] <= +m[2], line);
      }
    }
  });
}
