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
 *   vmalloc tab             (reads the      the vmalloc area's list, page tables
 *                           shared RAM)     and pages, walked by the page itself
 *   trace events tab        --ftrace-->     which kmem tracepoints to enable; their
 *                           <--state--      ftrace lines come with each state report
 *   demo tab                --demo-->       runs a `kmem demo` chapter; its text, and
 *                           <--demo--       the machine it booted becomes this one
 *
 * CPUs: a Web Worker per CPU. The kernel worker boots the machine and
 * runs CPU 0; for an operation on another CPU the page starts that CPU's
 * worker (src/web/cpu_worker.ts), which attaches to the same RAM
 * (src/init/attach.ts: it takes the CPU over) and runs it there, in
 * parallel with the kernel worker, then the page tells the kernel worker
 * what changed (`changed`: the hand-made allocation to list, or the one
 * freed) so that it reports again. Whatever needs every CPU on one thread
 * (a trace's replay switches CPUs as its lines say, a snapshot must not
 * record CPUs taken by workers) first has the page release the CPU
 * workers: they give their CPU back (k.detach()) and end. A new machine
 * ends them too; they attach again at the next operation on their CPU.
 *
 *   page                      kernel worker (CPU 0)      CPU worker (CPU n)
 *   op {cpu: 0}          -->  host.op(op, 0)
 *   op {cpu: n}          ----------------------------->  attach(machine, n) once;
 *                        <-----------------------------  host.op(op, n): op_result
 *   changed {alloc/freed} --> the allocation list; state
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
import { SHEAVES_MODES, SLAB_IMPLS, type MachineConfig, type SheavesMode, type SlabImpl } from '../machine/config.ts';
import type { PhysMemShared } from '../machine/memory.ts';
import type { SharedMachine } from '../init/attach.ts';
import type { MemoryView } from '../fs/proc/views.ts';

/** What the boot form and the URL say. Sizes as the command line writes them ("1G", "512M"). */
export interface BootOptions {
  mem: string;
  cpus: number;
  arch: 'x86_64' | 'i386';
  nodes: number;
  /** Kernel command line (slub_min_order=..., slab_nomerge, ...). */
  cmdline: string;
  /** The slab implementation. */
  slab: SlabImpl;
  /** SLUB's percpu sheaves: none (6.12), opt-in (6.18: caches that ask), all (7.0: every cache). */
  sheaves: 'none' | SheavesMode;
}

export const DEFAULT_BOOT: BootOptions = { mem: '1G', cpus: 2, arch: 'x86_64', nodes: 1, cmdline: '', slab: 'slub', sheaves: 'none' };

/** The boot options as URL query parameters; only those that differ from the defaults. */
export function bootToQuery(o: BootOptions, defaults: BootOptions = DEFAULT_BOOT): URLSearchParams {
  const q = new URLSearchParams();
  if (o.mem !== defaults.mem) q.set('mem', o.mem);
  if (o.cpus !== defaults.cpus) q.set('cpus', String(o.cpus));
  if (o.arch !== defaults.arch) q.set('arch', o.arch);
  if (o.nodes !== defaults.nodes) q.set('nodes', String(o.nodes));
  if (o.cmdline !== defaults.cmdline) q.set('cmdline', o.cmdline);
  if (o.slab !== defaults.slab) q.set('slab', o.slab);
  if (o.sheaves !== defaults.sheaves) q.set('sheaves', o.sheaves);
  return q;
}

