/*
 * 6.18's prefilled sheaves (slub_sheaves.ts, through the Kernel facade):
 * kmem_cache_prefill_sheaf() taking this CPU's spare, a barn's full sheaf
 * or a new one, oversize sheaves, kmem_cache_alloc_from_sheaf() with
 * __GFP_ZERO, kmem_cache_refill_sheaf() topping up and growing a sheaf,
 * kmem_cache_return_sheaf() keeping it (spare, barn) or flushing it; that
 * /proc/slabinfo counts a prefilled sheaf's objects as active, and that
 * everything comes back after destroy. Then a model test of random
 * prefill / alloc_from_sheaf / refill / return / alloc / free sequences on
 * two CPUs: no object handed out twice, nothing lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { MAX_FULL_SHEAVES, type SlubSheaves } from '../../src/mm/slub_sheaves.ts';
import { boot, buddyFreePages, logged, shrinkAll, slabinfo, slub } from '../slab/helpers.ts';

const CAP = 8;
const ENOMEM = 12;
const EINVAL = 22;

interface Setup {
  k: Kernel;
  s: number;
  sh: SlubSheaves;
  active: () => number;
  /** This CPU's spare sheaf (0: none) and the barn's sheaf counts. */
  spare: () => number;
  barn: () => { full: number; empty: number };
}

function setup(mode: 'opt-in' | 'all' = 'opt-in'): Setup {
  const k = boot({ mem: '128M', cpus: 2, sheaves: mode }, { errors: 'throw' });
  const s = k.kmem_cache_create('prefill_test', 64, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const sh = slub(k).sheaves!;
  return {
    k, s, sh, active: () => slabinfo(k).get('prefill_test')!.active, spare: () => sh.pcsState(s, k.smp_processor_id()).spare,
    barn: () => sh.barnCounts(sh.barnOf(s, 0)),
  };
}

/** The objects a sheaf holds, read from its objects[] in memory. */
function sheafObjects(k: Kernel, sh: SlubSheaves, sheaf: number): number[] {
  const n = k.kmem_cache_sheaf_size(sheaf);
  return Array.from({ length: n }, (_, i) => k.kaddr.readPtr(sheaf + sh.SH.objects + i * k.layout.ptrSize));
}

/** The cache an object's slab belongs to. */
function cacheOf(k: Kernel, obj: number): number {
  const impl = k.slab.impl;
  return impl.slab_cache(impl.folioPfn(obj));
}

test('prefill, allocate from the sheaf, return it: it becomes the spare, and the next prefill takes it back', () => {
  const { k, s, sh, active, spare } = setup();
  const sheaf = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 5);
  assert.notEqual(sheaf, 0);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), CAP, 'a new sheaf is filled up to the cache\'s capacity');
  assert.equal(k.kaddr.read32(sheaf + sh.SHP.capacity), CAP, 'sheaf->capacity');
  assert.equal(k.ksize(sheaf), k.slab.kmalloc_size_roundup(sh.SH.size + CAP * k.layout.ptrSize), 'a kmalloc object');
  assert.ok(active() >= CAP, 'the sheaf\'s objects are allocated as far as the slabs know');
  const objs = Array.from({ length: 5 }, () => k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf));
  assert.equal(new Set(objs).size, 5);
  for (const o of objs) assert.equal(cacheOf(k, o), s);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), CAP - 5);
  assert.equal(spare(), 0);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  assert.equal(spare(), sheaf, 'no spare: the returned sheaf is kept as it is');
  assert.equal(sh.pcsState(s, k.smp_processor_id()).spareSize, CAP - 5);
  // the spare again, topped up to capacity because it holds fewer than asked
  const again = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, CAP);
  assert.equal(again, sheaf);
  assert.equal(spare(), 0);
  assert.equal(k.kmem_cache_sheaf_size(again), CAP);
  // a sheaf holding enough is not touched
  const two = k.kmem_cache_alloc_from_sheaf(s, 0, again);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, again);
  assert.equal(k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 2), again);
  assert.equal(k.kmem_cache_sheaf_size(again), CAP - 1);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, again);
  for (const o of [...objs, two]) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
  assert.ok(!k.slab.caches().includes(s));
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
});

