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
 * refills are left to the shared pcp code, and so is the end of a free
 * that drains past `high` or retunes `high` (pcp.ts afterAdd); reports,
 * tracing, NUMA fallback, watermark failures and the slow path go to the rest.
 *
 * The fast path runs only while one host thread drives the machine: then no
 * other CPU can run between the lock check and the unlock, so "take
 * pcp->lock" is checking its word is free (a lock held by another CPU in
 * the deterministic mode sends the call to the general code, which does
 * what the kernel does when pcp_spin_trylock() fails). With workers
 * attached, the general code takes the locks with Atomics.
 *
 * No allocation, no closures, and few hops: the state is read and written
 * in simulated memory, but where it is comes from a "context" of plain int
 * fields on this object, derived once for the last (zone, CPU) used:
 *
 *   context (JS, immutable facts)        simulated memory
 *   ---------------------------------    -------------------------------------
 *   za, zFlags, zFree, zWmark.. -------> struct zone: flags, vm_stat[NR_FREE_PAGES],
 *                                        _watermark[], watermark_boost, ...
 *   pa32/pu8/pu16, pLock, pCount .. ---> this CPU's per_cpu_pages: lock, count,
 *   pLists (word of lists[0])            high.., free_count, lists[pindex]
 *   sa, sNumaHit, sNumaLocal ----------> this CPU's per_cpu_zonestat: vm_numa_event[]
 *
 * The last gfp's decoding (gfp_zone, gfp_migratetype, the starting zone) is
 * kept too: a pure function of the gfp, the CPU and
 * page_group_by_mobility_disabled. Both are dropped when the RAM is adopted
 * from another thread (mem.onRebind) and rebuilt at the next call.
 *
 * On x86_64 the pcp list is popped and pushed here, on the pointers' words
 * (a struct page pointer whose high word is PageLists.intHi has pfn
 * lo >>> 6; see page_list.ts); anything else goes through PageLists. The
 * zone's longs (two words on x86_64) are compared as int32 when every high
 * word is 0 and every low word below 2^31, the usual case; otherwise as the
 * exact doubles.
 *
 * What the JIT sees, measured with perf on the order-0 pair: every hop
 * through an object (zone.pcps[cpu].lists[i].arr ...) is a load and a map
 * check, a field V8 has seen hold a double is a boxed double to unbox, and
 * an imported constant is a load from its module cell with a TDZ check;
 * hence the context's int fields and the module-local constants below.
 */
import * as gfpTypes from '../include/linux/gfp_types.ts';
import * as gfpHelpers from '../include/linux/gfp.ts';
import * as x86Layout from '../arch/x86/layout.ts';
import type { Sched } from '../kernel/sched.ts';
import type { Smp } from '../kernel/smp.ts';
import * as mmzone from './mmzone.ts';
import type { Zone, ZoneSet } from './mmzone.ts';
import * as page from './page.ts';
import type { PageLayout } from './page.ts';
import * as pageList from './page_list.ts';
import type { PageLists } from './page_list.ts';
import * as globalsLayout from './page_alloc_globals.ts';
import type { PageAllocGlobals } from './page_alloc_globals.ts';
import type { PageAllocator, PageAllocHooks } from './page_alloc.ts';
import * as pcpTuning from './pcp.ts';
import type { PcpLists } from './pcp.ts';
import type { Sparse } from './sparse.ts';
import type { PhysMem } from '../machine/memory.ts';

/*
 * The constants, as module-local consts: V8 reads an imported binding from
 * its module's cell, with a TDZ check, at every use; a local const it folds
 * into the code (about 8 ns of the ~65 ns pair, measured A/B).
 */
const { __GFP_COMP, __GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_THISNODE, __GFP_ZERO } = gfpTypes;
const { ALLOC_KSWAPD, ALLOC_WMARK_LOW, gfp_migratetype, gfp_zone } = gfpHelpers;
const { PAGE_SIZE } = x86Layout;
const {
  MIGRATE_ISOLATE, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, NR_FREE_PAGES, NUMA_HIT, NUMA_LOCAL, PAGE_ALLOC_COSTLY_ORDER, WMARK_HIGH, WMARK_LOW,
  ZONE_BELOW_HIGH, ZONE_BOOSTED_WATERMARK, ZONE_RECLAIM_ACTIVE,
} = mmzone;
const { PG_head, PAGE_TYPE_NONE } = page;
const { POISON1_LO, POISON2_LO, POISON_HI } = pageList;
const { G_KSWAPD_PENDING, G_MOBILITY_DISABLED, G_READY } = globalsLayout;
const { CONFIG_PCP_BATCH_SCALE_MAX, PCPF_FREE_HIGH_BATCH, PCPF_PREV_FREE_HIGH_ORDER } = pcpTuning;

