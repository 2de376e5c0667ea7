// workload-group create: istioctl's expected output byte for byte, B13's fixes, probes, --apply.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespace } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { missingPath } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';

const test = suite('workload-group create');
const DERIVED = path.join(ROOT, 'test/fixtures/istio-golden/derived');
const derived = (f: string) => fs.readFileSync(path.join(DERIVED, f), 'utf8');
const EXE = 'kubectl-vm-workload_group-create';

async function create(name: string | undefined, args: string[], c: Case = {}) {
  const o = await runCase(EXE, args, c);
  await o.cluster.close();
  if (name) expectGolden(`workload-group-create/${name}.golden`, o.transcript);
  return o;
}

test('istioctl "default" and "custom": the same YAML, byte for byte, and no request', async () => {
  const d = await create('default', ['--name', 'foo', '--namespace', 'bar']);
  assert.is(d.stdout, derived('workload-group-create/default.yaml'));
  const custom = ['--name', 'foo', '-n', 'bar', '--labels', 'app=foo,bar=baz', '--annotations', 'annotation=foobar', '--ports', 'grpc=3550,http=8080', '--serviceAccount', 'test', '--weight', '100'];
  const c = await create('custom', custom);
  assert.is(c.stdout, derived('workload-group-create/custom.yaml'));
  assert.is(c.requests.length, 0);
  const short = await create(undefined, ['--name', 'foo', '-n', 'bar', '-l', 'app=foo', '-l', 'bar=baz', '-a', 'annotation=foobar', '-p', 'grpc=3550', '-p', 'http=8080', '-s', 'test', '-w', '100']);
  assert.is(short.stdout, derived('workload-group-create/custom.yaml'));
});

test('network and locality print in go-yaml order (serialization-check)', async () => {
  const check = derived('serialization-check-output.txt');
  const expected = check.split('=== workload group create (unstructured map)\n')[1]!;
  const o = await create(undefined, ['--name', 'foo', '-n', 'bar', '-l', 'app=foo,bar=baz', '-a', 'annotation=foobar', '-p', 'grpc=3550,http=8080', '-s', 'test', '-w', '100', '--network', 'n1', '--locality', 'r/z']);
  assert.is(o.stdout, expected);
});

test('istioctl "missing name": same message; B13: without -n the namespace is the context\'s, not an error', async () => {
  const o = await create('error-missing-name', ['-n', 'bar']);
  assert.is(o.code, 64);
  assert.is(o.stderr.split('\n')[0] + '\n', derived('workload-group-create/error-missing-name.txt').replace('Error: ', 'error: '));
  assert.is(derived('workload-group-create/error-missing-namespace.txt'), 'Error: expecting a workload namespace\n');
  const ns = await create(undefined, ['--name', 'foo'], { env: { KUBECONFIG: missingPath('kubeconfig') } });
  assert.is(ns.code, 0, ns.stderr);
  assert.match(ns.stdout, /^ {2}namespace: default$/m);
});

test('B13: a bad port, port name, label or weight is an error, never port 0', async () => {
  const cases: [string[], RegExp][] = [
    [['-p', 'http=abc'], /^error: invalid port "http=abc": the port must be a number from 1 to 65535$/m],
    [['-p', 'http'], /^error: invalid port "http"/m],
    [['-p', 'http=70000'], /^error: invalid port "http=70000"/m],
    [['-p', 'bad name=80'], /^error: invalid port name "bad name"/m],
    [['-l', 'app'], /^error: invalid label "app": expected key=value$/m],
    [['--weight', '-1'], /^error: invalid --weight "-1"/m],
  ];
  for (const [extra, message] of cases) {
    const o = await create(undefined, ['--name', 'foo', '-n', 'bar', ...extra]);
    assert.is(o.code, 64, extra.join(' '));
    assert.match(o.stderr, message);
  }
});

test('readiness probes: HTTP, TCP and exec, with timings; one kind at a time', async () => {
  const http = await create('probe-http', ['--name', 'foo', '-n', 'bar', '--probe-http-get', '8080/healthz', '--probe-period', '10', '--probe-failure-threshold', '3']);
  assert.match(http.stdout, /^ {2}probe:\n {4}failureThreshold: 3\n {4}httpGet:\n {6}path: \/healthz\n {6}port: 8080\n {4}periodSeconds: 10\n/m);
  const exec = await create(undefined, ['--name', 'foo', '-n', 'bar', '--probe-exec', 'sh -c "test -f /tmp/ready"', '-o', 'json']);
  assert.equal(JSON.parse(exec.stdout).spec.probe, { exec: { command: ['sh', '-c', 'test -f /tmp/ready'] } });
  const tcp = await create(undefined, ['--name', 'foo', '-n', 'bar', '--probe-tcp', '9000', '-o', 'json']);
  assert.equal(JSON.parse(tcp.stdout).spec.probe, { tcpSocket: { port: 9000 } });
  const both = await create(undefined, ['--name', 'foo', '-n', 'bar', '--probe-tcp', '9000', '--probe-http-get', '80']);
  assert.is(both.code, 64);
  assert.match(both.stderr, /cannot be combined/);
  const timingOnly = await create(undefined, ['--name', 'foo', '-n', 'bar', '--probe-period', '5']);
  assert.match(timingOnly.stderr, /^error: the probe timing flags need a probe$/m);
});

test('--apply creates it with the managed-by label; again is unchanged; someone else\'s is refused', async () => {
  const o = await create('apply', ['--name', 'vmapp', '-n', 'vm', '-p', 'http=8080', '--apply'], { seed: [namespace('vm')] });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'workloadgroup.networking.istio.io/vmapp created\n');
  const stored = o.server.object('networking.istio.io/v1', 'WorkloadGroup', 'vm', 'vmapp')!;
  assert.is(stored.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(stored.spec.template, { ports: { http: 8080 }, serviceAccount: 'default' });
  const again = await create(undefined, ['--name', 'vmapp', '-n', 'vm', '-p', 'http=8080', '--apply'], { seed: [namespace('vm'), stored] });
  assert.is(again.stdout, 'workloadgroup.networking.istio.io/vmapp unchanged\n');
  const { metadata, ...rest } = stored;
  const foreign = { ...rest, metadata: { name: metadata.name, namespace: metadata.namespace } };
  const refused = await create(undefined, ['--name', 'vmapp', '-n', 'vm', '--apply'], { seed: [namespace('vm'), foreign] });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /^error: WorkloadGroup vm\/vmapp already exists and is not managed by kubectl-vm/m);
});

test('--apply --dry-run=server is validated by the API server and stores nothing', async () => {
  const o = await create(undefined, ['--name', 'vmapp', '-n', 'vm', '--apply', '--dry-run=server'], { seed: [namespace('vm')] });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'workloadgroup.networking.istio.io/vmapp created (server dry run)\n');
  // The one write, with dryRun=All, and nothing else sent (a check over every request would pass with none).
  assert.equal(o.requests.map((r) => `${r.method} ${r.path} dryRun=${r.query.dryRun} ${r.status}`), ['POST /apis/networking.istio.io/v1/namespaces/vm/workloadgroups dryRun=All 201']);
  assert.is(o.server.object('networking.istio.io/v1', 'WorkloadGroup', 'vm', 'vmapp'), undefined);
});

test('--help names it kubectl vm workload-group create', async () => {
  const o = await create('help', ['--help']);
  assert.match(o.stdout, /^kubectl vm workload-group create\n/);
});

test.run();
