/*
 * The explorer page: wires the worker (the machine), the page map, the
 * tabs, the forms and the trace bar together. See src/web/protocol.ts for
 * who does what.
 */
import { DEFAULT_BOOT, bootFromQuery, bootToQuery, type BootOptions, type MachineState, type Op, type OpResult } from '../protocol.ts';
import { SLAB_IMPLS } from '../../machine/config.ts';
import {
  MachineView, O_ALLOC, O_FIRMWARE, O_FREE, O_KERNEL, O_MEMMAP, O_NONE, O_PCP, O_PERCPU, O_PGTABLE, O_RESERVED,
  O_SLAB, O_VMALLOC, hex as hexAddr,
} from '../machine_view.ts';
import { KernelClient } from './client.ts';
import { OWNER_CSS } from './colours.ts';
import { byId, h, num, size } from './dom.ts';
import { PageMap } from './pagemap.ts';
import { SlabPanel } from './slabs.ts';
import { ZonePanel } from './zones.ts';
import { AllocsPanel, LogPanel, MeminfoPanel, PagePanel } from './panels.ts';
import { TraceBar } from './trace.ts';
import { VmallocPanel } from './vmalloc.ts';
import { EventsPanel } from './events.ts';
import { DemoPanel } from './demo.ts';
import { CpuWorkers } from './cpus.ts';

/* ---------------------------------------------------------------- */
/* Boot options: server defaults, then the URL                      */
/* ---------------------------------------------------------------- */

function serverDefaults(): BootOptions {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="kmem-defaults"]');
  if (!meta) return DEFAULT_BOOT;
  try {
    return { ...DEFAULT_BOOT, ...(JSON.parse(meta.content) as Partial<BootOptions>) };
  } catch {
    return DEFAULT_BOOT;
  }
}

const defaults = serverDefaults();
const query = new URLSearchParams(location.search);
let opts = bootFromQuery(query, defaults);

/* ---------------------------------------------------------------- */
/* The pieces                                                       */
/* ---------------------------------------------------------------- */

const statusEl = byId('status');
let statusTimer = 0;
function toast(text: string, ok = true): void {
  statusEl.textContent = text;
  statusEl.className = `status show ${ok ? 'ok' : 'err'}`;
  clearTimeout(statusTimer);
  statusTimer = window.setTimeout(() => (statusEl.className = 'status'), ok ? 4500 : 8000);
}

if (!globalThis.crossOriginIsolated) {
  document.body.replaceChildren(h('div', { style: 'padding:24px;max-width:720px' },
    h('h2', null, 'This page needs cross-origin isolation'),
    h('p', null, 'The simulated machine\'s RAM is SharedArrayBuffers, which browsers only give to pages served with ',
      h('code', null, 'Cross-Origin-Opener-Policy: same-origin'), ' and ', h('code', null, 'Cross-Origin-Embedder-Policy: require-corp'),
      '. Run ', h('code', null, 'kmem serve'), ', or serve the built site (npm run build:web) with those headers.')));
  throw new Error('not cross-origin isolated');
}

const client = new KernelClient('worker.js');
const cpus = new CpuWorkers('cpu_worker.js', client);
const map = new PageMap(byId<HTMLCanvasElement>('map'), byId('map-wrap'));
let view: MachineView | null = null;
let state: MachineState | null = null;
let selectedTab = 'slabs';

const slabs = new SlabPanel(byId('tab-slabs'), (c) => map.cacheColour(c),
  (cache) => client.send({ type: 'cache_detail', cache, maxSlabs: 120 }),
  (cache) => void runOp({ kind: 'cache_alloc', cache, gfp: 'GFP_KERNEL' }),
  () => byId<HTMLDialogElement>('new-cache').showModal(),
  () => void runOp({ kind: 'shrink' }));
const zones = new ZonePanel(byId('tab-zones'), () => void runOp({ kind: 'drain' }));
const meminfo = new MeminfoPanel(byId('tab-meminfo'));
const log = new LogPanel(byId('tab-log'), byId('log-badge'));
const pagePanel = new PagePanel(byId('tab-page'));
const allocs = new AllocsPanel(byId('tab-allocs'), byId('allocs-badge'),
  (a) => void runOp(a.kind === 'pages' ? { kind: 'free_pages', page: a.ptr, order: a.order }
    : a.kind === 'cache' ? { kind: 'cache_free', cache: a.cache, ptr: a.ptr }
      : a.kind === 'vmalloc' ? { kind: 'vfree', addr: a.ptr } : { kind: 'kfree', ptr: a.ptr }),
  () => void runOp({ kind: 'release' }),
  (pfn) => openPage(pfn));
