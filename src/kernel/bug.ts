/*
 * How the kernel reports its own bugs (kernel/panic.c __warn, include/asm-generic/bug.h,
 * lib/dump_stack.c, kernel/sched/core.c __might_resched): WARNING and BUG
 * blocks in the log, taint flags, and, for library users who ask for it, a
 * typed exception carrying the report's text.
 *
 *   ------------[ cut here ]------------
 *   WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:4832 __alloc_pages_noprof
 *   CPU: 0 UID: 0 PID: 1 Comm: insmod Tainted: G        W          6.12.0-kmem #1
 *   Hardware name: kmem simulated x86_64 machine
 *   Call Trace:
 *    <TASK>
 *    __alloc_pages_noprof
 *    ...
 *    </TASK>
 *   ---[ end trace 0000000000000000 ]---
 *
 * kmem has no machine code, so call traces name functions without offsets.
 * A report never changes allocator state: callers check before they act,
 * report, and return the kernel's failure value (NULL, or nothing).
 */
import type { Sched } from './sched.ts';
import type { KmemAccess } from '../machine/kmem_access.ts';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

/* Taint flags (include/linux/panic.h), with the letters print_tainted() uses. */
export const TAINT_BAD_PAGE = 5;
export const TAINT_DIE = 7;
export const TAINT_WARN = 9;
const TAINT_LETTERS: readonly [string, string][] = [
  ['P', 'G'], ['F', ' '], ['S', ' '], ['R', ' '], ['M', ' '], ['B', ' '], ['U', ' '], ['D', ' '],
  ['A', ' '], ['W', ' '], ['C', ' '], ['I', ' '], ['O', ' '], ['E', ' '], ['L', ' '], ['K', ' '],
  ['X', ' '], ['T', ' '], ['N', ' '],
];

export const UTS_RELEASE = '6.12.0-kmem';

/**
 * 'deadlock': a task would sleep forever because, in kmem's single-threaded
 * mode, nothing else can run to wake it (kmem's own report, not the kernel's).
 */
export type BugKind = 'BUG' | 'WARNING' | 'Bad page state' | 'Oops' | 'might_sleep' | 'panic' | 'deadlock';

/** Thrown instead of (after) logging, when the kernel was booted with errors: 'throw'. */
export class KernelBug extends Error {
  constructor(readonly kind: BugKind, readonly report: string) {
    super(report.split('\n').find((l) => /^(BUG|WARNING|kernel BUG at |Kernel panic)/.test(l)) ?? report.split('\n')[0]);
    this.name = 'KernelBug';
  }
}

export interface Log {
  printk(level: number, text: string): void;
}

export class Bug {
  /** When true, every report also throws a KernelBug (after state was left intact). */
  throwOnBug = false;
  private readonly once = new Set<string>();

  constructor(
    private readonly log: Log,
    private readonly sched: Sched,
    private readonly access: KmemAccess,
    /** Physical address of tainted_mask (an unsigned long in .bss). */
    private readonly taintPa: number,
    private readonly arch: string,
  ) {}

  get tainted(): number {
    return this.access.readUlong(this.taintPa);
  }

  add_taint(flag: number): void {
    this.access.writeUlong(this.taintPa, this.tainted | (1 << flag));
  }

  print_tainted(): string {
    const mask = this.tainted;
    if (mask === 0) return 'Not tainted';
    return 'Tainted: ' + TAINT_LETTERS.map(([t, f], i) => (mask & (1 << i) ? t : f)).join('');
  }

  /** dump_stack(): the task line and a call trace of the named functions (innermost first). */
  dump_stack(frames: readonly string[], level = KERN_WARNING): string[] {
    const lines = [
      `CPU: ${this.sched.cpu} UID: 0 PID: ${this.sched.pid()} Comm: ${this.sched.comm()} ${this.print_tainted()} ${UTS_RELEASE} #1`,
      `Hardware name: kmem simulated ${this.arch} machine`,
      'Call Trace:',
      ' <TASK>',
      ' dump_stack_lvl',
      ...frames.map((f) => ` ${f}`),
      ' </TASK>',
    ];
    for (const l of lines) this.log.printk(level, l);
    return lines;
  }

