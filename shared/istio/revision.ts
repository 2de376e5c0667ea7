// Control-plane revisions and the names that follow from them (reference/istioctl.md §2.2).

export const DEFAULT_ISTIO_NAMESPACE = 'istio-system';
export const ISTIOD_GRPC_PORT = 15012;

/** A revision other than "" and "default" selects istiod-<rev> and its own ConfigMaps. */
export function isRevisioned(revision: string): boolean {
  return revision !== '' && revision !== 'default';
}

const suffix = (revision: string) => (isRevisioned(revision) ? `-${revision}` : '');

/** `istiod[-<rev>].<ns>.svc` */
export function istiodHost(istioNamespace: string, revision: string): string {
  return `istiod${suffix(revision)}.${istioNamespace}.svc`;
}

/** `istiod[-<rev>].<ns>.svc:15012` */
export function istiodAddress(istioNamespace: string, revision: string): string {
  return `${istiodHost(istioNamespace, revision)}:${ISTIOD_GRPC_PORT}`;
}

export const meshConfigMapName = (revision: string) => `istio${suffix(revision)}`;
export const injectorConfigMapName = (revision: string) => `istio-sidecar-injector${suffix(revision)}`;
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';

/** The webhook whose istio.io/rev label names the default revision (istioctl 1.28+ RevisionOrDefault). */
export function defaultRevisionTagWebhook(istioNamespace: string): string {
  return istioNamespace === DEFAULT_ISTIO_NAMESPACE ? 'istio-revision-tag-default' : `istio-revision-tag-default-${istioNamespace}`;
}
