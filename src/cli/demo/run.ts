/*
 * Running the tour: every chapter, or one, with numbered headings.
 */
import { Demo } from './chapter.ts';
import { nodeDemoEnv } from '../../node/demo_env.ts';
import { CHAPTERS, findChapter } from './index.ts';
import { table, type Output } from '../output.ts';

export function listChapters(out: Output): void {
  out.line('Chapters of `kmem demo` (run one with `kmem demo <name|number>`):');
  out.lines(table(CHAPTERS.map((c, i) => [`${i + 1}.`, c.id, c.title]), 3), '  ');
}

/** Returns the exit code: 2 for an unknown chapter. */
export async function runDemo(out: Output, err: Output, chapter?: string): Promise<number> {
  let chosen = CHAPTERS;
  if (chapter !== undefined) {
    const c = findChapter(chapter);
    if (!c) {
      err.line(`kmem: demo: no chapter "${chapter}" (see kmem demo --list)`);
      return 2;
    }
    chosen = [c];
  } else {
    out.heading('kmem: a guided tour of the Linux page allocator');
    out.line('(LDD3 chapter 8, "Allocating Memory", on a simulated machine running kmem)');
    out.line();
  }
  const d = new Demo(out, nodeDemoEnv());
  for (const c of chosen) {
    const n = CHAPTERS.indexOf(c) + 1;
    const title = `Chapter ${n}: ${c.title}`;
    out.heading(title);
    out.line('='.repeat(title.length));
    out.line();
    await c.run(d);
  }
  return 0;
}
