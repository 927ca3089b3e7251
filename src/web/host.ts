/*
 * The kernel side of the explorer: one booted machine and everything the
 * page can ask of it. src/web/worker.ts runs this in a Web Worker and
 * relays messages; the tests run it in Node directly.
 *
 * The host owns the machine's Kernel and is the only writer of its memory.
 * It answers with plain data (protocol.ts): the descriptor the page needs
 * to read RAM itself, the figures of /proc, what an operation did.
 */
import { start_kernel } from '../init/main.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { resolveConfig } from '../machine/config.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { readProc } from '../fs/proc/procfs.ts';
import { memoryView } from '../mm/vmstat.ts';
import { WMARK_LOW, WMARK_MIN } from '../mm/mmzone.ts';
import { kmemCacheLayout, slabLayout, type SlabInfo } from '../mm/slab_types.ts';
import { PGTY_slab } from '../mm/page.ts';
import { Slub } from '../mm/slub.ts';
import { parse_gfp_flags, show_gfp_flags } from '../include/trace/events/mmflags.ts';
import { GFP_KERNEL, __GFP_NORETRY, __GFP_NOWARN } from '../include/linux/gfp_types.ts';
import { EVENT_NAMES, format_event_fields } from '../trace/kmem_events.ts';
import { decodeSnapshot, encodeSnapshot, restoreSnapshot } from './snapshot.ts';
import { TraceReplay, type ReplayResult } from '../trace/replay.ts';
import type { ParseResult } from '../trace/parse.ts';
import { TraceStore } from './trace_store.ts';
import type {
  BootOptions, CacheDetail, HandAlloc, LogLine, MachineDescriptor, MachineState, Op, OpResult, PfnRegion, SlabDetail,
  SlabRow, TracePlayStats, TraceStatus,
} from './protocol.ts';

/** Log records kept for the page at most (the printk buffer itself keeps 128 KiB). */
const MAX_LOG_BATCH = 2000;

interface LoadedTrace {
  name: string;
  store: TraceStore;
  result: ParseResult;
  parse: { lines: number; bad: number; ms: number };
}

function playStats(r: ReplayResult | null): TracePlayStats {
  return {
    events: r?.events ?? 0, unmatched_frees: r?.unmatched_frees ?? 0, failed_allocs: r?.failed_allocs ?? 0,
    kfree_null: r?.kfree_null ?? 0, implicit_frees: r?.implicit_frees ?? 0, caches_created: r?.caches_created ?? 0,
    slab_pages_skipped: r?.slab_pages_skipped ?? 0, peak_slab_pages: r?.peak_slab_pages ?? 0,
    kmalloc_events: r?.kmalloc_events ?? 0, bytes_alloc_mismatches: r?.bytes_alloc_mismatches ?? 0,
    internal_fragmentation: r?.internal_fragmentation ?? 0, trace_internal_fragmentation: r?.trace_internal_fragmentation ?? 0,
  };
}

/** What a snapshot's `extra` holds for the explorer. */
interface SnapshotExtra {
  boot: BootOptions;
  allocs: HandAlloc[];
  nextId: number;
  held: number[];
}

export class ExplorerHost {
  k!: Kernel;
  opts!: BootOptions;
  bootMs = 0;
  gen = 0;
  private logSeq = 0;
  private allocs: HandAlloc[] = [];
  private nextId = 1;
  /** struct page * of the order-0 pages the pressure and fragment buttons hold. */
  private held: number[] = [];
  trace: LoadedTrace | null = null;
  /** The replay of src/trace/replay.ts (what `kmem replay` runs), fed one event at a time. */
  player: TraceReplay | null = null;
  tracePos = 0;
  private lastEvent = '';
  private stats: TracePlayStats = playStats(null);

