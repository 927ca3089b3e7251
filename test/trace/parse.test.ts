/*
 * The trace parser on single lines: each format it reads (Linux 6.18 as in
 * the shared trace, 3.x as in slab_compare, trace-cmd report, hash_pointers
 * off, a TGID column, no latency columns), turned into full records, and the
 * lines it must count rather than read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  __GFP_ACCOUNT, __GFP_COMP, __GFP_HARDWALL, __GFP_HIGHMEM, __GFP_IO, __GFP_MOVABLE, __GFP_NORETRY,
  __GFP_NOWARN, __GFP_RECLAIM, __GFP_WRITE, __GFP_ZERO, GFP_ATOMIC, GFP_HIGHUSER_MOVABLE, GFP_KERNEL,
  GFP_KERNEL_ACCOUNT, GFP_NOWAIT,
} from '../../src/include/linux/gfp_types.ts';
import {
  clone_event, decode_latency_flags, event_object, format_event_fields, format_ptr, ptr_is_interned,
  KMALLOC, MM_PAGE_ALLOC, type KmemEvent,
} from '../../src/trace/kmem_events.ts';
import {
  by_type_names, parse_trace_stream, parse_trace_text, TraceParser, type ParseOptions,
} from '../../src/trace/parse.ts';

type Obj = Record<string, string | number | boolean>;

/** Parse text, returning the events as plain objects and the result. */
function parse(text: string, options?: ParseOptions) {
  const events: Obj[] = [];
  const result = parse_trace_text(text, (e) => events.push(event_object(e)), options);
  return { events, ...result };
}

/** The one event of a one-line text. */
function one(line: string, options?: ParseOptions): Obj {
  const { events, stats } = parse(line + '\n', options);
  assert.deepEqual(stats.bad_examples, []);
  assert.equal(events.length, 1);
  return events[0];
}

test('6.18 kmem_cache_alloc: every field', () => {
  assert.deepEqual(
    one('          mktemp-7213    [000] d..1.   596.515552: kmem_cache_alloc: call_site=xas_alloc+0xab/0xe0 '
      + 'ptr=00000000abd1d41c name=radix_tree_node bytes_req=576 bytes_alloc=584 gfp_flags=GFP_NOWAIT|__GFP_ACCOUNT '
      + 'node=-1 accounted=true'),
    {
      event: 'kmem_cache_alloc', type: 1, line: 1, comm: 'mktemp', pid: 7213, tgid: -1, cpu: 0, flags: 'd..1.',
      ts: 596_515_552_000, fields: 0xff, legacy: false,
      call_site: 'xas_alloc+0xab/0xe0', ptr: 0xabd1d41c, name: 'radix_tree_node', bytes_req: 576, bytes_alloc: 584,
      gfp_flags: GFP_NOWAIT | __GFP_ACCOUNT, gfp: 'GFP_NOWAIT|__GFP_ACCOUNT', node: -1, accounted: true,
    },
  );
});

