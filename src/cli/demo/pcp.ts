/*
 * Chapter: per-CPU page lists. Order-0 pages come from and go back to a
 * list private to each CPU; free_hot_page puts a page at the head (reused
 * next, while still in the CPU's cache), free_cold_page at the tail.
 */
import { MIGRATE_UNMOVABLE } from '../../include/linux/gfp.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import type { Zone } from '../../mm/page_alloc.ts';
import { hex, type DemoChapter } from './chapter.ts';

function listText(k: Kernel, zone: Zone, cpu: number, mark: Map<number, string>): string {
  const pfns = k.buddy.pcpListPfns(zone, cpu, MIGRATE_UNMOVABLE, 0);
  const show = (pfn: number) => hex(pfn) + (mark.get(pfn) ?? '');
  if (pfns.length === 0) return `cpu ${cpu} list: empty`;
  let items: string[];
  if (pfns.length <= 7) items = pfns.map(show);
  else items = [...pfns.slice(0, 4).map(show), `... (${pfns.length - 6} more)`, ...pfns.slice(-2).map(show)];
  return `cpu ${cpu} list (${pfns.length} pages): head ${items.join(' ')} tail`;
}

export const pcpChapter: DemoChapter = {
  id: 'pcp',
  title: 'Per-CPU page lists: hot and cold pages',
  summary: 'free_hot_page vs free_cold_page, and which page comes back next',
  run(d) {
    d.say(`Taking the zone lock for every single page would make CPUs fight over
      it, so each CPU keeps its own lists of free pages per zone (struct
      per_cpu_pages, the "pagesets" of /proc/zoneinfo). An order-0 allocation
      takes the first page of this CPU's list; when the list is empty it is
      refilled with "batch" pages from the buddy lists in one go, and when it
      grows past "high" a batch goes back.`);
    const k = d.boot({ mem: '128M', cpus: 2 });
    const zone = k.buddy.zones.find((z) => z.nid === 0 && z.name === 'DMA32');
    if (!zone) throw new Error('no DMA32 zone');
    const mark = new Map<number, string>();
    const pagesets = () => {
      let inZone = false;
      d.cat(k, 'zoneinfo', (l) => {
        if (l.startsWith('Node')) inZone = /zone\s+DMA32$/.test(l);
        return inZone && /^Node|cpu:|count:|high:|batch:/.test(l);
      });
    };
    pagesets();

    d.say(`Both lists are empty after boot. The first allocation refills CPU 0's
      list:`);
    const a = k.alloc_page(k.GFP_KERNEL);
    const b = k.alloc_page(k.GFP_KERNEL);
    const pa = k.page_to_pfn(a);
    const pb = k.page_to_pfn(b);
    mark.set(pa, '(A)');
    mark.set(pb, '(B)');
    d.call('A = alloc_page(GFP_KERNEL)', `pfn ${hex(pa)}`);
    d.call('B = alloc_page(GFP_KERNEL)', `pfn ${hex(pb)}`);
    d.show(listText(k, zone, 0, mark));
    d.blank();

    d.say(`LDD3 describes free_hot_page() and free_cold_page() (kernel 2.6.10): a
      page just used is probably still in the CPU's cache, so it is "hot" and
      should be the next one handed out; a page nobody touched lately is
      "cold" and goes to the back. Today's kernels have one free_unref_page()
      and put freed pages at the head; kmem keeps both names. Free A hot and
      B cold:`);
    k.free_hot_page(a);
    d.call('free_hot_page(A)');
    d.show(listText(k, zone, 0, mark));
    k.free_cold_page(b);
    d.call('free_cold_page(B)');
    d.show(listText(k, zone, 0, mark));
    d.blank();

    const c = k.alloc_page(k.GFP_KERNEL);
    const pc = k.page_to_pfn(c);
    d.call('C = alloc_page(GFP_KERNEL)', `pfn ${hex(pc)}${pc === pa ? ': A again, the hot page' : pc === pb ? ': B' : ''}`);
    d.blank();
    d.say(`The hot page comes straight back (its cache lines are likely still
      warm); the cold one will be handed out last.`);

    k.set_cpu(1);
    const e = k.alloc_page(k.GFP_KERNEL);
    const pe = k.page_to_pfn(e);
    mark.set(pe, '(E)');
    d.call('set_cpu(1); E = alloc_page(GFP_KERNEL)', `pfn ${hex(pe)}`);
    d.show(listText(k, zone, 1, mark));
    d.blank();
    d.say(`CPU 1 has a list of its own: it refilled it from the buddy lists and
      did not see the pages cached on CPU 0. Pages on these lists are free but
      are not counted in the zone's "pages free"; /proc/zoneinfo shows them as
      each CPU's "count":`);
    pagesets();

    k.set_cpu(0);
    k.__free_page(c);
    k.set_cpu(1);
    k.__free_page(e);
    k.set_cpu(0);
    k.drain_all_pages();
    d.call('free C and E; drain_all_pages()');
    d.show([listText(k, zone, 0, mark), listText(k, zone, 1, mark)]);
    d.blank();
    d.say(`drain_all_pages() gives every cached page back to the buddy allocator
      (the kernel does it when it takes memory offline, in alloc_contig_range(),
      and when an allocation is about to fail after direct reclaim).`);
  },
};
