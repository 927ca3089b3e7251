/*
 * Chapter: percpu sheaves (Linux 6.18's SLUB, kmem's `sheaves` machine
 * option). A cache that asks for sheaves gets a per-CPU array of free
 * objects in front of its slabs; allocation and free hit that array, full
 * and empty sheaves are traded with the node's barn (also between CPUs),
 * and a caller that must not fail later takes a prefilled sheaf of its
 * own, as the maple tree does for its nodes (lib/maple_tree.c
 * mas_preallocate() / mas_pop_node() / mas_destroy()).
 */
import type { Kernel } from '../../kernel/kernel.ts';
import { readProc } from '../../fs/proc/procfs.ts';
import { Slub } from '../../mm/slub.ts';
import type { SlubSheaves } from '../../mm/slub_sheaves.ts';
import { ptr, type Demo, type DemoChapter } from './chapter.ts';

/** Where this CPU's sheaves of s and its node's barn stand, in one line. */
function stateLine(k: Kernel, sh: SlubSheaves, s: number): string {
  const cpu = k.smp_processor_id();
  const st = sh.pcsState(s, cpu);
  const cap = sh.sheaf_capacity(s);
  const barn = sh.barnCounts(sh.barnOf(s, 0));
  const spare = st.spare === 0 ? 'none' : `${st.spareSize}/${cap}`;
  return `cpu ${cpu}: main ${st.mainSize}/${cap}, spare ${spare}; barn of node 0: ${barn.full} full, ${barn.empty} empty`;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** The /proc/slabinfo header and the lines of the named caches. */
function slabinfoLines(k: Kernel, names: readonly string[]): string[] {
  const lines = readProc(k, 'slabinfo').split('\n');
  return [lines[1], ...lines.filter((l) => names.includes(l.split(/\s+/)[0]))];
}

function mechanics(d: Demo, k: Kernel, sh: SlubSheaves): void {
  const s = k.kmem_cache_create('demo_obj', 64, { sheaf_capacity: 4 }, k.SLAB_NO_MERGE);
  d.call('kmem_cache_create("demo_obj", 64, &(struct kmem_cache_args){ .sheaf_capacity = 4 }, 0)', ptr(k, s));
  d.show(stateLine(k, sh, s));
  d.blank();
  d.say(`Every CPU starts with an empty main sheaf. The first allocation finds
    it empty and makes a full one from the slabs (refill_sheaf(), through the
    bulk allocation path); the empty main goes to the barn for later. The
    sheaf's other objects are allocated as far as the slabs know:
    /proc/slabinfo counts them as active.`);
  const objs = [k.kmem_cache_alloc(s, k.GFP_KERNEL)];
  d.call('A = kmem_cache_alloc(demo_obj, GFP_KERNEL)', ptr(k, objs[0]));
  d.show(stateLine(k, sh, s));
  d.show(slabinfoLines(k, ['demo_obj']));
  d.blank();
  for (let i = 0; i < 11; i++) objs.push(k.kmem_cache_alloc(s, k.GFP_KERNEL));
  d.call('11 more kmem_cache_alloc()');
  d.show(stateLine(k, sh, s));
  d.blank();
  d.say(`Allocating is objects[--size], freeing is objects[size++]: no slab, no
    freelist, no lock but the CPU's own. Each time main ran dry above, the
    barn's empty sheaf was refilled and swapped in. A free does not care
    which slab the object came from. When main is full it becomes the spare
    (taking an empty sheaf from the barn as the new main); when both are
    full, main goes to the barn as a full sheaf in exchange for an empty
    one, or, with no empty sheaf there, for a newly allocated one
    (__pcs_replace_full_main()):`);
  const freed: number[] = [];
  const free = (n: number) => {
    for (let i = 0; i < n; i++) {
      freed.push(objs.pop()!);
      k.kmem_cache_free(s, freed[freed.length - 1]);
    }
    d.call(`kmem_cache_free() x ${n}`);
    d.show(stateLine(k, sh, s));
  };
  free(4);
  free(1);
  free(3);
  free(1);
  d.blank();

  d.say(`The barn belongs to the node, not to the CPU. CPU 1, with nothing of its
    own, takes the full sheaf CPU 0 left there in exchange for its empty
    main (barn_replace_empty_sheaf()) and gets objects CPU 0 freed, the last
    one freed into that sheaf first:`);
  k.set_cpu(1);
  const b = k.kmem_cache_alloc(s, k.GFP_KERNEL);
  d.call('set_cpu(1); B = kmem_cache_alloc(demo_obj, GFP_KERNEL)', `${ptr(k, b)}${
    freed.includes(b) ? ` (the ${ordinal(freed.indexOf(b) + 1)} object CPU 0 freed)` : ''}`);
  d.show(stateLine(k, sh, s));
  k.kmem_cache_free(s, b);
  k.set_cpu(0);
  d.blank();
  d.say(`kmem_cache_shrink() (and destroying the cache) flushes every CPU's
    sheaves and empties the barns: the objects go back to their slabs, and
    the empty slabs to the page allocator.`);
  for (const o of objs) k.kmem_cache_free(s, o);
  k.kmem_cache_shrink(s);
  d.call('free the rest; kmem_cache_shrink(demo_obj)');
  d.show(stateLine(k, sh, s));
  d.show(slabinfoLines(k, ['demo_obj']));
  d.blank();
  k.kmem_cache_destroy(s);
}

function prefilled(d: Demo, k: Kernel, sh: SlubSheaves): void {
  d.say(`The maple tree (VMAs, since 6.1) must sometimes allocate nodes while it
    holds a lock it cannot sleep under, and it does not know beforehand how
    many: a store may split nodes all the way up. It used to keep its own
    lists of preallocated nodes; 6.18 gives it prefilled sheaves. The
    maple_node cache asks for sheaves of 32:`);
  const mt = k.kmem_cache_create('maple_node', 256, { align: 256, sheaf_capacity: 32 }, k.SLAB_PANIC);
  d.call('kmem_cache_create("maple_node", 256, &(struct kmem_cache_args){ .align = 256, .sheaf_capacity = 32 }, SLAB_PANIC)',
    ptr(k, mt));
  d.blank();
  d.say(`mas_preallocate() works out the worst case (here 3 nodes) and, while it
    may still sleep, asks for a sheaf holding at least that many. It gets
    this CPU's spare, or a full (or empty) sheaf from the barn, or a new
    one, topped up to the cache's capacity; the sheaf is then the caller's,
    on no CPU and in no barn:`);
  const sheaf = k.kmem_cache_prefill_sheaf(mt, k.GFP_KERNEL, 3);
  d.call('sheaf = kmem_cache_prefill_sheaf(maple_node, GFP_KERNEL, 3)', `${ptr(k, sheaf)}, kmem_cache_sheaf_size() = ${
    k.kmem_cache_sheaf_size(sheaf)}`);
  d.blank();
  d.say(`Under the lock, mas_pop_node() takes nodes from it with GFP_NOWAIT and
    clears them. kmem_cache_alloc_from_sheaf() cannot fail while the sheaf
    has objects, and never falls back to the slabs:`);
  const nodes: number[] = [];
  for (let i = 0; i < 2; i++) {
    const node = k.kmem_cache_alloc_from_sheaf(mt, k.GFP_NOWAIT, sheaf);
    k.kaddr.fill(node, 256, 0);
    nodes.push(node);
  }
  d.call('spin_lock(&mm->...); 2 x kmem_cache_alloc_from_sheaf(maple_node, GFP_NOWAIT, sheaf) + memset',
    `${nodes.map((n) => ptr(k, n)).join(', ')}; ${k.kmem_cache_sheaf_size(sheaf)} left`);
  d.show(slabinfoLines(k, ['maple_node']));
  d.blank();
  d.say(`/proc/slabinfo counts all 32 as active: the sheaf's objects are
    allocated as far as the slabs know. mas_destroy() returns the sheaf with
    kmem_cache_return_sheaf(). This CPU has no spare, so the sheaf becomes
    it, as it is; had there been one, the sheaf would have been refilled and
    put in the barn as a full sheaf (or flushed to the slabs and freed, with
    the barn full or the refill failing):`);
  k.kmem_cache_return_sheaf(mt, k.GFP_KERNEL, sheaf);
  d.call('kmem_cache_return_sheaf(maple_node, GFP_KERNEL, sheaf)');
  d.show(stateLine(k, sh, mt));
  const again = k.kmem_cache_prefill_sheaf(mt, k.GFP_KERNEL, 3);
  d.call('kmem_cache_prefill_sheaf(maple_node, GFP_KERNEL, 3)', `${ptr(k, again)}${again === sheaf ? ', the same sheaf (the spare)' : ''}, ${
    k.kmem_cache_sheaf_size(again)} objects`);
  d.blank();
  d.say(`A request beyond the capacity (mas_expected_entries() before a bulk
    store of many entries, say) gets an "oversize" sheaf of exactly that
    many, a kmalloc object with its capacity in the sheaf. Growing a sheaf
    with kmem_cache_refill_sheaf() swaps it for such a one and returns the
    old; an oversize sheaf is never kept: returning it flushes its objects
    to the slabs and frees it.`);
  const big = k.kmem_cache_refill_sheaf(mt, k.GFP_KERNEL, again, 40);
  d.call('kmem_cache_refill_sheaf(maple_node, GFP_KERNEL, &sheaf, 40)',
    `0; sheaf = ${ptr(k, big)}, ${k.kmem_cache_sheaf_size(big)} objects, ksize() = ${k.ksize(big)}`);
  d.show(stateLine(k, sh, mt));
  k.kmem_cache_return_sheaf(mt, k.GFP_KERNEL, big);
  d.call('kmem_cache_return_sheaf(maple_node, GFP_KERNEL, sheaf)');
  d.show(stateLine(k, sh, mt));
  for (const n of nodes) k.kmem_cache_free(mt, n);
  k.kmem_cache_shrink(mt);
  d.call('free the 2 nodes; kmem_cache_shrink(maple_node)');
  d.show(slabinfoLines(k, ['maple_node']));
  d.blank();
  k.kmem_cache_destroy(mt);
}

export const sheavesChapter: DemoChapter = {
  id: 'sheaves',
  title: 'Percpu sheaves and barns (Linux 6.18 SLUB)',
  summary: 'alloc/free on a per-CPU array of objects, the barn between CPUs, a prefilled sheaf as the maple tree uses it',
  run(d: Demo) {
    d.say(`Linux 6.18 put a layer in front of SLUB's slabs for the caches that ask
      for it: percpu sheaves. A sheaf is an array of pointers to free objects
      of one cache, from any of its slabs. Each CPU has a main sheaf and maybe
      a spare; each NUMA node has a barn of full and empty sheaves that its
      CPUs trade with. 7.0 gives sheaves to every cache and drops the CPU
      slabs. kmem's default machine is 6.12 (no sheaves); the machine option
      sheaves: 'opt-in' is 6.18, 'all' gives every cache sheaves as 7.0 does
      (keeping 6.18's CPU slabs underneath them).`);
    const k = d.boot({ mem: '128M', cpus: 2, sheaves: 'opt-in' });
    if (!(k.slab.impl instanceof Slub) || k.slab.impl.sheaves === null) return;
    const sh = k.slab.impl.sheaves;
    mechanics(d, k, sh);
    prefilled(d, k, sh);
  },
};
