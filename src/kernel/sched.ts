/*
 * Tasks and CPUs as far as memory management sees them: `current` (whose pid
 * and comm appear in reports and trace lines), the CPU a thread runs as,
 * and the preempt/irq state that decides whether sleeping is allowed.
 *
 *   task table (in the kernel's .bss): entry 0 is a header whose first
 *   int is nr_tasks, the number of entries in use after it
 *
 *   task_struct (subset, one table entry)
 *   +0  pid       int
 *   +4  flags     int    PF_* (PF_MEMALLOC ...)
 *   +8  comm[16]  char   NUL-padded
 *   +24 reclaim_state    struct reclaim_state *, set while the task reclaims
 *                        (mm/vmscan.c set_task_reclaim_state); slab pages
 *                        freed meanwhile are counted there
 *
 *   per-CPU state (one cache line each)
 *   +0  current          pointer to task_struct
 *   +8  preempt_count    int  (preemption disabled / in atomic section)
 *   +12 irqs_disabled    int
 *
 * A host thread drives one CPU at a time: `cpu` says which. In-atomic
 * checks read that CPU's preempt_count, exactly what in_atomic() does.
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PhysMem } from '../machine/memory.ts';

export const TASK_COMM_LEN = 16;
export const TASK_STRUCT_SIZE = 32;
export const CPU_STATE_SIZE = 64;
export const PF_MEMALLOC = 0x00000800;
/** PF_KSWAPD: "I am kswapd". */
export const PF_KSWAPD = 0x00020000;

/* include/linux/preempt.h: the fields of preempt_count */
export const SOFTIRQ_OFFSET = 1 << 8;
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
export const SOFTIRQ_MASK = 0xff << 8;
export const HARDIRQ_OFFSET = 1 << 16;
export const HARDIRQ_MASK = 0xf << 16;
export const NMI_MASK = 0xf << 20;

const TT_NR_TASKS = 0;
const T_PID = 0;
const T_FLAGS = 4;
const T_COMM = 8;
const T_RECLAIM_STATE = 24;
const C_CURRENT = 0;
const C_PREEMPT = 8;
const C_IRQS_OFF = 12;

export class Sched {
  /** The CPU this host thread is running as. */
  cpu = 0;
  /** Where cpu_state[] is: the array and the word index of cpu_state[0]. */
  private cpuArr: Int32Array;
  private readonly cpuWord: number;

  constructor(
    private readonly access: KmemAccess,
    /** Physical address of the task table and its size in entries. */
    private readonly taskTablePa: number,
    private readonly maxTasks: number,
    /** Physical address of cpu_state[0]. */
    private readonly cpuStatePa: number,
    private readonly virt: (pa: number) => number,
    private readonly phys: (va: number) => number,
  ) {
    this.cpuArr = access.mem.i32At(cpuStatePa);
    access.mem.onRebind(() => (this.cpuArr = access.mem.i32At(cpuStatePa)));
    this.cpuWord = PhysMem.wordIndex(cpuStatePa);
  }

  static bytes(maxTasks: number, nrCpus: number): { tasks: number; cpus: number } {
    return { tasks: maxTasks * TASK_STRUCT_SIZE, cpus: nrCpus * CPU_STATE_SIZE };
  }

  /**
   * Create a task; returns its task_struct address. Any thread may: the
   * slot is claimed with an atomic add on nr_tasks (entry 0 of the table).
   */
  createTask(pid: number, comm: string): number {
    const a = this.access.mem.i32At(this.taskTablePa);
    const slot = 1 + Atomics.add(a, PhysMem.wordIndex(this.taskTablePa + TT_NR_TASKS), 1);
    if (slot >= this.maxTasks) {
      Atomics.sub(a, PhysMem.wordIndex(this.taskTablePa + TT_NR_TASKS), 1);
      throw new Error('task table full');
    }
    const pa = this.taskTablePa + slot * TASK_STRUCT_SIZE;
    const mem = this.access.mem;
    mem.write32(pa + T_PID, pid);
    mem.write32(pa + T_FLAGS, 0);
    const bytes = new TextEncoder().encode(comm.slice(0, TASK_COMM_LEN - 1));
    mem.fill(pa + T_COMM, TASK_COMM_LEN, 0);
    mem.writeBytes(pa + T_COMM, bytes);
    this.access.writePtr(pa + T_RECLAIM_STATE, 0);
    return this.virt(pa);
  }

  private cpuPa(cpu: number): number {
    return this.cpuStatePa + cpu * CPU_STATE_SIZE;
  }

  setCurrent(task: number, cpu = this.cpu): void {
    this.access.writePtr(this.cpuPa(cpu) + C_CURRENT, task);
  }

