/*
 * `kmem replay TRACE`: run a kmem trace (ftrace text of the kmem events,
 * plain, .gz or .xz; "-" for standard input) on a booted machine and
 * report, like `perf kmem stat` and more (src/trace/replay.ts,
 * src/trace/report.ts).
 *
 *   kmem replay TRACE [--slab slub] [--mem 2G] [--cpus N] [boot flags]
 *                     [--json] [--html FILE] [--proc-dir DIR] [--top N] [--limit N]
 *
 * The machine boots when the first event arrives, so that --cpus can
 * default to the trace's #P (its CPU count); other boot flags as `kmem
 * boot`. --slab takes a comma list of slab allocators to replay on (slub,
 * slob, slab, slqb, and slub+sheaves: SLUB with percpu sheaves on every
 * cache, as Linux 7.0; --sheaves applies to a plain slub): the trace is
 * replayed on a fresh machine for each;
 * the text output opens with the comparison table (report.ts
 * compare_lines()) and the summaries side by side, then each report;
 * --json prints one object keyed by implementation name (each value what a
 * single replay prints); --html FILE writes one page comparing them, with
 * their footprints over time in one plot (report_compare_html()). --limit
 * replays only the first N events (and stops reading). --json prints one
 * JSON object on stdout instead of the text report. A progress bar with
 * events/s goes to stderr when stderr is a terminal (and not with
 * --quiet); nothing otherwise.
 *
 * Exit status: 0; 1 when the trace cannot be read (or is damaged: the
 * events before the damage are replayed and reported); 2 for a usage or
 * configuration error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import { ConfigError, SLAB_IMPLS } from '../machine/config.ts';
import { start_kernel } from '../init/main.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { TraceParser, type TraceHeader } from '../trace/parse.ts';
import { TraceReplay, type ReplayResult } from '../trace/replay.ts';
import { compare_lines, report_compare_html, report_html, report_json, report_text, type CompareRun } from '../trace/report.ts';
import { open_trace } from '../node/trace_file.ts';
import { is_xz_file, open_xz_in_worker } from '../node/xz_worker.ts';
import { configFromFlags, describeMachine, type BootFlags } from './options.ts';
import { writeProcDir } from './summary.ts';
import { Output } from './output.ts';

export interface ReplayFlags extends BootFlags {
  slab?: string;
  json?: boolean;
  html?: string;
  top?: string;
  limit?: string;
}

/** A --slab name that is SLUB with percpu sheaves on every cache (MachineConfig.sheaves 'all', Linux 7.0). */
const SLUB_SHEAVES = 'slub+sheaves';

/** --slab's comma list, checked; a message for the first one that cannot be used. */
export function parseSlabList(text: string): { slabs: string[] } | { error: string } {
  const slabs: string[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    if (!(SLAB_IMPLS as readonly string[]).includes(name) && name !== SLUB_SHEAVES) {
      return { error: `--slab ${name}: unknown slab allocator (slub, slob, slab, slqb, ${SLUB_SHEAVES})` };
    }
    if (!slabs.includes(name)) slabs.push(name);
  }
  if (slabs.length === 0) return { error: '--slab: no slab allocator named' };
  return { slabs };
}

function positiveInt(v: string | undefined, what: string): number | null | { error: string } {
  if (v === undefined) return null;
  if (!/^\s*\d+\s*$/.test(v) || Number(v) <= 0) return { error: `${what} ${v}: expected a positive integer` };
  return Number(v);
}

/** Boot the replay machine: the flags, with --cpus defaulting to the trace's CPU count. */
function bootFor(flags: ReplayFlags, header: TraceHeader, slab: string): Kernel {
  const f = slab === SLUB_SHEAVES ? { ...flags, slab: 'slub', sheaves: 'all' } : { ...flags, slab };
  if (f.cpus === undefined && header.ncpus > 0) f.cpus = String(header.ncpus);
  return start_kernel(configFromFlags(f), { errors: flags.errors ?? 'log' });
}