const trace = new TraceBar(client, toast, async () => {
  // A trace's replay runs every CPU on the kernel worker.
  await cpus.release();
  cpus.reset(null);
});
const vmallocPanel = new VmallocPanel(byId('tab-vmalloc'), (pfns) => map.mark(pfns), (pfn) => openPage(pfn),
  (addr) => void runOp({ kind: 'vfree', addr }));
let eventsSynced = false;
const events = new EventsPanel(byId('tab-events'), (ev, hashPtr) => client.send({ type: 'ftrace', events: ev, hashPtr }));
const demo = new DemoPanel(byId('tab-demo'), (chapter) => {
  perf.bootRequested = performance.now();
  client.send({ type: 'demo', chapter });
});
slabs.showDetail(null);

/* What the tests read (window.kmemExplorer). */
const perf = {
  bootRequested: 0,
  /** Page-side: from asking for a boot to the first map drawn from the new machine. */
  bootToFrameMs: 0,
  /** Worker-side: start_kernel() alone. */
  bootMs: 0,
  frames: 0,
  playFrames: 0,
  playRedraws: 0,
  playMs: 0,
  handlerMs: {} as Record<string, number>,
};
let awaitingFirstFrame = false;
let lastOp: OpResult | null = null;
let bootCount = 0;
const explorer = {
  get ready() { return view !== null && state !== null && !awaitingFirstFrame; },
  get bootCount() { return bootCount; },
  get opts() { return opts; },
  get view() { return view; },
  get state() { return state; },
  get trace() { return trace.status; },
  get map() { return map; },
  get lastOp() { return lastOp; },
  get demo() { return { running: demo.running, shown: demo.shown, done: demo.done }; },
  /** The CPUs that run in a worker of their own, and how long each took to attach (ms). */
  get cpus() { return { attached: cpus.attachedCpus, attachMs: cpus.attachMs.slice() }; },
  /** Run an operation as the forms do (for tests and benchmarks), on the CPU the form says unless told. */
  run: (op: Op, cpu?: number) => runOp(op, cpu),
  perf,
};
(window as unknown as { kmemExplorer: typeof explorer }).kmemExplorer = explorer;

/* ---------------------------------------------------------------- */
/* Boot                                                             */
/* ---------------------------------------------------------------- */

const bootForm = byId<HTMLFormElement>('boot-form');
function fillBootForm(o: BootOptions): void {
  const f = bootForm.elements;
  (f.namedItem('mem') as HTMLInputElement).value = o.mem;
  (f.namedItem('cpus') as HTMLInputElement).value = String(o.cpus);
  (f.namedItem('nodes') as HTMLInputElement).value = String(o.nodes);
  (f.namedItem('arch') as HTMLSelectElement).value = o.arch;
  (f.namedItem('cmdline') as HTMLInputElement).value = o.cmdline;
  (f.namedItem('slab') as HTMLSelectElement).value = o.slab;
  (f.namedItem('sheaves') as HTMLSelectElement).value = o.sheaves;
}

function boot(o: BootOptions): void {
  perf.bootRequested = performance.now();
  client.send({ type: 'boot', opts: o });
}

bootForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = bootForm.elements;
  const val = (n: string) => (f.namedItem(n) as HTMLInputElement).value.trim();
  boot({
    mem: val('mem') || defaults.mem, cpus: Number(val('cpus')) || 1, nodes: Number(val('nodes')) || 1,
    arch: val('arch') === 'i386' ? 'i386' : 'x86_64', cmdline: val('cmdline'),
    slab: SLAB_IMPLS.find((x) => x === val('slab')) ?? 'slub',
    sheaves: val('sheaves') === 'opt-in' || val('sheaves') === 'all' ? val('sheaves') as BootOptions['sheaves'] : 'none',
  });
});

