// Create-or-reconcile for objects kubectl-vm owns. The happy path costs one request (a POST); only when the
// object already exists do we read it, refuse it if kubectl-vm does not manage it, and otherwise report it
// unchanged or bring it to the desired state with a read-modify-write PUT (retried on 409 Conflict). Not a
// server-side apply: the object was created by a POST, so kubectl-vm owns its fields as an Update manager, and
// an apply would never remove them (a port dropped from the arguments would stay).
import { ConflictError } from '../errors.ts';
import type { KubeClient } from './client.ts';
import { isAlreadyExists, isConflict } from './errors.ts';
import { retryOnConflict } from './retry.ts';
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
    if (live) return reconcile(kube, desired, live);
    // Deleted between our POST and our GET: try again.
    if (attempt >= 3) throw new ConflictError(`${describeRef(refOf(desired))} keeps being created and deleted by someone else`, { hint: 'try again later' });
  }
}

/**
 * Brings an object we just read to the desired state: refused if kubectl-vm does not manage it, "unchanged" if
 * it already is, otherwise a PUT of `overlay(live, desired)`; a 409 re-reads it and tries again.
 */
export function reconcile<T extends KubeObject>(kube: KubeClient, desired: T, live: T): Promise<Ensured<T>> {
  let current: T | undefined = live;
  return retryOnConflict(async (attempt) => {
    if (attempt > 1) current = await kube.get<T>(refOf(desired));
    if (!current) throw new ConflictError(`${describeRef(refOf(desired))} was deleted while we were updating it`, { hint: 'run the command again' });
    if (!isManaged(current)) throw notOurs(refOf(desired));
    if (isSubset(comparable(desired), comparable(current))) return { object: current, outcome: 'unchanged' };
    return { object: await kube.replace(overlay(current, desired)), outcome: 'configured' };
  });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The live object with ours laid over it: every top-level field we set replaces the live one, objects (the
 * spec) one level deep so that what the server filled in (a Service's clusterIP) stays; our labels and
 * annotations are added to the live ones; resourceVersion stays, so the PUT fails if someone changed it meanwhile.
 */
export function overlay<T extends KubeObject>(live: T, desired: T): T {
  const out: Record<string, unknown> = { ...live };
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      out.metadata = {
        ...live.metadata,
        labels: { ...live.metadata.labels, ...desired.metadata.labels },
        annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
      };
    } else out[key] = isPlainObject(value) && isPlainObject(live[key]) ? { ...(live[key] as object), ...value } : value;
  }
  return out as T;
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

export function notOurs(ref: ObjectRef, action: 'create' | 'delete' = 'create'): ConflictError {
  const remove = `kubectl delete ${kubectlResource(ref)} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`;
  if (action === 'delete') {
    return new ConflictError(`${describeRef(ref)} is not managed by kubectl-vm (it has no ${MANAGED_BY_LABEL}=${MANAGER} label), so it is not removed`, {
      hint: `kubectl-vm deletes only what it created; if you mean to delete it anyway: ${remove}`,
    });
  }
  return new ConflictError(`${describeRef(ref)} already exists and is not managed by kubectl-vm (it has no ${MANAGED_BY_LABEL}=${MANAGER} label)`, {
    hint: `pick another name, or remove it first: kubectl delete ${kubectlResource(ref)} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`,
  });
}

/**
 * Deletes an object we read and checked, only if it is still that object (uid precondition). Returns false when
 * it was already gone; a 409 (it was replaced meanwhile) becomes an error saying nothing was deleted.
 */
export async function deleteChecked(kube: KubeClient, live: KubeObject): Promise<boolean> {
  const ref = refOf(live);
  try {
    return await kube.delete(ref, { uid: live.metadata.uid });
  } catch (err) {
    if (isConflict(err)) throw new ConflictError(`${describeRef(ref)} was replaced while we were removing it, so it was not deleted`, { hint: 'run the command again' });
    throw err;
  }
}
