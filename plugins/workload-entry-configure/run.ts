// workload-entry configure: the files a VM needs to join the mesh, computed as `istioctl x workload entry
// configure` computes them (reference/istioctl.md §2), for one WorkloadGroup or a fleet of them. Everything is
// read and computed first; only then is anything written, all at once (B11), with the token 0600 (B9).
import path from 'node:path';
import { parseDuration } from '../../shared/cli/duration.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { keepHeapSmall } from '../../shared/cli/heap.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { checkNamespace, checkSubdomain } from '../../shared/cli/args.ts';
import { CliError, ExitCode, UsageError } from '../../shared/errors.ts';
import { checkOutputDirectory, checkOutputFile, dryRunListing, stageDirectory, type ListedFile } from '../../shared/fs/write.ts';
import { tarGzWriter } from '../../shared/fs/tar.ts';
import { bundleFiles } from '../../shared/istio/bundle.ts';
import { injectorConfigMapName, istiodHost, meshConfigMapName, ROOT_CERT_CONFIGMAP } from '../../shared/istio/revision.ts';
import { computeVmConfig, PROXY_CONFIG_ANNOTATION, renderClusterEnv, renderHosts, renderMeshYaml, vmConfigWarnings, type VmConfigInput } from '../../shared/istio/vm-config.ts';
import { parseWorkloadGroups, withDefaults, WORKLOAD_GROUP_API_VERSION, type WorkloadGroup } from '../../shared/istio/workload-group.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { findVmGateway, GatewayNotFoundError, gatewayIp, parseGatewayService } from '../../shared/kube/gateway.ts';
import { defaultRevision, detectClusterId, mintToken, missingIn, presentConfigMap, readConfigMapAcross, readConfigMaps, requireConfigMap } from '../../shared/kube/istio-reads.ts';
import { isIPAddress } from '../../shared/kube/names.ts';
import { mapLimit } from '../../shared/kube/parallel.ts';
import { parseYamlMapping } from '../../shared/vm/bundle.ts';
import { bundleDigest, hostsLines, placedFiles, systemdLayout, type BundleName } from '../../shared/vm/layout.ts';
import { ANNOTATIONS, annotateRecord, checkVmName, createBinding, deleteBindings, ensureRecord, mintBoundToken, parseRecord, type Secret } from '../../shared/vm/record.ts';
import type { WorkloadEntryConfigureArgs } from './command.ts';

interface Options {
  outputDir?: string;
  bundle?: string;
  dryRun: boolean;
  tokenSeconds: number;
  istioNamespace: string;
  revision?: string;
  clusterId?: string;
  ingressIp?: string;
  /** --ingress-service (istioctl's flag) or --gateway-service: the gateway Service, instead of the lookup. */
  ingressService?: { name: string; namespace: string };
  gatewayService?: { name: string; namespace: string };
  gatewayAddress?: string;
  /** --vm: record the VM and bind its token to the record. */
  vm?: string;
  internalIp?: string;
  externalIp?: string;
  concurrency: number;
}

const SOURCES = 'kubectl vm workload-entry configure (-f wg.yaml | --name <name> [-n <namespace>] | -l <selector>) --output-dir <dir>';

