// workload-entry configure end to end: istioctl's golden cases against the test API server seeded as
// istio-golden/INDEX.md describes, then our fixes (B2–B11), errors, dry runs, archives and fleets.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeClaims } from '../apiserver/token.ts';
import { configMap, gatewayService, namespace, revisionTag, serviceAccount } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { DIST, ROOT, run, runPlugin } from '../helpers/run.ts';
import { startCluster } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';

const test = suite('workload-entry configure');
const TESTDATA = path.join(ROOT, 'test/fixtures/istio-golden/master/istioctl/pkg/workload/testdata');
const golden = (c: string, f: string) => fs.readFileSync(path.join(TESTDATA, c, f), 'utf8');
const EXE = 'kubectl-vm-workload_entry-configure';
const FILES = ['cluster.env', 'hosts', 'install.sh', 'istio-token', 'mesh.yaml', 'root-cert.pem'];

/** The fake cluster of istioctl's workload_test.go (INDEX.md §1). */
function istioSeed(meshConfigName: string, mesh: string) {
  return [
    namespace('bar'),
    { ...serviceAccount('bar', 'vm-serviceaccount'), secrets: [{ name: 'test' }] },
    configMap('bar', 'istio-ca-root-cert', { 'root-cert.pem': 'fake-CA-cert' }),
    configMap('istio-system', meshConfigName, { mesh }),
  ];
}

const mode = (f: string) => fs.statSync(f).mode & 0o777;
const listing = (dir: string) => fs.readdirSync(dir).sort();

async function configure(name: string | undefined, args: string[], c: Case = {}) {
  const o = await runCase(EXE, args, c);
  await o.cluster.close();
  if (name) expectGolden(`workload-entry-configure/${name}.golden`, o.transcript);
  return o;
}

for (const [dir, internal, ingress] of [
  ['vmconfig/ipv4', '10.10.10.10', '10.10.10.11'],
  ['vmconfig/ipv6', 'fd00:10:96::1', 'fd00:10:96::2'],
] as const) {
  test(`istioctl golden ${dir}: the files byte for byte with their modes (B9), then the run without --cluster-id fails and writes nothing`, async () => {
    const out = path.join(tempDir(), 'out');
    const seed = istioSeed('istio-rev-1', golden(dir, 'meshconfig.yaml'));
    const wg = path.join(TESTDATA, dir, 'workloadgroup.yaml');
    const o = await configure(dir.replace('/', '-'), ['-f', wg, '--internal-ip', internal, '--ingress-ip', ingress, '--cluster-id', 'Kubernetes', '--revision', 'rev-1', '--output-dir', out], { seed });
    assert.is(o.code, 0, o.stderr);
    assert.is(o.stdout, `Configuration generation into directory ${out} was successful\n`);
    assert.equal(listing(out), FILES, 'no unexpected file (istio checkOutputFiles); install.sh is ours');
    for (const f of ['cluster.env', 'mesh.yaml', 'hosts', 'root-cert.pem']) assert.is(fs.readFileSync(path.join(out, f), 'utf8'), golden(dir, `${f}.golden`), f);
    // istioctl's fake TokenRequest returns "" (istio-token.golden is empty); a real one returns a JWT, kept verbatim.
    assert.is(golden(dir, 'istio-token.golden'), '');
    const claims = decodeClaims(fs.readFileSync(path.join(out, 'istio-token'), 'utf8'));
    assert.equal(claims.aud, ['istio-ca']);
    assert.is(claims.sub, 'system:serviceaccount:bar:vm-serviceaccount');
    assert.is(claims.exp - claims.iat, 3600);
    assert.is(mode(out), 0o700, 'B9: the directory is 0700');
    assert.is(mode(path.join(out, 'istio-token')), 0o600, 'B9: the token is 0600');
    for (const f of ['cluster.env', 'mesh.yaml', 'hosts', 'root-cert.pem']) assert.is(mode(path.join(out, f)), 0o644, f);
    const before = Object.fromEntries(FILES.map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')]));

    const again = await configure(undefined, ['-f', wg, '--internal-ip', internal, '--revision', 'rev-1', '--output-dir', out], { seed });
    assert.is(again.code, 1);
    assert.match(again.stderr, /^error: failed to automatically determine the --cluster-id: configmap istio-sidecar-injector-rev-1 was not found in namespace istio-system$/m);
    assert.not.ok(again.requests.some((r) => r.path.endsWith('/token')), 'fails before any token is minted');
    for (const f of FILES) assert.is(fs.readFileSync(path.join(out, f), 'utf8'), before[f], `B11: ${f} is as it was`);
  });
}

test('istioctl golden vmconfig-nil-proxy-metadata: byte for byte, hosts empty with a warning', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure('vmconfig-nil-proxy-metadata', ['-f', path.join(TESTDATA, 'vmconfig-nil-proxy-metadata/workloadgroup.yaml'), '--internal-ip', '10.10.10.10', '--cluster-id', 'Kubernetes', '--output-dir', out], {
    seed: istioSeed('istio', 'defaultConfig: {}'),
  });
  assert.is(o.code, 0, o.stderr);
  for (const f of ['cluster.env', 'mesh.yaml', 'hosts', 'root-cert.pem']) assert.is(fs.readFileSync(path.join(out, f), 'utf8'), golden('vmconfig-nil-proxy-metadata', `${f}.golden`), f);
  assert.match(o.stderr, /^warning: Could not auto-detect IP for istiod\.istio-system\.svc\/istio-system\. Use --ingress-ip to manually specify the Gateway address to reach istiod from the VM\.$/m);
});

