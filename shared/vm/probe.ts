// --probe of `kubectl vm status`: placeholder until the layout lands.
import type { PluginContext } from '../cli/plugin.ts';
import type { SshArgs, SshLimits } from '../cli/ssh-flags.ts';
import type { ProbeResult, VmRecord } from './fleet-status.ts';

export async function probeVms(_ctx: PluginContext, _args: SshArgs, _limits: SshLimits, records: (VmRecord | undefined)[]): Promise<(ProbeResult | undefined)[]> {
  return records.map(() => undefined);
}
