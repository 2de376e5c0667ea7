// sidecar-bootstrap against a real OpenSSH server (test/helpers/sshd.ts) and the test API server: files, modes
// and the docker command line on the "VM", host keys (unknown, changed, hashed), credentials (wrong key,
// encrypted key without a terminal, ssh-agent), dry runs that mint and connect nothing, fleets with a dead VM,
// and the --output-file archive.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { decodeClaims } from '../apiserver/token.ts';
import { eastwestService, meshExpansionSeed, namespace, serviceAccount, workloadEntry } from '../helpers/builders.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { freePort, SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { suiteNeeding } from '../helpers/skip.ts';
import { DIST, run, runPlugin, type RunResult } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suiteNeeding('sidecar-bootstrap over SSH', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
const EXE = 'kubectl-vm-sidecar_bootstrap';
const NS = 'vm';
let sshd: Sshd;
let cluster: Cluster;

const mode = (f: string) => fs.statSync(f).mode & 0o777;
const knownHosts = () => path.join(cluster.home, '.ssh', 'known_hosts');
function trustHost(line: string) {
  fs.mkdirSync(path.dirname(knownHosts()), { recursive: true, mode: 0o700 });
  fs.writeFileSync(knownHosts(), line + '\n');
}
const hostLine = (key = sshd.hostPublicKey) => `[127.0.0.1]:${sshd.port} ${key}`;

/** A WorkloadEntry whose VM is our sshd, with its own config dir under the server's temp dir. */
function vm(name: string, extra: Record<string, string> = {}) {
  return workloadEntry(NS, name, '127.0.0.1', 'vm-sa', { 'ssh-port': String(sshd.port), 'ssh-user': sshd.user, 'proxy-config-dir': path.join(sshd.dir, 'vms', name, 'istio-proxy'), ...extra });
}

async function seed(objects: Record<string, any>[]) {
  cluster.server!.seed(objects as never);
}

function bootstrap(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return runPlugin(EXE, [...args, '-n', NS], { ...cluster.env, ...env });
}

const dockerCalls = () => (fs.existsSync(sshd.dockerLog) ? fs.readFileSync(sshd.dockerLog, 'utf8').trim().split('\n') : []);
const tokenRequests = () => cluster.server!.requests.filter((r) => r.path.endsWith('/token'));

test.before(async () => {
  sshd = await startSshd();
  cluster = await startCluster({ forceTestServer: true, seed: [...meshExpansionSeed(), namespace(NS), serviceAccount(NS, 'vm-sa')] });
});
test.after(async () => {
  await sshd?.close();
  await cluster?.close();
});
test.before.each(() => {
  fs.rmSync(sshd.dockerLog, { force: true });
  fs.rmSync(knownHosts(), { force: true });
  cluster.server!.clearRequests();
});

test('B24, B27: the happy path: the files, over SFTP, with their modes in proxy-config-dir, then docker rm and docker run as the dry run said', async () => {
  await seed([vm('backend-vm')]);
  trustHost(hostLine());
  const dry = await bootstrap(['backend-vm', '--start-istio-proxy', '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  const o = await bootstrap(['backend-vm', '--start-istio-proxy', '--ssh-key', sshd.key]);
  assert.is(o.code, 0, o.stderr);
  const dir = path.join(sshd.dir, 'vms', 'backend-vm', 'istio-proxy');
  assert.is(o.stdout, `workloadentry backend-vm.${NS}: copied to ${dir}, proxy istio-proxy started\n`);
  assert.equal(fs.readdirSync(dir).sort(), ['istio-ca.pem', 'istio-token', 'sidecar.env'], 'no temporary file is left');
  assert.is(mode(dir), 0o700);
  assert.is(mode(path.join(dir, 'istio-token')), 0o600);
  assert.is(mode(path.join(dir, 'sidecar.env')), 0o644);
  assert.is(mode(path.join(dir, 'istio-ca.pem')), 0o644);
  assert.match(fs.readFileSync(path.join(dir, 'istio-ca.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  const claims = decodeClaims(fs.readFileSync(path.join(dir, 'istio-token'), 'utf8'));
  assert.equal(claims.aud, ['istio-ca']);
  assert.is(claims.sub, `system:serviceaccount:${NS}:vm-sa`);
  assert.is(claims.exp - claims.iat, 24 * 3600, '--duration defaults to 24h');
  assert.is(tokenRequests().length, 1);
  const env = fs.readFileSync(path.join(dir, 'sidecar.env'), 'utf8');
  assert.ok(dry.stdout.includes(env.trimEnd()), 'the dry run printed sidecar.env as it was copied');
  assert.match(env, /^POD_NAME=backend-vm$/m);
  assert.match(env, /^SERVICE_ACCOUNT=vm-sa$/m);
  assert.match(env, /^CA_ADDR=istiod\.istio-system\.svc:15012$/m);
  // The commands docker received are the ones the dry run printed, in order.
  const planned = dry.stdout.split('\n').filter((l) => l.startsWith('[ssh] docker ')).map((l) => l.slice('[ssh] '.length));
  assert.ok(dry.stdout.includes(`[ssh] chown 1337:1337 ${dir} ${dir}/sidecar.env ${dir}/istio-ca.pem ${dir}/istio-token\n`), 'the dry run shows the chown');
  if (process.getuid?.() === 0) {
    assert.is(fs.statSync(path.join(dir, 'istio-token')).uid, 1337, 'readable by the proxy (uid 1337), still 0600');
    assert.is(fs.statSync(dir).uid, 1337);
  }
  assert.equal(dockerCalls().map((c) => `docker ${c}`), planned);
  assert.is(planned[0], 'docker rm --force istio-proxy');
  assert.match(
    planned[1]!,
    new RegExp(
      `^docker run -d --name istio-proxy --restart unless-stopped --network host -v ${dir}/istio-ca\\.pem:/var/run/secrets/istio/root-cert\\.pem -v ${dir}/istio-token:/var/run/secrets/tokens/istio-token --env-file ${dir}/sidecar\\.env --add-host istiod\\.istio-system:192\\.0\\.2\\.10 .* docker\\.io/istio/proxyv2:1\\.28\\.0 proxy sidecar --serviceCluster backend-vm\\.${NS} --concurrency 0 --proxyLogLevel info --proxyComponentLogLevel misc:info --trust-domain cluster\\.local$`,
    ),
  );
});

test('host-key safety (B23): without --start-istio-proxy only the files are copied; a hashed known_hosts entry is trusted too', async () => {
  await seed([vm('copy-only')]);
  trustHost(hostLine());
  execFileSync('ssh-keygen', ['-H', '-f', knownHosts()], { stdio: 'ignore' });
  assert.match(fs.readFileSync(knownHosts(), 'utf8'), /^\|1\|/, 'the entry is hashed');
  const o = await bootstrap(['copy-only', '--ssh-key', sshd.key]);
  assert.is(o.code, 0, o.stderr);
  assert.equal(dockerCalls(), []);
  assert.ok(fs.existsSync(path.join(sshd.dir, 'vms', 'copy-only', 'istio-proxy', 'istio-token')));
});

test('host-key safety (B23): an unknown host key is refused with its fingerprint and the line that trusts it; that line works', async () => {
  await seed([vm('unknown-host')]);
  const o = await bootstrap(['unknown-host', '--ssh-key', sshd.key, '--start-istio-proxy']);
  assert.is(o.code, 77, o.stderr);
  assert.match(o.stderr, new RegExp(`^error: the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} is not known: SHA256:[A-Za-z0-9+/]{43} is not in .*known_hosts$`, 'm'));
  const fp = execFileSync('ssh-keygen', ['-lf', path.join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
  assert.ok(o.stderr.includes(fp), `the fingerprint is ssh-keygen's ${fp}`);
  assert.is(tokenRequests().length, 1, 'the token is minted before connecting');
  assert.not.ok(fs.existsSync(path.join(sshd.dir, 'vms', 'unknown-host')), 'nothing was copied');
  const echo = o.stderr.split('\n').find((l) => l.trim().startsWith('echo '))!.trim();
  execFileSync('sh', ['-c', echo]);
  const again = await bootstrap(['unknown-host', '--ssh-key', sshd.key]);
  assert.is(again.code, 0, again.stderr);
  const ignored = await bootstrap(['unknown-host', '--ssh-key', sshd.key, '--ignore-host-keys'], { HOME: tempDir() });
  assert.is(ignored.code, 0, ignored.stderr);
  assert.match(ignored.stderr, /warning: --ignore-host-keys/);
});

test('host-key safety (B23): a changed host key is refused, naming the known_hosts line and how to replace it', async () => {
  await seed([vm('changed-host')]);
  trustHost(hostLine(sshd.otherHostPublicKey));
  const o = await bootstrap(['changed-host', '--ssh-key', sshd.key, '--start-istio-proxy']);
  assert.is(o.code, 77, o.stderr);
  assert.match(o.stderr, new RegExp(`^error: the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} has CHANGED: the VM shows SHA256:\\S+, which does not match .*known_hosts line 1$`, 'm'));
  assert.match(o.stderr, /ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);
  assert.equal(dockerCalls(), []);
  assert.not.ok(fs.existsSync(path.join(sshd.dir, 'vms', 'changed-host')));
});

test('host-key safety (B23): a host key marked @revoked is refused even where another line trusts it; nothing is copied or started', async () => {
  await seed([vm('revoked-host')]);
  const file = knownHosts();
  for (const revokedLine of [`@revoked ${hostLine()}`, `@revoked * ${sshd.hostPublicKey}`]) {
    trustHost(`${hostLine()}\n${revokedLine}`);
    const o = await bootstrap(['revoked-host', '--ssh-key', sshd.key, '--start-istio-proxy']);
    assert.is(o.code, 77, o.stderr);
    const fp = execFileSync('ssh-keygen', ['-lf', path.join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    assert.ok(
      o.stderr.split('\n').includes(`error: the host key of [127.0.0.1]:${sshd.port} (${fp}) is marked @revoked in ${file}:2`),
      `${revokedLine}: the refusal names the key and the line\n${o.stderr}`,
    );
    assert.match(o.stderr, /^hint: the VM must get a new host key$/m);
    assert.equal(dockerCalls(), [], 'no docker command ran');
    assert.not.ok(fs.existsSync(path.join(sshd.dir, 'vms', 'revoked-host')), 'nothing was copied');
  }
  // The same known_hosts without the @revoked line connects: the refusal came from that line alone.
  trustHost(hostLine());
  const ok = await bootstrap(['revoked-host', '--ssh-key', sshd.key]);
  assert.is(ok.code, 0, ok.stderr);
});

test('a key the VM does not accept: exit 77, naming the key tried', async () => {
  await seed([vm('wrong-key')]);
  trustHost(hostLine());
  const o = await bootstrap(['wrong-key', '--ssh-key', sshd.otherKey]);
  assert.is(o.code, 77, o.stderr);
  assert.match(o.stderr, new RegExp(`^error: ${sshd.user}@127\\.0\\.0\\.1:${sshd.port} refused the login of ${sshd.user}: tried the key ${sshd.otherKey}$`, 'm'));
});

test('B27: the default keys and the ssh-agent: ~/.ssh/id_ed25519 is found; an encrypted key without a terminal fails clearly; the agent works', async () => {
  await seed([vm('default-key')]);
  trustHost(hostLine());
  const ssh = path.join(cluster.home, '.ssh');
  fs.copyFileSync(sshd.key, path.join(ssh, 'id_ed25519'));
  fs.chmodSync(path.join(ssh, 'id_ed25519'), 0o600);
  const found = await bootstrap(['default-key']);
  assert.is(found.code, 0, found.stderr);
  fs.rmSync(path.join(ssh, 'id_ed25519'));

  const locked = path.join(tempDir(), 'locked');
  fs.copyFileSync(sshd.key, locked);
  fs.chmodSync(locked, 0o600);
  execFileSync('ssh-keygen', ['-q', '-p', '-N', 'secret', '-f', locked]);
  const noTty = await bootstrap(['default-key', '--ssh-key', locked]);
  assert.is(noTty.code, 77, noTty.stderr);
  assert.match(noTty.stderr, new RegExp(`^error: the key ${locked} is encrypted, and there is no terminal to ask for its passphrase\\nhint: load it into the ssh-agent first \\(ssh-add ${locked}\\)`, 'm'));

  const sock = path.join(tempDir(), 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', [sshd.key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const viaAgent = await bootstrap(['default-key'], { SSH_AUTH_SOCK: sock });
    assert.is(viaAgent.code, 0, viaAgent.stderr);
    const none = await bootstrap(['default-key']);
    assert.is(none.code, 77);
    assert.match(none.stderr, /^error: no SSH credentials: no --ssh-key, none of ~\/\.ssh\/\{id_dsa,id_ecdsa,id_ed25519,id_rsa\}, and no ssh-agent \(SSH_AUTH_SOCK\)$/m);
  } finally {
    agent.kill();
  }
});

test('B22: --dry-run mints no token, connects nowhere and prints no secret', async () => {
  await seed([vm('dry-vm')]);
  const o = await bootstrap(['dry-vm', '--start-istio-proxy', '--dry-run', '--ssh-key', '/nonexistent/key']);
  assert.is(o.code, 0, o.stderr);
  assert.equal(tokenRequests(), [], 'no TokenRequest');
  assert.ok(cluster.server!.requests.every((r) => r.method === 'GET'), 'only reads');
  assert.not.match(o.stdout + o.stderr, /eyJ/, 'no JWT anywhere');
  const dir = path.join(sshd.dir, 'vms', 'dry-vm', 'istio-proxy');
  assert.ok(o.stdout.includes(`[sftp] ${dir}/istio-token (mode 0600): <token: not minted in a dry run>`));
  assert.match(o.stdout, new RegExp(`^# workloadentry dry-vm\\.${NS}: would connect to ${sshd.user}@127\\.0\\.0\\.1:${sshd.port} \\(dry run\\)$`, 'm'));
  assert.equal(dockerCalls(), []);
  assert.not.ok(fs.existsSync(dir));
});

test('B26: --all over three VMs, one at a closed port: a result table, the others done, exit 1', async () => {
  const closed = await freePort();
  const fleet = 'fleet';
  const ns = (o: Record<string, any>) => ({ ...o, metadata: { ...o.metadata, namespace: fleet } });
  await seed([namespace(fleet), serviceAccount(fleet, 'vm-sa'), ns(vm('vm-a')), ns(vm('vm-b', { 'ssh-port': String(closed) })), ns(vm('vm-c'))]);
  trustHost(hostLine());
  const o = await runPlugin(EXE, ['--all', '-n', fleet, '--ssh-key', sshd.key, '--start-istio-proxy', '--continue-on-error', '--concurrency', '2'], cluster.env);
  assert.is(o.code, 1, o.stderr);
  const rows = o.stdout.trimEnd().split('\n');
  assert.match(rows[0]!, /^VM\s+ADDRESS\s+RESULT\s+TIME$/);
  assert.match(rows[1]!, new RegExp(`^vm-a\\.fleet\\s+${sshd.user}@127\\.0\\.0\\.1:${sshd.port}\\s+ok: copied to \\S+, proxy istio-proxy started\\s+\\d+\\.\\ds$`));
  assert.match(rows[2]!, new RegExp(`^vm-b\\.fleet\\s+${sshd.user}@127\\.0\\.0\\.1:${closed}\\s+failed: cannot connect to \\S+: connection refused\\s+\\d+\\.\\ds$`));
  assert.match(rows[3]!, /^vm-c\.fleet\s+\S+\s+ok: /);
  assert.is(rows.length, 4);
  assert.match(o.stderr, new RegExp(`^error: vm-b\\.fleet: cannot connect to ${sshd.user}@127\\.0\\.0\\.1:${closed}: connection refused$`, 'm'));
  assert.is(tokenRequests().length, 1, 'one token per service account');
  assert.is(dockerCalls().filter((c) => c.startsWith('run ')).length, 2);
});

test('a failed docker run on the VM: the result table gives docker\'s message, the other VM is done, exit 1; alone, exit 1 with the hint', async () => {
  const fleet = 'dockerfail';
  const ns = (o: Record<string, any>) => ({ ...o, metadata: { ...o.metadata, namespace: fleet } });
  await seed([namespace(fleet), serviceAccount(fleet, 'vm-sa'), ns(vm('df-a')), ns(vm('df-b'))]);
  trustHost(hostLine());
  const denied = 'docker: Error response from daemon: pull access denied for istio/proxyv2';
  let o: RunResult;
  sshd.failDocker(denied, `vms/df-b/`); // only df-b's `docker run` fails
  try {
    o = await runPlugin(EXE, ['--all', '-n', fleet, '--ssh-key', sshd.key, '--start-istio-proxy', '--continue-on-error', '--concurrency', '1'], cluster.env);
  } finally {
    sshd.failDocker();
  }
  assert.is(o.code, 1, o.stderr);
  const rows = o.stdout.trimEnd().split('\n');
  assert.is(rows.length, 3);
  assert.match(rows[0]!, /^VM\s+ADDRESS\s+RESULT\s+TIME$/);
  assert.match(rows[1]!, /^df-a\.dockerfail\s+\S+\s+ok: copied to \S+, proxy istio-proxy started\s+\d+\.\ds$/);
  assert.match(rows[2]!, new RegExp(`^df-b\\.dockerfail\\s+${sshd.user}@127\\.0\\.0\\.1:${sshd.port}\\s+failed: docker run exited 125 on 127\\.0\\.0\\.1: ${denied}\\s+\\d+\\.\\ds$`));
  assert.match(o.stderr, new RegExp(`^error: df-b\\.dockerfail: docker run exited 125 on 127\\.0\\.0\\.1: ${denied}$`, 'm'));
  assert.match(o.stderr, /^✔ 1 of 2 VMs bootstrapped$/m);
  assert.equal(dockerCalls().filter((c) => c.startsWith('run ')).length, 2, 'both VMs got their docker run');

  sshd.failDocker(denied);
  let alone: RunResult;
  try {
    alone = await runPlugin(EXE, ['df-a', '-n', fleet, '--ssh-key', sshd.key, '--start-istio-proxy'], cluster.env);
  } finally {
    sshd.failDocker();
  }
  assert.is(alone.code, 1, alone.stderr);
  assert.is(alone.stdout, '');
  assert.match(alone.stderr, new RegExp(`^error: df-a\\.dockerfail: docker run exited 125 on 127\\.0\\.0\\.1: ${denied}$`, 'm'));
  assert.match(alone.stderr, new RegExp(`^hint: the user ${sshd.user} must be able to run docker without sudo; see the command with --dry-run$`, 'm'));
});

test('B24: --output-file: the archive (0600) holds etc/ and bin/ with their modes, and its start script runs from anywhere', async () => {
  await seed([vm('archived')]);
  const out = path.join(tempDir(), 'archived.tgz');
  const o = await bootstrap(['archived', '--output-file', out, '--start-istio-proxy']);
  assert.is(o.code, 0, o.stderr);
  assert.is(mode(out), 0o600);
  const listing = execFileSync('tar', ['-tvzf', out], { encoding: 'utf8' }).trim().split('\n').map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).pop()}`);
  assert.equal(listing, ['drwx------ etc/', '-rw-r--r-- etc/sidecar.env', '-rw-r--r-- etc/istio-ca.pem', '-rw------- etc/istio-token', 'drwx------ bin/', '-rwxr-xr-x bin/start-istio-proxy.sh']);
  const where = tempDir();
  execFileSync('tar', ['-xzf', out, '-C', where]);
  assert.equal(decodeClaims(fs.readFileSync(path.join(where, 'etc/istio-token'), 'utf8')).aud, ['istio-ca']);
  const bin = path.join(sshd.dir, 'bin');
  execFileSync(path.join(where, 'bin/start-istio-proxy.sh'), { env: { PATH: `${bin}:/usr/bin:/bin` }, cwd: '/' });
  const calls = dockerCalls();
  assert.is(calls[0], 'rm --force istio-proxy');
  assert.ok(calls[1]!.includes(`-v ${where}/bin/../etc/istio-token:/var/run/secrets/tokens/istio-token`), calls[1]);
});

test('the executable needs no node_modules: copied elsewhere with its router, it connects without ssh2\'s optional native parts', async () => {
  await seed([vm('standalone')]);
  trustHost(hostLine());
  const alone = path.join(tempDir(), EXE);
  fs.copyFileSync(path.join(DIST, EXE), alone);
  fs.copyFileSync(path.join(DIST, 'kubectl-vm'), path.join(path.dirname(alone), 'kubectl-vm'));
  const o = await run(alone, ['standalone', '-n', NS, '--ssh-key', sshd.key, '--start-istio-proxy'], { env: cluster.env, cwd: path.dirname(alone) });
  assert.is(o.code, 0, o.stderr);
  assert.is(dockerCalls().length, 2);
  // ssh2 ships once, in the router's bundle (initialised only by the commands that talk SSH, on first use).
  assert.ok(fs.readFileSync(path.join(DIST, 'kubectl-vm'), 'utf8').includes('ssh-userauth'), 'the router carries ssh2');
  for (const exe of fs.readdirSync(DIST).filter((f) => f.startsWith('kubectl-vm-'))) {
    assert.not.ok(fs.readFileSync(path.join(DIST, exe), 'utf8').includes('ssh-userauth'), `${exe} does not carry ssh2`);
  }
});

test('--runtime systemd: the same layout as onboard (token kept for reboots, drop-in), sidecar.env for istio-start.sh, one restart', async () => {
  const rooted = await startSshd({ root: true });
  try {
    rooted.setPackage('istio-sidecar', true);
    await seed([workloadEntry(NS, 'sysd-vm', '127.0.0.1', 'vm-sa', { 'ssh-port': String(rooted.port), 'ssh-user': rooted.user })]);
    trustHost(`[127.0.0.1]:${rooted.port} ${rooted.hostPublicKey}`);
    const o = await bootstrap(['sysd-vm', '--runtime', 'systemd', '--start-istio-proxy', '--ssh-key', rooted.key]);
    assert.is(o.code, 0, o.stderr);
    assert.match(o.stdout, /copied \(systemd layout\), istio restarted/);
    const at = (p: string) => path.join(rooted.root, p);
    const token = fs.readFileSync(at('var/run/secrets/tokens/istio-token'), 'utf8');
    assert.is(fs.readFileSync(at('var/lib/kubectl-vm/istio-token'), 'utf8'), token);
    assert.is(mode(at('var/lib/kubectl-vm/istio-token')), 0o600);
    assert.is(mode(at('var/run/secrets/tokens')), 0o700);
    assert.match(fs.readFileSync(at('etc/certs/root-cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    const env = fs.readFileSync(at('var/lib/istio/envoy/sidecar.env'), 'utf8');
    assert.match(env, /^PROV_CERT=\/etc\/certs$/m);
    assert.match(env, /^POD_NAME=sysd-vm$/m);
    assert.ok(fs.existsSync(at('etc/systemd/system/istio.service.d/10-kubectl-vm.conf')));
    assert.equal(rooted.calls().filter((c) => c.startsWith('systemctl')), ['systemctl daemon-reload', 'systemctl enable istio', 'systemctl restart istio']);
    // A reboot: /var/run emptied, the unit's start path restores the token.
    fs.rmSync(at('var/run'), { recursive: true });
    fs.rmSync(at('run'), { recursive: true, force: true });
    const start = await run(path.join(rooted.dir, 'bin', 'systemctl'), ['start', 'istio'], { env: { PATH: '/usr/bin:/bin', ROOT: rooted.root } });
    assert.is(start.code, 0, start.stderr);
    assert.is(fs.readFileSync(at('var/run/secrets/tokens/istio-token'), 'utf8'), token);
  } finally {
    await rooted.close();
  }
});

test('a mesh with only istio-eastwestgateway (no meshNetworks, no ingress gateway) works; --gateway-service names another', async () => {
  const seedGw = (name: string, ip: string) => cluster.server!.seed([{ ...eastwestService('istio-system', [15021, 15443, 15012], ip), metadata: { name, namespace: 'istio-system', labels: { 'topology.istio.io/network': 'other-net' } } } as never]);
  assert.is((await cluster.kubectl(['delete', 'service', 'istio-ingressgateway', '-n', 'istio-system'])).code, 0);
  seedGw('istio-eastwestgateway', '192.0.2.77');
  await seed([vm('ew-only')]);
  trustHost(hostLine());
  const dry = await bootstrap(['ew-only', '--start-istio-proxy', '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /--add-host istiod\.istio-system\.svc:192\.0\.2\.77 /);
  seedGw('my-gw', '192.0.2.88');
  const named = await bootstrap(['ew-only', '--start-istio-proxy', '--dry-run', '--gateway-service', 'istio-system/my-gw']);
  assert.is(named.code, 0, named.stderr);
  assert.match(named.stdout, /--add-host istiod\.istio-system\.svc:192\.0\.2\.88 /);
  const none = await bootstrap(['ew-only', '--dry-run', '--gateway-service', 'istio-system/nope']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^error: no gateway found for the VMs/m);
  assert.match(none.stderr, /^  1\. --gateway-service: service istio-system\/nope does not exist$/m);
});

test.run();
