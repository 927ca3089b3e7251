/*
 * Properties of the trace parser (fast-check): random, binary, mutated and
 * truncated input never throws and every line is accounted for; splitting
 * the input anywhere, as text or as bytes, gives the same events and counts;
 * a record printed the way Linux 6.18 prints it parses back to itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { __GFP_BITS_MASK } from '../../src/include/linux/gfp_types.ts';
import { gfpflag_names_6_18, show_gfp_flags } from '../../src/include/trace/events/mmflags.ts';
import { event_object, EVENT_NAMES, format_event_fields } from '../../src/trace/kmem_events.ts';
import { TraceParser, type ParseOptions, type ParseResult } from '../../src/trace/parse.ts';

/* Lines of every format the parser reads, and a few it must not. */
const CORPUS = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 212524/212524   #P:2',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '     capture3.sh-7212    [001] .....   596.514984: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache',
  '     capture3.sh-7212    [001] .....   596.514989: mm_page_alloc: page=00000000210f10c5 pfn=0x107459 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP',
  '     capture3.sh-7212    [001] .....   596.515029: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 ptr=000000007f48480c name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true',
  '     capture3.sh-7212    [001] .....   596.515032: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true',
  '     capture3.sh-7212    [001] .....   596.515076: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000',
  '          mktemp-7213    [000] .....   596.516104: mm_page_free: page=00000000b06656ae pfn=0x107422 order=0',
  '          mktemp-7213    [000] d..1.   596.515552: kmem_cache_alloc: call_site=xas_alloc+0xab/0xe0 ptr=00000000abd1d41c name=radix_tree_node bytes_req=576 bytes_alloc=584 gfp_flags=GFP_NOWAIT|__GFP_ACCOUNT node=-1 accounted=true',
  '            init-1     [000] .N..     0.170000: kmalloc: call_site=c104de4f ptr=c143de20 bytes_req=29 bytes_alloc=32 gfp_flags=GFP_KERNEL',
  '            init-1     [000] .N..     0.170000: kfree: call_site=c10c283a ptr=  (null)',
  '            init-1     [000] .N..     0.170000: kmem_cache_free: call_site=c10c226b ptr=c163a850',
  '            init-1     [000] .N..     0.180000: kmalloc_node: call_site=c104dd54 ptr=c1607ef0 bytes_req=22 bytes_alloc=30 gfp_flags=GFP_KERNEL node=-1',
  '            init-1     [000] .N..     0.180000: kmem_cache_alloc_node: call_site=c10b86a3 ptr=c1608000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL|GFP_ZERO node=-1',
  '  gnome-terminal-1567  [000]  4415.246506: mm_page_alloc: page=ffffea0003db9f40 pfn=1155800 order=0 migratetype=0 gfp_flags=GFP_KERNEL',
  ' irq/35-firewire-273881 [002] 373149.138580: kmalloc: (fw_core_handle_request+0x7b) call_site=fw_core_handle_request+0x7b ptr=0xffff99e93f007300 bytes_req=155 bytes_alloc=192 gfp_flags=GFP_ATOMIC',
  'make-16810 [004] .....  2319.000857: mm_page_alloc:        page=0xffffea00001347a7 pfn=0x1347a7 order=0 migratetype=1 gfp_flags=0x152c4a',
  'k-1 [000] d..2. 1.000002: mm_page_alloc_extfrag: page=0000000011111111 pfn=0x1000 alloc_order=0 fallback_order=9 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=0 change_ownership=1',
  '  bash-1234  (   1234) [001] d..2. 12.000001: kfree: call_site=foo+0x1/0x2 ptr=ff11000012345678',
  'a-1 [000] ..... 1.000000: sched_switch: prev_comm=a prev_pid=1 ==> next_comm=b',
  'CPU:1 [LOST 12 EVENTS]',
  'make-16810 [004] ...1.  2319.000878: kmalloc:              call_site=virtio_fs_enqueue_req+0x131 ptr=0xffff888101a9d9c0 bytes_req=56bytes_alloc=64 gfp_flags=0x820 node=-1 accounted=false',
  'garbage',
  '',
];

/** A parse's events and counts, as plain data that deepEqual can compare. */
function run(chunks: (string | Uint8Array)[], options?: ParseOptions) {
  const events: string[] = [];
  const p = new TraceParser((e) => events.push(JSON.stringify(event_object(e))), options);
  for (const c of chunks) p.feed(c);
  const r = p.end();
  return { events, ...plain(r) };
}

