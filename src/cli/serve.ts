/*
 * kmem serve [--port P] [--host H] [--mem 1G] [--cpus 2] [--nodes N] [--arch A] [--cmdline TEXT]
 *
 * Serves the explorer (src/web) on localhost with the cross-origin
 * isolation headers SharedArrayBuffer needs (src/node/web_server.ts). The
 * machine options become the page's defaults; they are checked here first,
 * so a bad --mem is a usage error (exit 2) rather than a page that will
 * not boot.
 */
import type { Command } from 'commander';
import { ConfigError, resolveConfig } from '../machine/config.ts';
import type { BootOptions } from '../web/protocol.ts';
import { startWebServer } from '../node/web_server.ts';
import type { Output } from './output.ts';

interface ServeFlags {
  port: string;
  host: string;
  mem?: string;
  cpus?: string;
  nodes?: string;
  arch?: string;
  cmdline?: string;
  sheaves?: string;
  verbose?: boolean;
}

/** The page's default boot options from the flags; throws ConfigError. */
export function serveDefaults(flags: ServeFlags): Partial<BootOptions> {
  const d: Partial<BootOptions> = {};
  if (flags.mem !== undefined) d.mem = flags.mem;
  if (flags.cpus !== undefined) d.cpus = Number(flags.cpus);
  if (flags.nodes !== undefined) d.nodes = Number(flags.nodes);
  if (flags.arch !== undefined) d.arch = flags.arch as BootOptions['arch'];
  if (flags.cmdline !== undefined) d.cmdline = flags.cmdline;
  if (flags.sheaves !== undefined) {
    if (flags.sheaves !== 'none' && flags.sheaves !== 'opt-in' && flags.sheaves !== 'all') {
      throw new ConfigError('sheaves', `"${flags.sheaves}" is not none, opt-in or all`);
    }
    d.sheaves = flags.sheaves;
  }
  for (const [k, v] of Object.entries({ cpus: flags.cpus, nodes: flags.nodes })) {
    if (v !== undefined && !/^\d+$/.test(v)) throw new ConfigError(k, `"${v}" is not a number`);
  }
  resolveConfig({ ...d, sheaves: d.sheaves === 'none' ? undefined : d.sheaves });
  return d;
}

export function addServeCommand(program: Command, out: Output, err: Output): void {
  program.command('serve')
    .description('serve the explorer, a browser view of a live machine, on localhost')
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--mem <size>', 'default RAM size of the page\'s machine; default 1G')
    .option('--cpus <n>', 'default number of CPUs; default 2')
    .option('--nodes <n>', 'default NUMA nodes; default 1')
    .option('--arch <arch>', 'default architecture, x86_64 or i386')
    .option('--cmdline <text>', 'default kernel command line')
    .option('--sheaves <mode>', 'default SLUB percpu sheaves: none, opt-in (6.18) or all (7.0)')
    .option('--verbose', 'log each request')
    .action(async (flags: ServeFlags) => {
      let defaults: Partial<BootOptions>;
      try {
        defaults = serveDefaults(flags);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        err.line(`kmem: ${e.message}`);
        process.exitCode = 2;
        return;
      }
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        err.line(`kmem: port: "${flags.port}" is not a TCP port`);
        process.exitCode = 2;
        return;
      }
      const t0 = performance.now();
      const s = await startWebServer({
        port, host: flags.host, defaults, ...(flags.verbose ? { log: (l: string) => out.line(l) } : {}),
      });
      out.line(`kmem explorer at ${s.url} (built in ${Math.round(performance.now() - t0)} ms; rebuilt on each page load)`);
      out.line('Ctrl-C to stop.');
      await new Promise<void>((done) => {
        const stop = () => {
          void s.close().then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
