// add-to-mesh external-service against the test API server: istioctl's own cases (istio-golden/derived), our
// fixes of its bugs (B16), idempotent re-runs, rollback, dry runs, output formats and API failures.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { missingPath } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { managedService, managedServiceEntry, namespace, plainService, plainServiceEntry, terminatingNamespace } from '../helpers/builders.ts';

const test = suite('add-to-mesh external-service');
const istioGolden = (name: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/add-to-mesh-external-service', name), 'utf8');
/** istioctl prints cobra's "Error: …"; kubectl-vm prints kubectl's "error: …" (README, "Differences from istioctl"). */
const asKubectlError = (golden: string) => golden.replace(/^Error: /, 'error: ');

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase('kubectl-vm-add_to_mesh', args, c);
  await outcome.cluster.close();
  expectGolden(`add-to-mesh/${name}.golden`, outcome.transcript);
  return outcome;
}

test('istioctl "external service banana namespace": the same stdout, byte for byte, in two requests', async () => {
  const o = await golden('success-vmtest-banana', ['-n', 'banana', 'external-service', 'vmtest', '11.11.11.11', 'tcp:12345', 'tcp:12346'], { seed: [namespace('banana')] });
  assert.is(o.code, 0);
  assert.is(o.stdout, istioGolden('success-vmtest-banana.txt'));
  assert.equal(o.requests.map((r) => `${r.method} ${r.status}`), ['POST 201', 'POST 201']);
  const se = o.server.object('networking.istio.io/v1', 'ServiceEntry', 'banana', 'mesh-expansion-vmtest')!;
  assert.equal(se.spec.endpoints, [{ address: '11.11.11.11', serviceAccount: 'default' }], 'B16: the service account is on the endpoint');
  assert.is(se.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
});

test('the documentation example: labels, annotations, service account, two VMs, two ports', async () => {
  const o = await golden('doc-example', ['external-service', 'vmhttp', '172.12.23.125,172.12.23.126', 'http:9080', 'tcp:8888', '-l', 'app=test,version=v1', '-a', 'env=stage', '-s', 'stage-admin', '-n', 'vm'], { seed: [namespace('vm')] });
  assert.is(o.code, 0);
  const svc = o.server.object('v1', 'Service', 'vm', 'vmhttp')!;
  assert.equal(svc.metadata.labels, { app: 'test', version: 'v1', 'app.kubernetes.io/managed-by': 'kubectl-vm' });
  assert.equal(svc.metadata.annotations, { env: 'stage', 'kubernetes.io/service-account.name': 'stage-admin' });
  assert.equal(svc.spec.ports.map((p: any) => [p.name, p.port, p.protocol]), [['http-9080', 9080, 'TCP'], ['tcp-8888', 8888, 'TCP']]);
  assert.is(svc.spec.selector, undefined, 'selector-less');
  const se = o.server.object('networking.istio.io/v1', 'ServiceEntry', 'vm', 'mesh-expansion-vmhttp')!;
  assert.equal(se.spec.hosts, ['vmhttp.vm.svc.cluster.local']);
  assert.equal(se.spec.ports, [{ name: 'http-9080', number: 9080, protocol: 'HTTP' }, { name: 'tcp-8888', number: 8888, protocol: 'TCP' }]);
  assert.equal(se.spec.endpoints.map((e: any) => [e.address, e.labels, e.serviceAccount]), [
    ['172.12.23.125', { app: 'test', version: 'v1' }, 'stage-admin'],
    ['172.12.23.126', { app: 'test', version: 'v1' }, 'stage-admin'],
  ]);
  assert.is(se.spec.resolution, 'STATIC');
  assert.is(se.spec.location, 'MESH_INTERNAL');
});

const existing = () => [namespace('vm'), managedService('vm', 'vmhttp', [{ name: 'http-8080', port: 8080, protocol: 'TCP' }]), managedServiceEntry('vm', 'vmhttp', ['10.0.0.5'], [{ name: 'http-8080', number: 8080, protocol: 'HTTP' }])];

test('re-running with the same arguments reports unchanged and exits 0', async () => {
  const o = await golden('rerun-unchanged', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], { seed: existing() });
  assert.is(o.code, 0);
  assert.match(o.stdout, /ServiceEntry "mesh-expansion-vmhttp.vm" is unchanged/);
  assert.not.ok(o.requests.some((r) => r.method === 'PATCH'), 'nothing is written');
});

