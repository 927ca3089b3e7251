/*
 * The machine's memory-mapped I/O: what answers a physical address that is
 * not RAM (the hardware side of ioremap; kernel/resource.c's iomem_resource
 * is what the kernel knows of it).
 *
 * The machine configuration declares MMIO windows (src/machine/config.ts);
 * a window whose name kmem knows gets a device behind it:
 *
 *   window          device                          kind
 *   vga-lowmem      the legacy VGA window 0xa0000   memory (text buffer at 0xb8000)
 *   vga.vram        the VGA framebuffer BAR         memory
 *   kmem-dev        kmem-dev's register BAR         registers (kmem_dev.ts)
 *   kmem-dev.bar    kmem-dev's memory BAR           memory, and kmem-dev's DMA buffer
 *   anything else   no device: reads return all ones, writes vanish
 *                   (a PCI master abort), as for the IOAPIC, HPET and LAPIC
 *                   windows, whose registers kmem does not model
 *
 * A physical address outside RAM and outside every window is also
 * unclaimed. Device state is hardware state, not kernel state: registers and
 * memory BARs live in each device's own buffers (SharedArrayBuffers, like
 * RAM), not in the simulated RAM, and the kernel reaches them only through
 * mappings (ioremap) or, for DMA, the devices reach RAM.
 *
 * Host threads running CPUs of one machine see the same devices: a worker
 * attaching (src/init/attach.ts) adopts the booting thread's device buffers
 * (share()/adopt()), as it adopts the RAM. A register file is one
 * SharedArrayBuffer; two CPUs programming the same device at once race as
 * they would on real hardware (drivers serialise with their own locks).
 *
 * Accesses are little-endian; a device sees the offset in its window and the
 * access size (1, 2, 4; an 8-byte access is two 4-byte ones, low first, as
 * readq/writeq on a 32-bit bus).
 */
import type { PhysMem } from '../machine/memory.ts';
import { usableRanges, type E820Entry, type MmioWindow } from '../machine/config.ts';
import { KmemDev } from './kmem_dev.ts';

export interface MmioDevice {
  readonly name: string;
  /** The device's state, to hand to another thread (null: it has none). */
  share(): SharedArrayBuffer | null;
  /** Take over another thread's device state (what share() returned there). */
  adopt(state: SharedArrayBuffer): void;
  /** Read `size` bytes (1, 2 or 4) at `off` in the window, little-endian, unsigned. */
  read(off: number, size: number): number;
  write(off: number, size: number, v: number): void;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

/** No device: the bus returns all ones (a master abort) and drops writes. */
export class UnclaimedMmio implements MmioDevice {
  constructor(readonly name: string) {}
  read(_off: number, size: number): number {
    return ALL_ONES[size];
  }

  write(): void {}

  share(): null {
    return null;
  }

  adopt(): void {}
}

/** A memory BAR (a framebuffer, a device's on-board RAM): bytes, allocated on first touch. */
export class BarMemory implements MmioDevice {
  private bytes: Uint8Array | null = null;
  constructor(readonly name: string, readonly size: number) {}

  /** The BAR's bytes (the device's view: DMA engines and tests use it). */
  get u8(): Uint8Array {
    this.bytes ??= new Uint8Array(new SharedArrayBuffer(this.size));
    return this.bytes;
  }

  /** The bytes' buffer (allocated now if untouched, so every thread shares one). */
  share(): SharedArrayBuffer {
    return this.u8.buffer as SharedArrayBuffer;
  }

  adopt(state: SharedArrayBuffer): void {
    this.bytes = new Uint8Array(state);
  }

  read(off: number, size: number): number {
    const b = this.u8;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[off + i];
    return v;
  }

  write(off: number, size: number, v: number): void {
    const b = this.u8;
    for (let i = 0; i < size; i++) {
      b[off + i] = v & 0xff;
      v = Math.floor(v / 256);
    }
  }
}

interface Window {
  readonly start: number;
  readonly end: number;
  readonly dev: MmioDevice;
}

export class IomemBus {
  readonly windows: readonly Window[];
  /** Usable RAM, [start, end) pairs flattened, sorted. */
  private readonly ram: readonly number[];
  private readonly unclaimed = new UnclaimedMmio('(unclaimed)');

  constructor(mmio: readonly MmioWindow[], e820: readonly E820Entry[], mem: PhysMem) {
    this.ram = usableRanges(e820).flat();
    const byName = new Map(mmio.map((w) => [w.name, w]));
    const devices = new Map<string, MmioDevice>();
    for (const w of mmio) {
      if (w.name === 'vga-lowmem' || w.name === 'vga.vram' || w.name === 'kmem-dev.bar') devices.set(w.name, new BarMemory(w.name, w.size));
    }
    const regs = byName.get('kmem-dev');
    if (regs) {
      const bar = (devices.get('kmem-dev.bar') as BarMemory | undefined) ?? new BarMemory('kmem-dev.bar', 64 << 10);
      devices.set('kmem-dev', new KmemDev(mem, (pa, len) => this.isRam(pa, len), bar));
    }
    this.windows = mmio.map((w) => ({ start: w.start, end: w.start + w.size, dev: devices.get(w.name) ?? new UnclaimedMmio(w.name) }));
  }

  /** Every device's state, by window (for shareMachine()). */
  share(): (SharedArrayBuffer | null)[] {
    return this.windows.map((w) => w.dev.share());
  }

  /** A worker takes over the booting thread's devices (same configuration, same windows). */
  adopt(states: readonly (SharedArrayBuffer | null)[]): void {
    this.windows.forEach((w, i) => {
      const st = states[i];
      if (st) w.dev.adopt(st);
    });
  }

  /** [pa, pa+len) is usable RAM. */
  isRam(pa: number, len = 1): boolean {
    const r = this.ram;
    for (let i = 0; i < r.length; i += 2) if (pa >= r[i] && pa + len <= r[i + 1]) return true;
    return false;
  }

  /**
   * Who answers pa: -1 for RAM, else a device index for read()/write()
   * (windows.length for "nobody").
   */
  classify(pa: number): number {
    if (this.isRam(pa)) return -1;
    const w = this.windows;
    for (let i = 0; i < w.length; i++) if (pa >= w[i].start && pa < w[i].end) return i;
    return w.length;
  }

  private dev(i: number): MmioDevice {
    return i < this.windows.length ? this.windows[i].dev : this.unclaimed;
  }

  private off(i: number, pa: number): number {
    return i < this.windows.length ? pa - this.windows[i].start : pa;
  }

  read(i: number, pa: number, size: number): number {
    const d = this.dev(i);
    const off = this.off(i, pa);
    if (size === 8) return d.read(off, 4) + d.read(off + 4, 4) * 4294967296;
    return d.read(off, size);
  }

  write(i: number, pa: number, size: number, v: number): void {
    const d = this.dev(i);
    const off = this.off(i, pa);
    if (size === 8) {
      const hi = Math.floor(v / 4294967296);
      d.write(off, 4, v - hi * 4294967296);
      d.write(off + 4, 4, hi >>> 0);
      return;
    }
    d.write(off, size, v);
  }

  /** The device behind a window, by the window's name. */
  device(name: string): MmioDevice | undefined {
    const i = this.windowIndex(name);
    return i < 0 ? undefined : this.windows[i].dev;
  }

  windowIndex(name: string): number {
    return this.windows.findIndex((w) => w.dev.name === name);
  }
}
