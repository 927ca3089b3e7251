/*
 * The page allocator on several CPUs, in the deterministic mode (one host
 * thread, k.set_cpu() switching CPUs): pcp lists are per CPU, drain_all_pages
 * drains every CPU's lists under their pcp->lock, the zone counters move
 * through per-CPU diffs and fold back, zone->lock and pcp->lock are taken as
 * 6.12 takes them (a busy pcp lock sends the call to the buddy lists; a zone
 * lock another CPU holds is the soft lockup it would be).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { KernelBug } from '../../src/kernel/bug.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Zone } from '../../src/mm/page_alloc.ts';
import { MIGRATE_UNMOVABLE, NR_FREE_PAGES, NR_VM_ZONE_STAT_ITEMS, WMARK_HIGH, WMARK_LOW, WMARK_MIN } from '../../src/mm/mmzone.ts';
import { allocatorState, boot, checkAllocator, freeBlocks, logSince, rng, type LiveBlocks } from './helpers.ts';

function zoneOf(k: Kernel, pfn: number): Zone {
  return k.buddy.zone(k.pages.page_to_nid(pfn), k.pages.page_zonenum(pfn));
}

/** Kernel virtual address of zone->lock / pcp->lock, for k.spin_lock(). */
function zoneLockVa(k: Kernel, z: Zone): number {
  return z.va + k.mz.zone.lock;
}

function pcpLockVa(k: Kernel, z: Zone, cpu: number): number {
  return k.kaddr.__va(z.pcps[cpu].pa + k.mz.pcp.lock);
}

/** zoneinfo's "count:" per (zone, cpu), in the order it prints them. */
function zoneinfoCounts(k: Kernel): number[] {
  return [...readProc(k, 'zoneinfo').matchAll(/^\s+count: (\d+)$/gm)].map((m) => Number(m[1]));
}

function populated(k: Kernel): Zone[] {
  return k.buddy.zones.filter((z) => k.buddy.populated(z));
}

/** The zone's counter (zone_page_state) without the CPUs' diffs, as the watermark checks read it. */
function rawFree(z: Zone): number {
  return z.freePages();
}

/** Allocate and free order-0 pages on both CPUs in a seeded interleaving; returns what is still held. */
function interleave(k: Kernel, steps: number, seed: number): LiveBlocks {
  const rand = rng(seed);
  const live: LiveBlocks = new Map();
  for (let i = 0; i < steps; i++) {
    k.set_cpu(Math.floor(rand() * 2));
    if (live.size === 0 || rand() < 0.6) {
      const order = rand() < 0.8 ? 0 : Math.floor(rand() * 5);
      const page = k.alloc_pages(k.GFP_KERNEL, order);
      assert.notEqual(page, 0);
      live.set(k.page_to_pfn(page), order);
    } else {
      const pfns = [...live.keys()];
      const pfn = pfns[Math.floor(rand() * pfns.length)];
      k.__free_pages(k.pfn_to_page(pfn), live.get(pfn)!);
      live.delete(pfn);
    }
  }
  k.set_cpu(0);
  return live;
}

test('a page allocated on CPU 0 and freed on CPU 1 goes onto CPU 1\'s pcp list', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  k.set_cpu(0);
  const page = k.alloc_pages(k.GFP_KERNEL, 0);
  const pfn = k.page_to_pfn(page);
  const z = zoneOf(k, pfn);
  const before0 = k.buddy.pcpCounts(z, 0).count;
  const before1 = k.buddy.pcpCounts(z, 1).count;
  k.set_cpu(1);
  k.__free_pages(page, 0);
  assert.equal(k.buddy.pcpListPfns(z, 1, MIGRATE_UNMOVABLE, 0)[0], pfn, 'at the head of CPU 1\'s order-0 unmovable list');
  assert.ok(!k.buddy.pcpListPfns(z, 0, MIGRATE_UNMOVABLE, 0).includes(pfn));
  assert.equal(k.buddy.pcpCounts(z, 1).count, before1 + 1);
  assert.equal(k.buddy.pcpCounts(z, 0).count, before0);
  // CPU 1's next allocation of the same kind is that page (LIFO, hot).
  assert.equal(k.page_to_pfn(k.alloc_pages(k.GFP_KERNEL, 0)), pfn);
  k.__free_pages(k.pfn_to_page(pfn), 0);
});

