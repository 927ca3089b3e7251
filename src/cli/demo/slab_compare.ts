/*
 * Chapter: the slab allocators side by side. The first DEMO_EVENTS events
 * of the shared real trace (../shared/traces/kmem-trace-build.txt.xz)
 * replayed on a fresh machine with each slab implementation kmem has
 * (SLAB_IMPLS of src/machine/config.ts, in that order), and one table:
 * peak and final slab pages, bytes requested against allocated, internal
 * and external fragmentation, cross-CPU frees and events/s.
 *
 * The trace is decompressed once (by the runner: Demo.sharedTrace); the
 * same chunks are fed to each replay.
 * Without ../shared beside the checkout the chapter says so and stops
 * (unlike the replay chapter there is no sample to fall back on: ten lines
 * would not tell the allocators apart).
 *
 * The table is kmem replay's comparison (src/trace/report.ts
 * compare_lines(); external fragmentation there is of the final state).
 */
import { TraceParser } from '../../trace/parse.ts';
import { TraceReplay, type ReplayResult } from '../../trace/replay.ts';
import { compare_lines, type CompareRun } from '../../trace/report.ts';
import { SLAB_IMPLS } from '../../machine/config.ts';
import type { DemoChapter, Demo } from './chapter.ts';
import { DEMO_EVENTS } from './replay.ts';

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

/** The chapter, replaying the first `events` events of the shared trace (tests ask for fewer). */
export function slabCompareChapterFor(events = DEMO_EVENTS): DemoChapter {
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
        TRACE --slab ${SLAB_IMPLS.join(',')}\` replays one trace on each.`);
      const chunks = await d.sharedTrace(events);
      if (!chunks) {
        d.say(`The shared trace is not beside this checkout
          (../shared/traces/kmem-trace-build.txt.xz), so there is nothing real
          to compare on: skipping this chapter. With ../shared in place, it
          replays the first ${int(events)} events on each allocator.`);
        return;
      }
      const runs: CompareRun[] = [];
      for (const slab of SLAB_IMPLS) runs.push({ name: slab, result: replayOn(d, slab, chunks, events) });
      d.say(`The first ${int(runs[0]?.result.events ?? 0)} events of the shared Linux 6.18
        trace, replayed on a fresh 2-CPU machine with each (slab pages include
        the boot's caches; external fragmentation is the part of the pages the
        replay added that holds no live object at the end):`);
      d.show(compare_lines(runs));
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
        ${SLAB_IMPLS.join(',')} --html out/compare.html\`.`);
    },
  };
}

export const slabCompareChapter: DemoChapter = slabCompareChapterFor();
