// Turns API responses and transport failures into the CliError hierarchy, with a next step for each.
import { CliError, ExitCode, UnreachableError } from '../errors.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.Status, the body of every API error. */
export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code?: number;
}

/** What the request was about, so messages can say "create services in namespace vm". */
export interface RequestDescription {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  server: string;
  context: string;
}

export class ApiError extends CliError {
  readonly code: number;
  readonly reason: string;
  readonly status: KubeStatus;

  constructor(message: string, exitCode: number, status: KubeStatus, options: { hint?: string; details?: string[] } = {}) {
    super(message, exitCode, options);
    this.status = status;
    this.code = status.code ?? 0;
    this.reason = status.reason ?? '';
  }
}

export const isNotFound = (e: unknown): e is ApiError => e instanceof ApiError && e.code === 404;
export const isAlreadyExists = (e: unknown): e is ApiError => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
export const isConflict = (e: unknown): e is ApiError => e instanceof ApiError && e.code === 409 && e.reason !== 'AlreadyExists';
/** A 404 for the URL itself (the API version or resource is not served), not for an object. */
export const isUnservedResource = (e: unknown): e is ApiError =>
  e instanceof ApiError && e.code === 404 && !e.status.details?.name && !e.status.details?.kind;

const STATUS_TEXT: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** Parses a response body as a Status, or makes one up from the HTTP status when the body is not a Status. */
const unapplied = new WeakSet<object>();

/**
 * Marks the error of a request that the API server cannot have acted on: no attempt was handed to the operating
 * system whole (a refused connection, a failed TLS handshake, credentials that could not be had), or every one that
 * was got a 4xx answer, which Kubernetes gives before it changes anything.
 */
export function markUnapplied<E>(err: E): E {
  if (typeof err === 'object' && err !== null) unapplied.add(err);
  return err;
}

/** Whether a failed request certainly changed nothing on the server (see markUnapplied). */
export function isUnapplied(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unapplied.has(err);
}

export function statusFrom(httpStatus: number, body: string): KubeStatus {
  try {
    const parsed = JSON.parse(body) as KubeStatus;
    if (parsed && parsed.kind === 'Status') return { ...parsed, code: parsed.code ?? httpStatus };
  } catch {
    // not JSON: fall through
  }
  const text = body.trim().split('\n')[0]?.slice(0, 200);
  return { kind: 'Status', status: 'Failure', code: httpStatus, reason: STATUS_TEXT[httpStatus] ?? 'Unknown', message: text || `HTTP ${httpStatus}` };
}

export function apiError(status: KubeStatus, req: RequestDescription, attempts = 1): ApiError {
  const code = status.code ?? 0;
  const message = status.message || `${req.verb} ${req.resource} failed with HTTP ${code}`;
  const inNs = req.namespace ? ` -n ${req.namespace}` : '';
  const details = (status.details?.causes ?? []).map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`);
  switch (true) {
    case code === 401:
      return new ApiError(`the API server at ${req.server} rejected the credentials of context "${req.context}": ${message}`, ExitCode.forbidden, status, {
        hint: 'log in again or refresh the credentials in your kubeconfig; "kubectl config view --minify" shows the ones this context uses',
      });
    case code === 403 && (status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating'):
      // Not RBAC: the NamespaceLifecycle admission plugin refuses new objects while a namespace is being deleted.
      return new ApiError(message, ExitCode.general, status, {
        hint: `namespace ${req.namespace} is being deleted; once "kubectl get namespace ${req.namespace}" says NotFound, create it again and re-run (if it stays Terminating, a finalizer is holding it)`,
      });
    case code === 403:
      return new ApiError(message, ExitCode.forbidden, status, {
        hint: `ask a cluster admin for "${req.verb}" on ${req.resource}${req.namespace ? ` in namespace "${req.namespace}"` : ''}; check with "kubectl auth can-i ${req.verb} ${req.resource}${inNs}"`,
      });
    case code === 404 && status.details?.kind === 'namespaces' && req.verb === 'create':
      return new ApiError(message, ExitCode.general, status, { hint: `create the namespace first: kubectl create namespace ${status.details.name}` });
    case code === 422 || code === 400:
      return new ApiError(message, ExitCode.data, status, { details: details.length > 1 ? details : [] });
    case code === 429 || code >= 500:
      return new ApiError(`${message} (HTTP ${code} from ${req.server}${attempts > 1 ? `, after ${attempts} attempts` : ''})`, ExitCode.unavailable, status, {
        hint: 'the API server is overloaded or failing; try again later',
      });
    default:
      return new ApiError(message, ExitCode.general, status);
  }
}

/** A request that never got an HTTP answer: refused, reset, timed out, or a TLS failure. */
export function transportError(err: NodeJS.ErrnoException, req: RequestDescription, attempts: number, via: { tlsServerName?: string; proxy?: string } = {}): UnreachableError {
  const code = err.code ?? '';
  const after = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const through = via.proxy ? ` through the proxy ${via.proxy}` : '';
  const base = `cannot reach the Kubernetes API server at ${req.server}${through} (context "${req.context}"): ${err.message}${after}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new UnreachableError(base, {
      hint: via.tlsServerName
        ? `the server's certificate is not valid for tls-server-name "${via.tlsServerName}": set tls-server-name (or --tls-server-name) to a name the certificate holds`
        : 'the server\'s certificate is not valid for the host in the server address: use a name it holds, or set tls-server-name (or --tls-server-name)',
      cause: err,
    });
  }
  if (code === 'EPROXY') {
    return new UnreachableError(base, { hint: 'check the proxy address (proxy-url, or $HTTPS_PROXY and $NO_PROXY) and its credentials', cause: err });
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/.test(code) || /certificate/i.test(err.message)) {
    return new UnreachableError(base, {
      hint: 'the server certificate is not trusted: check certificate-authority(-data) of the cluster in your kubeconfig',
      cause: err,
    });
  }
  return new UnreachableError(base, {
    hint: 'check that the cluster is running and that --context or --kubeconfig select the right one',
    cause: err,
  });
}
