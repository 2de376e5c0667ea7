// The VM files of Istio 1.4-era mesh expansion (reference/istioctl.md §8; seeds 000, 001 and 004): the legacy
// cluster.env that istio-start.sh reads, and the hosts line that sends istio-pilot and istio-citadel to the
// gateway. Pure functions; every value is checked before it is written, so nothing needs quoting.
import { UsageError } from '../errors.ts';
import { isIPv4, isIPv6 } from '../kube/names.ts';

export type CpAuth = 'MUTUAL_TLS' | 'NONE';
export const CP_AUTH_VALUES: readonly CpAuth[] = ['MUTUAL_TLS', 'NONE'];

export interface LegacyClusterEnv {
  cpAuth: CpAuth;
  serviceCidrs: string[];
  /** Omitted when undefined: the VM then only calls services (seed step "skip this step"). */
  inboundPorts?: string[];
  istioNamespace: string;
}

/** `ISTIO_CP_AUTH=…` lines in the order of the seeds, then setupMeshEx.sh's ISTIO_SYSTEM_NAMESPACE. */
export function renderLegacyClusterEnv(env: LegacyClusterEnv): string {
  const lines = [`ISTIO_CP_AUTH=${env.cpAuth}`, `ISTIO_SERVICE_CIDR=${env.serviceCidrs.join(',')}`];
  if (env.inboundPorts) lines.push(`ISTIO_INBOUND_PORTS=${env.inboundPorts.join(',')}`);
  lines.push(`ISTIO_SYSTEM_NAMESPACE=${env.istioNamespace}`);
  return lines.join('\n') + '\n';
}

/** `<gateway> istio-citadel istio-pilot istio-pilot.<ns>`, or nothing when the address is unknown. */
export function renderLegacyHosts(gateway: string | undefined, istioNamespace: string): string {
  return gateway ? `${gateway} istio-citadel istio-pilot istio-pilot.${istioNamespace}\n` : '';
}

/** A CIDR problem, or undefined: `10.96.0.0/12`, `fd00:10:96::/112`; host bits must be zero. */
export function cidrProblem(cidr: string): string | undefined {
  const slash = cidr.indexOf('/');
  if (slash === -1) return 'expected an address range like 10.96.0.0/12';
  const ip = cidr.slice(0, slash);
  const bits = cidr.slice(slash + 1);
  const v4 = isIPv4(ip);
  if (!v4 && !isIPv6(ip)) return `"${ip}" is not an IPv4 or IPv6 address`;
  const max = v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `the prefix length must be 0 to ${max}`;
  if (hostBitsSet(ip, Number(bits), v4)) return `${ip} has bits set beyond the /${bits} prefix`;
  return undefined;
}

function hostBitsSet(ip: string, prefix: number, v4: boolean): boolean {
  let value: bigint;
  if (v4) value = ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  else {
    const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  }
  const width = v4 ? 32n : 128n;
  const hostMask = (1n << (width - BigInt(prefix))) - 1n;
  return (value & hostMask) !== 0n;
}

/** `--service-cidr 10.96.0.0/12,fd00::/108` → the ranges, each checked. */
export function parseServiceCidrs(text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  return items.map((cidr) => {
    const problem = cidr === '' ? 'empty range' : cidrProblem(cidr);
    if (problem) throw new UsageError(`invalid --service-cidr "${text}": ${problem}`, { hint: 'give the service IP range(s), comma-separated, e.g. --service-cidr 10.96.0.0/12' });
    return cidr;
  });
}

/** `--inbound-ports 8888,3306` → the ports (1–65535, each once); `*` means every port. */
export function parseInboundPorts(text: string): string[] {
  if (text.trim() === '*') return ['*'];
  const seen = new Set<number>();
  return text.split(',').map((raw) => {
    const p = raw.trim();
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new UsageError(`invalid --inbound-ports "${text}": "${p}" is not a port number from 1 to 65535`, { hint: 'e.g. --inbound-ports 8888,3306, or "*" for every port' });
    if (seen.has(n)) throw new UsageError(`invalid --inbound-ports "${text}": port ${n} is given twice`, { hint: 'give each port once' });
    seen.add(n);
    return String(n);
  });
}

/**
 * The service CIDR out of the API server's answer to a Service whose clusterIP is out of range:
 * `… is not in the valid range. The range of valid IPs is 10.96.0.0/16` (kube-api fixture 13).
 */
export function cidrFromRangeMessage(message: string): string | undefined {
  const m = /The range of valid IPs is ([0-9A-Fa-f.:]+\/\d+)/.exec(message);
  return m && !cidrProblem(m[1]!) ? m[1] : undefined;
}
