// cobra's shell-completion protocol, which kubectl (≥ 1.26) speaks with a plugin's `kubectl_complete-<name>`
// hook: `<executable> __complete <args…> <word being completed>` prints one candidate per line (a tab and a
// description may follow), then `:<directive>`. Kept apart from completion.ts so the router need not load yargs.

/** The hidden first argument that asks an executable for completions. */
export const COMPLETE = '__complete';
/**
 * The same, from kubectl's hook kubectl_complete-vm: kubectl lists the subcommands it finds on PATH itself, so
 * the router leaves those out (it lists them all when kubectl-vm is run directly).
 */
export const KUBECTL_COMPLETE = '__kubectl_complete';

/** cobra's ShellCompDirective bits. */
export const Directive = { default: 0, error: 1, noSpace: 2, noFileComp: 4, filterFileExt: 8, filterDirs: 16, keepOrder: 32 } as const;

export interface Completion {
  values: string[];
  directive: number;
}

export const formatCompletion = (c: Completion): string => c.values.map((v) => `${v}\n`).join('') + `:${c.directive}\n`;
