// add-to-mesh external-service: a selector-less Service and a ServiceEntry mesh-expansion-<name> whose endpoints
// are the VMs (reference/istioctl.md §3). Everything is validated before the first request. Both objects are
// written in one transaction: if the second write fails, the first is undone (a Service this run created is
// deleted, one it updated is restored), so a failure leaves the cluster as it was.
//
// Concurrent runs for one service with different ports: each run, after writing its pair, reads the Service
// again. If another run changed it in between, the ServiceEntry may now be that run's or ours, so the pair is
// written again. The last run to write the Service then also writes the last ServiceEntry, and the pair matches.
import { checkNamespace, checkServiceName, checkSubdomain, parseAddresses, parseKeyValues } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { ConflictError, UsageError } from '../../shared/errors.ts';
import { buildService, buildServiceEntry, type ExternalServiceSpec } from '../../shared/istio/external-service.ts';
import { parsePorts } from '../../shared/istio/ports.ts';
import { ensure, hasDesired, type Ensured, type Outcome } from '../../shared/kube/ensure.ts';
import { describeRef, refOf, type KubeObject } from '../../shared/kube/objects.ts';
import { backoffDelay, defaultBackoff } from '../../shared/kube/retry.ts';
import { transaction, type ObjectApi } from '../../shared/kube/transaction.ts';
import type { AddToMeshArgs } from './command.ts';

const USAGE = 'kubectl vm add-to-mesh external-service <name> <ip>[,<ip>…] [<protocol>:]<port>… [-n <namespace>]';

/** How many times the pair is written again when concurrent runs keep changing the Service. */
const ROUNDS = 5;
/** The pause before writing again: up to 50, 100, 200, 400 ms (full jitter). */
const REWRITE_BACKOFF = { ...defaultBackoff, baseMs: 50 };

/** Checks every argument, and only then asks for the namespace (which may read the kubeconfig). */
export function specFrom(args: AddToMeshArgs, namespace: () => string): ExternalServiceSpec {
  if (!args.name || !args.ips || !args.ports?.length) {
    throw new UsageError('provide service name, IP and Port List', { hint: `usage: ${USAGE}` });
  }
  const spec = {
    name: checkServiceName('service name', args.name),
    addresses: parseAddresses(args.ips),
    ports: parsePorts(args.ports),
    labels: parseKeyValues(args.labels ?? [], 'label'),
    annotations: parseKeyValues(args.annotations ?? [], 'annotation'),
    serviceAccount: checkSubdomain('service account', args.serviceAccount),
    clusterDomain: checkSubdomain('cluster domain', args.clusterDomain),
  };
  return { ...spec, namespace: checkNamespace(namespace()) };
}

const VERB: Record<Outcome, string> = { created: 'has been created in', configured: 'has been updated in', unchanged: 'is unchanged in' };

export async function run(ctx: PluginContext, args: AddToMeshArgs): Promise<Result> {
  const spec = specFrom(args, ctx.namespace);
  const kube = ctx.kube();
  const apply = (api: ObjectApi, desired: KubeObject) =>
    ctx.step(describeRef(refOf(desired)), async (report): Promise<Ensured<KubeObject>> => {
      const result = await ensure(api, desired);
      report(`${describeRef(refOf(desired))} ${result.outcome}${dryRunSuffix(ctx.dryRun)}`);
      return result;
    });
  const desiredService = buildService(spec);

  const { service, entry } = await transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
    // The first outcome that changed something is the one to report ("created", not a later round's "unchanged").
    const outcome = (was: Outcome | undefined, now: Outcome) => (was && was !== 'unchanged' ? was : now);
    let so: Outcome | undefined;
    let eo: Outcome | undefined;
    for (let round = 1; ; round++) {
      const service = await apply(tx, desiredService);
      const entry = await apply(tx, buildServiceEntry(spec));
      so = outcome(so, service.outcome);
      eo = outcome(eo, entry.outcome);
      if (ctx.dryRun !== 'none' || hasDesired(desiredService, await tx.get(refOf(desiredService)))) {
        return { service: { object: service.object, outcome: so }, entry: { object: entry.object, outcome: eo } };
      }
      if (round >= ROUNDS) {
        throw new ConflictError(`${describeRef(refOf(desiredService))} keeps being changed by someone else while add-to-mesh writes it and its ServiceEntry`, {
          hint: 'another add-to-mesh of the same service may be running; run this one again when it is done',
        });
      }
      ctx.log.note(`${describeRef(refOf(desiredService))} was changed by another run meanwhile; writing it and its ServiceEntry again`);
      // A random pause, longer each round: runs that all write again at once would keep undoing each other.
      await defaultBackoff.sleep(backoffDelay(round, REWRITE_BACKOFF));
    }
  });

  const line = (kind: string, obj: KubeObject, outcome: Outcome) =>
    `${kind} "${obj.metadata.name}.${spec.namespace}" ${VERB[outcome]} the Istio service mesh for the external service "${spec.name}"${dryRunSuffix(ctx.dryRun)}`;
  return {
    objects: [service.object, entry.object],
    summary: [line('ServiceEntry', entry.object, entry.outcome), line('Kubernetes Service', service.object, service.outcome)],
  };
}
