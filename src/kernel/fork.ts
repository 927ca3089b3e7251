/*
 * Kernel stacks (kernel/fork.c alloc_thread_stack_node, free_thread_stack,
 * account_kernel_stack, set_task_stack_end_magic; arch/x86/include/asm/
 * page_{32,64}_types.h THREAD_SIZE; arch/x86/kernel/traps.c
 * handle_stack_overflow).
 *
 * "Kernel space has a small stack, one or two pages": every task gets
 * THREAD_SIZE bytes of stack, 16 KiB on x86_64 (THREAD_SIZE_ORDER 2) and
 * 8 KiB on i386 (order 1), zeroed (THREADINFO_GFP = GFP_KERNEL_ACCOUNT |
 * __GFP_ZERO), counted in NR_KERNEL_STACK_KB (KernelStack in /proc/meminfo).
 *
 *   CONFIG_VMAP_STACK (x86_64; the default here): the stack is a vmalloc
 *     area (__vmalloc_node_range(THREAD_SIZE, THREAD_ALIGN, ...)), so the
 *     page below it is an unmapped guard page (every vmap area is followed
 *     by one, the one below included). Overflowing the stack faults there;
 *     the #PF cannot push its frame on the full stack, the CPU escalates to
 *     a double fault on its own IST stack, and exc_double_fault() finds the
 *     address just below a task stack and calls handle_stack_overflow():
 *
 *       BUG: TASK stack guard page was hit at 00000000c5e0d1f3 (stack is 000000002a7bb58f..00000000f1c9a0e4)
 *       Oops: stack guard page: 0000 [#1] PREEMPT SMP NOPTI
 *       CPU: 0 UID: 0 PID: 2 Comm: deep Not tainted 6.12.0-kmem #1
 *       ...
 *
 *   without it (i386 cannot have it): 2^THREAD_SIZE_ORDER pages from the
 *     page allocator, in the direct map. An overflow silently writes over
 *     whatever page lies below; the STACK_END_MAGIC word at the lowest
 *     address (end_of_stack) is the only witness, and with
 *     CONFIG_SCHED_STACK_END_CHECK the next schedule() panics with
 *     "corrupted stack end detected inside scheduler".
 *
 * kmem has no machine code, so a task "uses" stack explicitly:
 * k.stacks.use_stack(bytes) writes that many bytes of frames downward from
 * the top of current's stack, through the page tables.
 *
 * task->stack: sched.ts lays out task_struct at boot with no room to spare,
 * so the stack pointer of each task lives in kmem's thread table, one
 * 20/12-byte entry per task in a page from the buddy allocator, in the
 * order the tasks got their first stack:
 *   +0 task (struct task_struct *)  +P stack (void *)  +2P stack_vm_area flag (u32)
 * (The kernel's per-CPU cache of two freed vmap stacks, cached_stacks[], is
 * not modelled: every free goes back to vfree.)
 *
 * kernel/fork.c's statics, in .bss (ImageLayout.forkGlobals), shared by
 * every host thread running a CPU:
 *   +0  pidmap_lock    spinlock: protects last_pid and the appending of
 *                      table entries (kernel/pid.c takes it in alloc_pid)
 *   +4  last_pid       pids handed out by kernel_thread() (the next is 100 + last_pid)
 *   +8  table_pfn + 1  the thread table's page (0: none yet); the page is
 *                      allocated outside the lock (GFP_KERNEL may sleep) and
 *                      installed under it, the loser of a race frees its page
 *   +12 nr_entries     entries in use; an entry is complete before it is counted,
 *                      so a look-up (a scan up to nr_entries) needs no lock
 * An entry's stack fields change only for its own task. NR_KERNEL_STACK_KB
 * is added to atomically (mod_lruvec_page_state). vmapStack is this
 * thread's setting for the stacks it allocates next.
 */
import { PAGE_SIZE, formatPtr } from '../arch/x86/layout.ts';
import { KERN_EMERG } from './bug.ts';
import { NR_KERNEL_STACK_KB } from '../mm/mmzone.ts';
import { GFP_KERNEL_ACCOUNT, __GFP_ACCOUNT, __GFP_ZERO, GFP_KERNEL } from '../include/linux/gfp_types.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import { kernelCaller as callerSymbol } from './ret_ip.ts';
import type { Kernel } from './kernel.ts';
import { PhysMem } from '../machine/memory.ts';

export const STACK_END_MAGIC = 0x57ac6e9d;
const THREADINFO_GFP = GFP_KERNEL_ACCOUNT | __GFP_ZERO;
const NUMA_NO_NODE = -1;
/** pid of the first kernel_thread() */
const FIRST_PID = 100;
const F_PIDMAP_LOCK = 0;
const F_LAST_PID = 4;
const F_TABLE_PFN = 8;
const F_NR_ENTRIES = 12;

export class KernelStacks {
  readonly THREAD_SIZE: number;
  readonly THREAD_SIZE_ORDER: number;
  /** CONFIG_VMAP_STACK: x86_64 only. Set before creating tasks to compare. */
  vmapStack: boolean;
  private readonly entrySize: number;
  /** Physical address of the statics in .bss. */
  private readonly globals: number;

