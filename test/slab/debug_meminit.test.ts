/*
 * lib/test_meminit.c (module test_meminit, Linux 6.12) on kmem, whole: the
 * tests of memory auto-initialisation that the init_on_alloc=1 and
 * init_on_free=1 boot options turn on.
 *
 *   test_pages           alloc_pages() of every order, filled with garbage,
 *                        freed, allocated again: zeroed
 *   test_kvmalloc        the same with kmalloc() and vmalloc() of 1 B .. 512 KiB
 *   test_kmemcache       caches of 8 .. 4096 bytes, with and without a
 *                        constructor, SLAB_TYPESAFE_BY_RCU and __GFP_ZERO,
 *                        bulk allocations: a fresh object is zeroed (unless
 *                        RCU or a constructor must keep its bytes), an RCU
 *                        object is intact right after kmem_cache_free()
 *   test_rcu_persistent  what was written to an RCU object is still there
 *                        when the object comes back
 *
 * Each test function counts its failures and prints what the module prints
 * ("test_meminit: all 11 tests in test_pages passed", ...). Booted with
 * init_on_alloc=1, with init_on_free=1 and with both, every test passes;
 * booted with neither, the tests that need zeroing fail, as they do on a
 * kernel with both off. With slab_debug=P the boot says that poisoning
 * takes precedence (and poisoned kmalloc caches hand out 0x6b bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { boot, logged } from './helpers.ts';

const GARBAGE_INT = 0x09a7ba9e;
const GARBAGE_BYTE = 0x9e;
const CTOR_PATTERN = 0x41414141;
const BULK_SIZE = 100;
const NR_PAGE_ORDERS = 11;

/** The module's state: the kernel, and its pr_info() as KBUILD_MODNAME "test_meminit: ". */
interface Mod {
  k: Kernel;
  bulkArray: number;
}

function pr_info(m: Mod, text: string): void {
  m.k.log.printk(6, `test_meminit: ${text}`);
}

function count_nonzero_bytes(k: Kernel, ptr: number, size: number): number {
  let n = 0;
  for (const b of k.kaddr.readBytes(ptr, size)) if (b !== 0) n++;
  return n;
}

function fill_with_garbage_skip(k: Kernel, ptr: number, size: number, skip: number): void {
  let p = ptr + skip;
  size -= skip;
  while (size >= 4) {
    k.kaddr.write32(p, GARBAGE_INT);
    p += 4;
    size -= 4;
  }
  if (size) k.kaddr.writeBytes(p, new Uint8Array(size).fill(GARBAGE_BYTE));
}

function fill_with_garbage(k: Kernel, ptr: number, size: number): void {
  fill_with_garbage_skip(k, ptr, size, 0);
}

function report(m: Mod, fn: string, failures: number, numTests: number): void {
  if (failures) pr_info(m, `${fn} failed ${failures} out of ${numTests} times`);
  else pr_info(m, `all ${numTests} tests in ${fn} passed`);
}

function do_alloc_pages_order(m: Mod, order: number): number {
  const { k } = m;
  const size = k.PAGE_SIZE << order;
  let page = k.alloc_pages(k.GFP_KERNEL, order);
  if (page === 0) return 1;
  fill_with_garbage(k, k.page_address(page), size);
  k.__free_pages(page, order);
  page = k.alloc_pages(k.GFP_KERNEL, order);
  if (page === 0) return 1;
  const fail = count_nonzero_bytes(k, k.page_address(page), size) ? 1 : 0;
  fill_with_garbage(k, k.page_address(page), size);
  k.__free_pages(page, order);
  return fail;
}

function test_pages(m: Mod): [number, number] {
  let failures = 0;
  let numTests = 0;
  for (let i = 0; i < NR_PAGE_ORDERS; i++) {
    failures += do_alloc_pages_order(m, i);
    numTests++;
  }
  report(m, 'test_pages', failures, numTests);
  return [failures, numTests];
}

function do_size(m: Mod, size: number, alloc: (n: number) => number, free: (p: number) => void): number {
  const { k } = m;
  let buf = alloc(size);
  if (buf === 0) return 1;
  fill_with_garbage(k, buf, size);
  free(buf);
  buf = alloc(size);
  if (buf === 0) return 1;
  const fail = count_nonzero_bytes(k, buf, size) ? 1 : 0;
  fill_with_garbage(k, buf, size);
  free(buf);
  return fail;
}

function test_kvmalloc(m: Mod): [number, number] {
  const { k } = m;
  let failures = 0;
  let numTests = 0;
  for (let i = 0; i < 20; i++) {
    const size = 1 << i;
    failures += do_size(m, size, (n) => k.kmalloc(n, k.GFP_KERNEL), (p) => k.kfree(p));
    failures += do_size(m, size, (n) => k.vmalloc(n), (p) => k.vfree(p));
    numTests += 2;
  }
  report(m, 'test_kvmalloc', failures, numTests);
  return [failures, numTests];
}