  /** Boot a machine (throws ConfigError for bad options). */
  boot(opts: BootOptions): void {
    const config = resolveConfig({
      mem: opts.mem, cpus: opts.cpus, arch: opts.arch, nodes: opts.nodes, ...(opts.cmdline ? { cmdline: opts.cmdline } : {}),
    });
    const t0 = performance.now();
    this.k = start_kernel(config, { errors: 'log' });
    this.bootMs = performance.now() - t0;
    this.opts = { ...opts };
    this.resetSideState();
  }

  private resetSideState(): void {
    this.logSeq = 0;
    this.allocs = [];
    this.nextId = 1;
    this.held = [];
    this.player = this.trace ? new TraceReplay(this.k) : null;
    this.tracePos = 0;
    this.lastEvent = '';
    this.stats = playStats(null);
    this.gen++;
  }

  /** Where everything is, for MachineView. */
  descriptor(): MachineDescriptor {
    const k = this.k;
    const po = k.layout.PAGE_OFFSET;
    const pfnUp = (pa: number) => Math.ceil(pa / PAGE_SIZE);
    const pfnDown = (pa: number) => Math.floor(pa / PAGE_SIZE);
    const reserved: PfnRegion[] = [];
    reserved.push({ name: 'kernel image (.text .rodata .data .bss)', start: pfnDown(k.img.text), end: pfnUp(k.img.bssEnd) });
    const pps = k.sparse.PAGES_PER_SECTION;
    for (let s = 0; s < k.sparse.nrSections; s++) {
      if (!k.sparse.pfn_valid(s * pps)) continue;
      const pa = k.sparse.pagePhys(s * pps);
      reserved.push({ name: `memmap (struct page) of section ${s}`, start: pfnDown(pa), end: pfnUp(pa + pps * k.pages.pl.size) });
    }
    const pcpuBase = k.percpu.per_cpu_ptr_pa(0, 0);
    reserved.push({ name: 'percpu first chunk', start: pfnDown(pcpuBase), end: pfnUp(pcpuBase + k.percpu.unitSize * k.percpu.nrUnits) });
    k.mmInit.pgdatPa.forEach((pa, nid) => reserved.push({ name: `NODE_DATA(${nid}) (struct pglist_data)`, start: pfnDown(pa),
      end: pfnUp(pa + k.mz.pgdat.size) }));
    reserved.push({ name: 'mem_section[]', start: pfnDown(k.sparse.memSectionPa), end: pfnDown(k.sparse.memSectionPa) + 1 });
    const pcpLists: MachineDescriptor['pcpLists'] = [];
    for (const z of k.buddy.zones) {
      for (const pcp of z.pcps) {
        pcp.lists.forEach((h, i) => pcpLists.push({ pa: h.va - po, order: i >= 12 ? 9 : Math.floor(i / 3), cpu: pcp.cpu }));
      }
    }
    const c = kmemCacheLayout(k.layout.ptrSize);
    return {
      config: k.config,
      shared: k.mem.share(),
      maxPfn: Math.floor(k.mem.size / PAGE_SIZE),
      memSectionPa: k.sparse.memSectionPa,
      vmemmapPmdPa: k.sparse.vmemmapPmdPa,
      pageblockOrder: k.sparse.pageblockOrder,
      reserved,
      zones: k.buddy.zones.map((z) => ({
        nid: z.nid, idx: z.idx, name: z.name, startPfn: z.get(z.iStartPfn), spanned: z.get(z.iSpanned), present: z.present(),
      })),
      pcpLists,
      slabCachesPa: k.slab.slab_caches - po,
      kmemCache: { name: c.name, size: c.size_, objectSize: c.object_size, offset: c.offset, list: c.list },
      bootMs: this.bootMs,
    };
  }

  /* ---------------------------------------------------------------- */
  /* State                                                            */
  /* ---------------------------------------------------------------- */

