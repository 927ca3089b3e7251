/*
 * The kernel's own slab tests, reimplemented on kmem:
 *
 * lib/slub_kunit.c (KUnit suite slub_test, 8 cases in 6.12). Each creates a
 * private cache (SLAB_NO_USER_FLAGS), misuses it, and counts the errors
 * SLUB reports (slab_add_kunit_errors(): every slab_bug() and every line
 * naming an object counts one; no WARN is printed under KUnit). Outside
 * KUnit, kmem prints the full reports, so the count is taken from them.
 *   test_kfree_rcu, test_leak_destroy          here
 *   test_clobber_zone, test_next_pointer, test_first_word,
 *   test_clobber_50th_byte, test_clobber_redzone_free,
 *   test_kmalloc_redzone_access                 need slub_debug (red zones,
 *                                               poisoning, validate_slab_cache()): skipped
 *
 * lib/test_meminit.c (module test_meminit), the parts that hold with
 * init_on_alloc and init_on_free off, which is kmem's configuration:
 *   test_kmemcache: every size 8 << i, with and without a constructor,
 *     SLAB_TYPESAFE_BY_RCU and __GFP_ZERO; the constructor's bytes survive
 *     use, __GFP_ZERO zeroes, an RCU object is intact right after
 *     kmem_cache_free(); bulk allocations of the same. (Its check that a
 *     plain allocation comes back zeroed needs init_on_alloc: not run.)
 *   test_rcu_persistent: data written to an SLAB_TYPESAFE_BY_RCU object is
 *     still there when the same object is allocated again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, buddyFreePages, logged, shrinkAll, slabinfo } from './helpers.ts';

/** What slab_add_kunit_errors() would have counted in a report: slab_bug() headers and object lines. */
function slabErrors(lines: string[]): number {
  return lines.filter((l) => /^BUG \S+ \(.*\): /.test(l) || /^Object 0x[0-9a-f]+ @offset=\d+$/.test(l)).length;
}

function test_kmem_cache_create(k: Kernel, name: string, size: number, flags: number): number {
  return k.kmem_cache_create(name, size, 0, flags | k.SLAB_NO_USER_FLAGS, null);
}

test('slub_test: test_kfree_rcu: kfree_rcu() then kmem_cache_destroy(): no error', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  shrinkAll(k);
  const before = buddyFreePages(k);
  const lines = logged(k, () => {
    const s = test_kmem_cache_create(k, 'TestSlub_kfree_rcu', 16 /* struct rcu_head */, k.SLAB_NO_MERGE);
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kfree_rcu(p, 0);
    assert.equal(k.rcu.pending(), 1);
    k.kmem_cache_destroy(s); // kvfree_rcu_barrier() frees p first
  });
  assert.equal(slabErrors(lines), 0);
  assert.deepEqual(lines, []);
  assert.equal(k.rcu.pending(), 0);
  shrinkAll(k);
  assert.equal(buddyFreePages(k), before);
});

test('slub_test: test_leak_destroy: destroying a cache with an object left: 2 errors', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const lines = logged(k, () => {
    const s = test_kmem_cache_create(k, 'TestSlub_leak_destroy', 64, k.SLAB_NO_MERGE);
    k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kmem_cache_destroy(s);
  });
  assert.equal(slabErrors(lines), 2);
  assert.ok(lines.includes('BUG TestSlub_leak_destroy (Not tainted): Objects remaining on __kmem_cache_shutdown()'));
});

for (const name of ['test_clobber_zone', 'test_next_pointer', 'test_first_word', 'test_clobber_50th_byte',
  'test_clobber_redzone_free', 'test_kmalloc_redzone_access']) {
  test(`slub_test: ${name}`, { skip: 'needs slub_debug (red zones, poisoning, validate_slab_cache())' }, () => undefined);
}

const CTOR_PATTERN = 0x41414141;
const GARBAGE_INT = 0x09a7ba9e;

