/*
 * Reclaim (mm/vmscan.c, mm/shrinker.c): do_shrink_slab()'s arithmetic
 * checked against an oracle written from the kernel's formulas, direct
 * reclaim letting a sleeping allocation succeed where the no-reclaim path
 * fails, kswapd balancing the node through a shrinker, the reclaim_state
 * accounting of slab pages, and the shrinker API's edges.
 *
 * The shrinkable cache is examples/dcache.ts: dentries on an LRU in memory,
 * a SLAB_RECLAIM_ACCOUNT cache, a shrinker freeing the oldest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernel, ShrinkControl } from '../../src/kernel/kernel.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { WMARK_HIGH, WMARK_LOW } from '../../src/mm/mmzone.ts';
import { ToyDcache } from '../../examples/dcache.ts';
import { boot, populatedZones } from './helpers.ts';

/** GFP_KERNEL without any reclaim: fills memory without waking kswapd or reclaiming. */
const noReclaim = (k: Kernel) => (k.GFP_KERNEL & ~k.__GFP_RECLAIM) | k.__GFP_NOWARN;
/** GFP_KERNEL that may reclaim directly but does not wake kswapd. */
const directOnly = (k: Kernel) => k.GFP_KERNEL & ~k.__GFP_KSWAPD_RECLAIM;

function meminfoKb(k: Kernel, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readProc(k, 'meminfo'));
  assert.ok(m, field);
  return Number(m[1]);
}

/** A machine with `dentries` cached dentries (5 MiB for 80000) and the rest of its free memory taken by pages. */
function filledWithDentries(dentries = 80000): { k: Kernel; dc: ToyDcache; pages: number[] } {
  const k = boot({ mem: '64M', cpus: 1 });
  const dc = ToyDcache.create(k)!;
  for (let i = 0; i < dentries; i++) assert.notEqual(dc.d_alloc(`file${i}`, noReclaim(k)), 0);
  const pages: number[] = [];
  for (let p; (p = k.alloc_pages(noReclaim(k), 0)) !== 0;) pages.push(p);
  assert.equal(dc.calls.length, 0, 'nothing reclaimed while filling');
  return { k, dc, pages };
}

/**
 * do_shrink_slab() from mm/shrinker.c, for a cache of `freeable` objects
 * that a scan does not change: the nr_to_scan of each scan_objects() call
 * and the new nr_deferred.
 */
function oracle(freeable: number, seeks: number, batch: number, priority: number, deferred: number,
  scanned: (nrToScan: number) => number | 'stop'): { scans: number[]; deferred: number } {
  const batchSize = batch || 128;
  const delta = seeks ? Math.floor((Math.floor(freeable / 2 ** priority) * 4) / seeks) : Math.floor(freeable / 2);
  let totalScan = Math.min(Math.floor(deferred / 2 ** priority) + delta, 2 * freeable);
  const scans: number[] = [];
  let done = 0;
  while (totalScan >= batchSize || totalScan >= freeable) {
    const n = Math.min(batchSize, totalScan);
    scans.push(n);
    const r = scanned(n);
    if (r === 'stop') break;
    totalScan -= r;
    done += r;
  }
  return { scans, deferred: Math.min(Math.max(deferred + delta - done, 0), 2 * freeable) };
}