  /** The task running on another CPU (spinlock reports name a lock's owner this way). */
  currentOn(cpu: number): number {
    return this.access.readPtr(this.cpuPa(cpu) + C_CURRENT);
  }

  /** current: the task running on this thread's CPU. */
  get current(): number {
    return this.access.readPtr(this.cpuPa(this.cpu) + C_CURRENT);
  }

  pid(task = this.current): number {
    return this.access.mem.read32(this.phys(task) + T_PID) | 0;
  }

  comm(task = this.current): string {
    const raw = this.access.mem.readBytes(this.phys(task) + T_COMM, TASK_COMM_LEN);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(raw.subarray(0, end < 0 ? TASK_COMM_LEN : end));
  }

  taskFlags(task = this.current): number {
    return this.access.mem.read32(this.phys(task) + T_FLAGS);
  }

  setTaskFlags(flags: number, task = this.current): void {
    this.access.mem.write32(this.phys(task) + T_FLAGS, flags);
  }

  /** current->reclaim_state: a struct reclaim_state { unsigned long reclaimed; } * or 0. */
  reclaimState(task = this.current): number {
    return this.access.readPtr(this.phys(task) + T_RECLAIM_STATE);
  }

  setReclaimState(rs: number, task = this.current): void {
    this.access.writePtr(this.phys(task) + T_RECLAIM_STATE, rs);
  }

  /**
   * mm_account_reclaimed_pages() (include/linux/swap.h): pages freed
   * outside LRU reclaim (slab pages) count as reclaimed when the current
   * task is reclaiming.
   */
  mm_account_reclaimed_pages(pages: number): void {
    const rs = this.access.readPtr(this.phys(this.current) + T_RECLAIM_STATE);
    if (rs === 0) return;
    const pa = this.phys(rs);
    this.access.writeUlong(pa, this.access.readUlong(pa) + pages);
  }

  /** memalloc_noreclaim_save(): set PF_MEMALLOC; returns the old PF_MEMALLOC bit for the restore. */
  memalloc_noreclaim_save(): number {
    const flags = this.taskFlags();
    this.setTaskFlags(flags | PF_MEMALLOC);
    return flags & PF_MEMALLOC;
  }

  memalloc_noreclaim_restore(old: number): void {
    this.setTaskFlags((this.taskFlags() & ~PF_MEMALLOC) | old);
  }

  /** Index of this CPU's preempt_count in cpuArr. */
  private preemptWord(): number {
    return this.cpuWord + ((this.cpu * CPU_STATE_SIZE + C_PREEMPT) >> 2);
  }

  /** Index of this CPU's irqs_disabled word in cpuArr. */
  private irqsWord(): number {
    return this.cpuWord + ((this.cpu * CPU_STATE_SIZE + C_IRQS_OFF) >> 2);
  }

  preempt_count(): number {
    return this.cpuArr[this.preemptWord()];
  }

  preempt_disable(): void {
    this.cpuArr[this.preemptWord()]++;
  }

  preempt_enable(): void {
    const i = this.preemptWord();
    if (this.cpuArr[i] > 0) this.cpuArr[i]--;
  }

  irqs_disabled(): boolean {
    return this.cpuArr[this.irqsWord()] !== 0;
  }

  local_irq_disable(): void {
    this.cpuArr[this.irqsWord()] = 1;
  }

  local_irq_enable(): void {
    this.cpuArr[this.irqsWord()] = 0;
  }

  /**
   * Interrupt context (include/linux/preempt.h): preempt_count has a
   * SOFTIRQ byte (bits 8..15) and a HARDIRQ nibble (bits 16..19) besides the
   * preemption count; irq_enter() adds HARDIRQ_OFFSET, local_bh_disable()
   * SOFTIRQ_DISABLE_OFFSET. in_interrupt() is any of them set.
   */
  irq_enter(): void {
    this.addPreempt(HARDIRQ_OFFSET);
  }

  irq_exit(): void {
    if (this.preempt_count() & HARDIRQ_MASK) this.addPreempt(-HARDIRQ_OFFSET);
  }

  local_bh_disable(): void {
    this.addPreempt(SOFTIRQ_DISABLE_OFFSET);
  }

  local_bh_enable(): void {
    if (this.preempt_count() & SOFTIRQ_MASK) this.addPreempt(-SOFTIRQ_DISABLE_OFFSET);
  }

  /** in_interrupt(): hard or soft interrupt context, or bottom halves disabled. */
  in_interrupt(): boolean {
    return (this.preempt_count() & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)) !== 0;
  }

  private addPreempt(delta: number): void {
    this.cpuArr[this.preemptWord()] += delta;
  }

  /** in_atomic() || irqs_disabled(): sleeping is not allowed. */
  atomicContext(): boolean {
    return this.preempt_count() !== 0 || this.irqs_disabled();
  }
}
