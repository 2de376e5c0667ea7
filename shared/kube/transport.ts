// HTTP(S) to the API server, as client-go's transport does it. Credentials (bearer token, token file, basic
// auth, client certificates, exec credential plugins) and impersonation headers are applied here; only
// auth-providers (oidc, azure, gcp) go through @kubernetes/client-node, which is loaded only for them. Proxies
// (proxy-url, HTTPS_PROXY, NO_PROXY) are chosen in proxy.ts, exec plugins run in exec.ts.
import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import type { Logger } from '../output/logger.ts';
import type { LoadedKubeconfig, UserEntry } from './kubeconfig.ts';
import { apiError, markUnapplied, statusFrom, transportError, type RequestDescription } from './errors.ts';
import { backoffDelay, defaultBackoff, isDroppedConnection, verdictForStatus, type BackoffPolicy } from './retry.ts';
import { CliError, ConfigError, InternalError } from '../errors.ts';
import { loadClientNodeAuth } from './client-node.ts';
import { runExecPlugin, type ExecCredential } from './exec.ts';

declare const __VERSION__: string | undefined;
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: string;
  contentType?: string;
  /** Describes the request for error messages. */
  what: Omit<RequestDescription, 'server' | 'context'>;
}

export interface HttpResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface TransportOptions {
  /** The whole-request limit in milliseconds (--request-timeout), per attempt; 0 means none. */
  timeoutMs: number;
  log: Logger;
  backoff?: BackoffPolicy;
  /** The environment, for HTTPS_PROXY/NO_PROXY and exec plugins; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** --match-server-version: check GET /version before the first request. */
  matchServerVersion?: boolean;
}

interface Prepared {
  agent: http.Agent;
  headers: Record<string, string | string[]>;
  /** node:http or node:https, loaded on the first request so that --help and validation never load TLS. */
  mod: typeof http | typeof https;
  /** When an exec plugin's credential expires (ms since the epoch). */
  expiresAt?: number;
  /** The proxy in use, for error messages. */
  proxy?: string;
  /** Settles when the first request sent with this agent has its answer (or failed). */
  firstAnswer?: Promise<void>;
}

