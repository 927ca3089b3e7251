/*
 * The trace ring buffer (kernel/trace/ring_buffer.c, simplified): one ring
 * of pages per CPU, in the machine's memory, allocated from the page
 * allocator as the kernel allocates its buffer pages. A writer appends
 * records to its CPU's tail page; when the ring is full the oldest page is
 * dropped (overwrite mode, the kernel's default) and its events count as
 * overrun. Readers walk each CPU's pages from the head and merge the CPUs
 * by timestamp (src/trace/events.ts).
 *
 * The meta block (struct trace_buffer + the per-CPU ring_buffer_per_cpu,
 * one allocation of 2^order pages, zeroed):
 *
 *   +0   u32 nr_cpus
 *   +4   u32 nr_pages          data pages per CPU (0: not allocated yet)
 *   +8   u32 enabled_events    bit per event (events/kmem/<name>/enable)
 *   +12  u32 trace_flags       TRACE_ITER_* bits (hash-ptr, irq-info)
 *   +16  u32 tracing_on        0 stops recording (the tracing_on file)
 *   +20  u32 buffer_size_kb    per CPU, as the buffer_size_kb file shows it
 *   +24  u32 cmdline_idx       next saved_cmdlines slot
 *   +64  per CPU, 64 bytes each:
 *        +0  u32 head_pfn      oldest page
 *        +4  u32 tail_pfn      the page being written
 *        +8  u64 entries       events in the buffer
 *        +16 u64 overrun       events dropped by overwriting
 *        +24 u32 first_pfn     where the ring was built (for freeing)
 *        +28 i32 last_pid      saved_cmdlines: the last pid recorded on this CPU
 *   then saved_cmdlines: SAVED_CMDLINES entries of { i32 pid; char comm[16] }
 *
 * A data page (the kernel's buffer_data_page, with the list link inside):
 *
 *   +0   u64 time_stamp        ts of the page's first event
 *   +8   u32 commit            bytes of events on the page
 *   +12  u32 entries           events on the page
 *   +16  u32 next_pfn          next page of this CPU's ring
 *   +24  data[PAGE_SIZE - 24]  records, 8-byte aligned
 *
 * A record (kmem's simpler layout: the kernel packs a 5-bit type_len and a
 * 27-bit time delta in a 4-byte header and adds time-extend events; kmem
 * stores the length and the absolute time):
 *
 *   +0   u32 len               bytes of the record, a multiple of 8
 *   +4   u32 reserved
 *   +8   u64 ts                ns of the trace clock
 *   +16  struct trace_entry    u16 type, u8 flags, u8 preempt_count, i32 pid
 *   +24  the event's fields (TP_STRUCT__entry, src/trace/events.ts)
 *
 * The JS object knows only where the meta block is; everything else is in
 * memory, so another view of the machine (a worker, a memory snapshot) can
 * read the buffer.
 */
import { PAGE_SIZE } from '../arch/x86/layout.ts';
import type { PhysMem } from '../machine/memory.ts';

export const RB_META_NR_CPUS = 0;
export const RB_META_NR_PAGES = 4;
export const RB_META_ENABLED = 8;
export const RB_META_FLAGS = 12;
export const RB_META_TRACING_ON = 16;
export const RB_META_BUFFER_KB = 20;
export const RB_META_CMDLINE_IDX = 24;
const RB_META_CPUS = 64;
const CPU_DESC = 64;
const C_HEAD = 0;
const C_TAIL = 4;
const C_ENTRIES = 8;
const C_OVERRUN = 16;
const C_FIRST = 24;
const C_LAST_PID = 28;

/** saved_cmdlines_size's default. */
export const SAVED_CMDLINES = 128;
const CMDLINE_BYTES = 20;
const TASK_COMM_LEN = 16;

export const BUF_PAGE_HDR = 24;
const P_TS = 0;
const P_COMMIT = 8;
const P_ENTRIES = 12;
const P_NEXT = 16;
/** Bytes of records a data page holds. */
export const BUF_PAGE_DATA = PAGE_SIZE - BUF_PAGE_HDR;

/** Record header: len, ts, then struct trace_entry. */
export const REC_LEN = 0;
export const REC_TS = 8;
export const REC_TYPE = 16;
export const REC_FLAGS = 18;
export const REC_PREEMPT = 19;
export const REC_PID = 20;
export const REC_FIELDS = 24;

/** The kernel's default per-CPU buffer: trace_buf_size=1441792 (1408 KiB). */
export const TRACE_BUF_SIZE_DEFAULT = 1441792;

/** Bytes of the meta block for nrCpus CPUs. */
export function metaBytes(nrCpus: number): number {
  return RB_META_CPUS + nrCpus * CPU_DESC + SAVED_CMDLINES * CMDLINE_BYTES;
}

/** The page allocator as the ring buffer needs it: order-N blocks by physical address. */
export interface RbPages {
  /** A block of 2^order pages (contents undefined): its physical address, or -1. */
  alloc(order: number): number;
  free(pa: number, order: number): void;
}

