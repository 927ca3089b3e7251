/*
 * The kernel's own slab tests, reimplemented on kmem:
 *
 * lib/slub_kunit.c (KUnit suite slub_test, all 8 cases of 6.12). Each
 * creates a private cache (SLAB_NO_USER_FLAGS: slab_debug= does not touch
 * it), misuses it, and checks the number of errors SLUB counted. As under
 * KUnit, the test's slab_errors counter (an int in kernel memory) is
 * registered with SLUB (Slub.set_kunit_slab_errors(), standing for the
 * "slab_errors" KUnit resource): slab_add_kunit_errors() then counts each
 * report (object_err(), slab_err(), each overwritten range found,
 * slab_fix()) instead of printing it, and no WARN is printed.
 *   test_clobber_zone           a write into the right red zone of an allocated object: 2
 *   test_next_pointer           a corrupted free pointer: 3, then 2 once it is repaired, then 0
 *   test_first_word             the first byte of a freed, poisoned object: 2
 *   test_clobber_50th_byte      byte 50 of a freed, poisoned object: 2
 *   test_clobber_redzone_free   the right red zone of a freed object: 2
 *   test_kmalloc_redzone_access kmalloc(18) from a 32-byte SLAB_KMALLOC cache, bytes 18 and 19 written: 2
 *   test_kfree_rcu              kfree_rcu() then kmem_cache_destroy(): 0
 *   test_leak_destroy           destroying a cache with an object left: 2
 * The same misuses with the reports printed are in debug_reports.test.ts.
 *
 * lib/test_meminit.c (module test_meminit), the parts that hold with
 * init_on_alloc and init_on_free off, kmem's default (the whole module,
 * booted with init_on_alloc=1 / init_on_free=1, is debug_meminit.test.ts):
 *   test_kmemcache: every size 8 << i, with and without a constructor,
 *     SLAB_TYPESAFE_BY_RCU and __GFP_ZERO; the constructor's bytes survive
 *     use, __GFP_ZERO zeroes, an RCU object is intact right after
 *     kmem_cache_free(); bulk allocations of the same. (Its check that a
 *     plain allocation comes back zeroed needs init_on_alloc: there.)
 *   test_rcu_persistent: data written to an SLAB_TYPESAFE_BY_RCU object is
 *     still there when the same object is allocated again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { SLAB_KMALLOC } from '../../src/include/linux/slab.ts';
import { boot, buddyFreePages, logged, shrinkAll, slabinfo, slub } from './helpers.ts';

/** A KUnit test's slab_errors counter, registered with SLUB as test_init() registers the resource. */
class SlabErrors {
  private readonly counter: number;
  constructor(private readonly k: Kernel) {
    this.counter = k.kmalloc(4, k.GFP_KERNEL);
    this.reset();
    slub(k).set_kunit_slab_errors(this.counter);
  }

  get count(): number {
    return this.k.kaddr.read32(this.counter);
  }

  reset(): void {
    this.k.kaddr.write32(this.counter, 0);
  }

  /** The test is over: SLUB prints its reports again. */
  done(): void {
    slub(this.k).set_kunit_slab_errors(0);
    this.k.kfree(this.counter);
  }
}

/** test_kmem_cache_create(): kmem_cache_create(name, size, 0, flags | SLAB_NO_USER_FLAGS, NULL). */
function test_kmem_cache_create(k: Kernel, name: string, size: number, flags: number): number {
  return k.kmem_cache_create(name, size, 0, flags | k.SLAB_NO_USER_FLAGS, null);
}

/** Run a slub_kunit case on a fresh machine: the log it printed (nothing is expected) and the counter at the end. */
function kunitCase(body: (k: Kernel, errors: SlabErrors) => void): { lines: string[]; k: Kernel } {
  const k = boot({ mem: '128M', cpus: 2 });
  const errors = new SlabErrors(k);
  const lines = logged(k, () => body(k, errors));
  errors.done();
  return { lines, k };
}

test('slub_test: test_clobber_zone: a write past an allocated object, found by validate_slab_cache(): 2 errors', () => {
  const { lines, k } = kunitCase((k, errors) => {
    const s = test_kmem_cache_create(k, 'TestSlub_RZ_alloc', 64, k.SLAB_RED_ZONE);
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kaddr.write8(p + 64, 0x12);
    k.validate_slab_cache(s);
    assert.equal(errors.count, 2);
    assert.equal(k.kaddr.read8(p + 64), 0xcc, 'the red zone was restored');
    k.kmem_cache_free(s, p);
    k.kmem_cache_destroy(s);
    assert.equal(errors.count, 2);
  });
  assert.deepEqual(lines, []);
  assert.equal(k.bug.tainted, 0);
});

