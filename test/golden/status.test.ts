// status against the test API server: VMs from WorkloadEntries (manual and auto-registered, with istiod's
// annotations and Healthy condition) joined with records, the attention rules and their exit code, -A, -l,
// names, -o wide, and the JSON schema.
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespace } from '../helpers/builders.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { fromNow, HOUR, istiodEntry, vmRecord } from '../helpers/vm-builders.ts';

const test = suite('status');
const EXE = 'kubectl-vm-status';
const NS = 'vm';

/** A fleet: web-1 healthy and connected; web-2 auto-registered (joined by address) and disconnected with a token
 * about to expire; web-3 recorded but without a WorkloadEntry; legacy a WorkloadEntry without a record. */
function fleet() {
  return [
    namespace(NS),
    namespace('other'),
    vmRecord(NS, 'web-1', { address: '10.0.0.5', sshTarget: 'root@10.0.0.5:22' }),
    istiodEntry(NS, 'web-1', '10.0.0.5', { connectedAt: fromNow(-2 * HOUR), healthy: true, network: 'vm-net' }),
    vmRecord(NS, 'web-2', { address: '10.0.0.6', tokenValidMs: 5 * HOUR, runtime: 'docker' }),
    istiodEntry(NS, 'web-10.0.0.6-vm-net', '10.0.0.6', { connectedAt: fromNow(-5 * HOUR), disconnectedAt: fromNow(-HOUR), healthy: false, autoRegisteredGroup: 'web', network: 'vm-net' }),
    vmRecord(NS, 'web-3', { address: '10.0.0.7' }),
    istiodEntry(NS, 'legacy', '10.0.0.9'),
    vmRecord('other', 'db-1', { address: '10.1.0.5', group: 'db' }),
  ];
}

async function status(args: string[], c: Case = {}) {
  const o = await runCase(EXE, args, { seed: fleet(), ...c });
  await o.cluster.close();
  return o;
}

test('the table: one row per VM, joined by name or address, with health, connection, token and attention; reads only', async () => {
  const o = await status(['-n', NS]);
  assert.is(o.code, 0, o.stderr);
  const lines = o.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+ADDRESS\s+NETWORK\s+GROUP\s+HEALTH\s+CONNECTED\s+TOKEN EXPIRES\s+AGE\s+ATTENTION$/);
  assert.is(lines.length, 5);
  assert.match(lines[1]!, /^legacy\s+10\.0\.0\.9\s+-\s+-\s+-\s+-\s+-\s+\S+\s+no-record$/);
  assert.match(lines[2]!, /^web-1\s+10\.0\.0\.5\s+vm-net\s+web\s+healthy\s+yes \(1[12]\dm\)\s+in 4[78]h\s+\S+\s+-$/);
  assert.match(lines[3]!, /^web-2\s+10\.0\.0\.6\s+vm-net\s+web\s+unhealthy\s+no \([56]\dm\)\s+in 4h5\dm\s+\S+\s+token-expiring,disconnected,unhealthy$/);
  assert.match(lines[4]!, /^web-3\s+10\.0\.0\.7\s+-\s+web\s+-\s+-\s+in 4[78]h\s+\S+\s+no-workloadentry$/);
  assert.match(o.stderr, /^3 of 4 VMs need attention:\n  vm\/legacy: no kubectl-vm record: its token cannot be rotated or revoked per VM\n  vm\/web-2: token expires in 4h5\dm\n/);
  assert.match(o.stderr, /  vm\/web-2: health check failing: Get "http:\/\/10\.0\.0\.7:8080\/ready": connection refused\n/);
  assert.ok(o.requests.every((r) => r.method === 'GET'), 'status only reads');
  assert.is(o.requests.length, 2, 'one list of WorkloadEntries, one of records');
});

test('--fail-on-warn exits 1 when a VM needs attention, 0 when none does; --warn-before moves the line', async () => {
  const failing = await status(['-n', NS, '--fail-on-warn']);
  assert.is(failing.code, 1);
  const healthy = await status(['web-1', '-n', NS, '--fail-on-warn']);
  assert.is(healthy.code, 0, healthy.stderr);
  assert.is(healthy.stderr, '');
  const soon = await status(['web-1', '-n', NS, '--fail-on-warn', '--warn-before', '48h']);
  assert.is(soon.code, 1);
  assert.match(soon.stdout, /token-expiring$/m);
});

