// remove-from-mesh external-service: istioctl's cases, ownership checks, orphans, "already gone", dry runs.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { managedService, managedServiceEntry, plainService, plainServiceEntry } from '../helpers/builders.ts';

const test = suite('remove-from-mesh external-service');
const istioGolden = (name: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/remove-from-mesh-external-service', name), 'utf8');

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase('kubectl-vm-remove_from_mesh', args, c);
  await outcome.cluster.close();
  expectGolden(`remove-from-mesh/${name}.golden`, outcome.transcript);
  return outcome;
}

const ports = [{ name: 'tcp-12345', port: 12345, protocol: 'TCP' }];
const sePorts = [{ name: 'tcp-12345', number: 12345, protocol: 'TCP' }];
const both = (ns: string, name: string) => [managedService(ns, name, ports), managedServiceEntry(ns, name, ['11.11.11.11'], sePorts)];

test('istioctl "vmtest default": the Service line is byte for byte istioctl\'s; the ServiceEntry line names its namespace (B17)', async () => {
  const o = await golden('success-vmtest-default', ['-n', 'default', 'external-service', 'vmtest'], { seed: both('default', 'vmtest') });
  assert.is(o.code, 0);
  const [serviceLine, entryLine] = istioGolden('success-vmtest-default.txt').split('\n');
  const lines = o.stdout.split('\n');
  assert.is(lines[0], serviceLine);
  assert.is(entryLine, 'Service Entry "mesh-expansion-vmtest" has been deleted for external service "vmtest"');
  assert.is(lines[1], 'ServiceEntry "mesh-expansion-vmtest.default" has been deleted for external service "vmtest"');
  assert.is(o.server.object('v1', 'Service', 'default', 'vmtest'), undefined);
  assert.is(o.server.object('networking.istio.io/v1', 'ServiceEntry', 'default', 'mesh-expansion-vmtest'), undefined);
  for (const del of o.requests.filter((r) => r.method === 'DELETE')) assert.ok((del.body as any).preconditions.uid, 'deletes are guarded by the uid we checked');
});

test('istioctl "missing name": same message, usage error', async () => {
  const o = await golden('error-missing-name', ['external-service']);
  assert.is(o.code, 64);
  assert.is(o.stderr.split('\n')[0] + '\n', istioGolden('error-missing-name.txt').replace(/^Error: /, 'error: '));
});

test('istioctl "service missing": nothing to remove is success with a note, not an error', async () => {
  const o = await golden('nothing-to-remove', ['external-service', 'test']);
  assert.is(o.code, 0);
  assert.is(istioGolden('error-service-missing.txt'), 'Error: service "test" does not exist, skip\n');
  assert.is(o.stdout, '');
  assert.match(o.stderr, /^note: nothing to remove: neither Service "test" nor ServiceEntry "mesh-expansion-test" exists in namespace "default"$/m);
});

test('istioctl "service entry missing": a Service that kubectl-vm does not manage is never deleted', async () => {
  const o = await golden('error-service-not-managed', ['-n', 'default', 'external-service', 'dummyservice'], { seed: [plainService('default', 'dummyservice')] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Service default\/dummyservice is not managed by kubectl-vm \(it has no app.kubernetes.io\/managed-by=kubectl-vm label\), so it is not removed\nhint: kubectl-vm deletes only what it created/m);
  assert.not.match(o.stderr, /already exists|pick another name/);
  assert.not.ok(o.requests.some((r) => r.method === 'DELETE'));
  assert.ok(o.server.object('v1', 'Service', 'default', 'dummyservice'));
});

test('a ServiceEntry of the same name that is not ours stops everything, before any delete', async () => {
  const o = await golden('error-serviceentry-not-managed', ['external-service', 'vmtest'], { seed: [managedService('default', 'vmtest', ports), plainServiceEntry('default', 'mesh-expansion-vmtest')] });
  assert.is(o.code, 1);
  assert.not.ok(o.requests.some((r) => r.method === 'DELETE'));
  assert.ok(o.server.object('v1', 'Service', 'default', 'vmtest'), 'the managed Service is kept too: all or nothing');
});

test('B17: an orphaned ServiceEntry whose Service is gone is removed, with a note', async () => {
  const o = await golden('orphan-serviceentry', ['external-service', 'vmtest'], { seed: [managedServiceEntry('default', 'vmtest', ['11.11.11.11'], sePorts)] });
  assert.is(o.code, 0);
  assert.match(o.stderr, /^note: Service default\/vmtest was already gone$/m);
  assert.is(o.server.object('networking.istio.io/v1', 'ServiceEntry', 'default', 'mesh-expansion-vmtest'), undefined);
});

test('--dry-run=server deletes nothing and says so', async () => {
  const o = await golden('dry-run-server', ['es', 'vmtest', '--dry-run=server'], { seed: both('default', 'vmtest') });
  assert.is(o.code, 0);
  assert.match(o.stdout, /has been deleted for external service "vmtest" \(server dry run\)$/m);
  assert.ok(o.requests.filter((r) => r.method === 'DELETE').every((r) => r.query.dryRun === 'All'));
  assert.ok(o.server.object('v1', 'Service', 'default', 'vmtest'));
});

test('-o name lists what was deleted', async () => {
  const o = await golden('output-name', ['es', 'vmtest', '-o', 'name'], { seed: both('default', 'vmtest') });
  assert.is(o.stdout, 'service/vmtest\nserviceentry.networking.istio.io/mesh-expansion-vmtest\n');
});

test('the 1.4 documentation\'s "remove-from-mesh vmhttp" (no resource type) gets a did-you-mean', async () => {
  const o = await golden('error-doc-bug', ['-n', 'vm', 'vmhttp']);
  assert.is(o.code, 64);
  assert.match(o.stderr, /did you mean "kubectl vm remove-from-mesh external-service vmhttp -n vm"\?$/m);
});

test.run();
