// status --probe and doctor's VM side against real OpenSSH servers (fakes on a temp root) and the test API server
// (or a real cluster): a fleet of three, one unreachable; the proxy's state, version, certificate and token,
// drifted files, clock skew, the gateway's ports from the VM, ports taken, the hosts block; read-only throughout.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { suiteNeeding } from '../helpers/skip.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { configMap, eastwestService, exposedIstiod, meshExpansionSeed, namespace } from '../helpers/builders.ts';
import { addDay2Fakes, seedOnboardedVm, trustSshd, writeWorkloadCert } from '../helpers/day2.ts';
import { freePort, SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { runPlugin } from '../helpers/run.ts';
import { istiodDeployment, istiodEntry, fromNow, HOUR, vmWorkloadGroup } from '../helpers/vm-builders.ts';

const test = suiteNeeding('status --probe and doctor over SSH', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
let cluster: Cluster;
let sshds: Sshd[] = [];
const NS = 'vm';

const readOnly = (s: Sshd) => s.calls().filter((c) => /^(systemctl (start|restart|stop|disable|enable)|docker (rm|run)|pilot-agent istio-iptables)/.test(c));

test.before(async () => {
  // The test API server only: the mesh (gateway, istiod) is seeded as istiod and istioctl would leave it.
  cluster = await startCluster({
    forceTestServer: true,
    seed: [
      ...meshExpansionSeed().filter((o) => o.metadata.name !== 'istio-ingressgateway'),
      eastwestService('istio-system'),
      ...exposedIstiod(),
      istiodDeployment({ PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION: 'true' }),
      namespace(NS),
      configMap(NS, 'istio-ca-root-cert', { 'root-cert.pem': 'x' }),
      vmWorkloadGroup(NS, 'web', 'web-sa'),
    ],
  });
  await cluster.kubectl(['create', 'serviceaccount', 'web-sa', '-n', NS]);
  sshds = [await startSshd({ root: true }), await startSshd({ root: true })];
  trustSshd(cluster.home, sshds[0]!, 'id_ed25519');
  trustSshd(cluster.home, sshds[1]!, 'id_ecdsa');
  for (const s of sshds) {
    addDay2Fakes(s);
    s.setPackage('istio-sidecar', true);
    fs.mkdirSync(path.join(s.root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(s.root, 'etc/hosts'), '127.0.0.1 localhost\n');
  }
  await seedOnboardedVm(cluster, NS, 'web-1', sshds[0]!);
  await seedOnboardedVm(cluster, NS, 'web-2', sshds[1]!);
  await seedOnboardedVm(cluster, NS, 'web-3', { deadPort: await freePort() });
  // web-1 runs, connected and healthy, with a certificate for 3 more days.
  fs.mkdirSync(path.join(sshds[0]!.root, 'run/fake-systemd'), { recursive: true });
  fs.writeFileSync(path.join(sshds[0]!.root, 'run/fake-systemd/istio.active'), '1');
  writeWorkloadCert(sshds[0]!.root, 'etc/certs', 3);
  // web-2 is stopped, someone edited its cluster.env, its clock is 2 minutes fast, 15443 is blocked, 15021 taken.
  fs.appendFileSync(path.join(sshds[1]!.root, 'var/lib/istio/envoy/cluster.env'), "ISTIO_META_EXTRA='by hand'\n");
  fs.mkdirSync(path.join(sshds[1]!.root, 'run'), { recursive: true });
  fs.writeFileSync(path.join(sshds[1]!.root, 'run/fake-clock-skew'), '120');
  fs.writeFileSync(path.join(sshds[1]!.root, 'run/fake-nc-fail'), '');
  fs.writeFileSync(path.join(sshds[1]!.root, 'run/fake-ss'), 'LISTEN 0 511 0.0.0.0:15021 0.0.0.0:* users:(("nginx",pid=812,fd=6))\nLISTEN 0 4096 127.0.0.1:15000 0.0.0.0:* users:(("envoy",pid=90,fd=20))\n');
  for (const [name, ip] of [['web-1', '10.0.0.14'], ['web-2', '10.0.0.15'], ['web-3', '10.0.0.15']] as const) {
    await cluster.kubectl(['annotate', 'secret', name, '-n', NS, `kubectl-vm.io/address=${ip}${name === 'web-3' ? '9' : ''}`, '--overwrite']);
  }
  cluster.server!.seed([istiodEntry(NS, 'web-1', '10.0.0.14', { connectedAt: fromNow(-HOUR), healthy: true }), istiodEntry(NS, 'web-2', '10.0.0.15', { connectedAt: fromNow(-HOUR) })] as never);
});
test.after(async () => {
  for (const s of sshds) await s.close();
  await cluster?.close();
});

test('status --probe: the VM\'s own view in each row, unreachable for the dead VM, and no change anywhere', async () => {
  cluster.server!.clearRequests();
  const o = await runPlugin('kubectl-vm-status', ['-n', NS, '--probe', '--ssh-connect-timeout', '3s'], cluster.env);
  assert.is(o.code, 0, o.stderr);
  const [header, ...rows] = o.stdout.trim().split('\n');
  assert.match(header!, /^NAME\s+ADDRESS\s+NETWORK\s+GROUP\s+HEALTH\s+CONNECTED\s+TOKEN EXPIRES\s+PROXY\s+VERSION\s+CERT EXPIRES\s+FILES\s+AGE\s+ATTENTION$/);
  assert.match(rows[0]!, /^web-1\s+10\.0\.0\.14\s+.*\s+active\s+1\.28\.0\s+in 2d23h\s+ok\s+\S+\s+token-expiring$/, o.stdout + o.stderr);
  assert.match(rows[1]!, /^web-2\s+10\.0\.0\.15\s+.*\s+inactive\s+1\.28\.0\s+-\s+drifted \(1\)\s+\S+\s+token-expiring,proxy-down,drifted$/);
  assert.match(rows[2]!, /^web-3\s+.*\s+unreachable\s+-\s+-\s+-\s+\S+\s+token-expiring,no-workloadentry,unreachable$/);
  assert.match(o.stderr, /  vm\/web-2: changed since delivery: \/var\/lib\/istio\/envoy\/cluster\.env\n/);
  assert.match(o.stderr, /  vm\/web-3: probe failed: cannot connect to root@127\.0\.0\.1:\d+: connection refused\n/);
  assert.ok(cluster.server!.requests.every((r) => r.method === 'GET'), 'the cluster is only read');
  for (const s of sshds) assert.equal(readOnly(s), [], 'nothing started, stopped or cleaned on the VMs');
  const failing = await runPlugin('kubectl-vm-status', ['web-1', '-n', NS, '--probe', '--fail-on-warn', '-o', 'json'], cluster.env);
  assert.is(failing.code, 1, 'the token is within 24h');
  const item = JSON.parse(failing.stdout).items[0];
  assert.equal(Object.keys(item.probe), ['reachable', 'proxy', 'proxyRunning', 'version', 'certNotAfter', 'tokenExpires', 'tokenMatchesRecord', 'driftedFiles']);
  assert.is(item.probe.tokenMatchesRecord, true, 'the token on the VM is the one the record knows');
  assert.equal(item.probe.driftedFiles, []);
  const soon = await runPlugin('kubectl-vm-status', ['web-1', '-n', NS, '--probe', '--warn-before', '30m'], cluster.env);
  assert.match(soon.stdout, /\s-$/m, 'nothing needs attention within 30 minutes');
});

test('doctor on the VMs: a healthy VM passes every VM check; the broken one names each fix; the dead one is a failed ssh check', async () => {
  const o = await runPlugin('kubectl-vm-doctor', ['-n', NS, '-o', 'json', '--ssh-connect-timeout', '3s'], cluster.env);
  assert.is(o.code, 1);
  const checks = JSON.parse(o.stdout).checks.filter((c: any) => c.scope === 'vm');
  const of = (vm: string) => Object.fromEntries(checks.filter((c: any) => c.target === `${NS}/${vm}`).map((c: any) => [c.check, c]));
  const w1 = of('web-1');
  assert.equal(Object.keys(w1), ['clock-skew', 'reach-15012', 'reach-15443', 'runtime', 'proxy-ports', 'hosts', 'token', 'iptables']);
  for (const c of Object.values<any>(w1)) assert.is(c.status, 'pass', `${c.check}: ${c.message}`);
  assert.match(w1.iptables.message, /nf_tables/);
  const w2 = of('web-2');
  assert.is(w2['clock-skew'].status, 'fail');
  assert.match(w2['clock-skew'].message, /^the VM's clock is 1[12]\ds ahead of the API server's/);
  assert.match(w2['clock-skew'].fix, /sudo timedatectl set-ntp true$/);
  assert.is(w2['reach-15443'].status, 'fail');
  assert.match(w2['reach-15443'].fix, /nc -z -w 3 192\.0\.2\.10 15443$/);
  assert.is(w2['proxy-ports'].status, 'fail');
  assert.is(w2['proxy-ports'].message, 'port 15021 is taken by something other than the proxy');
  assert.is(w2.hosts.status, 'pass');
  assert.equal(of('web-3').ssh.status, 'fail');
  for (const s of sshds) assert.equal(readOnly(s), []);
});

test.run();
