// Authentication, RBAC 403s and impersonation headers: the test API server against the answers a real
// kube-apiserver v1.26.1 gave (test/fixtures/kube-api 61–71, recorded in namespace cap16 with a service account
// "limited" that may only get, list and create Services there).
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { ROOT } from '../helpers/run.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/kube-api');
const ca = fs.readFileSync(path.join(ROOT, 'test/fixtures/tls/ca.crt'));

function fixture(prefix: string): { status: number; body: unknown } {
  const file = fs.readdirSync(FIXTURES).find((f) => f.startsWith(`${prefix}-`))!;
  const [, status, ext] = /\.(\d{3})\.(json|txt)$/.exec(file)!;
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  return { status: Number(status), body: ext === 'json' ? JSON.parse(text) : text };
}

let server: TestApiServer;
let admin: string;
let limited: string;

function call(method: string, p: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string> = { Accept: 'application/json', ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(data)) } : {}) };
    const req = https.request(new URL(server.url + p), { method, ca, headers: h }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // plain text, as the real server's 500s are
        }
        resolve({ status: res.statusCode!, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Values that differ by nature between two servers. */
const normalise = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'resourceVersion' || k === 'uid' || k === 'creationTimestamp' || k === 'clusterIP' || k === 'clusterIPs' ? `<${k}>` : x)));

function same(actual: { status: number; body: unknown }, prefix: string): void {
  const expected = fixture(prefix);
  assert.is(actual.status, expected.status, `${prefix}: HTTP status`);
  assert.equal(normalise(actual.body), normalise(expected.body), `${prefix}: body`);
}

const test = suite('authentication, RBAC and impersonation answer as kube-apiserver v1.26.1 did (fixtures 61–71)');

test.before(async () => {
  server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cap16' } }] });
  admin = `Bearer ${server.token}`;
  limited = `Bearer ${server.serviceAccountToken('cap16', 'limited', 3600)}`;
  server.grant({ user: 'system:serviceaccount:cap16:limited', verbs: ['get', 'list', 'create'], resources: ['services'], namespace: 'cap16' });
});
test.after(async () => {
  await server.close();
});

const se = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'x' }, spec: { hosts: ['x.example'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL' } };
const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 80, name: 'http' }] } };

test('61–63 a service account with rights on Services only: create and get ServiceEntries are 403, a Service is created', async () => {
  same(await call('POST', '/apis/networking.istio.io/v1/namespaces/cap16/serviceentries?dryRun=All', { Authorization: limited }, se), '61');
  const created = await call('POST', '/api/v1/namespaces/cap16/services?dryRun=All', { Authorization: limited }, svc);
  assert.is(created.status, fixture('62').status);
  assert.is((created.body as any).metadata.name, 'x');
  same(await call('GET', '/apis/networking.istio.io/v1/namespaces/cap16/serviceentries/x', { Authorization: limited }), '63');
});

test('64–67 impersonation: only the privileged may; the impersonated user gets its own RBAC; groups need a user', async () => {
  same(await call('GET', '/api/v1/namespaces/cap16/services', { Authorization: limited, 'Impersonate-User': 'alice' }), '64');
  same(await call('GET', '/apis/networking.istio.io/v1/namespaces/cap16/serviceentries', { Authorization: admin, 'Impersonate-User': 'alice' }), '65');
  const masters = await call('GET', '/api/v1/namespaces/cap16/serviceaccounts?labelSelector=none%3Dnone', {
    Authorization: admin,
    'Impersonate-User': 'alice',
    'Impersonate-Group': 'system:masters',
    'Impersonate-Uid': '1234',
    'Impersonate-Extra-scopes': 'view',
  });
  assert.is(masters.status, 200);
  assert.equal((masters.body as any).items, (fixture('66').body as any).items);
  assert.equal(server.requests.at(-1)!.user, { name: 'alice', groups: ['system:masters', 'system:authenticated'], uid: '1234', extra: { scopes: ['view'] } });
  same(await call('GET', '/api/v1/namespaces/cap16/services', { Authorization: admin, 'Impersonate-Group': 'system:masters' }), '67');
});

test('68–70 a bad token is 401; no credentials is system:anonymous; an impersonated service account has its own RBAC', async () => {
  same(await call('GET', '/api/v1/namespaces/cap16/services', { Authorization: 'Bearer garbage' }), '68');
  same(await call('GET', '/api/v1/namespaces/cap16/services', {}), '69');
  same(
    await call('POST', '/apis/networking.istio.io/v1/namespaces/cap16/serviceentries?dryRun=All', { Authorization: admin, 'Impersonate-User': 'system:serviceaccount:cap16:limited' }, se),
    '70',
  );
  assert.equal(server.requests.at(-1)!.user!.groups, ['system:serviceaccounts', 'system:serviceaccounts:cap16', 'system:authenticated']);
});

test('71 basic auth: kube-apiserver ignores it, so the request is anonymous', async () => {
  same(await call('GET', '/api/v1/namespaces/cap16/services', { Authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` }), '71');
});

test('an expired service account token is 401, as the real server answers any token it cannot verify', async () => {
  const expired = server.serviceAccountToken('cap16', 'limited', -60);
  same(await call('GET', '/api/v1/namespaces/cap16/services', { Authorization: `Bearer ${expired}` }), '68');
});

test.run();
