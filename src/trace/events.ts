/*
 * The kmem trace events (include/trace/events/kmem.h) and the trace file
 * (/sys/kernel/tracing/trace), kernel/trace/trace.c and trace_output.c in
 * miniature: k.trace.
 *
 *   k.trace.enable('kmem');                 // events/kmem/enable; or 'kmem:kmalloc', 'kmalloc', 'kmem:*'
 *   k.kmalloc(100, k.GFP_KERNEL);
 *   k.trace.read();                         // cat /sys/kernel/tracing/trace
 *   k.trace.clear();                        // echo > trace
 *   k.trace.disable('kmem');
 *
 * Events: kmalloc, kmem_cache_alloc, kfree, kmem_cache_free (hooks in
 * mm/slab_common.ts), mm_page_alloc, mm_page_free,
 * mm_page_alloc_zone_locked, mm_page_pcpu_drain, mm_page_alloc_extfrag
 * (hooks in mm/page_alloc.ts); mm_page_free_batched can be enabled but kmem
 * frees no page batches. A tracepoint is a hook function installed while
 * its event is enabled: the JS counterpart of the kernel's static branch.
 *
 * Records go to per-CPU ring buffers in machine memory
 * (src/trace/ring_buffer.ts), allocated from the page allocator the first
 * time an event is enabled (tracing_update_buffers() expanding the boot
 * buffer), buffer_size_kb per CPU (default 1408, the kernel's
 * trace_buf_size). The enabled events, the options and the counters are in
 * the buffer's meta block, whose place is in global_trace (.bss), so the JS
 * object only knows where it is, and a thread attaching to a running
 * machine finds it (attach(): it installs the hooks of the events enabled
 * then; events enabled later by another thread are not seen by threads
 * already attached, since the hooks are each thread's JS).
 *
 * The text is what Linux prints, by default as 6.18 does (the shared real
 * trace is the reference): the header with entries-in-buffer/entries-written
 * and #P, the irq-info legend, then per event
 * "%16s-%-7d [%03d] <5 latency flags> %5lu.%06lu: <event>: <TP_printk>".
 * kmem_cache_alloc carries name= (6.18; `format = '6.12'` leaves it out)
 * and gfp_flags use the version's show_gfp_flags() table. Pointers are
 * hashed as %p hashes them (ptr_to_id, src/lib/vsprintf.ts) unless the
 * hash-ptr option is off or the kernel booted with no_hash_pointers. The
 * TASK column comes from saved_cmdlines ("<idle>" for pid 0, "<...>" for a
 * pid no longer there), as in the kernel.
 *
 * The clock: trace timestamps come from the machine's one clock, the
 * printk clock word in .bss (src/init/main.ts). Each recorded event reads
 * it and advances it by TRACE_EVENT_NS (100 ns), also during boot; printk
 * advances it by 1 µs per record once booted. So time moves only with
 * what the machine logs or traces, and a run prints the same text every
 * time. Several events can show the same microsecond, as in real traces.
 *
 * Call sites: the kernel records _RET_IP_ and prints it with %pS,
 * "alloc_inode+0xa3/0xd0". kmem names the caller of the slab call:
 * 1. an explicit one, k.trace.set_caller("scull_init") or
 *    set_caller("alloc_inode+0xa3/0xd0") (module code, a replay), until
 *    set_caller(null);
 * 2. else the JS stack: the first function that is not the slab API
 *    (kmalloc, kmem_cache_alloc, kfree, ... in mm/slab_common.ts), the
 *    Kernel facade (src/kernel/kernel.ts) or the tracer: a module's init,
 *    a test, or kmem's own kernel code (create_cache, kmem_cache_init).
 * Either way the name becomes a named kallsyms symbol (0x100 bytes unless
 * the text said its size) and the record holds an address in it: distinct
 * call positions in one JS function get distinct offsets (0x10, 0x20, ...
 * in the order they are first seen), so "%pS" tells them apart as it tells
 * the kernel's call sites apart. The stack costs a few microseconds per
 * slab event, paid only while a slab event is enabled and no caller is set.
 */
import { NO_HASH_POINTERS_BANNER } from '../lib/vsprintf.ts';
import { PAGE_SIZE, ptr64FromWords, ptr64HiWord, ptr64LoWord, formatPtr, type ArchLayout } from '../arch/x86/layout.ts';
import type { PhysMem } from '../machine/memory.ts';
import type { Sched } from '../kernel/sched.ts';
import { HARDIRQ_MASK, NMI_MASK, SOFTIRQ_MASK, SOFTIRQ_OFFSET } from '../kernel/sched.ts';
import type { Kallsyms } from '../kernel/kallsyms.ts';
import type { Pages } from '../mm/page.ts';
import type { PageAllocator } from '../mm/page_alloc.ts';
import type { SlabCommon } from '../mm/slab_common.ts';
import { GFP_KERNEL, __GFP_ACCOUNT } from '../include/linux/gfp_types.ts';
import { gfpflag_names, gfpflag_names_6_18, show_gfp_flags, type TracePrintFlag } from '../include/trace/events/mmflags.ts';
import { ptr_to_id } from '../lib/vsprintf.ts';
import {
  EVENT_NAMES, KFREE, KMALLOC, KMEM_CACHE_ALLOC, KMEM_CACHE_FREE, MM_PAGE_ALLOC, MM_PAGE_ALLOC_EXTFRAG,
  MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED, MM_PAGE_PCPU_DRAIN,
} from './kmem_events.ts';
import {
  BUF_PAGE_DATA, REC_FIELDS, REC_FLAGS, REC_PID, REC_PREEMPT, REC_TYPE, RB_META_BUFFER_KB, RB_META_ENABLED,
  RB_META_FLAGS, RB_META_TRACING_ON, RingBuffer, TRACE_BUF_SIZE_DEFAULT, metaBytes, type RbCursor, type RbPages,
} from './ring_buffer.ts';

