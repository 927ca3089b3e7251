/*
 * Shared by the slab allocator tests: booting, reading /proc/slabinfo back,
 * the log lines a call produced, the pages the buddy allocator holds free,
 * and an independent census of a cache's slabs taken from the memmap
 * (every struct page with PGTY_slab whose slab_cache is the cache), which
 * the tests compare with what SLUB's lists and counters say.
 */
import assert from 'node:assert/strict';
import { start_kernel, type BootOptions } from '../../src/init/main.ts';
import { SLAB_IMPLS as SLAB_IMPL_NAMES, resolveConfig, type MachineConfigInput, type SheavesMode, type SlabImpl } from '../../src/machine/config.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { NR_FREE_PAGES } from '../../src/mm/mmzone.ts';
import { PGTY_slab } from '../../src/mm/page.ts';
import type { Slub } from '../../src/mm/slub.ts';

export function boot(input: MachineConfigInput, opts: BootOptions = {}): Kernel {
  return start_kernel(resolveConfig(input), opts);
}

/**
 * The slab implementations the conformance tests (the behavioural and
 * property tests that are not about one implementation's internals) run on.
 */
export const SLAB_IMPLS: readonly SlabImpl[] = SLAB_IMPL_NAMES;

/**
 * The machines the conformance tests run on: each implementation (labelled
 * by its name), and SLUB with percpu sheaves for every cache (Linux 7.0).
 */
export const SLAB_MACHINES: readonly { label: string; slab: SlabImpl; sheaves?: SheavesMode }[] = [
  ...SLAB_IMPLS.map((slab) => ({ label: slab, slab })),
  { label: 'slub+sheaves', slab: 'slub', sheaves: 'all' },
];

/** Does the implementation have /proc/slabinfo and per-cache object counts (not SLOB)? */
export function countsObjects(slab: SlabImpl): boolean {
  return slab !== 'slob';
}

/** The SLUB implementation behind k.slab. */
export function slub(k: Kernel): Slub {
  return k.slab.impl as Slub;
}

export interface SlabinfoRow {
  name: string;
  active: number;
  num: number;
  objsize: number;
  perSlab: number;
  pagesPerSlab: number;
  activeSlabs: number;
  numSlabs: number;
  line: string;
}

/** /proc/slabinfo parsed, in file order. */
export function slabinfoRows(text: string): SlabinfoRow[] {
  const lines = text.split('\n').filter((l) => l !== '');
  assert.equal(lines[0], 'slabinfo - version: 2.1');
  return lines.slice(2).map((line) => {
    const m = /^(\S*)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) : tunables\s+0\s+0\s+0 : slabdata\s+(\d+)\s+(\d+)\s+0$/.exec(line);
    assert.ok(m, `bad slabinfo line ${JSON.stringify(line)}`);
    return {
      name: m[1], active: +m[2], num: +m[3], objsize: +m[4], perSlab: +m[5], pagesPerSlab: +m[6],
      activeSlabs: +m[7], numSlabs: +m[8], line,
    };
  });
}

export function slabinfo(k: Kernel): Map<string, SlabinfoRow> {
  return new Map(slabinfoRows(readProc(k, 'slabinfo')).map((r) => [r.name, r]));
}

/** Lines logged while fn ran, without timestamps. */
export function logged(k: Kernel, fn: () => void): string[] {
  const seq = k.log.nextSeq;
  fn();
  return k.log.dmesg(seq).split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
}

/** Free pages on the buddy lists once every CPU's pcp lists are drained. */
export function buddyFreePages(k: Kernel): number {
  k.drain_all_pages();
  return k.buddy.zones.reduce((n, z) => n + k.buddy.zoneStat(z, NR_FREE_PAGES), 0);
}

/** kmem_cache_shrink() every cache: every empty slab goes back to the page allocator. */
export function shrinkAll(k: Kernel): void {
  for (const s of k.slab.caches()) k.kmem_cache_shrink(s);
}

export interface SlabCensusEntry {
  inuse: number;
  objects: number;
  frozen: boolean;
  order: number;
  nid: number;
}

/** Every slab of cache s found in the memmap (not through SLUB's lists): head pfn -> its state. */
export function slabCensus(k: Kernel, s: number): Map<number, SlabCensusEntry> {
  const out = new Map<number, SlabCensusEntry>();
  const impl = slub(k);
  for (const z of k.buddy.zones) {
    const start = k.buddy.zget(z, 'zone_start_pfn');
    const end = start + k.buddy.zget(z, 'spanned_pages');
    for (let pfn = start; pfn < end; pfn++) {
      if (!k.sparse.pfn_valid(pfn) || k.pages.page_type(pfn) >>> 24 !== PGTY_slab) continue;
      if (impl.slab_cache(pfn) !== s) continue;
      out.set(pfn, { ...impl.slabState(pfn), order: k.pages.compound_order(pfn), nid: k.pages.page_to_nid(pfn) });
    }
  }
  return out;
}

/** Write a NUL-terminated string into kernel memory at va. */
export function putString(k: Kernel, va: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  k.kaddr.writeBytes(va, bytes);
  k.kaddr.write8(va + bytes.length, 0);
}
