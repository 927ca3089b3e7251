/*
 * What `kmem boot` prints after the boot log: a short digest of
 * /proc/zoneinfo and /proc/meminfo (per zone: managed and free pages and
 * the watermarks), and the --proc-dir dump of every /proc file kmem makes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Kernel } from '../kernel/kernel.ts';
import { memoryView } from '../mm/vmstat.ts';
import { procFileNames, readProc } from '../fs/proc/procfs.ts';
import { table } from './output.ts';
import { parseMeminfo } from './procdiff.ts';

/** The per-zone digest, one row per populated zone, and the meminfo headline figures. */
export function memorySummary(k: Kernel): string[] {
  const view = memoryView(k);
  const pageKiB = k.PAGE_SIZE >> 10;
  const rows: (string | number)[][] = [['node', 'zone', 'managed', 'free', 'min', 'low', 'high', 'free MiB']];
  let managed = 0;
  let free = 0;
  for (const node of view.nodes) {
    for (const z of node.zones) {
      if (!z.populated) continue;
      managed += z.managed;
      free += z.freePages;
      rows.push([String(node.id), z.name, z.managed, z.freePages, z.min, z.low, z.high, ((z.freePages * pageKiB) / 1024).toFixed(1)]);
    }
  }
  rows.push(['', 'total', managed, free, '', '', '', ((free * pageKiB) / 1024).toFixed(1)]);
  const mi = parseMeminfo(readProc(k, 'meminfo'));
  const pick = (n: string) => `${n}: ${mi.get(n) ?? '?'}`;
  return [
    `Zones (pages of ${pageKiB} KiB; min/low/high are the watermarks):`,
    ...table(rows, 2).map((l) => '  ' + l),
    [pick('MemTotal'), pick('MemFree'), pick('MemAvailable')].join('   '),
    `vm.min_free_kbytes = ${readProc(k, 'sys/vm/min_free_kbytes').trim()}   ` +
      `vm.watermark_scale_factor = ${readProc(k, 'sys/vm/watermark_scale_factor').trim()}`,
  ];
}

/** Write every /proc file kmem produces into dir, under its /proc name. Returns the paths written. */
export function writeProcDir(k: Kernel, dir: string): string[] {
  const written: string[] = [];
  for (const name of procFileNames(k)) {
    const path = join(dir, ...name.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, readProc(k, name));
    written.push(path);
  }
  return written;
}
