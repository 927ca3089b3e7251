import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { start_kernel } from '../../src/init/main.ts';
import { resolveConfig } from '../../src/machine/config.ts';

const boot = () => start_kernel(resolveConfig({ mem: '64M', cpus: 4 }));

test('percpu: one zeroed copy per CPU, written through one CPU and not seen through another', () => {
  const k = boot();
  const p = k.__alloc_percpu(8, 8);
  assert.ok(p > 0);
  for (let cpu = 0; cpu < 4; cpu++) assert.equal(k.kaddr.read64(k.per_cpu_ptr(p, cpu)), 0);
  k.set_cpu(2);
  k.kaddr.write64(k.this_cpu_ptr(p), 42);
  assert.equal(k.kaddr.read64(k.per_cpu_ptr(p, 2)), 42);
  for (const cpu of [0, 1, 3]) assert.equal(k.kaddr.read64(k.per_cpu_ptr(p, cpu)), 0);
  assert.equal(k.per_cpu_ptr(p, 1) - k.per_cpu_ptr(p, 0), k.percpu.unitSize);
});

test('percpu: the boot line names the first chunk as the kernel does', () => {
  assert.match(boot().dmesg(), /percpu: Embedded 64 pages\/cpu s16384 r8192 d237568 u262144/);
});

test('percpu: free_percpu of a pointer that is not an allocation is reported, nothing changes', () => {
  const k = boot();
  const p = k.__alloc_percpu(64, 64);
  const used = k.percpu.allocated();
  k.free_percpu(p + 4);
  assert.equal(k.percpu.allocated(), used);
  assert.match(k.dmesg(), /WARNING: CPU: 0 PID: 0 at mm\/percpu\.c:\d+ free_percpu/);
  k.free_percpu(p);
  assert.equal(k.percpu.allocated(), used - 64);
});

test('percpu: random alloc/free never overlaps, honours alignment, and frees back to empty', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 600 }), fc.constantFrom(4, 8, 16, 64, 256), fc.nat()), { maxLength: 60 }), (ops) => {
    const k = boot();
    const base = k.percpu.allocated();
    const live: { p: number; size: number }[] = [];
    for (const [alloc, size, align, pick] of ops) {
      if (alloc || live.length === 0) {
        const p = k.__alloc_percpu(size, align);
        assert.ok(p > 0);
        assert.equal(p % align, 0);
        for (const o of live) assert.ok(p + size <= o.p || o.p + o.size <= p, 'overlap');
        live.push({ p, size });
      } else {
        const [o] = live.splice(pick % live.length, 1);
        k.free_percpu(o.p);
      }
    }
    for (const o of live) k.free_percpu(o.p);
    assert.equal(k.percpu.allocated(), base);
  }), { numRuns: 40 });
});
