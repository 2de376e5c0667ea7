import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import {
  commaList,
  FLAGS_GROUP,
  stringFlag,
  withExamples,
  withKubeFlags,
  withOutputFlags,
  type CommonArgs,
  type KubeArgs,
  type OutputArgs,
  serviceAccountFlag,
} from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface AddToMeshArgs extends KubeArgs, OutputArgs, CommonArgs {
  name?: string;
  ips?: string;
  ports?: string[];
  labels?: string[];
  annotations?: string[];
  serviceAccount: string;
  clusterDomain: string;
}

export const externalService = defineCommand<AddToMeshArgs>({
  command: 'external-service [name] [ips] [ports..]',
  aliases: ['es'],
  describe: 'Add an external service (e.g. services running on a VM) to the Istio service mesh',
  builder: (y: Argv) => {
    const flags = y
      .positional('name', { type: 'string', describe: 'Name of the Service to create (a DNS-1035 label)' })
      .positional('ips', { type: 'string', describe: 'Comma-separated IPv4 or IPv6 addresses of the VMs that run it' })
      .positional('ports', {
        type: 'string',
        array: true,
        describe: '[<protocol>:]<port>, e.g. http:8080 tcp:3306; the protocol may be left out for 80, 443, 3306 and 8080',
      })
      .option('labels', { alias: 'l', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Labels for the Service and the endpoints: k=v, comma-separated or repeated' })
      .option('annotations', { alias: 'a', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Annotations for the Service: k=v, comma-separated or repeated' })
      .option('service-account', serviceAccountFlag('The service account the VMs run as; it becomes the identity of every endpoint', ['s', 'serviceaccount']))
      .option('cluster-domain', { ...stringFlag("The cluster's DNS domain, for the host <name>.<namespace>.svc.<domain>"), default: 'cluster.local' });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Put the HTTP server of one VM behind the Service vm/vmhttp', 'kubectl vm add-to-mesh external-service vmhttp 10.0.0.5 http:8080 -n vm'],
      ['Two VMs running MySQL as service account "db", with a label on every endpoint', 'kubectl vm add-to-mesh es mysqldb 10.0.0.7,10.0.0.8 mysql:3306 -l app=mysqldb -s db -n vm'],
      ['Print the Service and ServiceEntry without creating them', 'kubectl vm add-to-mesh es vmhttp 10.0.0.5 http:8080 --dry-run=client -o yaml'],
    ]) as unknown as Argv<AddToMeshArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'add-to-mesh', describe: describeCommand('add-to-mesh'), commands: [externalService] };
