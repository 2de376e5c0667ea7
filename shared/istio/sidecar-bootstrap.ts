// What `tctl x sidecar-bootstrap` computes for one WorkloadEntry (reference/sidecar-bootstrap.md §2.2–2.5): the
// per-VM settings from its annotations, sidecar.env, and the docker commands that start the proxy. Pure
// functions; the caller reads the cluster.
import yaml from 'js-yaml';
import { DataError } from '../errors.ts';
import { isIPAddress } from '../kube/names.ts';
import type { KubeObject } from '../kube/objects.ts';

export const ANNOTATION_PREFIX = 'sidecar-bootstrap.istio.io/';
export const DEFAULT_CONFIG_DIR = '/tmp/istio-proxy';
export const DEFAULT_CONTAINER = 'istio-proxy';
export const GATEWAY_PORT = 15443;
/** The mount points istio-agent reads with PILOT_CERT_PROVIDER=istiod and JWT_POLICY=third-party-jwt. */
const ROOT_CERT_MOUNT = '/var/run/secrets/istio/root-cert.pem';
const TOKEN_MOUNT = '/var/run/secrets/tokens/istio-token';
const CERTS_DIR = '/var/run/secrets/istio';

export interface WorkloadEntry extends KubeObject {
  spec: { address?: string; labels?: Record<string, string>; serviceAccount?: string; network?: string; ports?: Record<string, number> };
}

/** The injector's Helm values that matter here (`istio-sidecar-injector`, key `values`). */
export interface InjectorValues {
  global?: {
    jwtPolicy?: string;
    pilotCertProvider?: string;
    caAddress?: string;
    network?: string;
    meshID?: string;
    hub?: string;
    tag?: string;
    trustDomain?: string;
    multiCluster?: { clusterName?: string };
    proxy?: { image?: string; logLevel?: string; componentLogLevel?: string };
  };
}

/** Per-VM connection and container settings: the annotations, else the flags, else the defaults. */
export interface VmSettings {
  sshHost: string;
  sshPort: number;
  sshUser: string;
  configDir: string;
  containerName: string;
  imageHub?: string;
  instanceIp?: string;
}

export interface SettingDefaults {
  sshPort: number;
  sshUser: string;
}

const bad = (we: WorkloadEntry, key: string, value: string, why: string, example: string) =>
  new DataError(`workloadentry ${we.metadata.name}.${we.metadata.namespace}: annotation ${key}="${value}" ${why}`, {
    hint: `fix it, e.g. kubectl annotate workloadentry ${we.metadata.name} -n ${we.metadata.namespace} --overwrite ${key}=${example}`,
  });

export function vmSettings(we: WorkloadEntry, defaults: SettingDefaults): VmSettings {
  const a = we.metadata.annotations ?? {};
  const get = (k: string) => (a[ANNOTATION_PREFIX + k] === '' ? undefined : a[ANNOTATION_PREFIX + k]);
  const address = we.spec.address ?? '';
  const sshHost = get('ssh-host') ?? address;
  if (!sshHost) {
    throw new DataError(`workloadentry ${we.metadata.name}.${we.metadata.namespace} has no spec.address and no ${ANNOTATION_PREFIX}ssh-host annotation`, {
      hint: `say where to reach the VM: kubectl annotate workloadentry ${we.metadata.name} -n ${we.metadata.namespace} ${ANNOTATION_PREFIX}ssh-host=<ip or name>`,
    });
  }
  let sshPort = defaults.sshPort;
  const port = get('ssh-port');
  if (port !== undefined) {
    sshPort = Number(port);
    if (!/^\d+$/.test(port) || sshPort < 1 || sshPort > 65535) throw bad(we, ANNOTATION_PREFIX + 'ssh-port', port, 'is not a port (1-65535)', '22');
  }
  const configDir = get('proxy-config-dir') ?? DEFAULT_CONFIG_DIR;
  if (!configDir.startsWith('/') || /[\0\n]/.test(configDir)) throw bad(we, ANNOTATION_PREFIX + 'proxy-config-dir', configDir, 'is not an absolute path', DEFAULT_CONFIG_DIR);
  const containerName = get('proxy-container-name') ?? DEFAULT_CONTAINER;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(containerName)) throw bad(we, ANNOTATION_PREFIX + 'proxy-container-name', containerName, 'is not a valid container name', DEFAULT_CONTAINER);
  const instanceIp = get('proxy-instance-ip') ?? (isIPAddress(address) ? address : undefined);
  if (instanceIp !== undefined && !isIPAddress(instanceIp)) throw bad(we, ANNOTATION_PREFIX + 'proxy-instance-ip', instanceIp, 'is not an IP address', '10.0.0.5');
  return { sshHost, sshPort, sshUser: get('ssh-user') ?? defaults.sshUser, configDir: configDir.replace(/\/+$/, '') || '/', containerName, imageHub: get('proxy-image-hub'), instanceIp };
}

