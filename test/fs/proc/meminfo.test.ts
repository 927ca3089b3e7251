import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meminfo } from '../../../src/fs/proc/meminfo.ts';
import type { MeminfoView } from '../../../src/fs/proc/views.ts';
import { fixture, hasTool, parseMeminfo, parseMeminfoLines, withProcFile } from './helpers.ts';

test('meminfo: this host (6.18) in 6.12 format: everything but the post-6.12 Balloon line, byte for byte', () => {
  const text618 = fixture('host-6.18/meminfo');
  assert.match(text618, /^Balloon: +0 kB$/m);
  const expected = text618.replace(/^Balloon:.*\n/m, '');
  assert.equal(meminfo(parseMeminfo(text618)), expected);
});

test('meminfo: jc fixture (x86_64, 5.x) plus the SecPageTables line 6.0 added, byte for byte', () => {
  const text = fixture('real-dumps/jc-meminfo');
  const expected = text.replace(/^(PageTables:.*\n)/m, '$1SecPageTables:         0 kB\n');
  assert.notEqual(expected, text);
  assert.equal(meminfo(parseMeminfo(expected)), expected);
  assert.match(expected, /^HardwareCorrupted:     0 kB$/m);
  assert.match(expected, /^VmallocTotal:   34359738367 kB$/m);
});

test('meminfo: Raspberry Pi 6.12.47 (arm64) dump, all lines up to the arch-specific tail', () => {
  // The author's "<-----" notes are stripped; arm64 has no arch_report_meminfo(),
  // so kmem's x86 DirectMap lines are dropped before comparing.
  const text = fixture('real-dumps/rpi-6.12.47-meminfo').replace(/ <-+.*$/gm, '');
  const out = meminfo(parseMeminfo(text)).replace(/^DirectMap.*\n/gm, '');
  assert.equal(out, text);
  assert.match(out, /^Zswapped: +0 kB\nDirty:/m);
  assert.match(out, /^CmaFree: +231648 kB\n$/m);
});

const base: MeminfoView = {
  totalram: 999318,
  freeram: 690079,
  available: 846719,
  highTotal: null,
  highFree: 0,
  slabReclaimable: 47054,
  slabUnreclaimable: 24970,
  kernelStackKb: 5872,
  pageTables: 453,
  vmallocTotalKb: 34359738367,
  vmallocUsed: 5483,
  percpu: 26880,
  commitLimit: 1498826,
  committedAs: 111310,
  directMap4kKb: 192320,
  directMap2MKb: 4001792,
  directMapLargePage: '2M',
  directMap1GKb: 2097152,
  zswap: null,
  earlyMemtestBadKb: null,
  hardwareCorrupted: null,
  thp: null,
  cma: null,
  unaccepted: null,
  hugetlb: null,
};

test('meminfo: unmodelled counters print 0 and every 6.12 line (no optional ones) is present in order', () => {
  const labels = [...meminfo(base).matchAll(/^([^:]+):/gm)].map((m) => m[1]);
  assert.deepEqual(labels, [
    'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached', 'Active', 'Inactive',
    'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Unevictable', 'Mlocked',
    'SwapTotal', 'SwapFree', 'Dirty', 'Writeback', 'AnonPages', 'Mapped', 'Shmem', 'KReclaimable',
    'Slab', 'SReclaimable', 'SUnreclaim', 'KernelStack', 'PageTables', 'SecPageTables', 'NFS_Unstable',
    'Bounce', 'WritebackTmp', 'CommitLimit', 'Committed_AS', 'VmallocTotal', 'VmallocUsed', 'VmallocChunk',
    'Percpu', 'DirectMap4k', 'DirectMap2M', 'DirectMap1G',
  ]);
  assert.ok(meminfo(base).includes('\nBuffers:               0 kB\nCached:                0 kB\n'));
  assert.ok(meminfo(base).includes('\nSlab:             288096 kB\n'));
});

