// register: istioctl's documented example as EndpointSlices and as Endpoints, its bugs fixed (B18), bad input,
// re-runs, reconciling, the choice of endpoints API, dry runs, large batches and concurrent registers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { runPlugin } from '../helpers/run.ts';
import { startCluster } from '../helpers/cluster.ts';
import { istioctlEndpoints, namespace, plainService, registeredEndpoints, registeredService, registeredSlices, selectorService } from '../helpers/builders.ts';
import { RUN_ANNOTATION } from '../../shared/kube/transaction.ts';

const test = suite('register');

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase('kubectl-vm-register', args, c);
  await outcome.cluster.close();
  if (name) expectGolden(`register/${name}.golden`, outcome.transcript);
  return outcome;
}
const writes = (o: { requests: { method: string }[] }) => o.requests.filter((r) => r.method !== 'GET');
const slicesOf = (o: Awaited<ReturnType<typeof golden>>, ns: string) => o.server.objects('discovery.k8s.io/v1', 'EndpointSlice', ns);
const addresses = (slices: any[]) => slices.flatMap((s) => s.endpoints.flatMap((e: any) => e.addresses));
/** istioctl's samples/rawvm example (reference §5): the Endpoints content register mysqldb 10.138.0.13 3306 makes. */
const ISTIOCTL_SUBSETS = [{ addresses: [{ ip: '10.138.0.13' }], ports: [{ name: 'mysql', port: 3306 }] }];

test('istioctl\'s example "register mysqldb 10.138.0.13 3306": the same Service, the same endpoints as an EndpointSlice', async () => {
  const o = await golden('doc-example', ['mysqldb', '10.138.0.13', '3306']);
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'service/mysqldb created\nendpointslice.discovery.k8s.io/mysqldb-kubectl-vm-ipv4 created\n');
  const svc = o.server.object('v1', 'Service', 'default', 'mysqldb')!;
  const { [RUN_ANNOTATION]: run, ...annotations } = svc.metadata.annotations;
  assert.equal(annotations, { 'alpha.istio.io/kubernetes-serviceaccounts': 'default' });
  assert.ok(run, 'marked with the id of the run that created it');
  assert.equal(svc.spec.ports.map((p: any) => ({ name: p.name, port: p.port })), [{ name: 'mysql', port: 3306 }]);
  assert.is(svc.spec.selector, undefined);
  const [slice, ...more] = slicesOf(o, 'default');
  assert.is(more.length, 0);
  assert.equal(slice.metadata.labels, { 'kubernetes.io/service-name': 'mysqldb', 'endpointslice.kubernetes.io/managed-by': 'kubectl-vm', 'app.kubernetes.io/managed-by': 'kubectl-vm' });
  assert.is(slice.addressType, 'IPv4');
  // The same content as istioctl's subset: its addresses and its ports.
  assert.equal([{ addresses: slice.endpoints.map((e: any) => ({ ip: e.addresses[0] })), ports: slice.ports.map((p: any) => ({ name: p.name, port: p.port })) }], ISTIOCTL_SUBSETS);
  assert.is(o.server.object('v1', 'Endpoints', 'default', 'mysqldb'), undefined, 'never both APIs');
});

