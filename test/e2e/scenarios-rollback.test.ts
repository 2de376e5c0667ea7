// Multi-object writes against the cluster of the lane (the test API server, or a real kube-apiserver with
// KUBECTL_VM_E2E_KUBECONFIG), through a fault-injecting proxy (test/helpers/fault-proxy.ts). A write is let through
// to the API server, which commits it, and its answer is lost; the retry then meets whatever that server really
// answers (409 AlreadyExists, 409 Conflict, 404). A later write fails for good, and the command must put back
// everything, including the object whose write it only saw as a 409 or a 404. Without the later failure, the same
// lost answer must still end in the full result with exit 0.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as assert from 'uvu/assert';
import type { Fault } from '../apiserver/server.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { run } from '../helpers/run.ts';
import { scenarioSuite } from '../helpers/scenario.ts';

const { test, cluster, getJson } = scenarioSuite('rollback scenarios through a fault proxy');
let proxy: FaultProxy;
let env: Record<string, string | undefined>;

test.before(async () => {
  proxy = await FaultProxy.start(cluster().kubeconfig);
  env = { ...cluster().env, KUBECONFIG: proxy.writeKubeconfig(path.join(cluster().home, 'proxy', 'config')) };
});
test.after(async () => {
  await proxy?.close();
});

const SE = 'serviceentries.networking.istio.io';
const GW = 'gateways.networking.istio.io';
const VS = 'virtualservices.networking.istio.io';
const ES = 'endpointslices.discovery.k8s.io';
const FOREVER = { times: 100, status: 503, retryAfter: 0 };
const lostAnswer = (method: string, path: string | RegExp): Fault => ({ method, path, dropAfterCommit: true });

/** `kubectl vm …` through the proxy, with these faults. */
async function vm(args: string[], faults: Fault[] = []) {
  proxy.clear();
  for (const f of faults) proxy.inject(f);
  const r = await run('kubectl', ['vm', ...args], { env });
  const seen = proxy.requests.map((q) => `${q.method} ${q.path} ${q.fault ?? q.status}`);
  proxy.clear();
  return { ...r, seen };
}

const names = async (resource: string, ns: string) => (await getJson([resource, '-n', ns])).items.map((o: any) => o.metadata.name).sort();
const ports = (svc: any) => svc.spec.ports.map((p: any) => p.port).sort();

test('add-to-mesh: the Service create commits but its answer is lost, the ServiceEntry fails: the Service is deleted', async () => {
  const ns = await cluster().namespace('kvm-rb');
  const r = await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', ns], [
    lostAnswer('POST', `/api/v1/namespaces/${ns}/services`),
    { method: 'POST', path: `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`, ...FOREVER },
  ]);
  assert.is(r.code, 69, r.stderr);
  assert.ok(r.seen.includes(`POST /api/v1/namespaces/${ns}/services 409`), `the retried create met 409 AlreadyExists: ${r.seen.join(', ')}`);
  assert.match(r.stderr, /rolled back: deleted Service .*vmhttp, which this run had created/);
  assert.equal(await names('services', ns), []);
  assert.equal(await names(SE, ns), []);

  const ok = await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', ns], [lostAnswer('POST', `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`)]);
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(await names('services', ns), ['vmhttp']);
  assert.equal(await names(SE, ns), ['mesh-expansion-vmhttp']);
});