  slabRows(): SlabRow[] {
    const k = this.k;
    const po = k.layout.PAGE_OFFSET;
    return k.slab.caches().map((s) => {
      const info: SlabInfo = {
        active_objs: 0, num_objs: 0, active_slabs: 0, num_slabs: 0, shared_avail: 0, limit: 0, batchcount: 0, shared: 0,
        objects_per_slab: 0, cache_order: 0,
      };
      k.slab.impl.get_slabinfo(s, info);
      return {
        cache: s, name: k.slab.cacheName(s), active_objs: info.active_objs, num_objs: info.num_objs,
        objsize: k.mem.read32(s - po + k.slab.impl.cache.size_), objperslab: info.objects_per_slab,
        pagesperslab: 1 << info.cache_order, active_slabs: info.active_slabs, num_slabs: info.num_slabs,
      };
    });
  }

  /** New log records since the last call. */
  newLog(): LogLine[] {
    const out: LogLine[] = [];
    for (const r of this.k.log.records(this.logSeq)) {
      out.push({ seq: r.seq, level: r.level, ts: r.tsNsec, text: r.text });
      this.logSeq = r.seq + 1;
    }
    return out.length > MAX_LOG_BATCH ? out.slice(-MAX_LOG_BATCH) : out;
  }

  state(): MachineState {
    return {
      gen: this.gen,
      slabs: this.slabRows(),
      slabinfo: readProc(this.k, 'slabinfo'),
      memory: memoryView(this.k),
      meminfo: readProc(this.k, 'meminfo'),
      buddyinfo: readProc(this.k, 'buddyinfo'),
      log: this.newLog(),
      allocs: this.allocs.slice(),
      held: this.held.length,
      tainted: this.k.bug.print_tainted(),
    };
  }

  /* ---------------------------------------------------------------- */
  /* Operations by hand                                               */
  /* ---------------------------------------------------------------- */

  private gfp(text: string): number {
    const v = parse_gfp_flags(text.replace(/\s+/g, ''));
    if (v === null) throw new OpError(`unknown GFP flags "${text}" (write them as the kernel does: GFP_KERNEL|__GFP_ZERO)`);
    return v;
  }

  private hex(v: number): string {
    return this.k.layout.bits === 32 ? (v >>> 0).toString(16).padStart(8, '0')
      : v >= 0x800000000000 ? 'ffff' + v.toString(16).padStart(12, '0') : v.toString(16).padStart(16, '0');
  }

  private pfnOfVa(va: number): number {
    return this.k.virt_addr_valid(va) ? Math.floor(this.k.__pa(va) / PAGE_SIZE) : -1;
  }

  /** The cache an object address belongs to, 0 if not a slab object. */
  private cacheOfObject(va: number): number {
    const pfn = this.pfnOfVa(va);
    if (pfn < 0) return 0;
    const head = this.k.slab.impl.folioPfn(va);
    return this.k.slab.impl.isSlab(head) ? this.k.slab.impl.slab_cache(head) : 0;
  }

  private range(pfn: number, order: number): number[] {
    return pfn < 0 ? [] : Array.from({ length: 1 << order }, (_, i) => pfn + i);
  }

  private addAlloc(a: Omit<HandAlloc, 'id'>): HandAlloc {
    const h = { id: this.nextId++, ...a };
    this.allocs.push(h);
    return h;
  }

  private takeAlloc(match: (a: HandAlloc) => boolean): HandAlloc | undefined {
    const i = this.allocs.findIndex(match);
    return i < 0 ? undefined : this.allocs.splice(i, 1)[0];
  }

  op(op: Op): OpResult {
    try {
      const r = this.doOp(op);
      this.gen++;
      return r;
    } catch (e) {
      if (e instanceof OpError) return { ok: false, text: e.message, pfns: [], caches: [] };
      throw e;
    }
  }

