/*
 * The replay report (kmem replay's output): what `perf kmem stat` prints
 * for a trace, and what only a replay can add.
 *
 *   report_text(r)   plain text: the summary (bytes requested against
 *                    allocated, internal fragmentation, cross-CPU frees,
 *                    kfree(NULL), unmatched frees, failures, peak slab
 *                    pages), the fidelity check (kmalloc's bytes_alloc in
 *                    kmem against the trace's, event by event), the call
 *                    sites and caches with the most bytes (perf kmem's
 *                    --caller and a per-cache table), page allocations by
 *                    order, migratetype and gfp flags
 *   report_json(r)   one JSON object; its first fields are the contract
 *                    (events, by_type, unmatched_frees, failed_allocs,
 *                    bytes_req, bytes_alloc, bytes_alloc_mismatches,
 *                    peak_slab_pages, events_per_second), then everything
 *                    else ReplayResult holds
 *   report_html(r)   a self-contained page (no script, no network): the
 *                    same tables and three plots as inline SVG: the
 *                    footprint over the trace's time, internal
 *                    fragmentation per cache, page allocations per order
 *   compare_lines(runs), report_compare_html(runs)
 *                    one trace replayed on several slab implementations
 *                    (kmem replay --slab slub,slab,slob,slqb): one column
 *                    each (peak and final slab pages, bytes requested and
 *                    allocated, internal and external fragmentation,
 *                    objects per slab, cross-CPU frees, time, events/s),
 *                    and in HTML one plot of their footprints over time
 *
 * The plots are drawn here in SVG rather than by a charting library: the
 * libraries that make a chart without a browser are large (ECharts' SSR
 * renderer, Vega: megabytes of dependencies for three plots), the small
 * ones (Chartist, uPlot, Chart.js) need a DOM and their script in the page,
 * and d3-scale/d3-shape would only save the tick and path arithmetic,
 * which is the 40 lines of svg_* below (Heckbert's nice numbers).
 */
import { EVENT_NAMES } from './kmem_events.ts';
import type { CacheStats, CallSiteStats, ReplayResult } from './replay.ts';

/** The JSON contract's fields, in order. */
export const JSON_CONTRACT = [
  'events', 'by_type', 'unmatched_frees', 'failed_allocs', 'bytes_req', 'bytes_alloc', 'bytes_alloc_mismatches',
  'peak_slab_pages', 'events_per_second',
] as const;