test('a returned sheaf that cannot be the spare is refilled and goes to the barn; a prefill takes the barn\'s full sheaf', () => {
  const { k, s, spare, barn } = setup();
  const a = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 1);
  const b = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 1);
  assert.notEqual(a, b);
  const objs = [k.kmem_cache_alloc_from_sheaf(s, 0, b), k.kmem_cache_alloc_from_sheaf(s, 0, b)];
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, a);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, b);
  assert.equal(spare(), a);
  assert.deepEqual(barn(), { full: 1, empty: 0 }, 'b refilled (2 objects) and put as a full sheaf');
  assert.equal(k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 3), a, 'the spare first');
  const c = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 3);
  assert.equal(c, b, 'then the barn\'s full sheaf');
  assert.equal(k.kmem_cache_sheaf_size(c), CAP);
  assert.deepEqual(barn(), { full: 0, empty: 0 });
  // the barn's empty sheaves serve too (barn_get_full_or_empty_sheaf()): a full main traded in leaves one there
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, a);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, c);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
});

test(`the barn takes returned sheaves up to MAX_FULL_SHEAVES (${MAX_FULL_SHEAVES}); the next one is flushed and freed`, () => {
  const { k, s, sh, active, spare, barn } = setup();
  const sheaves = Array.from({ length: MAX_FULL_SHEAVES + 2 }, () => k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, CAP));
  assert.equal(new Set(sheaves).size, sheaves.length);
  for (const sheaf of sheaves) k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  assert.equal(spare(), sheaves[0]);
  assert.deepEqual(barn(), { full: MAX_FULL_SHEAVES, empty: 0 });
  const u = sh.usage(s, [0]);
  assert.equal(u.barnObjects + u.cpuObjects[k.smp_processor_id()], (MAX_FULL_SHEAVES + 1) * CAP, 'the last sheaf\'s objects went back to the slabs');
  assert.equal(u.sheaves, 2 + 1 + MAX_FULL_SHEAVES, 'the two CPUs\' mains, the spare and the barn\'s: the last sheaf was freed');
  k.kmem_cache_shrink(s);
  assert.equal(active(), 0, 'shrink flushes the spare and the barn');
  assert.equal(slabinfo(k).get('prefill_test')!.num, 0);
  k.kmem_cache_destroy(s);
});

test('an oversize sheaf holds exactly what was asked, and is flushed and freed when returned', () => {
  const { k, s, sh, active, spare } = setup();
  const size = 3 * CAP;
  const sheaf = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, size);
  assert.notEqual(sheaf, 0);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), size);
  assert.equal(k.kaddr.read32(sheaf + sh.SHP.capacity), size);
  assert.ok(k.ksize(sheaf) >= sh.SH.size + size * k.layout.ptrSize);
  const objs = sheafObjects(k, sh, sheaf);
  assert.equal(new Set(objs).size, size);
  for (const o of objs) assert.equal(cacheOf(k, o), s);
  assert.ok(active() >= size);
  const one = k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf);
  assert.equal(one, objs[size - 1], 'the last object first');
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  assert.equal(spare(), 0, 'an oversize sheaf is never kept');
  k.kmem_cache_shrink(s);
  assert.equal(active(), 1);
  k.kmem_cache_free(s, one);
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
});

test('refill: tops a sheaf up, grows a regular sheaf into an oversize one (returning the old), -EINVAL for NULL', () => {
  const { k, s, spare } = setup();
  let sheaf = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, 2);
  const objs: number[] = [];
  for (let i = 0; i < 5; i++) objs.push(k.kmem_cache_alloc_from_sheaf(s, 0, sheaf));
  assert.equal(k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, sheaf, 2), sheaf, 'holds enough: untouched');
  assert.equal(k.kmem_cache_sheaf_size(sheaf), CAP - 5);
  assert.equal(k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, sheaf, CAP - 1), sheaf);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), CAP, 'refilled to capacity');
  const old = sheaf;
  const r = k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, sheaf, 2 * CAP);
  assert.ok(r > 0 && r !== old, 'a new, oversize sheaf');
  sheaf = r;
  assert.equal(k.kmem_cache_sheaf_size(sheaf), 2 * CAP);
  assert.equal(spare(), old, 'the old sheaf was returned (and kept as the spare)');
  // an oversize sheaf is topped up to its own capacity
  for (let i = 0; i < CAP + 3; i++) objs.push(k.kmem_cache_alloc_from_sheaf(s, 0, sheaf));
  assert.equal(k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, sheaf, CAP), sheaf);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), 2 * CAP);
  assert.equal(k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, 0, 1), -EINVAL);
  assert.equal(new Set(objs).size, objs.length);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
});

