/*
 * Chapter: highmem. On i386 a ZONE_HIGHMEM page has no kernel address until
 * kmap or kmap_local_page/kmap_atomic maps it; kunmap of an unmapped page.
 */
import { KernelBug } from '../../kernel/bug.ts';
import { hex, ptr, type DemoChapter } from './chapter.ts';

export const highmemChapter: DemoChapter = {
  id: 'highmem',
  title: 'highmem: kmap, kmap_local_page and kmap_atomic on 32-bit x86',
  summary: 'page_address NULL for highmem, the pkmap window, per-CPU fixmap slots, kunmap of an unmapped page',
  run(d) {
    d.say(`A 32-bit kernel has 1 GiB of virtual address space (the 3G/1G split)
      and maps only the first ~896 MiB of RAM permanently. The rest is
      ZONE_HIGHMEM: its pages have a struct page but no kernel address, so
      page_address() returns NULL. To touch one, the kernel maps it for a
      while (LDD3 chapter 15, "kmap").`);
    const k = d.boot({ arch: 'i386', mem: '1G', cpus: 2 });
    const page = d.logged(k, 'page = alloc_page(GFP_HIGHUSER)', () => k.alloc_page(k.GFP_HIGHUSER), (p) => ptr(k, p));
    d.call('PageHighMem(page)', String(k.PageHighMem(page)));
    d.call('page_address(page)', 'NULL');
    d.blank();
    d.say(`kmap() takes one of ${k.highmem.LAST_PKMAP} slots of the pkmap window at
      ${hex(k.highmem.PKMAP_BASE)} and may sleep (waiting for a slot). The
      mapping is visible on every CPU and page_address() finds it.`);
    const va = d.logged(k, 'va = kmap(page)', () => k.kmap(page), (v) => ptr(k, v));
    k.kaddr.writeBytes(va, new TextEncoder().encode('written through kmap'));
    d.call('strcpy(va, "written through kmap")');
    d.call('page_address(page)', ptr(k, k.page_address(page)));
    d.show(k.paging.pt.dump_pagetable(va, k.paging.maxLowPfn));
    d.call(`the page's bytes at physical ${hex(k.page_to_phys(page))}`, `"${new TextDecoder().decode(k.mem.readBytes(k.page_to_phys(page), 20))}"`);
    d.call('pkmap_count[PKMAP_NR(va)]', String(k.highmem.pkmap_count(k.highmem.PKMAP_NR(va))) + '   /* 1 + one user */');
    k.kunmap(page);
    d.call('kunmap(page)');
    d.call('pkmap_count[PKMAP_NR(va)]', String(k.highmem.pkmap_count(k.highmem.PKMAP_NR(va))) +
      '   /* still mapped, unused: cleared in bulk, one TLB flush, when the slots wrap */');
    d.blank();
    d.say(`kmap_local_page() and kmap_atomic() never sleep: each CPU has ${16}
      fixmap slots used like a stack (unmap in reverse order). kmap_atomic()
      also disables preemption, so sleeping inside is a bug.`);
    const p2 = k.alloc_page(k.GFP_HIGHUSER);
    const a = d.logged(k, 'a = kmap_atomic(page)', () => k.kmap_atomic(page), (v) => ptr(k, v));
    const b = d.logged(k, 'b = kmap_atomic(page2)', () => k.kmap_atomic(p2), (v) => ptr(k, v) + '   /* the next slot, a page lower */');
    d.call('preempt_count()', String(k.sched.preempt_count()));
    d.logged(k, 'msleep(1)   /* a bug: sleeping in atomic context */', () => k.msleep(1));
    k.kunmap_atomic(b);
    k.kunmap_atomic(a);
    d.call('kunmap_atomic(b); kunmap_atomic(a)');
    d.blank();
    d.say(`kunmap() of a page that is not kmapped is the kernel's BUG_ON(!vaddr)
      in kunmap_high(); kmem reports it and changes nothing.`);
    const k2 = d.boot({ arch: 'i386', mem: '1G', cpus: 1 }, 'throw');
    const p3 = k2.alloc_page(k2.GFP_HIGHUSER);
    d.logged(k2, 'kunmap(page)   /* never kmapped */', () => {
      try {
        k2.kunmap(p3);
        return 'returned';
      } catch (e) {
        if (!(e instanceof KernelBug)) throw e;
        return `KernelBug (kind "${e.kind}")`;
      }
    }, (r) => r);
    d.say(`On x86_64 there is no highmem: all RAM is in the direct map and
      kmap(page) is just page_address(page).`);
  },
};
