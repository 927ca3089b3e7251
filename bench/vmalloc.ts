/*
 * vmalloc and virtual-address access benchmarks (issue 4):
 *
 *   vmalloc(1 MiB) + vfree        256 page allocations, page-table writes,
 *                                 the vmap_area bookkeeping, the frees; the
 *                                 lazy purge (one TLB flush every ~32 pairs
 *                                 on 2 CPUs) amortised in; through the Kernel
 *                                 API (which captures the caller's name from
 *                                 the JS stack for vmallocinfo) and with the
 *                                 caller given
 *   u32 read, direct map          the fixed-mapping fast path (arithmetic)
 *   u32 read, vmalloc, TLB hit    the same page every time: one TLB compare
 *   u32 read, vmalloc, TLB miss   two pages 64 pages apart share a slot of the
 *                                 64-entry direct-mapped TLB, so alternating
 *                                 between them walks 4 levels every time
 *   readl, ioremap'd register     a TLB hit that ends at a device
 *   raw PhysMem.read32            the memory access alone, for scale
 *
 * All in one interleaved measurement (bench/harness.ts) on a 1 GiB x86_64
 * machine with 2 CPUs. `node --import tsx bench/vmalloc.ts [--quick] [--json]`
 * runs it alone; bench/run.ts runs it with the others.
 */
import { start_kernel } from '../src/init/main.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { measureInterleaved, table, type Task, type TaskResult } from './harness.ts';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;

export interface VmallocBench {
  results: TaskResult[];
  tlb: { hits: number; misses: number; flushAll: number; flushOne: number };
}

export function vmallocBenches(quick: boolean, log: (msg: string) => void): VmallocBench {
  log('vmalloc: booting a 1 GiB x86_64 machine, 2 CPUs');
  const k = start_kernel(resolveConfig({ mem: '1G', cpus: 2 }));
  const kaddr = k.kaddr;
  const vm = k.paging.vm;
  const buf = k.vmalloc(MiB);
  for (let p = 0; p < 256; p++) kaddr.write32(buf + p * 4096, p);
  const dm = k.__get_free_pages(k.GFP_KERNEL, 0);
  const dmPa = k.__pa(dm);
  const regs = k.ioremap(0xfebf0000, 4096);
  const tasks: Task[] = [
    {
      name: 'vmalloc(1 MiB) + vfree, Kernel API', unit: 'pair', minOps: 4,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) {
          const a = k.vmalloc(MiB);
          x += a & 0xffff;
          k.vfree(a);
        }
        return x;
      },
    },
    {
      name: 'vmalloc(1 MiB) + vfree, caller given', unit: 'pair', minOps: 4,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) {
          const a = vm.__vmalloc_node_range(MiB, 1, k.VMALLOC_START, k.VMALLOC_END, k.GFP_KERNEL, k.PAGE_KERNEL, 0, -1, 'bench',
            'vmalloc_noprof');
          x += a & 0xffff;
          vm.vfree(a);
        }
        return x;
      },
    },
    {
      name: 'u32 read, direct map', unit: 'read', minOps: 1 << 16,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) x = (x + kaddr.read32(dm + ((i & 1023) << 2))) | 0;
        return x;
      },
    },
    {
      name: 'u32 read, vmalloc address, TLB hit', unit: 'read', minOps: 1 << 16,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) x = (x + kaddr.read32(buf + ((i & 1023) << 2))) | 0;
        return x;
      },
    },
    {
      name: 'u32 read, vmalloc address, TLB miss (4-level walk)', unit: 'read', minOps: 1 << 14,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) x = (x + kaddr.read32(buf + (i & 1) * 64 * 4096 + ((i >> 1) & 1023) * 4)) | 0;
        return x;
      },
    },
    {
      name: 'readl of an ioremap\'d kmem-dev register', unit: 'read', minOps: 1 << 14,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) x = (x + k.readl(regs + 0x24)) | 0;
        return x;
      },
    },
    {
      name: 'raw PhysMem.read32 (no translation)', unit: 'read', minOps: 1 << 16,
      run(n) {
        let x = 0;
        for (let i = 0; i < n; i++) x = (x + k.mem.read32(dmPa + ((i & 1023) << 2))) | 0;
        return x;
      },
    },
  ];
  const results = measureInterleaved(tasks, { rounds: quick ? 3 : 11, targetMs: quick ? 10 : 40, progress: log });
  const tlb = k.paging.tlb.stats(0);
  k.vfree(buf);
  k.iounmap(regs);
  return { results, tlb };
}

export function formatVmalloc(b: VmallocBench): string {
  const fmt = (v: number, d = 1) => v.toFixed(d);
  const lines = ['vmalloc and kernel virtual reads, 1 GiB x86_64, 2 CPUs, CPU 0; ns per op, median [min..max]:'];
  lines.push(table(['benchmark', 'ns/op', 'min..max', 'Mops/s'], b.results.map((r) =>
    [r.name, fmt(r.ns, r.ns < 10 ? 2 : 1), `${fmt(r.min, r.ns < 10 ? 2 : 0)}..${fmt(r.max, r.ns < 10 ? 2 : 0)}`, fmt(1e3 / r.ns, 2)])));
  lines.push(`(CPU 0's TLB over the run: ${b.tlb.hits} hits, ${b.tlb.misses} misses, ${b.tlb.flushAll} full flushes, ` +
    `${b.tlb.flushOne} single-page invalidations)`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  const b = vmallocBenches(args.has('--quick'), (m) => process.stderr.write(m + '\n'));
  process.stdout.write(args.has('--json') ? JSON.stringify(b, null, 2) + '\n' : formatVmalloc(b) + '\n');
}