test('do_shrink_slab: scan_objects in batches, the scan target from freeable, priority and seeks; work deferred', () => {
  const cases: { freeable: number; seeks: number; batch: number; partial?: boolean; stopAfter?: number }[] = [
    { freeable: 1000, seeks: 2, batch: 0 },
    { freeable: 100, seeks: 2, batch: 0 },
    { freeable: 5000, seeks: 0, batch: 50 },
    { freeable: 3000, seeks: 1, batch: 0, partial: true },
    { freeable: 20000, seeks: 2, batch: 0, stopAfter: 3 },
  ];
  for (const c of cases) {
    const k = boot({ mem: '128M', cpus: 1 });
    const scans: number[] = [];
    const s = k.shrinker_alloc(0, 'fixed');
    k.shrinker_set(s, {
      count_objects: () => c.freeable,
      scan_objects: (_s, sc: ShrinkControl) => {
        scans.push(sc.nr_to_scan);
        if (c.stopAfter !== undefined && ++scanCalls > c.stopAfter) return k.SHRINK_STOP;
        if (c.partial) sc.nr_scanned = sc.nr_to_scan >> 1;
        return 0;
      },
      seeks: c.seeks, batch: c.batch,
    });
    k.shrinker_register(s);
    let deferred = 0;
    let calls = 0;
    let scanCalls = 0;
    for (let priority = 12; priority >= 0; priority--) {
      scans.length = 0;
      const want = oracle(c.freeable, c.seeks, c.batch, priority, deferred, (n) =>
        c.stopAfter !== undefined && ++calls > c.stopAfter ? 'stop' : c.partial ? n >> 1 : n);
      k.pressure.shrinkers.shrink_slab(k.GFP_KERNEL, 0, priority);
      assert.deepEqual(scans, want.scans, `${JSON.stringify(c)} priority ${priority}`);
      assert.equal(k.pressure.shrinkers.nr_deferred(s), want.deferred, `${JSON.stringify(c)} priority ${priority}: nr_deferred`);
      deferred = want.deferred;
    }
    if (c.batch === 0 && !c.partial && c.stopAfter === undefined && c.freeable === 1000) {
      // Spelled out once: at priority 0, delta = 1000 * 4 / 2 = 2000 = 2 * freeable: 15 batches of 128; the 80
      // left are fewer than a batch and than freeable, so they wait in nr_deferred.
      assert.deepEqual(scans, new Array(15).fill(128));
      assert.equal(k.pressure.shrinkers.nr_deferred(s), Math.min(deferred, 2000));
    }
  }
});

test('shrink_slab: SHRINK_EMPTY and 0 from count_objects mean no scan; gfp and nid reach the callbacks', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const seen: string[] = [];
  for (const [name, count] of [['empty', k.SHRINK_EMPTY], ['zero', 0], ['some', 4]] as const) {
    const s = k.shrinker_alloc(0, name);
    k.shrinker_set(s, {
      count_objects: (_s, sc) => { seen.push(`${name}:count:${sc.gfp_mask}:${sc.nid}`); return count; },
      scan_objects: (_s, sc) => { seen.push(`${name}:scan:${sc.nr_to_scan}`); return 2; },
    });
    k.shrinker_register(s);
  }
  const freed = k.pressure.shrinkers.shrink_slab(k.GFP_NOFS, 0, 0);
  assert.deepEqual(seen, [`empty:count:${k.GFP_NOFS}:0`, `zero:count:${k.GFP_NOFS}:0`, `some:count:${k.GFP_NOFS}:0`, 'some:scan:8']);
  assert.equal(freed, 2);
});

test('direct reclaim: the shrinker frees dentries and a GFP_KERNEL allocation succeeds where the no-reclaim path fails', () => {
  const { k, dc, pages } = filledWithDentries();
  const v = k.pressure.vmscan;
  const dentries = dc.nr_unused;
  const sreclaimable = meminfoKb(k, 'SReclaimable');
  assert.ok(sreclaimable >= (dentries * 64) / 1024, `SReclaimable ${sreclaimable} kB holds the ${dentries} dentries`);
  // No reclaim allowed: nothing to be had.
  assert.equal(k.alloc_pages(noReclaim(k), 0), 0);
  // GFP_NOFS may reclaim, but this shrinker (like the filesystems') stops without __GFP_FS.
  v.reclaimEmptySlabs = false;
  const nofs = k.alloc_pages(k.GFP_NOFS & ~k.__GFP_KSWAPD_RECLAIM | k.__GFP_NOWARN, 0);
  assert.equal(nofs, 0);
  assert.ok(dc.calls.some((c) => c.fn === 'scan' && c.freed === k.SHRINK_STOP));
  assert.equal(dc.nr_unused, dentries);
  // GFP_KERNEL: direct reclaim, in the allocating task, frees dentries; their slab pages come back.
  dc.calls.length = 0;
  const stalls = v.stats.allocstall;
  const page = k.alloc_pages(directOnly(k), 0);
  assert.notEqual(page, 0);
  assert.equal(v.stats.allocstall, stalls + 1);
  assert.ok(dc.nr_unused < dentries);
  assert.ok(dc.calls.length > 0 && dc.calls.every((c) => c.comm === 'swapper/0' && c.gfp === directOnly(k)));
  const scans = dc.calls.filter((c) => c.fn === 'scan');
  assert.ok(scans.slice(0, -1).every((c) => c.n === 128), 'SHRINK_BATCH');
  // Progress is what the slab allocator gave back: SWAP_CLUSTER_MAX (32) pages or more.
  assert.ok(v.stats.directReclaimed >= 32, `reclaimed ${v.stats.directReclaimed}`);
  assert.ok(meminfoKb(k, 'SReclaimable') < sreclaimable, `SReclaimable ${meminfoKb(k, 'SReclaimable')} kB, was ${sreclaimable}`);
  k.__free_pages(page, 0);
  for (const p of pages) k.__free_pages(p, 0);
  dc.destroy();
});

