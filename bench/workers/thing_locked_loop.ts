// @thi.ng/malloc's MemPool over one SharedArrayBuffer shared by every
// worker, each malloc and free under one spinlock (Atomics
// compareExchange, futex-style wait when contended): what a JS user does
// today to share one allocator between workers.
import { MemPool } from '@thi.ng/malloc';

export function setup(data: { buf: SharedArrayBuffer; lock: Int32Array }): (n: number) => number {
  const pool = new MemPool({ buf: data.buf as unknown as ArrayBuffer, skipInitialization: true });
  const lock = data.lock;
  // Drepper's futex mutex ("Futexes are tricky", mutex 2): 0 free, 1 held, 2 held with waiters.
  const acquire = () => {
    let c = Atomics.compareExchange(lock, 0, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(lock, 0, 2);
    while (c !== 0) {
      Atomics.wait(lock, 0, 2);
      c = Atomics.exchange(lock, 0, 2);
    }
  };
  const release = () => {
    if (Atomics.sub(lock, 0, 1) !== 1) {
      Atomics.store(lock, 0, 0);
      Atomics.notify(lock, 0, 1);
    }
  };
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      acquire();
      const p = pool.malloc(64);
      release();
      sum += p & 0xff;
      acquire();
      pool.free(p);
      release();
    }
    return sum;
  };
}
