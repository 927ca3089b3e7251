/*
 * A streaming parser for ftrace's text output of the kmem events
 * (/sys/kernel/tracing/trace, /sys/kernel/debug/tracing/trace on older
 * kernels, and trace-cmd report's close cousin of it):
 *
 *   # tracer: nop
 *   #
 *   # entries-in-buffer/entries-written: 212524/212524   #P:2
 *   ...
 *        capture3.sh-7212    [001] .....   596.514984: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache
 *               init-1     [000] .N..     0.170000: kfree: call_site=c10c283a ptr=  (null)
 *
 * Feed it text in chunks of any size, as strings or bytes (UTF-8, decoded
 * with a streaming TextDecoder); it calls back once per kmem event with a
 * reused record (src/trace/kmem_events.ts) and keeps nothing of the text
 * but the unfinished last line. Splitting the input anywhere gives the same
 * events and the same counts.
 *
 * Each line is one of:
 * - a header or comment line ('#'): the tracer, the entries-in-buffer/
 *   entries-written counts, #P: (CPUs), the legend's latency columns and
 *   TGID column are read from it (TraceHeader); also trace-cmd's "cpus=N";
 * - "CPU:N [LOST M EVENTS]": M is added to stats.lost_events;
 * - an event line: "<comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<usecs>: <event>: <fields>".
 *   The comm may contain spaces and dashes: the pid is the digits before the
 *   last '-' ahead of the "[cpu]" column. The latency flags column (4 or 5
 *   characters, or none) and the TGID column are optional. A timestamp
 *   without a '.' (counter clocks) is taken as ns. Fields are key=value
 *   pairs read by name, so their order, extra fields (name= on 6.18's
 *   kmem_cache_alloc) and missing optional ones (node=, accounted=, name= on
 *   old kernels) do not matter; a value may follow padding ("ptr=  (null)"),
 *   and tokens without '=' (trace-cmd's "(sym+off)") are skipped. Events
 *   that are not kmem events are counted by name (stats.other_events);
 * - anything else, or a kmem event missing a field it needs or with a value
 *   that is not a number where one is due: a bad line, counted with its
 *   reason, the first few kept as examples. Never an exception.
 *
 * gfp_flags are read with parse_gfp_flags() (src/include/trace/events/
 * mmflags.ts): names of either table order, hex leftovers, and the pre-4.6
 * spellings. A name neither knows (a config-dependent one such as
 * __GFP_NOLOCKDEP, or a newer kernel's) does not lose the event: it adds no
 * bits and is counted in stats.unknown_gfp. Whether a line comes from a
 * pre-4.6 kernel (where a lone GFP_NOWAIT is 0, and only some hex bits kept
 * their place) is decided per line unless the caller says
 * (options.legacy_gfp): yes if its gfp text uses an old spelling (GFP_ZERO),
 * or it has a raw-hex call_site and no accounted=, or a decimal pfn. (So a
 * 4.6-5.x trace, which also prints raw call sites, reads a lone GFP_NOWAIT
 * as 0 too; pass legacy_gfp: false for such a trace.)
 *
 * Speed: no regular expression and no substring per event line. The parser
 * walks the chunk with charCodeAt from line start to line end, in place (a
 * line is only copied when it straddles two chunks); it finds a field name
 * by a hash computed while scanning to its '=', reads numbers digit by
 * digit, and interns repeated strings straight from the chunk
 * (StringTable). About 200 MB/s, 1.2-1.4 M events/s in Node 20
 * (bench/trace_parse.ts, BENCHMARKS.md).
 *
 * Ordering: the events come out in the order of the lines. ftrace's trace
 * file merges the per-CPU buffers by timestamp, so they are in time order
 * (the shared trace has no step backwards); the parser does not check.
 */
import {
  EV_KMALLOC_NODE, EV_KMEM_CACHE_ALLOC_NODE, EV_MM_PAGE_FREE_DIRECT, EV_MM_PAGEVEC_FREE,
  EVENT_KIND, EVENT_NAMES, F_ACCOUNTED, F_ALLOC_MIGRATETYPE, F_ALLOC_ORDER, F_BYTES_ALLOC,
  F_BYTES_REQ, F_CALL_SITE, F_CHANGE_OWNERSHIP, F_COLD, F_FALLBACK_MIGRATETYPE, F_FALLBACK_ORDER,
  F_FRAGMENTING, F_GFP_FLAGS, F_MIGRATETYPE, F_NAME, F_NODE, F_ORDER, F_PAGE, F_PAGEBLOCK_ORDER,
  F_PERCPU_REFILL, F_PFN, F_PTR, KFREE, KMALLOC, KMEM_CACHE_ALLOC, KMEM_CACHE_FREE, KmemRecord,
  MM_PAGE_ALLOC, MM_PAGE_ALLOC_EXTFRAG, MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_FREE,
  MM_PAGE_FREE_BATCHED, MM_PAGE_PCPU_DRAIN, NR_EVENT_TYPES, PTR_INTERNED_BASE, REQUIRED_FIELDS,
  type KmemEvent,
} from './kmem_events.ts';
import { gfpflag_names, gfpflag_names_6_18, parse_gfp_flags } from '../include/trace/events/mmflags.ts';
import { StringTable } from './string_table.ts';

