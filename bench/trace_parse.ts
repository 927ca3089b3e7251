/*
 * Trace parser throughput: `node --import tsx bench/trace_parse.ts [--json] [--quick] [FILE]`
 * (FILE defaults to ../shared/traces/kmem-trace-build.txt.xz).
 *
 * Four measurements, each a median over rounds after one discarded warm-up
 * round, all with the same callback (it reads two fields of every event, so
 * the record is really consumed):
 *
 *   decompress only   open_trace(): xz-decompress (WebAssembly) from the file,
 *                     chunks counted and dropped: the floor under "file".
 *   parse, string     the decompressed text as one JS string, parsed in
 *                     place (parseAll): the parser alone.
 *   parse, bytes      the decompressed bytes (a Buffer in memory), fed in
 *                     64 KiB Uint8Array chunks: adds TextDecoder.
 *   file              parse_trace_file(): read + decompress + decode + parse,
 *                     streaming, as `kmem replay` will run it.
 *
 * MB/s is decompressed megabytes (10^6 bytes) per second; events/s counts
 * the kmem events handed to the callback. The first (cold) run, which
 * includes V8 compiling the parser, is reported separately: a one-shot CLI
 * run pays it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { open_trace, parse_trace_file } from '../src/node/trace_file.ts';
import { TraceParser } from '../src/trace/parse.ts';
import type { KmemEvent } from '../src/trace/kmem_events.ts';

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes('--json');
const QUICK = argv.includes('--quick');
const FILE = argv.find((a) => !a.startsWith('--'))
  ?? fileURLToPath(new URL('../../shared/traces/kmem-trace-build.txt.xz', import.meta.url));
const ROUNDS = QUICK ? 3 : 11;
const CHUNK = 64 * 1024;

const log = (msg: string) => process.stderr.write(msg + '\n');

let sink = 0;
function onEvent(e: KmemEvent): void {
  sink += e.ts + e.cpu;
}

interface Row {
  what: string;
  ms: number;
  min: number;
  max: number;
  mbPerS: number;
  eventsPerS: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function time(rounds: number, run: () => Promise<number> | number): Promise<{ times: number[]; events: number }> {
  const times: number[] = [];
  let events = 0;
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    events = await run();
    const dt = performance.now() - t0;
    if (r > 0) times.push(dt);
  }
  return { times, events };
}

function row(what: string, times: number[], bytes: number, events: number): Row {
  const ms = median(times);
  return {
    what,
    ms,
    min: Math.min(...times),
    max: Math.max(...times),
    mbPerS: bytes / 1e6 / (ms / 1000),
    eventsPerS: events / (ms / 1000),
  };
}

async function main(): Promise<void> {
  if (!existsSync(FILE)) {
    log(`trace_parse: ${FILE} not found`);
    process.exit(2);
  }
  /* Cold: the first parse in this process, straight from the file. */
  let t0 = performance.now();
  const cold = await parse_trace_file(FILE, onEvent);
  const coldMs = performance.now() - t0;
  const bytes = cold.bytes;
  const events = cold.stats.events;
  log(`${FILE}: ${cold.compression}, ${bytes} bytes decompressed, ${events} events, cold run ${coldMs.toFixed(0)} ms`);

  /* The decompressed file in memory. */
  t0 = performance.now();
  const parts: Uint8Array[] = [];
  for await (const c of (await open_trace(FILE)).chunks) parts.push(c);
  const buf = Buffer.concat(parts);
  const text = buf.toString('utf8');
  log(`decompressed into memory in ${(performance.now() - t0).toFixed(0)} ms`);

  const rows: Row[] = [];

  log('decompress only...');
  const dec = await time(ROUNDS, async () => {
    let n = 0;
    for await (const c of (await open_trace(FILE)).chunks) n += c.length;
    if (n !== bytes) throw new Error('decompressed size changed');
    return 0;
  });
  rows.push(row(`decompress only (${cold.compression})`, dec.times, bytes, 0));

  log('parse, string...');
  const str = await time(ROUNDS, () => new TraceParser(onEvent).parseAll(text).stats.events);
  rows.push(row('parse, one string in memory (parseAll)', str.times, bytes, str.events));

  log('parse, bytes...');
  const byt = await time(ROUNDS, () => {
    const p = new TraceParser(onEvent);
    for (let i = 0; i < buf.length; i += CHUNK) p.feed(buf.subarray(i, i + CHUNK));
    return p.end().stats.events;
  });
  rows.push(row('parse, bytes in memory (+ TextDecoder)', byt.times, bytes, byt.events));

  log('file...');
  const file = await time(ROUNDS, async () => (await parse_trace_file(FILE, onEvent)).stats.events);
  rows.push(row(`file: read + ${cold.compression} + parse, streaming`, file.times, bytes, file.events));

  const coldRow: Row = {
    what: 'file, cold (first run in the process)', ms: coldMs, min: coldMs, max: coldMs,
    mbPerS: bytes / 1e6 / (coldMs / 1000), eventsPerS: events / (coldMs / 1000),
  };
  rows.push(coldRow);

  if (JSON_OUT) {
    console.log(JSON.stringify({ file: FILE, bytes, events, rounds: ROUNDS, node: process.version, rows, sink }, null, 2));
    return;
  }
  console.log(`${FILE}: ${(bytes / 1e6).toFixed(1)} MB decompressed, ${events} events; median of ${ROUNDS} rounds [min..max]`);
  console.log('');
  console.log('| what | ms | min..max | MB/s | events/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.what} | ${r.ms.toFixed(0)} | ${r.min.toFixed(0)}..${r.max.toFixed(0)} | ${r.mbPerS.toFixed(0)} | `
      + `${r.eventsPerS > 0 ? (r.eventsPerS / 1e6).toFixed(2) + ' M' : ''} |`);
  }
  if (sink === 42) console.log('');
}

await main();
