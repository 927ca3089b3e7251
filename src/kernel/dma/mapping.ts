/*
 * The streaming DMA API for a machine without an IOMMU (kernel/dma/mapping.c,
 * kernel/dma/direct.c, kernel/dma/direct.h, include/linux/dma-mapping.h).
 *
 *   dma_set_mask(dev, DMA_BIT_MASK(24))         an ISA-style device: 16 MiB
 *   n = dma_map_sg(dev, sgl, nents, DMA_TO_DEVICE)   0 on failure
 *   for_each_sg(sgl, sg, n, i) program(sg_dma_address(sg), sg_dma_len(sg))
 *   dma_unmap_sg(dev, sgl, nents, DMA_TO_DEVICE)
 *
 * On x86 without an IOMMU a bus address is the physical address (dma-direct),
 * and the device's DMA mask says how many address bits its engine drives.
 * dma_direct_map_page() checks every segment with dma_capable(): the last
 * byte must lie at or below min_not_zero(*dev->dma_mask, bus_dma_limit).
 * A segment above the mask is bounced through swiotlb when swiotlb is active,
 * and otherwise refused with the kernel's warning
 *   "<driver> <device>: DMA addr 0x...+<size> overflow (mask ffffff, bus limit 0)."
 * and DMA_MAPPING_ERROR; dma_map_sg() then unmaps what it had mapped and
 * returns 0. kmem models no swiotlb: x86 activates it only when RAM reaches
 * above 4 GiB (pci_swiotlb_detect), which kmem machines below 4 GiB share;
 * so an ISA-style device is simply refused a page above 16 MiB, and its
 * driver must allocate with GFP_DMA (ZONE_DMA) as LDD3 says.
 *
 * struct device (the part the DMA API uses), in memory (kzalloc):
 *   +0 u64 dma_mask   +8 u64 coherent_dma_mask   +16 u64 bus_dma_limit
 * (dev->dma_mask points at a u64 in the kernel; here it is the u64 itself).
 *
 * SMP: no shared state besides the struct device, whose masks its driver
 * sets at probe time; mapping a segment only reads them and writes the
 * caller's scatterlist. The device registers live in drivers/ (shared by
 * every host thread, as hardware is).
 */
import { PAGE_SIZE } from '../../arch/x86/layout.ts';
import type { Kernel } from '../kernel.ts';
import { usableRanges } from '../../machine/config.ts';

export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;
/** DMA_MAPPING_ERROR is (dma_addr_t)~0; kmem returns -1. */
export const DMA_MAPPING_ERROR = -1;
const EIO = 5;

export function DMA_BIT_MASK(n: number): number {
  return n >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1;
}

export interface Device {
  readonly name: string;
  readonly driver: string;
  /** The struct device's DMA fields, a kernel virtual address. */
  readonly ptr: number;
}

const D_DMA_MASK = 0;
const D_COHERENT = 8;
const D_BUS_LIMIT = 16;

export class DmaMapping {
  constructor(private readonly k: Kernel) {}

  /** device_initialize() for a device on a bus: DMA mask 32 bits by default (as for PCI). */
  device_register(name: string, driver: string, maskBits = 32): Device {
    const ptr = this.k.kzalloc(24, this.k.GFP_KERNEL);
    if (ptr === 0) throw new Error('device_register: out of memory');
    const dev = { name, driver, ptr };
    this.k.kaddr.write64(ptr + D_DMA_MASK, DMA_BIT_MASK(maskBits));
    this.k.kaddr.write64(ptr + D_COHERENT, DMA_BIT_MASK(maskBits));
    return dev;
  }

  device_unregister(dev: Device): void {
    this.k.kfree(dev.ptr);
  }

  dma_get_mask(dev: Device): number {
    return this.k.kaddr.read64(dev.ptr + D_DMA_MASK);
  }

  bus_dma_limit(dev: Device): number {
    return this.k.kaddr.read64(dev.ptr + D_BUS_LIMIT);
  }

  /** dma_direct_supported(): the mask must reach ZONE_DMA (or all of memory, if smaller). */
  dma_supported(mask: number): boolean {
    const maxPfn = Math.max(...usableRanges(this.k.config.e820).map(([, e]) => Math.floor(e / PAGE_SIZE)));
    let minMask = Math.max(0, (maxPfn - 1) * PAGE_SIZE);
    minMask = Math.min(minMask, DMA_BIT_MASK(24)); // zone_dma_limit: ZONE_DMA is the first 16 MiB on x86
    return mask >= minMask;
  }

  /** dma_set_mask(dev, mask): 0, or -EIO when the platform cannot satisfy it. */
  dma_set_mask(dev: Device, mask: number): number {
    if (!this.dma_supported(mask)) return -EIO;
    this.k.kaddr.write64(dev.ptr + D_DMA_MASK, mask);
    return 0;
  }