test('kswapd: woken below the low watermark, it shrinks the dentry cache until the node is balanced', () => {
  const { k, dc, pages } = filledWithDentries();
  const zones = populatedZones(k);
  assert.ok(zones.every((z) => z.freePages() <= z.wmark(WMARK_LOW)));
  const dentries = dc.nr_unused;
  // A GFP_NOWAIT allocation cannot reclaim itself; it wakes kswapd, which runs when it returns.
  k.alloc_pages(k.GFP_NOWAIT | k.__GFP_NOWARN, 0);
  assert.ok(dc.calls.length > 0);
  assert.ok(dc.calls.every((c) => c.comm === 'kswapd0' && c.gfp === k.GFP_KERNEL), 'as kswapd0, with GFP_KERNEL');
  assert.ok(dc.nr_unused < dentries);
  assert.ok(zones.some((z) => k.buddy.zone_watermark_ok(z, 0, z.wmark(WMARK_HIGH), z.idx, 0)), 'balanced');
  assert.equal(k.buddy.node_unreclaimable(0), false);
  assert.ok(k.pressure.vmscan.stats.kswapdReclaimed > 0);
  // Its first rounds, at priority 12, ask for (dentries >> 12) * 4 / 2 objects: below SHRINK_BATCH, so no scan;
  // the scans come as the priority drops, 128 at a time.
  const firstScan = dc.calls.findIndex((c) => c.fn === 'scan');
  assert.ok(firstScan > 0 && dc.calls.slice(0, firstScan).every((c) => c.fn === 'count'));
  assert.ok(dc.calls.filter((c) => c.fn === 'scan').every((c) => c.n <= 128));
  assert.equal(k.sched.comm(), 'swapper/0', 'current restored');
  for (const p of pages) k.__free_pages(p, 0);
  dc.destroy();
});

test('reclaim_state: progress counts the slab pages freed while reclaiming, nothing else', () => {
  const { k, dc, pages } = filledWithDentries();
  const v = k.pressure.vmscan;
  v.reclaimEmptySlabs = false;
  const cache = dc.cache;
  const slabs = () => k.slab.slabinfo().find((r) => r.name === 'toy_dentry')!.info.num_slabs;
  const before = slabs();
  const reclaimed = v.__perform_reclaim(k.GFP_KERNEL, 0);
  const after = slabs();
  assert.ok(reclaimed >= 32);
  assert.equal(reclaimed, before - after, 'order-0 slabs: one page each');
  assert.equal(k.sched.reclaimState(), 0, 'set_task_reclaim_state(current, NULL) afterwards');
  assert.equal(k.sched.taskFlags() & 0x800, 0, 'PF_MEMALLOC restored');
  void cache;
  for (const p of pages) k.__free_pages(p, 0);
  dc.destroy();
});

test('a shrinker that allocates while reclaiming does not recurse into reclaim (PF_MEMALLOC)', () => {
  const { k, dc, pages } = filledWithDentries();
  let nested = 0;
  let inside = -1;
  const s = k.shrinker_alloc(0, 'greedy');
  k.shrinker_set(s, {
    count_objects: () => 1 << 20,
    scan_objects: () => {
      const stalls = k.pressure.vmscan.stats.allocstall;
      const p = k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN, 0);
      inside = k.pressure.vmscan.stats.allocstall - stalls;
      if (p) k.__free_pages(p, 0);
      nested++;
      return 0;
    },
  });
  k.shrinker_register(s);
  assert.notEqual(k.alloc_pages(directOnly(k), 0), 0);
  assert.ok(nested > 0);
  assert.equal(inside, 0, 'no direct reclaim from inside reclaim');
  for (const p of pages) k.__free_pages(p, 0);
  dc.destroy();
});

