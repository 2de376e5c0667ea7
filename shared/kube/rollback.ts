// Undoing the first steps of a command whose later step failed, so that no half-done state is left behind.
import { CliError } from '../errors.ts';
import type { Logger } from '../output/logger.ts';
import type { KubeClient } from './client.ts';
import { kubectlResource } from './ensure.ts';
import { describeRef, refOf, type KubeObject } from './objects.ts';

/**
 * Deletes what this run created, newest first, each only if it is still the very object we created (uid
 * precondition). A rollback that fails is added to the error's details with the command that finishes the job.
 */
export async function rollBack(kube: KubeClient, log: Logger, created: KubeObject[], failure: unknown): Promise<void> {
  for (const obj of [...created].reverse()) {
    const ref = refOf(obj);
    try {
      await kube.delete(ref, obj.metadata.uid ? { uid: obj.metadata.uid } : undefined);
      log.note(`rolled back: deleted ${describeRef(ref)}, which this run had created`);
    } catch (err) {
      const line = `could not roll back ${describeRef(ref)} (${(err as Error).message}); delete it with: kubectl delete ${kubectlResource(ref)} ${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`;
      if (failure instanceof CliError) failure.details.push(line);
      else log.warn(line);
    }
  }
}
