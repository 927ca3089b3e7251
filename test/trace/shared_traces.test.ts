/*
 * The parser on the project's real traces (../shared/traces, beside the
 * repository): the 6.18 capture kmem-trace-build.txt.xz and the three 3.x
 * slab_compare logs, read through src/node/trace_file.ts (xz, and gzip and
 * plain copies made here). The counts were computed once with grep and
 * awk on the decompressed files (e.g. `xz -dc FILE | grep -c ' kfree: '`)
 * and are pinned here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { parse_gfp_flags } from '../../src/include/trace/events/mmflags.ts';
import {
  event_object, F_ACCOUNTED, F_NAME, F_NODE, KFREE, KMALLOC, KMEM_CACHE_ALLOC, KMEM_CACHE_FREE, MM_PAGE_ALLOC,
  MM_PAGE_FREE, NR_KINDS, type KmemEvent,
} from '../../src/trace/kmem_events.ts';
import { by_type_names, TraceParser } from '../../src/trace/parse.ts';
import { detect_compression, open_trace, parse_trace_file } from '../../src/node/trace_file.ts';

const TRACES = fileURLToPath(new URL('../../../shared/traces/', import.meta.url));
const BUILD = join(TRACES, 'kmem-trace-build.txt.xz');
const slab = (name: string) => join(TRACES, 'slab_compare', `kmem_${name}.log.xz`);
const missing = !existsSync(BUILD) && 'the shared traces are not beside the repository';

test('kmem-trace-build.txt.xz: header, counts per event, first and last events', { skip: missing }, async () => {
  let first: Record<string, unknown> | null = null;
  let last: KmemEvent | null = null;
  const kinds = new Array<number>(NR_KINDS).fill(0);
  let kfreeNull = 0;
  let allocsWithoutName = 0;
  let withoutNodeOrAccounted = 0;
  const cpus = [0, 0];
  let lastTs = -1;
  let tsBackwards = 0;
  const parser = { last: null as KmemEvent | null };
  const r = await parse_trace_file(BUILD, (e) => {
    first ??= event_object(e);
    kinds[e.kind]++;
    cpus[e.cpu]++;
    if (e.kind === KFREE && e.ptr === 0) kfreeNull++;
    if (e.kind === KMEM_CACHE_ALLOC && !(e.fields & F_NAME)) allocsWithoutName++;
    if ((e.kind === KMALLOC || e.kind === KMEM_CACHE_ALLOC) && (e.fields & (F_NODE | F_ACCOUNTED)) !== (F_NODE | F_ACCOUNTED)) {
      withoutNodeOrAccounted++;
    }
    if (e.ts < lastTs) tsBackwards++;
    lastTs = e.ts;
    parser.last = e;
  });
  last = parser.last;
  assert.equal(r.compression, 'xz');
  assert.equal(r.error, undefined);
  assert.equal(r.bytes, 36966400);
  assert.deepEqual(r.header, {
    tracer: 'nop', entries_in_buffer: 212524, entries_written: 212524, ncpus: 2, latency_columns: 5, tgid: false,
  });
  const st = r.stats;
  assert.equal(st.lines, 212536);
  assert.equal(st.comment_lines, 12);
  assert.equal(st.events, 212524);
  assert.deepEqual(by_type_names(st), {
    kmem_cache_alloc: 72232, kmem_cache_free: 59955, mm_page_alloc: 35791, mm_page_free: 21703,
    kfree: 18078, kmalloc: 4765,
  });
  assert.equal(kinds[KMEM_CACHE_ALLOC] + kinds[KMEM_CACHE_FREE] + kinds[MM_PAGE_ALLOC] + kinds[MM_PAGE_FREE]
    + kinds[KFREE] + kinds[KMALLOC], 212524);
  assert.equal(st.bad_lines, 0);
  assert.deepEqual(st.bad_examples, []);
  assert.equal(st.other_events.size, 0);
  assert.equal(st.unknown_gfp.size, 0);
  assert.equal(st.lost_events, 0);
  assert.equal(st.truncated, false);
  assert.deepEqual(cpus, [127545, 84979]);
  assert.equal(tsBackwards, 0); /* ftrace merges the per-CPU buffers in time order */
  assert.equal(kfreeNull, 13385);
  assert.equal(allocsWithoutName, 0);
  assert.equal(withoutNodeOrAccounted, 0);

  assert.deepEqual(first, {
    event: 'kmem_cache_free', type: 3, line: 13, comm: 'capture3.sh', pid: 7212, tgid: -1, cpu: 1, flags: '.....',
    ts: 596_514_984_000, fields: 0x7, legacy: false,
    call_site: '__fput+0x141/0x2a0', ptr: 0x7c89c7b9, name: 'lsm_file_cache',
  });
  assert.ok(last);
  assert.deepEqual(event_object(last), {
    event: 'kmem_cache_free', type: 3, line: 212536, comm: 'capture3.sh', pid: 7212, tgid: -1, cpu: 0,
    flags: '.....', ts: 598_693_155_000, fields: 0x7, legacy: false,
    call_site: 'do_sys_openat2+0x88/0xd0', ptr: 0xd3eee4b3, name: 'names_cache',
  });
});

