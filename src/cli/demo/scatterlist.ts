/*
 * Chapter: scatter/gather. A 1 MiB transfer built from scattered pages,
 * DMA-mapped and moved by kmem-dev one segment at a time; an ISA-style
 * device refused a page above 16 MiB.
 */
import { DMA_BIT_MASK, DMA_TO_DEVICE } from '../../kernel/dma/mapping.ts';
import { kmemdev_sg_transfer, mmioRegs } from '../../drivers/kmem_dev_sg.ts';
import type { KmemDev } from '../../drivers/kmem_dev.ts';
import { hex, type DemoChapter } from './chapter.ts';

export const scatterlistChapter: DemoChapter = {
  id: 'scatterlist',
  title: 'scatter/gather: large I/O without large contiguous buffers',
  summary: 'sg_alloc_table_from_pages, chained scatterlists, dma_map_sg, a 1 MiB DMA, a 24-bit device',
  run(d) {
    d.say(`LDD3 chapter 8: a driver that needs a big buffer for I/O should not
      hunt for a huge physically contiguous allocation (high orders fail
      once memory is fragmented); it should use scatter/gather: a list of
      (page, offset, length) segments the device (or the driver, segment by
      segment) walks.`);
    const k = d.boot({ mem: '256M', cpus: 1 });
    const pages: number[] = [];
    const held: number[] = [];
    while (pages.length < 256) {
      pages.push(k.alloc_page(k.GFP_KERNEL));
      held.push(k.alloc_page(k.GFP_KERNEL));
    }
    d.call('256 x alloc_page(GFP_KERNEL)   /* 1 MiB, order-0 pages, not contiguous */');
    const sgt = k.kzalloc(k.sg.sgTableSize, k.GFP_KERNEL);
    d.logged(k, 'sg_alloc_table_from_pages(&sgt, pages, 256, 0, SZ_1M, GFP_KERNEL)',
      () => k.sg.sg_alloc_table_from_pages(sgt, pages, 256, 0, 1 << 20, k.GFP_KERNEL), String);
    const sgl = k.sg.sgt_sgl(sgt);
    const n = k.sg.sgt_orig_nents(sgt);
    d.say(`${n} segments: more than one page of struct scatterlist holds
      (SG_MAX_SINGLE_ALLOC = ${k.sg.SG_MAX_SINGLE_ALLOC}), so the table is
      chained: the last entry of each array is a link (SG_CHAIN) to the
      next, and sg_next() follows it. The first entries:`);
    d.show([...k.sg.for_each_sg(sgl, 4)].map(([sg, i]) =>
      `sg[${i}]  page pfn ${hex(k.page_to_pfn(k.sg.sg_page(sg)))}  offset ${k.sg.offset(sg)}  length ${k.sg.length(sg)}`));
    const src = k.vmalloc(1 << 20);
    for (let i = 0; i < 1 << 20; i += 4) k.kaddr.write32(src + i, i);
    d.call('sg_copy_from_buffer(sgl, nents, src, SZ_1M)', String(k.sg.sg_copy_from_buffer(sgl, n, src, 1 << 20)));
    const regs = k.ioremap(0xfebf0000, 4096);
    const dev = k.dma.device_register('0000:00:04.0', 'kmem-dev');
    d.call('dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))', String(k.dma.dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))));
    d.call('dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0)', String(k.dma.dma_map_sgtable(dev, sgt, DMA_TO_DEVICE)));
    const moved = kmemdev_sg_transfer(k, mmioRegs(k, regs), sgl, k.sg.sgt_nents(sgt), true, 0);
    d.call('for_each_sg: program DMA_ADDR = sg_dma_address(sg), DMA_LEN = sg_dma_len(sg), START', `${moved} bytes`);
    k.dma.dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE);
    const hw = k.paging.iomem.device('kmem-dev') as KmemDev;
    let same = true;
    const want = k.kaddr.readBytes(src, 1 << 20);
    for (let i = 0; i < 1 << 20; i++) if (hw.bar.u8[i] !== want[i]) same = false;
    d.call('the device memory equals the buffer', String(same));
    k.sg.sg_free_table(sgt);
    d.blank();
    d.say(`An ISA-style device drives only 24 address bits: it reaches the first
      16 MiB (ZONE_DMA). Its driver sets DMA_BIT_MASK(24); a GFP_KERNEL page
      above 16 MiB then cannot be mapped. Without swiotlb (x86 turns it on
      only when RAM reaches past 4 GiB) dma_map_sg fails with the kernel's
      warning; allocate with GFP_DMA instead.`);
    const idev = k.dma.device_register('isa0', 'kmem-isa');
    d.call('dma_set_mask(dev, DMA_BIT_MASK(24))', String(k.dma.dma_set_mask(idev, DMA_BIT_MASK(24))));
    const one = k.kzalloc(k.sg.L.size, k.GFP_KERNEL);
    const buf = k.kmalloc(512, k.GFP_KERNEL);
    k.sg.sg_init_one(one, buf, 512);
    d.logged(k, `sg_init_one(&sg, kmalloc(512, GFP_KERNEL) /* at ${hex(k.__pa(buf))} */, 512); dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE)`,
      () => k.dma.dma_map_sg(idev, one, 1, DMA_TO_DEVICE), String);
    const dbuf = k.kmalloc(512, k.GFP_KERNEL | k.GFP_DMA);
    k.sg.sg_init_one(one, dbuf, 512);
    d.logged(k, `sg_init_one(&sg, kmalloc(512, GFP_KERNEL | GFP_DMA) /* at ${hex(k.__pa(dbuf))} */, 512); dma_map_sg(...)`,
      () => k.dma.dma_map_sg(idev, one, 1, DMA_TO_DEVICE), String);
    for (const p of [...pages, ...held]) k.__free_page(p);
  },
};
