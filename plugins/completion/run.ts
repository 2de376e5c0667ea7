// completion: prints the bash, zsh or fish script for kubectl-vm, or links kubectl's completion hook
// kubectl_complete-vm into krew's bin directory (krew links only kubectl-vm; krew#812).
import path from 'node:path';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { completionScript } from '../../shared/cli/completion-scripts.ts';
import { UsageError } from '../../shared/errors.ts';
import { linkInto } from '../../shared/fs/write.ts';
import type { CompletionArgs } from './command.ts';

export const HOOK = 'kubectl_complete-vm';

export async function run(ctx: PluginContext, args: CompletionArgs): Promise<Result> {
  if (!args.shell) throw new UsageError('which shell? give bash, zsh or fish (or kubectl-hook)', { hint: 'e.g. source <(kubectl vm completion bash)' });
  if (args.shell !== 'kubectl-hook') return { summary: [completionScript(args.shell).replace(/\n$/, '')] };
  if (!ctx.selfDir) throw new UsageError('kubectl-hook needs to know where kubectl-vm is installed', { hint: 'run it as kubectl vm completion kubectl-hook' });
  const dir = args.dir ?? path.join(ctx.env.KREW_ROOT ?? path.join(ctx.home, '.krew'), 'bin');
  const target = path.join(ctx.selfDir, HOOK);
  const link = linkInto(dir, HOOK, target);
  ctx.log.note(`kubectl completes "kubectl vm …" through ${link} when ${dir} is on PATH and kubectl's own completion is loaded (kubectl >= 1.26)`);
  return { summary: [`${link} -> ${target}`] };
}
