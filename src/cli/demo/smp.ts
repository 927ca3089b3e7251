/*
 * Chapter: SMP. Each CPU allocates from its own slab without a lock; an
 * object freed on another CPU goes back to its own slab; spinlocks, and
 * what happens when one is taken twice or never released. Deterministic:
 * one thread plays both CPUs with set_cpu(); the parallel mode (workers as
 * CPUs) is `kmem stress`.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { PAGE_SIZE } from '../../arch/x86/layout.ts';
import { Slub } from '../../mm/slub.ts';
import { hex, ptr, type Demo, type DemoChapter } from './chapter.ts';

/** Where each slab of cache s is and how full, as SLUB's lists say. */
function slabsText(k: Kernel, s: number): string[] {
  const impl = k.slab.impl;
  if (!(impl instanceof Slub)) return [];
  return impl.slabsOf(s).map(({ pfn, where }) => {
    const st = impl.slabState(pfn);
    return `${where.padEnd(14)} slab pfn ${hex(pfn)}: ${st.inuse}/${st.objects} objects in use${st.frozen ? ' (frozen: a CPU slab)' : ''}`;
  });
}

function pfnOf(k: Kernel, obj: number): number {
  return Math.floor(k.kaddr.__pa(obj) / PAGE_SIZE);
}

export const smpChapter: DemoChapter = {
  id: 'smp',
  title: 'SMP: per-CPU slabs, cross-CPU frees, spinlocks',
  summary: 'each CPU allocates from its own slab; a free on another CPU goes home; a spinlock taken twice',
  run(d: Demo) {
    d.say(`"Memory allocation must be efficient in big SMP systems." If every
      kmalloc took one lock, CPUs would queue for it. SLUB gives each CPU its
      own slab and a lockless freelist in it (struct kmem_cache_cpu, per-CPU
      data): allocating is taking the first object of this CPU's freelist,
      with no lock and no atomic operation. kmem plays both CPUs of this
      machine from one thread and switches between them with set_cpu(), so
      every step happens in the same order every time.`);
    const k = d.boot({ mem: '128M', cpus: 2 });
    if (!(k.slab.impl instanceof Slub)) return;
    const s = k.kmem_cache_create('demo_obj', 256, 0, 0, null);
    const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    const b = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    d.call('CPU 0: A = kmem_cache_alloc(demo_obj), B = kmem_cache_alloc(demo_obj)', `${ptr(k, a)}, ${ptr(k, b)}`);
    k.set_cpu(1);
    const c = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    d.call('CPU 1: C = kmem_cache_alloc(demo_obj)', `${ptr(k, c)} (slab pfn ${hex(pfnOf(k, c))}, not A's ${hex(pfnOf(k, a))})`);
    d.show(slabsText(k, s));
    d.blank();

    d.say(`Each CPU got a slab of its own. A CPU slab is "frozen" and counts every
      object as in use: its free objects are on the CPU's lockless freelist,
      which the slab itself no longer sees. Now CPU 1 frees A, which lives in CPU
      0's slab. CPU 1 may not touch CPU 0's freelist, so the object goes onto
      the slab's own freelist instead (__slab_free(): a compare-and-exchange
      of the slab's freelist and counters, which in kmem's parallel mode is
      done with Atomics). The slab's in-use count drops; CPU 0 finds A again
      when its lockless freelist runs dry and it takes the slab's freelist
      back (get_freelist()).`);
    k.kmem_cache_free(s, a);
    d.call('CPU 1: kmem_cache_free(demo_obj, A)');
    d.show(slabsText(k, s));
    d.blank();
    k.set_cpu(0);
    let again = 0;
    const taken: number[] = [];
    for (let i = 0; i < 64 && again === 0; i++) {
      const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
      taken.push(o);
      if (o === a) again = i + 1;
    }
    d.call('CPU 0: kmem_cache_alloc(demo_obj) until A comes back', again ? `A is the ${again}th object handed out` : 'not yet');
    for (const o of [b, c, ...taken]) k.kmem_cache_free(s, o);
    d.blank();

    d.say(`Shared structures have locks: zone->lock over the buddy lists,
      pcp->lock over a CPU's page lists (another CPU drains them when memory
      is short), n->list_lock over a node's partial slabs. A spinlock is an
      int in memory; spin_lock() also disables preemption, so sleeping under
      it is a bug the kernel reports. Taking a lock twice on one CPU is the
      classic deadlock, reported by CONFIG_DEBUG_SPINLOCK:`);
    const lock = k.kmalloc(8, k.GFP_KERNEL);
    k.spin_lock_init(lock);
    k.spin_lock(lock);
    d.logged(k, 'spin_lock(&lock); spin_lock(&lock)', () => {
      try {
        k.spin_lock(lock);
      } catch {
        /* the second call backs out */
      }
    }, undefined, (l) => /spinlock|lock:/.test(l));
    d.blank();
    d.say(`And a lock CPU 0 never releases makes CPU 1 spin until the soft-lockup
      watchdog fires (after 2 * watchdog_thresh = 20 s on a real machine;
      here at once, since with one thread nothing can release it):`);
    k.set_cpu(1);
    d.logged(k, 'CPU 1: spin_lock(&lock)', () => {
      try {
        k.spin_lock(lock);
      } catch {
        /* backed out */
      }
    }, undefined, (l) => /watchdog/.test(l));
    k.set_cpu(0);
    k.spin_unlock(lock);
    k.kfree(lock);
    d.blank();
    d.say(`With worker threads as CPUs the same code runs in parallel: try
      "kmem stress --workers 2", which hands half of every worker's objects
      to another worker to free and then checks that nothing was handed out
      twice or lost.`);
  },
};
