/*
 * Replaying a kmem trace on a booted machine: the allocations and frees a
 * real kernel made (ftrace text, parsed by src/trace/parse.ts) run again on
 * kmem's allocators, one event at a time, in the trace's order.
 *
 *   const r = new TraceReplay(k);
 *   parse_trace_text(text, (e) => r.event(e));      // or TraceParser.feed() chunk by chunk
 *   const result = r.finish(parseResult);             // src/trace/report.ts prints it
 *
 * Per event, on the simulated CPU of the trace's CPU column (modulo the
 * machine's CPUs; a trace from a bigger machine is counted in
 * cpus_folded):
 *
 *   kmalloc           __kmalloc_node(bytes_req, gfp_flags, node): kmalloc's
 *                     size classes choose the cache, as in the kernel
 *   kmem_cache_alloc  kmem_cache_alloc_node(cache, gfp_flags, node); the cache
 *                     is found by name= (the kmalloc caches and kmem_cache
 *                     exist already) or created on first sight with
 *                     bytes_req as its object size (below)
 *   kfree, kmem_cache_free
 *                     the object the trace's ptr stands for: pointers are
 *                     identifiers (hashed %p or raw), matched to the
 *                     allocation that returned them
 *   mm_page_alloc     __alloc_pages(gfp_flags, order)
 *   mm_page_free      __free_pages() of the block the page pointer stands for
 *   mm_page_alloc_zone_locked, mm_page_pcpu_drain, mm_page_alloc_extfrag
 *                     counted only: they are what an allocator did inside,
 *                     not requests (kmem's allocator makes its own)
 *
 * The slab implementation's periodic work (SLAB's cache_reap(), SLQB's
 * cache_trim_worker(): SlabAllocator.reap_tick) runs on the trace's clock:
 * before an event, reap_tick() with the whole milliseconds of trace time
 * since the last tick, so queues and arrays are trimmed as they would have
 * been on the traced machine's timeline.
 *
 * Counted, never fatal: kfree(NULL) (kfree_null); frees whose pointer was
 * not allocated in the trace (unmatched_frees: objects allocated before the
 * capture began, or by tasks the capture filtered out); allocations kmem
 * cannot satisfy (failed_allocs); allocations that had failed on the traced
 * machine (trace_failed_allocs: ptr or page NULL, not replayed).
 *
 * Choices the trace leaves open, made here:
 * - A pointer allocated again while still live (its free was not in the
 *   trace: an RCU callback in another task, a filtered-out task, a bulk
 *   free, which has no tracepoint) means the old object was freed unseen:
 *   kmem frees its copy first (implicit_frees), so memory does not leak
 *   where the real machine's did not.
 * - A cache created on first sight gets SLAB_NO_MERGE (a trace's names are
 *   the caches the kernel had after merging, so each is one cache),
 *   SLAB_ACCOUNT if the trace says accounted=true without __GFP_ACCOUNT,
 *   and the layout that makes s->size equal the trace's bytes_alloc when
 *   one does: none, SLAB_HWCACHE_ALIGN, a constructor (the free pointer
 *   then goes after the object, as for inode caches), or both. 6.18's
 *   filp (184 -> 192), inode_cache (616 -> 624), sighand_cache
 *   (2080 -> 2112) come out right this way. Without name= (kernels before
 *   6.x) the cache is "<bytes_req>-<bytes_alloc>".
 * - mm_page_alloc events that look like SLUB's allocate_slab() (__GFP_COMP,
 *   __GFP_NOWARN and __GFP_NORETRY, not movable, not highmem) are not
 *   replayed: the slab events make kmem's SLUB allocate its own slabs
 *   (slab_pages_skipped; their frees are slab_page_frees_skipped). A large
 *   kmalloc's pages (above 8 KiB) are allocated twice, by its mm_page_alloc
 *   and by the kmalloc itself: rare, and absent from the shared trace.
 *
 * Speed: one reused parser record per event, no allocation per event on
 * the hot path: live objects and pages are slots in typed arrays, found by
 * a Map from the trace's pointer value to the slot; per call site and per
 * cache figures are arrays indexed by dense ids.
 */