/** Nanoseconds the trace clock advances per recorded event. */
export const TRACE_EVENT_NS = 100;

/** The trace_entry type of each event: 500 + its kind (the kernel numbers events at registration). */
export const EVENT_ID_BASE = 500;

/** The kmem events kmem can trace, in the order the events/kmem directory lists them here. */
export const TRACE_EVENTS: readonly string[] = [
  'kfree', 'kmalloc', 'kmem_cache_alloc', 'kmem_cache_free', 'mm_page_alloc', 'mm_page_alloc_extfrag',
  'mm_page_alloc_zone_locked', 'mm_page_free', 'mm_page_free_batched', 'mm_page_pcpu_drain',
];

/* trace_entry->flags (kernel/trace/trace.h) */
const TRACE_FLAG_IRQS_OFF = 0x01;
const TRACE_FLAG_HARDIRQ = 0x08;
const TRACE_FLAG_SOFTIRQ = 0x10;
const TRACE_FLAG_NMI = 0x40;
const TRACE_FLAG_BH_OFF = 0x80;

/* trace_options bits kmem has (TRACE_ITER_*) */
export const TRACE_ITER_HASH_PTR = 1 << 0;
export const TRACE_ITER_IRQ_INFO = 1 << 1;
const DEFAULT_FLAGS = TRACE_ITER_HASH_PTR | TRACE_ITER_IRQ_INFO;
const OPTIONS: Record<string, number> = { 'hash-ptr': TRACE_ITER_HASH_PTR, 'irq-info': TRACE_ITER_IRQ_INFO };

const ENOMEM = 12;
const EINVAL = 22;
const TWO32 = 4294967296;

/* Field offsets (after the record header), TP_STRUCT__entry with natural alignment. */
const SA_CALL_SITE = 0;
const SA_PTR = 8;
const SA_BYTES_REQ = 16;
const SA_BYTES_ALLOC = 24;
const SA_GFP = 32;
const SA_NODE = 40;
const SA_ACCOUNTED = 44;
const SA_NAME = 48; /* __data_loc (len << 16 | offset), string from 52 */
const SF_NAME = 16; /* kmem_cache_free's __data_loc, string from 20 */
const PG_PFN = 0;
const PG_ORDER = 8;
const PA_GFP = 16;
const PA_MT = 24;
const PZ_MT = 12;
const PZ_REFILL = 16;
const EF_ALLOC_ORDER = 8;
const EF_FALLBACK_ORDER = 12;
const EF_ALLOC_MT = 16;
const EF_FALLBACK_MT = 20;
const EF_CHANGE_OWNERSHIP = 24;

export interface TracingDeps {
  mem: PhysMem;
  layout: ArchLayout;
  sched: Sched;
  kallsyms: Kallsyms;
  pages: Pages;
  buddy: PageAllocator;
  slab: SlabCommon;
  nrCpus: number;
  /** Physical address of the machine's clock (u64 ns, the printk clock). */
  clockPa: number;
  /** Physical address of global_trace in .bss: the meta block's pfn + 1 (0: none yet) and its order. */
  globalPa: number;
  /** pageblock_order, printed by mm_page_alloc_extfrag. */
  pageblockOrder: number;
  /** printk for boot messages. */
  pr_warn(text: string): void;
}

