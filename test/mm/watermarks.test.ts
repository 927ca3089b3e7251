/*
 * Watermarks, lowmem reserves and per-CPU list sizes against the kernel's
 * formulas, computed here independently of kmem's code from nothing but the
 * zones' managed page counts (mm/page_alloc.c calculate_min_free_kbytes,
 * __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve, zone_batchsize,
 * zone_highsize; mm/khugepaged.c set_recommended_min_free_kbytes;
 * mm/huge_memory.c hugepage_init), then against this host's real
 * /proc/zoneinfo, then through the sysctls that recompute them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc, writeProc, EINVAL } from '../../src/fs/proc/procfs.ts';
import { init_per_zone_wmark_min } from '../../src/mm/mm_init.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { MachineConfigInput } from '../../src/machine/config.ts';
import type { ZoneView } from '../../src/fs/proc/views.ts';
import { fixture, parseZoneinfo } from '../fs/proc/helpers.ts';
import { boot } from './helpers.ts';

/* ------------------------------------------------------------------ */
/* The formulas, from the kernel source                               */
/* ------------------------------------------------------------------ */

interface ZoneIn {
  nid: number;
  idx: number;
  managed: number;
  present: number;
}

interface Arch {
  names: string[];
  DMA32: number; // -1 without
  NORMAL: number;
  HIGHMEM: number; // -1 without
  MOVABLE: number;
  ratios: number[];
  thp: boolean;
}

