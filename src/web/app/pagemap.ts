/*
 * The physical memory map: one cell per 4 KiB page frame, `cols` frames a
 * row (a power of two, chosen so the machine's RAM makes a roughly square
 * picture: 512 for 1 GiB, so a row is 2 MiB, one pageblock), pfn 0 at the
 * top left.
 *
 * Each redraw classifies every frame from the memmap (MachineView), writes
 * one pixel per frame into an ImageData the size of the map, and draws that
 * scaled onto the visible canvas: nearest-neighbour when a cell is a pixel
 * or more, smoothed when zoomed out so that several frames share a pixel
 * (the browser's downscaling averages their colours: aggregation for
 * free). Overlays: zone boundaries, address labels, a grid when cells are
 * big, the hovered and selected frames, the frames the last operation
 * touched, fading out, and a marked set that stays (the vmalloc area
 * selected: its scattered pages).
 */
import { MachineView, O_SLAB } from '../machine_view.ts';
import { OWNER_PIXEL, cacheCss, pixel } from './colours.ts';
import { size } from './dom.ts';

const GUTTER = 52;

/** A physical address as a short label: 0, 96M, 1G, 1.5G, 512K. */
function addrLabel(bytes: number): string {
  if (bytes === 0) return '0';
  if (bytes % 2 ** 30 === 0 || bytes >= 4 * 2 ** 30) return `${+(bytes / 2 ** 30).toFixed(2)}G`;
  if (bytes % 2 ** 20 === 0 || bytes >= 2 ** 20) return `${+(bytes / 2 ** 20).toFixed(1)}M`;
  return `${Math.round(bytes / 1024)}K`;
}
const HIGHLIGHT_MS = 2600;
const MAX_MARKERS = 3000;

interface Highlight {
  pfns: number[];
  t0: number;
  /** A layer with the frames set, for big sets. */
  layer: HTMLCanvasElement | null;
}

export interface MapPerf {
  /** Redraws of the map from memory. */
  redraws: number;
  classifyMs: number;
  paintMs: number;
  drawMs: number;
  /** Over all redraws: total and worst of classify + paint + draw. */
  totalMs: number;
  maxMs: number;
}

export class PageMap {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly off = document.createElement('canvas');
  private offCtx!: CanvasRenderingContext2D;
  private img!: ImageData;
  private px!: Uint32Array;
  view: MachineView | null = null;
  cols = 512;
  rows = 0;
  scale = 1;
  ox = 0;
  oy = 0;
  private fitted = true;
  private cssW = 0;
  private cssH = 0;
  private dpr = 1;
  hoverPfn = -1;
  selectedPfn = -1;
  private highlights: Highlight[] = [];
  /** Frames marked until marked again (outlined in the vmalloc colour). */
  private marked: number[] = [];
  private cachePx = new Uint32Array(0);
  readonly cacheCssByIdx: string[] = [];
  /** Set when memory may have changed: the next frame reads it again. */
  dirty = true;
  private needDraw = true;
  readonly perf: MapPerf = { redraws: 0, classifyMs: 0, paintMs: 0, drawMs: 0, totalMs: 0, maxMs: 0 };
  onHover: (pfn: number) => void = () => {};
  onClick: (pfn: number) => void = () => {};
  onScale: (text: string) => void = () => {};

  constructor(private readonly canvas: HTMLCanvasElement, private readonly wrap: HTMLElement) {
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    new ResizeObserver(() => this.resize()).observe(wrap);
    this.resize();
    this.wireMouse();
  }

  attach(view: MachineView): void {
    this.view = view;
    // The power of two that draws the pages biggest in this panel.
    let best = 0;
    for (let c = 32; c <= 8192; c *= 2) {
      const s = Math.min((this.cssW - GUTTER - 8) / c, (this.cssH - 8) / Math.ceil(view.maxPfn / c));
      if (s > best) {
        best = s;
        this.cols = c;
      }
    }
    this.rows = Math.ceil(view.maxPfn / this.cols);
    this.off.width = this.cols;
    this.off.height = this.rows;
    this.offCtx = this.off.getContext('2d')!;
    this.img = this.offCtx.createImageData(this.cols, this.rows);
    this.px = new Uint32Array(this.img.data.buffer);
    this.px.fill(OWNER_PIXEL[0]);
    this.cachePx = new Uint32Array(0);
    this.cacheCssByIdx.length = 0;
    this.highlights = [];
    this.marked = [];
    this.hoverPfn = -1;
    this.selectedPfn = -1;
    this.fitted = true;
    this.fit();
    this.dirty = true;
  }

