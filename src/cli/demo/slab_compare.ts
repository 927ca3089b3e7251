/*
 * Chapter: the slab allocators side by side. The first DEMO_EVENTS events
 * of the shared real trace (../shared/traces/kmem-trace-build.txt.xz)
 * replayed on a fresh machine with each slab implementation kmem has
 * (SLAB_ALLOCATORS of src/cli/replay.ts, in that order), and one table:
 * peak and final slab pages, bytes requested against allocated, internal
 * and external fragmentation, cross-CPU frees and events/s.
 *
 * The trace is decompressed once; the same chunks are fed to each replay.
 * Without ../shared beside the checkout the chapter says so and stops
 * (unlike the replay chapter there is no sample to fall back on: ten lines
 * would not tell the allocators apart).
 *
 * External fragmentation here is of the final state: 1 - (bytes_alloc of
 * the objects the replay still holds) / (slab pages the replay added x
 * PAGE_SIZE), i.e. the part of the slab pages the workload brought in that
 * holds no live object. Boot-time slab pages are left out of both sides.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TraceParser } from '../../trace/parse.ts';
import { TraceReplay, type ReplayResult } from '../../trace/replay.ts';
import { open_trace } from '../../node/trace_file.ts';
import { is_xz_file, open_xz_in_worker } from '../../node/xz_worker.ts';
import { SLAB_ALLOCATORS } from '../replay.ts';
import type { DemoChapter, Demo } from './chapter.ts';
import { DEMO_EVENTS } from './replay.ts';

/** The shared real trace, beside the repository. */
export const SHARED_TRACE = fileURLToPath(new URL('../../../../shared/traces/kmem-trace-build.txt.xz', import.meta.url));

const PAGE_SIZE = 4096;

/** What the table shows for one implementation. */
export interface SlabCompareRow {
  slab: string;
  events: number;
  peak_slab_pages: number;
  final_slab_pages: number;
  bytes_req: number;
  bytes_alloc: number;
  internal_fragmentation: number;
  external_fragmentation: number;
  cross_cpu_frees: number;
  events_per_second: number;
}

function rowOf(slab: string, r: ReplayResult): SlabCompareRow {
  const last = r.footprint[r.footprint.length - 1];
  const added = r.slab_pages_end - r.slab_pages_start;
  const live = last === undefined ? 0 : last.bytes_alloc;
  const ext = added > 0 ? Math.max(0, 1 - live / (added * PAGE_SIZE)) : 0;
  return {
    slab,
    events: r.events,
    peak_slab_pages: r.peak_slab_pages,
    final_slab_pages: r.slab_pages_end,
    bytes_req: r.bytes_req,
    bytes_alloc: r.bytes_alloc,
    internal_fragmentation: r.internal_fragmentation,
    external_fragmentation: ext,
    cross_cpu_frees: r.cross_cpu_frees,
    events_per_second: r.events_per_second,
  };
}

/** The first `limit` events' worth of the trace's decompressed chunks (a little more: whole chunks). */
async function readHead(path: string, limit: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const counter = new TraceParser(() => { n++; });
  // .xz in a worker (as `kmem replay` reads it): the main thread's xz decoder may still be held by
  // a stream another chapter stopped reading early (the replay chapter does).
  const opened = is_xz_file(path) ? open_xz_in_worker(path) : await open_trace(path);
  for await (const chunk of opened.chunks) {
    chunks.push(chunk);
    counter.feed(chunk);
    if (n >= limit) break;
  }
  return chunks;
}

