// End-to-end scenarios for eastwest-gateway and expose-istiod through the real kubectl, against the test API
// server or, with KUBECTL_VM_E2E_KUBECONFIG, a real cluster with Istio's CRDs. Each scenario plays the istio
// namespace in a namespace of its own (with a stand-in east-west gateway Service), so it never touches a real
// istio-system; that is also the custom-istio-namespace case (B21). The request log is checked only where the
// test server is.
import { missingPath } from '../helpers/tmp.ts';
import * as assert from 'uvu/assert';
import yaml from 'js-yaml';
import { run } from '../helpers/run.ts';
import { scenarioSuite } from '../helpers/scenario.ts';

const { test, cluster, vm, getJson } = scenarioSuite('expose-istiod scenarios');
const GW = 'gateways.networking.istio.io';
const VS = 'virtualservices.networking.istio.io';

/** The east-west gateway's Service as istioctl install leaves it, with the given ports; ClusterIP so no cloud is needed. */
async function gatewayService(ns: string, ports: number[]): Promise<void> {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-eastwestgateway', namespace: ns, labels: { istio: 'eastwestgateway', app: 'istio-eastwestgateway' } },
    spec: { selector: { istio: 'eastwestgateway' }, ports: ports.map((port) => ({ name: `p${port}`, port })) },
  };
  const r = await cluster().kubectl(['create', '-f', '-'], JSON.stringify(svc));
  assert.is(r.code, 0, r.stderr);
}

test('expose istiod of a revision in a custom istio namespace and domain; a re-run is unchanged; --delete removes it', async () => {
  const ns = await cluster().namespace('kvm-istio');
  await gatewayService(ns, [15021, 15443, 15012, 15017]);
  const args = ['expose-istiod', '-i', ns, '--cluster-domain', 'corp.internal', '--revision', 'canary', '--services'];
  cluster().server?.clearRequests();
  const first = await vm(args);
  assert.is(first.code, 0, first.stderr);
  assert.is(first.stdout, 'gateway.networking.istio.io/istiod-gateway created\nvirtualservice.networking.istio.io/istiod-vs-canary created\ngateway.networking.istio.io/cross-network-gateway created\n');
  assert.match(first.stderr, /^warning: .* has no external address yet/m);
  if (cluster().server) assert.is(cluster().server!.requests.length, 4, 'one list and three creates');

  const vs = await getJson([VS, 'istiod-vs-canary', '-n', ns]);
  assert.equal(vs.spec.tls[0].match[0].sniHosts, [`istiod-canary.${ns}.svc`, `istiod-canary.${ns}.svc.corp.internal`]);
  assert.is(vs.spec.tls[1].route[0].destination.host, `istiod-canary.${ns}.svc.corp.internal`);
  assert.is(vs.spec.tls[1].route[0].destination.port.number, 443);
  const cross = await getJson([GW, 'cross-network-gateway', '-n', ns]);
  assert.equal(cross.spec.servers[0].tls, { mode: 'AUTO_PASSTHROUGH' });
  assert.equal(cross.spec.servers[0].hosts, ['*.corp.internal']);

  const again = await vm(args);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout.match(/ unchanged$/gm)?.length, 3);

  const del = await vm([...args, '--delete']);
  assert.is(del.code, 0, del.stderr);
  assert.is((await getJson([GW, '-n', ns])).items.length, 0);
  assert.is((await getJson([VS, '-n', ns])).items.length, 0);
});

test('generate with --dry-run=client -o yaml, apply with kubectl, then expose-istiod reports unchanged', async () => {
  const ns = await cluster().namespace('kvm-istio');
  await gatewayService(ns, [15021, 15443, 15012, 15017]);
  const yamlOut = await vm(['expose-istiod', '-i', ns, '--dry-run=client', '-o', 'yaml']);
  assert.is(yamlOut.code, 0, yamlOut.stderr);
  const applied = await cluster().kubectl(['apply', '-f', '-'], yamlOut.stdout);
  assert.is(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /gateway.networking.istio.io\/istiod-gateway created/);
  const again = await vm(['expose-istiod', '-i', ns]);
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, 'gateway.networking.istio.io/istiod-gateway unchanged\nvirtualservice.networking.istio.io/istiod-vs unchanged\n');
});

test('a missing or incomplete east-west gateway Service is refused with the command that creates one', async () => {
  const ns = await cluster().namespace('kvm-istio');
  const none = await vm(['expose-istiod', '-i', ns]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^hint: install one first: kubectl vm eastwest-gateway --single-cluster/m);
  await gatewayService(ns, [15021, 15012, 15017]);
  const partial = await vm(['expose-istiod', '-i', ns, '--services']);
  assert.is(partial.code, 1);
  assert.match(partial.stderr, /does not expose port 15443/);
  assert.is((await getJson([GW, '-n', ns])).items.length, 0, 'nothing created');
});

test('eastwest-gateway prints YAML without a cluster, and --label-namespace labels the istio namespace once', async () => {
  const offline = await run('kubectl', ['vm', 'eastwest-gateway', '--ambient', '--network', 'net1'], { env: { ...cluster().env, KUBECONFIG: missingPath('kubeconfig') } });
  assert.is(offline.code, 0, offline.stderr);
  assert.is((yaml.load(offline.stdout) as any).spec.gatewayClassName, 'istio-east-west');

  const ns = await cluster().namespace('kvm-istio');
  const r = await vm(['eastwest-gateway', '--network', 'net1', '--label-namespace', '-i', ns]);
  assert.is(r.code, 0, r.stderr);
  assert.is((yaml.load(r.stdout) as any).kind, 'IstioOperator');
  assert.is((await getJson(['namespace', ns])).metadata.labels['topology.istio.io/network'], 'net1');
  const again = await vm(['eastwest-gateway', '--network', 'net1', '--label-namespace', '-i', ns]);
  assert.match(again.stderr, /unchanged/);
  const other = await vm(['eastwest-gateway', '--network', 'net2', '--label-namespace', '-i', ns]);
  assert.is(other.code, 1);
  assert.is((await getJson(['namespace', ns])).metadata.labels['topology.istio.io/network'], 'net1');
});

test.run();