  private resize(): void {
    const r = this.wrap.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.cssW = Math.max(1, r.width);
    this.cssH = Math.max(1, r.height);
    this.canvas.width = Math.round(this.cssW * this.dpr);
    this.canvas.height = Math.round(this.cssH * this.dpr);
    if (this.fitted) this.fit();
    this.needDraw = true;
  }

  fitScale(): number {
    if (this.rows === 0) return 1;
    return Math.min((this.cssW - GUTTER - 8) / this.cols, (this.cssH - 8) / this.rows);
  }

  fit(): void {
    this.fitted = true;
    this.scale = this.fitScale();
    this.ox = GUTTER + (this.cssW - GUTTER - this.cols * this.scale) / 2;
    this.oy = Math.max(4, (this.cssH - this.rows * this.scale) / 2);
    this.scaleChanged();
  }

  /** Zoom by factor around a point of the canvas (css px). */
  zoom(factor: number, cx = (this.cssW + GUTTER) / 2, cy = this.cssH / 2): void {
    const s = Math.min(48, Math.max(Math.min(this.fitScale(), 0.25), this.scale * factor));
    const k = s / this.scale;
    this.ox = cx - (cx - this.ox) * k;
    this.oy = cy - (cy - this.oy) * k;
    this.scale = s;
    this.fitted = false;
    this.scaleChanged();
  }

  private scaleChanged(): void {
    this.needDraw = true;
    const v = this.view;
    if (!v) return;
    const pagesPerPx = 1 / (this.scale * this.scale);
    this.onScale(this.scale >= 1
      ? `${this.cols} pages a row (${size(this.cols * 4096)}) · ${this.scale.toFixed(this.scale < 10 ? 1 : 0)} px a page`
      : `${this.cols} pages a row (${size(this.cols * 4096)}) · ${pagesPerPx.toFixed(1)} pages a pixel`);
  }

  /** The pfn under a canvas point (css px), or -1. */
  pfnAt(x: number, y: number): number {
    if (!this.view) return -1;
    const c = Math.floor((x - this.ox) / this.scale);
    const r = Math.floor((y - this.oy) / this.scale);
    if (c < 0 || c >= this.cols || r < 0 || r >= this.rows) return -1;
    const pfn = r * this.cols + c;
    return pfn < this.view.maxPfn ? pfn : -1;
  }

  /** The canvas point (css px) of a pfn's cell's top left. */
  cellXY(pfn: number): [number, number] {
    return [this.ox + (pfn % this.cols) * this.scale, this.oy + Math.floor(pfn / this.cols) * this.scale];
  }

