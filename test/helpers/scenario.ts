// What every real-cluster-lane scenario file needs: one cluster for the suite (the test API server, or the
// cluster in KUBECTL_VM_E2E_KUBECONFIG), `kubectl vm …` through the real kubectl, and `kubectl get -o json`.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from './cluster.ts';
import { run, type RunResult } from './run.ts';

export interface Scenarios {
  test: Test;
  /** The cluster, once the suite has started. */
  cluster(): Cluster;
  vm(args: string[], input?: string): Promise<RunResult>;
  getJson(args: string[]): Promise<any>;
}

export function scenarioSuite(topic: string): Scenarios {
  const test = suite(`${topic} (${process.env.KUBECTL_VM_E2E_KUBECONFIG ? 'real cluster' : 'test API server'})`);
  let c: Cluster | undefined;
  test.before(async () => {
    c = await startCluster();
  });
  test.after(async () => {
    await c?.close();
  });
  const cluster = () => {
    if (!c) throw new Error('the scenario suite has not started');
    return c;
  };
  return {
    test,
    cluster,
    vm: (args, input) => run('kubectl', ['vm', ...args], { env: cluster().env, input }),
    async getJson(args) {
      const r = await cluster().kubectl(['get', ...args, '-o', 'json']);
      assert.is(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    },
  };
}
