// offboard: for each VM, first the VM side over SSH (shared/vm/uninstall.ts, from the manifest onboarding left),
// checked by a second read; only then the cluster side: its bindings and record (which revokes every token)
// and the WorkloadEntry when kubectl-vm manages it, checked by a cluster read. A VM that cannot be reached is an
// error that changes nothing, unless --force, which does the cluster side only and says so.
import { checkNamespace } from '../../shared/cli/args.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { sshLimits } from '../../shared/cli/ssh-flags.ts';
import { CliError, ExitCode } from '../../shared/errors.ts';
import { isManaged, type KubeObject } from '../../shared/kube/objects.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { SshDelivery } from '../../shared/vm/deliver/ssh.ts';
import { failedRow, fleetResult, resultList, type VmResult } from '../../shared/vm/fleet-result.ts';
import { HOSTS_BEGIN, layoutFor } from '../../shared/vm/layout.ts';
import { deleteRecord, listBindings, readRecordSecret, type VmRecord } from '../../shared/vm/record.ts';
import { runtimeCommands } from '../../shared/vm/runtime/index.ts';
import { selectRecords } from '../../shared/vm/select.ts';
import { forEachVm, parseSshTarget, VmConnector } from '../../shared/vm/ssh-connect.ts';
import { readManifest } from '../../shared/vm/token-swap.ts';
import { uninstallScript } from '../../shared/vm/uninstall.ts';
import type { OffboardArgs } from './command.ts';

const USAGE = 'kubectl vm offboard <vm>… | -l <selector> | --all [-n <namespace>] [--force] [--keep-workloadentry]';
const WE_API = 'networking.istio.io/v1';

export async function run(ctx: PluginContext, args: OffboardArgs): Promise<Result> {
  const dryRun = ctx.dryRun !== 'none';
  const limits = sshLimits(args);
  const kube = ctx.kube();
  const namespace = checkNamespace(ctx.namespace());
  const { records, missing } = await selectRecords(kube, namespace, { vms: args.vm, selector: args.selector, all: args.all }, USAGE);
  const items: VmResult[] = missing.map((m) => ({ namespace, name: m, result: 'unchanged', message: 'no kubectl-vm record: not onboarded, or offboarded already' }));

  if (dryRun) {
    for (const r of records) items.push({ namespace, name: r.vm, result: 'would offboard', message: await plan(kube, r, args) });
    return done(ctx, args, true, items);
  }
  const connector = new VmConnector(ctx, args, limits);
  const outcomes = await ctx.step(`Offboarding ${records.length} VM${records.length === 1 ? '' : 's'}`, async (report) => {
    let finished = 0;
    const out = await forEachVm(ctx, records, limits.concurrency, async (r) => {
      try {
        return await offboardOne(kube, connector, r, args);
      } finally {
        report(`Offboarding ${records.length} VMs: ${++finished} done`);
      }
    });
    report(`${out.filter((o) => o.ok).length} of ${records.length} offboarded`);
    return out;
  });
  outcomes.forEach((o, i) => items.push(o.ok ? o.value : failedRow(namespace, records[i]!.vm, o.error)));
  return done(ctx, args, false, items);
}

function done(ctx: PluginContext, args: OffboardArgs, dryRun: boolean, items: VmResult[]): Result {
  if (items.length === 0) ctx.log.note('there are no VM records to offboard');
  items.sort((a, b) => a.name.localeCompare(b.name));
  return fleetResult(resultList('offboard', dryRun, items), args.output);
}

async function managedEntry(kube: KubeClient, r: VmRecord): Promise<KubeObject | undefined> {
  const we = await kube.get<KubeObject>({ apiVersion: WE_API, kind: 'WorkloadEntry', name: r.vm, namespace: r.namespace });
  return we && isManaged(we) ? we : undefined;
}

async function plan(kube: KubeClient, r: VmRecord, args: OffboardArgs): Promise<string> {
  const layout = layoutFor(r.runtime);
  const rt = runtimeCommands(r.runtime);
  const vm = r.sshTarget
    ? `would connect to ${r.sshTarget} and ${rt ? `stop the proxy (${rt.stop}), ` : ''}clean up iptables, remove the /etc/hosts block and the files listed in ${layout.manifest}`
    : 'no SSH target: the VM side needs install.sh --uninstall on the VM (and --force here)';
  const bindings = (await listBindings(kube, r.namespace, r.vm)).map((b) => b.metadata.name!);
  const we = args.keepWorkloadentry ? undefined : await managedEntry(kube, r);
  const cluster = [...bindings, r.vm].map((n) => `secret ${n}`).concat(we ? [`workloadentry ${r.vm}`] : []);
  return `${vm}; then delete ${cluster.join(', ')}`;
}

