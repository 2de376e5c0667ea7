// The API resources kubectl-vm talks to, and how their URL paths are built.
// Istio kinds are served in several versions from one storage (reference/istioctl.md §7): we prefer v1 and fall
// back to v1beta1, then v1alpha3, on clusters whose Istio is older than 1.22.

export interface ResourceType {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  kind: string;
  plural: string;
  namespaced: boolean;
}

const ISTIO_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const core = (kind: string, plural: string, namespaced = true): ResourceType => ({ group: '', versions: ['v1'], kind, plural, namespaced });
const istio = (kind: string, plural: string): ResourceType => ({ group: 'networking.istio.io', versions: ISTIO_VERSIONS, kind, plural, namespaced: true });

export const RESOURCE_TYPES: readonly ResourceType[] = [
  core('Namespace', 'namespaces', false),
  core('Service', 'services'),
  core('Endpoints', 'endpoints'),
  core('ConfigMap', 'configmaps'),
  core('Secret', 'secrets'),
  core('ServiceAccount', 'serviceaccounts'),
  { group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'discovery.k8s.io', versions: ['v1'], kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', namespaced: false },
  { group: 'networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'ServiceCIDR', plural: 'servicecidrs', namespaced: false },
  istio('ServiceEntry', 'serviceentries'),
  istio('WorkloadEntry', 'workloadentries'),
  istio('WorkloadGroup', 'workloadgroups'),
  istio('Gateway', 'gateways'),
  istio('VirtualService', 'virtualservices'),
  istio('DestinationRule', 'destinationrules'),
  istio('Sidecar', 'sidecars'),
];

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion: string): string {
  return apiVersion.slice(apiVersion.indexOf('/') + 1);
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function resourceType(apiVersion: string, kind: string): ResourceType {
  const group = groupOf(apiVersion);
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.kind === kind);
  if (!type) throw new Error(`kubectl-vm does not know the resource ${kind} in ${apiVersion}`);
  return type;
}

/** `/api/v1/namespaces/vm/services/vmhttp`, `/apis/networking.istio.io/v1/namespaces/vm/serviceentries`, … */
export function resourcePath(type: ResourceType, version: string, namespace?: string, name?: string, subresource?: string): string {
  let p = type.group ? `/apis/${type.group}/${version}` : `/api/${version}`;
  if (type.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${type.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}
