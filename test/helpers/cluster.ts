// The cluster a test runs against: the in-process test API server, or — when KUBECTL_VM_E2E_KUBECONFIG is set —
// a real cluster (Istio's CRDs installed, no control plane). Scenarios get a fresh namespace of their own, and
// only the test server offers the request log and fault injection; scenarios must not depend on them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DIST, run, type RunResult } from './run.ts';
import { tempDir } from './tmp.ts';
import { TestApiServer, type TestApiServerOptions } from '../apiserver/server.ts';

export const REAL_CLUSTER_KUBECONFIG = process.env.KUBECTL_VM_E2E_KUBECONFIG;

export interface Cluster {
  kubeconfig: string;
  /** HOME, KUBECONFIG, PATH (dist first), NO_COLOR: what a child process needs. */
  env: Record<string, string | undefined>;
  home: string;
  /** The test API server, or undefined on a real cluster. */
  server?: TestApiServer;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** A namespace that exists and is removed by close(). */
  namespace(prefix?: string): Promise<string>;
  close(): Promise<void>;
}

export function childEnv(home: string, kubeconfig: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PATH: `${DIST}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    KUBECONFIG: kubeconfig,
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

export async function startCluster(options: TestApiServerOptions & { forceTestServer?: boolean } = {}): Promise<Cluster> {
  const home = tempDir('kubectl-vm-home-');
  let server: TestApiServer | undefined;
  let kubeconfig: string;
  if (REAL_CLUSTER_KUBECONFIG && !options.forceTestServer) {
    kubeconfig = path.join(home, 'kubeconfig');
    fs.copyFileSync(REAL_CLUSTER_KUBECONFIG, kubeconfig);
  } else {
    server = await TestApiServer.start(options);
    kubeconfig = server.writeKubeconfig(path.join(home, '.kube', 'config'));
  }
  const env = childEnv(home, kubeconfig);
  const created: string[] = [];
  const kubectl = (args: string[], input?: string) => run('kubectl', args, { env, input });
  return {
    kubeconfig,
    env,
    home,
    server,
    kubectl,
    async namespace(prefix = 'kvm-e2e') {
      const name = `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
      const r = await kubectl(['create', 'namespace', name]);
      if (r.code !== 0) throw new Error(`cannot create namespace ${name}: ${r.stderr}`);
      created.push(name);
      return name;
    },
    async close() {
      for (const ns of created) await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
      await server?.close();
    },
  };
}

export { DIST };
