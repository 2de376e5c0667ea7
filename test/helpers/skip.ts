// A suite that needs something this machine may not have (sshd, …). When `missing` says what is missing, every
// test of the suite is registered as skipped, so uvu's summary counts it, and one line
// `SKIP <suite>: <n> tests, <missing>` goes to stdout; scripts/test.mjs repeats those lines above its closing
// line, and fails the run when CI=true. Use it instead of leaving a suite out silently:
//   const test = suiteNeeding('x over SSH', SSHD ? undefined : 'sshd not found (apt-get install openssh-server)');
import { suite, type Test } from 'uvu';

export function suiteNeeding<T = Record<string, unknown>>(name: string, missing: string | undefined): Test<T> {
  const real = suite<T>(name);
  if (!missing) return real;
  let count = 0;
  const noop = Object.assign(() => undefined, { each: () => undefined });
  const skipped = Object.assign((testName: string) => {
    count++;
    real.skip(testName);
  }, {
    before: noop,
    after: noop,
    only: (testName: string) => skipped(testName),
    skip: (testName?: string) => real.skip(testName),
    run: () => {
      console.log(`SKIP ${name}: ${count} tests, ${missing}`);
      real.run();
    },
  });
  return skipped as unknown as Test<T>;
}

/**
 * One test that cannot run here: registered as skipped (counted by uvu), with the same `SKIP …` line as a whole
 * suite, so the reason shows above `npm test`'s closing line (and CI=true fails the run).
 */
export function skipTest<T>(test: Test<T>, suiteName: string, testName: string, missing: string): void {
  console.log(`SKIP ${suiteName} › ${testName}: 1 test, ${missing}`);
  test.skip(testName);
}
