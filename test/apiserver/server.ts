// An in-process Kubernetes API server for tests, the demo and benchmarks. It speaks enough of the REST API for
// kubectl-vm and the real kubectl binary: discovery; get, list (label and field selectors, Tables for
// `kubectl get`), create (generateName), update, merge/JSON/strategic patch, server-side apply with field
// ownership and conflicts, delete with preconditions, dryRun=All, the ServiceAccount token subresource, and
// Status errors shaped like kube-apiserver's. Istio objects are validated against the CRD schemas, including
// their CEL rules. Faults can be injected, and every request is recorded.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import yaml from 'js-yaml';
import { applyDefaults, prepareForCreate, serialisationOrder, SERVICE_CIDR, validateKind, validateMeta } from './core.ts';
import { fieldSet, fromFieldsV1, has, leaves, mergeApplied, remove, removeValue, sameValue, showPath, toFieldsV1, valueAt, add, type FieldTree, type ManagedFieldsEntry, type Path } from './fields.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { listTypeOf, Registry, type KindDef, type RegistryOptions } from './registry.ts';
import { hasRules, prune, validate, validateRules, type FieldError } from './schema.ts';
import { matchesFields, matchesLabels } from './selectors.ts';
import {
  alreadyExists,
  ApiFailure,
  badRequest,
  failure,
  invalid,
  methodNotAllowed,
  namespaceNotFound,
  namespaceTerminating,
  notFound,
  pathNotFound,
  preconditionFailed,
  qualifiedKind,
  staleResourceVersion,
  statusFor,
  qualifiedResource,
  unsupportedMediaType,
} from './status.ts';
import { toTable, wantsTable } from './table.ts';
import { mintToken, verifiedClaims, type BoundObject } from './token.ts';
import { authenticate, authorize, impersonate, RawFailure, type Grant, type Identity } from './auth.ts';
import { decodeProtobuf } from './protobuf.ts';
import { openapiGroupVersion, openapiRoot, openapiV2 } from './openapi.ts';

type Obj = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  accept?: string;
  userAgent?: string;
  body?: unknown;
  status: number;
  /** Set when an injected fault answered or dropped this request. */
  fault?: string;
  /** Who the server took the request to be, after impersonation. */
  user?: Identity;
  /** The request headers, for tests about what a client sends. */
  headers?: http.IncomingHttpHeaders;
  /** Whether the connection came through a proxy tunnel the test set up: see connections. */
  socket?: number;
}

/** A fault for the nth request (1-based) matching method and path, and the `times - 1` matching ones after it. */
export interface Fault {
  method?: string;
  path?: string | RegExp;
  nth?: number;
  times?: number;
  status?: number;
  retryAfter?: number;
  /** Close the connection without answering, before the request is processed. */
  drop?: boolean;
  /** Answer normally, with this Warning header added. */
  warning?: string;
  /**
   * Process the request (a write commits), then close the connection without answering: the client cannot tell
   * this from `drop`, and a retry meets the committed result (409 AlreadyExists, 409 Conflict, 404).
   */
  dropAfterCommit?: boolean;
  latencyMs?: number;
  /**
   * Test orchestration, not an API behaviour: hold each matching request until this many have arrived (at most
   * 10 s), then answer them all, so that concurrent clients are sure to have read the same state.
   */
  gather?: number;
}

export interface TestApiServerOptions extends RegistryOptions {
  /** Objects to load before the first request (namespaces are created as needed). */
  seed?: Obj[];
  /** The bearer token clients must send; null accepts anonymous requests. */
  token?: string | null;
  now?: () => Date;
  port?: number;
  /** SelfSubjectAccessReviews that say no, as "<verb> <resource>[/<subresource>]", e.g. "create serviceaccounts/token". */
  deniedAccess?: string[];
  /** Another CA whose client certificates the server accepts, besides the test CA. */
  clientCa?: Buffer;
  /**
   * How long a deleted namespace stays Terminating before its contents and then the namespace are gone, as the
   * namespace controller empties it (a real one took 5.7 s for a near-empty namespace: kube-api fixtures 35–39).
   */
  namespaceFinalizeMs?: number;
}

const KUBE_VERSION = { major: '1', minor: '26', gitVersion: 'v1.26.1', gitCommit: 'kubectl-vm-test-apiserver', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.19.5', compiler: 'gc', platform: 'linux/amd64' };
const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp', 'selfLink'];
const DEFAULT_TOKEN = 'kubectl-vm-test-token';
const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'tls');
const tlsFile = (name: string) => fs.readFileSync(path.join(TLS_DIR, name));

interface Target {
  def: KindDef;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface ArmedFault extends Fault {
  seen: number;
  /** Requests held by `gather`, released together. */
  held?: (() => void)[];
}

export class TestApiServer {
  readonly registry: Registry;
  readonly requests: RecordedRequest[] = [];
  /** Cluster IPs this server chose (not those a seed or a request asked for), for scrubbing transcripts. */
  readonly allocatedClusterIPs: string[] = [];
  readonly token: string | null;
  url = '';
  private readonly server: https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly store = new Map<string, Obj>();
  private readonly faults: ArmedFault[] = [];
  private revision = 1000;
  private readonly now: () => Date;
  /** SelfSubjectAccessReviews answered "no" (TestApiServerOptions.deniedAccess); tests may change it. */
  deniedAccess: string[];
  private readonly tokens = new Map<string, Identity>();
  private readonly grants: Grant[] = [];
  /** TCP connections accepted so far. */
  connections = 0;
  private readonly namespaceFinalizeMs: number;
  private readonly finalizers = new Set<NodeJS.Timeout>();

  private constructor(options: TestApiServerOptions) {
    this.registry = new Registry(options);
    this.token = options.token === undefined ? DEFAULT_TOKEN : options.token;
    this.now = options.now ?? (() => new Date());
    this.deniedAccess = options.deniedAccess ?? [];
    this.namespaceFinalizeMs = options.namespaceFinalizeMs ?? 300;
    // HTTPS, as real clusters are (kubectl sends no credentials over plain HTTP). A client may authenticate with
    // the bearer token or with a client certificate signed by the test CA.
    this.server = https.createServer({ key: tlsFile('server.key'), cert: tlsFile('server.crt'), ca: [tlsFile('ca.crt'), ...(options.clientCa ? [options.clientCa] : [])], requestCert: true, rejectUnauthorized: false }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s: Socket) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.bootstrap();
    for (const obj of options.seed ?? []) this.put(obj);
  }