  constructor(private readonly k: Kernel) {
    this.THREAD_SIZE_ORDER = k.layout.bits === 64 ? 2 : 1;
    this.THREAD_SIZE = PAGE_SIZE << this.THREAD_SIZE_ORDER;
    this.vmapStack = k.layout.bits === 64;
    this.entrySize = k.layout.ptrSize * 2 + 4;
    this.globals = k.img.forkGlobals;
  }

  private load(off: number): number {
    const pa = this.globals + off;
    return Atomics.load(this.k.mem.i32At(pa), PhysMem.wordIndex(pa));
  }

  private store(off: number, v: number): void {
    const pa = this.globals + off;
    Atomics.store(this.k.mem.i32At(pa), PhysMem.wordIndex(pa), v);
  }

  /** The thread table's physical address, or -1 when there is none yet. */
  private tablePa(): number {
    const pfn1 = this.load(F_TABLE_PFN);
    return pfn1 === 0 ? -1 : (pfn1 - 1) * PAGE_SIZE;
  }

  /** The table, allocated and installed on first use. */
  private table(): number {
    const pa = this.tablePa();
    if (pa >= 0) return pa;
    const pfn = this.k.buddy.__alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
    if (pfn < 0) throw new Error('thread table: out of memory');
    this.k.locks.spin_lock(this.globals + F_PIDMAP_LOCK);
    const lost = this.load(F_TABLE_PFN) !== 0;
    if (!lost) this.store(F_TABLE_PFN, pfn + 1);
    this.k.locks.spin_unlock(this.globals + F_PIDMAP_LOCK);
    if (lost) this.k.buddy.__free_pages(pfn, 0);
    return this.tablePa();
  }

  /** The task's entry: found by a scan of the entries in use; appended when `create`. */
  private entry(task: number, create: boolean): number {
    const tablePa = create ? this.table() : this.tablePa();
    if (tablePa < 0) return -1;
    const found = this.find(tablePa, task, this.load(F_NR_ENTRIES));
    if (found >= 0 || !create) return found;
    const lock = this.globals + F_PIDMAP_LOCK;
    this.k.locks.spin_lock(lock);
    const i = this.load(F_NR_ENTRIES);
    const full = (i + 1) * this.entrySize > PAGE_SIZE;
    if (!full) {
      this.k.access.writePtr(tablePa + i * this.entrySize, task);
      this.store(F_NR_ENTRIES, i + 1);
    }
    this.k.locks.spin_unlock(lock);
    if (full) throw new Error('thread table full');
    return tablePa + i * this.entrySize;
  }

  private find(tablePa: number, task: number, nr: number): number {
    for (let i = 0; i < nr; i++) {
      const e = tablePa + i * this.entrySize;
      if (this.k.access.readPtr(e) === task) return e;
    }
    return -1;
  }

  /** alloc_pid(): the next pid, under pidmap_lock. */
  private alloc_pid(): number {
    const lock = this.globals + F_PIDMAP_LOCK;
    this.k.locks.spin_lock(lock);
    const n = this.load(F_LAST_PID);
    this.store(F_LAST_PID, n + 1);
    this.k.locks.spin_unlock(lock);
    return FIRST_PID + n;
  }

  /** task->stack (task_stack_page), or 0. */
  task_stack_page(task = this.k.sched.current): number {
    const e = this.entry(task, false);
    return e < 0 ? 0 : this.k.access.readPtr(e + this.k.layout.ptrSize);
  }

  /** task->stack_vm_area != NULL */
  task_stack_vm_area(task = this.k.sched.current): boolean {
    const e = this.entry(task, false);
    return e >= 0 && this.k.mem.read32(e + 2 * this.k.layout.ptrSize) !== 0;
  }

  /** end_of_stack(task): the lowest word, where STACK_END_MAGIC lives. */
  end_of_stack(task = this.k.sched.current): number {
    return this.task_stack_page(task);
  }

  private account_kernel_stack(stack: number, vmap: boolean, sign: 1 | -1): void {
    const k = this.k;
    for (let off = 0; off < this.THREAD_SIZE; off += PAGE_SIZE) {
      const pfn = vmap ? k.paging.vm.vmalloc_to_pfn(stack + off) : Math.floor(k.__pa(stack + off) / PAGE_SIZE);
      k.buddy.counters.mod_node_page_state(k.pages.page_to_nid(pfn), NR_KERNEL_STACK_KB, sign * (PAGE_SIZE / 1024));
    }
  }

