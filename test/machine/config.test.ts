import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  defaultE820,
  e820PrintLines,
  nodeRanges,
  parseConfigJson,
  parseSize,
  physAddrLimit,
  resolveConfig,
  sanitizeE820,
  usableRanges,
  validateConfig,
  type E820Entry,
  type MachineConfig,
} from '../../src/machine/config.ts';

const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

function throwsConfig(fn: () => unknown, field: string, text: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.ok(e.message.startsWith(`${field}: `), e.message);
    if (typeof text === 'string') assert.equal(e.message, text);
    else assert.match(e.message, text);
    return true;
  });
}

function hexRanges(r: [number, number][][]): string[][] {
  return r.map((n) => n.map(([s, e]) => `${s.toString(16)}-${e.toString(16)}`));
}

test('parseSize reads suffixes, hex and numbers', () => {
  assert.equal(parseSize('2G'), 2 * G);
  assert.equal(parseSize('512M'), 512 * M);
  assert.equal(parseSize('64k'), 64 * K);
  assert.equal(parseSize('64K'), 64 * K);
  assert.equal(parseSize('1048576'), 1048576);
  assert.equal(parseSize('0x1000'), 4096);
  assert.equal(parseSize('0X9FC00'), 0x9fc00);
  assert.equal(parseSize('4KiB'), 4096);
  assert.equal(parseSize('1GB'), G);
  assert.equal(parseSize(' 1t '), 1024 * G);
  assert.equal(parseSize('0x10M'), 16 * M);
  assert.equal(parseSize(12345), 12345);
  assert.equal(parseSize(0), 0);
});

test('parseSize errors name the input and the field', () => {
  throwsConfig(() => parseSize('12X'), 'size', /"12X" is not a size/);
  throwsConfig(() => parseSize(''), 'size', /"" is not a size/);
  throwsConfig(() => parseSize('-1'), 'size', /"-1"/);
  throwsConfig(() => parseSize('1.5G'), 'size', /"1.5G"/);
  throwsConfig(() => parseSize('0x'), 'size', /"0x"/);
  throwsConfig(() => parseSize('B'), 'size', /"B"/);
  throwsConfig(() => parseSize('10B'), 'size', /"10B"/);
  throwsConfig(() => parseSize(1.5, 'mem'), 'mem', /1.5 is not a non-negative integer/);
  throwsConfig(() => parseSize(-4, 'mem'), 'mem', /-4/);
  throwsConfig(() => parseSize('99999999999P'), 'size', /too large/);
});

test('defaults: x86_64, 2 GiB, 2 CPUs, one node, QEMU map, seed 1', () => {
  const c = resolveConfig();
  assert.equal(c.arch, 'x86_64');
  assert.equal(c.memBytes, 2 * G);
  assert.equal(c.cpus, 2);
  assert.deepEqual(c.nodes, [{ memBytes: 2 * G, cpus: [0, 1] }]);
  assert.deepEqual(c.e820, defaultE820('x86_64', 2 * G));
  assert.equal(c.seed, 1);
  assert.equal(c.cmdline, '');
  assert.equal(c.pae, undefined);
  assert.deepEqual(c.mmio.map((w) => w.name), ['vga-lowmem', 'vga.vram', 'ioapic', 'hpet', 'lapic', 'kmem-dev', 'kmem-dev.bar']);
  assert.equal(resolveConfig({ arch: 'i386' }).pae, false);
});

const LOW_MAP = (top: number): E820Entry[] => [
  { start: 0, end: 0x9fc00, type: 'usable' },
  { start: 0x9fc00, end: 0xa0000, type: 'reserved' },
  { start: 0xf0000, end: 0x100000, type: 'reserved' },
  { start: 0x100000, end: top - 0x20000, type: 'usable' },
  { start: top - 0x20000, end: top, type: 'reserved' },
  { start: 0xfffc0000, end: 0x100000000, type: 'reserved' },
];

test('default e820: 1 GiB lies below 4 GiB', () => {
  assert.deepEqual(defaultE820('x86_64', G), LOW_MAP(0x40000000));
  assert.deepEqual(defaultE820('i386', G), LOW_MAP(0x40000000));
});