import type { Kernel, SlabCtor } from '../kernel/kernel.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { __GFP_ACCOUNT, __GFP_COMP, __GFP_HIGHMEM, __GFP_MOVABLE, __GFP_NORETRY, __GFP_NOWARN } from '../include/linux/gfp_types.ts';
import { KMALLOC_MAX_CACHE_SIZE, SLAB_ACCOUNT, SLAB_HWCACHE_ALIGN, SLAB_NO_MERGE } from '../include/linux/slab.ts';
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from '../mm/mmzone.ts';
import { getOrder } from '../mm/slub.ts';
import {
  EVENT_NAMES, F_NAME, KFREE, KMALLOC, KMEM_CACHE_ALLOC, KMEM_CACHE_FREE, MM_PAGE_ALLOC, MM_PAGE_ALLOC_EXTFRAG,
  MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED, MM_PAGE_PCPU_DRAIN, NR_EVENT_TYPES, type KfreeEvent, type KmallocEvent, type KmemCacheAllocEvent, type KmemCacheFreeEvent, type KmemEvent,
  type PageAllocEvent,
} from './kmem_events.ts';
import type { ParseResult } from './parse.ts';
import type { SlabInfo } from '../mm/slab_types.ts';

const SLAB_PAGE_GFP = __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY;
const NR_ORDERS = 11;
const NR_MT = 6;

/** Figures of one call site (the trace's call_site text). */
export interface CallSiteStats {
  call_site: string;
  allocs: number;
  frees: number;
  bytes_req: number;
  /** What kmem gave (s->size, or PAGE_SIZE << order above KMALLOC_MAX_CACHE_SIZE). */
  bytes_alloc: number;
  /** What the traced kernel gave. */
  trace_bytes_alloc: number;
  /** Objects allocated here and freed on another CPU (perf kmem's "ping-pong"). */
  cross_cpu_frees: number;
  failed: number;
}

/** Figures of one cache of the replaying machine. */
export interface CacheStats {
  name: string;
  /** Created by the replay (on first sight of its name), or already there (kmalloc caches). */
  created: boolean;
  /** s->object_size and s->size in kmem. */
  object_size: number;
  size: number;
  /** bytes_alloc the trace reported for it (its s->size on the traced machine); -1 for kmalloc caches. */
  trace_size: number;
  /** The layout chosen to match trace_size: SLAB_HWCACHE_ALIGN and/or a constructor. */
  hwcache_align: boolean;
  /** Objects per slab in kmem (0: the implementation has no per-cache slabs, SLOB). */
  objects_per_slab: number;
  ctor: boolean;
  allocs: number;
  frees: number;
  bytes_req: number;
  bytes_alloc: number;
  trace_bytes_alloc: number;
  /** Allocation events whose trace bytes_alloc differs from kmem's s->size. */
  size_mismatches: number;
  live: number;
  peak_live: number;
  failed: number;
}

/** A kmalloc size class where kmem and the trace disagree. */
export interface KmallocMismatch {
  bytes_req: number;
  gfp: string;
  trace_bytes_alloc: number;
  kmem_bytes_alloc: number;
  events: number;
}

/** One point of the footprint over time. */
export interface FootprintSample {
  /** Event index. */
  event: number;
  /** Trace time, ns. */
  ts: number;
  /** Slab pages on the replaying machine (NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B). */
  slab_pages: number;
  /** Pages the replay holds from the page allocator (mm_page_alloc events live). */
  pages: number;
  /** Live slab objects of the replay, and their bytes requested and allocated. */
  objects: number;
  bytes_req: number;
  bytes_alloc: number;
}

export interface ReplayResult {
  /** Event lines replayed (every kmem event the parser handed over). */
  events: number;
  /** Events by name as printed (kmalloc_node apart from kmalloc). */
  by_type: Record<string, number>;
  unmatched_frees: number;
  failed_allocs: number;
  /** bytes_req of the kmalloc and kmem_cache_alloc events. */
  bytes_req: number;
  /** What kmem gave (or would give) for them. */
  bytes_alloc: number;
  trace_bytes_alloc: number;
  /** 1 - bytes_req / bytes_alloc (kmem); and the same for the trace. */
  internal_fragmentation: number;
  trace_internal_fragmentation: number;
  /** kmalloc events whose bytes_alloc in kmem differs from the trace's. */
  bytes_alloc_mismatches: number;
  kmalloc_events: number;
  kmalloc_mismatches: KmallocMismatch[];
  /** kmem_cache_alloc events whose cache's s->size differs from the trace's bytes_alloc. */
  cache_size_mismatches: number;
  peak_slab_pages: number;
  /**
   * At the end: 1 - (bytes_alloc of the objects the replay still holds) /
   * (slab pages the replay added x PAGE_SIZE), the part of the pages the
   * workload brought in that holds no live object (boot-time slab pages are
   * left out of both sides; 0 when the replay added none).
   */
  external_fragmentation: number;
  /** Objects per slab of the caches the replay allocated from, weighted by allocations (0 under SLOB). */
  objects_per_slab: number;
  /** Slab pages when the replay began (the boot's caches) and at its end. */
  slab_pages_start: number;
  slab_pages_end: number;
  events_per_second: number;
  replay_ms: number;
  kfree_null: number;
  unmatched_frees_by_type: Record<string, number>;
  implicit_frees: number;
  trace_failed_allocs: number;
  cross_cpu_frees: number;
  cpus_folded: number;
  slab_pages_skipped: number;
  slab_page_frees_skipped: number;
  caches_created: number;
  /** Log records the kernel printed during the replay (warnings, allocation failures). */
  kernel_log_records: number;
  pages: {
    allocs: number;
    frees: number;
    failed: number;
    unmatched_frees: number;
    cross_cpu_frees: number;
    /** Pages held at the end and at most. */
    held: number;
    peak_held: number;
    by_order: number[];
    frees_by_order: number[];
    by_migratetype: number[];
    /** gfp_flags text (as the trace printed it) -> allocations. */
    by_gfp: Record<string, number>;
  };
  call_sites: CallSiteStats[];
  caches: CacheStats[];
  footprint: FootprintSample[];
  /** The trace's header and the parser's counts, when finish() was given them. */
  trace?: {
    ncpus: number;
    entries_in_buffer: number;
    entries_written: number;
    lines: number;
    bad_lines: number;
    other_events: number;
    lost_events: number;
  };
  machine: { cpus: number; mem_bytes: number; nodes: number; slab: string };
}

