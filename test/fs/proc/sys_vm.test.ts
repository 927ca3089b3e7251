import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EINVAL,
  formatIntVec,
  formatLowmemReserveRatio,
  formatMinFreeKbytes,
  formatWatermarkScaleFactor,
  writeIntVec,
  writeLowmemReserveRatio,
  writeMinFreeKbytes,
  writeWatermarkScaleFactor,
} from '../../../src/fs/proc/sys_vm.ts';
import { fixture } from './helpers.ts';

test('sys_vm: reads match this host byte for byte', () => {
  assert.equal(formatMinFreeKbytes(67584), fixture('host-6.18/sys_vm_min_free_kbytes'));
  assert.equal(formatWatermarkScaleFactor(10), fixture('host-6.18/sys_vm_watermark_scale_factor'));
  assert.equal(formatLowmemReserveRatio([256, 256, 32, 0, 0]), fixture('host-6.18/sys_vm_lowmem_reserve_ratio'));
  assert.equal(formatIntVec([15000]), fixture('host-6.18/sys_vm_watermark_boost_factor'));
  assert.equal(formatIntVec([-5, 7]), '-5\t7\n');
  assert.equal(formatLowmemReserveRatio([256, 32, 0, 0]), '256\t32\t0\t0\n'); // i386 HIGHMEM: DMA Normal HighMem Movable
});

interface Probe {
  input: string;
  ret: number;
  after: string;
}

/**
 * Writes made to this host's own sysctls (test/fixtures/host-6.18/sysctl_probe.py,
 * values restored after each): write()'s return (bytes or -errno) and what
 * reading the file gave afterwards. __do_proc_dointvec() is the same code in
 * 6.12 and 6.18.
 */
const probes = JSON.parse(fixture('host-6.18/sysctl_writes.json')) as Record<string, Probe[]>;

test('sys_vm: watermark_scale_factor writes behave as on the real kernel', () => {
  const cases = probes['watermark_scale_factor'] ?? [];
  assert.ok(cases.length > 20);
  for (const c of cases) {
    const r = writeWatermarkScaleFactor(10, c.input);
    assert.equal(r.ret, c.ret, JSON.stringify(c.input));
    assert.equal(formatWatermarkScaleFactor(r.value), c.after, JSON.stringify(c.input));
  }
});

test('sys_vm: lowmem_reserve_ratio writes behave as on the real kernel (errors ignored, < 1 -> 0)', () => {
  const cases = probes['lowmem_reserve_ratio'] ?? [];
  assert.ok(cases.length > 10);
  for (const c of cases) {
    const r = writeLowmemReserveRatio([256, 256, 32, 0, 0], c.input);
    assert.equal(r.ret, c.ret, JSON.stringify(c.input));
    assert.equal(formatLowmemReserveRatio(r.values), c.after, JSON.stringify(c.input));
  }
});

test('sys_vm: min_free_kbytes range is >= 0 with no upper bound but INT_MAX', () => {
  assert.deepEqual(writeMinFreeKbytes(1024, '0\n'), { ret: 2, value: 0 });
  assert.deepEqual(writeMinFreeKbytes(1024, '-1\n'), { ret: -EINVAL, value: 1024 });
  assert.deepEqual(writeMinFreeKbytes(1024, '2147483647'), { ret: 10, value: 2147483647 });
  assert.deepEqual(writeMinFreeKbytes(1024, '2147483648'), { ret: -EINVAL, value: 1024 });
  assert.deepEqual(writeMinFreeKbytes(1024, '67584\n'), { ret: 6, value: 67584 });
  assert.deepEqual(writeMinFreeKbytes(1024, '\n'), { ret: -EINVAL, value: 1024 });
});

test('sys_vm: proc_dointvec edge cases (bounds, INT_MIN, 21-character numbers, values kept before an error)', () => {
  assert.deepEqual(writeIntVec([0], '-2147483648'), { ret: 11, values: [-2147483648] });
  assert.deepEqual(writeIntVec([0], '-2147483649'), { ret: -EINVAL, values: [0] });
  assert.deepEqual(writeIntVec([0], '0X1f'), { ret: 4, values: [31] });
  // Twenty characters of number still parse; twenty-one never do.
  assert.deepEqual(writeIntVec([0], '00000000000000000012'), { ret: 20, values: [10] });
  assert.deepEqual(writeIntVec([0], '000000000000000000012'), { ret: -EINVAL, values: [0] });
  assert.deepEqual(writeIntVec([1, 2, 3], '7 8 x'), { ret: -EINVAL, values: [7, 8, 3] });
  assert.deepEqual(writeIntVec([1, 2, 3], '7 99 5', { max: 50 }), { ret: -EINVAL, values: [7, 2, 3] });
  // Any isspace() may precede a number, but only ' ', '\t', '\n' may end one.
  assert.deepEqual(writeIntVec([1, 2, 3], '\v7\t\f8\n\r9\r'), { ret: -EINVAL, values: [7, 8, 3] });
  assert.deepEqual(writeIntVec([1, 2, 3], '\v7\t\f8\n\r9 \r'), { ret: 10, values: [7, 8, 9] });
  assert.deepEqual(writeIntVec([1], ''), { ret: 0, values: [1] });
});
