/*
 * The zone counters and their per-CPU diffs (mm/vmstat.c, Linux 6.12:
 * __mod_zone_page_state, zone_page_state, zone_page_state_snapshot,
 * refresh_cpu_vm_stats, calculate_normal_threshold,
 * refresh_zone_stat_thresholds, __count_numa_event).
 *
 * A zone's vm_stat[] counters are atomic_long_t, changed by every CPU.
 * Touching them on every page would bounce their cache line, so each CPU
 * keeps an s8 diff per counter in its per_cpu_zonestat and adds it to the
 * zone's counter only when it passes stat_threshold:
 *
 *   __mod_zone_page_state(zone, item, delta)          (this CPU, irqs off)
 *     x = vm_stat_diff[item] + delta
 *     |x| > stat_threshold ?  atomic_long_add(x, &zone->vm_stat[item]); x = 0
 *     vm_stat_diff[item] = x
 *
 *   zone_page_state(zone, item)           the zone's counter alone (may lag
 *                                         by up to threshold per CPU)
 *   zone_page_state_snapshot(zone, item)  plus every CPU's diff
 *   refresh_cpu_vm_stats()                fold this CPU's diffs (vmstat_update)
 *
 * The NUMA events (numa_hit, numa_local, ...) are per-CPU unsigned longs
 * without a threshold, summed when read. Node counters are added to
 * atomically (see mod_node_page_state()).
 *
 * A diff is written only by its own CPU, with plain stores. The zone's
 * counter is a long in memory (two words on x86_64): while one host thread
 * drives the machine it is added to with plain loads and stores, otherwise
 * with Atomics.add on the low word and the carry or borrow added to the high
 * word, so that no CPU's update is lost. Readers see each word whole.
 *
 * kmem's /proc readers (vmstat.ts, show_mem.ts) print snapshots: as if the
 * vmstat worker had just run on every CPU, the numbers are exact.
 */
import { atomicLongAdd } from '../machine/ram_words.ts';
import type { Smp } from '../kernel/smp.ts';
import { PhysMem } from '../machine/memory.ts';
import type { Sched } from '../kernel/sched.ts';
import { NR_VM_ZONE_STAT_ITEMS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, type Zone } from './mmzone.ts';

const TWO32 = 4294967296;

/** fls(): the position of the highest set bit, 1-based; 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

export class VmCounters {
  constructor(
    private readonly zones: readonly Zone[],
    private readonly sched: Sched,
    private readonly smp: Smp,
    private readonly nrCpus: number,
    private readonly mem: PhysMem,
    /** Physical address of each node's pgdat->vm_stat[0]. */
    private readonly nodeStatPa: readonly number[],
    private readonly ptrSize: number,
  ) {}

  /**
   * mod_node_page_state(): a node counter. kmem keeps the slab items in
   * bytes (NR_SLAB_*_B), which an s8 diff cannot hold, so node counters are
   * added to directly: atomic_long_add(), as a diff past its threshold is.
   */
  mod_node_page_state(nid: number, item: number, delta: number): void {
    const pa = this.nodeStatPa[nid] + item * this.ptrSize;
    atomicLongAdd(this.mem.i32At(pa), PhysMem.wordIndex(pa), this.ptrSize >> 2, delta, this.smp.threads() !== 1);
  }

  /** __mod_zone_page_state(): this CPU's diff, folded into the zone when past the threshold. */
  __mod_zone_page_state(zone: Zone, item: number, delta: number): void {
    const st = zone.stats[this.sched.cpu];
    const u8 = st.u8;
    const b = st.bDiff + item;
    const x = delta + ((u8[b] << 24) >> 24);
    const t = u8[st.bThreshold];
    if (x > t || x < -t) {
      atomicLongAdd(zone.arr, zone.iVmStat + item * zone.lw, zone.lw, x, this.smp.threads() !== 1);
      u8[b] = 0;
    } else {
      u8[b] = x;
    }
  }

  /** zone_page_state_snapshot(): the zone's counter plus every CPU's diff, never below 0. */
  zone_page_state_snapshot(zone: Zone, item: number): number {
    let x = zone.get(zone.iVmStat + item * zone.lw);
    for (const st of zone.stats) x += (st.u8[st.bDiff + item] << 24) >> 24;
    return x < 0 ? 0 : x;
  }

  /** __count_numa_event(): this CPU's event counter. */
  __count_numa_event(zone: Zone, item: number): void {
    const st = zone.stats[this.sched.cpu];
    const i = st.iNumaEvent + item * zone.lw;
    atomicLongAdd(st.arr, i, zone.lw, 1, false);
  }

  /** zone_numa_event_state() after fold_vm_zone_numa_events(), without changing the CPUs' counters. */
  zone_numa_event_snapshot(zone: Zone, item: number): number {
    let x = zone.get(zone.iNumaEvent + item * zone.lw);
    for (const st of zone.stats) {
      const i = st.iNumaEvent + item * zone.lw;
      x += zone.lw === 2 ? (st.arr[i] >>> 0) + (st.arr[i + 1] >>> 0) * TWO32 : st.arr[i] >>> 0;
    }
    return x;
  }

  /** refresh_cpu_vm_stats(): fold this CPU's diffs into the zones' counters. */
  refresh_cpu_vm_stats(): void {
    const threaded = this.smp.threads() !== 1;
    for (const zone of this.zones) {
      const st = zone.stats[this.sched.cpu];
      if (st === undefined) continue;
      for (let item = 0; item < NR_VM_ZONE_STAT_ITEMS; item++) {
        const v = (st.u8[st.bDiff + item] << 24) >> 24;
        if (v === 0) continue;
        st.u8[st.bDiff + item] = 0;
        atomicLongAdd(zone.arr, zone.iVmStat + item * zone.lw, zone.lw, v, threaded);
      }
    }
  }

  /** calculate_normal_threshold(): the drift allowed per CPU, scaled by CPUs and zone size. */
  calculate_normal_threshold(zone: Zone): number {
    const mem = Math.floor(zone.managed() / 2 ** (27 - 12));
    return Math.min(125, 2 * fls(this.nrCpus) * (1 + fls(mem)));
  }

  /**
   * refresh_zone_stat_thresholds(): every populated zone's threshold, on
   * every CPU; and percpu_drift_mark, where the CPUs' diffs together could
   * hide a breach of the min watermark behind a counter above the low one
   * (below the mark, zone_watermark_ok_safe() reads the snapshot).
   */
  refresh_zone_stat_thresholds(): void {
    for (const zone of this.zones) {
      if (zone.present() === 0) continue;
      const t = this.calculate_normal_threshold(zone);
      for (const st of zone.stats) st.u8[st.bThreshold] = t;
      const tolerateDrift = zone.wmark(WMARK_LOW) - zone.wmark(WMARK_MIN);
      const maxDrift = this.nrCpus * t;
      if (maxDrift > tolerateDrift) zone.set(zone.iDriftMark, zone.wmark(WMARK_HIGH) + maxDrift);
    }
  }

  /** pzstats->stat_threshold of a CPU (zoneinfo's "vm stats threshold"). */
  stat_threshold(zone: Zone, cpu: number): number {
    const st = zone.stats[cpu];
    return st === undefined ? 0 : st.u8[st.bThreshold];
  }
}
