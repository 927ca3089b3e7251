import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysMem } from '../../src/machine/memory.ts';
import { KmemAccess } from '../../src/machine/kmem_access.ts';
import { X86_64 } from '../../src/arch/x86/layout.ts';
import {
  KERN_SOH,
  LOG_BUF_LEN,
  LOG_CONT,
  LOG_LINE_MAX,
  LOG_NEWLINE,
  LOGLEVEL_DEFAULT,
  LOGLEVEL_ERR,
  LOGLEVEL_INFO,
  PRINTK_HEADER_BYTES,
  PRINTK_RECORD_HEADER,
  PRINTK_RECORD_MAX_BYTES,
  Printk,
  formatTimestamp,
  type PrintkRecord,
} from '../../src/kernel/printk.ts';

const MEM = 64 << 20;
const BUF_PA = 0x200000;

function machine(): KmemAccess {
  return new KmemAccess(PhysMem.create(MEM, [[0, MEM]]), X86_64);
}

/** A clock that advances a fixed step per reading, as the simulated clock does per operation. */
function stepClock(step: number, start = 0): () => number {
  let t = start - step;
  return () => (t += step);
}

function recordBytes(textLen: number): number {
  return (PRINTK_RECORD_HEADER + textLen + 7) & ~7;
}

test('records round-trip with seq, timestamp, level and UTF-8 text', () => {
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, stepClock(1000, 5000));
  p.printk(LOGLEVEL_INFO, 'Linux version 6.12.0-kmem');
  p.pr_err('Out of memory: Killed process 42 (café)');
  p.printk(LOGLEVEL_DEFAULT, 'no level given');
  const recs = [...p.records()];
  assert.deepEqual(recs, [
    { seq: 0, tsNsec: 5000, level: 6, facility: 0, flags: 0, text: 'Linux version 6.12.0-kmem' },
    { seq: 1, tsNsec: 6000, level: 3, facility: 0, flags: 0, text: 'Out of memory: Killed process 42 (café)' },
    { seq: 2, tsNsec: 7000, level: 4, facility: 0, flags: 0, text: 'no level given' },
  ]);
  assert.deepEqual([...p.records(1)].map((r) => r.seq), [1, 2]);
  assert.deepEqual([...p.records(3)], []);
  assert.equal(p.firstSeq, 0);
  assert.equal(p.nextSeq, 3);
  assert.equal(p.dropped, 0);
});

test('the log lives in simulated memory: header and records at bufPa', () => {
  const a = machine();
  const p = new Printk(a, BUF_PA, 4096, stepClock(1));
  p.pr_info('hello');
  const m = a.mem;
  assert.equal(m.read32(BUF_PA + 8), 4096); // log_buf_len
  assert.equal(m.read32(BUF_PA + 16), recordBytes(5)); // next_idx
  assert.equal(m.read64(BUF_PA + 32), 1); // next_seq
  const r = BUF_PA + PRINTK_HEADER_BYTES;
  assert.equal(m.read64(r), 0); // seq
  assert.equal(m.read16(r + 16), recordBytes(5)); // len
  assert.equal(m.read16(r + 18), 5); // text_len
  assert.equal(m.read8(r + 21) >>> 5, 6); // level
  assert.equal(new TextDecoder().decode(m.readBytes(r + 24, 5)), 'hello');
  assert.equal(Printk.layoutBytes(), PRINTK_HEADER_BYTES + 128 * 1024);
  assert.equal(Printk.layoutBytes(4096), PRINTK_HEADER_BYTES + 4096);
});

test('levels: pr_* helpers, default level 4, KERN_SOH prefixes, pr_debug off unless enabled', () => {
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, stepClock(1));
  p.pr_emerg('0');
  p.pr_alert('1');
  p.pr_crit('2');
  p.pr_err('3');
  p.pr_warn('4');
  p.pr_notice('5');
  p.pr_info('6');
  p.pr_debug('dropped');
  p.debugEnabled = true;
  p.pr_debug('7');
  p.printk(LOGLEVEL_DEFAULT, `${KERN_SOH}6prefixed info`);
  p.printk(LOGLEVEL_ERR, `${KERN_SOH}6explicit level wins`);
  p.printk(LOGLEVEL_DEFAULT, `${KERN_SOH}cfragment`);
  p.printk(LOGLEVEL_INFO, 'ends with newline\n');
  const recs = [...p.records()];
  assert.deepEqual(recs.slice(0, 8).map((r) => [r.level, r.text]), [
    [0, '0'], [1, '1'], [2, '2'], [3, '3'], [4, '4'], [5, '5'], [6, '6'], [7, '7'],
  ]);
  assert.deepEqual(recs.slice(8).map((r) => [r.level, r.flags, r.text]), [
    [6, 0, 'prefixed info'],
    [3, 0, 'explicit level wins'],
    [4, LOG_CONT, 'fragment'],
    [6, LOG_NEWLINE, 'ends with newline'],
  ]);
});

