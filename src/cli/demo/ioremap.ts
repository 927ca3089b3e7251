/*
 * Chapter: ioremap. Device registers and memory at physical addresses that
 * are not RAM, mapped uncached into vmalloc space and reached with
 * readl/writel and memcpy_fromio; a DMA transfer by the simulated
 * kmem-dev; what the kernel refuses.
 */
import {
  CONTROL_START, CONTROL_TO_DEVICE, KMEMDEV_BAR_OFFSET, KMEMDEV_CONTROL, KMEMDEV_DMA_ADDR_HI, KMEMDEV_DMA_ADDR_LO,
  KMEMDEV_DMA_LEN, KMEMDEV_ID, KMEMDEV_SCRATCH, KMEMDEV_STATUS, KMEMDEV_VERSION,
} from '../../drivers/kmem_dev.ts';
import { hex, ptr, type DemoChapter } from './chapter.ts';

export const ioremapChapter: DemoChapter = {
  id: 'ioremap',
  title: 'ioremap: device registers and memory through uncached mappings',
  summary: 'MMIO windows, ioremap and readl/writel, a DMA transfer, ioremap of RAM refused',
  run(d) {
    d.say(`A PCI device shows up as windows of physical address space (its
      BARs): registers, and sometimes memory of its own. There is no RAM
      behind those addresses and the kernel has no mapping for them, so a
      driver asks for one with ioremap(): a range of vmalloc space whose
      page-table entries point at the device and disable caching (a register
      read must reach the device every time). LDD3 chapter 9 then says: use
      ioread32/iowrite32 or readl/writel, never a plain pointer.`);
    const k = d.boot({ mem: '128M', cpus: 1 });
    d.say(`The simulated machine's MMIO windows (from its configuration); kmem
      puts a device behind some of them. kmem-dev is a small DMA-capable
      device: a page of registers (BAR0) and 1 MiB of on-board memory (BAR2).`);
    d.show(k.config.mmio.map((w) => `${w.name.padEnd(14)} ${hex(w.start)}-${hex(w.start + w.size - 1)}`));
    d.blank();

    const regs = d.logged(k, 'regs = ioremap(0xfebf0000, 4096)', () => k.ioremap(0xfebf0000, 4096), (r) => ptr(k, r));
    d.say(`Its PTE has PCD set (0x10: uncached, "UC-"), beside the present,
      writable, global and no-execute bits of a kernel mapping:`);
    d.show(k.paging.pt.dump_pagetable(regs, k.paging.maxLowPfn));
    d.blank();
    d.call('ioread32(regs + KMEMDEV_ID)', hex(k.ioread32(regs + KMEMDEV_ID)) + '   /* the bytes "KMEM" */');
    d.call('ioread32(regs + KMEMDEV_VERSION)', hex(k.ioread32(regs + KMEMDEV_VERSION)));
    k.iowrite32(0xcafef00d, regs + KMEMDEV_SCRATCH);
    d.call('iowrite32(0xcafef00d, regs + KMEMDEV_SCRATCH)');
    d.call('readl(regs + KMEMDEV_SCRATCH)', hex(k.readl(regs + KMEMDEV_SCRATCH)));
    d.blank();

    d.say(`DMA: the device moves data itself, to and from physical (bus)
      addresses, so the buffer must be physically contiguous: a kmalloc
      buffer, not a vmalloc one. Program address, length and direction, set
      START, read the status:`);
    const buf = k.kmalloc(64, k.GFP_KERNEL);
    const msg = new TextEncoder().encode('hello from RAM, by DMA');
    k.kaddr.writeBytes(buf, msg);
    k.writel(k.__pa(buf), regs + KMEMDEV_DMA_ADDR_LO);
    k.writel(0, regs + KMEMDEV_DMA_ADDR_HI);
    k.writel(msg.length, regs + KMEMDEV_DMA_LEN);
    k.writel(0x100, regs + KMEMDEV_BAR_OFFSET);
    d.call(`writel(__pa(buf) = ${hex(k.__pa(buf))}, regs + DMA_ADDR_LO); writel(${msg.length}, regs + DMA_LEN); writel(0x100, regs + BAR_OFFSET)`);
    k.writel(CONTROL_START | CONTROL_TO_DEVICE, regs + KMEMDEV_CONTROL);
    d.call('writel(START | TO_DEVICE, regs + CONTROL)');
    d.call('readl(regs + STATUS)', `${hex(k.readl(regs + KMEMDEV_STATUS))}   /* DONE */`);
    d.say(`The bytes are now in the device's memory. Map BAR2 write-combining
      (ioremap_wc, as for a framebuffer) and copy them out with
      memcpy_fromio:`);
    const bar = d.logged(k, 'bar = ioremap_wc(0xfe000000, 1 << 20)', () => k.ioremap_wc(0xfe000000, 1 << 20), (b) => ptr(k, b));
    const out = k.kmalloc(64, k.GFP_KERNEL);
    k.memcpy_fromio(out, bar + 0x100, msg.length);
    d.call('memcpy_fromio(out, bar + 0x100, len)', `"${new TextDecoder().decode(k.kaddr.readBytes(out, msg.length))}"`);
    d.blank();
    d.cat(k, 'vmallocinfo');

    d.say(`RAM the kernel is using cannot be ioremapped (it would get a second,
      uncached mapping with conflicting cache attributes): the kernel warns,
      once, and returns NULL. And iounmap() of an address no ioremap
      returned is reported and ignored.`);
    const page = k.alloc_page(k.GFP_KERNEL);
    d.logged(k, `ioremap(page_to_phys(page) = ${hex(k.page_to_phys(page))}, PAGE_SIZE)`, () => k.ioremap(k.page_to_phys(page), k.PAGE_SIZE),
      (r) => (r === 0 ? 'NULL' : ptr(k, r)));
    d.blank();
    d.logged(k, `iounmap(${ptr(k, k.VMALLOC_START + (1 << 30))})`, () => k.iounmap(k.VMALLOC_START + (1 << 30)));
    d.blank();
    k.iounmap(bar);
    k.iounmap(regs);
    k.kfree(buf);
    k.kfree(out);
    k.__free_page(page);
  },
};
