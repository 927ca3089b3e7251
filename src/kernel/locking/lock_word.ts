/*
 * The word under every kmem lock (spinlock_t, struct mutex): one 32-bit int
 * in simulated memory, so that all host threads attached to the machine
 * see the same lock.
 *
 *   31        30 ..................... 0
 *   +---------+------------------------+
 *   | WAITERS |   owner CPU + 1        |     0 = unlocked
 *   +---------+------------------------+
 *
 * WAITERS is set by a thread that went to sleep in Atomics.wait on the
 * word, so the release knows whether to Atomics.notify: an uncontended
 * acquire/release pair is one compareExchange and one exchange. While the
 * booting thread is the only one attached, plain loads and stores do (as a
 * uniprocessor build compiles locks down to preemption control); the word
 * means the same either way, so a worker may attach while a lock is held.
 */
import { PhysMem } from '../../machine/memory.ts';

export const WAITERS = 0x80000000 | 0;
export const OWNER_MASK = 0x7fffffff;
/** How long one Atomics.wait sleeps before the caller's watchdog looks at the time, in ms. */
const WAIT_SLICE_MS = 50;

export interface ThreadCount {
  /** Host threads attached (Atomics.load). */
  threads(): number;
  /** Host threads attached, as a plain read (a thread attaching at that very moment is a race either way). */
  threadsRelaxed(): number;
}

/**
 * Block the thread until the word at a[i] is no longer `value` or `ms`
 * pass: Atomics.wait, or where a thread may not block (a browser page's
 * main thread, where Atomics.wait throws) a spin on Atomics.load.
 */
export function waitWhileEqual(a: Int32Array, i: number, value: number, ms: number): void {
  if (canBlock) {
    try {
      Atomics.wait(a, i, value, ms);
      return;
    } catch {
      canBlock = false;
    }
  }
  const end = performance.now() + ms;
  while (Atomics.load(a, i) === value && performance.now() < end) { /* spin */ }
}

let canBlock = true;

export class LockWords {
  constructor(private readonly mem: PhysMem, private readonly smp: ThreadCount) {}

  /** Take the lock for `me` (owner CPU + 1) if it is free: 0, else the word as seen. */
  tryAcquire(pa: number, me: number): number {
    const a = this.mem.i32At(pa);
    const i = PhysMem.wordIndex(pa);
    if (this.smp.threadsRelaxed() === 1) {
      const seen = a[i];
      if (seen === 0) a[i] = me;
      return seen;
    }
    return Atomics.compareExchange(a, i, 0, me);
  }

  /**
   * Wait (other threads attached) until the lock is ours: true; false when
   * `maxMs` passed first. The word is left marked WAITERS while others may
   * still sleep on it.
   */
  waitAcquire(pa: number, me: number, maxMs: number): boolean {
    const a = this.mem.i32At(pa);
    const i = PhysMem.wordIndex(pa);
    const start = Date.now();
    for (;;) {
      let cur = Atomics.load(a, i);
      if (cur === 0) {
        if (Atomics.compareExchange(a, i, 0, me | WAITERS) === 0) return true;
        continue;
      }
      if ((cur & WAITERS) === 0) {
        if (Atomics.compareExchange(a, i, cur, cur | WAITERS) !== cur) continue;
        cur |= WAITERS;
      }
      waitWhileEqual(a, i, cur, WAIT_SLICE_MS);
      if (Date.now() - start >= maxMs) return false;
    }
  }

  /** Release: the word as it was (0 when the lock was not held: nothing changed). */
  release(pa: number): number {
    const a = this.mem.i32At(pa);
    const i = PhysMem.wordIndex(pa);
    const cur = Atomics.load(a, i);
    if (cur === 0) return 0;
    if ((cur & WAITERS) === 0 && this.smp.threadsRelaxed() === 1) a[i] = 0;
    else if ((Atomics.exchange(a, i, 0) & WAITERS) !== 0) Atomics.notify(a, i);
    return cur;
  }

  /** The owning CPU, or -1. */
  owner(pa: number): number {
    return (Atomics.load(this.mem.i32At(pa), PhysMem.wordIndex(pa)) & OWNER_MASK) - 1;
  }

  init(pa: number): void {
    Atomics.store(this.mem.i32At(pa), PhysMem.wordIndex(pa), 0);
  }
}
