/*
 * __show_mem() (mm/show_mem.c): the "Mem-Info:" summary the kernel prints
 * with an allocation failure or the OOM killer: global counters, a line per
 * populated zone with its watermarks in kB, the zone's lowmem_reserve[], and
 * the free blocks per order with the migratetypes present (U unmovable, M
 * movable, E reclaimable, H highatomic, I isolate).
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { MIGRATE_TYPES, NR_FREE_PAGES, NR_PAGE_ORDERS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, type Zone, type ZoneSet } from './mmzone.ts';
import type { PageLists } from './page_list.ts';
import type { VmCounters } from './vmstat_percpu.ts';

const kB = (pages: number) => `${pages * (PAGE_SIZE / 1024)}kB`;
const TYPE_LETTERS = ['U', 'M', 'E', 'H', 'I'];

function pcpPages(zone: Zone): number {
  let n = 0;
  for (const pcp of zone.pcps) n += pcp.arr[pcp.iCount];
  return n;
}

export function show_mem(zones: readonly Zone[], zs: ZoneSet, lists: PageLists, counters: VmCounters, cpu: number): string[] {
  // zone_page_state(): printed as the vmstat worker would have left them, every CPU's diff folded in.
  const freePages = (z: Zone) => counters.zone_page_state_snapshot(z, NR_FREE_PAGES);
  let free = 0;
  let freePcp = 0;
  for (const z of zones) {
    free += freePages(z);
    freePcp += pcpPages(z);
  }
  const out = [
    'Mem-Info:',
    'active_anon:0 inactive_anon:0 isolated_anon:0',
    ' active_file:0 inactive_file:0 isolated_file:0',
    ' unevictable:0 dirty:0 writeback:0',
    ' slab_reclaimable:0 slab_unreclaimable:0',
    ' mapped:0 shmem:0 pagetables:0',
    ' sec_pagetables:0 bounce:0',
    ' kernel_misc_reclaimable:0',
    ` free:${free} free_pcp:${freePcp} free_cma:0`,
  ];
  const populated = zones.filter((z) => z.present() > 0);
  for (const z of populated) {
    const local = z.pcps[cpu];
    out.push(`Node ${z.nid} ${z.name} free:${kB(freePages(z))} boost:${kB(z.get(z.iBoost))} ` +
      `min:${kB(z.get(z.iWatermark + WMARK_MIN * z.lw))} low:${kB(z.get(z.iWatermark + WMARK_LOW * z.lw))} ` +
      `high:${kB(z.get(z.iWatermark + WMARK_HIGH * z.lw))} reserved_highatomic:${z.get(z.iReservedHighatomic) * (PAGE_SIZE / 1024)}KB ` +
      'free_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB ' +
      `present:${kB(z.present())} managed:${kB(z.managed())} mlocked:0kB bounce:0kB ` +
      `free_pcp:${kB(pcpPages(z))} local_pcp:${kB(local.arr[local.iCount])} free_cma:0kB`);
    const reserve: number[] = [];
    for (let j = 0; j < zs.MAX_NR_ZONES; j++) reserve.push(z.lowmemReserve(j));
    out.push(`lowmem_reserve[]: ${reserve.join(' ')}`);
  }
  for (const z of populated) {
    let line = `Node ${z.nid} ${z.name}: `;
    let total = 0;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const n = z.nrFree(o);
      total += n << o;
      let types = '';
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (!lists.empty(z.freeList(o, mt))) types += TYPE_LETTERS[mt];
      line += `${n}*${(PAGE_SIZE / 1024) << o}kB ` + (types ? `(${types}) ` : '');
    }
    out.push(`${line}= ${kB(total)}`);
  }
  let ram = 0;
  let reserved = 0;
  let highmem = 0;
  for (const z of zones) {
    ram += z.present();
    reserved += z.present() - z.managed();
    if (z.idx === zs.ZONE_HIGHMEM || z.idx === zs.ZONE_MOVABLE) highmem += z.present();
  }
  out.push('0 total pagecache pages', '0 pages in swap cache', 'Free swap  = 0kB', 'Total swap = 0kB',
    `${ram} pages RAM`, `${highmem} pages HighMem/MovableOnly`, `${reserved} pages reserved`);
  return out;
}