test('refill and prefill that cannot get their objects fail with the caller\'s sheaf intact', () => {
  const k = boot({ mem: '64M', cpus: 1, sheaves: 'opt-in' }, { errors: 'throw' });
  const s = k.kmem_cache_create('huge', 1024 * 1024, { sheaf_capacity: 2 }, k.SLAB_NO_MERGE);
  const nowarn = k.GFP_KERNEL | k.__GFP_NOWARN;
  const sheaf = k.kmem_cache_prefill_sheaf(s, nowarn, 1);
  assert.notEqual(sheaf, 0);
  assert.equal(k.kmem_cache_prefill_sheaf(s, nowarn, 1000), 0, 'an oversize sheaf of 1000 MiB');
  assert.equal(k.kmem_cache_refill_sheaf(s, nowarn, sheaf, 1000), -ENOMEM);
  assert.equal(k.kmem_cache_sheaf_size(sheaf), 2);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  k.kmem_cache_shrink(s);
  assert.equal(slabinfo(k).get('huge')!.active, 0);
  k.kmem_cache_destroy(s);
});

test('kmem_cache_alloc_from_sheaf(): __GFP_ZERO clears the object; an empty sheaf gives NULL and says nothing', () => {
  const { k, s, sh } = setup();
  const sheaf = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, CAP);
  for (const o of sheafObjects(k, sh, sheaf)) k.kaddr.fill(o, 64, 0xaa);
  const plain = k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf);
  assert.equal(k.kaddr.read8(plain + 10), 0xaa);
  const zeroed = k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL | k.__GFP_ZERO, sheaf);
  assert.ok(k.kaddr.readBytes(zeroed, 64).every((b) => b === 0));
  const objs = [plain, zeroed];
  while (k.kmem_cache_sheaf_size(sheaf) > 0) objs.push(k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf));
  assert.deepEqual(logged(k, () => assert.equal(k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf), 0)), []);
  assert.equal(new Set(objs).size, CAP);
  k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
});

test('6.18: a cache without sheaves gets oversize sheaves, with a warning unless debugging took its sheaves; 7.0 does not warn', () => {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'log' });
  const plain = k.kmem_cache_create('no_sheaves', 64, 0, k.SLAB_NO_MERGE, null);
  const lines = logged(k, () => {
    const sheaf = k.kmem_cache_prefill_sheaf(plain, k.GFP_KERNEL, 3);
    assert.equal(k.kmem_cache_sheaf_size(sheaf), 3);
    const o = k.kmem_cache_alloc_from_sheaf(plain, k.GFP_KERNEL, sheaf);
    k.kmem_cache_return_sheaf(plain, k.GFP_KERNEL, sheaf);
    k.kmem_cache_free(plain, o);
  });
  assert.ok(lines.some((l) => /^WARNING: CPU: 0 PID: \d+ at mm\/slub\.c:\d+ kmem_cache_prefill_sheaf/.test(l)), lines.join('\n'));
  const debug = k.kmem_cache_create('debugged', 64, { sheaf_capacity: CAP }, k.SLAB_RED_ZONE);
  assert.deepEqual(logged(k, () => k.kmem_cache_return_sheaf(debug, k.GFP_KERNEL, k.kmem_cache_prefill_sheaf(debug, k.GFP_KERNEL, 2))), []);
  k.kmem_cache_shrink(plain);
  assert.equal(slabinfo(k).get('no_sheaves')!.active, 0);
  const seven = boot({ mem: '128M', cpus: 2, sheaves: 'all', cmdline: 'slab_debug=F,dbg' }, { errors: 'throw' });
  const dbg = seven.kmem_cache_create('dbg', 64, 0, 0, null);
  const sheaf = seven.kmem_cache_prefill_sheaf(dbg, seven.GFP_KERNEL, 2);
  assert.equal(seven.kmem_cache_sheaf_size(sheaf), 2);
  seven.kmem_cache_return_sheaf(dbg, seven.GFP_KERNEL, sheaf);
  assert.equal(slabinfo(seven).get('dbg')!.active, 0);
});

