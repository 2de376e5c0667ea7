// dns-stub: seed 000's "Setup DNS" on kubeadm's default CoreDNS Corefile and on one already edited by hand,
// forward vs proxy by CoreDNS version, kube-dns stubDomains, the diff, idempotence, 409 retries, dry runs, and
// the errors (no istiocoredns, no DNS Deployment, an image without a version, a Corefile that does not parse).
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { configMap, dnsDeployment, istiocorednsService, namespace } from '../helpers/builders.ts';

const test = suite('dns-stub');
const corefile = (name: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'coredns', name), 'utf8');
const KUBEADM = corefile('kubeadm-1.2x.Corefile');
const EDITED = corefile('edited.Corefile');
const CM = '/api/v1/namespaces/kube-system/configmaps/';

async function golden(name: string, args: string[], c: Case = {}) {
  const outcome = await runCase('kubectl-vm-dns_stub', args, c);
  await outcome.cluster.close();
  if (name) expectGolden(`dns-stub/${name}.golden`, outcome.transcript);
  return outcome;
}
const writes = (o: { requests: { method: string }[] }) => o.requests.filter((r) => r.method !== 'GET');
const live = (o: Awaited<ReturnType<typeof golden>>, name: string) => o.server.object('v1', 'ConfigMap', 'kube-system', name)!;
const coreDns = (image: string, text: string) => [namespace('istio-system'), istiocorednsService('istio-system'), dnsDeployment('coredns', image), configMap('kube-system', 'coredns', { Corefile: text })];
const K8S_128 = 'registry.k8s.io/coredns/coredns:v1.10.1';

