/*
 * The per-CPU allocator's first chunk (mm/percpu.c, include/linux/percpu.h).
 *
 * At boot (setup_per_cpu_areas) one chunk is carved from memblock: one unit
 * per possible CPU, each unit laid out the same way:
 *
 *   unit of CPU n:  | static (DEFINE_PER_CPU) | reserved (modules) | dynamic ...        |
 *                   0                         s                   s+r                  u
 *   chunk:          [ unit 0 ][ unit 1 ] ... [ unit nr_cpus-1 ]
 *
 * A per-CPU pointer is an offset in a unit (x86_64 keeps per-CPU data
 * zero-based, so the pointer is a small number); CPU n's copy is at
 * __per_cpu_offset[n] + pointer, i.e. the chunk's base + n * unit size +
 * pointer. alloc_percpu() finds room in the dynamic area, which is tracked as
 * the kernel tracks it: an allocation bitmap (one bit per 4-byte
 * PCPU_MIN_ALLOC_SIZE unit) and a boundary bitmap marking where each
 * allocation starts and ends, both in the chunk's metadata in memory.
 *
 * Chunks beyond the first are in vmalloc space (percpu_vm.ts), reached
 * through the kernel API (k.__alloc_percpu) when the first chunk is full.
 *
 * Locking (mm/percpu.c): pcpu_lock, a spinlock taken with interrupts off,
 * around every change of the maps, so that CPUs on different host threads
 * can create caches (whose kmem_cache_cpu is per-CPU data) at once. It lives
 * in .bss with the head of the vm chunk list:
 *
 *   pcpu globals   +0 pcpu_lock (int)   +8 first vm chunk (pointer, 0: none)
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';
import { KERN_INFO, KERN_WARNING, type Log } from '../kernel/bug.ts';
import type { Spinlocks } from '../kernel/locking/spinlock.ts';

export const PCPU_MIN_ALLOC_SIZE = 4;
export const PERCPU_MODULE_RESERVE = 8 << 10;
export const PCPU_MIN_UNIT_SIZE = 32 << 10;
/** Bytes of .bss for pcpu_lock and the vm chunk list head. */
export const PCPU_GLOBALS_BYTES = 16;
const G_LOCK = 0;
/** The first chunk in vmalloc space (percpu_vm.ts), 0 for none. */
export const PCPU_G_VM_CHUNKS = 8;

/** kmem's own static per-CPU data (the .data..percpu section). */
const STATIC_SIZE = 16 << 10;
/** Unit size: room for every slab cache's and zone's per-CPU data of a booted kmem. */
const UNIT_SIZE = 256 << 10;

/*
 * Chunk metadata at metaPa:
 *   +0  base (physical address of unit 0)   +8  unit_size   +12 nr_units
 *   +16 static_size  +20 reserved_size  +24 populated pages (per unit)
 *   +28 bytes allocated in the dynamic area
 *   +32 alloc_map  (bits, one per 4 bytes of a unit)
 *   +32 + map     bound_map (bit set at each allocation's first unit and just after its last)
 */
const M_BASE = 0;
const M_UNIT = 8;
const M_NR_UNITS = 12;
const M_STATIC = 16;
const M_RESERVED = 20;
const M_POPULATED = 24;
const M_ALLOCATED = 28;
const M_MAPS = 32;

export class Percpu {
  private readonly mapBytes: number;

  constructor(private readonly access: KmemAccess, private readonly metaPa: number,
    /** Physical address of the pcpu globals in .bss. */
    readonly globalsPa: number,
    private readonly log: Log, readonly locks: Spinlocks, private readonly __va: (pa: number) => number) {
    this.mapBytes = UNIT_SIZE / PCPU_MIN_ALLOC_SIZE / 8 + 4;
  }

  /** pcpu_lock, taken with interrupts off (spin_lock_irqsave); returns the flags for unlock(). */
  lock(): number {
    return this.locks.spin_lock_irqsave(this.globalsPa + G_LOCK);
  }

