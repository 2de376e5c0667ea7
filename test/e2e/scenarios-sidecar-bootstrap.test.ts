// sidecar-bootstrap's API half through the real kubectl: a dry run and an --output-dir bundle for a WorkloadEntry,
// against the test API server or, with KUBECTL_VM_E2E_KUBECONFIG, a real cluster. The "Istio namespace" is a
// namespace of the scenario's own (--istio-namespace), and the gateway comes from meshNetworks, so nothing depends
// on a control plane or a load balancer. The SSH half is in sidecar-bootstrap-ssh.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { decodeClaims } from '../apiserver/token.ts';
import { tempDir } from '../helpers/tmp.ts';
import { scenarioSuite } from '../helpers/scenario.ts';

const { test, cluster, vm } = scenarioSuite('sidecar-bootstrap scenarios');

async function create(yamlText: string) {
  const r = await cluster().kubectl(['create', '-f', '-'], yamlText);
  assert.is(r.code, 0, r.stderr);
}

async function meshIn(istioNs: string, ns: string) {
  await create(`apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: ${istioNs}}
data:
  mesh: |
    defaultConfig:
      discoveryAddress: istiod.${istioNs}.svc:15012
    trustDomain: cluster.local
  meshNetworks: |
    networks:
      net1:
        gateways:
        - address: 192.0.2.20
          port: 15443
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: ${istioNs}}
data:
  values: '{"global":{"network":"net1","jwtPolicy":"third-party-jwt","pilotCertProvider":"istiod"}}'
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-ca-root-cert, namespace: ${istioNs}}
data:
  root-cert.pem: "fake-root"
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: backend, namespace: ${ns}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: backend-vm
  namespace: ${ns}
  labels: {app: backend}
  annotations:
    sidecar-bootstrap.istio.io/ssh-user: ubuntu
    sidecar-bootstrap.istio.io/proxy-config-dir: /etc/istio-proxy
spec:
  address: 10.0.0.5
  serviceAccount: backend
  labels: {app: backend}
`);
}

test('a dry run reads and mints nothing; --output-dir writes a bundle whose token the cluster made', async () => {
  const istioNs = await cluster().namespace('kvm-istio');
  const ns = await cluster().namespace();
  await meshIn(istioNs, ns);
  cluster().server?.clearRequests();
  const dry = await vm(['sidecar-bootstrap', 'backend-vm', '-n', ns, '-i', istioNs, '--start-istio-proxy', '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`^# workloadentry backend-vm\\.${ns}: would connect to ubuntu@10\\.0\\.0\\.5:22 \\(dry run\\)$`, 'm'));
  assert.match(dry.stdout, /^\[sftp\] \/etc\/istio-proxy\/istio-token \(mode 0600\): <token: not minted in a dry run>$/m);
  assert.match(dry.stdout, new RegExp(`--add-host istiod\\.${istioNs}\\.svc:192\\.0\\.2\\.20 `), 'the meshNetworks gateway');
  assert.not.match(dry.stdout + dry.stderr, /eyJ/);
  if (cluster().server) assert.ok(cluster().server!.requests.every((r) => r.method === 'GET'), 'a dry run only reads');

  const out = path.join(tempDir(), 'bundle');
  const o = await vm(['sidecar-bootstrap', 'backend-vm', '-n', ns, '-i', istioNs, '--output-dir', out, '--duration', '1h']);
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, `workloadentry backend-vm.${ns}: bundle written to ${out}\n`);
  assert.equal(fs.readdirSync(path.join(out, 'etc')).sort(), ['istio-ca.pem', 'istio-token', 'sidecar.env']);
  const claims = decodeClaims(fs.readFileSync(path.join(out, 'etc/istio-token'), 'utf8'));
  assert.equal(claims.aud, ['istio-ca']);
  assert.is(claims.sub, `system:serviceaccount:${ns}:backend`);
  assert.is(fs.statSync(path.join(out, 'etc/istio-token')).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(path.join(out, 'etc/sidecar.env'), 'utf8'), /^ISTIO_META_NETWORK=net1$/m);
  assert.is(fs.readFileSync(path.join(out, 'etc/istio-ca.pem'), 'utf8'), 'fake-root');
});

test('a WorkloadEntry that does not exist: exit 1 and how to list them', async () => {
  const ns = await cluster().namespace();
  const o = await vm(['sidecar-bootstrap', 'nope', '-n', ns, '--dry-run']);
  assert.is(o.code, 1);
  assert.match(o.stderr, new RegExp(`^error: workloadentry nope not found in namespace ${ns}\\nhint: list them with: kubectl get workloadentries -n ${ns}`, 'm'));
});

test.run();
