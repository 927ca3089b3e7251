/*
 * The machine description: architecture, RAM, CPUs, NUMA nodes, the firmware
 * memory map (e820) and device MMIO windows, and its validation.
 *
 * Nothing here runs "in" the machine: this is what the firmware and the
 * hardware tell the kernel at boot (boot_params.e820_table, the ACPI SRAT,
 * the MADT), checked once so the kernel model can trust it.
 *
 * The default firmware map is what QEMU's "pc" machine (i440fx) with SeaBIOS
 * reports, as a 6.12 kernel prints it ("BIOS-provided physical RAM map:"):
 *
 *   0x00000000 +--------------------------+
 *              | usable   (640K - 1K)     |
 *   0x0009fc00 | reserved (EBDA, 1K)      |
 *   0x000a0000 | (no entry: VGA window,   |  mmio "vga-lowmem" 0xa0000-0xbffff
 *              |  option ROMs)            |
 *   0x000f0000 | reserved (BIOS, 64K)     |
 *   0x00100000 +--------------------------+
 *              | usable                   |
 *   lowTop-128K| reserved (SeaBIOS tables)|
 *   lowTop     +--------------------------+
 *              | PCI hole (no entry)      |  mmio: vga.vram, IOAPIC, HPET, LAPIC, kmem-dev
 *   0xfffc0000 | reserved (BIOS ROM 256K) |
 *   4 GiB      +--------------------------+
 *              | usable (RAM above 4G)    |  only if RAM did not fit below
 *   4G + high  +--------------------------+
 *
 * QEMU's split (hw/i386/pc_piix.c, gigabyte_align): RAM of 3.5 GiB (0xe0000000)
 * or more puts 3 GiB below 4 GiB and the rest from 4 GiB up; smaller RAM lies
 * entirely below 4 GiB (lowTop = RAM size). So a 4 GiB machine has
 * [1M, 0xbffe0000) usable and [4G, 5G) usable. The firmware does not know what
 * kernel it boots: a non-PAE i386 kernel ignores RAM above 4 GiB ("Warning:
 * only 4GB will be used", arch/x86/mm/init_32.c), a PAE one RAM above 64 GiB;
 * physAddrLimit() gives that reach.
 *
 * NUMA nodes. Each node has an amount of RAM and a list of CPUs. Without
 * `nodes`, one node holds everything; "nodes": N derives N nodes the way
 * QEMU's default "-numa node" does: RAM split evenly in 8 MiB multiples with
 * the remainder on the last node (numa_default_auto_assign_ram), and CPUs in
 * contiguous blocks (node 0 gets CPUs 0..k-1), as on a machine with one
 * socket per node whose CPUs are numbered socket by socket.
 *
 * Where a node's RAM lies is decided as QEMU builds the SRAT
 * (hw/i386/acpi-build.c build_srat): nodes take consecutive stretches of the
 * RAM address space, node 0 from the bottom, skipping only the PCI hole below
 * 4 GiB. The RAM address space is the hull of the usable e820 ranges, each
 * extended over the reservations right above it (firmware takes its tables
 * from the top of RAM), cut where a gap runs from below 4 GiB to 4 GiB or
 * above; holes inside (640K-1M) count towards the node that spans them, and
 * the last node takes everything left. 16 GiB, 4 nodes of 4 GiB:
 *
 *   node 0: [0, 3G) + [4G, 5G)   node 1: [5G, 9G)
 *   node 2: [9G, 13G)            node 3: [13G, 17G)
 *
 * nodeRanges() returns these spans (what numa_meminfo holds); memblock gives
 * each usable range the node whose span contains it.
 *
 * The JSON shape for `--config FILE` (sizes as strings with K/M/G/T suffixes,
 * hex strings, or numbers; e820 ranges with an exclusive `end` or a `size`):
 *
 *   {
 *     "arch": "x86_64", "mem": "4G", "cpus": 4,
 *     "nodes": [{ "mem": "2G", "cpus": [0, 1] }, { "mem": "2G", "cpus": [2, 3] }],
 *     "e820": [
 *       { "start": 0,          "end": "0x9fc00",     "type": "usable" },
 *       { "start": "0x9fc00",  "end": "0xa0000",     "type": "reserved" },
 *       { "start": "0xf0000",  "end": "0x100000",    "type": "reserved" },
 *       { "start": "0x100000", "end": "0xc0000000",  "type": "usable" },
 *       { "start": "4G",       "size": "1G",         "type": "usable" }
 *     ],
 *     "mmio": [{ "name": "ioapic", "start": "0xfec00000", "size": "4K" }],
 *     "pae": false, "seed": 1, "cmdline": "slub_debug=FZ", "slab": "slub"
 *   }
 *
 * Every key is optional; "nodes" may also be a count. Defaults: x86_64, 2 GiB,
 * 2 CPUs, one node, the QEMU map above, the QEMU pc MMIO windows, seed 1,
 * empty command line, SLUB ("slab": "slub", "slab", "slob" or "slqb": the slab
 * allocator, a build-time choice in Linux), no percpu sheaves ("sheaves":
 * "opt-in" for 6.18's, "all" for 7.0's). With a custom e820 and no "mem", mem is the size of the
 * RAM address space described above. Unknown keys are errors.
 *
 * Every error is a ConfigError whose message starts with the field it is
 * about: `e820[2]: overlaps e820[1] ([mem 0x...-0x...])`.
 */
