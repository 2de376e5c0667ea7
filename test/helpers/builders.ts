// Fixture builders: tests never spell out raw objects. "managed" objects are made by kubectl-vm's own builders,
// exactly as add-to-mesh would have made them; "plain" ones are what a user made by hand.
import { buildService, buildServiceEntry, type ExternalServiceSpec } from '../../shared/istio/external-service.ts';
import { parsePorts } from '../../shared/istio/ports.ts';
import { buildEndpoints, buildRegisteredService, parseRegisterPorts, planSlices } from '../../shared/istio/registration.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

function spec(ns: string, name: string, addresses: string[], ports: string[]): ExternalServiceSpec {
  return { name, namespace: ns, addresses, ports: parsePorts(ports), labels: {}, annotations: {}, serviceAccount: 'default', clusterDomain: 'cluster.local' };
}

/** The Service add-to-mesh creates for `<name> <ip> http:<port>`. */
export function managedService(ns: string, name: string, ports: { name: string; port: number; protocol: string }[]): KubeObject {
  return buildService(spec(ns, name, ['10.0.0.5'], ports.map((p) => `${p.name.split('-')[0]}:${p.port}`)));
}

/** The ServiceEntry add-to-mesh creates. */
export function managedServiceEntry(ns: string, name: string, addresses: string[], ports: { name: string; number: number; protocol: string }[]): KubeObject {
  return buildServiceEntry(spec(ns, name, addresses, ports.map((p) => `${p.name.split('-')[0]}:${p.number}`)));
}

/** A Service someone created by hand, without kubectl-vm's label. */
export function plainService(ns: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'tcp-12345', port: 12345 }] } };
}

/** A ServiceEntry someone created by hand. */
export function plainServiceEntry(ns: string, name: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: ns },
    spec: { hosts: ['external.example.com'], ports: [{ name: 'tcp', number: 12345, protocol: 'TCP' }], resolution: 'DNS', location: 'MESH_EXTERNAL' },
  };
}

/** A ConfigMap with the given data. */
export function configMap(ns: string, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data };
}

export function serviceAccount(ns: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } };
}

/** The east-west gateway Service, with the load balancer status a cloud would report. */
export function gatewayService(ns: string, name: string, status: { ip?: string; hostname?: string } | undefined, externalIPs?: string[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { istio: 'eastwestgateway' } },
    spec: { type: 'LoadBalancer', ports: [{ name: 'tls-istiod', port: 15012 }], ...(externalIPs ? { externalIPs } : {}) },
    status: { loadBalancer: status ? { ingress: [status] } : {} },
  };
}

/** The webhook that marks a revision as the "default" revision tag. */
export function revisionTag(revision: string): KubeObject {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-revision-tag-default', labels: { 'istio.io/rev': revision, 'istio.io/tag': 'default' } } };
}

const registered = (ns: string, name: string, ports: string[]) => ({ name, namespace: ns, ports: parseRegisterPorts(ports), labels: {}, annotations: {}, serviceAccount: 'default' });

/** The Service `kubectl vm register <name> … <ports>` creates. */
export function registeredService(ns: string, name: string, ports: string[]): KubeObject {
  return buildRegisteredService(registered(ns, name, ports));
}

/** The EndpointSlices register writes for these addresses. */
export function registeredSlices(ns: string, name: string, ips: string[], ports: string[]): KubeObject[] {
  return planSlices(name, ns, [], ips, parseRegisterPorts(ports)).write;
}

/** The Endpoints `register --endpoints-api=endpoints` writes. */
export function registeredEndpoints(ns: string, name: string, ips: string[], ports: string[]): KubeObject {
  return buildEndpoints(registered(ns, name, ports), ips);
}

/** Endpoints as istioctl register leaves them: no label, one subset. */
export function istioctlEndpoints(ns: string, name: string, ips: string[], port: { name: string; port: number }): KubeObject {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [port] }] };
}

/** A Service whose endpoints the endpoints controller keeps. */
export function selectorService(ns: string, name: string, selector: Record<string, string>, port: { name: string; port: number }): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector, ports: [port] } };
}

/** A VM's WorkloadEntry, with sidecar-bootstrap.istio.io/* annotations (keys without the prefix). */
export function workloadEntry(ns: string, name: string, address: string, serviceAccount: string | undefined, bootstrap: Record<string, string> = {}, labels: Record<string, string> = { app: name }): KubeObject {
  const annotations = Object.fromEntries(Object.entries(bootstrap).map(([k, v]) => [k.includes('/') ? k : `sidecar-bootstrap.istio.io/${k}`, v]));
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name, namespace: ns, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { address, labels, ...(serviceAccount ? { serviceAccount } : {}) },
  };
}

/** What sidecar-bootstrap reads from an Istio installation: mesh config, injector values, root cert, gateway. */
export function meshExpansionSeed(options: { gatewayPorts?: number[]; gateway?: { ip?: string; hostname?: string }; rootCert?: boolean } = {}): KubeObject[] {
  const ns = 'istio-system';
  return [
    namespace(ns),
    configMap(ns, 'istio', { mesh: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\ntrustDomain: cluster.local\n' }),
    configMap(ns, 'istio-sidecar-injector', { values: JSON.stringify({ global: { jwtPolicy: 'third-party-jwt', pilotCertProvider: 'istiod', hub: 'docker.io/istio', tag: '1.28.0', network: 'vm-net', multiCluster: { clusterName: 'cluster1' } } }) }),
    ...(options.rootCert === false ? [] : [configMap(ns, 'istio-ca-root-cert', { 'root-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n' })]),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-ingressgateway', namespace: ns },
      spec: { type: 'LoadBalancer', ports: (options.gatewayPorts ?? [15443, 15012]).map((port) => ({ name: `tls-${port}`, port })) },
      status: { loadBalancer: { ingress: [options.gateway ?? { ip: '192.0.2.10' }] } },
    },
  ];
}