export interface ReplayOptions {
  /** A footprint sample every this many events (default 512). */
  sample_every?: number;
}

function grow<T extends Float64Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Slots with a stack of free ones; the subclass holds the columns (typed arrays) and grows them. */
abstract class Slots {
  private free: Int32Array;
  private top = 0;
  private next = 0;

  constructor(private capacity: number) {
    this.free = new Int32Array(capacity);
  }

  /** A free slot (the columns grow when all are taken). */
  take(): number {
    if (this.top > 0) return this.free[--this.top];
    const slot = this.next++;
    if (slot >= this.capacity) {
      this.capacity *= 2;
      this.free = grow(this.free, this.capacity);
      this.resize(this.capacity);
    }
    return slot;
  }

  release(slot: number): void {
    this.free[this.top++] = slot;
  }

  protected abstract resize(n: number): void;
}

/** The replay's live slab objects, one slot each. */
class LiveObjects extends Slots {
  addr = new Float64Array(1024);
  /** CacheStats index, -1 for a large kmalloc */
  cache = new Int32Array(1024);
  site = new Int32Array(1024);
  cpu = new Int32Array(1024);
  req = new Int32Array(1024);
  alloc = new Int32Array(1024);

  constructor() {
    super(1024);
  }

  protected resize(n: number): void {
    this.addr = grow(this.addr, n);
    this.cache = grow(this.cache, n);
    this.site = grow(this.site, n);
    this.cpu = grow(this.cpu, n);
    this.req = grow(this.req, n);
    this.alloc = grow(this.alloc, n);
  }
}

/** The replay's live page blocks, one slot each. */
class LivePages extends Slots {
  pfn = new Float64Array(256);
  order = new Int32Array(256);
  cpu = new Int32Array(256);

  constructor() {
    super(256);
  }

  protected resize(n: number): void {
    this.pfn = grow(this.pfn, n);
    this.order = grow(this.order, n);
    this.cpu = grow(this.cpu, n);
  }
}

/** A no-op constructor for caches whose traced layout had one (the free pointer goes after the object). */
const replay_ctor: SlabCtor = function replay_ctor() {};

export class TraceReplay {
  private readonly nrCpus: number;
  private readonly nrNodes: number;
  private readonly ptrSize: number;
  private readonly sampleEvery: number;

  /* Live slab objects: trace pointer -> slot. */
  private readonly objects = new Map<number, number>();
  private readonly obj = new LiveObjects();

  /* Live pages: trace page pointer -> slot. */
  private readonly pageMap = new Map<number, number>();
  private readonly pg = new LivePages();
  private readonly skippedSlabPages = new Set<number>();

  /* Caches: by kmem address, by name (the trace's name table id). */
  private readonly caches: CacheStats[] = [];
  /** The struct kmem_cache of each (0 when it could not be created). */
  private readonly cacheS: number[] = [];
  private readonly cacheByS = new Map<number, number>();
  private readonly cacheByNameId: number[] = [];
  private readonly cacheByName = new Map<string, number>();
  private readonly kmemCaches = new Map<string, number>();

  /* Call sites by the parser's call_site_id. */
  private readonly sites: CallSiteStats[] = [];

