/*
 * Per-CPU chunks beyond the first (mm/percpu.c pcpu_create_chunk,
 * mm/percpu-vm.c): when the first chunk's dynamic area cannot satisfy an
 * alloc_percpu(), the kernel creates a chunk in vmalloc space, with one
 * unit per CPU at the same stride as the first chunk's units, so that a
 * per-CPU pointer still works the same way: CPU n's copy is at
 * pointer + __per_cpu_offset[n]. The pointer of an allocation in such a
 * chunk is its unit-0 address minus the first chunk's base.
 *
 * kmem's chunks: one vzalloc() of nr_cpus units (the kernel reserves
 * congruent vm areas with pcpu_get_vm_areas and populates pages on demand;
 * kmem populates the whole chunk at creation), and metadata from kzalloc
 * laid out like the first chunk's (percpu.ts):
 *   +0 base (unit 0's address)  +8 bytes allocated  +12 allocations
 *   +16 next chunk  +24 alloc_map (a bit per 4 bytes of a unit)  +24 + map  bound_map
 * The chunks form a list whose head is in the pcpu globals (.bss, percpu.ts),
 * changed, like the maps, under pcpu_lock; a chunk is created and destroyed
 * outside the lock (the kernel holds pcpu_alloc_mutex there), so two CPUs
 * may each create one at once. A chunk that becomes empty is destroyed at
 * once (the kernel leaves that to pcpu_balance_workfn, which keeps one empty
 * chunk around).
 * Only the module-facing API (k.__alloc_percpu and friends) reaches these
 * chunks; kmem's own per-CPU users are satisfied from the first chunk at boot.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { PCPU_G_VM_CHUNKS, PCPU_MIN_ALLOC_SIZE } from './percpu.ts';
import type { Kernel } from '../kernel/kernel.ts';

const C_BASE = 0;
const C_ALLOCATED = 8;
const C_COUNT = 12;
const C_NEXT = 16;
const C_MAPS = 24;

export class PercpuVmChunks {
  constructor(private readonly k: Kernel) {}

  /** Physical address of the list head (pcpu_chunk_lists, in kmem a singly linked list). */
  private get headPa(): number {
    return this.k.percpu.globalsPa + PCPU_G_VM_CHUNKS;
  }

  /** The chunks' metadata addresses, newest first. */
  private chunks(): number[] {
    const out: number[] = [];
    for (let c = this.k.access.readPtr(this.headPa); c !== 0; c = this.k.kaddr.readPtr(c + C_NEXT)) out.push(c);
    return out;
  }

  private get unit(): number {
    return this.k.percpu.unitSize;
  }

  private get bits(): number {
    return this.unit / PCPU_MIN_ALLOC_SIZE;
  }

  private get mapBytes(): number {
    return this.bits / 8 + 4;
  }

  private get firstBase(): number {
    return this.k.percpu.per_cpu_ptr(0, 0);
  }

  private bit(map: number, i: number): boolean {
    return (this.k.kaddr.read8(map + (i >>> 3)) & (1 << (i & 7))) !== 0;
  }

  private setBit(map: number, i: number, on: boolean): void {
    const a = map + (i >>> 3);
    const b = this.k.kaddr.read8(a);
    this.k.kaddr.write8(a, on ? b | (1 << (i & 7)) : b & ~(1 << (i & 7)));
  }

  private base(c: number): number {
    return this.k.kaddr.readPtr(c + C_BASE);
  }

  /** Pages of all vm chunks (for Percpu in /proc/meminfo). */
  nr_pages(): number {
    return this.nr_chunks * (this.unit / PAGE_SIZE) * this.k.config.cpus;
  }

  get nr_chunks(): number {
    return this.chunks().length;
  }

  private create(): number {
    const k = this.k;
    const meta = k.kzalloc(C_MAPS + 2 * this.mapBytes, k.GFP_KERNEL);
    if (meta === 0) return 0;
    const base = k.vzalloc(this.unit * k.config.cpus);
    if (base === 0) {
      k.kfree(meta);
      return 0;
    }
    k.kaddr.writePtr(meta + C_BASE, base);
    const flags = k.percpu.lock();
    k.kaddr.writePtr(meta + C_NEXT, k.access.readPtr(this.headPa));
    k.access.writePtr(this.headPa, meta);
    k.percpu.unlock(flags);
    return meta;
  }

  private fit(c: number, size: number, align: number): number {
    const nbits = Math.ceil(size / PCPU_MIN_ALLOC_SIZE);
    const step = Math.max(1, align / PCPU_MIN_ALLOC_SIZE);
    const alloc = c + C_MAPS;
    for (let start = 0; start + nbits <= this.bits; start += step) {
      let ok = true;
      for (let i = start; i < start + nbits; i++) {
        if (this.bit(alloc, i)) {
          ok = false;
          start = Math.ceil((i + 1) / step) * step - step;
          break;
        }
      }
      if (ok) return start;
    }
    return -1;
  }

  /** pcpu_alloc() past the first chunk: a per-CPU pointer, or 0. */
  alloc(size: number, align: number): number {
    if (size <= 0 || size > this.unit) return 0;
    const k = this.k;
    for (let attempt = 0; attempt < 2; attempt++) {
      const flags = k.percpu.lock();
      try {
        for (const c of this.chunks()) {
          const start = this.fit(c, size, align);
          if (start >= 0) return this.allocArea(c, start, size);
        }
      } finally {
        k.percpu.unlock(flags);
      }
      if (attempt === 0 && this.create() === 0) return 0;
    }
    return 0;
  }

  /** Take [start, start + size) of chunk c (pcpu_lock held); the per-CPU pointer. */
  private allocArea(c: number, start: number, size: number): number {
    const nbits = Math.ceil(size / PCPU_MIN_ALLOC_SIZE);
    const alloc = c + C_MAPS;
    const bound = alloc + this.mapBytes;
    for (let i = start; i < start + nbits; i++) this.setBit(alloc, i, true);
    this.setBit(bound, start, true);
    this.setBit(bound, start + nbits, true);
    const kk = this.k.kaddr;
    kk.write32(c + C_ALLOCATED, kk.read32(c + C_ALLOCATED) + nbits * PCPU_MIN_ALLOC_SIZE);
    kk.write32(c + C_COUNT, kk.read32(c + C_COUNT) + 1);
    const addr0 = this.base(c) + start * PCPU_MIN_ALLOC_SIZE;
    for (let cpu = 0; cpu < this.k.config.cpus; cpu++) kk.fill(addr0 + cpu * this.unit, size, 0);
    return addr0 - this.firstBase;
  }

  /** The chunk holding ptr and its first bit, or null. */
  private find(ptr: number): { c: number; start: number } | null {
    const addr = ptr + this.firstBase;
    for (const c of this.chunks()) {
      const b = this.base(c);
      if (addr >= b && addr < b + this.unit) return { c, start: (addr - b) / PCPU_MIN_ALLOC_SIZE };
    }
    return null;
  }

  owns(ptr: number): boolean {
    return this.find(ptr) !== null;
  }

  per_cpu_ptr(ptr: number, cpu: number): number {
    return this.firstBase + ptr + cpu * this.unit;
  }

  /** free_percpu() of a vm-chunk pointer: false (nothing changed) when it is not an allocation's start. */
  free(ptr: number): boolean {
    const k = this.k;
    const flags = k.percpu.lock();
    let empty = 0;
    try {
      const c = this.freeArea(ptr);
      if (c < 0) return false;
      empty = c;
    } finally {
      k.percpu.unlock(flags);
    }
    if (empty !== 0) {
      // pcpu_destroy_chunk(), unlinked under the lock, freed outside it
      k.vfree(this.base(empty));
      k.kfree(empty);
    }
    return true;
  }

  /** Free ptr's area (pcpu_lock held): -1 if ptr is no allocation's start; the chunk if it became empty (now unlinked); else 0. */
  private freeArea(ptr: number): number {
    const f = this.find(ptr);
    if (!f || !Number.isInteger(f.start)) return -1;
    const { c, start } = f;
    const alloc = c + C_MAPS;
    const bound = alloc + this.mapBytes;
    if (!this.bit(bound, start) || !this.bit(alloc, start)) return -1;
    let end = start + 1;
    while (!this.bit(bound, end)) end++;
    for (let i = start; i < end; i++) this.setBit(alloc, i, false);
    this.setBit(bound, start, start > 0 && this.bit(alloc, start - 1));
    if (!this.bit(alloc, end)) this.setBit(bound, end, false);
    const kk = this.k.kaddr;
    kk.write32(c + C_ALLOCATED, kk.read32(c + C_ALLOCATED) - (end - start) * PCPU_MIN_ALLOC_SIZE);
    const left = kk.read32(c + C_COUNT) - 1;
    kk.write32(c + C_COUNT, left);
    if (left !== 0) return 0;
    this.unlink(c);
    return c;
  }

  private unlink(c: number): void {
    const kk = this.k.kaddr;
    const next = kk.readPtr(c + C_NEXT);
    let prev = 0;
    for (let x = this.k.access.readPtr(this.headPa); x !== c; x = kk.readPtr(x + C_NEXT)) prev = x;
    if (prev === 0) this.k.access.writePtr(this.headPa, next);
    else kk.writePtr(prev + C_NEXT, next);
  }
}
