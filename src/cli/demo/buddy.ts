/*
 * Chapter: the buddy allocator. get_order() rounding, allocating orders 0..3
 * (a large block split in halves), and freeing (buddies merging back).
 */
import { buddyRow, buddyTable, hex, type DemoChapter } from './chapter.ts';

export const buddyChapter: DemoChapter = {
  id: 'buddy',
  title: 'The buddy allocator: orders, splitting and coalescing',
  summary: 'alloc_pages orders 0..3, get_order, blocks split and merged',
  run(d) {
    d.say(`The page allocator hands out blocks of 2^order contiguous pages
      (LDD3: "get_free_page and friends"). The order is the log2 of the number
      of pages; get_order(size) gives the smallest order whose block holds size
      bytes, so the size is rounded up to a power of two pages:`);
    const k = d.boot({ mem: '128M', cpus: 2 });
    for (const size of [1, 4096, 4097, 8192, 12288, 65536, 100000]) {
      const o = k.get_order(size);
      d.call(`get_order(${size})`.padEnd(17), `${o}   (${(1 << o) * 4} KiB block${size < (1 << o) * 4096 ? `, ${(1 << o) * 4096 - size} bytes unused` : ''})`);
    }
    d.blank();
    d.say(`A driver that needs 12 KiB gets 16 KiB; alloc_pages_exact() gives the tail
      page back. Orders go up to MAX_PAGE_ORDER, 10 on x86: 4 MiB.`);

    d.say(`Each zone keeps a free list per order. To serve an order-n request the
      allocator takes a block from the order-n list; if that list is empty it
      takes a bigger block and splits it in two halves, "buddies", keeping one
      and putting the other on the list below, until the size is right. Let us
      allocate one block of each order 0 to 3 from ZONE_DMA32 and watch
      /proc/buddyinfo:`);
    const boot = buddyRow(k, 'DMA32');
    const z = k.buddy.zones.find((zz) => zz.nid === 0 && zz.name === 'DMA32');
    const freeAtBoot = z ? k.buddy.zoneStat(z, 0) : 0;
    const blocks: [number, number][] = [];
    for (let order = 0; order <= 3; order++) {
      const page = k.alloc_pages(k.GFP_KERNEL, order);
      blocks.push([page, order]);
      const pfn = k.page_to_pfn(page);
      d.call(`alloc_pages(GFP_KERNEL, ${order})`, page === 0 ? 'NULL' :
        `pfn ${order === 0 ? hex(pfn) : `${hex(pfn)}..${hex(pfn + (1 << order) - 1)}`} in ${k.page_zone(page).name}, buddy at pfn ${hex(pfn ^ (1 << order))}`);
    }
    d.blank();
    const after = buddyRow(k, 'DMA32');
    d.show(buddyTable([['boot', boot], ['allocated', after]], ['change', boot, after]));
    d.blank();
    const freeNow = z ? k.buddy.zoneStat(z, 0) : 0;
    const cached = z ? k.buddy.pcpCounts(z, 0).count : 0;
    d.say(`Every block starts at a pfn that is a multiple of its size, and its buddy
      is the block whose pfn differs in exactly that bit (pfn ^ (1 << order)).
      The "change" row shows the splitting: big blocks disappeared on the right
      and their leftover halves appeared on the left. We asked for 1+2+4+8 = 15
      pages but the zone's free count fell by ${freeAtBoot - freeNow}
      (${freeAtBoot} to ${freeNow}): the allocations refilled CPU 0's per-CPU
      lists a batch at a time, and ${cached} pages now wait there for the next
      small allocations, which they serve without touching the zone's free
      lists (see the "pcp" chapter).`);

    d.say(`Freeing is the reverse: a freed block looks for its buddy; if the buddy is
      free and of the same order, the two merge into a block of the next order,
      which looks for its own buddy, and so on. Freed small blocks first go to
      the per-CPU lists; freeing a high-order page makes the kernel flush them,
      and drain_all_pages() empties them completely.`);
    for (const [page, order] of blocks) {
      k.__free_pages(page, order);
      d.call(`__free_pages(page ${hex(k.page_to_pfn(page))}, ${order})`);
    }
    const freed = buddyRow(k, 'DMA32');
    k.drain_all_pages();
    d.call('drain_all_pages()');
    d.blank();
    const drained = buddyRow(k, 'DMA32');
    d.show(buddyTable([['boot', boot], ['freed', freed], ['drained', drained]], ['vs boot', boot, drained]));
    d.blank();
    const same = drained.every((v, i) => v === boot[i]);
    d.say(same
      ? `Every split was undone: the free lists are exactly as they were at boot.
        This is what keeps memory usable for large allocations: as long as
        allocations are returned, the buddies find each other again.`
      : `Not every split was undone (a "." means no change): some pages are
        still cached or allocated, so their buddies cannot merge.`);
  },
};
