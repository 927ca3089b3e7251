/*
 * Bad calls into the slab allocator. For each: the kernel's text in the
 * log, the KernelBug thrown when booted with errors: 'throw', and the
 * allocator's state (slabinfo, buddyinfo, the free page counts, the
 * objects involved) unchanged by a call that is refused.
 *
 * Where 6.12 itself has no check, the test pins down what 6.12 does:
 * an empty name is accepted, a non-power-of-two alignment goes through
 * ALIGN()'s mask arithmetic, size 0 is a divide error in reciprocal_value()
 * (kmem reports that oops and backs out), and a destroyed cache destroyed
 * again is KASAN's use-after-free report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBug, type BugKind } from '../../src/kernel/bug.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, buddyFreePages, logged, slabinfo } from './helpers.ts';

function state(k: Kernel): string {
  const free = buddyFreePages(k); // drains the pcp lists first
  return readProc(k, 'slabinfo') + readProc(k, 'buddyinfo') + free;
}

/** Run bad() on a machine booted with errors: 'log' and on one with 'throw'; returns the log lines. */
function refused(setup: (k: Kernel) => () => void, kind: BugKind | null, extra?: (k: Kernel) => string): string[] {
  const k = boot({ mem: '128M', cpus: 2 });
  const bad = setup(k);
  const before = state(k) + (extra?.(k) ?? '');
  const lines = logged(k, bad);
  assert.equal(state(k) + (extra?.(k) ?? ''), before, 'state changed by a refused call');
  if (kind !== null) {
    const kt = boot({ mem: '128M', cpus: 2 }, { errors: 'throw' });
    const badT = setup(kt);
    const beforeT = state(kt) + (extra?.(kt) ?? '');
    assert.throws(badT, (e: unknown) => e instanceof KernelBug && e.kind === kind);
    assert.equal(state(kt) + (extra?.(kt) ?? ''), beforeT, 'state changed by a refused call that threw');
  }
  return lines;
}

const hashed = /^[0-9a-f]{16}$/;

test('kfree() of a page that did not come from kmalloc: free_large_kmalloc()\'s warning, the page stays', () => {
  let page = 0;
  const lines = refused((k) => {
    page = k.alloc_page(k.GFP_KERNEL);
    return () => k.kfree(k.page_address(page));
  }, 'WARNING');
  assert.ok(lines.includes('------------[ cut here ]------------'));
  assert.ok(lines.some((l) => / at mm\/slub\.c:4799 free_large_kmalloc$/.test(l)), lines.join('\n'));
  const ptr = lines.find((l) => l.startsWith('object pointer: 0x'));
  assert.ok(ptr && hashed.test(ptr.slice('object pointer: 0x'.length)), ptr);
});

test('kfree() of a pointer inside an object: "Invalid object pointer", nothing freed', () => {
  const lines = refused((k) => {
    const p = k.kmalloc(64, k.GFP_KERNEL);
    return () => k.kfree(p + 8);
  }, 'WARNING', (k) => String(slabinfo(k).get('kmalloc-64')?.active));
  assert.equal(lines[0], '=============================================================================');
  assert.match(lines[1], /^BUG kmalloc-64 \(Not tainted\): Invalid object pointer 0x[0-9a-f]{16}$/);
  assert.equal(lines[2], '-----------------------------------------------------------------------------');
  assert.equal(lines[3], '');
  assert.match(lines[4], /^Slab 0x[0-9a-f]{16} objects=64 used=64 fp=0x0000000000000000 flags=0x[0-9a-f]+\(.*node=0\|zone=\d\)$/);
  assert.ok(lines.some((l) => / at mm\/slub\.c:1152 __slab_err$/.test(l)));
  assert.match(lines[lines.length - 1], /^FIX kmalloc-64: Object at 0x[0-9a-f]{16} not freed$/);
});

test('kfree() of an address outside the direct map: __phys_addr()\'s BUG', () => {
  const lines = refused((k) => () => k.kfree(k.layout.VMALLOC_START + 0x1000), 'BUG');
  assert.ok(lines.includes('kernel BUG at arch/x86/mm/physaddr.c:28!'), lines.join('\n'));
});

test('kfree() twice: the naive double-free check (BUG_ON(object == fp))', () => {
  const lines = refused((k) => {
    const p = k.kmalloc(32, k.GFP_KERNEL);
    k.kfree(p);
    return () => k.kfree(p);
  }, 'BUG');
  assert.ok(lines.includes('kernel BUG at mm/slub.c:550!'));
});

