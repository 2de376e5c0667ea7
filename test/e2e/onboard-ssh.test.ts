// onboard against real OpenSSH servers (test/helpers/sshd.ts, fake systemctl/dpkg/docker acting on a temporary
// root) and the test API server: seed 003's flow end to end, the files where seed 003 puts them with the bytes
// workload-entry configure writes, the record and its bound token, re-runs (unchanged; changed → one restart),
// a simulated reboot, dry runs, a missing package, fleets with a dead VM, docker, and ProxyJump.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { decodeClaims } from '../apiserver/token.ts';
import { configMap, eastwestService, namespace, serviceAccount } from '../helpers/builders.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { freePort, SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { run, runPlugin, type RunResult } from '../helpers/run.ts';
import { suiteNeeding } from '../helpers/skip.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suiteNeeding('onboard over SSH', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
const NS = 'vm';
const ISTIO = 'istio-system';
let sshd: Sshd;
let cluster: Cluster;

const mode = (f: string) => fs.statSync(f).mode & 0o777;
const inRoot = (s: Sshd, p: string) => path.join(s.root, p);
const read = (s: Sshd, p: string) => fs.readFileSync(inRoot(s, p), 'utf8');
const knownHosts = () => path.join(cluster.home, '.ssh', 'known_hosts');
function trust(...servers: Sshd[]) {
  fs.mkdirSync(path.dirname(knownHosts()), { recursive: true, mode: 0o700 });
  fs.writeFileSync(knownHosts(), servers.map((s) => `[127.0.0.1]:${s.port} ${s.hostPublicKey}\n`).join(''));
}

function vm(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run('kubectl', ['vm', ...args], { env: { ...cluster.env, ...env } });
}
const onboard = (args: string[]) => runPlugin('kubectl-vm-onboard', [...args, '-n', NS], cluster.env);
const tokenRequests = () => cluster.server!.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/token'));
const writes = () => cluster.server!.requests.filter((r) => r.method !== 'GET');
const secret = async (name: string) => JSON.parse((await cluster.kubectl(['get', 'secret', name, '-n', NS, '-o', 'json'])).stdout || 'null');

