/*
 * SLUB's fast paths (slub_fastpath.ts) and percpu sheaves (slub_sheaves.ts)
 * against its general paths, model-based: random sequences of kmalloc /
 * kfree / kmem_cache_alloc / kmem_cache_free / bulk calls on random CPUs,
 * on a 6.12 machine (no sheaves: the CPU slab's lockless freelist), on one
 * with 6.18's opt-in sheaves (the test caches ask for 4-object sheaves, so
 * that spares, the barn and its limits come into play at once) and on one
 * with 7.0's sheaves for every cache (the kmalloc caches too), x86_64 and
 * i386 (32-bit pointers, no vmemmap: objects in compound pages take the
 * general path of the CPU-slab freelist there).
 *
 * Each sequence runs on two machines: one as usual, one with the slab
 * tracepoints hooked (SlabCommon never tries the fast paths): both must
 * hand out the same addresses and read the same /proc/slabinfo after every
 * shrink. The model on the first: live objects never overlap and are
 * aligned, each keeps the tag written into it; slabinfo's active_objs of a
 * test cache is at least its live count, exactly it after a shrink (the
 * sheaves' objects are active until flushed); at the end, with everything
 * freed and the caches destroyed, the page allocator has every page back
 * (6.12, opt-in), or every cache has as many active objects as before the test
 * ('all': the kmalloc caches hold the sheaves themselves, and which objects
 * are the CPUs' main sheaves changes as sheaves are swapped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { SheavesMode } from '../../src/machine/config.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { boot, buddyFreePages, shrinkAll, slabinfo } from '../slab/helpers.ts';

const CPUS = 3;
const CACHES = [{ name: 'sh_small', size: 48, align: 16 }, { name: 'sh_big', size: 700, align: 8 }] as const;

type Cmd =
  | { op: 'kmalloc'; size: number; cpu: number }
  | { op: 'alloc'; cache: number; cpu: number }
  | { op: 'bulk'; cache: number; n: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'freebulk'; n: number; cpu: number }
  | { op: 'shrink' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('kmalloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 8192 })), cpu: fc.nat(CPUS - 1) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('alloc' as const), cache: fc.nat(CACHES.length - 1), cpu: fc.nat(CPUS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bulk' as const), cache: fc.nat(CACHES.length - 1), n: fc.integer({ min: 1, max: 12 }), cpu: fc.nat(CPUS - 1) }) },
  { weight: 11, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu: fc.nat(CPUS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('freebulk' as const), n: fc.integer({ min: 1, max: 12 }), cpu: fc.nat(CPUS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'shrink' as const }) },
);

interface Machine {
  k: Kernel;
  caches: number[];
  /** Free buddy pages, and each cache's active objects, before the test caches were created. */
  freeBefore: number;
  activeBefore: string;
  /** A page-sized scratch buffer for the bulk calls' pointer arrays. */
  scratch: number;
}

/** Each cache's active objects, after shrinking until nothing changes (see the header). */
function settledActive(k: Kernel): string {
  let last = '';
  for (let pass = 0; pass < 8; pass++) {
    shrinkAll(k);
    const now = [...slabinfo(k).values()].map((r) => `${r.name} ${r.active}`).join('\n');
    if (now === last) break;
    last = now;
  }
  return last;
}

/** A machine without sheaves (6.12), or with them. */
type Mode = SheavesMode | 'none';

function machine(arch: 'x86_64' | 'i386', mode: Mode, generalOnly: boolean): Machine {
  const k = boot({ arch, mem: '256M', cpus: CPUS, ...(mode === 'none' ? {} : { sheaves: mode }) }, { errors: 'throw' });
  if (generalOnly) {
    k.slab.hooks.kmalloc = () => {};
    k.slab.hooks.kmem_cache_alloc = () => {};
    k.slab.hooks.kfree = () => {};
    k.slab.hooks.kmem_cache_free = () => {};
  }
  const scratch = k.kmalloc(4096, k.GFP_KERNEL);
  const activeBefore = settledActive(k);
  const freeBefore = buddyFreePages(k);
  const caches = CACHES.map((c) => k.kmem_cache_create(c.name, c.size, { align: c.align, sheaf_capacity: 4 }, k.SLAB_NO_MERGE));
  return { k, caches, freeBefore, activeBefore, scratch };
}

interface Live {
  addr: number;
  size: number;
  /** The cache index for kmem_cache_free, -1 for kfree. */
  cache: number;
  tag: number;
}

function overlaps(live: readonly Live[], addr: number, size: number): boolean {
  return live.some((o) => addr < o.addr + o.size && o.addr < addr + size);
}

