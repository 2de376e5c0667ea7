// register: VM addresses behind a selector-less Service (reference/istioctl.md §5), fixing istioctl's B18: only
// NotFound creates the Service, a Service with a selector is refused, names and ports and addresses are checked,
// an address is never listed twice, and a Service that register made is brought up to date (with a warning).
// Adding addresses is a read-plan-write cycle that starts over on 409, so concurrent registers lose nothing.
import { checkNamespace, checkServiceName, checkSubdomain, parseKeyValues } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { keepHeapSmall } from '../../shared/cli/heap.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { ConflictError, UsageError } from '../../shared/errors.ts';
import {
  buildEndpoints,
  buildRegisteredService,
  endpointsAddresses,
  gatherAddresses,
  MAX_ENDPOINTS_PER_SLICE,
  parseRegisterPorts,
  planSlices,
  showPorts,
  sliceAddresses,
  type EndpointSlice,
  type Endpoints,
  type EndpointsApi,
  type ServiceFields,
} from '../../shared/istio/registration.ts';
import { ensure, reconcile, type Outcome } from '../../shared/kube/ensure.ts';
import { isAddressList } from '../../shared/kube/names.ts';
import { isManaged, type KubeObject } from '../../shared/kube/objects.ts';
import { checkOurEndpoints, readRegistered, retryOnRace, writeSlicePlan, type Registered } from '../../shared/kube/registration-store.ts';
import { transaction, type ObjectApi } from '../../shared/kube/transaction.ts';
import { resourceName } from '../../shared/output/printer.ts';
import type { RegisterArgs } from './command.ts';

const USAGE = 'kubectl vm register <service> <ip>[,<ip>…] [<name>:]<port>… [--from-file ips.txt]';

/** With --from-file, the addresses may be left out of the positionals: then what follows the service is ports. */
function splitPositionals(args: RegisterArgs): { ips?: string; ports: string[] } {
  const rest = [args.ips, ...(args.ports ?? [])].filter((x): x is string => x !== undefined);
  if (args.fromFile?.length && rest[0] !== undefined && !isAddressList(rest[0])) return { ports: rest };
  return { ips: rest[0], ports: rest.slice(1) };
}

export async function run(ctx: PluginContext, args: RegisterArgs): Promise<Result> {
  const positionals = splitPositionals(args);
  if (!args.service || (!positionals.ips && !args.fromFile?.length)) throw new UsageError('register requires service name, IP, and port', { hint: USAGE });
  const fields: Omit<ServiceFields, 'namespace'> = {
    name: checkServiceName('service name', args.service),
    ports: parseRegisterPorts(positionals.ports),
    labels: parseKeyValues(args.labels ?? [], 'label'),
    annotations: parseKeyValues(args.annotations ?? [], 'annotation'),
    serviceAccount: checkSubdomain('service account', args.serviceAccount),
  };
  const ips = gatherAddresses(positionals.ips, args.fromFile ?? [], (file) => ctx.readFile(file));
  if (ips.length > MAX_ENDPOINTS_PER_SLICE) keepHeapSmall();
  if (ips.length === 0) throw new UsageError('no address to register', { hint: USAGE });
  const f: ServiceFields = { ...fields, namespace: checkNamespace(ctx.namespace()) };
  const kube = ctx.kube();
  const suffix = dryRunSuffix(ctx.dryRun);

  // One transaction: if the endpoints cannot be written, a Service this run created or changed is put back.
  return transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
    // Everything is read and checked before the first write, so that a refusal leaves the cluster as it was.
    const live = await tx.get<LiveService>({ apiVersion: 'v1', kind: 'Service', name: f.name, namespace: f.namespace });
    const desired = buildRegisteredService(f);
    const keepService = live !== undefined && checkService(ctx, f, desired, live);
    let state = await readRegistered(tx, f.namespace, f.name);
    checkApiChoice(state, args.endpointsApi, f.namespace, f.name);
    const foreign = state.endpoints && !isManaged(state.endpoints) ? endpointsAddresses(state.endpoints) : [];
    if (args.endpointsApi === 'endpointslices' && foreign.length) ctx.log.warn(`Service ${f.namespace}/${f.name} also has Endpoints that kubectl-vm did not write; they stay as they are`);

    const service = await ctx.step(`Service ${f.namespace}/${f.name}`, async (report) => {
      const r: ServiceOutcome = !live ? await ensure(tx, desired) : keepService ? { object: live, outcome: 'kept' } : await reconcile(tx, desired, live);
      report(`Service ${f.namespace}/${f.name} ${r.outcome}${suffix}`);
      return r;
    });

    const endpoints = await ctx.step(`Endpoints of ${f.namespace}/${f.name}`, async (report) => {
      const r = await retryOnRace(async (attempt) => {
        if (attempt > 1) {
          state = await readRegistered(tx, f.namespace, f.name);
          checkApiChoice(state, args.endpointsApi, f.namespace, f.name);
        }
        return args.endpointsApi === 'endpoints' ? registerEndpoints(tx, f, ips, state.endpoints) : registerSlices(tx, f, ips, state.slices);
      });
      report(`Endpoints of ${f.namespace}/${f.name}: ${r.added.length ? `${r.added.length} added` : 'unchanged'}, ${r.total} in all${suffix}`);
      return r;
    });

    if (endpoints.already.length) ctx.log.note(`already registered with ${f.namespace}/${f.name}: ${endpoints.already.length > 5 ? `${endpoints.already.length} addresses` : endpoints.already.join(', ')}`);
    return {
      objects: [service.object, ...endpoints.objects],
      summary: [`${resourceName(service.object)} ${service.outcome}${suffix}`, ...endpoints.lines.map((l) => l + suffix)],
    };
  });
}