/** The mesh-expansion gateway: a DNS name (the VM reaches istiod through it, with SNI) or an IP (`--add-host`). */
export interface Gateway {
  address: string;
  isHostname: boolean;
}

export interface SidecarInput {
  we: WorkloadEntry;
  settings: VmSettings;
  meshConfig: Record<string, unknown>;
  values: InjectorValues;
  gateway: Gateway;
  istioNamespace: string;
}

export interface Sidecar {
  env: [string, string][];
  image: string;
  /** `--add-host` entries, `alias:ip`, sorted. */
  addHosts: string[];
  args: string[];
}

type ProxyConfig = Record<string, unknown> & { proxyMetadata?: Record<string, string>; discoveryAddress?: string; concurrency?: number };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function parseAnnotationYaml(we: WorkloadEntry, key: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = yaml.load(text);
  } catch (err) {
    throw new DataError(`workloadentry ${we.metadata.name}.${we.metadata.namespace}: annotation ${key} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      hint: `fix it with kubectl edit workloadentry ${we.metadata.name} -n ${we.metadata.namespace}`,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) throw new DataError(`workloadentry ${we.metadata.name}.${we.metadata.namespace}: annotation ${key} is not a YAML mapping`, { hint: 'write it as ProxyConfig fields, e.g. concurrency: 2' });
  return parsed;
}

/** `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster`, `svc.ns.svc.cluster.local` for a cluster-local host; else none. */
function clusterLocalAliases(host: string): string[] {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)(\.svc(\.cluster(\.local)?)?)?$/.exec(host);
  if (!m) return [];
  const base = `${m[1]}.${m[2]}`;
  return [base, `${base}.svc`, `${base}.svc.cluster`, `${base}.svc.cluster.local`];
}

const hostOf = (address: string) => address.replace(/:\d+$/, '');

export function workloadName(we: WorkloadEntry): string {
  return we.spec.labels?.app ?? we.metadata.labels?.app ?? we.spec.serviceAccount ?? we.metadata.name ?? '';
}

export function computeSidecar(input: SidecarInput): Sidecar {
  const { we, settings, values, gateway, istioNamespace } = input;
  const g = values.global ?? {};
  const ns = we.metadata.namespace!;
  const annotations = we.metadata.annotations ?? {};
  const app = workloadName(we);
  const trustDomain = g.trustDomain ?? (typeof input.meshConfig.trustDomain === 'string' ? input.meshConfig.trustDomain : undefined) ?? 'cluster.local';
  const canonicalIstiod = `istiod.${istioNamespace}.svc:15012`;
  const discovery = (d: unknown) => (typeof d === 'string' && d ? d : canonicalIstiod);

  // ProxyConfig: the mesh's defaultConfig, this workload's serviceCluster, then the WorkloadEntry's own overlay.
  let proxy: ProxyConfig = { ...((isObject(input.meshConfig.defaultConfig) ? input.meshConfig.defaultConfig : {}) as ProxyConfig) };
  proxy.serviceCluster = `${app}.${ns}`;
  delete proxy.concurrency;
  proxy.discoveryAddress = discovery(proxy.discoveryAddress);
  const rewrite = gateway.isHostname;
  if (rewrite && clusterLocalAliases(hostOf(proxy.discoveryAddress)).length) proxy.discoveryAddress = `${gateway.address}:${GATEWAY_PORT}`;
  const overlay = annotations['proxy.istio.io/config'];
  if (overlay) proxy = deepMerge(proxy, parseAnnotationYaml(we, 'proxy.istio.io/config', overlay)) as ProxyConfig;

  let caAddress = g.caAddress || discovery(proxy.discoveryAddress);
  if (rewrite && clusterLocalAliases(hostOf(caAddress)).length) caAddress = `${gateway.address}:${GATEWAY_PORT}`;
  const sni = `istiod.${istioNamespace}.svc`;

  const labels = { ...(we.metadata.labels ?? {}), ...(we.spec.labels ?? {}) };
  const istioAnnotations = Object.fromEntries(Object.entries(annotations).filter(([k]) => k.includes('istio.io/') && !k.includes('istioctl.istio.io/') && !k.startsWith(ANNOTATION_PREFIX)));
  const meta = we.metadata.labels ?? {};
  const env: [string, string][] = Object.entries(proxy.proxyMetadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') env.push([k, v]);
  };
  put('JWT_POLICY', g.jwtPolicy ?? 'third-party-jwt');
  put('PROV_CERT', CERTS_DIR);
  put('OUTPUT_CERTS', CERTS_DIR);
  put('PILOT_CERT_PROVIDER', g.pilotCertProvider ?? 'istiod');
  put('CA_ADDR', caAddress);
  if (rewrite) {
    put('CA_SNI', sni);
    put('PILOT_SNI', sni);
  }
  put('POD_NAME', we.metadata.name!);
  put('POD_NAMESPACE', ns);
  put('IDENTITY_IP', we.spec.address);
  put('INSTANCE_IP', settings.instanceIp);
  put('SERVICE_ACCOUNT', we.spec.serviceAccount);
  put('HOST_IP', we.spec.address);
  put('CANONICAL_SERVICE', meta['service.istio.io/canonical-name'] ?? app);
  put('CANONICAL_REVISION', meta['service.istio.io/canonical-revision'] ?? 'latest');
  put('PROXY_CONFIG', JSON.stringify(proxy));
  put('ISTIO_META_CLUSTER_ID', g.multiCluster?.clusterName || 'Kubernetes');
  put('ISTIO_META_INTERCEPTION_MODE', annotations['sidecar.istio.io/interceptionMode'] ?? 'NONE');
  put('ISTIO_META_NETWORK', we.spec.network ?? g.network);
  put('ISTIO_METAJSON_LABELS', JSON.stringify(labels));
  if (Object.keys(istioAnnotations).length) put('ISTIO_METAJSON_ISTIO_ANNOTATIONS', JSON.stringify(istioAnnotations));
  put('ISTIO_META_WORKLOAD_NAME', app);
  put('ISTIO_META_OWNER', `kubernetes://apis/networking.istio.io/v1beta1/namespaces/${ns}/workloadentries/${we.metadata.name}`);
  put('ISTIO_META_MESH_ID', g.meshID ?? trustDomain);

  const image =
    annotations['sidecar.istio.io/proxyImage'] ?? `${settings.imageHub ?? g.hub ?? 'docker.io/istio'}/${g.proxy?.image ?? 'proxyv2'}:${g.tag ?? 'latest'}`;
  const addHosts = gateway.isHostname
    ? []
    : [...new Set([canonicalIstiod, proxy.discoveryAddress!, caAddress].flatMap((a) => clusterLocalAliases(hostOf(a))))].sort().map((alias) => `${alias}:${gateway.address}`);
  const args = [
    'proxy',
    'sidecar',
    '--serviceCluster',
    `${app}.${ns}`,
    '--concurrency',
    String(typeof proxy.concurrency === 'number' ? proxy.concurrency : 0),
    '--proxyLogLevel',
    annotations['sidecar.istio.io/logLevel'] ?? g.proxy?.logLevel ?? 'info',
    '--proxyComponentLogLevel',
    annotations['sidecar.istio.io/componentLogLevel'] ?? g.proxy?.componentLogLevel ?? 'misc:info',
    '--trust-domain',
    trustDomain,
  ];
  return { env, image, addHosts, args };
}

/** sidecar.env for `docker run --env-file`: KEY=value lines, values verbatim (docker does not unquote). */
export function renderSidecarEnv(env: [string, string][]): string {
  for (const [k, v] of env) if (/[\n\r\0]/.test(v)) throw new DataError(`the value of ${k} in sidecar.env has a line break`, { hint: 'remove line breaks from the annotation it comes from' });
  return env.map(([k, v]) => `${k}=${v}\n`).join('');
}

/** Quotes a word for a POSIX shell only when it needs it. */
export function sh(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const BUNDLE_FILES = { env: 'sidecar.env', rootCert: 'istio-ca.pem', token: 'istio-token' } as const;

/** `docker rm --force <name>`, then `docker run …` with the bundle in `dir` (a path, or a shell expression). */
export function dockerCommands(sidecar: Sidecar, containerName: string, dir: string, quoteDir = sh): { remove: string; run: string } {
  const file = (f: string) => `${quoteDir(dir)}/${f}`;
  const run = [
    'docker run -d',
    `--name ${sh(containerName)}`,
    '--restart unless-stopped --network host',
    `-v ${file(BUNDLE_FILES.rootCert)}:${ROOT_CERT_MOUNT}`,
    `-v ${file(BUNDLE_FILES.token)}:${TOKEN_MOUNT}`,
    `--env-file ${file(BUNDLE_FILES.env)}`,
    ...sidecar.addHosts.map((h) => `--add-host ${sh(h)}`),
    sh(sidecar.image),
    ...sidecar.args.map(sh),
  ].join(' ');
  return { remove: `docker rm --force ${sh(containerName)}`, run };
}

/** bin/start-istio-proxy.sh of an offline bundle: finds etc/ next to itself, so the bundle can be moved. */
export function startScript(sidecar: Sidecar, containerName: string): string {
  const { remove, run } = dockerCommands(sidecar, containerName, '${VM_FILES_DIR}', (d) => `"${d}"`);
  return `#!/usr/bin/env bash
# Starts the Istio proxy of this bundle with Docker (kubectl vm sidecar-bootstrap). Run it on the VM from
# anywhere: it finds the files in ../etc.
SCRIPT_DIR="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
BASE_DIR="\${SCRIPT_DIR}/.."
VM_FILES_DIR="\${BASE_DIR}/etc"

set +e
${remove}
set -e
${run}
`;
}
