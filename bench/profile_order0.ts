/*
 * The order-0 alloc+free pair in a loop, to be run under the V8 profiler:
 *
 *   node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/profile_order0.ts [page|pfn] [seconds]
 *
 * (bench/run.ts --profile does this and summarises the profile with
 * bench/cpuprofile.ts; add --no-turbo-inlining to see callees that the
 * optimiser would otherwise fold into their callers.) Only samples under
 * order0PairLoop are counted by the summary, so boot is left out.
 */
import { start_kernel } from '../src/init/main.ts';
import { resolveConfig } from '../src/machine/config.ts';
import type { Kernel } from '../src/kernel/kernel.ts';

export const PROFILE_LOOP = 'order0PairLoop';

function order0PairLoop(k: Kernel, mode: string, n: number): number {
  const gfp = k.GFP_KERNEL;
  let sum = 0;
  if (mode === 'pfn') {
    const b = k.buddy;
    for (let i = 0; i < n; i++) {
      const pfn = b.__alloc_pages(gfp, 0);
      sum = (sum + pfn) | 0;
      b.__free_pages(pfn, 0);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const page = k.alloc_pages(gfp, 0);
      sum = (sum + page) | 0;
      k.__free_pages(page, 0);
    }
  }
  return sum;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv[2] ?? 'page';
  const seconds = Number(process.argv[3] ?? '3');
  const k = start_kernel(resolveConfig({ mem: '4G', cpus: 2 }));
  const end = performance.now() + seconds * 1000;
  let sum = 0;
  let pairs = 0;
  while (performance.now() < end) {
    sum = (sum + order0PairLoop(k, mode, 100_000)) | 0;
    pairs += 100_000;
  }
  process.stdout.write(JSON.stringify({ mode, pairs, seconds, sum }) + '\n');
}
