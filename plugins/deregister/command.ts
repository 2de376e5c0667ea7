import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { addressFileFlag, FLAGS_GROUP, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface DeregisterArgs extends KubeArgs, OutputArgs, CommonArgs {
  service?: string;
  ips?: string;
  fromFile?: string[];
  deleteServiceWhenEmpty?: boolean;
}

export const deregister = defineCommand<DeregisterArgs>({
  command: '$0 [service] [ips]',
  describe: describeCommand('deregister'),
  builder: (y: Argv) => {
    const flags = y
      .positional('service', { type: 'string', describe: 'The Service the addresses were registered with' })
      .positional('ips', { type: 'string', describe: 'Comma-separated IPv4 or IPv6 addresses to remove' })
      .option('from-file', addressFileFlag)
      .option('delete-service-when-empty', { type: 'boolean', group: FLAGS_GROUP, describe: 'When no address is left, also delete the endpoints and the Service (if kubectl-vm manages it)' });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Take one VM out of the Service', 'kubectl vm deregister mysqldb 10.138.0.13 -n vm'],
      ['Take the last VM out and delete the Service too', 'kubectl vm deregister vmhttp 10.0.0.5 --delete-service-when-empty -n vm'],
    ]) as unknown as Argv<DeregisterArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'deregister', describe: describeCommand('deregister'), commands: [deregister] };
