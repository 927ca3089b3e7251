/*
 * RCU callbacks and grace periods, as far as memory management needs them
 * (kernel/rcu/tree.c call_rcu(), synchronize_rcu(), rcu_barrier();
 * include/linux/rcupdate.h kfree_rcu()).
 *
 * A callback is a struct rcu_head embedded in the object it will free:
 *
 *   struct rcu_head {                       the queue (kernel .bss)
 *       struct rcu_head *next;              +0       head: first rcu_head queued
 *       void (*func)(struct rcu_head *);    +ptr     tail: &last->next (or &head)
 *   };                                      +2*ptr   number of callbacks queued (long)
 *                                           +3*ptr   gp_seq: grace periods completed
 *                                           +4*ptr   kvfree: code address (see below)
 *                                           +5*ptr   lock: a spinlock_t around the queue
 *
 *   head -> [next|func] -> [next|func] -> NULL      (in the objects themselves)
 *
 * Grace periods. On a real machine a grace period ends by itself within
 * milliseconds, once every CPU has passed a quiescent state, and the
 * callbacks queued before it then run from softirq context. kmem has no
 * timer and no scheduler ticks, so a grace period ends exactly when someone
 * waits for one: synchronize_rcu() ends the current grace period and runs the
 * callbacks queued before it; rcu_barrier() runs callbacks until none is
 * left (including any queued by callbacks). kmem_cache_destroy() calls
 * rcu_barrier() as the kernel does. Until then every queued object stays
 * allocated: SLAB_TYPESAFE_BY_RCU slabs are not returned to the page
 * allocator, and kfree_rcu() objects are not freed.
 *
 * kfree_rcu(ptr, offset) queues the rcu_head at ptr + offset with the offset
 * itself as func: a "function pointer" below 4096 is an offset, and the
 * callback is kvfree(head - offset). That is the kernel's historical
 * __kfree_rcu() scheme; 6.12 batches kfree_rcu() pointers per CPU in pages,
 * which ends the same way. The slab allocator registers kvfree at boot.
 * func is otherwise a code address from kallsyms.
 *
 * SMP: the queue is one for the machine, so call_rcu() and the splice of
 * synchronize_rcu() take its lock (with interrupts off, as the kernel's
 * per-CPU callback lists are touched); the callbacks run outside it, on
 * the thread that ended the grace period, and must be registered there
 * (kallsyms.ts).
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import type { PointerMemory } from '../lib/list.ts';
import type { Kallsyms } from './kallsyms.ts';
import type { Spinlocks } from './locking/spinlock.ts';

/** __is_kvfree_rcu_offset(): func values below this are offsets, not code. */
const KVFREE_OFFSET_LIMIT = 4096;

export class Rcu {
  private readonly p: number;

  constructor(
    private readonly access: KmemAccess,
    /** Kernel virtual addresses: the rcu_heads may be in the direct map or in the memmap. */
    private readonly m: PointerMemory,
    private readonly kallsyms: Kallsyms,
    private readonly locks: Spinlocks,
    /** Physical address of the queue (globalsBytes() bytes of .bss). */
    private readonly pa: number,
    /** Kernel virtual address of the same. */
    private readonly va: number,
  ) {
    this.p = access.ptrSize;
  }

  static globalsBytes(ptrSize: number): number {
    return 6 * ptrSize;
  }

  /** rcu_init(): an empty queue. */
  rcu_init(): void {
    this.access.writePtr(this.pa, 0);
    this.access.writePtr(this.pa + this.p, this.va);
    this.access.writeLong(this.pa + 2 * this.p, 0);
    this.access.writeUlong(this.pa + 3 * this.p, 0);
    this.access.writePtr(this.pa + 4 * this.p, 0);
    this.locks.spin_lock_init(this.lockPa);
  }

  private get lockPa(): number {
    return this.pa + 5 * this.p;
  }

  /** The code address kvfree_rcu callbacks call with the object. */
  set_kvfree(addr: number): void {
    this.access.writePtr(this.pa + 4 * this.p, addr);
  }

  /** Callbacks queued and not yet invoked. */
  pending(): number {
    return this.access.readLong(this.pa + 2 * this.p);
  }

  /** Grace periods completed since boot. */
  gp_seq(): number {
    return this.access.readUlong(this.pa + 3 * this.p);
  }

  /** call_rcu(head, func): invoke func(head) after a grace period. */
  call_rcu(head: number, func: number): void {
    this.m.writePtr(head, 0);
    this.m.writePtr(head + this.p, func);
    const flags = this.locks.spin_lock_irqsave(this.lockPa);
    const tail = this.access.readPtr(this.pa + this.p);
    this.m.writePtr(tail, head);
    this.access.writePtr(this.pa + this.p, head);
    this.access.writeLong(this.pa + 2 * this.p, this.pending() + 1);
    this.locks.spin_unlock_irqrestore(this.lockPa, flags);
  }

  /** kfree_rcu(ptr, offset): kvfree(ptr) after a grace period; the rcu_head is at ptr + offset. */
  kfree_rcu(ptr: number, offset: number): void {
    if (offset >= KVFREE_OFFSET_LIMIT || offset < 0) throw new RangeError(`kfree_rcu: rcu_head offset ${offset} is not below ${KVFREE_OFFSET_LIMIT}`);
    this.call_rcu(ptr + offset, offset);
  }

  /** synchronize_rcu(): end the current grace period; run the callbacks queued before it, in order. */
  synchronize_rcu(): void {
    const flags = this.locks.spin_lock_irqsave(this.lockPa);
    let cb = this.access.readPtr(this.pa);
    this.access.writePtr(this.pa, 0);
    this.access.writePtr(this.pa + this.p, this.va);
    this.access.writeUlong(this.pa + 3 * this.p, this.gp_seq() + 1);
    let n = 0;
    for (let x = cb; x !== 0; x = this.m.readPtr(x)) n++;
    this.access.writeLong(this.pa + 2 * this.p, this.pending() - n);
    this.locks.spin_unlock_irqrestore(this.lockPa, flags);
    while (cb !== 0) {
      const next = this.m.readPtr(cb);
      const func = this.m.readPtr(cb + this.p);
      if (func < KVFREE_OFFSET_LIMIT) this.kallsyms.call(this.access.readPtr(this.pa + 4 * this.p), cb - func);
      else this.kallsyms.call(func, cb);
      cb = next;
    }
  }

  /** rcu_barrier(): wait until every callback queued so far (and any they queue) has run. */
  rcu_barrier(): void {
    while (this.access.readPtr(this.pa) !== 0) this.synchronize_rcu();
  }
}
