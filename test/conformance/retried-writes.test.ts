// What a real kube-apiserver v1.26.1 answers to a write that is sent again after the first one committed and its
// answer was lost (test/fixtures/kube-api 80–90): a retried POST gets 409 AlreadyExists, a retried PUT 409 Conflict
// (its resourceVersion is stale now), a retried DELETE 404, and a DELETE whose uid or resourceVersion precondition
// no longer holds 409 Conflict. The test API server must answer the same, and its drop-after-commit fault must
// really commit before it drops the connection.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { ROOT } from '../helpers/run.ts';
import { apiClient } from '../helpers/api.ts';

type Obj = Record<string, any>;
const FIXTURES = path.join(ROOT, 'test/fixtures/kube-api');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function fixture(prefix: string): { status: number; body: Obj } {
  const file = fs.readdirSync(FIXTURES).find((f) => f.startsWith(`${prefix}-`))!;
  return { status: Number(/\.(\d{3})\.json$/.exec(file)![1]), body: JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) };
}

/** uids and resource versions differ between any two servers, also inside messages. */
const normalise = (body: Obj): Obj => JSON.parse(JSON.stringify(body).replace(UUID, '<uid>').replace(/\((\d+)\)/g, '(<rv>)'));

function same(actual: { status: number; body: Obj }, prefix: string): void {
  const expected = fixture(prefix);
  assert.is(actual.status, expected.status, `${prefix}: HTTP status`);
  assert.equal(normalise(actual.body), normalise(expected.body), `${prefix}: body`);
}

const test = suite('retried writes answer as kube-apiserver v1.26.1 did (test/fixtures/kube-api 80–90)');
let server: TestApiServer;
let call: ReturnType<typeof apiClient>;

test.before(async () => {
  call = apiClient((server = await TestApiServer.start()));
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cap' } });
});
test.after(async () => {
  await server.close();
});

const SE = '/apis/networking.istio.io/v1/namespaces/cap/serviceentries';
const se = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'mesh-expansion-vmhttp', labels: { 'app.kubernetes.io/managed-by': 'kubectl-vm' } },
  spec: { hosts: ['vmhttp.cap.svc.cluster.local'], ports: [{ number: 8080, protocol: 'HTTP', name: 'http-8080' }], endpoints: [{ address: '10.0.0.1' }], resolution: 'STATIC', location: 'MESH_INTERNAL' },
};
const uidOnly = (uid: string) => ({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } });

test('80–83 a custom resource: retried create, update and delete; a delete with the uid of a re-created object', async () => {
  const created = await call('POST', `${SE}?fieldManager=kubectl-vm`, se);
  same(await call('POST', `${SE}?fieldManager=kubectl-vm`, se), '80');
  const next = { ...created.body, spec: { ...created.body.spec, ports: [{ number: 9090, protocol: 'HTTP', name: 'http-9090' }] } };
  assert.is((await call('PUT', `${SE}/mesh-expansion-vmhttp?fieldManager=kubectl-vm`, next)).status, 200);
  same(await call('PUT', `${SE}/mesh-expansion-vmhttp?fieldManager=kubectl-vm`, next), '81');
  assert.is((await call('DELETE', `${SE}/mesh-expansion-vmhttp`, uidOnly(created.body.metadata.uid))).status, 200);
  same(await call('DELETE', `${SE}/mesh-expansion-vmhttp`, uidOnly(created.body.metadata.uid)), '82');
  await call('POST', `${SE}?fieldManager=kubectl-vm`, se);
  same(await call('DELETE', `${SE}/mesh-expansion-vmhttp`, uidOnly(created.body.metadata.uid)), '83');
});