/** Replay the first `limit` events of the chunks on a fresh machine with slab allocator `slab`. */
function replayOn(d: Demo, slab: string, chunks: readonly Uint8Array[], limit: number): ReplayResult {
  const r = new TraceReplay(d.boot({ mem: '1G', cpus: 2, slab }));
  let replayed = 0;
  const parser = new TraceParser((e) => {
    if (replayed >= limit) return;
    replayed++;
    r.event(e);
  });
  for (const c of chunks) {
    parser.feed(c);
    if (replayed >= limit) break;
  }
  // Stopped early: the parser's counts so far (end() would count the cut line as not understood).
  return r.finish({ header: parser.header, stats: parser.stats });
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

/** The side-by-side table, one column per implementation. */
export function compareTable(rows: readonly SlabCompareRow[]): string[] {
  const lines: [string, (r: SlabCompareRow) => string][] = [
    ['events replayed', (r) => int(r.events)],
    ['peak slab pages', (r) => int(r.peak_slab_pages)],
    ['final slab pages', (r) => int(r.final_slab_pages)],
    ['bytes requested', (r) => int(r.bytes_req)],
    ['bytes allocated', (r) => int(r.bytes_alloc)],
    ['internal fragmentation', (r) => pct(r.internal_fragmentation)],
    ['external fragmentation', (r) => pct(r.external_fragmentation)],
    ['cross-CPU frees', (r) => int(r.cross_cpu_frees)],
    ['events/s', (r) => int(r.events_per_second)],
  ];
  const labelW = Math.max(...lines.map(([l]) => l.length));
  const colW = Math.max(10, ...rows.flatMap((r) => lines.map(([, f]) => f(r).length))) + 2;
  const out = [''.padEnd(labelW) + rows.map((r) => r.slab.toUpperCase().padStart(colW)).join('')];
  for (const [label, f] of lines) out.push(label.padEnd(labelW) + rows.map((r) => f(r).padStart(colW)).join(''));
  return out;
}

/** The chapter, on a given trace file (the shared one for `kmem demo`; tests pass others). */
export function slabCompareChapterFor(trace: string, events = DEMO_EVENTS): DemoChapter {
  return {
    id: 'slab-compare',
    title: 'The slab allocators side by side',
    summary: `SLUB, SLOB, SLAB and SLQB replaying the same real trace: pages, fragmentation, speed`,
    async run(d) {
      d.say(`Linux has had several slab allocators behind one kmem_cache API: SLAB
        (the original, per-CPU array caches and per-node lists), SLUB (the
        default since 2.6.23, per-CPU freelists in the slab pages themselves)
        and SLOB (first-fit for tiny machines); Nick Piggin's SLQB (per-CPU
        LIFO queues of objects, remote frees sent back in batches) was posted
        in 2008-2009 and never merged. SLOB went in 6.4 and SLAB in 6.8, so no
        kernel today can run one workload on all of them; kmem can: \`--slab\` picks the implementation at boot, and \`kmem replay
        TRACE --slab ${SLAB_ALLOCATORS.join(',')}\` replays one trace on each.`);
      if (!existsSync(trace)) {
        d.say(`The shared trace is not beside this checkout (${trace}), so there is
          nothing real to compare on: skipping this chapter. With ../shared in
          place, it replays the first ${int(events)} events on each allocator.`);
        return;
      }
      const chunks = await readHead(trace, events);
      const rows: SlabCompareRow[] = [];
      for (const slab of SLAB_ALLOCATORS) rows.push(rowOf(slab, replayOn(d, slab, chunks, events)));
      d.say(`The first ${int(rows[0]?.events ?? 0)} events of the shared Linux 6.18
        trace, replayed on a fresh 2-CPU machine with each (slab pages include
        the boot's caches; external fragmentation is the part of the pages the
        replay added that holds no live object at the end):`);
      d.show(compareTable(rows));
      d.blank();
      d.say(`Bytes requested is the same on every row (the same workload);
        bytes allocated is not: SLUB and SLAB round each kmalloc up to a size
        class, SLOB gives the request plus a small header. Pages are where the
        designs part most: SLOB packs objects of every size into shared pages,
        SLUB and SLAB give each cache (and each kmalloc size) slabs of its own,
        and SLAB also keeps freed objects in per-CPU and shared array caches,
        SLQB on per-CPU queues until they pass their high-water mark.
        events/s is this machine's speed on each allocator's code in kmem, not
        the kernel's. The whole trace, with plots of the footprint over time:
        \`kmem replay ../shared/traces/kmem-trace-build.txt.xz --slab
        ${SLAB_ALLOCATORS.join(',')} --html out/compare.html\`.`);
    },
  };
}

export const slabCompareChapter: DemoChapter = slabCompareChapterFor(SHARED_TRACE);
