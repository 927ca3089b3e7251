/*
 * For the tests of `kmem demo` chapters: run one as the command does,
 * its text captured, and check that the chapter is found by its id.
 */
import assert from 'node:assert/strict';
import { Output } from '../../src/cli/output.ts';
import { Demo, type DemoChapter } from '../../src/cli/demo/chapter.ts';
import { findChapter } from '../../src/cli/demo/index.ts';

/** The chapter's text, and `has(re)`: assert that the text matches re. */
export async function runChapter(chapter: DemoChapter): Promise<{ text: string; has: (re: RegExp) => void }> {
  assert.equal(findChapter(chapter.id), chapter);
  let text = '';
  await chapter.run(new Demo(new Output({ write: (s: string) => void (text += s) })));
  return { text, has: (re: RegExp) => assert.match(text, re) };
}
