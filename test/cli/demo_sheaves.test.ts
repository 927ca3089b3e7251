/*
 * The percpu sheaves chapter of `kmem demo`: it runs on a 6.18 machine and
 * shows what it says it shows (a sheaf made at the first allocation, the
 * main/spare/barn transitions as objects are freed, CPU 1 taking CPU 0's
 * full sheaf from the barn, the maple tree's prefilled sheaf kept as the
 * spare and taken back, an oversize sheaf, everything back after shrink).
 */
import { test } from 'node:test';
import { sheavesChapter } from '../../src/cli/demo/sheaves.ts';
import { runChapter } from './demo_run.ts';

test('kmem demo sheaves: the sheaf transitions, the barn between CPUs, a prefilled sheaf', async () => {
  const { has } = await runChapter(sheavesChapter);
  has(/\[booted a simulated machine: x86_64, 128 MiB, 2 CPUs, 1 node, SLUB percpu sheaves where caches ask \(6.18\)\]/);
  has(/A = kmem_cache_alloc\(demo_obj, GFP_KERNEL\) {2}=> {2}0xffff8880[0-9a-f]{8}\n {2}cpu 0: main 3\/4, spare none; barn of node 0: 0 full, 1 empty\n/);
  has(/demo_obj +64 +64 +64 +64 +1 : tunables/);
  has(/kmem_cache_free\(\) x 1\n {2}cpu 0: main 1\/4, spare 4\/4; barn of node 0: 0 full, 0 empty\n/);
  has(/kmem_cache_free\(\) x 1\n {2}cpu 0: main 1\/4, spare 4\/4; barn of node 0: 1 full, 0 empty\n/);
  has(/set_cpu\(1\); B = kmem_cache_alloc\(demo_obj, GFP_KERNEL\) {2}=> {2}0xffff8880[0-9a-f]{8} \(the 8th object CPU 0 freed\)\n {2}cpu 1: main 3\/4, spare none; barn of node 0: 0 full, 1 empty/);
  has(/demo_obj +0 +0 +64 +64 +1 : tunables/);
  has(/sheaf = kmem_cache_prefill_sheaf\(maple_node, GFP_KERNEL, 3\) {2}=> {2}0xffff8880[0-9a-f]{8}, kmem_cache_sheaf_size\(\) = 32/);
  has(/memset {2}=> {2}0xffff8880[0-9a-f]{8}, 0xffff8880[0-9a-f]{8}; 30 left/);
  has(/maple_node +32 +32 +256 +16 +1 : tunables/);
  has(/cpu 0: main 0\/32, spare 30\/32; barn of node 0: 0 full, 0 empty/);
  has(/the same sheaf \(the spare\), 30 objects/);
  has(/kmem_cache_refill_sheaf\(maple_node, GFP_KERNEL, &sheaf, 40\) {2}=> {2}0; sheaf = 0xffff8880[0-9a-f]{8}, 40 objects, ksize\(\) = 512/);
  has(/maple_node +0 +0 +256 +16 +1 : tunables/);
});
