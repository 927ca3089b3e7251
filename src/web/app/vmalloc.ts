/*
 * The vmalloc tab: the areas of the vmalloc range (what /proc/vmallocinfo
 * prints, with the guard page after each one drawn), and for the area
 * selected, the page frames it is scattered over (marked on the physical
 * map) and the page-table walk of one of its addresses, level by level.
 * Any kernel address can be walked from the form.
 *
 *   0xffffc90000000000 [area 4 pages][g][area 1][g]   free ...
 *                          |  |  |  |
 *   page frames:          p91 p90 p3f2 p3f1  (wherever the buddy allocator had them)
 *
 * The walk and the page frames are read by the page from the machine's
 * RAM (vmalloc_view.ts); the list with callers comes from the worker
 * (kallsyms names the callers).
 */
import type { VmallocRow } from '../protocol.ts';
import { hex as hexAddr, type MachineView } from '../machine_view.ts';
import type { PtWalk, VmArea } from '../vmalloc_view.ts';
import { h, hex, num, size } from './dom.ts';

export class VmallocPanel {
  private rows: VmallocRow[] = [];
  /** The selected area's start, 0 for none. */
  selected = 0;
  /** The address walked (the selected area's first page unless the form says another). */
  walkVa = 0;
  private readonly list = h('div', { class: 'vm-list' });
  private readonly detail = h('div', { class: 'vm-detail' });
  private readonly addrInput = h('input', { name: 'va', class: 'mono', size: 19, placeholder: 'ffffc90000000000', 'aria-label': 'address to walk' });
  private stale = false;
  private view: MachineView | null = null;

  constructor(
    el: HTMLElement,
    /** Mark these frames on the map (the selected area's), [] to clear. */
    private readonly onMark: (pfns: number[]) => void,
    private readonly onOpenPage: (pfn: number) => void,
    private readonly onFree: (addr: number) => void,
  ) {
    const form = h('form', { id: 'pt-walk', class: 'vm-walk-form' }, 'page-table walk of ', this.addrInput, h('button', { type: 'submit' }, 'walk'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = parseAddr(this.addrInput.value);
      if (v === null) return;
      this.walkVa = v;
      this.renderDetail();
    });
    el.append(form, this.list, this.detail);
  }

  reset(view: MachineView): void {
    this.view = view;
    this.selected = 0;
    this.walkVa = 0;
    this.rows = [];
    this.onMark([]);
  }

  update(rows: VmallocRow[], visible: boolean): void {
    this.rows = rows;
    this.stale = true;
    if (visible) this.show();
  }

  show(): void {
    if (!this.stale) return;
    this.stale = false;
    this.render();
  }

  select(start: number): void {
    this.selected = start;
    this.walkVa = start;
    this.render();
  }

  private render(): void {
    const view = this.view;
    if (!view) return;
    const L = view.layout;
    const busy = this.rows.filter((r) => !r.unpurged);
    // The selection goes when its area does (memory says: the list from the worker may be a report behind).
    if (this.selected && !view.vmalloc.areas().some((a) => a.start === this.selected)) {
      this.selected = 0;
      this.onMark([]);
    }
    const total = busy.reduce((n, r) => n + r.nrPages, 0);
    const items = this.rows.map((r) => {
      const pages = Math.round((r.end - r.start) / 4096);
      const bar = h('span', { class: 'vm-bar', title: `${pages} pages of address space, the last one the guard page` },
        ...Array.from({ length: Math.min(pages, 64) }, (_, i) => h('i', { class: r.unpurged ? 'lazy' : i === pages - 1 ? 'guard' : undefined })));
      return h('div', {
        class: `vm-row${r.start === this.selected ? ' selected' : ''}${r.unpurged ? ' unpurged' : ''}`, 'data-start': r.start,
        onclick: () => !r.unpurged && this.select(r.start),
      }, h('div', { class: 'mono line' }, r.line), bar);
    });
    this.list.replaceChildren(
      h('div', { class: 'dim' }, `VMALLOC ${hexAddr(view.desc.vmalloc.start, L)}–${hexAddr(view.desc.vmalloc.end, L)}: ` +
        `${busy.length} area${busy.length === 1 ? '' : 's'}, ${num(total)} pages (${size(total * 4096)}). Click one to see its pages and page tables.`),
      ...(items.length ? items : [h('div', { class: 'empty' }, 'Nothing in the vmalloc area yet: vmalloc() from the form above.')]),
    );
    this.renderDetail();
  }