/** What the '#' header says. -1 / '' where it says nothing. */
export interface TraceHeader {
  /** "# tracer: nop" */
  tracer: string;
  /** "# entries-in-buffer/entries-written: N/M": N events are in the file... */
  entries_in_buffer: number;
  /** ...of M written (M > N: the ring buffer overwrote M - N). */
  entries_written: number;
  /** "#P:2": the number of CPUs. */
  ncpus: number;
  /** The legend's latency flag columns (5 on 5.13+, 4 before, 0 without irq-info). */
  latency_columns: number;
  /** The legend has a TGID column. */
  tgid: boolean;
}

export interface BadLine {
  /** 1-based line number. */
  line: number;
  reason: string;
  /** The line's first 160 characters. */
  text: string;
}

export interface ParseStats {
  /** Lines seen (the last one counts even without a newline). */
  lines: number;
  /** kmem events handed to the callback. */
  events: number;
  /** Events by type code (EVENT_NAMES); by_type_names() gives them by name. */
  by_type: number[];
  /** Header and comment lines ('#', trace-cmd's "cpus=N"). */
  comment_lines: number;
  blank_lines: number;
  /** Events the kernel reported lost ("CPU:N [LOST M EVENTS]"). */
  lost_events: number;
  /** Well-formed event lines of other events (sched_switch, rss_stat, ...), by name. */
  other_events: Map<string, number>;
  /** Lines not understood. */
  bad_lines: number;
  /** bad_lines by reason. */
  bad_reasons: Map<string, number>;
  /** The first few bad lines. */
  bad_examples: BadLine[];
  /** gfp flag names no table knows, with how many events carried each. */
  unknown_gfp: Map<string, number>;
  /** The input ended in the middle of a line (no final newline). */
  truncated: boolean;
}

export interface ParseOptions {
  /**
   * How to read gfp_flags: true for a pre-4.6 kernel's trace, false for a
   * newer one, 'auto' (default) to decide per line (see the header).
   */
  legacy_gfp?: 'auto' | boolean;
  /** How many bad lines to keep as examples (default 10). */
  max_examples?: number;
  /** Longer lines are bad lines, and are not buffered beyond this (default 16384). */
  max_line_length?: number;
  /**
   * A last line without a newline: 'drop' (default) counts it as a bad line
   * ("truncated"), since ftrace ends every line with one and a cut file
   * ends mid-line; 'parse' reads it like the others.
   */
  partial_last_line?: 'drop' | 'parse';
}

export interface ParseResult {
  header: TraceHeader;
  stats: ParseStats;
}

export type EventCallback = (e: KmemEvent) => void;

/* ---------------------------------------------------------------- */

const SPACE = 32;
const TAB = 9;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const RBRACKET = 93;
const RPAREN = 41;
const HASH = 35;
const CR = 13;
const ZERO = 48;
const NINE = 57;
const EQUALS = 61;
const BOM = 0xfeff;

const EXAMPLE_CHARS = 160;

const POW10 = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];

/** Event names by length, for matching in place. */
const EVENTS_BY_LENGTH: [string, number][][] = (() => {
  const t: [string, number][][] = [];
  EVENT_NAMES.forEach((name, type) => (t[name.length] ??= []).push([name, type]));
  return t;
})();

/* Value of a hex digit character code, or -1. */
const HEX_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 0; c < 10; c++) t[48 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[65 + c] = 10 + c;
    t[97 + c] = 10 + c;
  }
  return t;
})();

/* Characters of the latency flags column (trace_print_lat_fmt, any version). */
const FLAG_CHARS = (() => {
  const t = new Uint8Array(128);
  for (const c of '.dDXbNnpLlBzZhHsS0123456789abcdef') t[c.charCodeAt(0)] = 1;
  return t;
})();

/* gfp names either current table prints: any other GFP_* token is an old (pre-4.6) spelling. */
const MODERN_GFP_NAMES = new Set([...gfpflag_names, ...gfpflag_names_6_18].map((f) => f.name));

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** Decimal integer in s[a, b), optional '-'; NaN if anything else. */
function parseDec(s: string, a: number, b: number): number {
  let neg = false;
  if (a < b && s.charCodeAt(a) === DASH) {
    neg = true;
    a++;
  }
  if (a >= b || b - a > 15) return NaN;
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Hex integer in s[a, b) (no prefix), up to 13 digits (exact); NaN otherwise. */
function parseHexSmall(s: string, a: number, b: number): number {
  if (a >= b || b - a > 13) return NaN;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? HEX_VALUE[c] : -1;
    if (d < 0) return NaN;
    v = v * 16 + d;
  }
  return v;
}

/** Whether s[a, b) is all hex digits (a raw %lx call site). */
function allHex(s: string, a: number, b: number): boolean {
  if (a >= b) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HEX_VALUE[c] < 0) return false;
  }
  return true;
}

function emptyStats(): ParseStats {
  return {
    lines: 0,
    events: 0,
    by_type: new Array<number>(NR_EVENT_TYPES).fill(0),
    comment_lines: 0,
    blank_lines: 0,
    lost_events: 0,
    other_events: new Map(),
    bad_lines: 0,
    bad_reasons: new Map(),
    bad_examples: [],
    unknown_gfp: new Map(),
    truncated: false,
  };
}

/** stats.by_type as { event name: count }, leaving out zeros. */
export function by_type_names(stats: ParseStats): Record<string, number> {
  const out: Record<string, number> = {};
  stats.by_type.forEach((n, type) => {
    if (n > 0) out[EVENT_NAMES[type]] = n;
  });
  return out;
}

