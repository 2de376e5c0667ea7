import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, lastWins, OUTPUT_GROUP, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface WorkloadEntryConfigureArgs extends KubeArgs, CommonArgs {
  file?: string[];
  name?: string;
  selector?: string;
  allNamespaces?: boolean;
  outputDir?: string;
  bundle?: string;
  clusterId?: string;
  tokenDuration: string;
  ingressService?: string;
  gatewayService?: string;
  gatewayAddress?: string;
  vm?: string;
  ingressIp?: string;
  autoregister?: boolean;
  captureDns: boolean;
  internalIp?: string;
  externalIp?: string;
  revision?: string;
  istioNamespace: string;
  concurrency: string;
  dryRun: DryRun;
  /** istioctl's -o is the output directory; ours is refused with a hint. */
  o?: string;
}

const ISTIO_GROUP = 'Istio flags:';

export const configure = defineCommand<WorkloadEntryConfigureArgs>({
  command: '$0',
  describe: describeCommand('workload-entry configure'),
  builder: (y: Argv) => {
    const flags = y
      .option('file', { alias: 'f', type: 'string', array: true, group: FLAGS_GROUP, describe: 'WorkloadGroup YAML files (several documents, or several -f, make one bundle each); - reads standard input' })
      .option('name', stringFlag('Name of a WorkloadGroup to read from the cluster (with -n)'))
      .option('selector', { alias: 'l', ...stringFlag('Label selector of WorkloadGroups to read from the cluster (with -n or -A)') })
      .option('all-namespaces', { alias: 'A', type: 'boolean', group: FLAGS_GROUP, describe: 'With --selector: look in every namespace' })
      .option('output-dir', stringFlag('Directory for the files; with several WorkloadGroups, one subdirectory <namespace>/<name> each', OUTPUT_GROUP))
      .option('bundle', stringFlag('Write the files as one gzipped tar, e.g. vm.tgz, instead of a directory', OUTPUT_GROUP))
      .option('o', { type: 'string', hidden: true, coerce: lastWins })
      .option('istio-namespace', { alias: ['i', 'istioNamespace'], ...stringFlag('The namespace Istio is installed in', ISTIO_GROUP), default: 'istio-system' })
      .option('revision', { alias: 'r', ...stringFlag('The control-plane revision (default: the revision tag "default", else none)', ISTIO_GROUP) })
      .option('cluster-id', { alias: 'clusterID', ...stringFlag("The cluster's ID (default: read from the sidecar injector's config)", ISTIO_GROUP) })
      .option('token-duration', { alias: 'tokenDuration', ...stringFlag('Lifetime of the token: seconds, or a duration like 1h (at least 10m)', ISTIO_GROUP), default: '3600' })
      .option('ingress-service', { alias: 'ingressService', ...stringFlag('The gateway Service, name[.namespace], whose address goes into hosts (default: looked up, see README)', ISTIO_GROUP) })
      .option('gateway-service', stringFlag('The gateway Service as NAMESPACE/NAME (as onboard and sidecar-bootstrap take it)', ISTIO_GROUP))
      .option('gateway-address', stringFlag('The gateway address for hosts (as --ingress-ip)', ISTIO_GROUP))
      .option('vm', stringFlag("Record the VM under this name (a Secret in the WorkloadGroup's namespace) and bind its token to the record, so that it can be revoked", ISTIO_GROUP))
      .option('ingress-ip', { alias: 'ingressIP', ...stringFlag('The gateway address the VM reaches istiod at (instead of looking it up)', ISTIO_GROUP) })
      .option('internal-ip', { alias: 'internalIP', ...stringFlag("The VM's own IP address in its network (ISTIO_SVC_IP)", ISTIO_GROUP) })
      .option('external-ip', { alias: 'externalIP', ...stringFlag("The VM's external IP address (ISTIO_SVC_IP), when it is reached from outside its network", ISTIO_GROUP) })
      .option('autoregister', { type: 'boolean', group: ISTIO_GROUP, describe: 'Let istiod create the WorkloadEntry when the VM connects' })
      .option('capture-dns', { type: 'boolean', group: ISTIO_GROUP, default: true, describe: "Send the VM's DNS queries through the proxy (--capture-dns=false to keep them)" })
      .option('concurrency', { ...stringFlag('How many tokens to request at once for a fleet of WorkloadGroups'), default: '16' })
      .conflicts('internal-ip', 'external-ip')
      .conflicts('ingress-service', 'gateway-service');
    return withExamples(withKubeFlags(withDryRun(flags, 'Print the files instead of writing them; no token is minted')), [
      ['The files for the VMs of WorkloadGroup vm/vmhttp, from the cluster', 'kubectl vm workload-entry configure --name vmhttp -n vm --output-dir ./vmhttp'],
      ['From a file, as one archive to copy to the VM', 'kubectl vm workload-entry configure -f wg.yaml --bundle vmhttp.tgz'],
      ['Straight from workload-group create', 'kubectl vm workload-group create --name vmhttp -n vm -p http=8080 | kubectl vm workload-entry configure -f - --output-dir ./vmhttp'],
      ['Every WorkloadGroup labelled team=payments, one directory each', 'kubectl vm workload-entry configure -l team=payments -A --output-dir ./vms'],
      ['Record VM web-1 and bind its token to that record, so that deleting the record revokes it', 'kubectl vm workload-entry configure --name vmhttp -n vm --vm web-1 --output-dir ./web-1'],
    ]) as unknown as Argv<WorkloadEntryConfigureArgs>;
  },
  run,
});

export const plugin: Plugin = {
  name: 'workload-entry configure',
  describe: describeCommand('workload-entry configure'),
  commands: [configure],
  completions: { name: 'workloadgroups' },
};
