/*
 * Scatter/gather (lib/scatterlist.c) and DMA to and from a scatterlist
 * (kernel/dma): chained tables, sg_alloc_table_from_pages merging contiguous
 * pages, copies through kmap_local_page, a 1 MiB round trip through
 * kmem-dev's DMA engine from scattered pages, and an ISA-style device
 * (24-bit mask) refused a page above 16 MiB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../src/kernel/dma/mapping.ts';
import { isaKmemDev, kmemdev_sg_transfer, mmioRegs } from '../../src/drivers/kmem_dev_sg.ts';
import { KmemDev } from '../../src/drivers/kmem_dev.ts';
import { boot, logged } from './helpers.ts';

test('sg_alloc_table: chained arrays of SG_MAX_SINGLE_ALLOC, sg_next/sg_nents, sg_free_table returns everything', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    const k = boot({ arch, mem: '256M', cpus: 1 });
    const sg = k.sg;
    assert.equal(sg.SG_MAX_SINGLE_ALLOC, arch === 'x86_64' ? 128 : 204);
    for (const n of [1, 5, sg.SG_MAX_SINGLE_ALLOC, sg.SG_MAX_SINGLE_ALLOC + 1, 1000]) {
      const sgt = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
      assert.equal(sg.sg_alloc_table(sgt, n, k.GFP_KERNEL), 0);
      assert.equal(sg.sgt_nents(sgt), n);
      const sgl = sg.sgt_sgl(sgt);
      assert.equal(sg.sg_nents(sgl), n);
      let count = 0;
      let chains = 0;
      for (let s = sgl; s !== 0; s = sg.sg_next(s)) {
        count++;
        if (sg.sg_is_chain(s + sg.L.size) && !sg.sg_is_last(s)) chains++;
      }
      assert.equal(count, n);
      assert.equal(chains, n <= sg.SG_MAX_SINGLE_ALLOC ? 0 : Math.ceil((n - 1) / (sg.SG_MAX_SINGLE_ALLOC - 1)) - 1);
      const seen = [...sg.for_each_sg(sgl, n)].map(([, i]) => i);
      assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
      // A full array is a whole page from the page allocator, freed by sg_free_table.
      const whole = n > sg.SG_MAX_SINGLE_ALLOC || n === sg.SG_MAX_SINGLE_ALLOC;
      if (whole) assert.equal(sgl % PAGE_SIZE, 0);
      sg.sg_free_table(sgt);
      assert.equal(sg.sgt_sgl(sgt), 0);
      if (whole) {
        k.drain_all_pages();
        assert.ok(k.PageBuddy(k.virt_to_page(sgl)) || k.page_count(k.virt_to_page(sgl)) === 0, 'the page went back');
      }
      k.kfree(sgt);
    }
    assert.equal(sg.sg_alloc_table(k.kzalloc(sg.sgTableSize, k.GFP_KERNEL), 0, k.GFP_KERNEL), -22);
  }
});

test('sg_set_buf, sg_init_one, sg_alloc_table_from_pages merging contiguous pages, sg_copy_{from,to}_buffer', () => {
  const k = boot({ mem: '256M', cpus: 1 });
  const sg = k.sg;
  const buf = k.kmalloc(100, k.GFP_KERNEL);
  const one = k.kzalloc(sg.L.size, k.GFP_KERNEL);
  sg.sg_init_one(one, buf, 100);
  assert.equal(sg.sg_page(one), k.virt_to_page(buf));
  assert.equal(sg.offset(one), buf % PAGE_SIZE);
  assert.equal(sg.length(one), 100);
  assert.ok(sg.sg_is_last(one));
  // 4 contiguous pages + 1 separate + 2 contiguous => 3 segments.
  const big = k.alloc_pages(k.GFP_KERNEL, 2);
  const lone = k.alloc_page(k.GFP_KERNEL);
  const pair = k.alloc_pages(k.GFP_KERNEL, 1);
  const pfn = (p: number) => k.page_to_pfn(p);
  const pages = [0, 1, 2, 3].map((i) => k.pfn_to_page(pfn(big) + i)).concat([lone, pair, k.pfn_to_page(pfn(pair) + 1)]);
  assert.notEqual(pfn(lone), pfn(big) + 4);
  const sgt = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
  const size = 7 * PAGE_SIZE - 100 - 50;
  assert.equal(sg.sg_alloc_table_from_pages(sgt, pages, 7, 100, size, k.GFP_KERNEL), 0);
  const sgl = sg.sgt_sgl(sgt);
  assert.equal(sg.sgt_nents(sgt), 3);
  const segs = [...sg.for_each_sg(sgl, 3)].map(([s]) => [pfn(sg.sg_page(s)), sg.offset(s), sg.length(s)]);
  assert.deepEqual(segs, [[pfn(big), 100, 4 * PAGE_SIZE - 100], [pfn(lone), 0, PAGE_SIZE], [pfn(pair), 0, 2 * PAGE_SIZE - 50]]);
  const src = k.vmalloc(size);
  for (let i = 0; i < size; i += 4) k.kaddr.write32(src + i, (i * 2654435761) >>> 0);
  assert.equal(sg.sg_copy_from_buffer(sgl, 3, src, size), size);
  assert.equal(k.kaddr.read32(k.page_address(big) + 100), k.kaddr.read32(src));
  const dst = k.vzalloc(size);
  assert.equal(sg.sg_copy_to_buffer(sgl, 3, dst, size), size);
  assert.deepEqual(k.kaddr.readBytes(dst, size), k.kaddr.readBytes(src, size));
  sg.sg_free_table(sgt);
});

test('highmem segments on i386: sg_copy goes through kmap_local_page', () => {
  const k = boot({ arch: 'i386', mem: '1G', cpus: 1 });
  const sg = k.sg;
  const pages = Array.from({ length: 3 }, () => k.alloc_page(k.GFP_HIGHUSER));
  assert.ok(pages.every((p) => k.PageHighMem(p)));
  const sgt = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
  assert.equal(sg.sg_alloc_table(sgt, 3, k.GFP_KERNEL), 0);
  const sgl = sg.sgt_sgl(sgt);
  pages.forEach((p, i) => sg.sg_set_page(sg.at(sgl, i), p, PAGE_SIZE, 0));
  const buf = k.vmalloc(3 * PAGE_SIZE);
  k.kaddr.fill(buf, 3 * PAGE_SIZE, 0x5a);
  assert.equal(sg.sg_copy_from_buffer(sgl, 3, buf, 3 * PAGE_SIZE), 3 * PAGE_SIZE);
  assert.equal(k.mem.read8(k.page_to_phys(pages[2]) + 4095), 0x5a);
  assert.equal(k.highmem.localDepth(), 0);
});

test('DMA to and from a 1 MiB buffer built from 256 scattered pages, through kmem-dev registers', () => {
  const k = boot({ mem: '512M', cpus: 1 });
  const sg = k.sg;
  const regs = k.ioremap(0xfebf0000, PAGE_SIZE);
  const dev = k.dma.device_register('0000:00:04.0', 'kmem-dev');
  assert.equal(k.dma.dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
  // Scattered: take pages, and keep every other one so none are adjacent.
  const pages: number[] = [];
  const spare: number[] = [];
  while (pages.length < 256) {
    pages.push(k.alloc_page(k.GFP_KERNEL));
    spare.push(k.alloc_page(k.GFP_KERNEL));
  }
  const sgt = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
  assert.equal(sg.sg_alloc_table_from_pages(sgt, pages, 256, 0, 1 << 20, k.GFP_KERNEL), 0);
  const nents = sg.sgt_orig_nents(sgt);
  assert.ok(nents > 128, `${nents} segments: chained`);
  const sgl = sg.sgt_sgl(sgt);
  const src = k.vmalloc(1 << 20);
  for (let i = 0; i < 1 << 20; i += 4) k.kaddr.write32(src + i, (i ^ 0x9e3779b9) >>> 0);
  sg.sg_copy_from_buffer(sgl, nents, src, 1 << 20);
  assert.equal(k.dma.dma_map_sgtable(dev, sgt, DMA_TO_DEVICE), 0);
  const mapped = sg.sgt_nents(sgt);
  assert.equal(kmemdev_sg_transfer(k, mmioRegs(k, regs), sgl, mapped, true, 0), 1 << 20);
  k.dma.dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE);
  const hw = k.paging.iomem.device('kmem-dev') as KmemDev;
  assert.deepEqual(hw.bar.u8.subarray(0, 1 << 20), k.kaddr.readBytes(src, 1 << 20));
  // Clear RAM, DMA back from the device.
  for (const p of pages) k.kaddr.fill(k.page_address(p), PAGE_SIZE, 0);
  assert.equal(k.dma.dma_map_sgtable(dev, sgt, DMA_FROM_DEVICE), 0);
  assert.equal(kmemdev_sg_transfer(k, mmioRegs(k, regs), sgl, sg.sgt_nents(sgt), false, 0), 1 << 20);
  k.dma.dma_unmap_sgtable(dev, sgt, DMA_FROM_DEVICE);
  const dst = k.vzalloc(1 << 20);
  sg.sg_copy_to_buffer(sgl, nents, dst, 1 << 20);
  assert.deepEqual(k.kaddr.readBytes(dst, 1 << 20), k.kaddr.readBytes(src, 1 << 20));
  sg.sg_free_table(sgt);
});

test('an ISA-style device (24-bit mask): ZONE_DMA pages map, a page above 16 MiB is refused with the kernel warning', () => {
  const k = boot({ mem: '256M', cpus: 1 });
  const sg = k.sg;
  const { dev: hw, regs } = isaKmemDev(k);
  const dev = k.dma.device_register('isa0', 'kmem-isa');
  assert.equal(k.dma.dma_set_mask(dev, DMA_BIT_MASK(24)), 0);
  assert.equal(k.dma.dma_set_mask(dev, DMA_BIT_MASK(16)), -5, 'below ZONE_DMA: not supported');
  const low = [k.alloc_page(k.GFP_DMA), k.alloc_page(k.GFP_DMA)];
  assert.ok(low.every((p) => k.page_to_phys(p) < 16 << 20));
  const sgt = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
  assert.equal(sg.sg_alloc_table_from_pages(sgt, low, 2, 0, 2 * PAGE_SIZE, k.GFP_KERNEL), 0);
  const sgl = sg.sgt_sgl(sgt);
  k.kaddr.fill(k.page_address(low[0]), PAGE_SIZE, 0x11);
  k.kaddr.fill(k.page_address(low[1]), PAGE_SIZE, 0x22);
  const n = k.dma.dma_map_sg(dev, sgl, sg.sgt_orig_nents(sgt), DMA_TO_DEVICE);
  assert.ok(n > 0);
  assert.equal(kmemdev_sg_transfer(k, regs, sgl, n, true, 0), 2 * PAGE_SIZE);
  assert.equal(hw.bar.u8[0], 0x11);
  assert.equal(hw.bar.u8[PAGE_SIZE], 0x22);
  k.dma.dma_unmap_sg(dev, sgl, sg.sgt_orig_nents(sgt), DMA_TO_DEVICE);
  // A GFP_KERNEL page lies above 16 MiB: dma_map_sg fails (no swiotlb), and the device itself would refuse it too.
  const high = k.alloc_page(k.GFP_KERNEL);
  assert.ok(k.page_to_phys(high) >= 16 << 20);
  const sgt2 = k.kzalloc(sg.sgTableSize, k.GFP_KERNEL);
  assert.equal(sg.sg_alloc_table_from_pages(sgt2, [low[0], high], 2, 0, 2 * PAGE_SIZE, k.GFP_KERNEL), 0);
  const sgl2 = sg.sgt_sgl(sgt2);
  let r = -1;
  const lines = logged(k, () => { r = k.dma.dma_map_sg(dev, sgl2, 2, DMA_TO_DEVICE); });
  assert.equal(r, 0);
  const pa = k.page_to_phys(high).toString(16).padStart(16, '0');
  assert.ok(lines.includes(`kmem-isa isa0: DMA addr 0x${pa}+4096 overflow (mask ffffff, bus limit 0).`), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('WARNING: CPU: 0 PID: 0 at kernel/dma/direct.h:103 dma_direct_map_page')));
  assert.equal(sg.sg_dma_address(sgl2), 0, 'what was mapped was unmapped');
  // The hardware check: programming the high address by hand gives ERROR.
  sg.set_dma(sgl2, k.page_to_phys(high), PAGE_SIZE);
  assert.equal(kmemdev_sg_transfer(k, regs, sgl2, 1, true, 0), -5);
});
