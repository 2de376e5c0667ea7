// expose-istiod's and eastwest-gateway's objects against Istio's samples/multicluster files and what
// gen-eastwest-gateway.sh printed (test/fixtures/istio-golden), both sides parsed as YAML and compared as data.
// Our objects carry two things the samples leave to `kubectl apply -n`: metadata.namespace and our managed-by label.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEastwestGateway, type EastwestGatewaySpec } from '../../shared/istio/eastwest-gateway.ts';
import { buildExposeIstiod, DEFAULT_GATEWAY_SELECTOR, requiredGatewayPorts, type ExposeIstiodSpec } from '../../shared/istio/expose-istiod.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { ROOT } from '../helpers/run.ts';

const test = suite('multicluster samples (expose-istiod, eastwest-gateway)');
const GOLDEN = path.join(ROOT, 'test/fixtures/istio-golden');
const SAMPLES = path.join(GOLDEN, 'master/samples/multicluster');
const GENERATED = path.join(GOLDEN, 'generated/gen-eastwest-gateway');

const docs = (text: string) => yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
const sample = (file: string, replace: [string, string][] = []) => docs(replace.reduce((t, [from, to]) => t.split(from).join(to), fs.readFileSync(path.join(SAMPLES, file), 'utf8')));
/** A generated file is the script's stdout plus a last line `rc=N` that the reference added. */
const generated = (file: string) => {
  const text = fs.readFileSync(path.join(GENERATED, file), 'utf8');
  assert.match(text, /\nrc=0\n$/, `${file} is a successful run`);
  return docs(text.replace(/rc=0\n$/, ''));
};

/** What `kubectl apply -n <ns> -f <sample>` would store: the sample plus our namespace and label, minus those. */
function asSample(objects: KubeObject[], namespace: string): unknown[] {
  return objects.map(({ metadata, ...rest }) => {
    const { namespace: ns, labels, ...meta } = metadata;
    assert.is(ns, namespace, `${rest.kind} ${metadata.name} goes into ${namespace}`);
    assert.equal(labels, { 'app.kubernetes.io/managed-by': 'kubectl-vm' });
    return { ...rest, metadata: meta };
  });
}

const spec = (over: Partial<ExposeIstiodSpec> = {}): ExposeIstiodSpec => ({
  istioNamespace: 'istio-system',
  clusterDomain: 'cluster.local',
  revision: '',
  gatewaySelector: { ...DEFAULT_GATEWAY_SELECTOR },
  tls: { mode: 'passthrough' },
  services: false,
  ...over,
});

test('expose-istiod.yaml: the Gateway and the VirtualService', () => {
  assert.equal(asSample(buildExposeIstiod(spec()), 'istio-system'), sample('expose-istiod.yaml'));
});

for (const rev of ['canary', '1-20']) {
  test(`expose-istiod-rev.yaml.tmpl rendered with Revision=${rev}`, () => {
    assert.equal(asSample(buildExposeIstiod(spec({ revision: rev })), 'istio-system'), sample('expose-istiod-rev.yaml.tmpl', [['{{.Revision}}', rev]]));
  });
}

test('revision "default" is the default istiod, as everywhere in Istio', () => {
  assert.equal(buildExposeIstiod(spec({ revision: 'default' })), buildExposeIstiod(spec()));
});

test('expose-istiod-https.yaml: Gateway, VirtualService and DestinationRule, with its placeholders filled in', () => {
  const objects = buildExposeIstiod(spec({ tls: { mode: 'https', credentialName: '$CREDENTIAL_NAME', host: 'ISTIOD-HOST.DOMAIN' } }));
  assert.equal(asSample(objects, 'istio-system'), sample('expose-istiod-https.yaml'));
});

test('expose-services.yaml: --services adds cross-network-gateway after the istiod objects', () => {
  const objects = buildExposeIstiod(spec({ services: true }));
  assert.equal(asSample(objects.slice(0, 2), 'istio-system'), sample('expose-istiod.yaml'));
  assert.equal(asSample(objects.slice(2), 'istio-system'), sample('expose-services.yaml'));
  assert.equal(requiredGatewayPorts({ services: true }), [15012, 15017, 15443]);
  assert.equal(requiredGatewayPorts({ services: false }), [15012, 15017]);
});

test('B21: a custom istio namespace and cluster domain reach the right istiod, in every variant', () => {
  const custom = { istioNamespace: 'mesh-cp', clusterDomain: 'corp.internal' };
  const texts = [
    yaml.dump(buildExposeIstiod(spec(custom))),
    yaml.dump(buildExposeIstiod(spec({ ...custom, revision: 'canary' }))),
    yaml.dump(buildExposeIstiod(spec({ ...custom, tls: { mode: 'https', credentialName: 'istiod-cert', host: 'istiod.example.com' } }))),
  ];
  for (const t of texts) {
    assert.not.match(t, /istio-system|cluster\.local/);
    assert.match(t, /istiod(-canary)?\.mesh-cp\.svc\.corp\.internal/);
  }
  const [, vs] = buildExposeIstiod(spec({ ...custom, revision: 'canary' })) as any[];
  assert.equal(vs.spec.tls[0].match[0].sniHosts, ['istiod-canary.mesh-cp.svc', 'istiod-canary.mesh-cp.svc.corp.internal']);
  assert.is(vs.metadata.namespace, 'mesh-cp');
  const cross = buildExposeIstiod(spec({ ...custom, services: true }))[2] as any;
  assert.equal(cross.spec.servers[0].hosts, ['*.corp.internal'], 'the sample\'s *.local would miss every host of this mesh');
});

