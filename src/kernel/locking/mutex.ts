/*
 * struct mutex (include/linux/mutex.h, kernel/locking/mutex.c): a sleeping
 * lock, for sections that may allocate with GFP_KERNEL (slab_mutex around
 * kmem_cache_create/destroy, shrinker_mutex, vmap_purge_lock).
 *
 *   struct mutex (kmem)   +0  the lock word (lock_word.ts: owner CPU + 1, WAITERS)
 *
 * Unlike spin_lock(), mutex_lock() does not disable preemption: the holder
 * may sleep. It may itself sleep, so it begins with might_sleep(). A task
 * that waits for a mutex sleeps in TASK_UNINTERRUPTIBLE; if it waits for
 * hung_task_timeout_secs (120 by default) the hung-task detector
 * (kernel/hung_task.c) prints
 *
 *   INFO: task comm:pid blocked for more than 120 seconds.
 *         Not tainted 6.12.0-kmem #1
 *   "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
 *
 * and the stack. In the deterministic mode (one host thread drives every
 * CPU) and when a task takes a mutex it already holds, the wait can never
 * end: kmem prints that report at once, and the call backs out with a
 * KernelBug of kind 'deadlock'.
 */
import { KERN_ERR, KernelBug, UTS_RELEASE, type Bug, type Log } from '../bug.ts';
import type { Sched } from '../sched.ts';
import { OWNER_MASK, type LockWords, type ThreadCount } from './lock_word.ts';

/** CONFIG_DEFAULT_HUNG_TASK_TIMEOUT */
export const HUNG_TASK_TIMEOUT_SECS = 120;

export class Mutexes {
  hungTaskTimeoutSecs = HUNG_TASK_TIMEOUT_SECS;

  constructor(
    private readonly words: LockWords,
    private readonly sched: Sched,
    private readonly smp: ThreadCount,
    private readonly log: Log,
    private readonly bug: Bug,
  ) {}

  mutex_init(pa: number): void {
    this.words.init(pa);
  }

  mutex_is_locked(pa: number): boolean {
    return this.words.owner(pa) >= 0;
  }

  mutex_lock(pa: number): void {
    this.bug.might_sleep('kernel/locking/mutex.c', 283, ['mutex_lock']);
    const me = this.sched.cpu + 1;
    const seen = this.words.tryAcquire(pa, me);
    if (seen === 0) return;
    if ((seen & OWNER_MASK) === me || this.smp.threadsRelaxed() <= 1) this.hungTask(this.hungTaskTimeoutSecs);
    if (!this.words.waitAcquire(pa, me, this.hungTaskTimeoutSecs * 1000)) this.hungTask(this.hungTaskTimeoutSecs);
  }

  /** mutex_trylock(): true if the mutex was free and is now ours. */
  mutex_trylock(pa: number): boolean {
    return this.words.tryAcquire(pa, this.sched.cpu + 1) === 0;
  }

  mutex_unlock(pa: number): void {
    if (this.words.owner(pa) !== this.sched.cpu) {
      // DEBUG_MUTEXES: DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)
      this.bug.warn('kernel/locking/mutex.c', 930, '__mutex_unlock_slowpath', 'DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)',
        ['mutex_unlock'], true);
      return;
    }
    this.words.release(pa);
  }

  /** kernel/hung_task.c check_hung_task(): the report; the waiting call backs out. */
  private hungTask(seconds: number): never {
    const lines = [
      `INFO: task ${this.sched.comm()}:${this.sched.pid()} blocked for more than ${seconds} seconds.`,
      `      ${this.bug.print_tainted()} ${UTS_RELEASE} #1`,
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
    ];
    for (const l of lines) this.log.printk(KERN_ERR, l);
    const stack = this.bug.dump_stack(['schedule', 'schedule_preempt_disabled', '__mutex_lock', 'mutex_lock'], KERN_ERR);
    throw new KernelBug('deadlock', [...lines, ...stack].join('\n'));
  }
}
