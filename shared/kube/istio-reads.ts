// Reads that several commands share: a ConfigMap that must exist, and a service-account token for a VM
// (TokenRequest, audience istio-ca), with errors that say what to create.
import { CliError, DataError, ExitCode } from '../errors.ts';
import { defaultRevisionTagWebhook, injectorConfigMapName } from '../istio/revision.ts';
import type { KubeClient } from './client.ts';
import { ApiError } from './errors.ts';
import type { KubeObject } from './objects.ts';

export type ConfigMap = KubeObject & { data?: Record<string, string> };

export const configMapRef = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace });

/** The ConfigMap, or an error (exit 1) naming it, with `hint`. */
export async function requireConfigMap(kube: KubeClient, name: string, namespace: string, hint: string): Promise<ConfigMap> {
  const cm = await kube.get<ConfigMap>(configMapRef(name, namespace));
  if (!cm) throw new CliError(`configmap ${name} was not found in namespace ${namespace}`, ExitCode.general, { hint });
  return cm;
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

/** istioctl 1.28+: without --revision, the revision that the "default" revision tag points at, else none. */
export async function defaultRevision(kube: KubeClient, istioNamespace: string): Promise<string> {
  const tag = await kube.get({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', name: defaultRevisionTagWebhook(istioNamespace) });
  return tag?.metadata.labels?.['istio.io/rev'] ?? 'default';
}

export async function detectClusterId(kube: KubeClient, istioNamespace: string, revision: string): Promise<string> {
  const name = injectorConfigMapName(revision);
  const cm = await kube.get<ConfigMap>(configMapRef(name, istioNamespace));
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
