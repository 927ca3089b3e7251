/*
 * kswapd (mm/vmscan.c): woken when an allocation finds a zone below its low
 * watermark, it runs when that allocation returns, pays off watermark boosts,
 * and, with nothing to reclaim, counts failures until the node reads as
 * unreclaimable in /proc/zoneinfo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATE_UNMOVABLE, WMARK_LOW } from '../../src/mm/mmzone.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { boot, populatedZones } from './helpers.ts';
import { MAX_RECLAIM_RETRIES } from '../../src/mm/vmscan.ts';

test('kswapd: woken as memory runs low (or a fallback boosts the marks); it runs when the allocation returns', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  const zones = populatedZones(k);
  // The slow path wakes kswapd when the zonelist is below its low marks; rmqueue() also wakes it
  // when an unmovable request stole a movable pageblock and boosted the marks.
  let n = 0;
  while (k.buddy.kswapdWakeups(0) === 0 && n++ < 20000) assert.ok(k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN, 0) !== 0);
  assert.ok(k.buddy.kswapdWakeups(0) > 0, 'woken');
  assert.ok(zones.some((z) => z.freePages() <= z.wmark(WMARK_LOW)) || zones.every((z) => z.get(z.iBoost) === 0));
  // It ran: nothing is pending, and the boosts are paid off.
  assert.equal(k.mem.read32(k.mmInit.pgdatPa[0] + k.mz.pgdat.kswapd_wait), 0);
  for (const z of zones) assert.equal(z.get(z.iBoost), 0);
});

test('kswapd: a pass pays off the watermark boost that a fragmenting fallback added', () => {
  const k = boot({ mem: '256M', cpus: 1 });
  const zone = populatedZones(k).at(-1)!;
  // Unmovable requests on a machine whose free memory is all Movable steal pageblocks and boost the marks.
  const live: number[] = [];
  for (let i = 0; i < 2000 && zone.get(zone.iBoost) === 0; i++) live.push(k.alloc_pages(k.GFP_KERNEL, 0));
  // Whatever boost the last stealing added is paid off by the kswapd pass it woke.
  assert.equal(zone.get(zone.iBoost), 0);
  assert.ok(k.sparse.get_pageblock_migratetype(k.page_to_pfn(live[0])) === MIGRATE_UNMOVABLE);
});

test('kswapd: after MAX_RECLAIM_RETRIES fruitless passes the node is unreclaimable and no longer woken', () => {
  const k = boot({ mem: '64M', cpus: 1 });
  while (k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN | k.__GFP_NORETRY, 0) !== 0);
  let wakeups = -1;
  for (let i = 0; i < MAX_RECLAIM_RETRIES + 4; i++) {
    k.alloc_pages(k.GFP_KERNEL | k.__GFP_NOWARN | k.__GFP_NORETRY, 0);
    if (i === MAX_RECLAIM_RETRIES + 1) wakeups = k.buddy.kswapdWakeups(0);
  }
  assert.equal(k.buddy.node_unreclaimable(0), true);
  assert.equal(k.buddy.kswapdWakeups(0), wakeups, 'not woken any more');
  assert.match(readProc(k, 'zoneinfo'), /node_unreclaimable:  1/);
});
