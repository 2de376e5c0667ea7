// shared/vm: the record and its bound tokens (against the test API server), the layouts, the runtimes' commands.
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clientFor } from '../../shared/kube/connect.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { loadKubeconfig } from '../../shared/kube/kubeconfig.ts';
import { createLogger } from '../../shared/output/logger.ts';
import { noPaint } from '../../shared/output/color.ts';
import { bundleDigest, dockerLayout, placedFiles, sha256, systemdLayout } from '../../shared/vm/layout.ts';
import {
  ANNOTATIONS,
  bindingName,
  buildBinding,
  buildRecord,
  checkVmName,
  createBinding,
  deleteBindings,
  deleteRecord,
  ensureRecord,
  listBindings,
  listRecords,
  mintBoundToken,
  readRecord,
  vmNameForHost,
  type Secret,
} from '../../shared/vm/record.ts';
import { addHostsFrom, chownForProxy, dockerCommands } from '../../shared/vm/runtime/docker.ts';
import { preflightError, systemdCommands } from '../../shared/vm/runtime/systemd.ts';
import { parseSha256sum } from '../../shared/vm/deliver/types.ts';
import { TestApiServer } from '../apiserver/server.ts';
import { decodeClaims } from '../apiserver/token.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('shared/vm');

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message + ' ' + ((err as { hint?: string }).hint ?? ''), message);
    return;
  }
  assert.unreachable(`expected a rejection matching ${message}`);
}

let server: TestApiServer;
let clock = Date.parse('2026-11-29T12:00:00Z');
let kube: KubeClient;

test.before(async () => {
  server = await TestApiServer.start({ now: () => new Date(clock) });
  const home = tempDir();
  const file = server.writeKubeconfig(path.join(home, 'kubeconfig'), { namespace: 'vms' });
  const log = createLogger({ write: () => true } as never, noPaint, 0);
  kube = clientFor(loadKubeconfig({ kubeconfig: file }, { env: {}, home } as never), { dryRun: 'none', log, timeoutMs: 10_000 });
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vms' } });
  await kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'vms' } });
});
test.after(async () => {
  kube.close();
  await server.close();
});

test('buildRecord: labels, string annotations, no data; buildBinding: owned by the record', () => {
  const r = buildRecord({ vm: 'web-1', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'systemd', address: '10.0.0.5', sshTarget: 'root@10.0.0.5:22', generation: 2, tokenExpires: '2026-11-29T13:00:00Z', bundleSha256: 'ab' });
  assert.is(r.type, 'kubectl-vm.io/vm-record');
  assert.equal(r.metadata.labels, { 'app.kubernetes.io/managed-by': 'kubectl-vm', 'kubectl-vm.io/vm': 'web-1', 'kubectl-vm.io/group': 'web' });
  assert.equal(r.metadata.annotations, {
    'kubectl-vm.io/runtime': 'systemd',
    'kubectl-vm.io/service-account': 'web',
    'kubectl-vm.io/token-generation': '2',
    'kubectl-vm.io/address': '10.0.0.5',
    'kubectl-vm.io/ssh-target': 'root@10.0.0.5:22',
    'kubectl-vm.io/token-expires': '2026-11-29T13:00:00Z',
    'kubectl-vm.io/bundle-sha256': 'ab',
  });
  assert.is(r.data, undefined);
  const b = buildBinding({ ...r, metadata: { ...r.metadata, uid: 'u-1' } }, 3);
  assert.is(b.metadata.name, 'web-1-token-3');
  assert.is(b.type, 'kubectl-vm.io/vm-token-binding');
  assert.equal(b.metadata.labels, { 'app.kubernetes.io/managed-by': 'kubectl-vm', 'kubectl-vm.io/vm': 'web-1', 'kubectl-vm.io/generation': '3' });
  assert.equal(b.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Secret', name: 'web-1', uid: 'u-1', blockOwnerDeletion: false }]);
  assert.throws(() => buildBinding(r, 1), /no uid/);
});

test('VM names: checked as DNS labels; derived from hosts', () => {
  assert.is(checkVmName('web-1'), 'web-1');
  assert.throws(() => checkVmName('Web_1'), /invalid VM name "Web_1"/);
  assert.throws(() => checkVmName('a'.repeat(49)), /at most 48/);
  assert.is(vmNameForHost('10.0.0.5'), '10-0-0-5');
  assert.is(vmNameForHost('VM1.Example.com'), 'vm1-example-com');
  assert.is(vmNameForHost('::1'), '1');
});

test('ensureRecord creates, then updates only what changed; another Secret of that name is refused', async () => {
  const first = await ensureRecord(kube, { vm: 'web-1', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'systemd', address: '10.0.0.5' });
  assert.ok(first.created);
  const again = await ensureRecord(kube, { vm: 'web-1', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'systemd', address: '10.0.0.5' });
  assert.not.ok(again.created);
  assert.is(again.secret.metadata.resourceVersion, first.secret.metadata.resourceVersion, 'no write when nothing changed');
  const moved = await ensureRecord(kube, { vm: 'web-1', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'docker', address: '10.0.0.5' });
  assert.is(moved.secret.metadata.annotations?.[ANNOTATIONS.runtime], 'docker');
  await rejects(ensureRecord(kube, { vm: 'web-1', namespace: 'vms', group: 'db', serviceAccount: 'web', runtime: 'docker' }), /already recorded in WorkloadGroup web, not db/);
  await kube.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'someone', namespace: 'vms' }, data: { a: 'Yg==' } });
  await rejects(ensureRecord(kube, { vm: 'someone', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'none' }), /is not a kubectl-vm VM record/);
  const rec = await readRecord(kube, 'vms', 'web-1');
  assert.is(rec?.runtime, 'docker');
  assert.is(rec?.address, '10.0.0.5');
  assert.equal((await listRecords(kube, 'vms')).map((r) => r.vm), ['web-1']);
});

