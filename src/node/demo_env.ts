/*
 * What `kmem demo` gives its chapters in Node (src/cli/demo/chapter.ts
 * DemoEnv): the shared real trace read from beside the repository
 * (../shared/traces/kmem-trace-build.txt.xz), decompressed as `kmem replay`
 * reads it. The explorer gives the same chapters its own (src/web/demo.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TraceParser } from '../trace/parse.ts';
import { open_trace } from './trace_file.ts';
import { is_xz_file, open_xz_in_worker } from './xz_worker.ts';
import type { DemoEnv } from '../cli/demo/chapter.ts';

/** The shared real trace, beside the repository. */
export const SHARED_TRACE = fileURLToPath(new URL('../../../shared/traces/kmem-trace-build.txt.xz', import.meta.url));

/** The first `limit` events' worth of a trace file's decompressed chunks (a little more: whole chunks). */
export async function readTraceHead(path: string, limit: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const counter = new TraceParser(() => { n++; });
  // .xz in a worker (as `kmem replay` reads it): the main thread's xz decoder may still be held by
  // a stream stopped early.
  const opened = is_xz_file(path) ? open_xz_in_worker(path) : await open_trace(path);
  for await (const chunk of opened.chunks) {
    chunks.push(chunk);
    counter.feed(chunk);
    if (n >= limit) break;
  }
  return chunks;
}

/** The chapters' environment with `trace` as the shared trace (tests pass another path, or one that is not there). */
export function nodeDemoEnv(trace = SHARED_TRACE): DemoEnv {
  return {
    sharedTrace: async (events) => (existsSync(trace) ? readTraceHead(trace, events) : null),
  };
}
