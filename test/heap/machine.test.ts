/*
 * The compact machine under kmem/heap (MachineConfig.compact): a small
 * image right after page 0, no reservation of the first MiB, machines from
 * 2 MiB; the ordinary machine is unchanged. And the heap's RAM: one
 * SharedArrayBuffer of exactly the machine's size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archLayout, imageLayout, start_kernel_mm } from '../../src/init/main.ts';
import { ConfigError, resolveConfig } from '../../src/machine/config.ts';
import { PAGE_SIZE } from '../../src/arch/x86/layout.ts';
import { heapConfig } from '../../src/heap/machine.ts';

const compact = (mem: string, cpus = 1) => resolveConfig({
  arch: 'i386', mem, cpus, compact: true, mmio: [], e820: [{ start: 0, end: mem, type: 'usable' }],
});

test('compact: validated, and smaller machines allowed only with it', () => {
  assert.throws(() => resolveConfig({ compact: 'yes' }), (e: unknown) => e instanceof ConfigError && e.field === 'compact');
  assert.throws(() => resolveConfig({ mem: '4M', e820: [{ start: 0, end: '4M', type: 'usable' }] }), /less than the minimum 32 MiB/);
  assert.throws(() => compact('1M'), /less than the minimum 2 MiB/);
  assert.equal(compact('2M').compact, true);
  assert.equal(resolveConfig({}).compact, undefined);
});

test('compact image: loaded after page 0, small; the ordinary image is where it was', () => {
  const c = compact('4M');
  const img = imageLayout(archLayout(c), 1, true);
  assert.equal(img.text, PAGE_SIZE);
  assert.equal(img.logBufBytes, 16 << 10);
  assert.ok(img.bssEnd < 256 << 10, `image ends at ${img.bssEnd}`);
  const std = imageLayout(archLayout(resolveConfig({})), 2);
  assert.equal(std.text, 16 << 20);
  assert.equal(std.logBufBytes, 128 << 10);
});

test('a compact machine boots in 2 MiB, its RAM one buffer of its size, the first MiB not reserved', () => {
  const lines: string[] = [];
  const m = start_kernel_mm(compact('2M'), { console: (l) => lines.push(l) });
  assert.equal(m.mem.buffers.length, 1);
  assert.equal(m.mem.buffers[0]!.byteLength, 2 << 20);
  const memory = /Memory: \d+K\/2044K available \(64K kernel code, .* (\d+)K reserved/.exec(lines.join('\n'));
  assert.ok(memory, 'the Memory: line');
  assert.ok(Number(memory[1]) < 1024, `${memory[1]}K reserved: the first MiB is not`);
  const p = m.slab.kmalloc(100, 0);
  assert.notEqual(p, 0);
});

test("the heap's machine is what resolveConfig makes of the compact description", () => {
  for (const [size, workers, debug] of [[4 << 20, 1, false], [8 << 20, 3, true]] as const) {
    const c = heapConfig(size, workers, debug);
    assert.deepEqual(c, resolveConfig({
      arch: 'i386', mem: size, cpus: workers, compact: true, sheaves: 'all', mmio: [], e820: [{ start: 0, end: size, type: 'usable' }],
      cmdline: debug ? 'slub_debug=FZP' : '',
    }));
  }
});