  /* Counters. */
  private events = 0;
  private readonly byType = new Array<number>(NR_EVENT_TYPES).fill(0);
  private unmatched = new Array<number>(NR_EVENT_TYPES).fill(0);
  private failedAllocs = 0;
  private traceFailed = 0;
  private bytesReq = 0;
  private bytesAlloc = 0;
  private traceBytesAlloc = 0;
  private kmallocEvents = 0;
  private kmallocMismatches = 0;
  private readonly mismatchTable = new Map<string, KmallocMismatch>();
  private cacheSizeMismatches = 0;
  private kfreeNull = 0;
  private implicitFrees = 0;
  private crossCpu = 0;
  private cpusFolded = 0;
  private slabPagesSkipped = 0;
  private slabPageFreesSkipped = 0;
  private cachesCreated = 0;
  private liveObjects = 0;
  private liveReq = 0;
  private liveAlloc = 0;

  private pageAllocs = 0;
  private pageFrees = 0;
  private pageFailed = 0;
  private pageUnmatched = 0;
  private pageCrossCpu = 0;
  private pagesHeld = 0;
  private peakPagesHeld = 0;
  private readonly byOrder = new Array<number>(NR_ORDERS).fill(0);
  private readonly freesByOrder = new Array<number>(NR_ORDERS).fill(0);
  private readonly byMt = new Array<number>(NR_MT).fill(0);
  /* Page allocations by the parser's gfp text id, and the texts. */
  private readonly byGfpId: number[] = [];
  private readonly gfpText: string[] = [];

  /* Slab pages: where the node counters are. */
  private readonly slabStatPa: number[] = [];
  private readonly slabStart: number;
  private peakSlab: number;
  private lastTs = 0;
  private readonly footprint: FootprintSample[] = [];
  private t0 = -1;
  private readonly logSeq0: number;
  /** The implementation's reap_tick (bound once), and the trace time (ns) it has been ticked to; -1 before the first event. */
  private readonly reap: ((ms: number) => void) | undefined;
  private tickTs = -1;
  /** get_slabinfo()'s out parameter, reused. */
  private readonly info: SlabInfo = {
    active_objs: 0, num_objs: 0, active_slabs: 0, num_slabs: 0, shared_avail: 0, limit: 0, batchcount: 0, shared: 0,
    objects_per_slab: 0, cache_order: 0,
  };

  constructor(readonly k: Kernel, options: ReplayOptions = {}) {
    this.nrCpus = k.config.cpus;
    this.nrNodes = k.config.nodes.length;
    this.ptrSize = k.layout.ptrSize;
    this.sampleEvery = options.sample_every ?? 512;
    for (const pg of k.mmInit.pgdatPa) {
      this.slabStatPa.push(pg + k.mz.pgdat.vm_stat + NR_SLAB_RECLAIMABLE_B * this.ptrSize);
      this.slabStatPa.push(pg + k.mz.pgdat.vm_stat + NR_SLAB_UNRECLAIMABLE_B * this.ptrSize);
    }
    this.slabStart = this.slabPages();
    this.peakSlab = this.slabStart;
    for (const s of k.slab.caches()) this.kmemCaches.set(k.slab.cacheName(s), s);
    this.logSeq0 = k.log.nextSeq;
    const impl = k.slab.impl;
    this.reap = impl.reap_tick === undefined ? undefined : impl.reap_tick.bind(impl);
  }

  /** Slab pages now (the node counters are in bytes). */
  slabPages(): number {
    let b = 0;
    const mem = this.k.mem;
    for (let i = 0; i < this.slabStatPa.length; i++) {
      const pa = this.slabStatPa[i];
      b += this.ptrSize === 8 ? mem.read32(pa) + (mem.read32(pa + 4) | 0) * 4294967296 : mem.read32(pa) | 0;
    }
    return b / PAGE_SIZE;
  }

  /** The parser's callback: replay one event. */
  event(e: KmemEvent): void {
    if (this.t0 < 0) this.t0 = performance.now();
    const n = this.events++;
    this.byType[e.type]++;
    let cpu = e.cpu;
    if (cpu >= this.nrCpus || cpu < 0) {
      this.cpusFolded++;
      cpu = ((cpu % this.nrCpus) + this.nrCpus) % this.nrCpus;
    }
    if (this.reap !== undefined) {
      if (this.tickTs < 0) this.tickTs = e.ts;
      else if (e.ts - this.tickTs >= 1e6) {
        const ms = Math.floor((e.ts - this.tickTs) / 1e6);
        this.tickTs += ms * 1e6;
        this.reap(ms);
      }
    }
    this.k.sched.cpu = cpu;
    this.lastTs = e.ts;
    switch (e.kind) {
      case KMALLOC:
        this.kmalloc(e, cpu);
        break;
      case KMEM_CACHE_ALLOC:
        this.cacheAlloc(e, cpu);
        break;
      case KFREE:
      case KMEM_CACHE_FREE:
        this.free(e, cpu);
        break;
      case MM_PAGE_ALLOC:
        this.pageAlloc(e, cpu);
        break;
      case MM_PAGE_FREE:
      case MM_PAGE_FREE_BATCHED:
        this.pageFreeEvent(e.page, cpu);
        break;
      case MM_PAGE_ALLOC_ZONE_LOCKED:
      case MM_PAGE_PCPU_DRAIN:
      case MM_PAGE_ALLOC_EXTFRAG:
        break;
    }
    if ((n + 1) % this.sampleEvery === 0) this.sample();
  }

