// Create-or-reconcile for objects kubectl-vm owns. The happy path costs one request (a POST); only when the
// object already exists do we read it, refuse it if kubectl-vm does not manage it, and otherwise report it
// unchanged or bring it to the desired state with a forced server-side apply.
import { ConflictError } from '../errors.ts';
import type { KubeClient } from './client.ts';
import { isAlreadyExists } from './errors.ts';
import { MANAGED_BY_LABEL, MANAGER, describeRef, isManaged, isSubset, refOf, type KubeObject, type ObjectRef } from './objects.ts';
import { groupOf } from './resources.ts';

export type Outcome = 'created' | 'configured' | 'unchanged';

export interface Ensured<T> {
  object: T;
  outcome: Outcome;
}

export async function ensure<T extends KubeObject>(kube: KubeClient, desired: T): Promise<Ensured<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { object: await kube.create(desired), outcome: 'created' };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const live = await kube.get<T>(refOf(desired));
    if (!live) {
      if (attempt < 3) continue; // deleted between our POST and our GET: try again
      throw new ConflictError(`${describeRef(refOf(desired))} keeps being created and deleted by someone else`, { hint: 'try again later' });
    }
    if (!isManaged(live)) throw notOurs(refOf(desired));
    if (isSubset(comparable(desired), comparable(live))) return { object: live, outcome: 'unchanged' };
    return { object: await kube.apply(desired, { force: true }), outcome: 'configured' };
  }
}

/** The parts of an object we set: labels, annotations and the body; not apiVersion, which may be another served version. */
function comparable(obj: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, ...body } = obj;
  return { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, ...body };
}

/** `serviceentry.networking.istio.io`: the resource name to give kubectl. */
export function kubectlResource(ref: Pick<ObjectRef, 'apiVersion' | 'kind'>): string {
  const group = groupOf(ref.apiVersion);
  return group ? `${ref.kind.toLowerCase()}.${group}` : ref.kind.toLowerCase();
}

export function notOurs(ref: ObjectRef): ConflictError {
  return new ConflictError(`${describeRef(ref)} already exists and is not managed by kubectl-vm (it has no ${MANAGED_BY_LABEL}=${MANAGER} label)`, {
    hint: `pick another name, or remove it first: kubectl delete ${kubectlResource(ref)} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`,
  });
}
