// A PATH that holds only what a user's machine would: node and kubectl (plus whatever a test adds in front).
import fs from 'node:fs';
import path from 'node:path';
import { missingPath, tempDir } from './tmp.ts';

export const which = (cmd: string) => (process.env.PATH ?? '').split(':').map((d) => path.join(d, cmd)).find((f) => fs.existsSync(f))!;

/** A bin directory holding only node and kubectl, so that nothing else on the machine's PATH interferes. */
export function toolsDir(extra: string[] = []): string {
  const dir = tempDir('kubectl-vm-tools-');
  for (const tool of ['node', 'kubectl', ...extra]) fs.symlinkSync(which(tool), path.join(dir, tool));
  return dir;
}

/** The environment of a user with only `dirs` on PATH, no kubeconfig and a fresh home. */
export const userEnv = (dirs: string[], extra: Record<string, string> = {}) => ({ PATH: dirs.join(':'), HOME: tempDir('kubectl-vm-home-'), NO_COLOR: '1', KUBECONFIG: missingPath('kubeconfig'), ...extra });
