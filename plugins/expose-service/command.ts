import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { commaList, FLAGS_GROUP, stringFlag, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { DEFAULT_GLOBAL_RANGE } from '../../shared/istio/address-pool.ts';
import { run } from './run.ts';

export interface ExposeServiceArgs extends KubeArgs, OutputArgs, CommonArgs {
  service?: string;
  port?: string[];
  gatewayAddress?: string;
  gatewayService?: string;
  istioNamespace: string;
  addressRange: string;
}

const ISTIO_GROUP = 'Istio flags:';

export const exposeService = defineCommand<ExposeServiceArgs>({
  command: '$0 [service]',
  describe: describeCommand('expose-service'),
  builder: (y: Argv) => {
    const flags = y
      .positional('service', { type: 'string', describe: 'The cluster Service that VMs should reach as <service>.<namespace>.global' })
      .option('port', { alias: 'p', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: '[<protocol>:]<port> to expose instead of all the Service\'s ports, e.g. http:8000 (repeatable)' })
      .option('gateway-address', stringFlag("The ingress gateway's address (IP or DNS name) the VMs send to, on port 15443 (default: looked up)", ISTIO_GROUP))
      .option('gateway-service', stringFlag('The gateway Service, NAMESPACE/NAME (or name[.namespace]), whose load balancer address is used (default: looked up, see README)', ISTIO_GROUP))
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in; the address claims are kept there', ISTIO_GROUP), default: 'istio-system' })
      .option('address-range', { ...stringFlag('The IPv4 range the .global addresses come from', ISTIO_GROUP), default: DEFAULT_GLOBAL_RANGE });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Let VMs reach httpbin in namespace bar as httpbin.bar.global; prints the /etc/hosts line', 'kubectl vm expose-service httpbin -n bar'],
      ['Only port 8000, through a gateway whose address is known', 'kubectl vm expose-service httpbin -n bar -p http:8000 --gateway-address 35.232.112.158'],
      ['Append the line to the VM\'s /etc/hosts', 'kubectl vm expose-service httpbin -n bar | ssh vm sudo tee -a /etc/hosts'],
    ]) as unknown as Argv<ExposeServiceArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'expose-service', describe: describeCommand('expose-service'), commands: [exposeService] };
