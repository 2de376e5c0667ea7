import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { withVmSelection, type VmSelectionArgs } from '../../shared/cli/ssh-flags.ts';
import { run } from './run.ts';

export interface TokenRevokeArgs extends KubeArgs, CommonArgs, VmSelectionArgs {
  dryRun: DryRun;
}

export const tokenRevoke = defineCommand<TokenRevokeArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('token revoke'),
  builder: (y: Argv) => {
    const flags = withVmSelection(y, 'revoke the token of');
    return withExamples(withKubeFlags(withDryRun(flags, 'Say which bindings would be deleted, and delete nothing')), [
      ['Cut VM web-1 off: its token stops working within 10 seconds', 'kubectl vm token revoke web-1 -n vm'],
      ['Look first', 'kubectl vm token revoke web-1 -n vm --dry-run'],
      ['Every VM of group web', 'kubectl vm token revoke -l kubectl-vm.io/group=web -n vm -o json'],
    ]) as unknown as Argv<TokenRevokeArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'token revoke', describe: describeCommand('token revoke'), commands: [tokenRevoke] };
