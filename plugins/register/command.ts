import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { addressFileFlag, commaList, FLAGS_GROUP, oneOf, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs, serviceAccountFlag } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import type { EndpointsApi } from '../../shared/istio/registration.ts';
import { run } from './run.ts';

export interface RegisterArgs extends KubeArgs, OutputArgs, CommonArgs {
  service?: string;
  ips?: string;
  ports?: string[];
  labels?: string[];
  annotations?: string[];
  serviceAccount: string;
  fromFile?: string[];
  endpointsApi: EndpointsApi;
}

export const register = defineCommand<RegisterArgs>({
  command: '$0 [service] [ips] [ports..]',
  describe: describeCommand('register'),
  builder: (y: Argv) => {
    const flags = y
      .positional('service', { type: 'string', describe: 'The Service the VMs serve (created if it does not exist)' })
      .positional('ips', { type: 'string', describe: 'Comma-separated IPv4 or IPv6 addresses of the VMs' })
      .positional('ports', { type: 'string', array: true, describe: '[<name>:]<port>, e.g. 3306 or http:8080 (80 and 8080 are http, 443 https, 3306 mysql)' })
      .option('labels', { alias: 'l', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Labels for the Service and its endpoints: k=v' })
      .option('annotations', { alias: 'a', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Annotations for the Service: k=v' })
      .option('service-account', serviceAccountFlag('The service account the VMs run as (annotation alpha.istio.io/kubernetes-serviceaccounts)', ['s', 'serviceaccount']))
      .option('from-file', addressFileFlag)
      .option('endpoints-api', {
        type: 'string',
        group: FLAGS_GROUP,
        coerce: oneOf<EndpointsApi>('endpoints-api', ['endpointslices', 'endpoints']),
        default: 'endpointslices',
        describe: 'Keep the addresses as EndpointSlices, or as a legacy Endpoints object for meshes that read only those',
      });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Give the MySQL server on a VM a name inside the cluster: mysqldb.vm.svc', 'kubectl vm register mysqldb 10.138.0.13 3306 -n vm'],
      ['Two VMs serving HTTP on 8080, running as service account vm-sa', 'kubectl vm register vmhttp 10.0.0.5,10.0.0.6 http:8080 -s vm-sa -n vm'],
      ['A thousand addresses from a file, in a handful of requests', 'kubectl vm register vmhttp --from-file ips.txt http:8080 -n vm'],
    ]) as unknown as Argv<RegisterArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'register', describe: describeCommand('register'), commands: [register] };
