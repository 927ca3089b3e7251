/*
 * Mempools (mm/mempool.c): the reserve preallocated at creation, the
 * allocator tried first (without reclaim), the reserve used when memory
 * is exhausted and refilled by mempool_free(), NULL for callers that
 * cannot sleep, kmem's report of the wait that could never end, resize,
 * destroy giving everything back, slub_debug's poisoning of resting
 * elements, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBug } from '../../src/kernel/bug.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { POISON_END, POISON_FREE, POISON_INUSE } from '../../src/mm/mempool.ts';
import { boot, buddyFreePages, logged, shrinkAll, slabinfo } from './helpers.ts';

const NOWARN_ATOMIC = (k: Kernel) => k.GFP_ATOMIC | k.__GFP_NOWARN;

/**
 * Use up memory: pages, then objects from the slabs that are left (from
 * `more`, kmalloc(64) by default), until neither comes (kswapd may give a
 * little back in between). Returns what was taken, for release().
 */
function exhaust(k: Kernel, more: (() => number)[] = [() => k.kmalloc(64, NOWARN_ATOMIC(k))]): { pages: number[]; objs: [number, number][] } {
  const pages: number[] = [];
  const objs: [number, number][] = [];
  for (;;) {
    let got = 0;
    for (let p; (p = k.alloc_pages(NOWARN_ATOMIC(k), 0)) !== 0; got++) pages.push(p);
    more.forEach((alloc, i) => {
      for (let o; (o = alloc()) !== 0; got++) objs.push([i, o]);
    });
    if (got === 0) return { pages, objs };
  }
}

function release(k: Kernel, held: { pages: number[]; objs: [number, number][] }, free: ((o: number) => void)[] = [(o) => k.kfree(o)]): void {
  for (const p of held.pages) k.__free_pages(p, 0);
  for (const [i, o] of held.objs) free[i](o);
}

/** What the machine holds, once every cache has given its empty slabs back. */
function footprint(k: Kernel): number {
  shrinkAll(k);
  k.synchronize_rcu();
  return buddyFreePages(k);
}

test('mempool_create: min_nr elements preallocated; the pool and its elements array are kmalloc\'d', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const mp = k.pressure.mempools;
  const pool = k.mempool_create_kmalloc_pool(4, 200);
  assert.notEqual(pool, 0);
  assert.equal(mp.min_nr(pool), 4);
  assert.equal(mp.curr_nr(pool), 4);
  assert.equal(k.sizeof_mempool_t, 72);
  assert.equal(k.ksize(pool), 96, 'sizeof(mempool_t) is 72: kmalloc-96');
  assert.equal(k.ksize(mp.elements(pool)), 32, 'kmalloc_array(4, sizeof(void *))');
  assert.equal(mp.pool_data(pool), 200);
  assert.equal(mp.allocFn(pool), mp.helpers.mempool_kmalloc);
  assert.equal(k.kallsyms.name(mp.freeFn(pool)), 'mempool_kfree');
  for (const el of mp.reserved(pool)) assert.equal(k.ksize(el), 256);
  assert.equal(k.mempool_is_saturated(pool), true);
  assert.equal(k.mempool_initialized(pool), true);
  // With memory to spare the allocator serves mempool_alloc and the reserve stays full.
  const el = k.mempool_alloc(pool, k.GFP_KERNEL);
  assert.notEqual(el, 0);
  assert.equal(mp.curr_nr(pool), 4);
  assert.ok(!mp.reserved(pool).includes(el));
  // A full reserve: mempool_free gives the element back to the allocator.
  k.mempool_free(el, pool);
  assert.equal(mp.curr_nr(pool), 4);
  k.mempool_destroy(pool);
});

