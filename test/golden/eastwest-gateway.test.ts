// eastwest-gateway: the built executable prints, for the same flags, what gen-eastwest-gateway.sh printed
// (istio-golden/generated, compared as data), with no request; B20's failures of the script are clear errors;
// --label-namespace labels the istio namespace with a merge patch of one label.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labelledNamespace, namespace } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { runCase, type Case, type Outcome } from '../helpers/transcript.ts';

const test = suite('eastwest-gateway');
const GENERATED = path.join(ROOT, 'test/fixtures/istio-golden/generated/gen-eastwest-gateway');
const script = (file: string) => fs.readFileSync(path.join(GENERATED, file), 'utf8');
const NETWORK_LABEL = 'topology.istio.io/network';

async function golden(name: string, args: string[], c: Case = {}): Promise<Outcome> {
  const outcome = await runCase('kubectl-vm-eastwest_gateway', args, { ...c, env: { NETWORK: undefined, ...c.env } });
  await outcome.cluster.close();
  if (name) expectGolden(`eastwest-gateway/${name}.golden`, outcome.transcript);
  return outcome;
}

/** B20: the script always writes `spec.revision: ""`; kubectl-vm leaves it out. Otherwise the same data. */
function scriptOutput(file: string): unknown {
  const text = script(file);
  assert.match(text, /\nrc=0\n$/);
  const doc = yaml.load(text.replace(/rc=0\n$/, '')) as any;
  if (doc.spec?.revision === '') delete doc.spec.revision;
  return doc;
}

for (const [file, args, env] of [
  ['single-cluster.yaml', ['--single-cluster']],
  ['single-cluster-revision-canary.yaml', ['--single-cluster', '--revision', 'canary']],
  ['network-network1.yaml', ['--network', 'network1']],
  ['network-network1-revision-1-20.yaml', ['--network', 'network1', '--revision', '1-20']],
  ['ambient-network1.yaml', ['--ambient', '--network', 'network1']],
  ['env-NETWORK-envnet.yaml', ['--network-from-env'], { NETWORK: 'envnet' }],
] as [string, string[], Record<string, string>?][]) {
  test(`${args.join(' ')}${env ? ' with NETWORK=envnet' : ''}: what the script printed (${file}), and no request`, async () => {
    const o = await golden(file.replace(/\.yaml$/, ''), args, { env });
    assert.is(o.code, 0, o.stderr);
    assert.equal(yaml.load(o.stdout), scriptOutput(file));
    assert.equal(o.requests, []);
  });
}

test('-o json prints the same object as JSON', async () => {
  const o = await golden('', ['--network', 'network1', '-o', 'json']);
  assert.is(o.code, 0, o.stderr);
  assert.equal(JSON.parse(o.stdout), scriptOutput('network-network1.yaml'));
});

test('no flags: the script\'s message, as a usage error (64, not 1)', async () => {
  const o = await golden('error-no-args', []);
  assert.is(script('no-args.txt'), 'Must specify either --single-cluster or --network.\nrc=1\n');
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: specify either --single-cluster or --network$/m);
});

test('B20: NETWORK in the environment is not read without --network-from-env, and the error says so', async () => {
  const o = await golden('error-env-network-not-read', [], { env: { NETWORK: 'envnet' } });
  assert.is(o.code, 64);
  assert.match(o.stderr, /^hint: NETWORK=envnet is set in the environment; add --network-from-env to use it$/m);
  const single = await golden('', ['--single-cluster'], { env: { NETWORK: 'envnet' } });
  assert.is(single.code, 0, single.stderr);
  assert.equal(yaml.load(single.stdout), scriptOutput('single-cluster.yaml'), 'single network, whatever NETWORK says');
  assert.match(single.stderr, /^note: the environment variable NETWORK=envnet is not read without --network-from-env$/m);
});

test('an unknown flag is a usage error, as the script\'s "Unsupported flag"', async () => {
  assert.is(script('bogus-flag.txt'), 'Error: Unsupported flag --bogus\nrc=1\n');
  const o = await golden('error-bogus-flag', ['--bogus']);
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: unknown flag: --bogus$/m);
});

test('B20: a positional argument is refused at once (the script loops forever)', async () => {
  assert.match(script('positional-arg-hangs.txt'), /^rc=124/);
  const o = await golden('error-positional', ['positional', '--single-cluster']);
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: unknown argument: positional$/m);
});

test('B20: --ambient without a network is a clear error (the script dies on an unbound variable)', async () => {
  assert.match(script('ambient-single-cluster-no-network.txt'), /NETWORK: unbound variable/);
  const o = await golden('error-ambient-single-cluster', ['--ambient', '--single-cluster']);
  assert.is(o.code, 64);
  assert.match(o.stderr, /^error: --ambient needs --network/m);
});