test('6.12 has no prefilled sheaves: calling one is a TypeError; a NULL cache or sheaf is an oops', () => {
  const old = boot({ mem: '128M', cpus: 2 }, { errors: 'throw' });
  const s = old.kmem_cache_create('c', 64, 0, 0, null);
  assert.throws(() => old.kmem_cache_prefill_sheaf(s, old.GFP_KERNEL, 4), TypeError);
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'log' });
  const s2 = k.kmem_cache_create('c', 64, { sheaf_capacity: CAP }, 0);
  const zero = k.kmem_cache_prefill_sheaf(s2, k.GFP_KERNEL, 0);
  // size 0 on 6.18: a sheaf all the same, not refilled (it already holds the 0 objects asked for); 7.0 returns NULL
  assert.ok(zero !== 0 && k.kmem_cache_sheaf_size(zero) <= CAP);
  k.kmem_cache_return_sheaf(s2, k.GFP_KERNEL, zero);
  const seven = boot({ mem: '128M', cpus: 2, sheaves: 'all' }, { errors: 'log' });
  assert.equal(seven.kmem_cache_prefill_sheaf(seven.kmem_cache_create('c7', 64, 0, 0, null), seven.GFP_KERNEL, 0), 0, 'size 0 on 7.0: NULL');
  assert.equal(k.kmem_cache_prefill_sheaf(0, k.GFP_KERNEL, 4), 0);
  assert.match(k.log.dmesg(), /BUG: kernel NULL pointer dereference/);
  assert.equal(k.kmem_cache_alloc_from_sheaf(s2, k.GFP_KERNEL, 0), 0);
});

test('everything comes back: prefilled sheaves returned, objects freed, the cache destroyed', () => {
  const k = boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' }, { errors: 'throw' });
  shrinkAll(k);
  const freeBefore = buddyFreePages(k);
  const s = k.kmem_cache_create('coalesce', 192, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  const objs: number[] = [];
  for (const cpu of [0, 1]) {
    k.set_cpu(cpu);
    const sheaves = [CAP, 2 * CAP + 1, 3].map((n) => k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, n));
    for (const sheaf of sheaves) for (let i = 0; i < 3; i++) objs.push(k.kmem_cache_alloc_from_sheaf(s, k.GFP_KERNEL, sheaf));
    for (let i = 0; i < 20; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
    for (const sheaf of sheaves) k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  }
  assert.equal(new Set(objs).size, objs.length);
  k.set_cpu(0);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'), k.log.dmesg());
  shrinkAll(k);
  assert.equal(buddyFreePages(k), freeBefore, 'every page back');
});

/* ---------------------------------------------------------------------- */
/* Model test                                                               */
/* ---------------------------------------------------------------------- */

type Cmd =
  | { op: 'prefill'; size: number; cpu: number }
  | { op: 'take'; pick: number; n: number; zero: boolean }
  | { op: 'refill'; pick: number; size: number; cpu: number }
  | { op: 'return'; pick: number; cpu: number }
  | { op: 'alloc'; n: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'shrink' };

const cpu = fc.nat(1);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('prefill' as const), size: fc.integer({ min: 1, max: 3 * CAP }), cpu }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('take' as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 2 * CAP }), zero: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('refill' as const), pick: fc.nat(), size: fc.integer({ min: 1, max: 3 * CAP }), cpu }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('return' as const), pick: fc.nat(), cpu }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('alloc' as const), n: fc.integer({ min: 1, max: 2 * CAP }), cpu }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('shrink' as const) }) },
);

