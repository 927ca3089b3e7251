/*
 * Shared by the page allocator tests: booting small machines, walking the
 * buddy free lists and the per-CPU lists straight out of simulated memory,
 * and checking the allocator's invariants against a model of the live
 * allocations (a map pfn -> order of every block handed out).
 */
import assert from 'node:assert/strict';
import { start_kernel, type BootOptions } from '../../src/init/main.ts';
import { resolveConfig, type MachineConfigInput } from '../../src/machine/config.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Zone } from '../../src/mm/page_alloc.ts';
import { PG_head, PG_reserved, PGTY_slab } from '../../src/mm/page.ts';
import {
  MAX_PAGE_ORDER, MIGRATE_ISOLATE, MIGRATE_PCPTYPES, MIGRATE_TYPES, NR_FREE_PAGES, PAGE_ALLOC_COSTLY_ORDER,
  NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B,
} from '../../src/mm/mmzone.ts';

export function boot(input: MachineConfigInput, opts: BootOptions = {}): Kernel {
  return start_kernel(resolveConfig(input), opts);
}

/** A free block on a buddy list. */
export interface FreeBlock {
  nid: number;
  zone: number;
  order: number;
  mt: number;
  pfn: number;
}

/** A block sitting on a per-CPU list. */
export interface PcpBlock {
  nid: number;
  zone: number;
  cpu: number;
  order: number;
  mt: number;
  pfn: number;
}

export function populatedZones(k: Kernel): Zone[] {
  return k.buddy.zones.filter((z) => k.buddy.populated(z));
}

/** Every block on every buddy free list, walking list_heads in simulated memory. */
export function freeBlocks(k: Kernel): FreeBlock[] {
  const out: FreeBlock[] = [];
  for (const z of k.buddy.zones) {
    for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const head = k.buddy.freeList(z, order, mt);
        let n = 0;
        for (let pos = k.kaddr.readPtr(head); pos !== head; pos = k.kaddr.readPtr(pos)) {
          out.push({ nid: z.nid, zone: z.idx, order, mt, pfn: k.pages.pfnOfLru(pos) });
          assert.ok(++n < 1 << 22, 'free list does not terminate');
        }
      }
    }
  }
  return out;
}

/** The (order, migratetype) pairs that have a pcp list of their own on this arch. */
export function pcpListKeys(k: Kernel): { order: number; mt: number }[] {
  const keys: { order: number; mt: number }[] = [];
  for (let order = 0; order <= PAGE_ALLOC_COSTLY_ORDER; order++) {
    for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) keys.push({ order, mt });
  }
  // CONFIG_TRANSPARENT_HUGEPAGE: two more lists for HPAGE_PMD_ORDER, unmovable and movable.
  if (k.mz.pcpLists > MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)) keys.push({ order: 9, mt: 0 }, { order: 9, mt: 1 });
  return keys;
}

export function pcpBlocks(k: Kernel): PcpBlock[] {
  const out: PcpBlock[] = [];
  for (const z of k.buddy.zones) {
    if (!z.pcps.length) continue;
    for (let cpu = 0; cpu < k.config.cpus; cpu++) {
      for (const { order, mt } of pcpListKeys(k)) {
        for (const pfn of k.buddy.pcpListPfns(z, cpu, mt, order)) out.push({ nid: z.nid, zone: z.idx, cpu, order, mt, pfn });
      }
    }
  }
  return out;
}

/** The set of free blocks, as sorted "pfn:order" keys (pcp lists excluded). */
export function freeBlockKeys(k: Kernel): string[] {
  return freeBlocks(k).map((b) => `${b.nid}/${b.zone}:${b.pfn}:${b.order}`).sort();
}

/** Per zone, per order, free blocks summed over migratetypes, as pagetypeinfo prints them. */
export function pagetypeinfoFreeTotals(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = /^Node\s+(\d+), zone\s+(\S+), type\s+\S+((?:\s+\d+)+)\s*$/.exec(line);
    if (!m) continue;
    const key = `${m[1]}/${m[2]}`;
    const nums = m[3].trim().split(/\s+/).map(Number);
    const acc = out.get(key) ?? nums.map(() => 0);
    out.set(key, acc.map((v, i) => v + nums[i]));
  }
  return out;
}