test('mempool_alloc: the allocator without reclaim first, then the reserve, then the allocator with the caller\'s gfp', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const seen: number[] = [];
  let fail = false;
  const pool = k.mempool_create(2, function my_alloc(gfp, size) {
    seen.push(gfp);
    return fail ? 0 : k.kmalloc(size, gfp);
  }, function my_free(el) { k.kfree(el); }, 64);
  assert.equal(seen.length, 2);
  assert.ok(seen.every((g) => g === k.GFP_KERNEL), 'preallocated with GFP_KERNEL');
  seen.length = 0;
  fail = true;
  const a = k.mempool_alloc(pool, k.GFP_KERNEL);
  const b = k.mempool_alloc(pool, k.GFP_NOIO);
  assert.notEqual(a, 0);
  assert.notEqual(b, 0);
  const cheap = k.GFP_KERNEL & ~(k.__GFP_DIRECT_RECLAIM | k.__GFP_IO) | k.__GFP_NOMEMALLOC | k.__GFP_NORETRY | k.__GFP_NOWARN;
  assert.deepEqual(seen, [cheap, (k.GFP_NOIO & ~k.__GFP_DIRECT_RECLAIM) | k.__GFP_NOMEMALLOC | k.__GFP_NORETRY | k.__GFP_NOWARN],
    'one try each, without __GFP_DIRECT_RECLAIM and __GFP_IO, before the reserve');
  seen.length = 0;
  // The reserve is empty: the first try without reclaim, then again with reclaim allowed, then NULL (GFP_NOWAIT).
  assert.equal(k.mempool_alloc(pool, k.GFP_NOWAIT), 0);
  const nowait = k.GFP_NOWAIT | k.__GFP_NOMEMALLOC | k.__GFP_NORETRY | k.__GFP_NOWARN;
  assert.deepEqual(seen, [nowait], 'GFP_NOWAIT has nothing to drop: one try');
  seen.length = 0;
  assert.equal(k.mempool_alloc(pool, k.GFP_ATOMIC), 0);
  assert.equal(seen.length, 1);
  k.mempool_free(a, pool);
  k.mempool_free(b, pool);
  assert.equal(k.pressure.mempools.curr_nr(pool), 2);
  k.mempool_destroy(pool);
});

test('mempool under exhaustion: the reserve keeps a driver going, refilled on free; NULL for atomic callers', () => {
  const k = boot({ mem: '64M', cpus: 2 });
  const mp = k.pressure.mempools;
  const cache = k.kmem_cache_create('my_request', 192, 0, k.SLAB_HWCACHE_ALIGN, null);
  const pool = k.mempool_create_slab_pool(8, cache);
  const reserve = mp.reserved(pool);
  const held = exhaust(k, [() => k.kmem_cache_alloc(cache, NOWARN_ATOMIC(k))]);
  assert.equal(k.kmem_cache_alloc(cache, NOWARN_ATOMIC(k)), 0, 'the cache cannot grow');
  // GFP_ATOMIC callers get the reserve, last in first out, then NULL without a warning.
  const got: number[] = [];
  const lines = logged(k, () => {
    for (let i = 0; i < 10; i++) got.push(k.mempool_alloc(pool, k.GFP_ATOMIC));
  });
  assert.deepEqual(got.slice(0, 8), [...reserve].reverse());
  assert.deepEqual(got.slice(8), [0, 0]);
  assert.equal(mp.curr_nr(pool), 0);
  assert.ok(!lines.some((l) => /allocation failure/.test(l)), 'mempool_alloc adds __GFP_NOWARN');
  // The driver completes requests: each one refills the reserve, and is handed out again.
  for (let round = 0; round < 100; round++) {
    k.mempool_free(got[round % 8], pool);
    assert.equal(mp.curr_nr(pool), 1);
    const again = k.mempool_alloc(pool, k.GFP_ATOMIC);
    assert.equal(again, got[round % 8]);
  }
  for (const el of got.slice(0, 8)) k.mempool_free(el, pool);
  assert.equal(mp.curr_nr(pool), 8);
  assert.equal(k.mempool_alloc_preallocated(pool), got[7]);
  k.mempool_free(got[7], pool);
  release(k, held, [(o) => k.kmem_cache_free(cache, o)]);
  k.mempool_destroy(pool);
  k.kmem_cache_destroy(cache);
});

