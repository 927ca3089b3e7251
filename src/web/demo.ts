/*
 * `kmem demo` in the explorer: a chapter run in the kernel worker with the
 * code the command line runs (src/cli/demo), its text captured as the
 * terminal would show it (no colour), and the machine it booted last
 * handed to the explorer, which then shows what the chapter left behind.
 *
 * The chapters that replay the shared real trace get the explorer's copy of
 * its first 20,000 events (src/web/static/traces/build-20k.txt.xz), which is
 * as many as they replay.
 */
import { CHAPTERS, findChapter } from '../cli/demo/index.ts';
import { Demo, type DemoEnv } from '../cli/demo/chapter.ts';
import { Output } from '../cli/output.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { DemoEntry } from './protocol.ts';

export function demoList(): DemoEntry[] {
  return CHAPTERS.map((c) => ({ id: c.id, title: c.title, summary: c.summary }));
}

export interface DemoRun {
  text: string;
  /** The last machine the chapter booted, and its start_kernel() time (ms); null if it booted none. */
  kernel: Kernel | null;
  bootMs: number;
}

/**
 * Run chapter `id` (or its number). `sharedTrace` gives the shared trace's
 * first events (DemoEnv.sharedTrace). Throws for an unknown chapter; a
 * chapter that fails has its error at the end of the text.
 */
export async function runDemoChapter(id: string, sharedTrace: DemoEnv['sharedTrace']): Promise<DemoRun> {
  const chapter = findChapter(id);
  if (!chapter) throw new Error(`demo: no chapter "${id}"`);
  let text = '';
  const out = new Output({ write: (t: string) => { text += t; } }, false, 78);
  const run: DemoRun = { text: '', kernel: null, bootMs: 0 };
  const d = new Demo(out, {
    ...(sharedTrace ? { sharedTrace } : {}),
    onBoot: (k, ms) => {
      run.kernel = k;
      run.bootMs = ms;
    },
  });
  const title = `Chapter ${CHAPTERS.indexOf(chapter) + 1}: ${chapter.title}`;
  out.heading(title);
  out.line('='.repeat(title.length));
  out.line();
  try {
    await chapter.run(d);
  } catch (e) {
    out.line(`[the chapter stopped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}]`);
  }
  run.text = text;
  return run;
}