import { PAGE_SIZE, type Arch } from '../arch/x86/layout.ts';

export type E820Type = 'usable' | 'reserved' | 'ACPI data' | 'ACPI NVS' | 'unusable';

/** One firmware memory map entry, [start, end). */
export interface E820Entry {
  start: number;
  end: number;
  type: E820Type;
}

export interface MmioWindow {
  name: string;
  start: number;
  size: number;
}

export interface NodeConfig {
  memBytes: number;
  cpus: number[];
}

export interface MachineConfig {
  arch: Arch;
  /** Total RAM. */
  memBytes: number;
  cpus: number;
  /** NUMA nodes; their memBytes sum to memBytes, every CPU is in exactly one. */
  nodes: NodeConfig[];
  /** Firmware memory map, end exclusive. */
  e820: E820Entry[];
  /** Device MMIO windows: no RAM behind them. */
  mmio: MmioWindow[];
  /** i386 only: PAE (HIGHMEM64G) kernel. */
  pae?: boolean;
  seed: number;
  /** Kernel command line. */
  cmdline: string;
  /**
   * The slab allocator the kernel was built with (CONFIG_SLUB, CONFIG_SLOB,
   * ...: a build-time choice in Linux, a boot option here); absent: SLUB.
   */
  slab?: SlabImpl;
  /**
   * SLUB's percpu sheaves (mm/slub_sheaves.ts): 'opt-in' is Linux 6.18
   * (struct kmem_cache and kmem_cache_node with the sheaves' fields; a cache
   * gets sheaves when kmem_cache_create() asks with args.sheaf_capacity),
   * 'all' is Linux 7.0 (every cache but the two bootstrap ones and debug
   * caches). Absent: 6.12's SLUB, which has no sheaves and 6.12's struct
   * sizes (the default machine). Other slab implementations ignore it.
   */
  sheaves?: SheavesMode;
  /**
   * kmem/heap's profile: a compact kernel image loaded right after page 0
   * (64 KiB text, 16 KiB log) instead of a distro-sized one at
   * CONFIG_PHYSICAL_START (16 MiB), and no reservation of the first 1 MiB
   * (the machine has no BIOS data there), so that a machine of a few MiB
   * boots. Absent: the ordinary machine.
   */
  compact?: boolean;
}

/** The slab implementations kmem can boot with. */
export const SLAB_IMPLS = ['slub', 'slob', 'slab', 'slqb'] as const;
export type SlabImpl = (typeof SLAB_IMPLS)[number];

/** MachineConfig.sheaves */
export const SHEAVES_MODES = ['opt-in', 'all'] as const;
export type SheavesMode = (typeof SHEAVES_MODES)[number];

export type SizeInput = number | string;

/** What resolveConfig() accepts: the JSON shape, or a partial MachineConfig. */
export interface MachineConfigInput {
  arch?: string;
  mem?: SizeInput;
  memBytes?: SizeInput;
  cpus?: number;
  nodes?: number | { mem?: SizeInput; memBytes?: SizeInput; cpus?: number[] }[];
  e820?: { start: SizeInput; end?: SizeInput; size?: SizeInput; type: string }[];
  mmio?: { name: string; start: SizeInput; size: SizeInput }[];
  pae?: boolean;
  seed?: number;
  cmdline?: string;
  slab?: string;
  sheaves?: string;
  compact?: boolean;
}

