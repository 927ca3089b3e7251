/*
 * SMP: spinlocks (kernel/locking/spinlock_debug.c's reports, the soft-lockup
 * watchdog's), the two modes (one thread switching CPUs; workers attached
 * as CPUs), kallsyms shared between threads, and the stress test of issue 5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start_kernel } from '../../src/init/main.ts';
import { attach, shareMachine } from '../../src/init/attach.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import { SmpError } from '../../src/kernel/smp.ts';
import { KallsymsError } from '../../src/kernel/kallsyms.ts';
import { startTsWorker } from '../../src/node/ts_worker.ts';
import { runStress } from '../../src/node/stress.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';

function boot(cpus = 2, errors: 'log' | 'throw' = 'log'): Kernel {
  return start_kernel(resolveConfig({ mem: '256M', cpus }), { errors });
}

/** A spinlock_t of our own, in a kmalloc'd word. */
function newLock(k: Kernel): number {
  const lock = k.kmalloc(8, k.GFP_KERNEL);
  k.spin_lock_init(lock);
  return lock;
}

function logSince(k: Kernel, seq: number): string {
  return k.log.dmesg(seq);
}

test('spin_lock disables preemption: sleeping allocations under it are reported', () => {
  const k = boot();
  const lock = newLock(k);
  k.spin_lock(lock);
  assert.equal(k.sched.preempt_count(), 1);
  assert.equal(k.spin_is_locked(lock), true);
  const seq = k.log.nextSeq;
  const p = k.kmalloc(64, k.GFP_KERNEL);
  assert.match(logSince(k, seq), /BUG: sleeping function called from invalid context/);
  k.spin_unlock(lock);
  assert.equal(k.sched.preempt_count(), 0);
  assert.equal(k.spin_is_locked(lock), false);
  k.kfree(p);
});

test('spin_lock_irqsave saves and restores the interrupt state; _bh disables bottom halves', () => {
  const k = boot();
  const lock = newLock(k);
  const flags = k.spin_lock_irqsave(lock);
  assert.equal(flags, 0);
  assert.equal(k.sched.irqs_disabled(), true);
  const inner = newLockNoAlloc(k, lock);
  const flags2 = k.spin_lock_irqsave(inner);
  assert.equal(flags2, 1, 'interrupts were already off');
  k.spin_unlock_irqrestore(inner, flags2);
  assert.equal(k.sched.irqs_disabled(), true, 'the inner restore leaves them off');
  k.spin_unlock_irqrestore(lock, flags);
  assert.equal(k.sched.irqs_disabled(), false);
  k.spin_lock_bh(lock);
  assert.equal(k.sched.in_interrupt(), true, 'in_interrupt() counts disabled bottom halves');
  k.spin_unlock_bh(lock);
  assert.equal(k.sched.in_interrupt(), false);
});

/** A second lock word next to the first (allocated before the irq-off section). */
function newLockNoAlloc(k: Kernel, lock: number): number {
  const other = lock + 4;
  k.spin_lock_init(other);
  return other;
}

test('spin_trylock takes a free lock and fails on a held one without waiting or reporting', () => {
  const k = boot();
  const lock = newLock(k);
  assert.equal(k.spin_trylock(lock), true);
  k.set_cpu(1);
  const seq = k.log.nextSeq;
  assert.equal(k.spin_trylock(lock), false);
  assert.equal(k.sched.preempt_count(), 0, 'a failed trylock leaves preemption as it was');
  assert.equal(logSince(k, seq), '');
  k.set_cpu(0);
  k.spin_unlock(lock);
});