test('slub_test: test_next_pointer: a corrupted free pointer: 3 errors, 2 once repaired, then none', () => {
  const { lines } = kunitCase((k, errors) => {
    const s = test_kmem_cache_create(k, 'TestSlub_next_ptr_free', 64, k.SLAB_POISON);
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kmem_cache_free(s, p);
    const offset = k.kaddr.read32(s + slub(k).cache.offset);
    const ptrAddr = p + offset;
    const tmp = k.kaddr.readPtr(ptrAddr);
    k.kaddr.write8(ptrAddr, ~k.kaddr.read8(ptrAddr) & 0xff);
    // the corrupted freechain, the wrong count of objects in use, and the fix of the broken cache
    k.validate_slab_cache(s);
    assert.equal(errors.count, 3);
    // the free pointer repaired: still the wrong count of objects in use and its fix
    k.kaddr.writePtr(ptrAddr, tmp);
    errors.reset();
    k.validate_slab_cache(s);
    assert.equal(errors.count, 2);
    // the previous validation repaired the count
    errors.reset();
    k.validate_slab_cache(s);
    assert.equal(errors.count, 0);
    k.kmem_cache_destroy(s);
  });
  assert.deepEqual(lines, []);
});

for (const [name, cache, off, byte] of [['test_first_word', 'TestSlub_1th_word_free', 0, 0x78],
  ['test_clobber_50th_byte', 'TestSlub_50th_word_free', 50, 0x9a]] as const) {
  test(`slub_test: ${name}: a write into a freed, poisoned object at byte ${off}: 2 errors`, () => {
    const { lines } = kunitCase((k, errors) => {
      const s = test_kmem_cache_create(k, cache, 64, k.SLAB_POISON);
      const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
      k.kmem_cache_free(s, p);
      k.kaddr.write8(p + off, byte);
      k.validate_slab_cache(s);
      assert.equal(errors.count, 2);
      assert.equal(k.kaddr.read8(p + off), 0x6b, 'the poison was restored');
      k.kmem_cache_destroy(s);
      assert.equal(errors.count, 2);
    });
    assert.deepEqual(lines, []);
  });
}

test('slub_test: test_clobber_redzone_free: a write past a freed object: 2 errors', () => {
  const { lines } = kunitCase((k, errors) => {
    const s = test_kmem_cache_create(k, 'TestSlub_RZ_free', 64, k.SLAB_RED_ZONE);
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kmem_cache_free(s, p);
    k.kaddr.write8(p + 64, 0xab);
    k.validate_slab_cache(s);
    assert.equal(errors.count, 2);
    assert.equal(k.kaddr.read8(p + 64), 0xbb);
    k.kmem_cache_destroy(s);
  });
  assert.deepEqual(lines, []);
});

test('slub_test: test_kmalloc_redzone_access: bytes 18 and 19 of an 18-byte kmalloc object: 2 errors', () => {
  const { lines } = kunitCase((k, errors) => {
    const s = test_kmem_cache_create(k, 'TestSlub_RZ_kmalloc', 32, SLAB_KMALLOC | k.SLAB_STORE_USER | k.SLAB_RED_ZONE);
    const p = k.slab.__kmalloc_cache(s, k.GFP_KERNEL, 18);
    for (let i = 18; i < 32; i++) assert.equal(k.kaddr.read8(p + i), 0xcc, `byte ${i} is kmalloc red zone`);
    k.kaddr.write8(p + 18, 0xab);
    k.kaddr.write8(p + 19, 0xab);
    k.validate_slab_cache(s);
    assert.equal(errors.count, 2);
    k.kmem_cache_free(s, p);
    k.kmem_cache_destroy(s);
    assert.equal(errors.count, 2);
  });
  assert.deepEqual(lines, []);
});

test('slub_test: test_kfree_rcu: kfree_rcu() then kmem_cache_destroy(): no error', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const errors = new SlabErrors(k);
  shrinkAll(k);
  const before = buddyFreePages(k);
  const lines = logged(k, () => {
    const s = test_kmem_cache_create(k, 'TestSlub_kfree_rcu', 16 /* struct rcu_head */, k.SLAB_NO_MERGE);
    const p = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kfree_rcu(p, 0);
    assert.equal(k.rcu.pending(), 1);
    k.kmem_cache_destroy(s); // kvfree_rcu_barrier() frees p first
  });
  assert.equal(errors.count, 0);
  assert.deepEqual(lines, []);
  assert.equal(k.rcu.pending(), 0);
  shrinkAll(k);
  assert.equal(buddyFreePages(k), before);
});

test('slub_test: test_leak_destroy: destroying a cache with an object left: 2 errors', () => {
  const { lines } = kunitCase((k, errors) => {
    const s = test_kmem_cache_create(k, 'TestSlub_leak_destroy', 64, k.SLAB_NO_MERGE);
    k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kmem_cache_destroy(s);
    assert.equal(errors.count, 2);
  });
  // slab_err()'s parts are counted, not printed; kmem_cache_destroy()'s own warning is not a slab error
  assert.ok(!lines.some((l) => l.startsWith('BUG TestSlub_leak_destroy')));
  assert.ok(lines.some((l) => /kmem_cache_destroy TestSlub_leak_destroy: Slab cache still has objects when called from/.test(l)));
});

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