  private wireMouse(): void {
    let drag: { x: number; y: number; ox: number; oy: number; moved: boolean } | null = null;
    const pos = (ev: MouseEvent) => {
      const r = this.canvas.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top] as const;
    };
    this.canvas.addEventListener('mousedown', (ev) => {
      const [x, y] = pos(ev);
      drag = { x, y, ox: this.ox, oy: this.oy, moved: false };
    });
    window.addEventListener('mousemove', (ev) => {
      const [x, y] = pos(ev);
      if (drag) {
        if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 3) drag.moved = true;
        if (drag.moved) {
          this.wrap.classList.add('dragging');
          this.ox = drag.ox + x - drag.x;
          this.oy = drag.oy + y - drag.y;
          this.fitted = false;
          this.needDraw = true;
          return;
        }
      }
      if (ev.target !== this.canvas) return;
      const pfn = this.pfnAt(x, y);
      if (pfn !== this.hoverPfn) {
        this.hoverPfn = pfn;
        this.needDraw = true;
        this.onHover(pfn);
      }
    });
    window.addEventListener('mouseup', (ev) => {
      if (!drag) return;
      const wasDrag = drag.moved;
      drag = null;
      this.wrap.classList.remove('dragging');
      if (!wasDrag && ev.target === this.canvas) {
        const [x, y] = pos(ev);
        const pfn = this.pfnAt(x, y);
        if (pfn >= 0) {
          this.selectedPfn = pfn;
          this.needDraw = true;
          this.onClick(pfn);
        }
      }
    });
    this.canvas.addEventListener('mouseleave', () => {
      if (this.hoverPfn !== -1) {
        this.hoverPfn = -1;
        this.needDraw = true;
        this.onHover(-1);
      }
    });
    this.canvas.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const [x, y] = pos(ev);
      this.zoom(ev.deltaY < 0 ? 1.25 : 0.8, x, y);
    }, { passive: false });
  }

  /** Flash these frames for a moment. */
  highlight(pfns: number[]): void {
    const view = this.view;
    if (!view || pfns.length === 0) return;
    let layer: HTMLCanvasElement | null = null;
    if (pfns.length > MAX_MARKERS) {
      layer = document.createElement('canvas');
      layer.width = this.cols;
      layer.height = this.rows;
      const lctx = layer.getContext('2d')!;
      const img = lctx.createImageData(this.cols, this.rows);
      const p = new Uint32Array(img.data.buffer);
      const white = pixel('#ffffff');
      for (const pfn of pfns) if (pfn >= 0 && pfn < view.maxPfn) p[pfn] = white;
      lctx.putImageData(img, 0, 0);
    }
    this.highlights.push({ pfns, t0: performance.now(), layer });
    this.needDraw = true;
  }

  /** Mark these frames until the next call ([]: none). */
  mark(pfns: number[]): void {
    this.marked = pfns.slice(0, MAX_MARKERS);
    this.needDraw = true;
  }

  get markedPfns(): readonly number[] {
    return this.marked;
  }

  get highlighting(): boolean {
    return this.highlights.length > 0;
  }

  /** Colours for the caches the last classify() met for the first time. */
  private cacheColours(): void {
    const v = this.view!;
    if (this.cacheCssByIdx.length >= v.caches.length) return;
    if (this.cachePx.length < v.caches.length) {
      const next = new Uint32Array(Math.max(64, v.caches.length * 2));
      next.set(this.cachePx);
      this.cachePx = next;
    }
    for (let i = this.cacheCssByIdx.length; i < v.caches.length; i++) {
      const css = cacheCss(v.cacheName(v.caches[i]));
      this.cacheCssByIdx.push(css);
      this.cachePx[i] = pixel(css);
    }
  }

  /** The colour of a cache (by address), as the map draws it. */
  cacheColour(cache: number): string {
    const v = this.view;
    if (!v) return '#888';
    const i = v.caches.indexOf(cache);
    return i >= 0 && i < this.cacheCssByIdx.length ? this.cacheCssByIdx[i] : cacheCss(v.cacheName(cache));
  }

  /** Read memory again and repaint the map image. */
  private update(): void {
    const v = this.view!;
    this.perf.classifyMs = v.classify();
    const t1 = performance.now();
    this.cacheColours();
    const owner = v.owner;
    const cacheIdx = v.cacheIdx;
    const px = this.px;
    const cachePx = this.cachePx;
    const ownerPx = OWNER_PIXEL;
    const n = v.maxPfn;
    for (let pfn = 0; pfn < n; pfn++) {
      const o = owner[pfn];
      px[pfn] = o === O_SLAB ? cachePx[cacheIdx[pfn]] : ownerPx[o];
    }
    this.offCtx.putImageData(this.img, 0, 0);
    this.perf.paintMs = performance.now() - t1;
  }

  /** One animation frame: read memory if it may have changed, draw if anything changed. */
  frame(now: number): boolean {
    if (!this.view) return false;
    const t0 = performance.now();
    let redrew = false;
    if (this.dirty) {
      this.update();
      this.dirty = false;
      this.needDraw = true;
      redrew = true;
    }
    this.highlights = this.highlights.filter((h) => now - h.t0 < HIGHLIGHT_MS);
    if (this.highlights.length > 0) this.needDraw = true;
    if (!this.needDraw) return false;
    this.needDraw = false;
    const t1 = performance.now();
    this.draw(now);
    this.perf.drawMs = performance.now() - t1;
    if (redrew) {
      const total = performance.now() - t0;
      this.perf.redraws++;
      this.perf.totalMs += total;
      this.perf.maxMs = Math.max(this.perf.maxMs, total);
    }
    return redrew;
  }

  private draw(now: number): void {
    const ctx = this.ctx;
    const v = this.view!;
    const s = this.scale;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#0f1216';
    ctx.fillRect(0, 0, this.cssW, this.cssH);
    ctx.imageSmoothingEnabled = s < 1;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.off, this.ox, this.oy, this.cols * s, this.rows * s);

    // The grid, when cells are big enough to see it.
    if (s >= 7) {
      ctx.strokeStyle = 'rgba(15,18,22,0.55)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      const c0 = Math.max(0, Math.floor((GUTTER - this.ox) / s));
      const c1 = Math.min(this.cols, Math.ceil((this.cssW - this.ox) / s));
      const r0 = Math.max(0, Math.floor(-this.oy / s));
      const r1 = Math.min(this.rows, Math.ceil((this.cssH - this.oy) / s));
      for (let c = c0; c <= c1; c++) {
        const x = Math.round(this.ox + c * s) + 0.5;
        ctx.moveTo(x, this.oy + r0 * s);
        ctx.lineTo(x, this.oy + r1 * s);
      }
      for (let r = r0; r <= r1; r++) {
        const y = Math.round(this.oy + r * s) + 0.5;
        ctx.moveTo(this.ox + c0 * s, y);
        ctx.lineTo(this.ox + c1 * s, y);
      }
      ctx.stroke();
    }

    // Zone boundaries: a step line where each populated zone starts, its name beside it.
    ctx.lineWidth = 1.5;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    let labelBottom = -Infinity;
    for (const z of v.desc.zones) {
      if (z.present === 0) continue;
      const r = Math.floor(z.startPfn / this.cols);
      const c = z.startPfn % this.cols;
      const y0 = this.oy + r * s;
      const x0 = this.ox + c * s;
      const x1 = this.ox + this.cols * s;
      ctx.strokeStyle = '#e6edf3';
      ctx.beginPath();
      if (c === 0) {
        ctx.moveTo(this.ox, y0);
        ctx.lineTo(x1, y0);
      } else {
        ctx.moveTo(x1, y0);
        ctx.lineTo(x0, y0);
        ctx.lineTo(x0, y0 + s);
        ctx.lineTo(this.ox, y0 + s);
      }
      ctx.stroke();
      const label = `${v.desc.zones.filter((q) => q.present > 0 && q.nid !== z.nid).length > 0 || v.desc.config.nodes.length > 1 ? `node ${z.nid} ` : ''}${z.name}`;
      const tw = ctx.measureText(label).width + 8;
      const ly = Math.max(y0 + (c === 0 ? 2 : s + 2), 2, labelBottom + 1);
      labelBottom = ly + 15;
      ctx.fillStyle = 'rgba(15,18,22,0.85)';
      ctx.fillRect(x1 - tw - 2, ly, tw, 15);
      ctx.fillStyle = '#e6edf3';
      ctx.fillText(label, x1 - tw + 2, ly + 2);
    }

    // Address labels in the gutter.
    ctx.fillStyle = '#0f1216';
    ctx.fillRect(0, 0, GUTTER - 2, this.cssH);
    ctx.fillStyle = '#8a96a6';
    ctx.textAlign = 'right';
    const rowBytes = this.cols * 4096;
    let every = 1;
    while (every * s < 26) every *= 2;
    const rFirst = Math.max(0, Math.ceil(-this.oy / s / every) * every);
    for (let r = rFirst; r < this.rows && this.oy + r * s < this.cssH; r += every) {
      ctx.fillText(addrLabel(r * rowBytes), GUTTER - 8, this.oy + r * s - 5 + Math.min(s, 10) / 2);
    }
    ctx.textAlign = 'left';

    // What the last operations touched, fading.
    for (const hl of this.highlights) {
      const a = 1 - (now - hl.t0) / HIGHLIGHT_MS;
      if (hl.layer) {
        ctx.globalAlpha = 0.85 * a;
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(hl.layer, this.ox, this.oy, this.cols * s, this.rows * s);
        ctx.globalAlpha = 1;
        continue;
      }
      ctx.strokeStyle = `rgba(255,255,255,${a.toFixed(3)})`;
      ctx.lineWidth = 1.5;
      const m = Math.max(s, 7);
      for (const pfn of hl.pfns) {
        const [x, y] = this.cellXY(pfn);
        ctx.strokeRect(x + s / 2 - m / 2 - 1, y + s / 2 - m / 2 - 1, m + 2, m + 2);
      }
    }

    // The marked set.
    ctx.strokeStyle = '#ff8cf5';
    ctx.lineWidth = 2;
    for (const pfn of this.marked) {
      const [x, y] = this.cellXY(pfn);
      const m = Math.max(s, 6);
      ctx.strokeRect(x + s / 2 - m / 2 - 1, y + s / 2 - m / 2 - 1, m + 2, m + 2);
    }

    // Hover and selection.
    const mark = (pfn: number, colour: string, min: number) => {
      if (pfn < 0) return;
      const [x, y] = this.cellXY(pfn);
      const m = Math.max(s, min);
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + s / 2 - m / 2 - 1, y + s / 2 - m / 2 - 1, m + 2, m + 2);
    };
    mark(this.selectedPfn, '#5aa9ff', 9);
    mark(this.hoverPfn, '#ffffff', 7);
  }
}