test.before(async () => {
  sshd = await startSshd({ root: true });
  sshd.setPackage('istio-sidecar', true);
  cluster = await startCluster({
    forceTestServer: true,
    seed: [
      namespace(ISTIO),
      configMap(ISTIO, 'istio', { mesh: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  meshId: mesh1\n  tracing:\n    zipkin:\n      address: zipkin.istio-system:9411\ntrustDomain: cluster.local\n' }),
      configMap(ISTIO, 'istio-sidecar-injector', { values: JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.24.0', meshID: 'mesh1', multiCluster: { clusterName: 'cluster1' } } }) }),
      namespace(NS),
      serviceAccount(NS, 'vm'),
      configMap(NS, 'istio-ca-root-cert', { 'root-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIBonboard\n-----END CERTIFICATE-----\n' }),
    ],
  });
});
test.after(async () => {
  await sshd?.close();
  await cluster?.close();
});

test("seed 003's flow: eastwest-gateway, expose-istiod, workload-group create --apply, onboard user@vm --group demo", async () => {
  const gw = await vm(['eastwest-gateway', '--single-cluster']);
  assert.is(gw.code, 0, gw.stderr);
  assert.match(gw.stdout, /istio-eastwestgateway/);
  // What `istioctl install -f` of that output leaves behind: the gateway's Service, with its load-balancer address.
  cluster.server!.seed([eastwestService(ISTIO) as never]);
  const exposed = await vm(['expose-istiod']);
  assert.is(exposed.code, 0, exposed.stderr);
  const wg = await vm(['workload-group', 'create', '--name', 'demo', '-n', NS, '--service-account', 'vm', '--apply']);
  assert.is(wg.code, 0, wg.stderr);
  trust(sshd);

  cluster.server!.clearRequests();
  // The VM's staging directories (the fake VM shares this machine's /tmp): those there before this run are not its.
  const staged = () => fs.readdirSync('/tmp').filter((f) => f.startsWith('kubectl-vm.') && fs.existsSync(path.join('/tmp', f, 'istio-token')));
  const stagedBefore = new Set(staged());
  const o = await onboard([`${sshd.user}@127.0.0.1:${sshd.port}`, '--group', 'demo', '--ssh-key', sshd.key]);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, new RegExp(`^VM +ADDRESS +RESULT +TIME\\n127-0-0-1 +${sshd.user}@127\\.0\\.0\\.1:${sshd.port} +onboarded \\(token 127-0-0-1-token-1\\) +\\d+\\.\\ds\\n$`));

  assert.is(tokenRequests().length, 1);
  // The files are where seed 003 puts them, with the bytes workload-entry configure writes.
  const out = path.join(tempDir(), 'bundle');
  const conf = await vm(['workload-entry', 'configure', '--name', 'demo', '-n', NS, '--output-dir', out]);
  assert.is(conf.code, 0, conf.stderr);
  const bundle = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');
  assert.is(read(sshd, 'etc/certs/root-cert.pem'), bundle('root-cert.pem'));
  assert.is(read(sshd, 'var/lib/istio/envoy/cluster.env'), bundle('cluster.env'));
  assert.is(read(sshd, 'etc/istio/config/mesh'), bundle('mesh.yaml'));
  assert.match(read(sshd, 'etc/hosts'), new RegExp(`# BEGIN kubectl-vm: istiod\\n${bundle('hosts').replace(/\./g, '\\.')}# END kubectl-vm: istiod\\n$`));
  assert.match(bundle('hosts'), /^192\.0\.2\.10 istiod\.istio-system\.svc$/m, 'the gateway was found: istio-eastwestgateway');
  const token = read(sshd, 'var/run/secrets/tokens/istio-token');
  assert.is(read(sshd, 'var/lib/kubectl-vm/istio-token'), token, 'the persistent copy');
  assert.is(mode(inRoot(sshd, 'var/run/secrets/tokens/istio-token')), 0o600);
  assert.is(mode(inRoot(sshd, 'var/run/secrets/tokens')), 0o700);
  assert.is(mode(inRoot(sshd, 'var/lib/kubectl-vm/istio-token')), 0o600);
  assert.is(mode(inRoot(sshd, 'var/lib/kubectl-vm')), 0o700);
  assert.ok(fs.existsSync(inRoot(sshd, 'etc/systemd/system/istio.service.d/10-kubectl-vm.conf')));
  assert.equal(fs.readdirSync(inRoot(sshd, 'var/run/secrets/tokens')), ['istio-token'], 'no temporary file is left');
  assert.equal(staged().filter((f) => !stagedBefore.has(f)), [], 'the staging directory is gone');

  // The token is bound to the binding of the VM's record; the record holds no data.
  const claims = decodeClaims(token);
  assert.equal(claims.aud, ['istio-ca']);
  assert.is(claims.sub, `system:serviceaccount:${NS}:vm`);
  assert.is(claims['kubernetes.io'].secret?.name, '127-0-0-1-token-1');
  const record = await secret('127-0-0-1');
  assert.is(record.type, 'kubectl-vm.io/vm-record');
  assert.is(record.data, undefined);
  assert.is(record.metadata.labels['kubectl-vm.io/group'], 'demo');
  assert.is(record.metadata.annotations['kubectl-vm.io/ssh-target'], `${sshd.user}@127.0.0.1:${sshd.port}`);
  assert.is(record.metadata.annotations['kubectl-vm.io/address'], '127.0.0.1');
  assert.is(record.metadata.annotations['kubectl-vm.io/runtime'], 'systemd');
  assert.is(record.metadata.annotations['kubectl-vm.io/token-generation'], '1');
  assert.match(record.metadata.annotations['kubectl-vm.io/bundle-sha256'], /^[0-9a-f]{64}$/);
  assert.is((await secret('127-0-0-1-token-1')).metadata.ownerReferences[0].uid, record.metadata.uid);

  // The package was checked, then the unit restarted once.
  const calls = sshd.calls();
  assert.ok(calls.includes('dpkg -s istio-sidecar'), calls.join('\n'));
  assert.equal(calls.filter((c) => c.startsWith('systemctl')), ['systemctl is-active --quiet istio', 'systemctl daemon-reload', 'systemctl enable istio', 'systemctl restart istio'], 'the status probe, then one restart');
  const manifest = JSON.parse(read(sshd, 'var/lib/kubectl-vm/manifest.json'));
  assert.equal(manifest.hosts.lines, ['192.0.2.10 istiod.istio-system.svc']);
});

test('a re-run with the same inputs changes nothing on the VM and reports unchanged: no token, no restart', async () => {
  const before = sshd.calls().length;
  const tokenBefore = read(sshd, 'var/lib/kubectl-vm/istio-token');
  cluster.server!.clearRequests();
  const o = await onboard([`${sshd.user}@127.0.0.1:${sshd.port}`, '--group', 'demo', '--ssh-key', sshd.key]);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^127-0-0-1 +\S+ +unchanged +/m);
  assert.equal(writes(), [], 'nothing written to the cluster');
  assert.is(read(sshd, 'var/lib/kubectl-vm/istio-token'), tokenBefore);
  const calls = sshd.calls().slice(before);
  assert.equal(calls.filter((c) => c.startsWith('systemctl')), ['systemctl is-active --quiet istio'], 'only the status probe');
});

test('a simulated reboot: /var/run emptied, the start path puts the same token back', async () => {
  const token = read(sshd, 'var/lib/kubectl-vm/istio-token');
  fs.rmSync(inRoot(sshd, 'var/run'), { recursive: true, force: true });
  fs.rmSync(inRoot(sshd, 'run'), { recursive: true, force: true }); // the fake unit is not active after a reboot
  const start = await run(path.join(sshd.dir, 'bin', 'systemctl'), ['start', 'istio'], { env: { PATH: '/usr/bin:/bin', ROOT: sshd.root } });
  assert.is(start.code, 0, start.stderr);
  assert.is(read(sshd, 'var/run/secrets/tokens/istio-token'), token, 'back and unchanged');
  assert.is(mode(inRoot(sshd, 'var/run/secrets/tokens/istio-token')), 0o600);
  assert.ok(fs.existsSync(inRoot(sshd, 'etc/certs/root-cert.pem')));
  assert.ok(fs.existsSync(inRoot(sshd, 'var/lib/istio/envoy/cluster.env')));
  assert.ok(fs.existsSync(inRoot(sshd, 'etc/istio/config/mesh')));
});

test('new inputs: the files are replaced, a new token (generation 2) is bound, the old binding goes, one restart', async () => {
  const before = sshd.calls().length;
  const o = await onboard([`${sshd.user}@127.0.0.1:${sshd.port}`, '--group', 'demo', '--ssh-key', sshd.key, '--gateway-address', '192.0.2.99']);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^127-0-0-1 +\S+ +updated \(token 127-0-0-1-token-2\) +/m);
  assert.match(read(sshd, 'etc/hosts'), /^192\.0\.2\.99 istiod\.istio-system\.svc$/m);
  assert.not.match(read(sshd, 'etc/hosts'), /192\.0\.2\.10/);
  assert.is(decodeClaims(read(sshd, 'var/run/secrets/tokens/istio-token'))['kubernetes.io'].secret?.name, '127-0-0-1-token-2');
  assert.is(await secret('127-0-0-1-token-1'), null, 'the old binding is deleted: its token stops working');
  assert.equal(sshd.calls().slice(before).filter((c) => c.startsWith('systemctl') && /restart|start istio/.test(c)), ['systemctl restart istio']);
});

test('--dry-run prints every file and command, the token redacted; it mints, connects and writes nothing', async () => {
  const before = sshd.calls().length;
  const log = sshd.log().length;
  cluster.server!.clearRequests();
  const o = await onboard([`${sshd.user}@127.0.0.1:${sshd.port}`, '--group', 'demo', '--ssh-key', sshd.key, '--dry-run']);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^\[sftp\] \/tmp\/kubectl-vm\.XXXXXXXX\/istio-token \(mode 0600\): <token: not minted in a dry run>$/m);
  assert.match(o.stdout, /^\[ssh\] bash \/tmp\/kubectl-vm\.XXXXXXXX\/install\.sh --runtime systemd$/m);
  assert.match(o.stdout, /^  → \/var\/lib\/kubectl-vm\/istio-token \(mode 0600, owner root\)$/m);
  assert.match(o.stdout, /^\[ssh\] systemctl daemon-reload && systemctl enable istio && systemctl restart istio$/m);
  assert.match(o.stdout, /^  192\.0\.2\.10 istiod\.istio-system\.svc$/m);
  assert.not.match(o.stdout + o.stderr, /eyJ/, 'no token');
  assert.equal(writes(), []);
  assert.is(sshd.calls().length, before);
  assert.not.match(sshd.log().slice(log), /Connection from/, 'no connection');
});