test('default e820: 4 GiB puts 3 GiB below the PCI hole and 1 GiB above 4 GiB', () => {
  const want = [...LOW_MAP(0xc0000000), { start: 0x100000000, end: 0x140000000, type: 'usable' }];
  assert.deepEqual(defaultE820('x86_64', 4 * G), want);
  assert.deepEqual(defaultE820('i386', 4 * G), want);
  // A non-PAE i386 kernel is allowed 4 GiB; it cannot reach the part above 4 GiB.
  const c = resolveConfig({ arch: 'i386', mem: '4G' });
  assert.deepEqual(c.e820, want);
  assert.equal(physAddrLimit('i386', false), 4 * G);
  assert.equal(physAddrLimit('i386', true), 64 * G);
  assert.equal(physAddrLimit('x86_64'), 2 ** 46);
});

test('default e820: 16 GiB', () => {
  assert.deepEqual(defaultE820('x86_64', 16 * G), [
    ...LOW_MAP(0xc0000000),
    { start: 0x100000000, end: 0x440000000, type: 'usable' },
  ]);
});

test('default e820: QEMU splits only at 3.5 GiB and more', () => {
  assert.deepEqual(defaultE820('x86_64', 3 * G + 256 * M), LOW_MAP(0xd0000000));
  assert.deepEqual(defaultE820('x86_64', 3 * G + 512 * M), [
    ...LOW_MAP(0xc0000000),
    { start: 0x100000000, end: 0x120000000, type: 'usable' },
  ]);
});

test('e820 print text is the kernel boot text', () => {
  assert.deepEqual(e820PrintLines(defaultE820('x86_64', 4 * G)), [
    'BIOS-provided physical RAM map:',
    'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
    'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
    'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
    'BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable',
    'BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved',
    'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
    'BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable',
  ]);
});

test('e820 print sorts and merges touching entries of one type, names every type', () => {
  const map: E820Entry[] = [
    { start: 0x200000, end: 0x300000, type: 'usable' },
    { start: 0x100000, end: 0x200000, type: 'usable' },
    { start: 0x300000, end: 0x301000, type: 'ACPI data' },
    { start: 0x301000, end: 0x302000, type: 'ACPI NVS' },
    { start: 0x302000, end: 0x303000, type: 'unusable' },
  ];
  assert.deepEqual(e820PrintLines(map), [
    'BIOS-provided physical RAM map:',
    'BIOS-e820: [mem 0x0000000000100000-0x00000000002fffff] usable',
    'BIOS-e820: [mem 0x0000000000300000-0x0000000000300fff] ACPI data',
    'BIOS-e820: [mem 0x0000000000301000-0x0000000000301fff] ACPI NVS',
    'BIOS-e820: [mem 0x0000000000302000-0x0000000000302fff] unusable',
  ]);
  assert.equal(sanitizeE820(map).length, 4);
  assert.deepEqual(usableRanges(map), [[0x100000, 0x300000]]);
});

test('nodes: 2 nodes over 4 GiB, QEMU SRAT layout', () => {
  const c = resolveConfig({ mem: '4G', cpus: 4, nodes: 2 });
  assert.deepEqual(c.nodes, [
    { memBytes: 2 * G, cpus: [0, 1] },
    { memBytes: 2 * G, cpus: [2, 3] },
  ]);
  assert.deepEqual(hexRanges(nodeRanges(c)), [['0-80000000'], ['80000000-c0000000', '100000000-140000000']]);
});

test('nodes: 2 nodes over 1 GiB, the second takes the rest', () => {
  const c = resolveConfig({ mem: '1G', cpus: 3, nodes: [{ mem: '256M', cpus: [0] }, { mem: '768M', cpus: [1, 2] }] });
  assert.deepEqual(hexRanges(nodeRanges(c)), [['0-10000000'], ['10000000-40000000']]);
});

