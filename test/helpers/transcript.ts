// One golden "transcript" per case: the command line, its exit code, stdout, stderr, and the API requests it
// sent (method, path, query, status and, for writes, the body), with run-to-run values scrubbed.
import path from 'node:path';
import type { Fault, RecordedRequest, TestApiServer, TestApiServerOptions } from '../apiserver/server.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { scrub } from './golden.ts';
import { ROOT, runPlugin, type RunResult } from './run.ts';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';

export interface Case {
  /** Objects to create before the run, through the API as a user would. */
  seed?: Record<string, any>[];
  faults?: Fault[];
  /** Extra environment, or variables to remove (undefined). */
  env?: Record<string, string | undefined>;
  /** Standard input. */
  input?: string;
  /** Options of the test API server, e.g. serving ServiceCIDRs. */
  server?: Omit<TestApiServerOptions, 'seed'>;
}

export interface Outcome extends RunResult {
  requests: RecordedRequest[];
  server: TestApiServer;
  cluster: Cluster;
  transcript: string;
}

export function formatRequests(requests: RecordedRequest[]): string {
  return requests
    .map((r) => {
      const q = new URLSearchParams(r.query).toString();
      const head = `${r.method} ${r.path}${q ? `?${q}` : ''} → ${r.status}${r.fault ? ` (injected ${r.fault})` : ''}`;
      return r.body === undefined ? head : `${head}\n  ${JSON.stringify(r.body)}`;
    })
    .join('\n');
}

/** Runs a dist/ executable against a fresh test API server; the caller closes outcome.cluster. */
export async function runCase(executable: string, args: string[], c: Case = {}): Promise<Outcome> {
  const cluster = await startCluster({ ...c.server, forceTestServer: true, seed: c.seed });
  const server = cluster.server!;
  for (const f of c.faults ?? []) server.inject(f);
  server.clearRequests();
  const env = { ...cluster.env, ...c.env };
  const result = await runPlugin(executable, args, env, c.input);
  const requests = [...server.requests];
  const name = CATALOG.find((e) => executableName(e.name) === executable)?.name ?? executable;
  const command = `$ kubectl vm ${name} ${args.join(' ')}`;
  const transcript = scrub(
    [command, `--- exit code: ${result.code}`, '--- stdout', result.stdout, '--- stderr', result.stderr, '--- requests', formatRequests(requests), ''].join('\n'),
    [[cluster.home, '<HOME>'], [path.dirname(cluster.kubeconfig), '<KUBECONFIG-DIR>'], [ROOT, '<ROOT>']],
    server.allocatedClusterIPs,
  );
  return { ...result, requests, server, cluster, transcript };
}
