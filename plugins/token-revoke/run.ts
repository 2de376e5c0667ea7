// token revoke: deletes every token binding of each VM, so that every token kubectl-vm minted for it fails
// TokenReview at once (after the API server's 10 s cache), and marks the record revoked. The VM is not touched.
import { checkNamespace } from '../../shared/cli/args.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { failedRow, fleetResult, resultList, type VmResult } from '../../shared/vm/fleet-result.ts';
import { ANNOTATIONS, annotateRecord, deleteBindings, listBindings, type VmRecord } from '../../shared/vm/record.ts';
import { selectRecords } from '../../shared/vm/select.ts';
import type { TokenRevokeArgs } from './command.ts';

const USAGE = 'kubectl vm token revoke <vm>… | -l <selector> | --all [-n <namespace>]';

export async function run(ctx: PluginContext, args: TokenRevokeArgs): Promise<Result> {
  const kube = ctx.kube();
  const namespace = checkNamespace(ctx.namespace());
  const dryRun = ctx.dryRun !== 'none';
  const { records, missing } = await selectRecords(kube, namespace, { vms: args.vm, selector: args.selector, all: args.all }, USAGE);
  const now = ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z');

  const one = async (r: VmRecord): Promise<VmResult> => {
    const bindings = (await listBindings(kube, namespace, r.vm)).map((b) => b.metadata.name!);
    const row = (result: string, message: string) => ({ namespace, name: r.vm, result, message });
    if (bindings.length === 0 && r.revokedAt) return row('unchanged', `already revoked at ${r.revokedAt}`);
    if (dryRun) return row('would revoke', bindings.length ? `would delete ${bindings.join(', ')}` : 'no binding left; would mark the record revoked');
    const gone = await deleteBindings(kube, namespace, r.vm);
    await annotateRecord(kube, namespace, r.vm, { [ANNOTATIONS.revokedAt]: now });
    return row('revoked', gone.length ? `deleted ${gone.join(', ')}` : 'no binding left; the record is marked revoked');
  };

  const items: VmResult[] = [];
  for (const r of records) {
    try {
      items.push(await one(r));
    } catch (err) {
      items.push(failedRow(namespace, r.vm, err));
    }
  }
  for (const m of missing) items.push({ namespace, name: m, result: 'failed', message: `no kubectl-vm record of ${m} in namespace ${namespace}`, hint: `list the VMs with: kubectl vm status -n ${namespace}` });
  if (items.length === 0) ctx.log.note(`there are no VM records in namespace ${namespace}${args.selector ? ` matching -l ${args.selector}` : ''}`);
  if (items.some((i) => i.result === 'revoked')) {
    ctx.log.note('what stops working: the revoked tokens fail TokenReview within 10 s, so the VMs get no new certificate; each proxy keeps its current workload certificate until it expires (24 h by default)');
    ctx.log.note(`to let a VM back in: kubectl vm token rotate <vm> -n ${namespace}`);
  }
  return fleetResult(resultList('token revoke', dryRun, items), args.output);
}