test('kmem_cache_free() into the wrong cache: cache_from_obj()\'s warning, the object goes to its own cache', () => {
  for (const errors of ['log', 'throw'] as const) {
    const k = boot({ mem: '128M', cpus: 2 }, { errors });
    const s = k.kmem_cache_create('wrong_s', 100, 0, k.SLAB_NO_MERGE, null);
    const t = k.kmem_cache_create('wrong_t', 300, 0, k.SLAB_NO_MERGE, null);
    const obj = k.kmem_cache_alloc(t, k.GFP_KERNEL);
    if (errors === 'throw') {
      assert.throws(() => k.kmem_cache_free(s, obj), (e: unknown) => e instanceof KernelBug && e.kind === 'WARNING');
      continue;
    }
    const lines = logged(k, () => k.kmem_cache_free(s, obj));
    assert.ok(lines.includes('cache_from_obj: Wrong slab cache. wrong_s but object is from wrong_t'), lines.join('\n'));
    assert.ok(lines.some((l) => / at mm\/slub\.c:4770 kmem_cache_free$/.test(l)));
    // freed into wrong_t: the next allocation from it returns the same object
    assert.equal(k.kmem_cache_alloc(t, k.GFP_KERNEL), obj);
  }
});

test('kmem_cache_free() of a pointer in no slab: virt_to_cache()\'s warning (once)', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('not_slab', 100, 0, 0, null);
  const page = k.__get_free_page(k.GFP_KERNEL);
  const lines = logged(k, () => k.kmem_cache_free(s, page));
  assert.ok(lines.includes('virt_to_cache: Object is not a Slab page!'));
  assert.deepEqual(logged(k, () => k.kmem_cache_free(s, page)), []);
  assert.equal(k.page_count(k.virt_to_page(page)), 1);
});

test('kmem_cache_destroy() twice: KASAN\'s slab-use-after-free report, nothing else happens', () => {
  let s = 0;
  const lines = refused((k) => {
    s = k.kmem_cache_create('destroyed', 100, 0, 0, null);
    k.kmem_cache_destroy(s);
    return () => k.kmem_cache_destroy(s);
  }, 'BUG');
  assert.equal(lines[0], '==================================================================');
  assert.equal(lines[1], 'BUG: KASAN: slab-use-after-free in kmem_cache_destroy');
  assert.match(lines[2], /^Read of size 1 at addr ffff8880[0-9a-f]{8} by task swapper\/0\/0$/);
  assert.ok(lines.includes(' which belongs to the cache kmem_cache of size 208'));
  assert.ok(lines.includes('The buggy address is located 0 bytes inside of'));
});

test('kmem_cache_destroy() with objects left: "Objects remaining" and the WARN, the cache leaks as in the kernel', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('leaky', 64, 0, k.SLAB_NO_MERGE, null);
  k.kmem_cache_alloc(s, k.GFP_KERNEL);
  const lines = logged(k, function cleanup_leaky() {
    k.kmem_cache_destroy(s);
  });
  assert.equal(lines[1], 'BUG leaky (Not tainted): Objects remaining on __kmem_cache_shutdown()');
  assert.match(lines[4], /^Object 0x[0-9a-f]{16} @offset=0$/);
  assert.match(lines[5], /^Slab 0x[0-9a-f]{16} objects=64 used=1 /);
  assert.ok(lines.some((l) => / at mm\/slub\.c:1152 __slab_err$/.test(l)));
  assert.ok(lines.includes('kmem_cache_destroy leaky: Slab cache still has objects when called from cleanup_leaky'), lines.join('\n'));
  assert.ok(lines.some((l) => / at mm\/slab_common\.c:548 kmem_cache_destroy$/.test(l)));
  assert.ok(!slabinfo(k).has('leaky'), 'unlinked from slab_caches');
  assert.match(k.bug.print_tainted(), /^Tainted: G {4}B {3}W {9}$/);
});

test('kmem_cache_create() with a name that exists: the WARN, and a second cache of that name', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const a = k.kmem_cache_create('twice', 100, 0, k.SLAB_NO_MERGE, null);
  const lines = logged(k, () => assert.notEqual(k.kmem_cache_create('twice', 100, 0, k.SLAB_NO_MERGE, null), a));
  assert.ok(lines.includes("kmem_cache of name 'twice' already exists"));
  assert.ok(lines.some((l) => / at mm\/slab_common\.c:107 __kmem_cache_create_args$/.test(l)));
  // 6.12 checks for a NULL name, not an empty one
  assert.deepEqual(logged(k, () => assert.notEqual(k.kmem_cache_create('', 500, 0, k.SLAB_NO_MERGE, null), 0)), []);
  assert.equal(slabinfo(k).get('')?.objsize, 504);
  // a space "confuses parsers" (of /proc/slabinfo): a warning, and the cache all the same
  const spaced = logged(k, () => assert.notEqual(k.kmem_cache_create('has space', 100, 0, 0, null), 0));
  assert.ok(spaced.some((l) => / at mm\/slab_common\.c:110 __kmem_cache_create_args$/.test(l)));
  assert.ok(readProc(k, 'slabinfo').includes('\nhas space              0'));
});

test('kmem_cache_create(NULL, ...) and sizes above KMALLOC_MAX_SIZE fail the integrity check', () => {
  for (const [name, size, shown] of [[null, 100, '(null)'], ['too_big', (4 << 20) + 1, 'too_big']] as const) {
    const lines = refused((k) => () => assert.equal(k.kmem_cache_create(name, size, 0, 0, null), 0), null);
    assert.equal(lines[0], `kmem_cache_create(${shown}) integrity check failed`);
    assert.equal(lines[1], `__kmem_cache_create_args(${shown}) failed with error -22`);
    assert.equal(lines[2].slice(0, 5), 'CPU: ');
  }
  const k = boot({ mem: '128M', cpus: 2 });
  assert.notEqual(k.kmem_cache_create('max_size', 4 << 20, 0, 0, null), 0);
  const flags = logged(k, () => assert.equal(k.kmem_cache_create('bad_flags', 100, 0, 1 << 30, null), 0));
  assert.equal(flags[0], '__kmem_cache_create_args(bad_flags) failed with error -22');
});

