/*
 * ioremap (arch/x86/mm/ioremap.c) and the simulated devices behind the MMIO
 * windows: kmem-dev's registers and DMA engine, memory BARs, the accessors
 * (readl/writel, ioread32/iowrite32, memcpy_fromio/memcpy_toio), the cache
 * mode bits in the PTEs, huge PMD mappings, and the reports: ioremap of
 * RAM, iounmap of something not ioremapped, bad port I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import { ptr_to_id } from '../../src/lib/vsprintf.ts';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { _PAGE_PSE, pte_pfn } from '../../src/arch/x86/pgtable.ts';
import {
  KMEMDEV_BAR_OFFSET, KMEMDEV_CONTROL, KMEMDEV_DMA_ADDR_HI, KMEMDEV_DMA_ADDR_LO, KMEMDEV_DMA_LEN, KMEMDEV_ID, KMEMDEV_SCRATCH,
  KMEMDEV_STATUS, KMEMDEV_VERSION, KMEMDEV_XFER_COUNT, CONTROL_START, CONTROL_TO_DEVICE, STATUS_DONE, STATUS_ERROR, KmemDev,
} from '../../src/drivers/kmem_dev.ts';
import type { BarMemory } from '../../src/drivers/iomem.ts';
import { boot, faults, logged } from './helpers.ts';

const REGS = 0xfebf0000;
const BAR = 0xfe000000;

test('kmem-dev registers through ioremap: ID, version, a scratch register, read-only registers, partial accesses', () => {
  for (const cfg of [{ mem: '128M', cpus: 1 }, { arch: 'i386' as const, mem: '128M', cpus: 1 }]) {
    const k = boot(cfg);
    const regs = k.ioremap(REGS, PAGE_SIZE);
    assert.ok(k.is_vmalloc_addr(regs));
    assert.equal(k.ioread32(regs + KMEMDEV_ID), 0x4d454d4b);
    assert.equal(k.readl(regs + KMEMDEV_VERSION), 0x00010000);
    const id = k.kmalloc(8, k.GFP_KERNEL);
    k.memcpy_fromio(id, regs + KMEMDEV_ID, 4);
    assert.equal(new TextDecoder().decode(k.kaddr.readBytes(id, 4)), 'KMEM');
    k.iowrite32(0xdeadbeef, regs + KMEMDEV_SCRATCH);
    assert.equal(k.readl(regs + KMEMDEV_SCRATCH), 0xdeadbeef);
    assert.equal(k.ioread8(regs + KMEMDEV_SCRATCH + 1), 0xbe);
    k.writeb(0x11, regs + KMEMDEV_SCRATCH + 2);
    assert.equal(k.ioread16(regs + KMEMDEV_SCRATCH + 2), 0xde11);
    k.writel(0, regs + KMEMDEV_ID);
    assert.equal(k.readl(regs + KMEMDEV_ID), 0x4d454d4b, 'read-only');
    // The device holds its own state: the same register seen from the device side.
    const dev = k.paging.iomem.device('kmem-dev') as KmemDev;
    assert.equal(dev.regs[KMEMDEV_SCRATCH >> 2], 0xde11beef);
    // An offset inside the page: ioremap keeps it.
    const r2 = k.ioremap(REGS + KMEMDEV_SCRATCH, 4);
    assert.equal(r2 % PAGE_SIZE, KMEMDEV_SCRATCH);
    assert.equal(k.readl(r2), 0xde11beef);
    k.iounmap(r2);
    k.iounmap(regs);
    k.kfree(id);
  }
});

test('kmem-dev DMA: RAM to the memory BAR and back, the status register, errors for bad addresses', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const regs = k.ioremap(REGS, PAGE_SIZE);
  const bar = k.ioremap_wc(BAR, 1 << 20);
  const buf = k.kmalloc(4096, k.GFP_KERNEL);
  for (let i = 0; i < 4096; i++) k.kaddr.write8(buf + i, (i * 3) & 0xff);
  const dma = (pa: number, len: number, off: number, toDevice: boolean) => {
    k.writel(pa % 2 ** 32, regs + KMEMDEV_DMA_ADDR_LO);
    k.writel(Math.floor(pa / 2 ** 32), regs + KMEMDEV_DMA_ADDR_HI);
    k.writel(len, regs + KMEMDEV_DMA_LEN);
    k.writel(off, regs + KMEMDEV_BAR_OFFSET);
    k.writel(CONTROL_START | (toDevice ? CONTROL_TO_DEVICE : 0), regs + KMEMDEV_CONTROL);
    const st = k.readl(regs + KMEMDEV_STATUS);
    k.writel(STATUS_DONE | STATUS_ERROR, regs + KMEMDEV_STATUS); // W1C
    return st;
  };
  assert.equal(dma(k.__pa(buf), 4096, 0x800, true), STATUS_DONE);
  assert.equal(k.readl(regs + KMEMDEV_STATUS), 0, 'cleared');
  assert.equal(k.readb(bar + 0x800 + 10), 30);
  // memcpy_fromio: the BAR's bytes, through the write-combining mapping.
  const back = k.vmalloc(8192);
  k.memcpy_fromio(back + 100, bar + 0x800, 4096);
  assert.deepEqual(k.kaddr.readBytes(back + 100, 4096), k.kaddr.readBytes(buf, 4096));
  // Device to RAM into the physical pages of a vmalloc buffer (one page: DMA wants contiguous RAM).
  k.memset_io(bar, 0x42, 256);
  assert.equal(dma(k.vmalloc_to_pfn(back) * PAGE_SIZE, 256, 0, false), STATUS_DONE);
  assert.equal(k.kaddr.read32(back), 0x42424242);
  assert.equal(k.readl(regs + KMEMDEV_XFER_COUNT), 2);
  // Not RAM (the PCI hole), beyond the 32-bit DMA mask, past the BAR's end: ERROR, nothing moved.
  assert.equal(dma(0xe0000000, 16, 0, true), STATUS_ERROR);
  assert.equal(dma(2 ** 33, 16, 0, true), STATUS_ERROR);
  assert.equal(dma(k.__pa(buf), 4096, (1 << 20) - 16, true), STATUS_ERROR);
  assert.equal(k.readl(regs + KMEMDEV_XFER_COUNT), 2);
  // memcpy_toio lands in the device's memory.
  k.memcpy_toio(bar + 0x10000, buf, 64);
  const devBar = k.paging.iomem.device('kmem-dev.bar') as BarMemory;
  assert.deepEqual(devBar.u8.subarray(0x10000, 0x10040), k.kaddr.readBytes(buf, 64));
  k.vfree(back);
  k.kfree(buf);
  k.iounmap(bar);
  k.iounmap(regs);
});

test('cache modes in the PTEs: ioremap UC- (PCD), ioremap_uc UC (PCD|PWT), ioremap_wc WC (PWT), ioremap_cache WB', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const flags = (va: number) => k.paging.pt.walk(va).value & 0xfff;
  const cases: [number, number][] = [
    [k.ioremap(REGS, 16), 0x173],
    [k.ioremap_uc(REGS, 16), 0x17b],
    [k.ioremap_wc(REGS, 16), 0x16b],
    [k.ioremap_wt(REGS, 16), 0x1fb],
    [k.ioremap_cache(REGS, 16), 0x163],
    [k.ioremap_prot(REGS, 16, k.PAGE_KERNEL_NOCACHE), 0x17b],
  ];
  for (const [va, f] of cases) {
    assert.equal(flags(va), f, f.toString(16));
    assert.ok(k.paging.pt.walk(va).value >= 2 ** 52, 'NX');
    assert.equal(k.readl(va), 0x4d454d4b);
  }
  for (const [va] of cases) k.iounmap(va);
});

test('a 16 MiB framebuffer: aligned to its size, mapped with 2 MiB PMD entries on x86_64 (4 KiB PTEs on i386)', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  k.vmalloc(PAGE_SIZE); // something at VMALLOC_START first
  const fb = k.ioremap_wc(0xfd000000, 16 << 20);
  assert.equal(fb % (16 << 20), 0, 'VM_IOREMAP areas are aligned to their size');
  const w = k.paging.pt.walk(fb + (5 << 20) + 123);
  assert.equal(w.level, 2, 'a PMD leaf');
  assert.ok(w.value & _PAGE_PSE);
  assert.equal(pte_pfn(w.value) * PAGE_SIZE, 0xfd000000 + (4 << 20));
  k.writel(0x00ff00ff, fb + (5 << 20) + 128);
  assert.equal(k.readl(fb + (5 << 20) + 128), 0x00ff00ff);
  assert.equal((k.paging.iomem.device('vga.vram') as BarMemory).u8[(5 << 20) + 128], 0xff);
  assert.match(readProc(k, 'vmallocinfo'), new RegExp(`-0x[0-9a-f]+ ${16 * 1024 * 1024 + 4096} \\S+ phys=0x00000000fd000000 ioremap\\n`));
  k.iounmap(fb);
  k.vm_unmap_aliases();
  assert.equal(k.paging.pt.walk(fb).mapped, false);
  const ki = boot({ arch: 'i386', mem: '128M', cpus: 1 });
  const fbi = ki.ioremap(0xfd000000, 16 << 20);
  assert.equal(ki.paging.pt.walk(fbi).level, 1, 'no huge vmap without PAE');
});

test('ioremap of RAM is refused with the kernel\'s WARN_ONCE; reserved RAM and holes are allowed', () => {
  for (const cfg of [{ mem: '128M', cpus: 1 }, { arch: 'i386' as const, mem: '128M', cpus: 1 }]) {
    const k = boot(cfg);
    const busy = JSON.stringify(k.paging.vm.ranges('busy'));
    const page = k.alloc_page(k.GFP_KERNEL);
    const pa = k.page_to_phys(page);
    const pad = cfg.arch === 'i386' ? 8 : 16;
    const hex = (v: number) => '0x' + v.toString(16).padStart(pad, '0');
    const lines = logged(k, () => assert.equal(k.ioremap(pa, PAGE_SIZE), 0));
    assert.deepEqual(lines.slice(0, 3), [
      '------------[ cut here ]------------',
      `ioremap on RAM at ${hex(pa)} - ${hex(pa + PAGE_SIZE - 1)}`,
      'WARNING: CPU: 0 PID: 0 at arch/x86/mm/ioremap.c:217 __ioremap_caller',
    ]);
    assert.deepEqual(logged(k, () => assert.equal(k.ioremap(pa, 2 * PAGE_SIZE), 0)), [], 'WARN_ONCE');
    // As in the kernel, only whole pages count: a part of one RAM page is not caught (walk_mem_res clips
    // the resource to the request, and __ioremap_check_ram() rounds its start up and its end down).
    const part = k.ioremap(pa + 16, 100);
    assert.notEqual(part, 0);
    k.iounmap(part);
    assert.equal(JSON.stringify(k.paging.vm.ranges('busy')), busy, 'no state change');
    // The kernel image is RAM but PG_reserved: allowed (__ioremap_check_ram skips reserved pages).
    const img = k.ioremap(0x1000000, PAGE_SIZE);
    assert.notEqual(img, 0);
    assert.equal(k.readl(img), k.mem.read32(0x1000000));
    // The legacy VGA text buffer (no e820 entry): a device.
    const vga = k.ioremap(0xb8000, 80 * 25 * 2);
    k.writew(0x0748, vga); // 'H', grey on black
    assert.equal(k.readw(vga), 0x0748);
    k.iounmap(img);
    k.iounmap(vga);
    k.__free_page(page);
  }
  const kt = boot({ mem: '64M', cpus: 1 }, { errors: 'throw' });
  assert.throws(() => kt.ioremap(0x2000000, PAGE_SIZE), (e: unknown) => e instanceof KernelBug && e.kind === 'WARNING');
});

test('iounmap of something not ioremapped: WARN_ON_ONCE outside the range, "iounmap: bad address" inside', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const regs = k.ioremap(REGS, PAGE_SIZE);
  const busy = JSON.stringify(k.paging.vm.ranges('busy'));
  let lines = logged(k, () => k.iounmap(k.__va(0x200000)));
  assert.equal(lines[1], 'WARNING: CPU: 0 PID: 0 at arch/x86/mm/ioremap.c:461 iounmap');
  assert.deepEqual(logged(k, () => k.iounmap(0)), [], 'WARN_ON_ONCE: reported once');
  const stray = k.VMALLOC_START + (1 << 30);
  lines = logged(k, () => k.iounmap(stray + 8));
  assert.deepEqual(lines, [
    `iounmap: bad address ${ptr_to_id(k.layout, stray)}`,
    'CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Tainted: G        W          6.12.0-kmem #1',
    'Hardware name: kmem simulated x86_64 machine',
    'Call Trace:',
    ' <TASK>',
    ' dump_stack_lvl',
    ' iounmap',
    ' </TASK>',
  ]);
  assert.equal(JSON.stringify(k.paging.vm.ranges('busy')), busy);
  // An address inside the mapping unmaps it (iounmap masks the offset); twice is a bad address.
  k.iounmap(regs + 0x24);
  assert.equal(k.find_vm_area(regs), 0);
  lines = logged(k, () => k.iounmap(regs));
  assert.equal(lines[0], `iounmap: bad address ${ptr_to_id(k.layout, regs)}`);
  const kt = boot({ mem: '64M', cpus: 1 }, { errors: 'throw' });
  assert.throws(() => kt.iounmap(kt.VMALLOC_START), KernelBug);
});

test('port I/O through ioread/iowrite: PIO cookies read all ones, low addresses are "Bad IO access" (ten times)', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  assert.equal(k.ioread8(0x10000 + 0x3f8), 0xff);
  const lines = logged(k, () => assert.equal(k.ioread32(0x3f8), 0xffffffff));
  assert.deepEqual(lines.slice(0, 3), [
    '------------[ cut here ]------------',
    'Bad IO access at port 0x3f8 (return inl(port))',
    'WARNING: CPU: 0 PID: 0 at lib/iomap.c:45 bad_io_access',
  ]);
  assert.equal(logged(k, () => k.iowrite8(1, 0x80))[1], 'Bad IO access at port 0x80 (outb(val,port))');
  for (let i = 0; i < 8; i++) k.ioread16(0x60);
  assert.deepEqual(logged(k, () => k.ioread16(0x60)), [], 'bad_io_access reports ten times per boot');
  // A window with no device behind it (the HPET) reads all ones.
  const hpet = k.ioremap(0xfed00000, 0x400);
  assert.equal(k.readl(hpet), 0xffffffff);
  k.iounmap(hpet);
});

test('an access through a freed ioremap mapping: the device until the purge (stale TLB), then the Oops', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  const regs = k.ioremap(REGS, PAGE_SIZE);
  assert.equal(k.readl(regs), 0x4d454d4b);
  k.iounmap(regs);
  assert.equal(k.readl(regs), 0x4d454d4b, 'the TLB still maps it');
  k.vm_unmap_aliases();
  const { lines } = faults(k, () => k.readl(regs));
  assert.equal(lines[0], `BUG: unable to handle page fault for address: ffffc90000000000`);
});
