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
  // kubectl's override flags (clientcmd.ConfigOverrides): they win over the selected cluster and user entries.
  server?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  token?: string;
  username?: string;
  password?: string;
  clientCertificate?: string;
  clientKey?: string;
  as?: string;
  asGroup?: string[];
  asUid?: string;
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
  'as-uid'?: string;
  'as-user-extra'?: Record<string, string[]>;
  exec?: ExecConfig;
  'auth-provider'?: { name?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** users[].user.exec, as kubectl reads it (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  command?: string;
  args?: string[];
  env?: { name?: string; value?: string }[] | null;
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
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
  namespaceSource: 'flag' | 'context' | 'default' | 'POD_NAMESPACE' | 'service account';
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

/**
 * --server, --token, --certificate-authority and the other override flags, applied to the selected entries the
 * way clientcmd's DirectClientConfig does: a flag that is set wins; --insecure-skip-tls-verify alone clears the
 * kubeconfig's CA, and --certificate-authority clears its insecure-skip-tls-verify; --server or
 * --tls-server-name replaces the kubeconfig's tls-server-name (with the flag's value, possibly none).
 */
function applyOverrides(cluster: ClusterEntry, user: UserEntry, flags: KubeconfigFlags): { cluster: ClusterEntry; user: UserEntry } {
  const c: ClusterEntry = { ...cluster };
  const u: UserEntry = { ...user };
  const file = (p: string) => path.resolve(p);
  if (flags.server) c.server = flags.server;
  if (flags.insecureSkipTlsVerify || flags.certificateAuthority) {
    c['insecure-skip-tls-verify'] = flags.insecureSkipTlsVerify === true;
    delete c['certificate-authority-data'];
    if (flags.certificateAuthority) c['certificate-authority'] = file(flags.certificateAuthority);
    else delete c['certificate-authority'];
  }
  if (flags.tlsServerName !== undefined || flags.server) {
    if (flags.tlsServerName) c['tls-server-name'] = flags.tlsServerName;
    else delete c['tls-server-name'];
  }
  if (flags.token) u.token = flags.token;
  if (flags.username) u.username = flags.username;
  if (flags.password) u.password = flags.password;
  if (flags.clientCertificate) u['client-certificate'] = file(flags.clientCertificate);
  if (flags.clientKey) u['client-key'] = file(flags.clientKey);
  if (flags.as) u.as = flags.as;
  if (flags.asGroup?.length) u['as-groups'] = flags.asGroup;
  if (flags.asUid) u['as-uid'] = flags.asUid;
  return { cluster: c, user: u };
}

/** kubectl's own checks of the user and cluster in use (clientcmd's ConfirmUsable plus rest.Config's), with its words. */
export function validateEntries(clusterName: string, cluster: ClusterEntry, userName: string, user: UserEntry): string[] {
  const errors: string[] = [];
  const has = (v: unknown) => (typeof v === 'string' ? v !== '' : Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0));
  const unreadable = (p: string | undefined) => {
    if (!p) return undefined;
    try {
      fs.closeSync(fs.openSync(p, 'r'));
      return undefined;
    } catch (err) {
      return `open ${p}: ${((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message)}`;
    }
  };
  // users[]
  const methods: string[] = [];
  if (has(user.token)) methods.push('token');
  if (has(user.username) || has(user.password)) methods.push('basicAuth');
  if (has(user['client-certificate']) || has(user['client-certificate-data'])) {
    if (has(user['client-certificate']) && has(user['client-certificate-data'])) errors.push(`client-cert-data and client-cert are both specified for ${userName}. client-cert-data will override.`);
    if (has(user['client-key']) && has(user['client-key-data'])) errors.push(`client-key-data and client-key are both specified for ${userName}; client-key-data will override`);
    if (!has(user['client-key']) && !has(user['client-key-data'])) errors.push(`client-key-data or client-key must be specified for ${userName} to use the clientCert authentication method.`);
    const cert = unreadable(user['client-certificate']);
    if (cert) errors.push(`unable to read client-cert ${user['client-certificate']} for ${userName} due to ${cert}`);
    const key = unreadable(user['client-key']);
    if (key) errors.push(`unable to read client-key ${user['client-key']} for ${userName} due to ${key}`);
  }
  const exec = user.exec;
  if (exec) {
    if (user['auth-provider']) errors.push(`authProvider cannot be provided in combination with an exec plugin for ${userName}`);
    if (!has(exec.command)) errors.push(`command must be specified for ${userName} to use exec authentication plugin`);
    if (!has(exec.apiVersion)) errors.push(`apiVersion must be specified for ${userName} to use exec authentication plugin`);
    for (const v of exec.env ?? []) if (!has(v?.name)) errors.push(`env variable name must be specified for ${userName} to use exec authentication plugin`);
    const mode = exec.interactiveMode;
    if (exec.apiVersion === 'client.authentication.k8s.io/v1' && !has(mode)) errors.push(`interactiveMode must be specified for ${userName} to use exec authentication plugin`);
    if (has(mode) && !['Never', 'IfAvailable', 'Always'].includes(mode as string)) errors.push(`invalid interactiveMode for ${userName}: ${mode}`);
  }
  if (methods.length > 1) errors.push(`more than one authentication method found for ${userName}; found [${methods.join(' ')}], only one is allowed`);
  if ((has(user['as-groups']) || has(user['as-user-extra']) || has(user['as-uid'])) && !has(user.as)) {
    errors.push(`requesting uid, groups or user-extra for ${userName} without impersonating a user`);
  }
  // clusters[]
  if (!has(cluster.server)) errors.push(`no server found for cluster "${clusterName}"`);
  if (has(cluster['certificate-authority']) && has(cluster['certificate-authority-data'])) {
    errors.push(`certificate-authority-data and certificate-authority are both specified for ${clusterName}. certificate-authority-data will override.`);
  }
  const ca = unreadable(cluster['certificate-authority']);
  if (ca) errors.push(`unable to read certificate-authority ${cluster['certificate-authority']} for ${clusterName} due to ${ca}`);
  return errors;
}

/** The checks kubectl makes when it builds its transport, after the kubeconfig passed validation. */
function transportProblems(cluster: ClusterEntry, user: UserEntry): string[] {
  const errors: string[] = [];
  const apiVersion = user.exec?.apiVersion;
  if (apiVersion && !['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'].includes(apiVersion)) {
    errors.push(`exec plugin: invalid apiVersion "${apiVersion}"`);
  }
  if (cluster['insecure-skip-tls-verify'] === true && (cluster['certificate-authority'] || cluster['certificate-authority-data'])) {
    errors.push('specifying a root certificates file with the insecure flag is not allowed');
  }
  return errors;
}

function invalidConfiguration(errors: string[], sources: string[], what: string): ConfigError {
  return new ConfigError(errors.length === 1 ? errors[0]! : `invalid configuration: [${errors.join(', ')}]`, {
    hint: `kubectl refuses this too: fix ${what} in ${sources.join(', ')}, or the flags that override it`,
  });
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
  const fromFile = merged.clusters.get(clusterName);
  if (!fromFile) {
    throw new ConfigError(`cluster "${clusterName}" of context "${contextName}" is not in ${where}`, {
      hint: `available clusters: ${list(merged.clusters)}`,
    });
  }
  const userName = flags.user || context.user || '';
  const userFromFile = userName ? merged.users.get(userName) : {};
  if (!userFromFile) {
    throw new ConfigError(`user "${userName}" of context "${contextName}" is not in ${where}`, { hint: `available users: ${list(merged.users)}` });
  }
  const { cluster, user } = applyOverrides(fromFile, userFromFile, flags);
  if (!cluster.server) {
    throw new ConfigError(`cluster "${clusterName}" in ${where} has no server address`, {
      hint: `set one with "kubectl config set-cluster ${clusterName} --server=https://…", or pass --server`,
    });
  }
  const problems = validateEntries(clusterName, cluster, userName, user);
  if (problems.length === 0) problems.push(...transportProblems(cluster, user));
  if (problems.length) throw invalidConfiguration(problems, sources, `user "${userName}" and cluster "${clusterName}"`);
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

function namespaceOf(flag: string | undefined, fromContext: string | undefined): Pick<LoadedKubeconfig, 'namespace' | 'namespaceSource'> {
  if (flag) return { namespace: flag, namespaceSource: 'flag' };
  if (fromContext) return { namespace: fromContext, namespaceSource: 'context' };
  return { namespace: 'default', namespaceSource: 'default' };
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

/**
 * client-go's in-cluster configuration: the service account's token and CA; only --server, --token and
 * --certificate-authority override it. The namespace is -n, else $POD_NAMESPACE (the downward API), else the
 * service account's namespace file, else "default".
 */
function loadInCluster(flags: KubeconfigFlags, io: KubeconfigEnv): LoadedKubeconfig {
  const host = io.env.KUBERNETES_SERVICE_HOST!;
  const server = flags.server || `https://${host.includes(':') ? `[${host}]` : host}:${io.env.KUBERNETES_SERVICE_PORT}`;
  const cluster: ClusterEntry = { server, 'certificate-authority': flags.certificateAuthority ? path.resolve(flags.certificateAuthority) : path.join(IN_CLUSTER_DIR, 'ca.crt') };
  const user: UserEntry = flags.token ? { token: flags.token } : { tokenFile: path.join(IN_CLUSTER_DIR, 'token') };
  let fileNamespace: string | undefined;
  try {
    fileNamespace = fs.readFileSync(path.join(IN_CLUSTER_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    fileNamespace = undefined;
  }
  const ns: Pick<LoadedKubeconfig, 'namespace' | 'namespaceSource'> = flags.namespace
    ? { namespace: flags.namespace, namespaceSource: 'flag' }
    : io.env.POD_NAMESPACE
      ? { namespace: io.env.POD_NAMESPACE, namespaceSource: 'POD_NAMESPACE' }
      : fileNamespace
        ? { namespace: fileNamespace, namespaceSource: 'service account' }
        : { namespace: 'default', namespaceSource: 'default' };
  return {
    sources: ['in-cluster'],
    contextName: 'in-cluster',
    clusterName: 'in-cluster',
    userName: 'in-cluster',
    cluster,
    user,
    ...ns,
    minimal: minimalConfig('in-cluster', 'in-cluster', cluster, 'in-cluster', user, ns.namespace),
  };
}

function expandHome(p: string, home: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p;
}
