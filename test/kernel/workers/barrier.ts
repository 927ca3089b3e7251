// Where the workers a test starts meet: ready[0] counts arrivals, ready[1]
// is how many workers there are (the test sets it). Barrier `phase` (1, 2,
// ...) is passed when every worker has arrived `phase` times.
export function barrier(ready: Int32Array, phase: number): void {
  Atomics.add(ready, 0, 1);
  Atomics.notify(ready, 0);
  for (let seen = Atomics.load(ready, 0); seen < phase * ready[1]; seen = Atomics.load(ready, 0)) Atomics.wait(ready, 0, seen, 5);
}
