/*
 * spinlock_t (include/linux/spinlock.h, kernel/locking/spinlock.c and the
 * checks of kernel/locking/spinlock_debug.c), on Atomics.
 *
 * A lock is one 32-bit word in the structure that owns it (zone->lock,
 * kmem_cache_node->list_lock, ...): lock_word.ts has its format and the
 * Atomics. Its owner field is what CONFIG_DEBUG_SPINLOCK keeps in
 * lock->owner_cpu; the owning task is that CPU's current (a spinlock holder
 * cannot be preempted, so the two never disagree).
 *
 * What the kernel does around the word is done too: spin_lock() disables
 * preemption (so in_atomic() is true and might_sleep() complains), the
 * _irqsave/_irqrestore and _irq variants disable interrupts on this CPU, the
 * _bh variants disable bottom halves.
 *
 * Two kinds of report, worded as Linux words them:
 *  - spin_dump() of spinlock_debug.c: "BUG: spinlock recursion on CPU#0,
 *    comm/pid" when a CPU takes a lock it already holds, "already
 *    unlocked" / "wrong CPU" on a bad unlock; then " lock: ..., .magic:
 *    dead4ead, .owner: comm/pid, .owner_cpu: N" and the stack. A recursive
 *    spin_lock() would spin forever; kmem reports it and the call backs out
 *    (KernelBug 'deadlock'), leaving the lock with its owner.
 *  - the soft-lockup watchdog (kernel/watchdog.c): a CPU spinning on a lock
 *    for 2 * watchdog_thresh seconds prints "watchdog: BUG: soft lockup -
 *    CPU#1 stuck for 22s! [comm:pid]". When one host thread drives every
 *    CPU (the deterministic mode), a lock held by another CPU can never be
 *    released while this CPU spins, so the lockup is certain: it is reported
 *    at once, with the watchdog's figure, and the call backs out.
 *
 * Lock words must be 4-byte aligned (they are ints in their structures).
 */
import { KERN_EMERG, KernelBug, type Bug, type Log } from '../bug.ts';
import type { Sched } from '../sched.ts';
import type { Smp } from '../smp.ts';
import { LockWords, OWNER_MASK } from './lock_word.ts';
import type { PhysMem } from '../../machine/memory.ts';

/** SPINLOCK_MAGIC, printed by spin_dump(). */
const SPINLOCK_MAGIC = 'dead4ead';
/** kernel/watchdog.c: watchdog_thresh defaults to 10; a soft lockup is 2 * thresh seconds. */
export const WATCHDOG_THRESH_DEFAULT = 10;
const LOCK_FRAMES = ['do_raw_spin_lock', '_raw_spin_lock'];
const UNLOCK_FRAMES = ['do_raw_spin_unlock', '_raw_spin_unlock'];

export class Spinlocks {
  /** Seconds a CPU may spin before the soft-lockup report (2 * watchdog_thresh; Infinity: watchdog off). */
  softLockupSeconds = 2 * WATCHDOG_THRESH_DEFAULT;
  readonly words: LockWords;

  constructor(
    mem: PhysMem,
    private readonly sched: Sched,
    private readonly smp: Smp,
    private readonly log: Log,
    private readonly bug: Bug,
    /** __va(): lock addresses are printed as kernel virtual addresses. */
    private readonly virt: (pa: number) => number,
    /** A kernel virtual address as %p prints it (with no_hash_pointers). */
    private readonly printPtr: (va: number) => string,
  ) {
    this.words = new LockWords(mem, smp);
  }

  spin_lock_init(lockPa: number): void {
    this.words.init(lockPa);
  }

  spin_is_locked(lockPa: number): boolean {
    return this.words.owner(lockPa) >= 0;
  }

  /** The CPU holding the lock, or -1. */
  owner_cpu(lockPa: number): number {
    return this.words.owner(lockPa);
  }

  spin_lock(lockPa: number): void {
    this.sched.preempt_disable();
    const me = this.sched.cpu + 1;
    const seen = this.words.tryAcquire(lockPa, me);
    if (seen !== 0) this.contended(lockPa, me, seen);
  }

  spin_unlock(lockPa: number): void {
    const owner = this.words.owner(lockPa);
    if (owner !== this.sched.cpu) {
      this.bug.reported('BUG', this.spin_dump(lockPa, owner < 0 ? 'already unlocked' : 'wrong CPU', UNLOCK_FRAMES), null);
    } else this.words.release(lockPa);
    this.sched.preempt_enable();
  }