test('text longer than a record holds is cut to LOG_LINE_MAX bytes', () => {
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, stepClock(1));
  p.pr_info('x'.repeat(5000));
  p.pr_info('é'.repeat(600)); // 1200 bytes: the cut splits a character
  const [a, b] = [...p.records()];
  assert.equal(a.text, 'x'.repeat(LOG_LINE_MAX));
  assert.equal(LOG_LINE_MAX, 1023);
  assert.equal(b.text, 'é'.repeat(511) + '\ufffd');
});

test('wrap-around overwrites the oldest records, with exact counts', () => {
  // 40-byte texts make 64-byte records; a 4 KiB ring keeps 62 of them
  // (each record leaves room for a 24-byte wrap header after it).
  const p = new Printk(machine(), BUF_PA, 4096, stepClock(1));
  const text = (i: number) => `message ${i}`.padEnd(40, '.');
  for (let i = 0; i < 63; i++) p.pr_info(text(i));
  assert.equal(p.dropped, 0);
  assert.equal([...p.records()].length, 63);
  p.pr_info(text(63)); // no room at the end: drop two, wrap to offset 0
  assert.equal(p.dropped, 2);
  assert.equal(p.firstSeq, 2);
  for (let i = 64; i < 100; i++) p.pr_info(text(i));
  const recs = [...p.records()];
  assert.equal(recs.length, 62);
  assert.equal(p.firstSeq, 38);
  assert.equal(p.nextSeq, 100);
  assert.equal(p.dropped, 38);
  assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: 62 }, (_, k) => 38 + k));
  assert.deepEqual(recs.map((r) => r.text), Array.from({ length: 62 }, (_, k) => text(38 + k)));
  // Asking for an overwritten record starts at the oldest one kept.
  assert.equal([...p.records(5)][0].seq, 38);
  assert.equal([...p.records(90)].length, 10);
});

test('dmesg prints "[%5lu.%06lu] text", one line per line of a record', () => {
  const ts = [0, 1_500_000, 2_000_123_999, 123456_789012_345];
  let i = 0;
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, () => ts[i++]);
  p.pr_info('first');
  p.pr_warn('two\nlines');
  p.pr_err('third');
  p.pr_info('late');
  assert.equal(p.dmesg(), [
    '[    0.000000] first',
    '[    0.001500] two',
    '[    0.001500] lines',
    '[    2.000123] third',
    '[123456.789012] late',
    '',
  ].join('\n'));
  assert.equal(p.dmesg(3), '[123456.789012] late\n');
  assert.equal(formatTimestamp(99_999_999_999), '[   99.999999]');
});

test('/dev/kmsg format: "prefix,seq,ts_usec,flag;text" with escapes', () => {
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, stepClock(1_234_567));
  p.pr_info('hello');
  p.printk(LOGLEVEL_DEFAULT, 'a\nb\\c é');
  p.printk(LOGLEVEL_DEFAULT, `${KERN_SOH}cmore`);
  p.store(1, 5, 'from user space');
  assert.equal(p.kmsg(), [
    '6,0,0,-;hello',
    '4,1,1234,-;a\\x0ab\\x5cc \\xc3\\xa9',
    '4,2,2469,c;more',
    '13,3,3703,-;from user space',
    '',
  ].join('\n'));
});

test('the console listener gets each record below console_loglevel', () => {
  const p = new Printk(machine(), BUF_PA, LOG_BUF_LEN, stepClock(1000));
  const seen: [string, PrintkRecord][] = [];
  p.console = (line, rec) => seen.push([line, rec]);
  p.debugEnabled = true;
  p.pr_info('shown');
  p.pr_debug('not shown at console_loglevel 7');
  p.pr_err('two\nlines');
  assert.deepEqual(seen.map(([l]) => l), ['[    0.000000] shown', '[    0.000002] two\n[    0.000002] lines']);
  assert.equal(seen[1][1].seq, 2);
  p.consoleLoglevel = 8;
  p.pr_debug('now shown');
  assert.equal(seen.length, 3);
  // A console that logs does not deadlock.
  p.console = (_l, rec) => {
    if (rec.text !== 'echo') p.pr_info('echo');
  };
  p.pr_info('x');
  assert.deepEqual([...p.records()].slice(-2).map((r) => r.text), ['x', 'echo']);
});