test('re-running with another VM updates the ServiceEntry in place, guarded by its resourceVersion', async () => {
  const o = await golden('rerun-updated', ['es', 'vmhttp', '10.0.0.5,10.0.0.6', 'http:8080', '-n', 'vm'], { seed: existing() });
  assert.is(o.code, 0);
  const se = o.server.object('networking.istio.io/v1', 'ServiceEntry', 'vm', 'mesh-expansion-vmhttp')!;
  assert.equal(se.spec.endpoints.map((e: any) => e.address), ['10.0.0.5', '10.0.0.6']);
  const put = o.requests.find((r) => r.method === 'PUT')!;
  assert.is(put.query.fieldManager, 'kubectl-vm');
  assert.ok((put.body as any).metadata.resourceVersion, 'a concurrent change makes it a 409, and we start over');
});

test('re-running with another port replaces the old one in both objects', async () => {
  const o = await runCase('kubectl-vm-add_to_mesh', ['es', 'vmhttp', '10.0.0.5', 'http:9090', '-n', 'vm'], { seed: existing() });
  await o.cluster.close();
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.server.object('v1', 'Service', 'vm', 'vmhttp')!.spec.ports.map((p: any) => p.port), [9090]);
  assert.equal(o.server.object('networking.istio.io/v1', 'ServiceEntry', 'vm', 'mesh-expansion-vmhttp')!.spec.ports.map((p: any) => p.number), [9090]);
});

test('a concurrent change (409 Conflict) makes the update start over with a fresh read', async () => {
  const o = await runCase('kubectl-vm-add_to_mesh', ['es', 'vmhttp', '10.0.0.5,10.0.0.7', 'http:8080', '-n', 'vm'], {
    seed: existing(),
    faults: [{ method: 'PUT', path: '/apis/networking.istio.io/v1/namespaces/vm/serviceentries/mesh-expansion-vmhttp', status: 409 }],
  });
  await o.cluster.close();
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.requests.filter((r) => r.path.endsWith('mesh-expansion-vmhttp')).map((r) => `${r.method} ${r.status}`), ['GET 200', 'PUT 409', 'GET 200', 'PUT 200']);
});

test('istioctl "too few args": same message, as a usage error (64), nothing sent', async () => {
  for (const args of [['external-service', 'test', 'tcp:12345'], ['external-service', 'test', '172.186.15.123']]) {
    const o = await runCase('kubectl-vm-add_to_mesh', args);
    await o.cluster.close();
    assert.is(o.code, 64);
    assert.is(o.stderr.split('\n')[0] + '\n', asKubectlError(istioGolden('error-too-few-args.txt')));
    assert.is(o.requests.length, 0);
  }
  await golden('error-too-few-args', ['external-service', 'test', 'tcp:12345']);
});

test('istioctl "bad protocol tcp1": same message, as a usage error, nothing sent', async () => {
  const o = await golden('error-bad-protocol', ['external-service', 'test', '172.186.15.123', 'tcp1:12345']);
  assert.is(o.code, 64);
  assert.is(o.stderr.split('\n')[0] + '\n', asKubectlError(istioGolden('error-bad-protocol-tcp1.txt')));
  assert.is(o.requests.length, 0);
});

test('B16: bad addresses, port numbers, names and unnamed ports are refused before any request', async () => {
  const cases: [string, string[], RegExp][] = [
    ['bad-ip', ['es', 'vmhttp', '10.0.0.300', 'http:80'], /^error: invalid IP address "10\.0\.0\.300"$/m],
    ['bad-port', ['es', 'vmhttp', '10.0.0.5', 'tcp:70000'], /^error: invalid port "tcp:70000": 70000 is not between 1 and 65535$/m],
    ['bad-name', ['es', 'VMhttp', '10.0.0.5', 'http:80'], /^error: invalid service name "VMhttp": must consist of lower case/m],
    ['unnamed-port', ['es', 'vmhttp', '10.0.0.5', '9999'], /^error: port 9999 needs a protocol: write <protocol>:9999/m],
    ['bad-service-account', ['es', 'vmhttp', '10.0.0.5', 'http:80', '-s', 'stageAdmin'], /^error: invalid service account "stageAdmin"/m],
    ['bad-label', ['es', 'vmhttp', '10.0.0.5', 'http:80', '-l', 'app'], /^error: invalid label "app": expected key=value$/m],
  ];
  for (const [name, args, message] of cases) {
    const o = await golden(`error-${name}`, args);
    assert.is(o.code, 64, name);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.is(o.requests.length, 0, `${name}: no request`);
  }
});

