/*
 * /proc/meminfo: fs/proc/meminfo.c meminfo_proc_show(), Linux 6.12, x86,
 * with hugetlb_report_meminfo() (mm/hugetlb.c), memtest_report_meminfo()
 * (mm/memtest.c) and the x86 arch_report_meminfo()
 * (arch/x86/mm/pat/set_memory.c) that it calls at the end.
 *
 * Nearly every line is show_val_kb(): a 16-column label (colon and padding
 * included) then seq_put_decimal_ull_width(pages << (PAGE_SHIFT - 10), 8)
 * and " kB\n"; a value wider than 8 digits pushes " kB" right. The
 * seq_printf lines (Zswapped, KernelStack, VmallocTotal, DirectMap*) print
 * "%8lu kB" after the same 16 columns, so they share the helper. The odd ones
 * are HardwareCorrupted / EarlyMemtestBad ("%5lu kB" after a longer label)
 * and the HugePages_* counts ("%5lu", no unit). Sample (x86_64, 6.12):
 *
 *   MemTotal:        3997272 kB
 *   MemFree:         2760316 kB
 *   [...]
 *   Mlocked:           19476 kB
 *   SwapTotal:       3996668 kB          (HighTotal..LowFree before it with CONFIG_HIGHMEM)
 *   [...]
 *   VmallocTotal:   34359738367 kB
 *   [...]
 *   HugePages_Total:       0
 *   HugePages_Free:        0
 *   HugePages_Rsvd:        0
 *   HugePages_Surp:        0
 *   Hugepagesize:       2048 kB
 *   Hugetlb:               0 kB
 *   DirectMap4k:      192320 kB
 *   DirectMap2M:     4001792 kB
 *   DirectMap1G:     2097152 kB
 *
 * Optional lines follow the kernel's #ifdefs (see MeminfoView). Not printed
 * because x86 never has them: MmapCopy (!CONFIG_MMU), ShadowCallStack
 * (arm64/riscv). Later kernels (2025) add "Balloon:" after Unaccepted; 6.12 has none.
 */

import { PAGE_SHIFT } from '../../arch/x86/layout.ts';
import type { MeminfoView } from './views.ts';

/** pages -> kB, as `num << (PAGE_SHIFT - 10)` (multiplied: JS shifts are 32-bit). */
function kb(pages: number): number {
  return pages * 2 ** (PAGE_SHIFT - 10);
}

/** A 16-column label then the kB value right-aligned in 8: "MemTotal:        3997272 kB\n". */
function kbLine(label: string, valueKb: number): string {
  return `${label.padEnd(16)}${String(valueKb).padStart(8)} kB\n`;
}

/** show_val_kb(): a figure in pages. */
function showValKb(label: string, pages: number): string {
  return kbLine(label, kb(pages));
}

