/*
 * Chapter: GFP flags and zones. Zone modifiers (GFP_DMA, GFP_DMA32,
 * __GFP_HIGHMEM on i386), then the watermarks: GFP_KERNEL stops at the min
 * watermark and fails (with the kernel's page allocation failure warning),
 * GFP_ATOMIC goes on into the reserve below it.
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { memoryView } from '../../mm/vmstat.ts';
import { table } from '../output.ts';
import { hex, ptr, type Demo, type DemoChapter } from './chapter.ts';

function zoneTable(d: Demo, k: Kernel): void {
  const rows: (string | number)[][] = [['zone', 'free', 'min', 'low', 'high', 'boost', 'pcp']];
  for (const node of memoryView(k).nodes) {
    for (const z of node.zones) {
      if (!z.populated) continue;
      rows.push([z.name, z.freePages, z.min, z.low, z.high, z.boost, z.pagesets.reduce((n, p) => n + p.count, 0)]);
    }
  }
  d.show(table(rows, 1));
  d.blank();
}

export const gfpChapter: DemoChapter = {
  id: 'gfp',
  title: 'GFP flags and zones: where pages come from, and who may take the last ones',
  summary: 'GFP_DMA, GFP_KERNEL, highmem, watermarks; GFP_ATOMIC dips into the reserve',
  run(d) {
    d.say(`Every allocation says how it may be satisfied with GFP flags ("get free
      pages"). Zone modifiers pick the highest zone the pages may come from:
      __GFP_DMA for devices that can only address 16 MiB (LDD3's ISA example),
      __GFP_DMA32 for 32-bit devices, nothing for ZONE_NORMAL. The allocator
      walks the zonelist downwards from that zone: a GFP_KERNEL request may
      fall back to DMA32 and DMA, a GFP_DMA request never goes up.`);
    const k = d.boot({ mem: '128M', cpus: 2 });
    const kept: number[] = [];
    for (const [name, gfp] of [['GFP_DMA', k.GFP_DMA], ['GFP_DMA32', k.GFP_DMA32], ['GFP_KERNEL', k.GFP_KERNEL]] as const) {
      const page = k.alloc_page(gfp | (name === 'GFP_KERNEL' ? 0 : k.GFP_KERNEL));
      kept.push(page);
      d.call(`alloc_page(${name === 'GFP_KERNEL' ? name : `GFP_KERNEL | ${name}`})`.padEnd(34),
        page === 0 ? 'NULL' : `pfn ${hex(k.page_to_pfn(page))}, physical ${hex(k.page_to_phys(page))}, ZONE_${k.page_zone(page).name.toUpperCase()}`);
    }
    d.blank();
    d.say(`This machine has 128 MiB, all below 4 GiB, so ZONE_NORMAL is empty and
      GFP_KERNEL is served from DMA32. The small DMA zone is protected: a
      request that could have used a higher zone must leave lowmem_reserve
      pages there (the "protection" line of /proc/zoneinfo).`);
    for (const p of kept) k.__free_page(p);

    d.say(`On 32-bit x86 the kernel can only map about 896 MiB permanently; RAM above
      that is ZONE_HIGHMEM. Pages from there (allowed by __GFP_HIGHMEM, as in
      GFP_HIGHUSER) have no kernel address until kmap()ed, so page_address()
      returns NULL. __get_free_pages() never returns highmem.`);
    const ki = d.boot({ arch: 'i386', mem: '1G', cpus: 1 });
    d.dmesg(ki, (l) => /HIGHMEM|LOWMEM/.test(l));
    for (const [name, gfp] of [['GFP_KERNEL', ki.GFP_KERNEL], ['GFP_HIGHUSER', ki.GFP_HIGHUSER]] as const) {
      const page = ki.alloc_page(gfp);
      const va = page === 0 ? 0 : ki.page_address(page);
      d.call(`alloc_page(${name})`.padEnd(24), page === 0 ? 'NULL' :
        `ZONE_${ki.page_zone(page).name.toUpperCase()}, page_address() = ${va === 0 ? 'NULL' : ptr(ki, va)}`);
      ki.__free_page(page);
    }
    d.blank();

    d.say(`Now the watermarks. Each zone has three: below "low" the allocator wakes
      kswapd to reclaim in the background; an allocation that may sleep
      (GFP_KERNEL) can still take pages down to "min", and fails below it
      unless it can reclaim memory. GFP_ATOMIC cannot sleep, so it is
      allowed into the reserve under "min" (__GFP_HIGH lets it use half of
      the reserve, and not being able to block, a quarter of the rest too). Back on the 128 MiB machine:`);
    zoneTable(d, k);

    const quiet = k.GFP_KERNEL | k.__GFP_NORETRY | k.__GFP_NOWARN;
    const held: [number, number][] = [];
    for (let order = k.MAX_PAGE_ORDER; order >= 0; order--) {
      for (;;) {
        const page = k.alloc_pages(quiet, order);
        if (page === 0) break;
        held.push([page, order]);
      }
    }
    const pages = held.reduce((n, [, o]) => n + (1 << o), 0);
    d.call('while (alloc_pages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, order)) ...',
      `${pages} pages (${Math.round((pages * 4) / 1024)} MiB) taken`);
    d.blank();
    zoneTable(d, k);
    d.say(`GFP_KERNEL stopped at the min watermark (with __GFP_NORETRY it gives up
      instead of retrying; there is nothing to reclaim here anyway). One more
      GFP_KERNEL request, this time without __GFP_NOWARN, fails with the
      kernel's warning:`);
    const failed = d.logged(k, 'alloc_page(GFP_KERNEL | __GFP_NORETRY)', () => k.alloc_page(k.GFP_KERNEL | k.__GFP_NORETRY),
      (page) => (page === 0 ? 'NULL' : `pfn ${hex(k.page_to_pfn(page))}`));
    if (failed !== 0) held.push([failed, 0]);
    d.blank();

    let atomic = 0;
    for (;;) {
      const page = k.alloc_page(k.GFP_ATOMIC | k.__GFP_NOWARN);
      if (page === 0) break;
      held.push([page, 0]);
      atomic++;
    }
    d.call('while (alloc_page(GFP_ATOMIC | __GFP_NOWARN)) ...', `${atomic} more pages`);
    d.blank();
    zoneTable(d, k);
    d.say(`GFP_ATOMIC got ${atomic} pages where GFP_KERNEL got none: free pages are
      now well below "min". That reserve is what lets interrupt handlers and
      code holding spinlocks allocate when memory is tight, and why
      GFP_ATOMIC allocations should be small and rare: they eat the last
      pages everyone else relies on.`);
    const boosted = memoryView(k).nodes.some((n) => n.zones.some((z) => z.boost > 0));
    if (boosted) {
      d.say(`The "boost" column: when an allocation had to take pages from a
        pageblock of another migratetype (fragmentation), the kernel raised
        the watermarks temporarily (vm.watermark_boost_factor) so that kswapd
        reclaims a little more. kswapd resets the boost when it is done; kmem
        has no kswapd, so it stays.`);
    }

    for (const [page, order] of held) k.__free_pages(page, order);
    k.drain_all_pages();
    d.call(`free all ${held.length} blocks; drain_all_pages()`);
    d.blank();
    zoneTable(d, k);
  },
};
