// The cluster's service IP range(s), for ISTIO_SERVICE_CIDR, found without changing anything:
// 1. ServiceCIDR objects (networking.k8s.io/v1 since Kubernetes 1.33, v1beta1 since 1.31), where served;
// 2. else the API server's own answer to a Service with a clusterIP out of range, sent as a server-side dry run
//    (kube-api fixture 13: "… The range of valid IPs is 10.96.0.0/16");
// 3. else undefined, with the reasons, so that the caller can ask for --service-cidr.
import { cidrFromRangeMessage } from '../istio/mesh-expansion.ts';
import type { KubeClient } from './client.ts';
import { ApiError, isUnservedResource } from './errors.ts';
import type { KubeObject } from './objects.ts';

export type ServiceCidrSource = 'ServiceCIDR' | 'dry-run';

export interface FoundServiceCidrs {
  cidrs: string[];
  source: ServiceCidrSource;
}

type ServiceCIDR = KubeObject & { spec?: { cidrs?: string[] } };

/** An address no cluster uses for services: the API answers that it is out of range, and says the range. */
export const PROBE_CLUSTER_IP = '1.1.1.1';
export const PROBE_SERVICE = 'kubectl-vm-service-cidr-probe';

/** The CIDRs of the ServiceCIDR objects not being deleted, "kubernetes" (the API server's own) first, each once. */
export function cidrsOfServiceCIDRs(items: ServiceCIDR[]): string[] {
  const live = items.filter((i) => !i.metadata.deletionTimestamp);
  live.sort((a, b) => (a.metadata.name === 'kubernetes' ? -1 : b.metadata.name === 'kubernetes' ? 1 : (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')));
  return [...new Set(live.flatMap((i) => i.spec?.cidrs ?? []))];
}

export async function findServiceCidrs(kube: KubeClient, namespace: string, tried: string[]): Promise<FoundServiceCidrs | undefined> {
  try {
    const cidrs = cidrsOfServiceCIDRs(await kube.list<ServiceCIDR>('networking.k8s.io/v1', 'ServiceCIDR'));
    if (cidrs.length) return { cidrs, source: 'ServiceCIDR' };
    tried.push('the API serves ServiceCIDRs, but there are none');
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    tried.push(isUnservedResource(err) ? 'the API does not serve ServiceCIDRs (networking.k8s.io/v1 or v1beta1; Kubernetes before 1.31)' : `listing ServiceCIDRs failed: ${(err as Error).message}`);
  }
  const probe = { apiVersion: 'v1', kind: 'Service', metadata: { name: PROBE_SERVICE, namespace }, spec: { clusterIP: PROBE_CLUSTER_IP, ports: [{ port: 80 }] } };
  try {
    await kube.probeCreate(probe);
    tried.push(`a dry-run Service with clusterIP ${PROBE_CLUSTER_IP} in namespace ${namespace} was accepted, so the API named no range`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const cidr = cidrFromRangeMessage(err.status.message ?? '');
    if (cidr) return { cidrs: [cidr], source: 'dry-run' };
    tried.push(`a dry-run Service with clusterIP ${PROBE_CLUSTER_IP} in namespace ${namespace} failed without naming the range: ${err.message}`);
  }
  return undefined;
}
