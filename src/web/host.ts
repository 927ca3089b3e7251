/*
 * The kernel side of the explorer: one booted machine and everything the
 * page can ask of it. src/web/worker.ts runs this in a Web Worker and
 * relays messages; the tests run it in Node directly.
 *
 * The host owns its thread's Kernel: in the kernel worker the machine it
 * booted (CPU 0), in a CPU worker (attachTo(), src/web/cpu_worker.ts) one
 * more CPU of the same memory. It answers with plain data (protocol.ts): the descriptor the page needs
 * to read RAM itself, the figures of /proc, what an operation did, a
 * cache's slabs and per-CPU state (slab_lists.ts), the kmem trace events
 * recorded since the last report.
 */
import { start_kernel } from '../init/main.ts';
import { attach, type SharedMachine } from '../init/attach.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { resolveConfig } from '../machine/config.ts';
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import { readProc } from '../fs/proc/procfs.ts';
import { memoryView } from '../mm/vmstat.ts';
import { WMARK_LOW, WMARK_MIN } from '../mm/mmzone.ts';
import { kmemCacheLayout, slabLayout, type SlabInfo } from '../mm/slab_types.ts';
import { PGTY_slab } from '../mm/page.ts';
import { Slub } from '../mm/slub.ts';
import { Slab } from '../mm/slab.ts';
import { parse_gfp_flags, show_gfp_flags } from '../include/trace/events/mmflags.ts';
import { GFP_KERNEL, __GFP_NORETRY, __GFP_NOWARN } from '../include/linux/gfp_types.ts';
import { EVENT_NAMES, format_event_fields } from '../trace/kmem_events.ts';
import { decodeSnapshot, encodeSnapshot, restoreSnapshot } from './snapshot.ts';
import { TraceReplay, type ReplayResult } from '../trace/replay.ts';
import type { ParseResult } from '../trace/parse.ts';
import { TraceStore } from './trace_store.ts';
import { slabFill, slabLists } from './slab_lists.ts';
import { TRACE_EVENTS } from '../trace/events.ts';
import { vmallocinfo } from '../fs/proc/vmallocinfo.ts';
import {
  MAX_FTRACE_BATCH, type BootOptions, type CacheDetail, type HandAlloc, type LogLine, type MachineDescriptor, type MachineState,
  type Op, type OpResult, type PfnRegion, type SlabDetail, type SlabRow, type TracePlayStats, type TraceStatus, type VmallocRow,
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
  /** What the operation running did to the allocation list (OpResult alloc, freed). */
  private change: Pick<OpResult, 'alloc' | 'freed'> = {};
  /** struct page * of the order-0 pages the pressure and fragment buttons hold. */
  private held: number[] = [];
  trace: LoadedTrace | null = null;
  /** The replay of src/trace/replay.ts (what `kmem replay` runs), fed one event at a time. */
  player: TraceReplay | null = null;
  tracePos = 0;
  private lastEvent = '';
  private stats: TracePlayStats = playStats(null);
  /** The kmem events streamed to the page (enabled in the machine's tracing). */
  private ftraceEvents: string[] = [];
  private ftraceHashPtr = true;

  /** Boot a machine (throws ConfigError for bad options). */
  boot(opts: BootOptions): void {
    const config = resolveConfig({
      mem: opts.mem, cpus: opts.cpus, arch: opts.arch, nodes: opts.nodes, slab: opts.slab, ...(opts.cmdline ? { cmdline: opts.cmdline } : {}),
      ...(opts.sheaves !== 'none' ? { sheaves: opts.sheaves } : {}),
    });
    const t0 = performance.now();
    this.k = start_kernel(config, { errors: 'log' });
    this.bootMs = performance.now() - t0;
    this.opts = { ...opts };
    // The event stream carries over to a fresh machine (a new boot, or a trace sought back).
    const stream = this.ftraceEvents;
    this.resetSideState();
    if (stream.length > 0) this.setFtrace(stream, this.ftraceHashPtr);
  }

  /**
   * Join the machine another worker booted, as CPU `cpu` (a CPU worker:
   * src/web/cpu_worker.ts). Only operations are run here.
   */
  attachTo(machine: SharedMachine, cpu: number): void {
    const t0 = performance.now();
    const k = attach(machine, { cpu, comm: `kmem_explorer/${cpu}` });
    this.adopt(k, performance.now() - t0);
  }

  /** Take a machine booted elsewhere (a demo chapter's) as this host's. */
  adopt(k: Kernel, bootMs: number): void {
    this.k = k;
    this.bootMs = bootMs;
    this.opts = bootOptionsOf(k);
    this.trace = null;
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
    this.ftraceEvents = [];
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
    const c = kmemCacheLayout(k.layout.ptrSize, k.config.sheaves !== undefined);
    const vm = k.paging.vm;
    const busyHeadPa = k.img.vmalloc + vm.S.busy_head;
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
      paging: { pgdPa: k.paging.pt.pgdPa, pae: k.paging.pt.lv.pae },
      vmalloc: {
        start: vm.VMALLOC_START, end: vm.VMALLOC_END, initializedPa: k.img.vmalloc + vm.S.vmap_initialized,
        busyHeadPa, busyHeadVa: k.kaddr.imageVa(busyHeadPa),
        vmapArea: { va_start: vm.va.va_start, va_end: vm.va.va_end, list: vm.va.list, vm: vm.va.vm },
        vmStruct: { addr: vm.vm.addr, size: vm.vm.size, flags: vm.vm.flags, nr_pages: vm.vm.nr_pages },
      },
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
      vmalloc: this.vmallocRows(),
      ftraceEvents: this.ftraceEvents.slice(),
      ftraceHashPtr: this.k.trace.option('hash-ptr'),
      ...this.newFtrace(),
    };
  }

  /** /proc/vmallocinfo, an area a row. */
  vmallocRows(): VmallocRow[] {
    const k = this.k;
    const entries = k.paging.vm.vmallocinfo(k.mmInit.pgdatPa.length);
    const lines = vmallocinfo(entries, k.layout, k.paging.physDigits).split('\n');
    return entries.map((e, i) => ({
      start: e.start, end: e.end, size: e.size, caller: e.caller ?? '', nrPages: e.nrPages, unpurged: e.unpurged, line: lines[i],
    }));
  }

  /* ---------------------------------------------------------------- */
  /* The trace event stream                                           */
  /* ---------------------------------------------------------------- */

  /**
   * Stream exactly these kmem events (echo 1 > events/kmem/<name>/enable
   * for each, 0 for the others). Unknown names are refused and nothing
   * changes; an empty list turns the stream off (the ring buffers stay, as
   * they do in the kernel).
   */
  setFtrace(events: string[], hashPtr = true): boolean {
    const t = this.k.trace;
    if (events.some((e) => !TRACE_EVENTS.includes(e))) return false;
    if (events.length > 0 && (t.enable(events[0]) !== 0 || t.set_option('hash-ptr', hashPtr) !== 0)) return false;
    for (const e of TRACE_EVENTS) {
      if (events.includes(e)) t.enable(e);
      else if (t.is_enabled(e)) t.disable(e);
    }
    this.ftraceEvents = TRACE_EVENTS.filter((e) => events.includes(e));
    this.ftraceHashPtr = hashPtr;
    return true;
  }

  /** The lines recorded since the last call (cat trace, then echo > trace: what trace_pipe gives). */
  private newFtrace(): { ftrace: string[]; ftraceDropped: number } {
    if (this.ftraceEvents.length === 0) return { ftrace: [], ftraceDropped: 0 };
    const t = this.k.trace;
    const { entries, written, overrun } = t.entries();
    if (written === 0 && entries === 0) return { ftrace: [], ftraceDropped: 0 };
    const lines = t.read().split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    t.clear();
    const shown = lines.slice(-MAX_FTRACE_BATCH);
    return { ftrace: shown, ftraceDropped: lines.length - shown.length + overrun };
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

  /** The frames mapped by the vmalloc area at addr (from its page tables). */
  private vmallocPfns(addr: number): number[] {
    const vm = this.k.paging.vm;
    const area = vm.find_vm_area(addr);
    if (area === 0) return [];
    const n = vm.vmNrPages(area);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(vm.vmalloc_to_pfn(addr + i * PAGE_SIZE));
    return out;
  }

  private range(pfn: number, order: number): number[] {
    return pfn < 0 ? [] : Array.from({ length: 1 << order }, (_, i) => pfn + i);
  }

  private addAlloc(a: Omit<HandAlloc, 'id'>): HandAlloc {
    const h = { id: this.nextId++, ...a };
    this.allocs.push(h);
    this.change.alloc = a;
    return h;
  }

  private takeAlloc(kind: HandAlloc['kind'], ptr: number): HandAlloc | undefined {
    this.change.freed = { kind, ptr };
    const i = this.allocs.findIndex((a) => a.kind === kind && a.ptr === ptr);
    return i < 0 ? undefined : this.allocs.splice(i, 1)[0];
  }

  /** What a CPU worker's operation did to the allocations made by hand (OpResult alloc, freed): list it here too. */
  record(r: OpResult): void {
    if (r.alloc) this.addAlloc(r.alloc);
    if (r.freed) this.takeAlloc(r.freed.kind, r.freed.ptr);
    this.gen++;
  }

  /** Run an operation on a CPU (CPU 0 unless told). */
  op(op: Op, cpu = 0): OpResult {
    this.change = {};
    try {
      if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < this.k.config.cpus)) throw new OpError(`there is no CPU ${cpu}`);
      if (!this.k.smp.drives(cpu)) throw new OpError(`CPU ${cpu} is run by another worker`);
      this.k.set_cpu(cpu);
      // Streamed events name the form as their call site (the JS stack of the page's bundle would not mean much).
      const streaming = TRACE_EVENTS.some((e) => this.k.trace.is_enabled(e));
      if (streaming) this.k.trace.set_caller(`explorer_${op.kind}`);
      let r: OpResult;
      try {
        r = this.doOp(op);
      } finally {
        if (streaming) this.k.trace.set_caller(null);
      }
      this.gen++;
      return { ...r, ...this.change };
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
          pfns: cache ? [pfn] : this.range(pfn, k.get_order(op.size)), caches: cache ? [cache] : [], addr: p };
      }
      case 'kfree': {
        const a = this.takeAlloc('kmalloc', op.ptr);
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
        return { ok: true, text: `${call} = ${this.hex(p)} (pfn 0x${pfn.toString(16)})`, pfns: [pfn], caches: [op.cache], addr: p };
      }
      case 'cache_free': {
        this.takeAlloc('cache', op.ptr);
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
        this.takeAlloc('pages', op.page);
        const pfn = k.page_to_pfn(op.page);
        k.__free_pages(op.page, op.order);
        return { ok: true, text: `__free_pages(${this.hex(op.page)}, ${op.order})`, pfns: this.range(pfn, op.order), caches: [] };
      }
      case 'vmalloc': {
        if (!(op.size >= 1) || !Number.isInteger(op.size)) throw new OpError(`vmalloc: size ${op.size} is not a size`);
        const addr = k.vmalloc(op.size);
        const call = `vmalloc(${op.size})`;
        if (addr === 0) return { ok: false, text: `${call} = NULL`, pfns: [], caches: [] };
        const pfns = this.vmallocPfns(addr);
        this.addAlloc({ kind: 'vmalloc', ptr: addr, addr, pfn: pfns[0] ?? -1, size: op.size, order: 0, cache: 0, cacheName: '', gfp: 'GFP_KERNEL' });
        return { ok: true, text: `${call} = ${this.hex(addr)} (${pfns.length} pages, the first at pfn 0x${(pfns[0] ?? 0).toString(16)})`,
          pfns, caches: [], addr };
      }
      case 'vfree': {
        this.takeAlloc('vmalloc', op.addr);
        const pfns = this.vmallocPfns(op.addr);
        k.vfree(op.addr);
        return { ok: true, text: `vfree(${this.hex(op.addr)})`, pfns, caches: [] };
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
    const r32 = (off: number) => k.mem.read32(s - po + off);
    const size = r32(impl.cache.size_);
    const info = this.slabRows().find((r) => r.cache === s)!;
    // Every slab of the cache, by a walk of the memmap (SLUB's full slabs are on no list).
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
    const slub = impl instanceof Slub ? this.slubSlabs(s, heads) : null;
    const shown = slub ? slub.heads : heads;
    const slabs = shown.slice(0, maxSlabs).map((pfn) => (slub ? slub.detail(pfn) : this.slabByObjects(s, pfn, size)));
    const offset = slub ? r32(kmemCacheLayout(k.layout.ptrSize, k.config.sheaves !== undefined).offset) : -1;
    return {
      cache: s, name: info.name, objsize: size, object_size: r32(impl.cache.object_size), offset, align: r32(impl.cache.align),
      order: Math.log2(info.pagesperslab), objects_per_slab: info.objperslab, slabs, more: Math.max(0, heads.length - maxSlabs),
      lists: slabLists(k, s, heads),
    };
  }

  /**
   * SLUB's slabs in list order (CPU slabs, CPU partial, node partial, then
   * the full ones), each object's place on the freelist it is on: the CPU's
   * lockless freelist (c->freelist) for a CPU slab, else slab->freelist.
   */
  private slubSlabs(s: number, heads: number[]): { heads: number[]; detail: (pfn: number) => SlabDetail } {
    const k = this.k;
    const impl = k.slab.impl as Slub;
    const po = k.layout.PAGE_OFFSET;
    const C = kmemCacheLayout(k.layout.ptrSize, k.config.sheaves !== undefined);
    const size = k.mem.read32(s - po + C.size_);
    const offset = k.mem.read32(s - po + C.offset);
    const slabFreelistOff = slabLayout(k.layout.ptrSize).freelist;
    const where = new Map<number, string>();
    for (const x of impl.slabsOf(s)) where.set(x.pfn, x.where);
    const rank = (pfn: number) => {
      const w = where.get(pfn);
      return w === undefined || w.endsWith('-full') ? 3 : w.endsWith('-partial') ? (w.startsWith('cpu') ? 1 : 2) : 0;
    };
    const sorted = heads.slice().sort((a, b) => rank(a) - rank(b) || a - b);
    // The CPU lockless freelists: per_cpu_ptr(s->cpu_slab, cpu)->freelist (its first field) and ->slab.
    const cpuFree = new Map<number, { list: number; cpu: number }>();
    const cpuSlabPtr = k.access.readPtr(s - po + C.cpu_slab);
    for (let cpu = 0; cpu < k.config.cpus; cpu++) {
      const c = k.percpu.per_cpu_ptr_pa(cpuSlabPtr, cpu);
      const slab = k.access.readPtr(c + 2 * k.layout.ptrSize);
      if (slab !== 0) cpuFree.set(k.pages.page_to_pfn(slab), { list: k.access.readPtr(c), cpu });
    }
    const detail = (pfn: number): SlabDetail => {
      const st = impl.slabState(pfn);
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
      const cpuList = cpuFree.get(pfn);
      let freelist = 'slab->freelist';
      if (cpuList && cpuList.list !== 0) {
        walk(cpuList.list);
        freelist = `cpu${cpuList.cpu} lockless freelist`;
      }
      walk(k.access.readPtr(k.sparse.pagePhys(pfn) + slabFreelistOff));
      return {
        pfn, where: where.get(pfn) ?? 'full', inuse: st.inuse, objects: st.objects, frozen: st.frozen,
        order: k.pages.compound_order(pfn), free, freelist,
      };
    };
    return { heads: sorted, detail };
  }

  /**
   * A slab of another implementation: each object free or not as the
   * implementation says (object_is_free), numbered in address order; where:
   * the node's list its fill puts it on (SLAB's partial, full, free).
   */
  private slabByObjects(s: number, pfn: number, size: number): SlabDetail {
    const k = this.k;
    const impl = k.slab.impl;
    const st = slabFill(impl, pfn);
    const first = k.layout.PAGE_OFFSET + pfn * PAGE_SIZE + (impl instanceof Slab ? impl.colourOffset(pfn) : 0);
    let n = 0;
    const free = Array.from({ length: st.objects }, (_, i) => (impl.object_is_free(s, pfn, first + i * size) ? n++ : -1));
    const fill = st.inuse === st.objects ? 'full' : st.inuse === 0 ? 'free' : 'partial';
    return {
      pfn, where: `node${k.pages.page_to_nid(pfn)}-${fill}`, inuse: st.inuse, objects: st.objects, frozen: false,
      order: k.pages.compound_order(pfn), free, freelist: 'free objects, in address order',
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
    this.opts = extra?.boot ? { ...bootOptionsOf(k), ...extra.boot } : bootOptionsOf(k);
    this.trace = null;
    this.resetSideState();
    this.allocs = extra?.allocs ?? [];
    this.nextId = extra?.nextId ?? 1;
    this.held = extra?.held ?? [];
  }
}

/** The boot options that describe a machine (for one not booted from options: a snapshot's, a demo's). */
export function bootOptionsOf(k: Kernel): BootOptions {
  const c = k.config;
  const mib = Math.round(c.memBytes / 2 ** 20);
  return {
    mem: mib % 1024 === 0 ? `${mib / 1024}G` : `${mib}M`, cpus: c.cpus, arch: c.arch, nodes: c.nodes.length, cmdline: c.cmdline,
    slab: c.slab ?? 'slub', sheaves: c.sheaves ?? 'none',
  };
}

export class OpError extends Error {
  override name = 'OpError';
}
