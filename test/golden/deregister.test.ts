// deregister: istioctl's behaviour with B19 fixed: notes for addresses that are not registered, a valid empty
// object after the last one, --delete-service-when-empty (ours only), both endpoints APIs, races.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { istioctlEndpoints, namespace, plainService, registeredEndpoints, registeredService, registeredSlices } from '../helpers/builders.ts';

const test = suite('deregister');

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase('kubectl-vm-deregister', args, c);
  await outcome.cluster.close();
  if (name) expectGolden(`deregister/${name}.golden`, outcome.transcript);
  return outcome;
}
const writes = (o: { requests: { method: string }[] }) => o.requests.filter((r) => r.method !== 'GET');
const slicesOf = (o: Awaited<ReturnType<typeof golden>>) => o.server.objects('discovery.k8s.io/v1', 'EndpointSlice', 'vm');
const addresses = (slices: any[]) => slices.flatMap((s) => s.endpoints.flatMap((e: any) => e.addresses));
const withSlices = (ips: string[]) => [namespace('vm'), registeredService('vm', 'db', ['3306']), ...registeredSlices('vm', 'db', ips, ['3306'])];
const withEndpoints = (ips: string[]) => [namespace('vm'), registeredService('vm', 'db', ['3306']), registeredEndpoints('vm', 'db', ips, ['3306'])];

