// The VM's configuration files, computed as `istioctl x workload entry configure` computes them
// (reference/istioctl.md §2.4–2.6): mesh.yaml, cluster.env and hosts. Pure functions; the caller reads the
// cluster. Deliberate improvements are marked with the istioctl bug they fix.
import yaml from 'js-yaml';
import { DataError } from '../errors.ts';
import { toYaml } from '../output/yaml.ts';
import { byteOrder, goJsonMap, goJsonString } from './go-json.ts';
import { DEFAULT_ISTIO_NAMESPACE, istiodAddress, istiodHost, isRevisioned } from './revision.ts';
import { shellQuote } from './shell.ts';
import type { WorkloadGroup } from './workload-group.ts';

type ProxyConfig = Record<string, unknown> & { proxyMetadata?: Record<string, string>; statusPort?: number; discoveryAddress?: string; meshId?: string };

export interface VmConfigInput {
  /** With defaults applied (withDefaults). */
  wg: WorkloadGroup;
  /** data.mesh of the istio[-<rev>] ConfigMap. */
  meshConfig: string;
  clusterId: string;
  revision: string;
  istioNamespace: string;
  captureDns: boolean;
  autoregister: boolean;
  internalIp?: string;
  externalIp?: string;
}

export interface VmConfig {
  defaultConfig: ProxyConfig;
  trustDomain: string;
  /** Said once per WorkloadGroup, on stderr. */
  warnings: string[];
}

const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

function parseYamlObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = yaml.load(text);
  } catch (err) {
    throw new DataError(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { hint: 'fix it with kubectl edit' });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new DataError(`${what} is not a YAML mapping`, { hint: 'fix it with kubectl edit' });
  return parsed as Record<string, unknown>;
}

const stringMap = (m: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries((m ?? {}) as Record<string, unknown>).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));

function firstPresent(labels: Record<string, string>, keys: string[], fallback: string): string {
  for (const k of keys) if (k in labels) return labels[k]!;
  return fallback;
}

