/*
 * The smaller tabs: /proc/meminfo, the kernel log, the allocations made
 * by hand, and one page frame opened up (struct page and a hex dump).
 */
import type { HandAlloc, LogLine } from '../protocol.ts';
import { O_SLAB, hex as hexAddr, type MachineView } from '../machine_view.ts';
import { formatTimestamp } from '../../kernel/printk.ts';
import { h, hex, num, size } from './dom.ts';

/* ---------------------------------------------------------------- */

export class MeminfoPanel {
  private prev = new Map<string, string>();
  private readonly bar = h('div', { class: 'membar', title: 'MemTotal: used (other), slab, page tables, percpu, free' });
  private readonly barLegend = h('div', { class: 'mt-legend' });
  private readonly body = h('div', { class: 'meminfo' });

  constructor(el: HTMLElement) {
    el.append(this.bar, this.barLegend, h('div', { style: 'height:6px' }), this.body);
  }

  update(text: string): void {
    const kb = new Map<string, number>();
    const lines = text.trimEnd().split('\n').map((line) => {
      const m = /^([^:]+):\s+(\d+)/.exec(line);
      const key = m ? m[1] : line;
      if (m) kb.set(m[1], Number(m[2]));
      const changed = this.prev.size > 0 && this.prev.get(key) !== line;
      this.prev.set(key, line);
      return h('div', { class: changed ? 'changed' : undefined }, line);
    });
    this.body.replaceChildren(...lines);
    const total = kb.get('MemTotal') ?? 1;
    const free = kb.get('MemFree') ?? 0;
    const slab = kb.get('Slab') ?? 0;
    const pt = kb.get('PageTables') ?? 0;
    const pcpu = kb.get('Percpu') ?? 0;
    const other = Math.max(0, total - free - slab - pt - pcpu);
    const parts: [string, number, string][] = [
      ['used (other)', other, '#5cc86f'], ['Slab', slab, '#e8743b'], ['PageTables', pt, '#b18cf0'], ['Percpu', pcpu, '#3fb5a5'],
      ['MemFree', free, '#285697'],
    ];
    this.bar.replaceChildren(...parts.map(([, v, c]) => h('span', { style: `width:${(100 * v) / total}%;background:${c}` })));
    this.barLegend.replaceChildren(...parts.map(([name, v, c]) => h('span', null,
      h('span', { class: 'sw-cache', style: `background:${c}` }), `${name} ${size(v * 1024)}`)));
  }
}

/* ---------------------------------------------------------------- */

const MAX_LOG_LINES = 3000;

export class LogPanel {
  private readonly box = h('div', { class: 'log' });
  private count = 0;
  unseenWarnings = 0;

  constructor(private readonly el: HTMLElement, private readonly badge: HTMLElement) {
    el.append(this.box);
  }

  reset(): void {
    this.box.replaceChildren();
    this.count = 0;
    this.unseenWarnings = 0;
    this.badge.textContent = '';
  }

  append(lines: LogLine[], visible: boolean): void {
    if (lines.length === 0) return;
    const atBottom = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 20;
    const frag = document.createDocumentFragment();
    for (const l of lines) {
      frag.append(h('div', { class: `l${l.level}` }, h('span', { class: 't' }, `${formatTimestamp(l.ts)} `), l.text));
      if (l.level <= 4 && !visible) this.unseenWarnings++;
    }
    this.box.append(frag);
    this.count += lines.length;
    while (this.count > MAX_LOG_LINES && this.box.firstChild) {
      this.box.firstChild.remove();
      this.count--;
    }
    if (atBottom || !visible) this.el.scrollTop = this.el.scrollHeight;
    this.badge.textContent = this.unseenWarnings ? `${this.unseenWarnings}` : '';
  }

  seen(): void {
    this.unseenWarnings = 0;
    this.badge.textContent = '';
    this.el.scrollTop = this.el.scrollHeight;
  }
}

/* ---------------------------------------------------------------- */

export class AllocsPanel {
  constructor(
    private readonly el: HTMLElement,
    private readonly badge: HTMLElement,
    private readonly onFree: (a: HandAlloc) => void,
    private readonly onRelease: () => void,
    private readonly onShow: (pfn: number) => void,
  ) {}

  update(allocs: HandAlloc[], held: number, addr: (v: number) => string): void {
    this.badge.textContent = allocs.length ? String(allocs.length) : '';
    const rows = allocs.map((a) => {
      const what = a.kind === 'kmalloc' ? `kmalloc ${a.size} B${a.cacheName ? ` (${a.cacheName})` : ''}`
        : a.kind === 'cache' ? `${a.cacheName} object (${a.size} B)` : `alloc_pages order ${a.order} (${size(a.size)})`;
      return h('div', { class: 'row' },
        h('span', { class: 'mono', title: `gfp ${a.gfp}` }, `#${a.id} ${addr(a.ptr)} · ${what}`),
        h('button', { onclick: () => this.onShow(a.pfn), title: 'open its page' }, `pfn ${hex(a.pfn)}`),
        h('button', { onclick: () => this.onFree(a), 'data-free': a.id }, a.kind === 'pages' ? '__free_pages' : a.kind === 'cache' ? 'kmem_cache_free' : 'kfree'));
    });
    this.el.replaceChildren(
      h('div', { class: 'allocs' },
        rows.length ? h('div', { class: 'dim', style: 'margin-bottom:4px' }, 'What you allocated by hand, oldest first:') : null,
        ...rows,
        rows.length ? null : h('div', { class: 'empty' }, 'Nothing allocated by hand yet: use the forms above the map.'),
        held ? h('div', { class: 'row' }, h('span', { class: 'mono' }, `${num(held)} pages held by the pressure / fragment buttons`),
          h('button', { onclick: () => this.onRelease() }, 'release')) : null),
    );
  }
}

