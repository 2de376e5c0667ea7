// The end of a command that worked on many VMs: each failure's error, detail and hint on stderr, then one
// table on stdout (VM, ADDRESS, RESULT, TIME, as kubectl prints its tables), and the exit code.
import type { CliError } from '../errors.ts';
import { ExitCode } from '../errors.ts';
import type { Logger } from './logger.ts';

export interface VmOutcome {
  vm: string;
  address: string;
  /** What happened, or `skipped` (after another VM failed) or `failed`. */
  result: string;
  error?: CliError;
  ms: number;
}

/** A VM's error without the VM's name in front, where the table or the line already names it. */
const withoutVm = (message: string, vm: string) => (message.startsWith(`${vm}: `) ? message.slice(vm.length + 2) : message);

export function fleetTable(rows: VmOutcome[]): string[] {
  const cells = [['VM', 'ADDRESS', 'RESULT', 'TIME'], ...rows.map((r) => [r.vm, r.address, r.error ? `failed: ${withoutVm(r.error.message, r.vm)}` : r.result, `${(r.ms / 1000).toFixed(1)}s`])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]! + 3) : v)).join('').trimEnd());
}

/** Reports the failures on stderr; returns the table and the exit code (1 when any VM failed or was skipped). */
export function fleetResult(log: Logger, outcomes: VmOutcome[]): { summary: string[]; exitCode: number } {
  for (const x of outcomes) {
    if (!x.error) continue;
    log.info(`error: ${x.vm}: ${withoutVm(x.error.message, x.vm)}`);
    for (const d of x.error.details) log.info(`  ${d}`);
    if (x.error.hint) log.info(`hint: ${x.error.hint}`);
  }
  if (outcomes.some((x) => x.result === 'skipped')) log.note('VMs were skipped after the first failure; --continue-on-error works through all of them');
  const failed = outcomes.some((x) => x.error || x.result === 'skipped');
  return { summary: fleetTable(outcomes), exitCode: failed ? ExitCode.general : ExitCode.ok };
}
