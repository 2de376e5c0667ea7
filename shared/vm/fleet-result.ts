// The result of a day-2 command on one VM or a fleet (token rotate, token revoke, offboard): one row per VM, a
// table for people and a VMResultList for scripts (-o json|yaml), and the exit code (1 when any VM failed).
import { asCliError, ExitCode } from '../errors.ts';
import type { Result } from '../cli/plugin.ts';
import { formatTable } from '../output/table.ts';

export interface VmResult {
  namespace: string;
  name: string;
  /** What happened: e.g. rotated, revoked, offboarded, unchanged, skipped, failed (or "would …" in a dry run). */
  result: string;
  /** One line of detail: what was deleted, written, or why it failed. */
  message: string;
  /** Set when the VM failed: the error's hint (what to do next). */
  hint?: string;
}

export interface VmResultList {
  apiVersion: 'kubectl-vm.io/v1alpha1';
  kind: 'VMResultList';
  metadata: { command: string; dryRun: boolean };
  items: VmResult[];
  summary: Record<string, number>;
}

export const failedRow = (namespace: string, name: string, err: unknown): VmResult => {
  const e = asCliError(err);
  return { namespace, name, result: 'failed', message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
};

export function resultList(command: string, dryRun: boolean, items: VmResult[]): VmResultList {
  const summary: Record<string, number> = {};
  for (const i of items) summary[i.result] = (summary[i.result] ?? 0) + 1;
  return { apiVersion: 'kubectl-vm.io/v1alpha1', kind: 'VMResultList', metadata: { command, dryRun }, items, summary };
}

/** The command's Result: the table (or the list for -o), hints of failed VMs on stderr, exit 1 if any failed. */
export function fleetResult(list: VmResultList, output: string | undefined): Result {
  const failed = list.items.filter((i) => i.result === 'failed');
  const exitCode = failed.length ? ExitCode.general : ExitCode.ok;
  const trailer = failed.flatMap((f) => (f.hint ? [`hint: ${f.namespace}/${f.name}: ${f.hint}`] : []));
  if (output === 'json' || output === 'yaml') return { objects: [list as never], trailer, exitCode };
  return { summary: formatTable(['NAMESPACE', 'VM', 'RESULT', 'MESSAGE'], list.items.map((i) => [i.namespace, i.name, i.result, i.message])), trailer, exitCode };
}