export async function replayCommand(trace: string, flags: ReplayFlags, out: Output, err: Output,
  stderr: { isTTY?: boolean } = process.stderr): Promise<number> {
  const slab = parseSlabList(flags.slab ?? 'slub');
  if ('error' in slab) {
    err.line(`kmem: ${slab.error}`);
    return 2;
  }
  const top = positiveInt(flags.top, '--top');
  const limit = positiveInt(flags.limit, '--limit');
  for (const v of [top, limit]) {
    if (v !== null && typeof v === 'object') {
      err.line(`kmem: ${v.error}`);
      return 2;
    }
  }
  const topN = typeof top === 'number' ? top : null;
  const limitN = typeof limit === 'number' ? limit : null;
  if (slab.slabs.length === 1) return (await replayOne(trace, flags, slab.slabs[0], topN, limitN, out, err, stderr)).status;
  // Several implementations: each replay's output is collected, then printed together.
  const runs: { name: string; json: string; text: string[]; status: number }[] = [];
  const results: CompareRun[] = [];
  for (const name of slab.slabs) {
    let buf = '';
    const collect = new Output({ write: (t: string) => { buf += t; } }, false, out.width);
    const one = await replayOne(trace, { ...flags, html: undefined }, name, topN, limitN, collect, err, stderr);
    if (one.status === 2) return 2;
    const lines = buf.replace(/\n$/, '').split('\n');
    runs.push({ name, json: flags.json ? lines.join('\n') : '', text: flags.json ? [] : lines, status: one.status });
    if (one.result !== undefined) results.push({ name, result: one.result });
  }
  if (flags.json) {
    const obj: Record<string, unknown> = {};
    for (const r of runs) obj[r.name] = r.json === '' ? null : JSON.parse(r.json);
    out.line(JSON.stringify(obj, null, 2));
  } else {
    out.lines(compare_lines(results).join('\n'));
    out.line();
    out.lines(sideBySide(runs.map((r) => r.name), runs.map((r) => r.text)).join('\n'));
    for (const r of runs) {
      out.line();
      for (const l of r.text) out.line(l);
    }
  }
  if (flags.html !== undefined) {
    mkdirSync(dirname(flags.html), { recursive: true });
    writeFileSync(flags.html, report_compare_html(results, {
      title: `kmem replay ${trace} on ${results.map((r) => r.name.toUpperCase()).join(', ')}`,
      ...(topN !== null ? { top: topN } : {}),
    }));
    if (!flags.json) out.line(`Wrote the HTML comparison to ${flags.html}`);
  }
  return Math.max(...runs.map((r) => r.status));
}

/** The summary of each report (after its title, up to the EVENTS table; no blank lines), in columns. */
function sideBySide(names: string[], texts: string[][]): string[] {
  const blocks = texts.map((t) => {
    const lines = t.join('\n').split('\n');
    let end = lines.findIndex((l) => l.startsWith('EVENTS'));
    if (end < 0) end = lines.length;
    return lines.slice(1, end).filter((l) => l.trim() !== '' && !/^=+$/.test(l));
  });
  const width = Math.max(20, ...blocks.flat().map((l) => l.length)) + 2;
  const rows = Math.max(...blocks.map((b) => b.length));
  const out = [names.map((n) => n.toUpperCase().padEnd(width)).join('').trimEnd()];
  for (let i = 0; i < rows; i++) out.push(blocks.map((b) => (b[i] ?? '').padEnd(width)).join('').trimEnd());
  return out;
}

