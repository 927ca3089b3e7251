/*
 * Replaying traces (src/trace/replay.ts) and the report (src/trace/report.ts):
 * the shared 6.18 trace parsed and replayed with its counts pinned (computed
 * once by this replay and cross-checked with grep where grep can count:
 * events per type, kfree(NULL) = `grep -c 'kfree: .*ptr=0000000000000000'`);
 * a trace recorded by kmem and replayed by kmem gives the same
 * /proc/slabinfo; small traces for each counted oddity; the JSON contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import type { Kernel, SlabCtor } from '../../src/kernel/kernel.ts';
import { readProc } from '../../src/fs/proc/procfs.ts';
import { parse_trace_text } from '../../src/trace/parse.ts';
import { TraceReplay, type ReplayResult } from '../../src/trace/replay.ts';
import { JSON_CONTRACT, report_html, report_json, report_text, svg_ticks } from '../../src/trace/report.ts';
import { parse_trace_file } from '../../src/node/trace_file.ts';
import { parseSlabList } from '../../src/cli/replay.ts';

const TRACES = fileURLToPath(new URL('../../../shared/traces/', import.meta.url));
const BUILD = join(TRACES, 'kmem-trace-build.txt.xz');
const missing = !existsSync(BUILD) && 'the shared traces are not beside the repository';

function boot(mem = '256M', cpus = 2): Kernel {
  return start_kernel(resolveConfig({ mem, cpus }), { errors: 'log' });
}

function replayText(text: string, k: Kernel = boot()): ReplayResult {
  const r = new TraceReplay(k);
  const parsed = parse_trace_text(text, (e) => r.event(e));
  return r.finish(parsed);
}

test('the shared 6.18 trace, parsed and replayed: pinned counts', { skip: missing }, async () => {
  const k = start_kernel(resolveConfig({ mem: '2G', cpus: 2 }), { errors: 'log' });
  const r = new TraceReplay(k);
  const parsed = await parse_trace_file(BUILD, (e) => r.event(e));
  const res = r.finish(parsed);
  assert.equal(res.events, 212524);
  assert.deepEqual(res.by_type, {
    kmalloc: 4765, kmem_cache_alloc: 72232, kfree: 18078, kmem_cache_free: 59955, mm_page_alloc: 35791, mm_page_free: 21703,
  });
  assert.equal(res.kfree_null, 13385);
  assert.equal(res.unmatched_frees, 244);
  assert.deepEqual(res.unmatched_frees_by_type, { kfree: 2, kmem_cache_free: 218, mm_page_free: 24 });
  assert.equal(res.failed_allocs, 0);
  assert.equal(res.trace_failed_allocs, 0);
  assert.equal(res.implicit_frees, 11324);
  assert.equal(res.bytes_req, 76675269);
  assert.equal(res.bytes_alloc, 76925168);
  assert.equal(res.trace_bytes_alloc, 76925168);
  // Fidelity: kmem's kmalloc gives every one of the 4,765 requests what Linux 6.18 gave,
  // and every cache created on first sight has the traced s->size.
  assert.equal(res.kmalloc_events, 4765);
  assert.equal(res.bytes_alloc_mismatches, 0);
  assert.deepEqual(res.kmalloc_mismatches, []);
  assert.equal(res.cache_size_mismatches, 0);
  assert.equal(res.caches_created, 32);
  assert.equal(res.cross_cpu_frees, 22240);
  assert.equal(res.cpus_folded, 0);
  assert.equal(res.slab_pages_skipped, 273);
  assert.equal(res.slab_page_frees_skipped, 210);
  assert.equal(res.slab_pages_start, 5);
  assert.equal(res.peak_slab_pages, 738);
  assert.equal(res.slab_pages_end, 530);
  assert.equal(res.kernel_log_records, 0);
  assert.deepEqual({ ...res.pages, by_gfp: undefined }, {
    allocs: 35518, frees: 23587, failed: 0, unmatched_frees: 24, cross_cpu_frees: 2446, held: 13801, peak_held: 22316,
    by_order: [34875, 0, 607, 1, 3, 0, 0, 0, 32, 0, 0], frees_by_order: [23554, 0, 1, 0, 0, 0, 0, 0, 32, 0, 0],
    by_migratetype: [4847, 30671, 0, 0, 0, 0], by_gfp: undefined,
  });
  assert.equal(res.pages.by_gfp['GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP'], 12350);
  const filp = res.caches.find((c) => c.name === 'filp')!;
  assert.deepEqual([filp.object_size, filp.size, filp.trace_size, filp.hwcache_align, filp.ctor], [184, 192, 192, true, false]);
  const inode = res.caches.find((c) => c.name === 'inode_cache')!;
  assert.deepEqual([inode.object_size, inode.size, inode.ctor], [616, 624, true]);
  assert.equal(res.call_sites[0].call_site, 'getname_flags.part.0+0x24/0x1f0');
  assert.equal(res.trace?.entries_in_buffer, 212524);
  assert.ok(res.events_per_second > 0);
  // The replaying machine is consistent afterwards: /proc/slabinfo lists the created caches.
  assert.match(readProc(k, 'slabinfo'), /^names_cache +\d+ +\d+ +4096 +8 +8 /m);
});

/** A tiny deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const init_once: SlabCtor = function init_once() {};

test('a trace recorded by kmem and replayed by kmem reproduces /proc/slabinfo', () => {
  const a = boot();
  // The workload's caches exist before tracing starts; the replay creates them at first sight.
  const foo = a.kmem_cache_create('foo_cache', 100, 0, a.SLAB_HWCACHE_ALIGN | a.SLAB_NO_MERGE);
  const bar = a.kmem_cache_create('bar_cache', 616, 0, a.SLAB_NO_MERGE, init_once);
  assert.equal(a.trace.set_buffer_size_kb(4096), 0);
  for (const ev of ['kmalloc', 'kfree', 'kmem_cache_alloc', 'kmem_cache_free', 'mm_page_alloc', 'mm_page_free']) {
    assert.equal(a.trace.enable(ev), 0);
  }
  const rand = rng(6);
  const objs: { p: number; s: number }[] = [];
  const pages: { page: number; order: number }[] = [];
  objs.push({ p: a.kmem_cache_alloc(foo, a.GFP_KERNEL), s: foo }, { p: a.kmem_cache_alloc(bar, a.GFP_KERNEL), s: bar });
  for (let i = 0; i < 4000; i++) {
    a.set_cpu(rand() < 0.5 ? 0 : 1);
    const x = rand();
    if (x < 0.3) {
      objs.push({ p: a.kmalloc(1 + Math.floor(rand() * 3000), rand() < 0.3 ? a.GFP_KERNEL_ACCOUNT : a.GFP_KERNEL), s: 0 });
    } else if (x < 0.5) {
      const s = rand() < 0.5 ? foo : bar;
      objs.push({ p: a.kmem_cache_alloc(s, a.GFP_KERNEL), s });
    } else if (x < 0.85 && objs.length > 0) {
      const { p, s } = objs.splice(Math.floor(rand() * objs.length), 1)[0];
      if (s === 0) a.kfree(p);
      else a.kmem_cache_free(s, p);
    } else if (x < 0.93) {
      const order = Math.floor(rand() * 3);
      pages.push({ page: a.alloc_pages(a.GFP_KERNEL, order), order });
    } else if (pages.length > 0) {
      const { page, order } = pages.splice(Math.floor(rand() * pages.length), 1)[0];
      a.__free_pages(page, order);
    }
  }
  a.kfree(0);
  a.set_cpu(0);
  const text = a.trace.read();
  const { entries, written } = a.trace.entries();
  assert.equal(entries, written, 'nothing was overwritten');

  const b = boot();
  const res = replayText(text, b);
  assert.equal(res.events, entries);
  assert.equal(res.unmatched_frees, 0);
  assert.equal(res.failed_allocs, 0);
  assert.equal(res.implicit_frees, 0);
  assert.equal(res.bytes_alloc_mismatches, 0);
  assert.equal(res.cache_size_mismatches, 0);
  assert.equal(res.kfree_null, 1);
  assert.equal(res.caches_created, 2);
  assert.equal(readProc(b, 'slabinfo'), readProc(a, 'slabinfo'));
});

test('counted, not fatal: kfree(NULL), unmatched frees, failed allocations, reused pointers, folded CPUs', () => {
  const hdr = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 9/9   #P:4\n#\n';
  const line = (cpu: number, ev: string, f: string) => `            make-100     [00${cpu}] .....   100.000001: ${ev}: ${f}\n`;
  const text = hdr +
    line(0, 'kfree', 'call_site=a+0x1/0x10 ptr=0000000000000000') +
    line(0, 'kfree', 'call_site=a+0x1/0x10 ptr=00000000deadbeef') +
    line(1, 'kmem_cache_free', 'call_site=a+0x1/0x10 ptr=00000000deadbef0 name=dentry') +
    line(0, 'kmalloc', 'call_site=b+0x2/0x20 ptr=0000000011111111 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false') +
    line(3, 'kmalloc', 'call_site=b+0x2/0x20 ptr=0000000011111111 bytes_req=200 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false') +
    line(0, 'kmalloc', 'call_site=c+0x3/0x30 ptr=0000000022222222 bytes_req=16777216 bytes_alloc=16777216 gfp_flags=GFP_KERNEL|__GFP_NOWARN node=-1 accounted=false') +
    line(0, 'mm_page_alloc', 'page=0000000000000000 pfn=0x0 order=0 migratetype=0 gfp_flags=GFP_KERNEL') +
    line(1, 'mm_page_free', 'page=00000000abcdabcd pfn=0x1234 order=0') +
    line(2, 'kmalloc', 'call_site=b+0x2/0x20 ptr=0000000033333333 bytes_req=100 bytes_alloc=96 gfp_flags=GFP_KERNEL node=-1 accounted=false');
  const res = replayText(text, boot('128M', 2));
  assert.equal(res.events, 9);
  assert.equal(res.kfree_null, 1);
  assert.equal(res.unmatched_frees, 3);
  assert.deepEqual(res.unmatched_frees_by_type, { kfree: 1, kmem_cache_free: 1, mm_page_free: 1 });
  assert.equal(res.implicit_frees, 1);
  assert.equal(res.failed_allocs, 1, '16 MiB is above the largest order');
  assert.equal(res.trace_failed_allocs, 1);
  assert.equal(res.cpus_folded, 2, 'CPUs 2 and 3 of a 4-CPU trace on a 2-CPU machine');
  assert.equal(res.bytes_alloc_mismatches, 1, 'a made-up 96 for 100 bytes');
  assert.deepEqual(res.kmalloc_mismatches, [{ bytes_req: 100, gfp: 'GFP_KERNEL', trace_bytes_alloc: 96, kmem_bytes_alloc: 128, events: 1 }]);
});

test('a 3.x trace without name= (slab_compare SLUB log): caches by size, old gfp names', { skip: missing }, async () => {
  const r = new TraceReplay(start_kernel(resolveConfig({ mem: '256M', cpus: 1, arch: 'i386' }), { errors: 'log' }));
  const parsed = await parse_trace_file(join(TRACES, 'slab_compare', 'kmem_SLUB.log.xz'), (e) => r.event(e));
  const res = r.finish(parsed);
  assert.deepEqual(res.by_type, { kmalloc: 2211, kmem_cache_alloc: 6432, kfree: 428, kmem_cache_free: 2469 });
  assert.equal(res.failed_allocs, 0);
  assert.equal(res.kmalloc_events, 2211);
  // 3.x SLUB on i386 had the same kmalloc size classes (8, 16, 32, 64, 96, 128, 192, ...).
  assert.equal(res.bytes_alloc_mismatches, 0);
  assert.ok(res.caches.some((c) => c.created && /^\d+-\d+$/.test(c.name)));
});

test('report_json: one object, the contract fields first with their types; text and HTML', () => {
  const k = boot();
  const hdr = '# tracer: nop\n#\n# entries-in-buffer/entries-written: 2/2   #P:2\n#\n';
  const res = replayText(hdr +
    '            make-100     [000] .....   100.000001: kmalloc: call_site=b+0x2/0x20 ptr=0000000011111111 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false\n' +
    '            make-100     [001] .....   100.000002: kfree: call_site=b+0x3/0x20 ptr=0000000011111111\n', k);
  const json = JSON.parse(report_json(res)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).slice(0, JSON_CONTRACT.length), [...JSON_CONTRACT]);
  assert.equal(json.events, 2);
  assert.deepEqual(json.by_type, { kmalloc: 1, kfree: 1 });
  for (const f of ['unmatched_frees', 'failed_allocs', 'bytes_req', 'bytes_alloc', 'bytes_alloc_mismatches', 'peak_slab_pages', 'events_per_second']) {
    assert.equal(typeof json[f], 'number', f);
  }
  assert.equal(json.bytes_req, 100);
  assert.equal(json.bytes_alloc, 128);
  assert.equal(json.cross_cpu_frees, 1);
  const text = report_text(res);
  assert.match(text, /Total bytes requested: +100/);
  assert.match(text, /FIDELITY: kmalloc bytes_alloc, kmem against the trace: 1 events, 0 disagree/);
  assert.match(text, /^b\+0x2\/0x20 +128\/128 +100\/100 +1 +1 +21\.88%/m);
  const html = report_html(res);
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.equal((html.match(/<svg /g) ?? []).length, 3);
  assert.ok(!/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'self-contained');
  assert.deepEqual(svg_ticks(0, 738), [0, 200, 400, 600, 800]);
});

test('--slab: a comma list of slub, slob, slab and slqb', () => {
  assert.deepEqual(parseSlabList('slub'), { slabs: ['slub'] });
  assert.deepEqual(parseSlabList('SLUB, slub'), { slabs: ['slub'] });
  assert.deepEqual(parseSlabList('slub,slab'), { slabs: ['slub', 'slab'] });
  assert.deepEqual(parseSlabList('slob'), { slabs: ['slob'] });
  assert.deepEqual(parseSlabList('slub,SLOB,slub'), { slabs: ['slub', 'slob'] });
  assert.deepEqual(parseSlabList('slqb,slab'), { slabs: ['slqb', 'slab'] });
  assert.deepEqual(parseSlabList('slub,SLUB+sheaves'), { slabs: ['slub', 'slub+sheaves'] });
  assert.match((parseSlabList('jemalloc') as { error: string }).error, /^--slab jemalloc: unknown slab allocator/);
});
