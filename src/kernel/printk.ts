/*
 * The kernel log (kernel/printk/printk.c): printk() stores each message as a
 * record in a ring buffer in the machine's memory, __log_buf in the kernel's
 * .bss, 1 << CONFIG_LOG_BUF_SHIFT bytes (17: 128 KiB). When the buffer is
 * full the oldest records are overwritten. dmesg, /dev/kmsg and the console
 * read the records back.
 *
 * Linux 6.12 keeps records in the lockless printk_ringbuffer (a descriptor
 * ring plus a text data ring, printk_ringbuffer.c). kmem models the single
 * byte ring that preceded it (v3.5 to v5.9: struct printk_log records,
 * log_first_idx/log_next_idx, logbuf_lock), which has the same visible
 * behaviour: variable-length records, sequence numbers, oldest dropped first.
 * The record limits, prefix parsing, level defaults and output formats are
 * 6.12's.
 *
 * In memory at bufPa (header, then the byte ring):
 *
 *   +0   u32 magic       'kmsg' once initialized
 *   +4   i32 lock        logbuf_lock (0 free, 1 held), taken with Atomics
 *   +8   u32 log_buf_len bytes in the ring
 *   +12  u32 first_idx   ring offset of the oldest record
 *   +16  u32 next_idx    ring offset where the next record goes
 *   +24  u64 first_seq   sequence number of the oldest record
 *   +32  u64 next_seq    sequence number the next record gets
 *   +40  u64 dropped     records overwritten so far
 *   +64  ring[log_buf_len]
 *
 *   record (8-byte aligned, len = 24 + text_len rounded up to 8):
 *   +0   u64 seq
 *   +8   u64 ts_nsec
 *   +16  u16 len         0 marks "wrapped: the next record is at offset 0"
 *   +18  u16 text_len
 *   +20  u8  facility
 *   +21  u8  flags:5 (bits 0-4), level:3 (bits 5-7)
 *   +22  u16 (unused; dict_len in the old layout)
 *   +24  text (UTF-8, no terminator, no trailing newline)
 *
 *   ring while wrapped:
 *   0                next_idx       first_idx                wrap   len
 *   +----------------+--------------+------------------------+-----+
 *   | newer records  |     free     | older records          |0-len|
 *   +----------------+--------------+------------------------+-----+
 *
 * A record always leaves room for a 24-byte header after it, so a writer can
 * always mark the wrap (log_store's "additional empty header").
 *
 * Another thread attached to the same memory (Printk.attach) sees the same
 * log: writers and readers take the lock word in the header for the few
 * loads and stores of one record, as logbuf_lock did.
 *
 * Time: records carry the machine's clock, supplied by the caller. It is the
 * simulated clock (it advances per operation), never host time, so a run's
 * log is the same every time.
 */
import type { KmemAccess } from '../machine/kmem_access.ts';
import { PhysMem } from '../machine/memory.ts';

/* include/linux/kern_levels.h */
export const LOGLEVEL_DEFAULT = -1;
export const LOGLEVEL_EMERG = 0;
export const LOGLEVEL_ALERT = 1;
export const LOGLEVEL_CRIT = 2;
export const LOGLEVEL_ERR = 3;
export const LOGLEVEL_WARNING = 4;
export const LOGLEVEL_NOTICE = 5;
export const LOGLEVEL_INFO = 6;
export const LOGLEVEL_DEBUG = 7;
/** Start of a KERN_<LEVEL> prefix ("\x01" "6" is KERN_INFO, "\x01" "c" KERN_CONT). */
export const KERN_SOH = '\x01';

/** CONFIG_MESSAGE_LOGLEVEL_DEFAULT: the level of a printk without one. */
export const MESSAGE_LOGLEVEL_DEFAULT = 4;
/** CONFIG_CONSOLE_LOGLEVEL_DEFAULT: the console shows levels below this. */
export const CONSOLE_LOGLEVEL_DEFAULT = 7;