async function offboardOne(kube: KubeClient, connector: VmConnector, r: VmRecord, args: OffboardArgs): Promise<VmResult> {
  const ns = r.namespace;
  // The VM side, checked by a second read.
  let vmSide: string;
  if (!r.sshTarget) {
    if (!args.force) throw new CliError('the record has no SSH target (the bundle was copied by hand), so kubectl vm cannot clean up the VM', ExitCode.general, { hint: `run "sudo ./install.sh --uninstall" in the bundle on the VM, then: kubectl vm offboard ${r.vm} -n ${ns} --force` });
    vmSide = 'VM not touched (no SSH target, --force)';
  } else {
    const target = parseSshTarget(r.sshTarget, 'root');
    try {
      vmSide = await connector.with(target, (session) => cleanVm(new SshDelivery(session), r));
    } catch (err) {
      if (!args.force || (err instanceof CliError && /left on the VM/.test(err.message))) {
        const e = err instanceof CliError ? err : new CliError(String(err));
        throw new CliError(`${e.message}; nothing was changed in the cluster`, e.exitCode, { hint: e.hint ?? `try again, or clean up the cluster side only with --force` });
      }
      vmSide = `VM not reached (--force: its files stay): ${(err as Error).message}`;
    }
  }

  // The cluster side: bindings and record (every token dies), the WorkloadEntry if it is ours.
  const deleted: string[] = [];
  const bindings = (await listBindings(kube, ns, r.vm)).map((b) => b.metadata.name!);
  if (await deleteRecord(kube, ns, r.vm)) deleted.push(`record`);
  if (bindings.length) deleted.push(`${bindings.length} binding${bindings.length > 1 ? 's' : ''}`);
  const we = args.keepWorkloadentry ? undefined : await managedEntry(kube, r);
  if (we) {
    await kube.delete({ apiVersion: WE_API, kind: 'WorkloadEntry', name: r.vm, namespace: ns }, { uid: we.metadata.uid });
    deleted.push('workloadentry');
  }
  const left = [
    (await readRecordSecret(kube, ns, r.vm)) && `secret ${r.vm}`,
    ...(await listBindings(kube, ns, r.vm)).map((b) => `secret ${b.metadata.name}`),
    we && (await managedEntry(kube, r)) && `workloadentry ${r.vm}`,
  ].filter(Boolean);
  if (left.length) throw new CliError(`left in the cluster: ${left.join(', ')}`, ExitCode.general, { hint: `run the offboarding again: kubectl vm offboard ${r.vm} -n ${ns}` });
  return { namespace: ns, name: r.vm, result: args.force && vmSide.startsWith('VM not') ? 'offboarded (cluster only)' : 'offboarded', message: `${vmSide}; deleted ${deleted.join(', ') || 'nothing (already gone)'}` };
}

/** Runs the uninstall script as root, then reads back: no manifest file, no hosts block, no proxy running. */
async function cleanVm(d: SshDelivery, r: VmRecord): Promise<string> {
  const layout = layoutFor(r.runtime);
  const manifest = await readManifest(d, layout);
  const res = await d.run(uninstallScript());
  if (res.code !== 0) throw new CliError(`${d.where}: the uninstall script failed (exit ${res.code}): ${res.stderr.trim().split('\n').pop() ?? ''}`, ExitCode.general, { hint: 'see what it ran with --dry-run, and -v' });
  const lines = res.stdout.trim().split('\n');
  // The second read.
  const paths = manifest?.files.map((f) => f.path) ?? [];
  const still = [...(await d.sha256([...paths, layout.manifest])).keys()];
  const hosts = (await d.read('/etc/hosts')) ?? '';
  if (hosts.split('\n').includes(HOSTS_BEGIN)) still.push('the /etc/hosts block');
  // The runtime the manifest names and the one the record names (a VM re-onboarded with another runtime has both).
  for (const runtime of new Set([manifest?.runtime ?? r.runtime, r.runtime])) {
    const rt = runtimeCommands(runtime);
    if (rt && (await d.run(rt.status)).code === 0) still.push(`a running proxy (${runtime})`);
  }
  if (still.length) throw new CliError(`${d.where}: left on the VM after cleaning up: ${still.join(', ')}`, ExitCode.general, { hint: 'check the VM, then run the offboarding again' });
  const removed = lines.filter((l) => /^(proxy|hosts|files|iptables):/.test(l)).map((l) => l.replace(/^\w+: /, ''));
  return lines.includes('result: nothing to remove') ? 'nothing left on the VM' : `VM cleaned (${removed.join('; ')})`;
}
