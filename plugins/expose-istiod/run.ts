// expose-istiod: the Gateway and VirtualService (and for https a DestinationRule, with --services the Gateway
// cross-network-gateway) that let VMs on other networks reach istiod through the east-west gateway, as Istio's
// samples/multicluster files do (reference/istioctl.md §6), for the real istio namespace and cluster domain
// (B21). The east-west gateway's Service is checked first; --delete removes what the same flags create.
import { checkNamespace, checkSubdomain, parseKeyValues } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { CliError, ConfigError, ExitCode, UsageError } from '../../shared/errors.ts';
import {
  buildExposeIstiod,
  DEFAULT_GATEWAY_SELECTOR,
  ISTIOD_GATEWAY,
  requiredGatewayPorts,
  type ExposeIstiodSpec,
} from '../../shared/istio/expose-istiod.ts';
import { isRevisioned } from '../../shared/istio/revision.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { deleteChecked, ensure, notOurs } from '../../shared/kube/ensure.ts';
import { dns1123LabelProblem } from '../../shared/kube/names.ts';
import { describeRef, isManaged, refOf, type KubeObject } from '../../shared/kube/objects.ts';
import { transaction, type ObjectApi } from '../../shared/kube/transaction.ts';
import { resourceName } from '../../shared/output/printer.ts';
import type { ExposeIstiodArgs } from './command.ts';

export async function run(ctx: PluginContext, args: ExposeIstiodArgs): Promise<Result> {
  const spec = specFrom(args);
  if (args.namespace && args.namespace !== spec.istioNamespace) {
    ctx.log.warn(`-n ${args.namespace} is not used: the objects go into the istio namespace "${spec.istioNamespace}" (--istio-namespace)`);
  }
  const objects = buildExposeIstiod(spec);
  const kube = ctx.kube();
  if (args.delete) return remove(ctx, kube, objects);

  await ctx.step(`east-west gateway in ${spec.istioNamespace}`, async (report) => {
    const found = await checkGateway(ctx, kube, spec);
    report(found ? `east-west gateway Service ${spec.istioNamespace}/${found} exposes ${requiredGatewayPorts(spec).join(', ')}` : 'east-west gateway not checked');
  });
  const suffix = dryRunSuffix(ctx.dryRun);
  // One transaction: if one object cannot be written, those written before it are put back.
  return transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
    const applied: KubeObject[] = [];
    const summary: string[] = [];
    for (const desired of objects.map(clearOtherRoutes)) {
      const r = await ctx.step(describeRef(refOf(desired)), async (report) => {
        const result = await ensure(tx, desired);
        report(`${describeRef(refOf(desired))} ${result.outcome}${suffix}`);
        return result;
      });
      applied.push(r.object);
      summary.push(`${resourceName(desired)} ${r.outcome}${suffix}`);
    }
    return { objects: applied, summary };
  });
}

/**
 * A VirtualService of ours routes either `tls` (passthrough) or `http` (https): the other kind is set to nothing,
 * so that an update after switching --tls-mode leaves no stale routes behind (undefined is dropped when sent).
 */
function clearOtherRoutes(obj: KubeObject): KubeObject {
  if (obj.kind !== 'VirtualService') return obj;
  const spec = obj.spec as Record<string, unknown>;
  return { ...obj, spec: { ...spec, tls: spec.tls, http: spec.http } };
}

/** Every flag checked before the first request. */
export function specFrom(args: ExposeIstiodArgs): ExposeIstiodSpec {
  const revision = args.revision ?? '';
  if (revision !== '') {
    const problem = dns1123LabelProblem(revision);
    if (problem) throw new UsageError(`invalid revision "${revision}": ${problem}`, { hint: 'a revision is what istioctl install --revision was given, e.g. canary or 1-24-0' });
  }
  const selector = parseKeyValues(args.gatewaySelector ?? [], 'label');
  let tls: ExposeIstiodSpec['tls'] = { mode: 'passthrough' };
  if (args.tlsMode === 'https') {
    if (!args.credentialName || !args.host) {
      throw new UsageError('--tls-mode https needs --credential-name and --host', { hint: 'e.g. --tls-mode https --credential-name istiod-gateway-cert --host istiod.example.com' });
    }
    tls = { mode: 'https', credentialName: checkSubdomain('credential name', args.credentialName), host: checkSubdomain('host', args.host) };
  } else if (args.credentialName !== undefined || args.host !== undefined) {
    throw new UsageError(`--${args.credentialName !== undefined ? 'credential-name' : 'host'} is only used with --tls-mode https`, { hint: 'add --tls-mode https, or leave it out' });
  }
  return {
    istioNamespace: checkNamespace(args.istioNamespace),
    clusterDomain: checkSubdomain('cluster domain', args.clusterDomain),
    revision: isRevisioned(revision) ? revision : '',
    gatewaySelector: Object.keys(selector).length ? selector : { ...DEFAULT_GATEWAY_SELECTOR },
    tls,
    services: args.services === true,
  };
}

