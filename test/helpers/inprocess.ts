// Running a plugin in this process against the test API server: the real runner, client, transport and retry
// layer, with one difference from the executables: the backoff sleeps for 0 ms, so that a fault which outlasts
// every retry costs milliseconds. Used where a test runs a command hundreds of times (the fault matrix) or
// several runs at once (concurrency).
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from '../../shared/cli/plugin.ts';
import { execute } from '../../shared/cli/runner.ts';
import { defaultBackoff } from '../../shared/kube/retry.ts';
import { BufferStream } from '../../shared/output/io.ts';
import type { TestApiServer } from '../apiserver/server.ts';
import { tempDir } from './tmp.ts';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const PLUGINS = {
  'add-to-mesh': () => import('../../plugins/add-to-mesh/command.ts'),
  'remove-from-mesh': () => import('../../plugins/remove-from-mesh/command.ts'),
  register: () => import('../../plugins/register/command.ts'),
  deregister: () => import('../../plugins/deregister/command.ts'),
  'expose-istiod': () => import('../../plugins/expose-istiod/command.ts'),
  'expose-service': () => import('../../plugins/expose-service/command.ts'),
} satisfies Record<string, () => Promise<{ plugin: Plugin }>>;

export type PluginName = keyof typeof PLUGINS;

const homes = new Map<TestApiServer, string>();

/** Runs `kubectl vm <name> <argv…>` against `server`, with retries that do not wait. */
export async function runInProcess(server: TestApiServer, name: PluginName, argv: string[]): Promise<InProcessResult> {
  let home = homes.get(server);
  if (!home) {
    home = tempDir('kubectl-vm-inproc-');
    server.writeKubeconfig(path.join(home, '.kube', 'config'));
    homes.set(server, home);
  }
  const { plugin } = await PLUGINS[name]();
  const stdout = new BufferStream();
  const stderr = new BufferStream();
  const env = { HOME: home, KUBECONFIG: path.join(home, '.kube', 'config'), NO_COLOR: '1' };
  const code = await execute(plugin, argv, { stdout, stderr, env, home, cwd: home }, { backoff: { ...defaultBackoff, sleep: async () => undefined } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Forgets the temporary home of a server that is closed. */
export function forget(server: TestApiServer): void {
  const home = homes.get(server);
  if (home) fs.rmSync(home, { recursive: true, force: true });
  homes.delete(server);
}
