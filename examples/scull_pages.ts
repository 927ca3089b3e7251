/*
 * scull_pages: LDD3 chapter 8's scullp in miniature. scullp keeps its data
 * in "quanta" of whole pages: each quantum is 2^order pages, allocated with
 * __get_free_pages() and given back with free_pages(). This module takes a
 * few quanta at module_init and returns them at module_exit:
 *
 *   npm run kmem -- run examples/scull_pages.ts --mem 256M
 *
 * LDD3 (C):                                       kmem (TypeScript):
 *   ptr = (void *)__get_free_pages(GFP_KERNEL,      k.__get_free_pages(k.GFP_KERNEL, order)
 *                                  order);
 *   memset(ptr, 0, PAGE_SIZE << order);             k.mem.fill(k.__pa(ptr), k.PAGE_SIZE << order, 0)
 *   free_pages((unsigned long)ptr, order);          k.free_pages(ptr, order)
 *
 * init returns -ENOMEM, as module_init would, when an allocation fails.
 */
import type { Kernel } from '../src/kernel/kernel.ts';
import { formatPtr } from '../src/arch/x86/layout.ts';

const ENOMEM = 12;
/** scullp_order: each quantum is 2^order pages (LDD3's default is 0). */
const order = 1;
/** How many quanta the device holds. */
const qset = 4;

const quanta: number[] = [];

export function init(k: Kernel): number {
  for (let i = 0; i < qset; i++) {
    const ptr = k.__get_free_pages(k.GFP_KERNEL, order);
    if (ptr === 0) {
      k.log.pr_warn(`scull_pages: quantum ${i}: out of memory`);
      exit(k);
      return -ENOMEM;
    }
    // The pages hold real bytes: clear the quantum and write a signature into it.
    k.mem.fill(k.__pa(ptr), k.PAGE_SIZE << order, 0);
    k.mem.writeBytes(k.__pa(ptr), new TextEncoder().encode(`scull quantum ${i}`));
    quanta.push(ptr);
    k.log.pr_info(`scull_pages: quantum ${i} at ${formatPtr(k.layout, ptr)} (pfn ${(k.__pa(ptr) / k.PAGE_SIZE).toString(16)}, order ${order})`);
  }
  k.log.pr_info(`scull_pages: ${quanta.length} quanta of ${(k.PAGE_SIZE << order) >> 10} KiB allocated`);
  return 0;
}

export function exit(k: Kernel): void {
  let n = 0;
  while (quanta.length > 0) {
    const ptr = quanta.pop() as number;
    k.free_pages(ptr, order);
    n++;
  }
  k.log.pr_info(`scull_pages: ${n} quanta freed`);
}
