/*
 * SLUB's fast paths (slub_fastpath.ts) against its general paths: the same
 * random sequence of kmalloc/kfree/kmem_cache_alloc/kmem_cache_free on
 * random CPUs runs on two machines, one as usual (the fast paths serve the
 * common case) and one with the slab tracepoints hooked (SlabCommon then
 * never tries the fast paths, so every call goes through slab_alloc_node()
 * and slab_free_object()). Both take the same decisions, so each call must
 * return the same address on both, and /proc/slabinfo must read the same
 * after every shrink.
 *
 * The model on the fast machine: live objects [addr, addr + size) never
 * overlap, each keeps the tag written into it (nothing lost or reused
 * while live), slabinfo's active_objs is at least the live count (exactly
 * it after a shrink), and once everything is freed and the caches shrunk
 * and destroyed, the buddy allocator has every page back. Both machines
 * boot with errors: 'throw', so any report fails the run. On x86_64 and
 * i386 (32-bit pointers, no vmemmap: objects in compound pages take the
 * general path there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { boot, buddyFreePages, shrinkAll, slabinfo } from '../slab/helpers.ts';

const CPUS = 3;
/** The test caches: an order-0 one and one whose slabs are compound pages (objects in tail pages). */
const CACHES = [{ name: 'fp_small', size: 48 }, { name: 'fp_big', size: 700 }] as const;

type Cmd =
  | { op: 'kmalloc'; size: number; cpu: number }
  | { op: 'alloc'; cache: number; cpu: number }
  | { op: 'free'; pick: number; cpu: number }
  | { op: 'shrink' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('kmalloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 8192 })), cpu: fc.nat(CPUS - 1) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('alloc' as const), cache: fc.nat(CACHES.length - 1), cpu: fc.nat(CPUS - 1) }) },
  { weight: 11, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat(), cpu: fc.nat(CPUS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'shrink' as const }) },
);

interface Machine {
  k: Kernel;
  caches: number[];
  /** Free buddy pages before the test caches were created. */
  freeBefore: number;
}

function machine(arch: 'x86_64' | 'i386', generalOnly: boolean): Machine {
  const k = boot({ arch, mem: '256M', cpus: CPUS }, { errors: 'throw' });
  if (generalOnly) {
    // hooked tracepoints: SlabCommon takes its general path for every call
    k.slab.hooks.kmalloc = () => {};
    k.slab.hooks.kmem_cache_alloc = () => {};
    k.slab.hooks.kfree = () => {};
    k.slab.hooks.kmem_cache_free = () => {};
  }
  const freeBefore = buddyFreePages(k);
  const caches = CACHES.map((c) => k.kmem_cache_create(c.name, c.size, 0, k.SLAB_NO_MERGE, null));
  return { k, caches, freeBefore };
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

for (const arch of ['x86_64', 'i386'] as const) test(`${arch}: fast and general paths give the same objects, lose nothing, and give every slab back`, () => {
  fc.assert(fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 250 }), (cmds) => {
    const fast = machine(arch, false);
    const general = machine(arch, true);
    const k = fast.k;
    const live: Live[] = [];
    let tag = 1;
    const both = <T>(fn: (m: Machine) => T): T => {
      const a = fn(fast);
      const b = fn(general);
      assert.deepEqual(a, b, 'the fast and the general path differ');
      return a;
    };
    for (const c of cmds) {
      if (c.op === 'kmalloc' || c.op === 'alloc') {
        const size = c.op === 'kmalloc' ? c.size : CACHES[c.cache].size;
        const addr = both((m) => {
          m.k.set_cpu(c.cpu);
          return c.op === 'kmalloc' ? m.k.kmalloc(c.size, m.k.GFP_KERNEL) : m.k.kmem_cache_alloc(m.caches[c.cache], m.k.GFP_KERNEL);
        });
        assert.notEqual(addr, 0);
        assert.ok(!overlaps(live, addr, size), `object ${addr.toString(16)} overlaps a live one`);
        live.push({ addr, size, cache: c.op === 'alloc' ? c.cache : -1, tag });
        k.kaddr.write32(addr, tag);
        tag++;
      } else if (c.op === 'free') {
        if (live.length === 0) continue;
        const [o] = live.splice(c.pick % live.length, 1);
        assert.equal(k.kaddr.read32(o.addr) >>> 0, o.tag, 'a live object was overwritten');
        both((m) => {
          m.k.set_cpu(c.cpu);
          if (o.cache < 0) m.k.kfree(o.addr);
          else m.k.kmem_cache_free(m.caches[o.cache], o.addr);
        });
      } else {
        both((m) => {
          m.k.set_cpu(0);
          shrinkAll(m.k);
          return readProc(m.k, 'slabinfo');
        });
        const info = slabinfo(k);
        CACHES.forEach((ca, i) => assert.equal(info.get(ca.name)!.active, live.filter((o) => o.cache === i).length));
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
      shrinkAll(m.k);
      return readProc(m.k, 'slabinfo');
    });
    assert.equal(buddyFreePages(k), fast.freeBefore);
  }), { numRuns: 20 });
});
