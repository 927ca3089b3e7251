// A worker for test/kernel/vm_smp.test.ts: attach as a CPU, meet the other
// workers at a barrier, then run one subsystem's operations `rounds` times
// while the other workers run theirs: kernel stacks (fork.ts), DEFINE_PER_CPU
// (percpu_defs.ts), kmap (highmem.ts), shrinkers (shrinker.ts), ioremap.
// Reports what it saw; what must hold across workers is checked by the test.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, type SharedMachine } from '../../../src/init/attach.ts';
import { barrier } from './barrier.ts';
import { PAGE_SIZE } from '../../../src/arch/x86/layout.ts';
import { STACK_END_MAGIC } from '../../../src/kernel/fork.ts';
import { KMEMDEV_ID, KMEMDEV_SCRATCH } from '../../../src/drivers/kmem_dev.ts';
import type { ShrinkControl } from '../../../src/mm/shrinker.ts';
import { PhysMem } from '../../../src/machine/memory.ts';

type Mode = 'stacks' | 'percpu' | 'kmap' | 'shrinker' | 'ioremap';
const { machine, cpu, rounds, mode, ready } = workerData as {
  machine: SharedMachine; cpu: number; rounds: number; mode: Mode; ready: Int32Array;
};
const k = attach(machine, { cpu });
barrier(ready, 1); // all attached
const threads = k.smp.threads();
barrier(ready, 2); // all counted before any starts (and could detach)
let bad = 0;

function stacks(): { pids: number[] } {
  const pids: number[] = [];
  const self = k.sched.current;
  for (let i = 0; i < rounds; i++) {
    const t = k.stacks.kernel_thread(`w${cpu}.${i}`);
    if (t === 0) {
      bad++;
      continue;
    }
    pids.push(k.sched.pid(t));
    k.sched.setCurrent(t);
    k.stacks.use_stack(6 << 10);
    if (k.kaddr.read32(k.stacks.end_of_stack(t)) !== STACK_END_MAGIC) bad++;
    k.sched.setCurrent(self);
    k.stacks.free_thread_stack(t);
  }
  return { pids };
}

function percpu(): { shared: number; own: number[] } {
  const shared = k.DEFINE_PER_CPU('smp_shared', 4, 7);
  const own: number[] = [];
  for (let j = 0; j < 20; j++) own.push(k.DEFINE_PER_CPU(`smp_own_${cpu}_${j}`, 8, cpu * 100 + j));
  if (k.DEFINE_PER_CPU('smp_shared', 4) !== shared) bad++;
  for (let i = 0; i < rounds; i++) k.this_cpu_inc(shared);
  for (let j = 0; j < own.length; j++) if (k.this_cpu_read(own[j], 8) !== cpu * 100 + j) bad++;
  return { shared, own };
}

function kmap(): object {
  for (let i = 0; i < rounds; i++) {
    const page = k.alloc_page(k.GFP_HIGHUSER);
    const other = k.alloc_page(k.GFP_HIGHUSER);
    const va = k.kmap(page);
    const tag = (cpu << 24) | i;
    k.kaddr.write32(va + 4 * (i % 1024), tag);
    const lv = k.kmap_local_page(other);
    k.kaddr.write32(lv, ~tag);
    if (k.page_address(page) !== va) bad++;
    if (k.mem.read32(k.page_to_phys(page) + 4 * (i % 1024)) !== tag >>> 0) bad++;
    if (k.mem.read32(k.page_to_phys(other)) !== ~tag >>> 0) bad++;
    k.kunmap_local(lv);
    k.kunmap(page);
    k.__free_page(other);
    k.__free_page(page);
  }
  return {};
}

/* The same function names on every thread: a shrinker registered by one CPU is called by another. */
function smp_count_objects(s: number): number {
  return k.mem.read32(k.__pa(k.kaddr.readPtr(s + k.pressure.shrinkers.L.private_data)));
}

function smp_scan_objects(s: number, sc: ShrinkControl): number {
  const pa = k.__pa(k.kaddr.readPtr(s + k.pressure.shrinkers.L.private_data));
  const a = k.mem.i32At(pa);
  const i = PhysMem.wordIndex(pa);
  for (;;) {
    const n = Atomics.load(a, i);
    const take = Math.min(n, sc.nr_to_scan);
    if (Atomics.compareExchange(a, i, n, n - take) === n) return take;
  }
}

function shrinker(): { freed: number } {
  let freed = 0;
  for (let i = 0; i < rounds; i++) {
    const objects = k.kzalloc(8, k.GFP_KERNEL);
    k.mem.write32(k.__pa(objects), 1000);
    const s = k.shrinker_alloc(0, `smp${cpu}`);
    k.shrinker_set(s, { count_objects: smp_count_objects, scan_objects: smp_scan_objects, seeks: 1, private_data: objects });
    k.shrinker_register(s);
    freed += k.pressure.shrinkers.shrink_slab(k.GFP_KERNEL, 0, 2);
    k.shrinker_free(s); // returns once no CPU is inside its callbacks
    k.kfree(objects);
  }
  return { freed };
}

function ioremap(): object {
  for (let i = 0; i < rounds; i++) {
    const regs = k.ioremap(0xfebf0000, PAGE_SIZE);
    const bar = k.ioremap(0xfe000000 + (i % 8) * 0x20000, (1 + (i % 4)) * PAGE_SIZE);
    if (regs === 0 || bar === 0 || k.ioread32(regs + KMEMDEV_ID) !== 0x4d454d4b) bad++;
    if (k.ioread32(regs + KMEMDEV_SCRATCH) !== 0x5ca7c4) bad++; // the booting thread wrote it: the same device
    k.iowrite32((cpu << 24) | i, bar + cpu * 4); // the BAR the booting thread reads
    k.iounmap(bar);
    k.iounmap(regs);
  }
  return {};
}

const run = { stacks, percpu, kmap, shrinker, ioremap }[mode];
const result = run();
k.detach();
parentPort?.postMessage({ threads, bad, ...result });