function runModel(arch: 'x86_64' | 'i386', mode: 'opt-in' | 'all', cmds: Cmd[]): void {
  const k = boot({ arch, mem: '128M', cpus: 2, sheaves: mode }, { errors: 'throw' });
  const sh = slub(k).sheaves!;
  const s = k.kmem_cache_create('model', 64, { sheaf_capacity: CAP }, k.SLAB_NO_MERGE);
  /** Objects handed out, with the tag written into each. */
  const live = new Map<number, number>();
  /** Outstanding prefilled sheaves. */
  let sheaves: number[] = [];
  let tag = 1;
  const handOut = (o: number) => {
    assert.notEqual(o, 0);
    assert.equal(cacheOf(k, o), s);
    assert.ok(!live.has(o), 'an object handed out twice');
    live.set(o, tag);
    k.kaddr.write32(o, tag++);
  };
  const active = () => slabinfo(k).get('model')!.active;
  for (const c of cmds) {
    switch (c.op) {
      case 'prefill': {
        k.set_cpu(c.cpu);
        const sheaf = k.kmem_cache_prefill_sheaf(s, k.GFP_KERNEL, c.size);
        assert.notEqual(sheaf, 0);
        assert.ok(!sheaves.includes(sheaf), 'a sheaf given out twice');
        assert.ok(k.kmem_cache_sheaf_size(sheaf) >= c.size);
        sheaves.push(sheaf);
        break;
      }
      case 'take': {
        if (sheaves.length === 0) break;
        const sheaf = sheaves[c.pick % sheaves.length];
        for (let i = 0; i < c.n; i++) {
          const before = k.kmem_cache_sheaf_size(sheaf);
          const o = k.kmem_cache_alloc_from_sheaf(s, c.zero ? k.__GFP_ZERO : 0, sheaf);
          if (before === 0) {
            assert.equal(o, 0, 'an empty sheaf gives NULL');
            break;
          }
          assert.equal(k.kmem_cache_sheaf_size(sheaf), before - 1);
          if (c.zero) assert.equal(k.kaddr.read32(o), 0);
          handOut(o);
        }
        break;
      }
      case 'refill': {
        if (sheaves.length === 0) break;
        k.set_cpu(c.cpu);
        const i = c.pick % sheaves.length;
        const r = k.kmem_cache_refill_sheaf(s, k.GFP_KERNEL, sheaves[i], c.size);
        assert.ok(r > 0, `refill failed: ${r}`);
        assert.ok(k.kmem_cache_sheaf_size(r) >= c.size);
        assert.ok(r === sheaves[i] || !sheaves.includes(r));
        sheaves[i] = r;
        break;
      }
      case 'return': {
        if (sheaves.length === 0) break;
        k.set_cpu(c.cpu);
        const [sheaf] = sheaves.splice(c.pick % sheaves.length, 1);
        k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
        break;
      }
      case 'alloc': {
        k.set_cpu(c.cpu);
        for (let i = 0; i < c.n; i++) handOut(k.kmem_cache_alloc(s, k.GFP_KERNEL));
        break;
      }
      case 'free': {
        if (live.size === 0) break;
        k.set_cpu(c.cpu);
        const objs = [...live.keys()];
        const o = objs[c.pick % objs.length];
        assert.equal(k.kaddr.read32(o), live.get(o), 'a live object was overwritten');
        live.delete(o);
        k.kmem_cache_free(s, o);
        break;
      }
      case 'shrink': {
        k.set_cpu(0);
        k.kmem_cache_shrink(s);
        // the CPUs' sheaves and the barn are empty now: active objects are the live ones and the prefilled sheaves' ones
        const held = sheaves.flatMap((sheaf) => sheafObjects(k, sh, sheaf));
        assert.equal(new Set(held).size, held.length, 'an object in two sheaves');
        for (const o of held) assert.ok(!live.has(o), 'an object both handed out and in a sheaf');
        assert.equal(active(), live.size + held.length);
        break;
      }
    }
    const u = sh.usage(s, [0]);
    const inSheaves = sheaves.reduce((n, sheaf) => n + k.kmem_cache_sheaf_size(sheaf), 0);
    assert.ok(active() >= live.size + inSheaves + u.barnObjects + u.cpuObjects.reduce((a, b) => a + b, 0));
  }
  for (const sheaf of sheaves) k.kmem_cache_return_sheaf(s, k.GFP_KERNEL, sheaf);
  sheaves = [];
  for (const [o, t] of live) {
    assert.equal(k.kaddr.read32(o), t);
    k.kmem_cache_free(s, o);
  }
  k.set_cpu(0);
  k.kmem_cache_shrink(s);
  assert.equal(active(), 0, 'nothing lost');
  assert.equal(slabinfo(k).get('model')!.num, 0);
  k.kmem_cache_destroy(s);
  assert.ok(!k.log.dmesg().includes('still has objects'));
}

for (const [arch, mode, numRuns] of [['x86_64', 'opt-in', 40], ['i386', 'opt-in', 15], ['x86_64', 'all', 15]] as const) {
  test(`model, ${arch}, sheaves ${mode}: random prefill / alloc_from_sheaf / refill / return / alloc / free on two CPUs: nothing handed out twice, nothing lost`, () => {
    fc.assert(fc.property(fc.array(cmdArb, { minLength: 10, maxLength: 120 }), (cmds) => runModel(arch, mode, cmds)), { numRuns });
  });
}