test('6.18 kmalloc, kfree(NULL), kmem_cache_free, mm_page_alloc, mm_page_free', () => {
  const text = [
    '     capture3.sh-7212    [001] .....   596.515032: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true',
    '     capture3.sh-7212    [001] .....   596.515076: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000',
    '     capture3.sh-7212    [001] .....   596.514984: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache',
    '              dd-7319    [000] .....   598.551933: mm_page_alloc: page=0000000081e1b1d7 pfn=0x107b00 order=8 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP',
    '          mktemp-7213    [000] .....   596.516104: mm_page_free: page=00000000b06656ae pfn=0x107422 order=0',
  ].join('\n') + '\n';
  const { events, stats, header } = parse(text);
  const ctx = (line: number, comm: string, pid: number, cpu: number, ts: number) =>
    ({ line, comm, pid, tgid: -1, cpu, flags: '.....', ts, legacy: false });
  assert.deepEqual(events, [
    {
      event: 'kmalloc', type: 0, ...ctx(1, 'capture3.sh', 7212, 1, 596_515_032_000), fields: 0xfb,
      call_site: 'alloc_pipe_info+0x5d/0x230', ptr: 0x6d38382d, bytes_req: 176, bytes_alloc: 192,
      gfp_flags: GFP_KERNEL_ACCOUNT | __GFP_ZERO, gfp: 'GFP_KERNEL_ACCOUNT|__GFP_ZERO', node: -1, accounted: true,
    },
    { event: 'kfree', type: 2, ...ctx(2, 'capture3.sh', 7212, 1, 596_515_076_000), fields: 0x3,
      call_site: 'ida_alloc_range+0x39b/0x400', ptr: 0 },
    { event: 'kmem_cache_free', type: 3, ...ctx(3, 'capture3.sh', 7212, 1, 596_514_984_000), fields: 0x7,
      call_site: '__fput+0x141/0x2a0', ptr: 0x7c89c7b9, name: 'lsm_file_cache' },
    {
      event: 'mm_page_alloc', type: 4, ...ctx(4, 'dd', 7319, 0, 598_551_933_000), fields: 0xf20,
      page: 0x81e1b1d7, pfn: 0x107b00, order: 8, migratetype: 1,
      gfp_flags: GFP_HIGHUSER_MOVABLE | __GFP_WRITE | __GFP_NOWARN | __GFP_NORETRY | __GFP_COMP,
      gfp: 'GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP',
    },
    { event: 'mm_page_free', type: 5, ...ctx(5, 'mktemp', 7213, 0, 596_516_104_000), fields: 0x700,
      page: 0xb06656ae, pfn: 0x107422, order: 0 },
  ]);
  assert.equal(stats.lines, 5);
  assert.equal(stats.events, 5);
  assert.deepEqual(by_type_names(stats),
    { kmalloc: 1, kfree: 1, kmem_cache_free: 1, mm_page_alloc: 1, mm_page_free: 1 });
  assert.equal(header.ncpus, -1);
});

test('3.x (slab_compare): 4 latency columns, raw call sites, (null), GFP_ZERO, no name=', () => {
  const text = [
    '            init-1     [000] .N..     0.170000: kmalloc: call_site=c10c2f99 ptr=c1614f40 bytes_req=36 bytes_alloc=64 gfp_flags=GFP_KERNEL|GFP_ZERO',
    '            init-1     [000] .N..     0.170000: kfree: call_site=c10c283a ptr=  (null)',
    '            init-1     [000] .N..     0.170000: kmem_cache_free: call_site=c10c226b ptr=c163a850',
    '            init-1     [000] .N..     0.180000: kmem_cache_alloc_node: call_site=c10b86a3 ptr=c1608000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL|GFP_ZERO node=-1',
    '            init-1     [000] .N..     0.240000: kmalloc_node: call_site=c11753ad ptr=c1500000 bytes_req=8195 bytes_alloc=16384 gfp_flags=GFP_KERNEL|GFP_COMP node=-1',
    '              sh-17    [000] ....     0.610000: kmalloc: call_site=c10581ba ptr=c14d46c0 bytes_req=76 bytes_alloc=96 gfp_flags=GFP_NOWARN',
  ].join('\n') + '\n';
  const { events, stats } = parse(text);
  const init = (line: number, ts: number) =>
    ({ line, comm: 'init', pid: 1, tgid: -1, cpu: 0, flags: '.N..', ts, legacy: true });
  assert.deepEqual(events, [
    { event: 'kmalloc', type: 0, ...init(1, 170_000_000), fields: 0x3b, call_site: 'c10c2f99', ptr: 0xc1614f40,
      bytes_req: 36, bytes_alloc: 64, gfp_flags: GFP_KERNEL | __GFP_ZERO, gfp: 'GFP_KERNEL|GFP_ZERO', node: -1,
      accounted: false },
    { event: 'kfree', type: 2, ...init(2, 170_000_000), fields: 0x3, call_site: 'c10c283a', ptr: 0 },
    { event: 'kmem_cache_free', type: 3, ...init(3, 170_000_000), fields: 0x3, call_site: 'c10c226b',
      ptr: 0xc163a850, name: '' },
    { event: 'kmem_cache_alloc_node', type: 11, ...init(4, 180_000_000), fields: 0x7b, call_site: 'c10b86a3',
      ptr: 0xc1608000, name: '', bytes_req: 64, bytes_alloc: 64, gfp_flags: GFP_KERNEL | __GFP_ZERO,
      gfp: 'GFP_KERNEL|GFP_ZERO', node: -1, accounted: false },
    { event: 'kmalloc_node', type: 10, ...init(5, 240_000_000), fields: 0x7b, call_site: 'c11753ad',
      ptr: 0xc1500000, bytes_req: 8195, bytes_alloc: 16384, gfp_flags: GFP_KERNEL | __GFP_COMP,
      gfp: 'GFP_KERNEL|GFP_COMP', node: -1, accounted: false },
    { event: 'kmalloc', type: 0, line: 6, comm: 'sh', pid: 17, tgid: -1, cpu: 0, flags: '....', ts: 610_000_000,
      legacy: true, fields: 0x3b, call_site: 'c10581ba', ptr: 0xc14d46c0, bytes_req: 76, bytes_alloc: 96,
      gfp_flags: __GFP_NOWARN, gfp: 'GFP_NOWARN', node: -1, accounted: false },
  ]);
  assert.deepEqual(by_type_names(stats), { kmalloc: 2, kfree: 1, kmem_cache_free: 1, kmalloc_node: 1, kmem_cache_alloc_node: 1 });
});

