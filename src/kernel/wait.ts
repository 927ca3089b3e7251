/*
 * Wait queues, as far as memory management sleeps on them
 * (include/linux/wait.h, kernel/sched/wait.c): a wait_queue_head_t in
 * memory, wake_up(), and the sleep itself.
 *
 *   wait_queue_head_t            x86_64  i386
 *   +0  lock   spinlock_t        4       4
 *   +8  head   struct list_head  16      8      (+4 on i386)
 *                                24      12
 *
 * A task that must wait (mempool_alloc() with every element handed out)
 * queues a wait_queue_entry on the head, sleeps until wake_up() or a
 * timeout, and tries again. Who can wake it depends on how kmem runs:
 *
 *   single-threaded (the default, deterministic): only the sleeping task
 *   runs, so no one can ever wake it and nothing changes while it sleeps.
 *   The sleep is refused: sleep() returns false and the caller reports the
 *   would-be deadlock instead of hanging the host.
 *
 *   SMP (one host worker per CPU, issue 5): a Sleeper that queues an entry
 *   and blocks the worker with Atomics.wait() on a word of the entry,
 *   woken by wake_up()'s Atomics.notify(); set WaitQueues.sleeper to it.
 *
 * HZ is 250, as in the distribution configs kmem's figures come from.
 */
import { defineStruct } from './struct_layout.ts';
import { INIT_LIST_HEAD, list_empty, type PointerMemory } from '../lib/list.ts';

export const HZ = 250;

export function waitQueueHeadLayout(ptrSize: 4 | 8) {
  return defineStruct(ptrSize, [['lock', 'int'], ['head', 'list_head']]);
}

/** How a task sleeps on a wait queue. */
export interface Sleeper {
  /**
   * TASK_UNINTERRUPTIBLE sleep on wq for at most `timeout` jiffies
   * (prepare_to_wait, io_schedule_timeout, finish_wait). True when the task
   * slept and something may have changed (woken, or timed out while others
   * ran); false when no other context exists that could change anything,
   * so sleeping would never end.
   */
  sleep(wq: number, timeout: number): boolean;
  /** wake_up(wq): wake the tasks sleeping on wq. */
  wake_up(wq: number): void;
}

/** kmem's deterministic mode: one context, nobody to wake a sleeper. */
export const singleThreadedSleeper: Sleeper = {
  sleep: () => false,
  wake_up: () => {},
};

export class WaitQueues {
  /** Replaced by the SMP layer. */
  sleeper: Sleeper = singleThreadedSleeper;
  readonly L: ReturnType<typeof waitQueueHeadLayout>;

  constructor(private readonly m: PointerMemory & { write32(va: number, v: number): void }, ptrSize: 4 | 8) {
    this.L = waitQueueHeadLayout(ptrSize);
  }

  /** init_waitqueue_head(wq) */
  init_waitqueue_head(wq: number): void {
    this.m.write32(wq + this.L.lock, 0);
    INIT_LIST_HEAD(this.m, wq + this.L.head);
  }

  /** waitqueue_active(wq): someone is queued. */
  waitqueue_active(wq: number): boolean {
    return !list_empty(this.m, wq + this.L.head);
  }

  wake_up(wq: number): void {
    this.sleeper.wake_up(wq);
  }

  sleep(wq: number, timeout: number): boolean {
    return this.sleeper.sleep(wq, timeout);
  }
}