test('84–88 core and discovery objects: retried create, update and delete (with preconditions)', async () => {
  const CM = '/api/v1/namespaces/cap/configmaps';
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubectl-vm-global-addresses' }, data: { '127.255.0.1': 'a.b.global' } };
  const cmc = await call('POST', `${CM}?fieldManager=kubectl-vm`, cm);
  same(await call('POST', `${CM}?fieldManager=kubectl-vm`, cm), '84');
  const next = { ...cmc.body, data: { ...cmc.body.data, '127.255.0.2': 'c.d.global' } };
  await call('PUT', `${CM}/kubectl-vm-global-addresses?fieldManager=kubectl-vm`, next);
  same(await call('PUT', `${CM}/kubectl-vm-global-addresses?fieldManager=kubectl-vm`, next), '85');
  const ES = '/apis/discovery.k8s.io/v1/namespaces/cap/endpointslices';
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-kubectl-vm-ipv4', labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'kubectl-vm' } },
    addressType: 'IPv4',
    ports: [{ name: 'mysql', port: 3306, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.0.0.2'] }],
  };
  const sc = await call('POST', `${ES}?fieldManager=kubectl-vm`, slice);
  same(await call('POST', `${ES}?fieldManager=kubectl-vm`, slice), '86');
  const both = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: sc.body.metadata.uid, resourceVersion: sc.body.metadata.resourceVersion } };
  await call('DELETE', `${ES}/db-kubectl-vm-ipv4`, both);
  same(await call('DELETE', `${ES}/db-kubectl-vm-ipv4`, both), '87');
  const SV = '/api/v1/namespaces/cap/services';
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'vmhttp' }, spec: { ports: [{ name: 'http-8080', port: 8080 }] } };
  const svcc = await call('POST', `${SV}?fieldManager=kubectl-vm`, svc);
  await call('DELETE', `${SV}/vmhttp`, uidOnly(svcc.body.metadata.uid));
  same(await call('DELETE', `${SV}/vmhttp`, uidOnly(svcc.body.metadata.uid)), '88');
});

test('89–90 delete preconditions that no longer hold: another uid, a newer resourceVersion', async () => {
  const SV = '/api/v1/namespaces/cap/services';
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'again' }, spec: { ports: [{ name: 'http-8080', port: 8080 }] } };
  const first = await call('POST', SV, svc);
  await call('DELETE', `${SV}/again`);
  await call('POST', SV, svc);
  const r59 = await call('DELETE', `${SV}/again`, uidOnly(first.body.metadata.uid));
  same({ ...r59, body: { ...r59.body, message: r59.body.message.replace('"again"', '"vmhttp"'), details: { ...r59.body.details, name: 'vmhttp' } } }, '89');
  const ES = '/apis/discovery.k8s.io/v1/namespaces/cap/endpointslices';
  const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db2', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4', ports: [{ name: 'mysql', port: 3306, protocol: 'TCP' }], endpoints: [{ addresses: ['10.0.0.2'] }] };
  const sc = await call('POST', ES, slice);
  await call('PUT', `${ES}/db2`, { ...sc.body, endpoints: [{ addresses: ['10.0.0.3'] }] });
  same(await call('DELETE', `${ES}/db2`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: sc.body.metadata.uid, resourceVersion: sc.body.metadata.resourceVersion } }), '90');
});

test('the drop-after-commit fault stores the write, then closes the connection without an answer', async () => {
  const CM = '/api/v1/namespaces/cap/configmaps';
  server.inject({ method: 'POST', path: CM, dropAfterCommit: true });
  const dropped = await call('POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'committed' }, data: { a: '1' } }).then(
    () => 'answered',
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  server.clearFaults();
  assert.is(dropped, 'ECONNRESET');
  assert.is(server.requests.at(-1)!.fault, 'drop after commit');
  assert.equal((await call('GET', `${CM}/committed`)).body.data, { a: '1' }, 'the write was committed');
  // A drop before processing stores nothing.
  server.inject({ method: 'POST', path: CM, drop: true });
  await call('POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never' } }).catch(() => undefined);
  server.clearFaults();
  assert.is((await call('GET', `${CM}/never`)).status, 404);
});

test.run();
