// status: every VM of a namespace (or -A) from its WorkloadEntry and its kubectl-vm record, with what needs
// attention; --probe asks each VM over SSH, read-only, with bounded parallelism and a per-host time limit.
import { checkNamespace } from '../../shared/cli/args.ts';
import { parseDuration } from '../../shared/cli/duration.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { sshLimits } from '../../shared/cli/ssh-flags.ts';
import { CliError, ExitCode, UsageError } from '../../shared/errors.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { attentionSummary, buildStatus, joinVms, recordsOf, statusList, statusTable, type ProbeResult, type WorkloadEntry } from '../../shared/vm/fleet-status.ts';
import { probeVms } from '../../shared/vm/probe.ts';
import { LABELS, type Secret } from '../../shared/vm/record.ts';
import type { StatusArgs } from './command.ts';

const WE_API = 'networking.istio.io/v1';
const RECORDS = `app.kubernetes.io/managed-by=kubectl-vm,${LABELS.vm}`;

export async function run(ctx: PluginContext, args: StatusArgs): Promise<Result> {
  const warnBeforeMs = parseDuration('warn-before', args.warnBefore);
  if (args.allNamespaces && args.namespace) throw new UsageError('-A and -n cannot be combined', { hint: 'kubectl vm status -A, or kubectl vm status -n <namespace>' });
  const limits = args.probe ? sshLimits(args) : undefined;
  const kube = ctx.kube();
  const all = args.allNamespaces === true;
  const namespace = all ? undefined : checkNamespace(ctx.namespace());
  // '' is every namespace: the cluster-wide list.
  const scope = { namespace: namespace ?? '' };
  const [entries, secrets, pickedEntries, pickedRecords] = await Promise.all([
    kube.list<WorkloadEntry>(WE_API, 'WorkloadEntry', scope),
    kube.list<Secret>('v1', 'Secret', { ...scope, labelSelector: RECORDS }),
    args.selector ? kube.list<WorkloadEntry>(WE_API, 'WorkloadEntry', { ...scope, labelSelector: args.selector }) : undefined,
    args.selector ? kube.list<KubeObject>('v1', 'Secret', { ...scope, labelSelector: `${RECORDS},${args.selector}` }) : undefined,
  ]);
  const id = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const picked = args.selector ? new Set([...pickedEntries!, ...pickedRecords!].map(id)) : undefined;
  let pairs = joinVms(entries, recordsOf(secrets));
  if (picked) pairs = pairs.filter((p) => (p.we && picked.has(id(p.we))) || (p.record && picked.has(`${p.record.namespace}/${p.record.vm}`)));
  const wanted = args.vm ?? [];
  if (wanted.length) {
    const names = (p: (typeof pairs)[number]) => [p.record?.vm, p.we?.metadata.name].filter(Boolean);
    const missing = wanted.filter((w) => !pairs.some((p) => names(p).includes(w)));
    pairs = pairs.filter((p) => names(p).some((n) => wanted.includes(n!)));
    for (const m of missing) ctx.log.info(`Error from server (NotFound): vm "${m}" not found${namespace ? ` in namespace ${namespace}` : ''}`);
    if (missing.length && pairs.length === 0) {
      throw new CliError(`no VM named ${missing.join(', ')}${namespace ? ` in namespace ${namespace}` : ''}: it has neither a kubectl-vm record nor a WorkloadEntry`, ExitCode.general, {
        hint: `list them with: kubectl vm status ${namespace ? `-n ${namespace}` : '-A'}`,
      });
    }
  }

  const now = ctx.now();
  let probes: (ProbeResult | undefined)[] = pairs.map(() => undefined);
  if (limits) probes = await probeVms(ctx, args, limits, pairs.map((p) => p.record));
  const list = statusList(
    pairs.map((p, i) => buildStatus(p, probes[i], now, warnBeforeMs)),
    now,
    args.warnBefore,
  );
  const failed = args.failOnWarn && list.summary.needAttention > 0;
  const notFound = wanted.length > 0 && wanted.some((w) => !list.items.some((i) => i.name === w || i.workloadEntry?.name === w));
  const exitCode = failed || notFound ? ExitCode.general : ExitCode.ok;
  if (args.output === 'json' || args.output === 'yaml') return { objects: [list as never], exitCode };
  if (list.items.length === 0) {
    ctx.log.info(namespace ? `No VMs found in ${namespace} namespace.` : 'No VMs found.');
    return { exitCode };
  }
  return { summary: statusTable(list, now, { allNamespaces: all, wide: args.output === 'wide', probe: args.probe === true }), trailer: attentionSummary(list), exitCode };
}