test('a VM without the istio-sidecar package fails with the package to install; nothing is left in the cluster', async () => {
  const other = await startSshd({ root: true });
  try {
    trust(sshd, other);
    cluster.server!.clearRequests();
    const o = await onboard([`${other.user}@127.0.0.1:${other.port}`, '--group', 'demo', '--ssh-key', other.key]);
    assert.is(o.code, 1, o.stderr);
    assert.match(o.stderr, /^error: 127-0-0-1: \S+: the istio-sidecar package is not installed$/m);
    assert.match(o.stderr, /^hint: install it on the VM \(Debian\/Ubuntu\): curl -LO https:\/\/storage\.googleapis\.com\/istio-release\/releases\/1\.24\.0\/deb\/istio-sidecar\.deb && sudo dpkg -i istio-sidecar\.deb/m);
    assert.equal(tokenRequests(), []);
  } finally {
    await other.close();
  }
});

test('a fleet: two VMs at once from a hosts file, a dead one fails alone with --continue-on-error; the table says which', async () => {
  const second = await startSshd({ root: true });
  try {
    second.setPackage('istio-sidecar', true);
    trust(sshd, second);
    const dead = await freePort();
    const hostsFile = path.join(tempDir(), 'vms.txt');
    fs.writeFileSync(hostsFile, `# demo VMs\n${second.user}@127.0.0.1:${second.port} name=web-2 address=10.0.0.2\n${second.user}@127.0.0.1:${dead} name=web-3\n`);
    const o = await onboard(['--hosts-file', hostsFile, '--group', 'demo', '--ssh-key', second.key, '--continue-on-error', '--ssh-connect-timeout', '5s']);
    assert.is(o.code, 1, o.stderr);
    assert.match(o.stdout, /^web-2 +\S+ +onboarded \(token web-2-token-1\) +/m);
    assert.match(o.stdout, new RegExp(`^web-3 +\\S+:${dead} +failed: cannot connect to .*connection refused`, 'm'));
    assert.ok(fs.existsSync(path.join(second.root, 'var/run/secrets/tokens/istio-token')));
    assert.is((await secret('web-2')).metadata.annotations['kubectl-vm.io/address'], '10.0.0.2');
    assert.is(await secret('web-3'), null, 'the dead VM left no record');
  } finally {
    await second.close();
  }
});

