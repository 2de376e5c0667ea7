// HTTP(S) to the API server. Static credentials (bearer token, token file, basic auth, client certificates,
// impersonation) are applied here directly; exec credential plugins, auth-providers (oidc, azure, gcp) and
// proxy-url go through @kubernetes/client-node's own authenticators, which are loaded only for such kubeconfigs.
import fs from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import type { Logger } from '../output/logger.ts';
import type { LoadedKubeconfig } from './kubeconfig.ts';
import { apiError, statusFrom, transportError, type RequestDescription } from './errors.ts';
import { backoffDelay, defaultBackoff, isDroppedConnection, verdictForStatus, type BackoffPolicy } from './retry.ts';
import { ConfigError, InternalError } from '../errors.ts';
import { loadClientNodeAuth } from './client-node.ts';

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
  /** Per-request limit in milliseconds; 0 means none. */
  timeoutMs: number;
  log: Logger;
  backoff?: BackoffPolicy;
}

interface Prepared {
  agent: http.Agent;
  headers: Record<string, string>;
  /** node:http or node:https, loaded on the first request so that --help and validation never load TLS. */
  mod: typeof http | typeof https;
}

/** What KubeClient needs from a transport. */
export interface Sender {
  readonly server: string;
  /** Requests sent, retries included. */
  readonly requests: number;
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
  private readonly url: URL;
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
  }

  /** Sends a request, retrying 429, 5xx and dropped connections; returns the response of a 2xx, throws otherwise. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const what: RequestDescription = { ...req.what, server: this.server, context: this.config.contextName };
    const prepared = await this.prepare();
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.once(req, prepared);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Only failures of the connection carry an errno-style code; anything else is a bug of ours.
        if (typeof e.code !== 'string') throw new InternalError(`${req.method} ${req.path} failed: ${e.message}`, { cause: e });
        if (attempt < this.backoff.attempts && isDroppedConnection(e)) {
          await this.wait(attempt, undefined, `${req.method} ${req.path}: ${e.message}`);
          continue;
        }
        throw transportError(e, what, attempt);
      }
      if (res.status >= 200 && res.status < 300) return res;
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

  private async wait(attempt: number, retryAfterMs: number | undefined, why: string): Promise<void> {
    const ms = backoffDelay(attempt, this.backoff, retryAfterMs);
    this.options.log.debug(`retrying in ${ms}ms: ${why}`);
    await this.backoff.sleep(ms);
  }

  private once(req: HttpRequest, prepared: Prepared): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) query.set(k, v);
      const qs = query.toString();
      const headers: Record<string, string> = { ...prepared.headers, Accept: 'application/json' };
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
            this.options.log.debug(`${req.method} ${this.server}${req.path}${qs ? `?${qs}` : ''} ${res.statusCode} in ${Date.now() - started}ms`);
            for (const w of warningsOf(res.headers)) this.options.log.warn(w);
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
        },
      );
      if (this.options.timeoutMs > 0) {
        r.setTimeout(this.options.timeoutMs, () => {
          const e: NodeJS.ErrnoException = new Error(`no answer within ${this.options.timeoutMs / 1000}s (--request-timeout)`);
          e.code = 'ETIMEDOUT';
          r.destroy(e);
        });
      }
      r.on('error', reject);
      r.end(req.body);
    });
  }

  /** Credentials and TLS settings, worked out once per run. */
  private prepare(): Promise<Prepared> {
    this.prepared ??= (async () => {
      const { user } = this.config;
      const mod = this.url.protocol === 'http:' ? (await import('node:http')).default : (await import('node:https')).default;
      if (!user.exec && !user['auth-provider'] && !this.config.cluster['proxy-url']) return this.staticAuth(mod);
      try {
        return await this.viaClientNode(mod);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof InternalError) throw err;
        const how = user.exec ? `the exec credential plugin "${user.exec.command}"` : user['auth-provider'] ? `the auth-provider "${user['auth-provider'].name}"` : 'the proxy';
        throw new ConfigError(`cannot get credentials for user "${this.config.userName}" of context "${this.config.contextName}" from ${how}: ${(err as Error).message}`, {
          hint: user.exec ? `run ${user.exec.command} yourself to see why it fails, or check the user's exec section in your kubeconfig` : 'check the user and cluster entries of your kubeconfig',
          cause: err,
        });
      }
    })();
    return this.prepared;
  }

  private baseHeaders(): Record<string, string> {
    return { 'User-Agent': `kubectl-vm/${VERSION} (${process.platform}/${process.arch})` };
  }

  private staticAuth(mod: typeof http | typeof https): Prepared {
    const { cluster, user } = this.config;
    const headers = this.baseHeaders();
    const read = (file: string | undefined, what: string) => {
      if (!file) return undefined;
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new ConfigError(`cannot read the ${what} "${file}" named in your kubeconfig: ${(err as Error).message}`, {
          hint: 'fix the path in the kubeconfig, or use the *-data form of the field',
        });
      }
    };
    const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
    const token = user.token ?? read(user.tokenFile, 'token file')?.toString('utf8').trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (user.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    if (user.as) headers['Impersonate-User'] = user.as;
    const tls: https.AgentOptions = {
      keepAlive: true,
      ca: b64(cluster['certificate-authority-data']) ?? read(cluster['certificate-authority'], 'certificate authority'),
      cert: b64(user['client-certificate-data']) ?? read(user['client-certificate'], 'client certificate'),
      key: b64(user['client-key-data']) ?? read(user['client-key'], 'client key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
      servername: cluster['tls-server-name'],
    };
    const agent = this.url.protocol === 'http:' ? new mod.Agent({ keepAlive: true }) : new (mod as typeof https).Agent(tls);
    return { agent, headers, mod };
  }

  private async viaClientNode(mod: typeof http | typeof https): Promise<Prepared> {
    const { applyClientNodeAuth } = await loadClientNodeAuth();
    const result = await applyClientNodeAuth(this.config.minimal, this.url.protocol === 'https:');
    const headers = { ...this.baseHeaders(), ...result.headers };
    const agent = result.agent ?? new mod.Agent({ keepAlive: true });
    return { agent, headers, mod };
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Server warnings (`Warning: 299 - "unknown field spec.foo"`), as kubectl prints them. */
function warningsOf(headers: http.IncomingHttpHeaders): string[] {
  const raw = headers.warning;
  if (!raw) return [];
  return (Array.isArray(raw) ? raw : raw.split(/,(?=\s*\d{3} )/)).map((w) => w.trim().replace(/^\d{3} \S+ "(.*)"$/, '$1'));
}
