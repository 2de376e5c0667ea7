// Parsers for values users type, shared by every plugin: each one names the bad value and says what to write.
import { UsageError } from '../errors.ts';
import {
  dns1035LabelProblem,
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  isIPAddress,
  labelValueProblem,
  qualifiedNameProblem,
} from '../kube/names.ts';

type Rule = (value: string) => string | undefined;

function check(what: string, value: string, rule: Rule, hint?: string): string {
  const problem = rule(value);
  if (problem) throw new UsageError(`invalid ${what} "${value}": ${problem}`, hint ? { hint } : undefined);
  return value;
}

export const checkServiceName = (what: string, v: string) => check(what, v, dns1035LabelProblem, 'use lower-case letters, digits and "-", starting with a letter');
export const checkNamespace = (v: string) => check('namespace', v, dns1123LabelProblem, 'use lower-case letters, digits and "-"');
export const checkSubdomain = (what: string, v: string) => check(what, v, dns1123SubdomainProblem, 'use lower-case letters, digits, "-" and "."');

/** `10.0.0.1,fd00::1` → the addresses, each a valid IPv4 or IPv6 address, none twice. */
export function parseAddresses(csv: string): string[] {
  const items = csv.split(',');
  const seen = new Set<string>();
  return items.map((raw) => {
    const ip = raw.trim();
    if (ip === '') throw new UsageError(`empty address in "${csv}"`, { hint: 'separate addresses with single commas, e.g. 10.0.0.5,10.0.0.6' });
    if (!isIPAddress(ip)) throw new UsageError(`invalid IP address "${ip}"`, { hint: 'give IPv4 (10.0.0.5) or IPv6 (fd00::5) addresses, separated by commas' });
    if (seen.has(ip)) throw new UsageError(`IP address ${ip} is given twice`, { hint: 'give each address once' });
    seen.add(ip);
    return ip;
  });
}

/**
 * `k=v` items (already split at commas) → a map. Label values follow the label-value rules; annotation values
 * are free text. Every item needs its "=": `k=` is the explicit empty value (istioctl took a bare `k` as that,
 * which turned typos like `-a novalue` into annotations).
 */
export function parseKeyValues(items: string[], kind: 'label' | 'annotation'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === -1) {
      throw new UsageError(`invalid ${kind} "${item}": expected key=value`, {
        hint: kind === 'label' ? 'for example -l app=vmhttp,version=v1' : `for example -a team=payments; "${item}=" gives ${item} an empty value`,
      });
    }
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) throw new UsageError(`invalid ${kind} key "${key}": ${keyProblem}`, { hint: 'keys look like app or example.com/team' });
    if (kind === 'label') {
      const valueProblem = labelValueProblem(value);
      if (valueProblem) throw new UsageError(`invalid value "${value}" of label ${key}: ${valueProblem}`, { hint: 'label values are at most 63 letters, digits, "-", "_" or "."' });
    }
    if (key in out && out[key] !== value) throw new UsageError(`${kind} ${key} is given twice, as "${out[key]}" and "${value}"`, { hint: `give ${key} once` });
    out[key] = value;
  }
  return out;
}

/** `--network`: a label value (it becomes topology.istio.io/network), not empty. The same rule in every command. */
export function checkNetwork(value: string, flag = '--network'): string {
  const problem = value === '' ? 'it is empty' : labelValueProblem(value);
  if (problem) throw new UsageError(`invalid ${flag} "${value}": ${problem}`, { hint: 'a network is a label value: at most 63 letters, digits, "-", "_" or ".", e.g. network1' });
  return value;
}

/** `--locality region[/zone[/subzone]]`: one to three non-empty segments, each a label value. */
export function checkLocality(value: string): string {
  const parts = value.split('/');
  const problem =
    value === ''
      ? 'it is empty'
      : parts.length > 3
        ? 'it has more than three parts (region/zone/subzone)'
        : parts.map((p) => (p === '' ? 'a part is empty' : labelValueProblem(p))).find((x) => x !== undefined);
  if (problem) throw new UsageError(`invalid --locality "${value}": ${problem}`, { hint: 'write region[/zone[/subzone]], e.g. us-east1/us-east1-b' });
  return value;
}

/** `--weight`: a whole number from 0 to 2^32-1, as WorkloadEntry.weight is a uint32. */
export function parseWeight(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 4294967295) throw new UsageError(`invalid --weight "${value}": expected a whole number from 0 to 4294967295`, { hint: 'e.g. --weight 100' });
  return Number(value);
}
