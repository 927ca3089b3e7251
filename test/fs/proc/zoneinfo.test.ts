import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeStatNames, zoneinfo, zoneStatNames } from '../../../src/fs/proc/zoneinfo.ts';
import type { VmstatConfig } from '../../../src/fs/proc/views.ts';
import { fixture, memoryView, parseZoneinfo, X86_64_CONFIG, zone } from './helpers.ts';

/**
 * This host's zoneinfo is Linux 6.18; the differences from 6.12's
 * zoneinfo_show_print()/vmstat_text[] are undone line by line (the
 * transformation documented in test/fixtures/host-6.18/README.md):
 *  - per-node stats: 6.18 dropped nr_writeback_temp (6.12 prints it after
 *    nr_writeback, always 0 here) and added pgpromote_candidate_nrl,
 *    pgdemote_proactive, nr_hugetlb, nr_balloon_pages, nr_kernel_file_pages;
 *  - zone stats: 6.18 added nr_free_pages_blocks and dropped nr_bounce
 *    (6.12 prints it after nr_mlock, always 0 on x86_64);
 *  - pagesets: 6.18 prints "count:    %i", "high:     %i", "batch:    %i"
 *    plus high_min/high_max lines; 6.12 prints "count: %i", "high:  %i",
 *    "batch: %i" only.
 */
function zoneinfo618to612(text: string): string {
  const dropped = /^ {6}(pgpromote_candidate_nrl|pgdemote_proactive|nr_hugetlb|nr_balloon_pages|nr_kernel_file_pages|nr_free_pages_blocks) +\d+$|^ {14}high_(min|max): +\d+$/;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (dropped.test(line)) continue;
    const pcp = /^ {14}(count|high|batch): +(\d+)$/.exec(line);
    if (pcp) {
      out.push(`              ${`${pcp[1]}:`.padEnd(6)} ${pcp[2]}`);
      continue;
    }
    out.push(line);
    if (/^ {6}nr_writeback \d+$/.test(line)) out.push('      nr_writeback_temp 0');
    if (/^ {6}nr_mlock +\d+$/.test(line)) out.push('      nr_bounce    0');
  }
  return out.join('\n');
}

test('zoneinfo: this host (6.18, 2 CPUs, NUMA) in 6.12 format, byte for byte', () => {
  const text618 = fixture('host-6.18/zoneinfo');
  const expected = zoneinfo618to612(text618);
  // The transformation really changed something, and left what 6.12 shares.
  assert.notEqual(expected, text618);
  assert.match(expected, /\n {14}count: 885\n {14}high:  5021\n {14}batch: 63\n {2}vm stats threshold: 24\n/);
  assert.equal(zoneinfo(parseZoneinfo(text618)), expected);
  // Round trip through the 6.12 text as well.
  assert.equal(zoneinfo(parseZoneinfo(expected)), expected);
});

test('zoneinfo: every 6.12 per-node, zone and NUMA stat name appears, in vmstat_text[] order', () => {
  const text = zoneinfo(parseZoneinfo(fixture('host-6.18/zoneinfo')));
  const names = [...text.matchAll(/^ {6}(\S+) +\d+$/gm)].map((m) => m[1]);
  const nodeNames = nodeStatNames(X86_64_CONFIG);
  const zoneNames = zoneStatNames(X86_64_CONFIG);
  const numa = ['numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other'];
  // 3 populated zones (DMA, DMA32, Normal); the node block once, before DMA.
  assert.deepEqual(names, [...nodeNames, ...zoneNames, ...numa, ...zoneNames, ...numa, ...zoneNames, ...numa]);
  assert.equal(nodeNames.length, 47); // 48 in vmstat_text[] minus nr_shadow_call_stack (arm64)
  assert.equal(zoneNames.length, 11);
});

/**
 * The jc dump is Linux 5.x: its format lacks boost/promo/cma and has other
 * stat names, but every line whose label both formats print must come out
 * identical and in the same order (padding of "%-12s", the protection list,
 * and the 5.x pagesets block, which is exactly 6.12's "count: %i" format).
 */
test('zoneinfo: jc fixture (5.x, x86_64) — the lines 5.x and 6.12 share are byte-identical', () => {
  const jc = fixture('real-dumps/jc-zoneinfo-partial');
  const jcDma = jc.slice(0, jc.indexOf('Node 0, zone    DMA32')).split('\n').filter(Boolean);
  const view = parseZoneinfo(jcDma.join('\n'));
  const ours = zoneinfo(view).split('\n').filter(Boolean);
  const label = (l: string): string => l.replace(/[\s\d(),]+$/, '');
  // Zone counters in 5.x, node counters (printed in the per-node block) since 5.11/5.12.
  const moved = new Set(['      nr_kernel_stack', '      nr_page_table_pages']);
  const jcLabels = new Set(jcDma.map(label).filter((l) => !moved.has(l)));
  const ourLabels = new Set(ours.map(label).filter((l) => !moved.has(l)));
  const common = ours.filter((l) => jcLabels.has(label(l)));
  assert.deepEqual(common, jcDma.filter((l) => ourLabels.has(label(l))));
  assert.ok(common.length >= 50, `only ${common.length} lines in common`);
  assert.ok(common.includes('              count: 0') && common.includes('              high:  0'));
});

