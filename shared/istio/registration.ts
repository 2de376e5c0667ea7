// `register` / `deregister`: a selector-less Service whose endpoints are VM addresses (reference/istioctl.md §5),
// kept as EndpointSlices (discovery.k8s.io/v1) or, with --endpoints-api=endpoints, as a legacy Endpoints object.
// Pure functions: the objects, and the plan that turns the current endpoints into the wanted ones.
import { UsageError } from '../errors.ts';
import { dns1123LabelProblem, isIPAddress, isIPv4 } from '../kube/names.ts';
import { MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';
import { WELL_KNOWN_PORTS } from './protocols.ts';

export const SERVICE_ACCOUNTS_ANNOTATION = 'alpha.istio.io/kubernetes-serviceaccounts';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The most endpoints one EndpointSlice may hold (API validation). */
export const MAX_ENDPOINTS_PER_SLICE = 1000;

export interface RegisteredPort {
  name: string;
  port: number;
  protocol: 'TCP';
}

export type EndpointsApi = 'endpointslices' | 'endpoints';
export type Family = 'IPv4' | 'IPv6';

export interface EndpointSlice extends KubeObject {
  addressType: Family;
  endpoints: { addresses: string[]; conditions?: { ready?: boolean } }[] | null;
  ports: { name?: string; port?: number; protocol?: string }[] | null;
}

export interface Endpoints extends KubeObject {
  subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] }[];
}

/**
 * `[<name>:]<port>` as istioctl register takes it: 80 and 8080 are http, 443 https, 3306 mysql, any other port
 * is named by its number. Unlike istioctl (B18), names are lower-cased and checked, and ports must be 1–65535.
 */
export function parseRegisterPorts(specs: string[]): RegisteredPort[] {
  if (specs.length === 0) throw new UsageError('register requires service name, IP, and port', { hint: 'kubectl vm register <service> <ip>[,<ip>…] [<name>:]<port>…' });
  const ports = specs.map((spec): RegisteredPort => {
    const colon = spec.indexOf(':');
    const digits = colon === -1 ? spec : spec.slice(colon + 1);
    if (!/^\d+$/.test(digits) || Number(digits) < 1 || Number(digits) > 65535) {
      throw new UsageError(`invalid port "${spec}": expected [<name>:]<port> with a port from 1 to 65535`, { hint: 'e.g. 3306 or http:8080' });
    }
    const port = Number(digits);
    const name = (colon === -1 ? (WELL_KNOWN_PORTS[port] ?? String(port)) : spec.slice(0, colon)).toLowerCase();
    const problem = dns1123LabelProblem(name);
    if (problem) throw new UsageError(`invalid port name "${name}" in "${spec}": ${problem}`, { hint: 'port names look like http or grpc-web' });
    return { name, port, protocol: 'TCP' };
  });
  for (const [i, p] of ports.entries()) {
    const twin = ports.findIndex((q, j) => j < i && (q.port === p.port || q.name === p.name));
    if (twin !== -1) throw new UsageError(`ports "${specs[twin]}" and "${specs[i]}" clash: each port number and each name once`, { hint: 'give each port once, with its own name' });
  }
  return ports;
}

/**
 * The addresses a command was given: the positional list and each --from-file (read with `read`, "-" being
 * standard input). Commas, lines, blanks and # comments; each address checked, none twice.
 */
export function gatherAddresses(positional: string | undefined, files: string[], read: (file: string) => string): string[] {
  return parseAddressList([
    ...(positional ? [{ text: positional, where: 'the arguments' }] : []),
    ...files.map((f) => ({ text: read(f), where: f === '-' ? 'standard input' : f })),
  ]);
}

export function parseAddressList(sources: { text: string; where: string }[]): string[] {
  // A Set keeps the first-seen order and makes the duplicate check O(1): 50,000 addresses parse in milliseconds.
  const out = new Set<string>();
  for (const { text, where } of sources) {
    for (const raw of text.split('\n')) {
      for (const item of raw.replace(/#.*$/, '').split(',')) {
        const ip = item.trim();
        if (ip === '') continue;
        if (!isIPAddress(ip)) throw new UsageError(`invalid IP address "${ip}" in ${where}`, { hint: 'give IPv4 (10.0.0.5) or IPv6 (fd00::5) addresses, separated by commas or one per line' });
        out.add(ip);
      }
    }
  }
  return [...out];
}

export const familyOf = (ip: string): Family => (isIPv4(ip) ? 'IPv4' : 'IPv6');

export interface ServiceFields {
  name: string;
  namespace: string;
  ports: RegisteredPort[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
}

/** The selector-less Service, with istioctl's service-account annotation. */
export function buildRegisteredService(f: ServiceFields): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: f.name,
      namespace: f.namespace,
      labels: { ...f.labels, [MANAGED_BY_LABEL]: MANAGER },
      annotations: { ...f.annotations, [SERVICE_ACCOUNTS_ANNOTATION]: f.serviceAccount },
    },
    spec: { ports: f.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) },
  };
}

export function sliceLabels(service: string, labels: Record<string, string> = {}): Record<string, string> {
  return { ...labels, [SERVICE_NAME_LABEL]: service, [SLICE_MANAGED_BY_LABEL]: MANAGER, [MANAGED_BY_LABEL]: MANAGER };
}

