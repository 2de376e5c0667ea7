// Who has which `.global` address. The claims live in one ConfigMap, kubectl-vm-global-addresses in the Istio
// namespace, whose keys are addresses and values hosts (`127.255.0.3: httpbin.bar.global`). A claim is a
// read-modify-write of that ConfigMap guarded by its resourceVersion (or a POST when it does not exist yet), so
// the API server itself settles races: of two runs that picked the same address, one gets 409 Conflict (or
// AlreadyExists), reads again, and takes the next free address.
import { ConflictError } from '../errors.ts';
import { lowestFree, type AddressRange } from '../istio/address-pool.ts';
import type { ObjectApi } from './transaction.ts';
import { notOurs } from './ensure.ts';
import { isAlreadyExists, isConflict } from './errors.ts';
import { MANAGED_BY_LABEL, MANAGER, isManaged, type KubeObject } from './objects.ts';
import { ipToNumber } from '../istio/address-pool.ts';
import { retryOnConflict } from './retry.ts';

export const ADDRESS_CONFIGMAP = 'kubectl-vm-global-addresses';

type ConfigMap = KubeObject & { data?: Record<string, string> };

export interface ClaimRequest {
  /** Where the claims ConfigMap lives: the Istio namespace, the same for every run that must not collide. */
  namespace: string;
  host: string;
  range: AddressRange;
  /** The address our ServiceEntry for this host already has: a re-run keeps it. */
  current?: string;
  /** Addresses (as number spans) that other ServiceEntries use. */
  taken: [number, number][];
}

export interface Claim {
  address: string;
  /** kept: the host already had it; claimed: written into the ConfigMap now. */
  outcome: 'kept' | 'claimed';
  /** How many times a concurrent claim made us start over. */
  retries: number;
}

/** The address of `host`, claimed in the ConfigMap if it has none yet. Retried on 409 until it goes through. */
export function claimAddress(kube: ObjectApi, req: ClaimRequest): Promise<Claim> {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: ADDRESS_CONFIGMAP, namespace: req.namespace };
  return retryOnConflict(
    async (attempt) => {
      const cm = await kube.get<ConfigMap>(ref);
      if (cm && !isManaged(cm)) throw notOurs(ref);
      const data = cm?.data ?? {};
      const retries = attempt - 1;
      const owner = (address: string) => data[address];
      if (req.current && owner(req.current) === req.host) return { address: req.current, outcome: 'kept', retries };
      const recorded = Object.keys(data).find((a) => data[a] === req.host);
      let address: string | undefined;
      if (req.current && owner(req.current) === undefined) address = req.current;
      else if (!req.current && recorded) return { address: recorded, outcome: 'kept', retries };
      else {
        const claimed = Object.keys(data).map((a): [number, number] => [ipToNumber(a), ipToNumber(a)]);
        address = lowestFree(req.range, [...req.taken, ...claimed]);
      }
      if (!address) {
        throw new ConflictError(`every address of ${req.range.cidr} is taken by a ServiceEntry or claimed in configmap ${req.namespace}/${ADDRESS_CONFIGMAP}`, {
          hint: 'give a larger range with --address-range, or remove the claims of services that are gone from that ConfigMap',
        });
      }
      // Claims of hosts that moved to another address are dropped, so one host holds one address.
      const next: Record<string, string> = Object.fromEntries(Object.entries(data).filter(([, h]) => h !== req.host));
      next[address] = req.host;
      if (cm) await kube.replace<ConfigMap>({ ...cm, data: sortByAddress(next) });
      else await kube.create<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ADDRESS_CONFIGMAP, namespace: req.namespace, labels: { [MANAGED_BY_LABEL]: MANAGER } }, data: next });
      return { address, outcome: 'claimed', retries };
    },
    undefined,
    40,
    (e) => isConflict(e) || isAlreadyExists(e),
  );
}

function sortByAddress(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => ipToNumber(a) - ipToNumber(b)));
}
