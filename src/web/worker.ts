/*
 * The kernel worker: runs the machine (ExplorerHost) off the page's main
 * thread and relays messages (protocol.ts).
 *
 * One worker runs the kernel for every simulated CPU, switching CPU with
 * set_cpu() as the trace's CPU column or an operation's `cpu` says (a
 * worker per CPU on the same memory waits for kmem's SMP attach: see
 * protocol.ts for how the messages then split). The page reads
 * the same SharedArrayBuffers to draw, so drawing never waits for the
 * kernel and the kernel never waits for drawing.
 *
 * A playing trace runs in slices: as many events as fit in SLICE_MS (as
 * fast as possible) or as many as are due at the chosen speed, then the
 * worker yields to its event loop, so pause, step and seek are answered
 * between two slices. The trace position goes to the page after every
 * slice; the heavier figures (slabinfo, zones, meminfo) at most every
 * STATE_MS.
 *
 * A `kmem demo` chapter runs here too (demo.ts); the machine it booted last
 * replaces this one, and the page attaches to it as after a boot.
 */
import { ExplorerHost } from './host.ts';
import { decompressBytes } from './decompress.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { ConfigError } from '../machine/config.ts';
import { demoList, runDemoChapter } from './demo.ts';

/** The shipped excerpt of the shared trace: its first 20,000 events (what the demo chapters replay). */
const SHARED_EXCERPT = 'traces/build-20k.txt.xz';

const SLICE_MS = 12;
const STATE_MS = 200;

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}
const scope = self as unknown as WorkerScope;

const host = new ExplorerHost();
let playing = false;
let speed = 0;
let playT0 = 0;
let playPos0 = 0;
let lastState = 0;
let booted = false;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function postBooted(): void {
  post({ type: 'booted', machine: host.descriptor(), opts: host.opts });
}

function postState(): void {
  lastState = performance.now();
  post({ type: 'state', state: host.state() });
}

/** stats: the replay's figures too (computed a few times a second at most). */
function postTrace(stats = true): void {
  post({ type: 'trace', status: host.traceStatus(playing, speed, stats) });
}

/*
 * Yield to the event loop between slices. At full speed a zero timeout
 * (which browsers clamp to a few ms once nested) leaves the CPU a quarter
 * of the time: on a 2-core machine the page then keeps drawing at 45-60
 * frames a second, where yielding with no pause (a MessageChannel message)
 * left it 20.
 */
function schedule(): void {
  setTimeout(tick, speed === 0 ? 0 : 16);
}

function tick(): void {
  if (!playing || !host.trace) return;
  const total = host.trace.store.length;
  const t0 = performance.now();
  if (speed === 0) {
    while (host.tracePos < total && performance.now() - t0 < SLICE_MS) host.playTo(host.tracePos + 512);
  } else {
    const due = playPos0 + Math.floor(((t0 - playT0) * speed) / 1000);
    host.playTo(Math.min(due, host.tracePos + 200_000));
  }
  if (host.tracePos >= total) playing = false;
  const full = !playing || performance.now() - lastState >= STATE_MS;
  postTrace(full);
  if (full) postState();
  if (playing) schedule();
}

function startPlaying(): void {
  if (!host.trace || host.tracePos >= host.trace.store.length) return;
  playing = true;
  playT0 = performance.now();
  playPos0 = host.tracePos;
  schedule();
}

/** Run fn; if it booted a new machine (new RAM), tell the page to attach again. */
function withReboot(fn: () => void): void {
  const before = booted ? host.k : null;
  fn();
  booted = true;
  if (host.k !== before) postBooted();
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'boot':
      playing = false;
      withReboot(() => host.boot(m.opts));
      postState();
      postTrace();
      break;
    case 'op':
      post({ type: 'op_result', id: m.id, result: host.op(m.op, m.cpu) });
      postState();
      break;
    case 'cache_detail':
      post({ type: 'cache_detail', detail: host.cacheDetail(m.cache, m.maxSlabs) });
      break;
    case 'trace_load': {
      playing = false;
      const text = await decompressBytes(new Uint8Array(m.bytes));
      withReboot(() => host.loadTrace(m.name, text));
      postState();
      postTrace();
      break;
    }
    case 'trace_play':
      startPlaying();
      postTrace();
      break;
    case 'trace_pause':
      playing = false;
      postTrace();
      postState();
      break;
    case 'trace_step':
      playing = false;
      host.playTo(host.tracePos + m.n);
      postTrace();
      postState();
      break;
    case 'trace_seek': {
      const wasPlaying = playing;
      playing = false;
      withReboot(() => host.seek(m.pos));
      postState();
      if (wasPlaying) startPlaying();
      postTrace();
      break;
    }
    case 'trace_speed':
      speed = Math.max(0, m.speed);
      if (playing) {
        playT0 = performance.now();
        playPos0 = host.tracePos;
      }
      postTrace();
      break;
    case 'demo': {
      playing = false;
      post({ type: 'demo', chapter: m.chapter, text: '', done: false });
      const run = await runDemoChapter(m.chapter, sharedExcerpt);
      if (run.kernel) withReboot(() => host.adopt(run.kernel!, run.bootMs));
      post({ type: 'demo', chapter: m.chapter, text: run.text, done: true });
      postState();
      postTrace();
      break;
    }
    case 'changed':
      host.record(m.result);
      postState();
      break;
    case 'ftrace':
      if (!host.setFtrace(m.events, m.hashPtr)) post({ type: 'error', message: `ftrace: cannot enable ${m.events.join(', ')}` });
      postState();
      break;
    case 'snapshot_save': {
      const bytes = await host.saveSnapshot();
      const o = host.opts;
      const name = `kmem-${o.arch}-${o.mem}-${o.cpus}cpu-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.kmemsnap`;
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      post({ type: 'snapshot', bytes: buf, name }, [buf]);
      break;
    }
    case 'snapshot_load': {
      playing = false;
      await host.loadSnapshot(new Uint8Array(m.bytes));
      booted = true;
      postBooted();
      postState();
      postTrace();
      break;
    }
  }
}

/** DemoEnv.sharedTrace in the browser: the excerpt, fetched and decompressed once. */
let excerpt: Promise<Uint8Array[] | null> | null = null;
function sharedExcerpt(): Promise<Uint8Array[] | null> {
  excerpt ??= fetch(SHARED_EXCERPT)
    .then(async (r) => (r.ok ? [await decompressBytes(new Uint8Array(await r.arrayBuffer()))] : null))
    .catch(() => null);
  return excerpt;
}

post({ type: 'demo_list', chapters: demoList() });

/* Messages are handled one at a time, in order, even when one awaits. */
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev: MessageEvent) => {
  const m = ev.data as ToWorker;
  queue = queue.then(() => handle(m)).catch((e: unknown) => {
    const message = e instanceof ConfigError ? `cannot boot: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    post({ type: 'error', message });
  });
};