test('istioctl "service exists": a Service that kubectl-vm does not manage is an error that names it', async () => {
  const o = await golden('error-service-exists', ['-n', 'default', 'external-service', 'dummyservice', '11.11.11.11', 'tcp:12345'], { seed: [plainService('default', 'dummyservice')] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Service default\/dummyservice already exists and is not managed by kubectl-vm/m);
  assert.match(o.stderr, /^hint: pick another name, or remove it first: kubectl delete service dummyservice -n default$/m);
  assert.is(o.server.object('networking.istio.io/v1', 'ServiceEntry', 'default', 'mesh-expansion-dummyservice'), undefined);
});

test('istioctl "service entry exists": the Service created first is rolled back, nothing is left behind', async () => {
  const o = await golden('error-serviceentry-exists', ['-n', 'default', 'external-service', 'vmtest', '11.11.11.11', 'tcp:12345'], { seed: [plainServiceEntry('default', 'mesh-expansion-vmtest')] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: ServiceEntry default\/mesh-expansion-vmtest already exists and is not managed by kubectl-vm/m);
  assert.match(o.stderr, /^note: rolled back: deleted Service default\/vmtest, which this run had created$/m);
  assert.is(o.server.object('v1', 'Service', 'default', 'vmtest'), undefined);
  const del = o.requests.find((r) => r.method === 'DELETE')!;
  assert.ok((del.body as any).preconditions.uid, 'the rollback deletes only the object it created');
});

test('a ServiceEntry the API rejects rolls the Service back too', async () => {
  const o = await golden('rollback-after-api-error', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], {
    seed: [namespace('vm')],
    faults: [{ method: 'POST', path: '/apis/networking.istio.io/v1/namespaces/vm/serviceentries', status: 403 }],
  });
  assert.is(o.code, 77);
  assert.is(o.server.object('v1', 'Service', 'vm', 'vmhttp'), undefined);
});

test('retries: 503 with Retry-After and a dropped connection are retried; the run succeeds', async () => {
  const o = await golden('retries', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], {
    seed: [namespace('vm')],
    faults: [
      { method: 'POST', path: '/api/v1/namespaces/vm/services', status: 503, retryAfter: 0 },
      { method: 'POST', path: '/apis/networking.istio.io/v1/namespaces/vm/serviceentries', drop: true },
      { method: 'POST', path: '/apis/networking.istio.io/v1/namespaces/vm/serviceentries', nth: 2, status: 429, retryAfter: 0 },
    ],
  });
  assert.is(o.code, 0);
  assert.equal(o.requests.map((r) => r.status || r.fault), [503, 201, 'drop', 429, 201]);
});

test('a server that keeps failing gives up after 5 attempts with exit 69', async () => {
  const o = await golden('retries-exhausted', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], {
    seed: [namespace('vm')],
    faults: [{ method: 'POST', path: '/api/v1/namespaces/vm/services', status: 503, retryAfter: 0, times: 10 }],
  });
  assert.is(o.code, 69);
  assert.is(o.requests.length, 5);
  assert.match(o.stderr, /after 5 attempts/);
});

test('forbidden is exit 77 and names the permission to ask for', async () => {
  const o = await golden('error-forbidden', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], {
    seed: [namespace('vm')],
    faults: [{ method: 'POST', path: '/api/v1/namespaces/vm/services', status: 403 }],
  });
  assert.is(o.code, 77);
  assert.match(o.stderr, /^hint: ask a cluster admin for "create" on services in namespace "vm"; check with "kubectl auth can-i create services -n vm"$/m);
});

test('a namespace that does not exist says how to create it', async () => {
  const o = await golden('error-missing-namespace', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'nope']);
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: namespaces "nope" not found\nhint: create the namespace first: kubectl create namespace nope$/m);
});