/** What KubeClient needs from a transport. */
export interface Sender {
  readonly server: string;
  /** Requests sent, retries included. */
  readonly requests: number;
  /** Warnings the API server sent (Warning headers). */
  readonly warnings?: number;
  send(req: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

/**
 * Stands in for the cluster during a client-side dry run when there is no kubeconfig at all: writes never reach
 * it, and a read fails with the error that loading the kubeconfig gave.
 */
export class OfflineSender implements Sender {
  readonly server = '(none)';
  readonly requests = 0;
  constructor(private readonly why: () => Error) {}
  send(): Promise<HttpResponse> {
    return Promise.reject(this.why());
  }
  close(): void {}
}

export class Transport implements Sender {
  readonly server: string;
  /** Requests sent, retries included. */
  requests = 0;
  warnings = 0;
  private readonly url: URL;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private versionChecked?: Promise<void>;
  private prepared?: Promise<Prepared>;
  private readonly backoff: BackoffPolicy;

  constructor(
    private readonly config: LoadedKubeconfig,
    private readonly options: TransportOptions,
  ) {
    this.server = config.cluster.server!.replace(/\/+$/, '');
    try {
      this.url = new URL(this.server);
    } catch {
      throw new ConfigError(`the server address "${this.server}" of cluster "${config.clusterName}" is not a URL`, {
        hint: `fix it with "kubectl config set-cluster ${config.clusterName} --server=https://host:port"`,
      });
    }
    this.backoff = options.backoff ?? defaultBackoff;
    this.env = options.env ?? process.env;
  }

  /** Sends a request, retrying 429, 5xx and dropped connections; returns the response of a 2xx, throws otherwise. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const state = { maybeApplied: false };
    try {
      return await this.sendTracked(req, state);
    } catch (err) {
      throw state.maybeApplied ? err : markUnapplied(err);
    }
  }

  /** send(), noting in `state` whether an attempt may have reached the server and been acted on. */
  private async sendTracked(req: HttpRequest, state: { maybeApplied: boolean }): Promise<HttpResponse> {
    const what: RequestDescription = { ...req.what, server: this.server, context: this.config.contextName };
    if (this.options.matchServerVersion && req.path !== '/version') await (this.versionChecked ??= this.checkServerVersion());
    let prepared = await this.prepare();
    // The credential this request was sent with: after a 401 the plugin runs again only if no other request of
    // this run has already replaced it (requests in parallel share one new credential).
    let sentWith = this.prepared;
    let reExecuted = false;
    let handedOff = false;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        // The first request opens the connection alone: requests sent meanwhile wait for its answer, then reuse
        // its connection or resume its TLS session, instead of each paying a full handshake at start-up.
        if (prepared.firstAnswer) await prepared.firstAnswer;
        handedOff = false;
        const answer = this.once(req, prepared, () => (handedOff = true));
        // It settles with nothing: the first answer's body (a fleet's list of thousands of objects) is not kept.
        prepared.firstAnswer ??= answer.then(
          () => undefined,
          () => undefined,
        );
        res = await answer;
      } catch (err) {
        // No answer: a request handed to the operating system whole may have been acted on.
        if (handedOff) state.maybeApplied = true;
        const e = err as NodeJS.ErrnoException;
        // Only failures of the connection carry an errno-style code; anything else is a bug of ours.
        if (typeof e.code !== 'string') throw new InternalError(`${req.method} ${req.path} failed: ${e.message}`, { cause: e });
        if (attempt < this.backoff.attempts && isDroppedConnection(e)) {
          await this.wait(attempt, undefined, `${req.method} ${req.path}: ${e.message}`);
          continue;
        }
        throw transportError(e, what, attempt, { tlsServerName: this.config.cluster['tls-server-name'], proxy: prepared.proxy });
      }
      // client-go runs an exec plugin again after a 401; we also retry the request once with the new credential.
      if (res.status === 401 && this.config.user.exec && !reExecuted) {
        reExecuted = true;
        this.options.log.debug(`HTTP 401: running the exec credential plugin "${this.config.user.exec.command}" again`);
        if (this.prepared === sentWith) this.invalidate();
        prepared = await this.prepare();
        sentWith = this.prepared;
        attempt--;
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      // A 5xx may come after the change was made (a timeout, say); a 4xx comes before anything is changed.
      if (res.status >= 500) state.maybeApplied = true;
      const retryAfter = headerValue(res.headers['retry-after']);
      const verdict = verdictForStatus(res.status, retryAfter);
      if (verdict.retry && attempt < this.backoff.attempts) {
        await this.wait(attempt, verdict.retryAfterMs, `${req.method} ${req.path}: HTTP ${res.status}`);
        continue;
      }
      throw apiError(statusFrom(res.status, res.body), what, attempt);
    }
  }

  close(): void {
    void this.prepared?.then((p) => p.agent.destroy(), () => undefined);
  }

  /** Drops the credential and connection, so that the next request runs the exec plugin again. */
  private invalidate(): void {
    this.close();
    this.prepared = undefined;
  }

  /** --match-server-version: client-go compares the server's version with its own, field by field. */
  private async checkServerVersion(): Promise<void> {
    const res = await this.send({ method: 'GET', path: '/version', what: { verb: 'get', resource: 'version' } });
    const server = JSON.parse(res.body) as { gitVersion?: string };
    throw new CliError(`server version ${server.gitVersion ?? '(unknown)'} differs from client version kubectl-vm ${VERSION} (--match-server-version)`, 1, {
      hint: 'kubectl-vm has no Kubernetes version of its own, so no server matches it; leave out --match-server-version',
    });
  }

  private async wait(attempt: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    const ms = backoffDelay(attempt, this.backoff, retryAfterMs);
    this.options.log.debug(`retrying in ${ms}ms: ${why}`);
    await this.backoff.sleep(ms);
  }

  /** One attempt; `handedOff` runs once the whole request has been handed to the operating system. */
  private once(req: HttpRequest, prepared: Prepared, handedOff: () => void): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) query.set(k, v);
      const qs = query.toString();
      const headers: Record<string, string | string[]> = { ...prepared.headers, Accept: 'application/json' };
      if (req.body !== undefined) {
        headers['Content-Type'] = req.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(req.body));
      }
      const started = Date.now();
      this.requests++;
      const r = prepared.mod.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || undefined,
          path: `${this.url.pathname.replace(/\/+$/, '')}${req.path}${qs ? `?${qs}` : ''}`,
          method: req.method,
          headers,
          agent: prepared.agent,
        },
        (res) => {
          // Decoded as it arrives: a large list is never held as chunks, their concatenation and the string at once.
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(deadline);
            this.options.log.debug(`${req.method} ${this.server}${req.path}${qs ? `?${qs}` : ''} ${res.statusCode} in ${Date.now() - started}ms`);
            for (const w of warningsOf(res.headers)) {
              this.warnings++;
              this.options.log.warn(w);
            }
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
        },
      );
      // Like kubectl's --request-timeout (http.Client.Timeout): a deadline for the whole request, connection,
      // headers and body together, not an idle timeout that a server dripping bytes could keep at bay.
      const deadline =
        this.options.timeoutMs > 0
          ? setTimeout(() => {
              const e: NodeJS.ErrnoException = new Error(`the request did not complete within ${this.options.timeoutMs / 1000}s (--request-timeout)`);
              e.code = 'ETIMEDOUT';
              r.destroy(e);
            }, this.options.timeoutMs)
          : undefined;
      r.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
      r.on('finish', handedOff);
      r.end(req.body);
    });
  }

  /** Credentials, TLS settings and the proxy, worked out once per run (again when an exec credential expires). */
  private prepare(): Promise<Prepared> {
    if (this.prepared) {
      const current = this.prepared;
      return current.then((p) => {
        if (p.expiresAt === undefined || p.expiresAt > Date.now()) return p;
        this.options.log.debug('the exec credential expired: running the plugin again');
        this.invalidate();
        return this.prepare();
      });
    }
    this.prepared = (async () => {
      const { user } = this.config;
      const mod = this.url.protocol === 'http:' ? (await import('node:http')).default : (await import('node:https')).default;
      const creds = await this.credentials(user);
      const headers = { ...this.baseHeaders(), ...creds.headers, ...impersonationHeaders(user) };
      // proxy.ts (and node:net) loads here, on the first request, never for --help or a client-side dry run.
      const { proxyAgent, proxyFor } = await import('./proxy.ts');
      const proxy = proxyFor(this.url, this.config.cluster['proxy-url'], this.env);
      const tls = this.tlsOptions(creds.exec);
      let agent: http.Agent;
      if (proxy) {
        this.options.log.debug(`connecting through the proxy ${proxy.protocol}//${proxy.host}`);
        agent = await proxyAgent(proxy, this.url, tls);
      } else {
        agent = oneServer(this.url.protocol === 'http:' ? new mod.Agent({ keepAlive: true }) : new (mod as typeof https).Agent(tls));
      }
      return { agent, headers, mod, expiresAt: creds.exec?.expiresAt, proxy: proxy ? `${proxy.protocol}//${proxy.host}` : undefined };
    })();
    return this.prepared;
  }

  private baseHeaders(): Record<string, string> {
    return { 'User-Agent': `kubectl-vm/${VERSION} (${process.platform}/${process.arch})` };
  }

  private read(file: string | undefined, what: string): Buffer | undefined {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read the ${what} "${file}" named in your kubeconfig: ${(err as Error).message}`, {
        hint: 'fix the path in the kubeconfig, or use the *-data form of the field',
      });
    }
  }

  /** The Authorization header, in client-go's order: token, else token file; basic auth; exec plugin; auth-provider. */
  private async credentials(user: UserEntry): Promise<{ headers: Record<string, string>; exec?: ExecCredential }> {
    const headers: Record<string, string> = {};
    const token = user.token || this.read(user.tokenFile, 'token file')?.toString('utf8').trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (user.username || user.password) headers.Authorization = `Basic ${Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64')}`;
    if (user.exec) {
      const exec = await runExecPlugin(user.exec, {
        userName: this.config.userName,
        contextName: this.config.contextName,
        cluster: this.config.cluster,
        env: this.env,
        stdinIsTerminal: process.stdin.isTTY === true,
      });
      // A token from the kubeconfig or --token wins over the plugin's, as in client-go.
      if (exec.token && !headers.Authorization) headers.Authorization = `Bearer ${exec.token}`;
      return { headers, exec };
    }
    if (user['auth-provider'] && !headers.Authorization) {
      try {
        const { applyClientNodeAuth } = await loadClientNodeAuth();
        const result = await applyClientNodeAuth(this.config.minimal, false);
        if (result.headers.Authorization) headers.Authorization = result.headers.Authorization;
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new ConfigError(`cannot get credentials for user "${this.config.userName}" of context "${this.config.contextName}" from the auth-provider "${user['auth-provider'].name}": ${(err as Error).message}`, {
          hint: 'check the user entry of your kubeconfig, or log in again with your provider\'s tool',
          cause: err,
        });
      }
    }
    return { headers };
  }

  /** The server's CA, the client certificate (from the kubeconfig or an exec plugin) and the server name. */
  private tlsOptions(exec: ExecCredential | undefined): https.AgentOptions {
    const { cluster, user } = this.config;
    const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
    const ca = b64(cluster['certificate-authority-data']) ?? this.read(cluster['certificate-authority'], 'certificate authority');
    if (ca && !/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(ca.toString('latin1'))) {
      throw new ConfigError('unable to load root certificates: unable to parse bytes as PEM block', {
        hint: `certificate-authority${cluster['certificate-authority-data'] ? '-data' : ''} of cluster "${this.config.clusterName}" holds no PEM certificate; put the cluster's CA there (base64 of the PEM file for the -data form)`,
      });
    }
    const execCert = exec?.clientCertificateData ? { cert: Buffer.from(exec.clientCertificateData), key: Buffer.from(exec.clientKeyData ?? '') } : undefined;
    return {
      keepAlive: true,
      ca,
      cert: execCert?.cert ?? b64(user['client-certificate-data']) ?? this.read(user['client-certificate'], 'client certificate'),
      key: execCert?.key ?? b64(user['client-key-data']) ?? this.read(user['client-key'], 'client key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      servername: cluster['tls-server-name'],
    };
  }
}

/**
 * An agent that only ever connects to one API server with one set of TLS options: its pool of connections needs
 * no name per request (https.Agent's getName joins host, port, CA, certificate and key into a new string on every
 * request, converting the PEM buffers each time: a fleet's thousands of token requests paid for it).
 */
export function oneServer<A extends http.Agent>(agent: A): A {
  agent.getName = () => 'api-server';
  return agent;
}

/** client-go's impersonation headers, from as, as-uid, as-groups and as-user-extra (or --as, --as-uid, --as-group). */
export function impersonationHeaders(user: UserEntry): Record<string, string | string[]> {
  if (!user.as) return {};
  const headers: Record<string, string | string[]> = { 'Impersonate-User': user.as };
  if (user['as-uid']) headers['Impersonate-Uid'] = user['as-uid'];
  if (user['as-groups']?.length) headers['Impersonate-Group'] = user['as-groups'];
  for (const [key, values] of Object.entries(user['as-user-extra'] ?? {})) {
    headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = values;
  }
  return headers;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Server warnings (`Warning: 299 - "unknown field spec.foo"`), as kubectl prints them. */
function warningsOf(headers: http.IncomingHttpHeaders): string[] {
  const raw = headers.warning;
  if (!raw) return [];
  // The text is an RFC 7234 quoted-string: \" and \\ are escapes, as kubectl reads them.
  return (Array.isArray(raw) ? raw : raw.split(/,(?=\s*\d{3} )/)).map((w) => w.trim().replace(/^\d{3} \S+ "(.*)"$/, (_m: string, text: string) => text.replace(/\\(.)/g, '$1')));
}