test('kubeadm\'s default Corefile (Kubernetes 1.2x, CoreDNS 1.10): a global:53 block with forward is appended, shown as a diff first', async () => {
  const o = await golden('coredns-kubeadm', [], { seed: coreDns(K8S_128, KUBEADM) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'configmap/coredns configured\n');
  const text = live(o, 'coredns').data.Corefile;
  assert.is(text, `${KUBEADM}global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}\n`);
  assert.match(o.stderr, /^\+global:53 \{$/m);
  assert.match(o.stderr, /^\+    forward \. 10\.96\.0\.53$/m);
  assert.ok(o.stderr.indexOf('+global:53') < o.stderr.indexOf('✔ configmap'), 'the diff comes before the write');
  const cm = live(o, 'coredns');
  assert.is(cm.metadata.labels, undefined, 'never labelled as ours');
  const put = writes(o);
  assert.equal(put.map((r: any) => `${r.method} ${r.path}`), [`PUT ${CM}coredns`]);
  assert.ok((put[0] as any).body.metadata.resourceVersion, 'guarded by resourceVersion');
});

test('a re-run changes nothing and shows no diff', async () => {
  const o = await golden('coredns-unchanged', [], { seed: coreDns(K8S_128, `${KUBEADM}global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}\n`) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'configmap/coredns unchanged\n');
  assert.not.match(o.stderr, /^[-+]/m);
  assert.equal(writes(o), []);
});

test('an edited Corefile: only the old global:53 block (proxy to an old IP) is replaced; the rest stays byte for byte', async () => {
  const o = await golden('coredns-edited', [], { seed: coreDns(K8S_128, EDITED) });
  assert.is(o.code, 0, o.stderr);
  const text = live(o, 'coredns').data.Corefile;
  const oldBlock = 'global:53 {\n    errors\n    cache 30\n    proxy . 10.96.0.99   # the old istiocoredns address\n}';
  assert.is(text, EDITED.replace(oldBlock, 'global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}'));
  assert.match(o.stderr, /^-    proxy \. 10\.96\.0\.99   # the old istiocoredns address$/m);
});

test('CoreDNS older than 1.4 (Kubernetes 1.14\'s 1.3.1) gets proxy, as the seed writes it', async () => {
  const o = await golden('coredns-proxy', [], { seed: coreDns('k8s.gcr.io/coredns:1.3.1', '.:53 {\n    errors\n    proxy . /etc/resolv.conf\n    reload\n}\n') });
  assert.is(o.code, 0, o.stderr);
  assert.match(live(o, 'coredns').data.Corefile, /^global:53 \{\n    errors\n    cache 30\n    proxy \. 10\.96\.0\.53\n\}\n$/m);
  assert.match(o.stderr, /^note: CoreDNS 1\.3\.1: \.global is sent to istiocoredns \(10\.96\.0\.53\) with "proxy"$/m);
});

test('an image tag that is no version is refused unless --coredns-version says it', async () => {
  const seed = coreDns('coredns/coredns:latest', KUBEADM);
  const bad = await golden('error-image-version', [], { seed });
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /^error: cannot tell the CoreDNS version from the image "coredns\/coredns:latest"/m);
  assert.match(bad.stderr, /^hint: give it with --coredns-version/m);
  assert.equal(writes(bad), []);
  const ok = await golden('', ['--coredns-version', '1.2.6'], { seed });
  assert.is(ok.code, 0, ok.stderr);
  assert.match(live(ok, 'coredns').data.Corefile, /proxy \. 10\.96\.0\.53/);
  const invalid = await golden('', ['--coredns-version', 'new'], { seed });
  assert.is(invalid.code, 64);
  assert.equal(invalid.requests, []);
});

test('--dry-run shows the diff and writes nothing; --dry-run=server sends the PUT with dryRun=All', async () => {
  const o = await golden('coredns-dry-run', ['--dry-run'], { seed: coreDns(K8S_128, KUBEADM) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'configmap/coredns configured (dry run)\n');
  assert.match(o.stderr, /^\+global:53 \{$/m);
  assert.equal(writes(o), []);
  assert.is(live(o, 'coredns').data.Corefile, KUBEADM);
  const server = await golden('', ['--dry-run=server'], { seed: coreDns(K8S_128, KUBEADM) });
  assert.is(server.code, 0, server.stderr);
  assert.equal(writes(server).map((r: any) => r.query.dryRun), ['All']);
  assert.is(live(server, 'coredns').data.Corefile, KUBEADM);
});

test('a 409 (someone changed the ConfigMap meanwhile) reads it again and shows the diff again', async () => {
  const o = await golden('coredns-conflict', [], { seed: coreDns(K8S_128, KUBEADM), faults: [{ method: 'PUT', path: `${CM}coredns`, status: 409 }] });
  assert.is(o.code, 0, o.stderr);
  assert.equal(o.requests.filter((r) => r.path === `${CM}coredns`).map((r) => `${r.method} ${r.status}`), ['GET 200', 'PUT 409', 'GET 200', 'PUT 200']);
  assert.match(o.stderr, /^note: configmap kube-system\/coredns changed while we were writing it; reading it again$/m);
});

test('kube-dns: global is merged into stubDomains and the other domains stay', async () => {
  const seed = [namespace('istio-system'), istiocorednsService('istio-system'), dnsDeployment('kube-dns', 'k8s.gcr.io/k8s-dns-kube-dns:1.14.13'), configMap('kube-system', 'kube-dns', { stubDomains: '{"acme.local": ["1.2.3.4"]}', upstreamNameservers: '["8.8.8.8"]' })];
  const o = await golden('kube-dns', [], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.equal(live(o, 'kube-dns').data, { stubDomains: '{"acme.local":["1.2.3.4"],"global":["10.96.0.53"]}', upstreamNameservers: '["8.8.8.8"]' });
  assert.match(o.stderr, /^\+\{"acme\.local":\["1\.2\.3\.4"\],"global":\["10\.96\.0\.53"\]\}$/m);
  const again = await golden('', [], { seed: [...seed.slice(0, 3), configMap('kube-system', 'kube-dns', { stubDomains: '{"global": ["10.96.0.53"]}' })] });
  assert.is(again.stdout, 'configmap/kube-dns unchanged\n');
  assert.equal(writes(again), []);
});

test('kube-dns without its optional ConfigMap: the seed\'s ConfigMap is created, unlabelled', async () => {
  const o = await golden('', [], { seed: [namespace('istio-system'), istiocorednsService('istio-system'), dnsDeployment('kube-dns', 'k8s.gcr.io/k8s-dns-kube-dns:1.14.13')] });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'configmap/kube-dns created\n');
  const cm = live(o, 'kube-dns');
  assert.equal(cm.data, { stubDomains: '{"global":["10.96.0.53"]}' });
  assert.is(cm.metadata.labels, undefined);
});

test('no istiocoredns: the error says what installs it, and nothing is written', async () => {
  const o = await golden('error-no-istiocoredns', [], { seed: [dnsDeployment('coredns', K8S_128), configMap('kube-system', 'coredns', { Corefile: KUBEADM })] });
  assert.is(o.code, 1);
  assert.match(o.stderr, /^error: service istiocoredns was not found in namespace istio-system, so nothing would answer for \.global$/m);
  assert.match(o.stderr, /^hint: istiocoredns is an addon of Istio 1\.1–1\.8: install it with "istioctl manifest apply -f install\/kubernetes\/operator\/examples\/vm\/values-istio-meshexpansion-gateways\.yaml --set coreDNS\.enabled=true"/m);
  assert.match(o.stderr, /istiocoredns\.enabled=true/);
  assert.equal(writes(o), []);
});

test('no coredns or kube-dns Deployment, a Corefile that does not parse, or a missing ConfigMap: errors, nothing written', async () => {
  const none = await golden('error-no-dns', [], { seed: [namespace('istio-system'), istiocorednsService('istio-system')] });
  assert.is(none.code, 1);
  assert.match(none.stderr, /^error: found neither deployment kube-system\/coredns nor kube-system\/kube-dns, nor a Corefile in configmap kube-system\/coredns/m);
  const broken = await golden('error-corefile-syntax', [], { seed: coreDns(K8S_128, '.:53 {\n    errors\n    forward . /etc/resolv.conf {\n}\n') });
  assert.is(broken.code, 65);
  assert.match(broken.stderr, /^error: cannot parse the Corefile: the server block "\.:53" on line 1 is not closed/m);
  assert.equal(writes(broken), []);
  const noCm = await golden('', [], { seed: coreDns(K8S_128, KUBEADM).slice(0, 3) });
  assert.is(noCm.code, 1);
  assert.match(noCm.stderr, /^error: configmap kube-system\/coredns was not found, though deployment kube-system\/coredns exists$/m);
  const badJson = await golden('', [], { seed: [namespace('istio-system'), istiocorednsService('istio-system'), dnsDeployment('kube-dns', 'k8s.gcr.io/k8s-dns-kube-dns:1.14.13'), configMap('kube-system', 'kube-dns', { stubDomains: '{global: 1' })] });
  assert.is(badJson.code, 65);
  assert.match(badJson.stderr, /^error: data\.stubDomains of configmap kube-system\/kube-dns is not JSON/m);
  assert.equal(writes(badJson), []);
});

test('a Corefile but no CoreDNS Deployment (nor kube-dns): a current CoreDNS is assumed, forward is used, and a note says so', async () => {
  const seed = [namespace('istio-system'), istiocorednsService('istio-system'), configMap('kube-system', 'coredns', { Corefile: KUBEADM })];
  const o = await golden('coredns-no-deployment', [], { seed });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'configmap/coredns configured\n');
  assert.is(live(o, 'coredns').data.Corefile, `${KUBEADM}global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}\n`);
  assert.match(o.stderr, /^note: there is no deployment kube-system\/coredns to read CoreDNS's version from, but configmap kube-system\/coredns has a Corefile: assuming a current CoreDNS \(1\.4 or later\)/m);
  const old = await golden('', ['--coredns-version', '1.3.1'], { seed });
  assert.is(old.code, 0, old.stderr);
  assert.match(live(old, 'coredns').data.Corefile, /\n {4}proxy \. 10\.96\.0\.53\n/, '--coredns-version still decides');
  assert.not.match(old.stderr, /assuming/);
});

test('a Corefile without reload gets a warning saying how to restart CoreDNS', async () => {
  const o = await golden('', [], { seed: coreDns(K8S_128, '.:53 {\n    forward . /etc/resolv.conf\n}\n') });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: the Corefile has no "reload" plugin.*rollout restart deployment coredns$/m);
});

test('--istio-namespace: istiocoredns elsewhere; a bad namespace is a usage error', async () => {
  const o = await golden('', ['-i', 'mesh'], { seed: [namespace('mesh'), istiocorednsService('mesh', '10.96.1.1'), dnsDeployment('coredns', K8S_128), configMap('kube-system', 'coredns', { Corefile: KUBEADM })] });
  assert.is(o.code, 0, o.stderr);
  assert.match(live(o, 'coredns').data.Corefile, /forward \. 10\.96\.1\.1\n/);
  const bad = await golden('', ['-i', 'Mesh'], {});
  assert.is(bad.code, 64);
  assert.equal(bad.requests, []);
});

test.run();
