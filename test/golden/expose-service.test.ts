// expose-service: seed 000/004's httpbin.bar.global example, address allocation (lowest free, others' addresses
// avoided, re-runs keep theirs, concurrent runs never share one), the gateway lookup, dry runs, and bad input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { runPlugin } from '../helpers/run.ts';
import { startCluster } from '../helpers/cluster.ts';
import { addressClaims, clusterService, exposedEntry, handMadeGlobalEntry, ingressGateway, namespace } from '../helpers/builders.ts';

const test = suite('expose-service');
const EXE = 'kubectl-vm-expose_service';

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase(EXE, args, c);
  await outcome.cluster.close();
  if (name) expectGolden(`expose-service/${name}.golden`, outcome.transcript);
  return outcome;
}
const writes = (o: { requests: { method: string }[] }) => o.requests.filter((r) => r.method !== 'GET');
const HTTPBIN = clusterService('bar', 'httpbin', [{ name: 'http', port: 8000 }]);
const BASE = [namespace('bar'), namespace('istio-system'), HTTPBIN, ingressGateway('istio-system', { ip: '35.232.112.158' })];
const entryOf = (o: Awaited<ReturnType<typeof golden>>, ns = 'bar', name = 'httpbin.bar.forvms') => o.server.object('networking.istio.io/v1', 'ServiceEntry', ns, name)!;
const claims = (o: Awaited<ReturnType<typeof golden>>) => o.server.object('v1', 'ConfigMap', 'istio-system', 'kubectl-vm-global-addresses')?.data;

test('the seed\'s httpbin example: httpbin.bar.global, MESH_INTERNAL, DNS, every port to the gateway on 15443', async () => {
  const o = await golden('doc-example', ['httpbin', '-n', 'bar'], { seed: BASE });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, '127.255.0.1 httpbin.bar.global\n', 'stdout is the /etc/hosts line and nothing else');
  const se = entryOf(o);
  assert.equal(se.spec, {
    hosts: ['httpbin.bar.global'],
    location: 'MESH_INTERNAL',
    ports: [{ name: 'http', number: 8000, protocol: 'HTTP' }],
    resolution: 'DNS',
    addresses: ['127.255.0.1'],
    endpoints: [{ address: '35.232.112.158', ports: { http: 15443 } }],
  });
  assert.is(se.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(claims(o), { '127.255.0.1': 'httpbin.bar.global' });
});

