/*
 * The Events tab: the machine's kmem tracepoints, live. Ticking an event
 * enables it in the kernel (echo 1 > events/kmem/<event>/enable); the
 * worker sends what the ring buffers recorded with each state report (read
 * and cleared, as trace_pipe consumes), and the lines appear here as the
 * trace file prints them, newest last. A text filter keeps only the lines
 * that contain it (a cache name, a pfn, a call site).
 */
import { TRACE_EVENTS } from '../../trace/events.ts';
import { h, num } from './dom.ts';

const MAX_LINES = 2000;

export class EventsPanel {
  private readonly boxes = new Map<string, HTMLInputElement>();
  private readonly hashPtr = h('input', { type: 'checkbox', name: 'hash-ptr' });
  private readonly grep = h('input', { type: 'search', placeholder: 'filter lines', size: 14, 'aria-label': 'filter lines' });
  private readonly box = h('div', { class: 'ftrace mono' });
  private readonly status = h('span', { class: 'dim' });
  private lines: string[] = [];
  private received = 0;
  private dropped = 0;
  private stale = false;

  constructor(private readonly el: HTMLElement, private readonly onChange: (events: string[], hashPtr: boolean) => void) {
    const send = () => this.onChange(this.enabled(), this.hashPtr.checked);
    const picks = TRACE_EVENTS.map((name) => {
      const cb = h('input', { type: 'checkbox', name, onchange: send });
      this.boxes.set(name, cb);
      return h('label', { class: 'ev', title: `kmem:${name}` }, cb, name);
    });
    const setAll = (on: boolean) => {
      for (const cb of this.boxes.values()) cb.checked = on;
      send();
    };
    this.hashPtr.addEventListener('change', send);
    this.grep.addEventListener('input', () => this.render());
    el.append(
      h('div', { class: 'ev-picks' }, ...picks),
      h('div', { class: 'ev-tools' },
        h('button', { id: 'ev-all', onclick: () => setAll(true) }, 'all'),
        h('button', { id: 'ev-none', onclick: () => setAll(false) }, 'none'),
        h('button', { onclick: () => this.clear() }, 'clear'),
        h('label', { title: 'trace_options hash-ptr: print pointers hashed, as %p does (off: the real addresses, to match the map)' },
          this.hashPtr, 'hash-ptr'),
        this.grep, this.status),
      this.box);
    this.renderStatus();
  }

  enabled(): string[] {
    return TRACE_EVENTS.filter((e) => this.boxes.get(e)!.checked);
  }

  /**
   * Tick what the machine traces. hash-ptr follows the machine only while
   * it traces: otherwise the box keeps the explorer's choice (off by
   * default, so that pointers match the addresses the other views show).
   */
  sync(events: string[], hashPtr: boolean): void {
    for (const [name, cb] of this.boxes) cb.checked = events.includes(name);
    if (events.length > 0) this.hashPtr.checked = hashPtr;
  }

  reset(): void {
    this.clear();
  }

  clear(): void {
    this.lines = [];
    this.received = 0;
    this.dropped = 0;
    this.box.replaceChildren();
    this.renderStatus();
  }

  append(lines: string[], dropped: number, visible: boolean): void {
    if (lines.length === 0 && dropped === 0) return;
    this.lines.push(...lines);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.received += lines.length;
    this.dropped += dropped;
    this.stale = true;
    if (visible) this.show();
    else this.renderStatus();
  }

  show(): void {
    if (!this.stale) return;
    this.stale = false;
    this.render();
  }

  private render(): void {
    const f = this.grep.value.trim();
    const shown = f ? this.lines.filter((l) => l.includes(f)) : this.lines;
    const atBottom = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - 20;
    this.box.textContent = shown.join('\n');
    if (atBottom) this.el.scrollTop = this.el.scrollHeight;
    this.renderStatus();
  }

  private renderStatus(): void {
    const on = this.enabled().length;
    this.status.textContent = on === 0 ? 'tick events to trace them'
      : `${num(this.received)} lines${this.dropped ? `, ${num(this.dropped)} not shown (too many at once)` : ''}`;
  }
}
