/*
 * kswapd, background reclaim (mm/vmscan.c: wakeup_kswapd, kswapd,
 * balance_pgdat).
 *
 * An allocation that finds a zone below its low watermark wakes the node's
 * kswapd, which reclaims until every eligible zone is above its high
 * watermark (plus any watermark boost), or until reclaim makes no more
 * progress. A pass also pays off the watermark boost that fragmenting
 * fallbacks added (boost_watermark() in free_area.ts).
 *
 * The kernel runs kswapd as a thread per node. kmem is deterministic: a
 * woken kswapd runs when the allocation call that woke it returns, as if
 * the scheduler picked it next. Reclaimable memory comes from the reclaim
 * hook (shrinkers, once there are slab caches); with nothing to reclaim a
 * pass only settles the boost and counts a failure, as kswapd_failures
 * does in the kernel.
 *
 * Per node, in struct pglist_data: kswapd_wait (woken, not yet run),
 * kswapd_order, kswapd_highest_zoneidx, kswapd_failures, and kmem's count
 * of wakeups.
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import { WMARK_HIGH, type MmzoneLayouts, type Zone } from './mmzone.ts';
import type { Watermarks } from './watermark.ts';

/** MAX_RECLAIM_RETRIES: after this many fruitless passes the node is "unreclaimable". */
export const MAX_RECLAIM_RETRIES = 16;

export class Kswapd {
  /** Set by wakeup_kswapd() on any node; cleared when the woken kswapds have run. */
  private readonly pendingPa: number;

  constructor(
    private readonly access: KmemAccess,
    private readonly mz: MmzoneLayouts,
    private readonly pgdatPa: readonly number[],
    private readonly zones: readonly Zone[],
    private readonly wm: Watermarks,
    /** Physical address of a word that says some kswapd is woken (in the allocator's globals). */
    pendingPa: number,
    private readonly reclaim: () => ((gfp: number, order: number) => number) | undefined,
  ) {
    this.pendingPa = pendingPa;
  }

  private field(nid: number, f: 'kswapd_wait' | 'kswapd_order' | 'kswapd_highest_zoneidx' | 'kswapd_failures'): number {
    return this.pgdatPa[nid] + this.mz.pgdat[f];
  }

  /** wakeup_kswapd(zone, order, highest_zoneidx) */
  wakeup(zone: Zone, order: number, highestZoneidx: number): void {
    const m = this.access.mem;
    const nid = zone.nid;
    m.write32(this.field(nid, 'kswapd_order'), Math.max(order, m.read32(this.field(nid, 'kswapd_order'))));
    m.write32(this.field(nid, 'kswapd_highest_zoneidx'), Math.max(highestZoneidx, m.read32(this.field(nid, 'kswapd_highest_zoneidx'))));
    m.write32(this.field(nid, 'kswapd_wait'), 1);
    const wakeups = this.pgdatPa[nid] + this.mz.pgdat.kswapd_wakeups;
    this.access.writeUlong(wakeups, this.access.readUlong(wakeups) + 1);
    m.write32(this.pendingPa, 1);
  }

  /** Run every woken kswapd (called when the waking allocation returns). */
  runPending(): void {
    const m = this.access.mem;
    if (m.read32(this.pendingPa) === 0) return;
    m.write32(this.pendingPa, 0);
    for (let nid = 0; nid < this.pgdatPa.length; nid++) {
      if (m.read32(this.field(nid, 'kswapd_wait')) === 0) continue;
      m.write32(this.field(nid, 'kswapd_wait'), 0);
      const order = m.read32(this.field(nid, 'kswapd_order'));
      const highest = m.read32(this.field(nid, 'kswapd_highest_zoneidx'));
      m.write32(this.field(nid, 'kswapd_order'), 0);
      m.write32(this.field(nid, 'kswapd_highest_zoneidx'), 0);
      this.balance_pgdat(nid, order, highest);
    }
  }

  /** pgdat_balanced(): some eligible zone is above its high watermark for this order. */
  private balanced(nid: number, order: number, highest: number): boolean {
    for (const z of this.zones) {
      if (z.nid !== nid || z.idx > highest || z.present() === 0) continue;
      if (this.wm.zone_watermark_ok(z, order, z.wmark(WMARK_HIGH), highest, 0)) return true;
    }
    return false;
  }

  /** balance_pgdat(): reclaim until balanced or no progress, then pay off the boosts. */
  private balance_pgdat(nid: number, order: number, highest: number): void {
    const boosts = this.zones.map((z) => (z.nid === nid && z.idx <= highest ? z.get(z.iBoost) : 0));
    let progress = 0;
    const reclaim = this.reclaim();
    while (!this.balanced(nid, order, highest) && reclaim) {
      const freed = reclaim(0, order);
      if (freed <= 0) break;
      progress += freed;
    }
    const failures = this.field(nid, 'kswapd_failures');
    const m = this.access.mem;
    if (!this.balanced(nid, order, highest) && progress === 0) m.write32(failures, m.read32(failures) + 1);
    else m.write32(failures, 0);
    this.zones.forEach((z, i) => {
      if (boosts[i]) z.set(z.iBoost, z.get(z.iBoost) - Math.min(z.get(z.iBoost), boosts[i]));
    });
  }

  /** "node_unreclaimable" in zoneinfo: kswapd_failures >= MAX_RECLAIM_RETRIES. */
  unreclaimable(nid: number): boolean {
    return this.access.mem.read32(this.field(nid, 'kswapd_failures')) >= MAX_RECLAIM_RETRIES;
  }
}
