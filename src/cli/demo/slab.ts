/*
 * Chapter: lookaside caches and kmalloc. A scullc-style cache with a
 * constructor, kmalloc's size classes (ksize), GFP_ATOMIC against
 * GFP_KERNEL when memory is short and a shrinker can give some back, and a
 * mempool keeping a driver's requests flowing when nothing else can.
 * (Slab debugging has its own chapter.)
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { readProc } from '../../fs/proc/procfs.ts';
import { ToyDcache } from '../../../examples/dcache.ts';
import { table } from '../output.ts';
import { ptr, type Demo, type DemoChapter } from './chapter.ts';

function slabinfoLines(k: Kernel, names: readonly string[]): string[] {
  const lines = readProc(k, 'slabinfo').split('\n');
  return [lines[1], ...lines.filter((l) => names.includes(l.split(/\s+/)[0]))];
}

function meminfo(k: Kernel, fields: readonly string[]): string[] {
  return readProc(k, 'meminfo').split('\n').filter((l) => fields.includes(l.split(':')[0]));
}

function lookaside(d: Demo): void {
  d.say(`A lookaside cache (kmem_cache) hands out objects of one size, packed into
    slabs of whole pages. LDD3's scullc keeps its quanta in one:
    kmem_cache_create("scullc", scullc_quantum, 0, SLAB_HWCACHE_ALIGN, NULL).
    Here the cache gets a constructor too. The constructor runs when a new
    slab is populated, once for every object in it, not on each
    kmem_cache_alloc(): an object must be handed back (kmem_cache_free) in
    its constructed state, and is handed out again as it was.`);
  const k = d.boot({ mem: '128M', cpus: 2 });
  let ctorCalls = 0;
  const QUANTUM = 4000;
  const cache = k.kmem_cache_create('scullc', QUANTUM, 0, k.SLAB_HWCACHE_ALIGN, function scullc_ctor(kk, obj) {
    ctorCalls++;
    kk.kaddr.writeBytes(obj, new TextEncoder().encode('constructed'));
  });
  d.call('kmem_cache_create("scullc", 4000, 0, SLAB_HWCACHE_ALIGN, scullc_ctor)', ptr(k, cache));
  const first = k.kmem_cache_alloc(cache, k.GFP_KERNEL);
  d.call('kmem_cache_alloc(scullc, GFP_KERNEL)', `${ptr(k, first)}; the constructor ran ${ctorCalls} times`);
  const objs = [first];
  for (let i = 0; i < 5; i++) objs.push(k.kmem_cache_alloc(cache, k.GFP_KERNEL));
  d.call('kmem_cache_alloc() x 5 more', `the constructor has still run ${ctorCalls} times`);
  const text = new TextDecoder().decode(k.kaddr.readBytes(objs[5], 11));
  d.call('the bytes of the sixth object', `"${text}"`);
  d.blank();
  d.say(`One slab of ${k.slab.slabinfo().find((r) => r.name === 'scullc')!.info.objects_per_slab} objects (an order-${
    k.slab.slabinfo().find((r) => r.name === 'scullc')!.info.cache_order} compound page) was populated at the first
    allocation. /proc/slabinfo shows the cache with its object size (4000 rounded up to the 64-byte
    cache line: 4032), objects per slab and pages per slab:`);
  d.show(slabinfoLines(k, ['scullc']));
  d.blank();
  for (const o of objs) k.kmem_cache_free(cache, o);
  k.kmem_cache_destroy(cache);
}

function rounding(d: Demo): void {
  d.say(`kmalloc() is built on the same caches: kmalloc-8 up to kmalloc-8k, with
    kmalloc-96 and kmalloc-192 in between; larger requests go straight to
    the page allocator as compound pages. A request gets the smallest class
    that holds it, so, in LDD3's words, "if you ask for an arbitrary amount
    of memory, you're likely to get slightly more than you asked for, up to
    twice as much." ksize() tells how much an allocation really has:`);
  const k = d.boot({ mem: '128M', cpus: 2 });
  const rows: (string | number)[][] = [['kmalloc(n)', 'ksize', 'from', 'unused']];
  for (const n of [1, 8, 9, 33, 65, 97, 129, 193, 257, 513, 1025, 2049, 4097, 8193, 20000]) {
    const p = k.kmalloc(n, k.GFP_KERNEL);
    const ks = k.ksize(p);
    const pfn = k.page_to_pfn(k.virt_to_page(p));
    const from = k.slab.impl.isSlab(k.slab.impl.folioPfn(p)) ? k.slab.cacheName(k.slab.impl.slab_cache(k.slab.impl.folioPfn(p)))
      : `pages (order ${k.pages.compound_order(pfn)})`;
    rows.push([n, ks, from, `${ks - n} (${Math.round(((ks - n) / ks) * 100)}%)`]);
    k.kfree(p);
  }
  d.show(table(rows, 1));
  d.blank();
  d.say(`kmalloc(129) wastes almost half of a kmalloc-192 object; kmalloc(4097)
    almost half of an 8 KiB one, and kmalloc(8193) takes a 16 KiB compound
    page. A driver that allocates many objects of an odd size is better off
    with its own cache (or a size that fits a class): that is what
    lookaside caches are for.`);
}

function pressure(d: Demo): void {
  d.say(`When memory runs short, GFP_KERNEL and GFP_ATOMIC part ways. A
    GFP_KERNEL caller may sleep: the allocator can reclaim memory for it
    (direct reclaim), and one thing reclaim does is call the shrinkers,
    callbacks with which caches of reusable objects give memory back. The
    dentry cache is the classic one. GFP_ATOMIC cannot sleep, so it
    cannot reclaim; instead it may dip into the reserve below the min
    watermark, which runs out too.

    The machine below caches 100000 "dentries" (examples/dcache.ts: 64-byte
    objects on an LRU list in memory, a SLAB_RECLAIM_ACCOUNT cache, a
    shrinker freeing the oldest), and the rest of its memory is taken,
    without letting reclaim run, down to the min watermark:`);
  const k = d.boot({ mem: '64M', cpus: 1 });
  const dc = ToyDcache.create(k)!;
  const fill = (k.GFP_KERNEL & ~k.__GFP_RECLAIM) | k.__GFP_NOWARN;
  for (let i = 0; i < 100000; i++) dc.d_alloc(`file${i}`, fill);
  const held: number[] = [];
  for (let p; (p = k.alloc_pages(fill, 0)) !== 0;) held.push(p);
  d.show(meminfo(k, ['MemFree', 'MemAvailable', 'Slab', 'SReclaimable', 'SUnreclaim']));
  d.blank();
  d.say(`MemAvailable counts half of the reclaimable slab memory as available:
    the kernel expects to get it back. Now one GFP_ATOMIC page and one
    GFP_KERNEL page. Both normally wake kswapd as well; here they are
    asked without __GFP_KSWAPD_RECLAIM, to see what each caller can do on
    its own:`);
  const atomicOnly = k.GFP_ATOMIC & ~k.__GFP_KSWAPD_RECLAIM;
  const kernelOnly = k.GFP_KERNEL & ~k.__GFP_KSWAPD_RECLAIM;
  const atomic = k.alloc_page(atomicOnly);
  d.call('alloc_page(GFP_ATOMIC)', atomic === 0 ? 'NULL' : 'a page from the reserve below min; nothing reclaimed');
  const before = dc.nr_unused;
  const kernel = k.alloc_page(kernelOnly);
  const scans = dc.calls.filter((c) => c.fn === 'scan');
  d.call('alloc_page(GFP_KERNEL)', kernel === 0 ? 'NULL' : `a page, after direct reclaim: ${scans.length} scan_objects() calls ` +
    `of up to ${Math.max(...scans.map((c) => c.n))} freed ${before - dc.nr_unused} dentries, ` +
    `${k.pressure.vmscan.stats.directReclaimed} slab pages came back`);
  held.push(atomic, kernel);
  d.blank();
  d.say(`Reclaim started at priority 12, asking each shrinker for 1/4096 of its
    objects (times 4 / seeks), and lowered the priority until it had
    SWAP_CLUSTER_MAX (32) pages. GFP_ATOMIC never gets that help. Take
    GFP_ATOMIC pages until there are none:`);
  let n = 0;
  for (;;) {
    const p = k.alloc_page(atomicOnly | k.__GFP_NOWARN);
    if (p === 0) break;
    held.push(p);
    n++;
  }
  d.call('while (alloc_page(GFP_ATOMIC | __GFP_NOWARN)) ...', `${n} more, then NULL`);
  const st = k.pressure.vmscan.stats;
  st.directReclaimed = 0;
  const stalls = st.allocstall;
  const left = dc.nr_unused;
  const again = k.alloc_page(kernelOnly);
  d.call('alloc_page(GFP_KERNEL)', again === 0 ? 'NULL'
    : `a page, after ${st.allocstall - stalls} rounds of direct reclaim: ${left - dc.nr_unused} more dentries, ${st.directReclaimed} slab pages`);
  held.push(again);
  d.blank();
  d.say(`GFP_KERNEL still got its page, but it paid for GFP_ATOMIC's: free memory
    was far below "min", and the allocator went back to reclaim (each round
    made progress, so it retried) until the zone was above the watermark
    again.`);
  d.say(`Finally an allocation that does wake kswapd, the per-node thread that
    reclaims in the background until some zone is back above its high
    watermark. In kmem it runs when the waking allocation returns:`);
  const dentries = dc.nr_unused;
  const woke = k.alloc_page(k.GFP_NOWAIT | k.__GFP_NOWARN);
  held.push(woke);
  const ks = dc.calls.filter((c) => c.comm === 'kswapd0' && c.fn === 'scan');
  d.call('alloc_page(GFP_NOWAIT)', `${woke === 0 ? 'NULL (it cannot reclaim)' : 'a page'}; then kswapd0 ran: ${ks.length} ` +
    `scans freed ${dentries - dc.nr_unused} dentries, ${k.pressure.vmscan.stats.kswapdReclaimed} pages reclaimed`);
  d.show(meminfo(k, ['MemFree', 'SReclaimable']));
  d.blank();
  d.say(`kswapd stops once a zone is above its high watermark, or gives up after
    priority 1; the unused dentries are the price. On a real machine that
    balance between caches and free memory is what keeps MemFree low and
    MemAvailable high.`);
  for (const p of held) if (p) k.__free_page(p);
  dc.destroy();
}

function mempools(d: Demo): void {
  d.say(`Some allocations must not fail even then: a block driver writing dirty
    pages out is how memory gets freed in the first place. A mempool keeps
    min_nr elements in reserve, allocated when the pool is created.
    mempool_alloc() tries the allocator first (without reclaim), then takes
    a reserved element; mempool_free() refills the reserve before anything
    goes back to the allocator. Here a driver's request structures come
    from their own cache through a pool of 16:`);
  const k = d.boot({ mem: '64M', cpus: 1 });
  const cache = k.kmem_cache_create('blk_request', 248, 0, k.SLAB_HWCACHE_ALIGN, null);
  const pool = k.mempool_create_slab_pool(16, cache);
  d.call('mempool_create_slab_pool(16, blk_request_cache)', `${ptr(k, pool)}, ${k.pressure.mempools.curr_nr(pool)} elements reserved`);
  d.say(`Now memory runs out: pages and the cache's free objects all taken (by
    GFP_ATOMIC allocations, which leave nothing below them). The driver's
    interrupt handler, which cannot sleep, must still start requests:`);
  d.blank();
  const held: number[] = [];
  const objs: number[] = [];
  const atomic = k.GFP_ATOMIC | k.__GFP_NOWARN;
  for (;;) {
    let got = 0;
    for (let p; (p = k.alloc_page(atomic)) !== 0; got++) held.push(p);
    for (let o; (o = k.kmem_cache_alloc(cache, atomic)) !== 0; got++) objs.push(o);
    if (got === 0) break;
  }
  k.sched.irq_enter();
  d.logged(k, 'kmem_cache_alloc(blk_request_cache, GFP_ATOMIC)', () => k.kmem_cache_alloc(cache, k.GFP_ATOMIC),
    (r) => (r === 0 ? 'NULL' : ptr(k, r)), (l) => /SLUB|cache:|node 0:|page allocation failure/.test(l));
  const inflight: number[] = [];
  let failed = 0;
  for (let i = 0; i < 1000; i++) {
    const rq = k.mempool_alloc(pool, k.GFP_ATOMIC);
    if (rq === 0) failed++;
    else inflight.push(rq);
    if (inflight.length === 12) {
      // The device completes the oldest requests; each completion frees its request.
      for (const r of inflight.splice(0, 6)) k.mempool_free(r, pool);
    }
  }
  k.sched.irq_exit();
  d.call('1000 x mempool_alloc(pool, GFP_ATOMIC), completions calling mempool_free()',
    `${1000 - failed} requests started, ${failed} failed, ${inflight.length} in flight, reserve at ${k.pressure.mempools.curr_nr(pool)}/16`);
  d.blank();
  d.say(`The reserve turned over: every completed request went back into it and
    came out again. A pool only protects a bounded number of requests in
    flight, and only if they complete: take all 16 and ask again from a
    context that may sleep, and mempool_alloc() waits for an element to
    come back. On kmem's single-threaded machine nothing else can run to
    give one back, so kmem reports the wait that would never end (its own
    message, not the kernel's) and returns NULL:`);
  while (inflight.length < 16) inflight.push(k.mempool_alloc(pool, k.GFP_NOIO));
  d.logged(k, 'mempool_alloc(pool, GFP_NOIO)', () => k.mempool_alloc(pool, k.GFP_NOIO), (r) => (r === 0 ? 'NULL' : ptr(k, r)));
  d.blank();
  for (const r of inflight) k.mempool_free(r, pool);
  k.mempool_destroy(pool);
  for (const o of objs) k.kmem_cache_free(cache, o);
  for (const p of held) k.__free_page(p);
  k.kmem_cache_destroy(cache);
}

export const slabChapter: DemoChapter = {
  id: 'slab',
  title: 'Lookaside caches, kmalloc, memory pressure and mempools',
  summary: 'kmem_cache with a constructor, kmalloc rounding, shrinkers under pressure, a mempool',
  run(d) {
    lookaside(d);
    rounding(d);
    pressure(d);
    mempools(d);
  },
};
