// mesh-expansion keys and cluster-env against the test API server: the files and their modes, the Istio ≥ 1.5
// answer, the service range from ServiceCIDRs or from a server-side dry run (nothing created), and bad input.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gatewayService, namespace } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';

const test = suite('mesh-expansion keys and cluster-env');
const KEYS = 'kubectl-vm-mesh_expansion-keys';
const ENV = 'kubectl-vm-mesh_expansion-cluster_env';
const fixture = (f: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/ca-certs', f), 'utf8');
const mode = (f: string) => fs.statSync(f).mode & 0o777;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The Secret Citadel kept per service account up to Istio 1.4 (type istio.io/key-and-cert). */
function citadelSecret(ns: string, sa: string, files: { key: string; chain: string; root: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `istio.${sa}`, namespace: ns, annotations: { 'istio.io/service-account.name': sa } },
    type: 'istio.io/key-and-cert',
    data: { 'key.pem': b64(files.key), 'cert-chain.pem': b64(files.chain), 'root-cert.pem': b64(files.root) },
  };
}
const LEAF = { key: fixture('leaf-key.pem'), chain: fixture('leaf-cert.pem'), root: fixture('root-cert.pem') };

async function runIt(exe: string, golden: string | undefined, args: string[], c: Case = {}) {
  const o = await runCase(exe, args, c);
  await o.cluster.close();
  if (golden) expectGolden(`mesh-expansion/${golden}.golden`, o.transcript.replace(/"(key|cert-chain|root-cert)\.pem":"[A-Za-z0-9+/=]+"/g, '"$1.pem":"<base64>"'));
  return o;
}

test('keys: root-cert.pem, cert-chain.pem and key.pem from istio.<sa>, the key 0600 in a 0700 directory', async () => {
  const out = path.join(tempDir(), 'certs');
  const o = await runIt(KEYS, 'keys', ['-n', 'vm', '-s', 'vm-sa', '--output-dir', out], { seed: [namespace('vm'), citadelSecret('vm', 'vm-sa', LEAF)] });
  assert.is(o.code, 0, o.stderr);
  assert.equal(fs.readdirSync(out).sort(), ['cert-chain.pem', 'key.pem', 'root-cert.pem']);
  assert.is(fs.readFileSync(path.join(out, 'key.pem'), 'utf8'), LEAF.key);
  assert.is(fs.readFileSync(path.join(out, 'cert-chain.pem'), 'utf8'), LEAF.chain);
  assert.is(fs.readFileSync(path.join(out, 'root-cert.pem'), 'utf8'), LEAF.root);
  assert.is(mode(out), 0o700);
  assert.is(mode(path.join(out, 'key.pem')), 0o600);
  assert.is(mode(path.join(out, 'cert-chain.pem')), 0o644);
  assert.not.ok(o.stdout.includes(LEAF.key.split('\n')[1]!) || o.stderr.includes(LEAF.key.split('\n')[1]!), 'the key is not printed');
  assert.equal(o.requests.map((r) => `${r.method} ${r.path}`), ['GET /api/v1/namespaces/vm/secrets/istio.vm-sa']);
});

test('keys on Istio ≥ 1.5: no istio.<sa> Secret; says why and points to workload-entry configure; writes nothing', async () => {
  const out = path.join(tempDir(), 'certs');
  const o = await runIt(KEYS, 'keys-istio-1.5', ['-n', 'vm', '--output-dir', out], { seed: [namespace('vm')] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: secret istio\.default was not found in namespace vm$/m);
  assert.match(o.stderr, /Istio 1\.5 and later no longer keep a Secret istio\.<service-account>/);
  assert.match(o.stderr, /^hint: on Istio 1\.8 or later, write the VM's files with: kubectl vm workload-entry configure /m);
  assert.not.ok(fs.existsSync(out));
});

test('keys: bad input is refused, nothing written', async () => {
  const out = path.join(tempDir(), 'certs');
  const noDir = await runIt(KEYS, undefined, ['-n', 'vm']);
  assert.is(noDir.code, 64);
  assert.match(noDir.stderr, /^error: expecting an output directory$/m);
  assert.is(noDir.requests.length, 0);
  const badSa = await runIt(KEYS, undefined, ['-n', 'vm', '-s', 'Bad_SA', '--output-dir', out]);
  assert.is(badSa.code, 64);
  assert.match(badSa.stderr, /^error: invalid service account "Bad_SA"/m);
  const mismatch = await runIt(KEYS, 'keys-mismatch', ['-n', 'vm', '--output-dir', out], { seed: [namespace('vm'), citadelSecret('vm', 'default', { ...LEAF, key: fixture('other-key.pem') })] });
  assert.is(mismatch.code, 65);
  assert.match(mismatch.stderr, /^error: secret vm\/istio\.default does not hold a usable key and certificate: key\.pem is not the key of the first certificate in cert-chain\.pem$/m);
  const partial = citadelSecret('vm', 'default', LEAF) as any;
  delete partial.data['key.pem'];
  const missingKey = await runIt(KEYS, undefined, ['-n', 'vm', '--output-dir', out], { seed: [namespace('vm'), partial] });
  assert.is(missingKey.code, 65);
  assert.match(missingKey.stderr, /^error: secret vm\/istio\.default has no key\.pem$/m);
  assert.not.ok(fs.existsSync(out));
});

const ISTIO = () => [namespace('istio-system'), gatewayService('istio-system', 'istio-ingressgateway', { ip: '35.232.112.158' })];

test('cluster-env without ServiceCIDRs: the range from a server-side dry run (kube-api fixture 13), nothing created', async () => {
  const out = path.join(tempDir(), 'vm');
  const o = await runIt(ENV, 'cluster-env-dry-run', ['--output-dir', out, '--inbound-ports', '8888,3306'], { seed: ISTIO() });
  assert.is(o.code, 0, o.stderr);
  assert.is(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), 'ISTIO_CP_AUTH=MUTUAL_TLS\nISTIO_SERVICE_CIDR=10.96.0.0/16\nISTIO_INBOUND_PORTS=8888,3306\nISTIO_SYSTEM_NAMESPACE=istio-system\n');
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), '35.232.112.158 istio-citadel istio-pilot istio-pilot.istio-system\n');
  assert.is(mode(out), 0o700);
  assert.is(mode(path.join(out, 'cluster.env')), 0o644);
  const probe = o.requests.find((r) => r.method === 'POST')!;
  assert.is(probe.query.dryRun, 'All');
  assert.is(probe.status, 422);
  assert.is(o.server.object('v1', 'Service', 'default', 'kubectl-vm-service-cidr-probe'), undefined, 'nothing was created');
  assert.not.ok(o.requests.some((r) => ['PUT', 'PATCH', 'DELETE'].includes(r.method)));
});

