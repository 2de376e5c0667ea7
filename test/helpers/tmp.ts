// Temporary directories for tests, removed when the process exits (tests never call mkdtemp themselves).
import tmp from 'tmp';

tmp.setGracefulCleanup();

export function tempDir(prefix = 'kubectl-vm-test-'): string {
  return tmp.dirSync({ prefix, unsafeCleanup: true }).name;
}
