// Temporary directories for tests, removed when the process exits (tests never call mkdtemp themselves).
import tmp from 'tmp';

tmp.setGracefulCleanup();

export function tempDir(prefix = 'kubectl-vm-test-'): string {
  return tmp.dirSync({ prefix, unsafeCleanup: true }).name;
}

/** A path inside a fresh temp directory that does not exist: for "no such file" cases (never /nonexistent, which root can create). */
export function missingPath(name = 'missing'): string {
  return `${tempDir()}/${name}`;
}