export class ConfigError extends Error {
  constructor(readonly field: string, readonly detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const FOUR_G = 4 * GiB;

/**
 * NR_CPUS (arch/x86/Kconfig): the largest values Kconfig allows without
 * CPUMASK_OFFSTACK on x86_64 (512) and with X86_BIGSMP on i386 (64).
 */
export const NR_CPUS: Readonly<Record<Arch, number>> = { x86_64: 512, i386: 64 };
/** MAX_NUMNODES = 1 << NODES_SHIFT (default 6 on x86_64, 3 otherwise). */
export const MAX_NUMNODES: Readonly<Record<Arch, number>> = { x86_64: 64, i386: 8 };
/** kmem's ceiling for x86_64 RAM (4-level paging itself reaches 64 TiB). */
export const X86_64_MAX_MEM = 1 * TiB;
/** HIGHMEM4G: a non-PAE i386 kernel addresses 4 GiB. */
export const I386_MAX_MEM = 4 * GiB;
/** HIGHMEM64G: PAE's 36 physical address bits. */
export const I386_PAE_MAX_MEM = 64 * GiB;
/** Smallest machine: the kernel image loads at 16 MiB (CONFIG_PHYSICAL_START) and needs room above. */
export const MIN_MEM = 32 * MiB;
/** Smallest compact machine (MachineConfig.compact): its image, memmap and per-CPU areas take about 1.5 MiB. */
export const MIN_MEM_COMPACT = 2 * MiB;
/** Architectural MAXPHYADDR ceiling: firmware ranges must lie below it. */
const MAX_PHYADDR = 2 ** 52;

export const DEFAULTS = {
  arch: 'x86_64' as Arch,
  memBytes: 2 * GiB,
  cpus: 2,
  seed: 1,
  cmdline: '',
};

const E820_TYPES: readonly E820Type[] = ['usable', 'reserved', 'ACPI data', 'ACPI NVS', 'unusable'];
/** enum e820_type values, for the order e820__update_table resolves by. */
const E820_TYPE_NUM: Readonly<Record<E820Type, number>> = {
  usable: 1, reserved: 2, 'ACPI data': 3, 'ACPI NVS': 4, unusable: 5,
};

/* ---------------------------------------------------------------- sizes */

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1, k: KiB, m: MiB, g: GiB, t: TiB, p: 1024 * TiB,
};

/**
 * A size as memparse() reads it: decimal or 0x-hex, with an optional binary
 * suffix K, M, G, T, P (case-insensitive; "KiB"/"KB" also accepted). A number
 * must be a non-negative safe integer. Unlike memparse, a leading 0 is not
 * octal.
 */
export function parseSize(text: string | number, field = 'size'): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0) {
      throw new ConfigError(field, `${text} is not a non-negative integer number of bytes`);
    }
    return text;
  }
  if (typeof text !== 'string') throw new ConfigError(field, `expected a size, got ${JSON.stringify(text)}`);
  const m = /^\s*(0x[0-9a-f]+|[0-9]+)\s*([kmgtp]?)(i?b)?\s*$/i.exec(text);
  if (m === null || (m[3] !== undefined && m[2] === '')) {
    throw new ConfigError(field, `"${text}" is not a size (examples: 2G, 512M, 64k, 1048576, 0x1000)`);
  }
  const base = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1].slice(2), 16) : parseInt(m[1], 10);
  const v = base * SUFFIX[m[2].toLowerCase()];
  if (!Number.isSafeInteger(v)) throw new ConfigError(field, `"${text}" is too large`);
  return v;
}

