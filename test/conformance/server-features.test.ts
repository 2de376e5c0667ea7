// Semantics of the test API server beyond the recorded session: generateName, selectors, patches, server-side
// apply removing fields it no longer applies, dry-run apply, delete preconditions, fault targeting, and the
// standalone mode that the demo and acceptance checks use.
import path from 'node:path';
import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { ROOT, run } from '../helpers/run.ts';
import { apiClient } from '../helpers/api.ts';
import { tempDir } from '../helpers/tmp.ts';

type Obj = Record<string, any>;
const test = suite('test API server semantics');
let server: TestApiServer;
let call: ReturnType<typeof apiClient>;


const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });
const CMS = '/api/v1/namespaces/t/configmaps';

test.before(async () => {
  call = apiClient((server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 't' } }] })));
});
test.after(async () => {
  await server.close();
});

test('a create into a missing namespace is 404 before validation (NamespaceLifecycle admission), as fixtures 07 and 13 imply', async () => {
  const probe = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'probe' }, spec: { clusterIP: '1.1.1.1', ports: [{ port: 80 }] } };
  const missing = await call('POST', '/api/v1/namespaces/nope/services?dryRun=All', probe);
  assert.is(missing.status, 404);
  assert.equal(missing.body.details, { name: 'nope', kind: 'namespaces' });
  const here = await call('POST', '/api/v1/namespaces/t/services?dryRun=All', probe);
  assert.is(here.status, 422);
  assert.match(here.body.message, /The range of valid IPs is 10\.96\.0\.0\/16$/);
});

test('generateName picks a unique name', async () => {
  const a = await call('POST', CMS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
  const b = await call('POST', CMS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
  assert.is(a.status, 201);
  assert.match(a.body.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.is.not(a.body.metadata.name, b.body.metadata.name);
});

test('label selectors: =, !=, exists, !exists, in, notin; field selectors on metadata.name', async () => {
  await call('POST', CMS, cm('s1', { app: 'a', tier: 'web' }));
  await call('POST', CMS, cm('s2', { app: 'b' }));
  await call('POST', CMS, cm('s3', { app: 'c', tier: 'db' }));
  const names = async (q: string) => (await call('GET', `${CMS}?${q}`)).body.items.map((i: Obj) => i.metadata.name).filter((n: string) => /^s\d$/.test(n));
  assert.equal(await names('labelSelector=app%3Da'), ['s1']);
  assert.equal(await names('labelSelector=app!%3Da'), ['s2', 's3']);
  assert.equal(await names('labelSelector=tier'), ['s1', 's3']);
  assert.equal(await names('labelSelector=!tier'), ['s2']);
  assert.equal(await names('labelSelector=app%20in%20(a,c)'), ['s1', 's3']);
  assert.equal(await names('labelSelector=app%20notin%20(a,c),tier'), []);
  assert.equal(await names('fieldSelector=metadata.name%3Ds2'), ['s2']);
  assert.is((await call('GET', `${CMS}?labelSelector=a%20b%20c`)).status, 400);
});

test('merge patch and JSON patch; a stale resourceVersion is a conflict', async () => {
  await call('POST', CMS, cm('p1', {}, { a: '1', b: '2' }));
  const merged = await call('PATCH', `${CMS}/p1`, { data: { a: null, c: '3' } }, 'application/merge-patch+json');
  assert.equal(merged.body.data, { b: '2', c: '3' });
  const patched = await call('PATCH', `${CMS}/p1`, [{ op: 'replace', path: '/data/b', value: 'x' }, { op: 'add', path: '/data/d', value: '4' }], 'application/json-patch+json');
  assert.equal(patched.body.data, { b: 'x', c: '3', d: '4' });
  assert.is((await call('PATCH', `${CMS}/p1`, [{ op: 'test', path: '/data/b', value: 'nope' }], 'application/json-patch+json')).status, 422);
  assert.is((await call('PATCH', `${CMS}/p1`, { metadata: { resourceVersion: '1' }, data: { e: '5' } }, 'application/merge-patch+json')).status, 409);
  assert.is((await call('PATCH', `${CMS}/missing`, { data: {} }, 'application/merge-patch+json')).status, 404);
});

test('server-side apply removes what a manager no longer applies, keeps what others own; dry-run stores nothing', async () => {
  const apply = (manager: string, data: Record<string, string>, extra = '') => call('PATCH', `${CMS}/ssa?fieldManager=${manager}${extra}`, JSON.stringify(cm('ssa', {}, data)), 'application/apply-patch+yaml');
  assert.is((await apply('one', { a: '1', b: '2' })).status, 201);
  assert.is((await apply('two', { c: '3' })).status, 200);
  const shrunk = await apply('one', { a: '1' });
  assert.equal(shrunk.body.data, { a: '1', c: '3' });
  assert.equal(shrunk.body.metadata.managedFields.map((m: Obj) => m.manager).sort(), ['one', 'two']);
  const dry = await apply('one', { a: '9' }, '&dryRun=All');
  assert.equal(dry.body.data, { a: '9', c: '3' });
  assert.equal((await call('GET', `${CMS}/ssa`)).body.data, { a: '1', c: '3' });
  assert.is((await call('PATCH', `${CMS}/ssa`, JSON.stringify(cm('ssa')), 'application/apply-patch+yaml')).status, 400, 'apply needs a fieldManager');
});

test('delete preconditions; a deleted namespace is Terminating first, refuses new content, and is emptied later', async () => {
  const created = await call('POST', CMS, cm('d1'));
  const wrong = await call('DELETE', `${CMS}/d1`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'not-it' } });
  assert.is(wrong.status, 409);
  assert.match(wrong.body.message, /the UID in the precondition \(not-it\) does not match the UID in record /);
  assert.is((await call('DELETE', `${CMS}/d1`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: created.body.metadata.uid } })).status, 200);
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
  await call('POST', '/api/v1/namespaces/gone/configmaps', cm('x'));
  assert.is((await call('DELETE', '/api/v1/namespaces/gone')).body.status.phase, 'Terminating');
  // Not gone at once (a real namespace controller took 5.7 s): Terminating, and a create is refused with 403.
  const terminating = await call('GET', '/api/v1/namespaces/gone');
  assert.is(terminating.status, 200);
  assert.is(terminating.body.status.phase, 'Terminating');
  assert.ok(terminating.body.metadata.deletionTimestamp);
  const refused = await call('POST', '/api/v1/namespaces/gone/configmaps', cm('y'));
  assert.is(refused.status, 403);
  assert.is(refused.body.details.causes[0].reason, 'NamespaceTerminating');
  assert.is((await call('DELETE', '/api/v1/namespaces/gone')).body.metadata.deletionTimestamp, terminating.body.metadata.deletionTimestamp, 'deleting again changes nothing');
  // Then the contents and the namespace go, as a client polling for them sees.
  assert.is(await pollUntil404('/api/v1/namespaces/gone'), true, 'the namespace is gone within 10 s');
  assert.is((await call('GET', '/api/v1/namespaces/gone/configmaps/x')).status, 404);
});