test('the kinds fold old names: kmalloc_node is a KMALLOC, mm_page_free_direct an MM_PAGE_FREE', () => {
  const kinds: number[] = [];
  parse_trace_text([
    'a-1 [000] .... 1.000000: kmalloc_node: call_site=c1 ptr=c2 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL node=0',
    'a-1 [000] .... 1.000000: mm_page_free_direct: page=ffffea0003db9f40 pfn=1155800 order=0',
    'a-1 [000] .... 1.000000: mm_pagevec_free: page=ffffea0003db9f40 pfn=1155800 order=0 cold=1',
  ].join('\n') + '\n', (e) => {
    kinds.push(e.kind);
    if (e.kind === KMALLOC) assert.equal(e.node, 0);
  });
  assert.deepEqual(kinds, [KMALLOC, 5, 6]);
});

test('3.x mm_page_alloc: decimal pfn, 64-bit page pointers, lone GFP_NOWAIT is 0 there', () => {
  assert.deepEqual(
    one('  gnome-terminal-1567  [000]  4415.246506: mm_page_alloc: page=ffffea0003db9f40 pfn=1155800 order=0 migratetype=0 gfp_flags=GFP_NOWAIT'),
    {
      event: 'mm_page_alloc', type: 4, line: 1, comm: 'gnome-terminal', pid: 1567, tgid: -1, cpu: 0, flags: '',
      ts: 4_415_246_506_000, fields: 0xf20, legacy: true,
      page: -0x15fffc2460c0, pfn: 1155800, order: 0, migratetype: 0, gfp_flags: 0, gfp: 'GFP_NOWAIT',
    },
  );
  /* The same text from a current kernel means __GFP_KSWAPD_RECLAIM|__GFP_NOWARN. */
  const modern = one('a-1 [000] ..... 1.000000: mm_page_alloc: page=0000000012345678 pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_NOWAIT');
  assert.equal(modern.gfp_flags, GFP_NOWAIT);
  assert.equal(modern.legacy, false);
  /* The caller can force either reading. */
  assert.equal(one('a-1 [000] ..... 1.000000: mm_page_alloc: page=0000000012345678 pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_NOWAIT',
    { legacy_gfp: true }).gfp_flags, 0);
});