  private renderDetail(): void {
    const view = this.view;
    if (!view) return;
    const L = view.layout;
    const parts: (Node | string)[] = [];
    const area = this.selected ? view.vmalloc.areas().find((a) => a.start === this.selected) ?? null : null;
    if (area) {
      const pfns = view.vmalloc.pfns(area);
      this.onMark(pfns.filter((p) => p >= 0));
      parts.push(this.areaDetail(view, area, pfns));
    }
    if (this.walkVa) {
      this.addrInput.value = hexAddr(this.walkVa, L);
      parts.push(walkTable(view, view.vmalloc.walk(this.walkVa), this.onOpenPage));
    }
    this.detail.replaceChildren(...parts);
  }

  private areaDetail(view: MachineView, area: VmArea, pfns: number[]): HTMLElement {
    const L = view.layout;
    const cells = pfns.map((pfn, i) => h('button', {
      class: 'vm-page mono', 'data-pfn': pfn,
      title: `page ${i}: ${hexAddr(area.start + i * 4096, L)} -> pfn ${hex(pfn)}; click to walk it`,
      onclick: () => {
        this.walkVa = area.start + i * 4096;
        this.renderDetail();
      },
    }, `${i}→${hex(pfn)}`));
    const contiguous = pfns.every((p, i) => i === 0 || p === pfns[i - 1] + 1);
    return h('div', { class: 'vm-area' },
      h('h3', null, `${hexAddr(area.start, L)}: ${area.nrPages} page${area.nrPages === 1 ? '' : 's'}, ${size(area.size)} with the guard page`,
        h('button', { onclick: () => this.onFree(area.start), title: 'vfree() this area', style: 'margin-left:8px' }, 'vfree')),
      h('div', { class: 'dim' }, contiguous && pfns.length > 1 ? 'Virtually contiguous, and here physically contiguous too (by chance):'
        : 'Virtually contiguous, physically scattered: each page from the buddy allocator on its own (marked on the map):'),
      h('div', { class: 'vm-pages' }, ...cells));
  }
}

/** The walk, one row per level: the table, the index, the entry and its flags. */
function walkTable(view: MachineView, w: PtWalk, onOpenPage: (pfn: number) => void): HTMLElement {
  const L = view.layout;
  const rows = w.levels.map((l) => h('tr', { class: l.present ? undefined : 'absent', 'data-level': l.name },
    h('td', null, l.name),
    h('td', { class: 'mono' }, `${hex(l.tablePa)}[${l.index}]`),
    h('td', { class: 'mono' }, l.raw),
    h('td', { class: 'mono' }, l.present ? l.flags.join(' ') : 'not present'),
    h('td', null, l.present ? h('button', { class: 'mono', onclick: () => onOpenPage(l.pfn), title: l.leaf ? 'open the page' : 'open the next table' },
      `${l.leaf ? 'page' : 'table'} ${hex(l.pfn)}`) : '')));
  return h('div', { class: 'vm-walk' },
    h('h3', null, `Page-table walk of ${hexAddr(w.va, L)}`),
    h('table', { class: 'grid walk' },
      h('thead', null, h('tr', null, h('th', null, 'level'), h('th', null, 'table[index]'), h('th', null, 'entry'), h('th', null, 'flags'),
        h('th', null, 'points at'))),
      h('tbody', null, ...rows)),
    h('div', { class: 'walk-result' }, w.pfn >= 0 ? `${hexAddr(w.va, L)} → physical ${hex(w.phys)} (pfn ${hex(w.pfn)})`
      : `${hexAddr(w.va, L)} is not mapped: an access would fault`));
}

/** "ffffc90000001000", "0xffffc900...": a kernel address, or null. */
export function parseAddr(text: string): number | null {
  const t = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(t)) return null;
  // JS numbers hold kmem's 48-bit canonical form: drop the sign-extension ffff of x86_64 addresses.
  const v = t.length === 16 && /^ffff/i.test(t) ? parseInt(t.slice(4), 16) : parseInt(t, 16);
  return Number.isSafeInteger(v) ? v : null;
}
