// End-to-end scenarios for the `.global` steps (expose-service, dns-stub) through the real kubectl, against the
// test API server or, with KUBECTL_VM_E2E_KUBECONFIG, a real cluster (Istio's CRDs, no control plane needed).
//
// dns-stub edits kube-system's DNS ConfigMap, which every pod of the cluster depends on. On a real cluster it
// therefore runs only with --dry-run (which sends no write), unless KUBECTL_VM_E2E_DISPOSABLE=1 says the cluster is
// a throw-away test cluster (kind, k3d): then it really writes, checks, re-runs, and puts the original Corefile
// back. On the test API server the cluster is disposable by construction, and the kubeadm fixtures stand in for
// kube-system's CoreDNS.
//
// dns-stub needs kube-system's DNS objects (a coredns or kube-dns Deployment, or at least CoreDNS's Corefile
// ConfigMap): a real cluster without any of them gets a visible skip, unless it is disposable, in which case the
// scenario brings kubeadm's Corefile ConfigMap itself (and no Deployment: dns-stub then assumes a current CoreDNS),
// and deletes it again.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { REAL_CLUSTER_KUBECONFIG } from '../helpers/cluster.ts';
import { ROOT, run } from '../helpers/run.ts';
import { scenarioSuite } from '../helpers/scenario.ts';
import { skipTest } from '../helpers/skip.ts';

const SUITE = 'end-to-end .global scenarios';
const { test, cluster, vm, getJson } = scenarioSuite(SUITE);

const DISPOSABLE = !process.env.KUBECTL_VM_E2E_KUBECONFIG || process.env.KUBECTL_VM_E2E_DISPOSABLE === '1';
const KUBEADM_COREFILE = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'coredns', 'kubeadm-1.2x.Corefile'), 'utf8');