  private doOp(op: Op): OpResult {
    const k = this.k;
    switch (op.kind) {
      case 'kmalloc': {
        const gfp = this.gfp(op.gfp);
        if (!(op.size >= 0) || !Number.isInteger(op.size)) throw new OpError(`kmalloc: size ${op.size} is not a size`);
        const p = k.kmalloc(op.size, gfp);
        const call = `kmalloc(${op.size}, ${show_gfp_flags(gfp)})`;
        if (p === 0) return { ok: false, text: `${call} = NULL`, pfns: [], caches: [] };
        if (p === 16) return { ok: true, text: `${call} = ZERO_SIZE_PTR (0x10)`, pfns: [], caches: [] };
        const cache = this.cacheOfObject(p);
        const pfn = this.pfnOfVa(p);
        const where = cache ? k.slab.cacheName(cache) : `page allocator, order ${k.get_order(op.size)}`;
        this.addAlloc({ kind: 'kmalloc', ptr: p, addr: p, pfn, size: k.ksize(p), order: 0, cache, cacheName: cache ? where : '', gfp: op.gfp });
        return { ok: true, text: `${call} = ${this.hex(p)} (${where}, pfn 0x${pfn.toString(16)})`,
          pfns: cache ? [pfn] : this.range(pfn, k.get_order(op.size)), caches: cache ? [cache] : [] };
      }
      case 'kfree': {
        const a = this.takeAlloc((x) => x.kind === 'kmalloc' && x.ptr === op.ptr);
        const cache = this.cacheOfObject(op.ptr);
        const pfn = this.pfnOfVa(op.ptr);
        k.kfree(op.ptr);
        return { ok: true, text: `kfree(${this.hex(op.ptr)})${a ? '' : ' (not one of the allocations made here)'}`,
          pfns: cache ? [pfn] : this.range(pfn, a ? k.get_order(a.size) : 0), caches: cache ? [cache] : [] };
      }
      case 'cache_create': {
        const name = op.name.trim();
        if (!/^[\w.:-]{1,40}$/.test(name)) throw new OpError('kmem_cache_create: give the cache a name of letters, digits and _-.:');
        if (!(op.size >= 1 && op.size <= 4 << 20)) throw new OpError(`kmem_cache_create: object size ${op.size} out of range`);
        const s = k.kmem_cache_create(name, op.size, op.align, 0);
        const text = `kmem_cache_create("${name}", ${op.size}, ${op.align}, 0, NULL) = ${s ? this.hex(s) : 'NULL'}`;
        return { ok: s !== 0, text, pfns: [], caches: s ? [s] : [] };
      }
      case 'cache_alloc': {
        const gfp = this.gfp(op.gfp);
        if (!k.slab.caches().includes(op.cache)) throw new OpError('kmem_cache_alloc: no such cache');
        const name = k.slab.cacheName(op.cache);
        const p = k.kmem_cache_alloc(op.cache, gfp);
        const call = `kmem_cache_alloc(${name}, ${show_gfp_flags(gfp)})`;
        if (p === 0) return { ok: false, text: `${call} = NULL`, pfns: [], caches: [] };
        const pfn = this.pfnOfVa(p);
        this.addAlloc({ kind: 'cache', ptr: p, addr: p, pfn, size: k.kmem_cache_size(op.cache), order: 0, cache: op.cache, cacheName: name, gfp: op.gfp });
        return { ok: true, text: `${call} = ${this.hex(p)} (pfn 0x${pfn.toString(16)})`, pfns: [pfn], caches: [op.cache] };
      }
      case 'cache_free': {
        this.takeAlloc((x) => x.kind === 'cache' && x.ptr === op.ptr);
        const pfn = this.pfnOfVa(op.ptr);
        const name = k.slab.caches().includes(op.cache) ? k.slab.cacheName(op.cache) : '?';
        k.kmem_cache_free(op.cache, op.ptr);
        return { ok: true, text: `kmem_cache_free(${name}, ${this.hex(op.ptr)})`, pfns: [pfn], caches: [op.cache] };
      }
      case 'alloc_pages': {
        const gfp = this.gfp(op.gfp);
        if (!(op.order >= 0 && op.order <= k.MAX_PAGE_ORDER) || !Number.isInteger(op.order)) {
          throw new OpError(`alloc_pages: order ${op.order} is not 0..${k.MAX_PAGE_ORDER}`);
        }
        const page = k.alloc_pages(gfp, op.order);
        const call = `alloc_pages(${show_gfp_flags(gfp)}, ${op.order})`;
        if (page === 0) return { ok: false, text: `${call} = NULL`, pfns: [], caches: [] };
        const pfn = k.page_to_pfn(page);
        this.addAlloc({ kind: 'pages', ptr: page, addr: k.page_address(page), pfn, size: PAGE_SIZE << op.order, order: op.order, cache: 0, cacheName: '', gfp: op.gfp });
        return { ok: true, text: `${call} = ${this.hex(page)} (pfn 0x${pfn.toString(16)}, zone ${k.page_zone(page).name})`,
          pfns: this.range(pfn, op.order), caches: [] };
      }
      case 'free_pages': {
        this.takeAlloc((x) => x.kind === 'pages' && x.ptr === op.page);
        const pfn = k.page_to_pfn(op.page);
        k.__free_pages(op.page, op.order);
        return { ok: true, text: `__free_pages(${this.hex(op.page)}, ${op.order})`, pfns: this.range(pfn, op.order), caches: [] };
      }
      case 'pressure': return this.pressure(op.to);
      case 'fragment': return this.fragment(op.pages);
      case 'release': {
        const n = this.held.length;
        const pfns = this.held.map((p) => k.page_to_pfn(p));
        for (const p of this.held) k.__free_pages(p, 0);
        this.held = [];
        return { ok: true, text: `freed the ${n} pages held by the pressure and fragment buttons`, pfns, caches: [] };
      }
      case 'drain': {
        k.drain_all_pages();
        return { ok: true, text: 'drain_all_pages(): every CPU\'s pcp lists back to the buddy allocator', pfns: [], caches: [] };
      }
      case 'shrink': {
        const caches = k.slab.caches();
        for (const s of caches) k.kmem_cache_shrink(s);
        return { ok: true, text: `kmem_cache_shrink() on all ${caches.length} caches: empty slabs back to the page allocator`, pfns: [], caches };
      }
    }
  }