/** Parse buddyinfo into zone -> nr_free per order. */
export function parseBuddyinfo(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^Node (\d+), zone\s+(\S+)((?:\s+\d+)+)\s*$/.exec(line);
    assert.ok(m, `bad buddyinfo line ${JSON.stringify(line)}`);
    out.set(`${m[1]}/${m[2]}`, m[3].trim().split(/\s+/).map(Number));
  }
  return out;
}

export function pcpCountSum(k: Kernel): number {
  let n = 0;
  for (const z of k.buddy.zones) if (z.pcps.length) n += k.buddy.pcpTotal(z);
  return n;
}

/** What a bad call must leave alone: the free lists, the pcp lists and counts, the zone counters. */
export function allocatorState(k: Kernel): string {
  const zones = k.buddy.zones.map((z) => [
    z.nid, z.idx, k.buddy.zoneStat(z, NR_FREE_PAGES), k.buddy.managed(z),
    z.pcps.length ? Array.from({ length: k.config.cpus }, (_, c) => k.buddy.pcpCounts(z, c).count) : [],
  ]);
  return JSON.stringify({
    buddyinfo: readProc(k, 'buddyinfo'),
    free: freeBlocks(k).map((b) => `${b.nid}/${b.zone}:${b.pfn}:${b.order}:${b.mt}`),
    pcp: pcpBlocks(k).map((b) => `${b.nid}/${b.zone}/${b.cpu}:${b.pfn}:${b.order}:${b.mt}`),
    zones,
  });
}

/** pfn -> order of every block the test holds. */
export type LiveBlocks = Map<number, number>;

/**
 * The slab allocator's pages (pfn -> order of each slab): the kernel's own
 * allocations, made at boot by kmem_cache_init() and whenever slab caches
 * grow. Found by scanning the memmap for PGTY_slab; the scan is redone
 * only when the nodes' slab counters (NR_SLAB_*_B) change.
 */
const slabPagesCache = new WeakMap<Kernel, { key: string; blocks: LiveBlocks }>();

export function slabBlocks(k: Kernel): LiveBlocks {
  const key = k.mmInit.pgdatPa.map((pa) => [NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B]
    .map((item) => k.access.readLong(pa + k.mz.pgdat.vm_stat + item * k.layout.ptrSize)).join(',')).join(';');
  const cached = slabPagesCache.get(k);
  if (cached?.key === key) return cached.blocks;
  const blocks: LiveBlocks = new Map();
  for (const z of k.buddy.zones) {
    const start = k.buddy.zget(z, 'zone_start_pfn');
    const end = start + k.buddy.zget(z, 'spanned_pages');
    for (let pfn = start; pfn < end; pfn++) {
      if (k.sparse.pfn_valid(pfn) && k.pages.page_type(pfn) >>> 24 === PGTY_slab) blocks.set(pfn, k.pages.compound_order(pfn));
    }
  }
  slabPagesCache.set(k, { key, blocks });
  return blocks;
}

export interface CheckOptions {
  /** Also check every single page (slow on big machines): zone, reserved bit, buddy bit. */
  perPage?: boolean;
  /** pfn -> compound (true) of live blocks, to check their head/tail state. */
  compound?: Map<number, boolean>;
}

/**
 * The allocator's invariants, against the live blocks the test holds:
 *  - every buddy free-list entry heads an aligned block in its zone, with
 *    PageBuddy and private == order, on the list of its pageblock's type;
 *  - nr_free[order] counts the entries of that order; NR_FREE_PAGES the pages;
 *  - every pcp entry is an aligned block of the list's order, not PageBuddy;
 *    pcp->count is the number of pages on that CPU's lists;
 *  - free blocks, pcp blocks, live blocks and the slab allocator's pages
 *    never overlap, and per zone they add up to exactly managed_pages;
 *  - meminfo MemFree is the sum of NR_FREE_PAGES; buddyinfo shows nr_free.
 */