test('kmem-trace-build: every distinct gfp string parses; the string tables', { skip: missing }, async () => {
  const { chunks } = await open_trace(BUILD);
  const p = new TraceParser(() => {});
  for await (const c of chunks) p.feed(c);
  const { stats } = p.end();
  assert.equal(stats.events, 212524);
  assert.equal(p.gfps.size, 43);
  for (const text of p.gfps.strings) {
    assert.notEqual(parse_gfp_flags(text), null, text);
  }
  assert.equal(p.call_sites.size, 143);
  assert.equal(p.names.size, 33);
  assert.equal(p.comms.size, 19);
  assert.deepEqual([...p.flag_strings.strings].sort(),
    ['.....', '...1.', '...2.', '..s..', '..s1.', '..s2.', '.N...', '.Ns..', '.Ns1.', 'd..1.', 'dN.2.']);
});

/* grep -c per event name on the decompressed logs; (null) = `grep -c 'ptr=  (null)'`. */
const SLAB_COMPARE = {
  SLUB: { entries: 11540, lines: 11551, by_type: { kmalloc: 2211, kfree: 428, kmem_cache_alloc: 6432, kmem_cache_free: 2469 }, nullFrees: 274, init: 10647 },
  SLAB: { entries: 10458, lines: 10469, by_type: { kmalloc: 2088, kfree: 354, kmem_cache_alloc: 5561, kmem_cache_free: 2455 }, nullFrees: 244, init: 9562 },
  SLOB: { entries: 10472, lines: 10483, by_type: { kmalloc_node: 2100, kfree: 374, kmem_cache_alloc_node: 5543, kmem_cache_free: 2455 }, nullFrees: 244, init: 9580 },
};

for (const [name, want] of Object.entries(SLAB_COMPARE)) {
  test(`slab_compare/kmem_${name}.log.xz: 3.x format, counts`, { skip: missing }, async () => {
    let nullFrees = 0;
    let init = 0;
    let legacy = 0;
    let named = 0;
    let kmallocs = 0;
    const r = await parse_trace_file(slab(name), (e) => {
      if (e.kind === KFREE && e.ptr === 0) nullFrees++;
      if (e.comm === 'init') init++;
      if (e.legacy) legacy++;
      if ((e.kind === KMEM_CACHE_FREE || e.kind === KMEM_CACHE_ALLOC) && e.fields & F_NAME) named++;
      if (e.kind === KMALLOC) {
        kmallocs++;
        assert.ok(e.bytes_alloc >= e.bytes_req);
      }
    });
    assert.equal(r.compression, 'xz');
    assert.deepEqual(r.header, {
      tracer: 'nop', entries_in_buffer: want.entries, entries_written: want.entries, ncpus: 1, latency_columns: 4,
      tgid: false,
    });
    assert.equal(r.stats.lines, want.lines);
    assert.equal(r.stats.events, want.entries);
    assert.deepEqual(by_type_names(r.stats), want.by_type);
    assert.equal(r.stats.bad_lines, 0);
    assert.equal(r.stats.unknown_gfp.size, 0);
    assert.equal(nullFrees, want.nullFrees);
    assert.equal(init, want.init);
    assert.equal(legacy, want.entries); /* every line: raw call sites, no accounted= */
    assert.equal(named, 0);
    const byType: Record<string, number> = want.by_type;
    assert.equal(kmallocs, byType.kmalloc ?? byType.kmalloc_node);
  });
}

