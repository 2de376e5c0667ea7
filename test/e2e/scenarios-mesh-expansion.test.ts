// End-to-end scenarios for the Istio 1.4–1.6 multi-network steps, through the real kubectl: against the test API
// server, or a real cluster when KUBECTL_VM_E2E_KUBECONFIG is set. The cacerts Secret goes into a namespace of
// the scenario's own (never a real istio-system); nothing depends on the test server, whose request log is
// checked only where it is there.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { cidrProblem } from '../../shared/istio/mesh-expansion.ts';
import { ROOT } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { scenarioSuite } from '../helpers/scenario.ts';

const { test, cluster, vm } = scenarioSuite('end-to-end scenarios: mesh expansion');

const fixture = (dir: string, f: string) => path.join(ROOT, 'test/fixtures', dir, f);
const caFlags = (dir: string) => ['ca-cert', 'ca-key', 'root-cert', 'cert-chain'].flatMap((f) => [`--${f}`, fixture(dir, `${f}.pem`)]);

test('plug in a CA: refused samples, created, unchanged, replaced only with --force; the key never printed', async () => {
  const ns = await cluster().namespace('kvm-e2e-istio');
  const sample = await vm(['ca-certs', 'create', ...caFlags('istio-sample-certs'), '--istio-namespace', ns]);
  assert.is(sample.code, 65);
  assert.match(sample.stderr, /refusing Istio's published sample certificates/);
  assert.is((await cluster().kubectl(['get', 'secret', 'cacerts', '-n', ns])).code, 1, 'nothing created');

  const created = await vm(['ca-certs', 'create', ...caFlags('ca-certs'), '--istio-namespace', ns]);
  assert.is(created.code, 0, created.stderr);
  assert.is(created.stdout, 'secret/cacerts created\n');
  const got = await cluster().kubectl(['get', 'secret', 'cacerts', '-n', ns, '-o', 'json']);
  const secret = JSON.parse(got.stdout);
  assert.is(secret.type, 'Opaque');
  assert.is(Buffer.from(secret.data['ca-key.pem'], 'base64').toString(), fs.readFileSync(fixture('ca-certs', 'ca-key.pem'), 'utf8'));

  const again = await vm(['ca-certs', 'create', ...caFlags('ca-certs'), '--istio-namespace', ns, '-o', 'yaml']);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /^  ca-key\.pem: '<redacted: \d+ bytes>'$/m);
  assert.not.ok(again.stdout.includes(secret.data['ca-key.pem'].slice(0, 40)));

  const other = await vm(['ca-certs', 'create', ...caFlags('istio-sample-certs'), '--allow-sample-certs', '--istio-namespace', ns]);
  assert.is(other.code, 1);
  assert.match(other.stderr, /hint: add --force/);
  const forced = await vm(['ca-certs', 'create', ...caFlags('istio-sample-certs'), '--allow-sample-certs', '--force', '--istio-namespace', ns]);
  assert.is(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /istiod reads cacerts only when it starts/);
});

test("extract a service account's keys from istio.<sa>; without it, the pointer to workload-entry configure", async () => {
  const ns = await cluster().namespace();
  const out = path.join(tempDir(), 'certs');
  const missing = await vm(['mesh-expansion', 'keys', '-n', ns, '--output-dir', out]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /workload-entry configure/);
  const made = await cluster().kubectl(['create', 'secret', 'generic', 'istio.default', '-n', ns, `--from-file=root-cert.pem=${fixture('ca-certs', 'root-cert.pem')}`, `--from-file=cert-chain.pem=${fixture('ca-certs', 'leaf-cert.pem')}`, `--from-file=key.pem=${fixture('ca-certs', 'leaf-key.pem')}`]);
  assert.is(made.code, 0, made.stderr);
  const keys = await vm(['mesh-expansion', 'keys', '-n', ns, '--output-dir', out]);
  assert.is(keys.code, 0, keys.stderr);
  assert.is(fs.readFileSync(path.join(out, 'key.pem'), 'utf8'), fs.readFileSync(fixture('ca-certs', 'leaf-key.pem'), 'utf8'));
  assert.is(fs.statSync(path.join(out, 'key.pem')).mode & 0o777, 0o600);
  assert.is(fs.statSync(out).mode & 0o777, 0o700);
});

test('cluster.env with the service range asked of the cluster, creating nothing', async () => {
  const ns = await cluster().namespace();
  const out = path.join(tempDir(), 'vm');
  cluster().server?.clearRequests();
  // -i names a namespace that exists: one the cluster says it does not have is an error (issue 12 §4).
  const r = await vm(['mesh-expansion', 'cluster-env', '-n', ns, '-i', ns, '--output-dir', out, '--inbound-ports', '8888', '--ingress-ip', '192.0.2.7']);
  assert.is(r.code, 0, r.stderr);
  const env = fs.readFileSync(path.join(out, 'cluster.env'), 'utf8');
  const cidrs = /^ISTIO_SERVICE_CIDR=(.+)$/m.exec(env)![1]!.split(',');
  for (const cidr of cidrs) assert.is(cidrProblem(cidr), undefined, cidr);
  if (cluster().server) assert.equal(cidrs, ['10.96.0.0/16']);
  assert.match(env, new RegExp(`^ISTIO_CP_AUTH=MUTUAL_TLS\\n[^\\n]+\\nISTIO_INBOUND_PORTS=8888\\nISTIO_SYSTEM_NAMESPACE=${ns}\\n$`));
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), `192.0.2.7 istio-citadel istio-pilot istio-pilot.${ns}\n`);
  const missing = await vm(['mesh-expansion', 'cluster-env', '-n', ns, '-i', `${ns}-nosuch`, '--output-dir', path.join(tempDir(), 'vm'), '--ingress-ip', '192.0.2.7']);
  assert.is(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, new RegExp(`^error: namespace ${ns}-nosuch not found$`, 'm'));
  const services = JSON.parse((await cluster().kubectl(['get', 'services', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(services.items, [], 'the probe was a dry run');
  if (cluster().server) assert.ok(cluster().server!.requests.filter((r) => r.method === 'POST').every((r) => r.query.dryRun === 'All'));
});

test.run();
