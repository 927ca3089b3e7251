/*
 * Chapter: booting. The firmware's e820 map, memblock (the boot-time
 * allocator), the zones, and the buddy allocator's free lists as
 * /proc/buddyinfo shows them right after boot.
 */
import type { DemoChapter } from './chapter.ts';

export const bootChapter: DemoChapter = {
  id: 'boot',
  title: 'Booting: e820, memblock, zones and the buddy allocator',
  summary: 'from the firmware memory map to /proc/buddyinfo',
  run(d) {
    d.say(`LDD3's chapter 8 starts with a running kernel whose memory is ready to be
      handed out. Before that, at boot, the kernel has to find out what RAM the
      machine has and build the structures the page allocator works on. kmem
      does this on a simulated PC whose RAM holds real bytes. Here is a 256 MiB
      machine with 2 CPUs:`);
    const k = d.boot({ mem: '256M', cpus: 2 });

    d.say(`First the firmware (the BIOS) tells the kernel where RAM is: the e820
      map. "usable" is RAM; "reserved" is RAM or ROM the firmware keeps (the
      extended BIOS data area below 640K, the BIOS itself below 1M, and the
      tables SeaBIOS keeps at the top of low memory). The hole from 0xa0000 to
      0xf0000 has no entry at all: that is the VGA window and option ROMs.`);
    d.dmesg(k, (l) => /BIOS/.test(l));

    d.say(`The kernel copies the usable ranges into memblock, the allocator it uses
      until the page allocator exists. Allocating from memblock just means
      adding a range to its "reserved" list. x86 reserves the first 1 MiB, the
      kernel image (loaded at 16 MiB), and then everything allocated at boot:
      the node data (pglist_data), the mem_section table and, the big one, the
      memmap, the array of struct page (64 bytes for each 4 KiB page). memblock
      allocates top-down, so these sit near the end of RAM.`);
    d.logged(k, '__memblock_dump_all()', () => k.memblock.__memblock_dump_all());
    d.blank();

    d.say(`Next the zones. On x86 ZONE_DMA is the first 16 MiB (what ISA DMA can
      reach), ZONE_DMA32 the rest below 4 GiB, ZONE_NORMAL everything above.
      This machine has no memory above 4 GiB, so Normal is empty; the
      "Memory:" line says how many pages the buddy allocator received
      ("available") out of how many exist.`);
    d.dmesg(k, (l) => /Zone ranges|Early memory node ranges|^\[[^\]]+\]\s{3}\S+\s+(\[mem|empty)|node\s+0:|Built|Policy zone|Memory:/.test(l));

    d.say(`Finally memblock_free_all() gives every page that is not reserved to the
      buddy allocator, in the largest aligned blocks it can: 2^10 pages (4 MiB)
      when possible. /proc/buddyinfo counts the free blocks of each order,
      order 0 (one page) on the left to order 10 on the right. Right after boot
      nearly all memory sits in order-10 blocks; the small ones are the odd
      pieces around the reserved ranges.`);
    d.cat(k, 'buddyinfo');

    d.say(`Each zone also gets watermarks (min, low, high) derived from
      vm.min_free_kbytes; they decide who may take the last free pages (see the
      "gfp" chapter).`);
    let populated = false;
    d.cat(k, 'zoneinfo', (l) => {
      if (l.startsWith('Node')) populated = /zone\s+(DMA|DMA32)$/.test(l);
      return populated && /^Node|^\s+pages free|^\s+(min|low|high|managed)\s/.test(l);
    });
  },
};