test('bound tokens: claims name the binding; deleting it invalidates the token after the 10 s cache', async () => {
  const { secret } = await ensureRecord(kube, { vm: 'web-2', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'systemd' });
  const binding = await createBinding(kube, secret, 1);
  assert.is(binding.metadata.name, bindingName('web-2', 1));
  assert.is((await createBinding(kube, secret, 1)).metadata.uid, binding.metadata.uid, 'an existing binding of ours is reused');
  const { token, expires } = await mintBoundToken(kube, binding, 'web', 3600);
  assert.is(expires, '2026-11-29T13:00:00Z');
  const claims = decodeClaims(token);
  assert.equal(claims['kubernetes.io'].secret, { name: 'web-2-token-1', uid: binding.metadata.uid });
  assert.equal(claims.aud, ['istio-ca']);
  assert.is((await kube.reviewToken(token, ['istio-ca'])).authenticated, true);
  const b2 = await createBinding(kube, secret, 2);
  assert.equal((await listBindings(kube, 'vms', 'web-2')).map((b) => b.metadata.name), ['web-2-token-1', 'web-2-token-2']);
  assert.equal(await deleteBindings(kube, 'vms', 'web-2', 2), ['web-2-token-1'], 'older generations only');
  assert.is((await kube.reviewToken(token, ['istio-ca'])).authenticated, true, 'still cached');
  clock += 10_001;
  assert.match((await kube.reviewToken(token, ['istio-ca'])).error ?? '', /service account token has been invalidated/);
  const t2 = await mintBoundToken(kube, b2, 'web', 3600);
  assert.ok(await deleteRecord(kube, 'vms', 'web-2'));
  assert.equal(await listBindings(kube, 'vms', 'web-2'), []);
  clock += 10_001;
  assert.match((await kube.reviewToken(t2.token, ['istio-ca'])).error ?? '', /invalidated/);
  await rejects(mintBoundToken(kube, { ...b2 } as Secret, 'web', 3600), /secrets "web-2-token-2" not found/);
  await rejects(mintBoundToken(kube, binding, 'nosuch', 3600), /create it: kubectl create serviceaccount nosuch -n vms|serviceaccounts "nosuch" not found/);
});

test('the owner-reference GC of the test server removes bindings with their record', async () => {
  const { secret } = await ensureRecord(kube, { vm: 'web-3', namespace: 'vms', group: 'web', serviceAccount: 'web', runtime: 'none' });
  await createBinding(kube, secret, 1);
  await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: 'web-3', namespace: 'vms' });
  assert.equal(await listBindings(kube, 'vms', 'web-3'), []);
});

