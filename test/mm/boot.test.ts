/*
 * Booting: the log start_kernel() writes (arch/x86/kernel/e820.c,
 * mm/mm_init.c free_area_init / mem_init_print_info, mm/page_alloc.c
 * build_all_zonelists) agrees with what /proc then shows, and a machine is
 * a deterministic function of its configuration: same config, same log,
 * same /proc, same RAM; same allocation sequence, same addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc, procFileNames } from '../../src/fs/proc/procfs.ts';
import { usableRanges, type MachineConfigInput } from '../../src/machine/config.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { parseMeminfoLines, parseZoneinfo } from '../fs/proc/helpers.ts';
import { boot, pcpCountSum, rng, slabBlocks } from './helpers.ts';

const CONFIGS: { label: string; config: MachineConfigInput }[] = [
  { label: 'x86_64 128M', config: { arch: 'x86_64', mem: '128M', cpus: 2 } },
  { label: 'x86_64 6G', config: { arch: 'x86_64', mem: '6G', cpus: 4 } },
  { label: 'x86_64 2G, 2 nodes', config: { arch: 'x86_64', mem: '2G', cpus: 4, nodes: 2 } },
  { label: 'i386 1G', config: { arch: 'i386', mem: '1G', cpus: 2 } },
  { label: 'i386 64M', config: { arch: 'i386', mem: '64M', cpus: 1 } },
];

/** dmesg without the timestamps. */
function logLines(k: Kernel): string[] {
  return k.dmesg().split('\n').filter(Boolean).map((l) => l.replace(/^\[[ \d.]+\] /, ''));
}

/** The lines at the start of `lines` that match. */
function leading(lines: string[], match: (l: string) => boolean): string[] {
  const end = lines.findIndex((l) => !match(l));
  return end < 0 ? lines : lines.slice(0, end);
}

const hexRange = /\[mem 0x([0-9a-f]{16})-0x([0-9a-f]{16})\]/;

function range(line: string): [number, number] {
  const m = hexRange.exec(line);
  assert.ok(m, `no [mem ...] range in ${JSON.stringify(line)}`);
  return [parseInt(m[1], 16), parseInt(m[2], 16) + 1];
}

