/*
 * Model-based property tests of the slab allocator: random sequences of
 * cache creations, kmem_cache_alloc/free, kmalloc/kfree (all sizes, several
 * gfp types), bulk allocations, shrinks, on 1 and 2 CPUs, each operation on
 * a random CPU (so frees often come from another CPU than the allocation).
 * The model is the set of live objects [addr, addr + usable size) with a
 * tag written into each.
 *
 * After every step: the new object does not overlap any live one, is
 * aligned as its cache promises, carries its constructor's state (or zeros
 * for __GFP_ZERO), and lies in a DMA page for GFP_DMA; every live object
 * still holds its tag (nothing wrote over it); each cache's slabinfo has
 * num_objs >= active_objs >= its live objects. After a shrink, and at the
 * end: active_objs equals the live objects exactly, num_slabs equals the
 * slabs found by scanning the memmap, and no slab is empty. Finally,
 * freeing everything and destroying the caches gives the buddy allocator
 * back exactly the pages it had before (after shrinking every cache and
 * draining the per-CPU page lists both times). The machines boot with
 * errors: 'throw', so any report the kernel would print fails the run.
 *
 * Every implementation runs the same sequences, and SLUB with 7.0's percpu
 * sheaves for every cache too (there the end compares each cache's active
 * objects instead of pages: see footprint()); SLOB, which keeps no
 * per-cache counts and has no /proc/slabinfo, skips the count checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { SheavesMode, SlabImpl } from '../../src/machine/config.ts';
import { SLAB_MACHINES, boot, buddyFreePages, countsObjects, shrinkAll, slabCensus } from './helpers.ts';

const CTOR_MAGIC = 0x5ab1c7e0;

type Cmd =
  | { op: 'create'; size: number; align: number; hw: boolean; ctor: boolean; rcu: boolean; noMerge: boolean }
  | { op: 'alloc'; cache: number; cpu: number; zero: boolean }
  | { op: 'bulk'; cache: number; cpu: number; n: number }
  | { op: 'kmalloc'; size: number; gfp: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'shrink'; cache: number };

const sizeArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 256 }) },
  { weight: 3, arbitrary: fc.integer({ min: 257, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 40000 }) },
);

function cmdArb(cpus: number): fc.Arbitrary<Cmd> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  return fc.oneof(
    { weight: 1, arbitrary: fc.record({
      op: fc.constant('create' as const), size: fc.integer({ min: 1, max: 3000 }), align: fc.constantFrom(0, 8, 16, 32, 64, 128),
      hw: fc.boolean(), ctor: fc.boolean(), rcu: fc.boolean(), noMerge: fc.boolean(),
    }) },
    { weight: 8, arbitrary: fc.record({ op: fc.constant('alloc' as const), cache: fc.nat(), cpu, zero: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('bulk' as const), cache: fc.nat(), cpu, n: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('kmalloc' as const), size: sizeArb, gfp: fc.nat(), cpu }) },
    { weight: 12, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('shrink' as const), cache: fc.nat() }) },
  );
}

interface Cache { s: number; objectSize: number; align: number; ctor: boolean; rcu: boolean }
interface Live { addr: number; len: number; tag: number; cache: Cache | null; kmalloc: boolean }

/** calculate_alignment() for a power-of-two align, as include/linux/slab.h documents it. */
function expectedAlign(k: Kernel, size: number, align: number, hw: boolean): number {
  let a = Math.max(align, 8);
  if (hw) {
    let ralign = 64;
    while (size <= ralign / 2) ralign /= 2;
    a = Math.max(a, ralign);
  }
  void k;
  return a;
}

/**
 * What a kmalloc'd object is aligned to: the largest power of two dividing
 * its size class, or a page. SLOB: ARCH_KMALLOC_MINALIGN, or the size for a
 * power of two, below a page (less the header); a page above.
 */
function kmallocAlign(slab: SlabImpl, size: number, usable: number): number {
  if (slab === 'slob') return size >= 4096 - 8 ? 4096 : (size & (size - 1)) === 0 ? Math.max(size, 8) : 8;
  return usable > 8192 ? 4096 : usable & -usable;
}

/** The tag of a live object: 4 bytes at +4 (+0 when smaller than 8), one byte in an object of under 4 (SLOB's 2-byte units). */
function writeTag(k: Kernel, addr: number, len: number, tag: number): void {
  if (len < 4) k.kaddr.write8(addr, tag & 0xff);
  else k.kaddr.write32(addr + (len >= 8 ? 4 : 0), tag);
}

function readTag(k: Kernel, addr: number, len: number): number {
  return len < 4 ? k.kaddr.read8(addr) : k.kaddr.read32(addr + (len >= 8 ? 4 : 0));
}

function gfpChoices(k: Kernel): number[] {
  return [k.GFP_KERNEL, k.GFP_ATOMIC, k.GFP_KERNEL | k.__GFP_ZERO, k.GFP_KERNEL_ACCOUNT, k.GFP_KERNEL | k.GFP_DMA,
    k.GFP_KERNEL | k.__GFP_RECLAIMABLE, k.GFP_NOWAIT];
}

