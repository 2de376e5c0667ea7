import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, lastWins, OUTPUT_GROUP, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface SidecarBootstrapArgs extends KubeArgs, CommonArgs {
  workloadentry?: string;
  all?: boolean;
  selector?: string;
  duration: string;
  outputDir?: string;
  outputFile?: string;
  startIstioProxy?: boolean;
  sshKey?: string;
  sshUser?: string;
  sshPort: string;
  sshConnectTimeout: string;
  timeout: string;
  ignoreHostKeys?: boolean;
  istioNamespace: string;
  gatewayService?: string;
  gatewayAddress?: string;
  runtime: string;
  concurrency: string;
  continueOnError?: boolean;
  dryRun: DryRun;
  /** tctl's -o (an archive with a generated name); ours is refused with a hint. */
  o?: string;
}

const SSH_GROUP = 'SSH flags (each overridden per VM by its sidecar-bootstrap.istio.io/* annotation):';

export const sidecarBootstrap = defineCommand<SidecarBootstrapArgs>({
  command: '$0 [workloadentry]',
  describe: describeCommand('sidecar-bootstrap'),
  builder: (y: Argv) => {
    const flags = y
      .positional('workloadentry', { type: 'string', describe: 'The WorkloadEntry of the VM: <name> or <name>.<namespace>' })
      .option('all', { alias: 'a', type: 'boolean', group: FLAGS_GROUP, describe: 'Every WorkloadEntry in the namespace' })
      .option('selector', { alias: 'l', ...stringFlag('The WorkloadEntries in the namespace with these labels, e.g. app=backend') })
      .option('start-istio-proxy', { type: 'boolean', group: FLAGS_GROUP, describe: 'Also (re)start the proxy on the VM: docker rm --force, then docker run' })
      .option('duration', { ...stringFlag('Lifetime of the token the VM gets its first certificate with, e.g. 24h (at least 10m)'), default: '24h' })
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in'), default: 'istio-system' })
      .option('gateway-service', stringFlag('The gateway the VMs reach istiod through, NAMESPACE/NAME (default: looked up, see README)'))
      .option('gateway-address', stringFlag('The address the VMs reach istiod at, instead of a gateway Service'))
      .option('runtime', { ...stringFlag('How the proxy runs on the VM: docker (as tctl) or systemd (the istio-sidecar package, as onboard)'), default: 'docker' })
      .option('concurrency', { ...stringFlag('How many VMs to work on at once'), default: '8' })
      .option('continue-on-error', { type: 'boolean', group: FLAGS_GROUP, describe: 'Go on with the other VMs after one fails (the exit code still says it failed)' })
      .option('ssh-key', { alias: 'k', ...stringFlag('Private key to log in with (default: ~/.ssh/id_dsa, id_ecdsa, id_ed25519, id_rsa, then the ssh-agent)', SSH_GROUP) })
      .option('ssh-user', { alias: 'u', ...stringFlag('User to log in as (default: your user name)', SSH_GROUP) })
      .option('ssh-port', { ...stringFlag('Port of sshd on the VMs', SSH_GROUP), default: '22' })
      .option('ssh-connect-timeout', { ...stringFlag('How long to wait for a connection, e.g. 10s', SSH_GROUP), default: '10s' })
      .option('timeout', { ...stringFlag('How long copying one file may take, e.g. 60s', SSH_GROUP), default: '60s' })
      .option('ignore-host-keys', { type: 'boolean', group: SSH_GROUP, describe: 'Do not check the VMs\' host keys against ~/.ssh/known_hosts (not recommended)' })
      .option('output-dir', { alias: 'd', ...stringFlag('Write the bundle into this directory instead of copying it to the VM', OUTPUT_GROUP) })
      .option('output-file', stringFlag('Write the bundle as a gzipped tar, e.g. vm.tgz, instead of copying it to the VM', OUTPUT_GROUP))
      .option('o', { type: 'string', hidden: true, coerce: lastWins });
    return withExamples(withKubeFlags(withDryRun(flags, 'Print every remote command and file (secrets redacted), or with --output-dir/--output-file the files it would write; no token is minted, no connection made, nothing written')), [
      ['Copy the bundle of WorkloadEntry backend-vm to its VM and start the proxy', 'kubectl vm sidecar-bootstrap backend-vm -n vm --start-istio-proxy --ssh-key ~/.ssh/vm.pem'],
      ['Look first: what would be copied and run', 'kubectl vm sidecar-bootstrap backend-vm -n vm --start-istio-proxy --dry-run'],
      ['Every VM labelled app=backend, four at a time', 'kubectl vm sidecar-bootstrap -l app=backend -n vm --start-istio-proxy --concurrency 4 --continue-on-error'],
      ['No SSH: write the bundle into an archive to copy by other means', 'kubectl vm sidecar-bootstrap backend-vm -n vm --output-file backend-vm.tgz'],
    ]) as unknown as Argv<SidecarBootstrapArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'sidecar-bootstrap', describe: describeCommand('sidecar-bootstrap'), commands: [sidecarBootstrap] };
