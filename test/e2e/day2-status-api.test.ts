// status over the API, as a user's kubectl would set it up: records and binding created with kubectl, a
// WorkloadEntry auto-registered the way istiod writes it (annotations, and the Healthy condition through the status
// subresource), one without a record. Runs against the test API server, or a real cluster with
// KUBECTL_VM_E2E_KUBECONFIG (the real-cluster lane: "status over the real API").
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { runPlugin } from '../helpers/run.ts';
import { fromNow, HOUR, istiodEntry, vmRecord } from '../helpers/vm-builders.ts';

const test = suite('status over the API');
let cluster: Cluster;
let ns = '';

async function kubectlOk(args: string[], input?: string) {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test.before(async () => {
  cluster = await startCluster();
  ns = await cluster.namespace('kvm-status');
  await kubectlOk(['create', '-f', '-'], JSON.stringify(vmRecord(ns, 'web-1', { address: '10.0.0.5', sshTarget: 'root@10.0.0.5:22', tokenValidMs: 3 * HOUR })));
  await kubectlOk(['create', '-f', '-'], JSON.stringify(vmRecord(ns, 'web-2', { address: '10.0.0.6' })));
  // istiod's auto-registered entry for web-1, disconnected, failing its health check.
  const auto = istiodEntry(ns, 'web-10.0.0.5', '10.0.0.5', { connectedAt: fromNow(-3 * HOUR), disconnectedAt: fromNow(-HOUR), autoRegisteredGroup: 'web' });
  await kubectlOk(['create', '-f', '-'], JSON.stringify(auto));
  const condition = { status: { conditions: [{ type: 'Healthy', status: 'False', reason: 'HTTPGetFailed', message: 'connection refused', lastProbeTime: fromNow(-HOUR), lastTransitionTime: fromNow(-HOUR) }] } };
  await kubectlOk(['patch', 'workloadentry', 'web-10.0.0.5', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify(condition)]);
  await kubectlOk(['create', '-f', '-'], JSON.stringify(istiodEntry(ns, 'legacy', '10.0.0.9', { connectedAt: fromNow(-HOUR) })));
});
test.after(async () => {
  await cluster?.close();
});

test('the rows join records and entries by address, read health from the status subresource and connection from the annotations', async () => {
  const o = await runPlugin('kubectl-vm-status', ['-n', ns, '-o', 'json'], cluster.env);
  assert.is(o.code, 0, o.stderr);
  const doc = JSON.parse(o.stdout);
  const byName = Object.fromEntries(doc.items.map((i: any) => [i.name, i]));
  assert.equal(Object.keys(byName).sort(), ['legacy', 'web-1', 'web-2']);
  assert.equal(byName['web-1'].workloadEntry, { name: 'web-10.0.0.5', autoRegistered: true });
  assert.is(byName['web-1'].health, 'unhealthy');
  assert.is(byName['web-1'].connection, 'disconnected');
  assert.equal(byName['web-1'].attention.map((a: any) => a.reason), ['token-expiring', 'disconnected', 'unhealthy']);
  assert.equal(byName['web-2'].attention.map((a: any) => a.reason), ['no-workloadentry']);
  assert.is(byName.legacy.connection, 'connected');
  assert.equal(byName.legacy.attention.map((a: any) => a.reason), ['no-record']);
  const failing = await runPlugin('kubectl-vm-status', ['-n', ns, '--fail-on-warn'], cluster.env);
  assert.is(failing.code, 1);
  assert.match(failing.stderr, /^3 of 3 VMs need attention:$/m);
});

test.run();
