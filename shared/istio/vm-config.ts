// The VM's configuration files, computed as `istioctl x workload entry configure` computes them
// (reference/istioctl.md §2.4–2.6): mesh.yaml, cluster.env and hosts. Pure functions; the caller reads the
// cluster. Deliberate improvements are marked with the istioctl bug they fix.
import yaml from 'js-yaml';
import { DataError } from '../errors.ts';
import { compareKeys, toYaml } from '../output/yaml.ts';
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

/** The annotation whose ProxyConfig overrides the mesh's for one WorkloadGroup (the only annotation read here). */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/**
 * A cache of at most `limit` entries, emptied when full: in a fleet, what every group shares (the mesh config,
 * the namespaces, the service account) is computed once, and what each group has alone cycles through.
 */
function cache<V>(limit: number, make: (key: string) => V): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    let value = entries.get(key);
    if (value === undefined) {
      if (entries.size >= limit) entries.clear();
      value = make(key);
      entries.set(key, value);
    }
    return value;
  };
}

/**
 * How many rendered values a cache keeps before it starts again: enough for what a fleet's groups share (a few per
 * namespace), few enough that the values each group has alone (its name, its labels) do not pile up.
 */
const CACHED_VALUES = 512;

/**
 * Keys sorted with `compare`, for lists of keys that repeat (a fleet's groups have the same ones, in the same
 * order): the last list and its order are kept, and a list equal to it is not sorted again.
 */
function keyOrder(compare: (a: string, b: string) => number): (keys: string[]) => string[] {
  let last: string[] = [];
  let sorted: string[] = [];
  return (keys) => {
    let same = keys.length === last.length;
    for (let i = 0; same && i < keys.length; i++) same = keys[i] === last[i];
    if (!same) {
      last = keys;
      sorted = [...keys].sort(compare);
    }
    return sorted;
  };
}

/**
 * The mesh config (and proxy.istio.io/config annotations) of a fleet's groups, parsed once per distinct text.
 * The parsed objects are shared between groups, so nothing here modifies them: computeVmConfig copies what it
 * changes. A text that fails to parse is not cached (its error names the group).
 */
const parsedYaml = new Map<string, Record<string, unknown>>();

function parseYamlObject(text: string, what: string): Record<string, unknown> {
  let parsed = parsedYaml.get(text);
  if (parsed === undefined) {
    parsed = parseYamlObjectOnce(text, what);
    if (parsedYaml.size >= 64) parsedYaml.clear();
    parsedYaml.set(text, parsed);
  }
  return parsed;
}

function parseYamlObjectOnce(text: string, what: string): Record<string, unknown> {
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

/** Steps 1–3 of computeVmConfig: the ProxyConfig of the mesh config and the annotations; throws on bad YAML. */
function proxyConfigOf(input: VmConfigInput): { mesh: Record<string, unknown>; defaultConfig: ProxyConfig; proxyMetadata: Record<string, string> } {
  const { wg } = input;
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
    Object.assign(defaultConfig, parseYamlObject(value, `the ${PROXY_CONFIG_ANNOTATION} annotation in ${where} of WorkloadGroup ${wg.metadata.namespace}/${wg.metadata.name}`));
    Object.assign(proxyMetadata, stringMap(defaultConfig.proxyMetadata));
  }
  return { mesh, defaultConfig, proxyMetadata };
}

/** Step 4: spec.metadata.labels, overridden by template.labels (with a warning, as istioctl gives). */
function labelsOf(wg: WorkloadGroup, warnings: string[]): Record<string, string> {
  const template = wg.spec.template ?? {};
  const labels: Record<string, string> = { ...(wg.spec.metadata?.labels ?? {}) };
  if (template.labels && Object.keys(template.labels).length) {
    const shown = Object.keys(template.labels).sort(byteOrder).map((k) => `${k}:${template.labels![k]}`).join(' ');
    warnings.push(`Labels should be set in the metadata. The following WorkloadEntry labels will override metadata labels: map[${shown}]`);
    Object.assign(labels, template.labels);
  }
  return labels;
}

/**
 * What computeVmConfig would warn about, or throw, without computing the rest: a fleet checks every group with
 * it before the first token, and computes each configuration only when it writes that group's files.
 */
export function vmConfigWarnings(input: VmConfigInput): string[] {
  proxyConfigOf(input);
  const warnings: string[] = [];
  labelsOf(input.wg, warnings);
  return warnings;
}

