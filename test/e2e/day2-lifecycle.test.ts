// A VM's whole life with the real commands, on a real OpenSSH server (fakes on a temp root) and the test API
// server: onboard, status --probe (nothing drifted), token rotate, offboard (nothing left), onboard again, and
// offboard once more.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { suiteNeeding } from '../helpers/skip.ts';
import { configMap, eastwestService, exposedIstiod, namespace, serviceAccount } from '../helpers/builders.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { addDay2Fakes, trustSshd } from '../helpers/day2.ts';
import { SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { runPlugin } from '../helpers/run.ts';
import { vmWorkloadGroup } from '../helpers/vm-builders.ts';

const test = suiteNeeding('a VM from onboard to offboard and back', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
const NS = 'vm';
const ISTIO = 'istio-system';
let sshd: Sshd;
let cluster: Cluster;

const vm = (exe: string, args: string[]) => runPlugin(exe, [...args, '-n', NS], cluster.env);
const ours = async () => (await cluster.kubectl(['get', 'secrets,workloadentries', '-n', NS, '-l', 'app.kubernetes.io/managed-by=kubectl-vm', '-o', 'name'])).stdout.trim();
const placed = () => ['etc/certs/root-cert.pem', 'var/lib/istio/envoy/cluster.env', 'var/lib/kubectl-vm/istio-token', 'var/run/secrets/tokens/istio-token', 'var/lib/kubectl-vm/manifest.json'].filter((p) => fs.existsSync(path.join(sshd.root, p)));

test.before(async () => {
  sshd = await startSshd({ root: true });
  sshd.setPackage('istio-sidecar', true);
  addDay2Fakes(sshd);
  fs.mkdirSync(path.join(sshd.root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(sshd.root, 'etc/hosts'), '127.0.0.1 localhost\n');
  cluster = await startCluster({
    forceTestServer: true,
    seed: [
      namespace(ISTIO),
      configMap(ISTIO, 'istio', { mesh: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ntrustDomain: cluster.local\n' }),
      configMap(ISTIO, 'istio-sidecar-injector', { values: JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.24.0', multiCluster: { clusterName: 'cluster1' } } }) }),
      eastwestService(ISTIO),
      ...exposedIstiod(),
      namespace(NS),
      serviceAccount(NS, 'vm'),
      configMap(NS, 'istio-ca-root-cert', { 'root-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIBlife\n-----END CERTIFICATE-----\n' }),
      vmWorkloadGroup(NS, 'demo', 'vm'),
    ],
  });
  trustSshd(cluster.home, sshd, 'id_ed25519');
});
test.after(async () => {
  await sshd?.close();
  await cluster?.close();
});

test('onboard → status --probe → token rotate → offboard → onboard again → offboard', async () => {
  const target = `${sshd.user}@127.0.0.1:${sshd.port}`;
  const on = await vm('kubectl-vm-onboard', [target, '--group', 'demo']);
  assert.is(on.code, 0, on.stderr);
  const name = '127-0-0-1';

  const probe = await vm('kubectl-vm-status', [name, '--probe', '-o', 'json']);
  assert.is(probe.code, 0, probe.stderr);
  const item = JSON.parse(probe.stdout).items[0];
  assert.is(item.record.tokenGeneration, 1);
  assert.equal(item.probe.driftedFiles, [], 'what onboard delivered matches its manifest');
  assert.is(item.probe.proxy, 'active');
  assert.is(item.probe.tokenMatchesRecord, true);

  const rotated = await vm('kubectl-vm-token-rotate', [name]);
  assert.is(rotated.code, 0, rotated.stderr);
  const after = JSON.parse((await vm('kubectl-vm-status', [name, '--probe', '-o', 'json'])).stdout).items[0];
  assert.is(after.record.tokenGeneration, 2);
  assert.equal(after.probe.driftedFiles, [], 'the manifest followed the new token');
  assert.is(after.probe.tokenMatchesRecord, true);

  const off = await vm('kubectl-vm-offboard', [name]);
  assert.is(off.code, 0, off.stderr);
  assert.equal(placed(), []);
  assert.is(await ours(), '', 'no object of ours is left');

  const again = await vm('kubectl-vm-onboard', [target, '--group', 'demo']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /onboarded/);
  assert.equal(placed().length, 5);
  const off2 = await vm('kubectl-vm-offboard', [name, '-o', 'json']);
  assert.is(off2.code, 0, off2.stderr);
  assert.is(JSON.parse(off2.stdout).items[0].result, 'offboarded');
  assert.equal(placed(), []);
  assert.is(await ours(), '');
});

test.run();
