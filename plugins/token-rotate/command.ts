import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, OUTPUT_GROUP, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { withSshFlags, withVmSelection, type SshArgs, type VmSelectionArgs } from '../../shared/cli/ssh-flags.ts';
import { run } from './run.ts';

export interface TokenRotateArgs extends KubeArgs, CommonArgs, SshArgs, VmSelectionArgs {
  before?: string;
  tokenDuration: string;
  outputDir?: string;
  confirm?: boolean;
  dryRun: DryRun;
}

export const tokenRotate = defineCommand<TokenRotateArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('token rotate'),
  builder: (y: Argv) => {
    const flags = withVmSelection(y, 'give a new token')
      .option('before', stringFlag('Only the VMs whose token expires within this window, e.g. 6h'))
      .option('token-duration', { ...stringFlag('Lifetime of the new tokens, e.g. 24h (at least 10m)'), default: '24h' })
      .option('output-dir', stringFlag('Write each new token to <dir>/<vm>/istio-token instead of delivering it over SSH; the old token stays valid until --confirm', OUTPUT_GROUP))
      .option('confirm', { type: 'boolean', group: FLAGS_GROUP, describe: 'After --output-dir: the new tokens are in place, so revoke the old ones' });
    return withExamples(withKubeFlags(withSshFlags(withDryRun(flags, 'Say what would be minted, written and revoked: no token is minted, no connection made'), '60s')), [
      ['A fresh token for VM web-1, delivered over SSH; then the old one is revoked', 'kubectl vm token rotate web-1 -n vm'],
      ['Every VM whose token expires within 6 hours (for cron)', 'kubectl vm token rotate --all --before 6h -n vm'],
      ['No SSH: write the token to copy by other means, then revoke the old one', 'kubectl vm token rotate web-1 -n vm --output-dir ./tokens && kubectl vm token rotate --confirm web-1 -n vm'],
    ]) as unknown as Argv<TokenRotateArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'token rotate', describe: describeCommand('token rotate'), commands: [tokenRotate] };