/** check_buf(): zeroed when it must be; the constructor's word kept. */
function check_buf(k: Kernel, buf: number, size: number, wantCtor: boolean, wantRcu: boolean, wantZero: boolean): boolean {
  const bytes = count_nonzero_bytes(k, buf, size);
  if (wantZero) return bytes !== 0;
  if (wantCtor) return k.kaddr.read32(buf) >>> 0 !== CTOR_PATTERN;
  return bytes !== 0 && !wantRcu;
}

function do_kmem_cache_size(m: Mod, size: number, wantCtor: boolean, wantRcu: boolean, wantZero: boolean): number {
  const { k } = m;
  let fail = false;
  const allocMask = k.GFP_KERNEL | (wantZero ? k.__GFP_ZERO : 0);
  const c = k.kmem_cache_create('test_cache', size, 1, wantRcu ? k.SLAB_TYPESAFE_BY_RCU : 0,
    wantCtor ? (kk, obj) => kk.kaddr.write32(obj, CTOR_PATTERN) : null);
  for (let iter = 0; iter < 10; iter++) {
    if (!wantRcu && !wantCtor) {
      const ret = k.kmem_cache_alloc_bulk(c, allocMask, BULK_SIZE, m.bulkArray);
      if (!ret) {
        fail = true;
      } else {
        for (let i = 0; i < ret; i++) fail = check_buf(k, k.kaddr.readPtr(m.bulkArray + 8 * i), size, wantCtor, wantRcu, wantZero) || fail;
        k.kmem_cache_free_bulk(c, ret, m.bulkArray);
      }
    }
    const buf = k.kmem_cache_alloc(c, allocMask);
    fail = check_buf(k, buf, size, wantCtor, wantRcu, wantZero) || fail;
    fill_with_garbage_skip(k, buf, size, wantCtor ? 4 : 0);
    if (!wantRcu) {
      k.kmem_cache_free(c, buf);
      continue;
    }
    const bufCopy = k.kmalloc(size, k.GFP_ATOMIC);
    if (bufCopy) k.kaddr.writeBytes(bufCopy, k.kaddr.readBytes(buf, size));
    k.kmem_cache_free(c, buf);
    fail = check_buf(k, buf, size, wantCtor, wantRcu, false) || fail;
    if (bufCopy) {
      const a = k.kaddr.readBytes(buf, size);
      const b = k.kaddr.readBytes(bufCopy, size);
      fail = a.some((x, i) => x !== b[i]) || fail;
      k.kfree(bufCopy);
    }
  }
  k.kmem_cache_destroy(c);
  return fail ? 1 : 0;
}

function do_kmem_cache_rcu_persistent(m: Mod, size: number): number {
  const { k } = m;
  const maxiter = 1024;
  let fail = false;
  const c = k.kmem_cache_create('test_cache', size, size, k.SLAB_TYPESAFE_BY_RCU, null);
  const saved = k.kmem_cache_alloc(c, k.GFP_KERNEL);
  fill_with_garbage(k, saved, size);
  const contents = k.kmalloc(size, k.GFP_KERNEL);
  const used = k.kmalloc_array(maxiter, 8, k.GFP_KERNEL);
  k.kaddr.writeBytes(contents, k.kaddr.readBytes(saved, size));
  k.kmem_cache_free(c, saved);
  let hit = -1;
  for (let iter = 0; iter < maxiter; iter++) {
    const buf = k.kmem_cache_alloc(c, k.GFP_KERNEL);
    k.kaddr.writePtr(used + 8 * iter, buf);
    if (buf === saved) {
      const a = k.kaddr.readBytes(contents, size);
      const b = k.kaddr.readBytes(buf, size);
      fail = a.some((x, i) => x !== b[i]);
      hit = iter;
      break;
    }
  }
  for (let i = 0; i <= (hit >= 0 ? hit : maxiter - 1); i++) k.kmem_cache_free(c, k.kaddr.readPtr(used + 8 * i));
  k.kfree(contents);
  k.kfree(used);
  k.kmem_cache_destroy(c);
  return fail ? 1 : 0;
}

function do_kmem_cache_size_bulk(m: Mod, size: number): number {
  const { k } = m;
  let fail = false;
  const objects = k.kmalloc(8 * 10, k.GFP_KERNEL);
  const c = k.kmem_cache_create('test_cache', size, size, 0, null);
  for (let iter = 0; iter < 1024 && !fail; iter++) {
    const num = k.kmem_cache_alloc_bulk(c, k.GFP_KERNEL, 10, objects);
    for (let i = 0; i < num; i++) {
      const o = k.kaddr.readPtr(objects + 8 * i);
      if (count_nonzero_bytes(k, o, size)) fail = true;
      fill_with_garbage(k, o, size);
    }
    if (num) k.kmem_cache_free_bulk(c, num, objects);
  }
  k.kmem_cache_destroy(c);
  k.kfree(objects);
  return fail ? 1 : 0;
}