const MAX_OTHER_EVENT_NAMES = 1000;

/* The field names of the kmem events, K_* being each one's index. */
const KEYS = [
  'call_site', 'ptr', 'name', 'bytes_req', 'bytes_alloc', 'gfp_flags', 'node', 'accounted', 'page', 'pfn',
  'order', 'migratetype', 'percpu_refill', 'alloc_order', 'fallback_order', 'pageblock_order',
  'alloc_migratetype', 'fallback_migratetype', 'fragmenting', 'change_ownership', 'cold',
];
const K_CALL_SITE = 0;
const K_PTR = 1;
const K_NAME = 2;
const K_BYTES_REQ = 3;
const K_BYTES_ALLOC = 4;
const K_GFP_FLAGS = 5;
const K_NODE = 6;
const K_ACCOUNTED = 7;
const K_PAGE = 8;
const K_PFN = 9;
const K_ORDER = 10;
const K_MIGRATETYPE = 11;
const K_PERCPU_REFILL = 12;
const K_ALLOC_ORDER = 13;
const K_FALLBACK_ORDER = 14;
const K_PAGEBLOCK_ORDER = 15;
const K_ALLOC_MIGRATETYPE = 16;
const K_FALLBACK_MIGRATETYPE = 17;
const K_FRAGMENTING = 18;
const K_CHANGE_OWNERSHIP = 19;
const K_COLD = 20;

/*
 * The keys by their hash (h = h * 31 + c over the name, as fields() computes
 * it while scanning) in an open-addressed table of 64 slots: the slot holds
 * key index + 1, KEY_HASH and KEY_LENGTH the values to match. A garbage key
 * would have to match a field name's 32-bit hash and length to be taken for
 * it.
 */
const KEY_SLOTS = new Int8Array(64);
const KEY_HASH = new Int32Array(KEYS.length);
const KEY_LENGTH = new Int8Array(KEYS.length);
KEYS.forEach((key, i) => {
  let h = 0;
  for (let j = 0; j < key.length; j++) h = (Math.imul(h, 31) + key.charCodeAt(j)) | 0;
  KEY_HASH[i] = h;
  KEY_LENGTH[i] = key.length;
  let slot = h & 63;
  while (KEY_SLOTS[slot] !== 0) slot = (slot + 1) & 63;
  KEY_SLOTS[slot] = i + 1;
});

/* The K_* index of the key with this hash and length, or -1. */
function findKey(h: number, length: number): number {
  let slot = h & 63;
  for (;;) {
    const k = KEY_SLOTS[slot] - 1;
    if (k < 0) return -1;
    if (KEY_HASH[k] === h && KEY_LENGTH[k] === length) return k;
    slot = (slot + 1) & 63;
  }
}

/**
 * The parser. new TraceParser(onEvent), then feed() chunks, then end().
 * The record passed to onEvent is reused for the next event.
 */
export class TraceParser {
  readonly header: TraceHeader = {
    tracer: '', entries_in_buffer: -1, entries_written: -1, ncpus: -1, latency_columns: -1, tgid: false,
  };
  readonly stats: ParseStats = emptyStats();

  /** comm strings (record.comm_id indexes this). */
  readonly comms = new StringTable();
  /** call_site strings (record.call_site_id). */
  readonly call_sites = new StringTable();
  /** Cache names (record.name_id). */
  readonly names = new StringTable();
  /** gfp_flags texts (record.gfp_id). */
  readonly gfps = new StringTable();
  /** Latency flag columns. */
  readonly flag_strings = new StringTable();

  private readonly rec = new KmemRecord();
  private readonly onEvent: EventCallback;
  private readonly legacyOption: 'auto' | boolean;
  private readonly maxExamples: number;
  private readonly maxLine: number;
  private readonly parseLastLine: boolean;

  private decoder: TextDecoder | null = null;
  private carry = '';
  /* The current line is over-long: its first characters, and skip to the next newline. */
  private overlong: string | null = null;
  private ended = false;

  /* Per gfp text (by gfp id): bits read as current, as pre-4.6, whether it has an old spelling, unknown names. */
  private gfpModern: number[] = [];
  private gfpLegacy: number[] = [];
  private gfpOld: boolean[] = [];
  private gfpUnknown: (string[] | null)[] = [];
  /* Per call site (by id): printed as a bare hex address (%lx, before ~5.5). */
  private callSiteRaw: boolean[] = [];
  /* Pointers outside the exact range, by their text: id. */
  private bigPtrs = new Map<string, number>();

  /* Set while parsing a line. */
  private reason = '';
  private pfnDecimal = false;
  private pos = 0;
  /*
   * The last search for a space (and for a '[') in the string being parsed:
   * from spaceFrom, found at spaceAt (its length: none). A search that runs
   * past its line's end is kept, so that the following lines, which lie
   * before that point, do not repeat it: without this, a chunk of lines
   * that lack the character would cost a scan to the chunk's end per line.
   * resetSearches() forgets them when the parser moves to another string.
   */
  private spaceFrom = 0;
  private spaceAt = -1;
  private bracketFrom = 0;
  private bracketAt = -1;

