/*
 * memblock: the boot-time memory allocator (mm/memblock.c,
 * include/linux/memblock.h, Linux 6.12).
 *
 * Before the page allocator exists, something has to hand out the memory the
 * page allocator itself is built from: struct page arrays, node and zone
 * structures, early page tables, per-CPU areas. memblock is that something.
 * Architecture code feeds it the firmware memory map (e820 on x86) with
 * memblock_add(), records everything already in use (kernel image, initrd,
 * BIOS areas) with memblock_reserve(), and from then on an allocation is
 * nothing more than finding a hole in "memory minus reserved" and reserving
 * it. When the page allocator comes up, every free range
 * (for_each_free_mem_range) is released to it and memblock's job is done.
 * LDD3's bootmem allocator (alloc_bootmem() and friends) was replaced by
 * memblock in 2018 (v4.20); its names survive here as thin aliases.
 *
 * The whole state is two sorted arrays of regions:
 *
 *   struct memblock                      x86_64    i386
 *   +---------------------------------+
 *   | bool bottom_up                  |   +0        +0   allocation direction
 *   | phys_addr_t current_limit       |   +8        +4   MEMBLOCK_ALLOC_ANYWHERE
 *   | struct memblock_type memory     |   +16       +8   RAM the kernel may use
 *   | struct memblock_type reserved   |   +56       +28  what is taken
 *   +---------------------------------+   96 bytes  48
 *
 *   struct memblock_type                 x86_64    i386
 *   | unsigned long cnt               |   +0        +0
 *   | unsigned long max               |   +8        +4   capacity of regions[]
 *   | phys_addr_t total_size          |   +16       +8   sum of the sizes
 *   | struct memblock_region *regions |   +24       +12  --------------+
 *   | char *name                      |   +32       +16  -> "memory"   |
 *                                         40 bytes  20                 |
 *      +---------------------------------------------------------------+
 *      v
 *   regions[]: struct memblock_region, 24 bytes each (i386: 12, no nid)
 *   +------------------+------------------+---------+-------+
 *   | base             | size             | flags   | nid   |  [0]
 *   +------------------+------------------+---------+-------+
 *   | sorted by base, never overlapping; neighbours that      |
 *   | touch and have equal flags and nid are merged           |  [cnt - 1]
 *   +---------------------------------------------------------+
 *   | zero                                                    |  [cnt .. max-1]
 *
 * What an allocation sees is memory minus reserved:
 *
 *   memory     |==========|      |==============================|
 *   reserved       |==|                   |=======|
 *   free       |===|  |===|      |========|       |=============|
 *                                                     ^
 *     top-down (the default) takes the highest aligned fit below
 *     current_limit; bottom-up (memblock_set_bottom_up) the lowest.
 *
 * The arrays start as two static arrays of INIT_MEMBLOCK_REGIONS (128) in the
 * kernel image's .data. When one fills up, memblock_double_array() finds room
 * for an array twice the size in memblock itself, copies the regions over,
 * frees the old array (unless it is the static one) and reserves the new one,
 * which then shows up in memblock.reserved like any other allocation. That is
 * allowed only after memblock_allow_resize(); before it, running out of
 * regions is a panic.
 *
 * Where the kernel's statically allocated data goes is the caller's choice
 * (memblockPlacement() lays it out in one piece). Besides struct memblock and
 * the two static arrays it includes a small block for memblock.c's
 * file-scope variables and the two region-array names, so nothing the
 * allocator depends on lives outside simulated memory:
 *
 *   +-----------------+------------------------------+--------------------------------+---------+
 *   | struct memblock | memblock_memory_init_regions | memblock_reserved_init_regions | statics |
 *   +-----------------+------------------------------+--------------------------------+---------+
 *
 *   statics: int memblock_debug, int memblock_can_resize,
 *            bool system_has_some_mirror, bool mirrored_kernelcore (mm_init.c),
 *            bool slab_is_available (slab_state >= UP, mm/slab_common.c),
 *            bool the __warned of memblock_alloc_range_nid's WARN_ON_ONCE,
 *            char "memory\0", char "reserved\0"
 *
 * phys_addr_t is 8 bytes on x86_64 and 4 on i386: kmem's i386 has no PAE
 * (MAX_PHYSMEM_BITS 32), hence also no CONFIG_NUMA and no nid field (i386
 * NUMA needs HIGHMEM64G). Physical addresses are JS numbers, exact below 2^53;
 * PHYS_ADDR_MAX (~0ULL) is held as 2^64, the double nearest to it, and stored
 * as all ones. Only the near-PHYS_ADDR_MAX cases ever see values above 2^53,
 * where doubles step by 2048.
 *
 * Departures from 6.12, all forced by what kmem has (yet):
 *  - after memblock_free_all_done() (slab_is_available()), memblock_alloc*()
 *    WARNs as 6.12 does, but cannot fall back to kzalloc_node(): it returns
 *    NULL. Doubling a region array then fails the same way (no kmalloc()).
 *  - movable_node is not modelled, so MEMBLOCK_HOTPLUG regions are never
 *    skipped; memblock_free_late(), physmem and kmemleak are absent.
 *  - %pS (the caller) is whatever string the caller passes, function names
 *    without offsets; WARN/BUG reports print CPU 0 PID 0 (boot).
 *  - memblock_end_of_DRAM() with no memory reads regions[0] (zero) where C
 *    would read regions[-1].
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import type { PhysMem } from '../machine/memory.ts';
import { PAGE_SIZE, type ArchLayout } from '../arch/x86/layout.ts';
import { defineStruct } from '../kernel/struct_layout.ts';

export const INIT_MEMBLOCK_REGIONS = 128;

/* enum memblock_flags */
export const MEMBLOCK_NONE = 0x0;
export const MEMBLOCK_HOTPLUG = 0x1;
export const MEMBLOCK_MIRROR = 0x2;
export const MEMBLOCK_NOMAP = 0x4;
export const MEMBLOCK_DRIVER_MANAGED = 0x8;
export const MEMBLOCK_RSRV_NOINIT = 0x10;

export const NUMA_NO_NODE = -1;

/* end limits of the allocation API; MEMBLOCK_ALLOC_ANYWHERE is PHYS_ADDR_MAX, per arch */
export const MEMBLOCK_ALLOC_ACCESSIBLE = 0;
export const MEMBLOCK_ALLOC_NOLEAKTRACE = 1;
export const MEMBLOCK_LOW_LIMIT = 0;
/*
 * memblock_alloc_low() and the bootmem *_low aliases allocate below this.
 * x86 keeps the generic default: 4 GiB - 1, the reach of 32-bit DMA. (LDD3's
 * alloc_bootmem_low() merely searched from address 0 rather than from
 * ZONE_DMA's 16 MiB up; the memblock-backed bootmem that followed, until
 * v4.20, capped it at this limit, as memblock_alloc_low() still does.)
 */
export const ARCH_LOW_ADDRESS_LIMIT = 0xffffffff;

const ENOMEM = 12;

/* printk levels */
const KERN_EMERG = 0;
const KERN_ALERT = 1;
const KERN_CRIT = 2;
const KERN_ERR = 3;
const KERN_WARNING = 4;
const KERN_INFO = 6;

export type Printk = (level: number, text: string) => void;

/** A memblock_region as read from simulated memory. */
export interface MemblockRegion {
  base: number;
  size: number;
  flags: number;
  nid: number;
}

