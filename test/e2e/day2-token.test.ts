// token rotate and token revoke against real OpenSSH servers (test/helpers/sshd.ts, fakes on a temp root) and the
// test API server — or, with KUBECTL_VM_E2E_KUBECONFIG, a real cluster: one VM, a fleet of three with one
// unreachable, re-runs, --dry-run, --output-dir/--confirm, and TokenReview of the old and new tokens (the API
// server caches a success for 10 s: the test server's clock steps past it, a real one is polled).
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { suiteNeeding } from '../helpers/skip.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { seedOnboardedVm, trustSshd, type SeededVm } from '../helpers/day2.ts';
import { freePort, SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { runPlugin } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suiteNeeding('token rotate and revoke', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
let cluster: Cluster;
let sshds: Sshd[] = [];
let clockOffset = 0;
let ns = '';

const mode = (f: string) => fs.statSync(f).mode & 0o777;
const tokenOn = (vm: SeededVm, p: string) => fs.readFileSync(path.join(vm.sshd!.root, p), 'utf8');

function vmCli(exe: string, args: string[]) {
  return runPlugin(exe, [...args, '-n', ns], cluster.env);
}
const rotate = (...args: string[]) => vmCli('kubectl-vm-token-rotate', args);
const revoke = (...args: string[]) => vmCli('kubectl-vm-token-revoke', args);

async function review(token: string): Promise<{ authenticated?: boolean; error?: string }> {
  const r = await cluster.kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['istio-ca'] } }));
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).status;
}