test('mempool_alloc that may sleep with the reserve gone: the wait that could never end is reported, NULL returned', () => {
  const text = (k: Kernel) => {
    const pool = k.mempool_create_page_pool(2, 0);
    const held = exhaust(k);
    const a = k.mempool_alloc(pool, k.GFP_NOIO);
    const b = k.mempool_alloc(pool, k.GFP_NOIO);
    assert.ok(a !== 0 && b !== 0);
    return { pool, held, els: [a, b] };
  };
  const k = boot({ mem: '64M', cpus: 1 });
  const t = text(k);
  let r = -1;
  const lines = logged(k, () => { r = k.mempool_alloc(t.pool, k.GFP_KERNEL); });
  assert.equal(r, 0);
  assert.equal(lines[0], 'kmem: mempool_alloc would sleep forever: no element can come back (single-threaded)');
  assert.match(lines[1], /^kmem: task swapper\/0:0 waits on mempool [0-9a-f]+: all 2 reserved elements are handed out and the allocator failed \(mode:0x[0-9a-f]+\(GFP_KERNEL\|__GFP_NOWARN\|__GFP_NORETRY\|__GFP_NOMEMALLOC\)\)$/);
  assert.ok(lines.includes(' io_schedule_timeout') && lines.includes(' mempool_alloc_noprof'));
  assert.equal(k.bug.tainted, 0, 'kmem\'s own report: no taint');
  // Nothing was lost: the elements come back into the pool.
  for (const el of t.els) k.mempool_free(el, t.pool);
  assert.equal(k.pressure.mempools.curr_nr(t.pool), 2);

  const kt = boot({ mem: '64M', cpus: 1 }, { errors: 'throw' });
  const tt = text(kt);
  assert.throws(() => kt.mempool_alloc(tt.pool, kt.GFP_KERNEL),
    (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock' && /would sleep forever/.test(e.message));
  assert.equal(kt.pressure.mempools.curr_nr(tt.pool), 0);
});

test('mempool_alloc with a blocking gfp in atomic context: might_sleep\'s report', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const pool = k.mempool_create_kmalloc_pool(2, 32);
  k.preempt_disable();
  let el = 0;
  const lines = logged(k, () => { el = k.mempool_alloc(pool, k.GFP_KERNEL); });
  k.preempt_enable();
  assert.notEqual(el, 0);
  assert.equal(lines[0], 'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321');
  assert.ok(lines.includes(' mempool_alloc_noprof'));
  // GFP_ATOMIC is fine there.
  k.local_irq_disable();
  assert.deepEqual(logged(k, () => k.mempool_free(k.mempool_alloc(pool, k.GFP_ATOMIC), pool)), []);
  k.local_irq_enable();
  // __GFP_ZERO is not supported: VM_WARN_ON_ONCE.
  const warn = logged(k, () => k.mempool_free(k.mempool_alloc(pool, k.GFP_KERNEL | k.__GFP_ZERO), pool));
  assert.ok(warn.some((l) => /^WARNING: CPU: 0 PID: 0 at mm\/mempool\.c:411 mempool_alloc_noprof$/.test(l)));
  k.mempool_destroy(pool);
});

test('mempool_resize: growing refills with GFP_KERNEL into a new array, shrinking frees the surplus', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const mp = k.pressure.mempools;
  const pool = k.mempool_create_kmalloc_pool(2, 100);
  const oldArray = mp.elements(pool);
  const first = mp.reserved(pool);
  assert.equal(k.mempool_resize(pool, 6), 0);
  assert.equal(mp.min_nr(pool), 6);
  assert.equal(mp.curr_nr(pool), 6);
  assert.notEqual(mp.elements(pool), oldArray);
  assert.equal(k.ksize(mp.elements(pool)), 64, 'kmalloc_array(6, sizeof(void *)): kmalloc-64');
  assert.deepEqual(mp.reserved(pool).slice(0, 2), first, 'the old elements copied over');
  const six = mp.reserved(pool);
  assert.equal(k.mempool_resize(pool, 3), 0);
  assert.equal(mp.min_nr(pool), 3);
  assert.deepEqual(mp.reserved(pool), six.slice(0, 3), 'the top of the stack freed');
  // A grown pool whose allocator fails stays short; mempool_free fills it later.
  const held = exhaust(k, [() => k.kmalloc(100, NOWARN_ATOMIC(k))]);
  const taken = [k.mempool_alloc(pool, k.GFP_ATOMIC), k.mempool_alloc(pool, k.GFP_ATOMIC)];
  assert.equal(k.mempool_resize(pool, 5), 0);
  assert.equal(mp.min_nr(pool), 5);
  assert.equal(mp.curr_nr(pool), 1);
  for (const el of taken) k.mempool_free(el, pool);
  assert.equal(mp.curr_nr(pool), 3);
  release(k, held);
  // new_min_nr <= 0: BUG_ON
  const lines = logged(k, () => assert.equal(k.mempool_resize(pool, 0), -22));
  assert.ok(lines.includes('kernel BUG at mm/mempool.c:334!'));
  assert.equal(mp.min_nr(pool), 5);
  k.mempool_destroy(pool);
});

