/*
 * Chapter: vmalloc. Memory that is contiguous only in virtual space: pages
 * from anywhere, stitched together by page tables; the guard page after
 * each area and the Oops of running into it; /proc/vmallocinfo; lazy
 * freeing and the TLB.
 */
import { KernelBug } from '../../kernel/bug.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { hex, ptr, type Demo, type DemoChapter } from './chapter.ts';

function tryAccess(d: Demo, k: Kernel, code: string, fn: () => unknown): void {
  d.logged(k, code, () => {
    try {
      fn();
      return 'no fault';
    } catch (e) {
      if (!(e instanceof KernelBug)) throw e;
      return `KernelBug (kind "${e.kind}")`;
    }
  }, (r) => r);
}

export const vmallocChapter: DemoChapter = {
  id: 'vmalloc',
  title: 'vmalloc: virtually contiguous memory, page tables and the guard page',
  summary: 'vmalloc pages scattered in RAM, the page-table walk, vmallocinfo, the guard page Oops',
  run(d) {
    d.say(`kmalloc and __get_free_pages hand out memory that is contiguous in
      physical RAM, which is exactly what gets hard to find once memory is
      fragmented. vmalloc (LDD3 "vmalloc and Friends") asks only for
      virtual contiguity: it takes single pages wherever the page allocator
      has them and maps them one after the other in the vmalloc range
      (VMALLOC_START..VMALLOC_END), writing page-table entries as it goes.
      The price: every access goes through those page tables (and the TLB),
      and the memory is no good for DMA, which wants physical addresses.`);
    const k = d.boot({ mem: '128M', cpus: 1 });

    d.say(`First some fragmentation, as a machine that has run for a while has:
      allocate 64 single pages, then give back a scattered third of them.`);
    const all = Array.from({ length: 64 }, () => k.alloc_page(k.GFP_KERNEL));
    const held: number[] = [];
    all.forEach((p, i) => {
      if ((i * 7) % 3 === 0 && i % 4 !== 0) k.__free_page(p);
      else held.push(p);
    });
    const n = 6;
    const buf = d.logged(k, `buf = vmalloc(${n} * PAGE_SIZE)`, () => k.vmalloc(n * k.PAGE_SIZE), (b) => ptr(k, b));
    d.say(`One virtual range, page by page: each page of buf is a different,
      unrelated physical page.`);
    const rows: string[] = [];
    for (let i = 0; i < n; i++) {
      const va = buf + i * k.PAGE_SIZE;
      rows.push(`${ptr(k, va)}  ->  pfn ${hex(k.vmalloc_to_pfn(va))}`);
    }
    d.show(rows);
    d.blank();

    d.say(`The translation is real x86 paging: four levels of 512 entries on
      x86_64, each table a page from the buddy allocator. This is the walk
      for the third page, as the page fault handler would print it; the last
      entry is the PTE: the page frame, then 0x163 (present, writable,
      accessed, dirty, global) and bit 63, no-execute.`);
    d.show(k.paging.pt.dump_pagetable(buf + 2 * k.PAGE_SIZE, k.paging.maxLowPfn));
    d.blank();

    d.say(`A string written across the boundary between the first two pages
      lands in two physical pages that are not neighbours in RAM:`);
    const text = new TextEncoder().encode('vmalloc memory is virtually contiguous');
    const at = buf + k.PAGE_SIZE - 16;
    k.kaddr.writeBytes(at, text);
    d.call(`memcpy(buf + PAGE_SIZE - 16, "${new TextDecoder().decode(text)}", ${text.length})`);
    const p0 = k.vmalloc_to_pfn(buf) * k.PAGE_SIZE;
    const p1 = k.vmalloc_to_pfn(buf + k.PAGE_SIZE) * k.PAGE_SIZE;
    d.show([
      `physical ${hex(p0 + k.PAGE_SIZE - 16)}: "${new TextDecoder().decode(k.mem.readBytes(p0 + k.PAGE_SIZE - 16, 16))}"`,
      `physical ${hex(p1)}: "${new TextDecoder().decode(k.mem.readBytes(p1, text.length - 16))}"`,
    ]);
    d.blank();

    d.say(`The kernel lists its vmalloc areas in /proc/vmallocinfo: the range
      (one page more than asked for: the guard page), the caller, the pages.
      The page tables themselves show up in meminfo as PageTables (the PUD
      and PMD pages; 6.12 does not count kernel PTE pages).`);
    d.cat(k, 'vmallocinfo');
    d.cat(k, 'meminfo', (l) => /^(PageTables|Vmalloc)/.test(l));

    d.say(`The guard page is never mapped, so running off the end of a vmalloc
      buffer does not scribble on the next area: the CPU raises a page fault
      and the kernel prints an Oops (and kills the task; kmem throws a
      KernelBug to the caller).`);
    tryAccess(d, k, `buf[${n} * PAGE_SIZE] = 1   /* one byte past the end */`, () => k.kaddr.write8(buf + n * k.PAGE_SIZE, 1));
    d.blank();

    d.say(`vfree gives the pages back at once and clears the PTEs, but the
      virtual range waits on a "lazy" list: flushing every CPU's TLB is
      expensive, so the kernel does it for many areas at once (when
      lazy_max_pages() pages are waiting, or vmalloc space runs out). Until
      then the range shows as "unpurged".`);
    d.logged(k, 'vfree(buf)', () => k.vfree(buf));
    d.cat(k, 'vmallocinfo');
    d.logged(k, 'vm_unmap_aliases()   /* purge now: one TLB flush */', () => k.vm_unmap_aliases());
    d.cat(k, 'vmallocinfo');
    for (const p of held) k.__free_page(p);

    d.say(`On 32-bit x86 the picture changes: the direct map covers only the
      first 896 MiB (lowmem), the vmalloc window between its end and the
      kmap area is about 120 MiB, and vmalloc prefers highmem pages, which
      have no permanent kernel address at all: only the vmalloc mapping
      reaches them.`);
    const ki = d.boot({ arch: 'i386', mem: '1G', cpus: 1 });
    const v = ki.vmalloc(2 * ki.PAGE_SIZE);
    const page = ki.vmalloc_to_page(v);
    d.call('v = vmalloc(2 * PAGE_SIZE)', ptr(ki, v));
    d.call('PageHighMem(vmalloc_to_page(v))', String(ki.PageHighMem(page)));
    const pa = ki.page_address(page);
    d.call('page_address(vmalloc_to_page(v))', pa === 0 ? 'NULL' : ptr(ki, pa));
    d.cat(ki, 'meminfo', (l) => /^Vmalloc/.test(l));
  },
};