const X86_64: Arch = { names: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'], DMA32: 1, NORMAL: 2, HIGHMEM: -1, MOVABLE: 3, ratios: [256, 256, 32, 0, 0], thp: true };
const I386: Arch = { names: ['DMA', 'Normal', 'HighMem', 'Movable'], DMA32: -1, NORMAL: 1, HIGHMEM: 2, MOVABLE: 3, ratios: [256, 32, 0, 0], thp: false };

interface Marks {
  min: number;
  low: number;
  high: number;
  promo: number;
}

/** int_sqrt(): floor(sqrt(x)) exactly. */
function intSqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** nr_free_buffer_pages(): managed minus the high watermark, over the zones up to Normal. */
function nrFreeBufferPages(a: Arch, zones: ZoneIn[], marks: Marks[]): number {
  let sum = 0;
  zones.forEach((z, i) => {
    if (z.idx <= a.NORMAL && z.managed > marks[i].high) sum += z.managed - marks[i].high;
  });
  return sum;
}

/** __setup_per_zone_wmarks() */
function setupWmarks(a: Arch, zones: ZoneIn[], minFreeKbytes: number, scaleFactor: number): Marks[] {
  const pagesMin = BigInt(minFreeKbytes >> 2);
  let lowmem = 0n;
  for (const z of zones) if (z.idx !== a.HIGHMEM && z.idx !== a.MOVABLE) lowmem += BigInt(z.managed);
  return zones.map((z) => {
    const tmp = Number((pagesMin * BigInt(z.managed)) / lowmem);
    const min = z.idx === a.HIGHMEM || z.idx === a.MOVABLE ? Math.min(Math.max(Math.floor(z.managed / 1024), 32), 128) : tmp;
    const delta = Math.max(tmp >> 2, Math.floor((z.managed * scaleFactor) / 10000));
    return { min, low: min + delta, high: min + 2 * delta, promo: min + 3 * delta };
  });
}

/** setup_per_zone_lowmem_reserve(): protection[] of every zone. */
function lowmemReserve(a: Arch, zones: ZoneIn[], ratios: number[]): number[][] {
  const n = a.names.length;
  return zones.map((z) => {
    const out = new Array(n).fill(0);
    if (z.idx === n - 1) return out;
    const clear = !ratios[z.idx] || !z.managed;
    let managed = 0;
    for (let j = z.idx + 1; j < n; j++) {
      managed += zones.find((u) => u.nid === z.nid && u.idx === j)?.managed ?? 0;
      out[j] = clear ? 0 : Math.floor(managed / ratios[z.idx]);
    }
    return out;
  });
}

/** zone_batchsize(), with zone_set_pageset_high_and_batch()'s max(1, ...). */
function batchsize(managed: number): number {
  let batch = Math.floor(Math.min(managed >> 10, 256) / 4);
  if (batch < 1) batch = 1;
  batch = 2 ** Math.floor(Math.log2(batch + Math.floor(batch / 2))) - 1;
  return Math.max(1, batch);
}

interface Expected {
  minFreeKbytes: number;
  marks: Marks[];
  protection: number[][];
  pcp: { batch: number; highMin: number; highMax: number }[];
}

/**
 * Boot: init_per_zone_wmark_min() (calculate_min_free_kbytes,
 * setup_per_zone_wmarks, setup_per_zone_lowmem_reserve), then, when THP is
 * built in and the machine has at least 512 MiB (hugepage_init), khugepaged's
 * set_recommended_min_free_kbytes() and setup_per_zone_wmarks() again.
 */
function expectedAtBoot(a: Arch, zones: ZoneIn[], cpusOfNode: number[], opts: { minFreeKbytes?: number; scaleFactor?: number; ratios?: number[] } = {}): Expected {
  const wsf = opts.scaleFactor ?? 10;
  let mfk = opts.minFreeKbytes ?? -1;
  let marks = zones.map(() => ({ min: 0, low: 0, high: 0, promo: 0 }));
  if (mfk < 0) {
    mfk = Math.min(Math.max(intSqrt(nrFreeBufferPages(a, zones, marks) * 4 * 16), 128), 262144);
    marks = setupWmarks(a, zones, mfk, wsf);
    const totalram = zones.reduce((s, z) => s + z.managed, 0);
    if (a.thp && totalram >= 512 << 8) {
      const nrZones = zones.filter((z) => z.present > 0 && z.idx <= a.NORMAL).length;
      let rec = 512 * nrZones * 2 + 512 * nrZones * 3 * 3;
      rec = Math.min(rec, Math.floor(nrFreeBufferPages(a, zones, marks) / 20)) << 2;
      if (rec > mfk) mfk = rec;
    }
  }
  marks = setupWmarks(a, zones, mfk, wsf);
  const pcp = zones.map((z, i) => {
    const batch = batchsize(z.managed);
    const split = cpusOfNode[z.nid] || cpusOfNode.reduce((s, c) => s + c, 0);
    return {
      batch,
      highMin: Math.max(Math.floor(marks[i].low / split), batch << 2),
      highMax: Math.max(Math.floor(Math.floor(z.managed / 8) / split), batch << 2),
    };
  });
  return { minFreeKbytes: mfk, marks, protection: lowmemReserve(a, zones, opts.ratios ?? a.ratios), pcp };
}

/* ------------------------------------------------------------------ */
/* Reading a booted kernel                                            */
/* ------------------------------------------------------------------ */

function zonesOf(k: Kernel): ZoneIn[] {
  return k.buddy.zones.map((z) => ({ nid: z.nid, idx: z.idx, managed: k.buddy.managed(z), present: k.buddy.zget(z, 'present_pages') }));
}

function cpusOfNode(k: Kernel): number[] {
  return k.config.nodes.map((n) => n.cpus.length);
}

/** What /proc/zoneinfo says about each zone, node by node, zone by zone. */
function zoneinfoZones(k: Kernel): ZoneView[] {
  return parseZoneinfo(readProc(k, 'zoneinfo')).nodes.flatMap((n) => n.zones);
}

function checkAgainst(k: Kernel, a: Arch, e: Expected, label: string): void {
  assert.equal(readProc(k, 'sys/vm/min_free_kbytes'), `${e.minFreeKbytes}\n`, `${label}: min_free_kbytes`);
  const views = zoneinfoZones(k);
  assert.equal(views.length, k.buddy.zones.length);
  k.buddy.zones.forEach((z, i) => {
    const v = views[i];
    const where = `${label}: node ${z.nid} ${a.names[z.idx]}`;
    assert.equal(v.name, a.names[z.idx]);
    assert.deepEqual({ min: v.min, low: v.low, high: v.high, promo: v.promo }, e.marks[i], `${where} watermarks`);
    assert.deepEqual(v.protection, e.protection[i], `${where} protection`);
    for (let cpu = 0; cpu < k.config.cpus; cpu++) {
      const c = k.buddy.pcpCounts(z, cpu);
      assert.deepEqual({ batch: c.batch, highMin: c.highMin, highMax: c.highMax }, e.pcp[i], `${where} cpu ${cpu} pcp`);
    }
  });
}

/* ------------------------------------------------------------------ */
/* (a) boot                                                           */
/* ------------------------------------------------------------------ */

const MACHINES: { label: string; config: MachineConfigInput; arch: Arch; thpAtBoot: boolean }[] = [
  { label: 'x86_64 64M', config: { arch: 'x86_64', mem: '64M', cpus: 1 }, arch: X86_64, thpAtBoot: false },
  { label: 'x86_64 128M', config: { arch: 'x86_64', mem: '128M', cpus: 2 }, arch: X86_64, thpAtBoot: false },
  // 512 MiB of RAM is just under 512 MiB managed: THP stays off, min_free_kbytes is the square root rule's.
  { label: 'x86_64 512M', config: { arch: 'x86_64', mem: '512M', cpus: 2 }, arch: X86_64, thpAtBoot: false },
  { label: 'x86_64 1G', config: { arch: 'x86_64', mem: '1G', cpus: 4 }, arch: X86_64, thpAtBoot: true },
  { label: 'x86_64 6G', config: { arch: 'x86_64', mem: '6G', cpus: 2 }, arch: X86_64, thpAtBoot: true },
  { label: 'x86_64 2G, 2 nodes', config: { arch: 'x86_64', mem: '2G', cpus: 4, nodes: 2 }, arch: X86_64, thpAtBoot: true },
  { label: 'x86_64 6G, 3 nodes', config: { arch: 'x86_64', mem: '6G', cpus: 3, nodes: 3 }, arch: X86_64, thpAtBoot: true },
  { label: 'i386 64M', config: { arch: 'i386', mem: '64M', cpus: 1 }, arch: I386, thpAtBoot: false },
  { label: 'i386 1G (HighMem)', config: { arch: 'i386', mem: '1G', cpus: 2 }, arch: I386, thpAtBoot: false },
  { label: 'i386 2G (HighMem)', config: { arch: 'i386', mem: '2G', cpus: 4 }, arch: I386, thpAtBoot: false },
];

for (const m of MACHINES) {
  test(`watermarks at boot equal the kernel's formulas: ${m.label}`, () => {
    const k = boot(m.config);
    const zones = zonesOf(k);
    const e = expectedAtBoot(m.arch, zones, cpusOfNode(k));
    checkAgainst(k, m.arch, e, m.label);
    // The square-root rule alone would give this; khugepaged raised it where it ran.
    const sqrtRule = Math.min(Math.max(intSqrt(nrFreeBufferPages(m.arch, zones, zones.map(() => ({ min: 0, low: 0, high: 0, promo: 0 }))) * 64), 128), 262144);
    if (m.thpAtBoot) assert.ok(e.minFreeKbytes > sqrtRule, `${m.label}: khugepaged should have raised ${sqrtRule}`);
    else assert.equal(e.minFreeKbytes, sqrtRule);
  });
}

test('watermarks at boot: the well-known values (1G x86_64: 45056 kB; 128M x86_64: the square root rule)', () => {
  // 2 populated lowmem zones x (2 + 3*3) pageblocks of 512 pages = 11264 pages = 45056 kB.
  assert.equal(readProc(boot({ arch: 'x86_64', mem: '1G', cpus: 1 }), 'sys/vm/min_free_kbytes'), '45056\n');
  // int_sqrt(16 * lowmem kB): about 1400 on 128M (MemTotal ~122000 kB); no khugepaged below 512 MiB.
  const k = boot({ arch: 'x86_64', mem: '128M', cpus: 1 });
  const memTotal = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readProc(k, 'meminfo'))?.[1]);
  assert.ok(memTotal > 118000 && memTotal < 126000, `MemTotal ${memTotal}`);
  assert.equal(readProc(k, 'sys/vm/min_free_kbytes'), `${intSqrt(memTotal * 16)}\n`);
});

