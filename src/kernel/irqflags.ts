/*
 * include/linux/irqflags.h's local_irq_save()/local_irq_restore() over the
 * per-CPU irqs_disabled word of sched.ts, and kernel/smp.c's on_each_cpu().
 *
 * on_each_cpu(fn) runs fn as each CPU in turn with interrupts off there,
 * as the IPI handler would run: in the deterministic SMP mode one host
 * thread drives every CPU and switches to each; in the parallel mode the
 * CPUs another host thread drives are not reached (kmem has no
 * cross-thread calls yet), which the callers document.
 */
import type { Sched } from './sched.ts';
import type { Smp } from './smp.ts';

/** local_irq_save(): the flags for local_irq_restore(). */
export function local_irq_save(sched: Sched): boolean {
  const was = sched.irqs_disabled();
  if (!was) sched.local_irq_disable();
  return was;
}

export function local_irq_restore(sched: Sched, flags: boolean): void {
  if (!flags) sched.local_irq_enable();
}

/**
 * on_each_cpu(fn): fn run as each CPU (interrupts off there, as in the IPI
 * handler), for the CPUs this host thread drives.
 */
export function on_each_cpu(sched: Sched, smp: Smp, nrCpus: number, fn: (cpu: number) => void): void {
  const me = sched.cpu;
  try {
    for (let cpu = 0; cpu < nrCpus; cpu++) {
      if (!smp.drives(cpu)) continue;
      sched.cpu = cpu;
      const flags = local_irq_save(sched);
      try {
        fn(cpu);
      } finally {
        local_irq_restore(sched, flags);
      }
    }
  } finally {
    sched.cpu = me;
  }
}
