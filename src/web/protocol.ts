/*
 * The explorer's two threads and what they say to each other.
 *
 *   page (src/web/app)                      kernel worker (src/web/worker.ts)
 *   ------------------                      ---------------------------------
 *   boot form, URL          --boot-->       start_kernel(config)
 *   MachineView.attach()    <--booted--     the RAM's SharedArrayBuffers and where
 *                                           the memmap, zones and pcp lists are
 *   page map, hover, hex    (reads the      runs every kernel call; the only writer
 *   dump: every frame       shared RAM)     of the machine's memory
 *   forms                   --op-->         kmalloc, kmem_cache_alloc, alloc_pages...
 *   slab table, zones,      <--state--      slabinfo, memoryView, meminfo, new log
 *   meminfo, log                            records (after each change, at most ~10/s
 *                                           while a trace plays)
 *   trace bar               --trace_*-->    parse once, play in time slices
 *
 * The page draws the physical memory map straight from the machine's RAM
 * (struct page in the memmap), so the picture is the kernel's own state,
 * never a copy. The figures that need the kernel's code to compute
 * (slabinfo's per-node counts, meminfo) come from the worker as plain
 * objects.
 *
 * Everything here is plain data: it crosses postMessage by structured
 * clone (SharedArrayBuffers are shared, not copied).
 */
import type { MachineConfig } from '../machine/config.ts';
import type { PhysMemShared } from '../machine/memory.ts';
import type { MemoryView } from '../fs/proc/views.ts';

/** What the boot form and the URL say. Sizes as the command line writes them ("1G", "512M"). */
export interface BootOptions {
  mem: string;
  cpus: number;
  arch: 'x86_64' | 'i386';
  nodes: number;
  /** Kernel command line (slub_min_order=..., slab_nomerge, ...). */
  cmdline: string;
}

export const DEFAULT_BOOT: BootOptions = { mem: '1G', cpus: 2, arch: 'x86_64', nodes: 1, cmdline: '' };

/** The boot options as URL query parameters; only those that differ from the defaults. */
export function bootToQuery(o: BootOptions, defaults: BootOptions = DEFAULT_BOOT): URLSearchParams {
  const q = new URLSearchParams();
  if (o.mem !== defaults.mem) q.set('mem', o.mem);
  if (o.cpus !== defaults.cpus) q.set('cpus', String(o.cpus));
  if (o.arch !== defaults.arch) q.set('arch', o.arch);
  if (o.nodes !== defaults.nodes) q.set('nodes', String(o.nodes));
  if (o.cmdline !== defaults.cmdline) q.set('cmdline', o.cmdline);
  return q;
}

/** Boot options from URL query parameters over defaults; malformed numbers keep the default. */
export function bootFromQuery(q: URLSearchParams, defaults: BootOptions = DEFAULT_BOOT): BootOptions {
  const int = (name: string, d: number) => {
    const v = q.get(name);
    return v !== null && /^\d+$/.test(v) ? Number(v) : d;
  };
  const arch = q.get('arch');
  return {
    mem: q.get('mem') ?? defaults.mem,
    cpus: int('cpus', defaults.cpus),
    arch: arch === 'i386' || arch === 'x86_64' ? arch : defaults.arch,
    nodes: int('nodes', defaults.nodes),
    cmdline: q.get('cmdline') ?? defaults.cmdline,
  };
}

/* ------------------------------------------------------------------ */
/* What the page needs to read the machine's memory itself             */
/* ------------------------------------------------------------------ */

/** A physical range with a name, in pfns [start, end). */
export interface PfnRegion {
  name: string;
  start: number;
  end: number;
}

export interface ZoneDesc {
  nid: number;
  idx: number;
  name: string;
  startPfn: number;
  spanned: number;
  present: number;
}

/** Everything the page needs to attach to the machine's RAM and read struct page. */
export interface MachineDescriptor {
  config: MachineConfig;
  shared: PhysMemShared;
  maxPfn: number;
  /** Sparse: mem_section[] and (x86_64) the vmemmap PMD table, physical addresses. */
  memSectionPa: number;
  vmemmapPmdPa: number;
  pageblockOrder: number;
  /** Memory the page map names when its pages are PG_reserved: kernel image, memmap, percpu... */
  reserved: PfnRegion[];
  zones: ZoneDesc[];
  /** Every per_cpu_pages list head: physical address and the order of the blocks on it. */
  pcpLists: { pa: number; order: number; cpu: number }[];
  /** Physical address of the slab_caches list head. */
  slabCachesPa: number;
  /** Offsets in struct kmem_cache of the fields the page reads. */
  kmemCache: { name: number; size: number; objectSize: number; offset: number; list: number };
  bootMs: number;
}

/* ------------------------------------------------------------------ */
/* Operations by hand                                                  */
/* ------------------------------------------------------------------ */

export type Op =
  | { kind: 'kmalloc'; size: number; gfp: string }
  | { kind: 'kfree'; ptr: number }
  | { kind: 'cache_create'; name: string; size: number; align: number }
  | { kind: 'cache_alloc'; cache: number; gfp: string }
  | { kind: 'cache_free'; cache: number; ptr: number }
  | { kind: 'alloc_pages'; order: number; gfp: string }
  | { kind: 'free_pages'; page: number; order: number }
  /** Allocate order-0 pages until the free pages of every zone are at its low (or min) watermark. */
  | { kind: 'pressure'; to: 'low' | 'min' }
  /** Allocate a stretch of pages and free every other one: order-0 holes everywhere. */
  | { kind: 'fragment'; pages: number }
  /** Free what the pressure and fragment buttons hold. */
  | { kind: 'release' }
  | { kind: 'drain' }
  | { kind: 'shrink' };

