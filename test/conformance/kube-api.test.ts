// Replays the session recorded against a real kube-apiserver v1.26.1 (test/fixtures/kube-api) against the test
// API server, in the same order, and compares every response. Only values that differ by nature are
// normalised: uids, timestamps, resource versions, allocated cluster IPs and the token's signature.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { decodeClaims } from '../apiserver/token.ts';
import { ROOT } from '../helpers/run.ts';
import { apiClient } from '../helpers/api.ts';

type Obj = Record<string, any>;
const FIXTURES = path.join(ROOT, 'test/fixtures/kube-api');
const fixture = (prefix: string): { status: number; body: Obj } => {
  // A number names one recorded answer: two files under one number would make the lookup pick either.
  const files = fs.readdirSync(FIXTURES).filter((f) => f.startsWith(`${prefix}-`));
  if (files.length !== 1) throw new Error(`fixture ${prefix}: expected one file, found ${files.length} (${files.join(', ')})`);
  const file = files[0];
  return { status: Number(/\.(\d{3})\.json$/.exec(file)![1]), body: JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) };
};

let server: TestApiServer;
let call: ReturnType<typeof apiClient>;


/** Values that differ between any two clusters. */
function normalise(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => normalise(x, key));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Obj)
        .filter(([k]) => k !== 'storageVersionHash')
        .map(([k, x]) => [k, normalise(x, k)]),
    );
  }
  if (typeof v !== 'string') return v;
  if (['uid', 'resourceVersion', 'creationTimestamp', 'time', 'expirationTimestamp', 'deletionTimestamp'].includes(key)) return `<${key}>`;
  if (key === 'clusterIP' || key === 'clusterIPs') return '<clusterIP>';
  if (key === 'token') return '<token>';
  return v;
}

function same(actual: { status: number; body: Obj }, prefix: string): void {
  const expected = fixture(prefix);
  assert.is(actual.status, expected.status, `${prefix}: HTTP status`);
  assert.equal(normalise(actual.body), normalise(expected.body), `${prefix}: body`);
}

const test = suite('test API server answers as kube-apiserver v1.26.1 did (test/fixtures/kube-api)');

test('every recorded answer has a number of its own', () => {
  const numbers = fs.readdirSync(FIXTURES).map((f) => /^(\d+)-/.exec(f)?.[1]).filter((n): n is string => n !== undefined);
  const twice = numbers.filter((n, i) => numbers.indexOf(n) !== i);
  assert.equal(twice, [], `fixture numbers used twice: ${twice.join(', ')}`);
});

test.before(async () => {
  call = apiClient((server = await TestApiServer.start()));
});
test.after(async () => {
  await server.close();
});

test('01–04 discovery', async () => {
  const api = await call('GET', '/api');
  assert.equal({ ...api.body, serverAddressByClientCIDRs: undefined }, { ...fixture('01').body, serverAddressByClientCIDRs: undefined });
  const apis = await call('GET', '/apis');
  const istio = (b: Obj) => b.groups.find((g: Obj) => g.name === 'networking.istio.io');
  assert.equal(istio(apis.body), istio(fixture('02').body));
  const core = await call('GET', '/api/v1');
  const served = core.body.resources.map((r: Obj) => r.name);
  const real = normalise(fixture('03').body.resources) as Obj[];
  for (const name of ['configmaps', 'endpoints', 'namespaces', 'namespaces/status', 'secrets', 'serviceaccounts', 'serviceaccounts/token', 'services', 'services/status']) {
    assert.ok(served.includes(name), `serves ${name}`);
    assert.equal(normalise(core.body.resources.find((r: Obj) => r.name === name)), real.find((r) => r.name === name), name);
  }
  // The order of resources in a discovery list carries no meaning (the real one follows CRD registration).
  const byName = (b: Obj) => ({ ...b, resources: [...b.resources].sort((x: Obj, y: Obj) => (x.name < y.name ? -1 : 1)) });
  const istioV1 = await call('GET', '/apis/networking.istio.io/v1');
  assert.is(istioV1.status, 200);
  assert.equal(normalise(byName(istioV1.body)), normalise(byName(fixture('04').body)));
});

