import type { DryRun } from './flags.ts';

/** kubectl's suffix for messages about writes that were not made. */
export function dryRunSuffix(dryRun: DryRun): string {
  return dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
}