test('a re-run keeps the address and writes nothing', async () => {
  const seed = [...BASE, exposedEntry('bar', 'httpbin', '127.255.0.1', '35.232.112.158'), addressClaims('istio-system', { '127.255.0.1': 'httpbin.bar.global' })];
  const o = await golden('rerun-unchanged', ['httpbin', '-n', 'bar'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, '127.255.0.1 httpbin.bar.global\n');
  assert.equal(writes(o), []);
});

test('a re-run with other ports updates the ServiceEntry in place and keeps its address, even if the claims were lost', async () => {
  const seed = [...BASE, exposedEntry('bar', 'httpbin', '127.255.0.7', '35.232.112.158')];
  const o = await golden('rerun-updated', ['httpbin', '-n', 'bar', '-p', 'http:8000', '-p', 'http:8080'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, '127.255.0.7 httpbin.bar.global\n');
  assert.match(o.stderr, /^✔ ServiceEntry bar\/httpbin.bar.forvms configured$/m);
  assert.equal(entryOf(o).spec.ports.map((p: any) => p.number), [8000, 8080]);
  assert.equal(claims(o), { '127.255.0.7': 'httpbin.bar.global' }, 'the address is claimed again');
  assert.equal(writes(o).map((r: any) => r.method), ['POST', 'PUT']);
});

test('the lowest free address: others\' ServiceEntries (anyone\'s, any namespace) and claims are avoided', async () => {
  const seed = [...BASE, namespace('foo'), handMadeGlobalEntry('foo', 'web.foo.forvms', 'web.foo.global', '127.255.0.1'), handMadeGlobalEntry('foo', 'other', 'other.example', '127.255.0.2'), addressClaims('istio-system', { '127.255.0.3': 'gone.baz.global' })];
  const o = await golden('avoids-taken', ['httpbin', '-n', 'bar'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, '127.255.0.4 httpbin.bar.global\n');
  assert.equal(claims(o), { '127.255.0.3': 'gone.baz.global', '127.255.0.4': 'httpbin.bar.global' });
});

test('ten concurrent runs for ten services get ten distinct addresses', async () => {
  const names = Array.from({ length: 10 }, (_, i) => `svc${i}`);
  const c = await startCluster({ forceTestServer: true, seed: [...BASE, ...names.map((n) => clusterService('bar', n, [{ name: 'http', port: 80 }]))] });
  try {
    // Every run reads the claims before any writes them: the race is certain, not left to the scheduler.
    c.server!.inject({ method: 'GET', path: '/api/v1/namespaces/istio-system/configmaps/kubectl-vm-global-addresses', times: 10, gather: 10 });
    const results = await Promise.all(names.map((n) => runPlugin(EXE, [n, '-n', 'bar', '--gateway-address', '192.0.2.7'], c.env)));
    for (const r of results) assert.is(r.code, 0, r.stderr);
    const lines = results.map((r) => r.stdout.trim());
    const addresses = lines.map((l) => l.split(' ')[0]);
    assert.is(new Set(addresses).size, 10, `distinct: ${addresses.join(', ')}`);
    assert.equal([...addresses].sort(), Array.from({ length: 10 }, (_, i) => `127.255.0.${i + 1}`).sort(), 'the ten lowest');
    const entries = c.server!.objects('networking.istio.io/v1', 'ServiceEntry', 'bar');
    assert.equal(entries.map((se: any) => se.spec.addresses[0]).sort(), [...addresses].sort(), 'the ServiceEntries carry them');
    const claimed = c.server!.object('v1', 'ConfigMap', 'istio-system', 'kubectl-vm-global-addresses')!.data;
    assert.is(Object.keys(claimed).length, 10);
    assert.ok(c.server!.requests.some((r) => r.status === 409), 'the processes did race');
  } finally {
    await c.close();
  }
});

test('--port instead of the Service\'s ports; a port the Service lacks is a warning', async () => {
  const o = await golden('ports', ['httpbin', '-n', 'bar', '-p', 'http:8000', '-p', 'tcp:9000'], { seed: BASE });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: Service bar\/httpbin has no port 9000/m);
  assert.equal(entryOf(o).spec.endpoints[0].ports, { 'http-8000': 15443, 'tcp-9000': 15443 });
});

test('UDP ports are left out with a warning; a Service with only UDP ports is refused', async () => {
  const seed = [...BASE, clusterService('bar', 'mixed', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'grpc-api', port: 9090 }]), clusterService('bar', 'udponly', [{ name: 'dns', port: 53, protocol: 'UDP' }])];
  const o = await golden('', ['mixed', '-n', 'bar'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: the ports 53\/UDP of Service bar\/mixed are left out/m);
  assert.equal(entryOf(o, 'bar', 'mixed.bar.forvms').spec.ports, [{ name: 'grpc-api', number: 9090, protocol: 'GRPC' }]);
  const bad = await golden('', ['udponly', '-n', 'bar'], { seed });
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /^error: Service bar\/udponly has no TCP port to expose$/m);
});

test('the gateway: its load balancer host name, else its externalIPs; none is an error naming --gateway-address', async () => {
  const byName = await golden('', ['httpbin', '-n', 'bar'], { seed: [...BASE.slice(0, 3), ingressGateway('istio-system', { hostname: 'gw.elb.example.com' })] });
  assert.is(byName.code, 0, byName.stderr);
  assert.equal(entryOf(byName).spec.endpoints[0].address, 'gw.elb.example.com');
  const external = await golden('', ['httpbin', '-n', 'bar'], { seed: [...BASE.slice(0, 3), ingressGateway('istio-system', undefined, ['192.0.2.9'])] });
  assert.equal(entryOf(external).spec.endpoints[0].address, '192.0.2.9');
  const none = await golden('error-no-gateway-address', ['httpbin', '-n', 'bar'], { seed: [...BASE.slice(0, 3), ingressGateway('istio-system', undefined)] });
  assert.is(none.code, 1);
  assert.match(none.stderr, /^error: no gateway found for the VMs\n(  \d\. .*\n)*  4\. istio-ingressgateway: service istio-system\/istio-ingressgateway has no load-balancer address/m);
  assert.match(none.stderr, /^hint: .*--gateway-address <ip>$/m);
  assert.equal(writes(none), []);
  const missing = await golden('', ['httpbin', '-n', 'bar'], { seed: BASE.slice(0, 3) });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^  4\. istio-ingressgateway: service istio-system\/istio-ingressgateway does not exist$/m);
});

