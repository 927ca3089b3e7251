/*
 * vmalloc with several CPUs at once (mm/vmalloc.c's free_vmap_area_lock,
 * the busy and lazy locks of its vmap node, vmap_purge_lock; init_mm's
 * page_table_lock): workers attached as CPUs vmalloc and vfree at the same
 * time; then the lock reports of the deterministic mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attach, shareMachine } from '../../src/init/attach.ts';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, checkVmapAreas, deadlocks, meminfoKb, pageTableKb } from './helpers.ts';

interface ChurnResult { threads: number; bad: number; failed: number; deferred: number }

function runChurn(k: Kernel, n: number, rounds: number): Promise<ChurnResult[]> {
  const machine = shareMachine(k);
  const ready = new Int32Array(new SharedArrayBuffer(8));
  ready[1] = n;
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<ChurnResult>((resolve, reject) => {
    const w = startTsWorker(new URL('../kernel/workers/vmalloc_churn.ts', import.meta.url), {
      workerData: { machine, cpu: i + 1, rounds, seed: 17 + i, ready },
    });
    w.on('message', resolve);
    w.on('error', reject);
  })));
}

for (const arch of ['x86_64', 'i386'] as const) {
  test(`${arch}: two CPUs vmalloc and vfree at once; every range comes back, no tag is overwritten`, async () => {
    const k = boot({ arch, mem: '256M', cpus: 3 }, { errors: 'log' });
    const vm = k.paging.vm;
    const r = await runChurn(k, 2, 300);
    assert.ok(r.every((x) => x.threads === 3), 'both workers were attached at once');
    assert.deepEqual(r.map((x) => [x.bad, x.failed]), [[0, 0], [0, 0]]);
    assert.ok(r.every((x) => x.deferred > 0), 'some frees went through vfree_atomic');
    assert.equal(k.log.dmesg().split('\n').filter((l) => /BUG|WARN|lockup/.test(l)).join('\n'), '');
    assert.equal(vm.ranges('busy').length, 0);
    assert.ok(!/churn_vmalloc/.test(readProc(k, 'vmallocinfo')), 'vmallocinfo lists none of the workers\' areas');
    checkVmapAreas(k);
    vm.vm_unmap_aliases();
    const ulongMax = k.layout.ptrSize === 8 ? 2 ** 48 - 1 : 0xffffffff;
    assert.deepEqual(vm.ranges('free'), [[1, ulongMax]], 'the vmap free space is one range again');
    assert.equal(vm.vmap_lazy_nr(), 0);
    assert.equal(vm.vmalloc_nr_pages(), 0);
    assert.equal(meminfoKb(k, 'PageTables'), pageTableKb(k), 'NR_PAGETABLE counts every table page once');
  });
}

test('deterministic mode: vmalloc while another CPU holds free_vmap_area_lock is the certain soft lockup', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  const vm = k.paging.vm;
  k.vfree(k.vmalloc(PAGE));
  const lock = k.img.vmalloc + vm.S.free_vmap_area_lock;
  k.locks.spin_lock(lock);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.vmalloc(PAGE)), /watchdog: BUG: soft lockup - CPU#1 stuck for 22s!/);
  k.set_cpu(0);
  k.locks.spin_unlock(lock);
  assert.equal(vm.ranges('busy').length, 0, 'the call backed out');
  k.set_cpu(1);
  const p = k.vmalloc(PAGE);
  assert.notEqual(p, 0, 'the lock released, vmalloc works again');
  k.vfree(p);
  k.set_cpu(0);
  checkVmapAreas(k);
});

test('deterministic mode: vfree looks the area up under the busy lock; a purge waits for vmap_purge_lock', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  const vm = k.paging.vm;
  const p = k.vmalloc(PAGE);
  const busy = k.img.vmalloc + vm.S.busy_lock;
  k.locks.spin_lock(busy);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.vfree(p)), /soft lockup - CPU#1/);
  k.set_cpu(0);
  k.locks.spin_unlock(busy);
  k.vfree(p);
  // vmap_purge_lock is a mutex: a CPU waiting for it sleeps, and the hung-task detector reports it
  const purge = k.img.vmalloc + vm.S.vmap_purge_lock;
  k.mutexes.mutex_lock(purge);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => vm.vm_unmap_aliases()), /INFO: task swapper\/0:0 blocked for more than 120 seconds\./);
  k.set_cpu(0);
  k.mutexes.mutex_unlock(purge);
  assert.equal(vm.ranges('lazy').length, 1, 'the blocked purge did nothing');
  vm.vm_unmap_aliases();
  assert.equal(vm.ranges('lazy').length, 0);
});

test('deterministic mode: a page table is installed under init_mm.page_table_lock', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  k.locks.spin_lock(k.img.initMm);
  k.set_cpu(1);
  // the first vmalloc needs new PUD/PMD/PTE pages
  assert.match(deadlocks(k, () => k.vmalloc(PAGE)), /soft lockup - CPU#1/);
  k.set_cpu(0);
  k.locks.spin_unlock(k.img.initMm);
  assert.equal(meminfoKb(k, 'PageTables'), pageTableKb(k), 'the table page the backed-out call allocated was freed');
  assert.equal(k.paging.vm.ranges('busy').length, 0, 'and its area');
  const p = k.vmalloc(PAGE);
  assert.notEqual(p, 0);
  k.vfree(p);
});

test('vfree_atomic: each CPU\'s deferred list is drained by that CPU\'s work; a worker\'s CPU is not drained by another thread', () => {
  const k = boot({ mem: '256M', cpus: 3 });
  const k1 = attach(shareMachine(k), { cpu: 1 });
  const p = k1.vmalloc(3 * PAGE);
  k1.sched.irq_enter();
  k1.vfree_atomic(p);
  k1.sched.irq_exit();
  k.flush_scheduled_work();
  assert.equal(k.paging.vm.ranges('busy').length, 1, 'CPU 1\'s list waits for CPU 1');
  k1.flush_scheduled_work();
  assert.equal(k.paging.vm.ranges('busy').length, 0);
  k1.detach();
});

const PAGE = 4096;