/* ------------------------------------------------------------------ */
/* (b) this host's zoneinfo                                           */
/* ------------------------------------------------------------------ */

test("fidelity: with this host's managed counts, kmem computes the host's watermarks, protection and pcp sizes exactly", () => {
  const host = parseZoneinfo(fixture('host-6.18/zoneinfo')).nodes[0].zones;
  assert.deepEqual(host.map((z) => z.name), X86_64.names);
  assert.equal(fixture('host-6.18/sys_vm_min_free_kbytes'), '67584\n');
  assert.equal(fixture('host-6.18/sys_vm_watermark_scale_factor'), '10\n');

  // A 2-CPU, one-node x86_64 kernel whose zones are all populated (the host has 2 CPUs).
  const k = boot({ arch: 'x86_64', mem: '6G', cpus: 2 });
  const zones = k.buddy.zones;
  host.forEach((h, i) => k.buddy.zset(zones[i], 'managed_pages', h.managed));

  const compare = (what: string) => {
    const ours = zoneinfoZones(k);
    host.forEach((h, i) => {
      const o = ours[i];
      const where = `${what}: ${h.name}`;
      assert.deepEqual([o.min, o.low, o.high, o.promo], [h.min, h.low, h.high, h.promo], `${where} min/low/high/promo`);
      assert.deepEqual(o.protection, h.protection, `${where} protection`);
      if (h.populated) {
        for (let cpu = 0; cpu < 2; cpu++) {
          const c = k.buddy.pcpCounts(zones[i], cpu);
          const hp = h.pagesets[cpu];
          assert.deepEqual([c.batch, c.highMin, c.highMax], [hp.batch, hp.highMin, hp.highMax], `${where} cpu ${cpu} batch/high_min/high_max`);
        }
      }
    });
  };

  // As the brief has it: the host's min_free_kbytes, then the two setup functions.
  k.buddy.min_free_kbytes = 67584;
  k.buddy.setup_per_zone_wmarks();
  k.buddy.zone_pcp_update_all();
  k.buddy.setup_per_zone_lowmem_reserve();
  compare('min_free_kbytes 67584');
  assert.equal(readProc(k, 'sys/vm/min_free_kbytes'), fixture('host-6.18/sys_vm_min_free_kbytes'));
  assert.equal(readProc(k, 'sys/vm/lowmem_reserve_ratio'), fixture('host-6.18/sys_vm_lowmem_reserve_ratio'));

  // And from nothing but the managed counts, the whole boot-time computation arrives at 67584 itself.
  k.buddy.min_free_kbytes = 0;
  for (const z of zones) for (let w = 0; w < 4; w++) k.buddy.zset(z, '_watermark', 0, w);
  init_per_zone_wmark_min(k.mmInit);
  assert.equal(readProc(k, 'sys/vm/min_free_kbytes'), '67584\n');
  compare('init_per_zone_wmark_min');
  const e = expectedAtBoot(X86_64, zonesOf(k), [2]);
  checkAgainst(k, X86_64, e, 'host counts');
});

