/*
 * `kmem boot`: boot a machine, print its boot log (as dmesg prints it) and
 * a memory summary, and optionally dump every /proc file kmem produces.
 */
import type { Kernel } from '../kernel/kernel.ts';
import { bootFromFlags, type BootFlags } from './options.ts';
import { memorySummary, writeProcDir } from './summary.ts';
import type { Output } from './output.ts';

export function bootCommand(flags: BootFlags, out: Output): Kernel {
  const k = bootFromFlags(flags);
  if (!flags.quiet) {
    out.lines(k.dmesg());
    out.line();
  }
  out.lines(memorySummary(k));
  if (flags.procDir !== undefined) {
    const files = writeProcDir(k, flags.procDir);
    out.line(`Wrote ${files.length} /proc files to ${flags.procDir}`);
  }
  return k;
}