  dma_set_coherent_mask(dev: Device, mask: number): number {
    if (!this.dma_supported(mask)) return -EIO;
    this.k.kaddr.write64(dev.ptr + D_COHERENT, mask);
    return 0;
  }

  dma_set_mask_and_coherent(dev: Device, mask: number): number {
    const rc = this.dma_set_mask(dev, mask);
    return rc || this.dma_set_coherent_mask(dev, mask);
  }

  /** dma_capable(dev, addr, size, is_ram) */
  dma_capable(dev: Device, addr: number, size: number): boolean {
    if (addr === DMA_MAPPING_ERROR) return false;
    const end = addr + size - 1;
    const mask = this.dma_get_mask(dev);
    const limit = this.bus_dma_limit(dev);
    const lim = mask === 0 ? limit : limit === 0 ? mask : Math.min(mask, limit);
    return end <= lim;
  }

  private pad(v: number): string {
    return '0x' + v.toString(16).padStart(this.k.paging.physDigits, '0');
  }

  /** dma_direct_map_page(): the bus address, or DMA_MAPPING_ERROR after the kernel's warning. */
  dma_map_page(dev: Device, page: number, offset: number, size: number, dir: number, frames: readonly string[] = ['dma_map_page_attrs']): number {
    if (dir !== DMA_BIDIRECTIONAL && dir !== DMA_TO_DEVICE && dir !== DMA_FROM_DEVICE) {
      this.k.bug.bug('kernel/dma/mapping.c', 161, 'dma_map_page_attrs', [...frames]); // BUG_ON(!valid_dma_direction(dir))
      return DMA_MAPPING_ERROR;
    }
    const phys = this.k.page_to_phys(page) + offset;
    const dma = phys; // phys_to_dma(): no offset, no encryption
    if (!this.dma_capable(dev, dma, size)) {
      this.k.bug.warn('kernel/dma/direct.h', 103, 'dma_direct_map_page',
        `${dev.driver} ${dev.name}: DMA addr ${this.pad(dma)}+${size} overflow (mask ${this.dma_get_mask(dev).toString(16)}, bus limit ${this.bus_dma_limit(dev).toString(16)}).`,
        frames, true);
      return DMA_MAPPING_ERROR;
    }
    return dma;
  }

  /** dma_map_single(dev, va, size, dir): va must be a direct-map address (not vmalloc, not highmem). */
  dma_map_single(dev: Device, va: number, size: number, dir: number): number {
    return this.dma_map_page(dev, this.k.virt_to_page(va), va % PAGE_SIZE, size, dir, ['dma_map_page_attrs']);
  }

  dma_unmap_single(_dev: Device, _addr: number, _size: number, _dir: number): void {
    // dma-direct with coherent x86 caches and no swiotlb: nothing to undo.
  }

  dma_unmap_page(_dev: Device, _addr: number, _size: number, _dir: number): void {
    // As dma_unmap_single.
  }

  dma_mapping_error(_dev: Device, addr: number): number {
    return addr === DMA_MAPPING_ERROR ? -12 : 0;
  }

  /**
   * dma_map_sg(dev, sgl, nents, dir): fills sg_dma_address/sg_dma_len of
   * each entry; returns the number of DMA segments (nents: dma-direct does
   * not merge), or 0 after unmapping what was mapped.
   */
  dma_map_sg(dev: Device, sgl: number, nents: number, dir: number): number {
    const sgx = this.k.sg;
    let i = 0;
    for (const [sg] of sgx.for_each_sg(sgl, nents)) {
      const a = this.dma_map_page(dev, sgx.sg_page(sg), sgx.offset(sg), sgx.length(sg), dir,
        ['dma_direct_map_sg', '__dma_map_sg_attrs', 'dma_map_sg_attrs']);
      if (a === DMA_MAPPING_ERROR) {
        this.dma_unmap_sg(dev, sgl, i, dir);
        return 0;
      }
      sgx.set_dma(sg, a, sgx.length(sg));
      i++;
    }
    return nents;
  }

  /** dma_map_sgtable(dev, sgt, dir, attrs): 0 or -EIO; sets sgt->nents. */
  dma_map_sgtable(dev: Device, sgt: number, dir: number): number {
    const n = this.dma_map_sg(dev, this.k.sg.sgt_sgl(sgt), this.k.sg.sgt_orig_nents(sgt), dir);
    if (n === 0) return -EIO;
    this.k.sg.set_sgt_nents(sgt, n);
    return 0;
  }

  /** dma_unmap_sg(dev, sgl, nents, dir): nents as passed to dma_map_sg. */
  dma_unmap_sg(_dev: Device, sgl: number, nents: number, _dir: number): void {
    for (const [sg] of this.k.sg.for_each_sg(sgl, nents)) this.k.sg.set_dma(sg, 0, 0);
  }

  dma_unmap_sgtable(dev: Device, sgt: number, dir: number): void {
    this.dma_unmap_sg(dev, this.k.sg.sgt_sgl(sgt), this.k.sg.sgt_orig_nents(sgt), dir);
  }
}
