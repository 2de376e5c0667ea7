// Builders for the day-2 tests: VM records (shared/vm/record.ts's own builder) and WorkloadEntries as istiod
// leaves them (auto-registered, connectedAt/disconnectedAt, the Healthy condition), standing in for a running istiod.
import type { KubeObject } from '../../shared/kube/objects.ts';
import { buildWorkloadGroup } from '../../shared/istio/workload-group.ts';
import { buildRecord, type RecordInput } from '../../shared/vm/record.ts';
import { workloadEntry } from './builders.ts';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
export const fromNow = (ms: number) => iso(new Date(Date.now() + ms));
export const HOUR = 3_600_000;

/** A record as onboard leaves it: generation 1, a token valid for `tokenValidMs` from now. */
export function vmRecord(ns: string, vm: string, over: Partial<RecordInput> & { tokenValidMs?: number; revokedAt?: string } = {}): KubeObject {
  const { tokenValidMs = 48 * HOUR, revokedAt, ...input } = over;
  const r = buildRecord({ vm, namespace: ns, group: 'web', serviceAccount: 'web-sa', runtime: 'systemd', generation: 1, tokenExpires: fromNow(tokenValidMs), bundleSha256: 'ab'.repeat(32), ...input });
  if (revokedAt) r.metadata.annotations!['kubectl-vm.io/revoked-at'] = revokedAt;
  return r;
}

export interface IstiodView {
  connectedAt?: string;
  disconnectedAt?: string;
  healthy?: boolean;
  autoRegisteredGroup?: string;
  network?: string;
}

/** A WorkloadEntry with what istiod writes on it: its annotations, and the Healthy condition. */
export function istiodEntry(ns: string, name: string, address: string, view: IstiodView = {}): KubeObject {
  const we = workloadEntry(ns, name, address, 'web-sa') as KubeObject & { spec: Record<string, unknown>; status?: unknown };
  const annotations: Record<string, string> = {};
  if (view.connectedAt) annotations['istio.io/connectedAt'] = view.connectedAt;
  if (view.connectedAt && !view.disconnectedAt) annotations['istio.io/workloadController'] = 'istiod-5d4f8c7b9-x2x7q';
  if (view.disconnectedAt) annotations['istio.io/disconnectedAt'] = view.disconnectedAt;
  if (view.autoRegisteredGroup) annotations['istio.io/autoRegistrationGroup'] = view.autoRegisteredGroup;
  if (Object.keys(annotations).length) we.metadata.annotations = annotations;
  if (view.network) we.spec.network = view.network;
  if (view.healthy !== undefined) {
    we.status = { conditions: [{ type: 'Healthy', status: view.healthy ? 'True' : 'False', lastProbeTime: view.connectedAt, lastTransitionTime: view.connectedAt, ...(view.healthy ? {} : { reason: 'HTTPGetFailed', message: 'Get "http://10.0.0.7:8080/ready": connection refused' }) }] };
  }
  return we;
}

/** istiod's Deployment as istioctl installs it, with these environment variables on its discovery container. */
export function istiodDeployment(env: Record<string, string> = {}, ns = 'istio-system', name = 'istiod'): KubeObject {
  const labels = { app: 'istiod', istio: 'pilot' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.28.0', env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }] } },
    },
  };
}

/** A WorkloadGroup as `kubectl vm workload-group create` writes it. */
export function vmWorkloadGroup(ns: string, name: string, serviceAccount: string, options: { network?: string; probe?: boolean } = {}): KubeObject {
  // As it is sent: JSON, without the builder's undefined fields.
  return JSON.parse(JSON.stringify(buildWorkloadGroup({ name, namespace: ns, labels: { app: name }, annotations: {}, ports: {}, serviceAccount, network: options.network, probe: options.probe ? { httpGet: { port: 8080, path: '/ready' } } : undefined }))) as KubeObject;
}

/** A WorkloadEntry kubectl-vm made for a VM (managed-by label), or one istiod auto-registered (not ours). */
export function buildWorkloadEntry(ns: string, name: string, address: string, managed: boolean): KubeObject {
  const we = istiodEntry(ns, name, address, managed ? {} : { autoRegisteredGroup: 'web', connectedAt: fromNow(-HOUR) });
  we.metadata.labels = { ...we.metadata.labels, ...(managed ? { 'app.kubernetes.io/managed-by': 'kubectl-vm' } : {}) };
  return we;
}
