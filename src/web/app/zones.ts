/*
 * The zones: free pages against the min/low/high watermarks, the free
 * blocks per order stacked by migratetype (buddyinfo and pagetypeinfo in
 * one chart), the pageblocks per migratetype, and each CPU's pageset.
 */
import type { MemoryView, ZoneView } from '../../fs/proc/views.ts';
import { h, num, size } from './dom.ts';

export const MT_COLOURS: Record<string, string> = {
  Unmovable: '#e8743b', Movable: '#5aa9ff', Reclaimable: '#4cc38a', HighAtomic: '#f0b429', CMA: '#b18cf0', Isolate: '#8a96a6',
};

interface Card {
  el: HTMLElement;
  head: HTMLElement;
  nums: HTMLElement;
  wm: HTMLCanvasElement;
  buddy: HTMLCanvasElement;
  blocks: HTMLCanvasElement;
  blockLegend: HTMLElement;
  pcp: HTMLElement;
}

function prep(c: HTMLCanvasElement, cssH: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(200, c.clientWidth || 480);
  c.width = Math.round(w * dpr);
  c.height = Math.round(cssH * dpr);
  c.style.height = `${cssH}px`;
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, cssH);
  ctx.font = '11px system-ui, sans-serif';
  return ctx;
}

export function zoneState(z: ZoneView): { cls: string; text: string } {
  if (z.freePages < z.min) return { cls: 'bad', text: 'below min: only GFP_ATOMIC and reserves' };
  if (z.freePages < z.low) return { cls: 'warn', text: 'below low: kswapd woken' };
  if (z.freePages < z.high) return { cls: 'warn', text: 'below high: kswapd reclaiming' };
  return { cls: 'ok', text: 'above high' };
}

export class ZonePanel {
  private readonly cards = new Map<string, Card>();
  private last: MemoryView | null = null;

  private readonly box = h('div');

  constructor(el: HTMLElement, onDrain: () => void) {
    new ResizeObserver(() => this.last && el.classList.contains('active') && this.update(this.last)).observe(el);
    el.append(h('div', { class: 'zone-tools' },
      h('span', { class: 'dim' }, 'Per zone: free pages against the watermarks, the buddy free lists, the per-CPU lists.'),
      h('div', { class: 'spacer' }),
      h('button', { id: 'op-drain', onclick: onDrain, title: 'drain_all_pages(): every CPU\'s pcp lists back to the buddy allocator' }, 'drain pcp')),
    this.box);
  }

  reset(): void {
    this.cards.clear();
    this.box.replaceChildren();
  }

  private card(key: string): Card {
    let c = this.cards.get(key);
    if (!c) {
      c = {
        el: h('div', { class: 'zone', 'data-zone': key }),
        head: h('div', { class: 'zone-head' }),
        nums: h('div', { class: 'nums' }),
        wm: h('canvas', { class: 'wm' }),
        buddy: h('canvas', { class: 'buddy' }),
        blocks: h('canvas', { class: 'blocks' }),
        blockLegend: h('div', { class: 'mt-legend' }),
        pcp: h('div', { class: 'nums' }),
      };
      c.el.append(c.head, c.wm, c.nums, h('div', { class: 'dim', style: 'font-size:11px;margin-top:6px' },
        'free blocks by order (log scale), by migratetype'), c.buddy,
      h('div', { class: 'dim', style: 'font-size:11px;margin-top:6px' }, 'pageblocks by migratetype'), c.blocks, c.blockLegend, c.pcp);
      this.box.append(c.el);
      this.cards.set(key, c);
    }
    return c;
  }

  /** New figures; drawn if the tab is visible (else when shown: update(last)). */
  update(view: MemoryView, visible = true): void {
    this.last = view;
    if (!visible) return;
    for (const node of view.nodes) {
      for (const z of node.zones) {
        if (!z.populated) continue;
        const c = this.card(`${node.id}:${z.name}`);
        const st = zoneState(z);
        c.head.replaceChildren(
          h('b', null, `Node ${node.id}, zone ${z.name}`),
          h('span', { class: `chip ${st.cls}` }, st.text),
          h('span', { class: 'dim' }, `pfn 0x${z.startPfn.toString(16)}–0x${(z.startPfn + z.spanned).toString(16)}, managed ${num(z.managed)} pages (${size(z.managed * 4096)})`),
        );
        const pcp = z.pagesets.reduce((n, p) => n + p.count, 0);
        c.nums.innerHTML = '';
        c.nums.append(
          'free ', h('b', null, num(z.freePages)), ` (${size(z.freePages * 4096)}) · min `, h('b', null, num(z.min)),
          ' · low ', h('b', null, num(z.low)), ' · high ', h('b', null, num(z.high)),
          ' · on pcp lists ', h('b', null, num(pcp)),
          z.boost ? ` · boost ${num(z.boost)}` : '',
        );
        this.drawWatermarks(c.wm, z);
        this.drawBuddy(c.buddy, z, view.migratetypes);
        this.drawBlocks(c.blocks, c.blockLegend, z, view.migratetypes);
        c.pcp.replaceChildren('pagesets: ', ...z.pagesets.map((p, i) => h('span', { style: 'margin-right:10px' },
          `cpu${p.cpu} `, h('b', null, `${p.count}`), `/${p.high} (batch ${p.batch})${i < z.pagesets.length - 1 ? '' : ''}`)));
      }
    }
  }