/** The token fails TokenReview once the API server's 10 s success cache is past. */
async function expectInvalid(token: string, what: string) {
  if (cluster.server) clockOffset += 11_000;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await review(token);
    if (!s.authenticated) {
      assert.match(s.error ?? '', /invalid/, what);
      return;
    }
    if (Date.now() > deadline) assert.unreachable(`${what}: still authenticated after 20 s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function record(vm: string): Promise<Record<string, any>> {
  return JSON.parse((await cluster.kubectl(['get', 'secret', vm, '-n', ns, '-o', 'json'])).stdout);
}
async function bindings(vm: string): Promise<string[]> {
  const r = await cluster.kubectl(['get', 'secrets', '-n', ns, '-l', `kubectl-vm.io/vm=${vm},kubectl-vm.io/generation`, '-o', 'jsonpath={.items[*].metadata.name}']);
  return r.stdout.split(' ').filter(Boolean).sort();
}
const tokenRequests = () => cluster.server?.requests.filter((r) => r.path.endsWith('/token')).length ?? 0;


let web1: SeededVm, web2: SeededVm, web3: SeededVm;

test.before(async () => {
  cluster = await startCluster({ now: () => new Date(Date.now() + clockOffset) });
  ns = await cluster.namespace('kvm-token');
  const sa = await cluster.kubectl(['create', 'serviceaccount', 'web-sa', '-n', ns]);
  if (sa.code !== 0) throw new Error(sa.stderr);
  sshds = [await startSshd({ root: true }), await startSshd({ root: true })];
  trustSshd(cluster.home, sshds[0]!, 'id_ed25519');
  trustSshd(cluster.home, sshds[1]!, 'id_ecdsa');
  web1 = await seedOnboardedVm(cluster, ns, 'web-1', sshds[0]!);
  web2 = await seedOnboardedVm(cluster, ns, 'web-2', sshds[1]!);
  web3 = await seedOnboardedVm(cluster, ns, 'web-3', { deadPort: await freePort() });
});
test.after(async () => {
  for (const s of sshds) await s.close();
  await cluster?.close();
});

test('--dry-run: says what it would mint and write; no token minted, no connection, nothing written', async () => {
  cluster.server?.clearRequests();
  const before = await record('web-1');
  const o = await rotate('web-1', 'web-3', '--dry-run');
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, new RegExp(`^${ns}\\s+web-1\\s+would rotate\\s+would mint web-1-token-2 \\(valid 24h\\) and write it over SSH to ${web1.sshTarget.replace(/\./g, '\\.')}: /var/lib/kubectl-vm/istio-token, /var/run/secrets/tokens/istio-token; then delete the older bindings$`, 'm'));
  assert.is(tokenRequests(), 0);
  if (cluster.server) assert.ok(cluster.server.requests.every((r) => r.method === 'GET'));
  assert.equal(sshds[0]!.calls(), [], 'no command ran on the VM');
  assert.not.match(sshds[0]!.log(), /Accepted publickey/, 'no SSH login');
  assert.equal((await record('web-1')).metadata.annotations, before.metadata.annotations);
});

test('one VM: the new token replaces both copies atomically (owner and mode kept), the record moves on, the old token dies', async () => {
  assert.ok((await review(web1.token)).authenticated, 'the old token works before (and its success is now cached)');
  const persistent = path.join(web1.sshd!.root, 'var/lib/kubectl-vm/istio-token');
  const agent = path.join(web1.sshd!.root, 'var/run/secrets/tokens/istio-token');
  const ownerBefore = [fs.statSync(persistent).uid, fs.statSync(agent).uid];
  const o = await rotate('web-1');
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, new RegExp(`^${ns}\\s+web-1\\s+rotated\\s+web-1-token-2 delivered to ${web1.sshTarget.replace(/\./g, '\\.')}, expires \\S+; deleted web-1-token-1$`, 'm'));
  const fresh = tokenOn(web1, 'var/lib/kubectl-vm/istio-token');
  assert.is.not(fresh, web1.token);
  assert.is(tokenOn(web1, 'var/run/secrets/tokens/istio-token'), fresh, 'the agent reads the same new token');
  assert.equal([mode(persistent), mode(agent)], [0o600, 0o600]);
  assert.equal([fs.statSync(persistent).uid, fs.statSync(agent).uid], ownerBefore);
  assert.equal(fs.readdirSync(path.dirname(agent)), ['istio-token'], 'no temporary file left');
  assert.not.match(o.stdout + o.stderr, /eyJ/, 'no token printed');
  const manifest = JSON.parse(fs.readFileSync(path.join(web1.sshd!.root, 'var/lib/kubectl-vm/manifest.json'), 'utf8'));
  const digest = (await import('node:crypto')).createHash('sha256').update(fresh).digest('hex');
  assert.ok(manifest.files.filter((f: any) => f.path.endsWith('istio-token')).every((f: any) => f.sha256 === digest), 'the manifest knows the new token');
  const rec = await record('web-1');
  assert.is(rec.metadata.annotations['kubectl-vm.io/token-generation'], '2');
  assert.equal(await bindings('web-1'), ['web-1-token-2']);
  assert.ok((await review(fresh)).authenticated, 'the new token works');
  await expectInvalid(web1.token, 'the old token');
  web1.token = fresh;
});

test('a fleet of three, one unreachable: two rotated, the third keeps its token and binding, exit 1; -o json', async () => {
  const o = await rotate('--all', '-o', 'json', '--ssh-connect-timeout', '3s');
  assert.is(o.code, 1);
  const list = JSON.parse(o.stdout);
  assert.is(list.kind, 'VMResultList');
  assert.equal(list.metadata, { command: 'token rotate', dryRun: false });
  assert.equal(list.items.map((i: any) => [i.name, i.result]), [['web-1', 'rotated'], ['web-2', 'rotated'], ['web-3', 'failed']]);
  assert.match(list.items[2].message, /^cannot connect to root@127\.0\.0\.1:\d+: connection refused$/);
  assert.equal(list.summary, { rotated: 2, failed: 1 });
  assert.equal(await bindings('web-3'), ['web-3-token-1'], 'the new binding of the unreachable VM was deleted again');
  assert.is((await record('web-3')).metadata.annotations['kubectl-vm.io/token-generation'], '1');
  assert.ok((await review(web3.token)).authenticated, 'its old token still works');
  assert.equal(await bindings('web-2'), ['web-2-token-2']);
  await expectInvalid(web2.token, "web-2's old token");
});

test('a re-run with --before chooses only tokens about to expire; the table says why the others were skipped', async () => {
  const o = await rotate('web-1', 'web-2', '--before', '30m');
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^\S+\s+web-1\s+skipped\s+token expires in 2[34]h, after --before 30m$/m);
  assert.is((await record('web-1')).metadata.annotations['kubectl-vm.io/token-generation'], '3');
});

test('--output-dir writes the token locally (0600) and keeps the old one valid until --confirm', async () => {
  const dir = path.join(tempDir(), 'tokens');
  const o = await rotate('web-3', '--output-dir', dir);
  assert.is(o.code, 0, o.stderr);
  const file = path.join(dir, 'web-3', 'istio-token');
  assert.is(mode(file), 0o600);
  assert.match(o.stderr, /--confirm/);
  assert.equal(await bindings('web-3'), ['web-3-token-1', 'web-3-token-2']);
  assert.ok((await review(web3.token)).authenticated, 'the old token is kept until --confirm');
  const c = await rotate('--confirm', 'web-3');
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /web-3\s+confirmed\s+deleted web-3-token-1: only generation 2 is valid/);
  assert.equal(await bindings('web-3'), ['web-3-token-2']);
  await expectInvalid(web3.token, "web-3's old token");
  assert.ok((await review(fs.readFileSync(file, 'utf8'))).authenticated);
  const again = await rotate('--confirm', 'web-3');
  assert.match(again.stdout, /web-3\s+unchanged\s+only generation 2 is valid/);
});

test('revoke: deletes the bindings, marks the record, touches no VM; a re-run is unchanged; rotate skips it in a fleet', async () => {
  const calls = sshds[0]!.calls().length;
  const dry = await revoke('web-1', '--dry-run');
  assert.match(dry.stdout, /web-1\s+would revoke\s+would delete web-1-token-3/);
  assert.equal(await bindings('web-1'), ['web-1-token-3']);
  const o = await revoke('web-1');
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /web-1\s+revoked\s+deleted web-1-token-3/);
  assert.match(o.stderr, /each proxy keeps its current workload certificate until it expires/);
  assert.equal(await bindings('web-1'), []);
  assert.match((await record('web-1')).metadata.annotations['kubectl-vm.io/revoked-at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await expectInvalid(tokenOn(web1, 'var/lib/kubectl-vm/istio-token'), 'the revoked token');
  assert.is(sshds[0]!.calls().length, calls, 'revoke does not touch the VM');
  const again = await revoke('web-1', '-o', 'json');
  assert.is(JSON.parse(again.stdout).items[0].result, 'unchanged');
  const fleet = await rotate('--all', '--dry-run');
  assert.match(fleet.stdout, /web-1\s+skipped\s+revoked at \S+; name it to give it a token again/);
  const missing = await revoke('nosuch');
  assert.is(missing.code, 1);
  assert.match(missing.stdout, /nosuch\s+failed\s+no kubectl-vm record of nosuch/);
  const usage = await revoke();
  assert.is(usage.code, 64);
});

test.run();