test('mempool_destroy gives everything back: reserve, elements array, pool', () => {
  for (const kind of ['kmalloc', 'slab', 'page'] as const) {
    const k = boot({ mem: '128M', cpus: 2 });
    const cache = kind === 'slab' ? k.kmem_cache_create('pool_objs', 300, 0, 0, null) : 0;
    const before = footprint(k);
    const pool = kind === 'kmalloc' ? k.mempool_create_kmalloc_pool(16, 1000)
      : kind === 'slab' ? k.mempool_create_slab_pool(16, cache) : k.mempool_create_page_pool(16, 2);
    assert.notEqual(pool, 0);
    const els = Array.from({ length: 20 }, () => k.mempool_alloc(pool, k.GFP_KERNEL));
    assert.ok(footprint(k) < before);
    for (const el of els) k.mempool_free(el, pool);
    k.mempool_destroy(pool);
    assert.equal(footprint(k), before, kind);
    if (cache) k.kmem_cache_destroy(cache);
  }
});

test('mempool_create fails (and leaks nothing) when the reserve cannot be preallocated', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  // An allocator that gives two elements and then fails: the two are freed, then the array and the pool.
  const before = footprint(k);
  let n = 0;
  const freed: number[] = [];
  const pool = k.mempool_create(4, function flaky_alloc(gfp) {
    return n++ < 2 ? k.kmalloc(512, gfp) : 0;
  }, function flaky_free(el) { freed.push(el); k.kfree(el); }, 0);
  assert.equal(pool, 0);
  assert.equal(freed.length, 2);
  assert.equal(footprint(k), before);
  // Out of memory: GFP_KERNEL's own failure report, and NULL.
  const held = exhaust(k);
  let p = -1;
  const lines = logged(k, () => { p = k.mempool_create_page_pool(4, 3); });
  assert.equal(p, 0);
  assert.ok(lines.some((l) => /page allocation failure: order:\d/.test(l)));
  release(k, held);
  assert.equal(footprint(k), before);
});

test('mempool_init: a pool embedded in a zeroed structure; mempool_exit', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const mp = k.pressure.mempools;
  const dev = k.kzalloc(256, k.GFP_KERNEL);
  const pool = dev + 64;
  assert.equal(k.mempool_initialized(pool), false);
  assert.equal(k.mempool_init_page_pool(pool, 3, 1), 0);
  assert.equal(mp.curr_nr(pool), 3);
  for (const page of mp.reserved(pool)) {
    assert.equal(k.page_count(page), 1);
    assert.ok(k.page_to_pfn(page) % 2 === 0, 'order-1 blocks');
  }
  const page = k.mempool_alloc(pool, k.GFP_KERNEL);
  assert.ok(k.page_to_pfn(page) >= 0);
  k.mempool_free(page, pool);
  k.mempool_exit(pool);
  assert.equal(k.mempool_initialized(pool), false);
  assert.equal(mp.curr_nr(pool), 0);
  k.mempool_exit(pool); // on an exited pool, as on a zeroed one: nothing
  k.kfree(dev);
});