test('names, -l and -A pick the rows; an unknown name is NotFound and exit 1', async () => {
  const named = await status(['web-2', 'web-10.0.0.6-vm-net', '-n', NS]);
  assert.is(named.code, 0, named.stderr);
  assert.is(named.stdout.trimEnd().split('\n').length, 2, 'a record and its auto-registered entry are one VM');
  const missing = await status(['web-1', 'nosuch', '-n', NS]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^Error from server \(NotFound\): vm "nosuch" not found in namespace vm$/m);
  assert.match(missing.stdout, /^web-1 /m);
  const none = await status(['nosuch', '-n', NS]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^error: no VM named nosuch in namespace vm: it has neither a kubectl-vm record nor a WorkloadEntry$/m);
  const byLabel = await status(['-n', NS, '-l', 'kubectl-vm.io/group=web']);
  assert.equal(byLabel.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['web-1', 'web-2', 'web-3']);
  const all = await status(['-A']);
  assert.match(all.stdout, /^NAMESPACE\s+NAME\s+ADDRESS/);
  assert.match(all.stdout, /^other\s+db-1\s+10\.1\.0\.5\s+-\s+db\s/m);
  assert.ok(all.requests.some((r) => r.path === '/apis/networking.istio.io/v1/workloadentries'), 'one cluster-wide list');
  const conflicting = await status(['-A', '-n', NS]);
  assert.is(conflicting.code, 64);
  const empty = await status(['-n', 'other', '-l', 'app=nothing']);
  assert.is(empty.code, 0);
  assert.is(empty.stderr, 'No VMs found in other namespace.\n');
});

test('-o wide adds the SSH target, the runtime and the bundle hash', async () => {
  const o = await status(['-n', NS, '-o', 'wide']);
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^NAME\s+ADDRESS\s+NETWORK\s+GROUP\s+HEALTH\s+CONNECTED\s+TOKEN EXPIRES\s+AGE\s+SSH\s+RUNTIME\s+BUNDLE\s+ATTENTION$/m);
  assert.match(o.stdout, /^web-1\s.*\sroot@10\.0\.0\.5:22\s+systemd\s+abababababab\s+-$/m);
  assert.match(o.stdout, /^web-2\s.*\s-\s+docker\s+abababababab\s+token-expiring/m);
});

test('-o json: a VMStatusList with the documented fields; -o yaml the same document', async () => {
  const o = await status(['-n', NS, '-o', 'json']);
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stderr, '', 'the attention digest is for the table only');
  const doc = JSON.parse(o.stdout);
  assert.is(doc.apiVersion, 'kubectl-vm.io/v1alpha1');
  assert.is(doc.kind, 'VMStatusList');
  assert.equal(Object.keys(doc.metadata), ['generatedAt', 'warnBefore']);
  assert.equal(doc.summary, { total: 4, needAttention: 3, reasons: { 'no-record': 1, 'token-expiring': 1, disconnected: 1, unhealthy: 1, 'no-workloadentry': 1 } });
  const web2 = doc.items.find((i: { name: string }) => i.name === 'web-2');
  assert.equal(Object.keys(web2), ['namespace', 'name', 'address', 'network', 'group', 'workloadEntry', 'record', 'health', 'healthMessage', 'connection', 'connectionSince', 'tokenExpires', 'sshTarget', 'runtime', 'bundleSha256', 'createdAt', 'probe', 'attention']);
  assert.equal(web2.workloadEntry, { name: 'web-10.0.0.6-vm-net', autoRegistered: true });
  assert.equal(web2.record, { name: 'web-2', tokenGeneration: 1, revokedAt: null });
  assert.is(web2.health, 'unhealthy');
  assert.is(web2.connection, 'disconnected');
  assert.match(web2.connectionSince, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(web2.attention.map((a: { reason: string }) => a.reason), ['token-expiring', 'disconnected', 'unhealthy']);
  assert.is(web2.probe, null);
  const y = await status(['-n', NS, '-o', 'yaml']);
  const fromYaml = yaml.load(y.stdout) as typeof doc;
  assert.is(fromYaml.kind, 'VMStatusList');
  assert.equal(fromYaml.summary, doc.summary, 'the same document (another server, so other timestamps)');
  assert.equal(Object.keys(fromYaml.items[0]).sort(), Object.keys(doc.items[0]).sort());
});

test('a revoked record is marked, and a record past its expiry says expired', async () => {
  const o = await status(['-n', NS], { seed: [namespace(NS), vmRecord(NS, 'gone', { revokedAt: '2026-01-01T00:00:00Z' }), vmRecord(NS, 'old', { tokenValidMs: -2 * HOUR })] });
  assert.match(o.stdout, /^gone\s.*\srevoked\s+\S+\s+token-revoked,no-workloadentry$/m);
  assert.match(o.stdout, /^old\s.*\sexpired 1[12]\dm ago\s+\S+\s+token-expired,no-workloadentry$/m);
});

test.run();
