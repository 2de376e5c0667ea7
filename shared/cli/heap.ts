// Peak memory of a large run (a fleet's tokens, 50,000 addresses). V8 lets the young generation grow to 2 × 16 MiB
// under a steady allocation rate, and lets the old one reach up to 4 × its live size before collecting it again; a
// run this short gains little from either and pays for both in peak RSS. A command calls keepHeapSmall() before
// large work: the young generation keeps its initial size, and the old one is collected at 1.1 × its live size
// and in smaller steps (--optimize-for-size). Measured: workload-entry configure for 5,000 groups peaks at ~80 MiB
// instead of ~94, for ~20% more CPU time in the client. These flags are read by V8 when it next sizes the heap,
// so setting them at run time works; node:v8 is loaded only here, so that small runs and --help never pay for it.
//
// The flags go back to V8's defaults when the process exits, before any 'exit' listener: V8's code cache (which
// the launcher writes on exit) records the flags it was made with, and a cache made with these would be refused
// by the next start (made with the defaults), compiled again and rewritten on every fleet run.
import { createRequire } from 'node:module';

/**
 * Each flag, and V8's defaults that it goes back to (node --print-flag-values): --optimize-for-size also sets
 * --max-semi-space-size=1, which must go back too.
 */
export const HEAP_FLAGS: readonly (readonly [set: string, reset: readonly string[]])[] = [
  ['--semi-space-growth-factor=1', ['--semi-space-growth-factor=2']],
  ['--heap-growing-percent=10', ['--heap-growing-percent=0']],
  ['--optimize-for-size', ['--no-optimize-for-size', '--max-semi-space-size=0']],
];

let done = false;

export function keepHeapSmall(): void {
  if (done) return;
  done = true;
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  for (const [set] of HEAP_FLAGS) v8.setFlagsFromString(set);
  process.prependOnceListener('exit', () => {
    for (const [, reset] of HEAP_FLAGS) for (const flag of reset) v8.setFlagsFromString(flag);
  });
}
