// The parity suite's machinery: the cluster both programs talk to (the test API server, or a real one in the
// real-cluster lane), the small loopback servers some cases need (an HTTP CONNECT proxy, a server that drips
// one byte at a time, a Rancher-style path-prefix front), certificates minted with openssl, and the classes of
// outcome both programs' results are compared by.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import { TestApiServer } from '../apiserver/server.ts';
import { REAL_CLUSTER_KUBECONFIG } from './cluster.ts';
import { DIST, ROOT } from './run.ts';
import { tempDir } from './tmp.ts';

export type Outcome = 'ok' | 'unauthorized' | 'forbidden' | 'config' | 'tls' | 'unreachable' | 'timeout' | 'usage' | 'version' | 'hang' | 'other';

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  outcome: Outcome;
}

const FIXTURE_TLS = path.join(ROOT, 'test/fixtures/tls');
export const TEST_CA = fs.readFileSync(path.join(FIXTURE_TLS, 'ca.crt'));
const SERVER_CERT = { key: fs.readFileSync(path.join(FIXTURE_TLS, 'server.key')), cert: fs.readFileSync(path.join(FIXTURE_TLS, 'server.crt')) };

// ---------------------------------------------------------------------------------------------------------------
// Outcome classes

/** kubectl's result, by its exit code and the words client-go and kubectl use. */
export function classifyKubectl(code: number, stderr: string): Outcome {
  if (code === 0) return 'ok';
  if (/unknown (flag|shorthand)/.test(stderr)) return 'usage';
  if (/server version .* differs from client version/s.test(stderr)) return 'version';
  if (/Client\.Timeout|context deadline exceeded|i\/o timeout|timeout awaiting/.test(stderr)) return 'timeout';
  if (/must be logged in|Unauthorized|provide credentials/.test(stderr)) return 'unauthorized';
  if (/forbidden/i.test(stderr) && !/not allowed/.test(stderr)) return 'forbidden';
  // A 403 on discovery (GET /api) is what kubectl prints as "unknown" (-v=6 shows "GET …/api 403 Forbidden").
  if (/server API group list: unknown|failed to download openapi: unknown/.test(stderr)) return 'forbidden';
  if (/x509:|tls: /.test(stderr)) return 'tls';
  if (/executable .* not found|invalid configuration|must be specified|is not allowed|invalid apiVersion|without impersonating a user|unable to load root certificates|more than one authentication method|both specified|unable to read|interactive mode|no configuration has been provided|does not exist/.test(stderr)) return 'config';
  if (/Unable to connect|connection refused|no such host|dial tcp|proxyconnect|EOF/.test(stderr)) return 'unreachable';
  return 'other';
}

/** kubectl-vm's result, by its exit codes (sysexits) and its message forms. */
export function classifyVm(code: number, stderr: string): Outcome {
  if (code === 0) return 'ok';
  const first = /^error: (.*)$/m.exec(stderr)?.[1] ?? '';
  if (code === 64) return 'usage';
  if (code === 77) return /rejected the credentials/.test(first) ? 'unauthorized' : 'forbidden';
  if (code === 69) {
    if (!/^cannot reach/.test(first)) return 'config';
    if (/did not complete within/.test(first)) return 'timeout';
    if (/certificate|TLS|self.signed|altname/i.test(first)) return 'tls';
    return 'unreachable';
  }
  if (code === 1 && /server version .* differs from client version/.test(first)) return 'version';
  return 'other';
}

// ---------------------------------------------------------------------------------------------------------------
// Running a program on a case

export interface RunSpec {
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Leave stdin an open pipe (as a terminal-less parent would), to catch a plugin that waits on it. */
  openStdin?: boolean;
  timeoutMs?: number;
}

export function runProgram(command: string, spec: RunSpec, classify: (code: number, stderr: string) => Outcome): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, spec.args, { env: spec.env as NodeJS.ProcessEnv, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    if (!spec.openStdin) child.stdin.end();
    const timer = setTimeout(() => {
      hung = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, spec.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (spec.openStdin) child.stdin.destroy();
      const c = code ?? 137;
      resolve({ code: c, stdout, stderr, ms: Date.now() - started, outcome: hung ? 'hang' : classify(c, stderr) });
    });
  });
}

export const KUBECTL_VM = path.join(DIST, 'kubectl-vm-add_to_mesh');

