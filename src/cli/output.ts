/*
 * Writing the command line's output: plain text when stdout is not a
 * terminal (pipes, files, tests), a little colour on a terminal unless
 * NO_COLOR is set. Everything goes through an Output so that commands can be
 * pointed at a buffer.
 */

export interface Sink {
  write(text: string): unknown;
  isTTY?: boolean;
}

const STYLES = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
} as const;

export type Style = keyof typeof STYLES;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantColour(sink: Sink, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return sink.isTTY === true;
}

export class Output {
  constructor(readonly sink: Sink, readonly colour = false, readonly width = 78) {}

  /** Apply a style (no-op without colour). */
  style(s: Style, text: string): string {
    if (!this.colour || text === '') return text;
    const [on, off] = STYLES[s];
    return on + text + off;
  }

  line(text = ''): void {
    this.sink.write(text + '\n');
  }

  lines(text: string | readonly string[], indent = ''): void {
    const all = typeof text === 'string' ? (text === '' ? [] : text.replace(/\n$/, '').split('\n')) : text;
    for (const l of all) this.line(l === '' ? '' : indent + l);
  }

  /** A section heading. */
  heading(text: string): void {
    this.line(this.style('bold', text));
  }

  /** Prose, re-flowed to the output width; blank lines separate paragraphs. */
  para(text: string, indent = ''): void {
    for (const p of text.trim().split(/\n\s*\n/)) {
      this.lines(wrap(p.replace(/\s+/g, ' ').trim(), this.width - indent.length), indent);
      this.line();
    }
  }
}

/** Greedy word wrap. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur === '') cur = word;
    else if (cur.length + 1 + word.length <= width) cur += ' ' + word;
    else {
      out.push(cur);
      cur = word;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** Right-aligned table columns: rows of cells, first column left-aligned. */
export function table(rows: readonly (readonly (string | number)[])[], leftCols = 1, gap = 2): string[] {
  const cells = rows.map((r) => r.map(String));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((r) =>
    r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' '.repeat(gap)).trimEnd(),
  );
}