function updateUrl(): void {
  const q = bootToQuery(opts, defaults);
  if (trace.status && trace.urlName) q.set('trace', trace.urlName);
  const s = q.toString();
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

function machineSummary(): void {
  const el = byId('machine');
  if (!view) return;
  const c = view.desc.config;
  el.replaceChildren(h('b', null, `${c.arch} · ${size(c.memBytes)} · ${c.cpus} CPU${c.cpus > 1 ? 's' : ''}${c.nodes.length > 1 ? ` · ${c.nodes.length} nodes` : ''}` +
    `${c.slab && c.slab !== 'slub' ? ` · ${c.slab.toUpperCase()}` : ''}`),
    ` · booted in ${Math.round(view.desc.bootMs)} ms`,
    state ? h('span', { class: state.tainted === 'Not tainted' ? undefined : 'tainted' }, ` · ${state.tainted}`) : '');
}

client.on('booted', (m) => {
  view = new MachineView(m.machine);
  cpus.reset(trace.status || trace.loading ? null : { config: m.machine.config, ram: m.machine.shared });
  map.attach(view);
  opts = m.opts;
  fillBootForm(opts);
  updateUrl();
  bootCount++;
  perf.bootMs = m.machine.bootMs;
  awaitingFirstFrame = true;
  zones.reset();
  slabs.reset();
  log.reset();
  vmallocPanel.reset(view);
  const cpu = cpuSelect.value;
  cpuSelect.replaceChildren(...Array.from({ length: m.machine.config.cpus }, (_, i) => h('option', { value: String(i) }, String(i))));
  cpuSelect.value = Number(cpu) < m.machine.config.cpus ? cpu : '0';
  events.reset();
  eventsSynced = false;
  pagePanel.pfn = -1;
  slabs.selected = 0;
  slabs.showDetail(null);
  machineSummary();
});

/* ---------------------------------------------------------------- */
/* State from the worker                                            */
/* ---------------------------------------------------------------- */

const cacheSelect = byId<HTMLFormElement>('op-cache').elements.namedItem('cache') as HTMLSelectElement;
let detailTimer = 0;

/** Time spent in each handler, cumulated (perf.handlerMs: what a frame competes with). */
const timed = (name: string, fn: () => void) => {
  const t0 = performance.now();
  fn();
  perf.handlerMs[name] = (perf.handlerMs[name] ?? 0) + performance.now() - t0;
};
client.on('state', (m) => {
  state = m.state;
  map.dirty = true;
  const st = m.state;
  timed('slabs', () => slabs.update(st.slabs, selectedTab === 'slabs'));
  timed('zones', () => zones.update(st.memory, selectedTab === 'zones'));
  timed('meminfo', () => meminfo.update(st.meminfo));
  timed('log', () => log.append(st.log, selectedTab === 'log'));
  timed('allocs', () => allocs.update(st.allocs, st.held, (v) => (view ? hexAddr(v, view.layout) : String(v))));
  timed('vmalloc', () => vmallocPanel.update(st.vmalloc, selectedTab === 'vmalloc'));
  timed('events', () => events.append(st.ftrace, st.ftraceDropped, selectedTab === 'events'));
  if (!eventsSynced) {
    // A new machine: tick what it traces (a fresh boot keeps the stream, a snapshot or a demo's machine starts without).
    events.sync(st.ftraceEvents, st.ftraceHashPtr);
    eventsSynced = true;
  }
  machineSummary();
  // The cache form's list, by name, keeping the selection.
  const keep = cacheSelect.value;
  const sorted = state.slabs.slice().sort((a, b) => a.name.localeCompare(b.name));
  cacheSelect.replaceChildren(...sorted.map((r) => h('option', { value: String(r.cache) }, r.name)));
  if (keep && sorted.some((r) => String(r.cache) === keep)) cacheSelect.value = keep;
  else {
    const def = sorted.find((r) => r.name === 'kmalloc-256') ?? sorted[0];
    if (def) cacheSelect.value = String(def.cache);
  }
  // The open cache, again (at most 4 times a second while a trace plays).
  if (slabs.selected && !detailTimer) {
    detailTimer = window.setTimeout(() => {
      detailTimer = 0;
      if (slabs.selected) client.send({ type: 'cache_detail', cache: slabs.selected, maxSlabs: 120 });
    }, trace.status?.playing ? 250 : 0);
  }
  if (selectedTab === 'page' && pagePanel.pfn >= 0 && view) openPage(pagePanel.pfn, false);
});

client.on('cache_detail', (m) => slabs.showDetail(m.detail));
client.on('demo_list', (m) => demo.setChapters(m.chapters));
client.on('demo', (m) => {
  demo.update(m.chapter, m.text, m.done);
  if (m.done) selectTab('demo');
});

client.on('trace', (m) => timed('trace', () => {
  const was = trace.status;
  trace.update(m.status);
  if ((was?.name ?? null) !== (m.status?.name ?? null)) updateUrl();
  if (m.status?.playing && !was?.playing) {
    perf.playFrames = 0;
    perf.playRedraws = 0;
    perf.playMs = 0;
  }
  map.dirty = true;
}));

client.on('snapshot', (m) => {
  const url = URL.createObjectURL(new Blob([m.bytes], { type: 'application/gzip' }));
  const a = h('a', { href: url, download: m.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  toast(`saved ${m.name} (${size(m.bytes.byteLength)})`);
});

client.on('error', (m) => {
  toast(m.message, false);
  // The first boot failed (options from the URL the kernel refuses): boot the defaults instead.
  if (!view && bootCount === 0 && JSON.stringify(opts) !== JSON.stringify(defaults)) {
    opts = defaults;
    fillBootForm(opts);
    boot(opts);
  }
});

/* ---------------------------------------------------------------- */
/* Operations                                                       */
/* ---------------------------------------------------------------- */

const cpuSelect = byId<HTMLSelectElement>('op-cpu');
/** Operations with bookkeeping of the kernel worker's own (held pages), or about every CPU: run there. */
const KERNEL_WORKER_OPS: ReadonlySet<Op['kind']> = new Set(['pressure', 'fragment', 'release', 'drain', 'shrink']);

async function runOp(op: Op, cpu = Number(cpuSelect.value) || 0): Promise<OpResult> {
  const before = view ? view.owner.slice() : null;
  const r = KERNEL_WORKER_OPS.has(op.kind) ? await client.op(op, cpus.attachedCpus.includes(cpu) ? 0 : cpu) : await cpus.run(op, cpu);
  lastOp = r;
  toast(r.text, r.ok);
  if (view && before) {
    // What changed owner, plus what the operation says it touched.
    view.classify();
    const changed: number[] = [];
    const owner = view.owner;
    for (let i = 0; i < owner.length; i++) if (owner[i] !== before[i]) changed.push(i);
    map.highlight([...new Set([...r.pfns, ...changed])]);
    map.dirty = true;
  }
  return r;
}

function formValue(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement).value.trim();
}

const kmallocForm = byId<HTMLFormElement>('op-kmalloc');
kmallocForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void runOp({ kind: 'kmalloc', size: Number(formValue(kmallocForm, 'size')), gfp: formValue(kmallocForm, 'gfp') });
});
const cacheForm = byId<HTMLFormElement>('op-cache');
cacheForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (cacheSelect.value) void runOp({ kind: 'cache_alloc', cache: Number(cacheSelect.value), gfp: 'GFP_KERNEL' });
});
const vmallocForm = byId<HTMLFormElement>('op-vmalloc');
vmallocForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void runOp({ kind: 'vmalloc', size: Number(formValue(vmallocForm, 'size')) }).then((r) => {
    // Open the new area in the vmalloc tab.
    if (r.ok && r.addr) {
      selectTab('vmalloc');
      vmallocPanel.select(r.addr);
    }
  });
});
const pagesForm = byId<HTMLFormElement>('op-pages');
pagesForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void runOp({ kind: 'alloc_pages', order: Number(formValue(pagesForm, 'order')), gfp: formValue(pagesForm, 'gfp') });
});
const newCache = byId<HTMLDialogElement>('new-cache');
newCache.addEventListener('close', () => {
  if (newCache.returnValue !== 'ok') return;
  const f = byId<HTMLFormElement>('new-cache-form');
  void runOp({ kind: 'cache_create', name: formValue(f, 'name'), size: Number(formValue(f, 'size')), align: Number(formValue(f, 'align')) })
    .then((r) => {
      if (r.ok && r.caches[0]) setTimeout(() => (cacheSelect.value = String(r.caches[0])), 50);
    });
});
byId('op-pressure-low').addEventListener('click', () => void runOp({ kind: 'pressure', to: 'low' }));
byId('op-pressure-min').addEventListener('click', () => void runOp({ kind: 'pressure', to: 'min' }));
byId('op-fragment').addEventListener('click', () => void runOp({ kind: 'fragment', pages: 16384 }));
byId('op-release').addEventListener('click', () => void runOp({ kind: 'release' }));

