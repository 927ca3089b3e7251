/*
 * `kmem run MODULE`: insmod and rmmod for a module written in TypeScript or
 * JavaScript. The module is an ES module exporting
 *
 *   export function init(k: Kernel): number | void     // module_init
 *   export function exit(k: Kernel): void              // module_exit (optional)
 *
 * (either may be async). As module_init, init returns 0 (or nothing) on
 * success and a negative errno on failure (return -ENOMEM): the module is
 * then not loaded and exit is not called. init runs as the task "insmod",
 * exit as "rmmod", so allocation-failure reports name them as on a real
 * machine.
 *
 * Printed: the kernel log lines the module produced, then what changed in
 * /proc between before init, after init and after exit.
 */
import { resolve, basename, extname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import type { Kernel } from '../kernel/kernel.ts';
import { KernelBug } from '../kernel/bug.ts';
import { diffLines, snapshot, totalFree, totalPcp, type ProcSnapshot } from './procdiff.ts';
import type { Output } from './output.ts';

export type ModuleInit = (k: Kernel) => number | void | Promise<number | void>;
export type ModuleExit = (k: Kernel) => void | Promise<void>;

export interface KmemModule {
  init: ModuleInit;
  exit?: ModuleExit;
}

/** errno names and strerror() texts for what init may return. */
const ERRNO: Readonly<Record<number, [string, string]>> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  5: ['EIO', 'Input/output error'],
  11: ['EAGAIN', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Cannot allocate memory'],
  14: ['EFAULT', 'Bad address'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  19: ['ENODEV', 'No such device'],
  22: ['EINVAL', 'Invalid argument'],
  28: ['ENOSPC', 'No space left on device'],
  38: ['ENOSYS', 'Function not implemented'],
};

export function strerror(errno: number): string {
  const e = ERRNO[Math.abs(errno)];
  return e ? `${e[1]} (-${e[0]})` : `Unknown error ${Math.abs(errno)}`;
}

/**
 * Import a module file, .ts or .js (bin/kmem.js registered tsx). A file
 * with ES module syntax outside a "type": "module" package (~/mymodule.ts)
 * is one that Node 20 with tsx's hooks refuses to import
 * (ERR_REQUIRE_CYCLE_MODULE); tsx's tsImport() loads it.
 */
export async function loadModule(path: string): Promise<KmemModule> {
  const url = pathToFileURL(resolve(path)).href;
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_CYCLE_MODULE') throw e;
    ns = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  const def = (typeof ns.default === 'object' && ns.default !== null ? ns.default : {}) as Record<string, unknown>;
  const init = ns.init ?? def.init;
  const exit = ns.exit ?? def.exit;
  if (typeof init !== 'function') throw new Error(`${path}: not a kmem module (it exports no init(k) function)`);
  if (exit !== undefined && typeof exit !== 'function') throw new Error(`${path}: "exit" is not a function`);
  return { init: init as ModuleInit, ...(exit ? { exit: exit as ModuleExit } : {}) };
}

/** "RangeError: ..." or, for a kernel report, its BUG/WARNING line. */
export function errorSummary(e: unknown): string {
  if (e instanceof KernelBug) {
    const line = e.report.split('\n').find((l) => /\b(BUG|WARNING)\b/.test(l)) ?? e.message;
    return `KernelBug: ${line.trim()}`;
  }
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The module's name as lsmod would show it. */
export function moduleName(path: string): string {
  return basename(path, extname(path)).replace(/-/g, '_');
}

/** Run fn as a task named comm on the current CPU, then give the CPU back. */
async function asTask<T>(k: Kernel, pid: number, comm: string, fn: () => T | Promise<T>): Promise<T> {
  const prev = k.sched.current;
  k.sched.setCurrent(k.sched.createTask(pid, comm));
  try {
    return await fn();
  } finally {
    k.sched.setCurrent(prev);
  }
}

/** A JS exception in module code, printed the way the kernel prints an oops. */
export function oopsLines(e: unknown, what: string): string[] {
  const err = e instanceof Error ? e : new Error(String(e));
  const lines = [`BUG: unhandled exception in ${what}: ${err.name}: ${err.message}`, 'Call Trace:', ' <TASK>'];
  const cwd = process.cwd();
  for (const l of (err.stack ?? '').split('\n').slice(1)) {
    const m = /^\s+at (.*)$/.exec(l);
    if (!m) continue;
    if (/src[\\/]cli[\\/]/.test(m[1]) || m[1].startsWith('node:')) break;
    const frame = m[1]
      // tsImport's compiled code: name the file, the position is in the compiled text.
      .replace(/data:text\/javascript,[^?]*\?filePath=([^?%]*(?:%[0-9A-F]{2}[^?%]*)*?)(?:%3F[^)]*)?:\d+:\d+/g,
        (_, p: string) => `file://${decodeURIComponent(p)}`)
      .replace(/file:\/\/([^):]+)/g, (_, p: string) => decodeURIComponent(p))
      .split(cwd + sep).join('');
    lines.push(' ' + frame);
  }
  lines.push(' do_one_initcall', ' do_init_module', ' load_module', ' </TASK>');
  return lines;
}

export interface RunResult {
  exitCode: number;
  snapshots: ProcSnapshot[];
}

/**
 * Load, init, exit, diff. Returns the process exit code: 0, or 1 when the
 * module could not be loaded, its init failed or threw.
 */
export async function runModule(k: Kernel, path: string, out: Output, err: Output): Promise<RunResult> {
  const name = moduleName(path);
  const file = basename(path);
  let mod: KmemModule;
  try {
    mod = await loadModule(path);
  } catch (e) {
    err.line(`kmem: cannot load module ${path}: ${(e as Error).message}`);
    return { exitCode: 1, snapshots: [] };
  }

  const snaps: ProcSnapshot[] = [snapshot(k, 'before init')];
  let seq = k.log.nextSeq;
  const printLog = () => {
    const text = k.log.dmesg(seq);
    seq = k.log.nextSeq;
    if (text.trim() === '') out.line(out.style('dim', '  (no kernel messages)'));
    else out.lines(text);
  };

  out.heading(`$ insmod ${file}`);
  let ret: number | void;
  try {
    ret = await asTask(k, 1000, 'insmod', () => mod.init(k));
  } catch (e) {
    printLog();
    if (!(e instanceof KernelBug)) out.lines(oopsLines(e, `${name} init`));
    err.line(`insmod: ERROR: could not insert module ${file}: init raised ${errorSummary(e)}`);
    return { exitCode: 1, snapshots: snaps };
  }
  printLog();
  const code = typeof ret === 'number' ? ret : 0;
  snaps.push(snapshot(k, 'after init'));

  let exitCode = 0;
  if (code !== 0) {
    out.line(`insmod: ERROR: could not insert module ${file}: ${strerror(code)}`);
    exitCode = 1;
  } else if (mod.exit === undefined) {
    out.line(`rmmod: ERROR: ../libkmod/libkmod-module.c: could not remove '${name}': the module has no exit(): it stays loaded`);
  } else {
    out.line();
    out.heading(`$ rmmod ${name}`);
    const exit = mod.exit;
    try {
      await asTask(k, 1001, 'rmmod', () => exit(k));
    } catch (e) {
      printLog();
      if (!(e instanceof KernelBug)) out.lines(oopsLines(e, `${name} exit`));
      err.line(`rmmod: ERROR: ${name}: exit raised ${errorSummary(e)}`);
      exitCode = 1;
    }
    if (exitCode === 0) printLog();
    snaps.push(snapshot(k, 'after exit'));
  }

  out.line();
  out.heading(`What changed in /proc (${snaps.map((s) => s.label).join(' → ')}):`);
  out.lines(diffLines(snaps));
  const free = snaps.map(totalFree);
  const held = free.map((f) => free[0] - f);
  out.line();
  const parts = held.slice(1).map((h, i) => `${h} ${snaps[i + 1].label}`);
  let verdict = '';
  const last = held[held.length - 1];
  if (snaps.length === 3) verdict = last === 0 ? ' (all returned)' : last > 0 ? ` (${last} not returned: a leak?)` : '';
  out.line(`Pages held by the module: ${parts.join(', ')}${verdict}.`);
  const cached = totalPcp(snaps[snaps.length - 1]) - totalPcp(snaps[0]);
  if (cached > 0) {
    out.line(`(${cached} free pages now sit on per-CPU lists: free, but not counted in MemFree or "pages free".)`);
  }
  return { exitCode, snapshots: snaps };
}