  /** alloc_thread_stack_node(tsk, node): 0 or -ENOMEM. */
  alloc_thread_stack_node(task: number, node = NUMA_NO_NODE): number {
    const k = this.k;
    let stack: number;
    if (this.vmapStack) {
      // THREADINFO_GFP & ~__GFP_ACCOUNT: memcg charging is done per page afterwards.
      stack = k.paging.vm.__vmalloc_node_range(this.THREAD_SIZE, this.THREAD_SIZE, k.VMALLOC_START, k.VMALLOC_END,
        THREADINFO_GFP & ~__GFP_ACCOUNT, k.PAGE_KERNEL, 0, node, 'alloc_thread_stack_node+0x6b/0x1c0', 'alloc_thread_stack_node');
    } else {
      const page = node === NUMA_NO_NODE ? k.alloc_pages(THREADINFO_GFP, this.THREAD_SIZE_ORDER)
        : k.alloc_pages_node(node, THREADINFO_GFP, this.THREAD_SIZE_ORDER);
      stack = page === 0 ? 0 : k.page_address(page);
    }
    if (stack === 0) return -12;
    const e = this.entry(task, true);
    k.access.writePtr(e + k.layout.ptrSize, stack);
    k.mem.write32(e + 2 * k.layout.ptrSize, this.vmapStack ? 1 : 0);
    this.account_kernel_stack(stack, this.vmapStack, 1);
    // set_task_stack_end_magic()
    k.kaddr.write32(stack, STACK_END_MAGIC);
    return 0;
  }

  /** free_thread_stack(tsk) */
  free_thread_stack(task: number): void {
    const e = this.entry(task, false);
    const stack = e < 0 ? 0 : this.k.access.readPtr(e + this.k.layout.ptrSize);
    if (stack === 0) return;
    const vmap = this.task_stack_vm_area(task);
    this.account_kernel_stack(stack, vmap, -1);
    if (vmap) this.k.vfree(stack);
    else this.k.free_pages(stack, this.THREAD_SIZE_ORDER);
    this.k.access.writePtr(e + this.k.layout.ptrSize, 0);
    this.k.mem.write32(e + 2 * this.k.layout.ptrSize, 0);
  }

  /** dup_task_struct() as far as kmem goes: a new task (pid, comm) with its own kernel stack; 0 on -ENOMEM. */
  kernel_thread(comm: string, pid = this.alloc_pid()): number {
    const task = this.k.sched.createTask(pid, comm);
    if (this.alloc_thread_stack_node(task) !== 0) return 0;
    return task;
  }

  /** Give a task created elsewhere (swapper, insmod) its stack, if it has none. */
  ensure_stack(task = this.k.sched.current): number {
    return this.task_stack_page(task) !== 0 ? 0 : this.alloc_thread_stack_node(task);
  }

  /**
   * current uses `bytes` of stack (call frames written from the top down,
   * through the page tables). Past the bottom of a vmap stack: the guard
   * page, reported as handle_stack_overflow() does (always throws). Past a
   * page-allocator stack: the frames land in the memory below, as they would.
   */
  use_stack(bytes: number, frames: readonly string[] = []): void {
    const k = this.k;
    const task = k.sched.current;
    this.ensure_stack(task);
    const base = this.task_stack_page(task);
    const top = base + this.THREAD_SIZE;
    const vmap = this.task_stack_vm_area(task);
    const low = top - bytes;
    if (vmap && low < base) {
      // Everything down to the base is written; then the push that crosses it faults on the guard page.
      k.kaddr.fill(base, this.THREAD_SIZE, 0xcc);
      const fault = base - k.layout.ptrSize;
      this.handle_stack_overflow(fault, base, top, frames);
    }
    let va = top;
    while (va > low) {
      const pageStart = Math.max(low, (Math.ceil(va / PAGE_SIZE) - 1) * PAGE_SIZE);
      k.kaddr.fill(pageStart, va - pageStart, 0xcc);
      va = pageStart;
    }
  }

  /** handle_stack_overflow(regs, fault_address, info) */
  handle_stack_overflow(fault: number, begin: number, end: number, frames: readonly string[]): never {
    const k = this.k;
    const p = (v: number) => ptr_to_id(k.layout, v);
    const ip = callerSymbol();
    const suffix = k.layout.bits === 64 || k.paging.pt.lv.pae ? ' PREEMPT SMP NOPTI' : ' PREEMPT SMP';
    this.k.bug.die([[KERN_EMERG, `BUG: TASK stack guard page was hit at ${p(fault)} (stack is ${p(begin)}..${p(end)})`]],
      `Oops: stack guard page: 0000 [#1]${suffix}`, ip,
      ['<#DF>', '? __die', '? die', '? handle_stack_overflow', '? exc_double_fault', '? asm_exc_double_fault', '</#DF>', ...frames, ip],
      []);
  }

  /** schedule()'s CONFIG_SCHED_STACK_END_CHECK: the magic word at the end of current's stack. */
  schedule_debug(): void {
    const task = this.k.sched.current;
    const end = this.end_of_stack(task);
    if (end !== 0 && this.k.kaddr.read32(end) !== STACK_END_MAGIC) {
      this.k.bug.panic('corrupted stack end detected inside scheduler', ['__schedule', 'schedule']);
    }
  }

  /** A one-line description for the demo: where a task's stack is. */
  describe(task = this.k.sched.current): string {
    const s = this.task_stack_page(task);
    return `${formatPtr(this.k.layout, s)}..${formatPtr(this.k.layout, s + this.THREAD_SIZE - 1)} ` +
      (this.task_stack_vm_area(task) ? '(vmalloc, guard page below)' : '(page allocator, direct map)');
  }
}