test('nodes: 4 nodes over 16 GiB skip the PCI hole', () => {
  const c = resolveConfig({ mem: '16G', cpus: 8, nodes: 4 });
  assert.deepEqual(c.nodes.map((n) => n.cpus), [[0, 1], [2, 3], [4, 5], [6, 7]]);
  assert.deepEqual(hexRanges(nodeRanges(c)), [
    ['0-c0000000', '100000000-140000000'],
    ['140000000-240000000'],
    ['240000000-340000000'],
    ['340000000-440000000'],
  ]);
});

test('nodes: derived split aligns to 8 MiB with the remainder on the last node; fewer CPUs than nodes', () => {
  const c = resolveConfig({ mem: '1000M', cpus: 3, nodes: 4 });
  assert.deepEqual(c.nodes.map((n) => n.memBytes / M), [248, 248, 248, 256]);
  assert.deepEqual(c.nodes.map((n) => n.cpus), [[], [0], [1], [2]]);
  const d = resolveConfig({ mem: '2G', cpus: 2, nodes: [{}, {}] });
  assert.deepEqual(d.nodes, [{ memBytes: G, cpus: [0] }, { memBytes: G, cpus: [1] }]);
});

test('the JSON shape from the header comment parses', () => {
  const c = parseConfigJson(`{
    "arch": "x86_64", "mem": "4G", "cpus": 4,
    "nodes": [{ "mem": "2G", "cpus": [0, 1] }, { "mem": "2G", "cpus": [2, 3] }],
    "e820": [
      { "start": 0,          "end": "0x9fc00",     "type": "usable" },
      { "start": "0x9fc00",  "end": "0xa0000",     "type": "reserved" },
      { "start": "0xf0000",  "end": "0x100000",    "type": "reserved" },
      { "start": "0x100000", "end": "0xc0000000",  "type": "usable" },
      { "start": "4G",       "size": "1G",         "type": "usable" }
    ],
    "mmio": [{ "name": "ioapic", "start": "0xfec00000", "size": "4K" }],
    "pae": false, "seed": 1, "cmdline": "slub_debug=FZ"
  }`);
  assert.equal(c.pae, undefined);
  assert.equal(c.memBytes, 4 * G);
  assert.deepEqual(c.e820[4], { start: 4 * G, end: 5 * G, type: 'usable' });
  assert.deepEqual(c.mmio, [{ name: 'ioapic', start: 0xfec00000, size: 4096 }]);
  assert.equal(c.cmdline, 'slub_debug=FZ');
  assert.deepEqual(hexRanges(nodeRanges(c)), [['0-80000000'], ['80000000-c0000000', '100000000-140000000']]);
});

test('a custom e820 without mem decides the amount of RAM; default MMIO over RAM is dropped', () => {
  const c = resolveConfig({
    e820: [
      { start: 0, end: '0x9fc00', type: 'usable' },
      { start: '0x100000', end: '0xfe000000', type: 'usable' },
    ],
  });
  assert.equal(c.memBytes, 0xfe000000);
  assert.deepEqual(c.mmio.map((w) => w.name), ['vga-lowmem', 'ioapic', 'hpet', 'lapic', 'kmem-dev', 'kmem-dev.bar']);
});

test('validateConfig accepts a hand-built config', () => {
  const c: MachineConfig = {
    arch: 'x86_64', memBytes: G, cpus: 1, nodes: [{ memBytes: G, cpus: [0] }],
    e820: defaultE820('x86_64', G), mmio: [], seed: 7, cmdline: 'quiet',
  };
  validateConfig(c);
  throwsConfig(() => validateConfig({ ...c, memBytes: G + 4096 }), 'nodes', 'nodes: node memory sums to 1 GiB, but mem is 1048580 KiB');
});

/* ---------------------------------------------------------------- errors */