/** The JS frames a call site is never taken from: the slab API, the facade, the tracer. */
const SLAB_API = new Set([
  'kmalloc', '__kmalloc_node', 'kmem_cache_alloc', 'kmem_cache_alloc_node', 'kmem_cache_zalloc', 'slab_alloc_node',
  'trace_kmem_cache_alloc', 'kfree', 'kmem_cache_free', 'krealloc', 'kmemdup', 'kstrdup', 'kstrdup_const', 'kfree_const',
  'kfree_sensitive', '__kmalloc_large_node',
]);
const FRAME_RE = /^\s*at (?:async )?(?:([^\s(]+) )?\(?(.*?):(\d+):(\d+)\)?$/;
const SKIP_FILE_RE = /[/\\]src[/\\](?:trace[/\\]|kernel[/\\]kernel\.ts)/;
const SLAB_FILE_RE = /[/\\]src[/\\]mm[/\\]slab_common\.ts/;

/** The event context and fields of one record, for readers that want more than text. */
export interface TraceRecord {
  cpu: number;
  ts: number;
  pid: number;
  comm: string;
  event: string;
  /** The TP_printk part, as printed. */
  fields: string;
}

export class Tracing {
  /** 'ring buffer not allocated yet' until the first enable or option change. */
  private rb: RingBuffer | null = null;
  private metaOrder = 0;
  /** The call site set by set_caller() (a kallsyms address), 0 for none. */
  private caller = 0;
  private readonly callSites = new Map<string, number>();
  private readonly callSiteCount = new Map<string, number>();
  /** The kernel's no_hash_pointers (cmdline): %p prints addresses everywhere. */
  no_hash_pointers = false;
  /** Which kernel's text to print: 6.18 (default, as the shared real trace) or 6.12. */
  format: '6.12' | '6.18' = '6.18';
  private readonly enc = new TextEncoder();

  constructor(private readonly d: TracingDeps) {}

  /* ---------------------------------------------------------------- */
  /* The control files                                                */
  /* ---------------------------------------------------------------- */

  /** The meta block, allocated (zeroed, defaults set) on first need; null if memory ran out. */
  private ensureMeta(): RingBuffer | null {
    if (this.rb !== null) return this.rb;
    const bytes = metaBytes(this.d.nrCpus);
    let order = 0;
    while (PAGE_SIZE << order < bytes) order++;
    const pfn = this.d.buddy.__alloc_pages(GFP_KERNEL, order);
    if (pfn < 0) return null;
    this.metaOrder = order;
    this.rb = new RingBuffer(this.d.mem, pfn * PAGE_SIZE, this.d.nrCpus);
    this.rb.init(Math.floor(TRACE_BUF_SIZE_DEFAULT / 1024), DEFAULT_FLAGS);
    this.d.mem.write32(this.d.globalPa, pfn + 1);
    this.d.mem.write32(this.d.globalPa + 4, order);
    return this.rb;
  }

  /** A thread attaching to a running machine: find the trace buffers other threads set up, and hook the enabled events. */
  attach(): void {
    const pfn1 = this.d.mem.read32(this.d.globalPa);
    if (pfn1 === 0) return;
    this.metaOrder = this.d.mem.read32(this.d.globalPa + 4);
    this.rb = new RingBuffer(this.d.mem, (pfn1 - 1) * PAGE_SIZE, this.d.nrCpus);
    this.updateHooks();
  }

  /** The event names a spec stands for: "kmem", "kmem:*", "*:*", "*", "kmem:kmalloc", "kmalloc". */
  private match(spec: string): string[] | null {
    const s = spec.trim();
    if (s === 'kmem' || s === 'kmem:*' || s === '*:*' || s === '*' || s === 'kmem:') return [...TRACE_EVENTS];
    const name = s.startsWith('kmem:') ? s.slice(5) : s;
    return TRACE_EVENTS.includes(name) ? [name] : null;
  }

  private bit(name: string): number {
    return 1 << EVENT_NAMES.indexOf(name);
  }

  /**
   * Enable events (echo 1 > events/kmem/.../enable). Allocates the ring
   * buffer on first use. 0, -EINVAL for an unknown event, -ENOMEM if the
   * buffer cannot be allocated.
   */
  enable(spec = 'kmem'): number {
    const names = this.match(spec);
    if (names === null) return -EINVAL;
    const rb = this.ensureMeta();
    if (rb === null || !this.ensureBuffers(rb)) return -ENOMEM;
    let mask = rb.meta(RB_META_ENABLED);
    for (const n of names) mask |= this.bit(n);
    rb.setMeta(RB_META_ENABLED, mask);
    this.updateHooks();
    return 0;
  }

  /** Disable events (echo 0 > .../enable); 0 or -EINVAL. */
  disable(spec = 'kmem'): number {
    const names = this.match(spec);
    if (names === null) return -EINVAL;
    if (this.rb === null) return 0;
    let mask = this.rb.meta(RB_META_ENABLED);
    for (const n of names) mask &= ~this.bit(n);
    this.rb.setMeta(RB_META_ENABLED, mask);
    this.updateHooks();
    return 0;
  }

  is_enabled(name: string): boolean {
    return this.rb !== null && (this.rb.meta(RB_META_ENABLED) & this.bit(name)) !== 0;
  }

  /** set_event: the enabled events, one "kmem:<name>" per line. */
  get set_event(): string {
    return TRACE_EVENTS.filter((n) => this.is_enabled(n)).map((n) => `kmem:${n}\n`).join('');
  }

  /** tracing_on: 0 stops recording (the events stay enabled). */
  get tracing_on(): boolean {
    return this.rb === null || this.rb.meta(RB_META_TRACING_ON) !== 0;
  }

  set tracing_on(on: boolean) {
    const rb = this.ensureMeta();
    if (rb !== null) rb.setMeta(RB_META_TRACING_ON, on ? 1 : 0);
  }

  /** trace_options: 'hash-ptr', 'irq-info'. */
  option(name: string): boolean {
    const bit = OPTIONS[name];
    if (bit === undefined) throw new RangeError(`trace option ${name}: unknown (${Object.keys(OPTIONS).join(', ')})`);
    return ((this.rb === null ? DEFAULT_FLAGS : this.rb.meta(RB_META_FLAGS)) & bit) !== 0;
  }

  /** echo [no]<name> > trace_options; 0, -EINVAL (unknown) or -ENOMEM. */
  set_option(name: string, on: boolean): number {
    const bit = OPTIONS[name];
    if (bit === undefined) return -EINVAL;
    const rb = this.ensureMeta();
    if (rb === null) return -ENOMEM;
    const f = rb.meta(RB_META_FLAGS);
    rb.setMeta(RB_META_FLAGS, on ? f | bit : f & ~bit);
    return 0;
  }

  /** buffer_size_kb: the per-CPU buffer size. */
  get buffer_size_kb(): number {
    return this.rb === null ? Math.floor(TRACE_BUF_SIZE_DEFAULT / 1024) : this.rb.meta(RB_META_BUFFER_KB);
  }

  /**
   * echo N > buffer_size_kb: resize (the contents are dropped). 0 or
   * -ENOMEM (the buffer is then as before).
   */
  set_buffer_size_kb(kb: number): number {
    if (!(kb >= 4)) return -EINVAL;
    const rb = this.ensureMeta();
    if (rb === null) return -ENOMEM;
    const old = rb.meta(RB_META_BUFFER_KB);
    rb.setMeta(RB_META_BUFFER_KB, Math.floor(kb));
    if (rb.nr_pages === 0) return 0;
    const saved = rb.meta(RB_META_ENABLED);
    rb.setMeta(RB_META_ENABLED, 0);
    this.updateHooks();
    rb.release(this.rbPages);
    let ret = 0;
    if (!this.ensureBuffers(rb)) {
      rb.setMeta(RB_META_BUFFER_KB, old);
      this.ensureBuffers(rb);
      ret = -ENOMEM;
    }
    rb.setMeta(RB_META_ENABLED, saved);
    this.updateHooks();
    return ret;
  }

  private readonly rbPages: RbPages = {
    alloc: (order) => {
      const pfn = this.d.buddy.__alloc_pages(GFP_KERNEL, order);
      return pfn < 0 ? -1 : pfn * PAGE_SIZE;
    },
    free: (pa, order) => this.d.buddy.__free_pages(pa / PAGE_SIZE, order),
  };

  private ensureBuffers(rb: RingBuffer): boolean {
    if (rb.nr_pages !== 0) return true;
    const pages = Math.max(2, Math.ceil((rb.meta(RB_META_BUFFER_KB) * 1024) / BUF_PAGE_DATA));
    return rb.allocate(pages, this.rbPages);
  }

  /** Free the buffers and the meta block (everything off, as after boot). */
  free(): void {
    if (this.rb === null) return;
    this.rb.setMeta(RB_META_ENABLED, 0);
    this.updateHooks();
    this.rb.release(this.rbPages);
    this.d.buddy.__free_pages(this.rb.metaPa / PAGE_SIZE, this.metaOrder);
    this.rb = null;
    this.d.mem.write32(this.d.globalPa, 0);
  }

  /** echo > trace: empty every CPU's buffer. */
  clear(): void {
    this.rb?.reset();
  }

  /** entries-in-buffer and entries-written (in buffer plus overwritten). */
  entries(): { entries: number; written: number; overrun: number } {
    let entries = 0;
    let overrun = 0;
    if (this.rb !== null && this.rb.nr_pages !== 0) {
      for (let cpu = 0; cpu < this.d.nrCpus; cpu++) {
        entries += this.rb.entries(cpu);
        overrun += this.rb.overrun(cpu);
      }
    }
    return { entries, written: entries + overrun, overrun };
  }

  /**
   * Boot-time tracing from the command line (kmem runs it once the buddy
   * allocator is up, before kmem_cache_init(), so the slab's own boot
   * allocations are traced; Linux enables boot events later, in
   * trace_event_init()): no_hash_pointers, trace_buf_size=SIZE,
   * trace_options=[no]opt,..., trace_event=kmem:kmalloc,kmem:*,...
   */
  early_trace_init(cmdline: string): void {
    let events: string[] = [];
    for (const param of cmdline.split(/\s+/)) {
      if (param === 'no_hash_pointers') {
        if (!this.no_hash_pointers) for (const l of NO_HASH_POINTERS_BANNER) this.d.pr_warn(l);
        this.no_hash_pointers = true;
      } else if (param.startsWith('trace_buf_size=')) {
        const bytes = memparse(param.slice('trace_buf_size='.length));
        if (bytes > 0) this.set_buffer_size_kb(Math.max(4, Math.ceil(Math.max(4096, bytes) / 1024)));
      } else if (param.startsWith('trace_options=')) {
        for (const o of param.slice('trace_options='.length).split(',')) {
          if (o === '') continue;
          const on = !o.startsWith('no');
          this.set_option(on ? o : o.slice(2), on);
        }
      } else if (param.startsWith('trace_event=')) {
        events = events.concat(param.slice('trace_event='.length).split(',').filter((e) => e !== ''));
      }
    }
    for (const e of events) {
      const r = this.enable(e);
      if (r !== 0) this.d.pr_warn(`Failed to enable trace event: ${e}`);
    }
  }

  /* ---------------------------------------------------------------- */
  /* Call sites                                                        */
  /* ---------------------------------------------------------------- */

  /**
   * Name the caller of the slab calls that follow, as %pS prints it
   * ("scull_init" or "alloc_inode+0xa3/0xd0"); null: take it from the JS
   * stack again.
   */
  set_caller(site: string | null): void {
    this.caller = site === null ? 0 : this.siteAddress(site);
  }

  /** The kallsyms address a %pS text stands for (registering the symbol). */
  siteAddress(site: string): number {
    const known = this.callSites.get(site);
    if (known !== undefined) return known;
    const m = /^(.+)\+0x([0-9a-f]+)\/0x([0-9a-f]+)$/.exec(site);
    let addr: number;
    if (m) {
      const base = this.d.kallsyms.symbol(m[1], parseInt(m[3], 16));
      addr = base === 0 ? 0 : base + parseInt(m[2], 16);
    } else {
      addr = this.d.kallsyms.symbol(site);
    }
    this.callSites.set(site, addr);
    return addr;
  }

  /** _RET_IP_: the explicit caller, or the first JS frame outside the slab API. */
  private callSite(): number {
    if (this.caller !== 0) return this.caller;
    const E = Error as { stackTraceLimit?: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 24;
    const stack = new Error().stack ?? '';
    E.stackTraceLimit = limit;
    const lines = stack.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const m = FRAME_RE.exec(lines[i]);
      if (!m) continue;
      const file = m[2];
      if (SKIP_FILE_RE.test(file) || file.startsWith('node:')) continue;
      let fn = m[1] === undefined ? '<anonymous>' : m[1].replace(/^.*\./, '');
      if (SLAB_FILE_RE.test(file) && SLAB_API.has(fn)) continue;
      // Top-level module code (no function name): the module's file name, as a symbol of that module.
      if (fn === '<anonymous>' || fn === 'new') fn = file.replace(/^.*[/\\]/, '').replace(/\.[^.]*$/, '').replace(/\W/g, '_');
      const pos = `${fn}@${file}:${m[3]}:${m[4]}`;
      const known = this.callSites.get(pos);
      if (known !== undefined) return known;
      const k = this.callSiteCount.get(fn) ?? 0;
      this.callSiteCount.set(fn, k + 1);
      const base = this.d.kallsyms.symbol(fn, 0x100);
      const addr = base === 0 ? 0 : base + 0x10 * ((k % 15) + 1);
      this.callSites.set(pos, addr);
      return addr;
    }
    return 0;
  }

  /* ---------------------------------------------------------------- */
  /* Writing records                                                   */
  /* ---------------------------------------------------------------- */

  private updateHooks(): void {
    const on = (name: string) => this.is_enabled(name);
    const sh = this.d.slab.hooks;
    sh.kmalloc = on('kmalloc') ? this.tp_kmalloc : undefined;
    sh.kmem_cache_alloc = on('kmem_cache_alloc') ? this.tp_kmem_cache_alloc : undefined;
    sh.kfree = on('kfree') ? this.tp_kfree : undefined;
    sh.kmem_cache_free = on('kmem_cache_free') ? this.tp_kmem_cache_free : undefined;
    const ph = this.d.buddy.hooks;
    ph.mm_page_alloc = on('mm_page_alloc') ? this.tp_mm_page_alloc : undefined;
    ph.mm_page_free = on('mm_page_free') ? this.tp_mm_page_free : undefined;
    ph.mm_page_alloc_zone_locked = on('mm_page_alloc_zone_locked') ? this.tp_zone_locked : undefined;
    ph.mm_page_pcpu_drain = on('mm_page_pcpu_drain') ? this.tp_pcpu_drain : undefined;
    ph.mm_page_alloc_extfrag = on('mm_page_alloc_extfrag') ? this.tp_extfrag : undefined;
  }

  /**
   * trace_event_buffer_reserve(): a record of fieldsLen bytes of fields on
   * this CPU's buffer, with the context filled in; the fields' address, or
   * -1 while tracing_on is 0.
   */
  private begin(kind: number, fieldsLen: number): number {
    const rb = this.rb;
    if (rb === null || rb.nr_pages === 0 || rb.meta(RB_META_TRACING_ON) === 0) return -1;
    const mem = this.d.mem;
    const sched = this.d.sched;
    const cpu = sched.cpu;
    const ts = mem.read64(this.d.clockPa);
    mem.write64(this.d.clockPa, ts + TRACE_EVENT_NS);
    const pa = rb.reserve(cpu, (REC_FIELDS + fieldsLen + 7) & ~7, ts);
    const pc = sched.preempt_count();
    let flags = sched.irqs_disabled() ? TRACE_FLAG_IRQS_OFF : 0;
    if (pc & HARDIRQ_MASK) flags |= TRACE_FLAG_HARDIRQ;
    if (pc & SOFTIRQ_OFFSET) flags |= TRACE_FLAG_SOFTIRQ;
    if ((pc & SOFTIRQ_MASK) >> 9) flags |= TRACE_FLAG_BH_OFF;
    if (pc & NMI_MASK) flags |= TRACE_FLAG_NMI;
    const task = sched.current;
    const pid = task === 0 ? 0 : sched.pid(task);
    mem.write16(pa + REC_TYPE, EVENT_ID_BASE + kind);
    mem.write8(pa + REC_FLAGS, flags);
    mem.write8(pa + REC_PREEMPT, Math.min(pc & 0xff, 0xf));
    mem.write32(pa + REC_PID, pid);
    if (task !== 0) rb.record_cmdline(cpu, pid, () => sched.comm(task));
    return pa + REC_FIELDS;
  }

  private wptr(pa: number, v: number): void {
    this.d.mem.write32(pa, ptr64LoWord(v));
    this.d.mem.write32(pa + 4, ptr64HiWord(v));
  }

  private rptr(pa: number): number {
    return ptr64FromWords(this.d.mem.read32(pa), this.d.mem.read32(pa + 4));
  }

  /** A __string field: __data_loc at pa (offset from the fields' start << 0, length << 16), bytes at strOff. */
  private wstring(fields: number, locOff: number, strOff: number, bytes: Uint8Array): void {
    this.d.mem.write32(fields + locOff, ((bytes.length + 1) << 16) | strOff);
    this.d.mem.writeBytes(fields + strOff, bytes);
    this.d.mem.write8(fields + strOff + bytes.length, 0);
  }

  private slabAlloc(kind: number, ptr: number, bytesReq: number, bytesAlloc: number, gfp: number, node: number,
    accounted: boolean, name: Uint8Array | null): void {
    const callSite = this.callSite();
    const f = this.begin(kind, name === null ? SA_NAME : SA_NAME + 4 + name.length + 1);
    if (f < 0) return;
    const mem = this.d.mem;
    this.wptr(f + SA_CALL_SITE, callSite);
    this.wptr(f + SA_PTR, ptr);
    mem.write64(f + SA_BYTES_REQ, bytesReq);
    mem.write64(f + SA_BYTES_ALLOC, bytesAlloc);
    mem.write64(f + SA_GFP, gfp >>> 0);
    mem.write32(f + SA_NODE, node);
    mem.write32(f + SA_ACCOUNTED, accounted ? 1 : 0);
    if (name !== null) this.wstring(f, SA_NAME, SA_NAME + 4, name);
  }

  private readonly tp_kmalloc = (ptr: number, bytesReq: number, bytesAlloc: number, gfp: number, node: number): void => {
    this.slabAlloc(KMALLOC, ptr, bytesReq, bytesAlloc, gfp, node, (gfp & __GFP_ACCOUNT) !== 0, null);
  };

  private readonly tp_kmem_cache_alloc = (ptr: number, s: number, bytesReq: number, bytesAlloc: number, gfp: number,
    node: number, accounted: boolean): void => {
    this.slabAlloc(KMEM_CACHE_ALLOC, ptr, bytesReq, bytesAlloc, gfp, node, accounted, this.enc.encode(this.d.slab.cacheName(s)));
  };

  private readonly tp_kfree = (ptr: number): void => {
    const callSite = this.callSite();
    const f = this.begin(KFREE, 16);
    if (f < 0) return;
    this.wptr(f + SA_CALL_SITE, callSite);
    this.wptr(f + SA_PTR, ptr);
  };

  private readonly tp_kmem_cache_free = (ptr: number, s: number): void => {
    const callSite = this.callSite();
    const name = this.enc.encode(this.d.slab.cacheName(s));
    const f = this.begin(KMEM_CACHE_FREE, SF_NAME + 4 + name.length + 1);
    if (f < 0) return;
    this.wptr(f + SA_CALL_SITE, callSite);
    this.wptr(f + SA_PTR, ptr);
    this.wstring(f, SF_NAME, SF_NAME + 4, name);
  };

  private wpfn(pa: number, pfn: number): void {
    // unsigned long pfn; -1UL for a failed allocation
    if (pfn < 0) {
      this.d.mem.write32(pa, -1);
      this.d.mem.write32(pa + 4, -1);
    } else {
      this.d.mem.write64(pa, pfn);
    }
  }

  private readonly tp_mm_page_alloc = (pfn: number, order: number, gfp: number, mt: number): void => {
    const f = this.begin(MM_PAGE_ALLOC, 28);
    if (f < 0) return;
    this.wpfn(f + PG_PFN, pfn);
    this.d.mem.write32(f + PG_ORDER, order);
    this.d.mem.write64(f + PA_GFP, gfp >>> 0);
    this.d.mem.write32(f + PA_MT, mt);
  };

  private readonly tp_mm_page_free = (pfn: number, order: number): void => {
    const f = this.begin(MM_PAGE_FREE, 12);
    if (f < 0) return;
    this.wpfn(f + PG_PFN, pfn);
    this.d.mem.write32(f + PG_ORDER, order);
  };

  private readonly tp_zone_locked = (pfn: number, order: number, mt: number, percpuRefill: boolean): void => {
    const f = this.begin(MM_PAGE_ALLOC_ZONE_LOCKED, 20);
    if (f < 0) return;
    this.wpfn(f + PG_PFN, pfn);
    this.d.mem.write32(f + PG_ORDER, order);
    this.d.mem.write32(f + PZ_MT, mt);
    this.d.mem.write32(f + PZ_REFILL, percpuRefill ? 1 : 0);
  };

  private readonly tp_pcpu_drain = (pfn: number, order: number, mt: number): void => {
    const f = this.begin(MM_PAGE_PCPU_DRAIN, 16);
    if (f < 0) return;
    this.wpfn(f + PG_PFN, pfn);
    this.d.mem.write32(f + PG_ORDER, order);
    this.d.mem.write32(f + PZ_MT, mt);
  };

  private readonly tp_extfrag = (pfn: number, allocOrder: number, fallbackOrder: number, allocMt: number,
    fallbackMt: number, changeOwnership: boolean): void => {
    const f = this.begin(MM_PAGE_ALLOC_EXTFRAG, 28);
    if (f < 0) return;
    this.wpfn(f + PG_PFN, pfn);
    const mem = this.d.mem;
    mem.write32(f + EF_ALLOC_ORDER, allocOrder);
    mem.write32(f + EF_FALLBACK_ORDER, fallbackOrder);
    mem.write32(f + EF_ALLOC_MT, allocMt);
    mem.write32(f + EF_FALLBACK_MT, fallbackMt);
    mem.write32(f + EF_CHANGE_OWNERSHIP, changeOwnership ? 1 : 0);
  };

  /* ---------------------------------------------------------------- */
  /* Reading: the trace file                                           */
  /* ---------------------------------------------------------------- */

  /** %p of a pointer, as the trace prints it. */
  private p(ptr: number): string {
    const flags = this.rb === null ? DEFAULT_FLAGS : this.rb.meta(RB_META_FLAGS);
    if (this.no_hash_pointers || !(flags & TRACE_ITER_HASH_PTR)) return formatPtr(this.d.layout, ptr);
    return ptr_to_id(this.d.layout, ptr);
  }

  private gfpNames(): readonly TracePrintFlag[] {
    return this.format === '6.12' ? gfpflag_names : gfpflag_names_6_18;
  }

  private rstring(fields: number, locOff: number): string {
    const loc = this.d.mem.read32(fields + locOff);
    const len = (loc >>> 16) - 1;
    if (len <= 0) return '';
    return new TextDecoder().decode(this.d.mem.readBytes(fields + (loc & 0xffff), len));
  }

  /** pfn field: -1 (a failed allocation) as -1. */
  private rpfn(pa: number): number {
    const lo = this.d.mem.read32(pa);
    const hi = this.d.mem.read32(pa + 4);
    return lo === 0xffffffff && hi === 0xffffffff ? -1 : lo + hi * TWO32;
  }

  /** The page= and pfn= of the page events ("page=%p pfn=0x%lx"). */
  private pagePfn(pfn: number): string {
    if (pfn < 0) return `page=${this.p(0)} pfn=0x0`;
    return `page=${this.p(this.d.pages.pfn_to_page(pfn))} pfn=0x${pfn.toString(16)}`;
  }

  /** The TP_printk text of the record whose fields are at f. */
  private printFields(kind: number, f: number): string {
    const mem = this.d.mem;
    const ks = this.d.kallsyms;
    switch (kind) {
      case KMALLOC:
      case KMEM_CACHE_ALLOC: {
        const gfp = mem.read32(f + SA_GFP);
        const node = mem.read32(f + SA_NODE) | 0;
        const accounted = mem.read32(f + SA_ACCOUNTED) !== 0;
        const name = kind === KMEM_CACHE_ALLOC && this.format === '6.18' ? ` name=${this.rstring(f, SA_NAME)}` : '';
        return `call_site=${ks.sprint_symbol(this.rptr(f + SA_CALL_SITE))} ptr=${this.p(this.rptr(f + SA_PTR))}${name} ` +
          `bytes_req=${mem.read64(f + SA_BYTES_REQ)} bytes_alloc=${mem.read64(f + SA_BYTES_ALLOC)} ` +
          `gfp_flags=${show_gfp_flags(gfp, this.gfpNames())} node=${node} accounted=${accounted}`;
      }
      case KFREE:
        return `call_site=${ks.sprint_symbol(this.rptr(f + SA_CALL_SITE))} ptr=${this.p(this.rptr(f + SA_PTR))}`;
      case KMEM_CACHE_FREE:
        return `call_site=${ks.sprint_symbol(this.rptr(f + SA_CALL_SITE))} ptr=${this.p(this.rptr(f + SA_PTR))} ` +
          `name=${this.rstring(f, SF_NAME)}`;
      case MM_PAGE_ALLOC:
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} order=${mem.read32(f + PG_ORDER)} migratetype=${mem.read32(f + PA_MT) | 0} ` +
          `gfp_flags=${show_gfp_flags(mem.read32(f + PA_GFP), this.gfpNames())}`;
      case MM_PAGE_FREE:
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} order=${mem.read32(f + PG_ORDER)}`;
      case MM_PAGE_FREE_BATCHED:
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} order=0`;
      case MM_PAGE_ALLOC_ZONE_LOCKED:
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} order=${mem.read32(f + PG_ORDER)} migratetype=${mem.read32(f + PZ_MT) | 0} ` +
          `percpu_refill=${mem.read32(f + PZ_REFILL) | 0}`;
      case MM_PAGE_PCPU_DRAIN:
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} order=${mem.read32(f + PG_ORDER)} migratetype=${mem.read32(f + PZ_MT) | 0}`;
      case MM_PAGE_ALLOC_EXTFRAG: {
        const fallback = mem.read32(f + EF_FALLBACK_ORDER) | 0;
        return `${this.pagePfn(this.rpfn(f + PG_PFN))} alloc_order=${mem.read32(f + EF_ALLOC_ORDER) | 0} ` +
          `fallback_order=${fallback} pageblock_order=${this.d.pageblockOrder} ` +
          `alloc_migratetype=${mem.read32(f + EF_ALLOC_MT) | 0} fallback_migratetype=${mem.read32(f + EF_FALLBACK_MT) | 0} ` +
          `fragmenting=${fallback < this.d.pageblockOrder ? 1 : 0} change_ownership=${mem.read32(f + EF_CHANGE_OWNERSHIP) | 0}`;
      }
      default:
        return '';
    }
  }

  /**
   * Every record in the buffers, oldest first (the per-CPU buffers merged
   * by timestamp, the lower CPU first on a tie, as __find_next_entry()).
   */
  forEachRecord(fn: (cpu: number, pa: number, ts: number) => void): void {
    const rb = this.rb;
    if (rb === null || rb.nr_pages === 0) return;
    const cursors: RbCursor[] = [];
    for (let cpu = 0; cpu < this.d.nrCpus; cpu++) cursors.push(rb.cursor(cpu));
    for (;;) {
      let best = -1;
      for (let cpu = 0; cpu < cursors.length; cpu++) {
        const c = cursors[cpu];
        if (c.pa >= 0 && (best < 0 || c.ts < cursors[best].ts)) best = cpu;
      }
      if (best < 0) return;
      const c = cursors[best];
      fn(best, c.pa, c.ts);
      rb.advance(best, c);
    }
  }

  /** The records as objects (event context and TP_printk text). */
  records(): TraceRecord[] {
    const out: TraceRecord[] = [];
    const cmdlines = this.rb?.saved_cmdlines() ?? new Map<number, string>();
    this.forEachRecord((cpu, pa, ts) => {
      const kind = this.d.mem.read16(pa + REC_TYPE) - EVENT_ID_BASE;
      const pid = this.d.mem.read32(pa + REC_PID) | 0;
      out.push({
        cpu, ts, pid, comm: comm(pid, cmdlines), event: EVENT_NAMES[kind] ?? '?', fields: this.printFields(kind, pa + REC_FIELDS),
      });
    });
    return out;
  }

  /** The header of the trace file (trace_default_header(), irq-info on or off). */
  header(): string {
    const { entries, written } = this.entries();
    const head = `# tracer: nop\n#\n# entries-in-buffer/entries-written: ${entries}/${written}   #P:${this.d.nrCpus}\n#\n`;
    if (!this.option('irq-info')) {
      return head +
        '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n' +
        '#              | |         |         |         |\n';
    }
    return head +
      '#                                _-----=> irqs-off/BH-disabled\n' +
      '#                               / _----=> need-resched\n' +
      '#                              | / _---=> hardirq/softirq\n' +
      '#                              || / _--=> preempt-depth\n' +
      '#                              ||| / _-=> migrate-disable\n' +
      '#                              |||| /     delay\n' +
      '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
      '#              | |         |   |||||     |         |\n';
  }

  /** cat /sys/kernel/tracing/trace */
  read(): string {
    const parts: string[] = [this.header()];
    const irqInfo = this.option('irq-info');
    const cmdlines = this.rb?.saved_cmdlines() ?? new Map<number, string>();
    const mem = this.d.mem;
    this.forEachRecord((cpu, pa, ts) => {
      const kind = mem.read16(pa + REC_TYPE) - EVENT_ID_BASE;
      const pid = mem.read32(pa + REC_PID) | 0;
      let line = `${comm(pid, cmdlines).padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] `;
      if (irqInfo) line += lat_fmt(mem.read8(pa + REC_FLAGS), mem.read8(pa + REC_PREEMPT));
      const us = Math.floor((ts + 500) / 1000);
      const secs = Math.floor(us / 1e6);
      line += ` ${String(secs).padStart(5)}.${String(us - secs * 1e6).padStart(6, '0')}: `;
      line += `${EVENT_NAMES[kind] ?? '?'}: ${this.printFields(kind, pa + REC_FIELDS)}\n`;
      parts.push(line);
    });
    return parts.join('');
  }
}

