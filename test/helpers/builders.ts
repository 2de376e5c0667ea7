// Fixture builders: tests never spell out raw objects. "managed" objects are made by kubectl-vm's own builders,
// exactly as add-to-mesh would have made them; "plain" ones are what a user made by hand.
import { buildService, buildServiceEntry, type ExternalServiceSpec } from '../../shared/istio/external-service.ts';
import { buildExposeIstiod, type ExposeIstiodSpec } from '../../shared/istio/expose-istiod.ts';
import { parsePorts } from '../../shared/istio/ports.ts';
import { buildEndpoints, buildRegisteredService, parseRegisterPorts, planSlices } from '../../shared/istio/registration.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { buildGlobalServiceEntry } from '../../shared/istio/global-service.ts';
import { ADDRESS_CONFIGMAP } from '../../shared/kube/global-addresses.ts';

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** A namespace stuck in Terminating: deleted, but a finalizer is still holding it. */
export function terminatingNamespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, deletionTimestamp: '2026-01-01T00:00:00Z' } };
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

/**
 * The Service of the east-west gateway that `kubectl vm eastwest-gateway | istioctl install -f -` installs, with
 * the given ports and, unless `address` is null, the address a cloud load balancer reports.
 */
export function eastwestService(ns: string, ports: number[] = [15021, 15443, 15012, 15017], address: string | null = '192.0.2.10'): KubeObject {
  const labels = { app: 'istio-eastwestgateway', istio: 'eastwestgateway' };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-eastwestgateway', namespace: ns, labels },
    spec: { type: 'LoadBalancer', selector: labels, ports: ports.map((port) => ({ name: `port-${port}`, port })) },
    status: { loadBalancer: address ? { ingress: [{ ip: address }] } : {} },
  };
}

/** What `kubectl vm expose-istiod` with these settings creates (managed by kubectl-vm). */
export function exposedIstiod(over: Partial<ExposeIstiodSpec> = {}): KubeObject[] {
  return buildExposeIstiod({
    istioNamespace: 'istio-system',
    clusterDomain: 'cluster.local',
    revision: '',
    gatewaySelector: { istio: 'eastwestgateway' },
    tls: { mode: 'passthrough' },
    services: false,
    ...over,
  });
}

/** A namespace with labels, e.g. istio-system as the installer left it. */
export function labelledNamespace(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** A cluster Service with a selector and these ports (e.g. samples/httpbin: http 8000). */
export function clusterService(ns: string, name: string, ports: { name?: string; port: number; protocol?: string; appProtocol?: string }[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels: { app: name } }, spec: { selector: { app: name }, ports } };
}

/** The 1.4–1.8 ingress gateway Service, with the load balancer status a cloud would report. */
export function ingressGateway(ns: string, status: { ip?: string; hostname?: string } | undefined, externalIPs?: string[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-ingressgateway', namespace: ns, labels: { istio: 'ingressgateway' } },
    spec: { type: 'LoadBalancer', selector: { istio: 'ingressgateway' }, ports: [{ name: 'tls', port: 15443 }], ...(externalIPs ? { externalIPs } : {}) },
    status: { loadBalancer: status ? { ingress: [status] } : {} },
  };
}

/** A ServiceEntry someone made by hand for a .global host, with an address (seed 000's example). */
export function handMadeGlobalEntry(ns: string, name: string, host: string, address: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: ns },
    spec: { hosts: [host], location: 'MESH_INTERNAL', ports: [{ name: 'http1', number: 8000, protocol: 'http' }], resolution: 'DNS', addresses: [address], endpoints: [{ address: '192.0.2.1', ports: { http1: 15443 } }] },
  };
}

/** Istio 1.4–1.8's istiocoredns Service (53/UDP dns, 53/TCP dns-tcp), at a fixed cluster IP. */
export function istiocorednsService(ns: string, clusterIP = '10.96.0.53'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istiocoredns', namespace: ns, labels: { app: 'istiocoredns' } },
    spec: { clusterIP, selector: { app: 'istiocoredns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] },
  };
}

/** A cluster DNS Deployment in kube-system (coredns or kube-dns) running this image. */
export function dnsDeployment(name: 'coredns' | 'kube-dns', image: string): KubeObject {
  const labels = { 'k8s-app': 'kube-dns' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'kube-system', labels },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: name === 'coredns' ? 'coredns' : 'kubedns', image }] } } },
  };
}

/** The ServiceEntry `expose-service <name> -n <ns>` makes for a Service with one http port 8000. */
export function exposedEntry(ns: string, name: string, address: string, gatewayAddress: string): KubeObject {
  return buildGlobalServiceEntry({ name, namespace: ns, ports: [{ name: 'http', number: 8000, protocol: 'HTTP' }], gatewayAddress, address });
}

/** expose-service's address claims (address → host), as it keeps them in the Istio namespace. */
export function addressClaims(ns: string, claims: Record<string, string>, managed = true): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ADDRESS_CONFIGMAP, namespace: ns, ...(managed ? { labels: { 'app.kubernetes.io/managed-by': 'kubectl-vm' } } : {}) }, data: claims };
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