test('meminfo: i386 with HIGHMEM, no PAE: High/Low lines, DirectMap4M, no DirectMap1G; every optional line', () => {
  const v: MeminfoView = {
    ...base,
    totalram: 786432, // 3 GiB
    freeram: 600000,
    highTotal: 557056,
    highFree: 500000,
    vmallocTotalKb: 122880,
    directMap4kKb: 12288,
    directMap2MKb: 905216,
    directMapLargePage: '4M',
    directMap1GKb: null,
    zswap: { totalPages: 1, storedPages: 2 },
    earlyMemtestBadKb: 0,
    hardwareCorrupted: 3,
    thp: { anon: 512, shmem: 0, shmemPmdMapped: 0, file: 0, filePmdMapped: 0 },
    cma: { total: 4096, free: 1024 },
    unaccepted: 5,
    hugetlb: { total: 2, free: 1, rsvd: 0, surp: 0, pageSizeKb: 4096, totalKb: 8192 },
    filePages: 10,
    swapCached: 20, // Cached would be negative: clamped to 0
  };
  const out = meminfo(v);
  const lines = (...l: string[]): string => `\n${l.join('\n')}\n`;
  assert.ok(
    out.includes(
      lines(
        'Mlocked:               0 kB',
        'HighTotal:       2228224 kB',
        'HighFree:        2000000 kB',
        'LowTotal:         917504 kB',
        'LowFree:          400000 kB',
        'SwapTotal:             0 kB',
      ),
    ),
    out,
  );
  assert.ok(out.includes(lines('Cached:                0 kB')), out);
  assert.ok(out.includes(lines('SwapFree:              0 kB', 'Zswap:                 4 kB', 'Zswapped:              8 kB', 'Dirty:                 0 kB')), out);
  assert.ok(out.includes(lines('Percpu:           107520 kB', 'EarlyMemtestBad:       0 kB', 'HardwareCorrupted:    12 kB', 'AnonHugePages:      2048 kB')), out);
  assert.ok(
    out.endsWith(
      lines(
        'FilePmdMapped:         0 kB',
        'CmaTotal:          16384 kB',
        'CmaFree:            4096 kB',
        'Unaccepted:           20 kB',
        'HugePages_Total:       2',
        'HugePages_Free:        1',
        'HugePages_Rsvd:        0',
        'HugePages_Surp:        0',
        'Hugepagesize:       4096 kB',
        'Hugetlb:            8192 kB',
        'DirectMap4k:       12288 kB',
        'DirectMap4M:      905216 kB',
      ),
    ),
    out,
  );
});

test('meminfo: procps free(1) reads kmem meminfo', (t) => {
  if (!hasTool('free')) return t.skip('procps free not installed');
  const v: MeminfoView = { ...parseMeminfo(fixture('host-6.18/meminfo')), totalSwap: 262144, freeSwap: 200000 };
  const r = withProcFile('meminfo', meminfo(v), 'free -k');
  if ('skip' in r) return t.skip(r.skip);
  const kb = parseMeminfoLines(meminfo(v));
  const k = (name: string): number => kb.get(name) ?? NaN;
  const mem = /^Mem:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(r.stdout);
  const swap = /^Swap:\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(r.stdout);
  assert.ok(mem && swap, r.stdout);
  const [, total, , free, shared, buffCache, available] = mem.map(Number);
  assert.equal(total, v.totalram * 4);
  assert.equal(free, v.freeram * 4);
  assert.equal(available, v.available * 4);
  assert.equal(shared, k('Shmem'));
  assert.equal(buffCache, k('Buffers') + k('Cached') + k('SReclaimable'));
  assert.deepEqual(swap.slice(1).map(Number), [262144 * 4, (262144 - 200000) * 4, 200000 * 4]);
});

test('meminfo: procps vmstat -s takes its memory lines from kmem meminfo', (t) => {
  if (!hasTool('vmstat')) return t.skip('procps vmstat not installed');
  // vmstat also reads the real /proc/stat and /proc/vmstat; only its memory
  // lines come from meminfo. procps converts through a C float, so the view's
  // figures stay below 2^24 kB to compare exactly (a 4 GiB machine).
  const v = parseMeminfo(fixture('real-dumps/jc-meminfo'));
  const r = withProcFile('meminfo', meminfo(v), 'vmstat -s');
  if ('skip' in r) return t.skip(r.skip);
  const line = (what: string): number => {
    const m = new RegExp(`^\\s*(\\d+) K ${what}$`, 'm').exec(r.stdout);
    assert.ok(m, `no "${what}" in ${r.stdout}`);
    return Number(m[1]);
  };
  assert.equal(line('total memory'), 3997272);
  assert.equal(line('free memory'), 2760316);
  assert.equal(line('active memory'), 475816);
  assert.equal(line('inactive memory'), 322064);
  assert.equal(line('buffer memory'), 40452);
  assert.equal(line('swap cache'), 684856 + 188216); // procps "cached" = Cached + SReclaimable
  assert.equal(line('total swap'), 3996668);
  assert.equal(line('free swap'), 3996668);
});