  unlock(flags: number): void {
    this.locks.spin_unlock_irqrestore(this.globalsPa + G_LOCK, flags);
  }

  static metaBytes(): number {
    return M_MAPS + 2 * (UNIT_SIZE / PCPU_MIN_ALLOC_SIZE / 8 + 4);
  }

  static chunkBytes(nrCpus: number): number {
    return UNIT_SIZE * nrCpus;
  }

  /** setup_per_cpu_areas(): the first chunk lies at chunkPa, already reserved from memblock. */
  setup_per_cpu_areas(chunkPa: number, nrCpus: number): void {
    const m = this.access.mem;
    m.fill(this.metaPa, Percpu.metaBytes(), 0);
    m.fill(chunkPa, UNIT_SIZE * nrCpus, 0);
    m.write64(this.metaPa + M_BASE, chunkPa);
    m.write32(this.metaPa + M_UNIT, UNIT_SIZE);
    m.write32(this.metaPa + M_NR_UNITS, nrCpus);
    m.write32(this.metaPa + M_STATIC, STATIC_SIZE);
    m.write32(this.metaPa + M_RESERVED, PERCPU_MODULE_RESERVE);
    m.write32(this.metaPa + M_POPULATED, UNIT_SIZE / PAGE_SIZE);
    // The static and reserved areas are not the dynamic allocator's: mark them used.
    this.setBits(this.allocMap, 0, (STATIC_SIZE + PERCPU_MODULE_RESERVE) / PCPU_MIN_ALLOC_SIZE, true);
    this.setBit(this.boundMap, 0, true);
    this.setBit(this.boundMap, (STATIC_SIZE + PERCPU_MODULE_RESERVE) / PCPU_MIN_ALLOC_SIZE, true);
    const d = UNIT_SIZE - STATIC_SIZE - PERCPU_MODULE_RESERVE;
    this.log.printk(KERN_INFO, `percpu: Embedded ${UNIT_SIZE / PAGE_SIZE} pages/cpu s${STATIC_SIZE} r${PERCPU_MODULE_RESERVE} d${d} u${UNIT_SIZE}`);
  }

  get unitSize(): number {
    return this.access.mem.read32(this.metaPa + M_UNIT);
  }

  get nrUnits(): number {
    return this.access.mem.read32(this.metaPa + M_NR_UNITS);
  }

  private get basePa(): number {
    return this.access.mem.read64(this.metaPa + M_BASE);
  }

  private get allocMap(): number {
    return this.metaPa + M_MAPS;
  }

  private get boundMap(): number {
    return this.metaPa + M_MAPS + this.mapBytes;
  }

  private bit(map: number, i: number): boolean {
    return (this.access.mem.read8(map + (i >>> 3)) & (1 << (i & 7))) !== 0;
  }

  private setBit(map: number, i: number, on: boolean): void {
    const pa = map + (i >>> 3);
    const b = this.access.mem.read8(pa);
    this.access.mem.write8(pa, on ? b | (1 << (i & 7)) : b & ~(1 << (i & 7)));
  }

  private setBits(map: number, start: number, n: number, on: boolean): void {
    for (let i = start; i < start + n; i++) this.setBit(map, i, on);
  }

  /** Physical address of CPU cpu's copy of per-CPU pointer ptr. */
  per_cpu_ptr_pa(ptr: number, cpu: number): number {
    return this.basePa + cpu * this.unitSize + ptr;
  }

  /** per_cpu_ptr(): kernel virtual address of CPU cpu's copy. */
  per_cpu_ptr(ptr: number, cpu: number): number {
    return this.__va(this.per_cpu_ptr_pa(ptr, cpu));
  }

  /** Bytes of the dynamic area in use, summed over the units (for /proc/meminfo's Percpu in pages). */
  nr_pages(): number {
    return (this.access.mem.read32(this.metaPa + M_POPULATED) * this.nrUnits);
  }

  allocated(): number {
    return this.access.mem.read32(this.metaPa + M_ALLOCATED);
  }