test('layouts: seed 003 paths for systemd, a persistent token, a 1337-owned directory for docker', () => {
  const s = systemdLayout();
  assert.equal(s.files.map((f) => [f.path, f.source, f.mode.toString(8), f.owner]), [
    ['/etc/certs/root-cert.pem', 'root-cert.pem', '644', 'istio-proxy'],
    ['/var/lib/kubectl-vm/istio-token', 'istio-token', '600', 'root'],
    ['/var/run/secrets/tokens/istio-token', 'istio-token', '600', 'istio-proxy'],
    ['/var/lib/istio/envoy/cluster.env', 'cluster.env', '644', 'istio-proxy'],
    ['/etc/istio/config/mesh', 'mesh.yaml', '644', 'istio-proxy'],
  ]);
  assert.is(s.token.persistent, '/var/lib/kubectl-vm/istio-token');
  assert.match(s.extras.find((e) => e.path.endsWith('10-kubectl-vm.conf'))!.content, /^ExecStartPre=\/bin\/sh \/var\/lib\/kubectl-vm\/restore-token\.sh$/m);
  const d = dockerLayout('/srv/p');
  assert.ok(d.files.every((f) => f.owner === '1337' && f.path.startsWith('/srv/p/')));
  assert.equal(d.dirs.find((x) => x.path === '/srv/p'), { path: '/srv/p', owner: '1337', mode: 0o700 });
  const placed = placedFiles(s, { 'root-cert.pem': 'C', 'istio-token': 'T', 'cluster.env': 'E', 'mesh.yaml': 'M' });
  assert.is(placed.find((f) => f.path === '/var/lib/kubectl-vm/istio-token')!.sha256, sha256('T'));
  assert.is(placed.length, 7);
  const digest = bundleDigest(placed, ['1.2.3.4 istiod.istio-system.svc']);
  assert.is(digest, bundleDigest([...placed].reverse(), ['1.2.3.4 istiod.istio-system.svc']), 'order does not matter');
  assert.is.not(digest, bundleDigest(placed, ['1.2.3.5 istiod.istio-system.svc']));
});

test('runtimes: systemd unit commands and package errors; docker run, start, status', () => {
  const s = systemdCommands();
  assert.is(s.restart, 'systemctl daemon-reload && systemctl enable istio && systemctl restart istio');
  assert.is(s.status, 'systemctl is-active --quiet istio');
  assert.is(preflightError('vm1', 'ok\n'), undefined);
  const deb = preflightError('vm1', 'missing deb', '1.24.0')!;
  assert.match(deb.message, /vm1: the istio-sidecar package is not installed/);
  assert.match(deb.hint ?? '', /releases\/1\.24\.0\/deb\/istio-sidecar\.deb && sudo dpkg -i istio-sidecar\.deb/);
  assert.match(preflightError('vm1', 'missing rpm')!.hint ?? '', /rpm\/istio-sidecar\.rpm && sudo rpm -i/);
  const d = dockerCommands({ image: 'docker.io/istio/proxyv2:1.24.0', addHosts: addHostsFrom('192.0.2.10 istiod.istio-system.svc\n\n') });
  assert.match(d.restart, /^docker rm --force istio-proxy > \/dev\/null 2>&1 \|\| true; docker run -d --name istio-proxy --restart unless-stopped --network host /);
  assert.match(d.restart, / -v \/var\/lib\/kubectl-vm\/proxy\/istio-token:\/var\/run\/secrets\/tokens\/istio-token:ro /);
  assert.match(d.restart, / --add-host istiod.istio-system.svc:192.0.2.10 /);
  assert.is(chownForProxy('/tmp/istio-proxy', ['istio-token']), 'chown 1337:1337 /tmp/istio-proxy /tmp/istio-proxy/istio-token');
  assert.equal([...parseSha256sum(`${'a'.repeat(64)}  etc/x\n${'b'.repeat(64)} *y\nnoise\n`)], [['etc/x', 'a'.repeat(64)], ['y', 'b'.repeat(64)]]);
});

test.run();