/** Human form for messages: "4 GiB", "640 KiB", "12345 bytes". */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['TiB', TiB], ['GiB', GiB], ['MiB', MiB], ['KiB', KiB]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} bytes`;
}

function hex18(v: number): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

/** "[mem 0x...-0x...]" with an inclusive end, as the kernel prints ranges. */
export function memRange(start: number, end: number): string {
  return `[mem ${hex18(start)}-${hex18(end - 1)}]`;
}

/* ------------------------------------------------------------- defaults */

/** Where QEMU pc puts the end of RAM below 4 GiB. */
function qemuLowTop(memBytes: number): number {
  return memBytes >= 0xe0000000 ? 0xc0000000 : memBytes;
}

/** SeaBIOS reserves the top of low RAM for its tables. */
const SEABIOS_HIGH_TABLE = 128 * KiB;

/** The map QEMU pc + SeaBIOS reports for `memBytes` of RAM (see the header). */
export function defaultE820(arch: Arch, memBytes: number): E820Entry[] {
  void arch; // the firmware reports the same map whatever kernel it boots
  if (memBytes < 2 * MiB) throw new ConfigError('mem', `${formatSize(memBytes)} is too small for a PC memory map`);
  const low = qemuLowTop(memBytes);
  const high = memBytes - low;
  const e: E820Entry[] = [
    { start: 0, end: 0x9fc00, type: 'usable' },
    { start: 0x9fc00, end: 0xa0000, type: 'reserved' },
    { start: 0xf0000, end: 0x100000, type: 'reserved' },
    { start: 0x100000, end: low - SEABIOS_HIGH_TABLE, type: 'usable' },
    { start: low - SEABIOS_HIGH_TABLE, end: low, type: 'reserved' },
    { start: 0xfffc0000, end: FOUR_G, type: 'reserved' },
  ];
  if (high > 0) e.push({ start: FOUR_G, end: FOUR_G + high, type: 'usable' });
  return e;
}

/**
 * QEMU pc's device windows (std VGA, IOAPIC, HPET, local APIC), and kmem's
 * own PCI device, kmem-dev (src/drivers/kmem_dev.ts): its register BAR where
 * QEMU puts a first PCI device's BAR0, its memory BAR at the start of the
 * prefetchable window.
 */
export function defaultMmio(): MmioWindow[] {
  return [
    { name: 'vga-lowmem', start: 0xa0000, size: 0x20000 },
    { name: 'vga.vram', start: 0xfd000000, size: 16 * MiB },
    { name: 'ioapic', start: 0xfec00000, size: 0x1000 },
    { name: 'hpet', start: 0xfed00000, size: 0x400 },
    { name: 'lapic', start: 0xfee00000, size: 0x1000 },
    { name: 'kmem-dev', start: 0xfebf0000, size: 0x1000 },
    { name: 'kmem-dev.bar', start: 0xfe000000, size: 1 * MiB },
  ];
}

/** QEMU's numa_default_auto_assign_ram (8 MiB multiples, rest on the last node), CPUs in contiguous blocks. */
export function defaultNodes(memBytes: number, cpus: number, count: number): NodeConfig[] {
  const align = memBytes / count >= 8 * MiB ? 8 * MiB : PAGE_SIZE;
  const each = Math.floor(memBytes / count / align) * align;
  const nodes: NodeConfig[] = [];
  for (let i = 0; i < count; i++) {
    const lo = Math.floor((i * cpus) / count);
    const hi = Math.floor(((i + 1) * cpus) / count);
    nodes.push({
      memBytes: i === count - 1 ? memBytes - each * (count - 1) : each,
      cpus: Array.from({ length: hi - lo }, (_, k) => lo + k),
    });
  }
  return nodes;
}

/** Physical addresses the kernel can reach: 2^46 on x86_64, 2^36 with PAE, 4 GiB without. */
export function physAddrLimit(arch: Arch, pae = false): number {
  if (arch === 'x86_64') return 2 ** 46;
  return pae ? 2 ** 36 : FOUR_G;
}

/* ------------------------------------------------------------ e820 views */

/** The map as e820__update_table leaves it: sorted, empty entries gone, touching same-type entries merged. */
export function sanitizeE820(entries: readonly E820Entry[]): E820Entry[] {
  const sorted = entries
    .filter((e) => e.end > e.start)
    .map((e) => ({ ...e }))
    .sort((a, b) => a.start - b.start || E820_TYPE_NUM[a.type] - E820_TYPE_NUM[b.type]);
  const out: E820Entry[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.type === e.type && last.end >= e.start) last.end = Math.max(last.end, e.end);
    else out.push(e);
  }
  return out;
}

/**
 * The boot-time print of the firmware map (arch/x86/kernel/e820.c,
 * e820__memory_setup and e820__print_table), one string per printk line:
 *
 *   BIOS-provided physical RAM map:
 *   BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
 */
export function e820PrintLines(entries: readonly E820Entry[], who = 'BIOS-e820'): string[] {
  return [
    'BIOS-provided physical RAM map:',
    ...sanitizeE820(entries).map((e) => `${who}: ${memRange(e.start, e.end)} ${e.type}`),
  ];
}

/** Usable RAM, sorted and merged, as [start, end) pairs. */
export function usableRanges(entries: readonly E820Entry[]): [number, number][] {
  const out: [number, number][] = [];
  for (const e of sanitizeE820(entries)) {
    if (e.type !== 'usable') continue;
    const last = out[out.length - 1];
    if (last !== undefined && last[1] >= e.start) last[1] = Math.max(last[1], e.end);
    else out.push([e.start, e.end]);
  }
  return out;
}

/**
 * The RAM address space nodes are laid over: usable RAM, each range extended
 * upwards over the firmware reservations directly above it (EBDA, ACPI
 * tables, SeaBIOS's tables: firmware carves them out of the top of RAM),
 * hulls of those, cut where a gap runs from below 4 GiB to 4 GiB or above
 * (the PCI hole).
 */
function ramExtents(entries: readonly E820Entry[]): [number, number][] {
  const map = sanitizeE820(entries);
  const out: [number, number][] = [];
  for (let i = 0; i < map.length; i++) {
    if (map[i].type !== 'usable') continue;
    const start = map[i].start;
    let end = map[i].end;
    while (i + 1 < map.length && map[i + 1].start === end && map[i + 1].type !== 'unusable') end = map[++i].end;
    const last = out[out.length - 1];
    if (last !== undefined && !(last[1] < FOUR_G && start >= FOUR_G)) last[1] = end;
    else out.push([start, end]);
  }
  return out;
}

function measure(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((n, [s, e]) => n + (e - s), 0);
}

/**
 * Per node, the [start, end) physical spans it owns (the SRAT memory affinity
 * ranges; see the header): consecutive stretches of the RAM address space,
 * node 0 lowest, the last node taking whatever is left.
 */
export function nodeRanges(config: Pick<MachineConfig, 'e820' | 'nodes'>): [number, number][][] {
  const extents = ramExtents(config.e820);
  const out: [number, number][][] = config.nodes.map(() => []);
  let x = 0;
  let pos = extents.length > 0 ? extents[0][0] : 0;
  for (let n = 0; n < config.nodes.length; n++) {
    let want = n === config.nodes.length - 1 ? Infinity : config.nodes[n].memBytes;
    while (want > 0 && x < extents.length) {
      const end = Math.min(extents[x][1], pos + want);
      if (end > pos) {
        const mine = out[n];
        const last = mine[mine.length - 1];
        if (last !== undefined && last[1] === pos) last[1] = end;
        else mine.push([pos, end]);
        want -= end - pos;
        pos = end;
      }
      if (pos >= extents[x][1]) {
        x++;
        if (x < extents.length) pos = extents[x][0];
      }
    }
  }
  return out;
}

/* ------------------------------------------------------------ resolving */

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, known: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (o[k] === undefined) continue;
    if (!known.includes(k)) {
      throw new ConfigError(where === '' ? k : `${where}.${k}`, `unknown field (known: ${known.join(', ')})`);
    }
  }
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(field, `expected an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ConfigError(field, `${v} is out of range [${min}, ${max}]`);
  return v;
}