const INDEX_SEED = () => [...istioSeed('istio', 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n'), configMap('istio-system', 'istio-sidecar-injector', { values: '{"global":{"multiCluster":{"clusterName":"cluster1"},"network":"net1"}}' })];
const WG = (extra = '') => `apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: vmapp\n  namespace: bar\nspec:\n  template:\n    serviceAccount: vm-serviceaccount\n${extra}`;
function wgFile(text: string): string {
  const f = path.join(tempDir(), 'wg.yaml');
  fs.writeFileSync(f, text);
  return f;
}

test('istioctl "missing input" and "missing output": the same messages, as usage errors', async () => {
  const input = await configure('error-missing-input', ['-n', 'bar', '--output-dir', 'temp', '--cluster-id', 'cid']);
  assert.is(input.code, 64);
  assert.is(input.stderr.split('\n')[0] + '\n', fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/workload-entry-configure/error-missing-input.txt'), 'utf8').replace('Error: ', 'error: '));
  for (const args of [['-f', 'file', '--cluster-id', 'cid'], ['--name', 'foo', '-n', 'bar', '--cluster-id', 'cid']]) {
    const o = await configure(undefined, args);
    assert.is(o.code, 64);
    assert.is(o.stderr.split('\n')[0] + '\n', fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/workload-entry-configure/error-missing-output.txt'), 'utf8').replace('Error: ', 'error: '));
    assert.is(o.requests.length, 0);
  }
});

test('B3: the WorkloadGroup from the API gets the same defaults; the cluster ID comes from the sidecar injector; hosts from the gateway', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure('from-api', ['--name', 'vmapp', '-n', 'bar', '--output-dir', out], {
    seed: [...INDEX_SEED(), { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'vmapp', namespace: 'bar' }, spec: { template: { ports: { http: 8080, grpc: 9090 } } } }, serviceAccount('bar', 'default'), gatewayService('istio-system', 'istio-eastwestgateway', { ip: '192.0.2.10' })],
  });
  assert.is(o.code, 0, o.stderr);
  const env = fs.readFileSync(path.join(out, 'cluster.env'), 'utf8');
  assert.match(env, /^ISTIO_META_CLUSTER_ID='cluster1'$/m);
  assert.match(env, /^SERVICE_ACCOUNT='default'$/m, 'B3: the API path gets the defaults too');
  assert.match(env, /^ISTIO_INBOUND_PORTS='8080,9090'$/m, 'B2: sorted by number');
  assert.match(env, /^TRUST_DOMAIN='cluster\.local'$/m);
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), '192.0.2.10 istiod.istio-system.svc\n');
});