export function meminfo(v: MeminfoView): string {
  const n = (x: number | undefined): number => x ?? 0;
  const bufferram = n(v.bufferram);
  const swapCached = n(v.swapCached);
  const cached = Math.max(0, n(v.filePages) - swapCached - bufferram);
  const sreclaimable = v.slabReclaimable;
  const sunreclaim = v.slabUnreclaimable;

  let out = '';
  out += showValKb('MemTotal:', v.totalram);
  out += showValKb('MemFree:', v.freeram);
  out += showValKb('MemAvailable:', v.available);
  out += showValKb('Buffers:', bufferram);
  out += showValKb('Cached:', cached);
  out += showValKb('SwapCached:', swapCached);
  out += showValKb('Active:', n(v.activeAnon) + n(v.activeFile));
  out += showValKb('Inactive:', n(v.inactiveAnon) + n(v.inactiveFile));
  out += showValKb('Active(anon):', n(v.activeAnon));
  out += showValKb('Inactive(anon):', n(v.inactiveAnon));
  out += showValKb('Active(file):', n(v.activeFile));
  out += showValKb('Inactive(file):', n(v.inactiveFile));
  out += showValKb('Unevictable:', n(v.unevictable));
  out += showValKb('Mlocked:', n(v.mlocked));

  if (v.highTotal !== null) {
    out += showValKb('HighTotal:', v.highTotal);
    out += showValKb('HighFree:', v.highFree);
    out += showValKb('LowTotal:', v.totalram - v.highTotal);
    out += showValKb('LowFree:', v.freeram - v.highFree);
  }

  out += showValKb('SwapTotal:', n(v.totalSwap));
  out += showValKb('SwapFree:', n(v.freeSwap));
  if (v.zswap !== null) {
    out += showValKb('Zswap:', v.zswap.totalPages);
    out += showValKb('Zswapped:', v.zswap.storedPages);
  }
  out += showValKb('Dirty:', n(v.dirty));
  out += showValKb('Writeback:', n(v.writeback));
  out += showValKb('AnonPages:', n(v.anonPages));
  out += showValKb('Mapped:', n(v.mapped));
  out += showValKb('Shmem:', n(v.shmem));
  out += showValKb('KReclaimable:', sreclaimable + n(v.kernelMiscReclaimable));
  out += showValKb('Slab:', sreclaimable + sunreclaim);
  out += showValKb('SReclaimable:', sreclaimable);
  out += showValKb('SUnreclaim:', sunreclaim);
  out += kbLine('KernelStack:', v.kernelStackKb);
  out += showValKb('PageTables:', v.pageTables);
  out += showValKb('SecPageTables:', n(v.secPageTables));

  out += showValKb('NFS_Unstable:', 0);
  out += showValKb('Bounce:', n(v.bounce));
  out += showValKb('WritebackTmp:', n(v.writebackTmp));
  out += showValKb('CommitLimit:', v.commitLimit);
  out += showValKb('Committed_AS:', v.committedAs);
  out += kbLine('VmallocTotal:', v.vmallocTotalKb);
  out += showValKb('VmallocUsed:', v.vmallocUsed);
  out += showValKb('VmallocChunk:', 0);
  out += showValKb('Percpu:', v.percpu);

  if (v.earlyMemtestBadKb !== null) out += `EarlyMemtestBad:   ${String(v.earlyMemtestBadKb).padStart(5)} kB\n`;
  if (v.hardwareCorrupted !== null) out += `HardwareCorrupted: ${String(kb(v.hardwareCorrupted)).padStart(5)} kB\n`;

  if (v.thp !== null) {
    out += showValKb('AnonHugePages:', v.thp.anon);
    out += showValKb('ShmemHugePages:', v.thp.shmem);
    out += showValKb('ShmemPmdMapped:', v.thp.shmemPmdMapped);
    out += showValKb('FileHugePages:', v.thp.file);
    out += showValKb('FilePmdMapped:', v.thp.filePmdMapped);
  }
  if (v.cma !== null) {
    out += showValKb('CmaTotal:', v.cma.total);
    out += showValKb('CmaFree:', v.cma.free);
  }
  if (v.unaccepted !== null) out += showValKb('Unaccepted:', v.unaccepted);

  if (v.hugetlb !== null) {
    const h = v.hugetlb;
    out += `HugePages_Total:   ${String(h.total).padStart(5)}\n`;
    out += `HugePages_Free:    ${String(h.free).padStart(5)}\n`;
    out += `HugePages_Rsvd:    ${String(h.rsvd).padStart(5)}\n`;
    out += `HugePages_Surp:    ${String(h.surp).padStart(5)}\n`;
    out += kbLine('Hugepagesize:', h.pageSizeKb);
    out += kbLine('Hugetlb:', h.totalKb);
  }

  out += kbLine('DirectMap4k:', v.directMap4kKb);
  out += kbLine(`DirectMap${v.directMapLargePage}:`, v.directMap2MKb);
  if (v.directMap1GKb !== null) out += kbLine('DirectMap1G:', v.directMap1GKb);
  return out;
}