test('trace-cmd report: no latency column, (sym+off) prefix, 0x pointers, padded event names', () => {
  const e = one(' irq/35-firewire-273881 [002] 373149.138580: kmalloc: (fw_core_handle_request+0x7b) '
    + 'call_site=fw_core_handle_request+0x7b ptr=0xffff99e93f007300 bytes_req=155 bytes_alloc=192 gfp_flags=GFP_ATOMIC');
  assert.equal(e.comm, 'irq/35-firewire');
  assert.equal(e.pid, 273881);
  assert.equal(e.cpu, 2);
  assert.equal(e.flags, '');
  assert.equal(e.ts, 373_149_138_580_000);
  assert.equal(e.call_site, 'fw_core_handle_request+0x7b');
  assert.equal(e.gfp_flags, GFP_ATOMIC);
  /* 0xffff99e93f007300 read as a signed 64-bit value: exact. */
  assert.equal(e.ptr, -0x6616c0ff8d00); /* 0xffff99e93f007300 - 2^64 */
  assert.equal(format_ptr(e.ptr as number), 'ffff99e93f007300');
  const f = one('make-16810 [004] .....  2319.000857: mm_page_alloc:        page=0xffffea00001347a7 pfn=0x1347a7 order=0 migratetype=1 gfp_flags=0x152c4a');
  assert.equal(f.gfp_flags, 0x152c4a);
  assert.equal(f.pfn, 0x1347a7);
  assert.equal(f.gfp_flags, __GFP_HIGHMEM | __GFP_MOVABLE | __GFP_IO | __GFP_RECLAIM | __GFP_NOWARN | __GFP_NORETRY
    | __GFP_COMP | __GFP_HARDWALL);
});

test('a TGID column, a comm with spaces and dashes, <idle>, a counter-clock timestamp', () => {
  const e = one('  Web Content-x-1234  (   1200) [003] d.h2. 12.5: kfree: call_site=foo+0x1/0x2 ptr=00000000deadbeef');
  assert.equal(e.comm, 'Web Content-x');
  assert.equal(e.pid, 1234);
  assert.equal(e.tgid, 1200);
  assert.equal(e.cpu, 3);
  assert.equal(e.ts, 12_500_000_000);
  assert.deepEqual(decode_latency_flags(e.flags as string),
    { irqs_off: 'd', need_resched: '.', hardsoft_irq: 'h', preempt_depth: 2, migrate_disable: 0 });
  assert.equal(one('<...>-77 (-------) [000] .... 5.000001: kfree: call_site=a+0x1/0x2 ptr=(null)').tgid, -1);
  assert.equal(one('<idle>-0 [001] ..s. 5.000001: kfree: call_site=a+0x1/0x2 ptr=(null)').comm, '<idle>');
  assert.equal(one('x-1 [001] 123456789012: kfree: call_site=a+0x1/0x2 ptr=(null)').ts, 123456789012);
  assert.deepEqual(decode_latency_flags('.N..'),
    { irqs_off: '.', need_resched: 'N', hardsoft_irq: '.', preempt_depth: 0, migrate_disable: -1 });
});

test('the zone-locked, pcpu-drain and extfrag events of 6.12', () => {
  const { events } = parse([
    'k-1 [000] d..2. 1.000000: mm_page_alloc_zone_locked: page=0000000011111111 pfn=0x1000 order=3 migratetype=1 percpu_refill=1',
    'k-1 [000] d..2. 1.000001: mm_page_pcpu_drain: page=0000000011111111 pfn=0x1000 order=0 migratetype=2',
    'k-1 [000] d..2. 1.000002: mm_page_alloc_extfrag: page=0000000011111111 pfn=0x1000 alloc_order=0 fallback_order=9 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=0 change_ownership=1',
    'k-1 [000] d..2. 1.000003: mm_page_free_batched: page=0000000011111111 pfn=0x1000 order=0',
  ].join('\n') + '\n');
  const ctx = { comm: 'k', pid: 1, tgid: -1, cpu: 0, flags: 'd..2.', legacy: false };
  assert.deepEqual(events, [
    { event: 'mm_page_alloc_zone_locked', type: 7, line: 1, ...ctx, ts: 1_000_000_000, fields: 0x1f00,
      page: 0x11111111, pfn: 0x1000, order: 3, migratetype: 1, percpu_refill: 1 },
    { event: 'mm_page_pcpu_drain', type: 8, line: 2, ...ctx, ts: 1_000_001_000, fields: 0xf00,
      page: 0x11111111, pfn: 0x1000, order: 0, migratetype: 2 },
    { event: 'mm_page_alloc_extfrag', type: 9, line: 3, ...ctx, ts: 1_000_002_000, fields: 0xfe300,
      page: 0x11111111, pfn: 0x1000, alloc_order: 0, fallback_order: 9, pageblock_order: 9, alloc_migratetype: 0,
      fallback_migratetype: 1, fragmenting: 0, change_ownership: 1 },
    { event: 'mm_page_free_batched', type: 6, line: 4, ...ctx, ts: 1_000_003_000, fields: 0x700,
      page: 0x11111111, pfn: 0x1000, order: 0, cold: -1 },
  ]);
});

