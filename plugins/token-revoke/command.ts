import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, OUTPUT_GROUP, oneOf, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface TokenRevokeArgs extends KubeArgs, CommonArgs {
  vm?: string[];
  selector?: string;
  all?: boolean;
  dryRun: DryRun;
  output?: 'json' | 'yaml';
}

export const tokenRevoke = defineCommand<TokenRevokeArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('token revoke'),
  builder: (y: Argv) => {
    const flags = y
      .positional('vm', { type: 'string', array: true, describe: 'The VMs (record names) whose token to revoke' })
      .option('selector', { alias: 'l', ...stringFlag('The VMs whose record has these labels, e.g. kubectl-vm.io/group=web') })
      .option('all', { type: 'boolean', group: FLAGS_GROUP, describe: 'Every VM of the namespace' })
      .option('output', { alias: 'o', type: 'string', group: OUTPUT_GROUP, coerce: oneOf<'json' | 'yaml'>('output', ['json', 'yaml']), describe: 'Print a VMResultList as json or yaml instead of the table' });
    return withExamples(withKubeFlags(withDryRun(flags, 'Say which bindings would be deleted, and delete nothing')), [
      ['Cut VM web-1 off: its token stops working within 10 seconds', 'kubectl vm token revoke web-1 -n vm'],
      ['Look first', 'kubectl vm token revoke web-1 -n vm --dry-run'],
      ['Every VM of group web', 'kubectl vm token revoke -l kubectl-vm.io/group=web -n vm -o json'],
    ]) as unknown as Argv<TokenRevokeArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'token revoke', describe: describeCommand('token revoke'), commands: [tokenRevoke] };