test('--endpoints-api=endpoints writes istioctl\'s Endpoints object, labelled as ours', async () => {
  const o = await golden('doc-example-endpoints', ['mysqldb', '10.138.0.13', '3306', '--endpoints-api=endpoints']);
  assert.is(o.code, 0, o.stderr);
  const ep = o.server.object('v1', 'Endpoints', 'default', 'mysqldb')!;
  assert.equal(ep.subsets.map((s: any) => ({ addresses: s.addresses.map((a: any) => ({ ip: a.ip })), ports: s.ports.map((p: any) => ({ name: p.name, port: p.port })) })), ISTIOCTL_SUBSETS);
  assert.is(ep.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.is(slicesOf(o, 'default').length, 0);
});

test('re-registering the same address is a no-op that says unchanged (B18: never listed twice)', async () => {
  const seed = [namespace('vm'), registeredService('vm', 'mysqldb', ['3306']), ...registeredSlices('vm', 'mysqldb', ['10.138.0.13'], ['3306'])];
  const o = await golden('rerun-unchanged', ['mysqldb', '10.138.0.13', '3306', '-n', 'vm'], { seed });
  assert.is(o.code, 0);
  assert.is(o.stdout, 'service/mysqldb unchanged\nendpointslice.discovery.k8s.io/mysqldb-kubectl-vm-ipv4 unchanged\n');
  assert.match(o.stderr, /^note: already registered with vm\/mysqldb: 10.138.0.13$/m);
  assert.equal(writes(o), []);
  assert.equal(addresses(slicesOf(o, 'vm')), ['10.138.0.13']);
});

test('the same address twice in one call, or in the file as well, is listed once', async () => {
  const o = await golden('', ['db', '10.0.0.1,10.0.0.1,10.0.0.2', '3306', '--from-file', '-'], { input: '# VMs\n10.0.0.2\n10.0.0.3, 10.0.0.1\n' });
  assert.is(o.code, 0, o.stderr);
  assert.equal(addresses(slicesOf(o, 'default')), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
});

test('with --from-file the addresses may be left out of the arguments', async () => {
  const o = await golden('', ['db', 'mysql:3306', '--from-file', '-'], { input: '10.0.0.7\n' });
  assert.is(o.code, 0, o.stderr);
  assert.equal(addresses(slicesOf(o, 'default')), ['10.0.0.7']);
  assert.is(o.server.object('v1', 'Service', 'default', 'db')!.spec.ports[0].name, 'mysql');
});

test('B18: an error other than NotFound when reading the Service is reported, and nothing is created', async () => {
  const o = await golden('error-get-forbidden', ['mysqldb', '10.138.0.13', '3306'], { faults: [{ method: 'GET', path: '/api/v1/namespaces/default/services/mysqldb', status: 403 }] });
  assert.is(o.code, 77);
  assert.match(o.stderr, /^error: .*forbidden/im);
  assert.equal(writes(o), []);
});

test('B18: a Service with a selector is refused, because the endpoints controller would overwrite our endpoints', async () => {
  const seed = [namespace('vm'), selectorService('vm', 'web', { app: 'web' }, { name: 'http', port: 80 })];
  const o = await golden('error-selector', ['web', '10.0.0.5', '80', '-n', 'vm'], { seed });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Service vm\/web has a selector \(app=web\): the endpoints controller keeps its endpoints/m);
  assert.equal(writes(o), []);
});

test('B18: port names are lower-cased (istioctl sends HTTP, which the API rejects)', async () => {
  const o = await golden('', ['web', '10.0.0.5', 'HTTP:8080', 'Grpc-Web:9090']);
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.server.object('v1', 'Service', 'default', 'web')!.spec.ports.map((p: any) => p.name), ['http', 'grpc-web']);
  assert.equal(slicesOf(o, 'default')[0].ports.map((p: any) => `${p.name}:${p.port}`), ['http:8080', 'grpc-web:9090']);
});

for (const [name, args, message] of [
  ['error-too-few-args', ['mysqldb', '10.138.0.13'], /^error: register requires service name, IP, and port$/m],
  ['error-bad-port', ['mysqldb', '10.138.0.13', 'bar'], /^error: invalid port "bar": expected \[<name>:\]<port> with a port from 1 to 65535$/m],
  ['', ['mysqldb', '10.138.0.13', '0'], /^error: invalid port "0"/m],
  ['', ['mysqldb', '10.138.0.13', '65536'], /^error: invalid port "65536"/m],
  ['error-bad-port-name', ['mysqldb', '10.138.0.13', 'my_sql:3306'], /^error: invalid port name "my_sql" in "my_sql:3306"/m],
  ['', ['mysqldb', '10.138.0.13', '3306', 'db:3306'], /^error: ports "3306" and "db:3306" clash/m],
  ['error-bad-ip', ['mysqldb', '10.138.0.256', '3306'], /^error: invalid IP address "10.138.0.256" in the arguments$/m],
  ['', ['mysqldb', 'vm1.example.com', '3306'], /^error: invalid IP address "vm1.example.com"/m],
  ['', ['MySQL', '10.138.0.13', '3306'], /^error: invalid service name "MySQL"/m],
  ['', ['mysqldb', '10.138.0.13', '3306', '-s', 'Bad_SA'], /^error: invalid service account "Bad_SA"/m],
  ['', ['mysqldb', '10.138.0.13', '3306', '-l', 'no-value'], /^error: .*label/m],
  ['', ['mysqldb', '10.138.0.13', '3306', '--endpoints-api=both'], /^error: .*--endpoints-api/m],
] as [string, string[], RegExp][]) {
  test(`bad input is refused before any request: ${args.join(' ')}`, async () => {
    const o = await golden(name, args);
    assert.is(o.code, 64, o.stderr);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.equal(o.requests, []);
  });
}

