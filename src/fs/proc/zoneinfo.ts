/*
 * /proc/zoneinfo: mm/vmstat.c zoneinfo_show() -> zoneinfo_show_print(),
 * Linux 6.12. Stat names and their order: vmstat_text[] (mm/vmstat.c), which
 * follows enum zone_stat_item, numa_stat_item and node_stat_item
 * (include/linux/mmzone.h); configuration options add or remove names.
 *
 * Every zone of every online node is printed, populated or not, because
 * lowmem_reserve_ratio acts on all zones. The node's first populated zone
 * carries the node's counters ("per-node stats"); an unpopulated zone stops
 * after its protection line. Sample (x86_64, CONFIG_NUMA, 2 CPUs):
 *
 *   Node 0, zone      DMA
 *     per-node stats
 *         nr_inactive_anon 1428
 *         nr_active_anon 383
 *         [... every node_stat_item ...]
 *         pgdemote_khugepaged 0
 *     pages free     3840
 *           boost    0
 *           min      45
 *           low      56
 *           high     67
 *           promo    78
 *           spanned  4095
 *           present  3998
 *           managed  3840
 *           cma      0
 *           protection: (0, 3018, 5578, 5578, 5578)
 *         nr_free_pages 3840
 *         [... every zone_stat_item, then numa_hit .. numa_other ...]
 *     pagesets
 *       cpu: 0
 *                 count: 0
 *                 high:  0
 *                 batch: 1
 *     vm stats threshold: 4
 *       [... each online CPU ...]
 *     node_unreclaimable:  0
 *     start_pfn:           1
 *   Node 0, zone  Movable
 *     pages free     0
 *     [...]
 *           protection: (0, 0, 0, 0, 0)
 *
 * Stat lines are "\n      %-12s %lu": names shorter than 12 characters are
 * padded ("nr_mapped    2696"), longer ones take a single space.
 * Later kernels differ (6.18: pagesets also print high_min/high_max and pad
 * count/high/batch to the same column, nr_free_pages_blocks is new, nr_bounce
 * and nr_writeback_temp are gone); this file follows 6.12.
 */

import type { MemoryView, NodeView, VmstatConfig, ZoneView } from './views.ts';

/** enum zone_stat_item names (vmstat_text[] head), 6.12. */
export function zoneStatNames(config: VmstatConfig): string[] {
  return [
    'nr_free_pages',
    'nr_zone_inactive_anon',
    'nr_zone_active_anon',
    'nr_zone_inactive_file',
    'nr_zone_active_file',
    'nr_zone_unevictable',
    'nr_zone_write_pending',
    'nr_mlock',
    'nr_bounce',
    ...(config.zsmalloc ? ['nr_zspages'] : []),
    'nr_free_cma',
    ...(config.unacceptedMemory ? ['nr_unaccepted'] : []),
  ];
}

/** enum numa_stat_item names (printed only with CONFIG_NUMA). */
export const NUMA_STAT_NAMES = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_interleave',
  'numa_local',
  'numa_other',
] as const;

/** enum node_stat_item names, 6.12. */
export function nodeStatNames(config: VmstatConfig): string[] {
  return [
    'nr_inactive_anon',
    'nr_active_anon',
    'nr_inactive_file',
    'nr_active_file',
    'nr_unevictable',
    'nr_slab_reclaimable',
    'nr_slab_unreclaimable',
    'nr_isolated_anon',
    'nr_isolated_file',
    'workingset_nodes',
    'workingset_refault_anon',
    'workingset_refault_file',
    'workingset_activate_anon',
    'workingset_activate_file',
    'workingset_restore_anon',
    'workingset_restore_file',
    'workingset_nodereclaim',
    'nr_anon_pages',
    'nr_mapped',
    'nr_file_pages',
    'nr_dirty',
    'nr_writeback',
    'nr_writeback_temp',
    'nr_shmem',
    'nr_shmem_hugepages',
    'nr_shmem_pmdmapped',
    'nr_file_hugepages',
    'nr_file_pmdmapped',
    'nr_anon_transparent_hugepages',
    'nr_vmscan_write',
    'nr_vmscan_immediate_reclaim',
    'nr_dirtied',
    'nr_written',
    'nr_throttled_written',
    'nr_kernel_misc_reclaimable',
    'nr_foll_pin_acquired',
    'nr_foll_pin_released',
    'nr_kernel_stack',
    ...(config.shadowCallStack ? ['nr_shadow_call_stack'] : []),
    'nr_page_table_pages',
    'nr_sec_page_table_pages',
    ...(config.iommu ? ['nr_iommu_pages'] : []),
    ...(config.swap ? ['nr_swapcached'] : []),
    ...(config.numaBalancing ? ['pgpromote_success', 'pgpromote_candidate'] : []),
    'pgdemote_kswapd',
    'pgdemote_direct',
    'pgdemote_khugepaged',
  ];
}

/** vmstat_item_print_in_thp(): counted in base pages, printed in huge pages. */
const THP_NODE_STATS = new Set([
  'nr_anon_transparent_hugepages',
  'nr_file_hugepages',
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_pmdmapped',
]);

/** "\n      %-12s %lu" */
function statLine(name: string, value: number): string {
  return `\n      ${name.padEnd(12)} ${value}`;
}

function zoneinfoZone(view: MemoryView, node: NodeView, zone: ZoneView, firstPopulated: boolean): string {
  const { config } = view;
  let out = `Node ${node.id}, zone ${zone.name.padStart(8)}`;
  if (firstPopulated) {
    out += '\n  per-node stats';
    for (const name of nodeStatNames(config)) {
      let pages = node.nodeStats[name] ?? 0;
      if (config.transparentHugepage && THP_NODE_STATS.has(name)) pages = Math.floor(pages / view.hpagePmdNr);
      out += statLine(name, pages);
    }
  }
  out +=
    `\n  pages free     ${zone.freePages}` +
    `\n        boost    ${zone.boost}` +
    `\n        min      ${zone.min}` +
    `\n        low      ${zone.low}` +
    `\n        high     ${zone.high}` +
    `\n        promo    ${zone.promo}` +
    `\n        spanned  ${zone.spanned}` +
    `\n        present  ${zone.present}` +
    `\n        managed  ${zone.managed}` +
    `\n        cma      ${zone.cma}`;
  out += `\n        protection: (${zone.protection.join(', ')})`;

  if (!zone.populated) return out + '\n';

  for (const name of zoneStatNames(config)) {
    out += statLine(name, name === 'nr_free_pages' ? zone.freePages : (zone.zoneStats[name] ?? 0));
  }
  if (config.numa) {
    for (const name of NUMA_STAT_NAMES) out += statLine(name, zone.numaStats[name] ?? 0);
  }

  out += '\n  pagesets';
  for (const pcp of zone.pagesets) {
    out +=
      `\n    cpu: ${pcp.cpu}` +
      `\n              count: ${pcp.count}` +
      `\n              high:  ${pcp.high}` +
      `\n              batch: ${pcp.batch}`;
    if (config.smp) out += `\n  vm stats threshold: ${zone.statThreshold}`;
  }
  out +=
    `\n  node_unreclaimable:  ${node.unreclaimable ? 1 : 0}` +
    `\n  start_pfn:           ${zone.startPfn}`;
  return out + '\n';
}

export function zoneinfo(view: MemoryView): string {
  let out = '';
  for (const node of view.nodes) {
    const first = node.zones.find((z) => z.populated); // is_zone_first_populated()
    for (const zone of node.zones) out += zoneinfoZone(view, node, zone, zone === first);
  }
  return out;
}