/** One record found by a reader: where it is and its timestamp. */
export interface RbCursor {
  /** Physical address of the current record, -1 at the end. */
  pa: number;
  ts: number;
  /** The page being read and the offset in its data. */
  pfn: number;
  off: number;
}

export class RingBuffer {
  constructor(
    private readonly mem: PhysMem,
    /** Physical address of the meta block. */
    readonly metaPa: number,
    readonly nrCpus: number,
  ) {}

  /** Lay out a fresh meta block (zeroed by the caller). */
  init(bufferKb: number, flags: number): void {
    this.mem.fill(this.metaPa, metaBytes(this.nrCpus), 0);
    this.mem.write32(this.metaPa + RB_META_NR_CPUS, this.nrCpus);
    this.mem.write32(this.metaPa + RB_META_BUFFER_KB, bufferKb);
    this.mem.write32(this.metaPa + RB_META_FLAGS, flags);
    this.mem.write32(this.metaPa + RB_META_TRACING_ON, 1);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.mem.write32(this.cpuPa(cpu) + C_LAST_PID, -1);
  }

  meta(off: number): number {
    return this.mem.read32(this.metaPa + off);
  }

  setMeta(off: number, v: number): void {
    this.mem.write32(this.metaPa + off, v);
  }

  private cpuPa(cpu: number): number {
    return this.metaPa + RB_META_CPUS + cpu * CPU_DESC;
  }

  get nr_pages(): number {
    return this.mem.read32(this.metaPa + RB_META_NR_PAGES);
  }