test('--address-range: addresses come from it', async () => {
  const o = await golden('', ['httpbin', '-n', 'bar', '--address-range', '240.0.0.0/16'], { seed: BASE });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, '240.0.0.1 httpbin.bar.global\n');
});

test('a ServiceEntry of someone else for the same host is not duplicated', async () => {
  const seed = [...BASE, handMadeGlobalEntry('bar', 'httpbin-by-hand', 'httpbin.bar.global', '127.255.0.3')];
  const o = await golden('error-host-taken', ['httpbin', '-n', 'bar'], { seed });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: ServiceEntry bar\/httpbin-by-hand already serves the host httpbin.bar.global, and kubectl-vm does not manage it$/m);
  assert.equal(writes(o), []);
});

test('--dry-run=client -o yaml prints the ServiceEntry and writes nothing', async () => {
  const o = await golden('dry-run-client-yaml', ['httpbin', '-n', 'bar', '--dry-run=client', '-o', 'yaml'], { seed: BASE });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^  - 127.255.0.1$/m);
  assert.equal(writes(o), []);
});

test('--dry-run=server sends every write with dryRun=All and stores nothing', async () => {
  const o = await golden('', ['httpbin', '-n', 'bar', '--dry-run=server'], { seed: BASE });
  assert.is(o.code, 0, o.stderr);
  assert.ok(writes(o).length >= 2);
  for (const w of writes(o) as any[]) assert.is(w.query.dryRun, 'All');
  assert.is(claims(o), undefined);
});

for (const [name, args, code, message] of [
  ['error-no-service-name', [], 64, /^error: expose-service needs the name of a Service$/m],
  ['', ['Httpbin', '-n', 'bar'], 64, /^error: invalid service name "Httpbin"/m],
  ['', ['httpbin', '-n', 'bar', '-p', 'http:0'], 64, /^error: invalid port "http:0"/m],
  ['', ['httpbin', '-n', 'bar', '-p', 'tcp1:80'], 64, /^error: protocol tcp1 is not supported by Istio$/m],
  ['', ['httpbin', '-n', 'bar', '--gateway-address', 'not an address'], 64, /^error: invalid --gateway-address "not an address"/m],
  ['error-bad-range', ['httpbin', '-n', 'bar', '--address-range', '127.255.0.0/33'], 64, /^error: invalid --address-range "127.255.0.0\/33"/m],
  ['', ['httpbin', '-n', 'bar', '--gateway-service', 'a.b.c'], 64, /^error: invalid --gateway-service "a.b.c"/m],
  ['', ['httpbin', '-n', 'Bar'], 64, /^error: invalid namespace "Bar"/m],
] as [string, string[], number, RegExp][]) {
  test(`bad input is refused before any request: ${args.join(' ') || '(no arguments)'}`, async () => {
    const o = await golden(name, args, { seed: BASE });
    assert.is(o.code, code, o.stderr);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.equal(o.requests, []);
  });
}

test('a Service that does not exist is an error, and nothing is written', async () => {
  const o = await golden('error-no-service', ['nosuch', '-n', 'bar'], { seed: BASE });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: service nosuch was not found in namespace bar$/m);
  assert.equal(writes(o), []);
});

test('the claims ConfigMap, if someone else made it, is not taken over', async () => {
  const o = await golden('', ['httpbin', '-n', 'bar'], { seed: [...BASE, addressClaims('istio-system', {}, false)] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: ConfigMap istio-system\/kubectl-vm-global-addresses already exists and is not managed by kubectl-vm/m);
  assert.equal(writes(o), []);
});

test.run();