test('one address out of two: the slice is rewritten, guarded by its resourceVersion', async () => {
  const o = await golden('remove-one', ['db', '10.0.0.1', '-n', 'vm'], { seed: withSlices(['10.0.0.1', '10.0.0.2']) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'endpointslice.discovery.k8s.io/db-kubectl-vm-ipv4 configured\n');
  assert.equal(addresses(slicesOf(o)), ['10.0.0.2']);
  const put = writes(o)[0] as any;
  assert.ok(put.body.metadata.resourceVersion, 'a PUT with the resourceVersion it read');
});

test('B19: an address that is not registered is a note, not an error, and nothing is written', async () => {
  const o = await golden('not-registered', ['db', '10.0.0.9', '-n', 'vm'], { seed: withSlices(['10.0.0.1']) });
  assert.is(o.code, 0);
  assert.is(o.stdout, '');
  assert.match(o.stderr, /^note: not registered with vm\/db, so nothing to remove: 10.0.0.9$/m);
  assert.equal(writes(o), []);
});

test('B19: the last address leaves a valid, empty slice and the Service', async () => {
  const o = await golden('remove-last', ['db', '10.0.0.1', '-n', 'vm'], { seed: withSlices(['10.0.0.1']) });
  assert.is(o.code, 0, o.stderr);
  const [slice, ...more] = slicesOf(o);
  assert.is(more.length, 0);
  assert.is(slice.endpoints, null, 'an empty list, which kube-apiserver returns as null');
  assert.ok(o.server.object('v1', 'Service', 'vm', 'db'), 'the Service stays');
});

test('dual stack: a family that empties loses its slice while the other family still has addresses', async () => {
  const o = await golden('', ['db', 'fd00::1', '-n', 'vm'], { seed: withSlices(['10.0.0.1', 'fd00::1']) });
  assert.is(o.code, 0, o.stderr);
  assert.equal(slicesOf(o).map((s: any) => s.metadata.name), ['db-kubectl-vm-ipv4']);
  assert.ok((writes(o)[0] as any).body.preconditions.uid, 'deleted by the uid we read');
});

test('--delete-service-when-empty deletes our slices and our Service, each guarded by its uid', async () => {
  const o = await golden('delete-service-when-empty', ['db', '10.0.0.1,10.0.0.2', '-n', 'vm', '--delete-service-when-empty'], { seed: withSlices(['10.0.0.1', '10.0.0.2']) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'endpointslice.discovery.k8s.io/db-kubectl-vm-ipv4 deleted\nservice/db deleted\n');
  assert.equal(slicesOf(o), []);
  assert.is(o.server.object('v1', 'Service', 'vm', 'db'), undefined);
  for (const d of writes(o) as any[]) assert.ok(d.body.preconditions.uid);
});

test('--delete-service-when-empty keeps a Service that kubectl-vm does not manage, with a note', async () => {
  const seed = [namespace('vm'), plainService('vm', 'db'), ...registeredSlices('vm', 'db', ['10.0.0.1'], ['3306'])];
  const o = await golden('', ['db', '10.0.0.1', '-n', 'vm', '--delete-service-when-empty'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^note: Service vm\/db is not managed by kubectl-vm, so it stays$/m);
  assert.ok(o.server.object('v1', 'Service', 'vm', 'db'));
  assert.equal(slicesOf(o), []);
});

test('--delete-service-when-empty does nothing while addresses are left', async () => {
  const o = await golden('', ['db', '10.0.0.1', '-n', 'vm', '--delete-service-when-empty'], { seed: withSlices(['10.0.0.1', '10.0.0.2']) });
  assert.is(o.code, 0, o.stderr);
  assert.ok(o.server.object('v1', 'Service', 'vm', 'db'));
  assert.equal(addresses(slicesOf(o)), ['10.0.0.2']);
});

test('Endpoints that register --endpoints-api=endpoints wrote: the last address leaves subsets empty (B19)', async () => {
  const o = await golden('endpoints-remove-last', ['db', '10.0.0.1', '-n', 'vm'], { seed: withEndpoints(['10.0.0.1']) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'endpoints/db configured\n');
  const ep = o.server.object('v1', 'Endpoints', 'vm', 'db')!;
  assert.is((ep.subsets ?? []).length, 0);
});

test('Endpoints and --delete-service-when-empty: both objects go', async () => {
  const o = await golden('', ['db', '10.0.0.1', '-n', 'vm', '--delete-service-when-empty'], { seed: withEndpoints(['10.0.0.1']) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.server.object('v1', 'Endpoints', 'vm', 'db'), undefined);
  assert.is(o.server.object('v1', 'Service', 'vm', 'db'), undefined);
});

test('Endpoints that istioctl register wrote are not changed', async () => {
  const seed = [namespace('vm'), plainService('vm', 'legacy'), istioctlEndpoints('vm', 'legacy', ['10.0.0.1'], { name: 'tcp-12345', port: 12345 })];
  const o = await golden('error-not-ours', ['legacy', '10.0.0.1', '-n', 'vm'], { seed });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Endpoints vm\/legacy exist and are not managed by kubectl-vm/m);
  assert.equal(writes(o), []);
});

test('nothing registered at all: a note, exit 0', async () => {
  const o = await golden('nothing-registered', ['db', '10.0.0.1', '-n', 'vm'], { seed: [namespace('vm')] });
  assert.is(o.code, 0);
  assert.match(o.stderr, /^note: no address is registered with Service vm\/db$/m);
  assert.equal(writes(o), []);
});

test('istioctl\'s usage message, and bad addresses, before any request', async () => {
  const few = await golden('error-too-few-args', ['db']);
  assert.is(few.code, 64);
  assert.match(few.stderr, /^error: deregister requires service name and endpoint$/m);
  const bad = await golden('', ['db', '10.0.0.300']);
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /^error: invalid IP address "10.0.0.300" in the arguments$/m);
  assert.equal([...few.requests, ...bad.requests], []);
});

test('a 409 (someone registered meanwhile) re-reads and keeps their address', async () => {
  const o = await golden('retry-on-conflict', ['db', '10.0.0.1', '-n', 'vm'], {
    seed: withSlices(['10.0.0.1', '10.0.0.2']),
    faults: [{ method: 'PUT', path: '/apis/discovery.k8s.io/v1/namespaces/vm/endpointslices/db-kubectl-vm-ipv4', status: 409 }],
  });
  assert.is(o.code, 0, o.stderr);
  assert.equal(addresses(slicesOf(o)), ['10.0.0.2']);
  assert.equal(o.requests.filter((r) => r.method === 'PUT').map((r) => r.status), [409, 200]);
});

test('--dry-run=client -o name writes nothing', async () => {
  const o = await golden('', ['db', '10.0.0.1', '-n', 'vm', '--delete-service-when-empty', '--dry-run=client', '-o', 'name'], { seed: withSlices(['10.0.0.1']) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'endpointslice.discovery.k8s.io/db-kubectl-vm-ipv4\nservice/db\n');
  assert.equal(writes(o), []);
  assert.ok(o.server.object('v1', 'Service', 'vm', 'db'));
});

test.run();