type LiveService = KubeObject & { spec?: { selector?: Record<string, string>; ports?: { name?: string; port: number }[] } };
type ServiceOutcome = { object: KubeObject; outcome: Outcome | 'kept' };

/**
 * Checks an existing Service: one with a selector is refused; someone else's is kept as it is (true) if its
 * ports are ours, refused otherwise; ours is updated (false), with a warning saying what changes.
 */
function checkService(ctx: PluginContext, f: ServiceFields, desired: KubeObject, live: LiveService): boolean {
  const selector = live.spec?.selector ?? {};
  if (Object.keys(selector).length) {
    throw new ConflictError(
      `Service ${f.namespace}/${f.name} has a selector (${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')}): the endpoints controller keeps its endpoints and would overwrite the addresses register writes`,
      { hint: 'register the VMs under a Service without a selector, e.g. another name' },
    );
  }
  const livePorts = (live.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port }));
  const changedPorts = showPorts(livePorts) !== showPorts(f.ports);
  if (!isManaged(live)) {
    if (changedPorts) {
      throw new ConflictError(`Service ${f.namespace}/${f.name}, which kubectl-vm does not manage, has the ports ${showPorts(livePorts)}, not ${showPorts(f.ports)}`, {
        hint: `register with its ports: ${livePorts.map((p) => `${p.name}:${p.port}`).join(' ')}`,
      });
    }
    ctx.log.note(`Service ${f.namespace}/${f.name} is not managed by kubectl-vm: its endpoints are added, the Service itself is left as it is`);
    return true;
  }
  if (changedPorts) ctx.log.warn(`the ports of Service ${f.namespace}/${f.name} change from ${showPorts(livePorts)} to ${showPorts(f.ports)}; every address registered with it serves the new ones`);
  const changes = [...changed('label', desired.metadata.labels, live.metadata.labels), ...changed('annotation', desired.metadata.annotations, live.metadata.annotations)];
  if (changes.length) ctx.log.warn(`Service ${f.namespace}/${f.name} changes: ${changes.join(', ')}`);
  return false;
}

/** Never both APIs: the mirroring controller would list the addresses twice. Never someone else's Endpoints. */
function checkApiChoice(state: Registered, api: EndpointsApi, namespace: string, service: string): void {
  if (api === 'endpoints') {
    if (state.slices.length) {
      throw new ConflictError(`the addresses of Service ${namespace}/${service} are kept as EndpointSlices; writing Endpoints too would list them twice`, {
        hint: 'leave out --endpoints-api=endpoints, or deregister them all first',
      });
    }
    checkOurEndpoints(state.endpoints, namespace, service);
  } else if (state.endpoints && isManaged(state.endpoints)) {
    throw new ConflictError(`the addresses of Service ${namespace}/${service} are kept as Endpoints (register --endpoints-api=endpoints wrote them); writing EndpointSlices too would list them twice`, {
      hint: 'add --endpoints-api=endpoints, or deregister them all first',
    });
  }
}

/** `label app=db (was app=web)`: what a re-run with other -l, -a or -s changes. */
function changed(kind: string, want: Record<string, string> = {}, have: Record<string, string> = {}): string[] {
  return Object.entries(want)
    .filter(([k, v]) => have[k] !== v)
    .map(([k, v]) => `${kind} ${k}=${v}${have[k] === undefined ? '' : ` (was ${have[k]})`}`);
}

interface EndpointsOutcome {
  objects: KubeObject[];
  lines: string[];
  added: string[];
  already: string[];
  total: number;
}

async function registerSlices(kube: ObjectApi, f: ServiceFields, ips: string[], slices: EndpointSlice[]): Promise<EndpointsOutcome> {
  const current = slices.flatMap(sliceAddresses);
  const { added, already } = splitNew(current, ips);
  const plan = planSlices(f.name, f.namespace, slices, [...current, ...added], f.ports, f.labels);
  const { written, lines } = await writeSlicePlan(kube, slices, plan);
  return { objects: [...written, ...plan.unchanged], lines, added, already, total: current.length + added.length };
}

async function registerEndpoints(kube: ObjectApi, f: ServiceFields, ips: string[], ep: Endpoints | undefined): Promise<EndpointsOutcome> {
  const current = ep ? endpointsAddresses(ep) : [];
  const { added, already } = splitNew(current, ips);
  const samePorts = ep && showPorts(ep.subsets?.[0]?.ports ?? []) === showPorts(f.ports);
  if (ep && added.length === 0 && samePorts) return { objects: [ep], lines: [`${resourceName(ep)} unchanged`], added, already, total: current.length };
  const written = ep ? await kube.replace(buildEndpoints(f, [...current, ...added], ep)) : await kube.create(buildEndpoints(f, added));
  return { objects: [written], lines: [`${resourceName(written)} ${ep ? 'configured' : 'created'}`], added, already, total: current.length + added.length };
}

/** The given addresses that are new and those already registered, in their order (a Set lookup: linear). */
function splitNew(current: string[], ips: string[]): { added: string[]; already: string[] } {
  const have = new Set(current);
  return { added: ips.filter((ip) => !have.has(ip)), already: ips.filter((ip) => have.has(ip)) };
}
