/*
 * The page allocator's common case, flat (mm/page_alloc.c, Linux 6.12:
 * what __alloc_pages() -> get_page_from_freelist() -> rmqueue_pcplist() and
 * __free_pages() -> free_unref_page() do when nothing is unusual).
 *
 *   alloc(gfp, order)   order 0..PAGE_ALLOC_COSTLY_ORDER, this CPU's node,
 *                       the preferred zone above its watermark, its pcp
 *                       list non-empty and unlocked:
 *     zone_watermark_fast()  ->  pop the list head  ->  zone_statistics()
 *     ->  prep_new_page()
 *   free(pfn, order)    the last reference to a block with nothing to
 *                       report, its pageblock not isolated, the pcp unlocked:
 *     free_pages_prepare() checks  ->  free_unref_page_commit()
 *
 * Everything else returns "not handled" (-1 / false) before it has changed
 * anything, and the general code in page_alloc.ts does the whole call:
 * refills and drains past `high` are left to the shared pcp code, reports,
 * tracing, NUMA fallback, watermark failures and the slow path to the rest.
 *
 * The fast path runs only while one host thread drives the machine: then no
 * other CPU can run between the lock check and the unlock, so "take
 * pcp->lock" is checking its word is free (a lock held by another CPU in
 * the deterministic mode sends the call to the general code, which does
 * what the kernel does when pcp_spin_trylock() fails). With workers
 * attached, the general code takes the locks with Atomics.
 *
 * No allocation, no closures: state is read and written in the typed
 * arrays the Zone / Pcp / Zonestat handles and the memmap hold. On x86_64
 * the pcp list is popped and pushed here, on the pointers' words (a
 * struct page pointer whose high word is PageLists.intHi has pfn lo >>> 6;
 * see page_list.ts); anything else goes through PageLists. The last gfp's
 * decoding (gfp_zone, gfp_migratetype, the starting zone) is kept per
 * thread: a pure function of the gfp, the CPU and page_group_by_mobility_disabled.
 */
import { __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_THISNODE, __GFP_ZERO } from '../include/linux/gfp_types.ts';
import { ALLOC_KSWAPD, ALLOC_WMARK_LOW, gfp_migratetype, gfp_zone } from '../include/linux/gfp.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Smp } from '../kernel/smp.ts';
import {
  MIGRATE_ISOLATE, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, NR_FREE_PAGES, NUMA_HIT, NUMA_LOCAL, PAGE_ALLOC_COSTLY_ORDER, WMARK_HIGH, WMARK_LOW,
  ZONE_BELOW_HIGH, ZONE_BOOSTED_WATERMARK, type Zone, type ZoneSet,
} from './mmzone.ts';
import { PG_head, PAGE_TYPE_NONE, type PageLayout } from './page.ts';
import { POISON1_LO, POISON2_LO, POISON_HI, type PageLists } from './page_list.ts';
import { G_KSWAPD_PENDING, G_MOBILITY_DISABLED, G_READY, type PageAllocGlobals } from './page_alloc_globals.ts';
import type { PageAllocator } from './page_alloc.ts';
import type { Sparse } from './sparse.ts';
import type { PhysMem } from '../machine/memory.ts';

const TWO32 = 4294967296;

/** A long of struct zone at word i (lw words per long). Kept tiny: V8 inlines it at every use. */
function longAt(a: Int32Array, i: number, lw: number): number {
  return lw === 2 ? (a[i] >>> 0) + a[i + 1] * TWO32 : a[i];
}

/** this_cpu_inc() of a per-CPU unsigned long at word i. */
function perCpuInc(a: Int32Array, i: number, lw: number): void {
  const lo = (a[i] + 1) | 0;
  a[i] = lo;
  if (lo === 0 && lw === 2) a[i + 1] = (a[i + 1] + 1) | 0;
}

/** Orders 0..PAGE_ALLOC_COSTLY_ORDER (0b11) as one test: order === (order & FAST_ORDER_MASK). */
const FAST_ORDER_MASK = PAGE_ALLOC_COSTLY_ORDER;

