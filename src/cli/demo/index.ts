/*
 * The chapters of `kmem demo`, in the order the tour runs them. A new
 * chapter is a file in this directory exporting a DemoChapter, and one line
 * here.
 */
import type { DemoChapter } from './chapter.ts';
import { bootChapter } from './boot.ts';
import { buddyChapter } from './buddy.ts';
import { pcpChapter } from './pcp.ts';
import { gfpChapter } from './gfp.ts';
import { slabChapter } from './slab.ts';
import { slabDebugChapter } from './slab_debug.ts';
import { badInputChapter } from './bad_input.ts';
import { vmallocChapter } from './vmalloc.ts';
import { ioremapChapter } from './ioremap.ts';
import { replayChapter } from './replay.ts';
/* issue 4 items 5-8 */
import { highmemChapter } from './highmem.ts';
import { scatterlistChapter } from './scatterlist.ts';
import { percpuChapter } from './percpu.ts';
import { stacksChapter } from './stacks.ts';
/* issue 7 item 5 */
import { slabCompareChapter } from './slab_compare.ts';
/* issue 5 */
import { smpChapter } from './smp.ts';
import { sheavesChapter } from './sheaves.ts';
/* issue 9 */
import { heapChapter } from './heap.ts';

export const CHAPTERS: readonly DemoChapter[] = [
  bootChapter,
  buddyChapter,
  pcpChapter,
  gfpChapter,
  slabChapter,
  slabDebugChapter,
  badInputChapter,
  vmallocChapter,
  ioremapChapter,
  highmemChapter,
  scatterlistChapter,
  percpuChapter,
  stacksChapter,
  replayChapter,
  slabCompareChapter,
  smpChapter,
  sheavesChapter,
  heapChapter,
];

/** A chapter by id ("buddy") or number ("2"). */
export function findChapter(name: string): DemoChapter | undefined {
  if (/^\d+$/.test(name)) return CHAPTERS[Number(name) - 1];
  return CHAPTERS.find((c) => c.id === name.toLowerCase());
}
