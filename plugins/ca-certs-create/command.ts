import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, stringFlag, withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface CaCertsCreateArgs extends KubeArgs, OutputArgs, CommonArgs {
  caCert?: string;
  caKey?: string;
  rootCert?: string;
  certChain?: string;
  istioNamespace?: string;
  allowSampleCerts?: boolean;
  force?: boolean;
}

export const create = defineCommand<CaCertsCreateArgs>({
  command: '$0',
  describe: describeCommand('ca-certs create'),
  builder: (y: Argv) => {
    const flags = y
      .option('ca-cert', stringFlag('The intermediate CA certificate istiod signs with (PEM)'))
      .option('ca-key', stringFlag("The CA certificate's private key (PEM, unencrypted)"))
      .option('root-cert', stringFlag('The root CA certificate(s) the mesh trusts (PEM)'))
      .option('cert-chain', stringFlag('The CA certificate followed by its issuers up to the root (PEM)'))
      .option('istio-namespace', { alias: 'i', ...stringFlag('The namespace Istio is installed in (default: -n if given, else istio-system)') })
      .option('allow-sample-certs', { type: 'boolean', group: FLAGS_GROUP, describe: "Accept Istio's published sample certificates (test clusters only)" })
      .option('force', { type: 'boolean', group: FLAGS_GROUP, describe: 'Replace an existing cacerts Secret (istiod must then be restarted)' });
    return withExamples(withKubeFlags(withOutputFlags(flags)), [
      [
        'Plug in your own CA: check the four files and create the Secret istio-system/cacerts',
        'kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem --root-cert root-cert.pem --cert-chain cert-chain.pem',
      ],
      ['Only check the files and show the Secret, its data redacted', 'kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem --root-cert root-cert.pem --cert-chain cert-chain.pem --dry-run=client -o yaml'],
      ['Replace the CA of a running mesh (then: kubectl rollout restart deployment/istiod -n istio-system)', 'kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem --root-cert root-cert.pem --cert-chain cert-chain.pem --force'],
    ]) as unknown as Argv<CaCertsCreateArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'ca-certs create', describe: describeCommand('ca-certs create'), commands: [create] };