test('a second Printk attached to the same memory sees the same records', () => {
  const a = machine();
  const p = new Printk(a, BUF_PA, 4096, stepClock(10));
  for (let i = 0; i < 80; i++) p.pr_info(`line ${i}`);
  const q = Printk.attach(new KmemAccess(PhysMem.attach(a.mem.share()), X86_64), BUF_PA, stepClock(10, 1_000_000));
  assert.equal(q.bufSize, 4096);
  assert.deepEqual([...q.records()], [...p.records()]);
  assert.equal(q.dmesg(), p.dmesg());
  q.pr_warn('from the other side');
  assert.equal([...p.records()].at(-1)?.text, 'from the other side');
  assert.equal(p.nextSeq, 81);
  const viaCtor = new Printk(a, BUF_PA, 4096, stepClock(1), { attach: true });
  assert.equal(viaCtor.dmesg(), p.dmesg());
  assert.throws(() => new Printk(a, BUF_PA, 8192, stepClock(1), { attach: true }), /has 4096 bytes, not 8192/);
});

test('a reader skips records overwritten while it iterates', () => {
  const p = new Printk(machine(), BUF_PA, 4096, stepClock(1));
  for (let i = 0; i < 10; i++) p.pr_info(`early ${i}`);
  const it = p.records();
  assert.equal(it.next().value?.text, 'early 0');
  for (let i = 0; i < 200; i++) p.pr_info(`later ${i}`.padEnd(40, '.'));
  const next = it.next().value;
  assert.equal(next?.seq, p.firstSeq);
  assert.equal([...it].length + 1, p.nextSeq - p.firstSeq);
});

test('bad placement is refused', () => {
  const a = machine();
  assert.throws(() => new Printk(a, BUF_PA, 5000, stepClock(1)), /not a power of two/);
  assert.throws(() => new Printk(a, BUF_PA, 2048, stepClock(1)), /not a power of two in \[4096/);
  assert.throws(() => new Printk(a, BUF_PA + 4, 4096, stepClock(1)), /not 8-byte aligned/);
  assert.throws(() => new Printk(a, MEM - 4096, 4096, stepClock(1)), /is not in RAM/);
  assert.throws(() => Printk.attach(a, BUF_PA, stepClock(1)), /no log buffer/);
});

test('property: after N records of random lengths, exactly the newest ones that fit are readable', () => {
  const slack = 2 * (PRINTK_RECORD_MAX_BYTES + PRINTK_RECORD_HEADER);
  fc.assert(
    fc.property(
      fc.constantFrom(4096, 8192, 16384),
      fc.array(fc.integer({ min: 0, max: 1100 }), { minLength: 1, maxLength: 300 }),
      (bufSize, lengths) => {
        const p = new Printk(machine(), BUF_PA, bufSize, stepClock(7));
        const texts = lengths.map((n, i) => `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))));
        texts.forEach((t) => p.pr_info(t));
        const stored = texts.map((t) => t.slice(0, LOG_LINE_MAX));
        const size = (t: string) => recordBytes(Math.min(new TextEncoder().encode(t).length, LOG_LINE_MAX));
        const recs = [...p.records()];
        const kept = recs.length;
        const first = texts.length - kept;
        // A suffix of what was written, newest last, each exactly as stored.
        assert.ok(kept >= 1);
        assert.equal(p.firstSeq, first);
        assert.equal(p.dropped, first);
        assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: kept }, (_, k) => first + k));
        assert.deepEqual(recs.map((r) => r.text), stored.slice(first));
        assert.deepEqual(recs.map((r) => r.tsNsec), Array.from({ length: kept }, (_, k) => 7 * (first + k)));
        // What is kept fits; had the ring kept one more, it would not have fitted
        // (up to the space a wrap can waste at the end and the room left for a wrap header).
        const keptBytes = stored.slice(first).reduce((n, t) => n + size(t), 0);
        assert.ok(keptBytes <= bufSize);
        if (first > 0) assert.ok(keptBytes + size(stored[first - 1]) > bufSize - slack);
      },
    ),
    { seed: 42, numRuns: 150 },
  );
});