/** Every flag checked before the first request (B7, B10 among them). */
export function checkOptions(args: WorkloadEntryConfigureArgs): Options {
  if (args.o !== undefined) {
    if (['yaml', 'json', 'name'].includes(args.o)) {
      throw new UsageError(`-o ${args.o}: workload-entry configure writes files, not Kubernetes objects, so it has no -o`, { hint: 'see the files without writing them with --dry-run; write them with --output-dir <dir> or --bundle <file.tgz>' });
    }
    throw new UsageError(`-o is not the output directory here: kubectl vm uses -o for output formats`, { hint: `write the files with --output-dir ${args.o}` });
  }
  const sources = [args.file?.length && '-f', args.name && '--name', args.selector && '--selector'].filter(Boolean);
  if (sources.length === 0) throw new UsageError('expecting a WorkloadGroup artifact file or the name and namespace of an existing WorkloadGroup', { hint: SOURCES });
  if (sources.length > 1) throw new UsageError(`${sources.join(' and ')} cannot be combined: choose where the WorkloadGroups come from`, { hint: SOURCES });
  const dryRun = args.dryRun !== undefined && args.dryRun !== 'none';
  if (!args.outputDir && !args.bundle && !dryRun) throw new UsageError('expecting an output directory', { hint: 'add --output-dir <dir> (or --bundle <file.tgz>, or --dry-run to only look)' });
  if (args.outputDir && args.bundle) throw new UsageError('--output-dir and --bundle cannot be combined', { hint: 'choose a directory or an archive' });
  const ip = (flag: string, value: string | undefined) => {
    if (value !== undefined && !isIPAddress(value)) throw new UsageError(`invalid ${flag} "${value}": expected an IPv4 or IPv6 address`, { hint: `e.g. ${flag} 10.0.0.5` });
    return value;
  };
  const tokenSeconds = parseDuration('token-duration', args.tokenDuration) / 1000;
  if (tokenSeconds < 600 || tokenSeconds > 2 ** 32) {
    throw new UsageError(`invalid --token-duration "${args.tokenDuration}": it must be between 10 minutes and 2^32 seconds`, { hint: 'the API server refuses shorter tokens; e.g. --token-duration 1h' });
  }
  const istioNamespace = checkNamespace(args.istioNamespace);
  const parts = (args.ingressService ?? '').split('.');
  if (args.ingressService !== undefined && (parts.length > 2 || parts.some((p) => p === ''))) {
    throw new UsageError(`invalid --ingress-service "${args.ingressService}": expected <service> or <service>.<namespace>`, { hint: 'e.g. --ingress-service istio-eastwestgateway.istio-system' });
  }
  const concurrency = Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`invalid --concurrency "${args.concurrency}": expected 1 to 256`, { hint: 'e.g. --concurrency 16' });
  return {
    outputDir: args.outputDir,
    bundle: args.bundle,
    dryRun,
    tokenSeconds,
    istioNamespace,
    revision: args.revision,
    clusterId: args.clusterId,
    ingressIp: ip('--ingress-ip', args.ingressIp),
    ingressService: args.ingressService === undefined ? undefined : { name: checkSubdomain('ingress service', parts[0]!), namespace: parts[1] ? checkNamespace(parts[1]) : istioNamespace },
    gatewayService: args.gatewayService === undefined ? undefined : parseGatewayService(args.gatewayService, istioNamespace),
    gatewayAddress: ip('--gateway-address', args.gatewayAddress),
    vm: args.vm === undefined ? undefined : checkVmName(args.vm, '--vm'),
    internalIp: ip('--internal-ip', args.internalIp),
    externalIp: ip('--external-ip', args.externalIp),
    concurrency,
  };
}