/** One JSON object (contract fields first). */
export function report_json(r: ReplayResult, extra: Record<string, unknown> = {}): string {
  const out: Record<string, unknown> = {};
  for (const k of JSON_CONTRACT) out[k] = r[k];
  Object.assign(out, extra);
  for (const [k, v] of Object.entries(r)) if (!(k in out)) out[k] = v;
  return JSON.stringify(out, null, 2);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const frag = (req: number, alloc: number) => (alloc > 0 ? 1 - req / alloc : 0);
const MIGRATETYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate', 'CMA'];

/** Right-aligned columns; the first `left` columns left-aligned. */
function columns(rows: (string | number)[][], left = 1): string[] {
  const cells = rows.map((r) => r.map(String));
  const w: number[] = [];
  for (const r of cells) r.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, c.length)));
  return cells.map((r) => r.map((c, i) => (i < left ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd());
}

function perEvent(total: number, n: number): string {
  return n > 0 ? `${int(total)}/${int(total / n)}` : '0/0';
}

export interface ReportOptions {
  /** Rows of the call-site and cache tables (default 15). */
  top?: number;
  /** What was replayed, for the title. */
  title?: string;
}

/** The summary lines (also the demo's). */
export function summary_lines(r: ReplayResult): string[] {
  const unmatched = Object.entries(r.unmatched_frees_by_type).map(([t, n]) => `${t} ${int(n)}`).join(', ');
  const traceHdr = r.trace
    ? `  trace: ${int(r.trace.entries_in_buffer)}/${int(r.trace.entries_written)} entries, #P:${r.trace.ncpus}, ` +
      `${int(r.trace.lines)} lines, ${int(r.trace.bad_lines)} not understood, ${int(r.trace.lost_events)} lost`
    : null;
  const lines = [
    `Replayed ${int(r.events)} events in ${(r.replay_ms / 1000).toFixed(2)} s (${int(r.events_per_second)} events/s) ` +
      `on ${r.machine.cpus} CPUs, ${int(r.machine.mem_bytes / 2 ** 20)} MiB, ${r.machine.slab}`,
  ];
  if (traceHdr) lines.push(traceHdr);
  lines.push(
    '',
    'SUMMARY (slab: kmalloc and kmem_cache_alloc)',
    '==========================================',
    ...[
      ['Total bytes requested:', int(r.bytes_req), ''],
      ['Total bytes allocated:', int(r.bytes_alloc), `trace: ${int(r.trace_bytes_alloc)}`],
      ['Internal fragmentation:', pct(r.internal_fragmentation), `trace: ${pct(r.trace_internal_fragmentation)}`],
      ['Cross CPU frees:', int(r.cross_cpu_frees), 'freed on another CPU than allocated (objects and pages)'],
      ['kfree(NULL):', int(r.kfree_null), ''],
      ['Unmatched frees:', int(r.unmatched_frees), unmatched === '' ? '' : `(${unmatched}): allocated before the capture`],
      ['Implicit frees:', int(r.implicit_frees), 'pointers reused without a traced free'],
      ['Failed allocations:', int(r.failed_allocs), `failed on the traced machine: ${int(r.trace_failed_allocs)}`],
      ['Peak slab pages:', int(r.peak_slab_pages), `at start ${int(r.slab_pages_start)}, at end ${int(r.slab_pages_end)}`],
      ['Caches created:', int(r.caches_created), ''],
    ].map(([a, b, c]) => `  ${a.padEnd(24)}${b.padStart(12)}  ${c}`.trimEnd()),
  );
  return lines;
}

/** The fidelity lines: kmalloc's bytes_alloc, kmem against the trace. */
export function fidelity_lines(r: ReplayResult): string[] {
  const lines = [
    `FIDELITY: kmalloc bytes_alloc, kmem against the trace: ${int(r.kmalloc_events)} events, ` +
      `${int(r.bytes_alloc_mismatches)} disagree`,
    `          kmem_cache_alloc s->size against the trace's bytes_alloc: ${int(r.cache_size_mismatches)} events disagree`,
  ];
  if (r.kmalloc_mismatches.length > 0) {
    lines.push(...columns([['  bytes_req', 'gfp_flags', 'trace', 'kmem', 'events'],
      ...r.kmalloc_mismatches.slice(0, 20).map((m) => [`  ${m.bytes_req}`, m.gfp, m.trace_bytes_alloc, m.kmem_bytes_alloc, m.events])], 2));
  }
  return lines;
}

function siteRows(sites: readonly CallSiteStats[], top: number): string[] {
  return columns([
    ['Callsite', 'Total_alloc/Per', 'Total_req/Per', 'Hit', 'Ping-pong', 'Frag', 'Trace_alloc'],
    ...sites.slice(0, top).map((s) => [
      s.call_site, perEvent(s.bytes_alloc, s.allocs), perEvent(s.bytes_req, s.allocs), int(s.allocs),
      int(s.cross_cpu_frees), pct(frag(s.bytes_req, s.bytes_alloc)), int(s.trace_bytes_alloc),
    ]),
  ]);
}

function cacheRows(caches: readonly CacheStats[], top: number): string[] {
  return columns([
    ['Cache', 'objsize', 'size', 'trace', 'Allocs', 'Frees', 'Live', 'Peak', 'Bytes_req', 'Bytes_alloc', 'Frag'],
    ...caches.slice(0, top).map((c) => [
      c.name + (c.created ? '' : '*'), c.object_size, c.size, c.trace_size < 0 ? '-' : c.trace_size, int(c.allocs),
      int(c.frees), int(c.live), int(c.peak_live), int(c.bytes_req), int(c.bytes_alloc), pct(frag(c.bytes_req, c.bytes_alloc)),
    ]),
  ]);
}

/** The page allocator section. */
export function page_lines(r: ReplayResult): string[] {
  const p = r.pages;
  const lines = [
    `PAGE ALLOCATIONS: ${int(p.allocs)} (failed ${int(p.failed)}), frees ${int(p.frees)}, unmatched frees ${int(p.unmatched_frees)}, ` +
      `cross-CPU frees ${int(p.cross_cpu_frees)}`,
    `  pages held: ${int(p.held)} at the end, ${int(p.peak_held)} at most; ` +
      `slab pages left to kmem's SLUB: ${int(r.slab_pages_skipped)} allocated, ${int(r.slab_page_frees_skipped)} freed`,
    '',
    ...columns([['  order', 'allocs', 'frees'],
      ...p.by_order.map((n, o) => [`  ${o}`, int(n), int(p.frees_by_order[o])]).filter((row, o) => p.by_order[o] + p.frees_by_order[o] > 0 || row[0] === '  0')], 1),
    '',
    ...columns([['  migratetype', 'allocs'], ...p.by_migratetype.map((n, mt) => [`  ${MIGRATETYPES[mt]}`, int(n)]).filter((_, mt) => p.by_migratetype[mt] > 0)], 1),
    '',
    ...columns([['  gfp_flags', 'allocs'], ...Object.entries(p.by_gfp).slice(0, 15).map(([g, n]) => [`  ${g}`, int(n)])], 1),
  ];
  return lines;
}

/** The whole text report. */
export function report_text(r: ReplayResult, opts: ReportOptions = {}): string {
  const top = opts.top ?? 15;
  const lines: string[] = [];
  if (opts.title) lines.push(opts.title, '');
  lines.push(...summary_lines(r), '');
  lines.push(...columns([['EVENTS', 'count'], ...Object.entries(r.by_type).map(([t, n]) => [`  ${t}`, int(n)])], 1), '');
  lines.push(...fidelity_lines(r), '');
  lines.push(`CALL SITES (top ${Math.min(top, r.call_sites.length)} of ${r.call_sites.length} by bytes allocated in kmem; ` +
    'Ping-pong: objects freed on another CPU)');
  lines.push(...siteRows(r.call_sites, top), '');
  lines.push(`CACHES (top ${Math.min(top, r.caches.length)} of ${r.caches.length} by bytes allocated; * = the machine's own cache)`);
  lines.push(...cacheRows(r.caches, top), '');
  lines.push(...page_lines(r));
  return lines.join('\n') + '\n';
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Heckbert's nice numbers: about n ticks covering [lo, hi]. */
export function svg_ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const nice = (x: number, round: boolean) => {
    const e = Math.floor(Math.log10(x));
    const f = x / 10 ** e;
    const nf = round ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) : f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * 10 ** e;
  };
  const step = nice(nice(hi - lo, false) / Math.max(1, n - 1), true);
  const out: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  if (out[out.length - 1] < hi) out.push(Number((out[out.length - 1] + step).toPrecision(12)));
  return out;
}

