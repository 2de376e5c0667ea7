// End-to-end scenarios through the real kubectl: they run against the test API server, or against a real
// cluster when KUBECTL_VM_E2E_KUBECONFIG is set. Nothing here depends on the test server; where it is there,
// the request log is checked as well.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { run } from '../helpers/run.ts';

const test = suite(`end-to-end scenarios (${process.env.KUBECTL_VM_E2E_KUBECONFIG ? 'real cluster' : 'test API server'})`);
let c: Cluster;

test.before(async () => {
  c = await startCluster();
});
test.after(async () => {
  await c.close();
});

const vm = (args: string[], input?: string) => run('kubectl', ['vm', ...args], { env: c.env, input });
const getJson = async (args: string[]) => {
  const r = await c.kubectl(['get', ...args, '-o', 'json']);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test('a VM service goes into the mesh and out again', async () => {
  const ns = await c.namespace();
  c.server?.clearRequests();
  const add = await vm(['add-to-mesh', 'external-service', 'vmhttp', '10.0.0.5', 'http:8080', 'tcp:9000', '-n', ns, '-l', 'app=vmhttp', '-s', 'vm-sa']);
  assert.is(add.code, 0, add.stderr);
  assert.is(add.stdout, `ServiceEntry "mesh-expansion-vmhttp.${ns}" has been created in the Istio service mesh for the external service "vmhttp"\nKubernetes Service "vmhttp.${ns}" has been created in the Istio service mesh for the external service "vmhttp"\n`);
  if (c.server) assert.is(c.server.requests.length, 2, 'add-to-mesh sends two requests');

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
  assert.is((await c.kubectl(['get', 'service', 'vmhttp', '-n', ns])).code, 1);
  assert.is((await c.kubectl(['get', 'serviceentries.networking.istio.io', 'mesh-expansion-vmhttp', '-n', ns])).code, 1);

  const gone = await vm(['remove-from-mesh', 'es', 'vmhttp', '-n', ns]);
  assert.is(gone.code, 0);
  assert.match(gone.stderr, /^note: nothing to remove/m);
});

test('objects that kubectl-vm does not manage are neither taken over nor deleted', async () => {
  const ns = await c.namespace();
  const created = await c.kubectl(['create', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: legacy\nspec:\n  ports:\n  - name: http\n    port: 80\n');
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
  const ns = await c.namespace();
  const yaml = await vm(['add-to-mesh', 'es', 'gitops', '10.0.0.9', 'grpc:9090', '-n', ns, '--dry-run=client', '-o', 'yaml']);
  assert.is(yaml.code, 0, yaml.stderr);
  const created = await c.kubectl(['create', '-f', '-'], yaml.stdout);
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stdout, /service\/gitops created/);
  const again = await vm(['add-to-mesh', 'es', 'gitops', '10.0.0.9', 'grpc:9090', '-n', ns]);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /"mesh-expansion-gitops\..*" is unchanged/);
});

test('--dry-run=server stores nothing', async () => {
  const ns = await c.namespace();
  const r = await vm(['add-to-mesh', 'es', 'dry', '10.0.0.7', 'http:80', '-n', ns, '--dry-run=server']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /\(server dry run\)$/m);
  assert.is((await c.kubectl(['get', 'service', 'dry', '-n', ns])).code, 1);
});

test('without -n the namespace comes from the kubeconfig context', async () => {
  const ns = await c.namespace();
  const kubeconfig = path.join(c.home, 'ctx-kubeconfig');
  fs.copyFileSync(c.kubeconfig, kubeconfig);
  const env = { ...c.env, KUBECONFIG: kubeconfig };
  assert.is((await run('kubectl', ['config', 'set-context', '--current', `--namespace=${ns}`], { env })).code, 0);
  const r = await run('kubectl', ['vm', 'add-to-mesh', 'es', 'ctxsvc', '10.0.0.8', 'http:80'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.ok((await getJson(['service', 'ctxsvc', '-n', ns])).metadata);
});

test.run();
