/*
 * Trace replay throughput: `node --import tsx bench/trace_replay.ts [--json] [--quick] [FILE]`
 * (FILE defaults to ../shared/traces/kmem-trace-build.txt.xz).
 *
 * Rows (each a median over rounds after a discarded warm-up round, except
 * the cold ones; every replay boots a fresh 2 GiB machine with the trace's
 * CPU count, the boot not timed unless said):
 *
 *   parse only, string        the decompressed text in memory, parsed (the floor)
 *   parse + replay, string    the same text parsed and every event replayed
 *   replay alone              the difference of the two
 *   file: parse + replay      what `kmem replay` does: the .xz decompressed in a
 *                             worker thread, parsed and replayed on the main thread
 *   file, cold                the same as the first thing the process does
 *                             (V8 compiling the parser and the allocators), boot included
 *   kmem replay CLI           `node bin/kmem.js replay FILE --json` spawned: the wall
 *                             time of the whole command, node and tsx start-up included,
 *                             and the wall_ms it reports (open to report)
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../src/init/main.ts';
import { resolveConfig } from '../src/machine/config.ts';
import { TraceParser } from '../src/trace/parse.ts';
import { TraceReplay } from '../src/trace/replay.ts';
import { open_trace } from '../src/node/trace_file.ts';
import { is_xz_file, open_xz_in_worker } from '../src/node/xz_worker.ts';

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes('--json');
const QUICK = argv.includes('--quick');
const FILE = argv.find((a) => !a.startsWith('--'))
  ?? fileURLToPath(new URL('../../shared/traces/kmem-trace-build.txt.xz', import.meta.url));
const ROUNDS = QUICK ? 3 : 9;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (msg: string) => process.stderr.write(msg + '\n');

interface Row { what: string; ms: number; min: number; max: number; eventsPerS: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function boot() {
  return start_kernel(resolveConfig({ mem: '2G', cpus: 2 }), { errors: 'log' });
}

async function fileReplay(): Promise<number> {
  const opened = is_xz_file(FILE) ? open_xz_in_worker(FILE) : await open_trace(FILE);
  let r: TraceReplay | null = null;
  const p = new TraceParser((e) => (r ??= new TraceReplay(boot())).event(e));
  for await (const c of opened.chunks) p.feed(c);
  p.end();
  return r === null ? 0 : (r as TraceReplay).finish().events;
}

async function main(): Promise<void> {
  if (!existsSync(FILE)) {
    log(`trace_replay: ${FILE} not found`);
    process.exit(2);
  }
  log('cold: file, parse + replay (boot included)...');
  let t0 = performance.now();
  const events = await fileReplay();
  const coldMs = performance.now() - t0;

  const parts: Uint8Array[] = [];
  for await (const c of (await open_trace(FILE)).chunks) parts.push(c);
  const text = Buffer.concat(parts).toString('utf8');
  const rows: Row[] = [];
  const row = (what: string, times: number[]): Row => {
    const ms = median(times);
    return { what, ms, min: Math.min(...times), max: Math.max(...times), eventsPerS: events / (ms / 1000) };
  };

  log('parse only...');
  const parseT: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    let sink = 0;
    t0 = performance.now();
    new TraceParser((e) => (sink += e.cpu)).parseAll(text);
    if (i > 0) parseT.push(performance.now() - t0);
    if (sink < 0) log('');
  }
  rows.push(row('parse only, string in memory', parseT));

  log('parse + replay...');
  const bothT: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const r = new TraceReplay(boot());
    t0 = performance.now();
    new TraceParser((e) => r.event(e)).parseAll(text);
    r.finish();
    if (i > 0) bothT.push(performance.now() - t0);
  }
  rows.push(row('parse + replay, string in memory', bothT));
  const replayOnly = bothT.map((t, i) => t - parseT[i]);
  rows.push(row('replay alone (the difference)', replayOnly));

  log('file...');
  const fileT: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    t0 = performance.now();
    await fileReplay();
    if (i > 0) fileT.push(performance.now() - t0);
  }
  rows.push(row('file: xz in a worker + parse + replay (boot included)', fileT));
  rows.push({ what: 'file, cold: the first run in the process (boot included)', ms: coldMs, min: coldMs, max: coldMs, eventsPerS: events / (coldMs / 1000) });

  log('kmem replay CLI...');
  const cliT: number[] = [];
  const cliWall: number[] = [];
  for (let i = 0; i < (QUICK ? 2 : 5); i++) {
    t0 = performance.now();
    const out = execFileSync(process.execPath, [`${ROOT}bin/kmem.js`, 'replay', FILE, '--json'], { maxBuffer: 64 << 20 }).toString();
    cliT.push(performance.now() - t0);
    cliWall.push((JSON.parse(out) as { wall_ms: number }).wall_ms);
  }
  rows.push(row('`kmem replay FILE --json`, whole process', cliT));
  rows.push(row('`kmem replay`, its wall_ms (open to report)', cliWall));

  if (JSON_OUT) {
    console.log(JSON.stringify({ file: FILE, events, rounds: ROUNDS, node: process.version, rows }, null, 2));
    return;
  }
  console.log(`${FILE}: ${events} events; median of ${ROUNDS} rounds [min..max]`);
  console.log('');
  console.log('| what | ms | min..max | events/s |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.what} | ${r.ms.toFixed(0)} | ${r.min.toFixed(0)}..${r.max.toFixed(0)} | ${(r.eventsPerS / 1e6).toFixed(2)} M |`);
  }
}

await main();