function tickLabel(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (Math.abs(v) >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

const W = 720;
const H = 300;
const M = { l: 64, r: 16, t: 28, b: 44 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** A line chart of several series over x (a series may bring its own x). */
export function svg_lines(title: string, xLabel: string, yLabel: string, x: readonly number[],
  series: readonly { name: string; y: readonly number[]; x?: readonly number[] }[]): string {
  const allX = [x, ...series.map((s) => s.x ?? x)].flat();
  const xs = svg_ticks(Math.min(...allX, 0), Math.max(...allX, 1), 6);
  const ys = svg_ticks(0, Math.max(1, ...series.flatMap((s) => s.y)), 5);
  const [x0, x1] = [xs[0], xs[xs.length - 1]];
  const [y0, y1] = [ys[0], ys[ys.length - 1]];
  const px = (v: number) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const py = (v: number) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" class="t">${esc(title)}</text>`];
  for (const t of ys) parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" class="g"/>`,
    `<text x="${M.l - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${tickLabel(t)}</text>`);
  for (const t of xs) parts.push(`<text x="${px(t).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" class="a"/>`,
    `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" class="a"/>`,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const sx = s.x ?? x;
    const d = s.y.map((v, j) => `${j === 0 ? 'M' : 'L'}${px(sx[j]).toFixed(1)},${py(v).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.5"/>`,
      `<rect x="${M.l + 10 + i * 160}" y="${M.t + 2}" width="12" height="3" fill="${COLOURS[i % COLOURS.length]}"/>`,
      `<text x="${M.l + 26 + i * 160}" y="${M.t + 7}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A vertical bar chart. */
export function svg_bars(title: string, xLabel: string, yLabel: string, labels: readonly string[], values: readonly number[]): string {
  const ys = svg_ticks(0, Math.max(1, ...values), 5);
  const y1 = ys[ys.length - 1];
  const bw = (W - M.l - M.r) / Math.max(1, labels.length);
  const py = (v: number) => H - M.b - (v / y1) * (H - M.t - M.b);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" class="t">${esc(title)}</text>`];
  for (const t of ys) parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" class="g"/>`,
    `<text x="${M.l - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${tickLabel(t)}</text>`);
  labels.forEach((l, i) => {
    const x = M.l + i * bw;
    const v = values[i];
    parts.push(`<rect x="${(x + bw * 0.15).toFixed(1)}" y="${py(v).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" ` +
      `height="${(H - M.b - py(v)).toFixed(1)}" fill="${COLOURS[0]}"><title>${esc(l)}: ${int(v)}</title></rect>`,
    `<text x="${(x + bw / 2).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">${esc(l)}</text>`);
  });
  parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" class="a"/>`,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`, '</svg>');
  return parts.join('\n');
}

/** A horizontal bar chart (one row per label), values in percent. */
export function svg_hbars(title: string, labels: readonly string[], values: readonly number[], unit = '%'): string {
  const rowH = 18;
  const left = 190;
  const h = M.t + labels.length * rowH + 34;
  const xs = svg_ticks(0, Math.max(1, ...values), 5);
  const x1 = xs[xs.length - 1];
  const px = (v: number) => left + (v / x1) * (W - left - M.r - 40);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" class="t">${esc(title)}</text>`];
  for (const t of xs) parts.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${M.t}" y2="${h - 30}" class="g"/>`,
    `<text x="${px(t).toFixed(1)}" y="${h - 16}" text-anchor="middle">${tickLabel(t)}${unit}</text>`);
  labels.forEach((l, i) => {
    const y = M.t + i * rowH;
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(l)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${Math.max(0, px(values[i]) - left).toFixed(1)}" height="${rowH - 6}" fill="${COLOURS[1]}">` +
      `<title>${esc(l)}: ${values[i].toFixed(2)}${unit}</title></rect>`,
      `<text x="${(px(values[i]) + 4).toFixed(1)}" y="${y + 13}">${values[i].toFixed(1)}${unit}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The page's head and style, shared by both HTML reports. */
function htmlHead(title: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;margin:1em 0;font:11px sans-serif}svg .t{font-size:13px;font-weight:bold}
svg .g{stroke:#e5e5e5}svg .a{stroke:#444}
.note{color:#666;font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>`;
}

function htmlTable(rows: readonly (readonly (string | number)[])[], left = 1): string {
  const [head, ...body] = rows;
  const cell = (tag: string, c: string | number, i: number) => `<${tag}${i >= left ? ' class="n"' : ''}>${esc(String(c))}</${tag}>`;
  return '<table><thead><tr>' + head.map((c, i) => cell('th', c, i)).join('') + '</tr></thead><tbody>' +
    body.map((r) => '<tr>' + r.map((c, i) => cell('td', c, i)).join('') + '</tr>').join('') + '</tbody></table>';
}

/** The self-contained HTML report. */
export function report_html(r: ReplayResult, opts: ReportOptions = {}): string {
  const top = opts.top ?? 25;
  const title = opts.title ?? 'kmem replay';
  const fp = r.footprint;
  const t0 = fp.length > 0 ? fp[0].ts : 0;
  const footprint = svg_lines('Footprint over the trace\'s time', 'trace time (s)', 'pages', fp.map((s) => (s.ts - t0) / 1e9), [
    { name: 'slab pages (kmem)', y: fp.map((s) => s.slab_pages) },
    { name: 'pages from mm_page_alloc', y: fp.map((s) => s.pages) },
    { name: 'live slab bytes / 4096', y: fp.map((s) => s.bytes_alloc / 4096) },
  ]);
  const caches = r.caches.filter((c) => c.allocs > 0).slice(0, 20);
  const fragSvg = svg_hbars('Internal fragmentation per cache (1 - bytes_req / bytes_alloc)', caches.map((c) => c.name),
    caches.map((c) => frag(c.bytes_req, c.bytes_alloc) * 100));
  let lastOrder = 0;
  r.pages.by_order.forEach((n, o) => {
    if (n > 0) lastOrder = o;
  });
  const orders = r.pages.by_order.slice(0, Math.max(4, lastOrder + 1));
  const orderSvg = svg_bars('Page allocations per order', 'order', 'allocations', orders.map((_, o) => String(o)), orders);
  const summary = htmlTable([
    ['', 'kmem', 'trace'],
    ['events', int(r.events), r.trace ? int(r.trace.entries_in_buffer) : ''],
    ['bytes requested', int(r.bytes_req), int(r.bytes_req)],
    ['bytes allocated', int(r.bytes_alloc), int(r.trace_bytes_alloc)],
    ['internal fragmentation', pct(r.internal_fragmentation), pct(r.trace_internal_fragmentation)],
    ['kmalloc bytes_alloc disagreements', `${int(r.bytes_alloc_mismatches)} of ${int(r.kmalloc_events)}`, ''],
    ['kmem_cache_alloc size disagreements', int(r.cache_size_mismatches), ''],
    ['cross-CPU frees', int(r.cross_cpu_frees), ''],
    ['kfree(NULL)', int(r.kfree_null), ''],
    ['unmatched frees', int(r.unmatched_frees), ''],
    ['implicit frees', int(r.implicit_frees), ''],
    ['failed allocations', int(r.failed_allocs), int(r.trace_failed_allocs)],
    ['peak slab pages', int(r.peak_slab_pages), ''],
    ['events/s', int(r.events_per_second), ''],
  ]);
  const sites = htmlTable([
    ['Callsite', 'Total_alloc', 'Per', 'Total_req', 'Per', 'Hit', 'Ping-pong', 'Frag', 'Trace_alloc'],
    ...r.call_sites.slice(0, top).map((s) => [s.call_site, int(s.bytes_alloc), int(s.allocs ? s.bytes_alloc / s.allocs : 0),
      int(s.bytes_req), int(s.allocs ? s.bytes_req / s.allocs : 0), int(s.allocs), int(s.cross_cpu_frees),
      pct(frag(s.bytes_req, s.bytes_alloc)), int(s.trace_bytes_alloc)]),
  ]);
  const cacheTable = htmlTable([
    ['Cache', 'objsize', 'size', 'trace size', 'allocs', 'frees', 'live', 'peak', 'bytes_req', 'bytes_alloc', 'frag'],
    ...r.caches.slice(0, top).map((c) => [c.name + (c.created ? '' : ' *'), c.object_size, c.size, c.trace_size < 0 ? '-' : c.trace_size,
      int(c.allocs), int(c.frees), int(c.live), int(c.peak_live), int(c.bytes_req), int(c.bytes_alloc), pct(frag(c.bytes_req, c.bytes_alloc))]),
  ]);
  const events = htmlTable([['event', 'count'], ...Object.entries(r.by_type).map(([t, n]) => [t, int(n)])]);
  const gfp = htmlTable([['gfp_flags', 'allocations'], ...Object.entries(r.pages.by_gfp).map(([g, n]) => [g, int(n)])]);
  return `${htmlHead(title)}
<p>${esc(`${int(r.events)} events replayed on ${r.machine.cpus} CPUs, ${int(r.machine.mem_bytes / 2 ** 20)} MiB, ${r.machine.slab}, ` +
    `in ${(r.replay_ms / 1000).toFixed(2)} s (${int(r.events_per_second)} events/s).`)}</p>
<h2>Summary</h2>
${summary}
${events}
<h2>Footprint</h2>
${footprint}
<p class="note">Slab pages: the machine's NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B (boot caches included); pages from mm_page_alloc: the replayed page allocations still held; live slab bytes: the replayed objects' bytes_alloc.</p>
<h2>Fragmentation per cache</h2>
${fragSvg}
${cacheTable}
<p class="note">* the machine's own cache (kmalloc caches); the others were created on first sight of their name.</p>
<h2>Call sites</h2>
${sites}
<h2>Page allocations</h2>
${orderSvg}
${htmlTable([['migratetype', 'allocations'], ...r.pages.by_migratetype.map((n, mt) => [MIGRATETYPES[mt], int(n)]).filter((_, mt) => r.pages.by_migratetype[mt] > 0)])}
${gfp}
<p class="note">Generated by kmem (${esc(EVENT_NAMES.slice(0, 6).join(', '))}, ...).</p>
</body></html>
`;
}

/* ------------------------------------------------------------------ */
/* Several implementations                                             */
/* ------------------------------------------------------------------ */

/** One replay of the comparison: the implementation's name (slub, slab, slob, slqb) and its result. */
export interface CompareRun {
  name: string;
  result: ReplayResult;
}

const pct1 = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The comparison's rows: label, and the cell of one replay. */
const COMPARE_ROWS: readonly (readonly [string, (r: ReplayResult) => string])[] = [
  ['events replayed', (r) => int(r.events)],
  ['peak slab pages', (r) => int(r.peak_slab_pages)],
  ['final slab pages', (r) => int(r.slab_pages_end)],
  ['bytes requested', (r) => int(r.bytes_req)],
  ['bytes allocated', (r) => int(r.bytes_alloc)],
  ['internal fragmentation', (r) => pct1(r.internal_fragmentation)],
  ['external fragmentation', (r) => pct1(r.external_fragmentation)],
  ['objects per slab', (r) => (r.objects_per_slab > 0 ? r.objects_per_slab.toFixed(1) : '-')],
  ['cross-CPU frees', (r) => int(r.cross_cpu_frees)],
  ['replay time (s)', (r) => (r.replay_ms / 1000).toFixed(2)],
  ['events/s', (r) => int(r.events_per_second)],
];

/** The comparison as text: a header of implementation names, one column each. */
export function compare_lines(runs: readonly CompareRun[]): string[] {
  const labelW = Math.max(...COMPARE_ROWS.map(([l]) => l.length));
  const colW = Math.max(10, ...runs.map((r) => r.name.length), ...runs.flatMap((r) => COMPARE_ROWS.map(([, f]) => f(r.result).length))) + 2;
  const out = [''.padEnd(labelW) + runs.map((r) => r.name.toUpperCase().padStart(colW)).join('')];
  for (const [label, f] of COMPARE_ROWS) out.push(label.padEnd(labelW) + runs.map((r) => f(r.result).padStart(colW)).join(''));
  return out;
}

/**
 * One page for the comparison: the table, the footprints of every
 * implementation over the trace's time in one plot (slab pages, and the
 * live objects' bytes allocated), and the top caches of each.
 */
export function report_compare_html(runs: readonly CompareRun[], opts: ReportOptions = {}): string {
  const top = opts.top ?? 10;
  const title = opts.title ?? `kmem replay on ${runs.map((r) => r.name.toUpperCase()).join(', ')}`;
  const t0 = Math.min(...runs.map((r) => r.result.footprint[0]?.ts ?? 0));
  const xOf = (r: ReplayResult) => r.footprint.map((s) => (s.ts - t0) / 1e9);
  const slabPlot = svg_lines('Slab pages over the trace\'s time', 'trace time (s)', 'slab pages', [],
    runs.map((r) => ({ name: r.name.toUpperCase(), x: xOf(r.result), y: r.result.footprint.map((s) => s.slab_pages) })));
  const livePlot = svg_lines('Live objects\' bytes allocated over the trace\'s time', 'trace time (s)', 'pages (bytes / 4096)', [],
    runs.map((r) => ({ name: r.name.toUpperCase(), x: xOf(r.result), y: r.result.footprint.map((s) => s.bytes_alloc / 4096) })));
  const table = htmlTable([['', ...runs.map((r) => r.name.toUpperCase())],
    ...COMPARE_ROWS.map(([label, f]) => [label, ...runs.map((r) => f(r.result))])]);
  const first = runs[0]?.result;
  const machine = first === undefined ? '' : `${first.machine.cpus} CPUs, ${int(first.machine.mem_bytes / 2 ** 20)} MiB`;
  const caches = runs.map((r) => `<h3>${esc(r.name.toUpperCase())}</h3>\n` + htmlTable([
    ['Cache', 'objsize', 'size', 'objects/slab', 'allocs', 'peak live', 'bytes_alloc', 'frag'],
    ...r.result.caches.slice(0, top).map((c) => [c.name + (c.created ? '' : ' *'), c.object_size, c.size,
      c.objects_per_slab > 0 ? c.objects_per_slab : '-', int(c.allocs), int(c.peak_live), int(c.bytes_alloc), pct(frag(c.bytes_req, c.bytes_alloc))]),
  ])).join('\n');
  return `${htmlHead(title)}
<p>${esc(`The same ${int(first?.events ?? 0)} events replayed on a fresh machine (${machine}) with each slab implementation.`)}</p>
<h2>Side by side</h2>
${table}
<p class="note">Slab pages: NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B (the boot's caches included). External fragmentation: the part of the slab pages the replay added that holds no live object at the end. Objects per slab: over the caches the replay used, weighted by allocations (SLOB has no per-cache slabs). Time and events/s are kmem's speed on each implementation's code, not the kernel's.</p>
<h2>Footprint</h2>
${slabPlot}
${livePlot}
<h2>Caches with the most bytes</h2>
${caches}
<p class="note">* a cache of the machine's own (kmalloc caches); the others were created on first sight of their name.</p>
</body></html>
`;
}