const NO_NUMA: VmstatConfig = {
  ...X86_64_CONFIG,
  numa: false,
  smp: false,
  zsmalloc: false,
  unacceptedMemory: true,
  iommu: false,
  swap: false,
  numaBalancing: false,
};

test('zoneinfo: without NUMA/SMP, unpopulated zones stop at protection, THP counters in huge pages', () => {
  const view = memoryView(
    [
      {
        id: 0,
        zones: [
          zone(0, 'DMA', { protection: [0, 0, 0, 0] }),
          zone(0, 'Normal', {
            populated: true,
            freePages: 100,
            min: 1,
            low: 2,
            high: 3,
            promo: 4,
            spanned: 200,
            present: 200,
            managed: 190,
            protection: [0, 0, 1234, 1234],
            zoneStats: { nr_mlock: 5, nr_unaccepted: 6, nr_free_pages: 999 },
            numaStats: { numa_hit: 7 },
            pagesets: [{ cpu: 0, count: 10, high: 20, batch: 3, highMin: 1, highMax: 2 }],
            statThreshold: 8,
            startPfn: 4096,
          }),
          zone(0, 'HighMem', { populated: true, freePages: 1, protection: [0, 0, 0, 0], startPfn: 229376 }),
          zone(0, 'Movable', { protection: [0, 0, 0, 0] }),
        ],
        nodeStats: { nr_anon_transparent_hugepages: 3 * 1024, nr_file_pages: 42, nr_kernel_stack: 16 },
        unreclaimable: true,
      },
    ],
    { config: NO_NUMA, hpagePmdNr: 1024 },
  );
  const text = zoneinfo(view);
  const nodeBlock = nodeStatNames(NO_NUMA)
    .map((n) => `\n      ${n.padEnd(12)} ${({ nr_anon_transparent_hugepages: 3, nr_file_pages: 42, nr_kernel_stack: 16 } as Record<string, number>)[n] ?? 0}`)
    .join('');
  const wm = (free: number, min: number, low: number, high: number, promo: number, sp: number, pr: number, mg: number): string =>
    `\n  pages free     ${free}\n        boost    0\n        min      ${min}\n        low      ${low}\n        high     ${high}` +
    `\n        promo    ${promo}\n        spanned  ${sp}\n        present  ${pr}\n        managed  ${mg}\n        cma      0`;
  assert.equal(
    text,
    'Node 0, zone      DMA' + wm(0, 0, 0, 0, 0, 0, 0, 0) + '\n        protection: (0, 0, 0, 0)\n' +
      'Node 0, zone   Normal\n  per-node stats' + nodeBlock + wm(100, 1, 2, 3, 4, 200, 200, 190) +
      '\n        protection: (0, 0, 1234, 1234)' +
      '\n      nr_free_pages 100\n      nr_zone_inactive_anon 0\n      nr_zone_active_anon 0\n      nr_zone_inactive_file 0' +
      '\n      nr_zone_active_file 0\n      nr_zone_unevictable 0\n      nr_zone_write_pending 0\n      nr_mlock     5' +
      '\n      nr_bounce    0\n      nr_free_cma  0\n      nr_unaccepted 6' +
      '\n  pagesets\n    cpu: 0\n              count: 10\n              high:  20\n              batch: 3' +
      '\n  node_unreclaimable:  1\n  start_pfn:           4096\n' +
      'Node 0, zone  HighMem' + wm(1, 0, 0, 0, 0, 0, 0, 0) + '\n        protection: (0, 0, 0, 0)' +
      '\n      nr_free_pages 1\n      nr_zone_inactive_anon 0\n      nr_zone_active_anon 0\n      nr_zone_inactive_file 0' +
      '\n      nr_zone_active_file 0\n      nr_zone_unevictable 0\n      nr_zone_write_pending 0\n      nr_mlock     0' +
      '\n      nr_bounce    0\n      nr_free_cma  0\n      nr_unaccepted 0' +
      '\n  pagesets\n  node_unreclaimable:  1\n  start_pfn:           229376\n' +
      'Node 0, zone  Movable' + wm(0, 0, 0, 0, 0, 0, 0, 0) + '\n        protection: (0, 0, 0, 0)\n',
  );
  assert.ok(!nodeStatNames(NO_NUMA).includes('nr_swapcached'));
  assert.ok(!text.includes('numa_'));
});

test('zoneinfo: a memoryless node prints its zones without a per-node block', () => {
  const view = memoryView([
    { id: 0, zones: [zone(0, 'Normal', { populated: true })], nodeStats: {}, unreclaimable: false },
    { id: 1, zones: [zone(1, 'Normal'), zone(1, 'Movable')], nodeStats: {}, unreclaimable: false },
  ]);
  const text = zoneinfo(view);
  assert.equal(text.match(/per-node stats/g)?.length, 1);
  assert.match(text, /\nNode 1, zone   Normal\n  pages free     0\n[^]*\n        protection: \(0, 0, 0, 0, 0\)\nNode 1, zone  Movable\n/);
});