  private sample(): void {
    const slab = this.slabPages();
    if (slab > this.peakSlab) this.peakSlab = slab;
    this.footprint.push({
      event: this.events, ts: this.lastTs, slab_pages: slab, pages: this.pagesHeld, objects: this.liveObjects,
      bytes_req: this.liveReq, bytes_alloc: this.liveAlloc,
    });
  }

  private site(e: { call_site: string; call_site_id: number }): CallSiteStats {
    let s = this.sites[e.call_site_id];
    if (s === undefined) {
      s = { call_site: e.call_site, allocs: 0, frees: 0, bytes_req: 0, bytes_alloc: 0, trace_bytes_alloc: 0, cross_cpu_frees: 0, failed: 0 };
      this.sites[e.call_site_id] = s;
    }
    return s;
  }

  /* ---- slab objects ---- */

  private cacheSlot(s: number, name: string, created: boolean, traceSize: number, hw: boolean, ctor: boolean): number {
    const known = this.cacheByS.get(s);
    if (known !== undefined && s !== 0) return known;
    const k = this.k;
    const pa = s === 0 ? -1 : k.kaddr.__pa(s);
    const objectSize = pa < 0 ? 0 : k.mem.read32(pa + k.slab.impl.cache.object_size);
    const size = pa < 0 ? 0 : k.mem.read32(pa + k.slab.impl.cache.size_);
    this.info.objects_per_slab = 0;
    if (s !== 0) k.slab.impl.get_slabinfo(s, this.info);
    const idx = this.caches.length;
    this.cacheS.push(s);
    this.caches.push({
      name, created, object_size: objectSize, size, trace_size: traceSize, hwcache_align: hw,
      objects_per_slab: this.info.objects_per_slab, ctor, allocs: 0, frees: 0,
      bytes_req: 0, bytes_alloc: 0, trace_bytes_alloc: 0, size_mismatches: 0, live: 0, peak_live: 0, failed: 0,
    });
    if (s !== 0) this.cacheByS.set(s, idx);
    return idx;
  }

  /** The kmalloc cache a request goes to (its slot), or -1 above KMALLOC_MAX_CACHE_SIZE. */
  private kmallocCache(size: number, gfp: number): number {
    // no kmalloc caches with an implementation that has its own kmalloc (SLOB)
    if (size === 0 || size > KMALLOC_MAX_CACHE_SIZE || this.k.slab.impl.kmalloc_node !== undefined) return -1;
    const s = this.k.slab.kmalloc_slab(size, gfp);
    const known = this.cacheByS.get(s);
    if (known !== undefined) return known;
    return this.cacheSlot(s, this.k.slab.cacheName(s), false, -1, false, false);
  }

  /** s->size a new cache of objSize gets with or without SLAB_HWCACHE_ALIGN and a constructor (SLUB's calculate_sizes). */
  private slubSize(objSize: number, hw: boolean, ctor: boolean): number {
    const ptr = this.ptrSize;
    let size = Math.ceil(objSize / ptr) * ptr;
    if (ctor) size += ptr;
    const align = this.k.slab.calculate_alignment(hw ? SLAB_HWCACHE_ALIGN : 0, 0, objSize);
    return Math.ceil(size / align) * align;
  }

  /** The cache a kmem_cache_alloc event names (created on first sight). */
  private namedCache(e: KmemCacheAllocEvent): number {
    const byId = e.fields & F_NAME ? this.cacheByNameId[e.name_id] : undefined;
    if (byId !== undefined) return byId;
    const name = e.fields & F_NAME && e.name !== '' ? e.name : `${e.bytes_req}-${e.bytes_alloc}`;
    let idx = this.cacheByName.get(name);
    if (idx === undefined) {
      const existing = this.kmemCaches.get(name);
      if (existing !== undefined) {
        idx = this.cacheByS.get(existing) ?? this.cacheSlot(existing, name, false, e.bytes_alloc, false, false);
      } else {
        let hw = false;
        let ctor = false;
        for (const [h, c] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          if (this.slubSize(e.bytes_req, h, c) === e.bytes_alloc) {
            hw = h;
            ctor = c;
            break;
          }
        }
        let flags = SLAB_NO_MERGE | (hw ? SLAB_HWCACHE_ALIGN : 0);
        if (e.accounted && !(e.gfp_flags & __GFP_ACCOUNT)) flags |= SLAB_ACCOUNT;
        const s = e.bytes_req > 0 ? this.k.kmem_cache_create(name, e.bytes_req, 0, flags, ctor ? replay_ctor : null) : 0;
        if (s !== 0) {
          this.cachesCreated++;
          this.kmemCaches.set(name, s);
        }
        idx = this.cacheSlot(s, name, true, e.bytes_alloc, hw, ctor);
      }
      this.cacheByName.set(name, idx);
    }
    if (e.fields & F_NAME) this.cacheByNameId[e.name_id] = idx;
    return idx;
  }

