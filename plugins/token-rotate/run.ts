// token rotate: for each VM, a binding of the next generation, a token bound to it, delivered over SSH (or
// written to --output-dir); only once it is in place is the record moved to the new generation and the old
// bindings deleted, which revokes the old tokens. A VM that cannot be reached keeps its old token and binding,
// and the new binding is deleted again: nothing is half-rotated.
import fs from 'node:fs';
import path from 'node:path';
import { checkNamespace } from '../../shared/cli/args.ts';
import { parseDuration, tokenSeconds } from '../../shared/cli/duration.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { sshLimits } from '../../shared/cli/ssh-flags.ts';
import { CliError, ExitCode, UnreachableError, UsageError } from '../../shared/errors.ts';
import { writeFileAtomic } from '../../shared/fs/write.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { humanDuration } from '../../shared/output/age.ts';
import { SshDelivery } from '../../shared/vm/deliver/ssh.ts';
import { failedRow, fleetResult, resultList, type VmResult } from '../../shared/vm/fleet-result.ts';
import { layoutFor } from '../../shared/vm/layout.ts';
import { ANNOTATIONS, annotateRecord, bindingName, createBinding, deleteBindings, listBindings, mintBoundToken, readRecordSecret, type VmRecord } from '../../shared/vm/record.ts';
import { selectRecords } from '../../shared/vm/select.ts';
import { describeTarget, forEachVm, parseSshTarget, VmConnector } from '../../shared/vm/ssh-connect.ts';
import { swapToken, tokenPaths } from '../../shared/vm/token-swap.ts';
import type { TokenRotateArgs } from './command.ts';

const USAGE = 'kubectl vm token rotate <vm>… | -l <selector> | --all [--before 6h] [-n <namespace>]';
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function run(ctx: PluginContext, args: TokenRotateArgs): Promise<Result> {
  const dryRun = ctx.dryRun !== 'none';
  const seconds = tokenSeconds('token-duration', args.tokenDuration, '24h');
  const beforeMs = args.before !== undefined ? parseDuration('before', args.before) : undefined;
  if (args.confirm && (args.outputDir !== undefined || beforeMs !== undefined)) throw new UsageError('--confirm cannot be combined with --output-dir or --before', { hint: 'kubectl vm token rotate --confirm <vm> -n <namespace>' });
  if (args.outputDir === '') throw new UsageError('--output-dir needs a directory', { hint: 'e.g. --output-dir ./tokens' });
  const limits = sshLimits(args);
  const kube = ctx.kube();
  const namespace = checkNamespace(ctx.namespace());
  const { records, missing } = await selectRecords(kube, namespace, { vms: args.vm, selector: args.selector, all: args.all }, USAGE);
  const items: VmResult[] = missing.map((m) => ({ namespace, name: m, result: 'failed', message: `no kubectl-vm record of ${m} in namespace ${namespace}`, hint: `list the VMs with: kubectl vm status -n ${namespace}` }));
  const row = (r: VmRecord, result: string, message: string): VmResult => ({ namespace, name: r.vm, result, message });

  // Which VMs: --before keeps those whose token expires within the window; a fleet run leaves revoked VMs alone.
  const now = ctx.now();
  const chosen: VmRecord[] = [];
  for (const r of records) {
    const named = args.vm?.includes(r.vm);
    if (r.revokedAt && !named && !args.confirm) items.push(row(r, 'skipped', `revoked at ${r.revokedAt}; name it to give it a token again`));
    else if (beforeMs !== undefined && r.tokenExpires && Date.parse(r.tokenExpires) - now.getTime() > beforeMs) items.push(row(r, 'skipped', `token expires in ${humanDuration(Date.parse(r.tokenExpires) - now.getTime())}, after --before ${args.before}`));
    else chosen.push(r);
  }

  if (args.confirm) {
    for (const r of chosen) {
      try {
        const old = (await listBindings(kube, namespace, r.vm)).map((b) => b.metadata.name!).filter((n) => n !== bindingName(r.vm, r.generation));
        if (old.length === 0) items.push(row(r, 'unchanged', `only generation ${r.generation} is valid`));
        else if (dryRun) items.push(row(r, 'would confirm', `would delete ${old.join(', ')}`));
        else items.push(row(r, 'confirmed', `deleted ${(await deleteBindings(kube, namespace, r.vm, r.generation)).join(', ')}: only generation ${r.generation} is valid`));
      } catch (err) {
        items.push(failedRow(namespace, r.vm, err));
      }
    }
    return done(ctx, args, dryRun, items);
  }

  if (dryRun) {
    for (const r of chosen) {
      const gen = r.generation + 1;
      const where = args.outputDir !== undefined ? `to ${path.join(args.outputDir, r.vm, 'istio-token')}` : r.sshTarget ? `over SSH to ${r.sshTarget}: ${tokenPaths(layoutFor(r.runtime)).join(', ')}` : undefined;
      if (!where) items.push(row(r, 'failed', 'the record has no SSH target (the bundle was delivered by hand): use --output-dir'));
      else items.push(row(r, 'would rotate', `would mint ${bindingName(r.vm, gen)} (valid ${args.tokenDuration}) and write it ${where}; then delete the older bindings`));
    }
    return done(ctx, args, dryRun, items);
  }

  const connector = args.outputDir === undefined ? new VmConnector(ctx, args, limits) : undefined;
  const outcomes = await ctx.step(`Rotating the tokens of ${chosen.length} VM${chosen.length === 1 ? '' : 's'}`, async (report) => {
    let finished = 0;
    const out = await forEachVm(ctx, chosen, limits.concurrency, async (r) => {
      try {
        return await rotateOne(ctx, kube, r, args, seconds, connector);
      } finally {
        report(`Rotating the tokens of ${chosen.length} VMs: ${++finished} done`);
      }
    });
    report(`${out.filter((o) => o.ok).length} of ${chosen.length} rotated`);
    return out;
  });
  outcomes.forEach((o, i) => items.push(o.ok ? o.value : failedRow(namespace, chosen[i]!.vm, o.error)));
  if (args.outputDir !== undefined && items.some((i) => i.result === 'written')) {
    ctx.log.warn(`new tokens written under ${args.outputDir} (mode 0600): deliver them, then revoke the old ones with: kubectl vm token rotate --confirm <vm> -n ${namespace}`);
  }
  return done(ctx, args, dryRun, items);
}

