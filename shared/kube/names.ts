// Kubernetes naming and label rules (k8s.io/apimachinery/pkg/util/validation), checked before we touch the cluster
// so that a bad value gets a clear message instead of a 422 from the API server.
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Returns why `value` is not a DNS-1123 label (namespaces, port names), or undefined when it is one. */
export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL.test(value)) return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')";
  return undefined;
}

/** DNS-1035 label: a DNS-1123 label that starts with a letter. Service names must be one. */
export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_1035.test(value)) return "must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name' or 'abc-123')";
  return undefined;
}

/** DNS-1123 subdomain: most object names, service accounts, domains. */
export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (!SUBDOMAIN.test(value)) return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";
  return undefined;
}

/** A label or annotation key: an optional DNS subdomain prefix and "/", then a name of at most 63 characters. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === '') return 'the prefix before "/" must not be empty';
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `the prefix before "/" ${p}`;
  }
  if (name === '') return 'the name part must not be empty';
  if (name.length > 63) return 'the name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name)) return "the name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value !== '' && !QUALIFIED_NAME.test(value)) return "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function isIPv4(value: string): boolean {
  return IPV4.test(value);
}

/** IPv6 in any of its textual forms (RFC 4291 §2.2), without a zone: `fd00::5`, `::`, `::ffff:10.0.0.1`. */
export function isIPv6(value: string): boolean {
  if (value.includes('%') || (value.match(/::/g) ?? []).length > 1) return false;
  let groups = value;
  let width = 8;
  const lastColon = value.lastIndexOf(':');
  if (value.includes('.')) {
    if (!isIPv4(value.slice(lastColon + 1))) return false;
    groups = value.slice(0, lastColon + 1) + (value.slice(lastColon - 1, lastColon + 1) === '::' ? '' : '0');
    width = value.slice(lastColon - 1, lastColon + 1) === '::' ? 6 : 7;
  }
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const h = parts(head);
  const t = tail === undefined ? [] : parts(tail);
  if (![...h, ...t].every((g) => HEXTET.test(g))) return false;
  return tail === undefined ? h.length === width : h.length + t.length < width;
}

/** An IPv4 or IPv6 address as Kubernetes accepts it: no zone, no leading zeros in IPv4 octets. */
export function isIPAddress(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

/** True when every comma-separated item is an IP address. */
export function isAddressList(value: string): boolean {
  const items = value.split(',').map((s) => s.trim());
  return items.length > 0 && items.every((ip) => ip !== '' && isIPAddress(ip));
}
