import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, OUTPUT_GROUP, oneOf, stringFlag, withExamples, withKubeFlags, type CommonArgs, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { withSshFlags, type SshArgs } from '../../shared/cli/ssh-flags.ts';
import { run } from './run.ts';

export type StatusOutput = 'wide' | 'json' | 'yaml';

export interface StatusArgs extends KubeArgs, CommonArgs, SshArgs {
  vm?: string[];
  selector?: string;
  allNamespaces?: boolean;
  probe?: boolean;
  output?: StatusOutput;
  warnBefore: string;
  failOnWarn?: boolean;
}

export const status = defineCommand<StatusArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('status'),
  builder: (y: Argv) => {
    const flags = y
      .positional('vm', { type: 'string', array: true, describe: 'VMs to show (record or WorkloadEntry names); default: all' })
      .option('selector', { alias: 'l', ...stringFlag('Only VMs whose WorkloadEntry or record has these labels, e.g. app=backend') })
      .option('all-namespaces', { alias: 'A', type: 'boolean', group: FLAGS_GROUP, describe: 'VMs in every namespace' })
      .option('probe', { type: 'boolean', group: FLAGS_GROUP, describe: 'Also ask each VM over SSH (read-only): proxy running, certificate and token expiry, version, drifted files' })
      .option('warn-before', { ...stringFlag('Mark tokens and certificates that expire within this window'), default: '24h' })
      .option('fail-on-warn', { type: 'boolean', group: FLAGS_GROUP, describe: 'Exit 1 when any VM needs attention (for CI and cron)' })
      .option('output', { alias: 'o', type: 'string', group: OUTPUT_GROUP, coerce: oneOf<StatusOutput>('output', ['wide', 'json', 'yaml']), describe: 'wide adds SSH target, runtime and bundle hash; json and yaml print a VMStatusList' });
    return withExamples(withKubeFlags(withSshFlags(flags, '15s')), [
      ['Every VM in namespace vm', 'kubectl vm status -n vm'],
      ['Every VM of the cluster, with SSH target, runtime and bundle hash', 'kubectl vm status -A -o wide'],
      ['Ask the VMs themselves too; for cron, exits 1 while a VM needs attention (e.g. a token expires within 6h)', 'kubectl vm status -n vm --probe --warn-before 6h --fail-on-warn'],
      ['The VMs that need attention, for a script', "kubectl vm status -A -o json | jq -r '.items[] | select(.attention != []) | .name'"],
    ]) as unknown as Argv<StatusArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'status', describe: describeCommand('status'), commands: [status] };
