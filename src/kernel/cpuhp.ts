/*
 * CPU hotplug, the part kmem has: a CPU going offline when the worker
 * thread that drove it leaves (Kernel.detach(), Heap.detach()).
 *
 * The kernel takes a CPU down through the cpuhp states in reverse, and the
 * teardown callbacks of the *_DEAD states give back what the CPU kept for
 * itself. The two of memory management:
 *
 *   CPUHP_PAGE_ALLOC   page_alloc_cpu_dead()  the pcp lists drained to the
 *                                             buddy lists, the vmstat diffs folded
 *   CPUHP_SLUB_DEAD    slub_cpu_dead()        every cache's CPU slab, CPU partial
 *                                             slabs and percpu sheaves back to the
 *                                             node lists
 *
 * The kernel runs them on a control CPU once the dead CPU has stopped, in
 * that order (PAGE_ALLOC is the higher state). kmem runs them on the
 * leaving thread, which still drives the CPU, just before it lets the CPU
 * go: no other thread touches the CPU's data meanwhile, so the result is
 * the same, except that the pages SLUB frees land on this CPU's own pcp
 * lists; so SLUB goes first here and the page lists are drained last.
 * Without this the next thread to attach found the objects and pages the
 * last one left (and other threads could not have them meanwhile).
 */
import type { PageAllocator } from '../mm/page_alloc.ts';
import type { SlabCommon } from '../mm/slab_common.ts';
import { BOOT_THREAD_ID, type Smp } from './smp.ts';

export interface CpuhpParts {
  slab: SlabCommon;
  buddy: PageAllocator;
  smp: Smp;
}

/**
 * cpu_down() of the CPU this worker thread drives: the teardown callbacks,
 * then the CPU goes back to the booting thread. Nothing for a CPU this
 * thread does not drive, or for the booting thread (its CPUs stay up).
 */
export function cpu_down(k: CpuhpParts, cpu: number): void {
  if (k.smp.threadId === BOOT_THREAD_ID || !k.smp.drives(cpu)) return;
  k.slab.cpu_dead(cpu);
  k.buddy.page_alloc_cpu_dead(cpu);
  k.smp.detachCpu(cpu);
}