export function computeVmConfig(input: VmConfigInput): VmConfig {
  const { wg } = input;
  const warnings: string[] = [];
  const name = wg.metadata.name;
  const namespace = wg.metadata.namespace;
  const template = wg.spec.template ?? {};

  // 1. Mesh config over its defaults: top-level fields replace, so a `defaultConfig:` replaces the whole ProxyConfig.
  const mesh: Record<string, unknown> = { defaultConfig: { proxyMetadata: {} }, ...parseYamlObject(input.meshConfig, `the mesh config of Istio in ${input.istioNamespace}`) };
  const defaultConfig: ProxyConfig = { ...((mesh.defaultConfig as ProxyConfig | null) ?? {}) };

  // 2. A revisioned control plane is reached at istiod-<rev> unless the mesh config says otherwise.
  if (isRevisioned(input.revision) && !defaultConfig.discoveryAddress) defaultConfig.discoveryAddress = istiodAddress(input.istioNamespace, input.revision);

  // 3. proxy.istio.io/config annotations (the object's, then spec.metadata's) override any ProxyConfig field, and
  //    their proxyMetadata adds to the mesh-level one. B4: a mesh config without proxyMetadata is no crash.
  const proxyMetadata = stringMap(defaultConfig.proxyMetadata);
  for (const [where, annotations] of [
    ['metadata.annotations', wg.metadata.annotations],
    ['spec.metadata.annotations', wg.spec.metadata?.annotations],
  ] as const) {
    const value = annotations?.[PROXY_CONFIG_ANNOTATION];
    if (value === undefined) continue;
    Object.assign(defaultConfig, parseYamlObject(value, `the ${PROXY_CONFIG_ANNOTATION} annotation in ${where} of WorkloadGroup ${namespace}/${name}`));
    Object.assign(proxyMetadata, stringMap(defaultConfig.proxyMetadata));
  }

  // 4. Labels: spec.metadata.labels, overridden by template.labels (with a warning, as istioctl gives).
  const labels: Record<string, string> = { ...(wg.spec.metadata?.labels ?? {}) };
  if (template.labels && Object.keys(template.labels).length) {
    const shown = Object.keys(template.labels).sort(byteOrder).map((k) => `${k}:${template.labels![k]}`).join(' ');
    warnings.push(`Labels should be set in the metadata. The following WorkloadEntry labels will override metadata labels: map[${shown}]`);
    Object.assign(labels, template.labels);
  }

  // 5. The readiness probe comes from the WorkloadGroup. B5: without one, the mesh config's or annotation's stays.
  if (wg.spec.probe) defaultConfig.readinessProbe = wg.spec.probe;

  // 6. Computed metadata.
  const canonicalService = firstPresent(labels, ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'], name);
  const canonicalRevision = firstPresent(labels, ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'], 'latest');
  const md = proxyMetadata;
  md.CANONICAL_SERVICE = canonicalService;
  md.CANONICAL_REVISION = canonicalRevision;
  md.POD_NAMESPACE = namespace;
  md.SERVICE_ACCOUNT = template.serviceAccount ?? 'default';
  const trustDomain = typeof mesh.trustDomain === 'string' ? mesh.trustDomain : '';
  md.TRUST_DOMAIN = trustDomain;
  md.ISTIO_META_CLUSTER_ID = input.clusterId;
  md.ISTIO_META_MESH_ID = typeof defaultConfig.meshId === 'string' ? defaultConfig.meshId : '';
  md.ISTIO_META_NETWORK = template.network ?? '';
  const ports = template.ports ?? {};
  if (Object.keys(ports).length) {
    md.ISTIO_META_POD_PORTS = `[${Object.keys(ports)
      .sort(byteOrder)
      .map((n) => `{"name":${goJsonString(n)},"containerPort":${ports[n]},"protocol":""}`)
      .join(',')}]`;
  }
  md.ISTIO_META_WORKLOAD_NAME = name;
  labels['service.istio.io/canonical-name'] = canonicalService;
  labels['service.istio.io/canonical-revision'] = canonicalRevision;
  md.ISTIO_METAJSON_LABELS = goJsonMap(labels);
  if (input.captureDns) md.ISTIO_META_DNS_CAPTURE = 'true';
  if (input.autoregister) md.ISTIO_META_AUTO_REGISTER_GROUP = name;
  defaultConfig.proxyMetadata = md;
  return { defaultConfig, trustDomain, warnings };
}

/** mesh.yaml: only defaultConfig, as go-yaml writes it. */
export function renderMeshYaml(config: VmConfig): string {
  return toYaml({ defaultConfig: config.defaultConfig });
}

/** cluster.env: every proxyMetadata entry, then the command's own keys on top, sorted, shell-quoted. */
export function renderClusterEnv(input: VmConfigInput, config: VmConfig): string {
  const { wg } = input;
  const template = wg.spec.template ?? {};
  // B2: istioctl lists the ports in Go's random map order; we sort them by number.
  const ports = Object.values(template.ports ?? {}).sort((a, b) => a - b);
  const statusPort = Number(config.defaultConfig.statusPort ?? 0);
  let exclude = '22,15090,15021';
  if (statusPort !== 15090 && statusPort !== 15021) exclude += `,${statusPort || 15020}`;
  const env: Record<string, string> = {
    ...config.defaultConfig.proxyMetadata,
    ISTIO_INBOUND_PORTS: ports.length ? ports.join(',') : '*',
    ISTIO_NAMESPACE: wg.metadata.namespace,
    ISTIO_SERVICE: `${wg.metadata.name}.${wg.metadata.namespace}`,
    ISTIO_SERVICE_CIDR: '*',
    ISTIO_LOCAL_EXCLUDE_PORTS: exclude,
    SERVICE_ACCOUNT: template.serviceAccount ?? 'default',
  };
  // B8: with an istio namespace other than istio-system, the VM's default CA address would be wrong.
  if (isRevisioned(input.revision) || input.istioNamespace !== DEFAULT_ISTIO_NAMESPACE) env.CA_ADDR = istiodAddress(input.istioNamespace, input.revision);
  if (input.internalIp) env.ISTIO_SVC_IP = input.internalIp;
  if (input.externalIp) {
    env.ISTIO_SVC_IP = input.externalIp;
    env.REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION = 'true';
  }
  return renderEnvFile(env);
}

/** KEY='value' lines, keys in byte order, values shell-quoted as istioctl's shellescape.Quote does. */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.keys(env)
    .sort(byteOrder)
    .map((k) => `${k}=${shellQuote(env[k]!)}\n`)
    .join('');
}

/** hosts: the gateway address for istiod's name, or nothing. */
export function renderHosts(ingressIp: string | undefined, istioNamespace: string, revision: string): string {
  return ingressIp ? `${ingressIp} ${istiodHost(istioNamespace, revision)}\n` : '';
}
