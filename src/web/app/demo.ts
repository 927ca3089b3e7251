/*
 * The Demo tab: the chapters of `kmem demo`, run in the kernel worker with
 * the same code the command line runs. A chapter's text appears here as the
 * terminal would show it; the machine the chapter booted last becomes the
 * explorer's, so the map, the slabs and the zones show what the chapter
 * left behind.
 */
import type { DemoEntry } from '../protocol.ts';
import { h } from './dom.ts';

export class DemoPanel {
  private readonly select = h('select', { name: 'chapter', 'aria-label': 'chapter' });
  private readonly runButton = h('button', { type: 'submit', class: 'primary' }, 'Run');
  private readonly summary = h('div', { class: 'dim' });
  private readonly out = h('pre', { class: 'demo-out' });
  running = '';
  /** The chapter whose text is shown, and whether it finished. */
  shown = '';
  done = false;
  private chapters: DemoEntry[] = [];

  constructor(el: HTMLElement, private readonly onRun: (chapter: string) => void) {
    const form = h('form', { id: 'demo-form', class: 'demo-form' }, this.select, this.runButton);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run(this.select.value);
    });
    this.select.addEventListener('change', () => this.describe());
    el.append(form, this.summary, this.out);
    this.out.textContent = 'Pick a chapter of the guided tour (`kmem demo`) and run it here: its machine then shows in the map.';
  }

  setChapters(chapters: DemoEntry[]): void {
    this.chapters = chapters;
    this.select.replaceChildren(...chapters.map((c, i) => h('option', { value: c.id }, `${i + 1}. ${c.title}`)));
    this.describe();
  }

  private describe(): void {
    this.summary.textContent = this.chapters.find((c) => c.id === this.select.value)?.summary ?? '';
  }

  run(chapter: string): void {
    if (this.running) return;
    this.running = chapter;
    this.shown = chapter;
    this.done = false;
    this.select.value = chapter;
    this.describe();
    this.runButton.disabled = true;
    this.out.textContent = `running ${chapter}…`;
    this.onRun(chapter);
  }

  update(chapter: string, text: string, done: boolean): void {
    this.shown = chapter;
    this.done = done;
    this.out.textContent = text;
    if (done) {
      this.running = '';
      this.runButton.disabled = false;
    }
  }
}
