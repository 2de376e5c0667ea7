// expose-istiod against the test API server (which validates Gateways and VirtualServices against Istio's CRD
// schemas): the stored objects equal the samples as data, re-runs write nothing, the east-west gateway is checked
// first, a custom istio namespace, cluster domain and revision (B21), https, dry runs and --delete.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eastwestService, exposedIstiod, namespace, plainServiceEntry } from '../helpers/builders.ts';
import { startCluster } from '../helpers/cluster.ts';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT, runPlugin } from '../helpers/run.ts';
import { runCase, type Case, type Outcome } from '../helpers/transcript.ts';

const test = suite('expose-istiod');
const EXE = 'kubectl-vm-expose_istiod';
const SAMPLES = path.join(ROOT, 'test/fixtures/istio-golden/master/samples/multicluster');
const sample = (file: string, rev = '') => yaml.loadAll(fs.readFileSync(path.join(SAMPLES, file), 'utf8').split('{{.Revision}}').join(rev)).filter(Boolean);
const NET = 'networking.istio.io/v1';

async function golden(name: string, args: string[], c: Case = {}): Promise<Outcome> {
  const outcome = await runCase(EXE, args, c);
  await outcome.cluster.close();
  if (name) expectGolden(`expose-istiod/${name}.golden`, outcome.transcript);
  return outcome;
}
const writes = (o: Outcome) => o.requests.filter((r) => r.method !== 'GET');
/** Writes the API carried out: a create answered 409 AlreadyExists changed nothing. */
const changes = (requests: Outcome['requests']) => requests.filter((r) => r.method !== 'GET' && r.status < 400);
const installed = (ns = 'istio-system', ports?: number[], address?: string | null) => [namespace(ns), eastwestService(ns, ports, address)];
/** A stored object as the sample spells it: no namespace, no server-set metadata, no label of ours. */
const asSample = (o: any) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name }, spec: o.spec });
const stored = (o: Outcome, ns: string, kinds = ['Gateway', 'VirtualService', 'DestinationRule']) => kinds.flatMap((k) => o.server.objects(NET, k, ns));

test('no flags: the Gateway and VirtualService of expose-istiod.yaml, created in istio-system, in three requests', async () => {
  const o = await golden('default', [], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'gateway.networking.istio.io/istiod-gateway created\nvirtualservice.networking.istio.io/istiod-vs created\n');
  assert.equal(stored(o, 'istio-system').map(asSample), sample('expose-istiod.yaml'));
  for (const obj of stored(o, 'istio-system')) assert.is(obj.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(o.requests.map((r) => `${r.method} ${r.path}`), [
    'GET /api/v1/namespaces/istio-system/services',
    `POST /apis/${NET}/namespaces/istio-system/gateways`,
    `POST /apis/${NET}/namespaces/istio-system/virtualservices`,
  ]);
  assert.is(o.requests[0]!.query.labelSelector, 'istio=eastwestgateway');
});

test('a re-run against the same cluster reports unchanged and writes nothing', async () => {
  const c = await startCluster({ forceTestServer: true, seed: installed() });
  try {
    const first = await runPlugin(EXE, ['--services'], c.env);
    assert.is(first.code, 0, first.stderr);
    c.server!.clearRequests();
    const again = await runPlugin(EXE, ['--services'], c.env);
    assert.is(again.code, 0, again.stderr);
    assert.is(again.stdout, ['gateway.networking.istio.io/istiod-gateway', 'virtualservice.networking.istio.io/istiod-vs', 'gateway.networking.istio.io/cross-network-gateway'].map((n) => `${n} unchanged\n`).join(''));
    assert.equal(changes(c.server!.requests), []);
  } finally {
    await c.close();
  }
});

test('switching --tls-mode updates the objects in place and leaves no routes of the other mode', async () => {
  const o = await golden('', ['--tls-mode', 'https', '--credential-name', 'istiod-cert', '--host', 'istiod.example.com'], { seed: [...installed(), ...exposedIstiod()] });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /istiod-vs configured$/m);
  const vs = o.server.object(NET, 'VirtualService', 'istio-system', 'istiod-vs')!;
  assert.is(vs.spec.tls, undefined);
  assert.equal(vs.spec.hosts, ['istiod.example.com']);
  assert.is(vs.spec.http.length, 2);
});

test('objects that were made by an earlier run (or by -o yaml | kubectl create) are unchanged', async () => {
  const o = await golden('rerun-unchanged', [], { seed: [...installed(), ...exposedIstiod()] });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /istiod-gateway unchanged\n.*istiod-vs unchanged\n$/);
  assert.equal(changes(o.requests), []);
});

