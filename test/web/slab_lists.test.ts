/*
 * The explorer's cache view data (src/web/slab_lists.ts) on SLUB with
 * percpu sheaves: each CPU row carries its main and spare sheaf, each node
 * row its barn, as the sheaves' own state says; without sheaves, none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';
import { slabLists } from '../../src/web/slab_lists.ts';
import type { Slub } from '../../src/mm/slub.ts';

test('slab lists: a sheaves cache shows each CPU\'s main and spare and the node\'s barn; 6.12 shows none', () => {
  const k = start_kernel(resolveConfig({ mem: '128M', cpus: 2, sheaves: 'opt-in' }), { errors: 'throw' });
  const s = k.kmem_cache_create('lists_sheaves', 64, { sheaf_capacity: 4 }, k.SLAB_NO_MERGE);
  const objs = Array.from({ length: 12 }, () => k.kmem_cache_alloc(s, k.GFP_KERNEL));
  for (const o of objs.slice(0, 9)) k.kmem_cache_free(s, o);
  const sheaves = (k.slab.impl as Slub).sheaves!;
  const st = sheaves.pcsState(s, 0);
  const rows = slabLists(k, s, []);
  assert.deepEqual(rows.map((r) => r.owner), ['cpu0', 'cpu1', 'node0']);
  assert.deepEqual(rows[0].sheaves, { main: st.mainSize, spare: st.spare === 0 ? -1 : st.spareSize, capacity: 4 });
  assert.ok(rows[0].sheaves.main + Math.max(0, rows[0].sheaves.spare) > 0, 'CPU 0 holds freed objects in its sheaves');
  assert.deepEqual(rows[1].sheaves, { main: 0, spare: -1, capacity: 4 });
  assert.deepEqual(rows[2].barn, sheaves.barnCounts(sheaves.barnOf(s, 0)));
  assert.equal(rows[2].sheaves, null);
  const plain = k.kmem_cache_create('lists_plain', 64, 0, k.SLAB_NO_MERGE, null);
  k.kmem_cache_free(plain, k.kmem_cache_alloc(plain, k.GFP_KERNEL));
  assert.ok(slabLists(k, plain, []).every((r) => r.sheaves === null && r.barn === null), 'a cache that did not ask has no sheaves');
});