  constructor(onEvent: EventCallback, options: ParseOptions = {}) {
    this.onEvent = onEvent;
    this.legacyOption = options.legacy_gfp ?? 'auto';
    this.maxExamples = options.max_examples ?? 10;
    this.maxLine = options.max_line_length ?? 16384;
    this.parseLastLine = options.partial_last_line === 'parse';
  }

  /** Parse a chunk: text, or bytes of UTF-8 (a character split across chunks is fine). */
  feed(chunk: string | Uint8Array): void {
    if (this.ended) throw new Error('TraceParser: feed() after end()');
    if (typeof chunk === 'string') {
      this.feedText(chunk);
    } else {
      this.decoder ??= new TextDecoder('utf-8');
      this.feedText(this.decoder.decode(chunk, { stream: true }));
    }
  }

  /** End of input: the last line, if it had no newline. Returns the header and the counts. */
  end(): ParseResult {
    if (!this.ended) {
      if (this.decoder) this.feedText(this.decoder.decode());
      this.ended = true;
      if (this.overlong !== null) {
        this.stats.lines++;
        this.stats.truncated = true;
        this.bad(this.overlong, 'line too long');
        this.overlong = null;
      } else if (this.carry !== '') {
        const line = this.carry;
        this.carry = '';
        this.stats.truncated = true;
        if (this.parseLastLine) {
          this.resetSearches();
          this.line(line, 0, line.length);
        } else {
          this.stats.lines++;
          this.bad(line, 'truncated (no newline at the end of the input)');
        }
      }
    }
    return { header: this.header, stats: this.stats };
  }

  /** Everything in one string (or the whole file's bytes). */
  parseAll(text: string | Uint8Array): ParseResult {
    this.feed(text);
    return this.end();
  }

  private feedText(t: string): void {
    const n = t.length;
    let pos = 0;
    this.resetSearches();
    if (this.overlong !== null || this.carry !== '') {
      const nl = t.indexOf('\n');
      if (nl < 0) {
        this.hold(t, 0);
        return;
      }
      if (this.overlong !== null) {
        this.stats.lines++;
        this.bad(this.overlong + t.slice(0, Math.min(nl, EXAMPLE_CHARS)), 'line too long');
        this.overlong = null;
      } else if (this.carry.length + nl > this.maxLine) {
        this.stats.lines++;
        this.bad(this.carry + t.slice(0, Math.min(nl, EXAMPLE_CHARS)), 'line too long');
      } else {
        const line = this.carry + t.slice(0, nl);
        this.carry = '';
        this.line(line, 0, line.length);
        this.resetSearches();
      }
      this.carry = '';
      pos = nl + 1;
    }
    while (pos < n) {
      const nl = t.indexOf('\n', pos);
      if (nl < 0) {
        this.hold(t, pos);
        return;
      }
      if (nl - pos > this.maxLine) {
        this.stats.lines++;
        this.bad(t, 'line too long', pos, nl);
      } else {
        this.line(t, pos, nl);
      }
      pos = nl + 1;
    }
  }

  /* Keep t[pos..] (no newline in it) for the next chunk, up to the line limit. */
  private hold(t: string, pos: number): void {
    if (this.overlong !== null) {
      if (this.overlong.length < EXAMPLE_CHARS) this.overlong += t.slice(pos, pos + EXAMPLE_CHARS);
      return;
    }
    const carry = this.carry + t.slice(pos);
    if (carry.length > this.maxLine) {
      this.overlong = carry.slice(0, EXAMPLE_CHARS);
      this.carry = '';
    } else {
      this.carry = carry;
    }
  }

  private bad(text: string, reason: string, a = 0, b = text.length): void {
    const st = this.stats;
    st.bad_lines++;
    st.bad_reasons.set(reason, (st.bad_reasons.get(reason) ?? 0) + 1);
    if (st.bad_examples.length < this.maxExamples) {
      st.bad_examples.push({ line: st.lines, reason, text: text.slice(a, Math.min(b, a + EXAMPLE_CHARS)) });
    }
  }

  /* One line, s[a, b), without its '\n'. */
  private line(s: string, a: number, b: number): void {
    const st = this.stats;
    st.lines++;
    if (b > a && s.charCodeAt(b - 1) === CR) b--;
    let p = a;
    while (p < b) {
      const c = s.charCodeAt(p);
      if (c !== SPACE && c !== TAB && c !== BOM) break;
      p++;
    }
    if (p === b) {
      st.blank_lines++;
      return;
    }
    const c0 = s.charCodeAt(p);
    if (c0 === HASH) {
      st.comment_lines++;
      this.headerLine(s.slice(p, b));
      return;
    }
    if (c0 === 67 /* C */ && s.startsWith('CPU:', p)) {
      const m = /^CPU:\d+ \[LOST (\d+) EVENTS\]$/.exec(s.slice(p, b));
      if (m) {
        st.comment_lines++;
        st.lost_events += Number(m[1]);
        return;
      }
    }
    if (c0 === 99 /* c */ && s.startsWith('cpus=', p)) {
      const n = parseDec(s, p + 5, b);
      if (n >= 0) {
        st.comment_lines++;
        if (this.header.ncpus < 0) this.header.ncpus = n;
        return;
      }
    }
    const r = this.eventLine(s, p, b);
    if (r === 1) {
      st.events++;
      st.by_type[this.rec.type]++;
      this.onEvent(this.rec as unknown as KmemEvent);
    } else if (r === 0) {
      this.bad(s, this.reason, p, b);
    }
  }

