/*
 * The slab caches: a sortable table in the manner of slabtop (from the
 * same figures /proc/slabinfo prints), and below it the selected cache
 * opened up: first each CPU's and each node's part of it (SLUB: the CPU's
 * active slab, its lockless freelist, its partial slabs, the node's
 * partial list; SLAB: the per-CPU array caches and the node's lists), then
 * every slab with where SLUB keeps it (a CPU's slab, a CPU's partial list,
 * the node's partial list, or on no list because it is full), and each
 * object in use or free, the free ones in freelist order.
 */
import type { CacheDetail, SlabListRow, SlabRef, SlabRow } from '../protocol.ts';
import { h, hex, num, size } from './dom.ts';

type Key = 'name' | 'active_objs' | 'num_objs' | 'objsize' | 'objperslab' | 'pagesperslab' | 'num_slabs' | 'use' | 'bytes';

const COLUMNS: { key: Key; label: string; title: string }[] = [
  { key: 'name', label: 'cache', title: 'name (a swatch of its colour in the map)' },
  { key: 'active_objs', label: 'active', title: 'objects in use' },
  { key: 'num_objs', label: 'objs', title: 'objects in all slabs' },
  { key: 'use', label: 'use', title: 'active / objs' },
  { key: 'objsize', label: 'size', title: 'object size with metadata and alignment (s->size)' },
  { key: 'objperslab', label: 'obj/slab', title: 'objects per slab' },
  { key: 'num_slabs', label: 'slabs', title: 'slabs' },
  { key: 'bytes', label: 'memory', title: 'slabs x pages per slab x 4 KiB' },
];

function value(r: SlabRow, key: Key): number | string {
  switch (key) {
    case 'use': return r.num_objs ? r.active_objs / r.num_objs : 0;
    case 'bytes': return r.num_slabs * r.pagesperslab * 4096;
    default: return r[key];
  }
}

export class SlabPanel {
  private rows: SlabRow[] = [];
  private stale = false;
  private readonly rowEls = new Map<number, { tr: HTMLTableRowElement; cells: HTMLTableCellElement[]; texts: string[]; name: string; sig: string }>();
  private sortKey: Key = 'bytes';
  private desc = true;
  private filter = '';
  selected = 0;
  private readonly tbody = h('tbody');
  private readonly thead = h('thead');
  private readonly detailEl = h('div', { id: 'slab-detail' });
  private readonly summary = h('span', { class: 'dim' });
  private detail: CacheDetail | null = null;

  constructor(
    el: HTMLElement,
    private readonly colourOf: (cache: number) => string,
    private readonly onSelect: (cache: number) => void,
    private readonly onAlloc: (cache: number) => void,
    onNew: () => void,
    onShrink: () => void,
  ) {
    const search = h('input', { placeholder: 'filter caches', type: 'search', 'aria-label': 'filter caches', size: 12 });
    search.addEventListener('input', () => {
      this.filter = search.value.trim();
      this.render();
    });
    el.append(
      h('div', { class: 'slab-tools' }, search, this.summary,
        h('button', { id: 'op-cache-new', onclick: onNew, title: 'kmem_cache_create(name, size, align, 0, NULL)' }, 'new…'),
        h('button', { id: 'op-shrink', onclick: onShrink, title: 'kmem_cache_shrink() every cache: empty slabs back to the page allocator' }, 'shrink')),
      h('div', { id: 'slab-table-wrap' }, h('table', { class: 'grid', id: 'slab-table' }, this.thead, this.tbody)),
      this.detailEl,
    );
    this.renderHead();
  }

  private renderHead(): void {
    const tr = h('tr');
    for (const c of COLUMNS) {
      const arrow = this.sortKey === c.key ? (this.desc ? ' ▾' : ' ▴') : '';
      tr.append(h('th', {
        title: c.title, class: this.sortKey === c.key ? 'sorted' : undefined, 'data-key': c.key,
        onclick: () => {
          if (this.sortKey === c.key) this.desc = !this.desc;
          else {
            this.sortKey = c.key;
            this.desc = c.key !== 'name';
          }
          this.renderHead();
          this.render();
        },
      }, c.label + arrow));
    }
    this.thead.replaceChildren(tr);
  }

  /** New figures; drawn now if the tab is visible, else when it is shown (show()). */
  update(rows: SlabRow[], visible = true): void {
    this.rows = rows;
    this.stale = true;
    if (visible) this.render();
  }

  /** The tab became visible. */
  show(): void {
    if (this.stale) this.render();
  }

