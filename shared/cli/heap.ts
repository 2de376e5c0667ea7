// Peak memory of a large run (a fleet's tokens, 50,000 addresses). V8 lets the young generation grow to 2 × 16 MiB
// under a steady allocation rate, and lets the old one reach up to 4 × its live size before collecting it again; a
// run this short gains little from either and pays for both in peak RSS. A command calls keepHeapSmall() before
// large work: the young generation keeps its initial size, and the old one is collected at 1.1 × its live size
// and in smaller steps (--optimize-for-size). Measured: workload-entry configure for 5,000 groups peaks at ~82 MiB
// instead of ~150, for ~25% more CPU time in the client (the run waits on the API server most of the time). These
// flags are read by V8 when it next sizes the heap, so setting them at run time works; node:v8 is loaded only
// here, so that small runs and --help never pay for it.
import { createRequire } from 'node:module';

let done = false;

export function keepHeapSmall(): void {
  if (done) return;
  done = true;
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=10');
  v8.setFlagsFromString('--optimize-for-size');
}