  private headerLine(h: string): void {
    const hd = this.header;
    let m = /^#\s*tracer:\s*(\S+)/.exec(h);
    if (m) {
      hd.tracer = m[1];
      return;
    }
    m = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/.exec(h);
    if (m) {
      hd.entries_in_buffer = Number(m[1]);
      hd.entries_written = Number(m[2]);
      const p = /#P:(\d+)/.exec(h);
      if (p) hd.ncpus = Number(p[1]);
      return;
    }
    if (/TASK-PID/.test(h)) {
      hd.tgid = /TGID/.test(h);
      const cols = /CPU#\s+(\|+)/.exec(h);
      hd.latency_columns = cols ? cols[1].length : 0;
    }
  }

  /*
   * An event line from its first non-blank character p to b: 1 = a kmem
   * event (in this.rec), 2 = another event, 0 = not understood (this.reason).
   */
  private eventLine(s: string, p: number, b: number): number {
    const rec = this.rec;

    /* The "[cpu]" column: '[' after a blank, digits, ']'. */
    let lb = p;
    let cpu = -1;
    let q = p;
    for (;;) {
      lb = this.nextBracket(s, q);
      if (lb >= b) {
        this.reason = 'no [cpu] column';
        return 0;
      }
      q = lb + 1;
      if (lb === p) continue;
      const before = s.charCodeAt(lb - 1);
      if (before !== SPACE && before !== TAB) continue;
      let r = lb + 1;
      let v = 0;
      while (r < b && isDigit(s.charCodeAt(r))) v = v * 10 + s.charCodeAt(r++) - ZERO;
      if (r === lb + 1 || r >= b || s.charCodeAt(r) !== RBRACKET || r - lb > 8) continue;
      cpu = v;
      q = r + 1;
      break;
    }

    /* Back from the bracket: blanks, an optional "(tgid)", blanks, the pid, '-', the comm. */
    let e = lb - 1;
    while (e > p && (s.charCodeAt(e) === SPACE || s.charCodeAt(e) === TAB)) e--;
    let tgid = -1;
    if (s.charCodeAt(e) === RPAREN) {
      let lp = e - 1;
      while (lp > p && s.charCodeAt(lp) !== 40 /* ( */) lp--;
      if (lp <= p) {
        this.reason = 'bad TGID column';
        return 0;
      }
      let i = lp + 1;
      while (i < e && s.charCodeAt(i) === SPACE) i++;
      if (s.charCodeAt(i) !== DASH) {
        tgid = parseDec(s, i, e);
        if (!(tgid >= 0)) {
          this.reason = 'bad TGID column';
          return 0;
        }
      }
      e = lp - 1;
      while (e > p && (s.charCodeAt(e) === SPACE || s.charCodeAt(e) === TAB)) e--;
    }
    let d = e;
    while (d > p && isDigit(s.charCodeAt(d))) d--;
    if (d === e || s.charCodeAt(d) !== DASH || e - d > 10) {
      this.reason = 'no comm-pid before [cpu]';
      return 0;
    }
    const pid = parseDec(s, d + 1, e + 1);

    /* After the bracket: [flags] timestamp ':' */
    while (q < b && s.charCodeAt(q) === SPACE) q++;
    let t0 = q;
    while (q < b && s.charCodeAt(q) !== SPACE) q++;
    let flagsA = 0;
    let flagsB = 0;
    if (q > t0 && s.charCodeAt(q - 1) !== COLON) {
      /* A latency flags column. */
      if (q - t0 > 8) {
        this.reason = 'bad latency flags';
        return 0;
      }
      for (let i = t0; i < q; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128 || FLAG_CHARS[c] === 0) {
          this.reason = 'bad latency flags';
          return 0;
        }
      }
      flagsA = t0;
      flagsB = q;
      while (q < b && s.charCodeAt(q) === SPACE) q++;
      t0 = q;
      while (q < b && s.charCodeAt(q) !== SPACE) q++;
    }
    /* The timestamp: secs[.frac]: */
    if (q - t0 < 2 || s.charCodeAt(q - 1) !== COLON) {
      this.reason = 'no timestamp';
      return 0;
    }
    let ts = 0;
    {
      let i = t0;
      let secs = 0;
      while (i < q - 1 && isDigit(s.charCodeAt(i))) secs = secs * 10 + s.charCodeAt(i++) - ZERO;
      if (i === t0) {
        this.reason = 'no timestamp';
        return 0;
      }
      if (i - t0 > 15) {
        this.reason = 'bad timestamp';
        return 0;
      }
      if (i < q - 1) {
        if (s.charCodeAt(i) !== DOT) {
          this.reason = 'bad timestamp';
          return 0;
        }
        i++;
        const f0 = i;
        let frac = 0;
        while (i < q - 1 && isDigit(s.charCodeAt(i))) {
          if (i - f0 < 9) frac = frac * 10 + s.charCodeAt(i) - ZERO;
          i++;
        }
        if (i !== q - 1 || i === f0) {
          this.reason = 'bad timestamp';
          return 0;
        }
        ts = secs * 1e9 + frac * POW10[Math.min(i - f0, 9)];
      } else {
        ts = secs; /* a counter clock: no unit, taken as ns */
      }
    }