/** `<service>-kubectl-vm-ipv4`, then `-ipv4-2`, … for more than 1,000 addresses. */
export function sliceName(service: string, family: Family, index: number): string {
  return `${service}-kubectl-vm-${family.toLowerCase()}${index === 0 ? '' : `-${index + 1}`}`;
}

/** A slice's addresses; an empty slice comes back from the API with `endpoints: null`. */
export const sliceAddresses = (s: EndpointSlice): string[] => (s.endpoints ?? []).flatMap((e) => e.addresses ?? []);

export interface SlicePlan {
  /** New or changed slices, each carrying the resourceVersion it was planned from (if any). */
  write: EndpointSlice[];
  /** Slices to delete: emptied ones beyond the first of their family. */
  remove: EndpointSlice[];
  unchanged: EndpointSlice[];
}

/**
 * Turns our current slices into ones holding `want` (in order). Addresses keep the slice they are in; new ones
 * fill the existing slices of their family, then new slices of at most 1,000 endpoints. A slice that empties is
 * deleted, except when no address is left at all: then the first slice stays, empty, so that the Service keeps
 * a valid, empty endpoint list.
 */
export function planSlices(service: string, namespace: string, current: EndpointSlice[], want: string[], ports: RegisteredPort[] | undefined, labels: Record<string, string> = {}): SlicePlan {
  const plan: SlicePlan = { write: [], remove: [], unchanged: [] };
  const keep = want.length === 0 ? [...current].sort(bySliceOrder)[0] : undefined;
  for (const family of ['IPv4', 'IPv6'] as const) {
    const existing = current.filter((s) => s.addressType === family).sort(bySliceOrder);
    const wanted = want.filter((ip) => familyOf(ip) === family);
    if (existing.length === 0 && wanted.length === 0) continue;
    const left = new Set(wanted);
    const layout = existing.map((s) => sliceAddresses(s).filter((ip) => left.delete(ip)));
    const fresh = wanted.filter((ip) => left.has(ip));
    // An index into `fresh` rather than shift(), which is O(n) per call: linear at 50,000 addresses.
    let taken = 0;
    for (const addresses of layout) {
      const room = Math.max(0, MAX_ENDPOINTS_PER_SLICE - addresses.length);
      addresses.push(...fresh.slice(taken, taken + room));
      taken = Math.min(fresh.length, taken + room);
    }
    for (; taken < fresh.length; taken += MAX_ENDPOINTS_PER_SLICE) layout.push(fresh.slice(taken, taken + MAX_ENDPOINTS_PER_SLICE));
    const usedNames = new Set(existing.map((s) => s.metadata.name));
    let next = 0;
    layout.forEach((addresses, i) => {
      const old = existing[i];
      if (old && addresses.length === 0 && old !== keep) return plan.remove.push(old);
      let name = old?.metadata.name;
      if (!name) {
        while (usedNames.has(sliceName(service, family, next))) next++;
        name = sliceName(service, family, next);
        usedNames.add(name);
      }
      const slice: EndpointSlice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { ...(old?.metadata ?? {}), name, namespace, labels: { ...(old?.metadata.labels ?? {}), ...sliceLabels(service, labels) } },
        addressType: family,
        endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
        ports: ports ? ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) : (old?.ports ?? []),
      };
      const same = old && sameStrings(sliceAddresses(old), addresses) && samePorts(old.ports, slice.ports) && Object.entries(slice.metadata.labels!).every(([k, v]) => old.metadata.labels?.[k] === v);
      (same ? plan.unchanged : plan.write).push(same ? old : slice);
    });
  }
  return plan;
}

/** IPv4 before IPv6, then by name: which slice stays when the last address goes. */
const bySliceOrder = (a: EndpointSlice, b: EndpointSlice) =>
  a.addressType !== b.addressType ? (a.addressType === 'IPv4' ? -1 : 1) : a.metadata.name! < b.metadata.name! ? -1 : 1;

const sameStrings = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const samePorts = (a: EndpointSlice['ports'], b: EndpointSlice['ports']) =>
  showPorts(a ?? []) === showPorts(b ?? []) && (a ?? []).every((p, i) => (p.protocol ?? 'TCP') === (b![i]!.protocol ?? 'TCP'));

/** The addresses of a legacy Endpoints object (ready ones; istioctl never writes notReadyAddresses). */
export const endpointsAddresses = (e: Endpoints): string[] => (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));

/** The legacy Endpoints object: one subset holding every address, with the Service's ports. */
export function buildEndpoints(f: Omit<ServiceFields, 'serviceAccount'>, addresses: string[], base?: Endpoints): Endpoints {
  return {
    ...(base ?? {}),
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...(base?.metadata ?? {}), name: f.name, namespace: f.namespace, labels: { ...(base?.metadata.labels ?? {}), ...f.labels, [MANAGED_BY_LABEL]: MANAGER }, ...(Object.keys(f.annotations).length ? { annotations: { ...(base?.metadata.annotations ?? {}), ...f.annotations } } : {}) },
    subsets: addresses.length ? [{ addresses: addresses.map((ip) => ({ ip })), ports: f.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) }] : [],
  };
}

/** `name:port` for messages. */
export const showPorts = (ports: { name?: string; port?: number }[]) => ports.map((p) => `${p.name}:${p.port}`).join(', ') || 'none';
