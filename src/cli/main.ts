/*
 * The kmem command line (bin/kmem.js registers tsx and imports this file).
 *
 *   kmem boot [--mem 2G] [--cpus 2] [--nodes N] [--arch x86_64|i386] [--slab slub|slob|slab|slqb]
 *             [--sheaves opt-in|all] [--config FILE] [--proc-dir DIR] [--errors log|throw] [--quiet]
 *             [--trace FILE]
 *   kmem run MODULE [boot flags]
 *   kmem replay TRACE [--slab slub,slob,slab,slqb] [boot flags] [--json] [--html FILE] [--top N] [--limit N]
 *   kmem demo [CHAPTER] [--list]
 *   kmem serve [--port P] [machine options]
 *   kmem stress [--workers N] [--seconds S] [--ops N] [--seed N] [--slab IMPL] [--json] [boot flags]
 *
 * Exit codes: 0 success; 1 a module failed or the machine could not boot;
 * 2 a usage or configuration error (printed as `kmem: <field>: <detail>`).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../machine/config.ts';
import { addBootOptions, bootFromFlags, describeMachine, type BootFlags } from './options.ts';
import { bootCommand, type BootCommandFlags } from './boot.ts';
import { replayCommand, type ReplayFlags } from './replay.ts';
import { runModule } from './run.ts';
import { writeProcDir } from './summary.ts';
import { listChapters, runDemo } from './demo/run.ts';
import { Output, wantColour } from './output.ts';
import { addServeCommand } from './serve.ts';
import { addStressCommand } from './stress.ts';

// `kmem demo | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const out = new Output(process.stdout, wantColour(process.stdout, process.env));
const err = new Output(process.stderr, false);

/** Config errors exit 2 with the field named; anything else from booting exits 1. */
function bootFailed(e: unknown): number {
  if (e instanceof ConfigError) {
    err.line(`kmem: ${e.message}`);
    return 2;
  }
  err.line(`kmem: boot failed: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
}

export function buildProgram(): Command {
  const program = new Command('kmem')
    .description("The Linux kernel's memory-management subsystem in TypeScript, on a simulated machine whose RAM holds real bytes")
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'kmem: ')) })
    .exitOverride();

  addBootOptions(program.command('boot')
    .description('boot a machine; print the boot log and a memory summary'))
    .option('--slab <impl>', 'slab allocator: slub (default), slob, slab or slqb')
    .option('--trace <file>', 'record the kmem trace events of boot and write the trace file to FILE')
    .action((flags: BootCommandFlags) => {
      try {
        bootCommand(flags, out);
      } catch (e) {
        process.exitCode = bootFailed(e);
      }
    });

  addBootOptions(program.command('run')
    .description('boot, load MODULE (exports init(k), optionally exit(k)), unload it, and show what changed in /proc')
    .argument('<module>', 'a .ts or .js ES module'))
    .option('--slab <impl>', 'slab allocator: slub (default), slob, slab or slqb')
    .action(async (module: string, flags: BootFlags) => {
      let k;
      try {
        k = bootFromFlags(flags);
      } catch (e) {
        process.exitCode = bootFailed(e);
        return;
      }
      if (!flags.quiet) {
        out.line(out.style('dim', `[booted ${describeMachine(k.config)}]`));
        out.line();
      }
      const r = await runModule(k, module, out, err);
      if (flags.procDir !== undefined) {
        const files = writeProcDir(k, flags.procDir);
        out.line(`Wrote ${files.length} /proc files to ${flags.procDir}`);
      }
      process.exitCode = r.exitCode;
    });

  addBootOptions(program.command('replay')
    .description('replay a kmem trace (ftrace text; plain, .gz or .xz) on a booted machine and report like perf kmem stat')
    .argument('<trace>', 'the trace file, or - for standard input')
    .option('--slab <list>', 'slab allocators to replay on, comma-separated (slub, slob, slab, slqb)', 'slub')
    .option('--json', 'print one JSON object instead of the text report')
    .option('--html <file>', 'write a self-contained HTML report with plots')
    .option('--top <n>', 'rows of the call-site and cache tables (default 15)')
    .option('--limit <n>', 'replay only the first N events'))
    .action(async (trace: string, flags: ReplayFlags) => {
      process.exitCode = await replayCommand(trace, flags, out, err);
    });

  program.command('demo')
    .description('a guided tour of the page allocator (LDD3 chapter 8), on live machines')
    .argument('[chapter]', 'run one chapter (name or number)')
    .option('--list', 'list the chapters')
    .action(async (chapter: string | undefined, flags: { list?: boolean }) => {
      if (flags.list) {
        listChapters(out);
        return;
      }
      process.exitCode = await runDemo(out, err, chapter);
    });

  addServeCommand(program, out, err);
  addStressCommand(program, out, err);

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors (already printed) exit 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

process.exitCode = await main(process.argv);
