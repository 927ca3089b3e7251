/*
 * kmem as a library: boot a simulated machine and use its kernel API.
 *
 *   import { start_kernel, resolveConfig, GFP_KERNEL } from 'kmem';
 *   const k = start_kernel(resolveConfig({ mem: '1G', cpus: 2 }));
 *   const page = k.alloc_pages(GFP_KERNEL, 2);
 *
 * Everything here runs in a browser as well as in Node.
 */
export { start_kernel, type BootOptions } from './init/main.ts';
export { resolveConfig, parseConfigJson, parseSize, ConfigError, type MachineConfig, type MachineConfigInput } from './machine/config.ts';
export { Kernel, get_order, type SlabCtor } from './kernel/kernel.ts';
export { KernelBug } from './kernel/bug.ts';
export { attach, shareMachine, type SharedMachine, type AttachOptions } from './init/attach.ts';
export { SmpError } from './kernel/smp.ts';
export * from './include/linux/gfp_types.ts';
export * from './include/linux/slab.ts';
export { show_gfp_flags, parse_gfp_flags } from './include/trace/events/mmflags.ts';
export { readProc, writeProc, procFileNames } from './fs/proc/procfs.ts';
export { TraceParser, parse_trace_text } from './trace/parse.ts';
export { TraceReplay, type ReplayResult } from './trace/replay.ts';
export { report_text, report_json, report_html } from './trace/report.ts';
export type { Tracing } from './trace/events.ts';