/* ------------------------------------------------------------------ */
/* (c) sysctls                                                        */
/* ------------------------------------------------------------------ */

test('sysctl min_free_kbytes: a write recomputes every watermark; bad values are -EINVAL and change nothing', () => {
  for (const [config, arch] of [[{ arch: 'x86_64', mem: '1G', cpus: 2 }, X86_64], [{ arch: 'i386', mem: '1G', cpus: 2 }, I386]] as const) {
    const k = boot(config);
    const zones = zonesOf(k);
    assert.equal(writeProc(k, 'sys/vm/min_free_kbytes', '16384\n'), 6);
    checkAgainst(k, arch, expectedAtBoot(arch, zones, cpusOfNode(k), { minFreeKbytes: 16384 }), 'min_free_kbytes 16384');
    assert.equal(k.buddy.user_min_free_kbytes, 16384);
    assert.equal(writeProc(k, 'sys/vm/min_free_kbytes', '0'), 1);
    checkAgainst(k, arch, expectedAtBoot(arch, zones, cpusOfNode(k), { minFreeKbytes: 0 }), 'min_free_kbytes 0');
    assert.equal(writeProc(k, 'sys/vm/min_free_kbytes', '0x2000 \n'), 8);
    const zi = readProc(k, 'zoneinfo');
    for (const bad of ['-1\n', 'lots\n', '2147483648', '\n', '12k']) {
      assert.equal(writeProc(k, 'sys/vm/min_free_kbytes', bad), -EINVAL, JSON.stringify(bad));
      assert.equal(readProc(k, 'sys/vm/min_free_kbytes'), '8192\n');
      assert.equal(readProc(k, 'zoneinfo'), zi);
    }
    checkAgainst(k, arch, expectedAtBoot(arch, zones, cpusOfNode(k), { minFreeKbytes: 8192 }), 'min_free_kbytes 8192');
  }
});