test('05–07 missing namespaces; 06 namespace create', async () => {
  same(await call('GET', '/api/v1/namespaces/nope'), '05');
  same(await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cap' } }), '06');
  same(await call('POST', '/api/v1/namespaces/nope/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'vmhttp' }, spec: { ports: [{ name: 'http-8888', port: 8888 }] } }), '07');
});

const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'vmhttp', labels: { app: 'vmhttp' } }, spec: { ports: [{ name: 'http-8888', port: 8888 }] } };

test('08–10 Service create with defaults and field ownership, AlreadyExists, stale resourceVersion', async () => {
  const created = await call('POST', '/api/v1/namespaces/cap/services', svc);
  same(created, '08');
  assert.match(created.body.spec.clusterIP, /^10\.96\./);
  same(await call('POST', '/api/v1/namespaces/cap/services', svc), '09');
  same(await call('PUT', '/api/v1/namespaces/cap/services/vmhttp', { ...created.body, metadata: { ...created.body.metadata, resourceVersion: '1' } }), '10');
});

test('11–13 Service validation: name, port range, cluster IP range (dry run)', async () => {
  same(await call('POST', '/api/v1/namespaces/cap/services', { ...svc, metadata: { name: 'Bad_Name' } }), '11');
  same(await call('POST', '/api/v1/namespaces/cap/services', { ...svc, metadata: { name: 'badport' }, spec: { ports: [{ port: 70000 }] } }), '12');
  same(await call('POST', '/api/v1/namespaces/cap/services?dryRun=All', { ...svc, metadata: { name: 'probe' }, spec: { clusterIP: '1.1.1.1', ports: [{ port: 80 }] } }), '13');
});

const se = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name: 'mesh-expansion-vmhttp' },
  spec: {
    hosts: ['vmhttp.cap.svc.cluster.local'],
    ports: [{ name: 'http-8888', number: 8888, protocol: 'HTTP' }],
    endpoints: [{ address: '10.0.0.5', labels: { app: 'vmhttp' }, serviceAccount: 'default' }],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
  },
};

test('14–16 ServiceEntry: schema error, create through v1, read through v1alpha3', async () => {
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/cap/serviceentries', { ...se, metadata: { name: 'bad' }, spec: { resolution: 'STATIC' } }), '14');
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/cap/serviceentries', se), '15');
  same(await call('GET', '/apis/networking.istio.io/v1alpha3/namespaces/cap/serviceentries/mesh-expansion-vmhttp'), '16');
});

test('17–19 server-side apply: create, conflict with another manager, force', async () => {
  const cm = (a: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1' }, data: { a } });
  same(await call('PATCH', '/api/v1/namespaces/cap/configmaps/cm1?fieldManager=kubectl-vm', cm('1'), 'application/apply-patch+yaml'), '17');
  same(await call('PATCH', '/api/v1/namespaces/cap/configmaps/cm1?fieldManager=someone-else', cm('2'), 'application/apply-patch+yaml'), '18');
  same(await call('PATCH', '/api/v1/namespaces/cap/configmaps/cm1?fieldManager=someone-else&force=true', cm('2'), 'application/apply-patch+yaml'), '19');
});

test('20–23 ServiceAccount and TokenRequest', async () => {
  same(await call('POST', '/api/v1/namespaces/cap/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm-sa' } }), '20');
  const tr = (seconds: number) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['istio-ca'], expirationSeconds: seconds } });
  const token = await call('POST', '/api/v1/namespaces/cap/serviceaccounts/vm-sa/token', tr(3600));
  same(token, '21');
  const claims = decodeClaims(token.body.status.token);
  const real = decodeClaims(fixture('21').body.status.token.replace('<signature-removed>', 'x'));
  assert.equal(Object.keys(claims).sort(), Object.keys(real).sort());
  assert.equal(claims.aud, ['istio-ca']);
  assert.is(claims.sub, 'system:serviceaccount:cap:vm-sa');
  assert.is(claims.exp - claims.iat, 3600);
  assert.is(claims['kubernetes.io'].serviceaccount.name, 'vm-sa');
  same(await call('POST', '/api/v1/namespaces/cap/serviceaccounts/nope/token', tr(3600)), '22');
  same(await call('POST', '/api/v1/namespaces/cap/serviceaccounts/vm-sa/token', tr(60)), '23');
});