test('the revision of the "default" revision tag is used when --revision is not given', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure('revision-tag', ['-f', wgFile(WG()), '--cluster-id', 'c1', '--ingress-ip', '192.0.2.1', '--output-dir', out], {
    seed: [...istioSeed('istio-canary', 'defaultConfig: {}'), revisionTag('canary')],
  });
  assert.is(o.code, 0, o.stderr);
  assert.match(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), /^CA_ADDR='istiod-canary\.istio-system\.svc:15012'$/m);
  assert.match(fs.readFileSync(path.join(out, 'mesh.yaml'), 'utf8'), /discoveryAddress: istiod-canary\.istio-system\.svc:15012/);
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), '192.0.2.1 istiod-canary.istio-system.svc\n');
});

test('B6: a load balancer with only a hostname is resolved, with a note; B7: externalIPs are the fallback', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', out], { seed: [...INDEX_SEED(), gatewayService('istio-system', 'istio-eastwestgateway', { hostname: 'localhost' })] });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^note: the load balancer of istio-system\/istio-eastwestgateway has the hostname localhost; hosts uses its address (127\.0\.0\.1|::1), which can change$/m);
  assert.match(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), /^(127\.0\.0\.1|::1) istiod\.istio-system\.svc\n$/);
  const ext = path.join(tempDir(), 'ext');
  const e = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', ext, '--ingress-service', 'gw.istio-system'], { seed: [...INDEX_SEED(), gatewayService('istio-system', 'gw', undefined, ['198.51.100.4'])] });
  assert.is(e.code, 0, e.stderr);
  assert.is(fs.readFileSync(path.join(ext, 'hosts'), 'utf8'), '198.51.100.4 istiod.istio-system.svc\n');
});

test('B7, issue 12 §4: a gateway lookup that keeps failing is an error (only "not found" degrades); no token, nothing written', async () => {
  for (const [status, code, message] of [
    [403, 77, /^error: cannot read the gateway Service istio-system\/istio-eastwestgateway: services "istio-eastwestgateway" is forbidden/m],
    [503, 69, /^error: cannot read the gateway Service istio-system\/istio-eastwestgateway: /m],
  ] as const) {
    const out = path.join(tempDir(), 'out');
    const o = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', out], {
      seed: INDEX_SEED(),
      faults: [{ method: 'GET', path: '/api/v1/namespaces/istio-system/services/istio-eastwestgateway', status, times: 100 }],
    });
    assert.is(o.code, code, `${status}: ${o.stderr}`);
    assert.match(o.stderr, message);
    assert.not.ok(o.requests.some((r) => r.path.endsWith('/token')), 'no token is minted');
    assert.not.ok(fs.existsSync(out), 'nothing is written');
  }
});

test('B7, B10: bad flag values are refused before any request', async () => {
  const cases: [string[], RegExp][] = [
    [['--internal-ip', '10.0.0.300'], /^error: invalid --internal-ip "10\.0\.0\.300": expected an IPv4 or IPv6 address$/m],
    [['--ingress-ip', 'gw.example.com'], /^error: invalid --ingress-ip "gw\.example\.com"/m],
    [['--token-duration', '60'], /^error: invalid --token-duration "60": it must be between 10 minutes and 2\^32 seconds$/m],
    [['--ingress-service', 'a.b.c'], /^error: invalid --ingress-service "a\.b\.c": expected <service> or <service>\.<namespace>$/m],
    [['--internal-ip', '10.0.0.1', '--external-ip', '10.0.0.2'], /^error: arguments internal-ip and external-ip are mutually exclusive$/m],
    [['-o', 'outdir'], /^error: -o is not the output directory here[^\n]*\nhint: write the files with --output-dir outdir$/m],
    [['-o', 'yaml'], /^error: -o yaml: workload-entry configure writes files, not Kubernetes objects, so it has no -o\nhint: see the files without writing them with --dry-run; write them with --output-dir <dir> or --bundle <file.tgz>$/m],
  ];
  for (const [extra, message] of cases) {
    const o = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', path.join(tempDir(), 'x'), ...extra]);
    assert.is(o.code, 64, extra.join(' '));
    assert.match(o.stderr, message);
    assert.is(o.requests.length, 0);
  }
});