test('drain_all_pages empties every CPU\'s lists, and zoneinfo\'s pagesets count agrees before and after', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  const live = interleave(k, 3000, 7);
  const counts = () => populated(k).flatMap((z) => [0, 1].map((cpu) => k.buddy.pcpCounts(z, cpu).count));
  assert.deepEqual(zoneinfoCounts(k), counts());
  assert.ok(counts().filter((n) => n > 0).length >= 2, 'both CPUs hold pages on their lists');
  checkAllocator(k, live);

  // One zone, drained from CPU 1: CPU 0's lists too (drain_pages_zone on a remote CPU).
  k.set_cpu(1);
  const z = populated(k).find((x) => k.buddy.pcpCounts(x, 0).count > 0)!;
  k.buddy.drain_all_pages(z);
  assert.equal(k.buddy.pcpTotal(z), 0);
  k.set_cpu(0);
  k.drain_all_pages();
  assert.deepEqual(counts(), counts().map(() => 0));
  assert.deepEqual(zoneinfoCounts(k), counts());
  for (const zone of populated(k)) {
    for (let cpu = 0; cpu < 2; cpu++) assert.equal(k.locks.spin_is_locked(zone.pcps[cpu].lockPa), false);
  }
  checkAllocator(k, live);
  for (const [pfn, order] of live) k.__free_pages(k.pfn_to_page(pfn), order);
});

test('zone counters: per-CPU diffs within the threshold, snapshots exact, refresh_cpu_vm_stats folds them', () => {
  const k = boot({ arch: 'x86_64', mem: '1G', cpus: 2 });
  const zones = populated(k);
  // Pages the allocator could hand out, before: buddy lists (NR_FREE_PAGES) plus pcp lists.
  const avail = () => zones.reduce((n, z) => n + k.buddy.zoneStat(z, NR_FREE_PAGES) + k.buddy.pcpTotal(z), 0);
  const availBefore = avail();
  const live = interleave(k, 4000, 11);
  const held = [...live.values()].reduce((n, o) => n + (1 << o), 0);
  assert.equal(avail() + held, availBefore, 'NR_FREE_PAGES + pcp + used == what was free: no update lost');
  // managed == free lists + pcp lists + live blocks + the kernel's own pages, each page once; NR_FREE_PAGES agrees.
  checkAllocator(k, live);
  for (const z of zones) {
    const onLists = freeBlocks(k).filter((b) => b.nid === z.nid && b.zone === z.idx && b.mt !== 4)
      .reduce((n, b) => n + (1 << b.order), 0);
    assert.equal(k.buddy.zoneStat(z, NR_FREE_PAGES), onLists, `${z.name}: the snapshot counts the free lists exactly`);
    const drift = Math.abs(rawFree(z) - onLists);
    assert.ok(drift <= 2 * k.buddy.statThreshold(z, 0), `${z.name}: counter drifts ${drift}, within 2 CPUs' thresholds`);
  }
  // /proc prints the snapshots (as after the vmstat worker ran).
  const zi = readProc(k, 'zoneinfo');
  for (const z of zones) {
    const m = new RegExp(`Node 0, zone\\s+${z.name}\\n(?:.*\\n)*?\\s+pages free\\s+(\\d+)`).exec(zi);
    assert.equal(Number(m?.[1]), k.buddy.zoneStat(z, NR_FREE_PAGES), `${z.name}: zoneinfo pages free`);
  }
  const memFree = Number(/^MemFree:\s+(\d+) kB$/m.exec(readProc(k, 'meminfo'))?.[1]);
  assert.equal(memFree, zones.reduce((n, z) => n + k.buddy.zoneStat(z, NR_FREE_PAGES), 0) * 4);
  // refresh_cpu_vm_stats() on each CPU: the counters are exact without the diffs.
  for (const cpu of [0, 1]) {
    k.set_cpu(cpu);
    k.buddy.refresh_cpu_vm_stats();
  }
  k.set_cpu(0);
  for (const z of zones) {
    assert.equal(rawFree(z), k.buddy.zoneStat(z, NR_FREE_PAGES), `${z.name}: folded`);
    for (const st of z.stats) {
      for (let item = 0; item < NR_VM_ZONE_STAT_ITEMS; item++) assert.equal(st.u8[st.bDiff + item], 0);
    }
  }
  for (const [pfn, order] of live) k.__free_pages(k.pfn_to_page(pfn), order);
  assert.equal(avail(), availBefore);
});

