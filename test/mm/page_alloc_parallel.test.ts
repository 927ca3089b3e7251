/*
 * The page allocator with workers attached as CPUs (parallel mode): each
 * CPU allocates and frees pages on its own host thread while every CPU
 * also drains all CPUs' pcp lists now and then (drain_all_pages, taking
 * each remote pcp->lock while its owner is using it). Nothing may be handed
 * out twice (the blocks carry tags), nothing lost (the free pages come back
 * to what they were), and the counters, folded, agree with the lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareMachine } from '../../src/init/attach.ts';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import { NR_FREE_PAGES } from '../../src/mm/mmzone.ts';
import { boot, checkAllocator } from './helpers.ts';

interface Report { cpu: number; threads: number; bad: number; failed: number; drains: number }

test('parallel mode: pcp->lock and zone->lock keep 3 CPUs\' allocations, frees and remote drains consistent', async () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 3 });
  k.drain_all_pages();
  const zones = k.buddy.zones.filter((z) => k.buddy.populated(z));
  const freeBefore = zones.reduce((n, z) => n + k.buddy.zoneStat(z, NR_FREE_PAGES), 0);
  const machine = shareMachine(k);
  const ready = new Int32Array(new SharedArrayBuffer(8));
  ready[1] = 2;
  const reports = await Promise.all([1, 2].map((cpu) => new Promise<Report>((resolve, reject) => {
    const w = startTsWorker(new URL('./workers/page_churn.ts', import.meta.url), {
      workerData: { machine, cpu, rounds: 20000, seed: cpu * 7919, drainEvery: 500, ready },
    });
    w.on('message', resolve);
    w.on('error', reject);
  })));
  assert.deepEqual(reports.map((r) => r.threads), [3, 3], 'both workers were attached at once');
  assert.deepEqual(reports.map((r) => r.bad), [0, 0], 'no block was handed to two holders');
  assert.deepEqual(reports.map((r) => r.failed), [0, 0]);
  assert.ok(reports.every((r) => r.drains === 40));
  assert.equal(k.smp.threads(), 1);
  k.drain_all_pages(); // what the workers freed last is still on their lists
  for (const cpu of [0, 1, 2]) {
    k.set_cpu(cpu);
    k.buddy.refresh_cpu_vm_stats();
  }
  k.set_cpu(0);
  for (const z of zones) {
    assert.equal(z.freePages(), k.buddy.zoneStat(z, NR_FREE_PAGES), `${z.name}: folded`);
    for (const pcp of z.pcps) assert.equal(k.locks.spin_is_locked(pcp.lockPa), false);
    assert.equal(k.locks.spin_is_locked(z.lockPa), false);
  }
  assert.equal(zones.reduce((n, z) => n + k.buddy.zoneStat(z, NR_FREE_PAGES), 0), freeBefore, 'every page came back');
  checkAllocator(k, new Map());
  assert.doesNotMatch(k.dmesg(), /BUG|WARNING/);
});
