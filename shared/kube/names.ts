// Kubernetes naming and label rules (k8s.io/apimachinery/pkg/util/validation), checked before we touch the cluster
// so that a bad value gets a clear message instead of a 422 from the API server.
import net from 'node:net';

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

/** An IPv4 or IPv6 address as Kubernetes accepts it: no zone, no leading zeros in IPv4 octets. */
export function isIPAddress(value: string): boolean {
  if (value.includes('%')) return false;
  const family = net.isIP(value);
  if (family === 4) return !/(^|\.)0\d/.test(value);
  return family === 6;
}