/** A size given under `mem` or `memBytes` (not both). */
function memOf(o: Obj, where: string): number | undefined {
  const p = where === '' ? '' : `${where}.`;
  if (o.mem !== undefined && o.memBytes !== undefined) throw new ConfigError(`${p}mem`, 'give mem or memBytes, not both');
  if (o.mem !== undefined) return parseSize(o.mem as SizeInput, `${p}mem`);
  if (o.memBytes !== undefined) return parseSize(o.memBytes as SizeInput, `${p}memBytes`);
  return undefined;
}

const TOP_KEYS = ['arch', 'mem', 'memBytes', 'cpus', 'nodes', 'e820', 'mmio', 'pae', 'seed', 'cmdline', 'slab', 'sheaves', 'compact'] as const;

/**
 * Fill defaults into a partial description (the JSON shape or a partial
 * MachineConfig) and validate the result. Throws ConfigError.
 */
export function resolveConfig(input: MachineConfigInput | unknown = {}): MachineConfig {
  if (!isObj(input)) throw new ConfigError('config', 'expected a JSON object');
  checkKeys(input, TOP_KEYS, '');

  let arch: Arch = DEFAULTS.arch;
  if (input.arch !== undefined) {
    if (input.arch !== 'x86_64' && input.arch !== 'i386') {
      throw new ConfigError('arch', `${JSON.stringify(input.arch)} is not an architecture (x86_64 or i386)`);
    }
    arch = input.arch;
  }

  let pae: boolean | undefined;
  if (input.pae !== undefined) {
    if (typeof input.pae !== 'boolean') throw new ConfigError('pae', `expected true or false, got ${JSON.stringify(input.pae)}`);
    if (arch !== 'i386' && input.pae) throw new ConfigError('pae', 'only for i386 (x86_64 always uses 4-level paging)');
    if (arch === 'i386') pae = input.pae;
  } else if (arch === 'i386') pae = false;

  // e820 first: without "mem", a custom map decides the amount of RAM.
  let e820: E820Entry[] | undefined;
  if (input.e820 !== undefined) {
    if (!Array.isArray(input.e820)) throw new ConfigError('e820', 'expected an array of {start, end|size, type}');
    e820 = input.e820.map((raw: unknown, i) => {
      const f = `e820[${i}]`;
      if (!isObj(raw)) throw new ConfigError(f, 'expected {start, end|size, type}');
      checkKeys(raw, ['start', 'end', 'size', 'type'], f);
      if (raw.start === undefined) throw new ConfigError(`${f}.start`, 'missing');
      const start = parseSize(raw.start as SizeInput, `${f}.start`);
      let end: number;
      if (raw.end !== undefined && raw.size !== undefined) throw new ConfigError(f, 'give end or size, not both');
      if (raw.end !== undefined) end = parseSize(raw.end as SizeInput, `${f}.end`);
      else if (raw.size !== undefined) end = start + parseSize(raw.size as SizeInput, `${f}.size`);
      else throw new ConfigError(`${f}.end`, 'missing (give end or size)');
      if (!E820_TYPES.includes(raw.type as E820Type)) {
        throw new ConfigError(`${f}.type`, `${JSON.stringify(raw.type)} is not an e820 type (${E820_TYPES.join(', ')})`);
      }
      return { start, end, type: raw.type as E820Type };
    });
  }

  if (e820 !== undefined) checkE820Entries(e820);

  let memBytes = memOf(input, '');
  if (memBytes === undefined) {
    if (e820 !== undefined) {
      const m = measure(ramExtents(e820));
      memBytes = Math.ceil(m / PAGE_SIZE) * PAGE_SIZE;
    } else memBytes = DEFAULTS.memBytes;
  }
  let compact = false;
  if (input.compact !== undefined) {
    if (typeof input.compact !== 'boolean') throw new ConfigError('compact', `expected true or false, got ${JSON.stringify(input.compact)}`);
    compact = input.compact;
  }
  checkMem(arch, pae, memBytes, compact);

  const cpus = input.cpus === undefined ? DEFAULTS.cpus : int(input.cpus, 'cpus', 1, NR_CPUS[arch]);

  let nodes: NodeConfig[];
  if (input.nodes === undefined) nodes = defaultNodes(memBytes, cpus, 1);
  else if (typeof input.nodes === 'number') {
    nodes = defaultNodes(memBytes, cpus, int(input.nodes, 'nodes', 1, MAX_NUMNODES[arch]));
  } else if (Array.isArray(input.nodes)) {
    const raw = input.nodes as unknown[];
    if (raw.length === 0) throw new ConfigError('nodes', 'at least one node');
    raw.forEach((r, i) => {
      if (!isObj(r)) throw new ConfigError(`nodes[${i}]`, 'expected {mem, cpus}');
      checkKeys(r, ['mem', 'memBytes', 'cpus'], `nodes[${i}]`);
    });
    const objs = raw as Obj[];
    const mems = objs.map((o, i) => memOf(o, `nodes[${i}]`));
    const given = mems.filter((m) => m !== undefined).length;
    const derived = defaultNodes(memBytes, cpus, objs.length);
    if (given !== 0 && given !== objs.length) {
      throw new ConfigError(`nodes[${mems.indexOf(undefined)}].mem`, 'missing (give mem for every node or for none)');
    }
    const anyCpus = objs.some((o) => o.cpus !== undefined);
    nodes = objs.map((o, i) => {
      let list: number[] = [];
      if (o.cpus !== undefined) {
        if (!Array.isArray(o.cpus)) throw new ConfigError(`nodes[${i}].cpus`, 'expected an array of CPU ids');
        list = o.cpus.map((c: unknown, j) => {
          if (typeof c !== 'number' || !Number.isInteger(c)) {
            throw new ConfigError(`nodes[${i}].cpus[${j}]`, `expected a CPU id, got ${JSON.stringify(c)}`);
          }
          return c;
        });
      } else if (!anyCpus) list = derived[i].cpus;
      return { memBytes: mems[i] ?? derived[i].memBytes, cpus: list };
    });
  } else throw new ConfigError('nodes', 'expected a node count or an array of {mem, cpus}');

  let mmio: MmioWindow[];
  if (input.mmio !== undefined) {
    if (!Array.isArray(input.mmio)) throw new ConfigError('mmio', 'expected an array of {name, start, size}');
    mmio = input.mmio.map((raw: unknown, i) => {
      const f = `mmio[${i}]`;
      if (!isObj(raw)) throw new ConfigError(f, 'expected {name, start, size}');
      checkKeys(raw, ['name', 'start', 'size'], f);
      if (typeof raw.name !== 'string' || raw.name === '') throw new ConfigError(`${f}.name`, 'expected a non-empty string');
      if (raw.start === undefined) throw new ConfigError(`${f}.start`, 'missing');
      if (raw.size === undefined) throw new ConfigError(`${f}.size`, 'missing');
      return {
        name: raw.name,
        start: parseSize(raw.start as SizeInput, `${f}.start`),
        size: parseSize(raw.size as SizeInput, `${f}.size`),
      };
    });
  } else {
    mmio = defaultMmio();
    // A custom map may put RAM where QEMU puts devices: keep only the windows that fit.
    if (e820 !== undefined) {
      const ram = usableRanges(e820);
      const limit = physAddrLimit(arch, pae);
      mmio = mmio.filter((w) => w.start + w.size <= limit && !ram.some(([s, e]) => w.start < e && s < w.start + w.size));
    }
  }

  let seed = DEFAULTS.seed;
  if (input.seed !== undefined) seed = int(input.seed, 'seed', 0, 0xffffffff);
  let cmdline = DEFAULTS.cmdline;
  if (input.cmdline !== undefined) {
    if (typeof input.cmdline !== 'string') throw new ConfigError('cmdline', `expected a string, got ${JSON.stringify(input.cmdline)}`);
    cmdline = input.cmdline;
  }

  const config: MachineConfig = {
    arch,
    memBytes,
    cpus,
    nodes,
    e820: e820 ?? defaultE820(arch, memBytes),
    mmio,
    seed,
    cmdline,
  };
  if (pae !== undefined) config.pae = pae;
  if (input.slab !== undefined) config.slab = slabImpl(input.slab);
  if (input.sheaves !== undefined) config.sheaves = sheavesMode(input.sheaves);
  if (compact) config.compact = true;
  validateConfig(config);
  return config;
}