/* ---------------------------------------------------------------- */
/* Snapshots and dropped files                                      */
/* ---------------------------------------------------------------- */

byId('snap-save').addEventListener('click', () => {
  // A snapshot records which thread runs each CPU: give them all back to the kernel worker first.
  void cpus.release().then(() => client.send({ type: 'snapshot_save' }));
});
const snapLoad = byId<HTMLInputElement>('snap-load');
async function loadSnapshot(f: File): Promise<void> {
  const bytes = await f.arrayBuffer();
  perf.bootRequested = performance.now();
  client.send({ type: 'snapshot_load', bytes }, [bytes]);
  toast(`loading ${f.name}…`);
}
snapLoad.addEventListener('change', () => {
  const f = snapLoad.files?.[0];
  if (f) void loadSnapshot(f);
  snapLoad.value = '';
});

const drop = byId('drop');
let dragDepth = 0;
window.addEventListener('dragenter', (ev) => {
  if (!ev.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  drop.classList.add('show');
});
window.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    drop.classList.remove('show');
  }
});
window.addEventListener('dragover', (ev) => ev.preventDefault());
window.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dragDepth = 0;
  drop.classList.remove('show');
  const f = ev.dataTransfer?.files[0];
  if (!f) return;
  if (f.name.endsWith('.kmemsnap')) void loadSnapshot(f);
  else void trace.loadFile(f);
});