for (const { label, config } of CONFIGS) {
  test(`boot log: ${label} — e820, zone ranges, node ranges, zonelists and "Memory:" agree with /proc`, () => {
    const k = boot(config);
    const lines = logLines(k);
    const at = (prefix: string) => {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      assert.ok(i >= 0, `no line starting ${JSON.stringify(prefix)}`);
      return i;
    };
    assert.match(lines[0], /^Linux version 6\.12\.0-kmem /);

    // The firmware map, as configured, in order.
    const e820Start = at('BIOS-provided physical RAM map:');
    const e820 = leading(lines.slice(e820Start + 1), (l) => l.startsWith('BIOS-e820: '));
    assert.ok(e820.length >= 3);
    for (const l of e820) assert.match(l, /^BIOS-e820: \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\] (usable|reserved|ACPI data|ACPI NVS|unusable)$/);
    const usable = e820.filter((l) => l.endsWith(' usable')).map(range);
    assert.deepEqual(usable, usableRanges(k.config.e820));

    // Zone ranges: one line per zone below Movable; each populated zone's span lies in its line's range.
    const zr = at('Zone ranges:');
    const zoneLines = lines.slice(zr + 1, zr + 1 + k.mz.zs.ZONE_MOVABLE);
    assert.deepEqual(zoneLines.map((l) => l.trim().split(/\s+/)[0]), k.mz.zs.names.slice(0, k.mz.zs.ZONE_MOVABLE));
    assert.equal(lines[zr + 1 + k.mz.zs.ZONE_MOVABLE], 'Movable zone start for each node');
    const view = parseZoneinfo(readProc(k, 'zoneinfo'));
    for (const node of view.nodes) {
      for (const z of node.zones) {
        const idx = k.mz.zs.names.indexOf(z.name);
        if (idx >= k.mz.zs.ZONE_MOVABLE) continue;
        const line = zoneLines[idx];
        if (!z.populated) continue;
        assert.ok(!line.endsWith('empty'), `${z.name} is populated but its range says empty`);
        const [s, e] = range(line);
        assert.ok(z.startPfn * 4096 >= s && (z.startPfn + z.spanned) * 4096 <= e, `${z.name} span outside ${line}`);
      }
    }

    // Early memory node ranges: the usable RAM less page 0, by node; their sizes are the present pages.
    const enr = at('Early memory node ranges');
    const nodeRanges = leading(lines.slice(enr + 1), (l) => /^ {2}node +\d+: /.test(l));
    assert.ok(nodeRanges.length >= 2);
    const presentByNode = new Map<number, number>();
    for (const l of nodeRanges) {
      const nid = Number(/node +(\d+):/.exec(l)?.[1]);
      const [s, e] = range(l);
      assert.ok(usable.some(([us, ue]) => s >= us && e <= ue), `${l} is not inside usable RAM`);
      presentByNode.set(nid, (presentByNode.get(nid) ?? 0) + (e - s) / 4096);
    }
    for (const node of view.nodes) {
      const present = node.zones.reduce((n, z) => n + z.present, 0);
      assert.equal(present, presentByNode.get(node.id), `node ${node.id} present pages`);
      assert.ok(lines.some((l) => l.startsWith(`Initmem setup node ${node.id} [mem `)));
    }

    // Zonelists: one per node; "Total pages" is the present memory (managed == present before memblock_free_all).
    const totalPresent = view.nodes.flatMap((n) => n.zones).reduce((s, z) => s + z.present, 0);
    const totalManaged = view.nodes.flatMap((n) => n.zones).reduce((s, z) => s + z.managed, 0);
    assert.equal(lines[at('Built ')], `Built ${k.config.nodes.length} zonelists, mobility grouping on.  Total pages: ${totalPresent}`);

    // "Memory: free/physpages available (...)" against zoneinfo and meminfo.
    const mem = lines[at('Memory: ')];
    const m = /^Memory: (\d+)K\/(\d+)K available \((\d+)K kernel code, (\d+)K rwdata, (\d+)K rodata, 0K init, (\d+)K bss, (\d+)K reserved, 0K cma-reserved(?:, (\d+)K highmem)?\)$/.exec(mem);
    assert.ok(m, mem);
    assert.equal(Number(m[1]), totalManaged * 4, 'free at boot = managed');
    assert.equal(Number(m[2]), totalPresent * 4);
    assert.equal(Number(m[7]), (totalPresent - totalManaged) * 4);
    const meminfo = parseMeminfoLines(readProc(k, 'meminfo'));
    assert.equal(meminfo.get('MemTotal'), totalManaged * 4);
    // Then kmem_cache_init(): SLUB's first slabs, and the pages the pcp lists took from the buddy lists for them.
    const slabPages = [...slabBlocks(k).values()].reduce((n, order) => n + (1 << order), 0);
    assert.ok(slabPages > 0);
    assert.equal(meminfo.get('MemFree'), (totalManaged - slabPages - pcpCountSum(k)) * 4);
    if (k.config.arch === 'i386') {
      const highmem = view.nodes[0].zones.find((z) => z.name === 'HighMem')?.managed ?? 0;
      assert.equal(Number(m[8]), highmem * 4);
      assert.equal(meminfo.get('HighTotal'), highmem * 4);
    } else {
      assert.equal(m[8], undefined);
    }
    // The kernel image: its sections add up to what setup_arch reserved for it.
    const image = (Number(m[3]) + Number(m[4]) + Number(m[5]) + Number(m[6])) * 1024;
    assert.equal(image, k.img.bssEnd - k.img.text);
    // No report of any kind during boot.
    assert.ok(!lines.some((l) => /BUG|WARNING|cut here|Bad page/.test(l)), 'boot logged a report');
  });
}

