import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buddyinfo } from '../../../src/fs/proc/buddyinfo.ts';
import { fixture, memoryView, parseBuddyinfo, zone } from './helpers.ts';

test('buddyinfo: this host (6.18; format unchanged since 6.12) regenerates byte for byte', () => {
  const text = fixture('host-6.18/buddyinfo');
  assert.equal(buddyinfo(parseBuddyinfo(text)), text);
});

test('buddyinfo: jc fixture (x86_64 VMware guest, trailing spaces verbatim)', () => {
  const text = fixture('real-dumps/jc-buddyinfo');
  assert.equal(buddyinfo(parseBuddyinfo(text)), text);
});

test('buddyinfo: procfs and insights-core fixtures (stored without the trailing space)', () => {
  // Both projects stripped each line's trailing blank; the kernel prints it.
  for (const name of ['real-dumps/procfs-buddyinfo', 'real-dumps/insights-buddyinfo']) {
    const text = fixture(name);
    const out = buddyinfo(parseBuddyinfo(text));
    assert.equal(out.replace(/ \n/g, '\n'), text, name);
    assert.ok(out.split('\n').slice(0, -1).every((l) => l.endsWith(' ')));
  }
});

test('buddyinfo: two nodes, unpopulated zones skipped, wide counts widen the column', () => {
  const view = memoryView([
    {
      id: 0,
      zones: [
        zone(0, 'DMA', { populated: true, nrFree: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2] }),
        zone(0, 'DMA32', { populated: true, nrFree: [8, 10, 12, 9, 9, 11, 10, 12, 12, 11, 569] }),
        zone(0, 'Normal', { populated: true, nrFree: [1234567, 485, 375, 1611, 3201, 2187, 1437, 844, 487, 247, 6120] }),
        zone(0, 'Movable'),
        zone(0, 'Device'),
      ],
      nodeStats: {},
      unreclaimable: false,
    },
    {
      id: 1,
      zones: [zone(1, 'DMA'), zone(1, 'DMA32'), zone(1, 'Normal', { populated: true, nrFree: [1, 7, 1783, 2063, 1773, 3227, 2299, 1399, 729, 430, 6723] }), zone(1, 'Movable'), zone(1, 'Device')],
      nodeStats: {},
      unreclaimable: false,
    },
  ]);
  assert.equal(
    buddyinfo(view),
    'Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      2 \n' +
      'Node 0, zone    DMA32      8     10     12      9      9     11     10     12     12     11    569 \n' +
      'Node 0, zone   Normal 1234567    485    375   1611   3201   2187   1437    844    487    247   6120 \n' +
      'Node 1, zone   Normal      1      7   1783   2063   1773   3227   2299   1399    729    430   6723 \n',
  );
});
