// onboard and the VM record against the test API server or, with KUBECTL_VM_E2E_KUBECONFIG, a real cluster:
// two VMs (two sshd) onboarded in one call, their records, tokens bound to the records' bindings, TokenReview
// before and after a record is deleted (the API server keeps a success for 10 s), and workload-entry configure
// --vm. Each scenario plays the istio namespace in a namespace of its own.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { decodeClaims } from '../apiserver/token.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { runPlugin } from '../helpers/run.ts';
import { SSHD, startSshd, type Sshd } from '../helpers/sshd.ts';
import { suiteNeeding } from '../helpers/skip.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suiteNeeding('onboard: records and bound tokens (test server or real cluster)', SSHD ? undefined : 'sshd not found (apt-get install openssh-server; .ci/run installs it)');
let cluster: Cluster;
let ns: string;
let istio: string;

const kubectl = async (args: string[], input?: string) => {
  const r = await cluster.kubectl(args, input);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const review = async (token: string) =>
  JSON.parse(await kubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['istio-ca'] } }))).status;

/** TokenReview until it fails, for at most 40 s: the API server caches a success for 10 s, and the GC takes a moment. */
async function untilInvalid(token: string): Promise<{ error?: string; authenticated?: boolean }> {
  const end = Date.now() + 40_000;
  for (;;) {
    const status = await review(token);
    if (!status.authenticated || Date.now() > end) return status;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test.before(async () => {
  cluster = await startCluster();
  ns = await cluster.namespace('kvm-onb');
  istio = await cluster.namespace('kvm-istio');
  await kubectl(['create', 'configmap', 'istio', '-n', istio, '--from-literal=mesh=defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n']);
  await kubectl(['create', 'configmap', 'istio-sidecar-injector', '-n', istio, `--from-literal=values=${JSON.stringify({ global: { tag: '1.24.0', multiCluster: { clusterName: 'c1' } } })}`]);
  await kubectl(['create', 'configmap', 'istio-ca-root-cert', '-n', ns, '--from-literal=root-cert.pem=-----BEGIN CERTIFICATE-----\nMIIBlane\n-----END CERTIFICATE-----\n']);
  await kubectl(['create', 'serviceaccount', 'vm', '-n', ns]);
  const wg = await runPlugin('kubectl-vm-workload_group-create', ['--name', 'demo', '-n', ns, '-s', 'vm', '--apply'], cluster.env);
  assert.is(wg.code, 0, wg.stderr);
});
test.after(async () => {
  await cluster?.close();
});

test('two VMs in one call: a record each, tokens bound to their bindings; deleting one record cuts off only its token', async () => {
  const a = await startSshd({ root: true });
  const b = await startSshd({ root: true, extraAuthorizedKey: fs.readFileSync(`${a.key}.pub`, 'utf8').trim() });
  const servers: Sshd[] = [a, b];
  try {
    fs.mkdirSync(path.join(cluster.home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(cluster.home, '.ssh', 'known_hosts'), servers.map((s) => `[127.0.0.1]:${s.port} ${s.hostPublicKey}\n`).join(''));
    for (const s of servers) s.setPackage('istio-sidecar', true);
    const hosts = path.join(tempDir(), 'vms.txt');
    fs.writeFileSync(hosts, `${a.user}@127.0.0.1:${a.port} name=vm-a\n${b.user}@127.0.0.1:${b.port} name=vm-b\n`);
    const o = await runPlugin('kubectl-vm-onboard', ['--hosts-file', hosts, '--group', 'demo', '-n', ns, '-i', istio, '--gateway-address', '192.0.2.10', '--ssh-key', a.key], cluster.env);
    assert.is(o.code, 0, o.stderr);
    assert.match(o.stdout, /^vm-a +\S+ +onboarded \(token vm-a-token-1\)/m);
    assert.match(o.stdout, /^vm-b +\S+ +onboarded \(token vm-b-token-1\)/m);
    const records = JSON.parse(await kubectl(['get', 'secrets', '-n', ns, '-l', 'app.kubernetes.io/managed-by=kubectl-vm,kubectl-vm.io/group=demo', '-o', 'json'])).items;
    assert.is(records.length, 2);
    for (const r of records) {
      assert.is(r.type, 'kubectl-vm.io/vm-record');
      assert.is(r.data, undefined);
      assert.is(r.metadata.annotations['kubectl-vm.io/token-generation'], '1');
    }
    const tokenOf = (s: Sshd) => fs.readFileSync(path.join(s.root, 'var/lib/kubectl-vm/istio-token'), 'utf8');
    for (const s of servers) {
      const claims = decodeClaims(tokenOf(s));
      assert.match(claims['kubernetes.io'].secret!.name, /-token-1$/);
      assert.is(claims.sub, `system:serviceaccount:${ns}:vm`);
      assert.is((await review(tokenOf(s))).authenticated, true);
    }
    // Deleting a's record: the garbage collector deletes its binding, and its token stops working.
    await kubectl(['delete', 'secret', 'vm-a', '-n', ns]);
    const gone = await untilInvalid(tokenOf(a));
    assert.not.ok(gone.authenticated);
    assert.match(gone.error ?? '', /service account token has been invalidated/);
    assert.is((await review(tokenOf(b))).authenticated, true, "the other VM's token still works");
  } finally {
    for (const s of servers) await s.close();
  }
});

test('workload-entry configure --vm: the record, a token bound to it; deleting the record invalidates it', async () => {
  const out = path.join(tempDir(), 'web-1');
  const o = await runPlugin('kubectl-vm-workload_entry-configure', ['--name', 'demo', '-n', ns, '-i', istio, '--vm', 'web-1', '--output-dir', out, '--gateway-address', '192.0.2.10'], cluster.env);
  assert.is(o.code, 0, o.stderr);
  const token = fs.readFileSync(path.join(out, 'istio-token'), 'utf8');
  assert.is(decodeClaims(token)['kubernetes.io'].secret?.name, 'web-1-token-1');
  const record = JSON.parse(await kubectl(['get', 'secret', 'web-1', '-n', ns, '-o', 'json']));
  assert.is(record.metadata.annotations['kubectl-vm.io/runtime'], 'none');
  assert.match(record.metadata.annotations['kubectl-vm.io/bundle-sha256'], /^[0-9a-f]{64}$/);
  assert.is((await review(token)).authenticated, true);
  // Again: generation 2, the first binding deleted.
  const again = await runPlugin('kubectl-vm-workload_entry-configure', ['--name', 'demo', '-n', ns, '-i', istio, '--vm', 'web-1', '--output-dir', out, '--gateway-address', '192.0.2.10'], cluster.env);
  assert.is(again.code, 0, again.stderr);
  const second = fs.readFileSync(path.join(out, 'istio-token'), 'utf8');
  assert.is(decodeClaims(second)['kubernetes.io'].secret?.name, 'web-1-token-2');
  assert.match((await untilInvalid(token)).error ?? '', /invalidated/);
  await kubectl(['delete', 'secret', 'web-1', '-n', ns]);
  assert.match((await untilInvalid(second)).error ?? '', /invalidated/);
});

test.run();