test('the same trace as .xz, .gz and plain text gives the same events', { skip: missing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-trace-'));
  try {
    const chunks: Uint8Array[] = [];
    for await (const c of (await open_trace(slab('SLOB'))).chunks) chunks.push(c);
    const text = Buffer.concat(chunks);
    writeFileSync(join(dir, 'slob.log'), text);
    writeFileSync(join(dir, 'slob.log.gz'), gzipSync(text));
    /* The name does not matter, the magic bytes do. */
    writeFileSync(join(dir, 'slob.gz.txt'), gzipSync(text));
    const runs = [];
    for (const f of [slab('SLOB'), join(dir, 'slob.log'), join(dir, 'slob.log.gz'), join(dir, 'slob.gz.txt')]) {
      const events: string[] = [];
      const r = await parse_trace_file(f, (e) => events.push(JSON.stringify(event_object(e))));
      runs.push({ compression: r.compression, bytes: r.bytes, events });
    }
    assert.deepEqual(runs.map((r) => r.compression), ['xz', 'none', 'gzip', 'gzip']);
    for (const r of runs.slice(1)) {
      assert.equal(r.bytes, runs[0].bytes);
      assert.deepEqual(r.events, runs[0].events);
    }
    assert.equal(runs[0].events.length, 10472);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cut or damaged compressed file: the events before the damage, and the error', { skip: missing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmem-trace-'));
  try {
    const xz = readFileSync(BUILD);
    writeFileSync(join(dir, 'cut.xz'), xz.subarray(0, 200_000));
    const cut = await parse_trace_file(join(dir, 'cut.xz'), () => {});
    assert.equal(cut.error, 'xz: truncated xz data');
    assert.ok(cut.stats.events > 10_000, String(cut.stats.events));
    assert.equal(cut.stats.bad_lines, cut.stats.truncated ? 1 : 0);

    const damaged = Buffer.from(xz.subarray(0, 4096));
    damaged.fill(0x55, 100);
    writeFileSync(join(dir, 'damaged.xz'), damaged);
    const d = await parse_trace_file(join(dir, 'damaged.xz'), () => {});
    assert.match(d.error ?? '', /^xz: /);

    const gz = gzipSync(readFileSync(new URL(import.meta.url)));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 10));
    const g = await parse_trace_file(join(dir, 'cut.gz'), () => {});
    assert.match(g.error ?? '', /unexpected end/);
    assert.ok(g.stats.lines > 50);

    await assert.rejects(parse_trace_file(join(dir, 'absent.xz'), () => {}), /ENOENT/);
    writeFileSync(join(dir, 'empty'), '');
    const empty = await parse_trace_file(join(dir, 'empty'), () => {});
    assert.equal(empty.compression, 'none');
    assert.equal(empty.stats.lines, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('detect_compression: by magic bytes', () => {
  assert.equal(detect_compression(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00)), 'xz');
  assert.equal(detect_compression(Uint8Array.of(0x1f, 0x8b, 0x08)), 'gzip');
  assert.equal(detect_compression(new TextEncoder().encode('# tracer: nop')), 'none');
  assert.equal(detect_compression(Uint8Array.of(0xfd, 0x37)), 'none');
});

test('kmem-trace-build: the same events whatever the chunk sizes', { skip: missing }, async () => {
  const parts: Uint8Array[] = [];
  for await (const c of (await open_trace(BUILD)).chunks) parts.push(c);
  const bytes = Buffer.concat(parts);
  /* A digest of every field of every event, in order. */
  const digest = (sizes: () => number) => {
    let h = 0;
    const mix = (v: number) => {
      h = Math.imul(h ^ (v | 0), 0x01000193) ^ Math.floor(v / 2 ** 32);
    };
    const p = new TraceParser((e) => {
      const o = e as unknown as Record<string, number>;
      for (const k of ['type', 'line', 'comm_id', 'pid', 'cpu', 'ts', 'fields', 'call_site_id', 'ptr', 'name_id',
        'bytes_req', 'bytes_alloc', 'gfp_flags', 'node', 'page', 'pfn', 'order', 'migratetype']) mix(o[k]);
      mix((e as unknown as { accounted: boolean }).accounted ? 1 : 0);
      mix(e.flags.length);
    });
    for (let i = 0; i < bytes.length;) {
      const n = sizes();
      p.feed(bytes.subarray(i, i + n));
      i += n;
    }
    const { stats } = p.end();
    return { h, events: stats.events, lines: stats.lines, bad: stats.bad_lines };
  };
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return 1 + (seed >>> 8) % 5000;
  };
  const whole = digest(() => bytes.length);
  assert.deepEqual(whole.events, 212524);
  assert.deepEqual(digest(() => 65536), whole);
  assert.deepEqual(digest(random), whole);
});