const TWO32 = 4294967296;

/** A long of struct zone at word i (lw words per long), exact; for values the int32 test below refused. */
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

/** A zone index no zone has: the context is empty. */
const NO_ZONE = -1;

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
  /** Words per struct page. */
  private readonly pageWords: number;
  /** PageLists.intHi: the high word of a struct page pointer the flat list code decodes; -1 on i386. */
  private readonly intHi: number;
  private readonly zoneShift: number;
  private readonly zoneMask: number;
  private readonly nodeShift: number;
  private readonly nodeMask: number;
  private readonly maxNrZones: number;
  /** Words per long (2 on x86_64, 1 on i386) and per list_head. */
  private readonly lw: number;
  /** PAGE_FLAGS_CHECK_AT_FREE | PG_head: a free with any of them goes the general way. */
  private readonly slowFlags: number;
  private readonly hooks: PageAllocHooks;
  /** Word indexes of the page allocator's globals in globals.a: the struct, and init_on_alloc (init_on_free follows). */
  private readonly gw: number;
  private readonly gInitOnAlloc: number;
  private readonly pcpLists: PcpLists;
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

  /* The context: where the fields of one zone, and of its pcp and zonestat on one CPU, are. */
  /** nid * MAX_NR_ZONES + zone idx of the context's zone (NO_ZONE: none), and its CPU. */
  private ctxZoneNum = NO_ZONE;
  private ctxCpu = -1;
  private ctxZone: Zone | null = null;
  private za: Int32Array;
  private zFlags = 0;
  private zFree = 0;
  private zWmark = 0;
  private zBoost = 0;
  private zReserved = 0;
  private zLowmem = 0;
  private pa32: Int32Array;
  private pu8: Uint8Array;
  private pu16: Uint16Array;
  private pLock = 0;
  private pCount = 0;
  private pHigh = 0;
  private pHighMin = 0;
  private pHighMax = 0;
  private pBatch = 0;
  private pFlags = 0;
  private pAllocFactor = 0;
  private pFreeCount = 0;
  /** Word index of lists[0] in pa32; lists[pindex] is pListStride words further per pindex. */
  private pLists = 0;
  private readonly pListStride: number;
  /** Kernel virtual address of lists[0]. */
  private pListsVa = 0;
  private sa: Int32Array;
  private sNumaHit = 0;
  private sNumaLocal = 0;

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
    ptrSize: number,
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
    this.pageWords = pl.size >> 2;
    this.zoneShift = pl.zoneShift;
    this.zoneMask = pl.zoneMask;
    this.nodeShift = pl.nodeShift;
    this.nodeMask = pl.nodeMask;
    this.maxNrZones = zs.MAX_NR_ZONES;
    this.lw = ptrSize >> 2;
    this.pListStride = 2 * this.lw;
    this.slowFlags = checkAtFree | 1 << PG_head;
    this.hooks = pa.hooks;
    this.gw = globals.w;
    this.gInitOnAlloc = globals.initOnAllocWord;
    this.pcpLists = pa.pcp;
    this.za = this.pa32 = this.sa = new Int32Array(0);
    this.pu8 = new Uint8Array(0);
    this.pu16 = new Uint16Array(0);
    mem.onRebind(() => this.forget());
  }

  /** Drop the decoded gfp and the context: they are rebuilt from the handles at the next call. */
  private forget(): void {
    this.lastGfp = -1;
    this.ctxZoneNum = NO_ZONE;
    this.ctxCpu = -1;
    this.ctxZone = null;
  }

  /** build_all_zonelists() built the lists: which starting zones the fast path may serve. */
  setZonelists(lists: readonly (readonly Zone[])[]): void {
    this.fastZone = [];
    this.forget();
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

  /**
   * Make (zone, cpu) the context. false when it cannot be (no pagesets yet,
   * or a pcp whose list heads are not where the flat code expects them).
   */
  private loadContext(zone: Zone | undefined, cpu: number): boolean {
    this.ctxZoneNum = NO_ZONE;
    this.ctxZone = null;
    if (zone === undefined) return false;
    const pcp = zone.pcps[cpu];
    const st = zone.stats[cpu];
    if (pcp === undefined || st === undefined) return false;
    const lw = this.lw;
    for (let i = 0; i < pcp.lists.length; i++) {
      const l = pcp.lists[i];
      if (l.arr !== pcp.arr || l.w !== pcp.lists[0].w + i * this.pListStride) return false;
    }
    // `| 0`: int fields stay untagged ints; a handle's index computed through a double would box them.
    this.ctxZone = zone;
    this.za = zone.arr;
    this.zFlags = zone.iFlags | 0;
    this.zFree = (zone.iVmStat + NR_FREE_PAGES * lw) | 0;
    this.zWmark = zone.iWatermark | 0;
    this.zBoost = zone.iBoost | 0;
    this.zReserved = zone.iReservedHighatomic | 0;
    this.zLowmem = zone.iLowmemReserve | 0;
    this.pa32 = pcp.arr;
    this.pu8 = pcp.u8;
    this.pu16 = pcp.u16;
    this.pLock = pcp.iLock | 0;
    this.pCount = pcp.iCount | 0;
    this.pHigh = pcp.iHigh | 0;
    this.pHighMin = pcp.iHighMin | 0;
    this.pHighMax = pcp.iHighMax | 0;
    this.pBatch = pcp.iBatch | 0;
    this.pFlags = pcp.bFlags | 0;
    this.pAllocFactor = pcp.bAllocFactor | 0;
    this.pFreeCount = pcp.hFreeCount | 0;
    this.pLists = pcp.lists[0].w | 0;
    this.pListsVa = pcp.lists[0].va;
    this.sa = st.arr;
    this.sNumaHit = (st.iNumaEvent + NUMA_HIT * lw) | 0;
    this.sNumaLocal = (st.iNumaEvent + NUMA_LOCAL * lw) | 0;
    this.ctxCpu = cpu;
    this.ctxZoneNum = zone.nid * this.maxNrZones + zone.idx;
    return true;
  }

  /**
   * get_page_from_freelist()'s test of the context's zone: the high mark
   * until the zone fell below it, then the low mark; zone_watermark_fast()
   * for order 0, __zone_watermark_ok() above.
   */
  private watermarkOk(order: number, highestZoneidx: number): boolean {
    const za = this.za;
    const lw = this.lw;
    const iMark = this.zWmark + ((za[this.zFlags] & 1 << ZONE_BELOW_HIGH) === 0 ? WMARK_HIGH : WMARK_LOW) * lw;
    const iReserve = this.zLowmem + highestZoneidx * lw;
    let free = za[this.zFree];
    let mark = za[iMark] + za[this.zBoost];
    let reserved = za[this.zReserved];
    let reserve = za[iReserve];
    if ((lw === 2 && (za[this.zFree + 1] | za[iMark + 1] | za[this.zBoost + 1] | za[this.zReserved + 1] | za[iReserve + 1]) !== 0) ||
      (free | za[iMark] | za[this.zBoost] | reserved | reserve) < 0) {
      // a long outside 0..2^31-1: the exact values; zone_page_state(NR_FREE_PAGES) is never below 0
      free = Math.max(longAt(za, this.zFree, lw), 0);
      mark = longAt(za, iMark, lw) + longAt(za, this.zBoost, lw);
      reserved = longAt(za, this.zReserved, lw);
      reserve = longAt(za, iReserve, lw);
    }
    // zone_watermark_fast(): order 0 needs no walk of the free lists
    if (order === 0) return free - Math.min(free, reserved) > mark + reserve;
    return this.pa.__zone_watermark_ok(this.ctxZone!, order, mark, highestZoneidx, ALLOC_WMARK_LOW, free);
  }

  /** __alloc_pages() when the preferred zone's pcp list can serve it: the pfn, or -1 (nothing changed). */
  alloc(gfp: number, order: number): number {
    const g = this.globals.a;
    const gw = this.gw;
    if (order !== (order & FAST_ORDER_MASK) || g[gw + G_READY] === 0 || this.smp.threadsRelaxed() !== 1 ||
      this.hooks.mm_page_alloc !== undefined) return -1;
    const sched = this.sched;
    if ((gfp & __GFP_DIRECT_RECLAIM) !== 0 && sched.atomicContext()) return -1;
    const cpu = sched.cpu;
    const mobilityDisabled = g[gw + G_MOBILITY_DISABLED];
    if (gfp !== this.lastGfp || cpu !== this.lastCpu || mobilityDisabled !== this.lastMobilityDisabled) {
      this.decodeGfp(gfp, cpu, mobilityDisabled);
    }
    const zone = this.lastZone;
    if (zone === null) return -1;
    if (zone !== this.ctxZone || cpu !== this.ctxCpu) {
      if (!this.loadContext(zone, cpu)) return -1;
    }
    const p = this.pa32;
    if (p[this.pLock] !== 0) return -1;

    // list_first_entry(), and the entry after it, which list_del() links to the head.
    const hw = this.pLists + (MIGRATE_PCPTYPES * order + this.lastMt) * this.pListStride;
    const intHi = this.intHi;
    const lru = this.wLru;
    let pfn: number;
    let ea = p;
    let ew = 0;
    let na = p;
    let nw = hw;
    if (intHi !== -1) {
      if (p[hw + 1] !== intHi) return -1; // empty (or a pfn past the flat code's reach)
      pfn = p[hw] >>> 6;
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
      pfn = this.lists.first(zone.pcps[cpu].lists[MIGRATE_PCPTYPES * order + this.lastMt]);
      if (pfn < 0) return -1;
    }
    if (!this.watermarkOk(order, this.lastHighestZoneidx)) return -1;

    // rmqueue_pcplist() under pcp->lock: list_del() with poisoning, count
    this.pu16[this.pFreeCount] >>= 1;
    if (intHi !== -1) {
      p[hw] = ea[ew];
      p[hw + 1] = ea[ew + 1];
      na[nw + 2] = ea[ew + 2];
      na[nw + 3] = ea[ew + 3];
      ea[ew] = POISON1_LO;
      ea[ew + 1] = POISON_HI;
      ea[ew + 2] = POISON2_LO;
      ea[ew + 3] = POISON_HI;
    } else {
      this.lists.delFirst(zone.pcps[cpu].lists[MIGRATE_PCPTYPES * order + this.lastMt], pfn);
    }
    p[this.pCount] -= 1 << order;
    if ((gfp & __GFP_KSWAPD_RECLAIM) !== 0 && (this.za[this.zFlags] & 1 << ZONE_BOOSTED_WATERMARK) !== 0) {
      this.pa.boostedWakeup(zone, ALLOC_KSWAPD);
    }
    // zone_statistics(): the preferred zone, on this CPU's node
    const sa = this.sa;
    perCpuInc(sa, this.sNumaHit, this.lw);
    perCpuInc(sa, this.sNumaLocal, this.lw);
    // prep_new_page()
    const a = intHi !== -1 ? ea : this.sparse.arr(pfn);
    const w = intHi !== -1 ? ew - lru : this.sparse.word(pfn);
    a[w + this.wRef] = 1;
    a[w + this.wPrivate] = 0;
    if (this.wide) a[w + this.wPrivate + 1] = 0;
    const iInit = this.gInitOnAlloc;
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
    if (order !== (order & FAST_ORDER_MASK) || this.smp.threadsRelaxed() !== 1 || this.hooks.mm_page_free !== undefined ||
      this.globals.a[this.gInitOnAlloc + 1] !== 0 || !this.sparse.pfn_valid(pfn) || (pfn & ((1 << order) - 1)) !== 0) {
      return false;
    }
    const a = this.sparse.arr(pfn);
    const w = this.sparse.word(pfn);
    // put_page_testzero() drops the last reference; free_pages_prepare()'s checks (page_bad_reason)
    if (a[w + this.wRef] !== 1 || !this.clean(a, w)) return false;
    const link = a[w + this.wZone];
    // The tail pages: an aligned block of order <= 3 never straddles a section, so they follow in the same memmap.
    const end = w + (this.pageWords << order);
    for (let tw = w + this.pageWords; tw < end; tw += this.pageWords) {
      if (a[tw + this.wRef] !== 0 || !this.clean(a, tw) || a[tw + this.wZone] !== link) return false;
    }
    let mt = this.sparse.get_pageblock_migratetype(pfn);
    if (mt === MIGRATE_ISOLATE) return false;
    if (mt >= MIGRATE_PCPTYPES) mt = MIGRATE_MOVABLE;
    const zoneNum = (this.nodeMask === 0 ? 0 : ((link >>> this.nodeShift) & this.nodeMask) * this.maxNrZones) +
      ((link >>> this.zoneShift) & this.zoneMask);
    const cpu = this.sched.cpu;
    if (zoneNum !== this.ctxZoneNum || cpu !== this.ctxCpu) {
      if (!this.loadContext(this.pa.zones[zoneNum], cpu)) return false;
    }
    const p = this.pa32;
    if (p[this.pLock] !== 0) return false;

    a[w + this.wRef] = 0;
    a[w + this.wPrivate] = 0;
    if (this.wide) a[w + this.wPrivate + 1] = 0;
    const zone = this.ctxZone!;
    const intHi = this.intHi;
    // free_unref_page_commit(): list_add() at the head (the old first entry, or the head itself,
    // holds the head's words in its prev), or list_add_tail() for a cold page; then the pcp's count, high and drain.
    const pindex = MIGRATE_PCPTYPES * order + mt;
    if (intHi === -1 || cold || pfn >= 1 << 26) {
      this.lists.add(pfn, zone.pcps[cpu].lists[pindex], cold);
      if (!this.commitTail(order)) this.pcpLists.afterAdd(zone, zone.pcps[cpu], mt, order);
      return true;
    }
    const hw = this.pLists + pindex * this.pListStride;
    const lru = this.wLru;
    const nlo = p[hw];
    const nhi = p[hw + 1];
    let na = p;
    let nw = hw;
    if (nhi === intHi) {
      const next = nlo >>> 6;
      na = this.sparse.arr(next);
      nw = this.sparse.word(next) + lru;
    } else if ((nhi & 0xffff) * TWO32 + (nlo >>> 0) !== this.pListsVa + pindex * this.pListStride * 4) {
      this.pcpLists.commit(zone, zone.pcps[cpu], pfn, mt, order, cold); // a first entry the flat code does not decode
      return true;
    }
    const elo = (pfn << 6) | (lru << 2);
    a[w + lru] = nlo;
    a[w + lru + 1] = nhi;
    a[w + lru + 2] = na[nw + 2];
    a[w + lru + 3] = na[nw + 3];
    p[hw] = elo;
    p[hw + 1] = intHi;
    na[nw + 2] = elo;
    na[nw + 3] = intHi;
    if (!this.commitTail(order)) this.pcpLists.afterAdd(zone, zone.pcps[cpu], mt, order);
    return true;
  }

  /**
   * The end of free_unref_page_commit() when it changes nothing but counts
   * and flags: the zone neither reclaiming nor below its high mark, no
   * high-order "free high" batch, and the pcp still under `high` (then
   * nr_pcp_high() only clamps `high` and nothing is drained). false, with
   * nothing changed, when any of that does not hold: pcp.ts afterAdd()
   * does the whole tail.
   */
  private commitTail(order: number): boolean {
    const p = this.pa32;
    const u8 = this.pu8;
    const u16 = this.pu16;
    if ((this.za[this.zFlags] & (1 << ZONE_RECLAIM_ACTIVE | 1 << ZONE_BELOW_HIGH)) !== 0) return false;
    const batch = p[this.pBatch];
    const freeCount = u16[this.pFreeCount];
    let flags = u8[this.pFlags];
    if (order !== 0) {
      if (freeCount >= batch && (flags & PCPF_PREV_FREE_HIGH_ORDER) !== 0 &&
        ((flags & PCPF_FREE_HIGH_BATCH) === 0 || p[this.pCount] + (1 << order) >= batch)) return false;
      flags |= PCPF_PREV_FREE_HIGH_ORDER;
    } else {
      flags &= ~PCPF_PREV_FREE_HIGH_ORDER;
    }
    const highMin = p[this.pHighMin];
    const highMax = p[this.pHighMax];
    const high = Math.min(Math.max(p[this.pHigh], highMin), highMax);
    const count = p[this.pCount] + (1 << order);
    if (high === 0 || count >= high) return false; // nr_pcp_high() below changes nothing else; then no drain
    u8[this.pAllocFactor] >>= 1;
    p[this.pCount] = count;
    u8[this.pFlags] = flags;
    if (freeCount < batch << CONFIG_PCP_BATCH_SCALE_MAX) u16[this.pFreeCount] = freeCount + (1 << order);
    p[this.pHigh] = high;
    return true;
  }

  /** No PAGE_FLAGS_CHECK_AT_FREE flag, not compound, no mapcount or page type, no mapping. */
  private clean(a: Int32Array, w: number): boolean {
    if ((a[w + this.wFlags] & this.slowFlags) !== 0 || a[w + this.wType] !== PAGE_TYPE_NONE) return false;
    const m = this.wMapping;
    return this.wide ? (a[w + m] | a[w + m + 1]) === 0 : a[w + m] === 0;
  }
}