  /**
   * The table, keyed by cache: a row is made once and then only its changed
   * cells are rewritten, and rows are moved into the sorted order; a row
   * whose figures changed flashes (a Web Animation: no reflow).
   */
  private render(): void {
    this.stale = false;
    const f = this.filter.toLowerCase();
    const shown = this.rows.filter((r) => !f || r.name.toLowerCase().includes(f));
    const k = this.sortKey;
    shown.sort((a, b) => {
      const va = value(a, k);
      const vb = value(b, k);
      const c = typeof va === 'string' ? va.localeCompare(vb as string) : (va as number) - (vb as number);
      return (this.desc ? -c : c) || a.name.localeCompare(b.name);
    });
    const live = new Set<number>();
    let prevEl: Element | null = null;
    for (const r of shown) {
      live.add(r.cache);
      let row = this.rowEls.get(r.cache);
      if (!row || row.name !== r.name) {
        row?.tr.remove();
        const cells = COLUMNS.slice(1).map(() => h('td'));
        const tr = h('tr', { 'data-cache': r.cache, 'data-name': r.name, onclick: () => this.select(r.cache) },
          h('td', { class: 'name', title: r.name }, h('span', { class: 'sw-cache', style: `background:${this.colourOf(r.cache)}` }), r.name),
          ...cells);
        row = { tr, cells, texts: cells.map(() => ''), name: r.name, sig: '' };
        this.rowEls.set(r.cache, row);
      }
      const use = r.num_objs ? Math.round((100 * r.active_objs) / r.num_objs) : 0;
      const texts = [num(r.active_objs), num(r.num_objs), `${use}%`, num(r.objsize), num(r.objperslab), num(r.num_slabs),
        size(r.num_slabs * r.pagesperslab * 4096)];
      texts.forEach((t, i) => {
        if (row.texts[i] !== t) {
          row.cells[i].textContent = t;
          row.texts[i] = t;
        }
      });
      row.cells[4].title = `${r.pagesperslab} page${r.pagesperslab > 1 ? 's' : ''} a slab`;
      const sig = `${r.active_objs}/${r.num_objs}`;
      if (row.sig !== '' && row.sig !== sig) row.tr.animate([{ background: '#4a3b12' }, { background: 'transparent' }], { duration: 2500, easing: 'ease-out' });
      row.sig = sig;
      row.tr.classList.toggle('selected', r.cache === this.selected);
      const want: Element | null = prevEl ? prevEl.nextElementSibling : this.tbody.firstElementChild;
      if (want !== row.tr) {
        if (prevEl) prevEl.after(row.tr);
        else this.tbody.prepend(row.tr);
      }
      prevEl = row.tr;
    }
    for (const [cache, row] of this.rowEls) {
      if (!live.has(cache)) {
        row.tr.remove();
        if (!this.rows.some((r) => r.cache === cache)) this.rowEls.delete(cache);
      }
    }
    const objs = this.rows.reduce((n, r) => n + r.active_objs, 0);
    const bytes = this.rows.reduce((n, r) => n + r.num_slabs * r.pagesperslab * 4096, 0);
    this.summary.textContent = `${this.rows.length} caches, ${num(objs)} objects, ${size(bytes)} in slabs`;
  }

  /** Forget the rows (a new machine: the same addresses may be other caches). */
  reset(): void {
    this.rowEls.clear();
    this.tbody.replaceChildren();
    this.rows = [];
  }

  select(cache: number): void {
    this.selected = cache;
    for (const tr of Array.from(this.tbody.querySelectorAll('tr'))) tr.classList.toggle('selected', Number(tr.dataset.cache) === cache);
    this.onSelect(cache);
  }