  private emit(kind: BugKind, lines: string[]): void {
    if (this.deferDepth > 0) {
      this.deferredKind ??= kind;
      this.collected.push(...lines);
      return;
    }
    if (this.throwOnBug) throw new KernelBug(kind, lines.join('\n'));
  }

  /*
   * Reports that go on after a WARN (SLUB's object_err(): the warning, then
   * the repair, then "FIX ..."): with errors: 'throw', the throw waits until
   * fn has finished, so the kernel's repair is done and its state is
   * consistent; the KernelBug then carries every line of the report (those
   * the reporter passes to collect() and those of the warnings) and the
   * kind of the first. Nested calls throw once, from the outermost.
   */
  private deferDepth = 0;
  private deferredKind: BugKind | null = null;
  private collected: string[] = [];

  deferred<T>(fn: () => T): T {
    this.deferBegin();
    try {
      return fn();
    } finally {
      this.deferEnd();
    }
  }

  /** deferred() without a closure: deferBegin(); try { ... } finally { deferEnd(); } */
  deferBegin(): void {
    if (this.deferDepth === 0) {
      this.deferredKind = null;
      if (this.collected.length !== 0) this.collected.length = 0;
    }
    this.deferDepth++;
  }

  /** The end of a deferred section: the outermost one throws the held-back report (errors: 'throw'). */
  deferEnd(): void {
    this.deferDepth--;
    if (this.deferDepth > 0 || this.deferredKind === null) return;
    const kind = this.deferredKind;
    const lines = this.collected;
    this.deferredKind = null;
    this.collected = [];
    if (this.throwOnBug) throw new KernelBug(kind, lines.join('\n'));
  }

  /** A line of a report being printed inside deferred(), for the KernelBug's text. */
  collect(line: string): void {
    if (this.deferDepth > 0) this.collected.push(line);
  }

  /** WARN(): returns the report's lines. `once` keys WARN_ON_ONCE sites. */
  warn(file: string, line: number, fn: string, message: string | null, frames: readonly string[], once = false): void {
    const key = `${file}:${line}`;
    if (once && this.once.has(key)) return;
    if (once) this.once.add(key);
    const out: string[] = [];
    const say = (l: string) => {
      out.push(l);
      this.log.printk(KERN_WARNING, l);
    };
    say('------------[ cut here ]------------');
    if (message !== null) for (const l of message.split('\n')) say(l);
    say(`WARNING: CPU: ${this.sched.cpu} PID: ${this.sched.pid()} at ${file}:${line} ${fn}`);
    say('Modules linked in:');
    out.push(...this.dump_stack([fn, ...frames]));
    say('---[ end trace 0000000000000000 ]---');
    // __warn(): the taint comes last, so the report itself still says what the kernel was before it.
    this.add_taint(TAINT_WARN);
    this.emit('WARNING', out);
  }

  /** BUG(): the kernel would die here; kmem reports an Oops and the caller backs out. */
  bug(file: string, line: number, fn: string, frames: readonly string[], preamble: readonly string[] = []): void {
    const out: string[] = [];
    const say = (l: string, level = KERN_EMERG) => {
      out.push(l);
      this.log.printk(level, l);
    };
    for (const l of preamble) say(l, KERN_ALERT);
    say('------------[ cut here ]------------', KERN_WARNING);
    say(`kernel BUG at ${file}:${line}!`);
    say(`Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI`, KERN_WARNING);
    out.push(...this.dump_stack([fn, ...frames]));
    say('---[ end trace 0000000000000000 ]---', KERN_WARNING);
    this.add_taint(TAINT_DIE); // oops_end()
    this.emit('BUG', out);
  }

  /**
   * An oops other than BUG() (a divide error, a page fault): the preamble,
   * "Oops: <trap> [#1] PREEMPT SMP NOPTI", the stack. As with bug(), kmem's
   * caller backs out instead of killing the task.
   */
  oops(trap: string, fn: string, frames: readonly string[], preamble: readonly string[] = []): void {
    const out: string[] = [];
    const say = (l: string, level: number) => {
      out.push(l);
      this.log.printk(level, l);
    };
    for (const l of preamble) say(l, KERN_ALERT);
    say(`Oops: ${trap} [#1] PREEMPT SMP NOPTI`, KERN_WARNING);
    out.push(...this.dump_stack([fn, ...frames]));
    say('---[ end trace 0000000000000000 ]---', KERN_WARNING);
    this.add_taint(TAINT_DIE);
    this.emit('Oops', out);
  }