export class PcpFastPath {
  /* struct page word offsets */
  private readonly wFlags: number;
  private readonly wZone: number;
  private readonly wPrivate: number;
  private readonly wType: number;
  private readonly wRef: number;
  private readonly wMapping: number;
  private readonly wLru: number;
  private readonly wide: boolean;
  /** PageLists.intHi: the high word of a struct page pointer the flat list code decodes; -1 on i386. */
  private readonly intHi: number;
  private readonly zoneShift: number;
  private readonly zoneMask: number;
  private readonly nodeShift: number;
  private readonly nodeMask: number;
  private readonly maxNrZones: number;
  /** PAGE_FLAGS_CHECK_AT_FREE | PG_head: a free with any of them goes the general way. */
  private readonly slowFlags: number;
  /**
   * The zone an allocation from zonelist `list` with highest_zoneidx `idx`
   * starts with, at [list * MAX_NR_ZONES + idx], when it is on the list's
   * own node (else null: NUMA fallback is the general code's).
   */
  private fastZone: (Zone | null)[] = [];
  /* The last gfp decoded on this thread, and what it gave: */
  private lastGfp = -1;
  private lastCpu = -1;
  private lastMobilityDisabled = -1;
  private lastZone: Zone | null = null;
  private lastMt = 0;
  private lastHighestZoneidx = 0;

  constructor(
    private readonly pa: PageAllocator,
    private readonly mem: PhysMem,
    private readonly sparse: Sparse,
    pl: PageLayout,
    private readonly lists: PageLists,
    private readonly sched: Sched,
    private readonly smp: Smp,
    private readonly globals: PageAllocGlobals,
    private readonly zs: ZoneSet,
    private readonly cpuToNode: readonly number[],
    checkAtFree: number,
  ) {
    this.wFlags = pl.flags >> 2;
    this.wZone = pl.zoneWord >> 2;
    this.wPrivate = pl.private >> 2;
    this.wType = pl.page_type >> 2;
    this.wRef = pl._refcount >> 2;
    this.wMapping = pl.mapping >> 2;
    this.wLru = pl.lru >> 2;
    this.intHi = lists.intHi;
    this.wide = pl.size === 64;
    this.zoneShift = pl.zoneShift;
    this.zoneMask = pl.zoneMask;
    this.nodeShift = pl.nodeShift;
    this.nodeMask = pl.nodeMask;
    this.maxNrZones = zs.MAX_NR_ZONES;
    this.slowFlags = checkAtFree | 1 << PG_head;
  }

  /** build_all_zonelists() built the lists: which starting zones the fast path may serve. */
  setZonelists(lists: readonly (readonly Zone[])[]): void {
    this.fastZone = [];
    this.lastGfp = -1;
    lists.forEach((list, l) => {
      const nid = l >> 1;
      for (let idx = 0; idx < this.maxNrZones; idx++) {
        const z = list.find((x) => x.idx <= idx) ?? null;
        this.fastZone.push(z !== null && z.nid === nid && list[0].nid === nid ? z : null);
      }
    });
  }

  /** gfp_zone(), gfp_migratetype() and the starting zone of the zonelist, for lastGfp. */
  private decodeGfp(gfp: number, cpu: number, mobilityDisabled: number): void {
    this.lastGfp = gfp;
    this.lastCpu = cpu;
    this.lastMobilityDisabled = mobilityDisabled;
    this.lastZone = null;
    const highestZoneidx = gfp_zone(gfp, this.zs);
    const mt = gfp_migratetype(gfp, mobilityDisabled !== 0);
    if (highestZoneidx < 0 || mt >= MIGRATE_PCPTYPES) return;
    const nid = this.cpuToNode[cpu] ?? 0;
    this.lastZone = this.fastZone[(nid * 2 + ((gfp & __GFP_THISNODE) !== 0 ? 1 : 0)) * this.maxNrZones + highestZoneidx] ?? null;
    this.lastMt = mt;
    this.lastHighestZoneidx = highestZoneidx;
  }