/** Boot options from URL query parameters over defaults; malformed numbers keep the default. */
export function bootFromQuery(q: URLSearchParams, defaults: BootOptions = DEFAULT_BOOT): BootOptions {
  const int = (name: string, d: number) => {
    const v = q.get(name);
    return v !== null && /^\d+$/.test(v) ? Number(v) : d;
  };
  const arch = q.get('arch');
  const slab = SLAB_IMPLS.find((x) => x === q.get('slab'));
  const sheaves = (['none', ...SHEAVES_MODES] as const).find((x) => x === q.get('sheaves'));
  return {
    mem: q.get('mem') ?? defaults.mem,
    cpus: int('cpus', defaults.cpus),
    arch: arch === 'i386' || arch === 'x86_64' ? arch : defaults.arch,
    nodes: int('nodes', defaults.nodes),
    cmdline: q.get('cmdline') ?? defaults.cmdline,
    slab: slab ?? defaults.slab,
    sheaves: sheaves ?? defaults.sheaves,
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
  /** init_mm's page tables: the top table's physical address, and PAE (i386). */
  paging: { pgdPa: number; pae: boolean };
  vmalloc: VmallocDescriptor;
  bootMs: number;
}

/**
 * Where mm/vmalloc.c keeps its busy areas, and the offsets of the fields
 * the page reads: the list of struct vmap_area (vmap_nodes[0].busy.head,
 * in the kernel image) and each area's struct vm_struct.
 */
export interface VmallocDescriptor {
  start: number;
  end: number;
  /** vmap_initialized: 0 until the first vmalloc. */
  initializedPa: number;
  busyHeadPa: number;
  /** The list head's own kernel virtual address (an empty list points at it). */
  busyHeadVa: number;
  vmapArea: { va_start: number; va_end: number; list: number; vm: number };
  vmStruct: { addr: number; size: number; flags: number; nr_pages: number };
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
  | { kind: 'vmalloc'; size: number }
  | { kind: 'vfree'; addr: number }
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
  kind: 'kmalloc' | 'cache' | 'pages' | 'vmalloc';
  /** Object address, struct page * for pages, the area's start for vmalloc. */
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
  /** The address an allocation returned (kmalloc, kmem_cache_alloc: the object; vmalloc: the area's start). */
  addr?: number;
  /** The allocation to list (made by hand), or the one freed: what a CPU worker's op tells the kernel worker. */
  alloc?: Omit<HandAlloc, 'id'>;
  freed?: { kind: HandAlloc['kind']; ptr: number };
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
  /** /proc/vmallocinfo's areas, in address order. */
  vmalloc: VmallocRow[];
  /** The kmem events enabled for the stream (empty: the stream is off). */
  ftraceEvents: string[];
  /** trace_options hash-ptr: pointers printed hashed, as %p does. */
  ftraceHashPtr: boolean;
  /** ftrace lines recorded since the last report (the newest MAX_FTRACE_BATCH), as the trace file prints them. */
  ftrace: string[];
  /** Lines recorded since the last report but left out of `ftrace` (too many, or overwritten in the ring buffer). */
  ftraceDropped: number;
}

/** One busy vmalloc area (or an unpurged one), as /proc/vmallocinfo prints it. */
export interface VmallocRow {
  start: number;
  end: number;
  size: number;
  caller: string;
  nrPages: number;
  /** Freed, its range waiting for the lazy purge ("unpurged vm_area"). */
  unpurged: boolean;
  /** The /proc/vmallocinfo line. */
  line: string;
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
  /** Each CPU's and each node's slabs and lists, as the slab implementation keeps them. */
  lists: SlabListRow[];
}

/** A slab on a list: its first page and how full it is. */
export interface SlabRef {
  pfn: number;
  inuse: number;
  objects: number;
}

/**
 * One CPU's (owner "cpu0") or node's ("node0") part of a cache. SLUB: the
 * CPU's active slab, its lockless freelist, its partial slabs; a node's
 * partial list. SLAB: the CPU's array cache of free objects; the node's
 * partial, full and free lists. SLQB: each CPU's and node's list.
 */
export interface SlabListRow {
  owner: string;
  /** The slab the CPU allocates from (SLUB's c->slab), or null. */
  active: SlabRef | null;
  /** Free objects cached for this CPU (SLUB: c->freelist's length; SLAB: ac->avail; SLQB: the list's freelist), -1: none. */
  cached: number;
  /** Its capacity, where there is one (SLAB: ac->limit), else -1. */
  limit: number;
  /** What `cached` counts, in the kernel's words. */
  cachedName: string;
  partial: SlabRef[];
  /** Slabs on the list that `partial` counts (SLUB's slabs field of the CPU partial list, a node's nr_partial). */
  nrPartial: number;
  /** Full and free slabs on the node's lists (SLAB), -1 where the implementation keeps none. */
  full: number;
  free: number;
  /** SLUB with percpu sheaves: the CPU's main and spare sheaf, objects in each (spare -1: none) and the capacity; else null. */
  sheaves: { main: number; spare: number; capacity: number } | null;
  /** SLUB with percpu sheaves: the node's barn, its full and empty sheaves; else null. */
  barn: { full: number; empty: number } | null;
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
  | { type: 'op'; id: number; op: Op; cpu: number }
  | { type: 'cache_detail'; cache: number; maxSlabs: number }
  | { type: 'trace_load'; name: string; bytes: ArrayBuffer }
  | { type: 'trace_play' }
  | { type: 'trace_pause' }
  | { type: 'trace_step'; n: number }
  | { type: 'trace_seek'; pos: number }
  | { type: 'trace_speed'; speed: number }
  | { type: 'snapshot_save' }
  | { type: 'snapshot_load'; bytes: ArrayBuffer }
  /** Enable exactly these kmem events for the stream (k.trace.enable), none: off; hashPtr: trace_options hash-ptr. */
  | { type: 'ftrace'; events: string[]; hashPtr: boolean }
  /** Run a chapter of `kmem demo` (by id). */
  | { type: 'demo'; chapter: string }
  /** A CPU worker ran an operation: list (or unlist) its allocation, and report the state. */
  | { type: 'changed'; result: OpResult };

/** To a CPU worker (src/web/cpu_worker.ts). */
export type ToCpuWorker =
  | { type: 'attach'; machine: SharedMachine; cpu: number }
  | { type: 'op'; id: number; op: Op }
  /** Give the CPU back to the kernel worker (k.detach()), then say so. */
  | { type: 'detach' };

export type FromCpuWorker =
  | { type: 'attached'; cpu: number; ms: number }
  | { type: 'op_result'; id: number; result: OpResult }
  | { type: 'detached'; cpu: number }
  | { type: 'error'; message: string };

/** A chapter of `kmem demo` the page can run. */
export interface DemoEntry {
  id: string;
  title: string;
  summary: string;
}

/** The newest ftrace lines a state report carries at most. */
export const MAX_FTRACE_BATCH = 500;

export type FromWorker =
  | { type: 'booted'; machine: MachineDescriptor; opts: BootOptions }
  | { type: 'state'; state: MachineState }
  | { type: 'op_result'; id: number; result: OpResult }
  | { type: 'cache_detail'; detail: CacheDetail | null }
  | { type: 'trace'; status: TraceStatus | null }
  | { type: 'snapshot'; bytes: ArrayBuffer; name: string }
  | { type: 'demo_list'; chapters: DemoEntry[] }
  /** A chapter's text so far; done: it ended (and the machine it booted last is the page's now). */
  | { type: 'demo'; chapter: string; text: string; done: boolean }
  | { type: 'error'; message: string };
