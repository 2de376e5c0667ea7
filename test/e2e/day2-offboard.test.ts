// offboard against real OpenSSH servers (fakes acting on a temp root) and the test API server (or a real cluster
// with KUBECTL_VM_E2E_KUBECONFIG): the VM side undone exactly (proxy stopped and disabled, iptables cleaned with
// pilot-agent, the hosts block gone and the rest of /etc/hosts kept, only the manifest's files removed), the
// cluster side (bindings, record, our WorkloadEntry) and nothing else, a fleet with one unreachable VM with and
// without --force, --dry-run, re-runs, install.sh --uninstall, and onboarding again afterwards.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { suiteNeeding } from '../helpers/skip.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { addDay2Fakes, installBundle, seedOnboardedVm, trustSshd, type SeededVm } from '../helpers/day2.ts';
import { freePort, SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { run, runPlugin } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { installScript } from '../../shared/vm/install-script.ts';
import { buildWorkloadEntry } from '../helpers/vm-builders.ts';

const test = suiteNeeding('offboard', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
let cluster: Cluster;
let sshds: Sshd[] = [];
let ns = '';
let web1: SeededVm;

const offboard = (...args: string[]) => runPlugin('kubectl-vm-offboard', [...args, '-n', ns, '--ssh-connect-timeout', '3s'], cluster.env);
const exists = (s: Sshd, p: string) => fs.existsSync(path.join(s.root, p));
async function secrets(): Promise<string[]> {
  const r = await cluster.kubectl(['get', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=kubectl-vm', '-o', 'jsonpath={.items[*].metadata.name}']);
  return r.stdout.split(' ').filter(Boolean).sort();
}
async function entries(): Promise<string[]> {
  const r = await cluster.kubectl(['get', 'workloadentries', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}']);
  return r.stdout.split(' ').filter(Boolean).sort();
}


/** The VM as it is running: other /etc/hosts lines, the proxy started, a file of the user's beside ours. */
function running(s: Sshd) {
  fs.mkdirSync(path.join(s.root, 'run/fake-systemd'), { recursive: true });
  fs.writeFileSync(path.join(s.root, 'run/fake-systemd/istio.active'), '1');
  fs.writeFileSync(path.join(s.root, 'etc/certs/users-own.pem'), 'mine');
}

test.before(async () => {
  cluster = await startCluster();
  ns = await cluster.namespace('kvm-offboard');
  await cluster.kubectl(['create', 'serviceaccount', 'web-sa', '-n', ns]);
  sshds = [await startSshd({ root: true }), await startSshd({ root: true })];
  trustSshd(cluster.home, sshds[0]!, 'id_ed25519');
  trustSshd(cluster.home, sshds[1]!, 'id_ecdsa');
  for (const s of sshds) {
    addDay2Fakes(s);
    fs.mkdirSync(path.join(s.root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(s.root, 'etc/hosts'), '127.0.0.1 localhost\n10.1.2.3 db.internal\n');
  }
  web1 = await seedOnboardedVm(cluster, ns, 'web-1', sshds[0]!);
  await seedOnboardedVm(cluster, ns, 'web-2', sshds[1]!);
  await seedOnboardedVm(cluster, ns, 'web-3', { deadPort: await freePort() });
  for (const s of sshds) running(s);
  // web-1's WorkloadEntry is kubectl-vm's (made with the VM); web-2 was auto-registered by istiod.
  await cluster.kubectl(['create', '-f', '-'], JSON.stringify(buildWorkloadEntry(ns, 'web-1', '10.0.0.14', true)));
  await cluster.kubectl(['create', '-f', '-'], JSON.stringify(buildWorkloadEntry(ns, 'web-10.0.0.14', '10.0.0.15', false)));
});
test.after(async () => {
  for (const s of sshds) await s.close();
  await cluster?.close();
});

test('--dry-run: the plan per VM; no connection, nothing deleted', async () => {
  const before = await secrets();
  const o = await offboard('web-1', '--dry-run');
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, new RegExp(`^${ns}\\s+web-1\\s+would offboard\\s+would connect to ${web1.sshTarget.replace(/\./g, '\\.')} and stop the proxy \\(systemctl disable --now istio\\), clean up iptables, remove the /etc/hosts block and the files listed in /var/lib/kubectl-vm/manifest\\.json; then delete secret web-1-token-1, secret web-1, workloadentry web-1$`, 'm'));
  assert.equal(await secrets(), before);
  assert.equal(sshds[0]!.calls(), []);
  assert.not.match(sshds[0]!.log(), /Accepted publickey/);
});

test('a fleet with one unreachable VM: without --force the dead VM fails and keeps everything; the others are offboarded cleanly', async () => {
  const o = await offboard('--all');
  assert.is(o.code, 1);
  const rows = o.stdout.trim().split('\n').slice(1);
  assert.match(rows[0]!, /web-1\s+offboarded\s+VM cleaned \(istio\.service stopped and disabled; drop-in \/etc\/systemd\/system\/istio\.service\.d\/10-kubectl-vm\.conf removed; cleaned up \(pilot-agent istio-iptables --cleanup-only\); kubectl-vm's block removed from \/etc\/hosts; \d+ removed, and the manifest\); deleted record, 1 binding, workloadentry$/);
  assert.match(rows[1]!, /web-2\s+offboarded\s+VM cleaned .*; deleted record, 1 binding$/);
  assert.match(rows[2]!, /web-3\s+failed\s+cannot connect to root@127\.0\.0\.1:\d+: connection refused; nothing was changed in the cluster$/);
  assert.match(o.stderr, /hint: \S+\/web-3: /);
  // The VM side: exactly what onboarding placed is gone; the rest stays.
  const s = sshds[0]!;
  for (const p of ['etc/certs/root-cert.pem', 'var/lib/istio/envoy/cluster.env', 'etc/istio/config/mesh', 'var/lib/kubectl-vm', 'var/run/secrets/tokens/istio-token', 'etc/systemd/system/istio.service.d/10-kubectl-vm.conf']) assert.not.ok(exists(s, p), p);
  assert.ok(exists(s, 'etc/certs/users-own.pem'), "the user's own file stays");
  assert.is(fs.readFileSync(path.join(s.root, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n10.1.2.3 db.internal\n');
  assert.ok(exists(s, 'run/fake-iptables-cleaned'));
  assert.ok(s.calls().includes('systemctl disable --now istio'));
  assert.ok(s.calls().includes('pilot-agent istio-iptables --cleanup-only'));
  assert.not.ok(exists(s, 'run/fake-systemd/istio.active'));
  // The cluster side: only web-3's objects are left, and istiod's auto-registered entry.
  assert.equal(await secrets(), ['web-3', 'web-3-token-1']);
  assert.equal(await entries(), ['web-10.0.0.14'], "istiod's entry is not ours to delete");
});

test('re-runs change nothing; --force offboards the unreachable VM on the cluster side only, and says so', async () => {
  const again = await offboard('web-1', '-o', 'json');
  assert.is(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).items.map((i: any) => [i.name, i.result]), [['web-1', 'unchanged']]);
  const forced = await offboard('web-3', '--force');
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /web-3\s+offboarded \(cluster only\)\s+VM not reached \(--force: its files stay\): cannot connect to .*; deleted record, 1 binding$/m);
  assert.equal(await secrets(), [], 'no object of ours is left');
});

test('offboard, then onboard again: the VM takes the same files back, and offboards cleanly once more', async () => {
  await cluster.kubectl(['delete', 'secret', 'web-1-token-1', '-n', ns, '--ignore-not-found']);
  const again = await seedOnboardedVm(cluster, ns, 'web-1', sshds[0]!);
  assert.ok(exists(sshds[0]!, 'var/lib/kubectl-vm/manifest.json'));
  assert.match(fs.readFileSync(path.join(sshds[0]!.root, 'etc/hosts'), 'utf8'), /# BEGIN kubectl-vm: istiod/);
  assert.ok(again.token);
  const o = await offboard('web-1');
  assert.is(o.code, 0, o.stderr);
  assert.not.ok(exists(sshds[0]!, 'var/lib/kubectl-vm/manifest.json'));
  assert.equal(await secrets(), []);
});

test('install.sh --uninstall does the VM side for a bundle copied by hand, and a second run has nothing to remove', async () => {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
  installBundle(root, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
  const script = path.join(tempDir(), 'install.sh');
  fs.writeFileSync(script, installScript(), { mode: 0o755 });
  // A fake systemctl that only logs: the machine running the tests is never asked.
  const bin = path.join(tempDir(), 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> '${bin}/calls'\n[ "$1" = is-active ] && exit 3\nexit 0\n`, { mode: 0o755 });
  const env = { ...process.env, ROOT: root, PATH: `${bin}:/usr/bin:/bin` };
  const first = await run('bash', [script, '--uninstall'], { env });
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /^hosts: kubectl-vm's block removed from \/etc\/hosts$/m);
  assert.match(first.stdout, /^proxy: drop-in \/etc\/systemd\/system\/istio\.service\.d\/10-kubectl-vm\.conf removed$/m);
  assert.match(first.stdout, /^files: 6 removed, and the manifest$/m, first.stdout);
  assert.equal(fs.readFileSync(path.join(bin, 'calls'), 'utf8').trim().split('\n'), ['systemctl is-active --quiet istio', 'systemctl disable istio', 'systemctl daemon-reload']);
  assert.match(first.stdout, /^result: removed$/m);
  assert.is(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
  assert.not.ok(fs.existsSync(path.join(root, 'var/lib/kubectl-vm')));
  const second = await run('bash', [script, '--uninstall'], { env });
  assert.match(second.stdout, /^result: nothing to remove$/m);
});

test.run();
