/*
 * Static per-CPU variables (include/linux/percpu-defs.h, mm/percpu.c
 * setup_per_cpu_areas / pcpu_setup_first_chunk, arch/x86/kernel/setup_percpu.c).
 *
 *   DEFINE_PER_CPU(int, counter);     // a variable in the .data..percpu section
 *   per_cpu(counter, cpu)             // CPU cpu's copy
 *   get_cpu_var(counter)++; put_cpu_var(counter);   // preemption off in between
 *   this_cpu_inc(counter)             // one instruction on x86 (%gs-relative), no preempt_disable needed
 *   int cpu = get_cpu(); ...; put_cpu();
 *
 * The linker collects every DEFINE_PER_CPU into .data..percpu, with its
 * initial value. At boot, setup_per_cpu_areas() copies that section into
 * the static area at the start of every CPU's unit of the first chunk
 * (percpu.ts: a 16 KiB static area), and a per-CPU pointer is the offset of
 * the variable in the section (x86_64 keeps per-CPU data zero-based); CPU
 * n's copy is at __per_cpu_offset[n] + offset. After the copy the CPUs'
 * copies are independent: a write on one CPU is not seen through another.
 *
 * kmem has no linker: DEFINE_PER_CPU(name, size, init) places the variable
 * in the section image (a page run from the buddy allocator standing in for
 * the kernel image's .data..percpu), and does for it what boot does for the
 * whole section: copies its initial bytes into every CPU's static area. A
 * name defined twice gives the same variable (a DECLARE_PER_CPU elsewhere).
 *
 * The image (PERCPU_STATIC_SIZE bytes), all in simulated memory so that
 * every host thread running a CPU sees the same variables:
 *
 *   +0                variables, growing up (static_used bytes)
 *   ...               free
 *   names_low         the symbol table (what kallsyms would tell the
 *                     linker's names), growing down, one entry per variable:
 *                     ptr u32, size u32, name_len u32, name (padded to 4)
 *   size - 8          static_used   u32
 *   size - 4          names_low     u32 (0: no names yet, i.e. size - 8)
 *
 * In .bss (ImageLayout.percpuDefs): +0 the image's pfn + 1 (0: none yet),
 * +4 a spinlock serialising definitions (the linker runs once; kmem's
 * definitions may come from several threads). A look-up scans the names
 * without the lock: an entry is complete before names_low covers it.
 * this_cpu_*() touch only this CPU's copy, as the kernel's do.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { GFP_NOWAIT, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { PhysMem } from '../machine/memory.ts';

/** The static area of each unit (percpu.ts STATIC_SIZE). */
export const PERCPU_STATIC_SIZE = 16 << 10;
/* The image: the section, then (last 8 bytes) the bytes used. */
const HDR = 0;
const USED_OFF = PERCPU_STATIC_SIZE - 8;
const NAMES_LOW_OFF = PERCPU_STATIC_SIZE - 4;
/* .bss */
const G_IMAGE_PFN = 0;
const G_LOCK = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PercpuDefs {
  private readonly globals: number;

  constructor(private readonly k: Kernel) {
    this.globals = k.img.percpuDefs;
  }

  private imagePfnWord(): [Int32Array, number] {
    const pa = this.globals + G_IMAGE_PFN;
    return [this.k.mem.i32At(pa), PhysMem.wordIndex(pa)];
  }

  /** The image's physical address, or -1. */
  private imageIfAny(): number {
    const [a, i] = this.imagePfnWord();
    const pfn1 = Atomics.load(a, i);
    return pfn1 === 0 ? -1 : (pfn1 - 1) * PAGE_SIZE;
  }

  private image(): number {
    const pa = this.imageIfAny();
    if (pa >= 0) return pa;
    const order = this.k.get_order(PERCPU_STATIC_SIZE);
    const pfn = this.k.buddy.__alloc_pages(GFP_NOWAIT | __GFP_ZERO, order); // the "linker's" memory: any context
    if (pfn < 0) throw new Error('percpu: no memory for the section image');
    const [a, i] = this.imagePfnWord();
    if (Atomics.compareExchange(a, i, 0, pfn + 1) !== 0) this.k.buddy.__free_pages(pfn, order); // another thread's came first
    return this.imageIfAny();
  }

  private namesLow(img: number): number {
    const pa = img + NAMES_LOW_OFF;
    const low = Atomics.load(this.k.mem.i32At(pa), PhysMem.wordIndex(pa));
    return low === 0 ? USED_OFF : low;
  }

  /** The symbol table entry of name: [ptr, size], or null. */
  private find(img: number, name: string): [number, number] | null {
    const mem = this.k.mem;
    const want = encoder.encode(name);
    for (let e = this.namesLow(img); e < USED_OFF;) {
      const len = mem.read32(img + e + 8);
      if (len === want.length && decoder.decode(mem.readBytes(img + e + 12, len)) === name) {
        return [mem.read32(img + e), mem.read32(img + e + 4)];
      }
      e += 12 + Math.ceil(len / 4) * 4;
    }
    return null;
  }

  /** Bytes of the static area in use. */
  get static_used(): number {
    const img = this.imageIfAny();
    return img < 0 ? 0 : this.k.mem.read32(img + USED_OFF);
  }

  /** DEFINE_PER_CPU(type name, size) = init: the per-CPU pointer (offset in the unit). */
  DEFINE_PER_CPU(name: string, size: number, init: Uint8Array | number = 0, align = Math.min(size, 8)): number {
    const img = this.image();
    const known = this.find(img, name);
    if (known) return known[0];
    const lock = this.globals + G_LOCK;
    this.k.locks.spin_lock(lock);
    try {
      return this.define(img, name, size, init, align);
    } finally {
      this.k.locks.spin_unlock(lock);
    }
  }

  /** DEFINE_PER_CPU under the lock. */
  private define(img: number, name: string, size: number, init: Uint8Array | number, align: number): number {
    const known = this.find(img, name);
    if (known) return known[0];
    const a = Math.max(1, align);
    const ptr = Math.ceil(this.static_used / a) * a;
    const nameBytes = encoder.encode(name);
    const entryLow = this.namesLow(img) - 12 - Math.ceil(nameBytes.length / 4) * 4;
    if (ptr + size > entryLow) {
      // The linker would fail: "PERCPU: static area too small" is boot's panic for a too-big section.
      this.k.bug.panic(`PERCPU: static area too small (${ptr + size} > ${PERCPU_STATIC_SIZE} bytes)`, ['setup_per_cpu_areas']);
    }
    const bytes = new Uint8Array(size);
    if (typeof init === 'number') {
      for (let i = 0; i < Math.min(size, 6); i++) bytes[i] = Math.floor(init / 2 ** (8 * i)) & 0xff;
    } else {
      bytes.set(init.subarray(0, size));
    }
    this.k.mem.writeBytes(img + HDR + ptr, bytes);
    this.k.mem.write32(img + USED_OFF, ptr + size);
    // the symbol table entry, complete before names_low covers it
    this.k.mem.write32(img + entryLow, ptr);
    this.k.mem.write32(img + entryLow + 4, size);
    this.k.mem.write32(img + entryLow + 8, nameBytes.length);
    this.k.mem.writeBytes(img + entryLow + 12, nameBytes);
    const lowPa = img + NAMES_LOW_OFF;
    Atomics.store(this.k.mem.i32At(lowPa), PhysMem.wordIndex(lowPa), entryLow);
    // setup_per_cpu_areas(): memcpy(ptr + delta, __per_cpu_load, __per_cpu_end - __per_cpu_start) for every CPU.
    for (let cpu = 0; cpu < this.k.config.cpus; cpu++) {
      this.k.mem.writeBytes(this.k.percpu.per_cpu_ptr_pa(ptr, cpu), this.k.mem.readBytes(img + HDR + ptr, size));
    }
    return ptr;
  }

  /** DECLARE_PER_CPU / a look-up by name: the pointer of a variable defined before, or -1. */
  lookup(name: string): number {
    const img = this.imageIfAny();
    return img < 0 ? -1 : this.find(img, name)?.[0] ?? -1;
  }

  /** &per_cpu(var, cpu) */
  per_cpu(ptr: number, cpu: number): number {
    if (cpu < 0 || cpu >= this.k.config.cpus) throw new RangeError(`per_cpu: no CPU ${cpu}`);
    return this.k.percpu.per_cpu_ptr(ptr, cpu);
  }

  private rd(va: number, size: number): number {
    const ka = this.k.kaddr;
    return size === 1 ? ka.read8(va) : size === 2 ? ka.read16(va) : size === 4 ? ka.read32(va) : ka.read64(va);
  }

  private wr(va: number, size: number, v: number): void {
    const ka = this.k.kaddr;
    if (size === 1) ka.write8(va, v);
    else if (size === 2) ka.write16(va, v);
    else if (size === 4) ka.write32(va, v);
    else ka.write64(va, v);
  }

  private wrap(v: number, size: number): number {
    if (size >= 8) return v;
    const m = 2 ** (8 * size);
    return ((v % m) + m) % m;
  }

  /** this_cpu_read(var): one %gs-relative load, atomic with respect to preemption. */
  this_cpu_read(ptr: number, size: 1 | 2 | 4 | 8): number {
    return this.rd(this.per_cpu(ptr, this.k.sched.cpu), size);
  }

  this_cpu_write(ptr: number, size: 1 | 2 | 4 | 8, v: number): void {
    this.wr(this.per_cpu(ptr, this.k.sched.cpu), size, this.wrap(v, size));
  }

  this_cpu_add(ptr: number, size: 1 | 2 | 4 | 8, v: number): void {
    const va = this.per_cpu(ptr, this.k.sched.cpu);
    this.wr(va, size, this.wrap(this.rd(va, size) + v, size));
  }

  this_cpu_inc(ptr: number, size: 1 | 2 | 4 | 8): void {
    this.this_cpu_add(ptr, size, 1);
  }

  this_cpu_dec(ptr: number, size: 1 | 2 | 4 | 8): void {
    this.this_cpu_add(ptr, size, -1);
  }

  /** get_cpu_var(var): preempt_disable(), then this CPU's copy (its address). */
  get_cpu_var(ptr: number): number {
    this.k.sched.preempt_disable();
    return this.per_cpu(ptr, this.k.sched.cpu);
  }

  /** put_cpu_var(var): preempt_enable(). */
  put_cpu_var(_ptr: number): void {
    this.k.sched.preempt_enable();
  }

  /** get_cpu(): preempt_disable(); smp_processor_id(). */
  get_cpu(): number {
    this.k.sched.preempt_disable();
    return this.k.sched.cpu;
  }

  put_cpu(): void {
    this.k.sched.preempt_enable();
  }

  /** The sum over all CPUs (what a per-CPU counter's reader does: for_each_possible_cpu). */
  sum(ptr: number, size: 1 | 2 | 4 | 8): number {
    let s = 0;
    for (let cpu = 0; cpu < this.k.config.cpus; cpu++) s += this.rd(this.per_cpu(ptr, cpu), size);
    return s;
  }
}