test('taking a lock twice on one CPU: "BUG: spinlock recursion", and the call backs out', () => {
  const k = boot();
  const lock = newLock(k);
  k.spin_lock(lock);
  const seq = k.log.nextSeq;
  assert.throws(() => k.spin_lock(lock), (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock');
  const log = logSince(k, seq);
  assert.match(log, /BUG: spinlock recursion on CPU#0, swapper\/0\/0\n(.*\n)*.* _raw_spin_lock\n/);
  assert.match(log, / lock: 0xffff[0-9a-f]{12}, \.magic: dead4ead, \.owner: swapper\/0\/0, \.owner_cpu: 0\n/);
  assert.equal(k.sched.preempt_count(), 1, 'still held once');
  assert.throws(() => k.spin_lock_irqsave(lock), KernelBug);
  assert.equal(k.sched.irqs_disabled(), false, 'the irqsave that backed out left interrupts as they were');
  assert.equal(k.sched.preempt_count(), 1);
  k.spin_unlock(lock);
  assert.equal(k.spin_is_locked(lock), false);
});

test('unlocking a lock that is not held: "already unlocked"; held by another CPU: "wrong CPU"', () => {
  const k = boot();
  const lock = newLock(k);
  let seq = k.log.nextSeq;
  k.spin_unlock(lock);
  assert.match(logSince(k, seq), /BUG: spinlock already unlocked on CPU#0, swapper\/0\/0\n.* lock: 0xffff[0-9a-f]{12}, \.magic: dead4ead, \.owner: <none>\/-1, \.owner_cpu: -1\n(.*\n)*.* _raw_spin_unlock\n/);
  k.spin_lock(lock);
  k.set_cpu(1);
  seq = k.log.nextSeq;
  k.spin_unlock(lock);
  assert.match(logSince(k, seq), /BUG: spinlock wrong CPU on CPU#1, swapper\/0\/0\n.* lock: 0xffff[0-9a-f]{12}, \.magic: dead4ead, \.owner: swapper\/0\/0, \.owner_cpu: 0\n/);
  assert.equal(k.spin_is_locked(lock), true, 'the lock keeps its owner');
  k.set_cpu(0);
  k.spin_unlock(lock);
});

test('deterministic mode: a lock another CPU holds can never be released, so the soft lockup is reported at once', () => {
  const k = boot();
  const lock = newLock(k);
  k.spin_lock(lock);
  k.set_cpu(1);
  const seq = k.log.nextSeq;
  assert.throws(() => k.spin_lock(lock), (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock');
  assert.match(logSince(k, seq), /watchdog: BUG: soft lockup - CPU#1 stuck for 22s! \[swapper\/0:0\]/);
  assert.equal(k.sched.preempt_count(), 0, 'CPU 1 backed out cleanly');
  assert.equal(k.locks.owner_cpu(k.kaddr.__pa(lock)), 0);
  k.set_cpu(0);
  k.spin_unlock(lock);
});

test('attach: a second kernel object on the same RAM, bound to its own CPU', () => {
  const k = boot(3);
  const k1 = attach(shareMachine(k), { errors: 'throw' });
  assert.equal(k1.smp_processor_id(), 1);
  assert.equal(k.smp.threads(), 2);
  assert.equal(k1.sched.comm(), 'swapper/1');
  // what one allocates, the other sees and frees
  const p = k1.kmalloc(200, k1.GFP_KERNEL);
  k1.mem.write32(k1.kaddr.__pa(p), 0xfeedbeef);
  assert.equal(k.mem.read32(k.kaddr.__pa(p)), 0xfeedbeef);
  k.kfree(p);
  // the booting thread no longer runs as CPU 1
  assert.throws(() => k.set_cpu(1), SmpError);
  const k2 = attach(shareMachine(k));
  assert.equal(k2.smp_processor_id(), 2);
  assert.throws(() => attach(shareMachine(k)), /no CPU left to attach to/);
  assert.throws(() => attach(shareMachine(k), { cpu: 1 }), /CPU 1 is already driven by another thread/);
  k1.detach();
  k2.detach();
  assert.equal(k.smp.threads(), 1);
  k.set_cpu(1);
  assert.equal(k.smp_processor_id(), 1);
});

test('kallsyms is shared: one name, one address on every thread; calling another thread\'s function is refused', () => {
  const k = boot();
  const k1 = attach(shareMachine(k));
  const seen: number[] = [];
  const addr = k.kallsyms.register('my_ctor', (obj) => void seen.push(obj));
  assert.equal(k1.kallsyms.name(addr), 'my_ctor');
  assert.equal(k1.kallsyms.sprint_symbol(addr + 4), 'my_ctor+0x4/0x10');
  assert.throws(() => k1.kallsyms.call(addr, 1), KallsymsError);
  const seen1: number[] = [];
  assert.equal(k1.kallsyms.register('my_ctor', (obj) => void seen1.push(obj)), addr);
  k1.kallsyms.call(addr, 7);
  k.kallsyms.call(addr, 8);
  assert.deepEqual([seen, seen1], [[8], [7]]);
  const other = k1.kallsyms.register('other_fn', () => 0);
  assert.notEqual(other, addr);
  assert.equal(k.kallsyms.name(other), 'other_fn');
  const site = k1.kallsyms.symbol('alloc_inode', 0xd0);
  assert.equal(k.kallsyms.symbol('alloc_inode'), site);
  assert.equal(k.kallsyms.sprint_symbol(site + 0xa3), 'alloc_inode+0xa3/0xd0');
  k1.detach();
});

async function runLockWorkers(k: Kernel, lock: number, counter: number, rounds: number, n: number): Promise<{ cpu: number; threads: number }[]> {
  const machine = shareMachine(k);
  const ready = new Int32Array(new SharedArrayBuffer(8));
  ready[1] = n;
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<{ cpu: number; threads: number }>((resolve, reject) => {
    const w = startTsWorker(new URL('./workers/lock_counter.ts', import.meta.url), {
      workerData: { machine, cpu: i + 1, lock, counter, rounds, ready },
    });
    w.on('message', resolve);
    w.on('error', reject);
  })));
}

test('parallel mode: workers attached as CPUs exclude each other with spin_lock', async () => {
  const k = boot(3);
  const lock = newLock(k);
  const counter = k.kzalloc(8, k.GFP_KERNEL);
  const rounds = 20000;
  const ran = await runLockWorkers(k, lock, counter, rounds, 2);
  assert.deepEqual(ran.map((r) => r.cpu).sort(), [1, 2]);
  assert.ok(ran.every((r) => r.threads === 3), 'both workers were attached at once (with the booting thread: 3)');
  assert.equal(k.mem.read32(k.kaddr.__pa(counter)), 2 * rounds);
  assert.equal(k.spin_is_locked(lock), false);
  assert.equal(k.smp.threads(), 1, 'both workers detached');
});

for (const { workers, sheaves } of [{ workers: 2 }, { workers: 4 }, { workers: 2, sheaves: 'all' as const }]) {
  test(`kmem stress with ${workers} workers${sheaves ? `, sheaves ${sheaves}` : ''}: nothing handed out twice, nothing lost, no reports`, async () => {
    const k = start_kernel(resolveConfig({ mem: '512M', cpus: workers, sheaves }), { errors: 'log' });
    const r = await runStress(k, { workers, seconds: 3, maxOps: 30000, seed: 7 });
    assert.equal(r.workers, workers);
    assert.ok(r.ops > 0 && r.per_worker_ops.every((n) => n > 0), 'every worker ran');
    // how many handoffs find room in the mailboxes depends on timing; a few percent at least
    assert.ok(r.cross_cpu_frees > r.frees / 50, `frees on another CPU (${r.cross_cpu_frees} of ${r.frees})`);
    assert.deepEqual(
      { double: r.double_allocations, lost: r.lost_objects, pages: r.lost_pages, tags: r.overwritten_tags, reports: r.debug_reports },
      { double: 0, lost: 0, pages: 0, tags: 0, reports: 0 },
      k.log.dmesg().split('\n').filter((l) => /BUG|WARN/.test(l)).slice(0, 20).join('\n'));
    assert.equal(r.allocations, r.frees);
  });
}

test('parallel mode: mempool_alloc on an empty pool sleeps until another CPU\'s mempool_free wakes it', async () => {
  const k = boot(2);
  // a pool whose allocator fails once the reserve is filled, so elements come only from the reserve
  let fill = true;
  const pool = k.mempool_create(2, (gfp) => (fill ? k.kmalloc(64, gfp) : 0), (el) => k.kfree(el), 0);
  fill = false;
  const a = k.mempool_alloc(pool, k.GFP_KERNEL);
  const b = k.mempool_alloc(pool, k.GFP_KERNEL);
  assert.ok(a !== 0 && b !== 0);
  const w = startTsWorker(new URL('./workers/mempool_giver.ts', import.meta.url), {
    workerData: { machine: shareMachine(k), pool, element: b },
  });
  await new Promise((resolve) => w.once('message', resolve));
  const seq = k.log.nextSeq;
  const t0 = Date.now();
  const c = k.mempool_alloc(pool, k.GFP_KERNEL); // blocks this thread until the worker frees b
  assert.equal(c, b, 'the element the other CPU gave back');
  assert.ok(Date.now() - t0 >= 50, 'it slept');
  assert.equal(logSince(k, seq), '', 'no "would sleep forever" report');
  await new Promise((resolve) => w.once('exit', resolve));
  k.mempool_free(a, pool);
  k.mempool_free(c, pool);
  k.mempool_destroy(pool);
});

test('tracing enabled before a worker attaches records that CPU\'s events in the shared buffers', async () => {
  const k = boot(2);
  k.trace.set_option('hash-ptr', false);
  assert.equal(k.trace.enable('kmem:kmalloc'), 0);
  const w = startTsWorker(new URL('./workers/kmalloc_traced.ts', import.meta.url), { workerData: { machine: shareMachine(k) } });
  const p = await new Promise<number>((resolve) => w.once('message', resolve));
  const line = k.trace.read().split('\n').find((l) => l.includes('kmalloc:'));
  assert.ok(line, 'a kmalloc event');
  assert.match(line, /\[001\]/, 'recorded on CPU 1');
  assert.match(line, /call_site=scull_write\+0x20\/0x80 ptr=ffff[0-9a-f]+ bytes_req=100 bytes_alloc=128/);
  assert.ok(line.includes(p.toString(16)), 'the worker\'s object');
});

test('parallel mode: spinning on a lock for 2 * watchdog_thresh seconds is reported as a soft lockup', async () => {
  const k = start_kernel(resolveConfig({ mem: '256M', cpus: 2, cmdline: 'watchdog_thresh=1' }), { errors: 'log' });
  const lock = newLock(k);
  k.spin_lock(lock); // CPU 0 holds it throughout
  const w = startTsWorker(new URL('./workers/lock_spinner.ts', import.meta.url), { workerData: { machine: shareMachine(k), lock } });
  const r = await new Promise<{ outcome: string; preempt: number }>((resolve) => w.once('message', resolve));
  assert.match(r.outcome, /^deadlock: watchdog: BUG: soft lockup - CPU#1 stuck for [23]s! \[swapper\/1:0\]/);
  assert.equal(r.preempt, 0);
  assert.match(k.log.dmesg(), /watchdog: BUG: soft lockup - CPU#1 stuck for [23]s! \[swapper\/1:0\]/);
  assert.equal(k.locks.owner_cpu(k.kaddr.__pa(lock)), 0, 'still CPU 0\'s');
  k.spin_unlock(lock);
});

test('kmem stress with slab_debug=FZPU: red zones, poison and owner tracks stay intact across CPUs', async () => {
  const k = start_kernel(resolveConfig({ mem: '512M', cpus: 2, cmdline: 'slab_debug=FZPU' }), { errors: 'log' });
  const r = await runStress(k, { workers: 2, seconds: 3, maxOps: 8000, seed: 3 });
  assert.ok(r.cross_cpu_frees > 0);
  assert.deepEqual(
    { double: r.double_allocations, lost: r.lost_objects, pages: r.lost_pages, tags: r.overwritten_tags, reports: r.debug_reports },
    { double: 0, lost: 0, pages: 0, tags: 0, reports: 0 },
    k.log.dmesg().split('\n').filter((l) => /BUG|WARN|FIX/.test(l)).slice(0, 20).join('\n'));
});

test('kmem demo smp: per-CPU slabs, a cross-CPU free going home, the two spinlock reports', async () => {
  const { smpChapter } = await import('../../src/cli/demo/smp.ts');
  const { Demo } = await import('../../src/cli/demo/chapter.ts');
  const { Output } = await import('../../src/cli/output.ts');
  let text = '';
  await smpChapter.run(new Demo(new Output({ write: (s: string) => void (text += s) })));
  assert.match(text, /CPU 1: C = kmem_cache_alloc\(demo_obj\)  =>  0xffff[0-9a-f]+ \(slab pfn 0x[0-9a-f]+, not A's 0x[0-9a-f]+\)/);
  assert.match(text, /CPU 1: kmem_cache_free\(demo_obj, A\)\n  cpu0 +slab pfn 0x[0-9a-f]+: 15\/16 objects in use/);
  assert.match(text, /A is the \d+th object handed out/);
  assert.match(text, /BUG: spinlock recursion on CPU#0/);
  assert.match(text, /watchdog: BUG: soft lockup - CPU#1 stuck for 22s!/);
});

test('examples/smp/pool.ts (the README\'s pool of workers) runs and every object comes back', async () => {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'examples/smp/pool.ts'], { timeout: 60_000 }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
  });
  assert.match(out, /workers filled 64000 and 64000 bytes; kmalloc-128 active objects: (\d+) before, \d+ with ours, \1 after the workers freed them/);
});