/** GETs every 20 ms until the answer is 404; false after 10 s. */
async function pollUntil404(p: string): Promise<boolean> {
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if ((await call('GET', p)).status === 404) return true;
  }
  return false;
}

/** What starting a server with this seed threw; "accepted" (the server closed again) when it did not. */
async function seedRefusal(seed: Record<string, any>[]): Promise<string> {
  try {
    await (await TestApiServer.start({ seed })).close();
    return 'accepted';
  } catch (err) {
    return String(err);
  }
}

test('seed objects are validated as real writes are: a seed no real API server would store is refused', async () => {
  const bad = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'vmhttp', namespace: 'default' }, subsets: [{ ports: [{ port: 80 }] }] };
  assert.match(await seedRefusal([bad]), /seed Endpoints default\/vmhttp: a real API server would refuse it: Endpoints "vmhttp" is invalid: subsets\[0\]: Required value: must specify `addresses` or `notReadyAddresses`/);
  assert.match(await seedRefusal([{ ...bad, apiVersion: 'v2', subsets: [{ addresses: [{ ip: '10.0.0.5' }] }] }]), /does not serve Endpoints in v2/);
  assert.is(await seedRefusal([{ ...bad, subsets: [{ addresses: [{ ip: '10.0.0.5' }] }] }]), 'accepted', 'without ports it is valid (kube-api fixture 41)');
});

test('a new namespace gets a default service account and the root CA, as controllers would add them', async () => {
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
  assert.is((await call('GET', '/api/v1/namespaces/fresh/serviceaccounts/default')).status, 200);
  assert.is((await call('GET', '/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt')).status, 200);
});

test('faults hit the nth matching request, for as many times as asked, and are logged', async () => {
  server.clearRequests();
  server.inject({ method: 'GET', path: `${CMS}/s1`, nth: 2, times: 2, status: 500 });
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await call('GET', `${CMS}/s1`)).status);
  server.clearFaults();
  assert.equal(codes, [200, 500, 500, 200]);
  assert.equal(server.requests.map((r) => r.fault ?? ''), ['', 'status 500', 'status 500', '']);
});

test('Istio objects: unknown fields are pruned with a warning, or refused with fieldValidation=Strict', async () => {
  const se = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'w' }, spec: { hosts: ['a.example.com'], resolution: 'DNS', bogus: 1 } };
  const warned = await call('POST', '/apis/networking.istio.io/v1/namespaces/t/serviceentries', se);
  assert.is(warned.status, 201);
  assert.is(warned.body.spec.bogus, undefined);
  const strict = await call('POST', '/apis/networking.istio.io/v1/namespaces/t/serviceentries?fieldValidation=Strict', { ...se, metadata: { name: 'w2' } });
  assert.is(strict.status, 400);
  assert.match(strict.body.message, /unknown field "spec.bogus"/);
});

test('standalone mode prints a kubeconfig path that kubectl can use', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/apiserver/main.ts'), '--seed', path.join(ROOT, 'test/fixtures/seeds/istio-install.yaml')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const kubeconfig = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', () => reject(new Error('the test API server exited')));
    });
    const r = await run('kubectl', ['get', 'services', '-n', 'istio-system', '-o', 'name'], { env: { PATH: process.env.PATH, HOME: tempDir(), KUBECONFIG: kubeconfig } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, 'service/istio-eastwestgateway\nservice/istio-ingressgateway\nservice/istiocoredns\nservice/istiod\n');
  } finally {
    child.kill('SIGTERM');
  }
});

test.run();
