/*
 * A machine in one line, as `kmem boot` and the demo chapters announce it:
 * "x86_64, 256 MiB, 2 CPUs, 1 node". No Node API here: the explorer runs
 * the demo chapters in the browser.
 */
import type { MachineConfig } from '../machine/config.ts';

/** "x86_64, 256 MiB, 2 CPUs, 1 node" */
export function describeMachine(c: MachineConfig): string {
  const mib = c.memBytes / 2 ** 20;
  const size = mib >= 1024 && mib % 1024 === 0 ? `${mib / 1024} GiB` : Number.isInteger(mib) ? `${mib} MiB` : `${c.memBytes} bytes`;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const sheaves = c.sheaves === undefined ? '' : c.sheaves === 'all' ? ', SLUB percpu sheaves on every cache (7.0)'
    : ', SLUB percpu sheaves where caches ask (6.18)';
  return `${c.arch}${c.pae ? ' (PAE)' : ''}, ${size}, ${plural(c.cpus, 'CPU')}, ${plural(c.nodes.length, 'node')}${sheaves}`;
}