test('a failed mm_page_alloc: NULL page, pfn 0', () => {
  const e = one('a-1 [000] ..... 1.000000: mm_page_alloc: page=0000000000000000 pfn=0x0 order=10 migratetype=0 gfp_flags=GFP_KERNEL');
  assert.equal(e.page, 0);
  assert.equal(e.pfn, 0);
  assert.equal(one('a-1 [000] ..... 1.000000: mm_page_alloc: page=(null) pfn=0xffffffffffffffff order=10 migratetype=0 gfp_flags=GFP_KERNEL').pfn, -1);
});

test('pointers keep their identity: signed 64-bit values, interned beyond 2^53', () => {
  const ptrs: number[] = [];
  parse_trace_text([
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=ff11000012345678',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=ff11000012345679',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=0xFF11000012345678',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=00000000c143de20',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=c143de20',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=ffffffffffffffff',
    'a-1 [000] ..... 1.0: kfree: call_site=f+0x1/0x2 ptr=7fffffffffffffff',
  ].join('\n') + '\n', (e) => ptrs.push(e.kind === 2 ? e.ptr : NaN));
  assert.ok(ptr_is_interned(ptrs[0]) && ptr_is_interned(ptrs[1]));
  assert.notEqual(ptrs[0], ptrs[1]);
  assert.equal(ptrs[0], ptrs[2]);
  assert.equal(ptrs[3], 0xc143de20);
  assert.equal(ptrs[4], 0xc143de20);
  assert.equal(ptrs[5], -1);
  assert.ok(ptr_is_interned(ptrs[6]));
  assert.equal(new Set(ptrs).size, 5);
});

test('format_event_fields() prints a 6.18 record back as the kernel did', () => {
  const lines = [
    'call_site=xas_alloc+0xab/0xe0 ptr=00000000abd1d41c name=radix_tree_node bytes_req=576 bytes_alloc=584 gfp_flags=GFP_NOWAIT|__GFP_ACCOUNT node=-1 accounted=true',
    'call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true',
    'call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000',
    'call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache',
    'page=0000000081e1b1d7 pfn=0x107b00 order=8 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP',
    'page=00000000b06656ae pfn=0x107422 order=0',
  ];
  const names = ['kmem_cache_alloc', 'kmalloc', 'kfree', 'kmem_cache_free', 'mm_page_alloc', 'mm_page_free'];
  const out: string[] = [];
  parse_trace_text(lines.map((l, i) => `a-1 [000] ..... 1.000000: ${names[i]}: ${l}`).join('\n') + '\n',
    (e) => out.push(format_event_fields(e)));
  assert.deepEqual(out, lines);
});

test('the header: tracer, entries, #P, latency columns, TGID', () => {
  const { header, stats } = parse([
    '# tracer: nop',
    '#',
    '# entries-in-buffer/entries-written: 212524/212530   #P:2',
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
  ].join('\n') + '\n');
  assert.deepEqual(header, {
    tracer: 'nop', entries_in_buffer: 212524, entries_written: 212530, ncpus: 2, latency_columns: 5, tgid: false,
  });
  assert.equal(stats.comment_lines, 7);
  const old = parse('#           TASK-PID    TGID   CPU#  ||||    TIMESTAMP  FUNCTION\n').header;
  assert.equal(old.tgid, true);
  assert.equal(old.latency_columns, 4);
  assert.equal(parse('#           TASK-PID   CPU#      TIMESTAMP  FUNCTION\n').header.latency_columns, 0);
  assert.equal(parse('cpus=4\n').header.ncpus, 4);
});

