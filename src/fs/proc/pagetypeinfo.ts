/*
 * /proc/pagetypeinfo (mode 0400): mm/vmstat.c pagetypeinfo_show(), Linux 6.12,
 * with its helpers pagetypeinfo_showfree{,_print}() and
 * pagetypeinfo_showblockcount{,_print}().
 *
 * For every online node that has memory (node_state(N_MEMORY)) the whole
 * block below is printed, header included, so a two-node machine shows the
 * "Page block order" lines twice. Only populated zones get rows.
 *
 *   Page block order: 9
 *   Pages per block:  512
 *
 *   Free pages count per migrate type at order       0      1  ...     10 
 *   Node    0, zone      DMA, type    Unmovable      0      0  ...      0 
 *   Node    0, zone      DMA, type      Movable      0      0  ...      3 
 *   [... one row per populated zone and migratetype ...]
 *
 *   Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate 
 *   Node 0, zone      DMA            1            7            0            0            0 
 *
 * Formats: header "%-43s " then "%6d " per order; rows
 * "Node %4d, zone %8s, type %12s " then "%s%6lu " per order, where the kernel
 * stops walking a free list at 100000 entries and prints ">100000"; the
 * block table "\n%-23s" + "%12s " per migratetype name, rows
 * "Node %d, zone %8s " + "%12lu " per migratetype. The CONFIG_PAGE_OWNER
 * "Number of mixed blocks" table (only with page_owner=on) is not modelled.
 */

import type { MemoryView } from './views.ts';

/** pagetypeinfo_showfree_print() caps its free-list walk here. */
const FREE_LIST_WALK_CAP = 100000;

export function pagetypeinfo(view: MemoryView): string {
  let out = '';
  for (const node of view.nodes) {
    const populated = node.zones.filter((z) => z.populated);
    if (populated.length === 0) continue; // memoryless node

    out += `Page block order: ${view.pageblockOrder}\n`;
    out += `Pages per block:  ${2 ** view.pageblockOrder}\n`;
    out += '\n';

    out += `${'Free pages count per migrate type at order'.padEnd(43)} `;
    for (let order = 0; order <= view.maxOrder; order++) out += `${String(order).padStart(6)} `;
    out += '\n';
    for (const zone of populated) {
      view.migratetypes.forEach((type, mt) => {
        out += `Node ${String(node.id).padStart(4)}, zone ${zone.name.padStart(8)}, type ${type.padStart(12)} `;
        for (let order = 0; order <= view.maxOrder; order++) {
          const n = zone.freeByType[mt]?.[order] ?? 0;
          out += n >= FREE_LIST_WALK_CAP ? `>${FREE_LIST_WALK_CAP} ` : `${String(n).padStart(6)} `;
        }
        out += '\n';
      });
    }

    out += `\n${'Number of blocks type '.padEnd(23)}`;
    for (const type of view.migratetypes) out += `${type.padStart(12)} `;
    out += '\n';
    for (const zone of populated) {
      out += `Node ${node.id}, zone ${zone.name.padStart(8)} `;
      view.migratetypes.forEach((_type, mt) => {
        out += `${String(zone.blocksByType[mt] ?? 0).padStart(12)} `;
      });
      out += '\n';
    }
  }
  return out;
}
