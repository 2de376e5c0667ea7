import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildService, buildServiceEntry, externalServiceHost, serviceEntryName } from '../../shared/istio/external-service.ts';
import { parsePorts } from '../../shared/istio/ports.ts';

const test = suite('external-service builders');
const spec = (over: Partial<Parameters<typeof buildService>[0]> = {}) => ({
  name: 'vmhttp',
  namespace: 'vm',
  addresses: ['10.0.0.5', 'fd00::5'],
  ports: parsePorts(['HTTP:8080', 'udp:53']),
  labels: {},
  annotations: {},
  serviceAccount: 'vm-sa',
  clusterDomain: 'cluster.local',
  ...over,
});

test('Service: selector-less, lower-case port names, UDP stays UDP, managed-by label, the SA annotation', () => {
  const svc = buildService(spec({ labels: { app: 'x' }, annotations: { env: 'stage' } }));
  assert.equal(svc.metadata, {
    name: 'vmhttp',
    namespace: 'vm',
    labels: { app: 'x', 'app.kubernetes.io/managed-by': 'kubectl-vm' },
    annotations: { env: 'stage', 'kubernetes.io/service-account.name': 'vm-sa' },
  });
  assert.equal(svc.spec, { ports: [{ name: 'http-8080', port: 8080, protocol: 'TCP' }, { name: 'udp-53', port: 53, protocol: 'UDP' }] });
});

test('ServiceEntry: host in the cluster domain, ports with Istio protocols, one endpoint per address with the SA', () => {
  const se = buildServiceEntry(spec({ clusterDomain: 'corp.internal' }));
  assert.is(se.metadata.name, serviceEntryName('vmhttp'));
  assert.is(externalServiceHost({ name: 'a', namespace: 'b', clusterDomain: 'c' }), 'a.b.svc.c');
  assert.equal(se.spec, {
    hosts: ['vmhttp.vm.svc.corp.internal'],
    ports: [{ number: 8080, protocol: 'HTTP', name: 'HTTP-8080' }, { number: 53, protocol: 'UDP', name: 'udp-53' }],
    endpoints: [{ address: '10.0.0.5', serviceAccount: 'vm-sa' }, { address: 'fd00::5', serviceAccount: 'vm-sa' }],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
  });
  assert.equal((buildServiceEntry(spec({ labels: { app: 'x' } })).spec as any).endpoints[0].labels, { app: 'x' });
});

test.run();