  /**
   * Free pages on a gauge with a broken axis: the left 62% runs linearly
   * from 0 to 1.3 x the high watermark, where the watermarks are; the rest
   * from there to the zone's managed pages. So the watermarks stay apart
   * whether the zone is nearly empty or nearly full.
   */
  private drawWatermarks(c: HTMLCanvasElement, z: ZoneView): void {
    const ctx = prep(c, 34);
    const w = c.width / (window.devicePixelRatio || 1);
    const L = 4;
    const R = w - 4;
    const brk = L + (R - L) * 0.62;
    const lim = Math.max(1, Math.ceil(z.high * 1.3));
    const max = Math.max(z.managed, lim + 1);
    const x = (v: number) => (v <= lim ? L + ((brk - L) * v) / lim : brk + ((R - brk) * (v - lim)) / (max - lim));
    ctx.fillStyle = '#222a33';
    ctx.fillRect(L, 6, R - L, 12);
    const st = zoneState(z);
    ctx.fillStyle = st.cls === 'ok' ? '#2f7d5b' : st.cls === 'warn' ? '#a8801a' : '#a33b3b';
    ctx.fillRect(L, 6, x(Math.min(z.freePages, max)) - L, 12);
    // the break
    ctx.fillStyle = '#161a20';
    ctx.fillRect(brk - 2, 4, 4, 16);
    ctx.strokeStyle = '#8a96a6';
    ctx.beginPath();
    ctx.moveTo(brk - 4, 21);
    ctx.lineTo(brk, 3);
    ctx.moveTo(brk, 21);
    ctx.lineTo(brk + 4, 3);
    ctx.stroke();
    ctx.textBaseline = 'top';
    let lastRight = -Infinity;
    for (const [v, label] of [[z.min, 'min'], [z.low, 'low'], [z.high, 'high']] as const) {
      const xv = Math.round(x(v)) + 0.5;
      ctx.strokeStyle = '#e6edf3';
      ctx.beginPath();
      ctx.moveTo(xv, 3);
      ctx.lineTo(xv, 21);
      ctx.stroke();
      ctx.fillStyle = '#c9d3de';
      const tw = ctx.measureText(label).width;
      const tx = Math.max(xv - tw / 2, lastRight + 4);
      ctx.fillText(label, tx, 22);
      lastRight = tx + tw;
    }
    ctx.fillStyle = '#8a96a6';
    ctx.textAlign = 'right';
    ctx.fillText(`${num(max)} managed`, R, 22);
    ctx.textAlign = 'left';
  }

  private drawBuddy(c: HTMLCanvasElement, z: ZoneView, mts: string[]): void {
    const H = 118;
    const ctx = prep(c, H);
    const w = c.width / (window.devicePixelRatio || 1);
    const orders = z.nrFree.length;
    const maxCount = Math.max(1, ...z.nrFree);
    const top = 14;
    const base = H - 28;
    const bw = (w - 16) / orders;
    const y = (n: number) => (n <= 0 ? 0 : ((base - top) * Math.log10(1 + n)) / Math.log10(1 + maxCount));
    for (let o = 0; o < orders; o++) {
      const x0 = 8 + o * bw + 3;
      const total = z.nrFree[o];
      // stack by migratetype (freeByType counts the free lists; nr_free the same blocks)
      let acc = 0;
      const sum = mts.reduce((n, _, mt) => n + (z.freeByType[mt]?.[o] ?? 0), 0) || 1;
      for (let mt = 0; mt < mts.length; mt++) {
        const n = z.freeByType[mt]?.[o] ?? 0;
        if (n === 0) continue;
        const y0 = base - (y(total) * acc) / sum;
        const hgt = (y(total) * n) / sum;
        ctx.fillStyle = MT_COLOURS[mts[mt]] ?? '#888';
        ctx.fillRect(x0, y0 - hgt, bw - 6, hgt);
        acc += n;
      }
      ctx.fillStyle = '#c9d3de';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(total >= 10000 ? `${Math.round(total / 1000)}k` : String(total), x0 + (bw - 6) / 2, base - y(total) - 1);
      ctx.textBaseline = 'top';
      ctx.fillStyle = '#8a96a6';
      ctx.fillText(String(o), x0 + (bw - 6) / 2, base + 3);
      ctx.fillText(size(4096 << o), x0 + (bw - 6) / 2, base + 15);
    }
    ctx.strokeStyle = '#2a313b';
    ctx.beginPath();
    ctx.moveTo(8, base + 0.5);
    ctx.lineTo(w - 8, base + 0.5);
    ctx.stroke();
    ctx.textAlign = 'left';
  }

  private drawBlocks(c: HTMLCanvasElement, legend: HTMLElement, z: ZoneView, mts: string[]): void {
    const ctx = prep(c, 14);
    const w = c.width / (window.devicePixelRatio || 1);
    const total = z.blocksByType.reduce((a, b) => a + b, 0) || 1;
    let x = 4;
    z.blocksByType.forEach((n, mt) => {
      const bw = ((w - 8) * n) / total;
      ctx.fillStyle = MT_COLOURS[mts[mt]] ?? '#888';
      ctx.fillRect(x, 2, bw, 10);
      x += bw;
    });
    legend.replaceChildren(...mts.map((name, mt) => h('span', null,
      h('span', { class: 'sw-cache', style: `background:${MT_COLOURS[name] ?? '#888'}` }), `${name} ${num(z.blocksByType[mt] ?? 0)}`)));
  }
}
