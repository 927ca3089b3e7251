/*
 * The slab API's behaviour on every implementation (SLAB_MACHINES: each of
 * SLAB_IMPLS, and SLUB with 7.0's percpu sheaves for every cache): what a
 * caller of the kmem_cache API, the kmalloc family, mempools, RCU frees and
 * the kmem tracepoints may rely on whichever allocator the kernel was built
 * with. Implementation internals (SLUB's lists, SLOB's blocks) have their
 * own tests; model.property.test.ts runs its random sequences on each
 * implementation as well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { SLAB_MACHINES, boot, buddyFreePages, putString, shrinkAll, slabinfo } from './helpers.ts';

/**
 * RCU callbacks run and every cache shrunk: the pages the buddy allocator
 * has free. With sheaves (k booted with them) the objects each cache has in
 * use instead: the sheaves themselves are kmalloc objects, and which ones
 * are the CPUs' main sheaves changes as sheaves are swapped, so the same
 * number of live objects may sit in other slabs than before. Shrinking a
 * cache frees its sheaves into kmalloc caches that may have been shrunk
 * already: shrink until the count stops changing.
 */
function settle(k: Kernel): number | string {
  k.rcu_barrier();
  const sheaves = k.config.sheaves !== undefined;
  let last: number | string = -1;
  for (let pass = 0; pass < 8; pass++) {
    shrinkAll(k);
    const now = sheaves ? [...slabinfo(k).values()].map((r) => `${r.name} ${r.active}`).join('\n') : buddyFreePages(k);
    if (now === last) break;
    last = now;
  }
  return last;
}