function plain(r: ParseResult) {
  const s = r.stats;
  return {
    header: r.header,
    stats: {
      ...s,
      other_events: [...s.other_events],
      bad_reasons: [...s.bad_reasons],
      unknown_gfp: [...s.unknown_gfp],
    },
  };
}

/** Every line is an event, a comment, a blank, another event or a bad line. */
function accounted(r: ReturnType<typeof run>): void {
  const s = r.stats;
  const others = s.other_events.reduce((n, [, c]) => n + c, 0);
  assert.equal(s.lines, s.events + s.comment_lines + s.blank_lines + others + s.bad_lines);
  assert.equal(s.events, r.events.length);
  assert.equal(s.by_type.reduce((a, b) => a + b, 0), s.events);
  assert.equal(s.bad_reasons.reduce((n, [, c]) => n + c, 0), s.bad_lines);
}

/** Cut text (or bytes) at the given points. */
function split<T extends string | Uint8Array>(whole: T, cuts: number[]): T[] {
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const out: T[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(whole.slice(prev, p) as T);
    prev = p;
  }
  out.push(whole.slice(prev) as T);
  return out;
}

const corpusLine = fc.constantFrom(...CORPUS);
const noise = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...' []-.:=|()#\r\t0123456789abcdefx_GFPN'), maxLength: 120 }),
);
/** A trace-like text: corpus lines, noise, and corpus lines with noise spliced in. */
const traceText = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: corpusLine },
    { weight: 1, arbitrary: noise },
    { weight: 2, arbitrary: fc.tuple(corpusLine, fc.nat(), noise).map(([l, at, n]) => l.slice(0, at % (l.length + 1)) + n + l.slice(at % (l.length + 1))) },
  ),
  { maxLength: 40 },
).chain((lines) => fc.tuple(fc.constant(lines), fc.constantFrom('\n', '\r\n'), fc.boolean()))
  .map(([lines, eol, finalEol]) => lines.join(eol) + (finalEol ? eol : ''));

test('random text never throws, and every line is accounted for', () => {
  fc.assert(fc.property(traceText, fc.constantFrom<ParseOptions>({}, { partial_last_line: 'parse' }), (text, opts) => {
    accounted(run([text], opts));
  }), { numRuns: 400 });
});

test('random bytes never throw', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
    accounted(run(chunks));
  }), { numRuns: 300 });
});

test('truncated input: any prefix of a trace never throws, and loses at most its last line', () => {
  const text = CORPUS.join('\n') + '\n';
  const whole = run([text]);
  const wholeLines = text.split('\n').length - 1;
  assert.equal(whole.stats.lines, wholeLines);
  fc.assert(fc.property(fc.nat({ max: text.length }), (cut) => {
    const r = run([text.slice(0, cut)]);
    accounted(r);
    const completeLines = text.slice(0, cut).split('\n').length - 1;
    /* The complete lines give exactly the events they gave in the whole text. */
    const before = whole.events.filter((e) => (JSON.parse(e) as { line: number }).line <= completeLines);
    assert.deepEqual(r.events, before);
  }), { numRuns: 300 });
});

test('mutated real lines never throw', () => {
  fc.assert(fc.property(corpusLine, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffff })), { minLength: 1, maxLength: 4 }), (line, edits) => {
    const chars = [...line];
    for (const [at, code] of edits) chars[at % (chars.length + 1)] = String.fromCharCode(code);
    accounted(run([chars.join('') + '\n']));
  }), { numRuns: 500 });
});

test('chunk boundaries do not matter: text split anywhere', () => {
  fc.assert(fc.property(traceText, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
    assert.deepEqual(run(split(text, cuts)), run([text]));
  }), { numRuns: 300 });
});

test('chunk boundaries do not matter: bytes split anywhere, even inside a UTF-8 character', () => {
  const multibyte = fc.constantFrom('é', '€', '𝄞', '\u0000', '\ufffd');
  const text = fc.tuple(traceText, fc.array(fc.tuple(fc.nat(), multibyte), { maxLength: 5 })).map(([t, inserts]) => {
    let s = t;
    for (const [at, ch] of inserts) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + ch + s.slice(i);
    }
    return s;
  });
  fc.assert(fc.property(text, fc.array(fc.nat(), { maxLength: 12 }), (t, cuts) => {
    const bytes = new TextEncoder().encode(t);
    assert.deepEqual(run(split(bytes, cuts)), run([bytes]));
    /* Bytes and their text read alike (lone surrogates in t became U+FFFD in the bytes). */
    assert.deepEqual(run([bytes]), run([new TextDecoder().decode(bytes)]));
  }), { numRuns: 300 });
});

