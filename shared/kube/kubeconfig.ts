// Loads kubeconfig the way kubectl does (client-go's clientcmd loading rules):
// - --kubeconfig names exactly one file, which must exist;
// - otherwise every file in $KUBECONFIG (':'-separated; missing ones are skipped) is merged, and for every value
//   and every named cluster/user/context the first file that sets it wins;
// - otherwise ~/.kube/config; otherwise the in-cluster service account; otherwise a ConfigError. We never fall
//   back to http://localhost:8080 as @kubernetes/client-node's loadFromDefault() does.
// Relative file paths inside a kubeconfig are resolved against the directory of the file that holds them.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.ts';

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface KubeconfigEnv {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
}

/** A cluster entry, in kubeconfig's own field names. */
export interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  [key: string]: unknown;
}

/** A user entry, in kubeconfig's own field names. */
export interface UserEntry {
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  as?: string;
  'as-groups'?: string[];
  exec?: { command?: string; [key: string]: unknown };
  'auth-provider'?: { name?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface LoadedKubeconfig {
  /** The files that were merged, or ["in-cluster"]. */
  sources: string[];
  contextName: string;
  clusterName: string;
  userName: string;
  cluster: ClusterEntry;
  user: UserEntry;
  /** The effective namespace, and where it came from. */
  namespace: string;
  namespaceSource: 'flag' | 'context' | 'default';
  /** A kubeconfig holding only the selected context, for @kubernetes/client-node's authenticators. */
  minimal: Record<string, unknown>;
}

interface Named<T> {
  name: string;
  value: T;
}
interface ContextEntry {
  cluster?: string;
  user?: string;
  namespace?: string;
}
interface Merged {
  currentContext?: string;
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, ContextEntry>;
}

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Which kubeconfig files would be read, in order. Does not read them. */
export function kubeconfigFiles(flags: KubeconfigFlags, io: KubeconfigEnv): { files: string[]; explicit: boolean } {
  if (flags.kubeconfig) return { files: [path.resolve(expandHome(flags.kubeconfig, io.home))], explicit: true };
  const fromEnv = io.env.KUBECONFIG;
  if (fromEnv) {
    const files = [...new Set(fromEnv.split(path.delimiter).filter((f) => f !== '').map((f) => path.resolve(expandHome(f, io.home))))];
    return { files, explicit: false };
  }
  return { files: [path.join(io.home, '.kube', 'config')], explicit: false };
}

/** True when some kubeconfig (or the in-cluster service account) is there to be loaded. */
export function hasKubeconfig(flags: KubeconfigFlags, io: KubeconfigEnv): boolean {
  const { files, explicit } = kubeconfigFiles(flags, io);
  return explicit || files.some((f) => fs.existsSync(f)) || inClusterAvailable(io);
}

export function loadKubeconfig(flags: KubeconfigFlags, io: KubeconfigEnv): LoadedKubeconfig {
  const { files, explicit } = kubeconfigFiles(flags, io);
  if (explicit && !fs.existsSync(files[0]!)) {
    throw new ConfigError(`the kubeconfig file "${flags.kubeconfig}" does not exist`, {
      hint: 'pass the path of an existing kubeconfig with --kubeconfig, or leave the flag out to use $KUBECONFIG or ~/.kube/config',
    });
  }
  const existing = files.filter((f) => fs.existsSync(f));
  if (existing.length === 0) {
    if (inClusterAvailable(io)) return loadInCluster(flags, io);
    const where = io.env.KUBECONFIG ? `$KUBECONFIG (${io.env.KUBECONFIG})` : `$KUBECONFIG (unset) and ${files[0]}`;
    throw new ConfigError(`no kubeconfig found: looked at ${where}`, {
      hint: 'point --kubeconfig or $KUBECONFIG at your cluster\'s kubeconfig; "kubectl config view" shows what kubectl sees',
    });
  }
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of existing) mergeFile(merged, file);
  return select(merged, existing, flags);
}

/** The context names of the merged kubeconfig files (for shell completion); none when there is no kubeconfig. */
export function contextNames(flags: KubeconfigFlags, io: KubeconfigEnv): string[] {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of kubeconfigFiles(flags, io).files.filter((f) => fs.existsSync(f))) mergeFile(merged, file);
  return [...merged.contexts.keys()];
}

function mergeFile(merged: Merged, file: string): void {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'fix the file, or point --kubeconfig at another one',
      cause: err,
    });
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`kubeconfig ${file} is not a kubeconfig: expected a mapping with clusters, users and contexts`);
  }
  const d = doc as Record<string, unknown>;
  const dir = path.dirname(file);
  if (!merged.currentContext && typeof d['current-context'] === 'string' && d['current-context'] !== '') {
    merged.currentContext = d['current-context'];
  }
  for (const c of namedList<ClusterEntry>(d.clusters, 'cluster', file)) {
    if (!merged.clusters.has(c.name)) merged.clusters.set(c.name, resolvePaths(c.value, dir, ['certificate-authority']));
  }
  for (const u of namedList<UserEntry>(d.users, 'user', file)) {
    if (!merged.users.has(u.name)) merged.users.set(u.name, resolveUserPaths(u.value, dir));
  }
  for (const c of namedList<ContextEntry>(d.contexts, 'context', file)) {
    if (!merged.contexts.has(c.name)) merged.contexts.set(c.name, c.value);
  }
}