test('--runtime docker: the files in one directory owned by uid 1337 (0600/0700), the proxy container run once', async () => {
  const d = await startSshd({ root: true });
  try {
    trust(sshd, d);
    const o = await onboard([`${d.user}@127.0.0.1:${d.port}`, '--group', 'demo', '--ssh-key', d.key, '--runtime', 'docker']);
    assert.is(o.code, 0, o.stderr);
    const dir = path.join(d.root, 'var/lib/kubectl-vm/proxy');
    assert.is(mode(dir), 0o700);
    assert.is(mode(path.join(dir, 'istio-token')), 0o600);
    if (process.getuid?.() === 0) {
      assert.is(fs.statSync(dir).uid, 1337);
      assert.is(fs.statSync(path.join(dir, 'istio-token')).uid, 1337);
    }
    const runs = d.calls().filter((c) => c.startsWith('docker run'));
    assert.is(runs.length, 1);
    assert.match(runs[0]!, / --restart unless-stopped --network host .*-v \/var\/lib\/kubectl-vm\/proxy\/istio-token:\/var\/run\/secrets\/tokens\/istio-token:ro .*--add-host istiod\.istio-system\.svc:192\.0\.2\.10 .*docker\.io\/istio\/proxyv2:1\.24\.0 /);
    const again = await onboard([`${d.user}@127.0.0.1:${d.port}`, '--group', 'demo', '--ssh-key', d.key, '--runtime', 'docker']);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, / unchanged /);
    assert.is(d.calls().filter((c) => c.startsWith('docker run')).length, 1, 'not restarted');
  } finally {
    await d.close();
  }
});

test('~/.ssh/config: a Host alias with HostName, Port, User, IdentityFile and a ProxyJump; sshd logs prove the hop', async () => {
  const jump = await startSshd({ logLevel: 'DEBUG1' });
  const target = await startSshd({ root: true, extraAuthorizedKey: fs.readFileSync(`${jump.key}.pub`, 'utf8').trim() });
  try {
    target.setPackage('istio-sidecar', true);
    trust(sshd, jump, target);
    fs.writeFileSync(
      path.join(cluster.home, '.ssh', 'config'),
      `Host bastion\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User ${jump.user}\n  IdentityFile ${jump.key}\n\nHost app-vm\n  HostName 127.0.0.1\n  Port ${target.port}\n  User ${target.user}\n  IdentityFile ${jump.key}\n  ProxyJump bastion\n`,
    );
    const o = await onboard(['app-vm', '--group', 'demo']);
    assert.is(o.code, 0, o.stderr);
    assert.match(o.stdout, new RegExp(`^app-vm +${target.user}@127\\.0\\.0\\.1:${target.port} +onboarded`, 'm'));
    assert.ok(fs.existsSync(path.join(target.root, 'var/run/secrets/tokens/istio-token')));
    // The jump host opened a direct-tcpip channel to the target's port; the target saw only that connection.
    assert.match(jump.log(), new RegExp(`direct-tcpip.*127\\.0\\.0\\.1.*${target.port}|target 127\\.0\\.0\\.1 port ${target.port}`));
    assert.match(target.log(), /Accepted publickey/);
  } finally {
    fs.rmSync(path.join(cluster.home, '.ssh', 'config'), { force: true });
    await jump.close();
    await target.close();
  }
});

test.run();