test('error: config shape and unknown fields', () => {
  throwsConfig(() => resolveConfig([]), 'config', 'config: expected a JSON object');
  throwsConfig(() => parseConfigJson('{'), 'config', /^config: invalid JSON/);
  throwsConfig(() => resolveConfig({ memory: '1G' }), 'memory', /^memory: unknown field \(known: arch, mem,/);
  throwsConfig(() => resolveConfig({ nodes: [{ memory: '1G' }] }), 'nodes[0].memory', /unknown field \(known: mem, memBytes, cpus\)/);
  throwsConfig(() => resolveConfig({ e820: [{ start: 0, length: 5, type: 'usable' }] }), 'e820[0].length', /unknown field/);
  throwsConfig(() => resolveConfig({ mmio: [{ name: 'x', base: 0, size: 1 }] }), 'mmio[0].base', /unknown field/);
  throwsConfig(() => resolveConfig({ mem: '1G', memBytes: G }), 'mem', 'mem: give mem or memBytes, not both');
});

test('error: arch, pae, seed, cmdline', () => {
  throwsConfig(() => resolveConfig({ arch: 'arm64' }), 'arch', 'arch: "arm64" is not an architecture (x86_64 or i386)');
  throwsConfig(() => resolveConfig({ pae: true }), 'pae', 'pae: only for i386 (x86_64 always uses 4-level paging)');
  throwsConfig(() => resolveConfig({ arch: 'i386', pae: 'yes' }), 'pae', /expected true or false/);
  throwsConfig(() => resolveConfig({ seed: -1 }), 'seed', 'seed: -1 is out of range [0, 4294967295]');
  throwsConfig(() => resolveConfig({ cmdline: 3 }), 'cmdline', 'cmdline: expected a string, got 3');
});

test('error: memory size limits', () => {
  throwsConfig(() => resolveConfig({ mem: 1 * G + 100 }), 'mem', 'mem: 1073741924 bytes is not a multiple of the page size (4096)');
  throwsConfig(() => resolveConfig({ mem: '16M' }), 'mem', 'mem: 16 MiB is less than the minimum 32 MiB');
  throwsConfig(() => resolveConfig({ mem: '2T' }), 'mem', 'mem: 2 TiB is more than kmem simulates on x86_64 (1 TiB)');
  throwsConfig(() => resolveConfig({ arch: 'i386', mem: '5G' }), 'mem',
    'mem: 5 GiB is more than a non-PAE i386 kernel can use (4 GiB, HIGHMEM4G); set pae');
  assert.equal(resolveConfig({ arch: 'i386', mem: '5G', pae: true }).memBytes, 5 * G);
  throwsConfig(() => resolveConfig({ arch: 'i386', mem: '65G', pae: true }), 'mem',
    'mem: 65 GiB is more than an i386 PAE kernel can use (64 GiB, HIGHMEM64G)');
  throwsConfig(() => resolveConfig({ mem: 'lots' }), 'mem', /"lots" is not a size/);
});

test('error: CPU count', () => {
  throwsConfig(() => resolveConfig({ cpus: 0 }), 'cpus', 'cpus: 0 is out of range [1, 512]');
  throwsConfig(() => resolveConfig({ cpus: 513 }), 'cpus', 'cpus: 513 is out of range [1, 512]');
  throwsConfig(() => resolveConfig({ arch: 'i386', cpus: 65 }), 'cpus', 'cpus: 65 is out of range [1, 64]');
  throwsConfig(() => resolveConfig({ cpus: 1.5 }), 'cpus', 'cpus: expected an integer, got 1.5');
  assert.equal(resolveConfig({ cpus: 512 }).cpus, 512);
});

test('error: e820 entries', () => {
  const e = LOW_MAP(0x40000000).map((x) => ({ ...x }) as { start: number; end: number; type: string });
  throwsConfig(() => resolveConfig({ mem: '1G', e820: [e[0], { start: 0x9f000, end: 0xa0000, type: 'reserved' }, ...e.slice(2)] }),
    'e820[1]', 'e820[1]: overlaps e820[0] ([mem 0x000000000009f000-0x000000000009fbff])');
  throwsConfig(() => resolveConfig({ mem: '1G', e820: [...e.slice(0, 2), { start: 0x9fe00, end: 0x200000, type: 'ACPI NVS' }] }),
    'e820[2]', 'e820[2]: overlaps e820[1] ([mem 0x000000000009fe00-0x000000000009ffff])');
  throwsConfig(() => resolveConfig({ e820: [{ start: 0, end: '1G', type: 'ram' }] }), 'e820[0].type',
    'e820[0].type: "ram" is not an e820 type (usable, reserved, ACPI data, ACPI NVS, unusable)');
  throwsConfig(() => resolveConfig({ e820: [e[0], { start: '2M', end: '1M', type: 'usable' }] }), 'e820[1]',
    'e820[1]: empty or inverted range (start 0x200000, end 0x100000)');
  throwsConfig(() => resolveConfig({ e820: [{ start: 0, type: 'usable' }] }), 'e820[0].end', 'e820[0].end: missing (give end or size)');
  throwsConfig(() => resolveConfig({ e820: [{ start: 0, end: 4096, size: 4096, type: 'usable' }] }), 'e820[0]', 'e820[0]: give end or size, not both');
  throwsConfig(() => resolveConfig({ e820: [{ start: 0, end: 'x', type: 'usable' }] }), 'e820[0].end', /"x" is not a size/);
  throwsConfig(() => resolveConfig({ mem: '1G', e820: [{ start: 0, end: '1M', type: 'reserved' }] }), 'e820', 'e820: no usable RAM');
  throwsConfig(() => resolveConfig({ e820: [] }), 'e820', 'e820: no usable RAM');
  throwsConfig(() => resolveConfig({ mem: '64M', e820: [{ start: 0, end: '128M', type: 'usable' }] }), 'e820',
    'e820: usable RAM totals 128 MiB, more than mem (64 MiB)');
  throwsConfig(() => resolveConfig({ mem: '64M', e820: [{ start: 2 ** 52, size: '64M', type: 'usable' }] }), 'e820[0].end',
    /extends beyond 2\^52/);
});

test('error: MMIO windows', () => {
  throwsConfig(() => resolveConfig({ mmio: [{ name: 'a', start: '0xfe000000', size: '1M' }, { name: 'b', start: '0xfe080000', size: '1M' }] }),
    'mmio[1]', 'mmio[1]: b overlaps mmio[0] a ([mem 0x00000000fe080000-0x00000000fe0fffff])');
  throwsConfig(() => resolveConfig({ mem: '1G', mmio: [{ name: 'fb', start: '0x3f000000', size: '32M' }] }),
    'mmio[0]', 'mmio[0]: fb overlaps usable RAM e820[3] ([mem 0x000000003f000000-0x000000003ffdffff])');
  throwsConfig(() => resolveConfig({ mmio: [{ name: 'z', start: '0xfe000000', size: 0 }] }), 'mmio[0].size', 'mmio[0].size: must be positive, got 0');
  throwsConfig(() => resolveConfig({ mmio: [{ name: '', start: 0, size: 1 }] }), 'mmio[0].name', 'mmio[0].name: expected a non-empty string');
  throwsConfig(() => resolveConfig({ mmio: [{ name: 'a', start: '0xfe000000', size: 1 }, { name: 'a', start: '0xfe100000', size: 1 }] }),
    'mmio[1].name', 'mmio[1].name: "a" is also the name of mmio[0]');
  throwsConfig(() => resolveConfig({ arch: 'i386', mmio: [{ name: 'bar', start: '8G', size: '1M' }] }), 'mmio[0]',
    'mmio[0]: bar [mem 0x0000000200000000-0x00000002000fffff] is beyond what the kernel can address (4 GiB)');
  // Reserved (non-RAM) ranges may hold devices.
  resolveConfig({ mmio: [{ name: 'rom', start: '0xfffc0000', size: '256K' }] });
});

test('error: NUMA nodes', () => {
  throwsConfig(() => resolveConfig({ mem: '2G', nodes: [{ mem: '2G', cpus: [0, 1] }, { mem: 0, cpus: [] }] }), 'nodes[1].mem',
    'nodes[1].mem: node 1 has no memory');
  throwsConfig(() => resolveConfig({ mem: '4G', cpus: 2, nodes: [{ mem: '1G', cpus: [0] }, { mem: '2G', cpus: [1] }] }), 'nodes',
    'nodes: node memory sums to 3 GiB, but mem is 4 GiB');
  throwsConfig(() => resolveConfig({ mem: '2G', cpus: 4, nodes: [{ mem: '1G', cpus: [0, 1] }, { mem: '1G', cpus: [2, 4] }] }), 'nodes[1].cpus[1]',
    'nodes[1].cpus[1]: CPU 4 out of range (the machine has CPUs 0-3)');
  throwsConfig(() => resolveConfig({ mem: '2G', cpus: 4, nodes: [{ mem: '1G', cpus: [0, 1] }, { mem: '1G', cpus: [2, -1] }] }), 'nodes[1].cpus[1]',
    /CPU -1 out of range/);
  throwsConfig(() => resolveConfig({ mem: '2G', cpus: 4, nodes: [{ mem: '1G', cpus: [0, 1] }, { mem: '1G', cpus: [2, 1, 3] }] }), 'nodes[1].cpus[1]',
    'nodes[1].cpus[1]: CPU 1 is already in node 0');
  throwsConfig(() => resolveConfig({ mem: '2G', cpus: 4, nodes: [{ mem: '1G', cpus: [0, 1] }, { mem: '1G', cpus: [2] }] }), 'nodes',
    'nodes: CPU 3 is in no node');
  throwsConfig(() => resolveConfig({ mem: '2G', cpus: 2, nodes: [{ mem: '1G', cpus: [0] }, { mem: '1G' }] }), 'nodes',
    'nodes: CPU 1 is in no node');
  throwsConfig(() => resolveConfig({ nodes: [] }), 'nodes', 'nodes: at least one node');
  throwsConfig(() => resolveConfig({ nodes: 65 }), 'nodes', 'nodes: 65 is out of range [1, 64]');
  throwsConfig(() => resolveConfig({ nodes: [{ mem: '1G' }, {}] }), 'nodes[1].mem', 'nodes[1].mem: missing (give mem for every node or for none)');
  throwsConfig(() => resolveConfig({ nodes: [{ cpus: 'all' }] }), 'nodes[0].cpus', 'nodes[0].cpus: expected an array of CPU ids');
  throwsConfig(() => resolveConfig({ mem: '2G', nodes: [{ mem: G + 100 }, { mem: G - 100 }] }), 'nodes[0].mem',
    'nodes[0].mem: 1073741924 bytes is not a multiple of the page size (4096)');
  throwsConfig(() => resolveConfig({ arch: 'i386', mem: '2G', nodes: 2 }), 'nodes',
    'nodes: NUMA on i386 needs pae (CONFIG_NUMA depends on HIGHMEM64G)');
  assert.equal(resolveConfig({ arch: 'i386', mem: '2G', nodes: 2, pae: true }).nodes.length, 2);
  throwsConfig(() => resolveConfig({ arch: 'i386', pae: true, cpus: 16, mem: '2G', nodes: 9 }), 'nodes', 'nodes: 9 is out of range [1, 8]');
  throwsConfig(() => validateConfig({ ...resolveConfig({ arch: 'i386', pae: true }), nodes: Array.from({ length: 9 }, () => ({ memBytes: 0, cpus: [] })) }),
    'nodes', 'nodes: 9 nodes, more than MAX_NUMNODES (8)');
});

test('error: a node whose share lies beyond the usable RAM', () => {
  throwsConfig(() => resolveConfig({
    mem: '1G',
    e820: [{ start: '1M', end: '512M', type: 'usable' }],
    nodes: [{ mem: '512M', cpus: [0, 1] }, { mem: '512M', cpus: [] }],
  }), 'nodes[1]', "nodes[1]: no usable RAM: the e820 map's RAM runs out before node 1's share");
});

test('sheaves: absent (6.12), opt-in (6.18) or all (7.0); anything else is an error', () => {
  assert.equal(resolveConfig({}).sheaves, undefined);
  assert.equal(resolveConfig({ sheaves: 'opt-in' }).sheaves, 'opt-in');
  assert.equal(resolveConfig({ sheaves: 'all' }).sheaves, 'all');
  throwsConfig(() => resolveConfig({ sheaves: 'some' }), 'sheaves', 'sheaves: expected one of opt-in, all, got "some"');
});