test('sysctl watermark_scale_factor: 1..3000 recomputes the low/high/promo spacing; outside is -EINVAL', () => {
  const k = boot({ arch: 'x86_64', mem: '6G', cpus: 2 });
  const zones = zonesOf(k);
  const mfk = k.buddy.min_free_kbytes;
  for (const [input, value] of [['200\n', 200], ['1', 1], ['3000', 3000], ['10\n', 10]] as const) {
    assert.equal(writeProc(k, 'sys/vm/watermark_scale_factor', input), input.length);
    assert.equal(readProc(k, 'sys/vm/watermark_scale_factor'), `${value}\n`);
    checkAgainst(k, X86_64, expectedAtBoot(X86_64, zones, [2], { minFreeKbytes: mfk, scaleFactor: value }), `scale factor ${value}`);
  }
  writeProc(k, 'sys/vm/watermark_scale_factor', '500');
  const zi = readProc(k, 'zoneinfo');
  for (const bad of ['0\n', '3001\n', '-10', 'ten', '']) {
    const ret = writeProc(k, 'sys/vm/watermark_scale_factor', bad);
    assert.equal(ret, bad === '' ? 0 : -EINVAL, JSON.stringify(bad));
    assert.equal(readProc(k, 'sys/vm/watermark_scale_factor'), '500\n');
    assert.equal(readProc(k, 'zoneinfo'), zi);
  }
  // A larger factor widens the gaps but leaves min alone.
  const v = zoneinfoZones(k).find((z) => z.name === 'Normal') as ZoneView;
  const e = expectedAtBoot(X86_64, zones, [2], { minFreeKbytes: mfk });
  const n = k.buddy.zones.findIndex((z) => z.idx === X86_64.NORMAL);
  assert.equal(v.min, e.marks[n].min);
  assert.ok(v.low - v.min > e.marks[n].low - e.marks[n].min);
});

test('sysctl lowmem_reserve_ratio: a write recomputes protection; as in the kernel, bad input is not refused', () => {
  const k = boot({ arch: 'x86_64', mem: '6G', cpus: 2 });
  const zones = zonesOf(k);
  const mfk = k.buddy.min_free_kbytes;
  const check = (ratios: number[], label: string) => {
    assert.equal(readProc(k, 'sys/vm/lowmem_reserve_ratio'), `${ratios.join('\t')}\n`);
    checkAgainst(k, X86_64, expectedAtBoot(X86_64, zones, [2], { minFreeKbytes: mfk, ratios }), label);
  };
  check([256, 256, 32, 0, 0], 'defaults');
  assert.equal(writeProc(k, 'sys/vm/lowmem_reserve_ratio', '128\t64\t16\t0\t0\n'), 14);
  check([128, 64, 16, 0, 0], 'halved');
  // lowmem_reserve_ratio_sysctl_handler() ignores proc_dointvec_minmax()'s error:
  // the numbers before the bad one stay, ratios below 1 become 0 (no reserve).
  assert.equal(writeProc(k, 'sys/vm/lowmem_reserve_ratio', '-5 300 oops'), 7);
  check([0, 300, 16, 0, 0], 'partly parsed');
  const dma = zoneinfoZones(k)[0];
  assert.deepEqual(dma.protection, [0, 0, 0, 0, 0]);
  assert.equal(writeProc(k, 'sys/vm/lowmem_reserve_ratio', 'nonsense'), 8);
  check([0, 300, 16, 0, 0], 'nothing parsed');
  // Unknown sysctls are not writable.
  assert.equal(writeProc(k, 'sys/vm/nr_hugepages', '1'), -13);
});

test('watermarks: pages_min * managed is u64 arithmetic (exact beyond 2^53)', () => {
  // One big lowmem zone and a large min_free_kbytes: the product is ~7.5e16 and
  // the quotient must come out as exactly pages_min.
  const k = boot({ arch: 'x86_64', mem: '6G', cpus: 2 });
  const managed = [0, 205323539, 0, 0, 0];
  k.buddy.zones.forEach((z, i) => k.buddy.zset(z, 'managed_pages', managed[i]));
  assert.equal(writeProc(k, 'sys/vm/min_free_kbytes', String(366570712 * 4)), 10);
  const dma32 = zoneinfoZones(k)[1];
  assert.equal(dma32.min, 366570712);
  const e = expectedAtBoot(X86_64, zonesOf(k), [2], { minFreeKbytes: 366570712 * 4 });
  assert.deepEqual({ min: dma32.min, low: dma32.low, high: dma32.high, promo: dma32.promo }, e.marks[1]);
});