test('a namespace being deleted (Terminating) refuses new objects: exit 1, not taken for RBAC, and nothing is left behind', async () => {
  const o = await golden('error-namespace-terminating', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'], { seed: [terminatingNamespace('vm')] });
  assert.is(o.code, 1, o.stderr);
  assert.match(o.stderr, /^error: services "vmhttp" is forbidden: unable to create new content in namespace vm because it is being terminated$/m);
  assert.match(o.stderr, /^hint: namespace vm is being deleted; once "kubectl get namespace vm" says NotFound, create it again and re-run/m);
  assert.not.match(o.stderr, /ask a cluster admin/);
  assert.equal(o.server.objects('v1', 'Service', 'vm'), []);
});

test('--dry-run=client -o yaml prints both objects and sends nothing, even without a kubeconfig', async () => {
  const o = await golden('dry-run-client-yaml', ['es', 'vmhttp', '10.0.0.5', 'udp:5353', '--dry-run=client', '-o', 'yaml', '-n', 'vm'], { env: { KUBECONFIG: missingPath('kubeconfig') } });
  assert.is(o.code, 0);
  assert.is(o.requests.length, 0);
  assert.match(o.stdout, /^kind: List$/m);
  assert.match(o.stdout, /protocol: UDP/);
});

test('--dry-run=server sends the writes with dryRun=All and nothing is stored', async () => {
  const o = await golden('dry-run-server', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '--dry-run=server', '-o', 'name'], { seed: [namespace('vm')] });
  assert.is(o.code, 0);
  assert.ok(o.requests.every((r) => r.query.dryRun === 'All'));
  assert.is(o.server.object('v1', 'Service', 'vm', 'vmhttp'), undefined);
  assert.is(o.stdout, 'service/vmhttp\nserviceentry.networking.istio.io/mesh-expansion-vmhttp\n');
});

test('-o json prints what the API server returned; IPv6 endpoints and a custom cluster domain', async () => {
  const o = await runCase('kubectl-vm-add_to_mesh', ['es', 'vmhttp', 'fd00::5', 'http:8080', '-n', 'vm', '-o', 'json', '--cluster-domain', 'example.internal'], { seed: [namespace('vm')] });
  await o.cluster.close();
  assert.is(o.code, 0);
  const list = JSON.parse(o.stdout);
  assert.equal(list.items.map((i: any) => i.kind), ['Service', 'ServiceEntry']);
  assert.match(list.items[0].spec.clusterIP, /^10\.96\./, 'the server response, with its defaults');
  assert.equal(list.items[1].spec.hosts, ['vmhttp.vm.svc.example.internal']);
  assert.equal(list.items[1].spec.endpoints[0].address, 'fd00::5');
});

test('no kubeconfig at all is exit 69 with a clear message', async () => {
  const o = await golden('error-no-kubeconfig', ['es', 'vmhttp', '10.0.0.5', 'http:8080'], { env: { KUBECONFIG: undefined, HOME: missingPath('home') } });
  assert.is(o.code, 69);
  assert.match(o.stderr, /^error: no kubeconfig found: looked at \$KUBECONFIG \(unset\) and \/\S+\/home\/\.kube\/config$/m);
});

test('unknown resource types and unknown flags are usage errors', async () => {
  const o = await golden('error-unknown-type', ['vmhttp', '10.0.0.5', 'http:8080']);
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: unknown resource type "vmhttp"$/m);
  const f = await golden('error-unknown-flag', ['es', 'vmhttp', '10.0.0.5', 'http:80', '--bogus']);
  assert.is(f.code, 64);
  assert.match(f.stderr, /^error: unknown flag: --bogus\nhint: see "kubectl vm add-to-mesh external-service --help"$/m);
});

test('--help names the command as kubectl vm add-to-mesh and has real examples', async () => {
  const o = await golden('help', ['external-service', '--help']);
  assert.is(o.code, 0);
  assert.match(o.stdout, /^kubectl vm add-to-mesh external-service \[name\] \[ips\] \[ports\.\.\]/);
  assert.match(o.stdout, /kubectl vm add-to-mesh external-service vmhttp 10\.0\.0\.5 http:8080 -n vm/);
  await golden('help-root', ['--help']);
});

test.run();
