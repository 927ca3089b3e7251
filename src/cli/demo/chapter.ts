/*
 * What a chapter of `kmem demo` is, and the helpers chapters share: booting
 * a small machine, prose in a teacher's voice, showing a call and its
 * result, the kernel log lines a step produced, and /proc files.
 *
 * A chapter is a file in this directory exporting a DemoChapter; index.ts
 * lists them in order. Chapters boot their own machines (small ones, so
 * the whole tour runs in a second or two) and must not depend on each other.
 *
 * Chapters are core code: no Node API, so that the explorer runs them in
 * the browser. What differs between the two (where the shared trace comes
 * from, what to do with a machine a chapter boots) is the DemoEnv the
 * runner gives: src/node/demo_env.ts for `kmem demo`, src/web/demo.ts for
 * the explorer.
 */
import { start_kernel } from '../../init/main.ts';
import { resolveConfig, type MachineConfigInput } from '../../machine/config.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { formatPtr } from '../../arch/x86/layout.ts';
import { readProc } from '../../fs/proc/procfs.ts';
import { describeMachine } from '../describe.ts';
import type { Output } from '../output.ts';
import { parseBuddyinfo } from '../procdiff.ts';

export interface DemoChapter {
  /** Short name for `kmem demo <id>`. */
  id: string;
  title: string;
  /** One line for `kmem demo --list`. */
  summary: string;
  run(d: Demo): void | Promise<void>;
}

/** What a chapter gets from the program running it. */
export interface DemoEnv {
  /**
   * The first `events` events' worth of the shared real trace
   * (../shared/traces/kmem-trace-build.txt.xz, Linux 6.18, 2 CPUs) as
   * decompressed chunks (whole chunks: a little more), or null where it is
   * not at hand.
   */
  sharedTrace?(events: number): Promise<Uint8Array[] | null>;
  /** Called with every machine a chapter boots, and how long start_kernel() took (ms). */
  onBoot?(k: Kernel, bootMs: number): void;
}

export class Demo {
  constructor(readonly out: Output, readonly env: DemoEnv = {}) {}

  /** Boot a machine and say which. */
  boot(input: MachineConfigInput, errors: 'log' | 'throw' = 'log'): Kernel {
    const config = resolveConfig(input);
    const t0 = performance.now();
    const k = start_kernel(config, { errors });
    this.env.onBoot?.(k, performance.now() - t0);
    this.out.line(this.out.style('dim', `[booted a simulated machine: ${describeMachine(config)}]`));
    this.out.line();
    return k;
  }

  /** A paragraph (or several, separated by blank lines) of explanation. */
  say(text: string): void {
    this.out.para(text);
  }

  /** A call and what it returned: "  k.alloc_pages(GFP_KERNEL, 2)  =>  ..." */
  call(code: string, result = ''): void {
    const c = this.out.style('cyan', code);
    this.out.line(`  ${c}${result === '' ? '' : `  =>  ${result}`}`);
  }

  /** Output lines, indented. */
  show(lines: string | readonly string[]): void {
    this.out.lines(lines, '  ');
  }

  /** `cat /proc/<name>`, optionally only the lines a filter keeps. */
  cat(k: Kernel, name: string, keep: (line: string) => boolean = () => true): void {
    this.out.line(`  ${this.out.style('bold', `$ cat /proc/${name}`)}`);
    this.show(readProc(k, name).replace(/\n$/, '').split('\n').filter(keep));
    this.out.line();
  }

  /**
   * Run fn, print the call (with its result, if `result` formats one), then
   * the kernel log lines it produced, as dmesg shows them.
   */
  logged<T>(k: Kernel, code: string, fn: () => T, result?: (r: T) => string, keep: (line: string) => boolean = () => true): T {
    const seq = k.log.nextSeq;
    const r = fn();
    this.call(code, result ? result(r) : '');
    const lines = k.log.dmesg(seq).replace(/\n$/, '').split('\n').filter((l) => l !== '' && keep(l));
    if (lines.length > 0) {
      this.out.line(`  ${this.out.style('bold', '$ dmesg')}`);
      this.show(lines.map((l) => this.out.style('yellow', l)));
    }
    return r;
  }

  /** The kernel log lines so far that a filter keeps. */
  dmesg(k: Kernel, keep: (line: string) => boolean): void {
    this.out.line(`  ${this.out.style('bold', '$ dmesg')}`);
    this.show(k.dmesg().replace(/\n$/, '').split('\n').filter(keep));
    this.out.line();
  }

  blank(): void {
    this.out.line();
  }

  /** The shared trace's first `events` events (see DemoEnv), null where it is not at hand. */
  async sharedTrace(events: number): Promise<Uint8Array[] | null> {
    return this.env.sharedTrace ? this.env.sharedTrace(events) : null;
  }
}

/** A pfn as the kernel prints it in dump_page: 0x1808. */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** A kernel pointer as %px prints it, with 0x: 0xffff888001800000. */
export function ptr(k: Kernel, va: number): string {
  return '0x' + formatPtr(k.layout, va);
}

/** One zone's row of /proc/buddyinfo as numbers. */
export function buddyRow(k: Kernel, zone: string, nid = 0): number[] {
  return parseBuddyinfo(readProc(k, 'buddyinfo')).get(`Node ${nid}, zone ${zone}`) ?? [];
}

/** A buddyinfo-shaped table: a header of orders, then labelled rows, then optionally a signed change row. */
export function buddyTable(rows: readonly [string, readonly number[]][], delta?: [string, readonly number[], readonly number[]]): string[] {
  const labelW = Math.max(...rows.map(([l]) => l.length), delta ? delta[0].length : 0, 'order'.length);
  const cell = (v: string) => v.padStart(6);
  const out = ['order'.padEnd(labelW) + Array.from({ length: rows[0][1].length }, (_, i) => cell(String(i))).join('')];
  for (const [label, r] of rows) out.push(label.padEnd(labelW) + r.map((v) => cell(String(v))).join(''));
  if (delta) {
    const [label, a, b] = delta;
    out.push(label.padEnd(labelW) + b.map((v, i) => {
      const d = v - a[i];
      return cell(d === 0 ? '.' : d > 0 ? `+${d}` : String(d));
    }).join(''));
  }
  return out;
}
