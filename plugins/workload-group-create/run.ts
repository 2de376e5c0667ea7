// workload-group create: prints the WorkloadGroup exactly as `istioctl x workload group create` prints it, and
// with --apply also creates or updates it in the cluster. Fixes B13: a bad port or label is an error (istioctl
// writes port 0), and the namespace defaults to the context's, as in kubectl (istioctl requires -n).
import { checkLocality, checkNamespace, checkNetwork, checkSubdomain, parseKeyValues, parseWeight } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { UsageError } from '../../shared/errors.ts';
import { buildWorkloadGroup, parseNamedPorts, parseProbe } from '../../shared/istio/workload-group.ts';
import { ensure } from '../../shared/kube/ensure.ts';
import { MANAGED_BY_LABEL, MANAGER } from '../../shared/kube/objects.ts';
import { resourceName } from '../../shared/output/printer.ts';
import { toYaml } from '../../shared/output/yaml.ts';
import type { WorkloadGroupCreateArgs } from './command.ts';

export async function run(ctx: PluginContext, args: WorkloadGroupCreateArgs): Promise<Result> {
  if (!args.name) throw new UsageError('expecting a workload name', { hint: 'kubectl vm workload-group create --name <name> [-n <namespace>]' });
  const fields = {
    name: checkSubdomain('WorkloadGroup name', args.name),
    labels: parseKeyValues(args.labels ?? [], 'label'),
    annotations: parseKeyValues(args.annotations ?? [], 'annotation'),
    ports: parseNamedPorts(args.ports ?? []),
    serviceAccount: checkSubdomain('service account', args.serviceAccount),
    network: args.network === undefined ? undefined : checkNetwork(args.network),
    locality: args.locality === undefined ? undefined : checkLocality(args.locality),
    weight: args.weight === undefined ? undefined : parseWeight(args.weight),
    probe: parseProbe({
      httpGet: args.probeHttpGet,
      tcp: args.probeTcp,
      exec: args.probeExec,
      initialDelay: args.probeInitialDelay,
      period: args.probePeriod,
      timeout: args.probeTimeout,
      successThreshold: args.probeSuccessThreshold,
      failureThreshold: args.probeFailureThreshold,
    }),
  };
  const wg = buildWorkloadGroup({ ...fields, namespace: checkNamespace(ctx.namespace({ offline: !args.apply })) });
  if (!args.apply) return { objects: [wg], summary: [toYaml(wg).replace(/\n$/, '')] };

  const desired = { ...wg, metadata: { ...wg.metadata, labels: { [MANAGED_BY_LABEL]: MANAGER } } };
  const result = await ctx.step(`WorkloadGroup ${wg.metadata.namespace}/${wg.metadata.name}`, async (report) => {
    const r = await ensure(ctx.kube(), desired);
    report(`WorkloadGroup ${wg.metadata.namespace}/${wg.metadata.name} ${r.outcome}${dryRunSuffix(ctx.dryRun)}`);
    return r;
  });
  return { objects: [result.object], summary: [`${resourceName(desired)} ${result.outcome}${dryRunSuffix(ctx.dryRun)}`] };
}
