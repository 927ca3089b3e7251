// kmem_cache_alloc + kmem_cache_free of one object on this worker's own CPU:
// the per-CPU fast path both ways (SLUB: c->freelist, no atomic operation).
import { attach, type SharedMachine } from '../../src/init/attach.ts';

export function setup(data: { machine: SharedMachine; cpu: number; cache: number }): (n: number) => number {
  const k = attach(data.machine, { cpu: data.cpu });
  const s = data.cache;
  const gfp = k.GFP_KERNEL;
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = k.kmem_cache_alloc(s, gfp);
      sum += p & 0xff;
      k.kmem_cache_free(s, p);
    }
    return sum;
  };
}