test('B20: --mesh is refused with the reason; --cluster is kubectl\'s and only warned about', async () => {
  const mesh = await golden('error-mesh', ['--mesh', 'mesh1', '--network', 'network1']);
  assert.is(mesh.code, 64);
  assert.match(mesh.stderr, /^error: --mesh is not used: the mesh ID is set when Istio is installed/m);
  const cluster = await golden('', ['--cluster', 'cluster1', '--network', 'network1']);
  assert.is(cluster.code, 0, cluster.stderr);
  assert.match(cluster.stderr, /^warning: --cluster cluster1 picks a kubeconfig cluster/m);
  assert.equal(yaml.load(cluster.stdout), scriptOutput('network-network1.yaml'));
});

for (const [args, message] of [
  [['--single-cluster', '--network', 'n1'], /^error: --single-cluster and --network exclude each other$/m],
  [['--network', 'n1', '--network-from-env'], /^error: --network and --network-from-env exclude each other$/m],
  [['--network-from-env'], /^error: --network-from-env: the environment variable NETWORK is not set$/m],
  [["--network", "net work"], /^error: invalid --network "net work"/m],
  [["--network", ""], /^error: invalid --network "": it is empty$/m],
  [['--single-cluster', '--revision', 'Canary'], /^error: invalid revision "Canary"/m],
  [['--single-cluster', '--label-namespace'], /^error: --label-namespace needs --network/m],
  [['--ambient'], /^error: --ambient needs --network: an ambient east-west gateway belongs to a network\nhint: kubectl vm eastwest-gateway --ambient --network network1$/m],
] as [string[], RegExp][]) {
  test(`bad flags: ${args.join(' ')}`, async () => {
    const o = await golden('', args);
    assert.is(o.code, 64, o.stderr);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.equal(o.stdout, '');
    assert.equal(o.requests, []);
  });
}

test('--label-namespace: a JSON merge patch of that one label; the other labels stay; stdout is still the YAML', async () => {
  const o = await golden('label-namespace', ['--network', 'network1', '--label-namespace'], { seed: [labelledNamespace('istio-system', { team: 'mesh' })] });
  assert.is(o.code, 0, o.stderr);
  assert.equal(yaml.load(o.stdout), scriptOutput('network-network1.yaml'));
  assert.match(o.stderr, /namespace\/istio-system labeled topology.istio.io\/network=network1$/m);
  const patches = o.requests.filter((r) => r.method !== 'GET');
  assert.equal(patches.map((r) => [r.method, r.path, r.contentType, r.body]), [
    ['PATCH', '/api/v1/namespaces/istio-system', 'application/merge-patch+json', { metadata: { labels: { [NETWORK_LABEL]: 'network1' } } }],
  ]);
  const ns = o.server.object('v1', 'Namespace', undefined, 'istio-system')!;
  assert.is(ns.metadata.labels[NETWORK_LABEL], 'network1');
  assert.is(ns.metadata.labels.team, 'mesh');
  assert.is(ns.metadata.labels['app.kubernetes.io/managed-by'], undefined, 'the namespace is not made ours');
});

test('--label-namespace when the label is already there: unchanged, no write', async () => {
  const o = await golden('', ['--network', 'network1', '--label-namespace'], { seed: [labelledNamespace('istio-system', { [NETWORK_LABEL]: 'network1' })] });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /namespace\/istio-system unchanged/);
  assert.equal(o.requests.filter((r) => r.method !== 'GET'), []);
});

test('--label-namespace refuses to move a namespace to another network, and prints nothing', async () => {
  const o = await golden('error-label-other-network', ['--network', 'network2', '--label-namespace'], { seed: [labelledNamespace('istio-system', { [NETWORK_LABEL]: 'network1' })] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: namespace istio-system is on network "network1" \(label topology.istio.io\/network\), not "network2"$/m);
  assert.match(o.stderr, /--overwrite$/m);
  assert.is(o.stdout, '');
  assert.equal(o.requests.filter((r) => r.method !== 'GET'), []);
});

test('--label-namespace with a custom istio namespace, and a missing one', async () => {
  const ok = await golden('', ['--network', 'n1', '--label-namespace', '-i', 'mesh-cp', '--dry-run=server'], { seed: [namespace('mesh-cp')] });
  assert.is(ok.code, 0, ok.stderr);
  assert.equal(ok.requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.query.dryRun]), [['/api/v1/namespaces/mesh-cp', 'All']]);
  assert.is(ok.server.object('v1', 'Namespace', undefined, 'mesh-cp')!.metadata.labels?.[NETWORK_LABEL], undefined, 'a server dry run stores nothing');
  const missing = await golden('', ['--network', 'n1', '--label-namespace', '-i', 'mesh-cp']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^error: namespace mesh-cp not found$/m);
});

test.run();