/** The --config FILE form: JSON text in, validated MachineConfig out. */
export function parseConfigJson(text: string): MachineConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('config', `invalid JSON: ${(e as Error).message}`);
  }
  return resolveConfig(v);
}

/* ----------------------------------------------------------- validation */

function checkMem(arch: Arch, pae: boolean | undefined, memBytes: number, compact: boolean): void {
  if (memBytes % PAGE_SIZE !== 0) {
    throw new ConfigError('mem', `${memBytes} bytes is not a multiple of the page size (${PAGE_SIZE})`);
  }
  const min = compact ? MIN_MEM_COMPACT : MIN_MEM;
  if (memBytes < min) throw new ConfigError('mem', `${formatSize(memBytes)} is less than the minimum ${formatSize(min)}`);
  if (arch === 'x86_64' && memBytes > X86_64_MAX_MEM) {
    throw new ConfigError('mem', `${formatSize(memBytes)} is more than kmem simulates on x86_64 (${formatSize(X86_64_MAX_MEM)})`);
  }
  if (arch === 'i386' && !pae && memBytes > I386_MAX_MEM) {
    throw new ConfigError('mem', `${formatSize(memBytes)} is more than a non-PAE i386 kernel can use (4 GiB, HIGHMEM4G); set pae`);
  }
  if (arch === 'i386' && pae && memBytes > I386_PAE_MAX_MEM) {
    throw new ConfigError('mem', `${formatSize(memBytes)} is more than an i386 PAE kernel can use (64 GiB, HIGHMEM64G)`);
  }
}