async function loadGroups(ctx: PluginContext, kube: KubeClient, args: WorkloadEntryConfigureArgs): Promise<WorkloadGroup[]> {
  if (args.file?.length) {
    const namespace = ctx.namespace();
    return args.file.flatMap((f) => parseWorkloadGroups(ctx.readFile(f), f === '-' ? 'standard input' : f, namespace));
  }
  const namespace = checkNamespace(ctx.namespace());
  if (args.name) {
    const wg = await kube.get<WorkloadGroup>({ apiVersion: WORKLOAD_GROUP_API_VERSION, kind: 'WorkloadGroup', name: args.name, namespace });
    if (!wg) {
      const notFound = new CliError(`workloadgroup ${args.name} not found in namespace ${namespace}`, ExitCode.general, {
        hint: `create it: kubectl vm workload-group create --name ${args.name} -n ${namespace} --apply`,
      });
      throw await missingIn(kube, namespace, '-n', notFound);
    }
    return [withDefaults(wg)];
  }
  const found = await kube.list<WorkloadGroup>(WORKLOAD_GROUP_API_VERSION, 'WorkloadGroup', { namespace: args.allNamespaces ? '' : namespace, labelSelector: args.selector });
  if (found.length === 0) {
    throw new CliError(`no WorkloadGroup matches -l ${args.selector} ${args.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`}`, ExitCode.general, {
      hint: 'check the selector with: kubectl get workloadgroups -A --show-labels',
    });
  }
  // A fleet's groups stay in memory for the whole run: with only the metadata read here (name, namespace and the
  // proxy.istio.io/config annotation), not the rest (managedFields, last-applied-configuration, uid...).
  return found.map((wg) => withDefaults({ ...wg, metadata: fleetMetadata(wg.metadata) }));
}

/** What workload-entry configure reads of a WorkloadGroup's metadata (computeVmConfig: PROXY_CONFIG_ANNOTATION). */
function fleetMetadata(m: WorkloadGroup['metadata']): WorkloadGroup['metadata'] {
  const proxyConfig = m.annotations?.[PROXY_CONFIG_ANNOTATION];
  return { name: m.name, namespace: m.namespace, ...(proxyConfig === undefined ? {} : { annotations: { [PROXY_CONFIG_ANNOTATION]: proxyConfig } }) };
}

/**
 * The gateway's address for hosts, from the shared lookup (findVmGateway: meshNetworks, the network's labelled
 * Service, meshConfig.ingressService, istio-eastwestgateway, istio-ingressgateway). As istioctl does, a mesh
 * without one gets a warning and a hosts file without istiod's address.
 */
async function detectIngress(ctx: PluginContext, o: Options, revision: string, mesh: { mesh?: string; meshNetworks?: string }, network: string): Promise<string | undefined> {
  try {
    // Only "no gateway anywhere" and an unresolvable hostname degrade; a read that keeps failing is an error.
    const gw = await findVmGateway(ctx.kube(), {
      istioNamespace: o.istioNamespace,
      network,
      meshConfig: parseYamlMapping(mesh.mesh),
      meshNetworks: parseYamlMapping(mesh.meshNetworks),
      service: o.gatewayService ?? o.ingressService,
      address: o.gatewayAddress,
    });
    try {
      return await gatewayIp(ctx, gw);
    } catch (err) {
      throw err instanceof CliError ? new GatewayNotFoundError(err.message, err.exitCode, { details: err.details }) : err;
    }
  } catch (err) {
    if (!(err instanceof GatewayNotFoundError)) throw err;
    ctx.log.warn(`${err.message}${err.details.length ? `; tried: ${err.details.join('; ')}` : ''}`);
    ctx.log.warn(`Could not auto-detect IP for ${istiodHost(o.istioNamespace, revision)}/${o.istioNamespace}. Use --ingress-ip to manually specify the Gateway address to reach istiod from the VM.`);
    return undefined;
  }
}

/** The output path is checked before the first request, and again with every file name before a token is minted. */
function checkTarget(o: Options, names: string[] | (() => string[]) = []): void {
  if (o.bundle !== undefined) checkOutputFile(o.bundle, '--bundle');
  else if (o.outputDir !== undefined) checkOutputDirectory(o.outputDir, names);
}

export async function run(ctx: PluginContext, args: WorkloadEntryConfigureArgs): Promise<Result> {
  const o = checkOptions(args);
  checkTarget(o);
  const kube = ctx.kube();
  // A selector may match thousands of groups: the heap is kept small before their list arrives (its parsing set
  // the run's peak RSS when the flags came after it).
  if (args.selector) keepHeapSmall();
  const groups = await loadGroups(ctx, kube, args);
  const fleet = groups.length > 1;
  if (fleet) keepHeapSmall();
  const revision = o.revision ?? (await defaultRevision(kube, o.istioNamespace));
  // A fleet reads Istio's ConfigMaps with one list, and every namespace's root certificate with another.
  const istioMaps = fleet ? await readConfigMaps(kube, o.istioNamespace, [injectorConfigMapName(revision), meshConfigMapName(revision)]) : undefined;
  const clusterId = o.clusterId ?? (await detectClusterId(kube, o.istioNamespace, revision, istioMaps));
  const meshHint = 'is Istio installed there? check --istio-namespace and --revision';
  const meshCm = (istioMaps ? presentConfigMap(istioMaps.get(meshConfigMapName(revision)), meshConfigMapName(revision), o.istioNamespace, meshHint) : await requireConfigMap(kube, meshConfigMapName(revision), o.istioNamespace, meshHint)).data ?? {};
  const meshConfig = meshCm.mesh ?? '';
  const rootCerts = new Map<string, string>();
  const rootCertMaps = await readConfigMapAcross(kube, ROOT_CERT_CONFIGMAP, [...new Set(groups.map((g) => g.metadata.namespace))]);
  for (const [ns, cm] of rootCertMaps) {
    const found = presentConfigMap(cm, ROOT_CERT_CONFIGMAP, ns, `istiod publishes it into every namespace it sees; is istiod running, and is "${ns}" the WorkloadGroup's namespace?`);
    rootCerts.set(ns, found.data?.['root-cert.pem'] ?? '');
  }
  const ingressIp = o.ingressIp ?? (await detectIngress(ctx, o, revision, meshCm, groups[0]!.spec.template?.network ?? ''));

  const inputOf = (wg: WorkloadGroup): VmConfigInput => ({
    wg,
    meshConfig,
    clusterId,
    revision,
    istioNamespace: o.istioNamespace,
    captureDns: args.captureDns !== false,
    autoregister: args.autoregister === true,
    internalIp: o.internalIp,
    externalIp: o.externalIp,
  });
  // Every group is checked (and its warnings said) before the first token; its configuration is computed when its
  // files are written, so that a fleet's configurations are never all held at once.
  for (const wg of groups) {
    for (const w of vmConfigWarnings(inputOf(wg))) ctx.log.warn(fleet ? `${wg.metadata.namespace}/${wg.metadata.name}: ${w}` : w);
  }
  const hosts = renderHosts(ingressIp, o.istioNamespace, revision);
  const prefixOf = (wg: WorkloadGroup) => (fleet ? `${wg.metadata.namespace}/${wg.metadata.name}/` : '');
  const filesOf = (wg: WorkloadGroup, token: string | undefined): ListedFile[] => {
    const input = inputOf(wg);
    const config = computeVmConfig(input);
    return bundleFiles({ meshYaml: renderMeshYaml(config), clusterEnv: renderClusterEnv(input, config), rootCert: rootCerts.get(wg.metadata.namespace)!, token, hosts }, prefixOf(wg));
  };
  const fileNames = bundleFiles({ meshYaml: '', clusterEnv: '', rootCert: '', hosts: '' }).map((f) => f.name);
  checkTarget(o, () => groups.flatMap((wg) => fileNames.map((n) => prefixOf(wg) + n)));
  const target = o.bundle ?? o.outputDir ?? '.';

  if (o.vm && groups.length !== 1) throw new UsageError(`--vm names one VM, but ${groups.length} WorkloadGroups were given`, { hint: 'pick one with --name, or leave --vm out' });
  if (o.dryRun) return { summary: dryRunListing(target, o.bundle !== undefined, groups.flatMap((wg) => filesOf(wg, undefined)), dryRunSuffix(ctx.dryRun), (name) => name.endsWith('install.sh')) };

  // --vm: one group, its token bound to the VM's record. Otherwise tokens are minted and files written a slice of
  // the fleet at a time, into a staging directory or a temp archive that become the target only when every one is
  // there (B11): memory stays flat whatever the fleet.
  const bound = o.vm ? await vmToken(ctx, kube, groups[0]!, o.vm, o.tokenSeconds) : undefined;
  let boundFiles: ListedFile[] = [];
  try {
    const out = o.bundle ? tarGzWriter(o.bundle, 0o600) : stageDirectory(o.outputDir!);
    try {
      if (bound) {
        boundFiles = filesOf(groups[0]!, bound.token);
        await out.add(boundFiles);
      } else {
        const what = fleet ? `Tokens for ${groups.length} WorkloadGroups` : `Token for service account ${groups[0]!.metadata.namespace}/${groups[0]!.spec.template?.serviceAccount}`;
        await ctx.step(what, async (report) => {
          let done = 0;
          for (let start = 0; start < groups.length; start += SLICE) {
            const slice = groups.slice(start, start + SLICE);
            const tokens = await mapLimit(slice, o.concurrency, async (wg) => {
              const t = await mintToken(kube, wg.metadata.namespace, wg.spec.template?.serviceAccount ?? 'default', o.tokenSeconds);
              if (fleet) report(`${what}: ${++done} minted`);
              return t;
            });
            await out.add(slice.flatMap((wg, i) => filesOf(wg, tokens[i])));
          }
          if (!fleet) report(`${what} minted`);
        });
      }
      await out.commit();
    } finally {
      out.discard();
    }
  } catch (err) {
    await bound?.undo();
    throw err;
  }
  if (bound) await bound.done(boundFiles);

  if (fleet) ctx.log.warn(`${groups.length} security tokens have been generated and stored under "${target}", one istio-token (mode 0600) per WorkloadGroup`);
  else {
    const sa = groups[0]!.spec.template?.serviceAccount;
    const where = o.bundle ? `in "${o.bundle}"` : `at "${path.join(o.outputDir!, 'istio-token')}"`;
    ctx.log.warn(`a security token for namespace "${groups[0]!.metadata.namespace}" and service account "${sa}" has been generated and stored ${where}`);
  }
  const into = (wg: WorkloadGroup) => (o.bundle ? `bundle ${o.bundle}${fleet ? ` (${prefixOf(wg).slice(0, -1)})` : ''}` : `directory ${path.join(o.outputDir!, prefixOf(wg))}`.replace(/\/$/, ''));
  return { summary: groups.map((wg) => `Configuration generation into ${into(wg)} was successful`) };
}

