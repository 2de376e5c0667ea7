// ~/.ssh/config for a host alias, read with the maintained `ssh-config` parser (not by hand): HostName, User,
// Port, IdentityFile, ProxyJump (one or more hops, each itself looked up) and UserKnownHostsFile. Read once per
// run. ssh's own precedence applies: the first value given for a host wins, and `Host *` comes last in practice.
import fs from 'node:fs';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import type { PluginContext } from '../cli/plugin.ts';
import { DataError } from '../errors.ts';

export interface JumpHost {
  host: string;
  port?: number;
  user?: string;
  identityFiles: string[];
}

export interface SshConfigLookup {
  /** HostName, or the alias itself. */
  hostName: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  knownHostsFiles: string[];
  /** ProxyJump's hops, in order (the first is connected to directly). */
  jumps: JumpHost[];
}

const cache = new Map<string, SSHConfig | undefined>();

function configFor(home: string): SSHConfig | undefined {
  const file = path.join(home, '.ssh', 'config');
  if (!cache.has(file)) {
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    try {
      cache.set(file, text === undefined ? undefined : SSHConfig.parse(text));
    } catch (err) {
      throw new DataError(`cannot parse ${file}: ${(err as Error).message}`, { hint: 'check it with: ssh -G <host>' });
    }
  }
  return cache.get(file);
}

const expand = (p: string, home: string) => (p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p);

function get(computed: Record<string, string | string[]>, key: string): string[] {
  const k = Object.keys(computed).find((x) => x.toLowerCase() === key.toLowerCase());
  if (!k) return [];
  const v = computed[k]!;
  return Array.isArray(v) ? v : [v];
}

function parsePort(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new DataError(`${where}: invalid Port "${value}" in ~/.ssh/config`, { hint: 'expected 1 to 65535' });
  return n;
}

/** `[user@]host[:port]` as ProxyJump writes a hop. */
function parseHop(spec: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new DataError(`invalid ProxyJump hop "${spec}" in ~/.ssh/config`, { hint: 'expected [user@]host[:port], comma-separated' });
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port: parsePort(m[3], spec) };
}

function lookup(config: SSHConfig | undefined, alias: string, home: string): Omit<SshConfigLookup, 'jumps'> & { proxyJump?: string } {
  const c = config ? (config.compute(alias) as Record<string, string | string[]>) : {};
  const proxyJump = get(c, 'ProxyJump')[0];
  return {
    hostName: get(c, 'HostName')[0] ?? alias,
    user: get(c, 'User')[0],
    port: parsePort(get(c, 'Port')[0], alias),
    identityFiles: get(c, 'IdentityFile').map((f) => expand(f, home)),
    knownHostsFiles: get(c, 'UserKnownHostsFile').flatMap((f) => f.split(/\s+/)).filter((f) => f && f !== 'none').map((f) => expand(f, home)),
    proxyJump: proxyJump && proxyJump.toLowerCase() !== 'none' ? proxyJump : undefined,
  };
}

/** What ~/.ssh/config says about `alias`; without a config file, the alias as it is. */
export function resolveHost(ctx: Pick<PluginContext, 'home'>, alias: string): SshConfigLookup {
  const config = configFor(ctx.home);
  const own = lookup(config, alias, ctx.home);
  const jumps: JumpHost[] = [];
  for (const hop of own.proxyJump ? own.proxyJump.split(',') : []) {
    const h = parseHop(hop);
    const c = lookup(config, h.host, ctx.home);
    jumps.push({ host: c.hostName, port: h.port ?? c.port, user: h.user ?? c.user, identityFiles: c.identityFiles });
  }
  const { proxyJump: _p, ...rest } = own;
  return { ...rest, jumps };
}