  /** A pointer allocated again while live: its free was not in the trace, so the old object goes first. */
  private implicitFree(ptr: number): void {
    const old = this.objects.get(ptr);
    if (old === undefined) return;
    this.implicitFrees++;
    this.freeObj(ptr, old, this.obj.cpu[old]);
  }

  private newObj(ptr: number, addr: number, cache: number, site: number, cpu: number, req: number, alloc: number): void {
    const o = this.obj;
    const slot = o.take();
    o.addr[slot] = addr;
    o.cache[slot] = cache;
    o.site[slot] = site;
    o.cpu[slot] = cpu;
    o.req[slot] = req;
    o.alloc[slot] = alloc;
    this.objects.set(ptr, slot);
    this.liveObjects++;
    this.liveReq += req;
    this.liveAlloc += alloc;
    if (cache >= 0) {
      const c = this.caches[cache];
      if (++c.live > c.peak_live) c.peak_live = c.live;
    }
  }

  /** Free the object in slot (kfree or kmem_cache_free as it was allocated); cpu is the freeing CPU. */
  private freeObj(ptr: number, slot: number, cpu: number): void {
    const o = this.obj;
    const cache = o.cache[slot];
    const addr = o.addr[slot];
    if (cache >= 0 && this.caches[cache].created) this.k.slab.kmem_cache_free(this.cacheS[cache], addr);
    else this.k.slab.kfree(addr);
    if (cache >= 0) {
      const c = this.caches[cache];
      c.frees++;
      c.live--;
    }
    const site = this.sites[o.site[slot]];
    if (site !== undefined) {
      site.frees++;
      if (o.cpu[slot] !== cpu) site.cross_cpu_frees++;
    }
    if (o.cpu[slot] !== cpu) this.crossCpu++;
    this.liveObjects--;
    this.liveReq -= o.req[slot];
    this.liveAlloc -= o.alloc[slot];
    this.objects.delete(ptr);
    o.release(slot);
  }

  private allocated(e: KmallocEvent | KmemCacheAllocEvent, addr: number, cache: number,
    cpu: number, kmemAlloc: number): void {
    const site = this.site(e);
    site.allocs++;
    site.bytes_req += e.bytes_req;
    site.bytes_alloc += kmemAlloc;
    site.trace_bytes_alloc += e.bytes_alloc;
    this.bytesReq += e.bytes_req;
    this.bytesAlloc += kmemAlloc;
    this.traceBytesAlloc += e.bytes_alloc;
    if (cache >= 0) {
      const c = this.caches[cache];
      c.allocs++;
      c.bytes_req += e.bytes_req;
      c.bytes_alloc += kmemAlloc;
      c.trace_bytes_alloc += e.bytes_alloc;
    }
    if (addr === 0) {
      this.failedAllocs++;
      site.failed++;
      if (cache >= 0) this.caches[cache].failed++;
      return;
    }
    this.newObj(e.ptr, addr, cache, e.call_site_id, cpu, e.bytes_req, kmemAlloc);
    const slab = this.slabPages();
    if (slab > this.peakSlab) this.peakSlab = slab;
  }

  private kmalloc(e: KmallocEvent, cpu: number): void {
    const gfp = e.gfp_flags;
    const size = e.bytes_req;
    const cache = this.kmallocCache(size, gfp);
    const own = this.k.slab.impl.kmalloc_bytes_alloc;
    const kmemAlloc = cache >= 0 ? this.caches[cache].size : size === 0 ? 0
      : own !== undefined ? own.call(this.k.slab.impl, size) : PAGE_SIZE * 2 ** getOrder(size);
    this.kmallocEvents++;
    if (kmemAlloc !== e.bytes_alloc) {
      this.kmallocMismatches++;
      const key = `${size} ${e.gfp} ${e.bytes_alloc} ${kmemAlloc}`;
      const m = this.mismatchTable.get(key);
      if (m) m.events++;
      else this.mismatchTable.set(key, { bytes_req: size, gfp: e.gfp, trace_bytes_alloc: e.bytes_alloc, kmem_bytes_alloc: kmemAlloc, events: 1 });
    }
    if (e.ptr === 0) {
      this.traceFailed++;
      return;
    }
    this.implicitFree(e.ptr);
    const node = e.node < this.nrNodes ? e.node : -1;
    const addr = this.k.slab.__kmalloc_node(size, gfp, node);
    this.allocated(e, addr, cache, cpu, kmemAlloc);
  }