  static async start(options: TestApiServerOptions = {}): Promise<TestApiServer> {
    const s = new TestApiServer(options);
    await new Promise<void>((resolve) => s.server.listen(options.port ?? 0, '127.0.0.1', resolve));
    s.url = `https://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  async close(): Promise<void> {
    for (const t of this.finalizers) clearTimeout(t);
    this.finalizers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig for this server; `auth` picks the bearer token or the test client certificate. */
  kubeconfig(options: { namespace?: string; context?: string; auth?: 'token' | 'certificate' } = {}): Obj {
    const context = options.context ?? 'kubectl-vm-test';
    const b64 = (name: string) => tlsFile(name).toString('base64');
    const user = options.auth === 'certificate' ? { 'client-certificate-data': b64('client.crt'), 'client-key-data': b64('client.key') } : this.token ? { token: this.token } : {};
    return {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: context, cluster: { server: this.url, 'certificate-authority-data': b64('ca.crt') } }],
      users: [{ name: context, user }],
      contexts: [{ name: context, context: { cluster: context, user: context, ...(options.namespace ? { namespace: options.namespace } : {}) } }],
      'current-context': context,
    };
  }

  /** Writes a kubeconfig for this server and returns its path. */
  writeKubeconfig(file: string, options: { namespace?: string; context?: string; auth?: 'token' | 'certificate' } = {}): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, yaml.dump(this.kubeconfig(options)), { mode: 0o600 });
    return file;
  }

  /** A bearer token that authenticates as `identity` (groups get system:authenticated added). */
  addToken(token: string, name: string, groups: string[] = []): void {
    this.tokens.set(token, { name, groups: [...groups, 'system:authenticated'] });
  }

  /** An RBAC grant: `user` may do `verbs` on `resources` (plurals) of `group` ("" core), in `namespace` or anywhere. */
  grant(grant: Grant): void {
    this.grants.push(grant);
  }

  /** A TokenRequest-style token for a service account, valid for `seconds` from `now` (negative: already expired). */
  serviceAccountToken(namespace: string, name: string, seconds: number, now = this.now()): string {
    const lifetime = 3600;
    const issued = seconds < 0 ? new Date(now.getTime() + (seconds - lifetime) * 1000) : now;
    return mintToken(namespace, name, `uid-${name}`, ['https://kubernetes.default.svc.cluster.local'], seconds < 0 ? lifetime : seconds, issued).token;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, seen: 0 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Loads objects as they are, bypassing validation: seeds may carry status (e.g. a load balancer address). */
  seed(objects: Obj[]): void {
    for (const o of objects) this.put(o);
  }

  /** The stored object, in the given version, or undefined. */
  object(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const [group, version] = splitApiVersion(apiVersion);
    const def = this.registry.byKind(group, kind);
    if (!def) throw new Error(`unknown kind ${kind}`);
    const stored = this.store.get(keyOf(def, def.namespaced ? namespace : undefined, name));
    return stored ? this.present(def, version, stored) : undefined;
  }

  objects(apiVersion: string, kind: string, namespace?: string): Obj[] {
    const [group, version] = splitApiVersion(apiVersion);
    const def = this.registry.byKind(group, kind)!;
    return this.scan(def, namespace).map((o) => this.present(def, version, o));
  }

  // ---------------------------------------------------------------------------------------------------------

  private bootstrap(): void {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    this.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    });
  }

  /** Stores an object directly, filling in server metadata and defaults. */
  private put(input: Obj): void {
    const obj = structuredClone(input);
    const [group, version] = splitApiVersion(obj.apiVersion);
    const def = this.registry.byKind(group, obj.kind);
    if (!def || !def.versions.includes(version!)) throw new Error(`the test API server does not serve ${obj.kind} in ${obj.apiVersion}`);
    if (def.namespaced) {
      obj.metadata.namespace ??= 'default';
      if (!this.store.has(keyOf(this.registry.byKind('', 'Namespace')!, undefined, obj.metadata.namespace))) {
        this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: obj.metadata.namespace } });
      }
    }
    const status = obj.status;
    applyDefaults(obj);
    // A seed is validated as a real write would be: a test cannot start from an object no cluster would hold.
    try {
      const target = { def, version: version!, namespace: obj.metadata.namespace, name: obj.metadata.name };
      this.admit({ target, dryRun: false, manager: 'kubectl-vm-test-seed', validation: 'Strict', warnings: [], query: new URLSearchParams() }, obj);
    } catch (err) {
      if (err instanceof ApiFailure) throw new Error(`seed ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}: a real API server would refuse it: ${err.body.message}`);
      throw err;
    }
    if (status !== undefined && obj.kind !== 'Namespace') obj.status = status;
    this.finishCreate(def, version, obj, 'kubectl-vm-test-seed', false);
    this.afterCreate(def, obj, false);
  }

  private nextRevision(): string {
    return String(++this.revision);
  }

  private timestamp(): string {
    return this.now().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private scan(def: KindDef, namespace?: string): Obj[] {
    const prefix = `${def.group}/${def.plural}/${namespace ?? ''}`;
    return [...this.store.entries()]
      .filter(([k]) => (namespace === undefined ? k.startsWith(`${def.group}/${def.plural}/`) : k.startsWith(`${prefix}/`)))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, v]) => v);
  }

  /** The stored object as the client asked for it: in the requested version. */
  private present(def: KindDef, version: string, obj: Obj): Obj {
    const out = structuredClone(obj);
    out.apiVersion = def.group ? `${def.group}/${version}` : version;
    return serialisationOrder(out, def.crd);
  }

  // ---------------------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const raw = await readBody(req);
    const contentType = req.headers['content-type'];
    // Protobuf bodies (kubectl's typed commands) are decoded to JSON and then handled like any other.
    const decoded = /protobuf/.test(contentType ?? '') ? decodeProtobuf(raw) : undefined;
    const body = decoded && 'object' in decoded ? JSON.stringify(decoded.object) : raw.toString('utf8');
    const requestHeaders = decoded && 'object' in decoded ? { ...req.headers, 'content-type': 'application/json' } : req.headers;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      contentType,
      accept: req.headers.accept,
      userAgent: req.headers['user-agent'],
      body: decoded && 'object' in decoded ? decoded.object : parseForLog(body, contentType),
      status: 0,
    };
    this.requests.push(record);
    const fault = this.matchFault(record);
    if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault?.gather) {
      const held = (fault.held ??= []);
      await new Promise<void>((release) => {
        const timer = setTimeout(release, 10_000);
        held.push(() => {
          clearTimeout(timer);
          release();
        });
        if (held.length >= fault.gather!) for (const r of held.splice(0)) r();
      });
    }
    if (fault?.drop) {
      record.fault = 'drop';
      req.socket.destroy();
      return;
    }
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (fault?.dropAfterCommit) {
        record.fault = 'drop after commit';
        req.socket.destroy();
        return;
      }
      if (payload instanceof Raw) {
        res.writeHead(status, { 'Content-Type': payload.contentType, 'Content-Length': payload.body.length, ...headers });
        res.end(payload.body);
        return;
      }
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'Content-Type': typeof payload === 'string' ? 'text/plain' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (fault?.status) {
      record.fault = `status ${fault.status}`;
      const target = this.describe(url.pathname, record.method);
      send(fault.status, statusFor(fault.status, target), fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {});
      return;
    }
    try {
      if (decoded && 'error' in decoded) throw new ApiFailure({ ...unsupportedMediaType().body, message: decoded.error });
      const described = this.describe(url.pathname, record.method);
      const t = this.parsePath(url.pathname);
      const attrs = {
        verb: record.method === 'GET' && query.watch === 'true' ? 'watch' : described.verb,
        resource: t ? described.resource : undefined,
        group: described.group,
        namespace: described.namespace,
        name: described.name,
        qualified: t ? qualifiedResource(t.def) : undefined,
        path: url.pathname,
      };
      const requester = authenticate(req, this.token, this.tokens, this.now());
      const user = impersonate(requester, req, attrs, this.grants);
      record.user = user;
      record.headers = req.headers;
      authorize(user, attrs, this.grants);
      const warnings: string[] = fault?.warning ? [fault.warning] : [];
      const [status, payload] = this.route(record.method, url, requestHeaders, body, warnings);
      const headers: Record<string, string> = {};
      if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
      send(status, payload, headers);
    } catch (err) {
      if (err instanceof ApiFailure) send(err.body.code, err.body);
      else if (err instanceof RawFailure) send(err.code, err.text);
      else {
        const message = (err as Error).stack ?? String(err);
        send(500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `test API server bug: ${message}`, reason: 'InternalError', code: 500 });
      }
    }
  }

  /** Every fault counts the requests it matches; the first one whose turn it is answers this request. */
  private matchFault(r: RecordedRequest): ArmedFault | undefined {
    let chosen: ArmedFault | undefined;
    for (const f of this.faults) {
      if (f.method && f.method !== r.method) continue;
      if (f.path instanceof RegExp ? !f.path.test(r.path) : f.path !== undefined && f.path !== r.path) continue;
      f.seen++;
      const first = f.nth ?? 1;
      if (!chosen && f.seen >= first && f.seen < first + (f.times ?? 1)) chosen = f;
    }
    return chosen;
  }

  private describe(pathname: string, method: string) {
    const t = this.parsePath(pathname);
    const verb = { GET: t?.name ? 'get' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? method.toLowerCase();
    const resource = t ? (t.subresource ? `${t.def.plural}/${t.subresource}` : t.def.plural) : pathname;
    return { verb, resource, group: t?.def.group ?? '', namespace: t?.namespace, name: t?.name };
  }

  private route(method: string, url: URL, headers: http.IncomingHttpHeaders, body: string, warnings: string[]): [number, unknown] {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET') {
      if (p === '/version') return [200, KUBE_VERSION];
      if (p === '/healthz' || p === '/readyz' || p === '/livez') return [200, 'ok'];
      if (p === '/api') return [200, this.registry.apiVersions()];
      if (p === '/apis') return [200, this.registry.groupList()];
      const gv = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)$/.exec(p);
      if (gv) {
        const doc = gv[1] ? this.registry.resourceList('', 'v1') : gv[3] ? this.registry.resourceList(gv[2]!, gv[3]) : this.registry.group(gv[2]!);
        if (!doc) throw pathNotFound();
        return [200, doc];
      }
      if (p === '/openapi/v2') {
        const v2 = openapiV2(headers.accept);
        return [200, Buffer.isBuffer(v2.body) ? new Raw(v2.body, v2.contentType) : v2.body];
      }
      if (p === '/openapi/v3') return [200, openapiRoot(this.registry)];
      const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
      if (oa) {
        const doc = openapiGroupVersion(this.registry, oa[2] ?? '', oa[1] ?? oa[3]!);
        if (!doc) throw pathNotFound();
        return [200, doc];
      }
      const crds = /^\/apis\/apiextensions\.k8s\.io\/v1\/customresourcedefinitions(?:\/([^/]+))?$/.exec(p);
      if (crds) return this.customResourceDefinitions(crds[1]);
    }
    if (p === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (method !== 'POST') throw methodNotAllowed(method);
      return this.tokenReview(defaultManager(headers['user-agent']), parseBody(body, headers['content-type']));
    }
    if (method === 'POST' && p === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') return this.selfSubjectAccessReview(parseBody(body, headers['content-type']) as Obj);
    const target = this.parsePath(p);
    if (!target) throw pathNotFound();
    const q = url.searchParams;
    const dryRun = q.get('dryRun') === 'All';
    if (q.has('dryRun') && !dryRun) throw badRequest(`Invalid dry run value: ${q.get('dryRun')}: supported values: "All"`);
    const manager = q.get('fieldManager') ?? defaultManager(headers['user-agent']);
    const validation = q.get('fieldValidation') ?? 'Warn';
    const ctx = { target, dryRun, manager, validation, warnings, query: q, accept: headers.accept };
    const sub = target.subresource;
    if (sub && !(sub in target.def.subresources)) throw pathNotFound();
    switch (method) {
      case 'GET':
        return target.name ? this.get(ctx) : this.list(ctx);
      case 'POST':
        if (sub === 'token') return this.tokenRequest(ctx, parseBody(body, headers['content-type']));
        if (target.name) throw methodNotAllowed(method);
        return this.create(ctx, parseBody(body, headers['content-type']));
      case 'PUT':
        if (!target.name) throw methodNotAllowed(method);
        return this.update(ctx, parseBody(body, headers['content-type']));
      case 'PATCH':
        if (!target.name) throw methodNotAllowed(method);
        return this.patch(ctx, body, headers['content-type'] ?? '');
      case 'DELETE':
        if (!target.name) return this.deleteCollection(ctx);
        return this.delete(ctx, (body ? parseBody(body, headers['content-type']) : {}) as Obj);
    }
    throw methodNotAllowed(method);
  }

  private parsePath(p: string): Target | undefined {
    // "/api/v1/namespaces/<name>[/status|/finalize]" is a namespace, not a list of resources in a namespace.
    const ns = /^\/api\/v1\/namespaces\/([^/]+)(?:\/(status|finalize))?$/.exec(p);
    if (ns) return { def: this.registry.byKind('', 'Namespace')!, version: 'v1', name: decodeURIComponent(ns[1]!), subresource: ns[2] };
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(p);
    if (!m) return undefined;
    const [, coreVersion, group = '', groupVersion, namespace, plural, name, subresource] = m;
    const version = coreVersion ?? groupVersion!;
    const def = this.registry.byPlural(group, version, plural!);
    if (!def) return undefined;
    if (!def.namespaced && namespace !== undefined) return undefined;
    return {
      def,
      version,
      namespace: namespace === undefined ? undefined : decodeURIComponent(namespace),
      name: name === undefined ? undefined : decodeURIComponent(name),
      subresource,
    };
  }

  /** As the real API server answers (fixtures 55, 56): the review back with status.allowed. */
  private selfSubjectAccessReview(review: Obj): [number, unknown] {
    const a = ((review.spec as Obj | undefined)?.resourceAttributes ?? {}) as Record<string, string | undefined>;
    const key = `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
    const allowed = !this.deniedAccess.includes(key);
    // An administrator (system:masters) is allowed without a reason, and a denial carries none either (fixtures 55, 56).
    return [201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: review.spec, status: { allowed } }];
  }

  // Reads -----------------------------------------------------------------------------------------------------

  private get(ctx: Ctx): [number, unknown] {
    const { def, version, namespace, name } = ctx.target;
    const stored = this.store.get(keyOf(def, namespace, name!));
    if (!stored) throw notFound(def, name!);
    const obj = this.present(def, version, stored);
    if (wantsTable(ctx.accept)) return [200, toTable(def, version, [obj], obj.metadata.resourceVersion, this.now())];
    return [200, obj];
  }

  private list(ctx: Ctx): [number, unknown] {
    const { def, version, namespace } = ctx.target;
    const labelSelector = ctx.query.get('labelSelector') ?? undefined;
    const fieldSelector = ctx.query.get('fieldSelector') ?? undefined;
    const items = this.scan(def, namespace)
      .filter((o) => matchesLabels(labelSelector, o.metadata.labels) && matchesFields(fieldSelector, o))
      .map((o) => this.present(def, version, o));
    const resourceVersion = String(this.revision);
    if (wantsTable(ctx.accept)) return [200, toTable(def, version, items, resourceVersion, this.now())];
    // Typed (built-in) lists leave apiVersion and kind out of their items; unstructured (CRD) lists keep them.
    const shown = def.crd ? items : items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return [200, { kind: def.listKind, apiVersion: def.group ? `${def.group}/${version}` : version, metadata: { resourceVersion }, items: shown }];
  }

  private customResourceDefinitions(name?: string): [number, unknown] {
    const defs = this.registry.kinds.filter((k) => k.definition);
    if (name) {
      const d = defs.find((k) => `${k.plural}.${k.group}` === name);
      if (!d) throw notFound({ ...defs[0]!, group: 'apiextensions.k8s.io', plural: 'customresourcedefinitions' }, name);
      return [200, d.definition];
    }
    return [200, { kind: 'CustomResourceDefinitionList', apiVersion: 'apiextensions.k8s.io/v1', metadata: { resourceVersion: String(this.revision) }, items: defs.map((d) => d.definition) }];
  }

  // Writes ----------------------------------------------------------------------------------------------------

  private checkBody(ctx: Ctx, obj: Obj): void {
    const { def, version, namespace } = ctx.target;
    const expected = def.group ? `${def.group}/${version}` : version;
    if (!isObject(obj) || !obj.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(obj)}'`);
    // Group and version both count (kube-api fixtures 43–46): a built-in kind is decoded by the scheme, which
    // knows no other version of it; a custom resource must name the version of the URL.
    if (obj.apiVersion && obj.apiVersion !== expected && obj.kind === def.kind && !def.crd) {
      const [, bodyVersion] = splitApiVersion(obj.apiVersion);
      throw badRequest(`${def.kind} in version "${bodyVersion}" cannot be handled as a ${def.kind}: no kind "${def.kind}" is registered for version "${obj.apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    if (obj.kind !== def.kind || (obj.apiVersion && obj.apiVersion !== expected)) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    obj.apiVersion = expected;
    obj.metadata ??= {};
    if (def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
  }

  /** Prunes unknown fields (warning, or error with fieldValidation=Strict), validates, and throws a 422. */
  private admit(ctx: Ctx, obj: Obj): void {
    const { def, version } = ctx.target;
    const errors: FieldError[] = [...validateMeta(obj, def.kind, def.namespaced)];
    if (def.crd) {
      const schema = def.schemas[version]!;
      const metadata = obj.metadata;
      // apiVersion, kind and metadata are always kept, whatever the schema declares.
      const unknown = prune(obj, {
        ...schema,
        properties: { ...schema.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      });
      obj.metadata = metadata;
      if (unknown.length && ctx.validation === 'Strict') throw badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
      if (ctx.validation !== 'Ignore') ctx.warnings.push(...unknown.map((u) => `unknown field "${u}"`));
      const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
      const schemaErrors = validate(rest, { ...schema, properties: Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => !['metadata', 'apiVersion', 'kind'].includes(k))) }, '');
      errors.push(...schemaErrors);
      if (errors.length === 0) errors.push(...validateRules(rest, schema, ''));
      else if (schemaErrors.length && hasRules(schema)) {
        errors.push({ reason: 'FieldValueInvalid', field: '<nil>', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' });
      }
    } else {
      errors.push(...validateKind(obj));
    }
    if (errors.length) throw invalid(qualifiedKind(def), def.group || undefined, obj.metadata?.name ?? '', errors);
  }

  private create(ctx: Ctx, input: unknown): [number, unknown] {
    const { def, version, namespace } = ctx.target;
    const obj = input as Obj;
    this.checkBody(ctx, obj);
    for (const k of SERVER_METADATA) delete obj.metadata[k];
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomSuffix();
    if (def.subresources.status) delete obj.status;
    applyDefaults(obj);
    // The NamespaceLifecycle admission plugin runs before validation: a missing namespace is a 404 even for an
    // invalid object (e.g. a clusterIP out of range).
    this.admitNamespace(def, namespace, obj.metadata.name);
    this.admit(ctx, obj);
    if (this.store.has(keyOf(def, namespace, obj.metadata.name))) throw alreadyExists(def, obj.metadata.name);
    this.finishCreate(def, version, obj, ctx.manager, ctx.dryRun);
    this.afterCreate(def, obj, ctx.dryRun);
    return [201, this.present(def, version, obj)];
  }

  /** NamespaceLifecycle admission: nothing is created in a namespace that is missing (404) or Terminating (403). */
  private admitNamespace(def: KindDef, namespace: string | undefined, name: string): void {
    if (!def.namespaced) return;
    const ns = this.store.get(keyOf(this.registry.byKind('', 'Namespace')!, undefined, namespace!));
    if (!ns) throw namespaceNotFound(namespace!);
    if (ns.metadata.deletionTimestamp) throw namespaceTerminating(def, name, namespace!);
  }

  private finishCreate(def: KindDef, version: string, obj: Obj, manager: string, dryRun: boolean): void {
    const meta = obj.metadata;
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = this.timestamp();
    if (def.crd || def.kind === 'EndpointSlice' || def.kind === 'Deployment') meta.generation = 1;
    this.recordUpdate(def, version, undefined, obj, manager);
    prepareForCreate(obj);
    this.allocate(obj, undefined);
    if (!dryRun) {
      meta.resourceVersion = this.nextRevision();
      this.store.set(keyOf(def, meta.namespace, meta.name), obj);
    }
  }

  /** What controllers do right after a create: every namespace gets a default ServiceAccount and the root CA. */
  private afterCreate(def: KindDef, obj: Obj, dryRun: boolean): void {
    if (dryRun || def.kind !== 'Namespace') return;
    const ns = obj.metadata.name;
    const sa = this.registry.byKind('', 'ServiceAccount')!;
    if (!this.store.has(keyOf(sa, ns, 'default'))) this.finishCreate(sa, 'v1', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } }, 'kube-controller-manager', false);
    const cm = this.registry.byKind('', 'ConfigMap')!;
    if (!this.store.has(keyOf(cm, ns, 'kube-root-ca.crt'))) {
      this.finishCreate(
        cm,
        'v1',
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: ns, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': TEST_CA } },
        'kube-controller-manager',
        false,
      );
    }
  }

  /** Cluster IPs and node ports, chosen after defaulting and field ownership, as the real registry does. */
  private allocate(obj: Obj, old: Obj | undefined): void {
    if (obj.kind !== 'Service') return;
    const spec = obj.spec;
    if (old) {
      for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) if (spec[k] === undefined && old.spec[k] !== undefined) spec[k] = old.spec[k];
    }
    if (spec.type !== 'ExternalName') {
      if (!spec.clusterIP) {
        const used = new Set(this.scan(this.registry.byKind('', 'Service')!).map((s) => s.spec.clusterIP));
        let ip: string;
        do ip = `${SERVICE_CIDR.base[0]}.${SERVICE_CIDR.base[1]}.${1 + crypto.randomInt(254)}.${1 + crypto.randomInt(254)}`;
        while (used.has(ip));
        spec.clusterIP = ip;
        this.allocatedClusterIPs.push(ip);
      }
      spec.clusterIPs ??= [spec.clusterIP];
      if (spec.clusterIP !== 'None') {
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
      }
    }
    if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') {
      for (const p of spec.ports ?? []) p.nodePort ??= 30000 + crypto.randomInt(2768);
    }
    obj.status ??= { loadBalancer: {} };
  }

  private update(ctx: Ctx, input: unknown): [number, unknown] {
    const { def, namespace, name } = ctx.target;
    const obj = input as Obj;
    this.checkBody(ctx, obj);
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    const old = this.store.get(keyOf(def, namespace, name!));
    if (!old) throw notFound(def, name!);
    if (obj.metadata.resourceVersion === undefined && def.crd) {
      throw invalid(qualifiedKind(def), def.group, name!, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    if (obj.metadata.resourceVersion !== undefined && obj.metadata.resourceVersion !== old.metadata.resourceVersion) throw staleResourceVersion(def, name!);
    return this.replaceWith(ctx, old, obj);
  }

  /** The shared end of PUT and PATCH: keep what the request may not change, default, validate, store. */
  private replaceWith(ctx: Ctx, old: Obj, next: Obj, operation: 'Update' | 'Apply' = 'Update', applied?: FieldTree, force = false): [number, unknown] {
    const { def, version, subresource } = ctx.target;
    next.apiVersion = def.group ? `${def.group}/${version}` : version;
    for (const k of ['uid', 'creationTimestamp', 'generation', 'namespace', 'name']) next.metadata[k] = old.metadata[k];
    if (def.subresources.status) {
      if (subresource === 'status') {
        const status = next.status;
        Object.assign(next, structuredClone({ ...old, status }));
      } else if (old.status !== undefined) next.status = structuredClone(old.status);
      else delete next.status;
    }
    applyDefaults(next);
    this.admit(ctx, next);
    if (operation === 'Apply') this.recordApply(def, version, next, ctx.manager, applied!, force);
    else this.recordUpdate(def, version, old, next, ctx.manager, subresource);
    this.allocate(next, old);
    if (def.crd && !sameValue(withoutMeta(old), withoutMeta(next))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    const changed = !sameValue(old, { ...next, metadata: { ...next.metadata, managedFields: old.metadata.managedFields, resourceVersion: old.metadata.resourceVersion } });
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (changed && !ctx.dryRun) {
      next.metadata.resourceVersion = this.nextRevision();
      this.store.set(keyOf(def, next.metadata.namespace, next.metadata.name), next);
    } else if (!changed) next.metadata.managedFields = old.metadata.managedFields;
    return [200, this.present(def, version, next)];
  }

  private patch(ctx: Ctx, body: string, contentType: string): [number, unknown] {
    const { def, namespace, name } = ctx.target;
    const type = contentType.split(';')[0]!.trim();
    if (type === 'application/apply-patch+yaml') return this.apply(ctx, body);
    const old = this.store.get(keyOf(def, namespace, name!));
    const current = old ? this.present(def, ctx.target.version, old) : undefined;
    let patched: unknown;
    const patchBody = parseBody(body, 'application/json');
    if (type === 'application/merge-patch+json') patched = mergePatch(current, patchBody);
    else if (type === 'application/json-patch+json') patched = jsonPatch(current ?? {}, patchBody);
    else if (type === 'application/strategic-merge-patch+json' && !def.crd) patched = strategicMergePatch(current, patchBody);
    else throw unsupportedMediaType();
    if (!old) throw notFound(def, name!);
    const next = patched as Obj;
    if (isObject(patchBody) && patchBody.metadata?.resourceVersion && patchBody.metadata.resourceVersion !== old.metadata.resourceVersion) throw staleResourceVersion(def, name!);
    this.checkBody(ctx, next);
    return this.replaceWith(ctx, old, next);
  }

  private apply(ctx: Ctx, body: string): [number, unknown] {
    const { def, version, namespace, name } = ctx.target;
    if (!ctx.query.get('fieldManager')) throw badRequest('PATCH requests using application/apply-patch+yaml must have a fieldManager query parameter');
    const force = ctx.query.get('force') === 'true';
    const applied = parseBody(body, 'application/apply-patch+yaml') as Obj;
    this.checkBody(ctx, applied);
    if (applied.metadata.name !== name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    if (def.subresources.status && ctx.target.subresource !== 'status') delete applied.status;
    const listTypes = listTypeOf(def, version);
    const appliedSet = fieldSet(applied, listTypes);
    const old = this.store.get(keyOf(def, namespace, name!));
    if (!old) {
      this.admitNamespace(def, namespace, name!);
      const obj = structuredClone(applied);
      applyDefaults(obj);
      this.admit(ctx, obj);
      obj.metadata.uid = crypto.randomUUID();
      obj.metadata.creationTimestamp = this.timestamp();
      if (def.crd || def.kind === 'EndpointSlice' || def.kind === 'Deployment') obj.metadata.generation = 1;
      obj.metadata.managedFields = [entry(ctx.manager, 'Apply', obj.apiVersion, this.timestamp(), appliedSet)];
      prepareForCreate(obj);
      this.allocate(obj, undefined);
      if (!ctx.dryRun) {
        obj.metadata.resourceVersion = this.nextRevision();
        this.store.set(keyOf(def, namespace, name!), obj);
      }
      this.afterCreate(def, obj, ctx.dryRun);
      return [201, this.present(def, version, obj)];
    }
    const live = this.present(def, version, old);
    const entries = managedEntries(live);
    const conflicts: { manager: string; path: Path; apiVersion: string }[] = [];
    for (const e of entries) {
      if (e.manager === ctx.manager && e.operation === 'Apply') continue;
      const tree = fromFieldsV1(e.fieldsV1);
      for (const p of leaves(appliedSet)) {
        if (!has(tree, p)) continue;
        const l = valueAt(live, p);
        const a = valueAt(applied, p);
        if (l.found && p[p.length - 1] !== '.' && !sameValue(l.value, a.value)) conflicts.push({ manager: e.manager, path: p, apiVersion: e.apiVersion });
      }
    }
    if (conflicts.length && !force) throw applyConflict(conflicts, applied.apiVersion);
    const merged = mergeApplied(live, applied, [], listTypes) as Obj;
    const previous = entries.find((e) => e.manager === ctx.manager && e.operation === 'Apply');
    if (previous) {
      const others = entries.filter((e) => e !== previous).map((e) => fromFieldsV1(e.fieldsV1));
      for (const p of leaves(fromFieldsV1(previous.fieldsV1))) {
        if (has(appliedSet, p) || others.some((t) => has(t, p))) continue;
        removeValue(merged, p);
      }
    }
    return this.replaceWith(ctx, old, merged, 'Apply', appliedSet, force);
  }

  private recordApply(def: KindDef, version: string, obj: Obj, manager: string, applied: FieldTree, force: boolean): void {
    const apiVersion = def.group ? `${def.group}/${version}` : version;
    const entries = managedEntries(obj).filter((e) => !(e.manager === manager && e.operation === 'Apply'));
    if (force) {
      for (const e of entries) {
        const tree = fromFieldsV1(e.fieldsV1);
        for (const p of leaves(applied)) remove(tree, p);
        e.fieldsV1 = toFieldsV1(tree);
      }
    }
    obj.metadata.managedFields = [...entries.filter((e) => Object.keys(e.fieldsV1).length > 0), entry(manager, 'Apply', apiVersion, this.timestamp(), applied)];
  }

  private recordUpdate(def: KindDef, version: string, old: Obj | undefined, next: Obj, manager: string, subresource?: string): void {
    const apiVersion = def.group ? `${def.group}/${version}` : version;
    const listTypes = listTypeOf(def, version);
    const oldTree = old ? fieldSet(old, listTypes) : new Map();
    const newTree = fieldSet(next, listTypes);
    const changed = leaves(newTree).filter((p) => !has(oldTree, p) || !sameValue(valueAt(old, p).value, valueAt(next, p).value));
    // A map or list that this update brought into existence is owned itself too (the "." entry); the metadata
    // and the spec/status structs of built-in kinds always exist, so they never are.
    for (const p of containers(newTree)) {
      const alwaysThere = p.length === 1 && (p[0] === 'f:metadata' || (!def.crd && (p[0] === 'f:spec' || p[0] === 'f:status')));
      if (!alwaysThere && !p[p.length - 1]!.startsWith('k:') && !valueAt(old, p).found) changed.push([...p, '.']);
    }
    const removed = leaves(oldTree).filter((p) => !has(newTree, p));
    const entries = (old ? managedEntries(old) : []).map((e) => ({ ...e }));
    let mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && e.subresource === subresource);
    for (const e of entries) {
      const tree = fromFieldsV1(e.fieldsV1);
      for (const p of [...changed, ...removed]) if (e !== mine) remove(tree, p);
      for (const p of removed) remove(tree, p);
      e.fieldsV1 = toFieldsV1(tree);
    }
    if (changed.length) {
      if (!mine) entries.push((mine = entry(manager, 'Update', apiVersion, this.timestamp(), new Map(), subresource)));
      const tree = fromFieldsV1(mine.fieldsV1);
      for (const p of changed) add(tree, p);
      mine.fieldsV1 = toFieldsV1(tree);
      mine.time = this.timestamp();
      mine.apiVersion = apiVersion;
    }
    const kept = entries.filter((e) => Object.keys(e.fieldsV1).length > 0);
    if (kept.length) next.metadata.managedFields = kept;
    else delete next.metadata.managedFields;
  }

  private delete(ctx: Ctx, options: Obj): [number, unknown] {
    const { def, version, namespace, name } = ctx.target;
    const old = this.store.get(keyOf(def, namespace, name!));
    if (!old) throw notFound(def, name!);
    const pre = options?.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw preconditionFailed(def, name!, 'UID', pre.uid, old.metadata.uid);
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw preconditionFailed(def, name!, 'ResourceVersion', pre.resourceVersion, old.metadata.resourceVersion);
    }
    if (def.kind === 'Namespace') return [200, this.present(def, version, this.terminate(old, ctx.dryRun))];
    const shown = this.present(def, version, old);
    if (!ctx.dryRun) {
      this.store.delete(keyOf(def, namespace, name!));
      this.collectGarbage(old.metadata.uid);
    }
    // Most built-in registries answer a delete with a Status; Services return the object (fixtures 26, 52).
    if (def.kind === 'Secret') return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: def.plural, uid: old.metadata.uid } }];
    if (def.crd) return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: def.group, kind: def.plural, uid: old.metadata.uid } }];
    return [200, shown];
  }

  /**
   * The controller-manager's garbage collector, without its delay: objects whose only owner was deleted go too
   * (background propagation). The real one takes a moment; callers must not depend on either timing.
   */
  private collectGarbage(ownerUid: string): void {
    for (const [key, obj] of [...this.store.entries()]) {
      const owners: Obj[] = obj.metadata.ownerReferences ?? [];
      if (!owners.some((o) => o.uid === ownerUid)) continue;
      const rest = owners.filter((o) => o.uid !== ownerUid && [...this.store.values()].some((x) => x.metadata.uid === o.uid));
      if (rest.length) continue;
      this.store.delete(key);
      this.collectGarbage(obj.metadata.uid);
    }
  }

  /**
   * A namespace delete, as kube-apiserver and the namespace controller do it: the namespace turns Terminating at
   * once (deletionTimestamp, phase), refuses new content, and only after namespaceFinalizeMs are its contents and
   * then the namespace itself gone. Deleting it again while it terminates answers the same object.
   */
  private terminate(ns: Obj, dryRun: boolean): Obj {
    if (ns.metadata.deletionTimestamp) return ns;
    const terminating = structuredClone(ns);
    terminating.metadata.deletionTimestamp = this.timestamp();
    terminating.status = { phase: 'Terminating' };
    if (dryRun) return terminating;
    terminating.metadata.resourceVersion = this.nextRevision();
    const def = this.registry.byKind('', 'Namespace')!;
    this.store.set(keyOf(def, undefined, ns.metadata.name), terminating);
    const timer = setTimeout(() => {
      this.finalizers.delete(timer);
      for (const key of [...this.store.keys()]) if (this.store.get(key)!.metadata.namespace === ns.metadata.name) this.store.delete(key);
      this.store.delete(keyOf(def, undefined, ns.metadata.name));
    }, this.namespaceFinalizeMs);
    timer.unref();
    this.finalizers.add(timer);
    return terminating;
  }

  private deleteCollection(ctx: Ctx): [number, unknown] {
    const { def, version, namespace } = ctx.target;
    if (!def.verbs.includes('deletecollection')) throw methodNotAllowed('DELETE');
    const selector = ctx.query.get('labelSelector') ?? undefined;
    const victims = this.scan(def, namespace).filter((o) => matchesLabels(selector, o.metadata.labels));
    if (!ctx.dryRun) for (const v of victims) this.store.delete(keyOf(def, v.metadata.namespace, v.metadata.name));
    return [200, { kind: def.listKind, apiVersion: def.group ? `${def.group}/${version}` : version, metadata: { resourceVersion: String(this.revision) }, items: victims.map((v) => this.present(def, version, v)) }];
  }

  /**
   * spec.boundObjectRef of a TokenRequest: the Secret or Pod must exist (404 as a get would say), and a uid, when
   * given, must be its uid (409, worded as kube-apiserver v1.26 words it: fixtures 50, 51).
   */
  private boundObject(namespace: string, ref: Obj | undefined): BoundObject | undefined {
    if (!ref) return undefined;
    const kind = ref.kind;
    if (kind !== 'Secret' && kind !== 'Pod') {
      throw invalid('TokenRequest.authentication.k8s.io', 'authentication.k8s.io', '', [{ reason: 'FieldValueNotSupported', field: 'spec.boundObjectRef.kind', message: `Unsupported value: "${kind}": supported values: "Pod", "Secret"` }]);
    }
    const def = this.registry.byKind('', kind);
    const obj = def ? this.store.get(keyOf(def, namespace, ref.name)) : undefined;
    if (!def || !obj) throw notFound(def ?? this.registry.byKind('', 'Secret')!, ref.name);
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw failure(409, 'Conflict', `Operation cannot be fulfilled on ${kind} "${ref.name}": the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`, { name: ref.name, kind });
    }
    return { kind, name: ref.name, uid: obj.metadata.uid };
  }

  /** Successful reviews, cached for 10 s as kube-apiserver caches them: a revoked token still passes until then. */
  private readonly reviewCache = new Map<string, { at: number; status: Obj }>();

  /** TokenReview: a token this server minted, not expired, whose service account and bound object still exist. */
  private tokenReview(manager: string, input: unknown): [number, unknown] {
    const spec = (input as Obj)?.spec ?? {};
    const token: string = spec.token ?? '';
    const wanted: string[] = spec.audiences?.length ? spec.audiences : ['https://kubernetes.default.svc.cluster.local'];
    const now = this.now().getTime();
    const review = (status: Obj): [number, unknown] => [
      201,
      {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: {
          creationTimestamp: null,
          managedFields: [{ manager, operation: 'Update', apiVersion: 'authentication.k8s.io/v1', time: this.timestamp(), fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { ...(spec.audiences ? { 'f:audiences': {} } : {}), 'f:token': {} } } }],
        },
        spec: { token, ...(spec.audiences ? { audiences: spec.audiences } : {}) },
        status,
      },
    ];
    const cacheKey = `${token}\n${wanted.join(',')}`;
    const cached = this.reviewCache.get(cacheKey);
    if (cached && now - cached.at < 10_000) return review(cached.status);
    const claims = verifiedClaims(token);
    if (!claims) return review({ user: {}, error: 'invalid bearer token' });
    const audiences = claims.aud.filter((a) => wanted.includes(a));
    if (audiences.length === 0) return review({ user: {}, error: `[invalid bearer token, token audiences ${JSON.stringify(claims.aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]` });
    if (claims.exp * 1000 <= now) return review({ user: {}, error: '[invalid bearer token, square/go-jose/jwt: validation failed, token is expired (exp)]' });
    const k8s = claims['kubernetes.io'];
    const sa = this.store.get(keyOf(this.registry.byKind('', 'ServiceAccount')!, k8s.namespace, k8s.serviceaccount.name));
    const invalidated = { user: {}, error: '[invalid bearer token, service account token has been invalidated]' };
    if (!sa || sa.metadata.uid !== k8s.serviceaccount.uid) return review(invalidated);
    for (const kind of ['Secret', 'Pod'] as const) {
      const ref = k8s[kind.toLowerCase() as 'secret' | 'pod'];
      if (!ref) continue;
      const def = this.registry.byKind('', kind);
      const obj = def && this.store.get(keyOf(def, k8s.namespace, ref.name));
      if (!obj || obj.metadata.uid !== ref.uid || obj.metadata.deletionTimestamp) return review(invalidated);
    }
    const status = {
      authenticated: true,
      user: { username: claims.sub, uid: k8s.serviceaccount.uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${k8s.namespace}`, 'system:authenticated'] },
      audiences,
    };
    this.reviewCache.set(cacheKey, { at: now, status });
    return review(status);
  }

  private tokenRequest(ctx: Ctx, input: unknown): [number, unknown] {
    const { namespace, name } = ctx.target;
    const sa = this.store.get(keyOf(this.registry.byKind('', 'ServiceAccount')!, namespace, name!));
    if (!sa) throw notFound(this.registry.byKind('', 'ServiceAccount')!, name!);
    const spec = (input as Obj)?.spec ?? {};
    const seconds = spec.expirationSeconds ?? 3600;
    const tokenKind = 'TokenRequest.authentication.k8s.io';
    if (seconds < 600) {
      throw invalid(tokenKind, 'authentication.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${seconds}: may not specify a duration less than 10 minutes` }]);
    }
    if (seconds > 2 ** 32) {
      throw invalid(tokenKind, 'authentication.k8s.io', '', [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${seconds}: may not specify a duration larger than 2^32 seconds` }]);
    }
    const audiences: string[] = spec.audiences?.length ? spec.audiences : ['https://kubernetes.default.svc.cluster.local'];
    const bound = this.boundObject(namespace!, spec.boundObjectRef);
    const now = this.now();
    const { token } = mintToken(namespace!, name!, sa.metadata.uid, audiences, seconds, now, bound);
    return [
      201,
      {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: {
          name,
          namespace,
          creationTimestamp: this.timestamp(),
          managedFields: [
            { manager: ctx.manager, operation: 'Update', apiVersion: 'authentication.k8s.io/v1', time: this.timestamp(), fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:audiences': {}, ...(bound ? { 'f:boundObjectRef': boundFields(spec.boundObjectRef) } : {}), 'f:expirationSeconds': {} } }, subresource: 'token' },
          ],
        },
        spec: { audiences, expirationSeconds: seconds, boundObjectRef: bound ? { kind: bound.kind, apiVersion: 'v1', name: bound.name, uid: bound.uid } : null },
        status: { token, expirationTimestamp: new Date(now.getTime() + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
      },
    ];
  }
}

/** TokenRequest's fields under spec.boundObjectRef, as the request set them, for managedFields. */
function boundFields(ref: Obj): Obj {
  return Object.fromEntries(['apiVersion', 'kind', 'name', 'uid'].filter((k) => ref?.[k] !== undefined).map((k) => [`f:${k}`, {}]));
}

/** A response body that is not JSON. */
class Raw {
  constructor(
    readonly body: Buffer,
    readonly contentType: string,
  ) {}
}

interface Ctx {
  target: Target;
  dryRun: boolean;
  manager: string;
  validation: string;
  warnings: string[];
  query: URLSearchParams;
  accept?: string;
}

// ---------------------------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Paths of the non-leaf nodes of a field tree: the maps and associative lists. */
function containers(tree: FieldTree, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [elem, child] of tree) {
    if (elem === '.' || child.size === 0) continue;
    out.push([...prefix, elem], ...containers(child, [...prefix, elem]));
  }
  return out;
}

function keyOf(def: KindDef, namespace: string | undefined, name: string): string {
  return `${def.group}/${def.plural}/${def.namespaced ? (namespace ?? '') : ''}/${name}`;
}

function splitApiVersion(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf('/');
  return i === -1 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

function withoutMeta(o: Obj): Obj {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from({ length: 5 }, () => alphabet[crypto.randomInt(alphabet.length)]).join('');
}

/** kube-apiserver's default field manager: the User-Agent up to the first "/". */
function defaultManager(userAgent: string | undefined): string {
  return (userAgent ?? 'unknown').split('/')[0]!.slice(0, 128);
}

function managedEntries(obj: Obj): ManagedFieldsEntry[] {
  return (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
}

function entry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, time: string, tree: FieldTree, subresource?: string): ManagedFieldsEntry {
  return { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(tree), ...(subresource ? { subresource } : {}) };
}

function applyConflict(conflicts: { manager: string; path: Path; apiVersion: string }[], apiVersion: string): ApiFailure {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"${c.apiVersion !== apiVersion ? ` using ${c.apiVersion}` : ''}`, field: showPath(c.path) }));
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: ${causes[0]!.message}: ${causes[0]!.field}`
      : `Apply failed with ${conflicts.length} conflicts: ${[...new Set(causes.map((c) => c.message))].map((m) => `${m.replace(/^conflict/, 'conflicts')}:\n${causes.filter((c) => c.message === m).map((c) => `- ${c.field}`).join('\n')}`).join('\n')}`;
  return new ApiFailure({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Conflict', details: { causes }, code: 409 });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(body: string, contentType: string | undefined): unknown {
  if (body.trim() === '') throw badRequest('the request body is empty');
  try {
    return /yaml/.test(contentType ?? '') ? yaml.load(body) : JSON.parse(body);
  } catch (err) {
    throw badRequest(`the object provided is unrecognized: ${(err as Error).message.split('\n')[0]}`);
  }
}

function parseForLog(body: string, contentType: string | undefined): unknown {
  if (body === '') return undefined;
  try {
    return /yaml/.test(contentType ?? '') ? yaml.load(body) : JSON.parse(body);
  } catch {
    return body;
  }
}

const TEST_CA = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrdWJlY3RsLXZtLXRlc3Qt\nYXBpc2VydmVyMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFowIzEhMB8GA1UEAwwYa3Vi\nZWN0bC12bS10ZXN0LWFwaXNlcnZlcjAKBggqhkjOPQQDAgNIADBFAiEAtest\n-----END CERTIFICATE-----\n';
