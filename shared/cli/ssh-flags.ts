// The SSH flags of the day-2 commands (status --probe, doctor, token rotate, offboard): the VMs' addresses come
// from their records, so only credentials, host-key policy, time limits and parallelism are flags.
import type { Argv } from 'yargs';
import { concurrency, positiveDuration } from './duration.ts';
import { FLAGS_GROUP, OUTPUT_GROUP, oneOf, stringFlag } from './flags.ts';

export const SSH_GROUP = 'SSH flags:';

export interface SshArgs {
  sshKey?: string;
  ignoreHostKeys?: boolean;
  sshConnectTimeout: string;
  timeout: string;
  concurrency: string;
}

export interface SshLimits {
  connectTimeoutMs: number;
  /** How long all the work on one VM may take. */
  hostTimeoutMs: number;
  concurrency: number;
}

export function withSshFlags<T>(y: Argv<T>, hostTimeout = '30s'): Argv<T & SshArgs> {
  return y
    .option('ssh-key', { alias: 'k', ...stringFlag('Private key to log in with (default: ~/.ssh/id_dsa, id_ecdsa, id_ed25519, id_rsa, then the ssh-agent)', SSH_GROUP) })
    .option('ignore-host-keys', { type: 'boolean', group: SSH_GROUP, describe: "Do not check the VMs' host keys against ~/.ssh/known_hosts (not recommended)" })
    .option('ssh-connect-timeout', { ...stringFlag('How long to wait for a connection, e.g. 10s', SSH_GROUP), default: '10s' })
    .option('timeout', { ...stringFlag('How long the work on one VM may take, e.g. 30s', SSH_GROUP), default: hostTimeout })
    .option('concurrency', { ...stringFlag('How many VMs to work on at once', FLAGS_GROUP), default: '8' }) as unknown as Argv<T & SshArgs>;
}

export function sshLimits(args: SshArgs): SshLimits {
  return { connectTimeoutMs: positiveDuration('ssh-connect-timeout', args.sshConnectTimeout), hostTimeoutMs: positiveDuration('timeout', args.timeout), concurrency: concurrency(args.concurrency) };
}

export interface VmSelectionArgs {
  vm?: string[];
  selector?: string;
  all?: boolean;
  output?: 'json' | 'yaml';
}

/** VM names, -l or --all (the records of one namespace), and -o json|yaml for the VMResultList. */
export function withVmSelection<T>(y: Argv<T>, verb: string): Argv<T & VmSelectionArgs> {
  return y
    .positional('vm', { type: 'string', array: true, describe: `The VMs (record names) to ${verb}` })
    .option('selector', { alias: 'l', ...stringFlag('The VMs whose record has these labels, e.g. kubectl-vm.io/group=web') })
    .option('all', { type: 'boolean', group: FLAGS_GROUP, describe: 'Every VM of the namespace' })
    .option('output', { alias: 'o', type: 'string', group: OUTPUT_GROUP, coerce: oneOf<'json' | 'yaml'>('output', ['json', 'yaml']), describe: 'Print a VMResultList as json or yaml instead of the table' }) as unknown as Argv<T & VmSelectionArgs>;
}