test('percpu_drift_mark: below it, kswapd\'s balance check (zone_watermark_ok_safe) reads the snapshot', () => {
  // 256 MiB: below 512 MiB khugepaged does not raise min_free_kbytes after refresh_zone_stat_thresholds() ran.
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  for (const z of populated(k)) {
    const t = k.buddy.statThreshold(z, 0);
    const tolerate = k.buddy.wmark(z, WMARK_LOW) - k.buddy.wmark(z, WMARK_MIN);
    assert.equal(z.get(z.iDriftMark), 2 * t > tolerate ? k.buddy.wmark(z, WMARK_HIGH) + 2 * t : 0, `${z.name}`);
  }
  for (const cpu of [0, 1]) {
    k.set_cpu(cpu);
    k.buddy.refresh_cpu_vm_stats();
  }
  k.set_cpu(0);
  const z = populated(k).reduce((a, b) => (k.buddy.managed(b) > k.buddy.managed(a) ? b : a));
  const item = z.iVmStat + NR_FREE_PAGES * z.lw;
  const snap = k.buddy.zoneStat(z, NR_FREE_PAGES);
  const t = k.buddy.statThreshold(z, 1);
  const st = z.stats[1];
  const drift = z.get(z.iDriftMark);
  // CPU 1 owes t pages its diff has not folded yet: the counter reads t more than the free lists hold.
  z.set(item, snap + t);
  st.u8[st.bDiff + NR_FREE_PAGES] = -t & 0xff;
  assert.equal(k.buddy.zoneStat(z, NR_FREE_PAGES), snap, 'the snapshot is unchanged');
  assert.equal(k.buddy.wm.zone_watermark_ok(z, 0, snap, z.idx, 0), true, 'the counter alone passes a mark at the true free count');
  z.set(z.iDriftMark, snap + t + 1);
  assert.equal(k.buddy.wm.zone_watermark_ok_safe(z, 0, snap, z.idx), false, 'below the drift mark: the snapshot fails it');
  z.set(z.iDriftMark, snap);
  assert.equal(k.buddy.wm.zone_watermark_ok_safe(z, 0, snap, z.idx), true, 'above the drift mark: the counter is trusted');
  z.set(z.iDriftMark, drift);
  z.set(item, snap);
  st.u8[st.bDiff + NR_FREE_PAGES] = 0;
});

