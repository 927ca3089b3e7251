/*
 * The trace bar: pick a trace (the ones the site ships, listed in
 * traces.json, or a file of your own), then play, pause, step and scrub.
 * The worker plays; this shows where it is.
 */
import type { TraceStatus } from '../protocol.ts';
import type { KernelClient } from './client.ts';
import { byId, h, num } from './dom.ts';

const icon = (d: string) => `<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="${d}"/></svg>`;
const PLAY_ICON = icon('M4 2v12l10-6z');
const PAUSE_ICON = icon('M3 2h4v12H3zM9 2h4v12H9z');

export interface TraceEntry {
  name: string;
  url: string;
  events: number;
  bytes: number;
}

export class TraceBar {
  status: TraceStatus | null = null;
  entries: TraceEntry[] = [];
  private readonly select = byId<HTMLSelectElement>('trace-select');
  private readonly file = byId<HTMLInputElement>('trace-file');
  private readonly play = byId<HTMLButtonElement>('trace-play');
  private readonly step = byId<HTMLButtonElement>('trace-step');
  private readonly restart = byId<HTMLButtonElement>('trace-restart');
  private readonly scrub = byId<HTMLInputElement>('trace-scrub');
  private readonly pos = byId('trace-pos');
  private readonly speed = byId<HTMLSelectElement>('trace-speed');
  private readonly event = byId('trace-event');
  private scrubbing = false;
  loading = false;
  /** The shipped trace being played, by the name ?trace= gives it (null for a file of the user's). */
  urlName: string | null = null;

  constructor(
    private readonly client: KernelClient,
    private readonly toast: (text: string, ok?: boolean) => void,
    /** Run before a trace is sent to the kernel worker. */
    private readonly beforeLoad: () => Promise<void>,
  ) {
    this.select.addEventListener('change', () => {
      const e = this.entries.find((x) => x.url === this.select.value);
      if (e) void this.loadUrl(e);
    });
    this.file.addEventListener('change', () => {
      const f = this.file.files?.[0];
      if (f) void this.loadFile(f);
      this.file.value = '';
    });
    this.play.addEventListener('click', () => this.togglePlay());
    this.step.addEventListener('click', () => this.stepBy(1));
    this.restart.addEventListener('click', () => this.seek(0));
    this.scrub.addEventListener('input', () => {
      this.scrubbing = true;
      this.pos.textContent = `→ ${num(Number(this.scrub.value))} / ${num(this.status?.total ?? 0)}`;
    });
    this.scrub.addEventListener('change', () => {
      this.scrubbing = false;
      this.seek(Number(this.scrub.value));
    });
    this.speed.addEventListener('change', () => client.send({ type: 'trace_speed', speed: Number(this.speed.value) }));
  }

  async loadList(): Promise<void> {
    try {
      const r = await fetch('traces.json');
      this.entries = r.ok ? (await r.json()) as TraceEntry[] : [];
    } catch {
      this.entries = [];
    }
    this.select.replaceChildren(h('option', { value: '' }, 'Trace…'),
      ...this.entries.map((e) => h('option', { value: e.url, title: e.name }, e.name)));
  }

  /** The entry a URL's ?trace= names (by file name without extensions). */
  find(name: string): TraceEntry | undefined {
    return this.entries.find((e) => e.url.split('/').pop()!.replace(/\..*$/, '') === name || e.url === name);
  }

  async loadUrl(e: TraceEntry): Promise<void> {
    this.loading = true;
    this.pos.textContent = 'fetching…';
    try {
      const r = await fetch(e.url);
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      const bytes = await r.arrayBuffer();
      this.urlName = e.url.split('/').pop()!.replace(/\..*$/, '');
      await this.send(e.url.split('/').pop()!, bytes);
      this.select.value = e.url;
    } catch (err) {
      this.loading = false;
      this.toast(`cannot fetch ${e.url}: ${err instanceof Error ? err.message : String(err)}`, false);
      this.pos.textContent = 'no trace';
    }
  }

  async loadFile(f: File): Promise<void> {
    this.loading = true;
    this.select.value = '';
    this.urlName = null;
    await this.send(f.name, await f.arrayBuffer());
  }

  private async send(name: string, bytes: ArrayBuffer): Promise<void> {
    await this.beforeLoad();
    this.pos.textContent = 'parsing…';
    this.client.send({ type: 'trace_load', name, bytes }, [bytes]);
  }

  togglePlay(): void {
    const s = this.status;
    if (!s) return;
    if (s.playing) this.client.send({ type: 'trace_pause' });
    else if (s.pos >= s.total) this.toast('the trace has ended: ⏮ to play it again');
    else this.client.send({ type: 'trace_play' });
  }

  stepBy(n: number): void {
    if (this.status) this.client.send({ type: 'trace_step', n });
  }

  seek(pos: number): void {
    if (this.status) this.client.send({ type: 'trace_seek', pos: Math.max(0, pos) });
  }

  update(s: TraceStatus | null): void {
    this.status = s;
    this.loading = false;
    const on = s !== null;
    for (const b of [this.play, this.step, this.restart]) b.disabled = !on;
    this.scrub.disabled = !on;
    if (!s) {
      this.pos.textContent = 'no trace';
      this.event.textContent = '';
      this.play.innerHTML = PLAY_ICON;
      this.play.dataset.playing = 'false';
      return;
    }
    if (this.play.dataset.playing !== String(s.playing)) {
      this.play.dataset.playing = String(s.playing);
      this.play.innerHTML = s.playing ? PAUSE_ICON : PLAY_ICON;
      this.play.setAttribute('aria-label', s.playing ? 'pause' : 'play');
    }
    this.play.title = s.playing ? 'Pause (space)' : 'Play (space)';
    this.scrub.max = String(s.total);
    if (!this.scrubbing) {
      this.scrub.value = String(s.pos);
      this.pos.textContent = `${num(s.pos)} / ${num(s.total)}`;
    }
    const st = s.stats;
    this.event.textContent = s.last || `${s.name}: ${num(s.total)} events (parsed in ${Math.round(s.parse.ms)} ms)`;
    this.event.title = `${s.name}: replayed ${num(st.events)} events (src/trace/replay.ts, as kmem replay does)\n` +
      `${num(st.failed_allocs)} failed allocations, ${num(st.unmatched_frees)} frees of objects from before the capture, ` +
      `${num(st.kfree_null)} kfree(NULL), ${num(st.implicit_frees)} implicit frees, ${num(st.caches_created)} caches created, ` +
      `${num(st.slab_pages_skipped)} slab page allocations left to kmem's SLUB; peak ${num(st.peak_slab_pages)} slab pages; ` +
      `internal fragmentation ${(100 * st.internal_fragmentation).toFixed(1)}% (the traced kernel: ${(100 * st.trace_internal_fragmentation).toFixed(1)}%)`;
  }
}