  private cacheAlloc(e: KmemCacheAllocEvent, cpu: number): void {
    const cache = this.namedCache(e);
    const c = this.caches[cache];
    if (c.size !== e.bytes_alloc) {
      this.cacheSizeMismatches++;
      c.size_mismatches++;
    }
    if (e.ptr === 0) {
      this.traceFailed++;
      return;
    }
    this.implicitFree(e.ptr);
    let addr = 0;
    const s = this.cacheS[cache];
    if (s !== 0) {
      const node = e.node < this.nrNodes ? e.node : -1;
      addr = node < 0 ? this.k.slab.kmem_cache_alloc(s, e.gfp_flags) : this.k.slab.kmem_cache_alloc_node(s, e.gfp_flags, node);
    }
    this.allocated(e, addr, cache, cpu, c.size);
  }

  private free(e: KfreeEvent | KmemCacheFreeEvent, cpu: number): void {
    const ptr = e.ptr;
    if (ptr === 0) {
      this.kfreeNull++;
      return;
    }
    const slot = this.objects.get(ptr);
    if (slot === undefined) {
      this.unmatched[e.type]++;
      return;
    }
    this.freeObj(ptr, slot, cpu);
  }

  /* ---- pages ---- */

  private pageAlloc(e: PageAllocEvent, cpu: number): void {
    const order = e.order;
    if (e.page === 0) {
      this.traceFailed++;
      return;
    }
    const gfp = e.gfp_flags;
    if ((gfp & SLAB_PAGE_GFP) === SLAB_PAGE_GFP && !(gfp & (__GFP_MOVABLE | __GFP_HIGHMEM))) {
      this.slabPagesSkipped++;
      this.skippedSlabPages.add(e.page);
      return;
    }
    const old = this.pageMap.get(e.page);
    if (old !== undefined) {
      this.implicitFrees++;
      this.freePage(e.page, old, this.pg.cpu[old]);
    }
    this.pageAllocs++;
    if (order >= 0 && order < NR_ORDERS) this.byOrder[order]++;
    if (e.migratetype >= 0 && e.migratetype < NR_MT) this.byMt[e.migratetype]++;
    const g = e.gfp_id;
    if (this.byGfpId[g] === undefined) {
      this.byGfpId[g] = 0;
      this.gfpText[g] = e.gfp;
    }
    this.byGfpId[g]++;
    const pfn = this.k.buddy.__alloc_pages(gfp, order);
    if (pfn < 0) {
      this.pageFailed++;
      this.failedAllocs++;
      return;
    }
    const slot = this.pg.take();
    this.pg.pfn[slot] = pfn;
    this.pg.order[slot] = order;
    this.pg.cpu[slot] = cpu;
    this.pageMap.set(e.page, slot);
    this.pagesHeld += 1 << order;
    if (this.pagesHeld > this.peakPagesHeld) this.peakPagesHeld = this.pagesHeld;
  }

  private freePage(page: number, slot: number, cpu: number): void {
    const order = this.pg.order[slot];
    this.k.buddy.__free_pages(this.pg.pfn[slot], order);
    this.pageFrees++;
    if (order < NR_ORDERS) this.freesByOrder[order]++;
    if (this.pg.cpu[slot] !== cpu) {
      this.pageCrossCpu++;
      this.crossCpu++;
    }
    this.pagesHeld -= 1 << order;
    this.pageMap.delete(page);
    this.pg.release(slot);
  }

  private pageFreeEvent(page: number, cpu: number): void {
    const slot = this.pageMap.get(page);
    if (slot !== undefined) {
      this.freePage(page, slot, cpu);
      return;
    }
    if (this.skippedSlabPages.delete(page)) {
      this.slabPageFreesSkipped++;
      return;
    }
    this.pageUnmatched++;
  }

  /* ---- the result ---- */

