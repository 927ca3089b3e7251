/*
 * Start a worker_threads Worker on a TypeScript module. kmem runs its
 * sources through tsx; a worker does not inherit the loader hooks of its
 * parent, so the worker's first module registers tsx and then imports the
 * target (the same two steps as bin/kmem.js).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_API = import.meta.resolve('tsx/esm/api');

export function startTsWorker(module: URL, options: WorkerOptions = {}): Worker {
  const boot = `import { register } from ${JSON.stringify(TSX_API)}; register(); await import(${JSON.stringify(module.href)});`;
  return new Worker(new URL('data:text/javascript,' + encodeURIComponent(boot)), options);
}
