/*
 * The slab debugging chapter of `kmem demo`: it runs, and shows what it
 * says it shows (the debug objsize, a Right Redzone report naming the
 * driver's probe routine, the poison report, the double free on a cache
 * debugged by its flags, a clean validate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Output } from '../../src/cli/output.ts';
import { Demo } from '../../src/cli/demo/chapter.ts';
import { slabDebugChapter } from '../../src/cli/demo/slab_debug.ts';
import { findChapter } from '../../src/cli/demo/index.ts';

test('kmem demo slab-debug: the out-of-bounds write and the use after free, reported', async () => {
  let text = '';
  const out = new Output({ write: (s: string) => void (text += s) });
  assert.equal(findChapter('slab-debug'), slabDebugChapter);
  await slabDebugChapter.run(new Demo(out));
  const has = (re: RegExp) => assert.match(text, re);
  has(/kmalloc-64 +0 +0 +64 +64 +1 :/);
  has(/kmalloc-64 +0 +0 +256 +16 +1 :/);
  has(/\[Right Redzone overwritten\] 0xffff8880[0-9a-f]{8}-0xffff8880[0-9a-f]{8} @offset=\d+\. First byte 0x0 instead of 0xcc/);
  has(/BUG kmalloc-64 \(Not tainted\): Object corrupt/);
  has(/Allocated in mydrv_probe\+0x0\/0x100 age=\d+ cpu=0 pid=0/);
  has(/Redzone  ffff8880[0-9a-f]{8}: 00 cc cc cc cc cc cc cc {26}\.{8}/);
  has(/FIX kmalloc-64: Restoring Right Redzone 0x[0-9a-f]+-0x[0-9a-f]+=0xcc/);
  has(/\[Poison overwritten\] .* First byte 0x0 instead of 0x6b/);
  has(/FIX kmalloc-64: Marking all objects used/);
  has(/BUG mydev \(Not tainted\): Object already free/);
  has(/validate_slab_cache\(mydev\) {2}=> {2}1 slab checked, nothing to report/);
});