  /**
   * __alloc_percpu(size, align): first fit in the dynamic area; returns the
   * per-CPU pointer (zeroed in every unit) or 0.
   */
  __alloc_percpu(size: number, align: number, quiet = false): number {
    if (size <= 0 || size > UNIT_SIZE || align > PAGE_SIZE || (align & (align - 1)) !== 0) {
      if (quiet) return 0;
      this.log.printk(KERN_WARNING, `illegal size (${size}) or align (${align}) for percpu allocation`);
      return 0;
    }
    const flags = this.lock();
    let ptr = -1;
    try {
      ptr = this.pcpu_alloc_area(size, align);
    } finally {
      this.unlock(flags);
    }
    if (ptr >= 0) return ptr;
    // quiet: the caller tries the chunks in vmalloc space next (percpu_vm.ts) and reports if those fail too.
    if (!quiet) this.log.printk(KERN_WARNING, `percpu: allocation failed, size=${size} align=${align} atomic=0, alloc from reserved chunk failed`);
    return 0;
  }

  /** pcpu_alloc_area() in the first chunk (pcpu_lock held): the pointer, or -1. */
  private pcpu_alloc_area(size: number, align: number): number {
    const bits = Math.ceil(size / PCPU_MIN_ALLOC_SIZE);
    const alignBits = Math.max(1, align / PCPU_MIN_ALLOC_SIZE);
    const total = UNIT_SIZE / PCPU_MIN_ALLOC_SIZE;
    for (let start = 0; start + bits <= total; start += alignBits) {
      let ok = true;
      for (let i = start; i < start + bits; i++) {
        if (this.bit(this.allocMap, i)) {
          ok = false;
          start = Math.ceil((i + 1) / alignBits) * alignBits - alignBits;
          break;
        }
      }
      if (!ok) continue;
      this.setBits(this.allocMap, start, bits, true);
      this.setBit(this.boundMap, start, true);
      this.setBit(this.boundMap, start + bits, true);
      const ptr = start * PCPU_MIN_ALLOC_SIZE;
      for (let cpu = 0; cpu < this.nrUnits; cpu++) this.access.mem.fill(this.per_cpu_ptr_pa(ptr, cpu), size, 0);
      this.access.mem.write32(this.metaPa + M_ALLOCATED, this.allocated() + bits * PCPU_MIN_ALLOC_SIZE);
      return ptr;
    }
    return -1;
  }

  /** free_percpu(ptr): returns false (and changes nothing) if ptr is not an allocation's start. */
  free_percpu(ptr: number): boolean {
    if (ptr === 0) return true;
    const flags = this.lock();
    try {
      return this.pcpu_free_area(ptr);
    } finally {
      this.unlock(flags);
    }
  }

  /** pcpu_free_area() in the first chunk (pcpu_lock held). */
  private pcpu_free_area(ptr: number): boolean {
    const first = (STATIC_SIZE + PERCPU_MODULE_RESERVE) / PCPU_MIN_ALLOC_SIZE;
    const start = ptr / PCPU_MIN_ALLOC_SIZE;
    if (ptr % PCPU_MIN_ALLOC_SIZE !== 0 || start < first || start >= UNIT_SIZE / PCPU_MIN_ALLOC_SIZE ||
      !this.bit(this.boundMap, start) || !this.bit(this.allocMap, start)) return false;
    let end = start + 1;
    while (!this.bit(this.boundMap, end)) end++;
    this.setBits(this.allocMap, start, end - start, false);
    // A boundary bit stays where a neighbouring allocation still begins or ends.
    this.setBit(this.boundMap, start, start === first || this.bit(this.allocMap, start - 1));
    if (!this.bit(this.allocMap, end)) this.setBit(this.boundMap, end, false);
    this.access.mem.write32(this.metaPa + M_ALLOCATED, this.allocated() - (end - start) * PCPU_MIN_ALLOC_SIZE);
    return true;
  }
}