test('slub_debug: elements resting in a pool are poisoned, checked when taken, then POISON_INUSE', () => {
  const k = boot({ mem: '128M', cpus: 1, cmdline: 'slub_debug' });
  const mp = k.pressure.mempools;
  const pool = k.mempool_create_kmalloc_pool(2, 40);
  const [a, b] = mp.reserved(pool);
  const bytes = (p: number, n: number) => [...k.kaddr.readBytes(p, n)];
  assert.deepEqual(bytes(a, 40), [...new Array(39).fill(POISON_FREE), POISON_END]);
  const held = exhaust(k, [() => k.kmalloc(40, NOWARN_ATOMIC(k))]);
  assert.equal(k.mempool_alloc(pool, k.GFP_ATOMIC), b);
  assert.deepEqual(bytes(b, 40), new Array(40).fill(POISON_INUSE));
  // A write into an element while it rests in the pool (a use after mempool_free).
  k.kaddr.write8(a + 20, 0x00);
  const lines = logged(k, () => assert.equal(k.mempool_alloc(pool, k.GFP_ATOMIC), a));
  assert.equal(lines[0], 'BUG: mempool element poison mismatch');
  assert.match(lines[1], /^Mempool [0-9a-f]{16} size 40$/);
  assert.match(lines[2], /^ nr=0 @ [0-9a-f]{16}: \.\.\. 0x6b 6b 6b 6b 6b 6b 6b 6b 0 6b 6b 6b 6b 6b 6b 6b \.\.\.$/);
  assert.ok(lines.includes(' remove_element'));
  release(k, held);
  k.mempool_free(a, pool);
  k.mempool_free(b, pool);
  k.mempool_destroy(pool);
  // Without slub_debug nothing is poisoned.
  const k2 = boot({ mem: '128M', cpus: 1 });
  const p2 = k2.mempool_create_kmalloc_pool(1, 40);
  assert.notEqual(k2.kaddr.read8(k2.pressure.mempools.reserved(p2)[0] + 39), POISON_END);
});

test('bad input: NULL element and pool, a slab pool over a cache with a constructor, destroy with elements out', () => {
  const k = boot({ mem: '128M', cpus: 2 });
  const pool = k.mempool_create_kmalloc_pool(2, 64);
  assert.deepEqual(logged(k, () => k.mempool_free(0, pool)), [], 'mempool_free(NULL) does nothing');
  assert.deepEqual(logged(k, () => k.mempool_destroy(0)), [], 'mempool_destroy(NULL) does nothing');
  const oops = logged(k, () => k.mempool_free(k.mempool_alloc(pool, k.GFP_KERNEL), 0));
  assert.equal(oops[0], 'BUG: kernel NULL pointer dereference, address: 0000000000000008');

  // VM_BUG_ON(mem->ctor) in mempool_alloc_slab()
  const withCtor = k.kmem_cache_create('ctor_objs', 64, 0, 0, function my_ctor() {});
  let p = -1;
  const lines = logged(k, () => { p = k.mempool_create_slab_pool(2, withCtor); });
  assert.equal(p, 0);
  assert.ok(lines.includes('kernel BUG at mm/mempool.c:578!'));
  assert.throws(() => boot({ mem: '128M', cpus: 1 }, { errors: 'throw' }).mempool_create_slab_pool(1,
    0), (e: unknown) => e instanceof KernelBug && e.kind === 'Oops', 'a NULL cache: kmem_cache_alloc\'s oops');

  // Elements still out at mempool_destroy(): the kernel does not look. The reserve goes back,
  // the elements out stay allocated (leaked) and the cache says so when it is destroyed.
  const cache = k.kmem_cache_create('leaky', 128, 0, 0, null);
  const lp = k.mempool_create_slab_pool(4, cache);
  const out = [k.mempool_alloc(lp, k.GFP_KERNEL), k.mempool_alloc(lp, k.GFP_KERNEL)];
  const active = () => {
    k.kmem_cache_shrink(cache); // the CPU slabs back on the lists: slabinfo's active is then exact
    return slabinfo(k).get('leaky')!.active;
  };
  assert.equal(active(), 6);
  assert.deepEqual(logged(k, () => k.mempool_destroy(lp)), []);
  assert.equal(active(), 2);
  const destroy = logged(k, () => k.kmem_cache_destroy(cache));
  assert.ok(destroy.some((l) => /kmem_cache_destroy leaky: Slab cache still has objects/.test(l)));
  void out;
});
