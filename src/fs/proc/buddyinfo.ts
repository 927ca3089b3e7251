/*
 * /proc/buddyinfo: mm/vmstat.c frag_show() -> frag_show_print(), Linux 6.12.
 *
 * One line per *populated* zone of every online node (walk_zones_in_node()
 * with assert_populated): "Node %d, zone %8s " then, for each order
 * 0..MAX_PAGE_ORDER, "%6lu " of free_area[order].nr_free (free blocks of that
 * order, not pages), then '\n'. Every line thus ends with a space:
 *
 *   Node 0, zone      DMA      0      0      0      1      1      1      1      1      0      1      3 
 *   Node 0, zone    DMA32     78    114     82     52     38     25     13      9      3      4    629 
 *   Node 0, zone   Normal      0     22      8     10      1      1      2     11     13      0      0 
 *
 * (Printf widths are minimums: a wider number just widens its column.)
 */

import type { MemoryView } from './views.ts';

export function buddyinfo(view: MemoryView): string {
  let out = '';
  for (const node of view.nodes) {
    for (const zone of node.zones) {
      if (!zone.populated) continue;
      out += `Node ${node.id}, zone ${zone.name.padStart(8)} `;
      for (let order = 0; order <= view.maxOrder; order++) {
        out += `${String(zone.nrFree[order] ?? 0).padStart(6)} `;
      }
      out += '\n';
    }
  }
  return out;
}