/**
 * --vm: the VM's record (created or updated), a binding of the next token generation, and a token bound to it.
 * done() records the token's expiry and the bundle's digest and deletes older bindings; undo() removes what this
 * run created when the bundle could not be written.
 */
async function vmToken(ctx: PluginContext, kube: KubeClient, wg: WorkloadGroup, vm: string, seconds: number) {
  const namespace = wg.metadata.namespace!;
  const serviceAccount = wg.spec.template?.serviceAccount ?? 'default';
  const { secret, created } = await ensureRecord(kube, { vm, namespace, group: wg.metadata.name!, serviceAccount, runtime: 'none' });
  const generation = parseRecord(secret).generation + 1;
  let binding: Secret | undefined;
  const undo = async () => {
    if (binding) await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: binding.metadata.name!, namespace }, { uid: binding.metadata.uid }).catch(() => false);
    if (created) await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: vm, namespace }, { uid: secret.metadata.uid }).catch(() => false);
  };
  try {
    binding = await createBinding(kube, secret, generation);
    const minted = await ctx.step(`Token for VM ${namespace}/${vm} (service account ${serviceAccount})`, async (report) => {
      const t = await mintBoundToken(kube, binding!, serviceAccount, seconds);
      report(`Token for VM ${namespace}/${vm} minted, bound to secret ${binding!.metadata.name}`);
      return t;
    });
    const done = async (files: ListedFile[]) => {
      const content = Object.fromEntries(files.map((f) => [f.name, f.content])) as Partial<Record<BundleName, string>>;
      const digest = bundleDigest(placedFiles(systemdLayout(), content), hostsLines(content.hosts ?? ''));
      await annotateRecord(kube, namespace, vm, { [ANNOTATIONS.tokenGeneration]: String(generation), [ANNOTATIONS.tokenExpires]: minted.expires, [ANNOTATIONS.bundleSha256]: digest, [ANNOTATIONS.revokedAt]: null });
      await deleteBindings(kube, namespace, vm, generation);
    };
    return { token: minted.token, done, undo };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** How many WorkloadGroups of a fleet get their tokens and files at a time. */
const SLICE = 64;