test('lines it does not read are counted, with reasons and examples, never thrown', () => {
  const text = [
    'garbage',
    'CPU:1 [LOST 12345 EVENTS]',
    '##### CPU 1 buffer started ####',
    '',
    '   ',
    'a-1 [000] ..... 1.000000: sched_switch: prev_comm=a prev_pid=1 ==> next_comm=b',
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=0000000000000001 bytes_req=8 gfp_flags=GFP_KERNEL',
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=xyz bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL',
    'a-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=(null)junk',
    'a-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=00000000000000001',
    'a-1 [000] ..... 1.000000: mm_page_free: page=(null) pfn=0x12 order=-1',
    'a-1 [000] ..... x.000000: kfree: call_site=f ptr=0',
    'a-1 [000] !!!!! 1.000000: kfree: call_site=f ptr=0',
    'a-1 [000] ..... 1.000000 kfree: call_site=f ptr=0',
    'a [000] ..... 1.000000: kfree: call_site=f ptr=0',
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=01 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL|__GFP_SOMETHING_NEW accounted=maybe',
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=01 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL|__GFP_SOMETHING_NEW|__GFP_NOLOCKDEP',
  ].join('\r\n') + '\r\n';
  const events: KmemEvent[] = [];
  const { stats } = parse_trace_text(text, (e) => events.push(clone_event(e)));
  assert.equal(stats.lines, 17);
  assert.equal(stats.events, 1);
  assert.equal(events[0].kind, KMALLOC);
  assert.equal(events[0].kind === KMALLOC && events[0].gfp_flags, GFP_KERNEL);
  assert.deepEqual([...stats.unknown_gfp], [['__GFP_SOMETHING_NEW', 1], ['__GFP_NOLOCKDEP', 1]]);
  assert.equal(stats.lost_events, 12345);
  assert.equal(stats.comment_lines, 2);
  assert.equal(stats.blank_lines, 2);
  assert.deepEqual([...stats.other_events], [['sched_switch', 1]]);
  assert.equal(stats.bad_lines, 11);
  assert.equal(stats.lines, stats.events + stats.comment_lines + stats.blank_lines + stats.bad_lines + 1);
  assert.deepEqual(Object.fromEntries(stats.bad_reasons), {
    'no [cpu] column': 1,
    'kmalloc: missing bytes_alloc=': 1,
    'kmalloc: bad ptr= value': 1,
    'kfree: bad ptr= value': 2,
    'mm_page_free: bad order= value': 1,
    'no timestamp': 2,
    'bad latency flags': 1,
    'no comm-pid before [cpu]': 1,
    'kmalloc: bad accounted= value': 1,
  });
  assert.equal(stats.bad_examples.length, 10);
  assert.deepEqual(stats.bad_examples[0], { line: 1, reason: 'no [cpu] column', text: 'garbage' });
  assert.equal(stats.truncated, false);
});

test('the last line without a newline: dropped as truncated, or parsed on request', () => {
  const line = 'a-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=0000000012345678';
  const dropped = parse(line);
  assert.equal(dropped.events.length, 0);
  assert.equal(dropped.stats.truncated, true);
  assert.equal(dropped.stats.bad_lines, 1);
  assert.equal(dropped.stats.bad_examples[0].reason, 'truncated (no newline at the end of the input)');
  const parsed = parse(line, { partial_last_line: 'parse' });
  assert.equal(parsed.events.length, 1);
  assert.equal(parsed.stats.truncated, true);
  assert.equal(parsed.stats.bad_lines, 0);
});

test('an over-long line is one bad line, whether it comes whole or in pieces', () => {
  const long = 'x'.repeat(300);
  const good = 'a-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=0000000012345678\n';
  for (const pieces of [[long + '\n' + good], [long.slice(0, 50), long.slice(50) + '\n', good], [long, '\n' + good]]) {
    const p = new TraceParser(() => {}, { max_line_length: 100 });
    for (const piece of pieces) p.feed(piece);
    const { stats } = p.end();
    assert.equal(stats.lines, 2);
    assert.equal(stats.events, 1);
    assert.deepEqual([...stats.bad_reasons], [['line too long', 1]]);
    assert.equal(stats.bad_examples[0].text, long.slice(0, 160));
  }
});

