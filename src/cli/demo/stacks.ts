/*
 * Chapter: kernel stacks. THREAD_SIZE stacks in vmalloc space with a guard
 * page; KernelStack in meminfo; a stack overflow hitting the guard page.
 */
import { KernelBug } from '../../kernel/bug.ts';
import type { DemoChapter } from './chapter.ts';

export const stacksChapter: DemoChapter = {
  id: 'stacks',
  title: 'kernel stacks: small, fixed, and guarded',
  summary: 'THREAD_SIZE, CONFIG_VMAP_STACK, KernelStack in meminfo, the stack guard page report',
  run(d) {
    d.say(`Kernel code runs on a small fixed stack, "one or two pages" in LDD3's
      day: THREAD_SIZE is 16 KiB on x86_64 and 8 KiB on i386. That is why
      drivers never put big arrays on the stack and allocate them instead.
      With CONFIG_VMAP_STACK (x86_64) each stack is a vmalloc area, so an
      unmapped guard page lies below it.`);
    const k = d.boot({ mem: '512M', cpus: 1 });
    d.cat(k, 'meminfo', (l) => l.startsWith('KernelStack'));
    const tasks = ['kworker/0:1', 'deep'].map((c) => k.stacks.kernel_thread(c));
    d.call("kernel_thread('kworker/0:1'); kernel_thread('deep')   /* dup_task_struct -> alloc_thread_stack_node */");
    for (const t of tasks) d.show(`${k.sched.comm(t).padEnd(12)} stack ${k.stacks.describe(t)}`);
    d.cat(k, 'meminfo', (l) => l.startsWith('KernelStack'));
    d.cat(k, 'vmallocinfo', (l) => l.includes('alloc_thread_stack_node'));
    d.blank();
    d.say(`A task that recurses too deeply runs off the bottom of its stack into
      the guard page. The page fault cannot even push its frame, the CPU
      raises a double fault, and the handler sees the address is a stack's
      guard page:`);
    const prev = k.sched.current;
    k.sched.setCurrent(tasks[1]);
    d.logged(k, 'deep: uses 12 KiB of stack', () => k.stacks.use_stack(12 << 10));
    d.logged(k, 'deep: recurses to 20 KiB', () => {
      try {
        k.stacks.use_stack(20 << 10, ['recurse', 'recurse', 'recurse']);
        return 'no fault';
      } catch (e) {
        if (!(e instanceof KernelBug)) throw e;
        return `KernelBug (kind "${e.kind}")`;
      }
    }, (r) => r);
    k.sched.setCurrent(prev);
    d.say(`Without CONFIG_VMAP_STACK (always the case on i386) the stack is two
      pages from the page allocator in the direct map; an overflow silently
      overwrites the page below, and only the STACK_END_MAGIC word at the
      stack's end, checked by schedule(), gives it away.`);
  },
};
