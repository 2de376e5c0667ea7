import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { OUTPUT_GROUP, stringFlag, withDryRun, withExamples, withKubeFlags, type CommonArgs, type DryRun, type KubeArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface MeshExpansionKeysArgs extends KubeArgs, CommonArgs {
  serviceAccount: string;
  outputDir?: string;
  dryRun?: DryRun;
}

export const keys = defineCommand<MeshExpansionKeysArgs>({
  command: '$0',
  describe: describeCommand('mesh-expansion keys'),
  builder: (y: Argv) => {
    const flags = y
      .option('service-account', { alias: ['s', 'serviceaccount'], ...stringFlag('The service account whose Secret istio.<service-account> holds the keys'), default: 'default' })
      .option('output-dir', stringFlag('Directory for root-cert.pem, cert-chain.pem and key.pem (key.pem 0600, the directory 0700)', OUTPUT_GROUP));
    return withExamples(withKubeFlags(withDryRun(flags, 'Read the Secret and print what would be written (the key redacted); write nothing')), [
      ['The keys of service account "default" in namespace vm, for the VMs of that namespace (Istio 1.4)', 'kubectl vm mesh-expansion keys -n vm --output-dir ./vm-certs'],
      ['Of another service account', 'kubectl vm mesh-expansion keys -s vm-sa -n vm --output-dir ./vm-certs'],
      ['Look first: which files, with which modes', 'kubectl vm mesh-expansion keys -n vm --output-dir ./vm-certs --dry-run'],
    ]) as unknown as Argv<MeshExpansionKeysArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'mesh-expansion keys', describe: describeCommand('mesh-expansion keys'), commands: [keys] };
