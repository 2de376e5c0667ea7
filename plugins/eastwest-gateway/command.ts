import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, stringFlag, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface EastwestGatewayArgs extends KubeArgs, OutputArgs, CommonArgs {
  network?: string;
  singleCluster?: boolean;
  networkFromEnv?: boolean;
  revision?: string;
  ambient?: boolean;
  istioNamespace: string;
  labelNamespace?: boolean;
  /** gen-eastwest-gateway.sh's --mesh, refused with an explanation rather than ignored (B20). */
  mesh?: string;
}

export const eastwestGateway = defineCommand<EastwestGatewayArgs>({
  command: '$0',
  describe: describeCommand('eastwest-gateway'),
  builder: (y: Argv) => {
    const flags = y
      .option('network', stringFlag('The network this cluster is on: a multi-network mesh'))
      .option('single-cluster', { type: 'boolean', group: FLAGS_GROUP, describe: 'A single-network mesh: the gateway only exposes istiod to VMs' })
      .option('network-from-env', { type: 'boolean', group: FLAGS_GROUP, describe: 'Take the network from the environment variable NETWORK, as gen-eastwest-gateway.sh did' })
      .option('revision', { alias: 'r', ...stringFlag('The control-plane revision the gateway belongs to') })
      .option('ambient', { type: 'boolean', group: FLAGS_GROUP, describe: 'An ambient mesh: print a Gateway API Gateway of class istio-east-west instead (needs a network)' })
      .option('istio-namespace', { alias: ['i', 'istioNamespace'], ...stringFlag('The namespace Istio is installed in (for --ambient and --label-namespace)'), default: 'istio-system' })
      .option('label-namespace', {
        type: 'boolean',
        group: FLAGS_GROUP,
        describe: 'Also label the istio namespace topology.istio.io/network=<network> in the cluster, as multi-network meshes need',
      })
      .option('mesh', { type: 'string', hidden: true });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Install the east-west gateway of a single-network mesh', 'kubectl vm eastwest-gateway --single-cluster | istioctl install -y -f -'],
      ['On network1 of a multi-network mesh, labelling istio-system as the docs require', 'kubectl vm eastwest-gateway --network network1 --label-namespace | istioctl install -y -f -'],
      ['For a revisioned control plane', 'kubectl vm eastwest-gateway --single-cluster --revision canary | istioctl install -y -f -'],
      ['Ambient: a Gateway API Gateway, to kubectl apply -f once the Gateway API CRDs are installed', 'kubectl vm eastwest-gateway --ambient --network network1 > eastwest-gateway.yaml'],
    ]) as unknown as Argv<EastwestGatewayArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'eastwest-gateway', describe: describeCommand('eastwest-gateway'), commands: [eastwestGateway] };
