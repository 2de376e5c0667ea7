// The VM-side checks of `kubectl vm doctor`, over SSH and read-only.
import type { PluginContext } from '../cli/plugin.ts';
import type { SshArgs, SshLimits } from '../cli/ssh-flags.ts';
import type { Check, ClusterFacts } from './doctor-checks.ts';
import type { VmRecord } from './record.ts';

export async function vmChecks(_ctx: PluginContext, _args: SshArgs, _limits: SshLimits, _vms: VmRecord[], _facts: ClusterFacts): Promise<Check[]> {
  return [];
}
