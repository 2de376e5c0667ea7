// Reading and writing the endpoints that register and deregister keep, shared by both commands.
import { ConflictError } from '../errors.ts';
import { SERVICE_NAME_LABEL, SLICE_MANAGED_BY_LABEL, type EndpointSlice, type Endpoints, type SlicePlan } from '../istio/registration.ts';
import type { ObjectApi } from './transaction.ts';
import { isAlreadyExists, isConflict } from './errors.ts';
import { isManaged, MANAGER, refOf, type KubeObject } from './objects.ts';
import { resourceName } from '../output/printer.ts';
import { retryOnConflict } from './retry.ts';

/** Our EndpointSlices of a Service (one LIST, whatever their number). */
export function listOurSlices(kube: ObjectApi, namespace: string, service: string): Promise<EndpointSlice[]> {
  return kube.list<EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice', { namespace, labelSelector: `${SERVICE_NAME_LABEL}=${service},${SLICE_MANAGED_BY_LABEL}=${MANAGER}` });
}

export function getEndpoints(kube: ObjectApi, namespace: string, service: string): Promise<Endpoints | undefined> {
  return kube.get<Endpoints>({ apiVersion: 'v1', kind: 'Endpoints', name: service, namespace });
}

/** What holds a Service's addresses: our EndpointSlices or, when there are none, its Endpoints (anyone's). */
export interface Registered {
  slices: EndpointSlice[];
  endpoints?: Endpoints;
}

export async function readRegistered(kube: ObjectApi, namespace: string, service: string): Promise<Registered> {
  const slices = await listOurSlices(kube, namespace, service);
  return { slices, endpoints: slices.length ? undefined : await getEndpoints(kube, namespace, service) };
}

/** Refuses Endpoints that kubectl-vm did not write: another tool (istioctl register, say) keeps them. */
export function checkOurEndpoints(ep: Endpoints | undefined, namespace: string, service: string): void {
  if (ep && !isManaged(ep)) {
    throw new ConflictError(`Endpoints ${namespace}/${service} exist and are not managed by kubectl-vm (istioctl register may have written them)`, {
      hint: `remove them first (kubectl delete endpoints ${service} -n ${namespace}), then register the addresses again`,
    });
  }
}

/**
 * Runs a read-plan-write cycle until it goes through: a 409 (someone changed a slice, or created the one we were
 * about to create) starts it over from a fresh read. This is what lets concurrent registers add their addresses
 * to the same Service without losing any.
 */
export function retryOnRace<T>(cycle: (attempt: number) => Promise<T>): Promise<T> {
  return retryOnConflict(cycle, undefined, 20, (e) => isConflict(e) || isAlreadyExists(e));
}

export interface Written {
  written: EndpointSlice[];
  /** `endpointslice.discovery.k8s.io/<name> created|configured|unchanged|deleted`, one per slice. */
  lines: string[];
}

/**
 * Carries out a slice plan made from `before`: PUT what existed (with its resourceVersion, so a concurrent change
 * is a 409), POST what is new, DELETE what emptied (with uid and resourceVersion preconditions).
 */
export async function writeSlicePlan(kube: ObjectApi, before: EndpointSlice[], plan: SlicePlan): Promise<Written> {
  const existed = new Set(before.map((s) => s.metadata.name));
  const written: EndpointSlice[] = [];
  const lines: string[] = [];
  for (const s of plan.write) {
    const old = existed.has(s.metadata.name);
    written.push(old ? await kube.replace(s) : await kube.create(s));
    lines.push(`${resourceName(s)} ${old ? 'configured' : 'created'}`);
  }
  for (const s of plan.remove) {
    await deleteExactly(kube, s);
    lines.push(`${resourceName(s)} deleted`);
  }
  lines.push(...plan.unchanged.map((s) => `${resourceName(s)} unchanged`));
  return { written, lines };
}

/** Deletes the object we read, and not a newer version of it: a change since our read is a 409. */
export function deleteExactly(kube: ObjectApi, obj: KubeObject): Promise<boolean> {
  return kube.delete(refOf(obj), { uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion });
}