  showDetail(d: CacheDetail | null): void {
    this.detail = d;
    if (!d) {
      this.detailEl.replaceChildren(h('div', { class: 'empty' }, 'Click a cache to see its slabs.'));
      return;
    }
    const colour = this.colourOf(d.cache);
    const slabs = d.slabs.map((s) => {
      const objs = h('div', { class: 'objs', style: `--c:${colour}` });
      const nextFree = s.free.indexOf(0);
      s.free.forEach((f, i) => {
        const cls = f < 0 ? 'used' : i === nextFree ? 'next' : '';
        objs.append(h('i', {
          class: cls || undefined,
          title: `object ${i} at +${hex(i * d.objsize)}: ${f < 0 ? 'in use' : `free, #${f} on the ${s.freelist}`}`,
        }));
      });
      return h('div', { class: 'slab' },
        h('div', { class: 'meta' },
          h('span', { class: `where${s.where === 'full' ? ' full' : ''}` }, s.where), ' ',
          h('b', null, `pfn ${hex(s.pfn)}`), ` ${s.free.filter((f) => f < 0).length}/${s.objects} in use${s.frozen ? ', frozen' : ''}`,
          s.order ? ` · order ${s.order}` : ''),
        objs);
    });
    this.detailEl.replaceChildren(
      h('div', { class: 'cache-head' },
        h('span', { class: 'sw-cache', style: `background:${colour}` }),
        h('b', null, d.name),
        h('span', { class: 'mono' }, `size ${d.objsize} (object ${d.object_size}), freeptr at +${d.offset}, align ${d.align}, order ${d.order}, ${d.objects_per_slab} a slab`),
        h('button', { onclick: () => this.onAlloc(d.cache), title: 'kmem_cache_alloc(this cache, GFP_KERNEL)' }, 'alloc one')),
      ...(d.lists.length ? [listsTable(d.lists)] : []),
      ...(slabs.length ? slabs : [h('div', { class: 'empty' }, 'No slabs: the cache holds no memory.')]),
      ...(d.more > 0 ? [h('div', { class: 'empty' }, `… and ${num(d.more)} more slabs`)] : []),
    );
  }

  get current(): CacheDetail | null {
    return this.detail;
  }
}

/** "0x1a3c 3/16": a slab and how many of its objects are in use. */
function slabRef(r: SlabRef): HTMLElement {
  return h('span', { class: 'ref', title: `pfn ${hex(r.pfn)}: ${r.inuse} of ${r.objects} objects in use` }, `${hex(r.pfn)} ${r.inuse}/${r.objects}`);
}

/** A row's percpu sheaves ("main 3/4, spare 4/4") or barn ("barn: 1 full, 0 empty"). */
function sheavesText(r: SlabListRow): string {
  if (r.sheaves !== null) {
    const { main, spare, capacity } = r.sheaves;
    return `main ${main}/${capacity}, spare ${spare < 0 ? 'none' : `${spare}/${capacity}`}`;
  }
  return r.barn === null ? '' : `barn: ${r.barn.full} full, ${r.barn.empty} empty`;
}

/** Each CPU's and node's part of the cache, a row each. */
function listsTable(rows: SlabListRow[]): HTMLElement {
  const cpuRows = rows.filter((r) => r.owner.startsWith('cpu'));
  const hasFull = rows.some((r) => r.full >= 0);
  const hasSheaves = rows.some((r) => r.sheaves !== null || r.barn !== null);
  const cachedName = cpuRows[0]?.cachedName ?? '';
  const body = rows.map((r) => h('tr', { 'data-owner': r.owner },
    h('td', null, r.owner),
    h('td', null, r.active ? slabRef(r.active) : r.owner.startsWith('cpu') && cachedName === 'lockless freelist' ? '—' : ''),
    h('td', { class: 'cached' }, r.cached < 0 ? '' : r.limit >= 0 ? `${r.cached}/${r.limit}` : String(r.cached)),
    h('td', { class: 'partial' }, h('span', { class: 'n' }, String(r.nrPartial)), ...r.partial.slice(0, 6).map(slabRef),
      r.partial.length > 6 ? ` +${r.partial.length - 6}` : ''),
    hasFull ? h('td', null, r.full < 0 ? '' : `${r.full}${r.free >= 0 ? ` / ${r.free}` : ''}`) : null,
    hasSheaves ? h('td', { class: 'sheaves' }, sheavesText(r)) : null));
  return h('table', { class: 'grid lists', id: 'slab-lists' },
    h('thead', null, h('tr', null,
      h('th', null, ''), h('th', { title: 'the slab the CPU allocates from (c->slab)' }, 'active slab'),
      h('th', { title: cachedName === 'array cache' ? 'free objects in the per-CPU array cache (ac->avail / ac->limit)'
        : 'free objects this CPU takes without touching a slab' }, cachedName || 'cached'),
      h('th', { title: 'partial slabs: the CPU\'s (c->partial) or the node\'s (n->partial, nr_partial)' }, 'partial slabs'),
      hasFull ? h('th', { title: 'slabs on the node\'s full / free lists' }, 'full / free') : null,
      hasSheaves ? h('th', { title: 'percpu sheaves: the CPU\'s main and spare sheaf (objects / capacity); the node\'s barn' }, 'sheaves') : null)),
    h('tbody', null, ...body));
}
