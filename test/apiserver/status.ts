// metav1.Status bodies, worded as kube-apiserver words them (test/fixtures/kube-api).
import type { KindDef } from './registry.ts';
import type { FieldError } from './schema.ts';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

export class ApiFailure extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }
}

export function failure(code: number, reason: string, message: string, details?: Record<string, unknown>): ApiFailure {
  return new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** `services` for core kinds, `serviceentries.networking.istio.io` for the others. */
export function qualifiedResource(def: KindDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

/** `Service` for core kinds, `ServiceEntry.networking.istio.io` for the others. */
export function qualifiedKind(def: KindDef): string {
  return def.group ? `${def.kind}.${def.group}` : def.kind;
}

const target = (def: KindDef, name: string) => ({ name, ...(def.group ? { group: def.group } : {}), kind: def.plural });

export const notFound = (def: KindDef, name: string) => failure(404, 'NotFound', `${qualifiedResource(def)} "${name}" not found`, target(def, name));
export const namespaceNotFound = (ns: string) => failure(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
/** The NamespaceLifecycle admission plugin's answer to a create in a namespace being deleted (kube-api fixture 37). */
export const namespaceTerminating = (def: KindDef, name: string, ns: string) =>
  failure(403, 'Forbidden', `${qualifiedResource(def)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
    ...target(def, name),
    causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
  });
export const alreadyExists = (def: KindDef, name: string) => failure(409, 'AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, target(def, name));
export const conflict = (def: KindDef, name: string, detail: string) =>
  failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": ${detail}`, target(def, name));
/**
 * A DELETE whose precondition no longer holds (fixtures 53, 59, 60): worded by the generic registry, which names the
 * kind (not the resource) in the message and in details.
 */
export function preconditionFailed(def: KindDef, name: string, what: 'UID' | 'ResourceVersion', expected: string, actual: string): ApiFailure {
  const why = what === 'UID' ? 'The object might have been deleted and then recreated' : 'The object might have been modified';
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedKind(def)} "${name}": the ${what} in the precondition (${expected}) does not match the ${what} in record (${actual}). ${why}`, {
    name,
    ...(def.group ? { group: def.group } : {}),
    kind: def.kind,
  });
}
export const staleResourceVersion = (def: KindDef, name: string) =>
  conflict(def, name, 'the object has been modified; please apply your changes to the latest version and try again');

export function invalid(kindName: string, group: string | undefined, name: string, errors: FieldError[]): ApiFailure {
  const texts = errors.map((e) => `${e.field}: ${e.message}`);
  const message = `${kindName} "${name}" is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`;
  return failure(422, 'Invalid', message, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind: kindName.split('.')[0],
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  });
}

export const badRequest = (message: string) => failure(400, 'BadRequest', message);
export const pathNotFound = () => failure(404, 'NotFound', 'the server could not find the requested resource', {});
export const methodNotAllowed = (method: string) => failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, { causes: [{ reason: 'UnexpectedServerResponse', message: method }] });
export const unsupportedMediaType = () =>
  failure(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');

/** A status for an injected fault, shaped like the real one for that code. */
export function statusFor(code: number, ctx: { verb: string; resource: string; group: string; namespace?: string; name?: string }): StatusBody {
  const subject = ctx.name ? `${ctx.resource} "${ctx.name}"` : ctx.resource;
  const where = ctx.namespace ? ` in the namespace "${ctx.namespace}"` : ' at the cluster scope';
  const bodies: Record<number, [string, string]> = {
    401: ['Unauthorized', 'Unauthorized'],
    403: ['Forbidden', `${subject} is forbidden: User "system:serviceaccount:test:kubectl-vm" cannot ${ctx.verb} resource "${ctx.resource}" in API group "${ctx.group}"${where}`],
    404: ['NotFound', `${subject} not found`],
    409: ['Conflict', `Operation cannot be fulfilled on ${subject}: the object has been modified; please apply your changes to the latest version and try again`],
    429: ['TooManyRequests', 'Too many requests, please try again later.'],
    500: ['InternalError', 'Internal error occurred: injected fault'],
    502: ['BadGateway', 'bad gateway'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [reason, message] = bodies[code] ?? ['Unknown', `injected HTTP ${code}`];
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: ctx.name ? { name: ctx.name, kind: ctx.resource } : {}, code };
}
