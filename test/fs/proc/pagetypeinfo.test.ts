import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pagetypeinfo } from '../../../src/fs/proc/pagetypeinfo.ts';
import { fixture, memoryView, parsePagetypeinfo, zone } from './helpers.ts';

test('pagetypeinfo: this host (6.18; format unchanged since 6.12) regenerates byte for byte', () => {
  const text = fixture('host-6.18/pagetypeinfo');
  assert.equal(pagetypeinfo(parsePagetypeinfo(text)), text);
});

test('pagetypeinfo: jc fixture (x86_64, no CONFIG_CMA) regenerates byte for byte', () => {
  const text = fixture('real-dumps/jc-pagetypeinfo');
  assert.equal(pagetypeinfo(parsePagetypeinfo(text)), text);
});

const MT_CMA = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate'];

test('pagetypeinfo: header repeated per node with memory, memoryless node and empty zones skipped, CMA column, >100000 cap', () => {
  const orders = (first: number): number[] => [first, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const view = memoryView(
    [
      {
        id: 0,
        zones: [
          zone(0, 'DMA32', {
            populated: true,
            freeByType: [orders(3), orders(250000), orders(0), orders(0), orders(99999), orders(0)],
            blocksByType: [1, 2, 3, 4, 5, 6],
          }),
          zone(0, 'Movable'),
        ],
        nodeStats: {},
        unreclaimable: false,
      },
      { id: 1, zones: [zone(1, 'DMA32'), zone(1, 'Movable')], nodeStats: {}, unreclaimable: false },
      {
        id: 2,
        zones: [zone(2, 'DMA32'), zone(2, 'Movable', { populated: true, freeByType: MT_CMA.map(() => orders(0)), blocksByType: [0, 7, 0, 0, 0, 0] })],
        nodeStats: {},
        unreclaimable: false,
      },
    ],
    { migratetypes: MT_CMA },
  );
  const z = '     0 '.repeat(10);
  const header =
    'Page block order: 9\nPages per block:  512\n\n' +
    'Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 \n';
  const blocksHeader = '\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n';
  assert.equal(
    pagetypeinfo(view),
    header +
      `Node    0, zone    DMA32, type    Unmovable      3 ${z}\n` +
      `Node    0, zone    DMA32, type      Movable >100000 ${z}\n` +
      `Node    0, zone    DMA32, type  Reclaimable      0 ${z}\n` +
      `Node    0, zone    DMA32, type   HighAtomic      0 ${z}\n` +
      `Node    0, zone    DMA32, type          CMA  99999 ${z}\n` +
      `Node    0, zone    DMA32, type      Isolate      0 ${z}\n` +
      blocksHeader +
      'Node 0, zone    DMA32            1            2            3            4            5            6 \n' +
      header +
      MT_CMA.map((t) => `Node    2, zone  Movable, type ${t.padStart(12)}      0 ${z}\n`).join('') +
      blocksHeader +
      'Node 2, zone  Movable            0            7            0            0            0            0 \n',
  );
});