/**
 * Every cache shrunk: the pages the buddy allocator has free, or, with
 * percpu sheaves, each cache's active objects (shrinking until nothing
 * changes: a cache's sheaves are kmalloc objects, freed into kmalloc caches
 * that may have been shrunk already, and which objects are the CPUs' main
 * sheaves changes as sheaves are swapped, so pages may differ).
 */
function footprint(k: Kernel): number | string {
  if (k.config.sheaves === undefined) {
    shrinkAll(k);
    return buddyFreePages(k);
  }
  let last = '';
  for (let pass = 0; pass < 8; pass++) {
    shrinkAll(k);
    const now = k.slab.slabinfo().map((r) => `${r.name} ${r.info.active_objs}`).join('\n');
    if (now === last) break;
    last = now;
  }
  return last;
}

function run(slab: SlabImpl, cpus: number, cmds: Cmd[], sheaves?: SheavesMode): void {
  const k = boot({ mem: '128M', cpus, slab, sheaves }, { errors: 'throw' });
  const before = footprint(k);
  const caches: Cache[] = [];
  const created: number[] = []; // every kmem_cache_create() result, aliases included, to destroy at the end
  const live: Live[] = [];
  let nextTag = 1;
  const gfps = gfpChoices(k);
  const p = k.kmalloc(8 * 64, k.GFP_KERNEL); // the pointer array of the bulk allocations

  const add = (addr: number, len: number, cache: Cache | null, align: number, zero: boolean, dma: boolean) => {
    assert.notEqual(addr, 0);
    assert.equal(addr % align, 0, `object ${addr.toString(16)} not aligned to ${align}`);
    for (const o of live) assert.ok(addr + len <= o.addr || o.addr + o.len <= addr, `object ${addr.toString(16)}+${len} overlaps ${o.addr.toString(16)}+${o.len}`);
    if (cache?.ctor) {
      assert.equal(k.kaddr.read32(addr) >>> 0, (CTOR_MAGIC ^ (addr & 0xfffff)) >>> 0, 'constructor state missing');
      assert.equal(k.kaddr.read32(addr + 4), 0, 'constructor state missing');
    }
    if (zero) assert.ok(k.kaddr.readBytes(addr, len).every((b) => b === 0), 'not zeroed');
    if (dma) assert.ok(k.page_zonenum(k.virt_to_page(addr)) === k.mz.zs.ZONE_DMA, 'GFP_DMA object outside ZONE_DMA');
    const tag = nextTag++;
    writeTag(k, addr, len, tag);
    live.push({ addr, len, tag: len < 4 ? tag & 0xff : tag, cache, kmalloc: cache === null });
  };
  const checkTags = () => {
    for (const o of live) assert.equal(readTag(k, o.addr, o.len), o.tag, `tag of ${o.addr.toString(16)} overwritten`);
  };
  const liveIn = (s: number) => live.filter((o) => o.cache?.s === s).length;
  const checkCounts = (s: number, exact: boolean) => {
    if (!countsObjects(slab)) return; // SLOB keeps no per-cache counts
    const row = k.slab.slabinfo().find((r) => r.name === k.slab.cacheName(s))!;
    const n = liveIn(s);
    assert.ok(row.info.num_objs >= row.info.active_objs && row.info.active_objs >= n, `${row.name}: ${JSON.stringify(row.info)} with ${n} live`);
    if (!exact) return;
    assert.equal(row.info.active_objs, n, `${row.name}: active_objs after a shrink`);
    k.rcu_barrier();
    const census = slabCensus(k, s);
    assert.equal(census.size, row.info.num_slabs, `${row.name}: slabs in the memmap`);
    assert.equal(row.info.num_objs, row.info.num_slabs * row.info.objects_per_slab);
    for (const [pfn, e] of census) assert.ok(e.inuse > 0 && !e.frozen, `${row.name}: slab ${pfn} empty or frozen after a shrink`);
  };

  for (const c of cmds) {
    switch (c.op) {
      case 'create': {
        if (caches.length >= 6) break;
        const flags = (c.hw ? k.SLAB_HWCACHE_ALIGN : 0) | (c.rcu ? k.SLAB_TYPESAFE_BY_RCU : 0) | (c.noMerge ? k.SLAB_NO_MERGE : 0);
        const ctor = c.ctor ? (kk: Kernel, obj: number) => {
          kk.kaddr.write32(obj, CTOR_MAGIC ^ (obj & 0xfffff));
          kk.kaddr.write32(obj + 4, 0); // the object is at least 8 bytes (size below)
        } : null;
        const size = c.ctor ? Math.max(c.size, 8) : c.size;
        const s = k.kmem_cache_create(`prop_${created.length}`, size, c.align, flags, ctor);
        assert.notEqual(s, 0);
        created.push(s);
        const known = caches.find((x) => x.s === s);
        if (known) {
          // merged into an existing cache: it must have been compatible
          assert.ok(!c.ctor && !c.rcu && !c.noMerge && k.kmem_cache_size(s) >= size);
        } else {
          caches.push({ s, objectSize: size, align: expectedAlign(k, size, c.align, c.hw), ctor: c.ctor, rcu: c.rcu });
        }
        break;
      }
      case 'alloc': {
        if (caches.length === 0) break;
        const cache = caches[c.cache % caches.length];
        k.set_cpu(c.cpu);
        const zero = c.zero && !cache.ctor;
        const obj = zero ? k.kmem_cache_zalloc(cache.s, k.GFP_KERNEL) : k.kmem_cache_alloc(cache.s, k.GFP_KERNEL);
        add(obj, k.kmem_cache_size(cache.s), cache, cache.align, zero, false);
        break;
      }
      case 'bulk': {
        if (caches.length === 0) break;
        const cache = caches[c.cache % caches.length];
        k.set_cpu(c.cpu);
        assert.equal(k.kmem_cache_alloc_bulk(cache.s, k.GFP_KERNEL, c.n, p), c.n);
        for (let i = 0; i < c.n; i++) add(k.kaddr.readPtr(p + 8 * i), k.kmem_cache_size(cache.s), cache, cache.align, false, false);
        break;
      }
      case 'kmalloc': {
        k.set_cpu(c.cpu);
        const gfp = gfps[c.gfp % gfps.length];
        const obj = k.kmalloc(c.size, gfp);
        const usable = k.ksize(obj);
        assert.ok(usable >= c.size);
        // SLOB's partially free pages serve any zone (6.1 slob_alloc() does not look at the gfp zone)
        add(obj, usable, null, kmallocAlign(slab, c.size, usable), (gfp & k.__GFP_ZERO) !== 0,
          (gfp & k.GFP_DMA) !== 0 && c.size <= 8192 && slab !== 'slob');
        break;
      }
      case 'free': {
        if (live.length === 0) break;
        const i = c.pick % live.length;
        const o = live[i];
        k.set_cpu(c.cpu);
        assert.equal(readTag(k, o.addr, o.len), o.tag);
        if (o.cache?.ctor) k.kaddr.write32(o.addr + 4, 0); // give it back as the constructor left it
        if (o.kmalloc) k.kfree(o.addr);
        else k.kmem_cache_free(o.cache!.s, o.addr);
        live.splice(i, 1);
        break;
      }
      case 'shrink': {
        if (caches.length === 0) break;
        const cache = caches[c.cache % caches.length];
        k.kmem_cache_shrink(cache.s);
        checkCounts(cache.s, true);
        break;
      }
    }
    checkTags();
    for (const cache of caches) checkCounts(cache.s, false);
  }

  for (const cache of caches) {
    k.kmem_cache_shrink(cache.s);
    checkCounts(cache.s, true);
  }
  k.set_cpu(0);
  for (const o of live) {
    if (o.cache?.ctor) k.kaddr.write32(o.addr + 4, 0);
    if (o.kmalloc) k.kfree(o.addr);
    else k.kmem_cache_free(o.cache!.s, o.addr);
  }
  k.kfree(p);
  for (const cache of caches) {
    assert.equal(k.kmem_cache_shrink(cache.s), 0, 'a cache with no object keeps no slab after a shrink');
  }
  for (const s of created.reverse()) k.kmem_cache_destroy(s);
  for (const cache of caches) assert.ok(!k.slab.caches().includes(cache.s));
  k.rcu_barrier();
  assert.equal(footprint(k), before, 'pages not given back after destroying the caches');
  assert.equal(k.bug.tainted, 0);
}