test('errors name what is missing and where: WorkloadGroup, ConfigMaps, service account, permission', async () => {
  const out = () => path.join(tempDir(), 'out');
  const wg = await configure('error-missing-workloadgroup', ['--name', 'nope', '-n', 'bar', '--output-dir', out(), '--cluster-id', 'c'], { seed: INDEX_SEED() });
  assert.is(wg.code, 1);
  assert.match(wg.stderr, /^error: workloadgroup nope not found in namespace bar\nhint: create it: kubectl vm workload-group create --name nope -n bar --apply$/m);
  const mesh = await configure('error-missing-meshconfig', ['-f', wgFile(WG()), '--output-dir', out(), '--cluster-id', 'c'], { seed: [namespace('bar')] });
  assert.match(mesh.stderr, /^error: configmap istio was not found in namespace istio-system$/m);
  const root = await configure(undefined, ['-f', wgFile(WG().replace('namespace: bar', 'namespace: other')), '--output-dir', out(), '--cluster-id', 'c'], { seed: [...INDEX_SEED(), namespace('other')] });
  assert.match(root.stderr, /^error: configmap istio-ca-root-cert was not found in namespace other$/m);
  const sa = await configure('error-missing-serviceaccount', ['-f', wgFile(WG().replace('vm-serviceaccount', 'ghost')), '--output-dir', out()], { seed: INDEX_SEED() });
  assert.is(sa.code, 1);
  assert.match(sa.stderr, /^error: could not create a token under service account ghost in namespace bar: serviceaccounts "ghost" not found\nhint: create it: kubectl create serviceaccount ghost -n bar$/m);
  const forbidden = await configure('error-token-forbidden', ['-f', wgFile(WG()), '--output-dir', out()], {
    seed: INDEX_SEED(),
    faults: [{ method: 'POST', path: '/api/v1/namespaces/bar/serviceaccounts/vm-serviceaccount/token', status: 403 }],
  });
  assert.is(forbidden.code, 77);
  assert.match(forbidden.stderr, /^hint: ask a cluster admin for "create" on serviceaccounts\/token in namespace "bar"/m);
});

test('--dry-run prints the files, mints no token, writes nothing', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure('dry-run', ['-f', wgFile(WG()), '--output-dir', out, '--ingress-ip', '192.0.2.1', '--dry-run'], { seed: INDEX_SEED() });
  assert.is(o.code, 0, o.stderr);
  assert.not.ok(o.requests.some((r) => r.path.endsWith('/token')), 'no TokenRequest');
  assert.match(o.stdout, /^## .*istio-token \(mode 0600\): <token: not minted in a dry run>$/m);
  assert.not.match(o.stdout, /eyJ/, 'no token');
  assert.not.ok(fs.existsSync(out));
});

test('--bundle writes one archive (0600) with the same files and modes', async () => {
  const archive = path.join(tempDir(), 'vm.tgz');
  const o = await configure(undefined, ['-f', wgFile(WG()), '--bundle', archive, '--ingress-ip', '192.0.2.1'], { seed: INDEX_SEED() });
  assert.is(o.code, 0, o.stderr);
  assert.is(mode(archive), 0o600);
  const listingText = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' });
  for (const [f, perm] of [['istio-token', '-rw-------'], ['cluster.env', '-rw-r--r--'], ['install.sh', '-rwxr-xr-x'], ['hosts', '-rw-r--r--']]) {
    assert.match(listingText, new RegExp(`^${perm} .* ${f.replace('.', '\\.')}$`, 'm'), f);
  }
  const dir = tempDir();
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  assert.is(fs.readFileSync(path.join(dir, 'hosts'), 'utf8'), '192.0.2.1 istiod.istio-system.svc\n');
});

test('B11: re-running into a directory replaces our files and keeps the others', async () => {
  const out = tempDir();
  fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
  const o = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', out], { seed: INDEX_SEED() });
  assert.is(o.code, 0, o.stderr);
  assert.equal(listing(out), [...FILES, 'notes.txt'].sort());
  assert.not.ok(fs.readdirSync(path.dirname(out)).some((f) => f.startsWith(`.${path.basename(out)}.`)), 'no staging directory left behind');
});

