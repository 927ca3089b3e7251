/*
 * Model-based property test of slab debugging: random sequences of valid
 * operations (cache creation with random debug flags, kmem_cache_alloc/
 * free, kmalloc/kfree, validate_slab_cache(), kmem_cache_shrink(), on
 * random CPUs) mixed with injected bugs, on machines booted with various
 * slab_debug= options:
 *
 *   oob      a byte written past a live object (its right red zone, or the
 *            kmalloc red zone beyond the requested size)       needs F, Z
 *   under    a byte written just before a live object          needs F, Z
 *   uaf      a byte written into a free object                 needs F, P
 *   double   a free object freed again                          needs F
 *   invalid  a pointer into the middle of a live object freed   needs F
 *   wrong    an object freed with the wrong cache named (freed to its own)
 *
 * The model: the objects the kernel holds allocated (live ones, and the
 * ones whose free it refused after a report, which leak), each with a tag
 * written into it, and the objects freed since.
 *
 * Checked after every step: a new object overlaps nothing allocated and
 * comes zeroed when asked; every allocated object keeps its tag (no repair
 * writes into an object); each cache's slabinfo has num_objs >= active_objs
 * >= its allocated objects. At the end, after freeing everything: a first
 * validate_slab_cache() may still find injected damage, a second finds
 * nothing (but the slabs given up after a failed check, which it counts);
 * (validate_slab() stops at a slab's first bad object, so the first
 * "pass" is repeated until it reports nothing)
 * every slab found in the memmap is counted; in each non-given-up slab of a
 * test cache the objects in use are exactly the leaked ones; the kmalloc
 * caches hold exactly the leaked kmalloc objects more than before; caches
 * with nothing leaked are destroyed without a report. And: a run with an
 * injected bug reported something; a run without printed no report and
 * left the kernel untainted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPtr } from '../../src/arch/x86/layout.ts';
import { boot, logged, slabCensus, slub } from './helpers.ts';

type Cmd =
  | { op: 'create'; size: number; align: number; flags: number }
  | { op: 'alloc'; cache: number; cpu: number; zero: boolean }
  | { op: 'kmalloc'; size: number; gfp: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'validate'; cache: number }
  | { op: 'shrink'; cache: number }
  | { op: 'inject'; bug: 'oob' | 'under' | 'uaf' | 'double' | 'invalid' | 'wrong'; pick: number; cpu: number };

const CMDLINES = [
  'slub_debug=FZPU', 'slub_debug=FZP', 'slub_debug=FZ', 'slab_debug=FPU,kmalloc-*', 'slub_debug=F,kmalloc-64;FZPU,kmalloc-1*,kmalloc-2*',
  'slub_debug=FZPU,dbg_*', 'slub_debug=U',
];

function cmdArb(cpus: number): fc.Arbitrary<Cmd> {
  const cpu = fc.integer({ min: 0, max: cpus - 1 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ op: fc.constant('create' as const), size: fc.integer({ min: 1, max: 700 }),
      align: fc.constantFrom(0, 8, 64), flags: fc.integer({ min: 0, max: 15 }) }) },
    { weight: 8, arbitrary: fc.record({ op: fc.constant('alloc' as const), cache: fc.nat(), cpu, zero: fc.boolean() }) },
    { weight: 7, arbitrary: fc.record({ op: fc.constant('kmalloc' as const), size: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 9, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 8193, max: 20000 }) }),
    gfp: fc.nat(), cpu }) },
    { weight: 10, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('validate' as const), cache: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('shrink' as const), cache: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('inject' as const),
      bug: fc.constantFrom('oob' as const, 'under' as const, 'uaf' as const, 'double' as const, 'invalid' as const, 'wrong' as const),
      pick: fc.nat(), cpu }) },
  );
}

interface Cache { s: number; name: string }
interface Obj { addr: number; len: number; s: number; kmalloc: boolean; large: boolean; tag: number }

function run(cmdline: string, cpus: number, cmds: Cmd[]): { injected: number; reports: number; leaked: number } {
  const k = boot({ mem: '128M', cpus, cmdline });
  const im = slub(k);
  const x = (a: number) => formatPtr(k.layout, a);
  const flagsOf = (s: number) => k.kaddr.read32(s + im.cache.flags);
  const objectSize = (s: number) => k.kaddr.read32(s + im.cache.object_size);
  const has = (s: number, f: number) => (flagsOf(s) & f) === f;
  const F = k.SLAB_CONSISTENCY_CHECKS;
  const Z = k.SLAB_RED_ZONE;
  const P = k.SLAB_POISON;
  const gfps = [k.GFP_KERNEL, k.GFP_KERNEL | k.__GFP_ZERO, k.GFP_ATOMIC];
  const kmallocCaches = new Map<number, number>(); // kmalloc cache -> active_objs before the run
  const activeOf = (s: number) => k.slab.slabinfo().find((r) => r.name === k.slab.cacheName(s))!.info.active_objs;
  for (const size of [16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]) {
    const s = k.slab.kmalloc_slab(size, k.GFP_KERNEL);
    k.kmem_cache_shrink(s);
    kmallocCaches.set(s, activeOf(s));
  }

  const caches: Cache[] = [];
  const live: Obj[] = [];
  const leaked: Obj[] = [];
  const freed = new Map<number, Obj>();
  let nextTag = 1;
  let injected = 0;
  let reports = 0;

  const step = (fn: () => void): string[] => {
    const lines = logged(k, fn);
    reports += lines.filter((l) => /^BUG \S+ \(/.test(l) || /^cache_from_obj: Wrong slab cache/.test(l)).length;
    return lines;
  };
  const tagAt = (o: Obj) => o.addr + (o.len >= 8 ? 4 : 0);
  const add = (addr: number, len: number, s: number, kmalloc: boolean, zero: boolean) => {
    assert.notEqual(addr, 0);
    for (const o of [...live, ...leaked]) {
      assert.ok(addr + len <= o.addr || o.addr + o.len <= addr, `${x(addr)}+${len} overlaps ${x(o.addr)}+${o.len}`);
    }
    if (zero) assert.ok(k.kaddr.readBytes(addr, len).every((b) => b === 0), 'not zeroed');
    const o: Obj = { addr, len, s, kmalloc, large: s === 0, tag: nextTag++ };
    if (len >= 4) k.kaddr.write32(tagAt(o), o.tag);
    freed.delete(addr);
    live.push(o);
  };
  /** Free o (named with cache `named`, or kfree); a refused free leaks it. */
  const free = (o: Obj, named: number) => {
    const lines = step(() => (o.kmalloc ? k.kfree(o.addr) : k.kmem_cache_free(named, o.addr)));
    live.splice(live.indexOf(o), 1);
    if (o.large) return;
    if (lines.includes(`FIX ${k.slab.cacheName(o.s)}: Object at 0x${x(o.addr)} not freed`)) leaked.push(o);
    else freed.set(o.addr, o);
  };
  /** Is o still a free object of its cache (not handed out again, its slab not gone or given up)? */
  const reallyFree = (o: Obj) => {
    const pfn = im.folioPfn(o.addr);
    return im.isSlab(pfn) && im.slab_cache(pfn) === o.s && im.object_is_free(o.s, pfn, o.addr);
  };
  const checkTags = () => {
    for (const o of [...live, ...leaked]) if (o.len >= 4) assert.equal(k.kaddr.read32(tagAt(o)), o.tag, `tag of ${x(o.addr)}`);
  };

  for (const c of cmds) {
    switch (c.op) {
      case 'create': {
        if (caches.length >= 5) break;
        const flags = (c.flags & 1 ? F : 0) | (c.flags & 2 ? Z : 0) | (c.flags & 4 ? P : 0) | (c.flags & 8 ? k.SLAB_STORE_USER : 0);
        const name = `dbg_${caches.length}`;
        const s = k.kmem_cache_create(name, c.size, c.align, flags, null);
        assert.notEqual(s, 0);
        if (!caches.some((cc) => cc.s === s)) caches.push({ s, name: k.slab.cacheName(s) });
        break;
      }
      case 'alloc': {
        if (caches.length === 0) break;
        const cache = caches[c.cache % caches.length];
        k.set_cpu(c.cpu);
        let obj = 0;
        step(() => (obj = c.zero ? k.kmem_cache_zalloc(cache.s, k.GFP_KERNEL) : k.kmem_cache_alloc(cache.s, k.GFP_KERNEL)));
        add(obj, objectSize(cache.s), cache.s, false, c.zero);
        break;
      }
      case 'kmalloc': {
        k.set_cpu(c.cpu);
        const gfp = gfps[c.gfp % gfps.length];
        let obj = 0;
        step(() => (obj = k.kmalloc(c.size, gfp)));
        const large = c.size > 8192;
        add(obj, c.size, large ? 0 : im.slab_cache(im.folioPfn(obj)), true, (gfp & k.__GFP_ZERO) !== 0);
        break;
      }
      case 'free': {
        if (live.length === 0) break;
        const o = live[c.pick % live.length];
        k.set_cpu(c.cpu);
        free(o, o.s);
        break;
      }
      case 'validate': {
        const all = [...caches.map((cc) => cc.s), ...kmallocCaches.keys()];
        step(() => k.validate_slab_cache(all[c.cache % all.length]));
        break;
      }
      case 'shrink': {
        const all = [...caches.map((cc) => cc.s), ...kmallocCaches.keys()];
        step(() => k.kmem_cache_shrink(all[c.cache % all.length]));
        break;
      }
      case 'inject': {
        k.set_cpu(c.cpu);
        const liveWith = (f: number) => live.filter((o) => !o.large && has(o.s, f));
        switch (c.bug) {
          case 'oob': case 'under': {
            const cands = liveWith(F | Z);
            if (cands.length === 0) break;
            const o = cands[c.pick % cands.length];
            // past the request where kmalloc keeps it (U), else past the object
            const end = o.kmalloc && has(o.s, k.SLAB_STORE_USER) ? o.len : objectSize(o.s);
            k.kaddr.write8(c.bug === 'oob' ? o.addr + end : o.addr - 1, 0x41);
            injected++;
            break;
          }
          case 'uaf': {
            const cands = [...freed.values()].filter((o) => has(o.s, F | P) && reallyFree(o));
            if (cands.length === 0) break;
            const o = cands[c.pick % cands.length];
            k.kaddr.write8(o.addr + (c.pick % objectSize(o.s)), 0);
            injected++;
            break;
          }
          case 'double': {
            const cands = [...freed.values()].filter((o) => has(o.s, F) && reallyFree(o));
            if (cands.length === 0) break;
            const o = cands[c.pick % cands.length];
            const lines = step(() => (o.kmalloc ? k.kfree(o.addr) : k.kmem_cache_free(o.s, o.addr)));
            assert.equal(lines[lines.length - 1], `FIX ${k.slab.cacheName(o.s)}: Object at 0x${x(o.addr)} not freed`);
            injected++;
            break;
          }
          case 'invalid': {
            const cands = liveWith(F);
            if (cands.length === 0) break;
            const o = cands[c.pick % cands.length];
            const lines = step(() => (o.kmalloc ? k.kfree(o.addr + 1) : k.kmem_cache_free(o.s, o.addr + 1)));
            const name = k.slab.cacheName(o.s);
            // (a slab given up after a failed check refuses every free first)
            assert.match(lines[1], new RegExp(`^BUG ${name} \\(.*\\): (Invalid object pointer 0x${x(o.addr + 1)}|Slab disabled since SLUB metadata consistency check failed)$`));
            assert.equal(lines[lines.length - 1], `FIX ${name}: Object at 0x${x(o.addr + 1)} not freed`);
            injected++;
            break;
          }
          case 'wrong': {
            const cands = live.filter((o) => !o.kmalloc);
            const other = caches.find((cc) => cands.length > 0 && cc.s !== cands[c.pick % cands.length].s);
            if (cands.length === 0 || other === undefined) break;
            free(cands[c.pick % cands.length], other.s);
            injected++;
            break;
          }
        }
        break;
      }
    }
    checkTags();
    for (const cache of caches) {
      const row = k.slab.slabinfo().find((r) => r.name === cache.name)!;
      const n = [...live, ...leaked].filter((o) => o.s === cache.s).length;
      assert.ok(row.info.num_objs >= row.info.active_objs && row.info.active_objs >= n, `${cache.name}: ${JSON.stringify(row.info)} with ${n}`);
    }
  }

  // Free everything; validate twice: the second pass finds nothing but the given-up slabs.
  k.set_cpu(0);
  while (live.length > 0) free(live[0], live[0].s);
  const all = [...caches.map((cc) => cc.s), ...kmallocCaches.keys()];
  // validate_slab() stops at the first bad object of a slab: validate until a pass reports nothing
  for (const s of all) {
    for (let pass = 0; pass < 64; pass++) if (!step(() => k.validate_slab_cache(s)).some((l) => /^BUG /.test(l))) break;
  }
  for (const s of all) {
    const census = slabCensus(k, s);
    const frozen = [...census.values()].filter((e) => e.frozen);
    const lines = logged(k, () => k.validate_slab_cache(s));
    // (only a SLAB_STORE_USER cache, which lists its full slabs, counts every slab)
    if (frozen.length === 0 || !has(s, k.SLAB_STORE_USER)) assert.deepEqual(lines, [], k.slab.cacheName(s));
    else assert.deepEqual(lines, [`SLUB: ${k.slab.cacheName(s)} ${census.size - frozen.length} slabs counted but counter=${census.size}`]);
    for (const e of frozen) assert.equal(e.inuse, e.objects, 'a given-up slab counts every object used');
    const row = k.slab.slabinfo().find((r) => r.name === k.slab.cacheName(s))!;
    assert.equal(census.size, row.info.num_slabs, `${row.name}: slabs in the memmap`);
    let free = 0;
    for (const e of census.values()) free += e.objects - e.inuse;
    assert.equal(row.info.num_objs - row.info.active_objs, free, `${row.name}: free objects`);
  }
  checkTags();
  // Test caches: in the slabs not given up, exactly the leaked objects are in use.
  for (const cache of caches) {
    for (const [pfn, e] of slabCensus(k, cache.s)) {
      if (e.frozen) continue;
      const mine = leaked.filter((o) => !o.large && im.folioPfn(o.addr) === pfn).length;
      assert.equal(e.inuse, mine, `${cache.name}: slab ${pfn} has ${e.inuse} objects in use, ${mine} leaked`);
    }
  }
  // kmalloc caches: what they held before, plus the leaked kmalloc objects, plus given-up slabs' objects.
  for (const [s, before] of kmallocCaches) {
    let givenUp = 0;
    for (const [pfn, e] of slabCensus(k, s)) {
      if (!e.frozen) continue;
      givenUp += e.objects - leaked.filter((o) => im.folioPfn(o.addr) === pfn).length;
    }
    const mine = leaked.filter((o) => o.s === s).length;
    k.kmem_cache_shrink(s);
    assert.ok(activeOf(s) <= before + mine + givenUp && activeOf(s) >= before + mine, `${k.slab.cacheName(s)}: ${activeOf(s)} active, ` +
      `${before} before, ${mine} leaked, ${givenUp} in given-up slabs`);
  }
  for (const cache of caches) {
    if (leaked.some((o) => o.s === cache.s) || [...slabCensus(k, cache.s).values()].some((e) => e.frozen)) continue;
    assert.deepEqual(logged(k, () => k.kmem_cache_destroy(cache.s)), [], `${cache.name} destroyed without a report`);
  }
  if (injected === 0) {
    assert.equal(reports, 0, 'a report without a bug');
    assert.equal(k.bug.tainted, 0);
  } else {
    assert.ok(reports > 0, `${injected} bugs injected, none reported`);
  }
  return { injected, reports, leaked: leaked.length };
}

for (const cpus of [1, 2]) {
  test(`random operations and injected bugs under slab_debug, ${cpus} CPU(s): reported, and the allocator stays consistent`, () => {
    const total = { runs: 0, injected: 0, reports: 0, leaked: 0 };
    fc.assert(fc.property(fc.constantFrom(...CMDLINES), fc.array(cmdArb(cpus), { minLength: 40, maxLength: 200 }), (cmdline, cmds) => {
      const r = run(cmdline, cpus, cmds);
      total.runs++;
      total.injected += r.injected;
      total.reports += r.reports;
      total.leaked += r.leaked;
    }), { numRuns: 40, seed: 20261123 + cpus });
    // the runs did exercise the reports and the leaks
    assert.ok(total.injected > 100 && total.reports > 100 && total.leaked > 20, JSON.stringify(total));
  });
}
