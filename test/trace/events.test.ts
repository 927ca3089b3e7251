/*
 * The kmem trace events (src/trace/events.ts, src/trace/ring_buffer.ts):
 * the trace file's text against the kernel's format, every event type.
 *
 * Golden shapes: for each event the shared 6.18 trace has, a real line of
 * it (verbatim below) and a line kmem printed must have the same layout:
 * the TASK-PID and CPU columns where ftrace puts them, the same field names
 * in the same order, and values of the same kind (hashed pointer, symbol
 * +off/len, number, gfp names...). The three events the shared trace lacks
 * are checked against their TP_printk format in include/trace/events/kmem.h.
 * Then an exact golden of a small scenario (pointers numbered by first
 * appearance, so the text does not depend on where things land), the
 * header, the options, the ring buffer's overwriting, and the parser
 * reading kmem's text back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { parse_trace_text, by_type_names } from '../../src/trace/parse.ts';
import { event_object, type KmemEvent } from '../../src/trace/kmem_events.ts';
import { lat_fmt, TRACE_EVENTS } from '../../src/trace/events.ts';

/* Real lines of kmem-trace-build.txt.xz (Linux 6.18, 2 CPUs). */
const REAL: Record<string, string> = {
  kmalloc: '     capture3.sh-7212    [001] .....   596.515032: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=000000006d38382d bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true',
  kfree: '          mktemp-7213    [000] .....   596.516025: kfree: call_site=load_elf_binary+0x1bc/0x18a0 ptr=000000006e2c87d9',
  kmem_cache_alloc: '     capture3.sh-7212    [001] .....   596.515029: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 ptr=000000007f48480c name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true',
  kmem_cache_free: '     capture3.sh-7212    [001] .....   596.514984: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=000000007c89c7b9 name=lsm_file_cache',
  mm_page_alloc: '     capture3.sh-7212    [001] .....   596.514989: mm_page_alloc: page=00000000210f10c5 pfn=0x107459 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP',
  mm_page_free: '          mktemp-7213    [000] .....   596.516104: mm_page_free: page=00000000b06656ae pfn=0x107422 order=0',
};
const REAL_KFREE_NULL = '     capture3.sh-7212    [001] .....   596.515076: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000';

/* TP_printk of the events the shared trace does not have (include/trace/events/kmem.h, 6.12 = 6.18). */
const FORMAT: Record<string, string> = {
  mm_page_alloc_zone_locked: 'page=P pfn=X order=N migratetype=N percpu_refill=N',
  mm_page_pcpu_drain: 'page=P pfn=X order=N migratetype=N',
  mm_page_alloc_extfrag: 'page=P pfn=X alloc_order=N fallback_order=N pageblock_order=N alloc_migratetype=N ' +
    'fallback_migratetype=N fragmenting=N change_ownership=N',
};

const CONTEXT = /^( {0,15}\S.{0,15})-(\d+) +\[(\d{3})\] ([.dDbXNnpzZhHs0-9a-f]{5}) +(\d+)\.(\d{6}): ([a-z_]+): (.*)$/;

