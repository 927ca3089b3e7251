/*
 * Snapshots of the /proc files a page-allocating module changes, and the
 * differences between them, as `kmem run` prints them:
 *
 *   /proc/buddyinfo: each zone whose free-block counts changed, one row per
 *     snapshot;
 *   /proc/meminfo: the lines whose values changed, "a → b → c";
 *   /proc/zoneinfo: each zone's "pages free", and its per-CPU lists' "count"
 *     (pages cached on a CPU's list are free but not in "pages free").
 */
import type { Kernel } from '../kernel/kernel.ts';
import { readProc } from '../fs/proc/procfs.ts';
import { table } from './output.ts';

export interface ZoneFree {
  /** "Node 0, zone DMA32" */
  zone: string;
  free: number;
  /** pagesets: count per CPU */
  pcp: number[];
}

export interface ProcSnapshot {
  label: string;
  buddyinfo: string;
  meminfo: string;
  zoneinfo: string;
}

export function snapshot(k: Kernel, label: string): ProcSnapshot {
  return { label, buddyinfo: readProc(k, 'buddyinfo'), meminfo: readProc(k, 'meminfo'), zoneinfo: readProc(k, 'zoneinfo') };
}

/** buddyinfo rows: "Node 0, zone DMA32" -> free blocks per order. */
export function parseBuddyinfo(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of text.split('\n')) {
    const m = /^Node\s+(\d+), zone\s+(\S+)\s+(.*)$/.exec(l);
    if (m) out.set(`Node ${m[1]}, zone ${m[2]}`, m[3].trim().split(/\s+/).map(Number));
  }
  return out;
}

/** meminfo lines: name -> the value as printed ("251600 kB"). */
export function parseMeminfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split('\n')) {
    const m = /^([^:]+):\s+(.*)$/.exec(l);
    if (m) out.set(m[1], m[2].trim());
  }
  return out;
}

/** zoneinfo: each zone's "pages free" and its pagesets' "count:" per CPU. */
export function parseZoneinfo(text: string): ZoneFree[] {
  const out: ZoneFree[] = [];
  let cur: ZoneFree | null = null;
  let cpu = -1;
  for (const l of text.split('\n')) {
    let m = /^Node\s+(\d+), zone\s+(\S+)/.exec(l);
    if (m) {
      cur = { zone: `Node ${m[1]}, zone ${m[2]}`, free: 0, pcp: [] };
      out.push(cur);
      cpu = -1;
      continue;
    }
    if (cur === null) continue;
    if ((m = /^\s+pages free\s+(\d+)/.exec(l))) cur.free = Number(m[1]);
    else if ((m = /^\s+cpu:\s+(\d+)/.exec(l))) cpu = Number(m[1]);
    else if ((m = /^\s+count:\s+(\d+)/.exec(l)) && cpu >= 0) cur.pcp[cpu] = Number(m[1]);
  }
  return out;
}

/** Pages on every CPU's per-CPU lists, over all zones. */
export function totalPcp(s: ProcSnapshot): number {
  let n = 0;
  for (const z of parseZoneinfo(s.zoneinfo)) n += z.pcp.reduce((a, b) => a + (b ?? 0), 0);
  return n;
}

/** Free pages, counting the per-CPU lists, over all zones. */
export function totalFree(s: ProcSnapshot): number {
  let n = 0;
  for (const z of parseZoneinfo(s.zoneinfo)) n += z.free;
  return n + totalPcp(s);
}

const ARROW = ' → ';

function arrows(values: readonly (string | number)[], width = 0): string {
  const w = Math.max(width, ...values.map((v) => String(v).length));
  return values.map((v) => String(v).padStart(w)).join(ARROW);
}

/** Rows of [labels..., values[]] with every value column as wide as the widest value. */
function arrowRows(rows: readonly [string[], (string | number)[]][]): string[][] {
  const w = Math.max(0, ...rows.flatMap(([, vals]) => vals.map((v) => String(v).length)));
  return rows.map(([labels, vals]) => [...labels, arrows(vals, w)]);
}

function allSame<T>(values: readonly T[]): boolean {
  return values.every((v) => v === values[0]);
}

/** The lines `kmem run` prints for a series of snapshots. */
export function diffLines(snaps: readonly ProcSnapshot[]): string[] {
  const out: string[] = [];
  const labels = snaps.map((s) => s.label);
  const labelW = Math.max(...labels.map((l) => l.length));

  out.push(`/proc/buddyinfo (free blocks of order 0..10):`);
  const buddies = snaps.map((s) => parseBuddyinfo(s.buddyinfo));
  let any = false;
  for (const zone of buddies[0].keys()) {
    const rows = buddies.map((b) => b.get(zone) ?? []);
    if (allSame(rows.map((r) => r.join(' ')))) continue;
    any = true;
    out.push(`  ${zone}`);
    for (const line of table(rows.map((r, i) => [labels[i].padEnd(labelW), ...r]), 1)) out.push('    ' + line);
  }
  if (!any) out.push('  (no change)');

  out.push('/proc/meminfo (lines that changed):');
  const mems = snaps.map((s) => parseMeminfo(s.meminfo));
  const memRows: [string[], string[]][] = [];
  for (const name of mems[0].keys()) {
    const vals = mems.map((m) => m.get(name) ?? '-');
    if (allSame(vals)) continue;
    memRows.push([[`${name}:`], vals]);
  }
  if (memRows.length === 0) out.push('  (no change)');
  else for (const l of table(arrowRows(memRows), 1)) out.push('  ' + l);

  out.push('/proc/zoneinfo (pages free, and pages on each CPU\'s per-CPU list):');
  const zones = snaps.map((s) => parseZoneinfo(s.zoneinfo));
  const zoneRows: [string[], number[]][] = [];
  zones[0].forEach((z0, i) => {
    const series = zones.map((zs) => zs[i]);
    const frees = series.map((z) => z.free);
    if (!allSame(frees)) zoneRows.push([[z0.zone, 'pages free'], frees]);
    z0.pcp.forEach((_, cpu) => {
      const counts = series.map((z) => z.pcp[cpu] ?? 0);
      if (!allSame(counts)) zoneRows.push([[z0.zone, `cpu ${cpu} count`], counts]);
    });
  });
  if (zoneRows.length === 0) out.push('  (no change)');
  else for (const l of table(arrowRows(zoneRows), 2)) out.push('  ' + l);
  return out;
}