test('a bad address in --from-file names the file and line content', async () => {
  const o = await golden('', ['db', '3306', '--from-file', '-'], { input: '10.0.0.1\n10.0.0.x\n' });
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: invalid IP address "10.0.0.x" in standard input$/m);
  assert.equal(o.requests, []);
});

test('B18: a Service that register made is brought up to date with the new ports and labels, with a warning', async () => {
  const seed = [namespace('vm'), registeredService('vm', 'db', ['3306']), ...registeredSlices('vm', 'db', ['10.0.0.1'], ['3306'])];
  const o = await golden('reconcile', ['db', '10.0.0.2', 'mysql:3307', '-n', 'vm', '-l', 'app=db', '-s', 'db-sa'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: the ports of Service vm\/db change from mysql:3306 to mysql:3307/m);
  assert.match(o.stderr, /^warning: Service vm\/db changes: label app=db, annotation alpha.istio.io\/kubernetes-serviceaccounts=db-sa \(was default\)$/m);
  const svc = o.server.object('v1', 'Service', 'vm', 'db')!;
  assert.equal(svc.spec.ports.map((p: any) => p.port), [3307]);
  assert.is(svc.metadata.labels.app, 'db');
  const [slice] = slicesOf(o, 'vm');
  assert.equal(slice.ports.map((p: any) => p.port), [3307], 'every address serves the new ports');
  assert.equal(addresses([slice]), ['10.0.0.1', '10.0.0.2']);
  assert.is(slice.metadata.labels.app, 'db');
});

test('a selector-less Service that someone else made gets endpoints but is not changed; other ports are refused', async () => {
  const seed = [namespace('vm'), plainService('vm', 'legacy')];
  const ok = await golden('', ['legacy', '10.0.0.5', 'tcp-12345:12345', '-n', 'vm'], { seed });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /^note: Service vm\/legacy is not managed by kubectl-vm/m);
  assert.not.ok(ok.requests.some((r) => r.path.includes('/services') && r.method !== 'GET'));
  assert.equal(addresses(slicesOf(ok, 'vm')), ['10.0.0.5']);
  const bad = await golden('', ['legacy', '10.0.0.5', '8080', '-n', 'vm'], { seed });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /^error: Service vm\/legacy, which kubectl-vm does not manage, has the ports tcp-12345:12345, not http:8080$/m);
  assert.equal(writes(bad), []);
});

test('never both APIs: slices are refused where register kept Endpoints, and the other way round', async () => {
  const withEndpoints = [namespace('vm'), registeredService('vm', 'db', ['3306']), registeredEndpoints('vm', 'db', ['10.0.0.1'], ['3306'])];
  const a = await golden('error-mixed-apis', ['db', '10.0.0.2', '3306', '-n', 'vm'], { seed: withEndpoints });
  assert.is(a.code, 1);
  assert.match(a.stderr, /are kept as Endpoints .* writing EndpointSlices too would list them twice/);
  assert.equal(writes(a), [], 'refused before the Service is touched');
  const withSlices = [namespace('vm'), registeredService('vm', 'db', ['3306']), ...registeredSlices('vm', 'db', ['10.0.0.1'], ['3306'])];
  const b = await golden('', ['db', '10.0.0.2', '3306', '-n', 'vm', '--endpoints-api=endpoints'], { seed: withSlices });
  assert.is(b.code, 1);
  assert.match(b.stderr, /are kept as EndpointSlices; writing Endpoints too/);
  assert.equal(writes(b), []);
  assert.is(b.server.object('v1', 'Endpoints', 'vm', 'db'), undefined);
});

test('Endpoints that istioctl register wrote are not taken over', async () => {
  const seed = [namespace('vm'), plainService('vm', 'legacy'), istioctlEndpoints('vm', 'legacy', ['10.0.0.1'], { name: 'tcp-12345', port: 12345 })];
  const o = await golden('', ['legacy', '10.0.0.2', 'tcp-12345:12345', '-n', 'vm', '--endpoints-api=endpoints'], { seed });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Endpoints vm\/legacy exist and are not managed by kubectl-vm/m);
  assert.equal(writes(o), []);
  assert.equal(o.server.object('v1', 'Endpoints', 'vm', 'legacy')!.subsets[0].addresses, [{ ip: '10.0.0.1' }]);
});

