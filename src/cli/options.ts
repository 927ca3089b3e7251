/*
 * The boot flags shared by `kmem boot` and `kmem run`, and how they become a
 * MachineConfig: the --config FILE JSON (the shape documented in
 * src/machine/config.ts) with the command-line flags laid over it, then
 * resolveConfig() for defaults and validation. Every mistake is a
 * ConfigError naming its field; main.ts prints it as `kmem: <field>: <detail>`
 * and exits 2.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError, resolveConfig, type MachineConfig } from '../machine/config.ts';
import { start_kernel } from '../init/main.ts';
import type { Kernel } from '../kernel/kernel.ts';

export interface BootFlags {
  mem?: string;
  cpus?: string;
  nodes?: string;
  arch?: string;
  cmdline?: string;
  config?: string;
  procDir?: string;
  errors?: 'log' | 'throw';
  quiet?: boolean;
  /** The slab allocator (slub, slob, slab, slqb); kmem replay reads its own comma list. */
  slab?: string;
  /** SLUB's percpu sheaves: opt-in (6.18) or all (7.0). */
  sheaves?: string;
}

/** Add the boot flags to a command. */
export function addBootOptions(cmd: Command): Command {
  return cmd
    .option('--mem <size>', 'RAM size (2G, 512M, 0x10000000, ...); default 2G')
    .option('--cpus <n>', 'number of CPUs; default 2')
    .option('--nodes <n>', 'NUMA nodes (RAM and CPUs split evenly); default 1')
    .option('--arch <arch>', 'x86_64 or i386; default x86_64')
    .option('--cmdline <text>', 'kernel command line (slab_debug=FZPU, init_on_free=1, slub_max_order=1, ...)')
    .option('--config <file>', 'machine description as JSON (see src/machine/config.ts); flags override it')
    .option('--sheaves <mode>', 'SLUB percpu sheaves: opt-in (6.18: caches that ask) or all (7.0: every cache); default none (6.12)')
    .option('--proc-dir <dir>', 'write every /proc file kmem produces into DIR under its /proc name')
    .addOption(new Option('--errors <mode>', 'kernel BUG/WARNING reports: log them, or also throw').choices(['log', 'throw']).default('log'))
    .option('--quiet', 'less output (no boot log)');
}

/** "4" -> 4; anything else is passed on as written, so resolveConfig names the field in its error. */
function numberOrRaw(v: string): number | string {
  return /^\s*\d+\s*$/.test(v) ? Number(v) : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The machine the flags describe. Throws ConfigError. */
export function configFromFlags(flags: BootFlags, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): MachineConfig {
  let input: unknown = {};
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFile(flags.config);
    } catch (e) {
      throw new ConfigError('config', `cannot read ${flags.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      input = JSON.parse(text);
    } catch (e) {
      throw new ConfigError('config', `${flags.config}: invalid JSON: ${(e as Error).message}`);
    }
  }
  const overrides: Record<string, unknown> = {};
  if (flags.mem !== undefined) overrides.mem = flags.mem;
  if (flags.cpus !== undefined) overrides.cpus = numberOrRaw(flags.cpus);
  if (flags.nodes !== undefined) overrides.nodes = numberOrRaw(flags.nodes);
  if (flags.arch !== undefined) overrides.arch = flags.arch;
  if (flags.cmdline !== undefined) overrides.cmdline = flags.cmdline;
  if (flags.slab !== undefined) overrides.slab = flags.slab;
  if (flags.sheaves !== undefined) overrides.sheaves = flags.sheaves;
  if (Object.keys(overrides).length === 0) return resolveConfig(input);
  if (!isObject(input)) throw new ConfigError('config', `${flags.config}: expected a JSON object`);
  const merged: Record<string, unknown> = { ...input, ...overrides };
  // --mem replaces the file's size whichever key the file used.
  if (flags.mem !== undefined) delete merged.memBytes;
  return resolveConfig(merged);
}

/** Boot the machine the flags describe. */
export function bootFromFlags(flags: BootFlags, console?: (line: string) => void): Kernel {
  const config = configFromFlags(flags);
  return start_kernel(config, { errors: flags.errors ?? 'log', ...(console ? { console } : {}) });
}

export { describeMachine } from './describe.ts';
