// Reads that several commands share: a ConfigMap that must exist, and a service-account token for a VM
// (TokenRequest, audience istio-ca), with errors that say what to create.
import { CliError, DataError, ExitCode } from '../errors.ts';
import { defaultRevisionTagWebhook, injectorConfigMapName } from '../istio/revision.ts';
import type { KubeClient, ListOptions } from './client.ts';
import { ApiError } from './errors.ts';
import type { KubeObject } from './objects.ts';

export type ConfigMap = KubeObject & { data?: Record<string, string> };

export const configMapRef = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });

/** The ConfigMap, or an error (exit 1) naming it, with `hint`. */
export async function requireConfigMap(kube: KubeClient, name: string, namespace: string, hint: string): Promise<ConfigMap> {
  return presentConfigMap(await kube.get<ConfigMap>(configMapRef(name, namespace)), name, namespace, hint);
}

/** A ConfigMap read in a batch (readConfigMaps, readConfigMapAcross), or requireConfigMap's error when it is missing. */
export function presentConfigMap(cm: ConfigMap | undefined, name: string, namespace: string, hint: string): ConfigMap {
  if (!cm) throw new CliError(`configmap ${name} was not found in namespace ${namespace}`, ExitCode.general, { hint });
  return cm;
}

/**
 * Several ConfigMaps of one namespace with one LIST; a user who may get them but not list ConfigMaps there
 * (RBAC with resourceNames) gets one GET each. Missing ones map to undefined.
 */
export async function readConfigMaps(kube: KubeClient, namespace: string, names: string[]): Promise<Map<string, ConfigMap | undefined>> {
  const found = await listOrUndefined(kube, { namespace });
  const byName = new Map(found?.map((cm) => [cm.metadata.name!, cm]));
  return new Map(await Promise.all(names.map(async (n): Promise<[string, ConfigMap | undefined]> => [n, found ? byName.get(n) : await kube.get<ConfigMap>(configMapRef(n, namespace))])));
}

/**
 * One ConfigMap in several namespaces (istio-ca-root-cert, say): one GET for one namespace, else one LIST across
 * namespaces by name; a user who may not list ConfigMaps cluster-wide gets one GET per namespace.
 */
export async function readConfigMapAcross(kube: KubeClient, name: string, namespaces: string[]): Promise<Map<string, ConfigMap | undefined>> {
  const found = namespaces.length > 1 ? await listOrUndefined(kube, { namespace: '', fieldSelector: `metadata.name=${name}` }) : undefined;
  const byNamespace = new Map(found?.map((cm) => [cm.metadata.namespace!, cm]));
  return new Map(await Promise.all(namespaces.map(async (ns): Promise<[string, ConfigMap | undefined]> => [ns, found ? byNamespace.get(ns) : await kube.get<ConfigMap>(configMapRef(name, ns))])));
}

/** A LIST of ConfigMaps, or undefined when the user may not list them (403): then the caller reads one by one. */
async function listOrUndefined(kube: KubeClient, options: ListOptions): Promise<ConfigMap[] | undefined> {
  try {
    return await kube.list<ConfigMap>('v1', 'ConfigMap', options);
  } catch (err) {
    if (err instanceof ApiError && err.code === 403) return undefined;
    throw err;
  }
}

/** A token of `serviceAccount` for the istio-ca audience; a missing service account says how to create it. */
export async function mintToken(kube: KubeClient, namespace: string, serviceAccount: string, seconds: number): Promise<string> {
  try {
    return (await kube.createToken(namespace, serviceAccount, { audiences: ['istio-ca'], expirationSeconds: seconds })).status.token;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const hint = err.code === 404 ? `create it: kubectl create serviceaccount ${serviceAccount} -n ${namespace}` : err.hint;
    throw new CliError(`could not create a token under service account ${serviceAccount} in namespace ${namespace}: ${err.message}`, err.exitCode, { hint, details: err.details, cause: err });
  }
}

/** Whether the cluster has the namespace: undefined when it cannot tell (e.g. we may not read namespaces). */
export async function namespaceExists(kube: KubeClient, namespace: string): Promise<boolean | undefined> {
  try {
    return (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })) !== undefined;
  } catch (err) {
    if (err instanceof ApiError && (err.code === 401 || err.code === 403)) return undefined;
    throw err;
  }
}

/** A NotFound about `what` that may be caused by a namespace that does not exist: says so when it is. */
export async function missingIn(kube: KubeClient, namespace: string, flag: string, fallback: CliError): Promise<CliError> {
  if ((await namespaceExists(kube, namespace)) !== false) return fallback;
  return new CliError(`namespace ${namespace} not found`, ExitCode.general, { details: [fallback.message], hint: `check ${flag}; list the namespaces with: kubectl get namespaces` });
}

/** istioctl 1.28+: without --revision, the revision that the "default" revision tag points at, else none. */
export async function defaultRevision(kube: KubeClient, istioNamespace: string): Promise<string> {
  const tag = await kube.get({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', name: defaultRevisionTagWebhook(istioNamespace) });
  return tag?.metadata.labels?.['istio.io/rev'] ?? 'default';
}

/** The cluster id istiod was installed with; `read` holds ConfigMaps a fleet already listed. */
export async function detectClusterId(kube: KubeClient, istioNamespace: string, revision: string, read?: Map<string, ConfigMap | undefined>): Promise<string> {
  const name = injectorConfigMapName(revision);
  const cm = read ? read.get(name) : await kube.get<ConfigMap>(configMapRef(name, istioNamespace));
  const prefix = 'failed to automatically determine the --cluster-id';
  if (!cm) {
    throw new CliError(`${prefix}: configmap ${name} was not found in namespace ${istioNamespace}`, ExitCode.general, {
      hint: 'pass --cluster-id, or check --istio-namespace and --revision',
    });
  }
  let values: { global?: { multiCluster?: { clusterName?: string } } };
  try {
    values = JSON.parse(cm.data?.values ?? '{}');
  } catch (err) {
    throw new DataError(`${prefix}: data.values of configmap ${istioNamespace}/${name} is not JSON: ${(err as Error).message}`, { hint: 'pass --cluster-id' });
  }
  return values.global?.multiCluster?.clusterName ?? '';
}