test('NUMA events are counted per CPU and summed when read: numa_hit and numa_local grow by one per allocation', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  const hits = () => [...readProc(k, 'zoneinfo').matchAll(/^\s+numa_hit\s+(\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const locals = () => [...readProc(k, 'zoneinfo').matchAll(/^\s+numa_local\s+(\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const h0 = hits();
  const l0 = locals();
  const pages: number[] = [];
  for (let i = 0; i < 10; i++) {
    k.set_cpu(i & 1);
    pages.push(k.alloc_pages(k.GFP_KERNEL, 0));
  }
  assert.equal(hits(), h0 + 10);
  assert.equal(locals(), l0 + 10);
  for (const p of pages) k.__free_pages(p, 0);
});

test('pcp->lock busy (held by another CPU): allocation takes rmqueue_buddy, free takes free_one_page', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  k.set_cpu(0);
  const warm = k.alloc_pages(k.GFP_KERNEL, 0);
  k.__free_pages(warm, 0);
  const z = zoneOf(k, k.page_to_pfn(warm));
  const pcpBefore = k.buddy.pcpListPfns(z, 0, MIGRATE_UNMOVABLE, 0);
  k.set_cpu(1);
  k.spin_lock(pcpLockVa(k, z, 0)); // CPU 1 holds CPU 0's pcp lock, as drain_pages_zone() would
  k.set_cpu(0);
  const freeBefore = k.buddy.zoneStat(z, NR_FREE_PAGES);
  const page = k.alloc_pages(k.GFP_KERNEL, 0);
  const pfn = k.page_to_pfn(page);
  assert.ok(!pcpBefore.includes(pfn), 'not from the pcp list');
  assert.deepEqual(k.buddy.pcpListPfns(z, 0, MIGRATE_UNMOVABLE, 0), pcpBefore);
  assert.equal(k.buddy.zoneStat(z, NR_FREE_PAGES), freeBefore - 1, 'from the buddy lists');
  k.__free_pages(page, 0);
  assert.deepEqual(k.buddy.pcpListPfns(z, 0, MIGRATE_UNMOVABLE, 0), pcpBefore, 'freed past the pcp list');
  assert.equal(k.buddy.zoneStat(z, NR_FREE_PAGES), freeBefore);
  assert.equal(k.sched.preempt_count(), 0);
  k.set_cpu(1);
  k.spin_unlock(pcpLockVa(k, z, 0));
  k.set_cpu(0);
  assert.equal(k.page_to_pfn(k.alloc_pages(k.GFP_KERNEL, 0)), pcpBefore[0], 'the pcp list serves again');
  k.__free_pages(k.pfn_to_page(pcpBefore[0]), 0);
});

test('zone->lock held by CPU 1: an allocation on CPU 0 that needs it is the soft lockup, and backs out with state intact', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  k.drain_all_pages(); // order-0 allocations now need a refill (rmqueue_bulk) under zone->lock
  const probe = k.alloc_pages(k.GFP_KERNEL, 4);
  const z = zoneOf(k, k.page_to_pfn(probe));
  k.__free_pages(probe, 4);
  k.drain_all_pages();
  k.set_cpu(1);
  k.spin_lock(zoneLockVa(k, z));
  k.set_cpu(0);
  const state = allocatorState(k);
  for (const order of [4, 0]) {
    const seq = k.log.nextSeq;
    assert.throws(() => k.alloc_pages(k.GFP_KERNEL, order), (e: unknown) => e instanceof KernelBug && e.kind === 'deadlock');
    assert.match(logSince(k, seq).join('\n'), /watchdog: BUG: soft lockup - CPU#0 stuck for 22s! \[swapper\/0:0\]/);
    assert.equal(allocatorState(k), state, `order ${order}: nothing changed`);
    assert.equal(k.sched.preempt_count(), 0, 'preemption back on');
    assert.equal(k.sched.irqs_disabled(), false, 'interrupts back on');
    assert.equal(k.locks.spin_is_locked(z.pcps[0].lockPa), false, 'CPU 0\'s pcp lock released');
    assert.equal(k.locks.owner_cpu(z.lockPa), 1, 'the zone lock stays CPU 1\'s');
  }
  k.set_cpu(1);
  k.spin_unlock(zoneLockVa(k, z));
  k.set_cpu(0);
  const page = k.alloc_pages(k.GFP_KERNEL, 0);
  assert.notEqual(page, 0);
  k.__free_pages(page, 0);
  checkAllocator(k, new Map());
});

test('a worker adopting the RAM: the allocator\'s handles fetch their typed arrays again', () => {
  const k = boot({ arch: 'x86_64', mem: '256M', cpus: 2 });
  const live = interleave(k, 500, 3);
  const copy = k.mem.share();
  copy.buffers = copy.buffers.map((b) => {
    if (b === null) return null;
    const c = new SharedArrayBuffer(b.byteLength);
    new Uint8Array(c).set(new Uint8Array(b));
    return c;
  });
  const old = k.mem.buffers.slice();
  k.mem.adopt(copy);
  const oldBytes = old.map((b) => (b ? new Uint8Array(b).slice() : null));
  const more = interleave(k, 500, 4);
  for (const [pfn, order] of more) live.set(pfn, order);
  checkAllocator(k, live);
  old.forEach((b, s) => {
    if (b) assert.ok(Buffer.from(new Uint8Array(b)).equals(Buffer.from(oldBytes[s]!)), `section ${s}: the old RAM is left alone`);
  });
  for (const [pfn, order] of live) k.__free_pages(k.pfn_to_page(pfn), order);
});
