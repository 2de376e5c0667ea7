import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { withExamples, withKubeFlags, withOutputFlags, type CommonArgs, type KubeArgs, type OutputArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { run } from './run.ts';

export interface RemoveFromMeshArgs extends KubeArgs, OutputArgs, CommonArgs {
  name?: string;
}

export const externalService = defineCommand<RemoveFromMeshArgs>({
  command: 'external-service [name]',
  aliases: ['es'],
  describe: 'Remove the Service and ServiceEntry of an external service from the Istio service mesh',
  builder: (y: Argv) =>
    withExamples(withKubeFlags(withOutputFlags(y.positional('name', { type: 'string', describe: 'The name given to add-to-mesh external-service' }))), [
      ['Delete Service vm/vmhttp and ServiceEntry vm/mesh-expansion-vmhttp', 'kubectl vm remove-from-mesh external-service vmhttp -n vm'],
      ['Show what would be deleted, checked by the API server', 'kubectl vm remove-from-mesh es vmhttp -n vm --dry-run=server -o name'],
    ]) as unknown as Argv<RemoveFromMeshArgs>,
  run,
});

export const plugin: Plugin = { name: 'remove-from-mesh', describe: describeCommand('remove-from-mesh'), commands: [externalService] };