// ---------------------------------------------------------------------------------------------------------------
// Certificates

export interface Pem {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

export const hasOpenssl = () => spawnSync('openssl', ['version']).status === 0;

/** A throw-away CA for client certificates. */
export function makeCa(dir: string): { cert: string; keyFile: string; certFile: string } {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=kubectl-vm-parity-ca', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  return { cert: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'), keyFile: path.join(dir, 'ca.key'), certFile: path.join(dir, 'ca.crt') };
}

/** A client certificate for CN=user, O=group, with an RSA, EC P-256 or Ed25519 key, signed by the CA. */
export function clientCert(ca: { keyFile: string; certFile: string }, kind: 'rsa' | 'ec' | 'ed25519', user: string, group: string): Pem {
  const dir = tempDir('kubectl-vm-parity-cert-');
  const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'ed25519'];
  openssl(['req', ...keyArgs, '-nodes', '-subj', `/O=${group}/CN=${user}`, '-keyout', 'c.key', '-out', 'c.csr'], dir);
  fs.writeFileSync(path.join(dir, 'ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', 'c.csr', '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '1', '-extfile', 'ext', '-out', 'c.crt'], dir);
  return { cert: fs.readFileSync(path.join(dir, 'c.crt'), 'utf8'), key: fs.readFileSync(path.join(dir, 'c.key'), 'utf8') };
}

// ---------------------------------------------------------------------------------------------------------------
// The cluster

export interface ParityCluster {
  kind: 'test API server' | 'real kube-apiserver';
  server: string;
  ca: Buffer;
  adminToken: string;
  namespace: string;
  /** A token of a service account that may get, list and create Services in `namespace`, nothing else. */
  limitedToken: string;
  /** A service-account token whose expiry has passed. */
  expiredToken: string;
  /** Signs client certificates the cluster trusts; undefined when the CA key is not at hand. */
  signer?: { keyFile: string; certFile: string };
  /** Counts the TCP connections the test API server accepted (undefined on a real cluster). */
  connections?: () => number;
  close(): Promise<void>;
}

function b64url(v: Buffer | string): string {
  return Buffer.from(v).toString('base64url');
}

async function kubectlAdmin(kubeconfig: string, args: string[]): Promise<string> {
  const r = await runProgram('kubectl', { args: ['--kubeconfig', kubeconfig, ...args], env: { PATH: process.env.PATH, HOME: tempDir() }, cwd: ROOT }, classifyKubectl);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startParityCluster(): Promise<ParityCluster> {
  const namespace = `parity-${crypto.randomBytes(3).toString('hex')}`;
  if (REAL_CLUSTER_KUBECONFIG) {
    const kc = yaml.load(fs.readFileSync(REAL_CLUSTER_KUBECONFIG, 'utf8')) as any;
    const ctx = kc.contexts.find((c: any) => c.name === kc['current-context']).context;
    const cluster = kc.clusters.find((c: any) => c.name === ctx.cluster).cluster;
    const user = kc.users.find((u: any) => u.name === ctx.user).user;
    const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64') : fs.readFileSync(cluster['certificate-authority']);
    const admin = (args: string[]) => kubectlAdmin(REAL_CLUSTER_KUBECONFIG!, args);
    await admin(['create', 'namespace', namespace]);
    await admin(['-n', namespace, 'create', 'serviceaccount', 'limited']);
    await admin(['-n', namespace, 'create', 'role', 'services-only', '--verb=get,list,create', '--resource=services']);
    await admin(['-n', namespace, 'create', 'rolebinding', 'limited', '--role=services-only', `--serviceaccount=${namespace}:limited`]);
    const limitedToken = await admin(['-n', namespace, 'create', 'token', 'limited', '--duration=1h']);
    // realapi keeps its keys beside the kubeconfig ($REALAPI_DIR/pki): sign an expired token and client certificates.
    const pki = path.join(path.dirname(REAL_CLUSTER_KUBECONFIG), 'pki');
    const signer = fs.existsSync(path.join(pki, 'ca.key')) ? { keyFile: path.join(pki, 'ca.key'), certFile: path.join(pki, 'ca.crt') } : undefined;
    const claims = JSON.parse(Buffer.from(limitedToken.split('.')[1]!, 'base64url').toString('utf8'));
    const past = Math.floor(Date.now() / 1000) - 7200;
    const body = `${b64url(JSON.stringify({ alg: 'RS256', kid: JSON.parse(Buffer.from(limitedToken.split('.')[0]!, 'base64url').toString('utf8')).kid }))}.${b64url(JSON.stringify({ ...claims, iat: past, nbf: past, exp: past + 3600 }))}`;
    const saKey = path.join(pki, 'sa.key');
    const signature = fs.existsSync(saKey) ? crypto.sign('sha256', Buffer.from(body), fs.readFileSync(saKey)) : crypto.randomBytes(256);
    return {
      kind: 'real kube-apiserver',
      server: cluster.server.replace(/\/+$/, ''),
      ca,
      adminToken: user.token,
      namespace,
      limitedToken,
      expiredToken: `${body}.${b64url(signature)}`,
      signer,
      async close() {
        await admin(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
      },
    };
  }
  const dir = tempDir('kubectl-vm-parity-ca-');
  const ca = hasOpenssl() ? makeCa(dir) : undefined;
  const server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }], clientCa: ca ? Buffer.from(ca.cert) : undefined });
  server.grant({ user: `system:serviceaccount:${namespace}:limited`, verbs: ['get', 'list', 'create'], resources: ['services'], namespace });
  return {
    kind: 'test API server',
    server: server.url,
    ca: TEST_CA,
    adminToken: server.token!,
    namespace,
    limitedToken: server.serviceAccountToken(namespace, 'limited', 3600),
    expiredToken: server.serviceAccountToken(namespace, 'limited', -3600),
    signer: ca,
    connections: () => server.connections,
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loopback servers

export interface LoopbackServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function closer(server: net.Server, sockets: Set<net.Socket>) {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

export interface Proxy extends LoopbackServer {
  /** CONNECT requests per client process is what kubectl's single tunnel is compared by. */
  connects: number;
  reset(): void;
}

/**
 * An HTTP CONNECT proxy on loopback. Any host name it is asked for is the API server (`upstream`), so that a
 * kubeconfig can name a server that only the proxy knows; it never connects anywhere but 127.0.0.1.
 */
export async function startProxy(upstream: URL, options: { auth?: string } = {}): Promise<Proxy> {
  const server = http.createServer((_req, res) => {
    res.writeHead(405).end();
  });
  const sockets = track(server);
  const state = { connects: 0 };
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    state.connects++;
    if (options.auth && req.headers['proxy-authorization'] !== `Basic ${Buffer.from(options.auth).toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="parity"\r\n\r\n');
      return;
    }
    const port = Number(/:(\d+)$/.exec(req.url ?? '')?.[1] ?? upstream.port);
    const target = net.connect(port === Number(upstream.port) ? port : Number(upstream.port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) target.write(head);
      target.pipe(client);
      client.pipe(target);
    });
    target.on('error', () => client.destroy());
    client.on('error', () => target.destroy());
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connects() {
      return state.connects;
    },
    reset() {
      state.connects = 0;
    },
    close: closer(server, sockets),
  };
}

/** An HTTPS server (the test CA's certificate) that answers 200 and then sends one byte every 400 ms, forever. */
export async function startDripServer(): Promise<LoopbackServer> {
  const timers = new Set<NodeJS.Timeout>();
  const server = https.createServer(SERVER_CERT, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{');
    const t = setInterval(() => res.write(' '), 400);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  const sockets = track(server);
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () => {
      for (const t of timers) clearInterval(t);
      return close();
    },
  };
}

/**
 * A Rancher-style front: https://127.0.0.1:<port>/k8s/clusters/c-parity/… is forwarded to the API server with
 * the prefix cut off, credentials and all. Its own certificate is the test CA's.
 */
export async function startPrefixFront(upstream: URL, upstreamCa: Buffer, prefix: string): Promise<LoopbackServer> {
  const server = https.createServer(SERVER_CERT, (req, res) => {
    if (!req.url?.startsWith(prefix + '/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found (outside the cluster prefix)\n');
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    const out = https.request({ host: '127.0.0.1', port: upstream.port, path: req.url.slice(prefix.length), method: req.method, headers, ca: upstreamCa, servername: 'localhost' }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  const sockets = track(server);
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}${prefix}`, port, close: closer(server, sockets) };
}