test('bytes: UTF-8 split across chunks, a BOM, CRLF', () => {
  const text = '\ufeff# tracer: nop\r\nnaïve-é-7 [001] ..... 2.000000: kfree: call_site=f+0x1/0x2 ptr=(null)\r\n';
  const bytes = new TextEncoder().encode(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const comms: string[] = [];
    const p = new TraceParser((e) => comms.push(e.comm));
    p.feed(bytes.subarray(0, cut));
    p.feed(bytes.subarray(cut));
    const { header, stats } = p.end();
    assert.deepEqual(comms, ['naïve-é']);
    assert.equal(header.tracer, 'nop');
    assert.equal(stats.bad_lines, 0);
  }
});

test('the record handed out is reused; clone_event() keeps one', () => {
  const seen: KmemEvent[] = [];
  const kept: KmemEvent[] = [];
  parse_trace_text([
    'a-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=0000000000000001',
    'b-2 [001] ..... 2.000000: mm_page_alloc: page=0000000000000002 pfn=0x2 order=1 migratetype=0 gfp_flags=GFP_KERNEL',
  ].join('\n') + '\n', (e) => {
    seen.push(e);
    kept.push(clone_event(e));
  });
  assert.equal(seen[0], seen[1]);
  assert.notEqual(kept[0], kept[1]);
  assert.equal(kept[0].comm, 'a');
  assert.equal(kept[0].kind === 2 && kept[0].ptr, 1);
  assert.equal(kept[1].kind === MM_PAGE_ALLOC && kept[1].order, 1);
  assert.throws(() => {
    const p = new TraceParser(() => {});
    p.end();
    p.feed('x');
  }, /after end/);
});

test('interned strings: the same text is the same id and string', () => {
  const ids: number[] = [];
  const p = new TraceParser((e) => {
    if (e.kind === KMALLOC) ids.push(e.call_site_id, e.gfp_id, e.comm_id);
  });
  p.parseAll([
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=01 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL',
    'b-2 [000] ..... 1.000000: kmalloc: call_site=g+0x1/0x2 ptr=01 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_ATOMIC',
    'a-1 [000] ..... 1.000000: kmalloc: call_site=f+0x1/0x2 ptr=01 bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL',
  ].join('\n') + '\n');
  assert.deepEqual(ids, [0, 0, 0, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(p.call_sites.strings, ['f+0x1/0x2', 'g+0x1/0x2']);
  assert.deepEqual(p.comms.strings, ['a', 'b']);
});

test('parse_trace_stream: a web ReadableStream of bytes, an async iterable of strings', async () => {
  const text = '# tracer: nop\na-1 [000] ..... 1.000000: kfree: call_site=f+0x1/0x2 ptr=0000000000000001\n'
    + 'a-1 [000] ..... 1.000001: kfree: call_site=f+0x1/0x2 ptr=0000000000000002\n';
  const bytes = new TextEncoder().encode(text);
  const web = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
      controller.close();
    },
  });
  const ptrs: number[] = [];
  const a = await parse_trace_stream(web, (e) => ptrs.push(e.kind === 2 ? e.ptr : -1));
  assert.deepEqual(ptrs, [1, 2]);
  assert.equal(a.header.tracer, 'nop');
  async function* strings() {
    for (let i = 0; i < text.length; i += 5) yield text.slice(i, i + 5);
  }
  const b = await parse_trace_stream(strings(), (e) => ptrs.push(e.kind === 2 ? e.ptr : -1));
  assert.deepEqual(ptrs, [1, 2, 1, 2]);
  assert.equal(b.stats.events, 2);
});

test('pathological input stays linear: lines without "[", without spaces, with ")" before the bracket', () => {
  for (const line of ['x'.repeat(30), 'a b c d e f', 'a-1 [000] ..... 1.0: kfree: call_site=' + 'f'.repeat(20), 'x) [0]', 'a-1 (x) [000] .']) {
    const text = (line + '\n').repeat(Math.floor(2e6 / (line.length + 1)));
    const t0 = performance.now();
    const { stats } = new TraceParser(() => {}).parseAll(text);
    const ms = performance.now() - t0;
    assert.equal(stats.bad_lines, stats.lines);
    /* Linear is a few ms; scanning to the end of the text from every line would take minutes. */
    assert.ok(ms < 3000, `${JSON.stringify(line)}: ${ms.toFixed(0)} ms`);
  }
});
