import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { stringFlag, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface DnsStubArgs extends KubeArgs, OutputArgs, CommonArgs {
  istioNamespace: string;
  corednsVersion?: string;
}

const ISTIO_GROUP = 'Istio flags:';

export const dnsStub = defineCommand<DnsStubArgs>({
  command: '$0',
  describe: describeCommand('dns-stub'),
  builder: (y: Argv) => {
    const flags = y
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace of the istiocoredns Service', ISTIO_GROUP), default: 'istio-system' })
      .option('coredns-version', stringFlag("CoreDNS's version, when the coredns Deployment's image tag does not say it (forward from 1.4, proxy before)"));
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Show what would change in the kube-dns or CoreDNS ConfigMap, and change nothing', 'kubectl vm dns-stub --dry-run'],
      ['Send .global to istiocoredns', 'kubectl vm dns-stub'],
      ['CoreDNS from an image whose tag is not its version', 'kubectl vm dns-stub --coredns-version 1.6.2'],
    ]) as unknown as Argv<DnsStubArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'dns-stub', describe: describeCommand('dns-stub'), commands: [dnsStub] };