  /**
   * die() for a CPU exception the kernel cannot fix up (arch/x86/kernel/
   * dumpstack.c __die, oops_end): the exception handler's own lines
   * (`preamble`, each at its level: a page fault's "BUG: unable to handle
   * page fault ..." and page-table walk), the "Oops: <what>" header, then
   * show_regs() (the task line, the instruction pointer, the call trace),
   * print_modules(), the handler's executive summary (`summary`: "CR2:
   * ..."), the end-of-trace line. The task would be killed; kmem cannot
   * finish the access that faulted either, so this always throws (whatever
   * `errors` says), after tainting with D. Nothing was changed by the
   * faulting access.
   */
  die(preamble: readonly (readonly [number, string])[], header: string, ip: string, frames: readonly string[],
    summary: readonly string[]): never {
    const out: string[] = [];
    const say = (l: string, level: number) => {
      out.push(l);
      this.log.printk(level, l);
    };
    for (const [level, l] of preamble) say(l, level);
    say(header, KERN_WARNING);
    say(`CPU: ${this.sched.cpu} UID: 0 PID: ${this.sched.pid()} Comm: ${this.sched.comm()} ${this.print_tainted()} ${UTS_RELEASE} #1`, KERN_WARNING);
    say(`Hardware name: kmem simulated ${this.arch} machine`, KERN_WARNING);
    say(this.arch === 'i386' ? `EIP: ${ip}` : `RIP: 0010:${ip}`, KERN_WARNING);
    say('Call Trace:', KERN_WARNING);
    say(' <TASK>', KERN_WARNING);
    for (const f of frames) say(` ${f}`, KERN_WARNING);
    say(' </TASK>', KERN_WARNING);
    say('Modules linked in:', KERN_WARNING);
    for (const l of summary) say(l, KERN_WARNING);
    say('---[ end trace 0000000000000000 ]---', KERN_WARNING);
    this.add_taint(TAINT_DIE); // oops_end()
    throw new KernelBug('Oops', out.join('\n'));
  }

  /** panic(): the machine stops. Always throws (whatever `errors` says): nothing can run after it. */
  panic(message: string, frames: readonly string[]): never {
    const out = [`Kernel panic - not syncing: ${message}`];
    this.log.printk(KERN_EMERG, out[0]);
    out.push(...this.dump_stack(['panic', ...frames], KERN_EMERG));
    const end = `---[ end Kernel panic - not syncing: ${message} ]---`;
    this.log.printk(KERN_EMERG, end);
    out.push(end);
    throw new KernelBug('panic', out.join('\n'));
  }

  /** A report already printed by its subsystem (bad_page, ...): taint (unless null) and maybe throw. */
  reported(kind: BugKind, lines: string[], taint: number | null): void {
    if (taint !== null) this.add_taint(taint);
    this.emit(kind, lines);
  }

  /** __might_resched(): sleeping allowed here? Report if not. */
  might_sleep(file: string, line: number, frames: readonly string[]): void {
    if (!this.sched.atomicContext()) return;
    const lines = [
      `BUG: sleeping function called from invalid context at ${file}:${line}`,
      `in_atomic(): ${this.sched.preempt_count() !== 0 ? 1 : 0}, irqs_disabled(): ${this.sched.irqs_disabled() ? 1 : 0}, non_block: 0, pid: ${this.sched.pid()}, name: ${this.sched.comm()}`,
      `preempt_count: ${this.sched.preempt_count().toString(16)}, expected: 0`,
      'RCU nest depth: 0, expected: 0',
    ];
    for (const l of lines) this.log.printk(KERN_ERR, l);
    lines.push(...this.dump_stack(frames, KERN_ERR));
    this.add_taint(TAINT_WARN); // after dump_stack(), as __might_resched() does
    this.emit('might_sleep', lines);
  }
}