  /** __alloc_pages() when the preferred zone's pcp list can serve it: the pfn, or -1 (nothing changed). */
  alloc(gfp: number, order: number): number {
    const g = this.globals.a;
    const gw = this.globals.w;
    if (order !== (order & FAST_ORDER_MASK) || g[gw + G_READY] === 0 || this.smp.threadsRelaxed() !== 1 ||
      this.pa.hooks.mm_page_alloc !== undefined) return -1;
    const sched = this.sched;
    if ((gfp & __GFP_DIRECT_RECLAIM) !== 0 && sched.atomicContext()) return -1;
    const cpu = sched.cpu;
    const mobilityDisabled = g[gw + G_MOBILITY_DISABLED];
    if (gfp !== this.lastGfp || cpu !== this.lastCpu || mobilityDisabled !== this.lastMobilityDisabled) {
      this.decodeGfp(gfp, cpu, mobilityDisabled);
    }
    const zone = this.lastZone;
    if (zone === null) return -1;
    const mt = this.lastMt;
    const highestZoneidx = this.lastHighestZoneidx;
    const pcp = zone.pcps[cpu];
    if (pcp.arr[pcp.iLock] !== 0) return -1;
    const list = pcp.lists[MIGRATE_PCPTYPES * order + mt];

    // list_first_entry(), and the entry after it, which list_del() links to the head.
    const ha = list.arr;
    const hw = list.w;
    const intHi = this.intHi;
    const lru = this.wLru;
    let pfn: number;
    let ea = ha;
    let ew = 0;
    let na = ha;
    let nw = hw;
    if (intHi !== -1) {
      if (ha[hw + 1] !== intHi) return -1; // empty (or a pfn past the flat code's reach)
      pfn = ha[hw] >>> 6;
      ea = this.sparse.arr(pfn);
      ew = this.sparse.word(pfn) + lru;
      const nhi = ea[ew + 1];
      if (nhi === intHi) {
        const next = ea[ew] >>> 6;
        na = this.sparse.arr(next);
        nw = this.sparse.word(next) + lru;
      } else if (ea[ew] !== ea[ew + 2] || nhi !== ea[ew + 3]) {
        return -1; // the next entry is neither a page it decodes nor the head (entry->prev)
      }
    } else {
      pfn = this.lists.first(list);
      if (pfn < 0) return -1;
    }

    // get_page_from_freelist(): the high mark until the zone fell below it, then the low mark;
    // zone_page_state(NR_FREE_PAGES), never below 0.
    const za = zone.arr;
    const lw = zone.lw;
    const mark = longAt(za, zone.iWatermark + ((za[zone.iFlags] & 1 << ZONE_BELOW_HIGH) === 0 ? WMARK_HIGH : WMARK_LOW) * lw, lw) +
      longAt(za, zone.iBoost, lw);
    const free = Math.max(longAt(za, zone.iVmStat + NR_FREE_PAGES * lw, lw), 0);
    if (order === 0) {
      // zone_watermark_fast(): order 0 needs no walk of the free lists.
      const reserved = longAt(za, zone.iReservedHighatomic, lw);
      if (!(free - Math.min(free, reserved) > mark + longAt(za, zone.iLowmemReserve + highestZoneidx * lw, lw))) return -1;
    } else if (!this.pa.__zone_watermark_ok(zone, order, mark, highestZoneidx, ALLOC_WMARK_LOW, free)) {
      return -1;
    }

    // rmqueue_pcplist() under pcp->lock: list_del() with poisoning, count
    pcp.u16[pcp.hFreeCount] >>= 1;
    if (intHi !== -1) {
      ha[hw] = ea[ew];
      ha[hw + 1] = ea[ew + 1];
      na[nw + 2] = ea[ew + 2];
      na[nw + 3] = ea[ew + 3];
      ea[ew] = POISON1_LO;
      ea[ew + 1] = POISON_HI;
      ea[ew + 2] = POISON2_LO;
      ea[ew + 3] = POISON_HI;
    } else {
      this.lists.delFirst(list, pfn);
    }
    pcp.arr[pcp.iCount] -= 1 << order;
    if ((gfp & __GFP_KSWAPD_RECLAIM) !== 0 && (za[zone.iFlags] & 1 << ZONE_BOOSTED_WATERMARK) !== 0) {
      this.pa.boostedWakeup(zone, ALLOC_KSWAPD);
    }
    // zone_statistics(): the preferred zone, on this CPU's node
    const st = zone.stats[cpu];
    perCpuInc(st.arr, st.iNumaEvent + NUMA_HIT * lw, lw);
    perCpuInc(st.arr, st.iNumaEvent + NUMA_LOCAL * lw, lw);
    // prep_new_page()
    const a = intHi !== -1 ? ea : this.sparse.arr(pfn);
    const w = intHi !== -1 ? ew - lru : this.sparse.word(pfn);
    a[w + this.wRef] = 1;
    a[w + this.wPrivate] = 0;
    if (this.wide) a[w + this.wPrivate + 1] = 0;
    const iInit = this.globals.initOnAllocWord;
    if ((gfp & __GFP_ZERO) !== 0 || (g[iInit] !== 0 && g[iInit + 1] === 0)) this.mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
    if (order !== 0 && (gfp & __GFP_COMP) !== 0) this.pa.prepCompoundPage(pfn, order);
    if (g[gw + G_KSWAPD_PENDING] !== 0) this.pa.kswapd.runPending();
    return pfn;
  }