test('kmem_cache_create() of size 0: the divide error in reciprocal_value(), backed out', () => {
  const lines = refused((k) => () => assert.equal(k.kmem_cache_create('zero', 0, 0, 0, null), 0), 'Oops');
  assert.equal(lines[0], 'Oops: divide error: 0000 [#1] PREEMPT SMP NOPTI');
  assert.ok(lines.includes(' reciprocal_value'));
  assert.ok(lines.includes(' do_kmem_cache_create'));
});

test('an alignment that is not a power of two goes through ALIGN()\'s mask arithmetic, unreported', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const lines = logged(k, () => {
    const s = k.kmem_cache_create('align24', 100, 24, k.SLAB_NO_MERGE, null);
    assert.notEqual(s, 0);
    // ALIGN(104, 24) = (104 + 23) & ~23 = 104: objects 104 bytes apart, so not all 24-aligned
    assert.equal(slabinfo(k).get('align24')!.objsize, 104);
    const a = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    const b = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    assert.equal(b - a, 104);
  });
  assert.deepEqual(lines, []);
});

test('SLAB_PANIC: a failed creation panics (and always throws: the machine stops)', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  let err: unknown;
  const lines = logged(k, () => {
    try {
      k.kmem_cache_create(null, 100, 0, k.SLAB_PANIC, null);
    } catch (e) {
      err = e;
    }
  });
  assert.ok(err instanceof KernelBug && err.kind === 'panic');
  assert.ok(lines.includes("Kernel panic - not syncing: __kmem_cache_create_args: Failed to create slab '(null)'. Error -22"));
  assert.equal(lines[lines.length - 1], "---[ end Kernel panic - not syncing: __kmem_cache_create_args: Failed to create slab '(null)'. Error -22 ]---");
});

test('LDD3\'s six-argument kmem_cache_create(): the offset is the alignment, a destructor is refused', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const s = k.kmem_cache_create('scullc', 4000, 0, k.SLAB_HWCACHE_ALIGN, null, null);
  assert.notEqual(s, 0);
  const call = k.kmem_cache_create as unknown as (...a: unknown[]) => number;
  assert.throws(() => call.call(k, 'with_dtor', 100, 0, 0, null, () => undefined), TypeError);
});

test('kmalloc() above KMALLOC_MAX_SIZE: the page allocator\'s order warning and NULL; kmalloc_array() overflow: NULL', () => {
  const lines = refused((k) => () => assert.equal(k.kmalloc((4 << 20) + 1, k.GFP_KERNEL), 0), 'WARNING');
  assert.ok(lines.some((l) => / at mm\/page_alloc\.c:4832 __alloc_pages_noprof$/.test(l)), lines.join('\n'));
  const k = boot({ mem: '128M', cpus: 2 });
  assert.deepEqual(logged(k, () => assert.equal(k.kmalloc(8 << 20, k.GFP_KERNEL | k.__GFP_NOWARN), 0)), []);
  assert.deepEqual(logged(k, () => assert.equal(k.kmalloc_array(2 ** 33, 2 ** 32, k.GFP_KERNEL), 0)), []);
  assert.deepEqual(logged(k, () => assert.equal(k.kcalloc(2 ** 62, 4, k.GFP_KERNEL), 0)), []);
  const ok = k.kmalloc_array(100, 8, k.GFP_KERNEL);
  assert.equal(k.ksize(ok), 1024);
});

test('kmalloc(..., __GFP_HIGHMEM): kmalloc_fix_flags()\'s complaint when a new slab is needed', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const lines = logged(k, () => assert.notEqual(k.kmalloc(100, k.GFP_KERNEL | k.__GFP_HIGHMEM), 0));
  assert.equal(lines[0], 'Unexpected gfp: 0x2 (__GFP_HIGHMEM). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!');
  assert.deepEqual(logged(k, () => assert.notEqual(k.kmalloc(100, k.GFP_KERNEL | k.__GFP_HIGHMEM), 0)), []);
});

test('a NULL cache (a failed kmem_cache_create()\'s result): the NULL pointer dereference oops, backed out', () => {
  const lines = refused((k) => () => assert.equal(k.kmem_cache_alloc(0, k.GFP_KERNEL), 0), 'Oops');
  assert.equal(lines[0], 'BUG: kernel NULL pointer dereference, address: 0000000000000000');
  assert.equal(lines[3], 'Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI');
  const free = refused((k) => {
    const p = k.kmalloc(64, k.GFP_KERNEL);
    return () => k.kmem_cache_free(0, p);
  }, 'Oops');
  assert.equal(free[0], 'BUG: kernel NULL pointer dereference, address: 0000000000000060');
});