test('add-to-mesh against a cluster that cannot be reached: the error says so, and no undo line for a write that was never sent', async () => {
  // The proxy's kubeconfig, pointed at a port nothing listens on.
  const closed = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const kubeconfig = path.join(cluster().home, 'unreachable', 'config');
  fs.mkdirSync(path.dirname(kubeconfig), { recursive: true });
  fs.writeFileSync(kubeconfig, fs.readFileSync(env.KUBECONFIG!, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/g, `server: https://127.0.0.1:${closed}`), { mode: 0o600 });
  const r = await run('kubectl', ['vm', 'add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'kvm-rb-down'], { env: { ...env, KUBECONFIG: kubeconfig } });
  assert.is(r.code, 69, r.stderr);
  assert.match(r.stderr, /^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/m);
  assert.not.match(r.stderr, /may have been|to undo|run the same command again/, r.stderr);
});

test('add-to-mesh: the ServiceEntry create is refused (403): the Service is deleted, and nothing is reported for the refused write', async () => {
  const ns = await cluster().namespace('kvm-rb403');
  const r = await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', ns], [{ method: 'POST', path: `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`, status: 403 }]);
  assert.is(r.code, 77, r.stderr);
  assert.match(r.stderr, /rolled back: deleted Service .*vmhttp, which this run had created/);
  assert.not.match(r.stderr, /may have been|to undo/, r.stderr);
  // The refused create is not looked after: only the Service is read again and deleted.
  assert.equal(r.seen.map((x) => x.split(' ').slice(0, 2).join(' ').replace(/\?.*/, '')), [
    `POST /api/v1/namespaces/${ns}/services`,
    `POST /apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`,
    `GET /api/v1/namespaces/${ns}/services/vmhttp`,
    `DELETE /api/v1/namespaces/${ns}/services/vmhttp`,
  ]);
  assert.equal(await names('services', ns), []);
  assert.equal(await names(SE, ns), []);
});

test('add-to-mesh update: the Service update commits, its answer is lost, the ServiceEntry fails: the Service gets its old ports back', async () => {
  const ns = await cluster().namespace('kvm-rb');
  assert.is((await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', ns])).code, 0);
  const r = await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', 'tcp:9090', '-n', ns], [
    lostAnswer('PUT', `/api/v1/namespaces/${ns}/services/vmhttp`),
    { method: 'PUT', path: `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries/mesh-expansion-vmhttp`, ...FOREVER },
  ]);
  assert.is(r.code, 69, r.stderr);
  assert.ok(r.seen.includes(`PUT /api/v1/namespaces/${ns}/services/vmhttp 409`), `the retried update met 409 Conflict: ${r.seen.join(', ')}`);
  assert.match(r.stderr, /rolled back: restored Service/);
  assert.equal(ports(await getJson(['service', 'vmhttp', '-n', ns])), [8080]);
  assert.equal((await getJson([SE, 'mesh-expansion-vmhttp', '-n', ns])).spec.ports.map((p: any) => p.number), [8080]);
});

test('remove-from-mesh: the Service delete commits, its answer is lost, the ServiceEntry delete fails: the Service is back as it was', async () => {
  const ns = await cluster().namespace('kvm-rb');
  assert.is((await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', 'tcp:9090', '-n', ns])).code, 0);
  const before = await getJson(['service', 'vmhttp', '-n', ns]);
  const r = await vm(['remove-from-mesh', 'es', 'vmhttp', '-n', ns], [
    lostAnswer('DELETE', `/api/v1/namespaces/${ns}/services/vmhttp`),
    { method: 'DELETE', path: `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries/mesh-expansion-vmhttp`, ...FOREVER },
  ]);
  assert.is(r.code, 69, r.stderr);
  assert.ok(r.seen.includes(`DELETE /api/v1/namespaces/${ns}/services/vmhttp 404`), `the retried delete met 404: ${r.seen.join(', ')}`);
  const after = await getJson(['service', 'vmhttp', '-n', ns]);
  assert.equal(after.spec.ports, before.spec.ports);
  assert.equal(after.spec.clusterIP, before.spec.clusterIP, 'created again with its cluster IP');
  assert.equal(after.metadata.labels, before.metadata.labels);
  assert.equal(after.metadata.annotations, before.metadata.annotations);

  const ok = await vm(['remove-from-mesh', 'es', 'vmhttp', '-n', ns], [lostAnswer('DELETE', `/api/v1/namespaces/${ns}/services/vmhttp`)]);
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(await names('services', ns), []);
  assert.equal(await names(SE, ns), []);
});

test('register then deregister --delete-service-when-empty: lost answers, then a failing last write; each run puts everything back', async () => {
  const ns = await cluster().namespace('kvm-rb');
  const reg = await vm(['register', 'db', '10.0.0.2,fd00::2', 'mysql:3306', '-n', ns], [
    lostAnswer('POST', `/api/v1/namespaces/${ns}/services`),
    { method: 'POST', path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, nth: 2, ...FOREVER },
  ]);
  assert.is(reg.code, 69, reg.stderr);
  assert.equal(await names('services', ns), [], 'the Service this run created is gone');
  assert.equal(await names(ES, ns), [], 'so is the slice it wrote');

  assert.is((await vm(['register', 'db', '10.0.0.2,fd00::2', 'mysql:3306', '-n', ns])).code, 0);
  const slicesBefore = await names(ES, ns);
  const dereg = await vm(['deregister', 'db', '10.0.0.2,fd00::2', '--delete-service-when-empty', '-n', ns], [
    lostAnswer('DELETE', new RegExp(`^/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/`)),
    { method: 'DELETE', path: `/api/v1/namespaces/${ns}/services/db`, ...FOREVER },
  ]);
  assert.is(dereg.code, 69, dereg.stderr);
  assert.equal(await names('services', ns), ['db']);
  assert.equal(await names(ES, ns), slicesBefore, 'the slices are back');
});

test('expose-istiod --services: the first Gateway create commits, its answer is lost, the last write fails: nothing is left', async () => {
  const ns = await cluster().namespace('kvm-rb');
  const gw = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'istio-eastwestgateway', namespace: ns, labels: { istio: 'eastwestgateway' } }, spec: { ports: [15021, 15443, 15012, 15017].map((port) => ({ name: `p${port}`, port })) } };
  assert.is((await cluster().kubectl(['create', '-f', '-'], JSON.stringify(gw))).code, 0);
  const GWS = `/apis/networking.istio.io/v1/namespaces/${ns}/gateways`;
  const r = await vm(['expose-istiod', '-i', ns, '--services'], [lostAnswer('POST', GWS), { method: 'POST', path: GWS, nth: 3, ...FOREVER }]);
  assert.is(r.code, 69, r.stderr);
  assert.equal(await names(GW, ns), []);
  assert.equal(await names(VS, ns), []);
});

test('expose-service: the address claim commits, its answer is lost, the ServiceEntry fails: the claim is given back', async () => {
  const ns = await cluster().namespace('kvm-rb');
  const istio = await cluster().namespace('kvm-rb-istio');
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', namespace: ns }, spec: { ports: [{ name: 'http', port: 8000 }] } };
  assert.is((await cluster().kubectl(['create', '-f', '-'], JSON.stringify(svc))).code, 0);
  const args = ['expose-service', 'httpbin', '-n', ns, '--istio-namespace', istio, '--gateway-address', '192.0.2.7'];
  const r = await vm(args, [lostAnswer('POST', `/api/v1/namespaces/${istio}/configmaps`), { method: 'POST', path: `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`, ...FOREVER }]);
  assert.is(r.code, 69, r.stderr);
  assert.equal((await names('configmaps', istio)).filter((n: string) => n.startsWith('kubectl-vm')), []);
  assert.equal(await names(SE, ns), []);
  const ok = await vm(args, [lostAnswer('POST', `/api/v1/namespaces/${istio}/configmaps`)]);
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(await names(SE, ns), ['httpbin.' + ns + '.forvms']);
});

test.run();
