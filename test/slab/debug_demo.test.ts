/*
 * The slab debugging chapter of `kmem demo`: it runs, and shows what it
 * says it shows (the debug objsize, a Right Redzone report naming the
 * driver's probe routine, the poison report, the double free on a cache
 * debugged by its flags, a clean validate); and examples/offbyone.ts, the
 * module that writes the NUL of a strcpy() past its kmalloc buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slabDebugChapter } from '../../src/cli/demo/slab_debug.ts';
import { runChapter } from '../cli/demo_run.ts';
import { boot, logged } from './helpers.ts';

test('kmem demo slab-debug: the out-of-bounds write and the use after free, reported', async () => {
  const { has } = await runChapter(slabDebugChapter);
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

test('examples/offbyone.ts: its exit\'s kfree() reports the NUL its init wrote past the buffer', async () => {
  const mod = await import('../../examples/offbyone.ts');
  const k = boot({ mem: '128M', cpus: 2, cmdline: 'slab_debug=FZ,kmalloc-32' });
  assert.deepEqual(logged(k, () => assert.equal(mod.init(k), 0)), ['offbyone: 32-byte name buffer allocated']);
  const lines = logged(k, () => mod.exit(k));
  assert.match(lines[0], /^\[Right Redzone overwritten\] 0x(ffff8880[0-9a-f]{8})-0x\1 @offset=\d+\. First byte 0x0 instead of 0xcc$/);
  assert.equal(lines[2], 'BUG kmalloc-32 (Not tainted): Object corrupt');
  assert.match(lines[lines.length - 1], /^FIX kmalloc-32: Object at 0xffff8880[0-9a-f]{8} not freed$/);
});