/** One replay, reported on out; its status and (unless it failed before replaying) its result. */
async function replayOne(trace: string, flags: ReplayFlags, slabName: string, top: number | null, limit: number | null,
  out: Output, err: Output, stderr: { isTTY?: boolean }): Promise<{ status: number; result?: ReplayResult }> {
  const maxEvents = typeof limit === 'number' ? limit : Infinity;

  let opened;
  try {
    // .xz: decompressed in a worker thread, overlapping with the parser and the replay.
    opened = is_xz_file(trace) ? open_xz_in_worker(trace) : await open_trace(trace);
  } catch (e) {
    err.line(`kmem: replay: cannot read ${trace}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return { status: 1 };
  }

  const wall0 = performance.now();
  let k: Kernel | null = null;
  let replay: TraceReplay | null = null;
  let bootError: unknown = null;
  let seen = 0;
  const parser: TraceParser = new TraceParser((e) => {
    if (seen >= maxEvents || bootError !== null) return;
    if (replay === null) {
      try {
        k = bootFor(flags, parser.header, slabName);
      } catch (x) {
        bootError = x;
        return;
      }
      replay = new TraceReplay(k);
    }
    seen++;
    replay.event(e);
  });

  const showProgress = stderr.isTTY === true && !flags.quiet && !flags.json;
  let bar: cliProgress.SingleBar | null = null;
  let t0 = 0;
  let readError: string | undefined;
  let bytes = 0;
  const it = opened.chunks[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await it.next();
    } catch (e) {
      readError = e instanceof Error ? e.message : String(e);
      break;
    }
    if (r.done) break;
    bytes += r.value.length;
    parser.feed(r.value);
    if (bootError !== null || seen >= maxEvents) break;
    if (showProgress && seen > 0) {
      const total = Math.min(maxEvents, parser.header.entries_in_buffer > 0 ? parser.header.entries_in_buffer : seen);
      if (bar === null) {
        bar = new cliProgress.SingleBar({
          format: 'replay |{bar}| {percentage}% | {value}/{total} events | {speed} events/s',
          hideCursor: true, clearOnComplete: true, stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(total, seen), seen, { speed: 0 });
        t0 = performance.now();
      }
      const dt = (performance.now() - t0) / 1000;
      bar.setTotal(Math.max(total, seen));
      bar.update(seen, { speed: dt > 0 ? Math.round(seen / dt).toLocaleString('en-US') : 0 });
    }
  }
  if (bar !== null) (bar as cliProgress.SingleBar).stop();
  // Stopping early (--limit, a boot error) must still close the reader: the .xz worker ends in its finally.
  await it.return?.(undefined);
  if (bootError !== null) {
    const e = bootError as Error;
    err.line(e instanceof ConfigError ? `kmem: ${e.message}` : `kmem: boot failed: ${e.message}`);
    return { status: e instanceof ConfigError ? 2 : 1 };
  }
  // Stopped at --limit: the counts so far (end() would count the cut line as not understood).
  const limited = Number.isFinite(maxEvents) && seen >= maxEvents;
  const parsed = limited ? { header: parser.header, stats: parser.stats } : parser.end();
  if (replay === null) {
    // A trace without a single kmem event: the report is all zeros, on the machine the flags describe.
    try {
      k = bootFor(flags, parsed.header, slabName);
    } catch (e) {
      err.line(e instanceof ConfigError ? `kmem: ${e.message}` : `kmem: boot failed: ${(e as Error).message}`);
      return { status: e instanceof ConfigError ? 2 : 1 };
    }
    replay = new TraceReplay(k);
  }
  const rp = replay as TraceReplay;
  const result = rp.finish(parsed);
  const wallMs = performance.now() - wall0;
  const machine = rp.k;
  if (readError !== undefined) err.line(`kmem: replay: ${trace}: ${readError} (replayed the ${result.events} events before it)`);
  if (parsed.stats.bad_lines > 0) {
    err.line(`kmem: replay: ${parsed.stats.bad_lines} lines not understood (first: line ${parsed.stats.bad_examples[0]?.line}: ` +
      `${parsed.stats.bad_examples[0]?.reason})`);
  }

  const title = `kmem replay ${trace} (${describeMachine(machine.config)}, ${slabName.toUpperCase()})`;
  if (flags.json) {
    out.line(report_json(result, {
      file: trace, compression: opened.compression, bytes_read: bytes, wall_ms: Math.round(wallMs),
      limited,
    }));
  } else {
    out.lines(report_text(result, { title, ...(typeof top === 'number' ? { top } : {}) }));
  }
  if (flags.html !== undefined) {
    mkdirSync(dirname(flags.html), { recursive: true });
    writeFileSync(flags.html, report_html(result, { title, ...(typeof top === 'number' ? { top } : {}) }));
    if (!flags.json) out.line(`Wrote the HTML report to ${flags.html}`);
  }
  if (flags.procDir !== undefined) {
    const files = writeProcDir(machine, flags.procDir);
    if (!flags.json) out.line(`Wrote ${files.length} /proc files to ${flags.procDir}`);
  }
  return { status: readError !== undefined ? 1 : 0, result };
}
