// The objects of `add-to-mesh external-service`: a selector-less Service and the ServiceEntry that puts the VM's
// addresses behind it (reference/istioctl.md §3), with istioctl's bugs B16 fixed: the service account is on every
// endpoint, the cluster domain is configurable, and UDP ports are UDP in the Service too.
import { MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';
import type { NamedPort } from './ports.ts';

export interface ExternalServiceSpec {
  name: string;
  namespace: string;
  addresses: string[];
  ports: NamedPort[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
  clusterDomain: string;
}

/** The annotation istioctl puts on the Service. Istio does not read it; we keep it so existing tooling still finds it. */
export const SERVICE_ACCOUNT_ANNOTATION = 'kubernetes.io/service-account.name';

export const serviceEntryName = (service: string) => `mesh-expansion-${service}`;

export function externalServiceHost(spec: Pick<ExternalServiceSpec, 'name' | 'namespace' | 'clusterDomain'>): string {
  return `${spec.name}.${spec.namespace}.svc.${spec.clusterDomain}`;
}

export function buildService(spec: ExternalServiceSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { ...spec.labels, [MANAGED_BY_LABEL]: MANAGER },
      annotations: { ...spec.annotations, [SERVICE_ACCOUNT_ANNOTATION]: spec.serviceAccount },
    },
    spec: {
      ports: spec.ports.map((p) => ({
        name: `${p.name.toLowerCase()}-${p.port}`,
        port: p.port,
        protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP',
      })),
    },
  };
}

export function buildServiceEntry(spec: ExternalServiceSpec): KubeObject {
  const hasLabels = Object.keys(spec.labels).length > 0;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {
      name: serviceEntryName(spec.name),
      namespace: spec.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER },
    },
    spec: {
      hosts: [externalServiceHost(spec)],
      ports: spec.ports.map((p) => ({ number: p.port, protocol: p.protocol, name: `${p.name}-${p.port}` })),
      endpoints: spec.addresses.map((address) => ({
        address,
        ...(hasLabels ? { labels: { ...spec.labels } } : {}),
        serviceAccount: spec.serviceAccount,
      })),
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
    },
  };
}