/** CONFIG_LOG_BUF_SHIFT default and the resulting __log_buf size. */
export const LOG_BUF_SHIFT = 17;
export const LOG_BUF_LEN = 1 << LOG_BUF_SHIFT;
/** LOG_BUF_SHIFT's Kconfig range is 12..25. */
export const LOG_BUF_LEN_MIN = 1 << 12;
export const LOG_BUF_LEN_MAX = 1 << 25;
/** The most a record may reserve, terminator included (kernel/printk/internal.h). */
export const PRINTKRB_RECORD_MAX = 1024;
/** So a record's text holds at most this many bytes; longer text is cut, as vscnprintf cuts it. */
export const LOG_LINE_MAX = PRINTKRB_RECORD_MAX - 1;

/* enum printk_info_flags */
export const LOG_NEWLINE = 2;
export const LOG_CONT = 8;

export const PRINTK_HEADER_BYTES = 64;
export const PRINTK_RECORD_HEADER = 24;
/** The largest record: header plus LOG_LINE_MAX bytes, 8-aligned. */
export const PRINTK_RECORD_MAX_BYTES = (PRINTK_RECORD_HEADER + LOG_LINE_MAX + 7) & ~7;

const MAGIC = 0x67736d6b; // 'kmsg' little-endian
const H_MAGIC = 0;
const H_LOCK = 4;
const H_LEN = 8;
const H_FIRST_IDX = 12;
const H_NEXT_IDX = 16;
const H_FIRST_SEQ = 24;
const H_NEXT_SEQ = 32;
const H_DROPPED = 40;

const R_SEQ = 0;
const R_TS = 8;
const R_LEN = 16;
const R_TEXT_LEN = 18;
const R_FACILITY = 20;
const R_FLAGS_LEVEL = 21;

const SPIN_LIMIT = 1 << 26;

export interface PrintkRecord {
  seq: number;
  tsNsec: number;
  level: number;
  facility: number;
  /** LOG_NEWLINE, LOG_CONT. */
  flags: number;
  text: string;
}

interface RawRecord extends PrintkRecord {
  bytes: Uint8Array;
}