/** A memblock_type's header as read from simulated memory. */
export interface MemblockTypeInfo {
  cnt: number;
  max: number;
  total_size: number;
  /** Physical address of regions[0]. */
  regions: number;
  name: string;
}

/** Where the kernel's static memblock data lives (physical addresses). */
export interface MemblockPlacement {
  memblock: number;
  memory_init_regions: number;
  reserved_init_regions: number;
  statics: number;
}

/** Callback of the range iterators; a truthy return stops the walk. */
export type RangeCallback = (start: number, end: number, nid: number) => unknown;

type StaticBool = 'system_has_some_mirror' | 'mirrored_kernelcore' | 'slab_is_available' | 'alloc_after_slab_warned';

interface Layout {
  /** sizeof(phys_addr_t) */
  phys: 4 | 8;
  numa: boolean;
  MAX_NUMNODES: number;
  PHYS_ADDR_MAX: number;
  /* struct memblock_region, by hand since one of its fields is called size */
  rgn: { base: number; size: number; flags: number; nid: number; sizeof: number };
  type: ReturnType<typeof typeLayout>;
  mb: ReturnType<typeof memblockLayout>;
  statics: ReturnType<typeof staticsLayout>;
}

function typeLayout(ptrSize: number, phys: 'u64' | 'ulong') {
  return defineStruct(ptrSize, [
    ['cnt', 'ulong'], ['max', 'ulong'], ['total_size', phys], ['regions', 'ptr'], ['name', 'ptr'],
  ]);
}

function memblockLayout(ptrSize: number, phys: 'u64' | 'ulong', typeSize: number) {
  const type = { size: typeSize, align: ptrSize };
  return defineStruct(ptrSize, [
    ['bottom_up', 'u8'], ['current_limit', phys], ['memory', type], ['reserved', type],
  ]);
}

function staticsLayout(ptrSize: number) {
  return defineStruct(ptrSize, [
    ['memblock_debug', 'int'],
    ['memblock_can_resize', 'int'],
    ['system_has_some_mirror', 'u8'],
    ['mirrored_kernelcore', 'u8'],
    ['slab_is_available', 'u8'],
    ['alloc_after_slab_warned', 'u8'],
    ['name_memory', { size: 7, align: 1 }],
    ['name_reserved', { size: 9, align: 1 }],
  ]);
}