/* ---------------------------------------------------------------- */
/* Hover, click, tabs, legend                                       */
/* ---------------------------------------------------------------- */

const hoverEl = byId('hover');
function showHover(pfn: number): void {
  const i = view && pfn >= 0 ? view.pageInfo(pfn) : null;
  hoverEl.classList.toggle('show', i !== null);
  if (!i) return;
  const [, y] = map.cellXY(pfn);
  hoverEl.classList.toggle('top', y > byId('map-wrap').clientHeight / 2);
  hoverEl.replaceChildren(
    h('b', null, `pfn 0x${pfn.toString(16)}`), ` · phys 0x${i.phys.toString(16)} · page `, h('span', { class: 'mono' }, i.page),
    ` · ${i.zone} · `, h('b', null, i.ownerName), h('br'), i.detail, h('br'),
    'flags ', h('span', { class: 'mono' }, `0x${(i.flagsRaw >>> 0).toString(16)}${i.flags.length ? ` (${i.flags.join('|')})` : ''}`),
    ` · _refcount ${i.refcount} · page_type 0x${(i.pageType >>> 0).toString(16)} · private ${i.private >= 0 && i.private < 4096 ? i.private : `0x${(i.private >>> 0).toString(16)}`}` +
    `${i.mapping ? ` · mapping 0x${i.mapping.toString(16)}` : ''} · ${i.migratetype}`,
  );
}
map.onHover = showHover;
map.onScale = (t) => (byId('map-scale').textContent = t);

function objsizeOf(cache: number): number {
  return state?.slabs.find((r) => r.cache === cache)?.objsize ?? 0;
}

function openPage(pfn: number, switchTab = true): void {
  if (!view) return;
  map.selectedPfn = pfn;
  pagePanel.show(view, pfn, objsizeOf);
  if (switchTab) selectTab('page');
}
map.onClick = (pfn) => openPage(pfn);

const tabs = Array.from(document.querySelectorAll<HTMLButtonElement>('#tabs button'));
function selectTab(name: string): void {
  selectedTab = name;
  for (const b of tabs) b.classList.toggle('active', b.dataset.tab === name);
  for (const t of Array.from(document.querySelectorAll<HTMLElement>('.tab'))) t.classList.toggle('active', t.id === `tab-${name}`);
  if (name === 'zones' && state) zones.update(state.memory);
  if (name === 'slabs') slabs.show();
  if (name === 'log') log.seen();
  if (name === 'vmalloc') vmallocPanel.show();
  if (name === 'events') events.show();
}
for (const b of tabs) b.addEventListener('click', () => selectTab(b.dataset.tab!));

