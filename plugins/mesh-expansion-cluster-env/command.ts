import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, OUTPUT_GROUP, oneOf, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { CP_AUTH_VALUES, type CpAuth } from '../../shared/istio/mesh-expansion.ts';
import { run } from './run.ts';

export interface MeshExpansionClusterEnvArgs extends KubeArgs, CommonArgs {
  outputDir?: string;
  serviceCidr?: string;
  inboundPorts?: string;
  cpAuth: CpAuth;
  istioNamespace: string;
  ingressIp?: string;
  dryRun?: DryRun;
}

export const clusterEnv = defineCommand<MeshExpansionClusterEnvArgs>({
  command: '$0',
  describe: describeCommand('mesh-expansion cluster-env'),
  builder: (y: Argv) => {
    const flags = y
      .option('output-dir', stringFlag('Directory for cluster.env and hosts', OUTPUT_GROUP))
      .option('service-cidr', stringFlag("The cluster's service IP range(s), comma-separated (default: asked of the cluster)"))
      .option('inbound-ports', stringFlag('Ports the VM serves, whose inbound traffic the sidecar takes: 8888,3306, or "*"'))
      .option('cp-auth', { type: 'string', group: FLAGS_GROUP, coerce: oneOf<CpAuth>('cp-auth', CP_AUTH_VALUES), default: 'MUTUAL_TLS', describe: 'How the sidecar talks to the control plane: MUTUAL_TLS or NONE' })
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in'), default: 'istio-system' })
      .option('ingress-ip', stringFlag('The ingress gateway address for hosts (default: the load balancer of istio-ingressgateway)'));
    return withExamples(withKubeFlags(withDryRun(flags, 'Print cluster.env and hosts instead of writing them')), [
      ['cluster.env and hosts for the VMs, the service range and gateway asked of the cluster', 'kubectl vm mesh-expansion cluster-env --output-dir ./vm --inbound-ports 8888'],
      ['Without asking the cluster for anything but the gateway', 'kubectl vm mesh-expansion cluster-env --output-dir ./vm --service-cidr 10.96.0.0/12 --ingress-ip 35.232.112.158'],
      ['Look first: the two files, printed', 'kubectl vm mesh-expansion cluster-env --inbound-ports 8888 --dry-run'],
    ]) as unknown as Argv<MeshExpansionClusterEnvArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'mesh-expansion cluster-env', describe: describeCommand('mesh-expansion cluster-env'), commands: [clusterEnv] };
