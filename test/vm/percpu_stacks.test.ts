/*
 * Static per-CPU variables (DEFINE_PER_CPU copied into every CPU's static
 * area; per_cpu, this_cpu_*, get_cpu_var/put_cpu_var, get_cpu/put_cpu) and
 * kernel stacks (THREAD_SIZE, vmap stacks with a guard page, KernelStack in
 * /proc/meminfo, the stack overflow report).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBug } from '../../src/kernel/bug.ts';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { STACK_END_MAGIC } from '../../src/kernel/fork.ts';
import { boot, faults, logged, mapped, meminfoKb } from './helpers.ts';

test('DEFINE_PER_CPU: the initial value is in every CPU copy; a write on one CPU is not seen through another', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    const k = boot({ arch, mem: '256M', cpus: 4 });
    const counter = k.DEFINE_PER_CPU('counter', 4, 41);
    const big = k.DEFINE_PER_CPU('stamp', 8, 2 ** 40);
    assert.equal(k.DEFINE_PER_CPU('counter', 4), counter, 'the same variable by name (DECLARE_PER_CPU)');
    assert.ok(counter < 16 << 10 && big < 16 << 10, 'in the static area');
    for (let cpu = 0; cpu < 4; cpu++) {
      assert.equal(k.kaddr.read32(k.per_cpu(counter, cpu)), 41);
      assert.equal(k.kaddr.read64(k.per_cpu(big, cpu)), 2 ** 40);
    }
    assert.equal(k.per_cpu(counter, 1) - k.per_cpu(counter, 0), k.percpu.unitSize, 'one unit apart');
    k.set_cpu(2);
    k.this_cpu_inc(counter);
    k.this_cpu_add(counter, 10);
    assert.equal(k.this_cpu_read(counter), 52);
    k.set_cpu(3);
    assert.equal(k.this_cpu_read(counter), 41, 'CPU 3 does not see CPU 2');
    k.this_cpu_write(counter, 7);
    k.set_cpu(0);
    const p = k.get_cpu_var(counter);
    assert.equal(k.sched.preempt_count(), 1);
    k.kaddr.write32(p, k.kaddr.read32(p) + 1);
    k.put_cpu_var(counter);
    assert.equal(k.sched.preempt_count(), 0);
    assert.deepEqual([0, 1, 2, 3].map((c) => k.kaddr.read32(k.per_cpu(counter, c))), [42, 41, 52, 7]);
    assert.equal(k.percpuDefs.sum(counter, 4), 42 + 41 + 52 + 7);
    // 32-bit wraparound, as an unsigned int would.
    k.this_cpu_write(counter, 0);
    k.this_cpu_add(counter, -1);
    assert.equal(k.this_cpu_read(counter), 0xffffffff);
    // Dynamic per-CPU allocations come after the static and reserved areas.
    const dyn = k.__alloc_percpu(8, 8);
    assert.ok(dyn >= (16 << 10) + (8 << 10));
    k.free_percpu(dyn);
  }
});

test('get_cpu ... sleep ... put_cpu is reported as scheduling while atomic; msleep outside is fine', () => {
  const k = boot({ mem: '256M', cpus: 2 });
  assert.deepEqual(logged(k, () => k.msleep(10)), []);
  const cpu = k.get_cpu();
  assert.equal(cpu, 0);
  const lines = logged(k, () => k.msleep(10));
  assert.equal(lines[0], 'BUG: scheduling while atomic: swapper/0/0/0x00000001');
  assert.ok(lines.includes(' schedule'));
  const lines2 = logged(k, () => k.kmalloc(64, k.GFP_KERNEL));
  assert.ok(lines2.some((l) => l.startsWith('BUG: sleeping function called from invalid context')));
  k.put_cpu();
  assert.equal(k.sched.preempt_count(), 0);
  const k2 = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  k2.get_cpu();
  assert.throws(() => k2.msleep(1), (e: unknown) => e instanceof KernelBug && e.kind === 'might_sleep');
});

test('kernel stacks: THREAD_SIZE, vmalloc with a guard page (x86_64) or the page allocator; KernelStack in meminfo', () => {
  const k = boot({ mem: '512M', cpus: 1 });
  assert.equal(k.stacks.THREAD_SIZE, 16 << 10);
  const ks0 = meminfoKb(k, 'KernelStack');
  const t = k.stacks.kernel_thread('worker');
  const stack = k.stacks.task_stack_page(t);
  assert.ok(k.is_vmalloc_addr(stack));
  assert.equal(stack % (16 << 10), 0, 'THREAD_ALIGN');
  assert.equal(meminfoKb(k, 'KernelStack'), ks0 + 16);
  assert.equal(k.kaddr.read32(stack), STACK_END_MAGIC);
  assert.equal(mapped(k, stack - 1), false, 'the page below is unmapped');
  assert.equal(mapped(k, stack + (16 << 10)), false, 'and so is the guard page after it');
  k.stacks.free_thread_stack(t);
  assert.equal(meminfoKb(k, 'KernelStack'), ks0);
  // CONFIG_VMAP_STACK=n: pages from the page allocator, in the direct map.
  k.stacks.vmapStack = false;
  const t2 = k.stacks.kernel_thread('old');
  const s2 = k.stacks.task_stack_page(t2);
  assert.ok(k.virt_addr_valid(s2));
  assert.equal(meminfoKb(k, 'KernelStack'), ks0 + 16);
  k.stacks.free_thread_stack(t2);
  assert.equal(meminfoKb(k, 'KernelStack'), ks0);
  // i386: 8 KiB from the page allocator.
  const k32 = boot({ arch: 'i386', mem: '256M', cpus: 1 });
  assert.equal(k32.stacks.THREAD_SIZE, 8 << 10);
  assert.equal(k32.stacks.vmapStack, false);
  const a = meminfoKb(k32, 'KernelStack');
  const t3 = k32.stacks.kernel_thread('i386');
  assert.equal(meminfoKb(k32, 'KernelStack'), a + 8);
  assert.ok(k32.virt_addr_valid(k32.stacks.task_stack_page(t3)));
});

test('a task using more stack than it has hits the guard page: the kernel stack overflow report', () => {
  const k = boot({ mem: '512M', cpus: 1 });
  const t = k.stacks.kernel_thread('deep');
  const prev = k.sched.current;
  k.sched.setCurrent(t);
  k.stacks.use_stack(12 << 10); // fits
  assert.equal(k.stacks.task_stack_vm_area(t), true);
  const stack = k.stacks.task_stack_page(t);
  const { bug, lines } = faults(k, () => k.stacks.use_stack(20 << 10, ['recurse', 'recurse', 'recurse']));
  assert.equal(bug.kind, 'Oops');
  assert.match(lines[0], /^BUG: TASK stack guard page was hit at [0-9a-f]{16} \(stack is [0-9a-f]{16}\.\.[0-9a-f]{16}\)$/);
  assert.equal(lines[1], 'Oops: stack guard page: 0000 [#1] PREEMPT SMP NOPTI');
  assert.match(lines[2], /^CPU: 0 UID: 0 PID: 100 Comm: deep /);
  assert.ok(lines.includes(' ? handle_stack_overflow'));
  assert.ok(lines.includes(' ? exc_double_fault'));
  assert.ok(bug.report.includes('stack guard page'));
  assert.equal(mapped(k, stack - PAGE_SIZE), false);
  k.sched.setCurrent(prev);
});

test('without VMAP_STACK an overflow is silent until schedule() finds STACK_END_MAGIC overwritten', () => {
  const k = boot({ arch: 'i386', mem: '256M', cpus: 1 });
  const t = k.stacks.kernel_thread('deep32');
  const prev = k.sched.current;
  k.sched.setCurrent(t);
  k.stacks.use_stack(4 << 10);
  assert.deepEqual(logged(k, () => k.schedule()), []);
  k.stacks.use_stack(8 << 10); // exactly the whole stack: the magic word is overwritten
  assert.throws(() => k.schedule(), (e: unknown) => e instanceof KernelBug && e.kind === 'panic' &&
    e.report.startsWith('Kernel panic - not syncing: corrupted stack end detected inside scheduler'));
  k.sched.setCurrent(prev);
});

test('alloc_percpu past the first chunk: a chunk in vmalloc space, same per-CPU pointer arithmetic, Percpu grows', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    const k = boot({ arch, mem: '512M', cpus: 2 });
    const pc0 = meminfoKb(k, 'Percpu');
    const ptrs: number[] = [];
    let vm = 0;
    const lines = logged(k, () => {
      for (let i = 0; i < 8 && vm === 0; i++) {
        const p = k.__alloc_percpu(64 << 10, 8);
        assert.ok(p !== 0);
        ptrs.push(p);
        if (k.is_vmalloc_addr(k.per_cpu_ptr(p, 0))) vm = p;
      }
    });
    assert.deepEqual(lines, [], 'no failure warning: the vmalloc chunk took it');
    assert.ok(vm !== 0, 'an allocation landed in a vmalloc chunk');
    assert.equal(k.percpuVm.nr_chunks, 1);
    assert.equal(k.per_cpu_ptr(vm, 1) - k.per_cpu_ptr(vm, 0), k.percpu.unitSize);
    assert.equal(meminfoKb(k, 'Percpu'), pc0 + 2 * k.percpu.unitSize / 1024);
    k.kaddr.write32(k.per_cpu_ptr(vm, 0), 1234);
    k.set_cpu(1);
    assert.equal(k.kaddr.read32(k.this_cpu_ptr(vm)), 0, 'CPU 1 has its own copy');
    k.set_cpu(0);
    assert.equal(k.kaddr.read32(k.this_cpu_ptr(vm)), 1234);
    // A bad pointer inside the chunk: the warning, nothing freed.
    const bad = logged(k, () => k.free_percpu(vm + 4));
    assert.ok(bad.some((l) => l.includes('not a per-CPU allocation')));
    assert.equal(k.percpuVm.nr_chunks, 1);
    for (const p of ptrs) k.free_percpu(p);
    assert.equal(k.percpuVm.nr_chunks, 0, 'the empty chunk is destroyed');
    assert.equal(meminfoKb(k, 'Percpu'), pc0);
  }
});