function overlap(a0: number, a1: number, b0: number, b1: number): [number, number] | null {
  const s = Math.max(a0, b0);
  const e = Math.min(a1, b1);
  return s < e ? [s, e] : null;
}

/** Each e820 entry well-formed and no two overlapping. */
function checkE820Entries(e820: readonly E820Entry[]): void {
  e820.forEach((e, i) => {
    const f = `e820[${i}]`;
    if (!E820_TYPES.includes(e.type)) throw new ConfigError(`${f}.type`, `${JSON.stringify(e.type)} is not an e820 type (${E820_TYPES.join(', ')})`);
    if (!Number.isSafeInteger(e.start) || e.start < 0) throw new ConfigError(`${f}.start`, `${e.start} is not an address`);
    if (!Number.isSafeInteger(e.end) || e.end <= e.start) {
      throw new ConfigError(f, `empty or inverted range (start 0x${e.start.toString(16)}, end 0x${e.end.toString(16)})`);
    }
    if (e.end > MAX_PHYADDR) throw new ConfigError(`${f}.end`, `${memRange(e.start, e.end)} extends beyond 2^52, the x86 physical address limit`);
    for (let j = 0; j < i; j++) {
      const o = overlap(e.start, e.end, e820[j].start, e820[j].end);
      if (o) throw new ConfigError(f, `overlaps e820[${j}] (${memRange(o[0], o[1])})`);
    }
  });
  if (!e820.some((e) => e.type === 'usable')) throw new ConfigError('e820', 'no usable RAM');
}