export function checkAllocator(k: Kernel, live: LiveBlocks, opts: CheckOptions = {}): void {
  const b = k.buddy;
  const p = k.pages;
  const free = freeBlocks(k);
  const pcp = pcpBlocks(k);
  const zkey = (nid: number, zone: number) => `${nid}/${zone}`;
  const intervals: { s: number; e: number; what: string; zone: string }[] = [];
  const nrFree = new Map<string, number>();
  const freePages = new Map<string, number>();
  for (const f of free) {
    const z = b.zone(f.nid, f.zone);
    const where = `free block pfn ${f.pfn} order ${f.order} mt ${f.mt} in ${f.nid}/${z.name}`;
    assert.equal(f.pfn % (1 << f.order), 0, `${where}: misaligned`);
    assert.ok(p.PageBuddy(f.pfn), `${where}: head not PageBuddy`);
    assert.equal(p.private_(f.pfn), f.order, `${where}: private != order`);
    assert.equal(p.page_zonenum(f.pfn), f.zone, `${where}: head in another zone`);
    assert.equal(p.page_to_nid(f.pfn), f.nid, `${where}: head on another node`);
    assert.equal(k.sparse.get_pageblock_migratetype(f.pfn), f.mt, `${where}: on the list of another pageblock type`);
    assert.equal(p.page_ref_count(f.pfn), 0, `${where}: refcount`);
    const start = b.zget(z, 'zone_start_pfn');
    assert.ok(f.pfn >= start && f.pfn + (1 << f.order) <= start + b.zget(z, 'spanned_pages'), `${where}: outside its zone`);
    intervals.push({ s: f.pfn, e: f.pfn + (1 << f.order), what: where, zone: zkey(f.nid, f.zone) });
    const key = `${zkey(f.nid, f.zone)}:${f.order}`;
    nrFree.set(key, (nrFree.get(key) ?? 0) + 1);
    if (f.mt !== MIGRATE_ISOLATE) freePages.set(zkey(f.nid, f.zone), (freePages.get(zkey(f.nid, f.zone)) ?? 0) + (1 << f.order));
  }
  const pcpPages = new Map<string, number>();
  for (const c of pcp) {
    const where = `pcp block pfn ${c.pfn} order ${c.order} cpu ${c.cpu} zone ${c.nid}/${c.zone}`;
    assert.equal(c.pfn % (1 << c.order), 0, `${where}: misaligned`);
    assert.ok(!p.PageBuddy(c.pfn), `${where}: PageBuddy on a pcp list`);
    assert.equal(p.page_zonenum(c.pfn), c.zone, `${where}: in another zone`);
    assert.equal(p.page_to_nid(c.pfn), c.nid, `${where}: on another node`);
    assert.equal(p.page_ref_count(c.pfn), 0, `${where}: refcount`);
    intervals.push({ s: c.pfn, e: c.pfn + (1 << c.order), what: where, zone: zkey(c.nid, c.zone) });
    const key = `${zkey(c.nid, c.zone)}/${c.cpu}`;
    pcpPages.set(key, (pcpPages.get(key) ?? 0) + (1 << c.order));
  }
  const livePages = new Map<string, number>();
  for (const [pfn, order] of live) {
    const zone = zkey(p.page_to_nid(pfn), p.page_zonenum(pfn));
    const where = `live block pfn ${pfn} order ${order}`;
    assert.ok(!p.PageBuddy(pfn), `${where}: PageBuddy while allocated`);
    assert.ok(p.page_ref_count(pfn) >= 1, `${where}: refcount ${p.page_ref_count(pfn)}`);
    const comp = opts.compound?.get(pfn);
    if (comp !== undefined && order > 0) {
      assert.equal(p.testFlag(pfn, PG_head), comp, `${where}: PG_head`);
      if (comp) {
        assert.equal(p.compound_order(pfn), order, `${where}: compound order`);
        assert.ok(p.PageTail(pfn + (1 << order) - 1), `${where}: last page not a tail`);
      }
    }
    intervals.push({ s: pfn, e: pfn + (1 << order), what: where, zone });
    livePages.set(zone, (livePages.get(zone) ?? 0) + (1 << order));
  }
  for (const [pfn, order] of slabBlocks(k)) {
    const zone = zkey(p.page_to_nid(pfn), p.page_zonenum(pfn));
    intervals.push({ s: pfn, e: pfn + (1 << order), what: `slab pfn ${pfn} order ${order}`, zone });
    livePages.set(zone, (livePages.get(zone) ?? 0) + (1 << order));
  }
  intervals.sort((x, y) => x.s - y.s);
  for (let i = 1; i < intervals.length; i++) {
    assert.ok(intervals[i - 1].e <= intervals[i].s, `overlap: ${intervals[i - 1].what} and ${intervals[i].what}`);
  }
  let freeSum = 0;
  for (const z of b.zones) {
    const zk = zkey(z.nid, z.idx);
    for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
      assert.equal(b.nr_free(z, order), nrFree.get(`${zk}:${order}`) ?? 0, `nr_free ${zk} order ${order}`);
    }
    assert.equal(b.zoneStat(z, NR_FREE_PAGES), freePages.get(zk) ?? 0, `NR_FREE_PAGES of ${zk}`);
    freeSum += b.zoneStat(z, NR_FREE_PAGES);
    let pcpSum = 0;
    if (z.pcps.length) {
      for (let cpu = 0; cpu < k.config.cpus; cpu++) {
        const n = pcpPages.get(`${zk}/${cpu}`) ?? 0;
        assert.equal(b.pcpCounts(z, cpu).count, n, `pcp count of ${zk} cpu ${cpu}`);
        pcpSum += n;
      }
    }
    const accounted = (freePages.get(zk) ?? 0) + pcpSum + (livePages.get(zk) ?? 0);
    assert.equal(accounted, b.managed(z), `zone ${zk}: free + pcp + allocated != managed`);
  }
  const memFree = /^MemFree:\s+(\d+) kB$/m.exec(readProc(k, 'meminfo'));
  assert.ok(memFree);
  assert.equal(Number(memFree[1]), freeSum * 4, 'meminfo MemFree');
  const bi = parseBuddyinfo(readProc(k, 'buddyinfo'));
  for (const z of populatedZones(k)) {
    assert.deepEqual(bi.get(`${z.nid}/${z.name}`), Array.from({ length: MAX_PAGE_ORDER + 1 }, (_, o) => b.nr_free(z, o)),
      `buddyinfo of ${z.nid}/${z.name}`);
  }
  if (opts.perPage) {
    for (const iv of intervals) {
      const [nid, zone] = iv.zone.split('/').map(Number);
      for (let pfn = iv.s; pfn < iv.e; pfn++) {
        assert.ok(k.pfn_valid(pfn), `${iv.what}: pfn ${pfn} invalid`);
        assert.equal(p.page_zonenum(pfn), zone, `${iv.what}: pfn ${pfn} in zone ${p.page_zonenum(pfn)}`);
        assert.equal(p.page_to_nid(pfn), nid, `${iv.what}: pfn ${pfn} on node ${p.page_to_nid(pfn)}`);
        assert.ok(!p.testFlag(pfn, PG_reserved), `${iv.what}: pfn ${pfn} PG_reserved`);
        if (pfn !== iv.s) assert.ok(!p.PageBuddy(pfn), `${iv.what}: pfn ${pfn} inside the block is PageBuddy`);
      }
    }
  }
}

/** A small deterministic PRNG (mulberry32) for scripted sequences. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lines logged since `fromSeq` (k.log.nextSeq taken before), without the "[    0.000000] " stamps. */
export function logSince(k: Kernel, fromSeq: number): string[] {
  return k.log.dmesg(fromSeq).split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
}

/** Run fn and return what it logged. */
export function logged(k: Kernel, fn: () => void): string[] {
  const seq = k.log.nextSeq;
  fn();
  return logSince(k, seq);
}
