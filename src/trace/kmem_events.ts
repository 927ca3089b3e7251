/*
 * The kmem trace events as records: what src/trace/parse.ts makes of a line
 * of ftrace text output (/sys/kernel/tracing/trace) such as
 *
 *   cc1-7216 [001] ..... 596.515029: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0
 *       ptr=000000007f48480c name=inode_cache bytes_req=616 bytes_alloc=624
 *       gfp_flags=GFP_KERNEL node=-1 accounted=true
 *
 * and what the replay consumes. The events and their fields are those of
 * include/trace/events/kmem.h (6.12 and 6.18), plus the spellings of older
 * kernels: kmalloc_node and kmem_cache_alloc_node (folded into kmalloc and
 * kmem_cache_alloc in 6.1), mm_page_free_direct (renamed mm_page_free in
 * 3.3) and mm_pagevec_free (renamed mm_page_free_batched in 3.3).
 *
 * Representation. A trace has millions of events, and the replay looks at
 * each once, in order. So the parser fills ONE mutable record, KmemRecord,
 * per line and hands it to a callback: no object per event, no garbage for
 * the collector, and every field of every event kind lives on the same
 * object, so the record keeps one hidden class and the callback's property
 * loads stay monomorphic. Its fields are numbers and interned strings only:
 * the strings that repeat (comm, call site, cache name, gfp text, latency
 * flags) come from the parser's string tables, so the same text is the same
 * string object and also has a dense numeric id (`*_id`) to index arrays with.
 * A consumer that keeps an event past its callback copies it
 * (`clone_event`). The TypeScript type the callback sees is KmemEvent, a
 * union discriminated by `kind` whose members show only the fields that kind
 * of event has: `switch (e.kind) { case KMALLOC: e.bytes_req ... }`.
 *
 * Pointers. The ptr and page fields are identifiers: the replay matches a
 * free to its allocation by them. %p prints a hashed pointer (4.15 and
 * later: 32 bits of siphash, printed as 16 hex digits on 64-bit kernels,
 * "000000007c89c7b9"); old kernels and trace-cmd print the address
 * ("c143de20", "0xffff88811390f6c0"); NULL prints as "(null)" or zeros. A
 * 64-bit value does not fit a JS number, so a pointer is kept as the number
 * its 64 bits mean as a SIGNED integer, which is exact for every value within
 * 2^53 of zero: hashed pointers, 32-bit addresses, and x86_64's canonical
 * addresses (user space below 2^47, the kernel's from 0xffff800000000000 up,
 * which come out negative). The rare value outside that range (5-level
 * paging's kernel addresses) is interned by the parser to an id above 2^53
 * (ptr_is_interned) that no exact value can take, so identity is kept
 * without BigInt. NULL is 0.
 */
import { show_gfp_flags, gfpflag_names_6_18 } from '../include/trace/events/mmflags.ts';

/* The kinds of event: what the replay switches on (`kind`). */
export const KMALLOC = 0;
export const KMEM_CACHE_ALLOC = 1;
export const KFREE = 2;
export const KMEM_CACHE_FREE = 3;
export const MM_PAGE_ALLOC = 4;
export const MM_PAGE_FREE = 5;
export const MM_PAGE_FREE_BATCHED = 6;
export const MM_PAGE_ALLOC_ZONE_LOCKED = 7;
export const MM_PAGE_PCPU_DRAIN = 8;
export const MM_PAGE_ALLOC_EXTFRAG = 9;
export const NR_KINDS = 10;

/*
 * The event names (`type`): one code per name as printed, so a report can
 * count kmalloc_node apart from kmalloc. Codes 0..9 are the current names
 * and equal their kind; the old names follow.
 */
export const EV_KMALLOC_NODE = 10;
export const EV_KMEM_CACHE_ALLOC_NODE = 11;
export const EV_MM_PAGE_FREE_DIRECT = 12;
export const EV_MM_PAGEVEC_FREE = 13;
export const NR_EVENT_TYPES = 14;

export const EVENT_NAMES: readonly string[] = [
  'kmalloc', 'kmem_cache_alloc', 'kfree', 'kmem_cache_free', 'mm_page_alloc', 'mm_page_free',
  'mm_page_free_batched', 'mm_page_alloc_zone_locked', 'mm_page_pcpu_drain', 'mm_page_alloc_extfrag',
  'kmalloc_node', 'kmem_cache_alloc_node', 'mm_page_free_direct', 'mm_pagevec_free',
];