test('chunk boundaries do not matter for over-long lines either', () => {
  fc.assert(fc.property(traceText, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 300 }), (text, cuts, max) => {
    const opts = { max_line_length: max };
    assert.deepEqual(run(split(text, cuts), opts), run([text], opts));
  }), { numRuns: 300 });
});

test('a record printed as 6.18 prints it parses back to the same record', () => {
  const comm = fc.string({ unit: fc.constantFrom(...'abcxyz019_./-: '), minLength: 1, maxLength: 16 })
    .filter((c) => c.trim() === c && !/-\d+$/.test(c) && !c.includes('[') && !c.startsWith('#'));
  const symbol = fc.tuple(fc.constantFrom('alloc_inode', '__fput', 'xas_alloc', 'kmalloc_reserve'), fc.nat(0xfff), fc.nat(0xfff))
    .map(([f, off, len]) => `${f}+0x${off.toString(16)}/0x${(len + off + 1).toString(16)}`);
  const record = fc.record({
    type: fc.constantFrom(0, 1, 2, 3, 4, 5),
    comm,
    pid: fc.nat(4194304),
    cpu: fc.nat(511),
    secs: fc.nat(9_000_000),
    usecs: fc.nat(999_999),
    flags: fc.constantFrom('.....', 'd..1.', '.Ns2.', 'dNh3.'),
    call_site: symbol,
    ptr: fc.nat(0xffffffff),
    name: fc.constantFrom('kmalloc-64', 'dentry', 'radix_tree_node', 'TCPv6'),
    bytes_req: fc.nat(1 << 22),
    extra: fc.nat(4096),
    gfp_flags: fc.nat(__GFP_BITS_MASK),
    node: fc.integer({ min: -1, max: 7 }),
    accounted: fc.boolean(),
    pfn: fc.nat(2 ** 40),
    order: fc.nat(10),
    migratetype: fc.nat(5),
  });
  fc.assert(fc.property(record, (r) => {
    const name = EVENT_NAMES[r.type];
    const ts = `${r.secs}.${String(r.usecs).padStart(6, '0')}`;
    /* The line as the kernel builds it: "%16s-%-7d [%03d] %s %5lu.%06lu: %s: ..." */
    const head = `${r.comm.padStart(16)}-${String(r.pid).padEnd(7)} [${String(r.cpu).padStart(3, '0')}] ${r.flags} ${ts.padStart(12)}: ${name}: `;
    const fields = {
      0: `call_site=${r.call_site} ptr=${hex(r.ptr)} bytes_req=${r.bytes_req} bytes_alloc=${r.bytes_req + r.extra} gfp_flags=${show_gfp_flags(r.gfp_flags, gfpflag_names_6_18)} node=${r.node} accounted=${r.accounted}`,
      1: `call_site=${r.call_site} ptr=${hex(r.ptr)} name=${r.name} bytes_req=${r.bytes_req} bytes_alloc=${r.bytes_req + r.extra} gfp_flags=${show_gfp_flags(r.gfp_flags, gfpflag_names_6_18)} node=${r.node} accounted=${r.accounted}`,
      2: `call_site=${r.call_site} ptr=${hex(r.ptr)}`,
      3: `call_site=${r.call_site} ptr=${hex(r.ptr)} name=${r.name}`,
      4: `page=${hex(r.ptr)} pfn=0x${r.pfn.toString(16)} order=${r.order} migratetype=${r.migratetype} gfp_flags=${show_gfp_flags(r.gfp_flags, gfpflag_names_6_18)}`,
      5: `page=${hex(r.ptr)} pfn=0x${r.pfn.toString(16)} order=${r.order}`,
    }[r.type] as string;
    let seen = 0;
    const p = new TraceParser((e) => {
      seen++;
      assert.equal(e.type, r.type);
      assert.equal(e.comm, r.comm);
      assert.equal(e.pid, r.pid);
      assert.equal(e.cpu, r.cpu);
      assert.equal(e.flags, r.flags);
      assert.equal(e.ts, r.secs * 1e9 + r.usecs * 1e3);
      assert.equal(e.legacy, false);
      assert.equal(format_event_fields(e), fields);
      if (e.kind === 0 || e.kind === 1 || e.kind === 4) assert.equal(e.gfp_flags, r.gfp_flags);
    });
    const { stats } = p.parseAll(head + fields + '\n');
    assert.deepEqual(stats.bad_examples, []);
    assert.equal(seen, 1);
  }), { numRuns: 500 });
});

function hex(v: number): string {
  return v.toString(16).padStart(16, '0');
}