  /** The figures so far (parse: the parser's result, for the trace's header and counts). */
  finish(parse?: ParseResult, elapsedMs?: number): ReplayResult {
    const ms = elapsedMs ?? (this.t0 < 0 ? 0 : performance.now() - this.t0);
    this.sample();
    const byType: Record<string, number> = {};
    this.byType.forEach((n, t) => {
      if (n > 0) byType[EVENT_NAMES[t]] = n;
    });
    const unmatchedByType: Record<string, number> = {};
    let unmatchedObjects = 0;
    this.unmatched.forEach((n, t) => {
      if (n > 0) unmatchedByType[EVENT_NAMES[t]] = n;
      unmatchedObjects += n;
    });
    if (this.pageUnmatched > 0) unmatchedByType.mm_page_free = this.pageUnmatched;
    const frag = (req: number, alloc: number) => (alloc > 0 ? 1 - req / alloc : 0);
    const byGfp: Record<string, number> = {};
    const gfps: [string, number][] = [];
    this.byGfpId.forEach((n, id) => gfps.push([this.gfpText[id], n]));
    for (const [g, n] of gfps.sort((a, b) => b[1] - a[1])) byGfp[g] = (byGfp[g] ?? 0) + n;
    const slabEnd = this.slabPages();
    const added = slabEnd - this.slabStart;
    let weighted = 0;
    let allocs = 0;
    for (const c of this.caches) {
      weighted += c.objects_per_slab * c.allocs;
      allocs += c.allocs;
    }
    const result: ReplayResult = {
      events: this.events,
      by_type: byType,
      unmatched_frees: unmatchedObjects + this.pageUnmatched,
      failed_allocs: this.failedAllocs,
      bytes_req: this.bytesReq,
      bytes_alloc: this.bytesAlloc,
      trace_bytes_alloc: this.traceBytesAlloc,
      internal_fragmentation: frag(this.bytesReq, this.bytesAlloc),
      trace_internal_fragmentation: frag(this.bytesReq, this.traceBytesAlloc),
      bytes_alloc_mismatches: this.kmallocMismatches,
      kmalloc_events: this.kmallocEvents,
      kmalloc_mismatches: [...this.mismatchTable.values()].sort((a, b) => b.events - a.events),
      cache_size_mismatches: this.cacheSizeMismatches,
      peak_slab_pages: this.peakSlab,
      external_fragmentation: added > 0 ? Math.max(0, 1 - this.liveAlloc / (added * PAGE_SIZE)) : 0,
      objects_per_slab: allocs > 0 ? weighted / allocs : 0,
      slab_pages_start: this.slabStart,
      slab_pages_end: slabEnd,
      events_per_second: ms > 0 ? Math.round(this.events / (ms / 1000)) : 0,
      replay_ms: ms,
      kfree_null: this.kfreeNull,
      unmatched_frees_by_type: unmatchedByType,
      implicit_frees: this.implicitFrees,
      trace_failed_allocs: this.traceFailed,
      cross_cpu_frees: this.crossCpu,
      cpus_folded: this.cpusFolded,
      slab_pages_skipped: this.slabPagesSkipped,
      slab_page_frees_skipped: this.slabPageFreesSkipped,
      caches_created: this.cachesCreated,
      kernel_log_records: this.k.log.nextSeq - this.logSeq0,
      pages: {
        allocs: this.pageAllocs,
        frees: this.pageFrees,
        failed: this.pageFailed,
        unmatched_frees: this.pageUnmatched,
        cross_cpu_frees: this.pageCrossCpu,
        held: this.pagesHeld,
        peak_held: this.peakPagesHeld,
        by_order: [...this.byOrder],
        frees_by_order: [...this.freesByOrder],
        by_migratetype: [...this.byMt],
        by_gfp: byGfp,
      },
      call_sites: this.sites.filter((s) => s !== undefined).sort((a, b) => b.bytes_alloc - a.bytes_alloc || b.allocs - a.allocs),
      caches: this.caches.filter((c) => c.allocs > 0 || c.frees > 0).map((c) => ({ ...c }))
        .sort((a, b) => b.bytes_alloc - a.bytes_alloc || a.name.localeCompare(b.name)),
      footprint: this.footprint,
      machine: {
        cpus: this.nrCpus, mem_bytes: this.k.config.memBytes, nodes: this.nrNodes, slab: this.k.slab.impl.name + (this.k.config.sheaves === undefined ? '' : this.k.config.sheaves === 'all' ? '+sheaves' : '+sheaves (opt-in)'),
      },
    };
    if (parse) {
      let other = 0;
      for (const n of parse.stats.other_events.values()) other += n;
      result.trace = {
        ncpus: parse.header.ncpus, entries_in_buffer: parse.header.entries_in_buffer,
        entries_written: parse.header.entries_written, lines: parse.stats.lines, bad_lines: parse.stats.bad_lines,
        other_events: other, lost_events: parse.stats.lost_events,
      };
    }
    return result;
  }
}
