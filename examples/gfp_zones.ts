/*
 * gfp_zones: where pages come from, by GFP flags (LDD3 chapter 8, "The
 * Flags Argument" and "Memory zones"). init allocates one block per kind of
 * request and logs the zone it landed in; exit frees them all.
 *
 *   npm run kmem -- run examples/gfp_zones.ts --mem 256M
 *   npm run kmem -- run examples/gfp_zones.ts --arch i386 --mem 1G   (ZONE_HIGHMEM)
 *
 * On x86_64, GFP_DMA pages come from ZONE_DMA (the first 16 MiB), GFP_DMA32
 * from below 4 GiB, GFP_KERNEL from ZONE_NORMAL, or from DMA32 when the
 * machine has no RAM above 4 GiB. On i386 with more than 896 MiB,
 * GFP_HIGHUSER pages come from ZONE_HIGHMEM and have no kernel address
 * (page_address() is NULL) until kmap()ed.
 */
import type { Kernel } from '../src/kernel/kernel.ts';

const ENOMEM = 12;

interface Held {
  page: number;
  order: number;
}

const held: Held[] = [];

function grab(k: Kernel, what: string, gfp: number, order: number): boolean {
  const page = k.alloc_pages(gfp, order);
  if (page === 0) {
    k.log.pr_err(`gfp_zones: alloc_pages(${what}, ${order}) failed`);
    return false;
  }
  held.push({ page, order });
  const pfn = k.page_to_pfn(page);
  const va = k.page_address(page);
  k.log.pr_info(`gfp_zones: ${what.padEnd(24)} order ${order}: pfn 0x${pfn.toString(16).padStart(5, '0')} ` +
    `zone ${k.page_zone(page).name.padEnd(7)} page_address ${va === 0 ? 'NULL (highmem)' : '0x' + va.toString(16)}`);
  return true;
}

export function init(k: Kernel): number {
  const requests: [string, number, number][] = [
    ['GFP_KERNEL | GFP_DMA', k.GFP_KERNEL | k.GFP_DMA, 0],
    ['GFP_KERNEL | GFP_DMA32', k.GFP_KERNEL | k.GFP_DMA32, 0],
    ['GFP_KERNEL', k.GFP_KERNEL, 2],
    ['GFP_ATOMIC', k.GFP_ATOMIC, 0],
    ['GFP_HIGHUSER', k.GFP_HIGHUSER, 0],
    ['GFP_HIGHUSER_MOVABLE', k.GFP_HIGHUSER_MOVABLE, 3],
  ];
  for (const [what, gfp, order] of requests) {
    if (!grab(k, what, gfp, order)) {
      exit(k);
      return -ENOMEM;
    }
  }
  return 0;
}

export function exit(k: Kernel): void {
  for (const { page, order } of held.splice(0)) k.__free_pages(page, order);
  k.log.pr_info('gfp_zones: all pages freed');
}