    /* The event name and its ':' */
    while (q < b && s.charCodeAt(q) === SPACE) q++;
    const n0 = q;
    while (q < b) {
      const c = s.charCodeAt(q);
      if (c === COLON || c === SPACE) break;
      q++;
    }
    if (q === n0 || q >= b || s.charCodeAt(q) !== COLON) {
      this.reason = 'no event name';
      return 0;
    }
    const nameLen = q - n0;
    let type = -1;
    const candidates = EVENTS_BY_LENGTH[nameLen];
    if (candidates !== undefined) {
      for (let i = 0; i < candidates.length; i++) {
        if (s.startsWith(candidates[i][0], n0)) {
          type = candidates[i][1];
          break;
        }
      }
    }
    if (type < 0) {
      return this.otherEvent(s, n0, q);
    }
    q++;

    /* The context columns are good: fill the record. */
    rec.reset();
    rec.type = type;
    const kind = EVENT_KIND[type];
    rec.kind = kind;
    rec.line = this.stats.lines;
    const lastComm = rec.comm;
    if (d - p !== lastComm.length || rec.comm_id < 0 || !s.startsWith(lastComm, p)) {
      rec.comm_id = this.comms.intern(s, p, d);
      rec.comm = this.comms.strings[rec.comm_id];
    }
    rec.pid = pid;
    rec.tgid = tgid;
    rec.cpu = cpu;
    if (flagsB === flagsA) {
      rec.flags = '';
    } else if (flagsB - flagsA !== rec.flags.length || !s.startsWith(rec.flags, flagsA)) {
      rec.flags = this.flag_strings.strings[this.flag_strings.intern(s, flagsA, flagsB)];
    }
    rec.ts = ts;
    this.pfnDecimal = false;

    /* key=value fields */
    const seen = this.fields(s, q, b);
    if (seen < 0) return 0;
    const need = REQUIRED_FIELDS[kind];
    if ((seen & need) !== need) {
      this.reason = `${EVENT_NAMES[type]}: missing ${missingField(need & ~seen)}`;
      return 0;
    }
    rec.fields = seen;