test('-f - reads the WorkloadGroup from workload-group create through a pipe', async () => {
  const cluster = await startCluster({ forceTestServer: true, seed: INDEX_SEED() });
  const created = await runPlugin('kubectl-vm-workload_group-create', ['--name', 'piped', '-n', 'bar', '-s', 'vm-serviceaccount', '-p', 'http=8080'], cluster.env);
  const out = path.join(tempDir(), 'out');
  const r = await run(path.join(DIST, EXE), ['-f', '-', '--output-dir', out, '--ingress-ip', '192.0.2.1'], { env: cluster.env, input: created.stdout });
  await cluster.close();
  assert.is(r.code, 0, r.stderr);
  assert.match(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), /^ISTIO_SERVICE='piped\.bar'$/m);
  assert.match(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), /^ISTIO_INBOUND_PORTS='8080'$/m);
});

test('istioctl\'s camelCase flags still work, for scripts written for istioctl', async () => {
  const out = path.join(tempDir(), 'out');
  const o = await configure(undefined, ['-f', wgFile(WG()), '--output-dir', out, '--clusterID', 'legacy', '--ingressIP', '192.0.2.9', '--internalIP', '10.0.0.9', '--tokenDuration', '7200'], { seed: INDEX_SEED() });
  assert.is(o.code, 0, o.stderr);
  assert.match(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), /^ISTIO_META_CLUSTER_ID='legacy'$/m);
  const claims = decodeClaims(fs.readFileSync(path.join(out, 'istio-token'), 'utf8'));
  assert.is(claims.exp - claims.iat, 7200);
});

test('a fleet: several WorkloadGroups give one directory each; shared ConfigMaps are read once per namespace', async () => {
  const out = path.join(tempDir(), 'fleet');
  const docs = ['a', 'b', 'c'].map((n, i) => WG().replace('name: vmapp', `name: ${n}`).replace('namespace: bar', `namespace: ${i === 2 ? 'baz' : 'bar'}`)).join('---\n');
  const seed = [...INDEX_SEED(), namespace('baz'), serviceAccount('baz', 'vm-serviceaccount'), configMap('baz', 'istio-ca-root-cert', { 'root-cert.pem': 'baz-CA' })];
  const o = await configure(undefined, ['-f', wgFile(docs), '--output-dir', out, '--ingress-ip', '192.0.2.1'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.equal(listing(out), ['bar', 'baz']);
  assert.equal(listing(path.join(out, 'bar')), ['a', 'b']);
  assert.equal(listing(path.join(out, 'bar', 'a')), FILES);
  assert.is(fs.readFileSync(path.join(out, 'baz', 'c', 'root-cert.pem'), 'utf8'), 'baz-CA');
  const gets = o.requests.filter((r) => r.method === 'GET').map((r) => r.path);
  assert.is(gets.filter((p) => p.endsWith('/configmaps/istio')).length, 1);
  assert.is(gets.filter((p) => p.endsWith('/istio-ca-root-cert')).length, 2);
  assert.is(o.requests.filter((r) => r.path.endsWith('/token')).length, 3);
  assert.equal(o.stdout.trim().split('\n'), [`Configuration generation into directory ${out}/bar/a was successful`, `Configuration generation into directory ${out}/bar/b was successful`, `Configuration generation into directory ${out}/baz/c was successful`]);
  assert.match(o.stderr, /^warning: 3 security tokens have been generated and stored under /m);
});

test('a fleet by label selector across namespaces, from the API', async () => {
  const out = path.join(tempDir(), 'fleet');
  const wg = (name: string, ns: string, team: string) => ({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name, namespace: ns, labels: { team } }, spec: { template: { serviceAccount: 'vm-serviceaccount' } } });
  const o = await configure(undefined, ['-l', 'team=pay', '-A', '--output-dir', out, '--ingress-ip', '192.0.2.1'], {
    seed: [...INDEX_SEED(), wg('w1', 'bar', 'pay'), wg('w2', 'bar', 'pay'), wg('w3', 'bar', 'other')],
  });
  assert.is(o.code, 0, o.stderr);
  assert.equal(listing(path.join(out, 'bar')), ['w1', 'w2']);
  assert.ok(o.requests.some((r) => r.path === '/apis/networking.istio.io/v1/workloadgroups' && r.query.labelSelector === 'team=pay'), 'one list across namespaces');
});

test.run();