function test_kmemcache(m: Mod): [number, number] {
  let failures = 0;
  let numTests = 0;
  for (let i = 0; i < 10; i++) {
    const size = 8 << i;
    for (let flags = 0; flags < 8; flags++) {
      const ctor = (flags & 1) !== 0;
      const rcu = (flags & 2) !== 0;
      const zero = (flags & 4) !== 0;
      if (ctor && zero) continue;
      failures += do_kmem_cache_size(m, size, ctor, rcu, zero);
      numTests++;
    }
    failures += do_kmem_cache_size_bulk(m, size);
    numTests++;
  }
  report(m, 'test_kmemcache', failures, numTests);
  return [failures, numTests];
}

function test_rcu_persistent(m: Mod): [number, number] {
  let failures = 0;
  let numTests = 0;
  for (let i = 0; i < 10; i++) {
    failures += do_kmem_cache_rcu_persistent(m, 8 << i);
    numTests++;
  }
  report(m, 'test_rcu_persistent', failures, numTests);
  return [failures, numTests];
}

/** test_meminit_init(): 0 or -EINVAL, and the lines it printed. */
function test_meminit_init(k: Kernel): { ret: number; lines: string[] } {
  const m: Mod = { k, bulkArray: k.kmalloc(8 * BULK_SIZE, k.GFP_KERNEL) };
  let ret = 0;
  const lines = logged(k, () => {
    let failures = 0;
    let numTests = 0;
    for (const t of [test_pages, test_kvmalloc, test_kmemcache, test_rcu_persistent]) {
      const [f, n] = t(m);
      failures += f;
      numTests += n;
    }
    if (failures === 0) pr_info(m, `all ${numTests} tests passed!`);
    else pr_info(m, `failures: ${failures} out of ${numTests}`);
    ret = failures ? -22 : 0;
  });
  k.kfree(m.bulkArray);
  return { ret, lines };
}

for (const cmdline of ['init_on_alloc=1', 'init_on_free=1', 'init_on_alloc=1 init_on_free=1']) {
  test(`test_meminit, booted with ${cmdline}: all 131 tests pass`, () => {
    const k = boot({ mem: '256M', cpus: 2, cmdline }, { errors: 'throw' });
    const { ret, lines } = test_meminit_init(k);
    assert.deepEqual(lines, [
      'test_meminit: all 11 tests in test_pages passed',
      'test_meminit: all 40 tests in test_kvmalloc passed',
      'test_meminit: all 70 tests in test_kmemcache passed',
      'test_meminit: all 10 tests in test_rcu_persistent passed',
      'test_meminit: all 131 tests passed!',
    ]);
    assert.equal(ret, 0);
  });
}

test('test_meminit without init_on_alloc or init_on_free: the tests that need zeroing fail, as on such a kernel', () => {
  const k = boot({ mem: '256M', cpus: 2 }, { errors: 'throw' });
  const { ret, lines } = test_meminit_init(k);
  assert.equal(ret, -22);
  assert.match(lines[0], /^test_meminit: test_pages failed \d+ out of 11 times$/);
  assert.match(lines[1], /^test_meminit: test_kvmalloc failed \d+ out of 40 times$/);
  assert.match(lines[2], /^test_meminit: test_kmemcache failed \d+ out of 70 times$/);
  // SLAB_TYPESAFE_BY_RCU objects keep their bytes whatever the options say
  assert.equal(lines[3], 'test_meminit: all 10 tests in test_rcu_persistent passed');
  assert.match(lines[4], /^test_meminit: failures: \d+ out of 131$/);
});

test('init_on_alloc=1 with slab_debug=P: the boot says poisoning takes precedence, and poisoned objects are not zeroed', () => {
  const k = boot({ mem: '128M', cpus: 2, cmdline: 'init_on_alloc=1 slab_debug=P' });
  assert.ok(k.log.dmesg().includes('mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free'));
  const p = k.kmalloc(64, k.GFP_KERNEL);
  // slab_want_init_on_alloc() is false for a SLAB_POISON cache: the object comes poisoned (0x6b .. 0xa5)
  assert.deepEqual(Array.from(k.kaddr.readBytes(p, 64)), [...new Array(63).fill(0x6b), 0xa5]);
  // __GFP_ZERO still clears
  const z = k.kzalloc(64, k.GFP_KERNEL);
  assert.equal(count_nonzero_bytes(k, z, 64), 0);
  k.kfree(p);
  k.kfree(z);
});
