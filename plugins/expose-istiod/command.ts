import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { commaList, FLAGS_GROUP, oneOf, stringFlag, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import type { TlsMode } from '../../shared/istio/expose-istiod.ts';
import { run } from './run.ts';

export interface ExposeIstiodArgs extends KubeArgs, OutputArgs, CommonArgs {
  revision?: string;
  istioNamespace: string;
  clusterDomain: string;
  services?: boolean;
  gatewaySelector?: string[];
  tlsMode: TlsMode;
  credentialName?: string;
  host?: string;
  delete?: boolean;
}

export const exposeIstiod = defineCommand<ExposeIstiodArgs>({
  command: '$0',
  describe: describeCommand('expose-istiod'),
  builder: (y: Argv) => {
    const flags = y
      .option('revision', { alias: 'r', ...stringFlag('The control-plane revision to expose: istiod-<rev> (default: istiod)') })
      .option('istio-namespace', { alias: ['i', 'istioNamespace'], ...stringFlag('The namespace Istio is installed in; the objects go there'), default: 'istio-system' })
      .option('cluster-domain', { ...stringFlag("The cluster's DNS domain, for istiod's host istiod.<ns>.svc.<domain>"), default: 'cluster.local' })
      .option('services', { type: 'boolean', group: FLAGS_GROUP, describe: 'Also expose the mesh\'s services on port 15443 (the Gateway cross-network-gateway), for multi-network meshes' })
      .option('gateway-selector', { type: 'string', array: true, group: FLAGS_GROUP, coerce: commaList, describe: 'The labels of the east-west gateway\'s pods: k=v (default istio=eastwestgateway)' })
      .option('tls-mode', {
        type: 'string',
        group: FLAGS_GROUP,
        coerce: oneOf<TlsMode>('tls-mode', ['passthrough', 'https']),
        default: 'passthrough',
        describe: '"passthrough": istiod terminates TLS; "https": the gateway does, with --credential-name and --host',
      })
      .option('credential-name', stringFlag('With --tls-mode https: the Secret holding the gateway\'s certificate for --host'))
      .option('host', stringFlag('With --tls-mode https: the name VMs use for istiod, e.g. istiod.example.com'))
      .option('delete', { type: 'boolean', group: FLAGS_GROUP, describe: 'Remove what the same flags create (only objects kubectl-vm manages)' });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      ['Let VMs on another network reach istiod through the east-west gateway', 'kubectl vm expose-istiod'],
      ['A revisioned control plane, and the mesh\'s services too (multi-network)', 'kubectl vm expose-istiod --revision canary --services'],
      ['Print the objects, to review them or pipe them to kubectl apply -f -', 'kubectl vm expose-istiod --dry-run=client -o yaml'],
      ['Remove them again', 'kubectl vm expose-istiod --services --delete'],
    ]) as unknown as Argv<ExposeIstiodArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'expose-istiod', describe: describeCommand('expose-istiod'), commands: [exposeIstiod] };