function namedList<T>(list: unknown, field: string, file: string): Named<T>[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ConfigError(`kubeconfig ${file}: "${field}s" must be a list`);
  return list.map((item, i) => {
    const name = item?.name;
    if (typeof name !== 'string' || name === '') throw new ConfigError(`kubeconfig ${file}: ${field}s[${i}] has no name`);
    return { name, value: { ...((item[field] ?? {}) as T) } };
  });
}

function resolvePaths<T extends Record<string, unknown>>(entry: T, dir: string, keys: string[]): T {
  const out: Record<string, unknown> = { ...entry };
  for (const k of keys) {
    const v = out[k];
    if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) out[k] = path.join(dir, v);
  }
  return out as T;
}

function resolveUserPaths(user: UserEntry, dir: string): UserEntry {
  const out = resolvePaths(user, dir, ['client-certificate', 'client-key', 'tokenFile']);
  // Like kubectl, an exec command is relative to the kubeconfig only when it names a path (contains a separator).
  const command = out.exec?.command;
  if (typeof command === 'string' && command.includes(path.sep) && !path.isAbsolute(command)) {
    out.exec = { ...out.exec, command: path.join(dir, command) };
  }
  return out;
}

function select(merged: Merged, sources: string[], flags: KubeconfigFlags): LoadedKubeconfig {
  const list = (m: Map<string, unknown>) => [...m.keys()].map((k) => `"${k}"`).join(', ') || 'none';
  const where = sources.join(', ');
  const contextName = flags.context || merged.currentContext;
  if (!contextName) {
    throw new ConfigError(`no current context is set in ${where}`, {
      hint: `pass --context (available: ${list(merged.contexts)}), or run "kubectl config use-context <name>"`,
    });
  }
  const context = merged.contexts.get(contextName);
  if (!context) {
    throw new ConfigError(`context "${contextName}" is not in ${where}`, { hint: `available contexts: ${list(merged.contexts)}` });
  }
  const clusterName = flags.cluster || context.cluster || '';
  const cluster = merged.clusters.get(clusterName);
  if (!cluster) {
    throw new ConfigError(`cluster "${clusterName}" of context "${contextName}" is not in ${where}`, {
      hint: `available clusters: ${list(merged.clusters)}`,
    });
  }
  if (!cluster.server) {
    throw new ConfigError(`cluster "${clusterName}" in ${where} has no server address`, {
      hint: `set one with "kubectl config set-cluster ${clusterName} --server=https://…"`,
    });
  }
  const userName = flags.user || context.user || '';
  const user = userName ? merged.users.get(userName) : {};
  if (!user) {
    throw new ConfigError(`user "${userName}" of context "${contextName}" is not in ${where}`, { hint: `available users: ${list(merged.users)}` });
  }
  const ns = namespaceOf(flags.namespace, context.namespace);
  return {
    sources,
    contextName,
    clusterName,
    userName,
    cluster,
    user,
    ...ns,
    minimal: minimalConfig(contextName, clusterName, cluster, userName, user, context.namespace),
  };
}

function namespaceOf(flag: string | undefined, fromContext: string | undefined) {
  if (flag) return { namespace: flag, namespaceSource: 'flag' as const };
  if (fromContext) return { namespace: fromContext, namespaceSource: 'context' as const };
  return { namespace: 'default', namespaceSource: 'default' as const };
}

function minimalConfig(contextName: string, clusterName: string, cluster: ClusterEntry, userName: string, user: UserEntry, namespace?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster }],
    users: [{ name: userName || 'user', user }],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: userName || 'user', ...(namespace ? { namespace } : {}) } }],
    'current-context': contextName,
  };
}

function inClusterAvailable(io: KubeconfigEnv): boolean {
  return Boolean(io.env.KUBERNETES_SERVICE_HOST && io.env.KUBERNETES_SERVICE_PORT) && fs.existsSync(path.join(IN_CLUSTER_DIR, 'token'));
}

function loadInCluster(flags: KubeconfigFlags, io: KubeconfigEnv): LoadedKubeconfig {
  const host = io.env.KUBERNETES_SERVICE_HOST!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${io.env.KUBERNETES_SERVICE_PORT}`;
  const cluster: ClusterEntry = { server, 'certificate-authority': path.join(IN_CLUSTER_DIR, 'ca.crt') };
  const user: UserEntry = { tokenFile: path.join(IN_CLUSTER_DIR, 'token') };
  let podNamespace: string | undefined;
  try {
    podNamespace = fs.readFileSync(path.join(IN_CLUSTER_DIR, 'namespace'), 'utf8').trim();
  } catch {
    podNamespace = undefined;
  }
  return {
    sources: ['in-cluster'],
    contextName: 'in-cluster',
    clusterName: 'in-cluster',
    userName: 'in-cluster',
    cluster,
    user,
    ...namespaceOf(flags.namespace, podNamespace),
    minimal: minimalConfig('in-cluster', 'in-cluster', cluster, 'in-cluster', user, podNamespace),
  };
}

function expandHome(p: string, home: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p;
}
