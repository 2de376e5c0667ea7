// deregister: takes VM addresses out of the Service that register filled (reference/istioctl.md §5), fixing
// istioctl's B19: an address that is not registered is a note, not an error; the last address leaves a valid,
// empty endpoint list; --delete-service-when-empty removes the endpoints and, if kubectl-vm manages it, the
// Service. Which API holds the addresses (EndpointSlices or Endpoints) is read from the cluster, not asked for.
import { checkNamespace, checkServiceName } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { keepHeapSmall } from '../../shared/cli/heap.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { UsageError } from '../../shared/errors.ts';
import { endpointsAddresses, gatherAddresses, MAX_ENDPOINTS_PER_SLICE, planSlices, sliceAddresses, type Endpoints } from '../../shared/istio/registration.ts';
import { deleteChecked } from '../../shared/kube/ensure.ts';
import { describeRef, isManaged, type KubeObject } from '../../shared/kube/objects.ts';
import { checkOurEndpoints, deleteExactly, readRegistered, retryOnRace, writeSlicePlan } from '../../shared/kube/registration-store.ts';
import { transaction, type ObjectApi } from '../../shared/kube/transaction.ts';
import { resourceName } from '../../shared/output/printer.ts';
import type { DeregisterArgs } from './command.ts';

const USAGE = 'kubectl vm deregister <service> <ip>[,<ip>…] [--from-file ips.txt] [--delete-service-when-empty]';

interface Removal {
  /** Objects changed or deleted (what -o prints). */
  objects: KubeObject[];
  lines: string[];
  removed: string[];
  missing: string[];
  left: number;
  /** False when the Service has no endpoints that kubectl-vm keeps. */
  found: boolean;
}

export async function run(ctx: PluginContext, args: DeregisterArgs): Promise<Result> {
  if (!args.service || (!args.ips && !args.fromFile?.length)) throw new UsageError('deregister requires service name and endpoint', { hint: USAGE });
  const name = checkServiceName('service name', args.service);
  const ips = gatherAddresses(args.ips, args.fromFile ?? [], (file) => ctx.readFile(file));
  if (ips.length > MAX_ENDPOINTS_PER_SLICE) keepHeapSmall();
  if (ips.length === 0) throw new UsageError('no address to deregister', { hint: USAGE });
  const namespace = checkNamespace(ctx.namespace());
  const kube = ctx.kube();
  const suffix = dryRunSuffix(ctx.dryRun);
  const dropAll = args.deleteServiceWhenEmpty === true;

  // One transaction: if the Service cannot be deleted after its endpoints were, the endpoints are put back.
  return transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
    const r = await ctx.step(`Endpoints of ${namespace}/${name}`, async (report) => {
      const r = await removeAddresses(tx, namespace, name, ips, dropAll);
      report(`Endpoints of ${namespace}/${name}: ${!r.found ? 'none' : r.removed.length ? `${r.removed.length} removed, ${r.left} left` : `unchanged, ${r.left} left`}${suffix}`);
      return r;
    });
    if (!r.found) ctx.log.note(`no address is registered with Service ${namespace}/${name}`);
    else if (r.missing.length) ctx.log.note(`not registered with ${namespace}/${name}, so nothing to remove: ${r.missing.length > 5 ? `${r.missing.length} addresses` : r.missing.join(', ')}`);

    const objects = [...r.objects];
    const lines = [...r.lines];
    if (dropAll && r.left === 0) {
      const gone = await deleteServiceIfOurs(ctx, tx, namespace, name);
      if (gone) {
        objects.push(gone);
        lines.push(`${resourceName(gone)} deleted`);
      }
    }
    return { objects, summary: lines.map((l) => l + suffix) };
  });
}

/** One read-plan-write cycle over whichever API holds the addresses; a 409 starts it over from a fresh read. */
function removeAddresses(kube: ObjectApi, namespace: string, service: string, ips: string[], dropAll: boolean): Promise<Removal> {
  return retryOnRace(async (): Promise<Removal> => {
    const { slices, endpoints: ep } = await readRegistered(kube, namespace, service);
    if (slices.length) {
      const current = slices.flatMap(sliceAddresses);
      const split = splitAddresses(current, ips);
      if (dropAll && split.left.length === 0) {
        for (const s of slices) await deleteExactly(kube, s);
        return { ...split.counts, objects: slices, lines: slices.map((s) => `${resourceName(s)} deleted`), found: true };
      }
      if (split.counts.removed.length === 0) return { ...split.counts, objects: [], lines: [], found: true };
      const plan = planSlices(service, namespace, slices, split.left, undefined);
      const { written, lines } = await writeSlicePlan(kube, slices, plan);
      return { ...split.counts, objects: [...written, ...plan.remove], lines: lines.filter((l) => !l.endsWith(' unchanged')), found: true };
    }
    if (!ep) return { objects: [], lines: [], removed: [], missing: ips, left: 0, found: false };
    checkOurEndpoints(ep, namespace, service);
    const split = splitAddresses(endpointsAddresses(ep), ips);
    if (dropAll && split.left.length === 0) {
      await deleteExactly(kube, ep);
      return { ...split.counts, objects: [ep], lines: [`${resourceName(ep)} deleted`], found: true };
    }
    if (split.counts.removed.length === 0) return { ...split.counts, objects: [], lines: [], found: true };
    const written = await kube.replace(withoutAddresses(ep, new Set(split.counts.removed)));
    return { ...split.counts, objects: [written], lines: [`${resourceName(written)} configured`], found: true };
  });
}

function splitAddresses(current: string[], ips: string[]) {
  const gone = new Set(ips);
  const have = new Set(current);
  const left = current.filter((ip) => !gone.has(ip));
  return {
    left,
    counts: { removed: ips.filter((ip) => have.has(ip)), missing: ips.filter((ip) => !have.has(ip)), left: left.length },
  };
}

/** The Endpoints without the addresses; a subset left with none is dropped, so the last one leaves `subsets: []`. */
export function withoutAddresses(ep: Endpoints, gone: Set<string>): Endpoints {
  const subsets = (ep.subsets ?? [])
    .map((s) => ({ ...s, addresses: (s.addresses ?? []).filter((a) => !gone.has(a.ip)) }))
    .filter((s) => s.addresses.length > 0 || (s.notReadyAddresses ?? []).length > 0);
  return { ...ep, subsets };
}

/** Deletes the Service when kubectl-vm manages it (checked against the uid we read); someone else's stays, with a note. */
async function deleteServiceIfOurs(ctx: PluginContext, kube: ObjectApi, namespace: string, name: string): Promise<KubeObject | undefined> {
  const ref = { apiVersion: 'v1', kind: 'Service', name, namespace };
  const live = await kube.get<KubeObject>(ref);
  if (!live) return undefined;
  if (!isManaged(live)) {
    ctx.log.note(`${describeRef(ref)} is not managed by kubectl-vm, so it stays`);
    return undefined;
  }
  return (await deleteChecked(kube, { ...live, apiVersion: ref.apiVersion, kind: ref.kind })) ? live : undefined;
}