  /** spin_trylock(): true if the lock was free and is now ours (no wait, no report). */
  spin_trylock(lockPa: number): boolean {
    this.sched.preempt_disable();
    if (this.words.tryAcquire(lockPa, this.sched.cpu + 1) === 0) return true;
    this.sched.preempt_enable();
    return false;
  }

  /** spin_lock_irqsave(): returns the flags to hand back to spin_unlock_irqrestore(). */
  spin_lock_irqsave(lockPa: number): number {
    const flags = this.sched.irqs_disabled() ? 1 : 0;
    this.sched.local_irq_disable();
    try {
      this.spin_lock(lockPa);
    } catch (e) {
      // the call backs out (recursion, soft lockup): as it was before it
      if (flags === 0) this.sched.local_irq_enable();
      throw e;
    }
    return flags;
  }

  spin_unlock_irqrestore(lockPa: number, flags: number): void {
    this.spin_unlock(lockPa);
    if (flags === 0) this.sched.local_irq_enable();
  }

  spin_lock_irq(lockPa: number): void {
    this.sched.local_irq_disable();
    try {
      this.spin_lock(lockPa);
    } catch (e) {
      this.sched.local_irq_enable();
      throw e;
    }
  }

  spin_unlock_irq(lockPa: number): void {
    this.spin_unlock(lockPa);
    this.sched.local_irq_enable();
  }

  spin_lock_bh(lockPa: number): void {
    this.sched.local_bh_disable();
    try {
      this.spin_lock(lockPa);
    } catch (e) {
      this.sched.local_bh_enable();
      throw e;
    }
  }

  spin_unlock_bh(lockPa: number): void {
    this.spin_unlock(lockPa);
    this.sched.local_bh_enable();
  }

  /** lockdep_assert_held() / assert_spin_locked(): does this CPU hold the lock? */
  held_by_me(lockPa: number): boolean {
    return this.words.owner(lockPa) === this.sched.cpu;
  }

  private contended(lockPa: number, me: number, seen: number): void {
    if ((seen & OWNER_MASK) === me) {
      const lines = this.spin_dump(lockPa, 'recursion', LOCK_FRAMES);
      this.sched.preempt_enable();
      throw new KernelBug('deadlock', lines.join('\n'));
    }
    if (this.smp.threadsRelaxed() <= 1) {
      // Nobody else runs: the holder can never release the lock.
      this.softLockup(Number.isFinite(this.softLockupSeconds) ? this.softLockupSeconds + 2 : 2 * WATCHDOG_THRESH_DEFAULT + 2);
    }
    const start = Date.now();
    if (!this.words.waitAcquire(lockPa, me, this.softLockupSeconds * 1000)) this.softLockup(Math.floor((Date.now() - start) / 1000));
  }

  /** kernel/locking/spinlock_debug.c spin_dump(): prints the report, returns its lines. */
  private spin_dump(lockPa: number, msg: string, frames: readonly string[]): string[] {
    const ownerCpu = this.words.owner(lockPa);
    const ownerTask = ownerCpu >= 0 ? this.sched.currentOn(ownerCpu) : 0;
    const owner = ownerCpu >= 0 ? `${this.sched.comm(ownerTask)}/${this.sched.pid(ownerTask)}` : '<none>/-1';
    const lines = [
      `BUG: spinlock ${msg} on CPU#${this.sched.cpu}, ${this.sched.comm()}/${this.sched.pid()}`,
      ` lock: 0x${this.printPtr(this.virt(lockPa))}, .magic: ${SPINLOCK_MAGIC}, .owner: ${owner}, .owner_cpu: ${ownerCpu}`,
    ];
    for (const l of lines) this.log.printk(KERN_EMERG, l);
    return lines.concat(this.bug.dump_stack(frames, KERN_EMERG));
  }

  /** kernel/watchdog.c watchdog_timer_fn(): the soft-lockup report; the spinning call backs out. */
  private softLockup(seconds: number): never {
    const line = `watchdog: BUG: soft lockup - CPU#${this.sched.cpu} stuck for ${seconds}s! [${this.sched.comm()}:${this.sched.pid()}]`;
    this.log.printk(KERN_EMERG, line);
    const stack = this.bug.dump_stack(['native_queued_spin_lock_slowpath', '_raw_spin_lock'], KERN_EMERG);
    this.sched.preempt_enable();
    throw new KernelBug('deadlock', [line, ...stack].join('\n'));
  }
}