function layoutOf(arch: ArchLayout): Layout {
  const wide = arch.bits === 64;
  const phys = wide ? 8 : 4;
  const physKind = wide ? 'u64' : 'ulong';
  const type = typeLayout(arch.ptrSize, physKind);
  return {
    phys,
    numa: wide,
    /* x86_64: CONFIG_NODES_SHIFT 6; i386 without NUMA: 1 */
    MAX_NUMNODES: wide ? 64 : 1,
    PHYS_ADDR_MAX: wide ? 2 ** 64 : 0xffffffff,
    rgn: { base: 0, size: phys, flags: 2 * phys, nid: 2 * phys + 4, sizeof: 2 * phys + (wide ? 8 : 4) },
    type,
    mb: memblockLayout(arch.ptrSize, physKind, type.size),
    statics: staticsLayout(arch.ptrSize),
  };
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Bytes of each piece of memblock's static data. */
export function memblockDataSizes(arch: ArchLayout) {
  const L = layoutOf(arch);
  return { memblock: L.mb.size, init_regions: INIT_MEMBLOCK_REGIONS * L.rgn.sizeof, statics: L.statics.size };
}

/** Total bytes memblockPlacement() needs. */
export function memblockDataSize(arch: ArchLayout): number {
  const s = memblockDataSizes(arch);
  return align8(s.memblock) + 2 * align8(s.init_regions) + align8(s.statics);
}

/** Lay memblock's static data out in one piece starting at physical address `pa`. */
export function memblockPlacement(arch: ArchLayout, pa: number): MemblockPlacement {
  const s = memblockDataSizes(arch);
  const memory_init_regions = pa + align8(s.memblock);
  const reserved_init_regions = memory_init_regions + align8(s.init_regions);
  return {
    memblock: pa,
    memory_init_regions,
    reserved_init_regions,
    statics: reserved_init_regions + align8(s.init_regions),
  };
}

/** PHYS_ADDR_MAX (== MEMBLOCK_ALLOC_ANYWHERE) of an architecture. */
export function PHYS_ADDR_MAX(arch: ArchLayout): number {
  return layoutOf(arch).PHYS_ADDR_MAX;
}

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;
const roundDown = (x: number, a: number) => Math.floor(x / a) * a;
const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const PAGE_ALIGN = (x: number) => roundUp(x, PAGE_SIZE);
const PFN_UP = (x: number) => Math.ceil(x / PAGE_SIZE);
const PFN_DOWN = (x: number) => Math.floor(x / PAGE_SIZE);

/** The (idx_a, idx_b) pair the kernel packs into one u64 loop variable. */
interface MemRangeIdx {
  a: number;
  b: number;
}

export class Memblock {
  readonly PHYS_ADDR_MAX: number;
  readonly MEMBLOCK_ALLOC_ANYWHERE: number;
  readonly MAX_NUMNODES: number;
  readonly SMP_CACHE_BYTES: number;
  /** &memblock.memory and &memblock.reserved: physical addresses of the two struct memblock_type. */
  readonly memory: number;
  readonly reserved: number;
  private readonly L: Layout;
  private readonly mem: PhysMem;
  private readonly mb: number;
  private readonly st: number;
  /* The physical addresses of memblock_{memory,reserved}_init_regions. */
  private readonly staticArrays: readonly number[];

  /**
   * Sets up the kernel's static initializer of `struct memblock memblock` at
   * at.memblock, its two region arrays and memblock.c's statics.
   * `__va`/`__pa` convert between physical and direct-map addresses (the
   * memblock_alloc*() family returns virtual addresses, regions and name are
   * kernel pointers). Without a `panicHook`, panic() prints the kernel's
   * "Kernel panic - not syncing" line and throws.
   */
  constructor(
    private readonly kmem: KmemAccess,
    at: MemblockPlacement,
    private readonly __va: (pa: number) => number,
    private readonly __pa: (va: number) => number,
    private readonly printk: Printk,
    private readonly panicHook?: (msg: string) => never,
  ) {
    const L = (this.L = layoutOf(kmem.layout));
    this.mem = kmem.mem;
    this.mb = at.memblock;
    this.st = at.statics;
    this.PHYS_ADDR_MAX = this.MEMBLOCK_ALLOC_ANYWHERE = L.PHYS_ADDR_MAX;
    this.MAX_NUMNODES = L.MAX_NUMNODES;
    this.SMP_CACHE_BYTES = kmem.layout.cacheLine;
    this.memory = at.memblock + L.mb.memory;
    this.reserved = at.memblock + L.mb.reserved;

    const mem = this.mem;
    mem.fill(at.memblock, L.mb.size, 0);
    mem.fill(at.memory_init_regions, INIT_MEMBLOCK_REGIONS * L.rgn.sizeof, 0);
    mem.fill(at.reserved_init_regions, INIT_MEMBLOCK_REGIONS * L.rgn.sizeof, 0);
    mem.fill(at.statics, L.statics.size, 0);
    const enc = new TextEncoder();
    mem.writeBytes(at.statics + L.statics.name_memory, enc.encode('memory\0'));
    mem.writeBytes(at.statics + L.statics.name_reserved, enc.encode('reserved\0'));

    this.wphys(this.mb + L.mb.current_limit, this.MEMBLOCK_ALLOC_ANYWHERE);
    const initType = (t: number, regions: number, name: number) => {
      kmem.writePtr(t + L.type.regions, __va(regions));
      kmem.writeUlong(t + L.type.max, INIT_MEMBLOCK_REGIONS);
      kmem.writePtr(t + L.type.name, __va(at.statics + name));
    };
    initType(this.memory, at.memory_init_regions, L.statics.name_memory);
    initType(this.reserved, at.reserved_init_regions, L.statics.name_reserved);
    this.staticArrays = [at.memory_init_regions, at.reserved_init_regions];
  }

  /* ---- raw accessors ------------------------------------------------- */

  private rphys(pa: number): number {
    return this.L.phys === 8 ? this.mem.read64(pa) : this.mem.read32(pa);
  }

  private wphys(pa: number, v: number): void {
    if (this.L.phys === 4) this.mem.write32(pa, v);
    else if (v >= this.L.PHYS_ADDR_MAX) this.mem.fill(pa, 8, 0xff);
    else this.mem.write64(pa, v);
  }

  private cnt(t: number): number {
    return this.kmem.readUlong(t + this.L.type.cnt);
  }

  private setCnt(t: number, v: number): void {
    this.kmem.writeUlong(t + this.L.type.cnt, v);
  }

  private max(t: number): number {
    return this.kmem.readUlong(t + this.L.type.max);
  }

  private totalSize(t: number): number {
    return this.rphys(t + this.L.type.total_size);
  }

  private setTotalSize(t: number, v: number): void {
    this.wphys(t + this.L.type.total_size, v);
  }

  /** Physical address of type->regions[0]. */
  private regions(t: number): number {
    return this.__pa(this.kmem.readPtr(t + this.L.type.regions));
  }

  /** Physical address of type->regions[i]. */
  private rgn(t: number, i: number): number {
    return this.regions(t) + i * this.L.rgn.sizeof;
  }

  private rBase(r: number): number {
    return this.rphys(r + this.L.rgn.base);
  }

  private rSize(r: number): number {
    return this.rphys(r + this.L.rgn.size);
  }

  private rEnd(r: number): number {
    return this.rBase(r) + this.rSize(r);
  }

  private rFlags(r: number): number {
    return this.mem.read32(r + this.L.rgn.flags);
  }

  /** memblock_get_region_node() */
  private rNid(r: number): number {
    return this.L.numa ? this.mem.read32(r + this.L.rgn.nid) | 0 : 0;
  }

  private setBase(r: number, v: number): void {
    this.wphys(r + this.L.rgn.base, v);
  }

  private setSize(r: number, v: number): void {
    this.wphys(r + this.L.rgn.size, v);
  }

  private setFlags(r: number, v: number): void {
    this.mem.write32(r + this.L.rgn.flags, v);
  }

  /** memblock_set_region_node() */
  private setNid(r: number, nid: number): void {
    if (this.L.numa) this.mem.write32(r + this.L.rgn.nid, nid);
  }

  private setRegion(r: number, base: number, size: number, flags: number, nid: number): void {
    this.setBase(r, base);
    this.setSize(r, size);
    this.setFlags(r, flags);
    this.setNid(r, nid);
  }

  private getStatic(field: StaticBool): boolean {
    return this.mem.read8(this.st + this.L.statics[field]) !== 0;
  }

  private setStatic(field: StaticBool, on: boolean): void {
    this.mem.write8(this.st + this.L.statics[field], on ? 1 : 0);
  }

  private cString(va: number): string {
    const pa = this.__pa(va);
    const chars: number[] = [];
    for (let c = this.mem.read8(pa); c !== 0; c = this.mem.read8(pa + chars.length)) chars.push(c);
    return String.fromCharCode(...chars);
  }

  private numa_valid_node(nid: number): boolean {
    return nid >= 0 && nid < this.MAX_NUMNODES;
  }

  /* ---- reading the structures (derived snapshots) ---------------------- */

  readType(t: number): MemblockTypeInfo {
    return {
      cnt: this.cnt(t),
      max: this.max(t),
      total_size: this.totalSize(t),
      regions: this.regions(t),
      name: this.cString(this.kmem.readPtr(t + this.L.type.name)),
    };
  }

  readRegion(t: number, i: number): MemblockRegion {
    const r = this.rgn(t, i);
    return { base: this.rBase(r), size: this.rSize(r), flags: this.rFlags(r), nid: this.rNid(r) };
  }

  /** regions[0 .. cnt-1] */
  readRegions(t: number): MemblockRegion[] {
    return Array.from({ length: this.cnt(t) }, (_, i) => this.readRegion(t, i));
  }

  /* ---- printk helpers -------------------------------------------------- */

  /** %pa: a phys_addr_t as 0x plus all its hex digits. */
  private fmtPa(v: number): string {
    const bits = this.L.phys * 8;
    const n = v >= 2 ** bits ? (1n << BigInt(bits)) - 1n : BigInt.asUintN(bits, BigInt(v));
    return '0x' + n.toString(16).padStart(bits / 4, '0');
  }

  private memblock_dbg(text: string): void {
    if (this.mem.read32(this.st + this.L.statics.memblock_debug) !== 0) this.printk(KERN_INFO, text);
  }

  private dbgRange(func: string, base: number, size: number, caller: string, extra = ''): void {
    const sym = caller ? ` ${caller}` : '';
    this.memblock_dbg(`${func}: [${this.fmtPa(base)}-${this.fmtPa(base + size - 1)}]${extra}${sym}`);
  }

  private dbgAlloc(func: string, size: number, align: number, nid: number | null, from: number, max: number, caller: string): void {
    const sym = caller ? ` ${caller}` : '';
    const node = nid === null ? '' : ` nid=${nid}`;
    this.memblock_dbg(
      `${func}: ${size} bytes align=0x${align.toString(16)}${node} from=${this.fmtPa(from)} max_addr=${this.fmtPa(max)}${sym}`,
    );
  }

  private WARN(line: number, func: string): void {
    this.printk(KERN_WARNING, '------------[ cut here ]------------');
    this.printk(KERN_WARNING, `WARNING: CPU: 0 PID: 0 at mm/memblock.c:${line} ${func}`);
    this.printk(KERN_WARNING, `---[ end trace ${'0'.repeat(16)} ]---`);
  }

  private BUG(line: number): never {
    this.printk(KERN_CRIT, `kernel BUG at mm/memblock.c:${line}!`);
    return this.panic('Attempted to kill the idle task!');
  }

  private panic(msg: string): never {
    if (this.panicHook) return this.panicHook(msg);
    this.printk(KERN_EMERG, `Kernel panic - not syncing: ${msg}`);
    throw new Error(`Kernel panic - not syncing: ${msg}`);
  }

  /* ---- boot parameters and state ---------------------------------------- */

  /** early_param("memblock"): "memblock=debug" turns on memblock_dbg() and memblock_dump_all(). */
  early_memblock(p: string): number {
    if (p.includes('debug')) this.mem.write32(this.st + this.L.statics.memblock_debug, 1);
    return 0;
  }

  /** mm_init.c's mirrored_kernelcore ("kernelcore=mirror"): lets memblock_mark_mirror() act. */
  set_mirrored_kernelcore(on: boolean): void {
    this.setStatic('mirrored_kernelcore', on);
  }

  memblock_allow_resize(): void {
    this.mem.write32(this.st + this.L.statics.memblock_can_resize, 1);
  }

  /**
   * The page allocator has taken over the free memory and slab is up:
   * slab_is_available() becomes true, and memblock_alloc*() from now on
   * WARNs and fails (see the header).
   */
  memblock_free_all_done(): void {
    this.setStatic('slab_is_available', true);
  }

  slab_is_available(): boolean {
    return this.getStatic('slab_is_available');
  }

  memblock_has_mirror(): boolean {
    return this.getStatic('system_has_some_mirror');
  }

  private choose_memblock_flags(): number {
    return this.memblock_has_mirror() ? MEMBLOCK_MIRROR : MEMBLOCK_NONE;
  }

  memblock_set_bottom_up(enable: boolean): void {
    this.mem.write8(this.mb + this.L.mb.bottom_up, enable ? 1 : 0);
  }

  memblock_bottom_up(): boolean {
    return this.mem.read8(this.mb + this.L.mb.bottom_up) !== 0;
  }

  memblock_set_current_limit(limit: number): void {
    this.wphys(this.mb + this.L.mb.current_limit, limit);
  }

  memblock_get_current_limit(): number {
    return this.rphys(this.mb + this.L.mb.current_limit);
  }

  /* ---- region arrays ------------------------------------------------------ */

  /** memblock_cap_size(): the size that keeps base + size from passing PHYS_ADDR_MAX. */
  private cap(base: number, size: number): number {
    return Math.min(size, this.PHYS_ADDR_MAX - base);
  }

  memblock_addrs_overlap(base1: number, size1: number, base2: number, size2: number): boolean {
    return base1 < base2 + size2 && base2 < base1 + size1;
  }

  memblock_overlaps_region(type: number, base: number, size: number): boolean {
    size = this.cap(base, size);
    for (let i = 0, n = this.cnt(type); i < n; i++) {
      const r = this.rgn(type, i);
      if (this.memblock_addrs_overlap(base, size, this.rBase(r), this.rSize(r))) return true;
    }
    return false;
  }

  private memblock_remove_region(type: number, r: number): void {
    const sz = this.L.rgn.sizeof;
    const at = this.rgn(type, r);
    const cnt = this.cnt(type);
    this.setTotalSize(type, this.totalSize(type) - this.rSize(at));
    this.mem.copy(at, at + sz, (cnt - (r + 1)) * sz);
    this.setCnt(type, cnt - 1);

    /* Special case for empty arrays */
    if (cnt - 1 === 0) {
      if (this.totalSize(type) !== 0) this.WARN(355, 'memblock_remove_region');
      this.setRegion(this.rgn(type, 0), 0, 0, 0, this.MAX_NUMNODES);
    }
  }

  /**
   * Double type's regions array; the new one comes from memblock and is
   * reserved. [new_area_start, +new_area_size) is a range about to be
   * reserved, which the new reserved array must not overlap.
   */
  private memblock_double_array(type: number, new_area_start: number, new_area_size: number): number {
    const name = this.readType(type).name;
    const max = this.max(type);
    if (this.mem.read32(this.st + this.L.statics.memblock_can_resize) === 0) {
      return this.panic(`memblock: cannot resize ${name} array`);
    }

    const old_size = max * this.L.rgn.sizeof;
    const new_size = old_size * 2;
    /* We need to allocated new one align to PAGE_SIZE, so we can free them completely later. */
    const old_alloc_size = PAGE_ALIGN(old_size);
    const new_alloc_size = PAGE_ALIGN(new_size);

    let addr = 0;
    /* with slab up the kernel would kmalloc() the array; kmem has no slab (header) */
    if (!this.slab_is_available()) {
      /* only exclude range when trying to double reserved.regions */
      if (type !== this.reserved) new_area_start = new_area_size = 0;
      const limit = this.memblock_get_current_limit();
      addr = this.memblock_find_in_range(new_area_start + new_area_size, limit, new_alloc_size, PAGE_SIZE);
      if (!addr && new_area_size) {
        addr = this.memblock_find_in_range(0, Math.min(new_area_start, limit), new_alloc_size, PAGE_SIZE);
      }
    }
    if (!addr) {
      this.printk(KERN_ERR, `memblock: Failed to double ${name} array from ${max} to ${max * 2} entries !`);
      return -1;
    }

    this.memblock_dbg(`memblock: ${name} is doubled to ${max * 2} at [${this.fmtPa(addr)}-${this.fmtPa(addr + new_size - 1)}]`);

    /*
     * Found space, we now need to move the array over before we add the
     * reserved region since it may be our reserved array itself that is full.
     */
    const old_array = this.regions(type);
    this.mem.copy(addr, old_array, old_size);
    this.mem.fill(addr + old_size, old_size, 0);
    this.kmem.writePtr(type + this.L.type.regions, this.__va(addr));
    this.kmem.writeUlong(type + this.L.type.max, max * 2);

    /* Free old array. We needn't free it if the array is the static one */
    if (!this.staticArrays.includes(old_array)) this.memblock_phys_free(old_array, old_alloc_size, 'memblock_double_array');

    /* Reserve the new array: it comes from memblock */
    if (this.memblock_reserve(addr, new_alloc_size, 'memblock_double_array')) this.BUG(501);
    return 0;
  }

  /** Merge compatible neighbours among regions [start_rgn - 1, end_rgn). */
  private memblock_merge_regions(type: number, start_rgn: number, end_rgn: number): void {
    const sz = this.L.rgn.sizeof;
    let i = start_rgn ? start_rgn - 1 : 0;
    end_rgn = Math.min(end_rgn, this.cnt(type) - 1);
    while (i < end_rgn) {
      const cur = this.rgn(type, i);
      const next = cur + sz;
      if (this.rEnd(cur) !== this.rBase(next) || this.rNid(cur) !== this.rNid(next) || this.rFlags(cur) !== this.rFlags(next)) {
        if (this.rEnd(cur) > this.rBase(next)) this.BUG(532);
        i++;
        continue;
      }
      this.setSize(cur, this.rSize(cur) + this.rSize(next));
      /* move forward from next + 1, index of which is i + 2 */
      const cnt = this.cnt(type);
      this.mem.copy(next, next + sz, (cnt - (i + 2)) * sz);
      this.setCnt(type, cnt - 1);
      end_rgn--;
    }
  }

  /** Insert [base, base + size) at idx; the array must have room. */
  private memblock_insert_region(type: number, idx: number, base: number, size: number, nid: number, flags: number): void {
    const sz = this.L.rgn.sizeof;
    const cnt = this.cnt(type);
    if (cnt >= this.max(type)) this.BUG(565);
    const r = this.rgn(type, idx);
    this.mem.copy(r + sz, r, (cnt - idx) * sz);
    this.setRegion(r, base, size, flags, nid);
    this.setCnt(type, cnt + 1);
    this.setTotalSize(type, this.totalSize(type) + size);
  }

  /**
   * Add [base, base + size) to type. It may overlap existing regions, which
   * keep their flags and nid; only the uncovered parts are inserted, then
   * neighbours are merged.
   */
  private memblock_add_range(type: number, base: number, size: number, nid: number, flags: number): number {
    const obase = base;
    size = this.cap(base, size);
    const end = base + size;
    if (!size) return 0;

    /* special case for empty array */
    const first = this.rgn(type, 0);
    if (this.rSize(first) === 0) {
      if (this.cnt(type) !== 0 || this.totalSize(type)) this.WARN(606, 'memblock_add_range');
      this.setRegion(first, base, size, flags, nid);
      this.setTotalSize(type, size);
      this.setCnt(type, 1);
      return 0;
    }

    /*
     * The worst case is when the new range overlaps all existing regions:
     * cnt + 1 new ones. If cnt * 2 + 1 fits, insert straight away.
     */
    let insert = this.cnt(type) * 2 + 1 <= this.max(type);
    let start_rgn = -1;
    let end_rgn = 0;

    for (;;) {
      /*
       * Executed twice: once with insert false to count the regions needed,
       * then with insert true to insert them.
       */
      base = obase;
      let nr_new = 0;
      let idx = 0;
      for (; idx < this.cnt(type); idx++) {
        const rgn = this.rgn(type, idx);
        const rbase = this.rBase(rgn);
        const rend = rbase + this.rSize(rgn);
        if (rbase >= end) break;
        if (rend <= base) continue;
        /* rgn overlaps: if it separates the lower part of the new area, insert that portion */
        if (rbase > base) {
          if (this.L.numa && nid !== this.rNid(rgn)) this.WARN(649, 'memblock_add_range');
          if (flags !== this.rFlags(rgn)) this.WARN(651, 'memblock_add_range');
          nr_new++;
          if (insert) {
            if (start_rgn === -1) start_rgn = idx;
            end_rgn = idx + 1;
            this.memblock_insert_region(type, idx++, base, rbase - base, nid, flags);
          }
        }
        /* area below rend is dealt with, forget about it */
        base = Math.min(rend, end);
      }

      /* insert the remaining portion */
      if (base < end) {
        nr_new++;
        if (insert) {
          if (start_rgn === -1) start_rgn = idx;
          end_rgn = idx + 1;
          this.memblock_insert_region(type, idx, base, end - base, nid, flags);
        }
      }

      if (!nr_new) return 0;

      /* first round: resize the array and repeat for the insertions; otherwise merge */
      if (insert) break;
      while (this.cnt(type) + nr_new > this.max(type)) {
        if (this.memblock_double_array(type, obase, size) < 0) return -ENOMEM;
      }
      insert = true;
    }
    this.memblock_merge_regions(type, start_rgn, end_rgn);
    return 0;
  }

  /**
   * Split regions of type that cross the boundaries of [base, base + size).
   * Returns [start_rgn, end_rgn): the regions inside, or null on -ENOMEM.
   */
  private memblock_isolate_range(type: number, base: number, size: number): [number, number] | null {
    size = this.cap(base, size);
    const end = base + size;
    let start_rgn = 0;
    let end_rgn = 0;
    if (!size) return [0, 0];

    /* we'll create at most two more regions */
    while (this.cnt(type) + 2 > this.max(type)) {
      if (this.memblock_double_array(type, base, size) < 0) return null;
    }

    for (let idx = 0; idx < this.cnt(type); idx++) {
      const rgn = this.rgn(type, idx);
      const rbase = this.rBase(rgn);
      const rend = rbase + this.rSize(rgn);
      if (rbase >= end) break;
      if (rend <= base) continue;

      if (rbase < base) {
        /* rgn intersects from below: split, continue with the new top half */
        this.setBase(rgn, base);
        this.setSize(rgn, this.rSize(rgn) - (base - rbase));
        this.setTotalSize(type, this.totalSize(type) - (base - rbase));
        this.memblock_insert_region(type, idx, rbase, base - rbase, this.rNid(rgn), this.rFlags(rgn));
      } else if (rend > end) {
        /* rgn intersects from above: split, redo the new bottom half */
        this.setBase(rgn, end);
        this.setSize(rgn, this.rSize(rgn) - (end - rbase));
        this.setTotalSize(type, this.totalSize(type) - (end - rbase));
        this.memblock_insert_region(type, idx--, rbase, end - rbase, this.rNid(rgn), this.rFlags(rgn));
      } else {
        /* rgn is fully contained, record it */
        if (!end_rgn) start_rgn = idx;
        end_rgn = idx + 1;
      }
    }
    return [start_rgn, end_rgn];
  }

  private memblock_remove_range(type: number, base: number, size: number): number {
    const range = this.memblock_isolate_range(type, base, size);
    if (!range) return -ENOMEM;
    for (let i = range[1] - 1; i >= range[0]; i--) this.memblock_remove_region(type, i);
    return 0;
  }

  /* ---- adding, removing, reserving, freeing -------------------------------- */

  memblock_add_node(base: number, size: number, nid: number, flags: number, caller = ''): number {
    this.dbgRange('memblock_add_node', base, size, caller, ` nid=${nid} flags=${flags.toString(16)}`);
    return this.memblock_add_range(this.memory, base, size, nid, flags);
  }

  memblock_add(base: number, size: number, caller = ''): number {
    this.dbgRange('memblock_add', base, size, caller);
    return this.memblock_add_range(this.memory, base, size, this.MAX_NUMNODES, MEMBLOCK_NONE);
  }

  memblock_remove(base: number, size: number, caller = ''): number {
    this.dbgRange('memblock_remove', base, size, caller);
    return this.memblock_remove_range(this.memory, base, size);
  }

  memblock_reserve(base: number, size: number, caller = ''): number {
    this.dbgRange('memblock_reserve', base, size, caller);
    return this.memblock_add_range(this.reserved, base, size, this.MAX_NUMNODES, MEMBLOCK_NONE);
  }

  /** Free a block from memblock_alloc*(): `ptr` is its virtual address (0 does nothing). */
  memblock_free(ptr: number, size: number, caller = ''): void {
    if (ptr) this.memblock_phys_free(this.__pa(ptr), size, caller);
  }

  /** Free a block from memblock_phys_alloc*(). It goes back to memblock, not to the buddy allocator. */
  memblock_phys_free(base: number, size: number, caller = ''): number {
    this.dbgRange('memblock_phys_free', base, size, caller);
    return this.memblock_remove_range(this.reserved, base, size);
  }

  /** Set or clear `flag` on the memory in [base, base + size), splitting regions at the edges. */
  private memblock_setclr_flag(type: number, base: number, size: number, set: boolean, flag: number): number {
    const range = this.memblock_isolate_range(type, base, size);
    if (!range) return -ENOMEM;
    for (let i = range[0]; i < range[1]; i++) {
      const r = this.rgn(type, i);
      this.setFlags(r, set ? this.rFlags(r) | flag : this.rFlags(r) & ~flag);
    }
    this.memblock_merge_regions(type, range[0], range[1]);
    return 0;
  }

  memblock_mark_hotplug(base: number, size: number): number {
    return this.memblock_setclr_flag(this.memory, base, size, true, MEMBLOCK_HOTPLUG);
  }

  memblock_clear_hotplug(base: number, size: number): number {
    return this.memblock_setclr_flag(this.memory, base, size, false, MEMBLOCK_HOTPLUG);
  }

  /** Acts only with mirrored_kernelcore ("kernelcore=mirror"); allocations then prefer mirrored memory. */
  memblock_mark_mirror(base: number, size: number): number {
    if (!this.getStatic('mirrored_kernelcore')) return 0;
    this.setStatic('system_has_some_mirror', true);
    return this.memblock_setclr_flag(this.memory, base, size, true, MEMBLOCK_MIRROR);
  }

  /** Keep [base, base + size) out of the direct map and out of allocations. */
  memblock_mark_nomap(base: number, size: number): number {
    return this.memblock_setclr_flag(this.memory, base, size, true, MEMBLOCK_NOMAP);
  }

  memblock_clear_nomap(base: number, size: number): number {
    return this.memblock_setclr_flag(this.memory, base, size, false, MEMBLOCK_NOMAP);
  }

  /** Set the node of type's regions in [base, base + size), splitting regions at the edges. */
  memblock_set_node(base: number, size: number, type: number, nid: number): number {
    if (!this.L.numa) return 0;
    const range = this.memblock_isolate_range(type, base, size);
    if (!range) return -ENOMEM;
    for (let i = range[0]; i < range[1]; i++) this.setNid(this.rgn(type, i), nid);
    this.memblock_merge_regions(type, range[0], range[1]);
    return 0;
  }

  /* ---- iterating ---------------------------------------------------------- */

  private should_skip_region(type: number, m: number, nid: number, flags: number): boolean {
    /* we never skip regions when iterating memblock.reserved */
    if (type !== this.memory) return false;
    /* only memory regions are associated with nodes, check it */
    if (this.numa_valid_node(nid) && nid !== this.rNid(m)) return true;
    const mflags = this.rFlags(m);
    /* if we want mirror memory skip non-mirror memory regions */
    if (flags & MEMBLOCK_MIRROR && !(mflags & MEMBLOCK_MIRROR)) return true;
    /* skip nomap memory unless we were asked for it explicitly */
    if (!(flags & MEMBLOCK_NOMAP) && mflags & MEMBLOCK_NOMAP) return true;
    /* skip driver-managed memory unless we were asked for it explicitly */
    if (!(flags & MEMBLOCK_DRIVER_MANAGED) && mflags & MEMBLOCK_DRIVER_MANAGED) return true;
    return false;
  }

  /**
   * __next_mem_range(): the next area of type_a (matching nid and flags)
   * not covered by type_b (0 for none). idx.b walks the gaps of type_b:
   * for type_b regions 0:[0-16), 1:[32-48), 2:[128-130) the gaps are
   * 0:[0-0), 1:[16-32), 2:[48-128), 3:[130-MAX); both arrays being sorted,
   * the two indices advance in lockstep and each intersection is returned.
   * Returns [start, end, nid], or null at the end.
   */
  private __next_mem_range(idx: MemRangeIdx, nid: number, flags: number, type_a: number, type_b: number): [number, number, number] | null {
    for (const cntA = this.cnt(type_a); idx.a < cntA; idx.a++) {
      const m = this.rgn(type_a, idx.a);
      const m_start = this.rBase(m);
      const m_end = m_start + this.rSize(m);
      const m_nid = this.rNid(m);
      if (this.should_skip_region(type_a, m, nid, flags)) continue;

      if (!type_b) {
        idx.a++;
        return [m_start, m_end, m_nid];
      }

      /* scan areas before each reservation */
      for (const cntB = this.cnt(type_b); idx.b < cntB + 1; idx.b++) {
        const r_start = idx.b ? this.rEnd(this.rgn(type_b, idx.b - 1)) : 0;
        const r_end = idx.b < cntB ? this.rBase(this.rgn(type_b, idx.b)) : this.PHYS_ADDR_MAX;
        /* if idx.b advanced past idx.a, break out to advance idx.a */
        if (r_start >= m_end) break;
        /* if the two regions intersect, we're done */
        if (m_start < r_end) {
          /* the region which ends first is advanced for the next iteration */
          if (m_end <= r_end) idx.a++;
          else idx.b++;
          return [Math.max(m_start, r_start), Math.min(m_end, r_end), m_nid];
        }
      }
    }
    return null;
  }

  /** __next_mem_range_rev(): the same walk from the top; idx starts at {a: cnt_a - 1, b: cnt_b}. */
  private __next_mem_range_rev(idx: MemRangeIdx, nid: number, flags: number, type_a: number, type_b: number): [number, number, number] | null {
    for (; idx.a >= 0; idx.a--) {
      const m = this.rgn(type_a, idx.a);
      const m_start = this.rBase(m);
      const m_end = m_start + this.rSize(m);
      const m_nid = this.rNid(m);
      if (this.should_skip_region(type_a, m, nid, flags)) continue;

      if (!type_b) {
        idx.a--;
        return [m_start, m_end, m_nid];
      }

      /* scan areas before each reservation */
      for (const cntB = this.cnt(type_b); idx.b >= 0; idx.b--) {
        const r_start = idx.b ? this.rEnd(this.rgn(type_b, idx.b - 1)) : 0;
        const r_end = idx.b < cntB ? this.rBase(this.rgn(type_b, idx.b)) : this.PHYS_ADDR_MAX;
        /* if idx.b advanced past idx.a, break out to advance idx.a */
        if (r_end <= m_start) break;
        /* if the two regions intersect, we're done */
        if (m_end > r_start) {
          if (m_start >= r_start) idx.a--;
          else idx.b--;
          return [Math.max(m_start, r_start), Math.min(m_end, r_end), m_nid];
        }
      }
    }
    return null;
  }

  private __for_each_mem_range(type_a: number, type_b: number, nid: number, flags: number, cb: RangeCallback): void {
    const idx = { a: 0, b: 0 };
    const next = () => this.__next_mem_range(idx, nid, flags, type_a, type_b);
    for (let r = next(); r; r = next()) if (cb(r[0], r[1], r[2])) return;
  }

  private __for_each_mem_range_rev(type_a: number, type_b: number, nid: number, flags: number, cb: RangeCallback): void {
    const idx = { a: this.cnt(type_a) - 1, b: type_b ? this.cnt(type_b) : 0 };
    const next = () => this.__next_mem_range_rev(idx, nid, flags, type_a, type_b);
    for (let r = next(); r; r = next()) if (cb(r[0], r[1], r[2])) return;
  }

  /** for_each_mem_range(): every memory region, hotpluggable and driver-managed ones included. */
  for_each_mem_range(cb: (start: number, end: number) => unknown): void {
    this.__for_each_mem_range(this.memory, 0, NUMA_NO_NODE, MEMBLOCK_HOTPLUG | MEMBLOCK_DRIVER_MANAGED, (s, e) => cb(s, e));
  }

  /** for_each_free_mem_range(): memory minus reserved, on node nid (NUMA_NO_NODE: all), low to high. */
  for_each_free_mem_range(nid: number, cb: RangeCallback, flags = MEMBLOCK_NONE): void {
    this.__for_each_mem_range(this.memory, this.reserved, nid, flags, cb);
  }

  /** for_each_free_mem_range_reverse(): the same, high to low. */
  for_each_free_mem_range_reverse(nid: number, cb: RangeCallback, flags = MEMBLOCK_NONE): void {
    this.__for_each_mem_range_rev(this.memory, this.reserved, nid, flags, cb);
  }

  for_each_reserved_mem_range(cb: (start: number, end: number) => unknown): void {
    this.__for_each_mem_range(this.reserved, 0, NUMA_NO_NODE, MEMBLOCK_NONE, (s, e) => cb(s, e));
  }

  /** for_each_mem_pfn_range(): whole pages of each memory region on nid (MAX_NUMNODES: all). */
  for_each_mem_pfn_range(nid: number, cb: (start_pfn: number, end_pfn: number, nid: number) => unknown): void {
    for (let i = 0; i < this.cnt(this.memory); i++) {
      const r = this.rgn(this.memory, i);
      const spfn = PFN_UP(this.rBase(r));
      const epfn = PFN_DOWN(this.rEnd(r));
      const r_nid = this.rNid(r);
      if (spfn >= epfn) continue;
      if (this.numa_valid_node(nid) && nid !== r_nid) continue;
      if (cb(spfn, epfn, r_nid)) return;
    }
  }

  /* ---- finding free space --------------------------------------------------- */

  private __memblock_find_range_bottom_up(start: number, end: number, size: number, align: number, nid: number, flags: number): number {
    let found = 0;
    this.for_each_free_mem_range(nid, (s, e) => {
      s = clamp(s, start, end);
      e = clamp(e, start, end);
      const cand = roundUp(s, align);
      if (cand >= e || e - cand < size) return false;
      found = cand;
      return true;
    }, flags);
    return found;
  }

  private __memblock_find_range_top_down(start: number, end: number, size: number, align: number, nid: number, flags: number): number {
    let found = 0;
    this.for_each_free_mem_range_reverse(nid, (s, e) => {
      s = clamp(s, start, end);
      e = clamp(e, start, end);
      if (e < size) return false;
      const cand = roundDown(e - size, align);
      if (cand < s) return false;
      found = cand;
      return true;
    }, flags);
    return found;
  }

  /** A free, aligned area of `size` in [start, end) on node nid; 0 if none. */
  private memblock_find_in_range_node(size: number, align: number, start: number, end: number, nid: number, flags: number): number {
    /* pump up end */
    if (end === MEMBLOCK_ALLOC_ACCESSIBLE || end === MEMBLOCK_ALLOC_NOLEAKTRACE) end = this.memblock_get_current_limit();
    /* avoid allocating the first page */
    start = Math.max(start, PAGE_SIZE);
    end = Math.max(start, end);
    return this.memblock_bottom_up()
      ? this.__memblock_find_range_bottom_up(start, end, size, align, nid, flags)
      : this.__memblock_find_range_top_down(start, end, size, align, nid, flags);
  }

  private memblock_find_in_range(start: number, end: number, size: number, align: number): number {
    let flags = this.choose_memblock_flags();
    for (;;) {
      const ret = this.memblock_find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags);
      if (ret || !(flags & MEMBLOCK_MIRROR)) return ret;
      this.printk(KERN_WARNING, `Could not allocate ${this.fmtPa(size)} bytes of mirrored memory`);
      flags &= ~MEMBLOCK_MIRROR;
    }
  }

  /* ---- allocating ------------------------------------------------------------ */

  /**
   * Reserve and return (physical) `size` bytes aligned to `align` in
   * [start, end), on node nid if it has room, else on any node unless
   * exact_nid. 0 on failure.
   */
  memblock_alloc_range_nid(size: number, align: number, start: number, end: number, nid: number, exact_nid: boolean, caller = ''): number {
    let flags = this.choose_memblock_flags();

    /*
     * Detect any accidental use of these APIs after slab is ready, as at
     * this moment memblock may be deinitialized already.
     */
    if (this.slab_is_available()) {
      if (!this.getStatic('alloc_after_slab_warned')) {
        this.setStatic('alloc_after_slab_warned', true);
        this.WARN(1454, 'memblock_alloc_range_nid');
      }
      return 0;
    }

    if (!align) {
      /* dump_stack(): 6.12 cannot WARN this early on powerpc */
      this.printk(KERN_WARNING, 'Call Trace:');
      this.printk(KERN_WARNING, ' memblock_alloc_range_nid');
      if (caller) this.printk(KERN_WARNING, ` ${caller}`);
      align = this.SMP_CACHE_BYTES;
    }

    for (;;) {
      let found = this.memblock_find_in_range_node(size, align, start, end, nid, flags);
      if (found && !this.memblock_reserve(found, size, 'memblock_alloc_range_nid')) return found;

      if (this.numa_valid_node(nid) && !exact_nid) {
        found = this.memblock_find_in_range_node(size, align, start, end, NUMA_NO_NODE, flags);
        if (found && !this.memblock_reserve(found, size, 'memblock_alloc_range_nid')) return found;
      }

      if (!(flags & MEMBLOCK_MIRROR)) return 0;
      flags &= ~MEMBLOCK_MIRROR;
      this.printk(KERN_WARNING, `Could not allocate ${this.fmtPa(size)} bytes of mirrored memory`);
    }
  }

  /** Physical address of `size` bytes in [start, end), not zeroed; 0 on failure. */
  memblock_phys_alloc_range(size: number, align: number, start: number, end: number, caller = ''): number {
    this.dbgAlloc('memblock_phys_alloc_range', size, align, null, start, end, caller);
    return this.memblock_alloc_range_nid(size, align, start, end, NUMA_NO_NODE, false, caller);
  }

  memblock_phys_alloc_try_nid(size: number, align: number, nid: number, caller = ''): number {
    return this.memblock_alloc_range_nid(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE, nid, false, caller);
  }

  memblock_phys_alloc(size: number, align: number, caller = ''): number {
    return this.memblock_phys_alloc_range(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE, caller);
  }

  /**
   * memblock_alloc_internal(): below max(current_limit), preferring
   * [min_addr, max_addr) but dropping min_addr if that fails. Virtual
   * address, or 0.
   */
  private memblock_alloc_internal(size: number, align: number, min_addr: number, max_addr: number, nid: number, exact_nid: boolean, caller: string): number {
    const limit = this.memblock_get_current_limit();
    if (max_addr > limit) max_addr = limit;

    let alloc = this.memblock_alloc_range_nid(size, align, min_addr, max_addr, nid, exact_nid, caller);
    /* retry allocation without lower limit */
    if (!alloc && min_addr) alloc = this.memblock_alloc_range_nid(size, align, 0, max_addr, nid, exact_nid, caller);
    return alloc ? this.__va(alloc) : 0;
  }

  /** On node nid only, not zeroed. Virtual address or 0. */
  memblock_alloc_exact_nid_raw(size: number, align: number, min_addr: number, max_addr: number, nid: number, caller = ''): number {
    this.dbgAlloc('memblock_alloc_exact_nid_raw', size, align, nid, min_addr, max_addr, caller);
    return this.memblock_alloc_internal(size, align, min_addr, max_addr, nid, true, caller);
  }

  /** Preferring node nid, not zeroed. Virtual address or 0. */
  memblock_alloc_try_nid_raw(size: number, align: number, min_addr: number, max_addr: number, nid: number, caller = ''): number {
    this.dbgAlloc('memblock_alloc_try_nid_raw', size, align, nid, min_addr, max_addr, caller);
    return this.memblock_alloc_internal(size, align, min_addr, max_addr, nid, false, caller);
  }

  /** Preferring node nid, zeroed. Virtual address or 0. */
  memblock_alloc_try_nid(size: number, align: number, min_addr: number, max_addr: number, nid: number, caller = ''): number {
    this.dbgAlloc('memblock_alloc_try_nid', size, align, nid, min_addr, max_addr, caller);
    const ptr = this.memblock_alloc_internal(size, align, min_addr, max_addr, nid, false, caller);
    if (ptr) this.mem.fill(this.__pa(ptr), size, 0);
    return ptr;
  }

  memblock_alloc(size: number, align: number, caller = ''): number {
    return this.memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE, caller);
  }

  memblock_alloc_raw(size: number, align: number, caller = ''): number {
    return this.memblock_alloc_try_nid_raw(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE, caller);
  }

  memblock_alloc_from(size: number, align: number, min_addr: number, caller = ''): number {
    return this.memblock_alloc_try_nid(size, align, min_addr, MEMBLOCK_ALLOC_ACCESSIBLE, NUMA_NO_NODE, caller);
  }

  memblock_alloc_low(size: number, align: number, caller = ''): number {
    return this.memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, ARCH_LOW_ADDRESS_LIMIT, NUMA_NO_NODE, caller);
  }

  memblock_alloc_node(size: number, align: number, nid: number, caller = ''): number {
    return this.memblock_alloc_try_nid(size, align, MEMBLOCK_LOW_LIMIT, MEMBLOCK_ALLOC_ACCESSIBLE, nid, caller);
  }

  /* ---- LDD3's bootmem API, as the memblock-backed nobootmem.c of 3.x/4.x had it ---- */

  /**
   * ___alloc_bootmem(): zeroed, NUMA_NO_NODE, below `limit`; bootmem callers
   * never checked for NULL, so failure panics. LDD3's alloc_bootmem() started
   * looking above 16 MiB to spare ZONE_DMA; on memblock that goal became 0
   * ("we are using top down, so it is safe to use 0 here").
   */
  private ___alloc_bootmem(size: number, align: number, limit: number, caller: string): number {
    const ptr = this.memblock_alloc_try_nid(size, align, 0, limit, NUMA_NO_NODE, caller);
    if (ptr) return ptr;
    this.printk(KERN_ALERT, `bootmem alloc of ${size} bytes failed!`);
    return this.panic('Out of memory');
  }

  alloc_bootmem(size: number, caller = ''): number {
    return this.___alloc_bootmem(size, this.SMP_CACHE_BYTES, MEMBLOCK_ALLOC_ACCESSIBLE, caller);
  }

  alloc_bootmem_pages(size: number, caller = ''): number {
    return this.___alloc_bootmem(size, PAGE_SIZE, MEMBLOCK_ALLOC_ACCESSIBLE, caller);
  }

  /** Below ARCH_LOW_ADDRESS_LIMIT (4 GiB), see there. */
  alloc_bootmem_low(size: number, caller = ''): number {
    return this.___alloc_bootmem(size, this.SMP_CACHE_BYTES, ARCH_LOW_ADDRESS_LIMIT, caller);
  }

  alloc_bootmem_low_pages(size: number, caller = ''): number {
    return this.___alloc_bootmem(size, PAGE_SIZE, ARCH_LOW_ADDRESS_LIMIT, caller);
  }

  /** free_bootmem() took a physical address. */
  free_bootmem(addr: number, size: number, caller = ''): void {
    this.memblock_phys_free(addr, size, caller);
  }

  /* ---- queries -------------------------------------------------------------- */

  memblock_phys_mem_size(): number {
    return this.totalSize(this.memory);
  }

  memblock_reserved_size(): number {
    return this.totalSize(this.reserved);
  }

  /** Lowest address of memory. */
  memblock_start_of_DRAM(): number {
    return this.rBase(this.rgn(this.memory, 0));
  }

  memblock_end_of_DRAM(): number {
    return this.rEnd(this.rgn(this.memory, Math.max(this.cnt(this.memory) - 1, 0)));
  }

  /** Binary search: index of type's region holding addr, or -1. */
  private memblock_search(type: number, addr: number): number {
    let left = 0;
    let right = this.cnt(type);
    do {
      const mid = (left + right) >>> 1;
      const r = this.rgn(type, mid);
      if (addr < this.rBase(r)) right = mid;
      else if (addr >= this.rEnd(r)) left = mid + 1;
      else return mid;
    } while (left < right);
    return -1;
  }

  memblock_is_reserved(addr: number): boolean {
    return this.memblock_search(this.reserved, addr) !== -1;
  }

  memblock_is_memory(addr: number): boolean {
    return this.memblock_search(this.memory, addr) !== -1;
  }

  memblock_is_map_memory(addr: number): boolean {
    const i = this.memblock_search(this.memory, addr);
    return i !== -1 && !(this.rFlags(this.rgn(this.memory, i)) & MEMBLOCK_NOMAP);
  }

  /** Is [base, base + size) inside one memory region? */
  memblock_is_region_memory(base: number, size: number): boolean {
    const idx = this.memblock_search(this.memory, base);
    const end = base + this.cap(base, size);
    return idx !== -1 && this.rEnd(this.rgn(this.memory, idx)) >= end;
  }

  /** Does [base, base + size) intersect reserved memory? */
  memblock_is_region_reserved(base: number, size: number): boolean {
    return this.memblock_overlaps_region(this.reserved, base, size);
  }

  /** Shrink every memory region to `align` boundaries; drop those left empty. */
  memblock_trim_memory(align: number): void {
    for (let i = 0; i < this.cnt(this.memory); i++) {
      const r = this.rgn(this.memory, i);
      const orig_start = this.rBase(r);
      const orig_end = orig_start + this.rSize(r);
      const start = roundUp(orig_start, align);
      const end = roundDown(orig_end, align);
      if (start === orig_start && end === orig_end) continue;
      if (start < end) {
        this.setBase(r, start);
        this.setSize(r, end - start);
      } else {
        this.memblock_remove_region(this.memory, i);
        i--;
      }
    }
  }

  /* ---- memblock=debug ---------------------------------------------------------- */

  private memblock_dump(type: number): void {
    const { cnt, name } = this.readType(type);
    this.printk(KERN_INFO, ` ${name}.cnt  = 0x${cnt.toString(16)}`);
    for (let idx = 0; idx < cnt; idx++) {
      const { base, size, flags, nid } = this.readRegion(type, idx);
      const nid_buf = this.L.numa && this.numa_valid_node(nid) ? ` on node ${nid}` : '';
      this.printk(
        KERN_INFO,
        ` ${name}[0x${idx.toString(16)}]\t[${this.fmtPa(base)}-${this.fmtPa(base + size - 1)}], ` +
          `${this.fmtPa(size)} bytes${nid_buf} flags: 0x${flags.toString(16)}`,
      );
    }
  }

  /** The MEMBLOCK configuration report, whether or not memblock=debug is on. */
  __memblock_dump_all(): void {
    this.printk(KERN_INFO, 'MEMBLOCK configuration:');
    this.printk(
      KERN_INFO,
      ` memory size = ${this.fmtPa(this.memblock_phys_mem_size())} reserved size = ${this.fmtPa(this.memblock_reserved_size())}`,
    );
    this.memblock_dump(this.memory);
    this.memblock_dump(this.reserved);
  }

  memblock_dump_all(): void {
    if (this.mem.read32(this.st + this.L.statics.memblock_debug) !== 0) this.__memblock_dump_all();
  }
}