  /**
   * rb_allocate_pages(): nrPages data pages per CPU, linked into rings.
   * False (and nothing kept) if the page allocator runs out.
   */
  allocate(nrPages: number, pages: RbPages): boolean {
    const got: number[][] = [];
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const ring: number[] = [];
      got.push(ring);
      for (let i = 0; i < nrPages; i++) {
        const pa = pages.alloc(0);
        if (pa < 0) {
          for (const r of got) for (const p of r) pages.free(p, 0);
          return false;
        }
        ring.push(pa);
      }
    }
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const ring = got[cpu];
      for (let i = 0; i < ring.length; i++) {
        const pa = ring[i];
        this.mem.write64(pa + P_TS, 0);
        this.mem.write32(pa + P_COMMIT, 0);
        this.mem.write32(pa + P_ENTRIES, 0);
        this.mem.write32(pa + P_NEXT, ring[(i + 1) % ring.length] / PAGE_SIZE);
      }
      const c = this.cpuPa(cpu);
      const first = ring[0] / PAGE_SIZE;
      this.mem.write32(c + C_HEAD, first);
      this.mem.write32(c + C_TAIL, first);
      this.mem.write32(c + C_FIRST, first);
      this.mem.write64(c + C_ENTRIES, 0);
      this.mem.write64(c + C_OVERRUN, 0);
    }
    this.mem.write32(this.metaPa + RB_META_NR_PAGES, nrPages);
    return true;
  }

  /** Give every data page back (ring_buffer_free). */
  release(pages: RbPages): void {
    const n = this.nr_pages;
    if (n === 0) return;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      let pfn = this.mem.read32(this.cpuPa(cpu) + C_FIRST);
      for (let i = 0; i < n; i++) {
        const next = this.mem.read32(pfn * PAGE_SIZE + P_NEXT);
        pages.free(pfn * PAGE_SIZE, 0);
        pfn = next;
      }
    }
    this.mem.write32(this.metaPa + RB_META_NR_PAGES, 0);
  }

  /**
   * ring_buffer_lock_reserve() + commit, in one: room for a record of len
   * bytes (a multiple of 8, at most BUF_PAGE_DATA) on cpu's tail page,
   * dropping the oldest page when the ring is full. Returns the record's
   * physical address; the caller fills it in (len and ts are written here).
   */
  reserve(cpu: number, len: number, ts: number): number {
    const mem = this.mem;
    const c = this.cpuPa(cpu);
    let tail = mem.read32(c + C_TAIL) * PAGE_SIZE;
    let commit = mem.read32(tail + P_COMMIT);
    if (commit + len > BUF_PAGE_DATA) {
      const next = mem.read32(tail + P_NEXT);
      const head = mem.read32(c + C_HEAD);
      if (next === head) {
        // Full: the head page goes (rb_handle_head_page), its events are overrun.
        const lost = mem.read32(head * PAGE_SIZE + P_ENTRIES);
        mem.write64(c + C_OVERRUN, mem.read64(c + C_OVERRUN) + lost);
        mem.write64(c + C_ENTRIES, mem.read64(c + C_ENTRIES) - lost);
        mem.write32(c + C_HEAD, mem.read32(head * PAGE_SIZE + P_NEXT));
      }
      tail = next * PAGE_SIZE;
      mem.write32(c + C_TAIL, next);
      mem.write32(tail + P_COMMIT, 0);
      mem.write32(tail + P_ENTRIES, 0);
      commit = 0;
    }
    if (commit === 0) mem.write64(tail + P_TS, ts);
    const pa = tail + BUF_PAGE_HDR + commit;
    mem.write32(tail + P_COMMIT, commit + len);
    mem.write32(tail + P_ENTRIES, mem.read32(tail + P_ENTRIES) + 1);
    mem.write64(c + C_ENTRIES, mem.read64(c + C_ENTRIES) + 1);
    mem.write32(pa + REC_LEN, len);
    mem.write32(pa + 4, 0);
    mem.write64(pa + REC_TS, ts);
    return pa;
  }

  /** Events in cpu's buffer, and those dropped by overwriting. */
  entries(cpu: number): number {
    return this.mem.read64(this.cpuPa(cpu) + C_ENTRIES);
  }

  overrun(cpu: number): number {
    return this.mem.read64(this.cpuPa(cpu) + C_OVERRUN);
  }

  /** ring_buffer_reset(): every CPU's buffer empty, counters zero. */
  reset(): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const c = this.cpuPa(cpu);
      const tail = this.mem.read32(c + C_TAIL);
      if (this.nr_pages === 0) continue;
      this.mem.write32(c + C_HEAD, tail);
      this.mem.write32(tail * PAGE_SIZE + P_COMMIT, 0);
      this.mem.write32(tail * PAGE_SIZE + P_ENTRIES, 0);
      this.mem.write64(c + C_ENTRIES, 0);
      this.mem.write64(c + C_OVERRUN, 0);
    }
  }

  /** A reader positioned on cpu's oldest record. */
  cursor(cpu: number): RbCursor {
    const pfn = this.nr_pages === 0 ? 0 : this.mem.read32(this.cpuPa(cpu) + C_HEAD);
    const cur: RbCursor = { pa: -1, ts: 0, pfn, off: 0 };
    if (pfn !== 0) this.settle(cpu, cur);
    return cur;
  }

  /** Move the cursor past its record. */
  advance(cpu: number, cur: RbCursor): void {
    cur.off += this.mem.read32(cur.pa + REC_LEN);
    this.settle(cpu, cur);
  }

  /* Point cur at a record at or after (pfn, off), skipping used-up pages; pa -1 past the tail. */
  private settle(cpu: number, cur: RbCursor): void {
    const tail = this.mem.read32(this.cpuPa(cpu) + C_TAIL);
    for (;;) {
      const page = cur.pfn * PAGE_SIZE;
      if (cur.off < this.mem.read32(page + P_COMMIT)) {
        cur.pa = page + BUF_PAGE_HDR + cur.off;
        cur.ts = this.mem.read64(cur.pa + REC_TS);
        return;
      }
      if (cur.pfn === tail) {
        cur.pa = -1;
        return;
      }
      cur.pfn = this.mem.read32(page + P_NEXT);
      cur.off = 0;
    }
  }

  /**
   * tracing_record_cmdline(): remember pid's comm for the trace file's
   * TASK column, once per change of task on a CPU (the kernel records it
   * at sched_switch and when an event is written).
   */
  record_cmdline(cpu: number, pid: number, comm: () => string): void {
    const c = this.cpuPa(cpu);
    if ((this.mem.read32(c + C_LAST_PID) | 0) === pid) return;
    this.mem.write32(c + C_LAST_PID, pid);
    if (pid === 0) return;
    const base = this.metaPa + RB_META_CPUS + this.nrCpus * CPU_DESC;
    // Already saved?
    for (let i = 0; i < SAVED_CMDLINES; i++) {
      const e = base + i * CMDLINE_BYTES;
      if ((this.mem.read32(e) | 0) === pid && this.mem.read8(e + 4) !== 0) return;
    }
    const idx = this.mem.read32(this.metaPa + RB_META_CMDLINE_IDX) % SAVED_CMDLINES;
    const e = base + idx * CMDLINE_BYTES;
    this.mem.write32(e, pid);
    const bytes = new TextEncoder().encode(comm().slice(0, TASK_COMM_LEN - 1));
    this.mem.fill(e + 4, TASK_COMM_LEN, 0);
    this.mem.writeBytes(e + 4, bytes);
    this.mem.write32(this.metaPa + RB_META_CMDLINE_IDX, idx + 1);
  }

  /** saved_cmdlines as pid -> comm. */
  saved_cmdlines(): Map<number, string> {
    const out = new Map<number, string>();
    const base = this.metaPa + RB_META_CPUS + this.nrCpus * CPU_DESC;
    const dec = new TextDecoder();
    for (let i = 0; i < SAVED_CMDLINES; i++) {
      const e = base + i * CMDLINE_BYTES;
      const raw = this.mem.readBytes(e + 4, TASK_COMM_LEN);
      if (raw[0] === 0) continue;
      const end = raw.indexOf(0);
      out.set(this.mem.read32(e) | 0, dec.decode(raw.subarray(0, end < 0 ? TASK_COMM_LEN : end)));
    }
    return out;
  }
}
