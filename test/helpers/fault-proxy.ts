// A fault-injecting HTTPS reverse proxy in front of any API server, the test API server or a real one: the same
// faults as the test API server's (test/apiserver/server.ts), so that a real-cluster scenario can lose the answer
// to a write that the real kube-apiserver committed and see what it really answers to the retry. It listens on
// 127.0.0.1 with the test CA's server certificate and forwards each request with the caller's headers (the bearer
// token) to the upstream named in a kubeconfig, trusting that kubeconfig's CA and presenting its client
// certificate, if any.
import fs from 'node:fs';
import https from 'node:https';
import type http from 'node:http';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import yaml from 'js-yaml';
import type { Fault } from '../apiserver/server.ts';
import { ROOT } from './run.ts';

const TLS = path.join(ROOT, 'test/fixtures/tls');
const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);

interface Armed extends Fault {
  seen: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  fault?: string;
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  url = '';
  private readonly faults: Armed[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;
  private readonly agent: https.Agent;

  private constructor(
    private readonly kubeconfig: Record<string, any>,
    private readonly server: https.Server,
  ) {
    const ctx = kubeconfig.contexts.find((c: any) => c.name === kubeconfig['current-context']).context;
    const cluster = kubeconfig.clusters.find((c: any) => c.name === ctx.cluster).cluster;
    const user = kubeconfig.users.find((u: any) => u.name === ctx.user)?.user ?? {};
    this.upstream = new URL(cluster.server);
    this.agent = new https.Agent({
      keepAlive: true,
      ca: b64(cluster['certificate-authority-data']) ?? (cluster['certificate-authority'] ? fs.readFileSync(cluster['certificate-authority']) : undefined),
      cert: b64(user['client-certificate-data']),
      key: b64(user['client-key-data']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    });
  }

  /** A proxy for the cluster of the kubeconfig in `file`. */
  static async start(file: string): Promise<FaultProxy> {
    const kubeconfig = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, any>;
    const server = https.createServer({ key: fs.readFileSync(path.join(TLS, 'server.key')), cert: fs.readFileSync(path.join(TLS, 'server.crt')) });
    const proxy = new FaultProxy(kubeconfig, server);
    server.on('request', (req, res) => void proxy.handle(req, res));
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** The upstream kubeconfig with its cluster pointed at this proxy (and the test CA); its users as they are. */
  writeKubeconfig(file: string): string {
    const copy = structuredClone(this.kubeconfig);
    for (const c of copy.clusters) c.cluster = { server: this.url, 'certificate-authority-data': fs.readFileSync(path.join(TLS, 'ca.crt')).toString('base64') };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, yaml.dump(copy), { mode: 0o600 });
    return file;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, seen: 0 });
  }

  clear(): void {
    this.faults.length = 0;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private match(method: string, p: string): Armed | undefined {
    let chosen: Armed | undefined;
    for (const f of this.faults) {
      if (f.method && f.method !== method) continue;
      if (f.path instanceof RegExp ? !f.path.test(p) : f.path !== undefined && f.path !== p) continue;
      f.seen++;
      const first = f.nth ?? 1;
      if (!chosen && f.seen >= first && f.seen < first + (f.times ?? 1)) chosen = f;
    }
    return chosen;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'https://proxy');
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    this.requests.push(record);
    const fault = this.match(record.method, record.path);
    if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault?.drop) {
      record.fault = 'drop';
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      record.fault = `status ${fault.status}`;
      record.status = fault.status;
      const text = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server is currently unable to handle the request', reason: 'ServiceUnavailable', code: fault.status });
      res.writeHead(fault.status, { 'Content-Type': 'application/json', ...(fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}) });
      res.end(text);
      return;
    }
    const headers = { ...req.headers, host: this.upstream.host };
    const upstream = https.request(
      { protocol: 'https:', hostname: this.upstream.hostname, port: this.upstream.port, path: `${this.upstream.pathname.replace(/\/+$/, '')}${req.url}`, method: req.method, headers, agent: this.agent },
      (up) => {
        const out: Buffer[] = [];
        up.on('data', (c: Buffer) => out.push(c));
        up.on('end', () => {
          record.status = up.statusCode ?? 0;
          if (fault?.dropAfterCommit) {
            record.fault = 'drop after commit';
            req.socket.destroy();
            return;
          }
          const { connection: _c, 'transfer-encoding': _t, 'keep-alive': _k, ...rest } = up.headers;
          res.writeHead(up.statusCode ?? 502, rest);
          res.end(Buffer.concat(out));
        });
      },
    );
    upstream.on('error', (err) => {
      record.status = 502;
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`fault proxy: ${err.message}`);
    });
    upstream.end(body);
  }
}