test('cluster-env where the API serves ServiceCIDRs: every range, "kubernetes" first, and no dry run', async () => {
  const out = path.join(tempDir(), 'vm');
  const cidr = (name: string, cidrs: string[]) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name }, spec: { cidrs } });
  const o = await runIt(ENV, 'cluster-env-servicecidr', ['--output-dir', out, '--cp-auth', 'NONE', '-i', 'istio-system'], {
    server: { serviceCIDRs: true },
    seed: [...ISTIO(), cidr('extra', ['10.100.0.0/16']), cidr('kubernetes', ['10.96.0.0/16', 'fd00:10:96::/112'])],
  });
  assert.is(o.code, 0, o.stderr);
  assert.match(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), /^ISTIO_CP_AUTH=NONE\nISTIO_SERVICE_CIDR=10\.96\.0\.0\/16,fd00:10:96::\/112,10\.100\.0\.0\/16\nISTIO_SYSTEM_NAMESPACE=istio-system\n$/);
  assert.not.ok(o.requests.some((r) => r.method === 'POST'), 'no dry run needed');
});

test('cluster-env with --service-cidr and --ingress-ip asks the cluster nothing', async () => {
  const out = path.join(tempDir(), 'vm');
  const o = await runIt(ENV, undefined, ['--output-dir', out, '--service-cidr', '172.21.0.0/16', '--ingress-ip', '192.0.2.7', '--istio-namespace', 'istio-custom']);
  assert.is(o.code, 0, o.stderr);
  assert.is(o.requests.length, 0);
  assert.is(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), 'ISTIO_CP_AUTH=MUTUAL_TLS\nISTIO_SERVICE_CIDR=172.21.0.0/16\nISTIO_SYSTEM_NAMESPACE=istio-custom\n');
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), '192.0.2.7 istio-citadel istio-pilot istio-pilot.istio-custom\n');
});

test('cluster-env: no gateway gives an empty hosts and a warning', async () => {
  const out = path.join(tempDir(), 'vm');
  const o = await runIt(ENV, undefined, ['--output-dir', out, '--service-cidr', '10.96.0.0/12'], { seed: [namespace('istio-system')] });
  assert.is(o.code, 0, o.stderr);
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), '');
  assert.match(o.stderr, /^warning: hosts is empty: give the address VMs reach the ingress gateway at with --ingress-ip$/m);
});

test('cluster-env: when neither method finds the range, an error lists what was tried and asks for --service-cidr', async () => {
  const out = path.join(tempDir(), 'vm');
  const o = await runIt(ENV, 'cluster-env-not-found', ['--output-dir', out, '-n', 'nope'], { seed: ISTIO() });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: cannot find the service IP range of the cluster$/m);
  assert.match(o.stderr, /^  the API does not serve ServiceCIDRs/m);
  assert.match(o.stderr, /^hint: give it with --service-cidr/m);
  assert.not.ok(fs.existsSync(out));
});

for (const [args, message] of [
  [['--service-cidr', '10.96.0.0'], /^error: invalid --service-cidr "10\.96\.0\.0": expected an address range like 10\.96\.0\.0\/12$/m],
  [['--service-cidr', '10.96.0.1/12'], /^error: invalid --service-cidr "10\.96\.0\.1\/12": 10\.96\.0\.1 has bits set beyond the \/12 prefix$/m],
  [['--service-cidr', '10.96.0.0/33'], /the prefix length must be 0 to 32/],
  [['--service-cidr', '10.96.0.0/12,'], /empty range/],
  [['--inbound-ports', '8888,70000'], /^error: invalid --inbound-ports "8888,70000": "70000" is not a port number from 1 to 65535$/m],
  [['--inbound-ports', '8888,8888'], /port 8888 is given twice/],
  [['--cp-auth', 'TLS'], /^error: --cp-auth must be one of "MUTUAL_TLS", "NONE", not "TLS"$/m],
  [['--ingress-ip', 'gateway.example.com'], /^error: invalid --ingress-ip "gateway\.example\.com"/m],
  [['--istio-namespace', 'Istio_System'], /^error: invalid namespace "Istio_System"/m],
  [[], /^error: expecting an output directory$/m],
] as const) {
  test(`cluster-env refuses ${args.join(' ') || 'no --output-dir'} (64) before any request`, async () => {
    const out = path.join(tempDir(), 'vm');
    const o = await runIt(ENV, undefined, args.length ? ['--output-dir', out, ...args] : []);
    assert.is(o.code, 64, o.stderr);
    assert.match(o.stderr, message);
    assert.is(o.requests.length, 0);
    assert.not.ok(fs.existsSync(out));
  });
}

test.run();
