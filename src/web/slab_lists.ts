/*
 * A cache's per-CPU and per-node state, for the explorer's cache view:
 * what each CPU allocates from and what each node holds, read from the
 * machine's memory through the slab implementation's inspection functions.
 *
 *   SLUB   cpuN   c->slab (the active slab), c->freelist (the lockless
 *                 freelist: objects this CPU takes without touching the
 *                 slab), c->partial (the CPU's partial slabs)
 *          nodeN  n->partial (nr_partial slabs); full slabs are on no list
 *          with percpu sheaves (6.18/7.0): each CPU's main and spare sheaf,
 *          each node's barn of full and empty sheaves
 *   SLAB   cpuN   the array cache: ac->avail free objects of at most ac->limit
 *          nodeN  slabs_partial, slabs_full, slabs_free (a slab is on the
 *                 list its fill says: fixup_slab_list())
 *   SLQB   cpuN / nodeN   each list's freelist count and its partial slabs
 *   SLOB   no per-CPU or per-node state (one list of pages for all caches)
 *
 * `heads` is every slab of the cache (first pfns), found by the caller's
 * walk of the memmap.
 */
import type { Kernel } from '../kernel/kernel.ts';
import { kmemCacheLayout, type SlabAllocator } from '../mm/slab_types.ts';
import { Slub } from '../mm/slub.ts';
import { Slab } from '../mm/slab.ts';
import { Slqb } from '../mm/slqb.ts';
import type { SlabListRow, SlabRef } from './protocol.ts';

/** A slab's fill (inuse, objects, frozen) from the implementations that say; zeros from one that does not (SLOB). */
export function slabFill(impl: SlabAllocator, pfn: number): { inuse: number; objects: number; frozen: boolean } {
  return impl instanceof Slub || impl instanceof Slab || impl instanceof Slqb ? impl.slabState(pfn) : { inuse: 0, objects: 0, frozen: false };
}

function row(owner: string, cachedName: string): SlabListRow {
  return { owner, active: null, cached: -1, limit: -1, cachedName, partial: [], nrPartial: 0, full: -1, free: -1, sheaves: null, barn: null };
}

/** The free objects on the chain starting at obj (next pointer at +offset), at most max. */
function chainLength(k: Kernel, obj: number, offset: number, max: number): number {
  const po = k.layout.PAGE_OFFSET;
  let n = 0;
  for (let p = obj; p !== 0 && n < max; n++) p = k.access.readPtr(p - po + offset);
  return n;
}

export function slabLists(k: Kernel, s: number, heads: readonly number[]): SlabListRow[] {
  const impl = k.slab.impl;
  const ref = (pfn: number, st: { inuse: number; objects: number }): SlabRef => ({ pfn, inuse: st.inuse, objects: st.objects });
  const cpus = k.config.cpus;
  const nodes = k.config.nodes.length;
  if (impl instanceof Slub) {
    const rows = [...Array.from({ length: cpus }, (_, c) => row(`cpu${c}`, 'lockless freelist')),
      ...Array.from({ length: nodes }, (_, n) => row(`node${n}`, ''))];
    for (const { pfn, where } of impl.slabsOf(s)) {
      const m = /^(cpu|node)(\d+)(-partial|-full)?$/.exec(where);
      if (!m) continue;
      const r = rows[m[1] === 'cpu' ? Number(m[2]) : cpus + Number(m[2])];
      const st = impl.slabState(pfn);
      if (m[3] === undefined) r.active = ref(pfn, st);
      else if (m[3] === '-partial') {
        r.partial.push(ref(pfn, st));
        r.nrPartial++;
      } else r.full = Math.max(r.full, 0) + 1;
    }
    // c->freelist is the first field of struct kmem_cache_cpu.
    const po = k.layout.PAGE_OFFSET;
    const C = kmemCacheLayout(k.layout.ptrSize, k.config.sheaves !== undefined);
    const cpuSlab = k.access.readPtr(s - po + C.cpu_slab);
    const offset = k.mem.read32(s - po + C.offset);
    for (let cpu = 0; cpu < cpus; cpu++) {
      const r = rows[cpu];
      const freelist = k.access.readPtr(k.percpu.per_cpu_ptr_pa(cpuSlab, cpu));
      r.cached = r.active ? chainLength(k, freelist, offset, r.active.objects) : 0;
    }
    const sheaves = impl.sheaves;
    if (sheaves !== null && sheaves.has_sheaves(s)) {
      const capacity = sheaves.sheaf_capacity(s);
      for (let cpu = 0; cpu < cpus; cpu++) {
        const st = sheaves.pcsState(s, cpu);
        rows[cpu].sheaves = { main: st.mainSize, spare: st.spare === 0 ? -1 : st.spareSize, capacity };
      }
      for (let n = 0; n < nodes; n++) {
        const barn = sheaves.barnOf(s, n);
        if (barn !== 0) rows[cpus + n].barn = sheaves.barnCounts(barn);
      }
    }
    return rows;
  }
  if (impl instanceof Slab) {
    const limit = impl.tunables(s).limit;
    const rows = Array.from({ length: cpus }, (_, c) => ({ ...row(`cpu${c}`, 'array cache'), cached: impl.cpuAvail(s, c), limit }));
    const nodeRows = Array.from({ length: nodes }, (_, n) => ({ ...row(`node${n}`, ''), full: 0, free: 0 }));
    for (const pfn of heads) {
      const st = impl.slabState(pfn);
      const r = nodeRows[k.pages.page_to_nid(pfn)];
      if (st.inuse === st.objects) r.full++;
      else if (st.inuse === 0) r.free++;
      else {
        r.partial.push(ref(pfn, st));
        r.nrPartial++;
      }
    }
    return [...rows, ...nodeRows];
  }
  if (impl instanceof Slqb) {
    const rows = [...Array.from({ length: cpus }, (_, c) => ({ where: { cpu: c }, r: row(`cpu${c}`, 'freelist') })),
      ...Array.from({ length: nodes }, (_, n) => ({ where: { node: n }, r: row(`node${n}`, 'freelist') }))];
    for (const { where, r } of rows) {
      const st = impl.listState(s, where);
      r.cached = st.freelist;
      r.nrPartial = st.nr_partial;
    }
    for (const pfn of heads) {
      const o = impl.slabOwner(pfn);
      const r = rows['cpu' in o ? o.cpu : cpus + o.node]?.r;
      const st = impl.slabState(pfn);
      if (r && st.inuse < st.objects) r.partial.push(ref(pfn, st));
    }
    return rows.map((x) => x.r);
  }
  return [];
}
