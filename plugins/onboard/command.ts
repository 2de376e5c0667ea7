import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface OnboardArgs extends KubeArgs, CommonArgs {
  hosts?: string[];
  group?: string;
  runtime: string;
  hostsFile?: string;
  concurrency: string;
  continueOnError?: boolean;
  tokenDuration: string;
  istioNamespace: string;
  revision?: string;
  clusterId?: string;
  gatewayService?: string;
  gatewayAddress?: string;
  autoregister?: boolean;
  captureDns: boolean;
  image?: string;
  dockerDir?: string;
  sshKey?: string;
  sshUser?: string;
  sshConnectTimeout: string;
  timeout: string;
  ignoreHostKeys?: boolean;
  dryRun: DryRun;
}

const ISTIO_GROUP = 'Istio flags:';
const SSH_GROUP = 'SSH flags (~/.ssh/config applies to each host):';

export const onboard = defineCommand<OnboardArgs>({
  command: '$0 [hosts..]',
  describe: describeCommand('onboard'),
  builder: (y: Argv) => {
    const flags = y
      .positional('hosts', { type: 'string', array: true, describe: 'The VMs, as [user@]host[:port] (or Host aliases of ~/.ssh/config)' })
      .option('group', { alias: 'g', ...stringFlag('The WorkloadGroup the VMs join (in -n)') })
      .option('runtime', { ...stringFlag('How the proxy runs on the VM: systemd (the istio-sidecar package) or docker'), default: 'systemd' })
      .option('hosts-file', stringFlag('A file of VMs, one "[user@]host[:port] [name=<vm>] [address=<ip>] [runtime=<r>]" per line; - reads standard input'))
      .option('concurrency', { ...stringFlag('How many VMs to onboard at once'), default: '8' })
      .option('continue-on-error', { type: 'boolean', group: FLAGS_GROUP, describe: 'Go on with the other VMs after one fails (the exit code still says it failed)' })
      .option('token-duration', { ...stringFlag('Lifetime of the VM\'s token, bound to its record: seconds, or a duration like 24h (at least 10m)', ISTIO_GROUP), default: '3600' })
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in', ISTIO_GROUP), default: 'istio-system' })
      .option('revision', { alias: 'r', ...stringFlag('The control-plane revision (default: the revision tag "default", else none)', ISTIO_GROUP) })
      .option('cluster-id', { ...stringFlag("The cluster's ID (default: read from the sidecar injector's config)", ISTIO_GROUP) })
      .option('gateway-service', stringFlag('The gateway the VMs reach istiod through, NAMESPACE/NAME (default: looked up, see README)', ISTIO_GROUP))
      .option('gateway-address', stringFlag('The address the VMs reach istiod at, instead of a gateway Service', ISTIO_GROUP))
      .option('autoregister', { type: 'boolean', group: ISTIO_GROUP, describe: 'Let istiod create the WorkloadEntry when the VM connects' })
      .option('capture-dns', { type: 'boolean', group: ISTIO_GROUP, default: true, describe: "Send the VM's DNS queries through the proxy (--capture-dns=false to keep them)" })
      .option('image', stringFlag('--runtime docker: the proxy image (default: the injector\'s hub/proxyv2:tag)', ISTIO_GROUP))
      .option('docker-dir', stringFlag('--runtime docker: the directory on the VM for the container\'s files (default /var/lib/kubectl-vm/proxy)', ISTIO_GROUP))
      .option('ssh-key', { alias: 'k', ...stringFlag('Private key to log in with (default: IdentityFile of ~/.ssh/config, ~/.ssh/id_*, then the ssh-agent)', SSH_GROUP) })
      .option('ssh-user', { alias: 'u', ...stringFlag('User to log in as, for hosts without user@ (default: User of ~/.ssh/config, else your user name)', SSH_GROUP) })
      .option('ssh-connect-timeout', { ...stringFlag('How long to wait for a connection, e.g. 10s', SSH_GROUP), default: '10s' })
      .option('timeout', { ...stringFlag('How long copying one file may take, e.g. 60s', SSH_GROUP), default: '60s' })
      .option('ignore-host-keys', { type: 'boolean', group: SSH_GROUP, describe: "Do not check the VMs' host keys against known_hosts (not recommended)" });
    return withExamples(withKubeFlags(withDryRun(flags, 'Print every remote command and file (secrets redacted); no token is minted, no connection made, nothing written')), [
      ['Onboard the VM at Host "vm" of ~/.ssh/config (or user@address[:port]) into WorkloadGroup vmhttp of namespace vm', 'kubectl vm onboard vm --group vmhttp -n vm'],
      ['Look first: every file and command, no token, no connection', 'kubectl vm onboard root@10.0.0.5 --group vmhttp -n vm --dry-run'],
      ['A fleet from a file, four at a time, on through failures', 'kubectl vm onboard --hosts-file vms.txt --group vmhttp -n vm --concurrency 4 --continue-on-error'],
      ['With Docker instead of the istio-sidecar package', 'kubectl vm onboard vm --group vmhttp -n vm --runtime docker'],
    ]) as unknown as Argv<OnboardArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'onboard', describe: describeCommand('onboard'), commands: [onboard], completions: { group: 'workloadgroups' } };