/** An allocation made by hand, listed so it can be freed by hand. */
export interface HandAlloc {
  id: number;
  kind: 'kmalloc' | 'cache' | 'pages';
  /** Object address, or struct page * for pages. */
  ptr: number;
  /** Direct-map address of the first page, for pages (0 for highmem). */
  addr: number;
  pfn: number;
  size: number;
  order: number;
  cache: number;
  cacheName: string;
  gfp: string;
}

export interface OpResult {
  ok: boolean;
  /** One line, as a kernel developer would write it: "kmalloc(100, GFP_KERNEL) = ffff888003a1c000 (kmalloc-128)". */
  text: string;
  /** pfns whose memory the operation touched (for the highlight). */
  pfns: number[];
  /** Cache addresses whose slabinfo changed. */
  caches: number[];
}

/* ------------------------------------------------------------------ */
/* State reports                                                       */
/* ------------------------------------------------------------------ */

export interface SlabRow {
  cache: number;
  name: string;
  active_objs: number;
  num_objs: number;
  objsize: number;
  objperslab: number;
  pagesperslab: number;
  active_slabs: number;
  num_slabs: number;
}

export interface LogLine {
  seq: number;
  level: number;
  /** Timestamp, ns. */
  ts: number;
  text: string;
}

export interface MachineState {
  /** Bumped by every change the worker makes. */
  gen: number;
  slabs: SlabRow[];
  /** /proc/slabinfo, as the kernel prints it. */
  slabinfo: string;
  memory: MemoryView;
  meminfo: string;
  buddyinfo: string;
  /** Log records since the last report. */
  log: LogLine[];
  allocs: HandAlloc[];
  /** Pages held by the pressure and fragment buttons. */
  held: number;
  /** print_tainted(): "Not tainted", or "Tainted: B" after a bad page... */
  tainted: string;
}

/** One object of a slab: its address and whether it is free; free objects carry their freelist position. */
export interface SlabDetail {
  pfn: number;
  /** cpu0, cpu0-partial, node0-partial, full. */
  where: string;
  inuse: number;
  objects: number;
  frozen: boolean;
  order: number;
  /** Per object: -1 in use, else its position on the freelist it is on (0 = next to be allocated). */
  free: number[];
  /** Which freelist the free objects are on: the slab's own, or a CPU's lockless list. */
  freelist: string;
}

export interface CacheDetail {
  cache: number;
  name: string;
  objsize: number;
  object_size: number;
  offset: number;
  align: number;
  order: number;
  objects_per_slab: number;
  slabs: SlabDetail[];
  /** Slabs not listed (the list is capped). */
  more: number;
}

/* ------------------------------------------------------------------ */
/* Traces                                                              */
/* ------------------------------------------------------------------ */

export interface TraceStatus {
  name: string;
  /** Events in the trace (kmem events, all kinds). */
  total: number;
  /** Events applied so far. */
  pos: number;
  /** The trace's CPU count (#P), -1 if it does not say. */
  ncpus: number;
  playing: boolean;
  /** Events per second while playing; 0 = as fast as possible. */
  speed: number;
  /** The last event applied, as ftrace printed it (event name and fields). */
  last: string;
  stats: TracePlayStats;
  /** Parse figures: lines, bad lines, ms. */
  parse: { lines: number; bad: number; ms: number };
}

/** The replay's figures so far (a subset of src/trace/replay.ts ReplayResult). */
export interface TracePlayStats {
  events: number;
  unmatched_frees: number;
  failed_allocs: number;
  kfree_null: number;
  /** Allocations at a pointer still live: the earlier object was freed unseen, and is freed first. */
  implicit_frees: number;
  caches_created: number;
  /** mm_page_alloc events of SLUB's own slab pages, left to kmem's SLUB. */
  slab_pages_skipped: number;
  peak_slab_pages: number;
  kmalloc_events: number;
  bytes_alloc_mismatches: number;
  internal_fragmentation: number;
  trace_internal_fragmentation: number;
}

/* ------------------------------------------------------------------ */
/* The messages                                                        */
/* ------------------------------------------------------------------ */

export type ToWorker =
  | { type: 'boot'; opts: BootOptions }
  | { type: 'op'; id: number; op: Op }
  | { type: 'cache_detail'; cache: number; maxSlabs: number }
  | { type: 'trace_load'; name: string; bytes: ArrayBuffer }
  | { type: 'trace_play' }
  | { type: 'trace_pause' }
  | { type: 'trace_step'; n: number }
  | { type: 'trace_seek'; pos: number }
  | { type: 'trace_speed'; speed: number }
  | { type: 'snapshot_save' }
  | { type: 'snapshot_load'; bytes: ArrayBuffer };

export type FromWorker =
  | { type: 'booted'; machine: MachineDescriptor; opts: BootOptions }
  | { type: 'state'; state: MachineState }
  | { type: 'op_result'; id: number; result: OpResult }
  | { type: 'cache_detail'; detail: CacheDetail | null }
  | { type: 'trace'; status: TraceStatus | null }
  | { type: 'snapshot'; bytes: ArrayBuffer; name: string }
  | { type: 'error'; message: string };
