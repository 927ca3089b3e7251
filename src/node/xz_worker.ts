/*
 * xz decompression in a worker thread, so that it overlaps with parsing
 * and replaying on the main thread (`kmem replay` of an .xz file):
 * open_trace() (trace_file.ts) decompresses on the main thread, one chunk
 * after the other with the parser, and xz-decompress's WebAssembly
 * decoder costs about as much as the parser itself (BENCHMARKS.md, "Trace
 * parser"). Here the worker reads the file and decompresses it, the main
 * thread gets the chunks as transferred ArrayBuffers.
 *
 * Flow control: at most MAX_IN_FLIGHT chunks are unacknowledged; the
 * worker waits for the main thread to take them, so a huge trace is never
 * held in memory. A decoder error (cut or corrupt file) ends the stream
 * with that error after the chunks before it, as open_trace() does.
 *
 * The worker is plain CommonJS evaluated from a string (no loader needed);
 * it requires xz-decompress by the absolute path this module resolves.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { detect_compression, type OpenedTrace } from './trace_file.ts';

const MAX_IN_FLIGHT = 16;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { Readable } = require('node:stream');
const xz = require(workerData.xzPath);
let inflight = 0;
let wake = null;
parentPort.on('message', () => { inflight--; if (wake) { const w = wake; wake = null; w(); } });
(async () => {
  try {
    const web = Readable.toWeb(fs.createReadStream(workerData.path, { highWaterMark: 1 << 18 }));
    const reader = new xz.XzReadableStream(web).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      const copy = r.value.slice();
      while (inflight >= ${MAX_IN_FLIGHT}) await new Promise((res) => { wake = res; });
      inflight++;
      parentPort.postMessage({ chunk: copy }, [copy.buffer]);
    }
    parentPort.postMessage({ done: true });
  } catch (e) {
    parentPort.postMessage({ error: e && e.message ? e.message : String(e) });
  }
})();
`;

/** Whether a file starts as an .xz file (false for "-" or an unreadable file). */
export function is_xz_file(path: string): boolean {
  if (path === '-') return false;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(6);
    const n = readSync(fd, head, 0, 6, 0);
    return detect_compression(head.subarray(0, n)) === 'xz';
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** An .xz trace file's decompressed chunks, decompressed in a worker thread. */
export function open_xz_in_worker(path: string): OpenedTrace {
  const xzPath = createRequire(import.meta.url).resolve('xz-decompress');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, xzPath } });
  const queue: ({ chunk: Uint8Array } | { done: true } | { error: string })[] = [];
  let notify: (() => void) | null = null;
  const push = (m: (typeof queue)[number]) => {
    queue.push(m);
    if (notify) {
      const n = notify;
      notify = null;
      n();
    }
  };
  worker.on('message', (m: { chunk?: Uint8Array; done?: true; error?: string }) => {
    if (m.chunk) push({ chunk: m.chunk });
    else if (m.error !== undefined) push({ error: m.error.startsWith('xz') ? m.error : `xz: ${m.error}` });
    else push({ done: true });
  });
  worker.on('error', (e) => push({ error: e.message }));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((res) => (notify = res));
        const m = queue.shift()!;
        if ('chunk' in m) {
          worker.postMessage(0);
          yield m.chunk;
        } else if ('error' in m) {
          throw new Error(m.error);
        } else {
          return;
        }
      }
    } finally {
      void worker.terminate();
    }
  }
  return { compression: 'xz', chunks: chunks() };
}