export function computeVmConfig(input: VmConfigInput): VmConfig {
  const { wg } = input;
  const warnings: string[] = [];
  const name = wg.metadata.name;
  const namespace = wg.metadata.namespace;
  const template = wg.spec.template ?? {};
  const { mesh, defaultConfig, proxyMetadata } = proxyConfigOf(input);
  const labels = labelsOf(wg, warnings);

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

/** mesh.yaml: only defaultConfig, as go-yaml writes it (toYaml), from memoised pieces (see meshYamlPieces). */
export function renderMeshYaml(config: VmConfig): string {
  return meshYamlPieces(config.defaultConfig) ?? toYaml({ defaultConfig: config.defaultConfig });
}

// toYaml of a block mapping is its keys in go-yaml's order, each "\n<indent><key>:<value>" written the same
// whatever its neighbours are (each starts on a new line, at the mapping's indent). So mesh.yaml is put together
// from one piece per entry of defaultConfig, and proxyMetadata from one piece per variable: each piece is toYaml's
// own output for a mapping of that one entry, cut out of it, and cached, so that the entries a fleet's groups
// share (every one but the group's name and labels) are rendered once. Values with a line break fall back to
// toYaml of the whole (a literal block can end in a line break, which would make the cut ambiguous).
const TOP = 'defaultConfig:';
const PROXY_METADATA_TOP = `${TOP}\n  proxyMetadata:`;
const configOrder = keyOrder(compareKeys);
const variableOrder = keyOrder(compareKeys);
const entryPieces = new Map<string, string | null>();
let variablePieces = new Map<string, Map<string, string>>();
let variablePieceCount = 0;

/** The piece of toYaml({ defaultConfig: { [key]: value } }) after "defaultConfig:", or null when it cannot be cut out safely. */
function entryPiece(key: string, value: unknown): string | null {
  let safe = true;
  const id = JSON.stringify([key, value], (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) safe = false;
    if (typeof v === 'string' && v.includes('\n')) safe = false;
    return v;
  });
  if (!safe) return null;
  let piece = entryPieces.get(id);
  if (piece === undefined) {
    piece = cut(toYaml({ defaultConfig: { [key]: value } }), TOP);
    if (entryPieces.size >= CACHED_VALUES) entryPieces.clear();
    entryPieces.set(id, piece);
  }
  return piece;
}

/** toYaml's output without `prefix` and its final line break; null if it does not have that shape. */
function cut(yaml: string, prefix: string): string | null {
  return yaml.startsWith(`${prefix}\n`) && yaml.endsWith('\n') && !yaml.endsWith('\n\n') ? yaml.slice(prefix.length, -1) : null;
}

/**
 * A string with no space and no line break, as toYaml writes it on its own: so it is written wherever it stands,
 * as a key or a value (go-yaml folds long scalars only at spaces; keys and values differ only for line breaks).
 */
const scalarPiece = cache<string>(CACHED_VALUES, (s) => toYaml(s).slice(0, -1));
const FOLDS_OR_BREAKS = /[ \n\r\u0085\u2028\u2029]/;

/** One proxyMetadata variable's piece ("\n    KEY: value"), cached per key and value. */
function variablePiece(key: string, value: string): string | null {
  // Most variables are written from their key's and value's scalars; others are cut out of toYaml.
  if (!FOLDS_OR_BREAKS.test(key) && !FOLDS_OR_BREAKS.test(value)) return `\n    ${scalarPiece(key)}: ${scalarPiece(value)}`;
  if (value.includes('\n') || key.includes('\n')) return null;
  let byValue = variablePieces.get(key);
  const piece = byValue?.get(value);
  if (piece !== undefined) return piece;
  const made = cut(toYaml({ defaultConfig: { proxyMetadata: { [key]: value } } }), PROXY_METADATA_TOP);
  if (made === null) return null;
  if (++variablePieceCount > CACHED_VALUES) {
    variablePieces = new Map();
    variablePieceCount = 1;
    byValue = undefined;
  }
  if (!byValue) variablePieces.set(key, (byValue = new Map()));
  byValue.set(value, made);
  return made;
}

/** mesh.yaml from cached pieces; undefined when some value needs toYaml of the whole. */
function meshYamlPieces(defaultConfig: ProxyConfig): string | undefined {
  const keys = Object.keys(defaultConfig).filter((k) => defaultConfig[k] !== undefined);
  if (keys.length === 0) return undefined;
  let out = TOP;
  for (const key of configOrder(keys)) {
    const value = defaultConfig[key];
    let piece: string | null;
    if (key === 'proxyMetadata' && isStringMap(value) && Object.keys(value).length) {
      piece = '\n  proxyMetadata:';
      for (const k of variableOrder(Object.keys(value))) {
        const p = variablePiece(k, value[k]!);
        if (p === null) return undefined;
        piece += p;
      }
    } else piece = entryPiece(key, value);
    if (piece === null) return undefined;
    out += piece;
  }
  return `${out}\n`;
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every((x) => typeof x === 'string');

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

const envOrder = keyOrder(byteOrder);
const quoted = cache<string>(CACHED_VALUES, shellQuote);

/** KEY='value' lines, keys in byte order, values shell-quoted as istioctl's shellescape.Quote does (both cached for fleets). */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  let out = '';
  for (const k of envOrder(Object.keys(env))) {
    const v = env[k]!;
    out += `${k}=${quoted(v)}\n`;
  }
  return out;
}

/** hosts: the gateway address for istiod's name, or nothing. */
export function renderHosts(ingressIp: string | undefined, istioNamespace: string, revision: string): string {
  return ingressIp ? `${ingressIp} ${istiodHost(istioNamespace, revision)}\n` : '';
}