/** The kind of each event type (EVENT_KIND[type]). */
export const EVENT_KIND: readonly EventKind[] = [
  KMALLOC, KMEM_CACHE_ALLOC, KFREE, KMEM_CACHE_FREE, MM_PAGE_ALLOC, MM_PAGE_FREE,
  MM_PAGE_FREE_BATCHED, MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_PCPU_DRAIN, MM_PAGE_ALLOC_EXTFRAG,
  KMALLOC, KMEM_CACHE_ALLOC, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED,
];

export type EventKind =
  | typeof KMALLOC | typeof KMEM_CACHE_ALLOC | typeof KFREE | typeof KMEM_CACHE_FREE
  | typeof MM_PAGE_ALLOC | typeof MM_PAGE_FREE | typeof MM_PAGE_FREE_BATCHED
  | typeof MM_PAGE_ALLOC_ZONE_LOCKED | typeof MM_PAGE_PCPU_DRAIN | typeof MM_PAGE_ALLOC_EXTFRAG;

/*
 * Which fields a line carried (`fields`, a bit mask): old kernels leave some
 * out (no name= on kmem_cache_alloc before 6.x or on kmem_cache_free before
 * ~5.12, no node=/accounted= before 6.0, no percpu_refill in 3.x).
 */
export const F_CALL_SITE = 1 << 0;
export const F_PTR = 1 << 1;
export const F_NAME = 1 << 2;
export const F_BYTES_REQ = 1 << 3;
export const F_BYTES_ALLOC = 1 << 4;
export const F_GFP_FLAGS = 1 << 5;
export const F_NODE = 1 << 6;
export const F_ACCOUNTED = 1 << 7;
export const F_PAGE = 1 << 8;
export const F_PFN = 1 << 9;
export const F_ORDER = 1 << 10;
export const F_MIGRATETYPE = 1 << 11;
export const F_PERCPU_REFILL = 1 << 12;
export const F_ALLOC_ORDER = 1 << 13;
export const F_FALLBACK_ORDER = 1 << 14;
export const F_PAGEBLOCK_ORDER = 1 << 15;
export const F_ALLOC_MIGRATETYPE = 1 << 16;
export const F_FALLBACK_MIGRATETYPE = 1 << 17;
export const F_FRAGMENTING = 1 << 18;
export const F_CHANGE_OWNERSHIP = 1 << 19;
export const F_COLD = 1 << 20;

/** The fields an event must carry to be understood (older kernels included). */
export const REQUIRED_FIELDS: readonly number[] = (() => {
  const alloc = F_CALL_SITE | F_PTR | F_BYTES_REQ | F_BYTES_ALLOC | F_GFP_FLAGS;
  const free = F_CALL_SITE | F_PTR;
  const page = F_PAGE | F_PFN | F_ORDER;
  const r: number[] = [];
  r[KMALLOC] = alloc;
  r[KMEM_CACHE_ALLOC] = alloc;
  r[KFREE] = free;
  r[KMEM_CACHE_FREE] = free;
  r[MM_PAGE_ALLOC] = page | F_MIGRATETYPE | F_GFP_FLAGS;
  r[MM_PAGE_FREE] = page;
  r[MM_PAGE_FREE_BATCHED] = page;
  r[MM_PAGE_ALLOC_ZONE_LOCKED] = page | F_MIGRATETYPE;
  r[MM_PAGE_PCPU_DRAIN] = page | F_MIGRATETYPE;
  r[MM_PAGE_ALLOC_EXTFRAG] = F_PAGE | F_PFN | F_ALLOC_ORDER | F_FALLBACK_ORDER
    | F_ALLOC_MIGRATETYPE | F_FALLBACK_MIGRATETYPE;
  return r;
})();

/** Interned pointers (values the signed 64-bit reading cannot hold exactly) start above this. */
export const PTR_INTERNED_BASE = 2 ** 53;

/** Whether a ptr/page value is a parser-interned id rather than the pointer's value. */
export function ptr_is_interned(v: number): boolean {
  return v > PTR_INTERNED_BASE;
}

/**
 * A ptr/page value printed as %p prints it on a 64-bit kernel (16 hex
 * digits, two's complement for negative values); interned ids print as
 * "#id". For messages and reports.
 */