    /* Old or new kernel, and the gfp bits in that light. */
    let legacy: boolean;
    if (this.legacyOption === 'auto') {
      legacy = this.pfnDecimal
        || (rec.gfp_id >= 0 && this.gfpOld[rec.gfp_id])
        || (rec.call_site_id >= 0 && (seen & F_ACCOUNTED) === 0 && this.callSiteRaw[rec.call_site_id]);
    } else {
      legacy = this.legacyOption;
    }
    rec.legacy = legacy;
    if (rec.gfp_id >= 0) {
      const id = rec.gfp_id;
      rec.gfp_flags = legacy ? this.gfpLegacy[id] : this.gfpModern[id];
      const unknown = this.gfpUnknown[id];
      if (unknown !== null) {
        for (const name of unknown) this.stats.unknown_gfp.set(name, (this.stats.unknown_gfp.get(name) ?? 0) + 1);
      }
    }
    return 1;
  }

  /* A well-formed line of an event this parser does not read. */
  private otherEvent(s: string, n0: number, n1: number): number {
    const m = this.stats.other_events;
    let name = s.slice(n0, n1);
    if (!m.has(name) && m.size >= MAX_OTHER_EVENT_NAMES) name = '(other)';
    m.set(name, (m.get(name) ?? 0) + 1);
    return 2;
  }

  /*
   * The key=value fields from q to the line's end b: the F_* bits of those
   * seen, or -1 for a bad value (this.reason). A key is scanned up to its
   * '=' with a running hash, which finds it in KEY_SLOTS (hash and length
   * must both match); keys no kmem event has, and tokens without '=', are
   * skipped.
   */
  private fields(s: string, q: number, b: number): number {
    const rec = this.rec;
    let seen = 0;
    let v = 0;
    while (q < b) {
      let c = s.charCodeAt(q);
      while (c === SPACE) {
        if (++q >= b) return seen;
        c = s.charCodeAt(q);
      }
      const k0 = q;
      let h = 0;
      while (c !== EQUALS && c !== SPACE) {
        h = (Math.imul(h, 31) + c) | 0;
        if (++q >= b) return seen; /* a last token without '=' */
        c = s.charCodeAt(q);
      }
      if (c === SPACE) continue; /* a token without '=', such as trace-cmd's "(sym+off)" */
      const key = findKey(h, q - k0);
      const v0 = q + 1;
      let bit = 0;
      switch (key) {
        case K_CALL_SITE: {
          const v1 = this.wordEnd(s, v0, b);
          if (v1 === v0) return this.badValue('call_site');
          const id = this.call_sites.intern(s, v0, v1);
          /* %lx of old kernels: bare hex ("0x..." is %pS finding no symbol) */
          if (id === this.callSiteRaw.length) this.callSiteRaw.push(allHex(s, v0, v1));
          rec.call_site_id = id;
          rec.call_site = this.call_sites.strings[id];
          this.pos = v1;
          bit = F_CALL_SITE;
          break;
        }
        case K_PTR:
          v = this.pointer(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('ptr');
          rec.ptr = v;
          bit = F_PTR;
          break;
        case K_NAME: {
          const v1 = this.wordEnd(s, v0, b);
          rec.name_id = this.names.intern(s, v0, v1);
          rec.name = this.names.strings[rec.name_id];
          this.pos = v1;
          bit = F_NAME;
          break;
        }
        case K_BYTES_REQ:
          v = this.dec(s, v0, b);
          if (!(v >= 0)) return this.badValue('bytes_req');
          rec.bytes_req = v;
          bit = F_BYTES_REQ;
          break;
        case K_BYTES_ALLOC:
          v = this.dec(s, v0, b);
          if (!(v >= 0)) return this.badValue('bytes_alloc');
          rec.bytes_alloc = v;
          bit = F_BYTES_ALLOC;
          break;
        case K_GFP_FLAGS: {
          const v1 = this.wordEnd(s, v0, b);
          if (v1 === v0) return this.badValue('gfp_flags');
          const id = this.gfps.intern(s, v0, v1);
          if (id === this.gfpModern.length) this.learnGfp(this.gfps.strings[id]);
          rec.gfp_id = id;
          rec.gfp = this.gfps.strings[id];
          this.pos = v1;
          bit = F_GFP_FLAGS;
          break;
        }
        case K_NODE:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('node');
          rec.node = v;
          bit = F_NODE;
          break;
        case K_ACCOUNTED: {
          const v1 = this.wordEnd(s, v0, b);
          if (v1 - v0 === 4 && s.startsWith('true', v0)) rec.accounted = true;
          else if (v1 - v0 === 5 && s.startsWith('false', v0)) rec.accounted = false;
          else return this.badValue('accounted');
          this.pos = v1;
          bit = F_ACCOUNTED;
          break;
        }
        case K_PAGE:
          v = this.pointer(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('page');
          rec.page = v;
          bit = F_PAGE;
          break;
        case K_PFN:
          if (s.charCodeAt(v0) === ZERO && s.charCodeAt(v0 + 1) === 120 /* x */) {
            v = this.pointer(s, v0 + 2, b);
            if (v < 0) v = -1; /* 0xffffffffffffffff: -1UL */
          } else {
            v = this.dec(s, v0, b);
            this.pfnDecimal = true;
          }
          if (Number.isNaN(v)) return this.badValue('pfn');
          rec.pfn = v;
          bit = F_PFN;
          break;
        case K_ORDER:
          v = this.dec(s, v0, b);
          if (!(v >= 0)) return this.badValue('order');
          rec.order = v;
          bit = F_ORDER;
          break;
        case K_MIGRATETYPE:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('migratetype');
          rec.migratetype = v;
          bit = F_MIGRATETYPE;
          break;
        case K_PERCPU_REFILL:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('percpu_refill');
          rec.percpu_refill = v;
          bit = F_PERCPU_REFILL;
          break;
        case K_ALLOC_ORDER:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('alloc_order');
          rec.alloc_order = v;
          bit = F_ALLOC_ORDER;
          break;
        case K_FALLBACK_ORDER:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('fallback_order');
          rec.fallback_order = v;
          bit = F_FALLBACK_ORDER;
          break;
        case K_PAGEBLOCK_ORDER:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('pageblock_order');
          rec.pageblock_order = v;
          bit = F_PAGEBLOCK_ORDER;
          break;
        case K_ALLOC_MIGRATETYPE:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('alloc_migratetype');
          rec.alloc_migratetype = v;
          bit = F_ALLOC_MIGRATETYPE;
          break;
        case K_FALLBACK_MIGRATETYPE:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('fallback_migratetype');
          rec.fallback_migratetype = v;
          bit = F_FALLBACK_MIGRATETYPE;
          break;
        case K_FRAGMENTING:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('fragmenting');
          rec.fragmenting = v;
          bit = F_FRAGMENTING;
          break;
        case K_CHANGE_OWNERSHIP:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('change_ownership');
          rec.change_ownership = v;
          bit = F_CHANGE_OWNERSHIP;
          break;
        case K_COLD:
          v = this.dec(s, v0, b);
          if (Number.isNaN(v)) return this.badValue('cold');
          rec.cold = v;
          bit = F_COLD;
          break;
        default:
          /* a key no kmem event has: skip its value */
          this.pos = this.wordEnd(s, v0, b);
      }
      q = this.pos;
      seen |= bit;
    }
    return seen;
  }

  /* Where the word starting at a ends: the next space, or b. */
  private wordEnd(s: string, a: number, b: number): number {
    let e = this.spaceAt;
    if (a > e || a < this.spaceFrom) {
      e = s.indexOf(' ', a);
      if (e < 0) e = s.length;
      this.spaceFrom = a;
      this.spaceAt = e;
    }
    return e > b ? b : e;
  }

  private resetSearches(): void {
    this.spaceAt = -1;
    this.bracketAt = -1;
  }

  /* The next '[' from a, or s.length; remembered like wordEnd's space. */
  private nextBracket(s: string, a: number): number {
    let e = this.bracketAt;
    if (a > e || a < this.bracketFrom) {
      e = s.indexOf('[', a);
      if (e < 0) e = s.length;
      this.bracketFrom = a;
      this.bracketAt = e;
    }
    return e;
  }

  /*
   * A decimal integer (optional '-') from a up to a space or b; NaN if
   * anything else is in the way. Leaves its end in this.pos.
   */
  private dec(s: string, a: number, b: number): number {
    let i = a;
    let neg = false;
    if (i < b && s.charCodeAt(i) === DASH) {
      neg = true;
      i++;
    }
    const d0 = i;
    let v = 0;
    let c = 0;
    while (i < b) {
      c = s.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
      i++;
    }
    this.pos = i;
    if (i === d0 || i - d0 > 15 || (i < b && c !== SPACE)) return NaN;
    return neg ? -v : v;
  }

  private badValue(key: string): number {
    this.reason = `${EVENT_NAMES[this.rec.type]}: bad ${key}= value`;
    return -1;
  }

  /*
   * A %p value from a up to a space or b, as a number (see kmem_events.ts):
   * padding before it is skipped ("ptr=  (null)"); "(null)" and zeros are
   * 0; an optional 0x; up to 16 hex digits read as a signed 64-bit value,
   * exact within 2^53 of 0, interned above PTR_INTERNED_BASE otherwise. NaN
   * if not a pointer. Leaves its end in this.pos.
   */
  private pointer(s: string, a: number, b: number): number {
    while (a < b && s.charCodeAt(a) === SPACE) a++;
    if (s.startsWith('(null)', a)) {
      this.pos = a + 6;
      return this.pos === b || s.charCodeAt(this.pos) === SPACE ? 0 : NaN;
    }
    if (s.charCodeAt(a) === ZERO && (s.charCodeAt(a + 1) | 32) === 120) a += 2;
    let i = a;
    let v = 0;
    while (i < b) {
      const c = s.charCodeAt(i);
      const d = c < 128 ? HEX_VALUE[c] : -1;
      if (d < 0) {
        if (c !== SPACE) {
          this.pos = i;
          return NaN;
        }
        break;
      }
      v = v * 16 + d;
      i++;
    }
    this.pos = i;
    const n = i - a;
    if (n === 0 || n > 16) return NaN;
    if (v < 9007199254740992) return v; /* below 2^53: every step was exact */
    const hi = parseHexSmall(s, a, i - 8);
    const lo = parseHexSmall(s, i - 8, i);
    if (n === 16 && hi >= 0xffe00000) return (hi - 4294967296) * 4294967296 + lo;
    const key = s.slice(a, i).toLowerCase().padStart(16, '0');
    let id = this.bigPtrs.get(key);
    if (id === undefined) {
      id = PTR_INTERNED_BASE + 2 * (this.bigPtrs.size + 1);
      this.bigPtrs.set(key, id);
    }
    return id;
  }

  /* Read a gfp text once: its bits both ways, its old spellings, its unknown names. */
  private learnGfp(text: string): void {
    let old = false;
    for (const token of text.split('|')) {
      if (token.startsWith('GFP_') && !MODERN_GFP_NAMES.has(token)) old = true;
    }
    const read = (legacy: boolean, unknown: string[] | null): number => {
      const whole = parse_gfp_flags(text, legacy);
      if (whole !== null) return whole;
      let bits = 0;
      for (const token of text.split('|')) {
        const v = parse_gfp_flags(token, legacy);
        if (v === null) unknown?.push(token);
        else bits |= v;
      }
      return bits >>> 0;
    };
    const unknown: string[] = [];
    const modern = read(false, unknown);
    this.gfpModern.push(modern);
    this.gfpLegacy.push(read(true, null));
    this.gfpOld.push(old);
    this.gfpUnknown.push(unknown.length > 0 ? unknown : null);
  }
}

const FIELD_NAMES: [number, string][] = [
  [F_CALL_SITE, 'call_site'], [F_PTR, 'ptr'], [F_BYTES_REQ, 'bytes_req'], [F_BYTES_ALLOC, 'bytes_alloc'],
  [F_GFP_FLAGS, 'gfp_flags'], [F_PAGE, 'page'], [F_PFN, 'pfn'], [F_ORDER, 'order'],
  [F_MIGRATETYPE, 'migratetype'], [F_ALLOC_ORDER, 'alloc_order'], [F_FALLBACK_ORDER, 'fallback_order'],
  [F_ALLOC_MIGRATETYPE, 'alloc_migratetype'], [F_FALLBACK_MIGRATETYPE, 'fallback_migratetype'],
];

function missingField(bits: number): string {
  for (const [bit, name] of FIELD_NAMES) if (bits & bit) return name + '=';
  return 'a field';
}

/** Parse a whole text (or a whole file's bytes) at once. */
export function parse_trace_text(text: string | Uint8Array, onEvent: EventCallback, options?: ParseOptions): ParseResult {
  return new TraceParser(onEvent, options).parseAll(text);
}

/**
 * Parse a stream of chunks: a web ReadableStream (fetch().body, a
 * DecompressionStream's output, Node's Readable.toWeb) or any async
 * iterable of strings or bytes (a Node Readable).
 */
export async function parse_trace_stream(
  source: ReadableStream<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  onEvent: EventCallback,
  options?: ParseOptions,
): Promise<ParseResult> {
  const parser = new TraceParser(onEvent, options);
  if ('getReader' in source) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    for await (const chunk of source) parser.feed(chunk);
  }
  return parser.end();
}

/* The event type codes, re-exported for callers that only import the parser. */
export {
  EV_KMALLOC_NODE, EV_KMEM_CACHE_ALLOC_NODE, EV_MM_PAGE_FREE_DIRECT, EV_MM_PAGEVEC_FREE,
  KFREE, KMALLOC, KMEM_CACHE_ALLOC, KMEM_CACHE_FREE, MM_PAGE_ALLOC, MM_PAGE_ALLOC_EXTFRAG,
  MM_PAGE_ALLOC_ZONE_LOCKED, MM_PAGE_FREE, MM_PAGE_FREE_BATCHED, MM_PAGE_PCPU_DRAIN,
};
