// End-to-end scenarios through the real kubectl: they run against the test API server, or against a real
// cluster when KUBECTL_VM_E2E_KUBECONFIG is set. Nothing here depends on the test server; where it is there,
// the request log is checked as well.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { run } from '../helpers/run.ts';
import { scenarioSuite } from '../helpers/scenario.ts';

const { test, cluster, vm, getJson } = scenarioSuite('end-to-end scenarios');

test('a VM service goes into the mesh and out again', async () => {
  const ns = await cluster().namespace();
  cluster().server?.clearRequests();
  const add = await vm(['add-to-mesh', 'external-service', 'vmhttp', '10.0.0.5', 'http:8080', 'tcp:9000', '-n', ns, '-l', 'app=vmhttp', '-s', 'vm-sa']);
  assert.is(add.code, 0, add.stderr);
  assert.is(add.stdout, `ServiceEntry "mesh-expansion-vmhttp.${ns}" has been created in the Istio service mesh for the external service "vmhttp"\nKubernetes Service "vmhttp.${ns}" has been created in the Istio service mesh for the external service "vmhttp"\n`);
  if (cluster().server) assert.is(cluster().server!.requests.length, 3, 'add-to-mesh sends two writes and reads the Service back once');

  const svc = await getJson(['service', 'vmhttp', '-n', ns]);
  assert.is(svc.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(svc.spec.ports.map((p: any) => `${p.name}/${p.port}/${p.protocol}/${p.targetPort}`), ['http-8080/8080/TCP/8080', 'tcp-9000/9000/TCP/9000']);
  assert.is(svc.spec.selector, undefined);
  const se = await getJson(['serviceentries.networking.istio.io', 'mesh-expansion-vmhttp', '-n', ns]);
  assert.equal(se.spec.hosts, [`vmhttp.${ns}.svc.cluster.local`]);
  assert.equal(se.spec.endpoints, [{ address: '10.0.0.5', labels: { app: 'vmhttp' }, serviceAccount: 'vm-sa' }]);

  const again = await vm(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', 'tcp:9000', '-n', ns, '-l', 'app=vmhttp', '-s', 'vm-sa']);
  assert.is(again.code, 0);
  assert.match(again.stdout, /is unchanged in the Istio service mesh/);

  const remove = await vm(['remove-from-mesh', 'external-service', 'vmhttp', '-n', ns]);
  assert.is(remove.code, 0, remove.stderr);
  assert.is((await cluster().kubectl(['get', 'service', 'vmhttp', '-n', ns])).code, 1);
  assert.is((await cluster().kubectl(['get', 'serviceentries.networking.istio.io', 'mesh-expansion-vmhttp', '-n', ns])).code, 1);

  const gone = await vm(['remove-from-mesh', 'es', 'vmhttp', '-n', ns]);
  assert.is(gone.code, 0);
  assert.match(gone.stderr, /^note: nothing to remove/m);
});

test('objects that kubectl-vm does not manage are neither taken over nor deleted', async () => {
  const ns = await cluster().namespace();
  const created = await cluster().kubectl(['create', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: legacy\nspec:\n  ports:\n  - name: http\n    port: 80\n');
  assert.is(created.code, 0, created.stderr);
  const add = await vm(['add-to-mesh', 'es', 'legacy', '10.0.0.5', 'http:80', '-n', ns]);
  assert.is(add.code, 1);
  assert.match(add.stderr, new RegExp(`^error: Service ${ns}/legacy already exists and is not managed by kubectl-vm`, 'm'));
  const remove = await vm(['remove-from-mesh', 'es', 'legacy', '-n', ns]);
  assert.is(remove.code, 1);
  const svc = await getJson(['service', 'legacy', '-n', ns]);
  assert.is(svc.metadata.labels, undefined, 'untouched');
});

test('generate with --dry-run=client -o yaml, create with kubectl, and a re-run reports unchanged', async () => {
  const ns = await cluster().namespace();
  const yaml = await vm(['add-to-mesh', 'es', 'gitops', '10.0.0.9', 'grpc:9090', '-n', ns, '--dry-run=client', '-o', 'yaml']);
  assert.is(yaml.code, 0, yaml.stderr);
  const created = await cluster().kubectl(['create', '-f', '-'], yaml.stdout);
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stdout, /service\/gitops created/);
  const again = await vm(['add-to-mesh', 'es', 'gitops', '10.0.0.9', 'grpc:9090', '-n', ns]);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /"mesh-expansion-gitops\..*" is unchanged/);
});

test('--dry-run=server stores nothing', async () => {
  const ns = await cluster().namespace();
  const r = await vm(['add-to-mesh', 'es', 'dry', '10.0.0.7', 'http:80', '-n', ns, '--dry-run=server']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(server dry run\)$/m);
  assert.is((await cluster().kubectl(['get', 'service', 'dry', '-n', ns])).code, 1);
});

test('without -n the namespace comes from the kubeconfig context', async () => {
  const ns = await cluster().namespace();
  const kubeconfig = path.join(cluster().home, 'ctx-kubeconfig');
  fs.copyFileSync(cluster().kubeconfig, kubeconfig);
  const env = { ...cluster().env, KUBECONFIG: kubeconfig };
  assert.is((await run('kubectl', ['config', 'set-context', '--current', `--namespace=${ns}`], { env })).code, 0);
  const r = await run('kubectl', ['vm', 'add-to-mesh', 'es', 'ctxsvc', '10.0.0.8', 'http:80'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.ok((await getJson(['service', 'ctxsvc', '-n', ns])).metadata);
});

/**
 * Istio's ConfigMaps, as istiod and the installer make them, in a namespace of the scenario's own: a real
 * cluster in this lane has Istio's CRDs but no control plane, and the scenario must not touch istio-system.
 */
async function fakeIstio(ns: string): Promise<void> {
  const objects = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: ns }, data: { mesh: 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: ns }, data: { values: '{"global":{"multiCluster":{"clusterName":"e2e-cluster"}}}' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': 'E2E-ROOT' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm-sa', namespace: ns } },
  ];
  const r = await cluster().kubectl(['create', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  assert.is(r.code, 0, r.stderr);
}

test('a WorkloadGroup is created, and a VM bundle generated from it with a real token', async () => {
  const ns = await cluster().namespace();
  await fakeIstio(ns);
  const created = await vm(['workload-group', 'create', '--name', 'vmapp', '-n', ns, '-l', 'app=vmapp', '-p', 'http=8080', '-s', 'vm-sa', '--probe-http-get', '8080/ready', '--apply']);
  assert.is(created.code, 0, created.stderr);
  assert.is(created.stdout, 'workloadgroup.networking.istio.io/vmapp created\n');
  const wg = await getJson(['workloadgroups.networking.istio.io', 'vmapp', '-n', ns]);
  assert.equal(wg.spec.template, { ports: { http: 8080 }, serviceAccount: 'vm-sa' });
  assert.equal(wg.spec.probe, { httpGet: { path: '/ready', port: 8080 } });
  const again = await vm(['workload-group', 'create', '--name', 'vmapp', '-n', ns, '-l', 'app=vmapp', '-p', 'http=8080', '-s', 'vm-sa', '--probe-http-get', '8080/ready', '--apply']);
  assert.is(again.stdout, 'workloadgroup.networking.istio.io/vmapp unchanged\n');

  const out = path.join(cluster().home, `bundle-${ns}`);
  const r = await vm(['workload-entry', 'configure', '--name', 'vmapp', '-n', ns, '--istio-namespace', ns, '--output-dir', out, '--ingress-ip', '192.0.2.10', '--internal-ip', '10.0.0.5']);
  assert.is(r.code, 0, r.stderr);
  const env = fs.readFileSync(path.join(out, 'cluster.env'), 'utf8');
  assert.match(env, /^ISTIO_META_CLUSTER_ID='e2e-cluster'$/m);
  assert.match(env, new RegExp(`^CA_ADDR='istiod\\.${ns}\\.svc:15012'$`, 'm'));
  assert.match(env, /^ISTIO_INBOUND_PORTS='8080'$/m);
  assert.is(fs.readFileSync(path.join(out, 'root-cert.pem'), 'utf8'), 'E2E-ROOT');
  assert.is(fs.readFileSync(path.join(out, 'hosts'), 'utf8'), `192.0.2.10 istiod.${ns}.svc\n`);
  const token = fs.readFileSync(path.join(out, 'istio-token'), 'utf8');
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  assert.equal(claims.aud, ['istio-ca']);
  assert.is(claims.sub, `system:serviceaccount:${ns}:vm-sa`);
  assert.is(fs.statSync(path.join(out, 'istio-token')).mode & 0o777, 0o600);
});

test('a fleet of WorkloadGroups by label, one bundle each', async () => {
  const ns = await cluster().namespace();
  await fakeIstio(ns);
  for (const name of ['a', 'b', 'c']) {
    const r = await vm(['workload-group', 'create', '--name', name, '-n', ns, '-s', 'vm-sa', '--apply']);
    assert.is(r.code, 0, r.stderr);
  }
  const labelled = await cluster().kubectl(['label', 'workloadgroups.networking.istio.io', 'a', 'b', '-n', ns, 'fleet=yes']);
  assert.is(labelled.code, 0, labelled.stderr);
  const out = path.join(cluster().home, `fleet-${ns}`);
  const r = await vm(['workload-entry', 'configure', '-l', 'fleet=yes', '-n', ns, '--istio-namespace', ns, '--output-dir', out, '--ingress-ip', '192.0.2.10']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(fs.readdirSync(path.join(out, ns)).sort(), ['a', 'b']);
});

test('VM addresses behind a Service: register, register more, deregister, and clean up', async () => {
  const ns = await cluster().namespace();
  const slices = async () => (await getJson(['endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=mysqldb'])).items;
  const listed = async () => (await slices()).flatMap((s: any) => (s.endpoints ?? []).flatMap((e: any) => e.addresses)).sort();

  const first = await vm(['register', 'mysqldb', '10.138.0.13', '3306', '-n', ns]);
  assert.is(first.code, 0, first.stderr);
  const svc = await getJson(['service', 'mysqldb', '-n', ns]);
  assert.is(svc.spec.selector, undefined);
  assert.is(svc.metadata.annotations['alpha.istio.io/kubernetes-serviceaccounts'], 'default');
  assert.equal(await listed(), ['10.138.0.13']);

  const more = await vm(['register', 'mysqldb', '10.138.0.13,10.138.0.14', '3306', '-n', ns]);
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stderr, /^note: already registered with .*: 10.138.0.13$/m);
  assert.equal(await listed(), ['10.138.0.13', '10.138.0.14']);
  const [slice] = await slices();
  assert.is(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(slice.ports, [{ name: 'mysql', port: 3306, protocol: 'TCP' }]);

  const one = await vm(['deregister', 'mysqldb', '10.138.0.13', '-n', ns]);
  assert.is(one.code, 0, one.stderr);
  assert.equal(await listed(), ['10.138.0.14']);

  const last = await vm(['deregister', 'mysqldb', '10.138.0.14', '-n', ns, '--delete-service-when-empty']);
  assert.is(last.code, 0, last.stderr);
  assert.equal(await slices(), []);
  assert.is((await cluster().kubectl(['get', 'service', 'mysqldb', '-n', ns])).code, 1);
});

test('register --endpoints-api=endpoints keeps a legacy Endpoints object, and deregister finds it', async () => {
  const ns = await cluster().namespace();
  const reg = await vm(['register', 'vmhttp', '10.0.0.5,10.0.0.6', 'http:8080', '-n', ns, '--endpoints-api=endpoints']);
  assert.is(reg.code, 0, reg.stderr);
  const ep = await getJson(['endpoints', 'vmhttp', '-n', ns]);
  assert.equal(ep.subsets.map((s: any) => s.addresses.map((a: any) => a.ip).sort()), [['10.0.0.5', '10.0.0.6']]);
  const mixed = await vm(['register', 'vmhttp', '10.0.0.7', 'http:8080', '-n', ns]);
  assert.is(mixed.code, 1);
  const dereg = await vm(['deregister', 'vmhttp', '10.0.0.5,10.0.0.6', '-n', ns]);
  assert.is(dereg.code, 0, dereg.stderr);
  assert.is((await getJson(['endpoints', 'vmhttp', '-n', ns])).subsets, undefined, 'an empty, valid Endpoints object');
});

test.run();
