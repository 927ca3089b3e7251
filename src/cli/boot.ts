/*
 * `kmem boot`: boot a machine, print its boot log (as dmesg prints it) and
 * a memory summary, and optionally dump every /proc file kmem produces.
 *
 * --trace FILE records the boot's kmem events and writes the trace file
 * (/sys/kernel/tracing/trace) to FILE: the machine boots with
 * `trace_event=kmem:*` added to its command line (unless the command line
 * names events already), so every kmem event from the buddy allocator's
 * start on is in the per-CPU ring buffers (src/trace/events.ts): the slab
 * allocator's bootstrap, the kmalloc caches' creation, their first slabs.
 */
import { writeFileSync } from 'node:fs';
import type { Kernel } from '../kernel/kernel.ts';
import { start_kernel } from '../init/main.ts';
import { configFromFlags, type BootFlags } from './options.ts';
import { memorySummary, writeProcDir } from './summary.ts';
import type { Output } from './output.ts';

export interface BootCommandFlags extends BootFlags {
  trace?: string;
}

export function bootCommand(flags: BootCommandFlags, out: Output): Kernel {
  const config = configFromFlags(flags);
  if (flags.trace !== undefined && !/(^|\s)trace_event=/.test(config.cmdline)) {
    config.cmdline = `${config.cmdline} trace_event=kmem:*`.trim();
  }
  const k = start_kernel(config, { errors: flags.errors ?? 'log' });
  if (!flags.quiet) {
    out.lines(k.dmesg());
    out.line();
  }
  out.lines(memorySummary(k));
  if (flags.procDir !== undefined) {
    const files = writeProcDir(k, flags.procDir);
    out.line(`Wrote ${files.length} /proc files to ${flags.procDir}`);
  }
  if (flags.trace !== undefined) {
    writeFileSync(flags.trace, k.trace.read());
    out.line(`Wrote the trace of boot (${k.trace.entries().entries} events) to ${flags.trace}`);
  }
  return k;
}