const legendEl = byId('legend');
function legend(): void {
  if (!view) return;
  const c = view.counts;
  const pages = (n: number) => h('span', { class: 'n', title: `${num(n)} pages` }, size(n * 4096));
  const item = (o: number, label: string) => (c[o] > 0 || o === O_PCP || o === O_ALLOC ? h('span', { class: 'lg' },
    h('span', { class: 'sw', style: `background:${OWNER_CSS[o]}` }), label, pages(c[o])) : null);
  let free = 0;
  for (let o = 0; o <= 10; o++) free += c[O_FREE + o];
  const ramp = h('span', { class: 'ramp', title: 'order 0 (light) to order 10 (dark)' },
    ...Array.from({ length: 11 }, (_, o) => h('i', { style: `background:${OWNER_CSS[O_FREE + o]}` })));
  const slabRamp = h('span', { class: 'ramp', title: 'one warm colour per cache: see the swatches in the Slabs tab' },
    ...['#c0392b', '#e8743b', '#f39c12', '#f5b041', '#d94a7a'].map((col) => h('i', { style: `background:${col}` })));
  const items: (HTMLElement | null)[] = [
    h('span', { class: 'lg' }, ramp, 'free, order 0→10', pages(free)),
    item(O_PCP, 'pcp lists'), item(O_ALLOC, 'allocated'),
    h('span', { class: 'lg' }, slabRamp, 'slab (colour per cache)', pages(c[O_SLAB])),
    item(O_VMALLOC, 'vmalloc'), item(O_PGTABLE, 'page tables'), item(O_KERNEL, 'kernel image'), item(O_MEMMAP, 'memmap'), item(O_PERCPU, 'percpu'),
    item(O_RESERVED, 'reserved'), item(O_FIRMWARE, 'firmware'), item(O_NONE, 'no RAM'),
  ];
  legendEl.replaceChildren(...items.filter((x): x is HTMLElement => x !== null));
}

/* ---------------------------------------------------------------- */
/* Keys                                                             */
/* ---------------------------------------------------------------- */

const help = byId<HTMLDialogElement>('help');
byId('help-button').addEventListener('click', () => help.showModal());
window.addEventListener('keydown', (ev) => {
  const t = ev.target as HTMLElement;
  if (t.closest('input, select, textarea, dialog') || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const keys: Record<string, () => void> = {
    ' ': () => trace.togglePlay(),
    ArrowRight: () => trace.stepBy(ev.shiftKey ? 100 : 1),
    ArrowLeft: () => trace.status && trace.seek(trace.status.pos - (ev.shiftKey ? 100 : 1)),
    '+': () => map.zoom(1.5),
    '=': () => map.zoom(1.5),
    '-': () => map.zoom(1 / 1.5),
    f: () => map.fit(),
    '?': () => help.showModal(),
  };
  const tabNames = tabs.map((b) => b.dataset.tab!);
  if (/^[1-9]$/.test(ev.key)) keys[ev.key] = () => selectTab(tabNames[Number(ev.key) - 1]);
  const fn = keys[ev.key];
  if (fn) {
    ev.preventDefault();
    if (t instanceof HTMLButtonElement) t.blur();
    fn();
  }
});
byId('zoom-in').addEventListener('click', () => map.zoom(1.5));
byId('zoom-out').addEventListener('click', () => map.zoom(1 / 1.5));
byId('zoom-fit').addEventListener('click', () => map.fit());

/* ---------------------------------------------------------------- */
/* The frame loop: redraw from memory at most once a frame          */
/* ---------------------------------------------------------------- */

let lastLegend = 0;
let legendPending = false;
let lastFrame = 0;
function frame(now: number): void {
  requestAnimationFrame(frame);
  perf.frames++;
  const playing = trace.status?.playing ?? false;
  if (playing) map.dirty = true;
  const redrew = map.frame(now);
  if (playing) {
    perf.playFrames++;
    if (redrew) perf.playRedraws++;
    if (lastFrame) perf.playMs += now - lastFrame;
  }
  lastFrame = now;
  if (redrew && awaitingFirstFrame && state) {
    awaitingFirstFrame = false;
    perf.bootToFrameMs = performance.now() - perf.bootRequested;
  }
  if (redrew) legendPending = true;
  if (legendPending && now - lastLegend > 250) {
    legendPending = false;
    lastLegend = now;
    legend();
    if (map.hoverPfn >= 0) showHover(map.hoverPfn);
  }
}
requestAnimationFrame(frame);

/* ---------------------------------------------------------------- */
/* Start                                                            */
/* ---------------------------------------------------------------- */

fillBootForm(opts);
boot(opts);
void trace.loadList().then(() => {
  const t = query.get('trace');
  const e = t ? trace.find(t) : undefined;
  if (e) void trace.loadUrl(e);
});
