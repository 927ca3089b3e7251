/*
 * A second host thread joins a running machine (kmem's counterpart of a
 * secondary CPU coming online: arch/x86/kernel/smpboot.c start_secondary).
 *
 *   booting thread                         worker
 *   --------------                         ------
 *   k = start_kernel(config)
 *   post(shareMachine(k))  ------------->  k2 = attach(shared, { cpu: 1 })
 *                                            1. start_kernel(config) on private scratch RAM:
 *                                               the same deterministic boot builds the same
 *                                               handles (where every structure is)
 *                                            2. k2.mem.adopt(shared.ram): the scratch RAM is
 *                                               dropped, the machine's RAM swapped in
 *                                            3. kmem_smp.cpu_thread[1] = this thread; the
 *                                               booting thread can no longer run as CPU 1
 *   k.kmalloc(...) on CPU 0        ||      k2.kmalloc(...) on CPU 1, at the same time
 *                                          k2.detach(): CPU 1 goes back
 *
 * This works because kernel state lives in the machine's memory: what the
 * JS objects of a thread hold is where things are (a pure function of the
 * configuration and of the boot, which is deterministic), plus typed-array
 * views that adopt() refreshes. State created after boot (a cache made by
 * kmem_cache_create on another thread) is reached by its address.
 *
 * Per thread, not shared (as documented where each lives): registered JS
 * functions (constructors, shrinkers, RCU callbacks: code pointers name a
 * thread's JS function, see kallsyms.ts), the tracing hooks a thread
 * installed, WARN_ONCE's memory of what it printed.
 */
import type { MachineConfig } from '../machine/config.ts';
import type { PhysMemShared } from '../machine/memory.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { BOOT_THREAD_ID, SmpError } from '../kernel/smp.ts';
import { start_kernel, type BootedMm } from './main.ts';

/** What a worker needs to attach: structured-cloneable (postMessage copies the config, shares the RAM). */
export interface SharedMachine {
  config: MachineConfig;
  ram: PhysMemShared;
  /** The MMIO devices' state, by window (src/drivers/iomem.ts); without it the worker's devices are its own. */
  devices?: (SharedArrayBuffer | null)[];
}

export interface AttachOptions {
  /** The CPU to run as; default the lowest CPU above 0 that no other thread has taken. */
  cpu?: number;
  /** As start_kernel's: 'throw' makes every report also throw a KernelBug. */
  errors?: 'log' | 'throw';
  /** The comm of the task this thread runs as (default swapper/N, pid 0, as the CPU's idle task). */
  comm?: string;
}

export function shareMachine(k: Kernel): SharedMachine {
  return { config: k.config, ram: k.mem.share(), devices: k.paging.iomem.share() };
}

export function attach(shared: SharedMachine, opts: AttachOptions = {}): Kernel {
  const k = start_kernel(shared.config, { errors: opts.errors });
  k.mem.adopt(shared.ram);
  if (shared.devices) k.paging.iomem.adopt(shared.devices);
  k.trace.attach();
  runAsCpu(k, opts.cpu ?? firstFreeCpu(k), opts.comm);
  return k;
}

/**
 * This thread becomes CPU `cpu` (kmem_smp.cpu_thread[cpu] = this thread;
 * SmpError if another thread has it) and runs there as the CPU's own task,
 * pid 0 named `comm` (default swapper/N): the booting thread ran every CPU
 * as swapper/0, and task state such as PF_MEMALLOC must not be shared with
 * another thread. Also what kmem/heap's workers do (src/heap/machine.ts).
 */
export function runAsCpu(m: Pick<BootedMm, 'smp' | 'sched'>, cpu: number, comm = `swapper/${cpu}`): void {
  m.smp.attachCpu(cpu);
  m.sched.cpu = cpu;
  m.sched.setCurrent(m.sched.createTask(0, comm), cpu);
}

function firstFreeCpu(k: Kernel): number {
  for (let cpu = 1; cpu < k.config.cpus; cpu++) if (k.smp.threadOf(cpu) === BOOT_THREAD_ID) return cpu;
  throw new SmpError(`no CPU left to attach to: all ${k.config.cpus - 1} secondary CPUs are driven by other threads`);
}
