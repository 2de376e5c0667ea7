// remove-from-mesh external-service: deletes the Service and the ServiceEntry that add-to-mesh made, and only
// those: an object without kubectl-vm's managed-by label is refused before anything is deleted. An orphaned
// ServiceEntry (its Service already gone) is removed too, and "already gone" is success with a note.
import { checkNamespace, checkServiceName } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { UsageError } from '../../shared/errors.ts';
import { serviceEntryName } from '../../shared/istio/external-service.ts';
import { deleteChecked, notOurs } from '../../shared/kube/ensure.ts';
import { describeRef, isManaged, type KubeObject, type ObjectRef } from '../../shared/kube/objects.ts';
import type { RemoveFromMeshArgs } from './command.ts';

export async function run(ctx: PluginContext, args: RemoveFromMeshArgs): Promise<Result> {
  if (!args.name) {
    throw new UsageError('expecting external service name', { hint: 'usage: kubectl vm remove-from-mesh external-service <name> [-n <namespace>]' });
  }
  const name = checkServiceName('service name', args.name);
  const namespace = checkNamespace(ctx.namespace());
  const kube = ctx.kube();
  const refs: ObjectRef[] = [
    { apiVersion: 'v1', kind: 'Service', name, namespace },
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', name: serviceEntryName(name), namespace },
  ];
  const live = await Promise.all(refs.map((ref) => kube.get<KubeObject>(ref)));
  if (live.every((o) => o === undefined)) {
    ctx.log.note(`nothing to remove: neither Service "${name}" nor ServiceEntry "${serviceEntryName(name)}" exists in namespace "${namespace}"`);
    return { objects: [], summary: [] };
  }
  live.forEach((obj, i) => {
    if (obj && !isManaged(obj)) throw notOurs(refs[i]!, 'delete');
  });

  const summary: string[] = [];
  const deleted: KubeObject[] = [];
  const messages = [
    `Kubernetes Service "${name}.${namespace}" has been deleted for external service "${name}"`,
    `ServiceEntry "${serviceEntryName(name)}.${namespace}" has been deleted for external service "${name}"`,
  ];
  for (const [i, ref] of refs.entries()) {
    const obj = live[i];
    if (!obj) {
      ctx.log.note(`${describeRef(ref)} was already gone`);
      continue;
    }
    const gone = await ctx.step(describeRef(ref), async (report) => {
      const existed = await deleteChecked(kube, { ...obj, apiVersion: ref.apiVersion, kind: ref.kind });
      report(`${describeRef(ref)} ${existed ? 'deleted' : 'already gone'}${dryRunSuffix(ctx.dryRun)}`);
      return existed;
    });
    if (gone) {
      deleted.push(obj);
      summary.push(messages[i]! + dryRunSuffix(ctx.dryRun));
    }
  }
  return { objects: deleted, summary };
}
