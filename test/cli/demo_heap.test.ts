/*
 * The kmem/heap chapter of `kmem demo`: it shows what it says (a heap,
 * pops and pushes on this CPU's sheaf of a size class, a pool, stats, a
 * double free thrown as KASAN's report).
 */
import { test } from 'node:test';
import { heapChapter } from '../../src/cli/demo/heap.ts';
import { runChapter } from './demo_run.ts';

test('kmem demo heap: size classes with sheaves, a pool, stats, a double free caught', async () => {
  const { has } = await runChapter(heapChapter);
  has(/heap = Heap\.create\(\{ size: 16 << 20, workers: 2 \}\) {2}=> {2}a 16384 KiB SharedArrayBuffer; this thread is CPU 0/);
  has(/p = \d+ \(an offset into the buffer\), usableSize 32/);
  has(/heap-32 on this thread's CPU: main sheaf 122\/123, spare none\n {2}5 x heap\.alloc\(30\)\n {2}heap-32 on this thread's CPU: main sheaf 117\/123/);
  has(/free the 5\n {2}heap-32 on this thread's CPU: main sheaf 122\/123/);
  has(/live 2 blocks, 80 bytes;/);
  has(/class heap-32: 1 live, 127 free in 1 slab\(s\)/);
  has(/pool node: 1 live, \d+ free/);
  has(/throws KernelBug: BUG: KASAN: double-free in kfree\n/);
  has(/ which belongs to the cache heap-32 of size 32/);
});
