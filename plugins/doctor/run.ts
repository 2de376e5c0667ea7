// doctor: reads what the VMs of a namespace (or a group, or named VMs) depend on, once, and checks each
// precondition (shared/vm/doctor-checks.ts); then, unless --skip-vm, each VM over SSH, read-only. Exit 1 when a
// check fails.
import { checkNamespace } from '../../shared/cli/args.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { sshLimits } from '../../shared/cli/ssh-flags.ts';
import { CliError, ExitCode } from '../../shared/errors.ts';
import { injectorConfigMapName, meshConfigMapName, ROOT_CERT_CONFIGMAP } from '../../shared/istio/revision.ts';
import { ISTIOD_GATEWAY, istiodVirtualServiceName } from '../../shared/istio/expose-istiod.ts';
import { findVmGateway } from '../../shared/kube/gateway.ts';
import { configMapRef, type ConfigMap } from '../../shared/kube/istio-reads.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { parseYamlMapping } from '../../shared/vm/bundle.ts';
import { clusterChecks, doctorReport, doctorTable, type Check, type ClusterFacts, type Deployment, type Service, type WorkloadGroup } from '../../shared/vm/doctor-checks.ts';
import { vmChecks } from '../../shared/vm/doctor-vm.ts';
import { listRecords, type VmRecord } from '../../shared/vm/record.ts';
import type { DoctorArgs } from './command.ts';

const ISTIO = 'networking.istio.io/v1';

export async function run(ctx: PluginContext, args: DoctorArgs): Promise<Result> {
  const limits = args.skipVm ? undefined : sshLimits(args);
  const kube = ctx.kube();
  const namespace = checkNamespace(ctx.namespace());
  const ins = checkNamespace(args.istioNamespace);
  const revision = args.revision ?? '';

  // Which VMs and groups: named VMs (their records), one group, or everything in the namespace.
  const [records, groups, entries] = await Promise.all([
    listRecords(kube, namespace),
    kube.list<WorkloadGroup>(ISTIO, 'WorkloadGroup', { namespace }),
    kube.list<KubeObject>(ISTIO, 'WorkloadEntry', { namespace }),
  ]);
  let vms: VmRecord[] = records;
  if (args.vm?.length) {
    const missing = args.vm.filter((v) => !records.some((r) => r.vm === v));
    if (missing.length) {
      throw new CliError(`no kubectl-vm record of ${missing.join(', ')} in namespace ${namespace}`, ExitCode.general, { hint: `list the VMs with: kubectl vm status -n ${namespace}` });
    }
    vms = records.filter((r) => args.vm!.includes(r.vm));
  }
  if (args.group) vms = vms.filter((r) => r.group === args.group);
  const groupNames = args.group ? [args.group] : args.vm?.length ? [...new Set(vms.map((r) => r.group).filter(Boolean))] : [...new Set([...groups.map((g) => g.metadata.name!), ...vms.map((r) => r.group).filter(Boolean)])];
  const ownEntries = new Set(entries.map((e) => e.metadata.name));
  const groupFacts = groupNames.sort().map((name) => {
    const ofGroup = records.filter((r) => r.group === name);
    return {
      name,
      group: groups.find((g) => g.metadata.name === name),
      // A group with no VM yet will rely on auto-registration as soon as one is onboarded.
      vmsWithoutOwnEntry: ofGroup.length ? ofGroup.filter((r) => !ownEntries.has(r.vm)).length : 1,
    };
  });
  const saNames = [...new Set([...groupFacts.map((g) => g.group?.spec?.template?.serviceAccount ?? (g.group ? 'default' : undefined)), ...vms.map((r) => r.serviceAccount)].filter((s): s is string => !!s))].sort();

  const get = <T extends KubeObject>(apiVersion: string, kind: string, name: string, ns: string) => kube.get<T>({ apiVersion, kind, name, namespace: ns });
  const [mesh, injector, services, istiodGateway, istiodVirtualService, istiod, rootCert, serviceAccounts] = await Promise.all([
    kube.get<ConfigMap>(configMapRef(meshConfigMapName(revision), ins)),
    kube.get<ConfigMap>(configMapRef(injectorConfigMapName(revision), ins)),
    kube.list<Service>('v1', 'Service', { namespace: ins }),
    get(ISTIO, 'Gateway', ISTIOD_GATEWAY, ins),
    get(ISTIO, 'VirtualService', istiodVirtualServiceName(revision), ins),
    get<Deployment>('apps/v1', 'Deployment', revision ? `istiod-${revision}` : 'istiod', ins),
    kube.get<ConfigMap>(configMapRef(ROOT_CERT_CONFIGMAP, namespace)),
    Promise.all(
      saNames.map(async (name) => {
        const [sa, access] = await Promise.all([
          get('v1', 'ServiceAccount', name, namespace),
          kube.reviewAccess({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace, name }),
        ]);
        return { name, exists: sa !== undefined, mayMintTokens: access.allowed, reason: access.reason };
      }),
    ),
  ]);
  // The gateway of each network in play, found as every command finds it.
  const meshYaml = parseYamlMapping(mesh?.data?.mesh);
  const networksYaml = parseYamlMapping(mesh?.data?.meshNetworks);
  let meshNetwork: string | undefined;
  try {
    meshNetwork = (JSON.parse(injector?.data?.values ?? '{}') as { global?: { network?: string } }).global?.network || undefined;
  } catch {
    meshNetwork = undefined;
  }
  // A group without a network is on the cluster's network.
  const networks = [...new Set([meshNetwork, ...groupFacts.map((g) => g.group?.spec?.template?.network || meshNetwork)])];
  const gateways = await Promise.all(
    networks.map(async (network) => {
      try {
        return { network, gateway: await findVmGateway(kube, { istioNamespace: ins, network, meshConfig: meshYaml, meshNetworks: networksYaml }) };
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        return { network, tried: err.details.map((d) => d.replace(/^\d+\. /, '')) };
      }
    }),
  );
  const facts: ClusterFacts = {
    gateways,
    istioNamespace: ins,
    revision,
    namespace,
    meshConfig: mesh?.data?.mesh,
    meshNetworks: mesh?.data?.meshNetworks,
    injectorValues: injector?.data?.values,
    services,
    istiodGateway,
    istiodVirtualService,
    istiod,
    rootCert: rootCert !== undefined,
    groups: groupFacts,
    serviceAccounts,
  };
  const checks: Check[] = clusterChecks(facts);
  if (limits) checks.push(...(await vmChecks(ctx, args, limits, vms, facts)));

  const report = doctorReport(checks);
  const exitCode = report.summary.fail > 0 ? ExitCode.general : ExitCode.ok;
  const trailer = [`${report.summary.pass} passed, ${report.summary.warn} warnings, ${report.summary.fail} failed`];
  if (args.output) return { objects: [report as never], exitCode };
  return { summary: doctorTable(report), trailer, exitCode };
}