export function format_ptr(v: number): string {
  if (ptr_is_interned(v)) return '#' + (v - PTR_INTERNED_BASE) / 2;
  let hi = Math.floor(v / 2 ** 32);
  const lo = v - hi * 2 ** 32;
  if (hi < 0) hi += 2 ** 32;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/*
 * The record types. TraceEventBase is every line's context columns; each
 * kind adds its TP_printk fields. Fields an old kernel did not print keep
 * their defaults (numbers -1, strings '', booleans false), and `fields` says
 * which were present.
 */
export interface TraceEventBase {
  /** The event name's code (EVENT_NAMES[type]); several old names share a kind. */
  readonly type: number;
  /** 1-based line number in the input. */
  readonly line: number;
  /** TASK column: the comm, as printed ("<idle>", "<...>" when unknown). */
  readonly comm: string;
  readonly comm_id: number;
  readonly pid: number;
  /** The TGID column when the trace has one (options/record-tgid), else -1. */
  readonly tgid: number;
  /** CPU# column. */
  readonly cpu: number;
  /**
   * The latency flags column as printed ('.....' on 5.x+: irqs-off,
   * need-resched, hardirq/softirq, preempt-depth, migrate-disable; '.N..' on
   * 3.x), '' when the trace has none (irq-info off, trace-cmd).
   * decode_latency_flags() splits it.
   */
  readonly flags: string;
  /** The timestamp in ns (the usecs the trace prints times 1000); exact below 2^53 ns (104 days). */
  readonly ts: number;
  /** F_* bits of the fields the line carried. */
  readonly fields: number;
  /**
   * Whether the parser took the line for a pre-4.6 kernel's (its gfp names
   * are spelled without underscores, or its call_site is bare hex (%lx) and
   * it has no accounted=, or its pfn is decimal; or the caller said so):
   * gfp_flags were read in that light. A heuristic: 4.6-5.x lines with bare
   * hex call sites count too.
   */
  readonly legacy: boolean;
}

interface CallSite {
  /**
   * As printed: "alloc_inode+0xa3/0xd0" (%pS, 5.x and later) or the raw
   * address in hex "c10a5b2e" (%lx, older), interned.
   */
  readonly call_site: string;
  /** Dense id of call_site in the parser's call-site table. */
  readonly call_site_id: number;
  /** The object; 0 for NULL (kfree(NULL) is traced). See the header on pointers. */
  readonly ptr: number;
}

interface GfpField {
  /** The mask, as today's (6.x) bits whatever kernel printed it (parse_gfp_flags). */
  readonly gfp_flags: number;
  /** The gfp_flags text as printed, interned. */
  readonly gfp: string;
  readonly gfp_id: number;
}

interface SlabAlloc extends TraceEventBase, CallSite, GfpField {
  readonly bytes_req: number;
  readonly bytes_alloc: number;
  /** Requested node; -1 (NUMA_NO_NODE) also when the kernel did not print it. */
  readonly node: number;
  /** accounted=true; false when absent (before 6.0). */
  readonly accounted: boolean;
}

export interface KmallocEvent extends SlabAlloc {
  readonly kind: typeof KMALLOC;
}

export interface KmemCacheAllocEvent extends SlabAlloc {
  readonly kind: typeof KMEM_CACHE_ALLOC;
  /** The cache's name (6.x); '' when not printed (older kernels). */
  readonly name: string;
  /** Dense id of name in the parser's cache-name table; -1 when absent. */
  readonly name_id: number;
}

export interface KfreeEvent extends TraceEventBase, CallSite {
  readonly kind: typeof KFREE;
}

export interface KmemCacheFreeEvent extends TraceEventBase, CallSite {
  readonly kind: typeof KMEM_CACHE_FREE;
  readonly name: string;
  readonly name_id: number;
}

interface PageBase extends TraceEventBase {
  /** struct page pointer (hashed); 0 when NULL (a failed allocation). */
  readonly page: number;
  /** pfn (printed hex since ~3.x+, decimal before); 0 for a failed allocation. */
  readonly pfn: number;
}

export interface PageAllocEvent extends PageBase, GfpField {
  readonly kind: typeof MM_PAGE_ALLOC;
  readonly order: number;
  readonly migratetype: number;
}

export interface PageFreeEvent extends PageBase {
  readonly kind: typeof MM_PAGE_FREE;
  readonly order: number;
}

export interface PageFreeBatchedEvent extends PageBase {
  readonly kind: typeof MM_PAGE_FREE_BATCHED;
  readonly order: number;
  /** cold= of 3.x's mm_pagevec_free; -1 when absent. */
  readonly cold: number;
}

export interface PageAllocZoneLockedEvent extends PageBase {
  readonly kind: typeof MM_PAGE_ALLOC_ZONE_LOCKED;
  readonly order: number;
  readonly migratetype: number;
  /** 1 when the block went to refill a pcp list; -1 when absent. */
  readonly percpu_refill: number;
}

export interface PagePcpuDrainEvent extends PageBase {
  readonly kind: typeof MM_PAGE_PCPU_DRAIN;
  readonly order: number;
  readonly migratetype: number;
}

export interface PageAllocExtfragEvent extends PageBase {
  readonly kind: typeof MM_PAGE_ALLOC_EXTFRAG;
  readonly alloc_order: number;
  readonly fallback_order: number;
  readonly pageblock_order: number;
  readonly alloc_migratetype: number;
  readonly fallback_migratetype: number;
  readonly fragmenting: number;
  readonly change_ownership: number;
}

export type KmemEvent =
  | KmallocEvent | KmemCacheAllocEvent | KfreeEvent | KmemCacheFreeEvent
  | PageAllocEvent | PageFreeEvent | PageFreeBatchedEvent | PageAllocZoneLockedEvent
  | PagePcpuDrainEvent | PageAllocExtfragEvent;

/**
 * The one mutable object behind every KmemEvent the parser hands out: all
 * fields of all kinds, always present (one hidden class). reset() puts the
 * per-event fields back to their defaults before each line.
 */
export class KmemRecord {
  kind: EventKind = KMALLOC;
  type = 0;
  line = 0;
  comm = '';
  comm_id = -1;
  pid = 0;
  tgid = -1;
  cpu = 0;
  flags = '';
  ts = 0;
  fields = 0;
  legacy = false;
  call_site = '';
  call_site_id = -1;
  ptr = 0;
  name = '';
  name_id = -1;
  bytes_req = -1;
  bytes_alloc = -1;
  gfp_flags = 0;
  gfp = '';
  gfp_id = -1;
  node = -1;
  accounted = false;
  page = 0;
  pfn = -1;
  order = -1;
  migratetype = -1;
  percpu_refill = -1;
  alloc_order = -1;
  fallback_order = -1;
  pageblock_order = -1;
  alloc_migratetype = -1;
  fallback_migratetype = -1;
  fragmenting = -1;
  change_ownership = -1;
  cold = -1;

  /** Back to the defaults of the TP_printk fields (the context columns are set per line anyway). */
  reset(): void {
    this.fields = 0;
    this.legacy = false;
    this.call_site = '';
    this.call_site_id = -1;
    this.ptr = 0;
    this.name = '';
    this.name_id = -1;
    this.bytes_req = -1;
    this.bytes_alloc = -1;
    this.gfp_flags = 0;
    this.gfp = '';
    this.gfp_id = -1;
    this.node = -1;
    this.accounted = false;
    this.page = 0;
    this.pfn = -1;
    this.order = -1;
    this.migratetype = -1;
    this.percpu_refill = -1;
    this.alloc_order = -1;
    this.fallback_order = -1;
    this.pageblock_order = -1;
    this.alloc_migratetype = -1;
    this.fallback_migratetype = -1;
    this.fragmenting = -1;
    this.change_ownership = -1;
    this.cold = -1;
  }

  /** This record viewed as the union type (a cast: the record's kind says which member it is). */
  get event(): KmemEvent {
    return this as unknown as KmemEvent;
  }
}

/** A copy of an event that outlives the parser's callback. */
export function clone_event(e: KmemEvent): KmemEvent {
  return Object.assign(new KmemRecord(), e).event;
}

const COMMON_KEYS = ['type', 'line', 'comm', 'pid', 'tgid', 'cpu', 'flags', 'ts', 'fields', 'legacy'] as const;
const SLAB_ALLOC_KEYS = ['call_site', 'ptr', 'bytes_req', 'bytes_alloc', 'gfp_flags', 'gfp', 'node', 'accounted'] as const;

/** The keys event_object() shows for each kind, in TP_printk order. */
export const KIND_KEYS: readonly (readonly string[])[] = [
  SLAB_ALLOC_KEYS,
  ['call_site', 'ptr', 'name', ...SLAB_ALLOC_KEYS.slice(2)],
  ['call_site', 'ptr'],
  ['call_site', 'ptr', 'name'],
  ['page', 'pfn', 'order', 'migratetype', 'gfp_flags', 'gfp'],
  ['page', 'pfn', 'order'],
  ['page', 'pfn', 'order', 'cold'],
  ['page', 'pfn', 'order', 'migratetype', 'percpu_refill'],
  ['page', 'pfn', 'order', 'migratetype'],
  ['page', 'pfn', 'alloc_order', 'fallback_order', 'pageblock_order', 'alloc_migratetype',
    'fallback_migratetype', 'fragmenting', 'change_ownership'],
];

/**
 * A plain object with the event's name, its context columns and the fields
 * of its kind (no ids): for golden tests, JSON and debugging. Not for the
 * hot path: it allocates.
 */
export function event_object(e: KmemEvent): Record<string, string | number | boolean> {
  const src = e as unknown as Record<string, string | number | boolean>;
  const out: Record<string, string | number | boolean> = { event: EVENT_NAMES[e.type] };
  for (const k of COMMON_KEYS) out[k] = src[k];
  for (const k of KIND_KEYS[e.kind]) out[k] = src[k];
  return out;
}

/** The latency flags column split into its meanings (kernel/trace/trace_output.c trace_print_lat_fmt()). */
export interface LatencyFlags {
  /** 'd' irqs off, 'D' irqs and BH off, 'X' not supported, 'b' BH off, '.' none. */
  readonly irqs_off: string;
  /** 'N' (both TIF_NEED_RESCHED and PREEMPT_NEED_RESCHED), 'n', 'p', 'L', 'B', ... or '.'. */
  readonly need_resched: string;
  /** 'Z' NMI in hardirq, 'z' NMI, 'H' hardirq in softirq, 'h' hardirq, 's' softirq, '.'. */
  readonly hardsoft_irq: string;
  /** Preempt depth (0 for '.'), -1 when the column is missing. */
  readonly preempt_depth: number;
  /** Migrate-disable depth (0 for '.'), -1 when the column is missing (before 5.13). */
  readonly migrate_disable: number;
}

function depth(c: string | undefined): number {
  if (c === undefined) return -1;
  if (c === '.') return 0;
  const v = parseInt(c, 16);
  return Number.isNaN(v) ? -1 : v;
}

export function decode_latency_flags(flags: string): LatencyFlags {
  return {
    irqs_off: flags[0] ?? '.',
    need_resched: flags[1] ?? '.',
    hardsoft_irq: flags[2] ?? '.',
    preempt_depth: depth(flags[3]),
    migrate_disable: depth(flags[4]),
  };
}

/**
 * A kmem event as Linux 6.18 prints its TP_printk part (the text after
 * "<event>: "), from a record: the inverse of the parser for current-format
 * records, used by tests to check a round trip. ptr/page print as hashed
 * %p would (16 hex digits).
 */
export function format_event_fields(e: KmemEvent): string {
  const p = (v: number) => (v === 0 ? '0000000000000000' : format_ptr(v));
  switch (e.kind) {
    case KMALLOC:
      return `call_site=${e.call_site} ptr=${p(e.ptr)} bytes_req=${e.bytes_req} bytes_alloc=${e.bytes_alloc} `
        + `gfp_flags=${show_gfp_flags(e.gfp_flags, gfpflag_names_6_18)} node=${e.node} accounted=${e.accounted}`;
    case KMEM_CACHE_ALLOC:
      return `call_site=${e.call_site} ptr=${p(e.ptr)} name=${e.name} bytes_req=${e.bytes_req} `
        + `bytes_alloc=${e.bytes_alloc} gfp_flags=${show_gfp_flags(e.gfp_flags, gfpflag_names_6_18)} `
        + `node=${e.node} accounted=${e.accounted}`;
    case KFREE:
      return `call_site=${e.call_site} ptr=${p(e.ptr)}`;
    case KMEM_CACHE_FREE:
      return `call_site=${e.call_site} ptr=${p(e.ptr)} name=${e.name}`;
    case MM_PAGE_ALLOC:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} order=${e.order} migratetype=${e.migratetype} `
        + `gfp_flags=${show_gfp_flags(e.gfp_flags, gfpflag_names_6_18)}`;
    case MM_PAGE_FREE:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} order=${e.order}`;
    case MM_PAGE_FREE_BATCHED:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} order=${e.order}`;
    case MM_PAGE_ALLOC_ZONE_LOCKED:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} order=${e.order} migratetype=${e.migratetype} `
        + `percpu_refill=${e.percpu_refill}`;
    case MM_PAGE_PCPU_DRAIN:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} order=${e.order} migratetype=${e.migratetype}`;
    case MM_PAGE_ALLOC_EXTFRAG:
      return `page=${p(e.page)} pfn=0x${e.pfn.toString(16)} alloc_order=${e.alloc_order} `
        + `fallback_order=${e.fallback_order} pageblock_order=${e.pageblock_order} `
        + `alloc_migratetype=${e.alloc_migratetype} fallback_migratetype=${e.fallback_migratetype} `
        + `fragmenting=${e.fragmenting} change_ownership=${e.change_ownership}`;
  }
}
