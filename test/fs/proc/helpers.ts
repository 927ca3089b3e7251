/*
 * Shared by the /proc golden tests: fixture loading, views with defaults, and
 * parsers that turn a real file's numbers back into a view, so that
 * regenerating the file proves the format for any numbers.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeminfoView, MemoryView, NodeView, PagesetView, VmstatConfig, ZoneView } from '../../../src/fs/proc/views.ts';

export function fixture(rel: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/${rel}`, import.meta.url)), 'utf8');
}

/** Is a command (procps free, vmstat, slabtop) installed? */
export const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/**
 * Run `cmd` with `text` bind-mounted over /proc/<name> in a private mount
 * namespace, so a real tool reads kmem's file; a skip reason where that is
 * not permitted.
 */
export function withProcFile(name: string, text: string, cmd: string): { skip: string } | { stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-proc-'));
  try {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind "$0" /proc/${name} || exit 77; exec ${cmd}`, file], {
      encoding: 'utf8',
    });
    if (r.error) return { skip: `unshare not available: ${r.error.message}` };
    if (r.status === 77) return { skip: `mount --bind not permitted: ${r.stderr.trim()}` };
    if (r.status !== 0 && /unshare/.test(r.stderr)) return { skip: `unshare -m not permitted: ${r.stderr.trim()}` };
    assert.equal(r.status, 0, r.stderr);
    return { stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** x86_64 distribution kernel (Debian 6.12 amd64, and this host's 6.18). */
export const X86_64_CONFIG: VmstatConfig = {
  numa: true,
  smp: true,
  zsmalloc: true,
  unacceptedMemory: false,
  shadowCallStack: false,
  iommu: true,
  swap: true,
  numaBalancing: true,
  transparentHugepage: true,
};

export const X86_64_ZONES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'];
export const MIGRATETYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'];

export function zone(node: number, name: string, fields: Partial<ZoneView> = {}): ZoneView {
  return {
    node,
    name,
    populated: false,
    freePages: 0,
    boost: 0,
    min: 0,
    low: 0,
    high: 0,
    promo: 0,
    spanned: 0,
    present: 0,
    managed: 0,
    cma: 0,
    protection: X86_64_ZONES.map(() => 0),
    nrFree: Array.from({ length: 11 }, () => 0),
    freeByType: MIGRATETYPES.map(() => Array.from({ length: 11 }, () => 0)),
    blocksByType: MIGRATETYPES.map(() => 0),
    startPfn: 0,
    pagesets: [],
    statThreshold: 0,
    zoneStats: {},
    numaStats: {},
    ...fields,
  };
}

export function memoryView(nodes: NodeView[], fields: Partial<MemoryView> = {}): MemoryView {
  return {
    migratetypes: MIGRATETYPES,
    pageblockOrder: 9,
    maxOrder: 10,
    nodes,
    config: X86_64_CONFIG,
    hpagePmdNr: 512,
    ...fields,
  };
}

/** Group "Node N, zone NAME ..." lines' zones by node, keeping file order. */
function nodeOf(nodes: NodeView[], id: number): NodeView {
  let node = nodes.find((n) => n.id === id);
  if (!node) {
    node = { id, zones: [], nodeStats: {}, unreclaimable: false };
    nodes.push(node);
  }
  return node;
}

function zoneOf(node: NodeView, name: string): ZoneView {
  let z = node.zones.find((x) => x.name === name);
  if (!z) {
    z = zone(node.id, name, { populated: true });
    node.zones.push(z);
  }
  return z;
}

const nums = (s: string): number[] => s.trim().split(/\s+/).filter(Boolean).map(Number);

/** /proc/buddyinfo -> view (only the listed, populated zones). */
export function parseBuddyinfo(text: string): MemoryView {
  const nodes: NodeView[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^Node (\d+), zone\s+(\S+)(.*)$/.exec(line);
    if (!m) throw new Error(`bad buddyinfo line: ${line}`);
    const z = zoneOf(nodeOf(nodes, Number(m[1])), m[2] as string);
    z.nrFree = nums(m[3] as string);
  }
  return memoryView(nodes);
}

/** /proc/pagetypeinfo -> view (free lists per type and block counts). */
export function parsePagetypeinfo(text: string): MemoryView {
  const nodes: NodeView[] = [];
  let migratetypes: string[] = [];
  let pageblockOrder = 0;
  let maxOrder = 0;
  const typed = new Set<ZoneView>();
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^Page block order: (\d+)$/.exec(line))) pageblockOrder = Number(m[1]);
    else if ((m = /^Free pages count per migrate type at order(.*)$/.exec(line))) maxOrder = nums(m[1] as string).length - 1;
    else if ((m = /^Number of blocks type(.*)$/.exec(line))) migratetypes = (m[1] as string).trim().split(/\s+/);
    else if ((m = /^Node\s+(\d+), zone\s+(\S+), type\s+(\S+)(.*)$/.exec(line))) {
      const z = zoneOf(nodeOf(nodes, Number(m[1])), m[2] as string);
      if (!typed.has(z)) {
        typed.add(z);
        z.freeByType = [];
      }
      z.freeByType.push((m[4] as string).trim().split(/\s+/).map((s) => (s.startsWith('>') ? Number(s.slice(1)) : Number(s))));
    } else if ((m = /^Node (\d+), zone\s+(\S+)(.*)$/.exec(line))) {
      zoneOf(nodeOf(nodes, Number(m[1])), m[2] as string).blocksByType = nums(m[3] as string);
    }
  }
  return memoryView(nodes, { migratetypes, pageblockOrder, maxOrder });
}

/**
 * /proc/zoneinfo (6.12 format, and the 6.18 / 5.x variants: lines a format
 * lacks keep their defaults) -> view. THP node counters are multiplied back
 * to base pages.
 */
export function parseZoneinfo(text: string, fields: Partial<MemoryView> = {}): MemoryView {
  const view = memoryView([], fields);
  const thp = new Set(['nr_anon_transparent_hugepages', 'nr_file_hugepages', 'nr_shmem_hugepages', 'nr_shmem_pmdmapped', 'nr_file_pmdmapped']);
  let node: NodeView | undefined;
  let z: ZoneView | undefined;
  let section: 'node' | 'zone' | 'stats' | 'pagesets' = 'zone';
  let pcp: PagesetView | undefined;
  for (const line of text.split('\n').filter(Boolean)) {
    let m;
    if ((m = /^Node (\d+), zone\s+(\S+)$/.exec(line))) {
      node = nodeOf(view.nodes, Number(m[1]));
      z = zone(node.id, m[2] as string, { populated: false, protection: [] });
      node.zones.push(z);
      section = 'zone';
      continue;
    }
    if (!node || !z) throw new Error(`zoneinfo: line before any zone: ${line}`);
    if (line === '  per-node stats') {
      section = 'node';
    } else if ((m = /^ {2}pages free {5}(\d+)$/.exec(line))) {
      z.freePages = Number(m[1]);
      section = 'zone';
    } else if ((m = /^ {8}(boost|min|low|high|promo|spanned|present|managed|cma)\s+(\d+)$/.exec(line))) {
      (z as unknown as Record<string, number>)[m[1] as string] = Number(m[2]);
    } else if ((m = /^ {8}protection: \((.*)\)$/.exec(line))) {
      z.protection = (m[1] as string).split(', ').map(Number);
      section = 'stats';
    } else if ((m = /^ {6}(\S+)\s+(\d+)$/.exec(line))) {
      const [name, value] = [m[1] as string, Number(m[2])];
      if (section === 'node') {
        node.nodeStats[name] = thp.has(name) ? value * view.hpagePmdNr : value;
      } else {
        z.populated = true; // only populated zones print zone stats
        if (name.startsWith('numa_')) z.numaStats[name] = value;
        else z.zoneStats[name] = value;
      }
    } else if (line === '  pagesets') {
      section = 'pagesets';
    } else if ((m = /^ {4}cpu: (\d+)$/.exec(line))) {
      pcp = { cpu: Number(m[1]), count: 0, high: 0, batch: 0, highMin: 0, highMax: 0 };
      z.pagesets.push(pcp);
    } else if ((m = /^ {14}(count|high|batch|high_min|high_max):\s+(\d+)$/.exec(line))) {
      if (!pcp) throw new Error('pageset field before cpu:');
      const key = ({ count: 'count', high: 'high', batch: 'batch', high_min: 'highMin', high_max: 'highMax' } as const)[
        m[1] as 'count'
      ];
      pcp[key] = Number(m[2]);
    } else if ((m = /^ {2}vm stats threshold: (\d+)$/.exec(line))) {
      z.statThreshold = Number(m[1]);
    } else if ((m = /^ {2}node_unreclaimable: {2}(\d+)$/.exec(line))) {
      node.unreclaimable = m[1] === '1';
    } else if ((m = /^ {2}start_pfn: {11}(\d+)$/.exec(line))) {
      z.startPfn = Number(m[1]);
    } else {
      throw new Error(`zoneinfo: unexpected line: ${JSON.stringify(line)}`);
    }
  }
  return view;
}

/** "Label:   123 kB" / "HugePages_Total:   0" lines -> label -> number (kB or count). */
export function parseMeminfoLines(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^([^:]+):\s+(\d+)( kB)?$/.exec(line);
    if (!m) throw new Error(`bad meminfo line: ${line}`);
    map.set(m[1] as string, Number(m[2]));
  }
  return map;
}

/** /proc/meminfo (x86 4 KiB pages) -> view; optional lines absent mean the option is off. */
export function parseMeminfo(text: string): MeminfoView {
  const kb = parseMeminfoLines(text);
  const has = (k: string): boolean => kb.has(k);
  const get = (k: string): number => {
    const v = kb.get(k);
    if (v === undefined) throw new Error(`meminfo: no ${k}`);
    return v;
  };
  const pg = (k: string): number => get(k) / 4;
  return {
    totalram: pg('MemTotal'),
    freeram: pg('MemFree'),
    available: pg('MemAvailable'),
    highTotal: has('HighTotal') ? pg('HighTotal') : null,
    highFree: has('HighFree') ? pg('HighFree') : 0,
    slabReclaimable: pg('SReclaimable'),
    slabUnreclaimable: pg('SUnreclaim'),
    kernelStackKb: get('KernelStack'),
    pageTables: pg('PageTables'),
    vmallocTotalKb: get('VmallocTotal'),
    vmallocUsed: pg('VmallocUsed'),
    percpu: pg('Percpu'),
    commitLimit: pg('CommitLimit'),
    committedAs: pg('Committed_AS'),
    directMap4kKb: has('DirectMap4k') ? get('DirectMap4k') : 0,
    directMap2MKb: has('DirectMap4M') ? get('DirectMap4M') : has('DirectMap2M') ? get('DirectMap2M') : 0,
    directMapLargePage: has('DirectMap4M') ? '4M' : '2M',
    directMap1GKb: has('DirectMap1G') ? get('DirectMap1G') : null,
    zswap: has('Zswap') ? { totalPages: pg('Zswap'), storedPages: pg('Zswapped') } : null,
    earlyMemtestBadKb: has('EarlyMemtestBad') ? get('EarlyMemtestBad') : null,
    hardwareCorrupted: has('HardwareCorrupted') ? pg('HardwareCorrupted') : null,
    thp: has('AnonHugePages')
      ? {
          anon: pg('AnonHugePages'),
          shmem: pg('ShmemHugePages'),
          shmemPmdMapped: pg('ShmemPmdMapped'),
          file: pg('FileHugePages'),
          filePmdMapped: pg('FilePmdMapped'),
        }
      : null,
    cma: has('CmaTotal') ? { total: pg('CmaTotal'), free: pg('CmaFree') } : null,
    unaccepted: has('Unaccepted') ? pg('Unaccepted') : null,
    hugetlb: has('HugePages_Total')
      ? {
          total: get('HugePages_Total'),
          free: get('HugePages_Free'),
          rsvd: get('HugePages_Rsvd'),
          surp: get('HugePages_Surp'),
          pageSizeKb: get('Hugepagesize'),
          totalKb: get('Hugetlb'),
        }
      : null,
    bufferram: pg('Buffers'),
    filePages: pg('Cached') + pg('SwapCached') + pg('Buffers'),
    swapCached: pg('SwapCached'),
    inactiveAnon: pg('Inactive(anon)'),
    activeAnon: pg('Active(anon)'),
    inactiveFile: pg('Inactive(file)'),
    activeFile: pg('Active(file)'),
    unevictable: pg('Unevictable'),
    mlocked: pg('Mlocked'),
    totalSwap: pg('SwapTotal'),
    freeSwap: pg('SwapFree'),
    dirty: pg('Dirty'),
    writeback: pg('Writeback'),
    anonPages: pg('AnonPages'),
    mapped: pg('Mapped'),
    shmem: pg('Shmem'),
    kernelMiscReclaimable: pg('KReclaimable') - pg('SReclaimable'),
    secPageTables: has('SecPageTables') ? pg('SecPageTables') : 0,
    bounce: pg('Bounce'),
    writebackTmp: pg('WritebackTmp'),
  };
}