test('boot log: i386 with HighMem announces its split, x86_64 has a Policy zone line', () => {
  const i = logLines(boot({ arch: 'i386', mem: '1G', cpus: 1 }));
  assert.ok(i.includes('135MB HIGHMEM available.'));
  assert.ok(i.includes('887MB LOWMEM available.'));
  assert.ok(!i.some((l) => l.startsWith('Policy zone')));
  const x = logLines(boot({ arch: 'x86_64', mem: '6G', cpus: 1 }));
  assert.ok(x.includes('Policy zone: Normal'));
  assert.ok(x.includes('  Normal   [mem 0x0000000100000000-0x00000001bfffffff]'));
  const s = logLines(boot({ arch: 'x86_64', mem: '128M', cpus: 1 }));
  assert.ok(s.includes('Policy zone: DMA32'));
  assert.ok(s.includes('  Normal   empty'));
  assert.ok(s.includes('  DMA      [mem 0x0000000000001000-0x0000000000ffffff]'));
});

/* ------------------------------------------------------------------ */
/* Determinism                                                        */
/* ------------------------------------------------------------------ */

function procFiles(k: Kernel): Record<string, string> {
  return Object.fromEntries(procFileNames().map((n) => [n, readProc(k, n)]));
}

function ramEqual(a: Kernel, b: Kernel): boolean {
  for (const [s, e] of usableRanges(a.config.e820)) {
    const start = Math.ceil(s / 4096) * 4096;
    const end = Math.floor(e / 4096) * 4096;
    for (let p = start; p < end; p += 1 << 24) {
      const len = Math.min(1 << 24, end - p);
      if (Buffer.compare(a.mem.readBytes(p, len), b.mem.readBytes(p, len)) !== 0) return false;
    }
  }
  return true;
}

/** A scripted pseudo-random workload; returns the pfn of every allocation (-1 for a failure). */
function workload(k: Kernel, seed: number, steps: number): number[] {
  const r = rng(seed);
  const flags = [k.GFP_KERNEL, k.GFP_ATOMIC, k.GFP_KERNEL | k.__GFP_COMP, k.GFP_HIGHUSER_MOVABLE, k.GFP_DMA | k.GFP_KERNEL];
  const live: [number, number][] = [];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    k.set_cpu(Math.floor(r() * k.config.cpus));
    if (live.length === 0 || r() < 0.6) {
      const order = Math.floor(r() * r() * 11);
      const page = k.alloc_pages(flags[Math.floor(r() * flags.length)] | k.__GFP_NOWARN | k.__GFP_NORETRY, order);
      out.push(page ? k.page_to_pfn(page) : -1);
      if (page) {
        live.push([page, order]);
        if (!k.PageHighMem(page)) k.mem.fill(k.page_to_pfn(page) * 4096, 64, i & 0xff);
      }
    } else {
      const [page, order] = live.splice(Math.floor(r() * live.length), 1)[0];
      if (order === 0 && r() < 0.5) k.free_cold_page(page);
      else k.__free_pages(page, order);
    }
  }
  return out;
}

for (const { label, config } of CONFIGS.filter((c) => c.label !== 'x86_64 6G')) {
  test(`determinism: ${label} — same config, same log, /proc and RAM; same workload, same addresses`, () => {
    const a = boot(config);
    const b = boot(config);
    assert.equal(a.dmesg(), b.dmesg());
    assert.deepEqual(procFiles(a), procFiles(b));
    assert.ok(ramEqual(a, b), 'RAM differs after boot');

    const wa = workload(a, 12345, 600);
    const wb = workload(b, 12345, 600);
    assert.deepEqual(wa, wb);
    assert.ok(wa.filter((p) => p >= 0).length > 100);
    assert.equal(a.dmesg(), b.dmesg());
    assert.deepEqual(procFiles(a), procFiles(b));
    assert.ok(ramEqual(a, b), 'RAM differs after the workload');
    // A different workload gives different addresses: the comparison above is not vacuous.
    const c = boot(config);
    assert.notDeepEqual(workload(c, 54321, 600), wa);
  });
}
