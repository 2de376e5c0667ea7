import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { withSshFlags, withVmSelection, type SshArgs, type VmSelectionArgs } from '../../shared/cli/ssh-flags.ts';
import { run } from './run.ts';

export interface OffboardArgs extends KubeArgs, CommonArgs, SshArgs, VmSelectionArgs {
  keepWorkloadentry?: boolean;
  force?: boolean;
  dryRun: DryRun;
}

export const offboard = defineCommand<OffboardArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('offboard'),
  builder: (y: Argv) => {
    const flags = withVmSelection(y, 'take out of the mesh')
      .option('keep-workloadentry', { type: 'boolean', group: FLAGS_GROUP, describe: "Leave the VM's WorkloadEntry (one kubectl-vm manages) in the cluster" })
      .option('force', { type: 'boolean', group: FLAGS_GROUP, describe: 'Offboard an unreachable VM on the cluster side only (its files stay on the VM)' });
    return withExamples(withKubeFlags(withSshFlags(withDryRun(flags, 'Print what would be run on each VM and deleted in the cluster; connect nowhere, change nothing'), '60s')), [
      ['Take VM web-1 out of the mesh: stop the proxy, clean up the VM, revoke its token, delete its record', 'kubectl vm offboard web-1 -n vm'],
      ['Look first', 'kubectl vm offboard web-1 -n vm --dry-run'],
      ['A VM that is gone for good: clean up the cluster side only', 'kubectl vm offboard web-3 -n vm --force'],
      ['Every VM of group web, keeping their WorkloadEntries', 'kubectl vm offboard -l kubectl-vm.io/group=web -n vm --keep-workloadentry'],
    ]) as unknown as Argv<OffboardArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'offboard', describe: describeCommand('offboard'), commands: [offboard] };
