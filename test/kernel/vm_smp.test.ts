/*
 * The rest of the kernel API with several CPUs at once: two workers
 * attached as CPUs each run one subsystem's operations at the same time
 * (test/kernel/workers/vm_smp_ops.ts); then the shared state is checked from
 * the booting thread. Plus the deterministic-mode lock reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MachineConfigInput } from '../../src/machine/config.ts';
import { shareMachine } from '../../src/init/attach.ts';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { BarMemory } from '../../src/drivers/iomem.ts';
import { KMEMDEV_SCRATCH } from '../../src/drivers/kmem_dev.ts';
import { boot as bootMachine, deadlocks, meminfoKb } from '../vm/helpers.ts';

type Mode = 'stacks' | 'percpu' | 'kmap' | 'shrinker' | 'ioremap';
interface OpsResult { threads: number; bad: number; pids?: number[]; shared?: number; own?: number[]; freed?: number }

function boot(input: MachineConfigInput): Kernel {
  return bootMachine({ mem: '256M', cpus: 3, ...input }, { errors: 'log' });
}

function runOps(k: Kernel, mode: Mode, rounds: number): Promise<OpsResult[]> {
  const machine = shareMachine(k);
  const ready = new Int32Array(new SharedArrayBuffer(8));
  ready[1] = 2;
  return Promise.all([1, 2].map((cpu) => new Promise<OpsResult>((resolve, reject) => {
    const w = startTsWorker(new URL('./workers/vm_smp_ops.ts', import.meta.url), { workerData: { machine, cpu, rounds, mode, ready } });
    w.on('message', resolve);
    w.on('error', reject);
  })));
}

function reports(k: Kernel): string {
  return k.log.dmesg().split('\n').filter((l) => /BUG|WARN|lockup|blocked for/.test(l)).join('\n');
}

function checkRan(r: OpsResult[]): void {
  assert.deepEqual(r.map((x) => [x.threads, x.bad]), [[3, 0], [3, 0]], 'both workers attached at once, nothing went wrong');
}

test('kernel stacks: two CPUs create threads at once; every pid is unique, KernelStack comes back', async () => {
  const k = boot({});
  const stack0 = meminfoKb(k, 'KernelStack');
  const r = await runOps(k, 'stacks', 60);
  checkRan(r);
  const pids = r.flatMap((x) => x.pids ?? []);
  assert.equal(pids.length, 120);
  assert.equal(new Set(pids).size, 120, 'no pid handed out twice');
  assert.deepEqual([...pids].sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => 100 + i));
  assert.equal(meminfoKb(k, 'KernelStack'), stack0);
  assert.equal(reports(k), '');
  assert.ok(!/alloc_thread_stack_node/.test(readProc(k, 'vmallocinfo')));
  // the booting thread sees the workers' thread table: the next pid follows theirs
  assert.equal(k.sched.pid(k.stacks.kernel_thread('after')), 220);
});

test('DEFINE_PER_CPU from two CPUs at once: one variable per name, no overlap, each CPU\'s copy its own', async () => {
  const k = boot({});
  const r = await runOps(k, 'percpu', 500);
  checkRan(r);
  assert.equal(r[0].shared, r[1].shared, 'both CPUs got the same smp_shared');
  const shared = r[0].shared ?? -1;
  assert.equal(k.percpuDefs.lookup('smp_shared'), shared, 'and the booting thread finds it by name');
  assert.deepEqual([0, 1, 2].map((cpu) => k.mem.read32(k.__pa(k.per_cpu(shared, cpu)))), [7, 507, 507]);
  const vars = [[shared, 4], ...r.flatMap((x) => (x.own ?? []).map((p) => [p, 8]))].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < vars.length; i++) assert.ok(vars[i - 1][0] + vars[i - 1][1] <= vars[i][0], 'variables overlap');
  assert.equal(k.percpuDefs.lookup('smp_own_2_19'), r[1].own?.[19]);
  assert.equal(reports(k), '');
});

test('kmap on i386: two CPUs kmap, kmap_local and kunmap highmem pages at once; every slot comes back', async () => {
  const k = boot({ arch: 'i386', mem: '1G' });
  await runOps(k, 'kmap', 400).then(checkRan);
  assert.deepEqual(k.highmem.pkmapStats().used, 0, 'no kmap reference left');
  k.highmem.flush_all_zero_pkmaps();
  assert.deepEqual(k.highmem.pkmapStats(), { used: 0, idle: 0 });
  assert.equal(k.highmem.localDepth(), 0);
  assert.equal(reports(k), '');
});

test('shrinkers: two CPUs register, shrink through each other\'s shrinkers and free them at once', async () => {
  const k = boot({});
  const before = k.pressure.shrinkers.registered().length;
  const r = await runOps(k, 'shrinker', 150);
  checkRan(r);
  assert.ok(r.every((x) => (x.freed ?? 0) > 0), 'the scans freed objects');
  assert.equal(k.pressure.shrinkers.registered().length, before, 'every shrinker is off the list');
  k.rcu_barrier();
  assert.equal(reports(k), '');
});

test('ioremap: two CPUs map and unmap device registers at once', async () => {
  const k = boot({});
  const regs = k.ioremap(0xfebf0000, 4096);
  k.iowrite32(0x5ca7c4, regs + KMEMDEV_SCRATCH);
  k.iounmap(regs);
  await runOps(k, 'ioremap', 200).then(checkRan);
  // the workers' last writes reached the device the booting thread has (BAR offset (i % 8) * 0x20000, i = 199)
  const bar = k.paging.iomem.device('kmem-dev.bar') as BarMemory;
  const dv = new DataView(bar.u8.buffer, 7 * 0x20000);
  assert.deepEqual([dv.getUint32(4, true), dv.getUint32(8, true)], [(1 << 24) | 199, (2 << 24) | 199]);
  assert.ok(!/ioremap/.test(readProc(k, 'vmallocinfo')), 'every mapping is gone');
  assert.equal(reports(k), '');
});

test('deterministic mode: pid allocation and the thread table are under pidmap_lock', () => {
  const k = boot({});
  k.locks.spin_lock(k.img.forkGlobals);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.stacks.kernel_thread('blocked')), /watchdog: BUG: soft lockup - CPU#1 stuck for 22s!/);
  k.set_cpu(0);
  k.locks.spin_unlock(k.img.forkGlobals);
  assert.equal(k.sched.pid(k.stacks.kernel_thread('first')), 100, 'the blocked call took no pid');
});

test('deterministic mode: kmap takes kmap_lock; DEFINE_PER_CPU its definitions lock; shrinker_register shrinker_mutex', () => {
  const k = boot({ arch: 'i386', mem: '1G' });
  const page = k.alloc_page(k.GFP_HIGHUSER);
  const free0 = meminfoKb(k, 'MemFree');
  const seq = k.log.nextSeq;
  k.kunmap(page); // never kmapped: kunmap_high's BUG, and kmap_init does not run for it
  assert.match(k.log.dmesg(seq), /kernel BUG at mm\/highmem.c:371!/);
  assert.equal(meminfoKb(k, 'MemFree'), free0);
  const kmapLock = k.img.highmem + 4;
  k.locks.spin_lock(kmapLock);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.kmap(page)), /soft lockup - CPU#1/);
  k.set_cpu(0);
  k.locks.spin_unlock(kmapLock);
  const va = k.kmap(page);
  assert.equal(k.page_address(page), va);
  k.kunmap(page);

  k.locks.spin_lock(k.img.percpuDefs + 4);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.DEFINE_PER_CPU('late', 4)), /soft lockup - CPU#1/);
  k.set_cpu(0);
  k.locks.spin_unlock(k.img.percpuDefs + 4);
  assert.equal(k.percpuDefs.lookup('late'), -1, 'not defined by the call that backed out');

  const s = k.shrinker_alloc(0, 'x');
  k.shrinker_set(s, { count_objects: () => 0, scan_objects: () => 0 });
  const mutex = k.img.reclaim + k.layout.ptrSize * 2; // shrinker_mutex, after shrinker_list
  k.mutexes.mutex_lock(mutex);
  k.set_cpu(1);
  assert.match(deadlocks(k, () => k.shrinker_register(s)), /INFO: task swapper\/0:0 blocked for more than 120 seconds\./);
  k.set_cpu(0);
  k.mutexes.mutex_unlock(mutex);
  k.shrinker_register(s);
  assert.ok(k.pressure.shrinkers.registered().includes(s));
  k.shrinker_free(s);
});
