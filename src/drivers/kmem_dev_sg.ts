/*
 * Scatter/gather DMA with kmem-dev (a driver's side of it) and an ISA-style
 * variant of the device.
 *
 * kmem-dev's engine moves one contiguous run per START (kmem_dev.ts), so a
 * driver hands it a scatterlist one DMA segment at a time: for each mapped
 * entry, program DMA_ADDR = sg_dma_address(sg), DMA_LEN = sg_dma_len(sg),
 * BAR_OFFSET = where in the device's memory this piece goes, START, and
 * check STATUS (the way drivers for devices without a descriptor ring do
 * it). The buffer never has to be physically contiguous.
 *
 * The ISA-style device is the same engine with a 24-bit DMA mask (16 MiB:
 * ZONE_DMA) and its own 1 MiB buffer. ISA devices sit on I/O ports, not on
 * an MMIO window; kmem has no port space, so its driver reaches the
 * register file directly (DevRegs below) instead of through ioremap.
 */
import {
  CONTROL_START, CONTROL_TO_DEVICE, KMEMDEV_BAR_OFFSET, KMEMDEV_CONTROL, KMEMDEV_DMA_ADDR_HI, KMEMDEV_DMA_ADDR_LO,
  KMEMDEV_DMA_LEN, KMEMDEV_STATUS, KmemDev, STATUS_DONE, STATUS_ERROR,
} from './kmem_dev.ts';
import { BarMemory } from './iomem.ts';
import type { Kernel } from '../kernel/kernel.ts';

/** How a driver reaches a device's 32-bit registers. */
export interface DevRegs {
  read(off: number): number;
  write(off: number, v: number): void;
}

/** Registers behind an ioremap()ed address (readl/writel). */
export function mmioRegs(k: Kernel, regs: number): DevRegs {
  return { read: (off) => k.readl(regs + off), write: (off, v) => k.writel(v, regs + off) };
}

/** The ISA-style kmem-dev: 24-bit DMA, a 1 MiB buffer; registers reached directly. */
export function isaKmemDev(k: Kernel): { dev: KmemDev; regs: DevRegs } {
  const dev = new KmemDev(k.mem, (pa, len) => k.paging.iomem.isRam(pa, len), new BarMemory('kmem-isa.buf', 1 << 20), 24);
  return { dev, regs: { read: (off) => dev.read(off, 4), write: (off, v) => dev.write(off, 4, v) } };
}

/**
 * Transfer a DMA-mapped scatterlist (nents from dma_map_sg) between RAM and
 * the device's memory starting at barOffset. Returns the bytes moved, or
 * -EIO (5) when the device reports an error.
 */
export function kmemdev_sg_transfer(k: Kernel, regs: DevRegs, sgl: number, nents: number, toDevice: boolean, barOffset: number): number {
  let off = barOffset;
  let moved = 0;
  for (const [sg] of k.sg.for_each_sg(sgl, nents)) {
    const addr = k.sg.sg_dma_address(sg);
    const len = k.sg.sg_dma_len(sg);
    regs.write(KMEMDEV_DMA_ADDR_LO, addr % 4294967296);
    regs.write(KMEMDEV_DMA_ADDR_HI, Math.floor(addr / 4294967296));
    regs.write(KMEMDEV_DMA_LEN, len);
    regs.write(KMEMDEV_BAR_OFFSET, off);
    regs.write(KMEMDEV_CONTROL, CONTROL_START | (toDevice ? CONTROL_TO_DEVICE : 0));
    const st = regs.read(KMEMDEV_STATUS);
    regs.write(KMEMDEV_STATUS, STATUS_DONE | STATUS_ERROR);
    if (!(st & STATUS_DONE)) return -5;
    off += len;
    moved += len;
  }
  return moved;
}