for (const { label, slab, sheaves } of SLAB_MACHINES) {
  for (const arch of ['x86_64', 'i386'] as const) {
    test(`${label} ${arch}: the kmalloc family`, () => {
      const k = boot({ mem: '128M', cpus: 2, arch, slab, sheaves }, { errors: 'throw' });
      const free0 = settle(k);
      const sizes = [1, 8, 13, 64, 96, 100, 192, 500, 1024, 3000, 4096, 5000, 8192, 20000, 100000];
      const ps = sizes.map((n) => k.kmalloc(n, k.GFP_KERNEL));
      ps.forEach((p, i) => {
        assert.notEqual(p, 0);
        assert.ok(k.ksize(p) >= sizes[i], `ksize(kmalloc(${sizes[i]}))`);
        assert.equal(p % 8, 0, 'ARCH_KMALLOC_MINALIGN');
        k.kaddr.fill(p, k.ksize(p), 0xa5);
      });
      // kzalloc zeroes; kcalloc checks the product; kmalloc(0) is ZERO_SIZE_PTR
      const z = k.kzalloc(300, k.GFP_KERNEL);
      assert.ok(k.kaddr.readBytes(z, 300).every((b) => b === 0));
      assert.equal(k.kmalloc(0, k.GFP_KERNEL), k.ZERO_SIZE_PTR);
      assert.equal(k.ksize(k.ZERO_SIZE_PTR), 0);
      k.kfree(k.ZERO_SIZE_PTR);
      k.kfree(0);
      // krealloc keeps the contents
      let r = k.kmalloc(10, k.GFP_KERNEL);
      putString(k, r, 'slab test');
      r = k.krealloc(r, 2000, k.GFP_KERNEL);
      assert.equal(new TextDecoder().decode(k.kaddr.readBytes(r, 9)), 'slab test');
      const dup = k.kstrdup(r, k.GFP_KERNEL);
      assert.notEqual(dup, r);
      assert.equal(new TextDecoder().decode(k.kaddr.readBytes(dup, 10)), 'slab test\0');
      assert.ok(k.kmalloc_size_roundup(13) >= 13);
      for (const p of [...ps, z, r, dup]) k.kfree(p);
      assert.equal(settle(k), free0, 'every page back');
      assert.equal(k.bug.tainted, 0);
    });
  }

  test(`${label}: kmem_cache lifecycle, alignment, constructor, zalloc, bulk`, () => {
    const k = boot({ mem: '128M', cpus: 2, slab, sheaves }, { errors: 'throw' });
    const free0 = settle(k);
    let ctor = 0;
    const s = k.kmem_cache_create('conf_cache', 120, 64, 0, (kk, obj) => {
      ctor++;
      kk.kaddr.write32(obj, 0xc0ffee);
    });
    assert.notEqual(s, 0);
    assert.equal(k.kmem_cache_size(s), 120);
    assert.ok(k.slab.caches().includes(s));
    const objs: number[] = [];
    for (let i = 0; i < 200; i++) {
      k.set_cpu(i % 2);
      const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
      assert.equal(o % 64, 0);
      assert.equal(k.kaddr.read32(o), 0xc0ffee, 'constructed');
      for (const x of objs) assert.ok(o + 120 <= x || x + 120 <= o, 'no overlap');
      objs.push(o);
    }
    assert.ok(ctor >= 200);
    const plain = k.kmem_cache_create('conf_plain', 40, 0, 0, null);
    const z = k.kmem_cache_zalloc(plain, k.GFP_KERNEL);
    assert.ok(k.kaddr.readBytes(z, 40).every((b) => b === 0));
    const p = k.kmalloc(8 * 16, k.GFP_KERNEL);
    assert.equal(k.kmem_cache_alloc_bulk(plain, k.GFP_KERNEL, 16, p), 16);
    const bulk = Array.from({ length: 16 }, (_, i) => k.kaddr.readPtr(p + i * k.layout.ptrSize));
    assert.equal(new Set(bulk).size, 16);
    k.kmem_cache_free_bulk(plain, 16, p);
    k.kmem_cache_free(plain, z);
    k.kfree(p);
    k.set_cpu(0);
    for (const o of objs) k.kmem_cache_free(s, o);
    k.kmem_cache_destroy(s);
    k.kmem_cache_destroy(plain);
    assert.ok(!k.slab.caches().includes(s));
    assert.equal(settle(k), free0);
    assert.equal(k.bug.tainted, 0);
  });

  test(`${label}: SLAB_TYPESAFE_BY_RCU caches and kfree_rcu free after a grace period`, () => {
    const k = boot({ mem: '128M', cpus: 1, slab, sheaves }, { errors: 'throw' });
    const free0 = settle(k);
    const s = k.kmem_cache_create('conf_rcu', 200, 0, k.SLAB_TYPESAFE_BY_RCU, null);
    const objs = Array.from({ length: 50 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
    for (const o of objs) k.kmem_cache_free(s, o);
    const q = Array.from({ length: 30 }, () => k.kmalloc(64, k.GFP_KERNEL));
    for (const o of q) k.kfree_rcu(o, 16);
    k.kmem_cache_destroy(s);
    assert.equal(settle(k), free0);
  });

  test(`${label}: mempools over a cache and over kmalloc`, () => {
    const k = boot({ mem: '128M', cpus: 2, slab, sheaves }, { errors: 'throw' });
    const free0 = settle(k);
    const c = k.kmem_cache_create('conf_pool', 256, 0, 0, null);
    const pool = k.mempool_create_slab_pool(4, c);
    assert.notEqual(pool, 0);
    const els = Array.from({ length: 10 }, () => k.mempool_alloc(pool, k.GFP_KERNEL));
    assert.ok(els.every((e) => e !== 0));
    for (const e of els) k.mempool_free(e, pool);
    k.mempool_destroy(pool);
    const kp = k.mempool_create_kmalloc_pool(3, 700);
    const e = k.mempool_alloc(kp, k.GFP_KERNEL);
    assert.ok(k.ksize(e) >= 700);
    k.mempool_free(e, kp);
    k.mempool_destroy(kp);
    k.kmem_cache_destroy(c);
    assert.equal(settle(k), free0);
  });

  test(`${label}: the kmem tracepoints`, () => {
    const k = boot({ mem: '128M', cpus: 1, slab, sheaves, cmdline: 'no_hash_pointers' });
    k.trace.enable('kmem');
    const p = k.kmalloc(100, k.GFP_KERNEL);
    const s = k.kmem_cache_create('conf_trace', 72, 0, 0, null);
    const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
    k.kmem_cache_free(s, o);
    k.kfree(p);
    const text = k.trace.read();
    const alloc = slab === 'slob' ? 108 : 128;
    assert.match(text, new RegExp(`kmalloc: call_site=.* ptr=[0-9a-f]*${p.toString(16)} bytes_req=100 bytes_alloc=${alloc} gfp_flags=GFP_KERNEL`));
    assert.match(text, new RegExp(`kmem_cache_alloc: call_site=.* ptr=[0-9a-f]*${o.toString(16)} name=conf_trace bytes_req=72 bytes_alloc=\\d+ gfp_flags=GFP_KERNEL`));
    assert.match(text, new RegExp(`kmem_cache_free: call_site=.* ptr=[0-9a-f]*${o.toString(16)} name=conf_trace`));
    assert.match(text, new RegExp(`kfree: call_site=.* ptr=[0-9a-f]*${p.toString(16)}`));
    k.kmem_cache_destroy(s);
  });
}