test('IPv4 and IPv6 addresses go into one slice per family', async () => {
  const o = await golden('dual-stack', ['web', '10.0.0.5,fd00::5,FD00::6', 'http:8080']);
  assert.is(o.code, 0, o.stderr);
  const byFamily = Object.fromEntries(slicesOf(o, 'default').map((s: any) => [s.addressType, addresses([s])]));
  assert.equal(byFamily, { IPv4: ['10.0.0.5'], IPv6: ['fd00::5', 'FD00::6'] });
});

test('--dry-run=client -o yaml prints the Service and the slice and writes nothing', async () => {
  const o = await golden('dry-run-client-yaml', ['mysqldb', '10.138.0.13', '3306', '--dry-run=client', '-o', 'yaml']);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^kind: List$/m);
  assert.match(o.stdout, /^  kind: EndpointSlice$/m);
  assert.equal(writes(o), []);
});

test('--dry-run=server sends every write with dryRun=All', async () => {
  const o = await golden('', ['mysqldb', '10.138.0.13', '3306', '--dry-run=server']);
  assert.is(o.code, 0, o.stderr);
  assert.ok(writes(o).length >= 2);
  for (const w of writes(o) as any[]) assert.is(w.query.dryRun, 'All');
  assert.is(o.server.object('v1', 'Service', 'default', 'mysqldb'), undefined);
});

test('2,500 addresses in one call: three slices of at most 1,000, in a constant number of requests', async () => {
  const ips = Array.from({ length: 2500 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const o = await golden('', ['big', '3306', '--from-file', '-'], { input: ips.join('\n') });
  assert.is(o.code, 0, o.stderr);
  const slices = slicesOf(o, 'default');
  assert.equal(slices.map((s: any) => [s.metadata.name, s.endpoints.length]).sort(), [['big-kubectl-vm-ipv4', 1000], ['big-kubectl-vm-ipv4-2', 1000], ['big-kubectl-vm-ipv4-3', 500]]);
  assert.equal(addresses(slices).sort(), [...ips].sort());
  assert.ok(o.requests.length <= 8, `${o.requests.length} requests`);
  // Adding one more fills the last slice: one PUT, the others stay.
  const more = await runCase('kubectl-vm-register', ['big', '10.2.0.1', '3306'], { seed: [registeredService('default', 'big', ['3306']), ...registeredSlices('default', 'big', ips, ['3306'])] });
  await more.cluster.close();
  assert.is(more.code, 0, more.stderr);
  assert.equal(writes(more).map((r: any) => `${r.method} ${r.path.split('/').pop()}`), ['PUT big-kubectl-vm-ipv4-3']);
});

test('a 409 while writing the slice re-reads and tries again', async () => {
  const seed = [namespace('vm'), registeredService('vm', 'db', ['3306']), ...registeredSlices('vm', 'db', ['10.0.0.1'], ['3306'])];
  const o = await golden('retry-on-conflict', ['db', '10.0.0.2', '3306', '-n', 'vm'], { seed, faults: [{ method: 'PUT', path: '/apis/discovery.k8s.io/v1/namespaces/vm/endpointslices/db-kubectl-vm-ipv4', status: 409 }] });
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.requests.filter((r) => r.path.includes('endpointslices')).map((r) => `${r.method} ${r.status}`), ['GET 200', 'PUT 409', 'GET 200', 'PUT 200']);
  assert.equal(addresses(slicesOf(o, 'vm')), ['10.0.0.1', '10.0.0.2']);
});

test('20 concurrent registers, each with its own address, leave every address listed exactly once', async () => {
  const c = await startCluster({ forceTestServer: true, seed: [namespace('vm')] });
  try {
    const ips = Array.from({ length: 20 }, (_, i) => `10.3.0.${i + 1}`);
    const results = await Promise.all(ips.map((ip) => runPlugin('kubectl-vm-register', ['shared', ip, 'http:8080', '-n', 'vm'], c.env)));
    for (const r of results) assert.is(r.code, 0, r.stderr);
    const listed = addresses(c.server!.objects('discovery.k8s.io/v1', 'EndpointSlice', 'vm'));
    assert.equal([...listed].sort(), [...ips].sort());
    assert.ok(c.server!.requests.some((r) => r.status === 409), 'the processes did race');
  } finally {
    await c.close();
  }
});

test.run();