function run(arch: 'x86_64' | 'i386', mode: Mode, cmds: readonly Cmd[]): void {
  const fast = machine(arch, mode, false);
  const general = machine(arch, mode, true);
  const k = fast.k;
  const live: Live[] = [];
  let tag = 1;
  const both = <T>(fn: (m: Machine) => T): T => {
    const a = fn(fast);
    const b = fn(general);
    assert.deepEqual(a, b, 'the fast and the general path differ');
    return a;
  };
  const add = (addr: number, size: number, cache: number, align: number) => {
    assert.notEqual(addr, 0);
    assert.equal(addr % align, 0, `object ${addr.toString(16)} not aligned to ${align}`);
    assert.ok(!overlaps(live, addr, size), `object ${addr.toString(16)} overlaps a live one`);
    live.push({ addr, size, cache, tag });
    k.kaddr.write32(addr, tag++);
  };
  const ptr = k.layout.ptrSize;
  for (const c of cmds) {
    if (c.op === 'kmalloc') {
      add(both((m) => {
        m.k.set_cpu(c.cpu);
        return m.k.kmalloc(c.size, m.k.GFP_KERNEL);
      }), c.size, -1, 8);
    } else if (c.op === 'alloc') {
      add(both((m) => {
        m.k.set_cpu(c.cpu);
        return m.k.kmem_cache_alloc(m.caches[c.cache], m.k.GFP_KERNEL);
      }), CACHES[c.cache].size, c.cache, CACHES[c.cache].align);
    } else if (c.op === 'bulk') {
      const objs = both((m) => {
        m.k.set_cpu(c.cpu);
        assert.equal(m.k.kmem_cache_alloc_bulk(m.caches[c.cache], m.k.GFP_KERNEL, c.n, m.scratch), c.n);
        return Array.from({ length: c.n }, (_, i) => m.k.kaddr.readPtr(m.scratch + i * ptr));
      });
      for (const o of objs) add(o, CACHES[c.cache].size, c.cache, CACHES[c.cache].align);
    } else if (c.op === 'free') {
      if (live.length === 0) continue;
      const [o] = live.splice(c.pick % live.length, 1);
      assert.equal(k.kaddr.read32(o.addr) >>> 0, o.tag, 'a live object was overwritten');
      both((m) => {
        m.k.set_cpu(c.cpu);
        if (o.cache < 0) m.k.kfree(o.addr);
        else m.k.kmem_cache_free(m.caches[o.cache], o.addr);
      });
    } else if (c.op === 'freebulk') {
      // kmem_cache_free_bulk() of the newest objects of cache 0
      const batch = live.filter((o) => o.cache === 0).slice(-c.n);
      if (batch.length === 0) continue;
      for (const o of batch) {
        assert.equal(k.kaddr.read32(o.addr) >>> 0, o.tag, 'a live object was overwritten');
        live.splice(live.indexOf(o), 1);
      }
      both((m) => {
        m.k.set_cpu(c.cpu);
        batch.forEach((o, i) => m.k.kaddr.writePtr(m.scratch + i * ptr, o.addr));
        m.k.kmem_cache_free_bulk(m.caches[0], batch.length, m.scratch);
      });
    } else {
      both((m) => {
        m.k.set_cpu(0);
        shrinkAll(m.k);
        return readProc(m.k, 'slabinfo');
      });
      const info = slabinfo(k);
      CACHES.forEach((ca, i) => assert.equal(info.get(ca.name)!.active, live.filter((o) => o.cache === i).length, ca.name));
    }
    const info = slabinfo(k);
    CACHES.forEach((ca, i) => assert.ok(info.get(ca.name)!.active >= live.filter((o) => o.cache === i).length));
  }
  for (const o of live) {
    assert.equal(k.kaddr.read32(o.addr) >>> 0, o.tag);
    both((m) => (o.cache < 0 ? m.k.kfree(o.addr) : m.k.kmem_cache_free(m.caches[o.cache], o.addr)));
  }
  both((m) => {
    m.k.set_cpu(0);
    shrinkAll(m.k);
    for (const s of m.caches) m.k.kmem_cache_destroy(s);
    return readProc(m.k, 'slabinfo');
  });
  assert.equal(k.log.dmesg().includes('still has objects'), false);
  if (mode !== 'all') {
    shrinkAll(k);
    assert.equal(buddyFreePages(k), fast.freeBefore, 'every page back');
  } else {
    assert.equal(settledActive(k), fast.activeBefore, 'every cache back to its objects before the test');
  }
}

for (const arch of ['x86_64', 'i386'] as const) {
  for (const mode of ['none', 'opt-in', 'all'] as const) {
    test(`${arch}, sheaves ${mode}: fast and general paths give the same objects, lose nothing, and give everything back`, () => {
      fc.assert(fc.property(fc.array(cmdArb, { minLength: 40, maxLength: 250, size: 'max' }), (cmds) => run(arch, mode, cmds)), { numRuns: arch === 'x86_64' ? 15 : 8 });
    });
  }
}
