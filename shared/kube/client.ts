// The API operations plugins use. Every write goes through one choke point (`write`), which is where --dry-run
// is honoured: "client" sends nothing and returns what would have been sent, "server" adds dryRun=All.
import type { DryRun } from '../cli/flags.ts';
import type { Logger } from '../output/logger.ts';
import { isNotFound, isUnservedResource } from './errors.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import { FIELD_MANAGER, describeRef, type KubeObject, type ObjectRef } from './objects.ts';
import { apiVersionOf, resourcePath, resourceType, versionOf, type ResourceType } from './resources.ts';
import type { HttpRequest, Sender } from './transport.ts';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  /** The object the token lives and dies with (a Secret or a Pod): deleting it invalidates the token. */
  boundObjectRef?: { apiVersion: 'v1'; kind: 'Secret' | 'Pod'; name: string; uid?: string };
}

/** A TokenReview's answer (authentication.k8s.io/v1). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[] };
  audiences?: string[];
  error?: string;
}

export interface TokenRequest {
  apiVersion: string;
  kind: 'TokenRequest';
  metadata: { name?: string; namespace?: string };
  spec: TokenRequestSpec;
  status: { token: string; expirationTimestamp: string };
}

type Verb = 'create' | 'update' | 'patch' | 'delete';

export class KubeClient {
  /** The version each group serves, once a 404 taught us that the preferred one is not served. */
  private readonly servedVersion = new Map<string, string>();

  constructor(
    readonly config: LoadedKubeconfig,
    private readonly transport: Sender,
    readonly dryRun: DryRun,
    private readonly log: Logger,
  ) {}

  get namespace(): string {
    return this.config.namespace;
  }

  get requests(): number {
    return this.transport.requests;
  }

  /** Warnings the API server sent so far. */
  get warnings(): number {
    return this.transport.warnings ?? 0;
  }

  close(): void {
    this.transport.close();
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.call<T>(ref.apiVersion, ref.kind, (type, version) => ({
        method: 'GET',
        path: resourcePath(type, version, this.ns(type, ref.namespace), ref.name),
        what: { verb: 'get', resource: type.plural, namespace: this.ns(type, ref.namespace), name: ref.name },
      }));
    } catch (err) {
      if (isNotFound(err) && !isUnservedResource(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<T[]> {
    const list = await this.call<{ items: T[] }>(apiVersion, kind, (type, version) => ({
      method: 'GET',
      path: resourcePath(type, version, this.ns(type, options.namespace)),
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
      what: { verb: 'list', resource: type.plural, namespace: this.ns(type, options.namespace) },
    }));
    return list.items.map((item) => ({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind }));
  }

  /**
   * SelfSubjectAccessReview: may the caller do `verb` on `resource` (e.g. serviceaccounts/token)? A read, so
   * never dry-run; true or false with the API server's reason.
   */
  async reviewAccess(attributes: { verb: string; resource: string; subresource?: string; group?: string; namespace?: string; name?: string }): Promise<{ allowed: boolean; reason?: string }> {
    const res = await this.transport.send({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } }),
      what: { verb: 'create', resource: 'selfsubjectaccessreviews' },
    });
    const status = (JSON.parse(res.body) as { status?: { allowed?: boolean; reason?: string } }).status ?? {};
    return { allowed: status.allowed === true, reason: status.reason };
  }

  /** The API server's clock: the Date header of a GET /version (for clock-skew checks). */
  async serverDate(): Promise<Date | undefined> {
    const res = await this.transport.send({ method: 'GET', path: '/version', what: { verb: 'get', resource: 'version' } });
    const date = res.headers.date;
    return date ? new Date(date) : undefined;
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    return this.write('create', obj, (type, version, body) => ({
      method: 'POST',
      path: resourcePath(type, version, this.ns(type, obj.metadata.namespace)),
      query: { fieldManager: FIELD_MANAGER },
      body: JSON.stringify(body),
    }));
  }

  /**
   * A POST with dryRun=All whatever --dry-run says, to ask the API server what it would make of an object: it
   * validates and defaults it, and stores nothing.
   */
  probeCreate<T extends KubeObject>(obj: T): Promise<T> {
    const type = resourceType(obj.apiVersion, obj.kind);
    const namespace = this.ns(type, obj.metadata.namespace);
    return this.call<T>(obj.apiVersion, obj.kind, (t, version) => ({
      method: 'POST',
      path: resourcePath(t, version, namespace),
      query: { fieldManager: FIELD_MANAGER, dryRun: 'All' },
      body: JSON.stringify({ ...obj, apiVersion: apiVersionOf(t.group, version) }),
      what: { verb: 'create', resource: t.plural, namespace, name: obj.metadata.name },
    }));
  }

  /** Server-side apply as field manager kubectl-vm. */
  apply<T extends KubeObject>(obj: T, options: { force?: boolean } = {}): Promise<T> {
    return this.write('patch', obj, (type, version, body) => ({
      method: 'PATCH',
      path: resourcePath(type, version, this.ns(type, obj.metadata.namespace), obj.metadata.name),
      query: { fieldManager: FIELD_MANAGER, force: options.force ? 'true' : undefined },
      body: JSON.stringify(body),
      contentType: 'application/apply-patch+yaml',
    }));
  }

  /**
   * A JSON merge patch (RFC 7386) of an object someone else owns: only the fields in `patch` change, so nothing
   * else of theirs is touched. kubectl-vm uses it for single labels, e.g. on the istio namespace.
   */
  mergePatch<T extends KubeObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T> {
    const stub = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } } as T;
    return this.write('patch', stub, (type, version) => ({
      method: 'PATCH',
      path: resourcePath(type, version, this.ns(type, ref.namespace), ref.name),
      query: { fieldManager: FIELD_MANAGER },
      body: JSON.stringify(patch),
      contentType: 'application/merge-patch+json',
    }));
  }

  /** PUT; with metadata.resourceVersion set, the API answers 409 Conflict if the object changed meanwhile. */
  replace<T extends KubeObject>(obj: T): Promise<T> {
    return this.write('update', obj, (type, version, body) => ({
      method: 'PUT',
      path: resourcePath(type, version, this.ns(type, obj.metadata.namespace), obj.metadata.name),
      query: { fieldManager: FIELD_MANAGER },
      body: JSON.stringify(body),
    }));
  }

  /**
   * Deletes an object. Preconditions make the API refuse (409) when the object was replaced since we read it,
   * so that we never delete something we did not check. Returns false when it was already gone.
   */
  async delete(ref: ObjectRef, preconditions?: DeletePreconditions): Promise<boolean> {
    const body = preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } : undefined;
    try {
      await this.write('delete', { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }, (type, version) => ({
        method: 'DELETE',
        path: resourcePath(type, version, this.ns(type, ref.namespace), ref.name),
        body: body ? JSON.stringify(body) : undefined,
      }));
      return true;
    } catch (err) {
      if (isNotFound(err) && !isUnservedResource(err)) return false;
      throw err;
    }
  }

  /** A TokenRequest for a service account (POST …/serviceaccounts/<name>/token). Not a write: never dry-run. */
  async createToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<TokenRequest> {
    const type = resourceType('v1', 'ServiceAccount');
    const res = await this.transport.send({
      method: 'POST',
      path: resourcePath(type, 'v1', namespace, serviceAccount, 'token'),
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec }),
      what: { verb: 'create', resource: 'serviceaccounts/token', namespace, name: serviceAccount },
    });
    return JSON.parse(res.body) as TokenRequest;
  }

  /** TokenReview: whether the API server still accepts a token (POST /apis/authentication.k8s.io/v1/tokenreviews). */
  async reviewToken(token: string, audiences: string[]): Promise<TokenReviewStatus> {
    const res = await this.transport.send({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } }),
      what: { verb: 'create', resource: 'tokenreviews' },
    });
    return (JSON.parse(res.body) as { status?: TokenReviewStatus }).status ?? {};
  }

  private ns(type: ResourceType, namespace: string | undefined): string | undefined {
    return type.namespaced ? (namespace ?? this.config.namespace) : undefined;
  }

  private async write<T extends KubeObject>(
    verb: Verb,
    obj: T,
    build: (type: ResourceType, version: string, body: T) => Omit<HttpRequest, 'what'>,
  ): Promise<T> {
    const type = resourceType(obj.apiVersion, obj.kind);
    const namespace = this.ns(type, obj.metadata.namespace);
    const what = { verb, resource: type.plural, namespace, name: obj.metadata.name };
    if (this.dryRun === 'client') {
      this.log.debug(`dry run: would ${verb} ${describeRef({ ...obj, name: obj.metadata.name ?? '', namespace })}`);
      return obj;
    }
    return this.call<T>(obj.apiVersion, obj.kind, (t, version) => {
      const body = { ...obj, apiVersion: apiVersionOf(t.group, version) };
      const req = build(t, version, body);
      if (this.dryRun === 'server') req.query = { ...req.query, dryRun: 'All' };
      return { ...req, what };
    });
  }

  /**
   * Sends a request for a resource, trying the group's other served versions when the API answers that this
   * version is not served (a cluster with an older Istio). The version that worked is remembered.
   */
  private async call<R>(apiVersion: string, kind: string, build: (type: ResourceType, version: string) => HttpRequest): Promise<R> {
    const type = resourceType(apiVersion, kind);
    const key = `${type.group}/${type.kind}`;
    const first = this.servedVersion.get(key) ?? versionOf(apiVersion);
    const candidates = [first, ...type.versions.filter((v) => v !== first)];
    for (let i = 0; ; i++) {
      const version = candidates[i]!;
      try {
        const res = await this.transport.send(build(type, version));
        this.servedVersion.set(key, version);
        const parsed = res.body ? (JSON.parse(res.body) as R) : (undefined as R);
        return parsed;
      } catch (err) {
        if (!isUnservedResource(err) || i + 1 >= candidates.length || !type.group) throw err;
        this.log.debug(`${apiVersionOf(type.group, version)} ${type.plural} is not served; trying ${apiVersionOf(type.group, candidates[i + 1]!)}`);
      }
    }
  }
}