/* ---------------------------------------------------------------- */

/** One page frame: its struct page, then its 4 KiB as a hex dump (slab objects shaded alternately). */
export class PagePanel {
  pfn = -1;

  constructor(private readonly el: HTMLElement) {
    this.el.append(h('div', { class: 'empty' }, 'Click a page in the map to open it here.'));
  }

  show(view: MachineView, pfn: number, objsize: (cache: number) => number): void {
    this.pfn = pfn;
    const info = view.pageInfo(pfn);
    if (!info) return;
    const L = view.layout;
    const rows: [string, string][] = [
      ['pfn', `${hex(pfn)} (${num(pfn)})`],
      ['physical', hex(info.phys)],
      ['struct page *', info.page],
      ['owner', `${info.ownerName}: ${info.detail}`],
      ['flags', `${hex(info.flagsRaw >>> 0)} ${info.flags.length ? `(${info.flags.join('|')})` : ''}`],
      ['zone, node', `${info.zone}, node ${info.node}`],
      ['_refcount', String(info.refcount)],
      ['page_type / _mapcount', `${hex(info.pageType >>> 0)} (${info.pageType})`],
      ['private', info.private >= 0 && info.private < 4096 ? `${info.private}` : hex(info.private >>> 0)],
      ['mapping, index', `${hex(info.mapping)}, ${info.index}`],
      ['pageblock', info.migratetype],
      ['raw', info.raw.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join(' ')],
    ];
    const fields = h('table', { class: 'fields' }, ...rows.map(([k, v]) => h('tr', null, h('td', null, k), h('td', { class: k === 'raw' ? 'mono' : undefined }, v))));
    const parts: (Node | string)[] = [h('h3', null, `Page frame ${hex(pfn)}`), fields];
    if (view.isBacked(pfn)) {
      const bytes = view.readPage(pfn);
      // Objects of a slab page, shaded alternately.
      let stride = 0;
      let start = 0;
      if (info.owner === O_SLAB) {
        const { head } = view.blockHead(pfn);
        const a = view.sparse.arr(head);
        const w = view.sparse.word(head) + (view.pl.lru >> 2);
        const cache = L.ptrSize === 8 ? (a[w] >>> 0) + (a[w + 1] & 0xffff) * 4294967296 : a[w] >>> 0;
        stride = objsize(cache);
        start = (pfn - head) * 4096;
      }
      parts.push(h('h3', { style: 'margin-top:8px' }, `Contents: offsets from physical ${hex(info.phys)} (direct map ${hexAddr(info.phys + L.PAGE_OFFSET, L)})`),
        hexDump(bytes, stride, start));
    } else {
      parts.push(h('div', { class: 'empty' }, 'No RAM behind this frame.'));
    }
    this.el.replaceChildren(...parts);
  }
}

/**
 * 16 bytes a line: offset in the page, hex, ASCII, as hexdump -C prints them (a run of
 * lines equal to the one before is one '*'); all-zero lines dimmed; the
 * objects of a slab page (stride) shaded alternately.
 */
function hexDump(bytes: Uint8Array, stride: number, start: number): HTMLElement {
  const pre = h('div', { class: 'hex' });
  const frag = document.createDocumentFragment();
  const same = (a: number, b: number) => {
    for (let i = 0; i < 16; i++) if (bytes[a + i] !== bytes[b + i]) return false;
    return true;
  };
  let starred = false;
  for (let off = 0; off < bytes.length; off += 16) {
    if (off > 0 && off + 16 < bytes.length && same(off, off - 16) && (stride < 16 || Math.floor((start + off) / stride) === Math.floor((start + off - 16) / stride))) {
      if (!starred) frag.append(h('div', { class: 'star' }, '*'));
      starred = true;
      continue;
    }
    starred = false;
    const line = h('div', { class: stride >= 16 && Math.floor((start + off) / stride) % 2 === 1 ? 'o1' : undefined });
    line.append(h('span', { class: 'a' }, off.toString(16).padStart(3, '0') + '  '));
    let ascii = '';
    let allZero = true;
    let hexText = '';
    for (let i = 0; i < 16; i++) {
      const b = bytes[off + i];
      if (b !== 0) allZero = false;
      hexText += b.toString(16).padStart(2, '0') + (i === 7 ? '  ' : ' ');
      ascii += b >= 32 && b < 127 ? String.fromCharCode(b) : '.';
    }
    line.append(allZero ? h('span', { class: 'z' }, hexText + ' ' + ascii) : hexText + ' ' + ascii);
    frag.append(line);
  }
  pre.append(frag);
  return pre;
}
