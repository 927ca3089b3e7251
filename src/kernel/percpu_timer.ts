/*
 * A per-CPU periodic work item on a simulated clock, as the slab
 * allocators schedule theirs (SLAB's reap_work every REAPTIMEOUT_AC, SLQB's
 * cache_trim_worker): schedule_delayed_work_on(cpu, work, interval) again
 * at each run.
 *
 * kmem has no timer interrupt: tick(ms) advances the clock, then each CPU
 * this host thread drives runs the work, as that CPU, as many times as its
 * expiries have passed. The clock and the expiries are words of the
 * owner's statics, so every host thread sees the same ones:
 *
 *   jiffiesPa           ulong   the clock, ms since boot
 *   nextPa + cpu * P    ulong   that CPU's next expiry
 */
import type { RamWords } from '../machine/ram_words.ts';
import type { Sched } from './sched.ts';
import type { Smp } from './smp.ts';

export class PerCpuTimer {
  private readonly ptr: number;

  constructor(
    private readonly w: RamWords,
    private readonly sched: Sched,
    private readonly smp: Smp,
    private readonly nrCpus: number,
    private readonly jiffiesPa: number,
    private readonly nextPa: number,
    private readonly interval: number,
  ) {
    this.ptr = w.ptr8 ? 8 : 4;
  }

  /** At boot: the clock at 0, each CPU's first run one interval away. */
  init(): void {
    this.w.wlong(this.jiffiesPa, 0);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.w.wlong(this.nextPa + cpu * this.ptr, this.interval);
  }

  /** The clock, ms. */
  get jiffies(): number {
    return this.w.rulong(this.jiffiesPa);
  }

  /** Advance the clock by ms (an atomic add: other threads tick too) and run each driven CPU's due work as that CPU. */
  tick(ms: number, work: () => void): void {
    this.w.addLong(this.jiffiesPa, ms, this.smp.threads() > 1);
    const jiffies = this.jiffies;
    const me = this.sched.cpu;
    try {
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        if (!this.smp.drives(cpu)) continue;
        const next = this.nextPa + cpu * this.ptr;
        this.sched.cpu = cpu;
        while (this.w.rulong(next) <= jiffies) {
          work();
          this.w.wlong(next, this.w.rulong(next) + this.interval);
        }
      }
    } finally {
      this.sched.cpu = me;
    }
  }
}