function fillWithGarbage(k: Kernel, buf: number, size: number, skip: number): void {
  for (let off = skip; off + 4 <= size; off += 4) k.kaddr.write32(buf + off, GARBAGE_INT);
  for (let off = size & ~3; off < size; off++) if (off >= skip) k.kaddr.write8(buf + off, 0x9e);
}

function nonzeroBytes(k: Kernel, buf: number, size: number): number {
  return k.kaddr.readBytes(buf, size).reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
}

test('test_meminit: test_kmemcache (constructor, SLAB_TYPESAFE_BY_RCU, __GFP_ZERO, bulk) at every size', () => {
  const k = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  const bulk = k.kmalloc(8 * 100, k.GFP_KERNEL);
  let tests = 0;
  for (let i = 0; i < 10; i++) {
    const size = 8 << i;
    for (let flags = 0; flags < 8; flags++) {
      const ctor = (flags & 1) !== 0;
      const rcu = (flags & 2) !== 0;
      const zero = (flags & 4) !== 0;
      if (ctor && zero) continue;
      tests++;
      const gfp = k.GFP_KERNEL | (zero ? k.__GFP_ZERO : 0);
      const c = k.kmem_cache_create('test_cache', size, 1, rcu ? k.SLAB_TYPESAFE_BY_RCU : 0,
        ctor ? (kk, obj) => kk.kaddr.write32(obj, CTOR_PATTERN) : null);
      const check = (buf: number, wantZero: boolean) => {
        if (wantZero) assert.equal(nonzeroBytes(k, buf, size), 0, `size ${size}: not zeroed`);
        if (ctor) assert.equal(k.kaddr.read32(buf), CTOR_PATTERN, `size ${size}: constructor bytes lost`);
      };
      for (let iter = 0; iter < 10; iter++) {
        if (!rcu && !ctor) {
          const n = k.kmem_cache_alloc_bulk(c, gfp, 100, bulk);
          assert.equal(n, 100);
          for (let j = 0; j < n; j++) check(k.kaddr.readPtr(bulk + 8 * j), zero);
          k.kmem_cache_free_bulk(c, n, bulk);
        }
        const buf = k.kmem_cache_alloc(c, gfp);
        check(buf, zero);
        fillWithGarbage(k, buf, size, ctor ? 4 : 0);
        if (!rcu) {
          k.kmem_cache_free(c, buf);
          continue;
        }
        const copy = k.kaddr.readBytes(buf, size);
        k.kmem_cache_free(c, buf);
        check(buf, false);
        assert.deepEqual(k.kaddr.readBytes(buf, size), copy, `size ${size}: RCU object changed by kmem_cache_free()`);
      }
      k.kmem_cache_destroy(c);
    }
  }
  assert.equal(tests, 60);
  assert.equal(slabinfo(k).has('test_cache'), false);
});

test('test_meminit: test_rcu_persistent (data survives reallocation of an SLAB_TYPESAFE_BY_RCU object)', () => {
  const k = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  for (let i = 0; i < 10; i++) {
    const size = 8 << i;
    const c = k.kmem_cache_create('test_cache', size, size, k.SLAB_TYPESAFE_BY_RCU, null);
    const buf = k.kmem_cache_alloc(c, k.GFP_KERNEL);
    fillWithGarbage(k, buf, size, 0);
    const contents = k.kaddr.readBytes(buf, size);
    k.kmem_cache_free(c, buf);
    const used: number[] = [];
    let hit = false;
    for (let iter = 0; iter < 1024 && !hit; iter++) {
      const b = k.kmem_cache_alloc(c, k.GFP_KERNEL);
      used.push(b);
      if (b === buf) {
        hit = true;
        assert.deepEqual(k.kaddr.readBytes(b, size), contents, `size ${size}`);
      }
    }
    assert.ok(hit, 'LIFO reuse hands the same object back');
    for (const b of used) k.kmem_cache_free(c, b);
    k.kmem_cache_destroy(c);
  }
});