for (const { label, slab, sheaves } of SLAB_MACHINES) {
  for (const cpus of [1, 2]) {
    test(`${label}: random cache and kmalloc sequences on ${cpus} CPU(s), frees from any CPU`, () => {
      fc.assert(fc.property(fc.array(cmdArb(cpus), { minLength: 20, maxLength: 160 }), (cmds) => run(slab, cpus, cmds, sheaves)),
        { numRuns: 40, seed: 20261122 + cpus });
    });
  }
}

for (const { label, slab, sheaves } of SLAB_MACHINES) test(`${label}: a long sequence with many objects per cache (slabs fill, go partial, empty, and move between CPUs)`, () => {
  const cmds: Cmd[] = [
    { op: 'create', size: 200, align: 0, hw: true, ctor: false, rcu: false, noMerge: true },
    { op: 'create', size: 40, align: 0, hw: false, ctor: true, rcu: false, noMerge: false },
    { op: 'create', size: 1000, align: 0, hw: false, ctor: false, rcu: true, noMerge: false },
  ];
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < 3000; i++) {
    const r = rnd();
    const cpu = rnd() < 0.5 ? 0 : 1;
    if (r < 0.45) cmds.push({ op: 'alloc', cache: Math.floor(rnd() * 3), cpu, zero: rnd() < 0.2 });
    else if (r < 0.55) cmds.push({ op: 'kmalloc', size: 1 + Math.floor(rnd() * 3000), gfp: Math.floor(rnd() * 7), cpu });
    else if (r < 0.995) cmds.push({ op: 'free', pick: Math.floor(rnd() * 1e6), cpu });
    else cmds.push({ op: 'shrink', cache: Math.floor(rnd() * 3) });
  }
  run(slab, 2, cmds, sheaves);
});