function done(ctx: PluginContext, args: TokenRotateArgs, dryRun: boolean, items: VmResult[]): Result {
  if (items.length === 0) ctx.log.note('there are no VM records to rotate');
  items.sort((a, b) => a.name.localeCompare(b.name));
  return fleetResult(resultList('token rotate', dryRun, items), args.output);
}

async function rotateOne(ctx: PluginContext, kube: KubeClient, r: VmRecord, args: TokenRotateArgs, seconds: number, connector: VmConnector | undefined): Promise<VmResult> {
  const namespace = r.namespace;
  if (connector && !r.sshTarget) {
    throw new CliError('the record has no SSH target (the bundle was delivered by hand)', ExitCode.general, { hint: `write the token locally with --output-dir, copy it to the VM, then: kubectl vm token rotate --confirm ${r.vm} -n ${namespace}` });
  }
  const secret = await readRecordSecret(kube, namespace, r.vm);
  if (!secret) throw new CliError(`the record of ${r.vm} disappeared`, ExitCode.general);
  const gen = r.generation + 1;
  const binding = await createBinding(kube, secret, gen);
  let delivered = false;
  try {
    const minted = await mintBoundToken(kube, binding, r.serviceAccount, seconds);
    let bundleSha256: string | undefined;
    if (args.outputDir !== undefined) {
      const dir = path.join(args.outputDir, r.vm);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileAtomic(path.join(dir, 'istio-token'), minted.token, 0o600);
    } else {
      const target = parseSshTarget(r.sshTarget!, 'root');
      const outcome = await connector!.with(target, (session) => swapToken(new SshDelivery(session), layoutFor(r.runtime), minted.token));
      if (!outcome.delivered) {
        if (outcome.partial) {
          delivered = true; // both tokens are now on the VM: keep both bindings valid
          throw new CliError(`${describeTarget(target)}: the new token reached only some of its places (${outcome.reason}); both the old and the new token stay valid`, ExitCode.general, { hint: `run the rotation again: kubectl vm token rotate ${r.vm} -n ${namespace}` });
        }
        throw new UnreachableError(`${describeTarget(target)}: ${outcome.reason}`, { hint: 'the VM keeps its old token, which stays valid' });
      }
      bundleSha256 = outcome.bundleSha256;
    }
    delivered = true;
    const annotations: Record<string, string | null> = { [ANNOTATIONS.tokenGeneration]: String(gen), [ANNOTATIONS.tokenExpires]: rfc3339(new Date(minted.expires)), [ANNOTATIONS.revokedAt]: null };
    if (bundleSha256) annotations[ANNOTATIONS.bundleSha256] = bundleSha256;
    await annotateRecord(kube, namespace, r.vm, annotations);
    if (args.outputDir !== undefined) {
      return { namespace, name: r.vm, result: 'written', message: `${binding.metadata.name} written to ${path.join(args.outputDir, r.vm, 'istio-token')}; older tokens stay valid until --confirm` };
    }
    const gone = await deleteBindings(kube, namespace, r.vm, gen);
    return { namespace, name: r.vm, result: 'rotated', message: `${binding.metadata.name} delivered to ${r.sshTarget}, expires ${rfc3339(new Date(minted.expires))}${gone.length ? `; deleted ${gone.join(', ')}` : ''}` };
  } catch (err) {
    // The new token never arrived: delete its binding, so that it is dead wherever it is. The old one stays.
    if (!delivered) await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: binding.metadata.name!, namespace }, { uid: binding.metadata.uid }).catch(() => undefined);
    ctx.log.debug(`${r.vm}: ${(err as Error).message}`);
    throw err;
  }
}
