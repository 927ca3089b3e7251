/*
 * The `kmem demo` chapter comparing the slab allocators (issue 7 item 5):
 * it runs on the shared trace when ../shared is there, and skips with a
 * message when it is not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Output } from '../../src/cli/output.ts';
import { Demo } from '../../src/cli/demo/chapter.ts';
import { CHAPTERS, findChapter } from '../../src/cli/demo/index.ts';
import { SLAB_IMPLS } from '../../src/machine/config.ts';
import { slabCompareChapter, slabCompareChapterFor } from '../../src/cli/demo/slab_compare.ts';
import { compare_lines } from '../../src/trace/report.ts';
import type { ReplayResult } from '../../src/trace/replay.ts';
import { SHARED_TRACE, nodeDemoEnv } from '../../src/node/demo_env.ts';

async function run(ch: typeof slabCompareChapter, trace = SHARED_TRACE): Promise<string> {
  let text = '';
  const out = new Output({ write: (t: string) => { text += t; } }, false, 100);
  await ch.run(new Demo(out, nodeDemoEnv(trace)));
  return text;
}

describe('kmem demo slab-compare', () => {
  it('is registered, after the replay chapter', () => {
    assert.equal(findChapter('slab-compare'), slabCompareChapter);
    assert.ok(CHAPTERS.indexOf(slabCompareChapter) > CHAPTERS.findIndex((c) => c.id === 'replay'));
  });

  it('skips with a message when the shared trace is absent', async () => {
    const text = await run(slabCompareChapter, '/nonexistent/shared/traces/kmem-trace-build.txt.xz');
    assert.match(text, /not beside this checkout/);
    assert.match(text, /skipping this chapter/);
    assert.ok(!text.includes('peak slab pages'));
  });

  it('replays the shared trace on every implementation, side by side', { skip: !existsSync(SHARED_TRACE) && 'no ../shared' }, async () => {
    const text = await run(slabCompareChapterFor(3000));
    const header = text.split('\n').find((l) => /^\s+SLUB\b/.test(l));
    assert.ok(header, text);
    for (const s of SLAB_IMPLS) assert.match(header, new RegExp(`\\b${s.toUpperCase()}\\b`));
    for (const label of ['peak slab pages', 'final slab pages', 'bytes requested', 'bytes allocated',
      'internal fragmentation', 'external fragmentation', 'events/s']) {
      const row = text.split('\n').find((l) => l.trim().startsWith(label));
      assert.ok(row, label);
      assert.equal(row.trim().slice(label.length).trim().split(/\s+/).length, SLAB_IMPLS.length, row);
    }
    const replayed = text.split('\n').find((l) => l.trim().startsWith('events replayed'));
    assert.deepEqual(replayed?.trim().split(/\s+/).slice(2), SLAB_IMPLS.map(() => '3,000'));
    const req = text.split('\n').find((l) => l.trim().startsWith('bytes requested'))?.trim().split(/\s+/).slice(2);
    assert.equal(new Set(req).size, 1, 'the same workload on each');
  });

  it('compare_lines lines up one column per implementation', () => {
    const result = {
      events: 10, peak_slab_pages: 5, slab_pages_end: 4, bytes_req: 1000, bytes_alloc: 1024, internal_fragmentation: 0.0234,
      external_fragmentation: 0.5, objects_per_slab: 0, cross_cpu_frees: 1, replay_ms: 1.5, events_per_second: 12345,
    } as ReplayResult;
    const t = compare_lines([{ name: 'slub', result }, { name: 'slob', result }]);
    assert.match(t[0], /SLUB\s+SLOB$/);
    assert.ok(t.some((l) => /internal fragmentation\s+2\.3%\s+2\.3%$/.test(l)));
    assert.ok(t.some((l) => /objects per slab\s+-\s+-$/.test(l)));
    assert.equal(new Set(t.map((l) => l.length)).size, 1);
  });
});