  /** Allocate order-0 pages until free memory is down to the watermarks (or allocation fails). */
  private pressure(to: 'low' | 'min'): OpResult {
    const k = this.k;
    const gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY;
    const zones = k.buddy.zones.filter((z) => z.present() > 0);
    const mark = to === 'low' ? WMARK_LOW : WMARK_MIN;
    const target = zones.reduce((n, z) => n + z.wmark(mark), 0);
    const free = () => zones.reduce((n, z) => n + z.freePages(), 0);
    const pfns: number[] = [];
    const limit = zones.reduce((n, z) => n + z.managed(), 0);
    for (let i = 0; i < limit; i++) {
      if (to === 'low' && free() <= target) break;
      const page = k.alloc_pages(gfp, 0);
      if (page === 0) break;
      this.held.push(page);
      pfns.push(k.page_to_pfn(page));
    }
    return {
      ok: true,
      text: `memory pressure: allocated ${pfns.length} pages (GFP_KERNEL|__GFP_NORETRY) down to the ${to} watermarks; ` +
        `${free()} pages free, ${this.held.length} held`,
      pfns, caches: [],
    };
  }

  /** Allocate `pages` order-0 pages, free every other one, drain: a field of order-0 holes. */
  private fragment(pages: number): OpResult {
    const k = this.k;
    const got: number[] = [];
    for (let i = 0; i < pages; i++) {
      const p = k.alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, 0);
      if (p === 0) break;
      got.push(p);
    }
    const sorted = got.slice().sort((a, b) => a - b);
    const pfns: number[] = [];
    sorted.forEach((p, i) => {
      pfns.push(k.page_to_pfn(p));
      if (i % 2 === 1) k.__free_pages(p, 0);
      else this.held.push(p);
    });
    k.drain_all_pages();
    return { ok: true, text: `fragmented ${got.length} pages: every other one freed (${this.held.length} held)`, pfns, caches: [] };
  }

  /* ---------------------------------------------------------------- */
  /* A cache and its slabs                                            */
  /* ---------------------------------------------------------------- */

  cacheDetail(s: number, maxSlabs = 200): CacheDetail | null {
    const k = this.k;
    if (!k.slab.caches().includes(s)) return null;
    const impl = k.slab.impl;
    const po = k.layout.PAGE_OFFSET;
    const C = kmemCacheLayout(k.layout.ptrSize);
    const slabFreelistOff = slabLayout(k.layout.ptrSize).freelist;
    const r32 = (off: number) => k.mem.read32(s - po + off);
    const size = r32(C.size_);
    const offset = r32(C.offset);
    const oo = r32(C.oo);
    const info = this.slabRows().find((r) => r.cache === s)!;
    const where = new Map<number, string>();
    if (impl instanceof Slub) for (const x of impl.slabsOf(s)) where.set(x.pfn, x.where);
    // Every slab of the cache, by a walk of the memmap (full slabs are on no list).
    const heads: number[] = [];
    const maxPfn = Math.floor(k.mem.size / PAGE_SIZE);
    for (let pfn = 0; pfn < maxPfn; pfn++) {
      if (!k.sparse.pfn_valid(pfn)) {
        pfn += k.sparse.PAGES_PER_SECTION - 1 - (pfn % k.sparse.PAGES_PER_SECTION);
        continue;
      }
      if (k.pages.page_type(pfn) >>> 24 !== PGTY_slab || k.pages.PageTail(pfn)) continue;
      if (impl.slab_cache(pfn) === s) heads.push(pfn);
    }
    // Listed slabs first (CPU slabs, CPU partial, node partial), then the full ones.
    const rank = (pfn: number) => {
      const w = where.get(pfn);
      return w === undefined || w.endsWith('-full') ? 3 : w.endsWith('-partial') ? (w.startsWith('cpu') ? 1 : 2) : 0;
    };
    heads.sort((a, b) => rank(a) - rank(b) || a - b);
    // The CPU lockless freelists: per_cpu_ptr(s->cpu_slab, cpu)->freelist (its first field) and ->slab.
    const cpuFree = new Map<number, { list: number; cpu: number }>();
    const cpuSlabPtr = k.access.readPtr(s - po + C.cpu_slab);
    for (let cpu = 0; cpu < k.config.cpus; cpu++) {
      const c = k.percpu.per_cpu_ptr_pa(cpuSlabPtr, cpu);
      const slab = k.access.readPtr(c + 2 * k.layout.ptrSize);
      if (slab !== 0) cpuFree.set(k.pages.page_to_pfn(slab), { list: k.access.readPtr(c), cpu });
    }
    const slabs: SlabDetail[] = heads.slice(0, maxSlabs).map((pfn) => {
      const st = impl instanceof Slub ? impl.slabState(pfn) : { inuse: 0, objects: 0, frozen: false };
      const order = k.pages.compound_order(pfn);
      const base = po + pfn * PAGE_SIZE;
      const free = new Array<number>(st.objects).fill(-1);
      const walk = (first: number) => {
        let n = 0;
        for (let p = first; p !== 0 && n <= st.objects; n++) {
          const i = Math.floor((p - base) / size);
          if (i < 0 || i >= st.objects || free[i] !== -1) break;
          free[i] = n;
          p = k.access.readPtr(p - po + offset);
        }
      };
      const slabFreelist = k.access.readPtr(k.sparse.pagePhys(pfn) + slabFreelistOff);
      const cpuList = cpuFree.get(pfn);
      let freelist = 'slab->freelist';
      if (cpuList && cpuList.list !== 0) {
        walk(cpuList.list);
        freelist = `cpu${cpuList.cpu} lockless freelist`;
      }
      walk(slabFreelist);
      return { pfn, where: where.get(pfn) ?? 'full', inuse: st.inuse, objects: st.objects, frozen: st.frozen, order, free, freelist };
    });
    return {
      cache: s, name: info.name, objsize: size, object_size: r32(C.object_size), offset, align: r32(C.align),
      order: oo >>> 16, objects_per_slab: oo & 0xffff, slabs, more: Math.max(0, heads.length - maxSlabs),
    };
  }

  /* ---------------------------------------------------------------- */
  /* Traces                                                           */
  /* ---------------------------------------------------------------- */

  /**
   * Take a parsed trace, and reboot: a trace plays on a freshly booted
   * machine, so that it can be restarted and sought in (by booting again
   * and playing up to the point) and gives what a replay in Node gives.
   */
  loadTrace(name: string, text: Uint8Array | string): TraceStatus {
    const t0 = performance.now();
    const { store, result } = TraceStore.parse(text);
    this.trace = { name, store, result, parse: { lines: result.stats.lines, bad: result.stats.bad_lines, ms: performance.now() - t0 } };
    this.boot(this.opts);
    return this.traceStatus(false, 0)!;
  }

  /** Apply events up to (not including) `end`; returns how many were applied. */
  playTo(end: number): number {
    const t = this.trace;
    const p = this.player;
    if (!t || !p) return 0;
    end = Math.min(end, t.store.length);
    const from = this.tracePos;
    for (let i = from; i < end; i++) p.event(t.store.at(i));
    if (end > from) {
      this.tracePos = end;
      const e = t.store.at(end - 1);
      this.lastEvent = `#${end} ${EVENT_NAMES[e.type]}: ${format_event_fields(e)}`;
      this.gen++;
    }
    return end - from;
  }

  /** Go to event position pos: forward by playing, backward by booting again and playing from the start. */
  seek(pos: number): void {
    if (!this.trace) return;
    pos = Math.max(0, Math.min(pos, this.trace.store.length));
    if (pos < this.tracePos) this.boot(this.opts);
    this.playTo(pos);
  }

  /** Where the trace is; `stats`: bring the replay's figures up to date (ReplayResult: not free, a few times a second). */
  traceStatus(playing: boolean, speed: number, stats = true): TraceStatus | null {
    const t = this.trace;
    if (!t) return null;
    if (stats && this.player) this.stats = playStats(this.player.finish(t.result));
    return {
      name: t.name, total: t.store.length, pos: this.tracePos, ncpus: t.result.header.ncpus, playing, speed, last: this.lastEvent,
      stats: this.stats, parse: t.parse,
    };
  }

  /** The replay's full result (the report `kmem replay --json` prints), or null without a trace. */
  replayResult(): ReplayResult | null {
    return this.player && this.trace ? this.player.finish(this.trace.result) : null;
  }

  /* ---------------------------------------------------------------- */
  /* Snapshots                                                        */
  /* ---------------------------------------------------------------- */

  async saveSnapshot(): Promise<Uint8Array> {
    const extra: SnapshotExtra = { boot: this.opts, allocs: this.allocs, nextId: this.nextId, held: this.held };
    return encodeSnapshot(this.k, extra);
  }

  /** Load a snapshot: the machine it holds replaces this one (the trace, if any, is unloaded). */
  async loadSnapshot(bytes: Uint8Array): Promise<void> {
    const snap = await decodeSnapshot(bytes);
    const t0 = performance.now();
    const k = restoreSnapshot(snap);
    const extra = snap.header.extra as Partial<SnapshotExtra> | null;
    this.k = k;
    this.bootMs = performance.now() - t0;
    const cfg = k.config;
    this.opts = extra?.boot ?? { mem: `${Math.round(cfg.memBytes / 2 ** 20)}M`, cpus: cfg.cpus, arch: cfg.arch, nodes: cfg.nodes.length, cmdline: cfg.cmdline };
    this.trace = null;
    this.resetSideState();
    this.allocs = extra?.allocs ?? [];
    this.nextId = extra?.nextId ?? 1;
    this.held = extra?.held ?? [];
  }
}

export class OpError extends Error {
  override name = 'OpError';
}
