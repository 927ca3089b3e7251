/*
 * kmem-dev: a small simulated PCI device for ioremap and DMA examples, in
 * the style of the devices LDD3 drivers talk to. It has two BARs:
 *
 *   BAR0 "kmem-dev"      4 KiB of 32-bit registers (default at 0xfebf0000)
 *   BAR2 "kmem-dev.bar"  on-board memory           (default 1 MiB at 0xfe000000)
 *
 * Registers (offsets in BAR0, little-endian, 32 bits):
 *
 *   0x00 ID            RO   0x4d454d4b: the bytes "KMEM"
 *   0x04 VERSION       RO   0x00010000
 *   0x08 STATUS        R/W1C bit 0 BUSY, bit 1 DONE, bit 2 ERROR (write 1 to clear DONE/ERROR)
 *   0x0c CONTROL       RW   bit 0 START (reads back 0), bit 1 TO_DEVICE, bit 31 RESET
 *   0x10 DMA_ADDR_LO   RW   bus address of the RAM buffer (x86 without an IOMMU: the physical address)
 *   0x14 DMA_ADDR_HI   RW
 *   0x18 DMA_LEN       RW   bytes to move
 *   0x1c BAR_OFFSET    RW   where in BAR2 the transfer starts
 *   0x20 DMA_MASK_BITS RO   how many address bits the DMA engine drives (32)
 *   0x24 SCRATCH       RW   a plain register
 *   0x28 XFER_COUNT    RO   completed transfers
 *   0x2c BAR_SIZE      RO   size of BAR2
 *
 * Writing CONTROL with START runs one DMA transfer at once: TO_DEVICE copies
 * DMA_LEN bytes from RAM at DMA_ADDR into BAR2 at BAR_OFFSET, otherwise from
 * BAR2 into RAM; then STATUS says DONE. A transfer whose RAM range is not
 * all RAM, lies above the DMA mask, or runs past the end of BAR2 moves
 * nothing and sets ERROR. Byte and 16-bit accesses read or update part of
 * the 32-bit register they fall in. The device's state is its own (its
 * register file and its BAR), not the kernel's: see iomem.ts.
 */
import type { PhysMem } from '../machine/memory.ts';
import type { BarMemory, MmioDevice } from './iomem.ts';

export const KMEMDEV_ID = 0x00;
export const KMEMDEV_VERSION = 0x04;
export const KMEMDEV_STATUS = 0x08;
export const KMEMDEV_CONTROL = 0x0c;
export const KMEMDEV_DMA_ADDR_LO = 0x10;
export const KMEMDEV_DMA_ADDR_HI = 0x14;
export const KMEMDEV_DMA_LEN = 0x18;
export const KMEMDEV_BAR_OFFSET = 0x1c;
export const KMEMDEV_DMA_MASK_BITS = 0x20;
export const KMEMDEV_SCRATCH = 0x24;
export const KMEMDEV_XFER_COUNT = 0x28;
export const KMEMDEV_BAR_SIZE = 0x2c;

export const KMEMDEV_ID_VALUE = 0x4d454d4b;
export const KMEMDEV_VERSION_VALUE = 0x00010000;
export const STATUS_BUSY = 1;
export const STATUS_DONE = 2;
export const STATUS_ERROR = 4;
export const CONTROL_START = 1;
export const CONTROL_TO_DEVICE = 2;
export const CONTROL_RESET = 0x80000000;

const REGS_BYTES = 4096;

export class KmemDev implements MmioDevice {
  readonly name = 'kmem-dev';
  /** The register file, one 32-bit word per register. */
  regs = new Uint32Array(new SharedArrayBuffer(REGS_BYTES));

  constructor(private readonly ram: PhysMem, private readonly isRam: (pa: number, len: number) => boolean,
    readonly bar: BarMemory, readonly dmaMaskBits = 32) {
    this.reset();
  }

  /** The register file's buffer; BAR2 is shared as its own window. */
  share(): SharedArrayBuffer {
    return this.regs.buffer as SharedArrayBuffer;
  }

  adopt(state: SharedArrayBuffer): void {
    this.regs = new Uint32Array(state);
  }

  private reset(): void {
    this.regs.fill(0);
    this.regs[KMEMDEV_ID >> 2] = KMEMDEV_ID_VALUE;
    this.regs[KMEMDEV_VERSION >> 2] = KMEMDEV_VERSION_VALUE;
    this.regs[KMEMDEV_DMA_MASK_BITS >> 2] = this.dmaMaskBits;
    this.regs[KMEMDEV_BAR_SIZE >> 2] = this.bar.size;
  }

  read(off: number, size: number): number {
    const word = this.regs[(off >> 2) & (REGS_BYTES / 4 - 1)];
    const shift = (off & 3) * 8;
    if (size === 4) return word >>> 0;
    return (word >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  write(off: number, size: number, v: number): void {
    const reg = off & ~3 & (REGS_BYTES - 1);
    let value = v >>> 0;
    if (size !== 4) {
      const shift = (off & 3) * 8;
      const mask = (size === 1 ? 0xff : 0xffff) << shift;
      value = ((this.regs[reg >> 2] & ~mask) | ((v << shift) & mask)) >>> 0;
    }
    this.writeReg(reg, value);
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case KMEMDEV_ID: case KMEMDEV_VERSION: case KMEMDEV_DMA_MASK_BITS: case KMEMDEV_XFER_COUNT: case KMEMDEV_BAR_SIZE:
        return; // read-only
      case KMEMDEV_STATUS:
        this.regs[reg >> 2] &= ~(v & (STATUS_DONE | STATUS_ERROR));
        return;
      case KMEMDEV_CONTROL:
        if (v & CONTROL_RESET) {
          this.reset();
          return;
        }
        this.regs[reg >> 2] = v & ~CONTROL_START;
        if (v & CONTROL_START) this.dma((v & CONTROL_TO_DEVICE) !== 0);
        return;
      default:
        this.regs[reg >> 2] = v;
    }
  }

  /** One transfer between RAM and BAR2. */
  private dma(toDevice: boolean): void {
    const r = this.regs;
    const addr = r[KMEMDEV_DMA_ADDR_LO >> 2] + r[KMEMDEV_DMA_ADDR_HI >> 2] * 4294967296;
    const len = r[KMEMDEV_DMA_LEN >> 2];
    const off = r[KMEMDEV_BAR_OFFSET >> 2];
    const status = KMEMDEV_STATUS >> 2;
    r[status] = (r[status] | STATUS_BUSY) & ~(STATUS_DONE | STATUS_ERROR);
    const ok = len === 0 || (addr + len <= 2 ** this.dmaMaskBits && this.isRam(addr, len) && off + len <= this.bar.size);
    if (ok && len > 0) {
      if (toDevice) this.bar.u8.set(this.ram.readBytes(addr, len), off);
      else this.ram.writeBytes(addr, this.bar.u8.subarray(off, off + len));
    }
    if (ok) r[KMEMDEV_XFER_COUNT >> 2]++;
    r[status] = (r[status] & ~STATUS_BUSY) | (ok ? STATUS_DONE : STATUS_ERROR);
  }
}