export type ConsoleListener = (line: string, record: PrintkRecord) => void;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** "[    0.000000]": print_time(), seconds %5lu and microseconds %06lu. */
export function formatTimestamp(tsNsec: number): string {
  const sec = Math.floor(tsNsec / 1e9);
  const usec = Math.floor((tsNsec % 1e9) / 1000);
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}]`;
}

/** A record as record_print_text() lays it out: the prefix before every line. */
export function formatRecord(r: PrintkRecord): string {
  const prefix = formatTimestamp(r.tsNsec) + ' ';
  return r.text.split('\n').map((l) => prefix + l).join('\n');
}

function escapeExt(bytes: Uint8Array): string {
  let s = '';
  for (const c of bytes) {
    if (c < 0x20 || c >= 127 || c === 0x5c) s += '\\x' + c.toString(16).padStart(2, '0');
    else s += String.fromCharCode(c);
  }
  return s;
}

export class Printk {
  /** Called after each record whose level is below consoleLoglevel, with its console text. */
  console: ConsoleListener | null = null;
  /** console_loglevel ("loglevel=", "quiet" = 4, "debug" = 10, "ignore_loglevel" = 15). */
  consoleLoglevel = CONSOLE_LOGLEVEL_DEFAULT;
  /** pr_debug() stores records only when enabled (DEBUG defined or dynamic debug on). */
  debugEnabled = false;

  private lockWords: Int32Array;
  private readonly lockIndex: number;
  private readonly ring: number;
  readonly bufSize: number;

  /**
   * Set up an empty log at bufPa (the kernel's .bss at boot), or with
   * `attach`, use the log already there (it must have this bufSize).
   */
  constructor(
    readonly access: KmemAccess,
    readonly bufPa: number,
    bufSize: number,
    readonly clock: () => number,
    opts: { attach?: boolean } = {},
  ) {
    Printk.checkPlace(access, bufPa, bufSize);
    this.bufSize = bufSize;
    this.ring = bufPa + PRINTK_HEADER_BYTES;
    this.lockWords = access.mem.i32At(bufPa + H_LOCK);
    this.lockIndex = PhysMem.wordIndex(bufPa + H_LOCK);
    access.mem.onRebind(() => (this.lockWords = access.mem.i32At(bufPa + H_LOCK)));
    if (opts.attach) {
      const m = access.mem;
      if (m.read32(bufPa + H_MAGIC) !== MAGIC) throw new Error(`printk: no log buffer at 0x${bufPa.toString(16)}`);
      const len = m.read32(bufPa + H_LEN);
      if (len !== bufSize) throw new Error(`printk: the log buffer at 0x${bufPa.toString(16)} has ${len} bytes, not ${bufSize}`);
    } else this.init();
  }

  /** Attach to the log another Printk set up at bufPa (a worker sharing the machine's memory). */
  static attach(access: KmemAccess, bufPa: number, clock: () => number): Printk {
    if (bufPa % 8 !== 0 || !access.mem.isBacked(bufPa, PRINTK_HEADER_BYTES) || access.mem.read32(bufPa + H_MAGIC) !== MAGIC) {
      throw new Error(`printk: no log buffer at 0x${bufPa.toString(16)}`);
    }
    return new Printk(access, bufPa, access.mem.read32(bufPa + H_LEN), clock, { attach: true });
  }

  /** Bytes of memory a log with a bufSize-byte ring occupies (header included). */
  static layoutBytes(bufSize = LOG_BUF_LEN): number {
    return PRINTK_HEADER_BYTES + bufSize;
  }

  private static checkPlace(access: KmemAccess, bufPa: number, bufSize: number): void {
    if (!Number.isInteger(bufSize) || bufSize < LOG_BUF_LEN_MIN || bufSize > LOG_BUF_LEN_MAX || (bufSize & (bufSize - 1)) !== 0) {
      throw new RangeError(`printk: log buffer size ${bufSize} is not a power of two in [${LOG_BUF_LEN_MIN}, ${LOG_BUF_LEN_MAX}]`);
    }
    if (!Number.isInteger(bufPa) || bufPa % 8 !== 0) throw new RangeError(`printk: log buffer address 0x${bufPa.toString(16)} is not 8-byte aligned`);
    if (!access.mem.isBacked(bufPa, Printk.layoutBytes(bufSize))) {
      throw new RangeError(`printk: log buffer [0x${bufPa.toString(16)}+${Printk.layoutBytes(bufSize)}] is not in RAM`);
    }
  }

  private init(): void {
    const m = this.access.mem;
    m.fill(this.bufPa, PRINTK_HEADER_BYTES, 0);
    m.write32(this.bufPa + H_LEN, this.bufSize);
    m.write32(this.bufPa + H_MAGIC, MAGIC);
  }

  /* ------------------------------------------------------------ lock */

  private lock(): void {
    for (let spins = 0; Atomics.compareExchange(this.lockWords, this.lockIndex, 0, 1) !== 0; spins++) {
      if (spins > SPIN_LIMIT) throw new Error('printk: logbuf_lock held too long');
    }
  }

  private unlock(): void {
    Atomics.store(this.lockWords, this.lockIndex, 0);
  }

  /* ---------------------------------------------------------- header */

  get firstSeq(): number {
    return this.access.mem.read64(this.bufPa + H_FIRST_SEQ);
  }

  get nextSeq(): number {
    return this.access.mem.read64(this.bufPa + H_NEXT_SEQ);
  }

  /** Records overwritten to make room for newer ones. */
  get dropped(): number {
    return this.access.mem.read64(this.bufPa + H_DROPPED);
  }

  /* ---------------------------------------------------------- writing */

  printk(level: number, text: string): void {
    this.store(0, level, text);
  }

  pr_emerg(text: string): void { this.store(0, LOGLEVEL_EMERG, text); }
  pr_alert(text: string): void { this.store(0, LOGLEVEL_ALERT, text); }
  pr_crit(text: string): void { this.store(0, LOGLEVEL_CRIT, text); }
  pr_err(text: string): void { this.store(0, LOGLEVEL_ERR, text); }
  pr_warn(text: string): void { this.store(0, LOGLEVEL_WARNING, text); }
  pr_notice(text: string): void { this.store(0, LOGLEVEL_NOTICE, text); }
  pr_info(text: string): void { this.store(0, LOGLEVEL_INFO, text); }
  pr_debug(text: string): void {
    if (this.debugEnabled) this.store(0, LOGLEVEL_DEBUG, text);
  }

  /**
   * vprintk_store(): cut the text to LOG_LINE_MAX bytes, strip one trailing
   * newline (LOG_NEWLINE) and, for kernel messages (facility 0), leading
   * KERN_SOH level/KERN_CONT prefixes; a prefix's level applies only when
   * `level` is LOGLEVEL_DEFAULT. A level still unset becomes
   * MESSAGE_LOGLEVEL_DEFAULT. Returns the record's sequence number.
   *
   * Each call makes one record: a KERN_CONT fragment is kept as its own
   * record flagged LOG_CONT (what the kernel does when it cannot append).
   * Text with embedded newlines stays one record, printed as several lines.
   */
  store(facility: number, level: number, text: string): number {
    const ts = Math.max(0, Math.floor(this.clock()));
    let bytes = encoder.encode(text);
    if (bytes.length > LOG_LINE_MAX) bytes = bytes.subarray(0, LOG_LINE_MAX);
    let flags = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) {
      bytes = bytes.subarray(0, bytes.length - 1);
      flags |= LOG_NEWLINE;
    }
    if (level < 0) level = LOGLEVEL_DEFAULT;
    if (facility === 0) {
      while (bytes.length >= 2 && bytes[0] === 0x01) {
        const k = bytes[1];
        if (k >= 0x30 && k <= 0x37) {
          if (level === LOGLEVEL_DEFAULT) level = k - 0x30;
        } else if (k === 0x63) flags |= LOG_CONT;
        else break;
        bytes = bytes.subarray(2);
      }
    }
    if (level === LOGLEVEL_DEFAULT) level = MESSAGE_LOGLEVEL_DEFAULT;
    level &= 7;
    facility &= 0xff;

    const size = (PRINTK_RECORD_HEADER + bytes.length + 7) & ~7;
    let seq: number;
    this.lock();
    try {
      seq = this.logStore(size, ts, facility, flags, level, bytes);
    } finally {
      this.unlock();
    }
    if (this.console !== null && level < this.consoleLoglevel) {
      const rec: PrintkRecord = { seq, tsNsec: ts, level, facility, flags, text: decoder.decode(bytes) };
      this.console(formatRecord(rec), rec);
    }
    return seq;
  }

  /** log_store() under the lock: make room, wrap if needed, write. */
  private logStore(size: number, ts: number, facility: number, flags: number, level: number, text: Uint8Array): number {
    const m = this.access.mem;
    const h = this.bufPa;
    let firstIdx = m.read32(h + H_FIRST_IDX);
    let nextIdx = m.read32(h + H_NEXT_IDX);
    let firstSeq = m.read64(h + H_FIRST_SEQ);
    const nextSeq = m.read64(h + H_NEXT_SEQ);
    let dropped = 0;

    // log_make_free_space(): drop old records until there is contiguous room.
    while (firstSeq < nextSeq && !this.hasSpace(size, firstIdx, nextIdx, false)) {
      firstIdx = this.nextIndex(firstIdx);
      firstSeq++;
      dropped++;
    }
    // A record is at most PRINTK_RECORD_MAX_BYTES, and the ring at least 4 KiB: an empty ring always has room.
    if (!this.hasSpace(size, firstIdx, nextIdx, firstSeq === nextSeq)) throw new Error('printk: no room in an empty log buffer');

    if (nextIdx + size + PRINTK_RECORD_HEADER > this.bufSize) {
      // This record plus a wrap header does not fit at the end: mark the wrap.
      m.fill(this.ring + nextIdx, PRINTK_RECORD_HEADER, 0);
      nextIdx = 0;
    }
    const r = this.ring + nextIdx;
    m.write64(r + R_SEQ, nextSeq);
    m.write64(r + R_TS, ts);
    m.write16(r + R_LEN, size);
    m.write16(r + R_TEXT_LEN, text.length);
    m.write8(r + R_FACILITY, facility);
    m.write8(r + R_FLAGS_LEVEL, (flags & 0x1f) | (level << 5));
    m.write16(r + 22, 0);
    m.writeBytes(r + PRINTK_RECORD_HEADER, text);
    const pad = size - PRINTK_RECORD_HEADER - text.length;
    if (pad > 0) m.fill(r + PRINTK_RECORD_HEADER + text.length, pad, 0);

    m.write32(h + H_FIRST_IDX, firstIdx);
    m.write32(h + H_NEXT_IDX, nextIdx + size);
    m.write64(h + H_FIRST_SEQ, firstSeq);
    m.write64(h + H_NEXT_SEQ, nextSeq + 1);
    if (dropped > 0) m.write64(h + H_DROPPED, m.read64(h + H_DROPPED) + dropped);
    return nextSeq;
  }

  /** logbuf_has_space(): room for the record and a wrap header after it. */
  private hasSpace(size: number, firstIdx: number, nextIdx: number, empty: boolean): boolean {
    const free = nextIdx > firstIdx || empty ? Math.max(this.bufSize - nextIdx, firstIdx) : firstIdx - nextIdx;
    return free >= size + PRINTK_RECORD_HEADER;
  }

  /** Offset of the record at idx, following a wrap mark. */
  private recordAt(idx: number): number {
    return this.access.mem.read16(this.ring + idx + R_LEN) === 0 ? 0 : idx;
  }

  /** log_next(): the offset after the record at idx. */
  private nextIndex(idx: number): number {
    const at = this.recordAt(idx);
    return at + this.access.mem.read16(this.ring + at + R_LEN);
  }

  /* ---------------------------------------------------------- reading */

  private readAt(idx: number, seq: number): RawRecord {
    const m = this.access.mem;
    const r = this.ring + this.recordAt(idx);
    const got = m.read64(r + R_SEQ);
    if (got !== seq) throw new Error(`printk: log buffer corrupted (record ${got} where ${seq} belongs)`);
    const textLen = m.read16(r + R_TEXT_LEN);
    const fl = m.read8(r + R_FLAGS_LEVEL);
    const bytes = m.readBytes(r + PRINTK_RECORD_HEADER, textLen);
    return {
      seq,
      tsNsec: m.read64(r + R_TS),
      level: fl >>> 5,
      facility: m.read8(r + R_FACILITY),
      flags: fl & 0x1f,
      text: decoder.decode(bytes),
      bytes,
    };
  }

  /**
   * The records from fromSeq on (from the oldest still held, if fromSeq was
   * overwritten), read one at a time under the lock as syslog readers do;
   * records overwritten while iterating are skipped.
   */
  *rawRecords(fromSeq = 0): Generator<RawRecord> {
    let seq = fromSeq;
    let idx = -1;
    for (;;) {
      let rec: RawRecord;
      this.lock();
      try {
        const m = this.access.mem;
        const firstSeq = m.read64(this.bufPa + H_FIRST_SEQ);
        if (seq >= m.read64(this.bufPa + H_NEXT_SEQ)) return;
        if (seq < firstSeq || idx < 0) {
          idx = m.read32(this.bufPa + H_FIRST_IDX);
          if (seq < firstSeq) seq = firstSeq;
          for (let s = firstSeq; s < seq; s++) idx = this.nextIndex(idx);
        }
        rec = this.readAt(idx, seq);
        idx = this.nextIndex(idx);
      } finally {
        this.unlock();
      }
      yield rec;
      seq++;
    }
  }

  *records(fromSeq = 0): Generator<PrintkRecord> {
    for (const r of this.rawRecords(fromSeq)) {
      yield { seq: r.seq, tsNsec: r.tsNsec, level: r.level, facility: r.facility, flags: r.flags, text: r.text };
    }
  }

  /** What `dmesg` shows (SYSLOG_ACTION_READ_ALL): "[    0.000000] text" per line. */
  dmesg(fromSeq = 0): string {
    let out = '';
    for (const r of this.records(fromSeq)) out += formatRecord(r) + '\n';
    return out;
  }

  /**
   * What reading /dev/kmsg returns, one line per record:
   * "<facility*8+level>,<seq>,<ts_usec>,<-|c>;<text>", non-printable bytes and
   * backslashes escaped as \xNN (info_print_ext_header, msg_add_ext_text).
   */
  kmsg(fromSeq = 0): string {
    let out = '';
    for (const r of this.rawRecords(fromSeq)) {
      const prefix = (r.facility << 3) | r.level;
      const usec = Math.floor(r.tsNsec / 1000);
      out += `${prefix},${r.seq},${usec},${r.flags & LOG_CONT ? 'c' : '-'};${escapeExt(r.bytes)}\n`;
    }
    return out;
  }
}