/** The kind of each value: P hashed pointer, S symbol+off/len, X 0x-hex, N number, B boolean, G gfp names, W a word. */
function valueKind(v: string): string {
  if (/^[0-9a-f]{16}$/.test(v)) return 'P';
  if (/^[\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(v)) return 'S';
  if (/^0x[0-9a-f]+$/.test(v)) return 'X';
  if (/^-?\d+$/.test(v)) return 'N';
  if (v === 'true' || v === 'false') return 'B';
  if (/^(none|(__)?GFP_[A-Z_]+(\|(__)?GFP_[A-Z_0-9]+|\|0x[0-9a-f]+)*)$/.test(v)) return 'G';
  return 'W';
}

/** A line's layout: where the columns are, the event, and its fields as name=kind. */
function shape(line: string): { bracket: number; event: string; fields: string } {
  const m = CONTEXT.exec(line);
  assert.ok(m, `not an ftrace event line: ${line}`);
  const fields = m[8].split(' ').map((kv) => {
    const eq = kv.indexOf('=');
    return `${kv.slice(0, eq)}=${valueKind(kv.slice(eq + 1))}`;
  }).join(' ');
  return { bracket: line.indexOf('['), event: m[7], fields };
}

function boot(cmdline = '', mem = '64M'): Kernel {
  return start_kernel(resolveConfig({ mem, cpus: 2, cmdline }), { errors: 'throw' });
}

/** A workload that fires every event kmem emits; returns the trace text. */
function everyEvent(k: Kernel): string {
  k.trace.enable('kmem');
  k.trace.set_caller('golden_init+0x1c/0x80');
  const p = k.kmalloc(176, k.GFP_KERNEL_ACCOUNT | k.__GFP_ZERO);
  const s = k.kmem_cache_create('golden_cache', 616, 0, 0);
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.kmem_cache_free(s, o);
  k.kfree(p);
  k.kfree(0);
  const page = k.alloc_pages(k.GFP_HIGHUSER_MOVABLE | k.__GFP_ZERO | k.__GFP_COMP, 0);
  k.__free_pages(page, 0);
  // A fallback to another migratetype's free list: mm_page_alloc_extfrag.
  for (let i = 0; i < 3000 && !k.trace.read().includes('mm_page_alloc_extfrag'); i++) k.alloc_pages(k.GFP_KERNEL, 4);
  k.set_cpu(1);
  k.__free_pages(k.alloc_pages(k.GFP_KERNEL, 0), 0);
  k.set_cpu(0);
  k.drain_all_pages();
  k.trace.set_caller(null);
  return k.trace.read();
}

test('every kmem event: the layout of real 6.18 lines, or the TP_printk format', () => {
  const text = everyEvent(boot());
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const first = new Map<string, string>();
  for (const l of lines) {
    const ev = shape(l).event;
    if (!first.has(ev)) first.set(ev, l);
  }
  for (const [ev, real] of Object.entries(REAL)) {
    const ours = first.get(ev);
    assert.ok(ours, `kmem printed no ${ev} event`);
    assert.deepEqual(shape(ours), shape(real), `${ev}:\n  kmem: ${ours}\n  real: ${real}`);
  }
  // kfree(NULL) prints a zero pointer, as %p does for NULL.
  const kfreeNull = lines.find((l) => / kfree: .*ptr=0000000000000000$/.test(l));
  assert.ok(kfreeNull);
  assert.deepEqual(shape(kfreeNull), shape(REAL_KFREE_NULL));
  for (const [ev, format] of Object.entries(FORMAT)) {
    const ours = first.get(ev);
    assert.ok(ours, `kmem printed no ${ev} event`);
    assert.equal(shape(ours).fields, format, ours);
    assert.equal(shape(ours).bracket, 25);
  }
  // Every line, not only the first of each event, has the kernel's layout.
  for (const l of lines) assert.equal(shape(l).bracket, 25, l);
  // The event names kmem can enable are the kernel's kmem events (mm_page_free_batched never fires).
  assert.deepEqual([...first.keys()].sort(), TRACE_EVENTS.filter((e) => e !== 'mm_page_free_batched').sort());
});

test('the header is ftrace\'s (irq-info legend, entries, #P) and matches the real trace\'s', () => {
  const k = boot();
  const empty = k.trace.read();
  assert.equal(empty, [
    '# tracer: nop',
    '#',
    '# entries-in-buffer/entries-written: 0/0   #P:2',
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#                               / _----=> need-resched',
    '#                              | / _---=> hardirq/softirq',
    '#                              || / _--=> preempt-depth',
    '#                              ||| / _-=> migrate-disable',
    '#                              |||| /     delay',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
    '',
  ].join('\n'));
  k.trace.enable('kmalloc');
  k.kmalloc(8, k.GFP_KERNEL);
  const r = parse_trace_text(k.trace.read(), () => {});
  assert.deepEqual(r.header, { tracer: 'nop', entries_in_buffer: 1, entries_written: 1, ncpus: 2, latency_columns: 5, tgid: false });
  assert.equal(k.trace.set_option('irq-info', false), 0);
  const noIrq = k.trace.read().split('\n');
  assert.equal(noIrq[4], '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION');
  // "[%03d] " then " %5lu.%06lu": six spaces before a time under 10 s.
  assert.match(noIrq[6], /^ {10}<idle>-0 {7}\[000\] {6}0\.\d{6}: kmalloc: /);
});

test('an exact golden trace (pointers and pfns numbered by first appearance)', () => {
  const k = boot();
  k.trace.enable('kmem:kmalloc');
  k.trace.enable('kmem:kfree');
  k.trace.enable('kmem:kmem_cache_alloc');
  k.trace.enable('kmem:kmem_cache_free');
  k.trace.set_caller('scull_init+0x1c/0x80');
  const a = k.kmalloc(100, k.GFP_KERNEL);
  const b = k.kzalloc(3000, k.GFP_KERNEL);
  const s = k.kmem_cache_create('scull_qset', 24, 0, k.SLAB_HWCACHE_ALIGN);
  k.trace.set_caller('scull_write');
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.set_cpu(1);
  k.kmem_cache_free(s, o);
  k.kfree(a);
  k.kfree(b);
  k.kfree(0);
  const ids = new Map<string, string>();
  const text = k.trace.read().split('\n').slice(12).join('\n')
    .replace(/(ptr)=([0-9a-f]{16})/g, (_, key: string, v: string) => {
      if (v === '0000000000000000') return `${key}=NULL`;
      if (!ids.has(v)) ids.set(v, `P${ids.size + 1}`);
      return `${key}=${ids.get(v)}`;
    });
  assert.equal(text, [
    '          <idle>-0       [000] .....     0.000000: kmalloc: call_site=scull_init+0x1c/0x80 ptr=P1 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    '          <idle>-0       [000] .....     0.000000: kmalloc: call_site=scull_init+0x1c/0x80 ptr=P2 bytes_req=3000 bytes_alloc=4096 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
    '          <idle>-0       [000] .....     0.000000: kmalloc: call_site=scull_init+0x1c/0x80 ptr=P3 bytes_req=11 bytes_alloc=16 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    '          <idle>-0       [000] .....     0.000000: kmem_cache_alloc: call_site=scull_init+0x1c/0x80 ptr=P4 name=kmem_cache bytes_req=208 bytes_alloc=256 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
    '          <idle>-0       [000] .....     0.000000: kmem_cache_alloc: call_site=scull_init+0x1c/0x80 ptr=P5 name=kmem_cache_node bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=0 accounted=false',
    '          <idle>-0       [000] .....     0.000001: kmem_cache_alloc: call_site=scull_write+0x0/0x100 ptr=P6 name=scull_qset bytes_req=24 bytes_alloc=32 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    '          <idle>-0       [001] .....     0.000001: kmem_cache_free: call_site=scull_write+0x0/0x100 ptr=P6 name=scull_qset',
    '          <idle>-0       [001] .....     0.000001: kfree: call_site=scull_write+0x0/0x100 ptr=P1',
    '          <idle>-0       [001] .....     0.000001: kfree: call_site=scull_write+0x0/0x100 ptr=P2',
    '          <idle>-0       [001] .....     0.000001: kfree: call_site=scull_write+0x0/0x100 ptr=NULL',
    '',
  ].join('\n'));
});

test('call sites from the JS stack: the caller of the slab API, one offset per call position', () => {
  const k = boot();
  k.trace.enable('kmalloc');
  k.trace.enable('kfree');
  function my_module_init(): void {
    const p = k.kmalloc(32, k.GFP_KERNEL);
    k.kfree(p);
  }
  my_module_init();
  my_module_init();
  const sites = parseEvents(k.trace.read()).map((e) => (e as { call_site: string }).call_site);
  assert.deepEqual(sites, ['my_module_init+0x10/0x100', 'my_module_init+0x20/0x100', 'my_module_init+0x10/0x100',
    'my_module_init+0x20/0x100']);
});

function parseEvents(text: string): KmemEvent[] {
  const out: KmemEvent[] = [];
  const r = parse_trace_text(text, (e) => out.push(event_object(e) as unknown as KmemEvent));
  assert.equal(r.stats.bad_lines, 0, JSON.stringify(r.stats.bad_examples));
  return out;
}

test('the parser reads kmem\'s trace back: every event, same fields, gfp bits and pointers as identities', () => {
  const k = boot();
  const text = everyEvent(k);
  const r = parse_trace_text(text, () => {});
  assert.equal(r.stats.bad_lines, 0);
  assert.equal(r.stats.events, r.header.entries_in_buffer);
  const types = by_type_names(r.stats);
  for (const ev of ['kmalloc', 'kfree', 'kmem_cache_alloc', 'kmem_cache_free', 'mm_page_alloc', 'mm_page_free',
    'mm_page_alloc_zone_locked', 'mm_page_pcpu_drain', 'mm_page_alloc_extfrag']) {
    assert.ok((types[ev] ?? 0) > 0, `${ev} missing`);
  }
  const evs = parseEvents(text) as unknown as Record<string, string | number | boolean>[];
  const km = evs.find((e) => e.event === 'kmalloc' && e.bytes_req === 176)!;
  assert.equal(km.gfp_flags, (k.GFP_KERNEL_ACCOUNT | k.__GFP_ZERO) >>> 0);
  assert.equal(km.accounted, true);
  assert.equal(km.bytes_alloc, 192);
  const freed = evs.find((e) => e.event === 'kfree' && e.ptr === km.ptr);
  assert.ok(freed, 'kfree prints the pointer kmalloc printed');
  const ca = evs.find((e) => e.event === 'kmem_cache_alloc' && e.name === 'golden_cache')!;
  assert.equal(ca.bytes_req, 616);
  assert.equal(ca.bytes_alloc, 616);
  assert.ok(evs.some((e) => e.event === 'kmem_cache_free' && e.ptr === ca.ptr && e.name === 'golden_cache'));
  // Timestamps never go backwards across the merged CPUs.
  const ts = evs.map((e) => e.ts as number);
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
});

test('hash-ptr off and no_hash_pointers print addresses; format 6.12 drops name= and orders gfp by 6.12\'s table', () => {
  const k = boot();
  k.trace.enable('kmem_cache_alloc');
  k.trace.enable('mm_page_alloc');
  k.trace.set_option('hash-ptr', false);
  const s = k.kmem_cache_create('raw', 64, 0, 0);
  const o = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  k.alloc_pages(k.GFP_HIGHUSER_MOVABLE | k.__GFP_ZERO | k.__GFP_COMP, 0);
  const t = k.trace.read();
  assert.ok(t.includes(`ptr=ffff${o.toString(16).padStart(12, '0')} name=raw`), t);
  assert.match(t, /mm_page_alloc: page=ffffea[0-9a-f]{10} /);
  k.trace.format = '6.12';
  const t12 = k.trace.read();
  assert.ok(!t12.includes('name=raw'));
  assert.ok(t12.includes('gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO'));
  assert.ok(t.includes('gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP'));

  const k2 = boot('no_hash_pointers trace_event=kmem:kmalloc');
  assert.ok(k2.dmesg().includes('** This system shows unhashed kernel memory addresses   **'));
  const p = k2.kmalloc(40, k2.GFP_KERNEL);
  assert.ok(k2.trace.read().includes(`ptr=ffff${p.toString(16).padStart(12, '0')} bytes_req=40`));
});

test('boot-time tracing from the command line records kmem_cache_init()', () => {
  const k = boot('trace_event=kmem:kmem_cache_alloc,kmem:mm_page_alloc');
  const evs = parseEvents(k.trace.read()) as unknown as Record<string, string | number>[];
  assert.ok(evs.length > 50);
  assert.ok(evs.every((e) => e.event === 'kmem_cache_alloc' || e.event === 'mm_page_alloc'));
  assert.ok(evs.some((e) => e.event === 'kmem_cache_alloc' && e.name === 'kmem_cache' &&
    String(e.call_site).startsWith('create_kmalloc_cache+')));
  assert.ok(evs.every((e) => e.comm === '<idle>' && e.pid === 0));
  assert.equal(k.trace.set_event, 'kmem:kmem_cache_alloc\nkmem:mm_page_alloc\n');
  // An unknown event is reported at boot, not fatal.
  const k2 = boot('trace_event=kmem:nonsense');
  assert.ok(k2.dmesg().includes('Failed to enable trace event: kmem:nonsense'));
});

test('the ring buffer: per-CPU, overwrites the oldest page when full, clear(), tracing_on, disable', () => {
  const k = boot();
  assert.equal(k.trace.set_buffer_size_kb(8), 0);
  k.trace.enable('kmalloc');
  for (let i = 0; i < 500; i++) k.kfree(k.kmalloc(8 + (i % 64), k.GFP_KERNEL));
  const { entries, written, overrun } = k.trace.entries();
  assert.equal(written, 500);
  assert.ok(entries < 500 && entries > 100, `entries ${entries}`);
  assert.equal(entries + overrun, written);
  const evs = parseEvents(k.trace.read()) as unknown as Record<string, number>[];
  assert.equal(evs.length, entries);
  // The newest survive: the last event is the 500th kmalloc.
  assert.equal(evs[evs.length - 1].bytes_req, 8 + (499 % 64));
  assert.match(k.trace.read(), new RegExp(`entries-in-buffer/entries-written: ${entries}/500 `));
  k.trace.clear();
  assert.deepEqual(k.trace.entries(), { entries: 0, written: 0, overrun: 0 });
  k.trace.tracing_on = false;
  k.kmalloc(8, k.GFP_KERNEL);
  assert.equal(k.trace.entries().entries, 0);
  k.trace.tracing_on = true;
  k.set_cpu(1);
  k.kmalloc(8, k.GFP_KERNEL);
  assert.match(k.trace.read(), /\[001\] .....\s+\d+\.\d{6}: kmalloc:/);
  k.trace.disable('kmem');
  k.kmalloc(8, k.GFP_KERNEL);
  assert.equal(k.trace.entries().entries, 1);
  assert.equal(k.slab.hooks.kmalloc, undefined);
  assert.equal(k.buddy.hooks.mm_page_alloc, undefined);
  assert.equal(k.trace.enable('kmem:nope'), -22);
  // free() gives every page back.
  const memFree = () => Number(/MemFree:\s+(\d+)/.exec(readProc(k, 'meminfo'))![1]);
  k.drain_all_pages();
  const free0 = memFree();
  k.trace.free();
  k.drain_all_pages();
  assert.ok(memFree() - free0 >= 8, `${free0} -> ${memFree()}`);
});

test('the latency flags column: irqs off, softirq, hardirq, preempt depth', () => {
  assert.equal(lat_fmt(0, 0), '.....');
  assert.equal(lat_fmt(0x01, 1), 'd..1.');
  assert.equal(lat_fmt(0x10, 0), '..s..');
  assert.equal(lat_fmt(0x08 | 0x01, 2), 'd.h2.');
  assert.equal(lat_fmt(0x81, 0), 'D....');
  const k = boot();
  k.trace.enable('kmalloc');
  k.local_irq_disable();
  k.preempt_disable();
  k.kmalloc(16, k.GFP_ATOMIC);
  k.preempt_enable();
  k.local_irq_enable();
  const line = k.trace.read().split('\n')[12];
  assert.match(line, /\[000\] d\.\.1\. /);
});
