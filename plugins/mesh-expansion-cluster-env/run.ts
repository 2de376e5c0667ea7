// mesh-expansion cluster-env: the legacy cluster.env and hosts of seeds 000, 001 and 004 (reference/istioctl.md
// §8), which users wrote with `echo -e "ISTIO_CP_AUTH=…\nISTIO_SERVICE_CIDR=$ISTIO_SERVICE_CIDR"` after finding
// the service range by hand. Here the range comes from the cluster (ServiceCIDRs, else a dry-run Service whose
// refusal names it) and the gateway from istio-ingressgateway's load balancer. Both files are written together.
import { checkNamespace } from '../../shared/cli/args.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { CliError, ExitCode, UsageError } from '../../shared/errors.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { checkOutputDirectory, dryRunListing, writeDirectory } from '../../shared/fs/write.ts';
import { namespaceExists } from '../../shared/kube/istio-reads.ts';
import { parseInboundPorts, parseServiceCidrs, renderLegacyClusterEnv, renderLegacyHosts } from '../../shared/istio/mesh-expansion.ts';
import { gatewayAddress } from '../../shared/kube/gateway.ts';
import { isIPAddress } from '../../shared/kube/names.ts';
import { findServiceCidrs } from '../../shared/kube/service-cidr.ts';
import type { MeshExpansionClusterEnvArgs } from './command.ts';

const INGRESS_GATEWAY = 'istio-ingressgateway';

export async function run(ctx: PluginContext, args: MeshExpansionClusterEnvArgs): Promise<Result> {
  const dryRun = args.dryRun !== undefined && args.dryRun !== 'none';
  if (!args.outputDir && !dryRun) throw new UsageError('expecting an output directory', { hint: 'add --output-dir <dir>: cluster.env and hosts go there (or --dry-run to only look)' });
  if (args.outputDir !== undefined) checkOutputDirectory(args.outputDir, ['cluster.env', 'hosts']);
  const given = args.serviceCidr === undefined ? undefined : parseServiceCidrs(args.serviceCidr);
  const inboundPorts = args.inboundPorts === undefined ? undefined : parseInboundPorts(args.inboundPorts);
  const istioNamespace = checkNamespace(args.istioNamespace);
  if (args.ingressIp !== undefined && !isIPAddress(args.ingressIp)) {
    throw new UsageError(`invalid --ingress-ip "${args.ingressIp}": expected an IPv4 or IPv6 address`, { hint: 'e.g. --ingress-ip 35.232.112.158' });
  }

  // A namespace the cluster says does not exist is an error, whenever the cluster is asked anything.
  if ((given === undefined || args.ingressIp === undefined) && (await namespaceExists(ctx.kube(), istioNamespace)) === false) {
    throw new CliError(`namespace ${istioNamespace} not found`, ExitCode.general, { hint: 'check --istio-namespace (-i): the namespace Istio is installed in; list them with: kubectl get namespaces' });
  }

  let serviceCidrs = given;
  if (!serviceCidrs) {
    const namespace = checkNamespace(ctx.namespace());
    const tried: string[] = [];
    const found = await ctx.step('Service CIDR', async (report) => {
      const f = await findServiceCidrs(ctx.kube(), namespace, tried);
      if (!f) {
        throw new CliError('cannot find the service IP range of the cluster', ExitCode.general, { details: tried, hint: 'give it with --service-cidr, e.g. --service-cidr 10.96.0.0/12 (see the kube-apiserver flag --service-cluster-ip-range)' });
      }
      report(`Service CIDR ${f.cidrs.join(',')} (from ${f.source === 'ServiceCIDR' ? 'the ServiceCIDR objects' : 'a server-side dry run'})`);
      return f;
    });
    serviceCidrs = found.cidrs;
  }

  let gateway = args.ingressIp;
  if (gateway === undefined) {
    gateway = await gatewayAddress(ctx, INGRESS_GATEWAY, istioNamespace, 'is Istio installed with its ingress gateway? check --istio-namespace');
    if (gateway === undefined) ctx.log.warn(`hosts is empty: give the address VMs reach the ingress gateway at with --ingress-ip`);
  }

  const clusterEnv = renderLegacyClusterEnv({ cpAuth: args.cpAuth, serviceCidrs, inboundPorts, istioNamespace });
  const files = [
    { name: 'cluster.env', content: clusterEnv, mode: 0o644 },
    { name: 'hosts', content: renderLegacyHosts(gateway, istioNamespace), mode: 0o644 },
  ];
  if (dryRun) return { summary: dryRunListing(args.outputDir ?? '.', false, files, dryRunSuffix(ctx.dryRun)) };
  writeDirectory(args.outputDir!, files);
  return { summary: [`cluster.env and hosts written into directory ${args.outputDir}`] };
}
