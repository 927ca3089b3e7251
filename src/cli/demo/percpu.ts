/*
 * Chapter: per-CPU variables. DEFINE_PER_CPU copies, this_cpu_inc on
 * different CPUs, get_cpu_var/put_cpu_var and sleeping in between.
 */
import { hex, type DemoChapter } from './chapter.ts';

export const percpuChapter: DemoChapter = {
  id: 'percpu',
  title: 'per-CPU variables: one copy per processor, no locks',
  summary: 'DEFINE_PER_CPU, per_cpu, this_cpu_inc, get_cpu_var/put_cpu_var, sleeping with preemption off',
  run(d) {
    d.say(`LDD3 chapter 8 ends with per-CPU variables: each processor gets its
      own copy, so a counter can be incremented without a lock or an atomic
      instruction, and cache lines do not bounce between CPUs. A static one
      is DEFINE_PER_CPU: the linker puts it in .data..percpu, and at boot
      setup_per_cpu_areas() copies that section into every CPU's unit of the
      first per-CPU chunk.`);
    const k = d.boot({ mem: '256M', cpus: 4 });
    const ctr = d.logged(k, 'DEFINE_PER_CPU(unsigned int, packets) = 0', () => k.DEFINE_PER_CPU('packets', 4, 0),
      (p) => `per-CPU pointer ${hex(p)} (an offset in each unit)`);
    d.show([0, 1, 2, 3].map((c) => `&per_cpu(packets, ${c}) = ${hex(k.per_cpu(ctr, c))}`));
    d.blank();
    d.say(`Each CPU counts on its own copy: this_cpu_inc() is one %gs-relative
      instruction on x86, safe against preemption without disabling it.`);
    const counts = [5, 0, 12, 3];
    counts.forEach((n, cpu) => {
      k.set_cpu(cpu);
      for (let i = 0; i < n; i++) k.this_cpu_inc(ctr);
    });
    k.set_cpu(0);
    d.call('CPU0: 5 x this_cpu_inc(packets); CPU2: 12 x; CPU3: 3 x');
    d.show([0, 1, 2, 3].map((c) => `per_cpu(packets, ${c}) = ${k.kaddr.read32(k.per_cpu(ctr, c))}`));
    d.call('sum over for_each_possible_cpu', String(k.percpuDefs.sum(ctr, 4)));
    d.blank();
    d.say(`For more than one access, get_cpu_var() disables preemption (so the
      task cannot move to another CPU halfway) and put_cpu_var() enables it
      again. Sleeping in between is a bug the scheduler reports:`);
    const p = k.get_cpu_var(ctr);
    d.call('p = &get_cpu_var(packets)', `${hex(p)}   /* preempt_count ${k.sched.preempt_count()} */`);
    d.logged(k, 'msleep(10)   /* wrong: still inside get_cpu_var */', () => k.msleep(10));
    k.put_cpu_var(ctr);
    d.call('put_cpu_var(packets)', `/* preempt_count ${k.sched.preempt_count()} */`);
    d.blank();
    d.say(`Dynamic per-CPU memory (alloc_percpu) comes from the same chunk,
      after the static and module-reserved areas; /proc/meminfo counts the
      chunk as Percpu.`);
    const dyn = d.logged(k, 'alloc_percpu(u64)', () => k.__alloc_percpu(8, 8), hex);
    d.cat(k, 'meminfo', (l) => l.startsWith('Percpu'));
    d.logged(k, `free_percpu(${hex(dyn + 4)})   /* not an allocation */`, () => k.free_percpu(dyn + 4));
    k.free_percpu(dyn);
  },
};