/** Check a complete MachineConfig; throws ConfigError naming the first bad field. */
export function validateConfig(c: MachineConfig): void {
  if (c.arch !== 'x86_64' && c.arch !== 'i386') throw new ConfigError('arch', `${JSON.stringify(c.arch)} is not an architecture (x86_64 or i386)`);
  if (c.pae === true && c.arch !== 'i386') throw new ConfigError('pae', 'only for i386 (x86_64 always uses 4-level paging)');
  const pae = c.pae ?? false;
  if (!Number.isSafeInteger(c.memBytes) || c.memBytes < 0) throw new ConfigError('mem', `${c.memBytes} is not a size in bytes`);
  checkMem(c.arch, pae, c.memBytes, c.compact === true);
  int(c.cpus, 'cpus', 1, NR_CPUS[c.arch]);
  int(c.seed, 'seed', 0, 0xffffffff);
  if (typeof c.cmdline !== 'string') throw new ConfigError('cmdline', 'expected a string');
  if (c.slab !== undefined) slabImpl(c.slab);
  if (c.sheaves !== undefined) sheavesMode(c.sheaves);

  // e820: well-formed, no overlaps, some RAM, no more RAM than the machine has.
  checkE820Entries(c.e820);
  const usable = usableRanges(c.e820);
  const usableBytes = measure(usable);
  if (usableBytes > c.memBytes) {
    throw new ConfigError('e820', `usable RAM totals ${formatSize(usableBytes)}, more than mem (${formatSize(c.memBytes)})`);
  }

  // MMIO windows: positive, within reach, not over each other or over RAM.
  const limit = physAddrLimit(c.arch, pae);
  c.mmio.forEach((w, i) => {
    const f = `mmio[${i}]`;
    if (typeof w.name !== 'string' || w.name === '') throw new ConfigError(`${f}.name`, 'expected a non-empty string');
    if (!Number.isSafeInteger(w.start) || w.start < 0) throw new ConfigError(`${f}.start`, `${w.start} is not an address`);
    if (!Number.isSafeInteger(w.size) || w.size <= 0) throw new ConfigError(`${f}.size`, `must be positive, got ${w.size}`);
    const end = w.start + w.size;
    if (end > limit) {
      throw new ConfigError(f, `${w.name} ${memRange(w.start, end)} is beyond what the kernel can address (${formatSize(limit)})`);
    }
    for (let j = 0; j < i; j++) {
      if (c.mmio[j].name === w.name) throw new ConfigError(`${f}.name`, `"${w.name}" is also the name of mmio[${j}]`);
      const o = overlap(w.start, end, c.mmio[j].start, c.mmio[j].start + c.mmio[j].size);
      if (o) throw new ConfigError(f, `${w.name} overlaps mmio[${j}] ${c.mmio[j].name} (${memRange(o[0], o[1])})`);
    }
    c.e820.forEach((e, j) => {
      if (e.type !== 'usable') return;
      const o = overlap(w.start, end, e.start, e.end);
      if (o) throw new ConfigError(f, `${w.name} overlaps usable RAM e820[${j}] (${memRange(o[0], o[1])})`);
    });
  });

  // NUMA nodes: memory, CPUs, and where their memory lands.
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) throw new ConfigError('nodes', 'at least one node');
  if (c.nodes.length > MAX_NUMNODES[c.arch]) {
    throw new ConfigError('nodes', `${c.nodes.length} nodes, more than MAX_NUMNODES (${MAX_NUMNODES[c.arch]})`);
  }
  if (c.arch === 'i386' && c.nodes.length > 1 && !pae) {
    throw new ConfigError('nodes', 'NUMA on i386 needs pae (CONFIG_NUMA depends on HIGHMEM64G)');
  }
  const owner = new Map<number, number>();
  let sum = 0;
  c.nodes.forEach((n, i) => {
    const f = `nodes[${i}]`;
    if (!Number.isSafeInteger(n.memBytes) || n.memBytes <= 0) throw new ConfigError(`${f}.mem`, `node ${i} has no memory`);
    if (n.memBytes % PAGE_SIZE !== 0) {
      throw new ConfigError(`${f}.mem`, `${n.memBytes} bytes is not a multiple of the page size (${PAGE_SIZE})`);
    }
    sum += n.memBytes;
    if (!Array.isArray(n.cpus)) throw new ConfigError(`${f}.cpus`, 'expected an array of CPU ids');
    n.cpus.forEach((cpu, j) => {
      const g = `${f}.cpus[${j}]`;
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= c.cpus) {
        throw new ConfigError(g, `CPU ${cpu} out of range (the machine has CPUs 0-${c.cpus - 1})`);
      }
      const prev = owner.get(cpu);
      if (prev !== undefined) throw new ConfigError(g, `CPU ${cpu} is already in node ${prev}`);
      owner.set(cpu, i);
    });
  });
  if (sum !== c.memBytes) {
    throw new ConfigError('nodes', `node memory sums to ${formatSize(sum)}, but mem is ${formatSize(c.memBytes)}`);
  }
  for (let cpu = 0; cpu < c.cpus; cpu++) {
    if (!owner.has(cpu)) throw new ConfigError('nodes', `CPU ${cpu} is in no node`);
  }
  const spans = nodeRanges(c);
  spans.forEach((r, i) => {
    if (!r.some(([s, e]) => usable.some(([us, ue]) => overlap(s, e, us, ue)))) {
      throw new ConfigError(`nodes[${i}]`, `no usable RAM: the e820 map's RAM runs out before node ${i}'s share`);
    }
  });
}

/** MachineConfig.sheaves, checked. */
export function sheavesMode(v: unknown): SheavesMode {
  if (SHEAVES_MODES.includes(v as SheavesMode)) return v as SheavesMode;
  throw new ConfigError('sheaves', `expected one of ${SHEAVES_MODES.join(', ')}, got ${JSON.stringify(v)}`);
}

/** A slab implementation's name, checked. */
export function slabImpl(v: unknown): SlabImpl {
  if (typeof v === 'string' && (SLAB_IMPLS as readonly string[]).includes(v)) return v as SlabImpl;
  const known = ['slub', 'slab', 'slob', 'slqb'];
  if (typeof v === 'string' && known.includes(v)) {
    throw new ConfigError('slab', `${v} is not implemented yet (one of ${SLAB_IMPLS.join(', ')})`);
  }
  throw new ConfigError('slab', `expected one of ${SLAB_IMPLS.join(', ')}, got ${JSON.stringify(v)}`);
}
