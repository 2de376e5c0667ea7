// Which proxy a request to the API server goes through, by client-go's rules:
// - a cluster's proxy-url wins, and is used for every address (loopback too);
// - otherwise Go's http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy): HTTPS_PROXY/https_proxy for an
//   https server, HTTP_PROXY/http_proxy for an http one (upper case first); a value without a known scheme means
//   http://; localhost and loopback addresses never go through a proxy; NO_PROXY/no_proxy lists "*", IP
//   addresses, CIDRs and domain names, each optionally with a port ("foo.com" matches it and its subdomains,
//   ".foo.com" and "*.foo.com" only the subdomains).
// No npm package follows these rules (proxy-from-env has no CIDRs and proxies loopback), so the choice is ours;
// the tunnel itself is hpagent (http/https proxies) or client-node's socks-proxy-agent (socks5), loaded only
// when a proxy applies.
import net from 'node:net';
import type http from 'node:http';
import type https from 'node:https';
import { ConfigError } from '../errors.ts';

const SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:'];

/** The proxy for a request to `server`, or undefined to connect directly. */
export function proxyFor(server: URL, proxyUrl: string | undefined, env: Readonly<Record<string, string | undefined>>): URL | undefined {
  if (proxyUrl) {
    let u: URL;
    try {
      u = new URL(proxyUrl);
    } catch {
      throw new ConfigError(`invalid 'proxy-url' "${proxyUrl}": not a URL`, { hint: 'write it as http://host:port, https://host:port or socks5://host:port' });
    }
    if (!['http:', 'https:', 'socks5:'].includes(u.protocol)) {
      throw new ConfigError(`invalid 'proxy-url' "${proxyUrl}": proxy URL scheme ${u.protocol.slice(0, -1)} not supported`, { hint: 'use an http, https or socks5 proxy' });
    }
    return u;
  }
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const raw = server.protocol === 'https:' ? pick('HTTPS_PROXY', 'https_proxy') : server.protocol === 'http:' ? pick('HTTP_PROXY', 'http_proxy') : undefined;
  if (!raw) return undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = server.port || (server.protocol === 'https:' ? '443' : '80');
  if (!useProxy(host, port, pick('NO_PROXY', 'no_proxy') ?? '')) return undefined;
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (!u || !SCHEMES.includes(u.protocol) || !u.host) {
    try {
      u = new URL(`http://${raw}`);
    } catch {
      throw new ConfigError(`invalid proxy address "${raw}" in $${server.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}`, { hint: 'write it as http://host:port' });
    }
  }
  return u;
}

/** httpproxy's useProxy: false for loopback and for anything NO_PROXY matches. */
export function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ipVersion = net.isIP(host);
  if (ipVersion && isLoopback(host)) return false;
  for (const entry of noProxy.split(',').map((p) => p.trim().toLowerCase())) {
    if (entry === '') continue;
    if (entry === '*') return false;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && net.isIP(cidr[1]!)) {
      if (ipVersion && inCidr(host, cidr[1]!, Number(cidr[2]))) return false;
      continue;
    }
    const { host: h, port: p } = splitHostPort(entry);
    if (net.isIP(h)) {
      if (ipVersion && sameIp(h, host) && (p === '' || p === port)) return false;
      continue;
    }
    if (h === '') continue;
    let domain = h.startsWith('*.') ? h.slice(1) : h;
    const matchHost = !domain.startsWith('.');
    if (matchHost) domain = `.${domain}`;
    if ((host.endsWith(domain) || (matchHost && host === domain.slice(1))) && (p === '' || p === port)) return false;
  }
  return true;
}

function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  return m ? { host: m[1]!, port: m[2]! } : { host: entry, port: '' };
}

function isLoopback(ip: string): boolean {
  if (net.isIPv4(ip)) return ip.startsWith('127.');
  const bytes = ipBytes(ip);
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes[12] === 127;
  return bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1;
}

function sameIp(a: string, b: string): boolean {
  return Buffer.compare(ipBytes(a), ipBytes(b)) === 0;
}

function inCidr(ip: string, base: string, bits: number): boolean {
  const a = ipBytes(ip);
  const b = ipBytes(base);
  // An IPv4 CIDR matches IPv4 addresses (and their IPv4-mapped IPv6 form), an IPv6 one matches IPv6 addresses.
  const offset = net.isIPv4(base) ? 12 : 0;
  if (net.isIPv4(base) && !(a.slice(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff)) return false;
  if (!net.isIPv4(base) && net.isIPv4(ip)) return false;
  for (let i = 0; i < bits; i++) {
    const byte = offset + (i >> 3);
    const mask = 0x80 >> (i & 7);
    if ((a[byte]! & mask) !== (b[byte]! & mask)) return false;
  }
  return true;
}

/** 16 bytes; IPv4 addresses in their IPv4-mapped IPv6 form. */
function ipBytes(ip: string): Buffer {
  const out = Buffer.alloc(16);
  if (net.isIPv4(ip)) {
    out[10] = 0xff;
    out[11] = 0xff;
    ip.split('.').forEach((o, i) => (out[12 + i] = Number(o)));
    return out;
  }
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const parts = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** A proxy failure as a connection error (with a code), so that it is reported as "cannot reach", not as a bug. */
function withCode(err: Error | null): Error | null {
  if (err && typeof (err as NodeJS.ErrnoException).code !== 'string') {
    const status = /^Bad response: (\d+)/.exec(err.message)?.[1];
    (err as NodeJS.ErrnoException).code = 'EPROXY';
    if (status) err.message = `the proxy refused the tunnel with HTTP ${status}${status === '407' ? ' (Proxy Authentication Required: check the user:password in the proxy address)' : ''}`;
  }
  return err;
}

/**
 * An agent that reaches the API server through `proxy`. It keeps one connection (one CONNECT tunnel) and
 * reuses it for every request of the run, as kubectl's single HTTP/2 connection does.
 */
export async function proxyAgent(proxy: URL, server: URL, tls: https.AgentOptions): Promise<http.Agent> {
  const options = { ...tls, keepAlive: true, maxSockets: 1 };
  if (proxy.protocol.startsWith('socks')) {
    const { loadClientNodeAuth } = await import('./client-node.ts');
    const { socksAgent } = await loadClientNodeAuth();
    return socksAgent(proxy.href.replace(/^socks5h?:/, 'socks5h:'), options);
  }
  const { HttpsProxyAgent, HttpProxyAgent } = await import('hpagent');
  const agent = server.protocol === 'https:' ? new HttpsProxyAgent({ ...options, proxy }) : new HttpProxyAgent({ ...options, proxy });
  type Connect = (o: unknown, cb: (err: Error | null, s?: unknown) => void) => void;
  const tunnel = agent as unknown as { createConnection: Connect };
  const connect = tunnel.createConnection.bind(agent);
  tunnel.createConnection = (o, cb) => connect(o, (err, s) => cb(withCode(err), s));
  return agent;
}
