// eastwest-gateway: prints the east-west gateway that gen-eastwest-gateway.sh prints (an IstioOperator, or with
// --ambient a Gateway API Gateway), for `istioctl install -f -` or `kubectl apply -f -`; it needs no cluster.
// B20 fixed: every flag and argument is checked (the script loops forever on a positional argument, which strict
// parsing refuses here, and ignores --mesh and --cluster), and the environment's NETWORK is read only with
// --network-from-env. --label-namespace labels the istio namespace with its network, with a merge patch of that
// one label (the namespace is not ours).
import { checkNamespace, checkNetwork } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { CliError, ConflictError, ExitCode, UsageError } from '../../shared/errors.ts';
import { buildEastwestGateway, NETWORK_LABEL, type EastwestGatewaySpec } from '../../shared/istio/eastwest-gateway.ts';
import { isRevisioned } from '../../shared/istio/revision.ts';
import { dns1123LabelProblem } from '../../shared/kube/names.ts';
import type { KubeObject, ObjectRef } from '../../shared/kube/objects.ts';
import { toYaml } from '../../shared/output/yaml.ts';
import type { EastwestGatewayArgs } from './command.ts';

const EXAMPLE = 'kubectl vm eastwest-gateway --single-cluster, or --network network1';

export async function run(ctx: PluginContext, args: EastwestGatewayArgs): Promise<Result> {
  const spec = specFrom(ctx, args);
  if (args.cluster !== undefined && !args.labelNamespace) {
    ctx.log.warn(`--cluster ${args.cluster} picks a kubeconfig cluster, which eastwest-gateway reads only with --label-namespace; the gateway does not name its cluster (gen-eastwest-gateway.sh ignored its --cluster)`);
  }
  const gateway = buildEastwestGateway(spec);
  if (args.labelNamespace) await labelNetwork(ctx, spec.istioNamespace, spec.network!);
  return { objects: [gateway], summary: [toYaml(gateway).replace(/\n$/, '')] };
}

/** Every flag and argument checked, before anything is printed or sent. */
export function specFrom(ctx: PluginContext, args: EastwestGatewayArgs): EastwestGatewaySpec {
  if (args.mesh !== undefined) {
    throw new UsageError('--mesh is not used: the mesh ID is set when Istio is installed (values.global.meshID), not on the gateway', {
      hint: 'leave out --mesh (gen-eastwest-gateway.sh has ignored it since Istio 1.12)',
    });
  }
  const envNetwork = ctx.getenv('NETWORK');
  let network = args.network;
  if (args.networkFromEnv) {
    if (network !== undefined) throw new UsageError('--network and --network-from-env exclude each other', { hint: 'give the network one way' });
    if (!envNetwork) throw new UsageError('--network-from-env: the environment variable NETWORK is not set', { hint: 'export NETWORK=<network>, or give --network <network>' });
    network = envNetwork;
  }
  if (args.ambient && network === undefined) {
    throw new UsageError('--ambient needs --network: an ambient east-west gateway belongs to a network', { hint: 'kubectl vm eastwest-gateway --ambient --network network1' });
  }
  if (network !== undefined && args.singleCluster) {
    throw new UsageError('--single-cluster and --network exclude each other', { hint: 'a single-network mesh has no network: give one of them' });
  }
  if (network === undefined && !args.singleCluster) {
    throw new UsageError('specify either --single-cluster or --network', {
      hint: envNetwork ? `NETWORK=${envNetwork} is set in the environment; add --network-from-env to use it` : `e.g. ${EXAMPLE}`,
    });
  }
  if (network !== undefined) checkNetwork(network, args.networkFromEnv ? 'NETWORK (--network-from-env)' : '--network');
  if (args.labelNamespace && network === undefined) {
    throw new UsageError('--label-namespace needs --network: a single-network mesh has no network to label', { hint: 'leave out --label-namespace, or give --network <network>' });
  }
  const revision = args.revision ?? '';
  if (revision !== '') {
    const problem = dns1123LabelProblem(revision);
    if (problem) throw new UsageError(`invalid revision "${revision}": ${problem}`, { hint: 'a revision is what istioctl install --revision was given, e.g. canary or 1-24-0' });
  }
  if (envNetwork && !args.networkFromEnv) ctx.log.note(`the environment variable NETWORK=${envNetwork} is not read without --network-from-env`);
  return { network, revision: isRevisioned(revision) ? revision : '', ambient: args.ambient === true, istioNamespace: checkNamespace(args.istioNamespace) };
}

/**
 * `kubectl label namespace <ns> topology.istio.io/network=<network>`, as the multi-network docs ask: a JSON merge
 * patch of that one label, since the namespace belongs to whoever installed Istio. A namespace already on another
 * network is refused (moving a cluster to another network re-routes its traffic).
 */
async function labelNetwork(ctx: PluginContext, namespace: string, network: string): Promise<void> {
  const kube = ctx.kube();
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
  await ctx.step(`namespace ${namespace}`, async (report) => {
    const live = await kube.get<KubeObject>(ref);
    if (!live) {
      throw new CliError(`namespace ${namespace} not found`, ExitCode.general, { hint: 'install Istio first, or name its namespace with --istio-namespace' });
    }
    const current = live.metadata.labels?.[NETWORK_LABEL];
    if (current === network) {
      report(`namespace/${namespace} unchanged (${NETWORK_LABEL}=${network})`);
      return;
    }
    if (current !== undefined) {
      throw new ConflictError(`namespace ${namespace} is on network "${current}" (label ${NETWORK_LABEL}), not "${network}"`, {
        hint: `moving a cluster to another network re-routes its traffic; if you mean it: kubectl label namespace ${namespace} ${NETWORK_LABEL}=${network} --overwrite`,
      });
    }
    await kube.mergePatch(ref, { metadata: { labels: { [NETWORK_LABEL]: network } } });
    report(`namespace/${namespace} labeled ${NETWORK_LABEL}=${network}${dryRunSuffix(ctx.dryRun)}`);
  });
}