type GatewayService = KubeObject & {
  spec?: { type?: string; ports?: { port: number }[]; externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
};

/**
 * The east-west gateway's Service (labelled like its pods) must exist in the istio namespace and expose the ports
 * the objects use; a Service without an external address yet is a warning. Returns the Service's name, or
 * undefined when a client-side dry run has no cluster to ask.
 */
async function checkGateway(ctx: PluginContext, kube: KubeClient, spec: ExposeIstiodSpec): Promise<string | undefined> {
  const selector = Object.entries(spec.gatewaySelector).map(([k, v]) => `${k}=${v}`).join(',');
  let services: GatewayService[];
  try {
    services = await kube.list<GatewayService>('v1', 'Service', { namespace: spec.istioNamespace, labelSelector: selector });
  } catch (err) {
    if (ctx.dryRun === 'client' && err instanceof ConfigError) {
      ctx.log.warn(`the east-west gateway was not checked: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  const create = `kubectl vm eastwest-gateway ${spec.services ? '--network <network>' : '--single-cluster'}${spec.revision ? ` --revision ${spec.revision}` : ''} | istioctl install -y -f -`;
  if (services.length === 0) {
    throw new CliError(`no east-west gateway: no Service labelled ${selector} in namespace ${spec.istioNamespace}`, ExitCode.general, {
      hint: `install one first: ${create}`,
    });
  }
  const needed = requiredGatewayPorts(spec);
  const missing = (s: GatewayService) => needed.filter((p) => !(s.spec?.ports ?? []).some((sp) => sp.port === p));
  const svc = services.find((s) => missing(s).length === 0);
  if (!svc) {
    const s = services[0]!;
    throw new CliError(`the east-west gateway Service ${spec.istioNamespace}/${s.metadata.name} does not expose port ${missing(s).join(', ')} (it needs ${needed.join(', ')})`, ExitCode.general, {
      hint: `re-install the gateway with every port: ${create}`,
    });
  }
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (!ingress.some((i) => i.ip || i.hostname) && !svc.spec?.externalIPs?.length) {
    ctx.log.warn(`the east-west gateway Service ${spec.istioNamespace}/${svc.metadata.name} has no external address yet; VMs on other networks cannot reach it until it has one`);
  }
  return svc.metadata.name;
}

/**
 * Deletes what the same flags create, newest first, and only objects kubectl-vm manages: one that is not ours
 * stops everything before the first delete. The shared Gateway istiod-gateway stays while another
 * VirtualService (another revision's) still uses it.
 */
function remove(ctx: PluginContext, kube: KubeClient, objects: KubeObject[]): Promise<Result> {
  // One transaction: if one delete fails, what was deleted before it is created again.
  return transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, (tx) => removeAll(ctx, tx, objects));
}

async function removeAll(ctx: PluginContext, kube: ObjectApi, objects: KubeObject[]): Promise<Result> {
  const refs = objects.map(refOf).reverse();
  const live = await Promise.all(refs.map((ref) => kube.get<KubeObject>(ref)));
  if (live.every((o) => o === undefined)) {
    ctx.log.note(`nothing to remove: none of ${refs.map((r) => `${r.kind} ${r.name}`).join(', ')} exists in namespace ${refs[0]!.namespace}`);
    return { objects: [], summary: [] };
  }
  live.forEach((obj, i) => {
    if (obj && !isManaged(obj)) throw notOurs(refs[i]!);
  });
  const kept = new Set<number>();
  const gatewayIndex = refs.findIndex((r) => r.kind === 'Gateway' && r.name === ISTIOD_GATEWAY);
  if (live[gatewayIndex]) {
    const ours = new Set(refs.filter((r) => r.kind === 'VirtualService').map((r) => r.name));
    const users = (await kube.list<KubeObject & { spec?: { gateways?: string[] } }>('networking.istio.io/v1', 'VirtualService', { namespace: refs[0]!.namespace }))
      .filter((vs) => !ours.has(vs.metadata.name ?? '') && (vs.spec?.gateways ?? []).some((g) => g === ISTIOD_GATEWAY || g === `${refs[0]!.namespace}/${ISTIOD_GATEWAY}`))
      .map((vs) => vs.metadata.name);
    if (users.length) {
      ctx.log.note(`Gateway ${refs[0]!.namespace}/${ISTIOD_GATEWAY} stays: VirtualService ${users.join(', ')} still uses it`);
      kept.add(gatewayIndex);
    }
  }
  const suffix = dryRunSuffix(ctx.dryRun);
  const deleted: KubeObject[] = [];
  const summary: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const obj = live[i];
    if (kept.has(i)) continue;
    if (!obj) {
      ctx.log.note(`${describeRef(ref)} was already gone`);
      continue;
    }
    const gone = await ctx.step(describeRef(ref), async (report) => {
      const existed = await deleteChecked(kube, { ...obj, apiVersion: ref.apiVersion, kind: ref.kind });
      report(`${describeRef(ref)} ${existed ? 'deleted' : 'already gone'}${suffix}`);
      return existed;
    });
    if (gone) {
      deleted.push(obj);
      summary.push(`${resourceName(obj)} deleted${suffix}`);
    }
  }
  return { objects: deleted, summary };
}