/** The DNS objects of the real cluster's kube-system that dns-stub can work with (none on the test API server). */
async function realClusterDns(): Promise<string[]> {
  if (!REAL_CLUSTER_KUBECONFIG) return [];
  const r = await run('kubectl', ['get', '-n', 'kube-system', 'deployment/coredns', 'deployment/kube-dns', 'configmap/coredns', '--ignore-not-found', '-o', 'name'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: REAL_CLUSTER_KUBECONFIG },
  });
  if (r.code !== 0) throw new Error(`cannot read kube-system's DNS objects: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
const dnsObjects = await realClusterDns();
/** On a real cluster without DNS objects: bring the Corefile ConfigMap (disposable clusters only), else skip. */
const BRING_COREFILE = !!REAL_CLUSTER_KUBECONFIG && dnsObjects.length === 0 && DISPOSABLE;
const DNS_MISSING = !!REAL_CLUSTER_KUBECONFIG && dnsObjects.length === 0 && !DISPOSABLE;

const create = async (objects: object[]) => {
  const r = await cluster().kubectl(['create', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  assert.is(r.code, 0, r.stderr);
};
const service = (ns: string, name: string, ports: object[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports } });

test('expose-service: httpbin.bar.global, a re-run keeps the address, a second service gets another', async () => {
  const ns = await cluster().namespace();
  await create([service(ns, 'httpbin', [{ name: 'http', port: 8000 }]), service(ns, 'web', [{ name: 'http-web', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }])]);
  // The claims ConfigMap goes into the scenario's namespace (-i), so the scenario leaves nothing behind. The range is
  // one that no real mesh uses, so that other ServiceEntries of a real cluster cannot take its addresses.
  const common = ['-n', ns, '-i', ns, '--gateway-address', '192.0.2.10', '--address-range', '198.18.0.0/24'];
  const first = await vm(['expose-service', 'httpbin', ...common]);
  assert.is(first.code, 0, first.stderr);
  const [address, host] = first.stdout.trim().split(' ');
  assert.is(host, `httpbin.${ns}.global`);
  const se = await getJson(['serviceentries.networking.istio.io', `httpbin.${ns}.forvms`, '-n', ns]);
  assert.equal(se.spec.hosts, [host]);
  assert.equal(se.spec.addresses, [address]);
  assert.is(se.spec.location, 'MESH_INTERNAL');
  assert.is(se.spec.resolution, 'DNS');
  assert.equal(se.spec.endpoints, [{ address: '192.0.2.10', ports: { http: 15443 } }]);

  const again = await vm(['expose-service', 'httpbin', ...common]);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, first.stdout, 'the same /etc/hosts line');
  assert.match(again.stderr, /unchanged/);

  const web = await vm(['expose-service', 'web', ...common]);
  assert.is(web.code, 0, web.stderr);
  assert.not.equal(web.stdout.split(' ')[0], address);
  assert.match(web.stderr, /^warning: the ports 53\/UDP/m);
  const claims = await getJson(['configmap', 'kubectl-vm-global-addresses', '-n', ns]);
  assert.equal(Object.values(claims.data).sort(), [`httpbin.${ns}.global`, `web.${ns}.global`]);
});

test('expose-service: a missing Service and a bad range are refused without writes', async () => {
  const ns = await cluster().namespace();
  const missing = await vm(['expose-service', 'nosuch', '-n', ns, '-i', ns, '--gateway-address', '192.0.2.10']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^error: service nosuch was not found/m);
  const bad = await vm(['expose-service', 'x', '-n', ns, '--address-range', '10.0.0.0/33']);
  assert.is(bad.code, 64);
  assert.is((await cluster().kubectl(['get', 'configmap', 'kubectl-vm-global-addresses', '-n', ns])).code, 1);
});

const DNS_TEST = `dns-stub: ${DISPOSABLE ? 'writes the global:53 block, then changes nothing on a re-run' : 'only --dry-run (not a disposable cluster)'}`;
if (DNS_MISSING) {
  skipTest(test, SUITE, DNS_TEST, 'the cluster has no DNS objects in kube-system (deployment coredns or kube-dns, configmap coredns) and is not disposable (KUBECTL_VM_E2E_DISPOSABLE=1 lets the scenario bring them)');
} else test(DNS_TEST, async () => {
  const ns = await cluster().namespace();
  await create([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiocoredns', namespace: ns }, spec: { selector: { app: 'istiocoredns' }, ports: [{ name: 'dns-tcp', port: 53, protocol: 'TCP' }] } }]);
  if (BRING_COREFILE) await create([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: KUBEADM_COREFILE } }]);
  if (cluster().server) {
    const corefile = KUBEADM_COREFILE;
    const labels = { 'k8s-app': 'kube-dns' };
    await create([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: corefile } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.10.1' }] } } } },
    ]);
  }
  const ip = (await getJson(['service', 'istiocoredns', '-n', ns])).spec.clusterIP as string;
  const before = await cluster().kubectl(['get', 'configmap', '-n', 'kube-system', '-o', 'json', 'coredns']);
  const dry = await vm(['dns-stub', '-i', ns, '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^configmap\/(coredns|kube-dns) (configured|created) \(dry run\)$/m);
  assert.match(dry.stderr, new RegExp(`^\\+.*${ip.replace(/\./g, '\\.')}`, 'm'), 'the diff shows the new address');
  const after = await cluster().kubectl(['get', 'configmap', '-n', 'kube-system', '-o', 'json', 'coredns']);
  assert.is(after.stdout, before.stdout, '--dry-run wrote nothing');
  if (!DISPOSABLE) return;

  const original = before.code === 0 ? JSON.parse(before.stdout).data.Corefile : undefined;
  try {
    const r = await vm(['dns-stub', '-i', ns]);
    assert.is(r.code, 0, r.stderr);
    if (original !== undefined) {
      const cm = await getJson(['configmap', 'coredns', '-n', 'kube-system']);
      assert.ok(cm.data.Corefile.startsWith(original.trimEnd()), 'everything before the block is kept');
      assert.match(cm.data.Corefile, new RegExp(`^global:53 \\{\\n\\s+errors\\n\\s+cache 30\\n\\s+(forward|proxy) \\. ${ip.replace(/\./g, '\\.')}\\n\\}`, 'm'));
      assert.is(cm.metadata.labels?.['app.kubernetes.io/managed-by'], undefined, 'not labelled as ours');
    }
    const again = await vm(['dns-stub', '-i', ns]);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged$/m);
  } finally {
    if (BRING_COREFILE) await cluster().kubectl(['delete', 'configmap', 'coredns', '-n', 'kube-system', '--ignore-not-found']);
    else if (original !== undefined && !cluster().server) {
      const cm = await getJson(['configmap', 'coredns', '-n', 'kube-system']);
      cm.data.Corefile = original;
      await cluster().kubectl(['replace', '-f', '-'], JSON.stringify(cm));
    }
  }
});

test.run();
