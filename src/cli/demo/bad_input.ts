/*
 * Chapter: bad input. A double free, freeing a page the allocator never
 * owned, freeing an address outside the direct map, an impossible order:
 * what the kernel reports, the taint it leaves, and `errors: 'throw'`.
 */
import { KernelBug } from '../../kernel/bug.ts';
import { hex, ptr, type DemoChapter } from './chapter.ts';

export const badInputChapter: DemoChapter = {
  id: 'bad-input',
  title: 'Bad input: double frees and other mistakes the kernel reports',
  summary: 'double free, freeing reserved memory, bad addresses and orders',
  run(d) {
    d.say(`The page allocator trusts its callers: free_pages() takes the address
      and the order on faith (LDD3 warns that freeing with the wrong order
      corrupts the allocator). Some mistakes it does catch, and then it says
      so loudly in the kernel log. kmem reports them as the kernel does,
      leaves the allocator's state intact, and carries on.`);
    const k = d.boot({ mem: '128M', cpus: 1 });

    d.say(`A double free: the second __free_page() finds a reference count that is
      already zero. A kernel built with CONFIG_DEBUG_VM stops with this BUG
      (without it the count would silently go negative):`);
    const page = k.alloc_page(k.GFP_KERNEL);
    d.call('page = alloc_page(GFP_KERNEL)', `pfn ${hex(k.page_to_pfn(page))}`);
    k.__free_page(page);
    d.call('__free_page(page)');
    d.logged(k, '__free_page(page)   /* again */', () => k.__free_page(page));
    d.blank();

    d.say(`Freeing a page that was never allocated, here the first page of the
      kernel image (reserved at boot): the free-time checks see PG_reserved,
      print "Bad page state", taint the kernel with B, and leave the page
      alone.`);
    const kernelText = k.__va(16 << 20);
    d.logged(k, `free_page(${ptr(k, kernelText)})   /* the kernel's own code */`, () => k.free_page(kernelText));
    d.blank();

    d.say(`An address that is not in the direct map (free_pages wants what
      __get_free_pages returned, not a struct page pointer or a user address):`);
    d.logged(k, 'free_pages(0x1000, 0)', () => k.free_pages(0x1000, 0));
    d.blank();

    d.say(`An order above MAX_PAGE_ORDER can never be satisfied; the allocator
      warns once and returns NULL:`);
    d.logged(k, `alloc_pages(GFP_KERNEL, ${k.MAX_PAGE_ORDER + 1})`, () => k.alloc_pages(k.GFP_KERNEL, k.MAX_PAGE_ORDER + 1),
      (page) => (page === 0 ? 'NULL' : hex(page)));
    d.blank();

    d.say(`Each report left a taint flag, shown in the "Tainted:" field of every
      later report: B (bad page), D (the kernel died: BUG/oops), W (warning).
      Bug reports from a tainted kernel are read with that in mind.`);
    d.show(`tainted_mask = ${hex(k.bug.tainted)}`);
    d.blank();

    d.say(`A program using kmem as a library can ask for exceptions instead:
      booted with { errors: 'throw' }, every report is still logged and the
      state still left intact, and then a KernelBug is thrown:`);
    const kt = d.boot({ mem: '64M', cpus: 1 }, 'throw');
    const p = kt.alloc_page(kt.GFP_KERNEL);
    kt.__free_page(p);
    try {
      kt.__free_page(p);
      d.call('__free_page(page)   /* again */', 'no exception?');
    } catch (e) {
      if (!(e instanceof KernelBug)) throw e;
      const line = e.report.split('\n').find((l) => /BUG|WARNING/.test(l)) ?? e.message;
      d.call('__free_page(page)   /* again */', `throws KernelBug (kind "${e.kind}"): ${line.trim()}`);
    }
    d.blank();
  },
};
