/*
 * /proc/slabinfo: mm/slab_common.c print_slabinfo_header() and
 * cache_show(), Linux 6.12 (version 2.1 of the format).
 *
 * One line per cache on slab_caches, newest first (kmem_cache and
 * kmem_cache_node, created first, are the last lines); merged caches
 * (aliases) have no line of their own. The header comes before the first
 * cache, so a kernel with no cache would print nothing at all:
 *
 *   slabinfo - version: 2.1
 *   # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables ...
 *   kmalloc-64          1931   1984     64   64    1 : tunables    0    0    0 : slabdata     31     31      0
 *
 * "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu": a longer name or
 * number pushes the columns right. objsize is s->size (the object with its
 * metadata, the stride in the slab). What the other figures mean is the
 * implementation's business (get_slabinfo()); for SLUB: every object of
 * every slab counts, and active_objs leaves out only the free objects of
 * the node partial lists (those on CPU slabs count as active); tunables and
 * sharedavail are 0.
 */
import type { SlabInfo } from '../../mm/slab_types.ts';

export interface SlabinfoRow {
  name: string;
  /** s->size */
  objsize: number;
  info: SlabInfo;
}

export const SLABINFO_HEADER = 'slabinfo - version: 2.1\n' +
  '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>' +
  ' : tunables <limit> <batchcount> <sharedfactor>' +
  ' : slabdata <active_slabs> <num_slabs> <sharedavail>\n';

const u = (v: number, w: number) => String(v).padStart(w);

/** cache_show() */
export function slabinfoLine(r: SlabinfoRow): string {
  const i = r.info;
  return `${r.name.padEnd(17)} ${u(i.active_objs, 6)} ${u(i.num_objs, 6)} ${u(r.objsize, 6)} ${u(i.objects_per_slab, 4)} ` +
    `${u(2 ** i.cache_order, 4)} : tunables ${u(i.limit, 4)} ${u(i.batchcount, 4)} ${u(i.shared, 4)} ` +
    `: slabdata ${u(i.active_slabs, 6)} ${u(i.num_slabs, 6)} ${u(i.shared_avail, 6)}\n`;
}

export function slabinfo(rows: readonly SlabinfoRow[]): string {
  if (rows.length === 0) return '';
  return SLABINFO_HEADER + rows.map(slabinfoLine).join('');
}
