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
 * sleeps until wake_up() or a timeout, and tries again (kmem queues no
 * wait_queue_entry: every sleeper waits on one wake sequence, below). Who
 * can wake it depends on how kmem runs:
 *
 *   single-threaded (the default, deterministic): only the sleeping task
 *   runs, so no one can ever wake it and nothing changes while it sleeps.
 *   The sleep is refused: sleep() returns false and the caller reports the
 *   would-be deadlock instead of hanging the host.
 *
 *   SMP (workers attached as CPUs, src/init/attach.ts): while other host
 *   threads are attached, the task really sleeps: Atomics.wait() on the
 *   machine's wake sequence (kmem_smp.wake_seq), which every wake_up()
 *   bumps and notifies, for at most a slice of the timeout; then it tries
 *   again, as a kernel task does after io_schedule_timeout(). One wake
 *   sequence for every queue wakes more threads than needed, never fewer.
 *
 * HZ is 250, as in the distribution configs kmem's figures come from.
 */
import { defineStruct } from './struct_layout.ts';
import { INIT_LIST_HEAD, type PointerMemory } from '../lib/list.ts';

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

/** What the sleeper needs of the SMP bookkeeping (src/kernel/smp.ts). */
export interface WakeSource {
  threads(): number;
  wakeSeq(): number;
  sleepUntilWoken(seen: number, ms: number): void;
  wakeAll(): void;
}

/** Longest single Atomics.wait of a sleeping task, in ms. */
const SLEEP_SLICE_MS = 20;

/** Deterministic mode refuses the sleep; with other threads attached the task sleeps on the wake sequence. */
function smpSleeper(smp: WakeSource): Sleeper {
  let seen = smp.wakeSeq();
  return {
    sleep: (_wq, timeout) => {
      if (smp.threads() <= 1) return false;
      smp.sleepUntilWoken(seen, Math.min(SLEEP_SLICE_MS, (timeout * 1000) / HZ));
      seen = smp.wakeSeq();
      return true;
    },
    wake_up: () => smp.wakeAll(),
  };
}

export class WaitQueues {
  readonly sleeper: Sleeper;
  readonly L: ReturnType<typeof waitQueueHeadLayout>;

  constructor(private readonly m: PointerMemory & { write32(va: number, v: number): void }, ptrSize: 4 | 8, smp: WakeSource) {
    this.L = waitQueueHeadLayout(ptrSize);
    this.sleeper = smpSleeper(smp);
  }

  /** init_waitqueue_head(wq) */
  init_waitqueue_head(wq: number): void {
    this.m.write32(wq + this.L.lock, 0);
    INIT_LIST_HEAD(this.m, wq + this.L.head);
  }

  wake_up(wq: number): void {
    this.sleeper.wake_up(wq);
  }

  sleep(wq: number, timeout: number): boolean {
    return this.sleeper.sleep(wq, timeout);
  }
}
