// Assertions shared by the unit tests.
import * as assert from 'uvu/assert';
import type { CliError } from '../../shared/errors.ts';

/** `fn` must throw an instance of `type` whose message matches and whose exit code is `exitCode`. */
export function throwsCliError(fn: () => unknown, type: new (...args: any[]) => CliError, message: RegExp, exitCode: number): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, type);
    assert.match((err as Error).message, message);
    assert.is((err as CliError).exitCode, exitCode);
    return;
  }
  assert.unreachable(`expected a ${type.name} matching ${message}`);
}
