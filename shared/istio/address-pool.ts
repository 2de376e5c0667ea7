// The addresses of `.global` services (reference/istioctl.md §8): each service gets its own address from a range,
// 127.255.0.0/16 by default, which only needs to be unique in the cluster since the sidecar captures it. The
// lowest free address is chosen; the range's first (network) and last (broadcast) addresses are never given out.
import { UsageError } from '../errors.ts';
import { isIPv4 } from '../kube/names.ts';

export interface AddressRange {
  /** The range as the user wrote it, normalised: 127.255.0.0/16. */
  cidr: string;
  first: number;
  last: number;
}

export const DEFAULT_GLOBAL_RANGE = '127.255.0.0/16';

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** An IPv4 CIDR with room for at least two addresses (prefix /8 to /30). */
export function parseRange(text: string, flag = '--address-range'): AddressRange {
  const hint = `for example ${flag} ${DEFAULT_GLOBAL_RANGE} or ${flag} 240.0.0.0/16`;
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1]!)) throw new UsageError(`invalid ${flag} "${text}": expected an IPv4 CIDR such as ${DEFAULT_GLOBAL_RANGE}`, { hint });
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new UsageError(`invalid ${flag} "${text}": the prefix length must be from 8 to 30`, { hint });
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToNumber(m[1]!) / size) * size;
  if (base !== ipToNumber(m[1]!)) throw new UsageError(`invalid ${flag} "${text}": ${m[1]} is not the first address of a /${prefix}; did you mean ${numberToIp(base)}/${prefix}?`, { hint });
  return { cidr: `${numberToIp(base)}/${prefix}`, first: base + 1, last: base + size - 2 };
}

export function inRange(range: AddressRange, ip: string): boolean {
  if (!isIPv4(ip)) return false;
  const n = ipToNumber(ip);
  return n >= range.first && n <= range.last;
}

/**
 * The addresses that a ServiceEntry's `spec.addresses` take away: single addresses and, for CIDRs (which Istio
 * allows there), every address they cover, as [first, last] number pairs. IPv6 entries cannot clash and are skipped.
 */
export function takenSpans(addresses: readonly string[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const a of addresses) {
    const [ip, bits] = a.split('/');
    if (!ip || !isIPv4(ip)) continue;
    const prefix = bits === undefined ? 32 : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) continue;
    const size = 2 ** (32 - prefix);
    const base = Math.floor(ipToNumber(ip) / size) * size;
    spans.push([base, base + size - 1]);
  }
  return spans;
}

/** The lowest address of the range that no span covers, or undefined when the range is full. */
export function lowestFree(range: AddressRange, taken: readonly [number, number][]): string | undefined {
  const sorted = taken.filter(([a, b]) => b >= range.first && a <= range.last).sort((x, y) => x[0] - y[0]);
  let candidate = range.first;
  for (const [a, b] of sorted) {
    if (a > candidate) break;
    candidate = Math.max(candidate, b + 1);
  }
  return candidate <= range.last ? numberToIp(candidate) : undefined;
}