test('--gateway-selector replaces the samples\' istio=eastwestgateway on every Gateway', () => {
  const objects = buildExposeIstiod(spec({ gatewaySelector: { app: 'ew', tier: 'edge' }, services: true })) as any[];
  for (const gw of objects.filter((o) => o.kind === 'Gateway')) assert.equal(gw.spec.selector, { app: 'ew', tier: 'edge' });
});

// ---------------------------------------------------------------------------------------------------------------
// gen-eastwest-gateway.sh

const ew = (over: Partial<EastwestGatewaySpec>) => buildEastwestGateway({ revision: '', ambient: false, istioNamespace: 'istio-system', ...over });
/** B20: the script always writes `revision: ""`; we leave it out, which means the same to istioctl install. */
function withoutEmptyRevision(doc: any): unknown {
  if (doc.spec?.revision !== '') return doc;
  const { revision: _, ...spec } = doc.spec;
  return { ...doc, spec };
}

for (const [file, over] of [
  ['single-cluster.yaml', {}],
  ['single-cluster-revision-canary.yaml', { revision: 'canary' }],
  ['network-network1.yaml', { network: 'network1' }],
  ['network-network1-revision-1-20.yaml', { network: 'network1', revision: '1-20' }],
  ['env-NETWORK-envnet.yaml', { network: 'envnet' }],
  ['ambient-network1.yaml', { network: 'network1', ambient: true }],
] as [string, Partial<EastwestGatewaySpec>][]) {
  test(`gen-eastwest-gateway.sh → ${file}`, () => {
    const [expected, ...more] = generated(file);
    assert.is(more.length, 0);
    assert.equal(ew(over), withoutEmptyRevision(expected));
  });
}

test('B20: no empty spec.revision, and with one it is the only difference', () => {
  assert.not.ok('revision' in (ew({}) as any).spec);
  const [withRev] = generated('single-cluster-revision-canary.yaml') as any[];
  const [without] = generated('single-cluster.yaml') as any[];
  assert.equal({ ...withRev, spec: { ...withRev.spec, revision: '' } }, without);
});

test('an ambient gateway goes into the istio namespace, and a revision picks its control plane', () => {
  const gw = ew({ network: 'n1', ambient: true, istioNamespace: 'mesh-cp', revision: 'canary' }) as any;
  assert.is(gw.metadata.namespace, 'mesh-cp');
  assert.equal(gw.metadata.labels, { 'topology.istio.io/network': 'n1', 'istio.io/rev': 'canary' });
});

// The 1.9.0 script and sample (history): the same objects apart from what Istio has changed since, so a mesh
// set up with them is the mesh kubectl-vm sets up.
const GENERATED_19 = path.join(GOLDEN, 'generated/gen-eastwest-gateway-1.9.0');
const script19 = (file: string) => docs(fs.readFileSync(path.join(GENERATED_19, file), 'utf8').replace(/rc=0\n$/, ''))[0] as any;

test('1.9.0 script output: ours plus only the 1.9-era ROUTER_MODE, meshID and clusterName, minus injectionTemplate', () => {
  for (const [file, network] of [['mesh1-cluster1-network1.yaml', 'network1'], ['single-cluster.yaml', undefined]] as const) {
    const old = script19(file);
    const gw = old.spec.components.ingressGateways[0];
    assert.equal(gw.k8s.env[0], { name: 'ISTIO_META_ROUTER_MODE', value: 'sni-dnat' });
    gw.k8s.env.shift();
    if (gw.k8s.env.length === 0) delete gw.k8s.env;
    if (old.spec.values) {
      assert.equal(old.spec.values.global, { meshID: 'mesh1', network: 'network1', multiCluster: { clusterName: 'cluster1' } });
      old.spec.values.global = { network: old.spec.values.global.network };
    }
    const ours = ew({ network }) as any;
    assert.equal(ours.spec.values.gateways, { 'istio-ingressgateway': { injectionTemplate: 'gateway' } });
    const { gateways: _, ...values } = ours.spec.values;
    const expected = Object.keys(values).length ? { ...ours, spec: { ...ours.spec, values } } : withoutValues(ours);
    assert.equal(withoutEmptyRevision(old), expected);
  }
  const refused = fs.readFileSync(path.join(GENERATED_19, 'network-only.txt'), 'utf8');
  assert.match(refused, /^Must specify either --single-cluster or --mesh, --cluster, and --network\.\nrc=1\n$/, '1.9 needed --mesh and --cluster, which have had no effect since 1.12');
});

function withoutValues(doc: any): unknown {
  const { values: _, ...spec } = doc.spec;
  return { ...doc, spec };
}

test('1.9.0 expose-istiod.yaml: the same objects, in v1alpha3 and with the namespace written out', () => {
  const old = docs(fs.readFileSync(path.join(GOLDEN, 'history/1.9.0/samples/multicluster/expose-istiod.yaml'), 'utf8')) as any[];
  const ours = buildExposeIstiod(spec()).map(({ metadata: { labels: _, ...metadata }, ...rest }) => ({ ...rest, apiVersion: 'networking.istio.io/v1alpha3', metadata }));
  assert.equal(old, ours);
});

test.run();