test('--services adds cross-network-gateway (expose-services.yaml)', async () => {
  const o = await golden('services', ['--services'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  const byName = (a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name);
  assert.equal(o.server.objects(NET, 'Gateway', 'istio-system').map(asSample).sort(byName), [sample('expose-istiod.yaml')[0], ...sample('expose-services.yaml')].sort(byName));
});

test('--revision canary: expose-istiod-rev.yaml.tmpl rendered for canary', async () => {
  const o = await golden('revision', ['--revision', 'canary'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  assert.equal(stored(o, 'istio-system').map(asSample), sample('expose-istiod-rev.yaml.tmpl', 'canary'));
});

test('B21: a custom istio namespace, cluster domain and revision, with --services', async () => {
  const o = await golden('custom-namespace-domain-revision', ['-i', 'mesh-cp', '--cluster-domain', 'corp.internal', '--revision', 'canary', '--services'], { seed: installed('mesh-cp') });
  assert.is(o.code, 0, o.stderr);
  const vs = o.server.object(NET, 'VirtualService', 'mesh-cp', 'istiod-vs-canary')!;
  assert.equal(vs.spec.tls.map((r: any) => [r.match[0].sniHosts, r.route[0].destination.host, r.route[0].destination.port.number]), [
    [['istiod-canary.mesh-cp.svc', 'istiod-canary.mesh-cp.svc.corp.internal'], 'istiod-canary.mesh-cp.svc.corp.internal', 15012],
    [['istiod-canary.mesh-cp.svc', 'istiod-canary.mesh-cp.svc.corp.internal'], 'istiod-canary.mesh-cp.svc.corp.internal', 443],
  ]);
  assert.equal(o.server.object(NET, 'Gateway', 'mesh-cp', 'cross-network-gateway')!.spec.servers[0].hosts, ['*.corp.internal']);
  assert.equal(o.server.objects(NET, 'Gateway', 'istio-system'), [], 'nothing goes into istio-system');
  assert.not.match(JSON.stringify(writes(o)), /istio-system|cluster\.local/);
});

test('--tls-mode https: expose-istiod-https.yaml with the credential and host filled in', async () => {
  const o = await golden('https', ['--tls-mode', 'https', '--credential-name', 'istiod-cert', '--host', 'istiod.example.com'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  const expected = yaml.loadAll(fs.readFileSync(path.join(SAMPLES, 'expose-istiod-https.yaml'), 'utf8').split('$CREDENTIAL_NAME').join('istiod-cert').split('ISTIOD-HOST.DOMAIN').join('istiod.example.com'));
  assert.equal(stored(o, 'istio-system').map(asSample), expected);
});

test('no east-west gateway: an error naming the command that creates it, and nothing written', async () => {
  const o = await golden('error-no-gateway', [], { seed: [namespace('istio-system')] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: no east-west gateway: no Service labelled istio=eastwestgateway in namespace istio-system$/m);
  assert.match(o.stderr, /^hint: install one first: kubectl vm eastwest-gateway --single-cluster \| istioctl install -y -f -$/m);
  assert.equal(writes(o), []);
});

test('a gateway without 15443 is refused for --services, naming the missing port and the multi-network command', async () => {
  const o = await golden('error-gateway-missing-port', ['--services', '--revision', 'canary'], { seed: installed('istio-system', [15021, 15012, 15017]) });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: the east-west gateway Service istio-system\/istio-eastwestgateway does not expose port 15443 \(it needs 15012, 15017, 15443\)$/m);
  assert.match(o.stderr, /^hint: re-install the gateway with every port: kubectl vm eastwest-gateway --network <network> --revision canary \| istioctl install -y -f -$/m);
  assert.equal(writes(o), []);
});

test('a gateway without an external address yet: a warning, and the objects are created', async () => {
  const o = await golden('', [], { seed: installed('istio-system', undefined, null) });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: the east-west gateway Service istio-system\/istio-eastwestgateway has no external address yet/m);
  assert.is(writes(o).length, 2);
});

test('--gateway-selector finds the gateway by its labels and selects its pods', async () => {
  const o = await golden('', ['--gateway-selector', 'app=istio-eastwestgateway'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.requests[0]!.query.labelSelector, 'app=istio-eastwestgateway');
  assert.equal(o.server.object(NET, 'Gateway', 'istio-system', 'istiod-gateway')!.spec.selector, { app: 'istio-eastwestgateway' });
});

test('--dry-run=client -o yaml prints the objects as a List and writes nothing', async () => {
  const o = await golden('dry-run-client-yaml', ['--dry-run=client', '-o', 'yaml'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  assert.equal(writes(o), []);
  const list = yaml.load(o.stdout) as any;
  assert.equal(list.items.map(asSample), sample('expose-istiod.yaml'));
  assert.equal(list.items.map((i: any) => i.metadata.namespace), ['istio-system', 'istio-system']);
});

test('--dry-run=server sends the writes with dryRun=All and stores nothing', async () => {
  const o = await golden('', ['--dry-run=server'], { seed: installed() });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /istiod-vs created \(server dry run\)$/m);
  // Exactly the two creates, each with dryRun=All: a loop over writes alone would pass with none sent.
  assert.equal(writes(o).map((w) => `${w.method} ${w.path} dryRun=${w.query.dryRun} ${w.status}`), [
    'POST /apis/networking.istio.io/v1/namespaces/istio-system/gateways dryRun=All 201',
    'POST /apis/networking.istio.io/v1/namespaces/istio-system/virtualservices dryRun=All 201',
  ]);
  assert.equal(stored(o, 'istio-system'), []);
});

test('an istiod-gateway applied from the sample by hand is not taken over', async () => {
  const foreign = { ...exposedIstiod()[0]!, metadata: { name: 'istiod-gateway', namespace: 'istio-system' } };
  const o = await golden('error-not-ours', [], { seed: [...installed(), foreign] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Gateway istio-system\/istiod-gateway already exists and is not managed by kubectl-vm/m);
  assert.equal(writes(o).filter((w) => w.method !== 'POST'), [], 'no PUT, no DELETE');
});

test('--delete removes the revision\'s VirtualService and keeps the Gateway another revision still uses', async () => {
  const seed = [...installed(), ...exposedIstiod(), exposedIstiod({ revision: 'canary' })[1]!];
  const o = await golden('delete-shared-gateway', ['--revision', 'canary', '--delete'], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'virtualservice.networking.istio.io/istiod-vs-canary deleted\n');
  assert.match(o.stderr, /^note: Gateway istio-system\/istiod-gateway stays: VirtualService istiod-vs still uses it$/m);
  assert.equal(stored(o, 'istio-system').map((x) => x.metadata.name), ['istiod-gateway', 'istiod-vs']);
  for (const del of o.requests.filter((r) => r.method === 'DELETE')) assert.ok((del.body as any).preconditions.uid, 'guarded by the uid we checked');
});

test('--delete removes everything the same flags made; a second --delete has nothing to do', async () => {
  const c = await startCluster({ forceTestServer: true, seed: [...installed(), ...exposedIstiod({ services: true }), plainServiceEntry('istio-system', 'other')] });
  try {
    const first = await runPlugin(EXE, ['--services', '--delete'], c.env);
    assert.is(first.code, 0, first.stderr);
    assert.is(first.stdout, ['gateway.networking.istio.io/cross-network-gateway', 'virtualservice.networking.istio.io/istiod-vs', 'gateway.networking.istio.io/istiod-gateway'].map((n) => `${n} deleted\n`).join(''));
    assert.equal(stored({ server: c.server } as Outcome, 'istio-system'), []);
    assert.is(c.server!.objects(NET, 'ServiceEntry', 'istio-system').length, 1, 'nothing else is touched');
    const again = await runPlugin(EXE, ['--services', '--delete'], c.env);
    assert.is(again.code, 0);
    assert.match(again.stderr, /^note: nothing to remove/m);
  } finally {
    await c.close();
  }
});

test('--delete refuses, before deleting anything, when one of the objects is not ours', async () => {
  const [gw, vs] = exposedIstiod();
  const foreign = { ...gw!, metadata: { name: 'istiod-gateway', namespace: 'istio-system' } };
  const o = await golden('error-delete-not-ours', ['--delete'], { seed: [...installed(), foreign, vs!] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: Gateway istio-system\/istiod-gateway already exists and is not managed by kubectl-vm/m);
  assert.equal(writes(o), []);
});

for (const [args, message] of [
  [['--revision', 'Canary_1'], /^error: invalid revision "Canary_1"/m],
  [['--tls-mode', 'simple'], /^error: --tls-mode must be one of "passthrough", "https", not "simple"$/m],
  [['--tls-mode', 'https', '--host', 'istiod.example.com'], /^error: --tls-mode https needs --credential-name and --host$/m],
  [['--host', 'istiod.example.com'], /^error: --host is only used with --tls-mode https$/m],
  [['-i', 'Istio_System'], /^error: invalid namespace "Istio_System"/m],
  [['--cluster-domain', 'corp..local'], /^error: invalid cluster domain "corp..local"/m],
  [['--gateway-selector', 'istio'], /^error: invalid label "istio": expected key=value$/m],
] as [string[], RegExp][]) {
  test(`bad flags are refused before any request: ${args.join(' ')}`, async () => {
    const o = await golden('', args, { seed: installed() });
    assert.is(o.code, 64, o.stderr);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.equal(o.requests, []);
  });
}

test.run();
