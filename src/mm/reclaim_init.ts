/*
 * Memory pressure and mempools at boot (issue 3): the shrinker list, the
 * kswapd threads and direct reclaim wired into the page allocator, and the
 * mempool code.
 *
 *   kswapd_init() -> kswapd_run(nid): a task "kswapd<nid>" per node, with
 *                    PF_MEMALLOC | PF_KSWAPD (pid 70 + nid: kmem's choice,
 *                    where a small machine's boot would put it)
 *   page allocator  hooks.reclaim = __perform_reclaim() (direct reclaim);
 *                   its Kswapd reclaims through the same shrink_node()
 *
 * The .bss area (ImageLayout.reclaim): mm/shrinker.c's statics and per-CPU
 * shrink_control slots, then mm/vmscan.c's reclaim_state slots.
 */
import type { Kernel } from '../kernel/kernel.ts';
import { PF_KSWAPD, PF_MEMALLOC } from '../kernel/sched.ts';
import { WaitQueues } from '../kernel/wait.ts';
import { Shrinkers } from './shrinker.ts';
import { Vmscan } from './vmscan.ts';
import { Mempools, slubDebugOn } from './mempool.ts';

const KSWAPD_PID = 70;

export interface MemPressure {
  shrinkers: Shrinkers;
  vmscan: Vmscan;
  mempools: Mempools;
  wait: WaitQueues;
}

function up64(x: number): number {
  return Math.ceil(x / 64) * 64;
}

/** Bytes of .bss the subsystem needs. */
export function reclaimStaticBytes(ptrSize: 4 | 8, nrCpus: number, maxNodes: number): number {
  return up64(Shrinkers.staticBytes(ptrSize, nrCpus)) + Vmscan.staticBytes(ptrSize, nrCpus, maxNodes);
}

export function reclaim_init(k: Kernel): MemPressure {
  const ptrSize = k.layout.ptrSize;
  const nrCpus = k.config.cpus;
  const pgdatPa = k.mmInit.pgdatPa;
  const cpuToNode: number[] = new Array(nrCpus).fill(0);
  k.config.nodes.forEach((n, nid) => n.cpus.forEach((c) => (cpuToNode[c] = nid)));
  const shrinkers = new Shrinkers({
    layout: k.layout, kaddr: k.kaddr, slab: k.slab, kallsyms: k.kallsyms, rcu: k.rcu, log: k.log, sched: k.sched,
    mutexes: k.mutexes, smp: k.smp, nrCpus, nrNodeIds: pgdatPa.length, dataPa: k.img.reclaim,
  });
  shrinkers.init();
  const kswapdTasks = pgdatPa.map((_, nid) => {
    const t = k.sched.createTask(KSWAPD_PID + nid, `kswapd${nid}`);
    k.sched.setTaskFlags(PF_MEMALLOC | PF_KSWAPD, t);
    return t;
  });
  const vmscan = new Vmscan({
    access: k.access, mz: k.mz, sched: k.sched, shrinkers, slab: k.slab, kswapd: k.buddy.kswapd,
    zonelist: (nid, thisNode) => k.buddy.zonelist(nid, thisNode), cpuToNode, nrCpus, nrNodes: pgdatPa.length,
    dataPa: k.img.reclaim + up64(Shrinkers.staticBytes(ptrSize, nrCpus)), __va: (pa) => k.kaddr.__va(pa), kswapdTasks,
  });
  k.buddy.hooks.reclaim = (gfp, order) => vmscan.__perform_reclaim(gfp, order);
  const wait = new WaitQueues(k.kaddr, ptrSize, k.smp);
  const mempools = new Mempools({
    layout: k.layout, mem: k.mem, kaddr: k.kaddr, pages: k.pages, buddy: k.buddy, slab: k.slab, kallsyms: k.kallsyms,
    wait, log: k.log, bug: k.bug, sched: k.sched, poison: slubDebugOn(k.config.cmdline),
  });
  return { shrinkers, vmscan, mempools, wait };
}
