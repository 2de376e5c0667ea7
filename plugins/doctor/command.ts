import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { OUTPUT_GROUP, oneOf, stringFlag, withExamples, withKubeFlags, type CommonArgs, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { withSshFlags, type SshArgs } from '../../shared/cli/ssh-flags.ts';
import { run } from './run.ts';

export interface DoctorArgs extends KubeArgs, CommonArgs, SshArgs {
  vm?: string[];
  group?: string;
  istioNamespace: string;
  revision?: string;
  skipVm?: boolean;
  output?: 'json' | 'yaml';
}

export const doctor = defineCommand<DoctorArgs>({
  command: '$0 [vm..]',
  describe: describeCommand('doctor'),
  builder: (y: Argv) => {
    const flags = y
      .positional('vm', { type: 'string', array: true, describe: 'VMs (record names) to check, cluster side and over SSH' })
      .option('group', { alias: 'g', ...stringFlag('Check the preconditions of this WorkloadGroup (default: every group in the namespace)') })
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in'), default: 'istio-system' })
      .option('revision', { alias: 'r', ...stringFlag('The control-plane revision the VMs use (default: istiod)') })
      .option('skip-vm', { type: 'boolean', describe: 'Only the cluster-side checks: open no SSH connection' })
      .option('output', { alias: 'o', type: 'string', group: OUTPUT_GROUP, coerce: oneOf<'json' | 'yaml'>('output', ['json', 'yaml']), describe: 'Print a DoctorReport as json or yaml instead of the table' });
    return withExamples(withKubeFlags(withSshFlags(flags, '20s')), [
      ['Everything the VMs of namespace vm need, cluster side (exits 1 while a check fails)', 'kubectl vm doctor -n vm --skip-vm'],
      ['One group, and its VMs over SSH too (exits 1 while a check fails)', 'kubectl vm doctor -n vm --group demo'],
      ['One VM, as JSON for a script (exits 1 while a check fails)', 'kubectl vm doctor web-1 -n vm -o json'],
    ]) as unknown as Argv<DoctorArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'doctor', describe: describeCommand('doctor'), commands: [doctor], completions: { group: 'workloadgroups' } };
