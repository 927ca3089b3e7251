/*
 * greedy: a module whose init fails. It asks for 4 MiB blocks (order 10)
 * with GFP_KERNEL | __GFP_NORETRY until the allocator says no, then does
 * what a well-behaved module_init does on failure: frees everything it took
 * and returns -ENOMEM. `kmem run` then reports, like insmod,
 *
 *   insmod: ERROR: could not insert module greedy.ts: Cannot allocate memory
 *
 * and, since the module never loaded, does not call exit. The kernel's
 * "page allocation failure" warning for the last request is in the log.
 *
 *   npm run kmem -- run examples/greedy.ts --mem 128M
 */
import type { Kernel } from '../src/kernel/kernel.ts';

const ENOMEM = 12;
const ORDER = 10;

export function init(k: Kernel): number {
  const blocks: number[] = [];
  for (;;) {
    const page = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NORETRY, ORDER);
    if (page === 0) break;
    blocks.push(page);
  }
  k.log.pr_info(`greedy: got ${blocks.length} blocks of ${(k.PAGE_SIZE << ORDER) >> 20} MiB before the allocator said no`);
  for (const page of blocks) k.__free_pages(page, ORDER);
  return -ENOMEM;
}

export function exit(k: Kernel): void {
  k.log.pr_info('greedy: exit (never called: init failed)');
}
