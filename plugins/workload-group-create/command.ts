import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import {
  commaList,
  FLAGS_GROUP,
  stringFlag,
  withExamples,
  withKubeFlags,
  withOutputFlags,
  type CommonArgs,
  type KubeArgs,
  type OutputArgs,
  serviceAccountFlag,
} from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface WorkloadGroupCreateArgs extends KubeArgs, OutputArgs, CommonArgs {
  name?: string;
  labels?: string[];
  annotations?: string[];
  ports?: string[];
  serviceAccount: string;
  network?: string;
  locality?: string;
  weight?: string;
  probeHttpGet?: string;
  probeTcp?: string;
  probeExec?: string;
  probeInitialDelay?: string;
  probePeriod?: string;
  probeTimeout?: string;
  probeSuccessThreshold?: string;
  probeFailureThreshold?: string;
  apply?: boolean;
}

const PROBE_GROUP = 'Probe flags:';

export const create = defineCommand<WorkloadGroupCreateArgs>({
  command: '$0',
  describe: describeCommand('workload-group create'),
  builder: (y: Argv) => {
    const flags = y
      .option('name', stringFlag('Name of the WorkloadGroup (required)'))
      .option('labels', { alias: 'l', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Labels of the workloads (spec.metadata.labels): k=v, comma-separated or repeated' })
      .option('annotations', { alias: 'a', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Annotations of the workloads (spec.metadata.annotations): k=v' })
      .option('ports', { alias: 'p', type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'Ports the workloads serve: name=port, e.g. http=8080,grpc=3550' })
      .option('service-account', serviceAccountFlag('The service account the workloads run as', ['s', 'serviceAccount']))
      .option('network', stringFlag('The network the workloads are on, for multi-network meshes'))
      .option('locality', stringFlag('The locality of the workloads, e.g. us-east1/us-east1-b'))
      .option('weight', { alias: 'w', ...stringFlag('Load-balancing weight of each workload (omitted when 0)') })
      .option('probe-http-get', stringFlag('Readiness probe: an HTTP GET of PORT[/path] on the VM', PROBE_GROUP))
      .option('probe-tcp', stringFlag('Readiness probe: a TCP connection to PORT on the VM', PROBE_GROUP))
      .option('probe-exec', stringFlag('Readiness probe: a command to run on the VM, e.g. "cat /tmp/healthy"', PROBE_GROUP))
      .option('probe-initial-delay', stringFlag('Seconds before the first probe', PROBE_GROUP))
      .option('probe-period', stringFlag('Seconds between probes', PROBE_GROUP))
      .option('probe-timeout', stringFlag('Seconds before a probe times out', PROBE_GROUP))
      .option('probe-success-threshold', stringFlag('Successes in a row that make the workload ready', PROBE_GROUP))
      .option('probe-failure-threshold', stringFlag('Failures in a row that make the workload not ready', PROBE_GROUP))
      .option('apply', { type: 'boolean', group: FLAGS_GROUP, describe: 'Also create or update the WorkloadGroup in the cluster (server-side apply)' });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Print a WorkloadGroup, to review it or pipe it to kubectl apply -f -', 'kubectl vm workload-group create --name vmhttp -n vm -l app=vmhttp -p http=8080 -s vm-sa'],
      ['Create it in the cluster, with an HTTP readiness probe', 'kubectl vm workload-group create --name vmhttp -n vm -p http=8080 --probe-http-get 8080/ready --apply'],
      ['As JSON', 'kubectl vm workload-group create --name vmhttp -n vm -o json'],
    ]) as unknown as Argv<WorkloadGroupCreateArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'workload-group create', describe: describeCommand('workload-group create'), commands: [create] };
