/*
 * Which host thread drives which simulated CPU (kmem's own bookkeeping, the
 * counterpart of cpu_online_mask for a machine shared by host threads).
 *
 *   kmem_smp (in the kernel image's .bss)
 *   +0   nr_threads        int   host threads attached; the booting thread is 1
 *   +4   next_thread_id    int   ids handed to attaching threads (1 = the booting thread)
 *   +8   wake_seq          int   bumped by every wake_up(): what sleeping threads wait on
 *   +12  cpu_thread[cpus]  int   the thread driving each CPU; 1 (the booting
 *                                thread) until a worker attaches for it
 *
 * Two modes, one code base. Deterministic: one host thread drives every
 * CPU and switches between them with set_cpu(), so any interleaving can be
 * replayed; a contended spinlock there can never be released (the lock
 * code reports it at once). Parallel: a worker attaches for a CPU, takes
 * it over (cpu_thread[cpu] = its id) and runs that CPU's code at the same
 * time as the others; the booting thread can no longer switch to that CPU.
 * Everything shared is in the machine's memory; what a thread keeps in JS
 * is only where things are.
 */
import { PhysMem } from '../machine/memory.ts';
import { waitWhileEqual } from './locking/lock_word.ts';

const NR_THREADS = 0;
const NEXT_ID = 1;
const WAKE_SEQ = 2;
const CPU_THREAD = 3;
export const BOOT_THREAD_ID = 1;

export class SmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmpError';
  }
}

export class Smp {
  private a: Int32Array;
  private readonly w: number;
  /** This host thread's id. */
  threadId = BOOT_THREAD_ID;

  constructor(mem: PhysMem, pa: number, readonly nrCpus: number) {
    this.a = mem.i32At(pa);
    this.w = PhysMem.wordIndex(pa);
    mem.onRebind(() => (this.a = mem.i32At(pa)));
  }

  static bytes(nrCpus: number): number {
    return 4 * (CPU_THREAD + nrCpus);
  }

  /** At boot: the booting thread drives every CPU. */
  init(): void {
    Atomics.store(this.a, this.w + NR_THREADS, 1);
    Atomics.store(this.a, this.w + NEXT_ID, BOOT_THREAD_ID + 1);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) Atomics.store(this.a, this.w + CPU_THREAD + cpu, BOOT_THREAD_ID);
  }

  /** Host threads attached to the machine now. */
  threads(): number {
    return Atomics.load(this.a, this.w + NR_THREADS);
  }

  /**
   * threads() as a plain read (the kernel's READ_ONCE(), no Atomics call),
   * for hot paths that only ask whether other threads may be running: a
   * thread attaching at that very moment is a race either way.
   */
  threadsRelaxed(): number {
    return this.a[this.w + NR_THREADS];
  }

  /** The thread driving `cpu`. */
  threadOf(cpu: number): number {
    return Atomics.load(this.a, this.w + CPU_THREAD + cpu);
  }

  /** May this thread run as `cpu`? */
  drives(cpu: number): boolean {
    return this.threadOf(cpu) === this.threadId;
  }

  /**
   * A worker attaches for `cpu`: the CPU must still be the booting thread's.
   * Returns the new thread id (also kept in this.threadId).
   */
  attachCpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new SmpError(`CPU ${cpu} does not exist (the machine has ${this.nrCpus})`);
    }
    const id = Atomics.add(this.a, this.w + NEXT_ID, 1);
    const was = Atomics.compareExchange(this.a, this.w + CPU_THREAD + cpu, BOOT_THREAD_ID, id);
    if (was !== BOOT_THREAD_ID) throw new SmpError(`CPU ${cpu} is already driven by another thread`);
    Atomics.add(this.a, this.w + NR_THREADS, 1);
    this.threadId = id;
    return id;
  }

  /**
   * Sleep until some wake_up() or `ms` milliseconds (a waiting task, such as
   * mempool_alloc() with every element out). `seen` is wakeSeq() read
   * before the caller last looked at what it waits for, so a wake-up in
   * between is not lost.
   */
  sleepUntilWoken(seen: number, ms: number): void {
    waitWhileEqual(this.a, this.w + WAKE_SEQ, seen, ms);
  }

  wakeSeq(): number {
    return Atomics.load(this.a, this.w + WAKE_SEQ);
  }

  /** wake_up(): every sleeping thread looks again. */
  wakeAll(): void {
    Atomics.add(this.a, this.w + WAKE_SEQ, 1);
    Atomics.notify(this.a, this.w + WAKE_SEQ);
  }

  /** The worker leaves: its CPU goes back to the booting thread. */
  detachCpu(cpu: number): void {
    if (Atomics.compareExchange(this.a, this.w + CPU_THREAD + cpu, this.threadId, BOOT_THREAD_ID) === this.threadId) {
      Atomics.sub(this.a, this.w + NR_THREADS, 1);
    }
  }
}