test('24–25 list with a label selector; EndpointSlice create', async () => {
  same(await call('GET', '/api/v1/namespaces/cap/services?labelSelector=app%3Dvmhttp'), '24');
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'vmhttp-kvm', labels: { 'endpointslice.kubernetes.io/managed-by': 'kubectl-vm', 'kubernetes.io/service-name': 'vmhttp' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.5'] }],
    ports: [{ name: 'http-8888', port: 8888 }],
  };
  same(await call('POST', '/apis/discovery.k8s.io/v1/namespaces/cap/endpointslices', slice), '25');
});

test('26–28 deletes: a Service returns itself, then 404; a custom resource returns a Status', async () => {
  same(await call('DELETE', '/api/v1/namespaces/cap/services/vmhttp'), '26');
  same(await call('DELETE', '/api/v1/namespaces/cap/services/vmhttp'), '27');
  same(await call('DELETE', '/apis/networking.istio.io/v1/namespaces/cap/serviceentries/mesh-expansion-vmhttp'), '28');
});

test('29–30 a dry-run create stores nothing', async () => {
  same(await call('POST', '/api/v1/namespaces/cap/configmaps?dryRun=All', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' }, data: { x: 'y' } }), '29');
  same(await call('GET', '/api/v1/namespaces/cap/configmaps/dry'), '30');
});

test('31–34 patch errors, CEL rules of WorkloadEntry and WorkloadGroup', async () => {
  same(await call('PATCH', '/api/v1/namespaces/cap/services/badport/status', { status: {} }, 'application/merge-patch+json'), '31');
  await call('POST', '/apis/networking.istio.io/v1/namespaces/cap/serviceentries', se);
  same(await call('PATCH', '/apis/networking.istio.io/v1/namespaces/cap/serviceentries/mesh-expansion-vmhttp', { spec: {} }, 'application/strategic-merge-patch+json'), '32');
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/cap/workloadentries', { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'we1' }, spec: { ports: { http: 8080 } } }), '33');
  same(
    await call('POST', '/apis/networking.istio.io/v1/namespaces/cap/workloadgroups', { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'wg1' }, spec: { template: { ports: { http: 70000 } } } }),
    '34',
  );
});

test('35–39 a namespace delete: Terminating at once, no new content (403), deleting again changes nothing, gone later', async () => {
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'term' } });
  await call('POST', '/api/v1/namespaces/term/configmaps', cm('x'));
  same(await call('DELETE', '/api/v1/namespaces/term'), '35');
  same(await call('GET', '/api/v1/namespaces/term'), '36');
  same(await call('POST', '/api/v1/namespaces/term/configmaps', cm('y')), '37');
  same(await call('DELETE', '/api/v1/namespaces/term'), '38');
  let last = await call('GET', '/api/v1/namespaces/term');
  for (const end = Date.now() + 10_000; last.status !== 404 && Date.now() < end; last = await call('GET', '/api/v1/namespaces/term')) await new Promise((r) => setTimeout(r, 20));
  same(last, '39');
});

test('40–46 validation: Endpoints subsets need addresses (ports may be left out); a body\'s apiVersion must match in group and version', async () => {
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'val' } });
  const ep = (subsets: unknown) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'vmhttp' }, subsets });
  same(await call('POST', '/api/v1/namespaces/val/endpoints', ep([{}])), '40');
  same(await call('POST', '/api/v1/namespaces/val/endpoints', ep([{ addresses: [{ ip: '10.0.0.5' }] }])), '41');
  same(await call('POST', '/api/v1/namespaces/val/endpoints', ep([{ ports: [{ name: 'http', port: 8080 }] }])), '42');
  const svc = (apiVersion: string) => ({ apiVersion, kind: 'Service', metadata: { name: 'vmhttp' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  same(await call('POST', '/api/v1/namespaces/val/services', svc('v2')), '43');
  same(await call('POST', '/api/v1/namespaces/val/services', svc('apps/v1')), '44');
  const se = (apiVersion: string) => ({ apiVersion, kind: 'ServiceEntry', metadata: { name: 'se1' }, spec: { hosts: ['a.example'], ports: [{ name: 'http', number: 80, protocol: 'HTTP' }], resolution: 'DNS' } });
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/val/serviceentries', se('networking.istio.io/v1beta1')), '45');
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/val/serviceentries', se('security.istio.io/v1')), '46');
});

test.run();