test('kmem\'s empty-slab pass: empty slabs SLUB keeps cached go back under pressure (off: 6.12 exactly)', () => {
  for (const on of [true, false]) {
    const k = boot({ mem: '64M', cpus: 1 });
    k.pressure.vmscan.reclaimEmptySlabs = on;
    const cache = k.kmem_cache_create('cached_empty', 4096, 0, 0, null);
    const objs = Array.from({ length: 128 }, () => k.kmem_cache_alloc(cache, k.GFP_KERNEL));
    for (const o of objs) k.kmem_cache_free(cache, o);
    const kept = k.slab.slabinfo().find((r) => r.name === 'cached_empty')!.info.num_slabs;
    assert.ok(kept > 0, 'min_partial empty slabs stay');
    const pages: number[] = [];
    for (let p; (p = k.alloc_pages(noReclaim(k), 0)) !== 0;) pages.push(p);
    const page = k.alloc_pages(directOnly(k) | k.__GFP_NOWARN, 0);
    assert.equal(page !== 0, on);
    const left = k.slab.slabinfo().find((r) => r.name === 'cached_empty')!.info.num_slabs;
    assert.equal(left, on ? 0 : kept);
    if (page) k.__free_pages(page, 0);
    for (const p of pages) k.__free_pages(p, 0);
  }
});

test('shrinker API: shrinker_free unregisters at once and frees after a grace period; the pre-6.7 names', () => {
  const k = boot({ mem: '128M', cpus: 1 });
  const sh = k.pressure.shrinkers;
  const calls: string[] = [];
  const s = k.shrinker_alloc(k.SHRINKER_NUMA_AWARE | k.SHRINKER_MEMCG_AWARE, 'api');
  assert.equal(k.ksize(s), 128, 'sizeof(struct shrinker) 128: kmalloc-128');
  assert.equal(sh.seeks(s), k.DEFAULT_SEEKS);
  assert.equal(sh.flags(s), 0b0110, 'SHRINKER_ALLOCATED | NUMA_AWARE; no memcg in kmem');
  k.shrinker_set(s, { count_objects: () => { calls.push('count'); return 0; }, scan_objects: () => 0 });
  assert.deepEqual(sh.registered(), []);
  k.shrinker_register(s);
  assert.deepEqual(sh.registered(), [s]);
  assert.equal(sh.flags(s) & 1, 1, 'SHRINKER_REGISTERED');
  sh.shrink_slab(k.GFP_KERNEL, 0, 0);
  assert.deepEqual(calls, ['count']);
  k.shrinker_free(s);
  assert.deepEqual(sh.registered(), []);
  sh.shrink_slab(k.GFP_KERNEL, 0, 0);
  assert.deepEqual(calls, ['count']);
  assert.equal(k.ksize(s), 128, 'still allocated until the grace period ends');
  k.shrinker_free(0);

  // Old API: register_shrinker(&my_shrinker, name) / unregister_shrinker(&my_shrinker).
  const old = { count_objects: () => { calls.push('old'); return 0; }, scan_objects: () => 0, seeks: 4 };
  assert.equal(k.register_shrinker(old, 'old-style'), 0);
  assert.equal(sh.registered().length, 1);
  assert.equal(sh.seeks(sh.registered()[0]), 4);
  sh.shrink_slab(k.GFP_KERNEL, 0, 0);
  k.unregister_shrinker(old);
  assert.deepEqual(sh.registered(), []);
  assert.deepEqual(calls, ['count', 'old']);
  k.synchronize_rcu();

  // A shrinker that did not come from shrinker_alloc() is refused, as shrinker_register() refuses it.
  const fake = k.kzalloc(128, k.GFP_KERNEL);
  const seq = k.log.nextSeq;
  k.shrinker_register(fake);
  assert.match(k.log.dmesg(seq), /Must use shrinker_alloc\(\) to dynamically allocate the shrinker/);
  assert.deepEqual(sh.registered(), []);
});
