import type { Argv } from 'yargs';
import { describeCommand } from '../../shared/cli/catalog.ts';
import { FLAGS_GROUP, oneOfArgument, stringFlag, withExamples, type CommonArgs } from '../../shared/cli/flags.ts';
import { defineCommand, type Plugin } from '../../shared/cli/plugin.ts';
import { SHELLS, type Shell } from '../../shared/cli/completion-scripts.ts';
import { run } from './run.ts';

export type CompletionTarget = Shell | 'kubectl-hook';

export interface CompletionArgs extends CommonArgs {
  shell?: CompletionTarget;
  dir?: string;
}

export const completion = defineCommand<CompletionArgs>({
  command: '$0 [shell]',
  describe: describeCommand('completion'),
  builder: (y: Argv) => {
    const flags = y
      .positional('shell', {
        type: 'string',
        coerce: oneOfArgument<CompletionTarget>('shell', [...SHELLS, 'kubectl-hook']),
        describe: 'bash, zsh or fish: print that shell\'s script for kubectl-vm; kubectl-hook: link kubectl_complete-vm into --dir',
      })
      .option('dir', { ...stringFlag('Where kubectl-hook links kubectl_complete-vm (default: $KREW_ROOT/bin, else ~/.krew/bin)', FLAGS_GROUP) });
    return withExamples(flags, [
      ['Complete kubectl-vm in bash', 'source <(kubectl vm completion bash)'],
      ["After a krew install, let kubectl's own completion (kubectl >= 1.26) complete kubectl vm's arguments", 'kubectl vm completion kubectl-hook'],
      ['Complete kubectl-vm in fish', 'kubectl vm completion fish | source'],
    ]) as unknown as Argv<CompletionArgs>;
  },
  run,
});

export const plugin: Plugin = { name: 'completion', describe: describeCommand('completion'), commands: [completion] };