/** trace_find_cmdline() */
function comm(pid: number, cmdlines: Map<number, string>): string {
  if (pid === 0) return '<idle>';
  return cmdlines.get(pid) ?? '<...>';
}

/** trace_print_lat_fmt(): irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable. */
export function lat_fmt(flags: number, preempt: number): string {
  const nmi = flags & TRACE_FLAG_NMI;
  const hardirq = flags & TRACE_FLAG_HARDIRQ;
  const softirq = flags & TRACE_FLAG_SOFTIRQ;
  const bhOff = flags & TRACE_FLAG_BH_OFF;
  const irqsOff = flags & TRACE_FLAG_IRQS_OFF && bhOff ? 'D' : flags & TRACE_FLAG_IRQS_OFF ? 'd' : bhOff ? 'b' : '.';
  const hs = nmi && hardirq ? 'Z' : nmi ? 'z' : hardirq && softirq ? 'H' : hardirq ? 'h' : softirq ? 's' : '.';
  return irqsOff + '.' + hs + (preempt & 0xf ? (preempt & 0xf).toString(16) : '.') + (preempt & 0xf0 ? (preempt >> 4).toString(16) : '.');
}

/** memparse(): "1441792", "1408K", "2M", "1G". */
export function memparse(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) return 0;
  const mul = { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mul;
}