  /**
   * __free_pages(page, order) when it drops the last reference to a block
   * with nothing to report and the pcp lists take it: true when done,
   * false (nothing changed) for the general code.
   */
  free(pfn: number, order: number, cold: boolean): boolean {
    if (order !== (order & FAST_ORDER_MASK) || this.smp.threadsRelaxed() !== 1 || this.pa.hooks.mm_page_free !== undefined ||
      this.globals.a[this.globals.initOnAllocWord + 1] !== 0 || !this.sparse.pfn_valid(pfn) || (pfn & ((1 << order) - 1)) !== 0) {
      return false;
    }
    const a = this.sparse.arr(pfn);
    const w = this.sparse.word(pfn);
    // put_page_testzero() drops the last reference; free_pages_prepare()'s checks (page_bad_reason)
    if (a[w + this.wRef] !== 1 || !this.clean(a, w)) return false;
    const link = a[w + this.wZone];
    for (let i = 1; i < 1 << order; i++) {
      const ta = this.sparse.arr(pfn + i);
      const tw = this.sparse.word(pfn + i);
      if (ta[tw + this.wRef] !== 0 || !this.clean(ta, tw) || ta[tw + this.wZone] !== link) return false;
    }
    const nid = this.nodeMask === 0 ? 0 : (link >>> this.nodeShift) & this.nodeMask;
    const zone = this.pa.zones[nid * this.maxNrZones + ((link >>> this.zoneShift) & this.zoneMask)];
    let mt = this.sparse.get_pageblock_migratetype(pfn);
    if (mt === MIGRATE_ISOLATE) return false;
    if (mt >= MIGRATE_PCPTYPES) mt = MIGRATE_MOVABLE;
    const pcp = zone.pcps[this.sched.cpu];
    if (pcp.arr[pcp.iLock] !== 0) return false;

    a[w + this.wRef] = 0;
    a[w + this.wPrivate] = 0;
    if (this.wide) a[w + this.wPrivate + 1] = 0;
    const intHi = this.intHi;
    if (intHi === -1 || cold || pfn >= 1 << 26) {
      this.pa.pcp.commit(zone, pcp, pfn, mt, order, cold);
      return true;
    }
    // free_unref_page_commit(): list_add() at the head (the old first entry, or the head itself,
    // holds the head's words in its prev), then the pcp's count, high and drain.
    const list = pcp.lists[MIGRATE_PCPTYPES * order + mt];
    const ha = list.arr;
    const hw = list.w;
    const lru = this.wLru;
    const nlo = ha[hw];
    const nhi = ha[hw + 1];
    let na = ha;
    let nw = hw;
    if (nhi === intHi) {
      const next = nlo >>> 6;
      na = this.sparse.arr(next);
      nw = this.sparse.word(next) + lru;
    } else if ((nhi & 0xffff) * TWO32 + (nlo >>> 0) !== list.va) {
      this.pa.pcp.commit(zone, pcp, pfn, mt, order, cold); // a first entry the flat code does not decode
      return true;
    }
    const elo = (pfn << 6) | (lru << 2);
    a[w + lru] = nlo;
    a[w + lru + 1] = nhi;
    a[w + lru + 2] = na[nw + 2];
    a[w + lru + 3] = na[nw + 3];
    ha[hw] = elo;
    ha[hw + 1] = intHi;
    na[nw + 2] = elo;
    na[nw + 3] = intHi;
    this.pa.pcp.afterAdd(zone, pcp, mt, order);
    return true;
  }

  /** No PAGE_FLAGS_CHECK_AT_FREE flag, not compound, no mapcount or page type, no mapping. */
  private clean(a: Int32Array, w: number): boolean {
    if ((a[w + this.wFlags] & this.slowFlags) !== 0 || a[w + this.wType] !== PAGE_TYPE_NONE) return false;
    const m = this.wMapping;
    return this.wide ? (a[w + m] | a[w + m + 1]) === 0 : a[w + m] === 0;
  }
}
