// add-to-mesh external-service: a selector-less Service and a ServiceEntry mesh-expansion-<name> whose endpoints
// are the VMs (reference/istioctl.md §3). Everything is validated before the first request; the Service is
// created first and removed again if the ServiceEntry cannot be made, so that a failure leaves nothing behind.
import { checkNamespace, checkServiceName, checkSubdomain, parseAddresses, parseKeyValues } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { UsageError } from '../../shared/errors.ts';
import { buildService, buildServiceEntry, type ExternalServiceSpec } from '../../shared/istio/external-service.ts';
import { parsePorts } from '../../shared/istio/ports.ts';
import { ensure, type Ensured, type Outcome } from '../../shared/kube/ensure.ts';
import { describeRef, refOf, type KubeObject } from '../../shared/kube/objects.ts';
import { rollBack } from '../../shared/kube/rollback.ts';
import type { AddToMeshArgs } from './command.ts';

const USAGE = 'kubectl vm add-to-mesh external-service <name> <ip>[,<ip>…] [<protocol>:]<port>… [-n <namespace>]';

/** Checks every argument, and only then asks for the namespace (which may read the kubeconfig). */
export function specFrom(args: AddToMeshArgs, namespace: () => string): ExternalServiceSpec {
  if (!args.name || !args.ips || !args.ports?.length) {
    throw new UsageError('provide service name, IP and Port List', { hint: `usage: ${USAGE}` });
  }
  const spec = {
    name: checkServiceName('service name', args.name),
    addresses: parseAddresses(args.ips),
    ports: parsePorts(args.ports),
    labels: parseKeyValues(args.labels ?? [], 'label'),
    annotations: parseKeyValues(args.annotations ?? [], 'annotation'),
    serviceAccount: checkSubdomain('service account', args.serviceAccount),
    clusterDomain: checkSubdomain('cluster domain', args.clusterDomain),
  };
  return { ...spec, namespace: checkNamespace(namespace()) };
}

const VERB: Record<Outcome, string> = { created: 'has been created in', configured: 'has been updated in', unchanged: 'is unchanged in' };

export async function run(ctx: PluginContext, args: AddToMeshArgs): Promise<Result> {
  const spec = specFrom(args, ctx.namespace);
  const kube = ctx.kube();
  const apply = (desired: KubeObject) =>
    ctx.step(describeRef(refOf(desired)), async (report): Promise<Ensured<KubeObject>> => {
      const result = await ensure(kube, desired);
      report(`${describeRef(refOf(desired))} ${result.outcome}${dryRunSuffix(ctx.dryRun)}`);
      return result;
    });

  const service = await apply(buildService(spec));
  let entry: Ensured<KubeObject>;
  try {
    entry = await apply(buildServiceEntry(spec));
  } catch (err) {
    if (service.outcome === 'created' && ctx.dryRun === 'none') await rollBack(kube, ctx.log, [service.object], err);
    throw err;
  }

  const line = (kind: string, obj: KubeObject, outcome: Outcome) =>
    `${kind} "${obj.metadata.name}.${spec.namespace}" ${VERB[outcome]} the Istio service mesh for the external service "${spec.name}"${dryRunSuffix(ctx.dryRun)}`;
  return {
    objects: [service.object, entry.object],
    summary: [line('ServiceEntry', entry.object, entry.outcome), line('Kubernetes Service', service.object, service.outcome)],
  };
}
