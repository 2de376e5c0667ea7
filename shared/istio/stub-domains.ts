// kube-dns's stubDomains (seed 000 "Setup DNS"): a JSON object from domain to name server addresses, kept in the
// kube-dns ConfigMap. We set "global" and keep every other entry, in its order.
import { DataError } from '../errors.ts';

export interface StubDomainsEdit {
  text: string;
  changed: boolean;
}

const HINT = 'fix data.stubDomains (kubectl -n kube-system edit configmap kube-dns), then run this again';

/** Sets `global` to [clusterIp] in a stubDomains JSON text (undefined: none yet); other domains stay as they are. */
export function mergeStubDomains(current: string | undefined, clusterIp: string): StubDomainsEdit {
  let parsed: unknown = {};
  if (current !== undefined && current.trim() !== '') {
    try {
      parsed = JSON.parse(current);
    } catch (err) {
      throw new DataError(`data.stubDomains of configmap kube-system/kube-dns is not JSON: ${(err as Error).message}`, { hint: HINT });
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DataError('data.stubDomains of configmap kube-system/kube-dns is not a JSON object of domain → [addresses]', { hint: HINT });
  }
  const domains = parsed as Record<string, unknown>;
  for (const [domain, servers] of Object.entries(domains)) {
    if (!Array.isArray(servers) || servers.some((s) => typeof s !== 'string')) {
      throw new DataError(`data.stubDomains of configmap kube-system/kube-dns: the servers of "${domain}" are not a list of strings`, { hint: HINT });
    }
  }
  const have = domains.global as string[] | undefined;
  if (have && have.length === 1 && have[0] === clusterIp) return { text: current!, changed: false };
  const merged = { ...domains, global: [clusterIp] };
  // Written the way the file was: pretty-printed if it was, compact otherwise (the seed's one-line form).
  const pretty = current !== undefined && /\n\s+"/.test(current);
  const text = pretty ? `${JSON.stringify(merged, null, 2)}\n` : JSON.stringify(merged);
  return { text, changed: true };
}
