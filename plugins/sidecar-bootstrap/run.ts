// sidecar-bootstrap: for each WorkloadEntry, the bundle `tctl x sidecar-bootstrap` makes (sidecar.env, the
// root certificate, a token), delivered over SSH into the VM's proxy-config-dir (or written locally), and the
// proxy started with Docker (reference/sidecar-bootstrap.md). Everything the cluster says is read and checked
// before the first connection; a dry run mints no token and connects nowhere.
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { checkNamespace } from '../../shared/cli/args.ts';
import { concurrency as checkConcurrency, positiveDuration, tokenSeconds as checkTokenSeconds } from '../../shared/cli/duration.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { asCliError, CliError, DataError, ExitCode, UsageError } from '../../shared/errors.ts';
import { tarGz } from '../../shared/fs/tar.ts';
import { checkOutputDirectory, checkOutputFile, dryRunListing as listFiles, writeDirectory, writeFileAtomic, type FileToWrite, type ListedFile } from '../../shared/fs/write.ts';
import {
  BUNDLE_FILES,
  computeSidecar,
  dockerCommands,
  GATEWAY_PORT,
  renderSidecarEnv,
  startScript,
  vmSettings,
  type Gateway,
  type InjectorValues,
  type Sidecar,
  type VmSettings,
  type WorkloadEntry,
} from '../../shared/istio/sidecar-bootstrap.ts';
import { ROOT_CERT_CONFIGMAP } from '../../shared/istio/revision.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { findVmGateway, parseGatewayService } from '../../shared/kube/gateway.ts';
import { configMapRef, mintToken, requireConfigMap, type ConfigMap } from '../../shared/kube/istio-reads.ts';
import { mapLimit } from '../../shared/kube/parallel.ts';
import { fleetResult, type VmOutcome } from '../../shared/output/fleet.ts';
import { SshDelivery } from '../../shared/vm/deliver/ssh.ts';
import { PROXY_USER, SIDECAR_ENV, STATE_DIR, systemdLayout } from '../../shared/vm/layout.ts';
import type { Runtime } from '../../shared/vm/record.ts';
import { chownForProxy } from '../../shared/vm/runtime/docker.ts';
import { preflightError, systemdCommands } from '../../shared/vm/runtime/systemd.ts';
import { hostKeyPolicy, lazyCredentials } from '../../shared/ssh/connect.ts';
import { SshSession } from '../../shared/ssh/session.ts';
import type { SidecarBootstrapArgs } from './command.ts';

const WE_API = 'networking.istio.io/v1';
const USAGE = 'kubectl vm sidecar-bootstrap <workloadentry>[.<namespace>] | --all [-n <namespace>] | -l <selector>';

interface Options {
  dryRun: boolean;
  tokenSeconds: number;
  connectTimeoutMs: number;
  fileTimeoutMs: number;
  sshPort: number;
  concurrency: number;
  istioNamespace: string;
  fleet: boolean;
  runtime: Runtime;
}

/** Every flag checked before the first request, with tctl's rules on what cannot be combined (§2.1). */
export function checkOptions(args: SidecarBootstrapArgs): Options {
  if (args.o !== undefined) {
    if (['yaml', 'json', 'name'].includes(args.o)) {
      throw new UsageError(`-o ${args.o}: sidecar-bootstrap copies files to VMs, it prints no Kubernetes objects, so it has no -o`, { hint: 'see what would be copied and run with --dry-run; write the bundle locally with --output-dir <dir> or --output-file <file.tgz>' });
    }
    throw new UsageError('-o is not the archive flag here: kubectl vm uses -o for output formats', { hint: `write the archive with --output-file ${args.o || 'vm.tgz'}` });
  }
  const dryRun = args.dryRun !== undefined && args.dryRun !== 'none';
  const sources = [args.workloadentry && 'a WorkloadEntry name', args.all && '--all', args.selector && '--selector'].filter(Boolean);
  if (sources.length === 0) throw new UsageError('expecting a WorkloadEntry name, --all or -l', { hint: USAGE });
  if (sources.length > 1) throw new UsageError(`${sources.join(' and ')} cannot be combined`, { hint: USAGE });
  if (args.outputDir !== undefined && args.outputFile !== undefined) throw new UsageError('it is not possible to use --output-dir flag together with --output-file', { hint: 'choose a directory or an archive' });
  for (const [flag, value] of [['--output-dir', args.outputDir], ['--output-file', args.outputFile]] as const) {
    if (value === '') throw new UsageError(`${flag} needs a path`, { hint: `e.g. ${flag} ${flag === '--output-dir' ? './bundle' : 'vm.tgz'}` });
  }
  const tokenSeconds = checkTokenSeconds('duration', args.duration, '24h');
  const sshPort = Number(args.sshPort);
  if (!/^\d+$/.test(args.sshPort) || sshPort < 1 || sshPort > 65535) throw new UsageError(`invalid --ssh-port "${args.sshPort}": expected 1 to 65535`, { hint: 'e.g. --ssh-port 22' });
  const concurrency = checkConcurrency(args.concurrency);
  const positive = positiveDuration;
  return {
    dryRun,
    tokenSeconds,
    connectTimeoutMs: positive('ssh-connect-timeout', args.sshConnectTimeout),
    fileTimeoutMs: positive('timeout', args.timeout),
    sshPort,
    concurrency,
    istioNamespace: checkNamespace(args.istioNamespace),
    fleet: !args.workloadentry,
    runtime: checkRuntime(args.runtime),
  };
}

async function loadWorkloadEntries(ctx: PluginContext, kube: KubeClient, args: SidecarBootstrapArgs): Promise<WorkloadEntry[]> {
  if (args.workloadentry) {
    // tctl's InferPodInfo: <name>.<namespace>, split at the last dot.
    const dot = args.workloadentry.lastIndexOf('.');
    const name = dot === -1 ? args.workloadentry : args.workloadentry.slice(0, dot);
    const namespace = checkNamespace(dot === -1 ? ctx.namespace() : args.workloadentry.slice(dot + 1));
    const we = await kube.get<WorkloadEntry>({ apiVersion: WE_API, kind: 'WorkloadEntry', name, namespace });
    if (!we) {
      throw new CliError(`workloadentry ${name} not found in namespace ${namespace}`, ExitCode.general, {
        hint: `list them with: kubectl get workloadentries -n ${namespace}${dot === -1 ? ' (a name with dots needs its namespace: <name>.<namespace>)' : ''}`,
      });
    }
    return [we];
  }
  const namespace = checkNamespace(ctx.namespace());
  const found = await kube.list<WorkloadEntry>(WE_API, 'WorkloadEntry', { namespace, labelSelector: args.selector });
  return found.sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

/** The Helm values of the sidecar injector; a cluster without the ConfigMap gets Istio's defaults, with a note. */
async function injectorValues(ctx: PluginContext, kube: KubeClient, istioNamespace: string): Promise<InjectorValues> {
  const cm = await kube.get<ConfigMap>(configMapRef('istio-sidecar-injector', istioNamespace));
  if (!cm) {
    ctx.log.note(`configmap istio-sidecar-injector was not found in namespace ${istioNamespace}: using Istio's defaults (hub docker.io/istio, tag latest)`);
    return {};
  }
  try {
    return JSON.parse(cm.data?.values ?? '{}') as InjectorValues;
  } catch (err) {
    throw new DataError(`data.values of configmap ${istioNamespace}/istio-sidecar-injector is not JSON: ${(err as Error).message}`, { hint: 'check the Istio installation' });
  }
}

function yamlMap(text: string | undefined, what: string): Record<string, unknown> {
  try {
    const v = text ? yaml.load(text) : {};
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch (err) {
    throw new DataError(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { hint: 'check the Istio installation' });
  }
}

/**
 * The mesh-expansion gateway (§2.3 step 6), from the lookup every command shares (meshNetworks, the network's
 * labelled Service, meshConfig.ingressService, istio-eastwestgateway, istio-ingressgateway), which must expose the
 * port VMs reach istiod through.
 */
async function findGateway(kube: KubeClient, args: SidecarBootstrapArgs, istioNamespace: string, meshConfig: Record<string, unknown>, meshNetworks: Record<string, unknown>, values: InjectorValues): Promise<Gateway> {
  const gw = await findVmGateway(kube, {
    istioNamespace,
    network: values.global?.network,
    meshConfig,
    meshNetworks,
    service: args.gatewayService === undefined ? undefined : parseGatewayService(args.gatewayService, istioNamespace),
    address: args.gatewayAddress,
    requirePort: true,
  });
  if (gw.service && gw.ports && !gw.ports.includes(gw.gatewayPort ?? GATEWAY_PORT)) {
    const { namespace, name } = gw.service;
    throw new CliError(`the gateway service ${namespace}/${name} has no port ${gw.gatewayPort ?? GATEWAY_PORT}, which the VMs reach istiod through`, ExitCode.general, {
      hint: `add port ${GATEWAY_PORT} (tls) to the gateway, as Istio's mesh-expansion setup does`,
    });
  }
  return { address: gw.address, isHostname: gw.isHostname };
}

/** One VM's plan: where it is, and everything that goes there except the token. */
interface Plan {
  we: WorkloadEntry;
  id: string;
  settings: VmSettings;
  sidecar: Sidecar;
  env: string;
}

function planFor(we: WorkloadEntry, base: Omit<Parameters<typeof computeSidecar>[0], 'we' | 'settings'>, defaults: { sshPort: number; sshUser: string }): Plan {
  const id = `${we.metadata.name}.${we.metadata.namespace}`;
  if (!we.spec?.serviceAccount) {
    throw new CliError(`workloadentry ${id} has no service account (spec.serviceAccount), so the VM cannot get an identity`, ExitCode.general, {
      hint: `set one: kubectl patch workloadentry ${we.metadata.name} -n ${we.metadata.namespace} --type merge -p '{"spec":{"serviceAccount":"<sa>"}}'`,
    });
  }
  const settings = vmSettings(we, defaults);
  const sidecar = computeSidecar({ ...base, we, settings });
  return { we, id, settings, sidecar, env: renderSidecarEnv(sidecar.env) };
}

/** One per WorkloadEntry: its plan, or (in a fleet) why that VM cannot be bootstrapped. */
type Planned = Plan | { id: string; error: CliError };

/** What the delivery modes share, once the cluster has been read. */
interface Job {
  ctx: PluginContext;
  args: SidecarBootstrapArgs;
  o: Options;
  plans: Planned[];
  rootCert: string;
  tokenFor: (we: WorkloadEntry) => Promise<string>;
}

/** The files of one VM's bundle, by their names on the VM (its proxy-config-dir). */
function bundle(plan: Plan, rootCert: string, token: string | undefined): (FileToWrite & { secret?: boolean })[] {
  return [
    { name: BUNDLE_FILES.env, content: plan.env, mode: 0o644 },
    { name: BUNDLE_FILES.rootCert, content: rootCert, mode: 0o644 },
    { name: BUNDLE_FILES.token, content: token ?? '', mode: 0o600, secret: true },
  ];
}

export async function run(ctx: PluginContext, args: SidecarBootstrapArgs): Promise<Result> {
  const o = checkOptions(args);
  // The local output path, checked before the first request (and with every file name before a token is minted).
  if (args.outputFile !== undefined) checkOutputFile(args.outputFile);
  if (args.outputDir !== undefined) checkOutputDirectory(args.outputDir);
  const kube = ctx.kube();
  const entries = await loadWorkloadEntries(ctx, kube, args);
  if (entries.length === 0) {
    ctx.log.note(`there are no WorkloadEntries to bootstrap in namespace ${ctx.namespace()}${args.selector ? ` matching -l ${args.selector}` : ''}`);
    return {};
  }

  // What every VM shares, read once (§2.3).
  const ns = o.istioNamespace;
  const meshCm = await requireConfigMap(kube, 'istio', ns, `is Istio installed in ${ns}? check --istio-namespace`);
  const meshConfig = yamlMap(meshCm.data?.mesh, `data.mesh of configmap ${ns}/istio`);
  const meshNetworks = yamlMap(meshCm.data?.meshNetworks, `data.meshNetworks of configmap ${ns}/istio`);
  const values = await injectorValues(ctx, kube, ns);
  for (const [key, want] of [['jwtPolicy', 'third-party-jwt'], ['pilotCertProvider', 'istiod']] as const) {
    const have = values.global?.[key];
    if (have !== undefined && have !== want) {
      throw new CliError(`the mesh has values.global.${key}=${have}; VMs bootstrapped this way need ${want}`, ExitCode.general, { hint: `install Istio with --set values.global.${key}=${want}` });
    }
  }
  const rootCert = (await requireConfigMap(kube, ROOT_CERT_CONFIGMAP, ns, `istiod publishes it; is istiod running in ${ns}?`)).data?.['root-cert.pem'] ?? '';
  const gateway = await findGateway(kube, args, ns, meshConfig, meshNetworks, values);
  const defaults = { sshPort: o.sshPort, sshUser: args.sshUser ?? ctx.env.USER ?? os.userInfo().username };
  const base = { meshConfig, values, gateway, istioNamespace: ns };

  // Per-VM checks: one VM's bad annotation fails that VM only, in a fleet.
  const plans: Planned[] = entries.map((we) => {
    try {
      return planFor(we, base, defaults);
    } catch (err) {
      if (!o.fleet) throw err;
      return { id: `${we.metadata.name}.${we.metadata.namespace}`, error: asCliError(err) };
    }
  });

  const offline = args.outputDir !== undefined || args.outputFile !== undefined;
  if (o.dryRun && !offline) return { summary: plans.flatMap((p) => ('error' in p ? [`# ${p.error.message}`] : dryRunListing(p, rootCert, args.startIstioProxy === true, o.runtime))) };

  // One token per service account, shared by its VMs, minted when the first of them needs it.
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (we: WorkloadEntry) => {
    const key = `${we.metadata.namespace}/${we.spec.serviceAccount}`;
    if (!tokens.has(key)) tokens.set(key, mintToken(kube, we.metadata.namespace!, we.spec.serviceAccount!, o.tokenSeconds));
    return tokens.get(key)!;
  };

  const job: Job = { ctx, args, o, plans, rootCert, tokenFor };
  return offline ? writeOffline(job) : deliver(job);
}

// ---------------------------------------------------------------------------------------------------------------
// Dry run and offline bundles

function dryRunListing(p: Plan, rootCert: string, start: boolean, runtime: Runtime): string[] {
  if (runtime === 'systemd') return systemdDryRun(p, rootCert, start);
  const { sshUser, sshHost, sshPort, configDir } = p.settings;
  const lines = [`# workloadentry ${p.id}: would connect to ${sshUser}@${sshHost}:${sshPort}${dryRunSuffix('client')}`, `[sftp] mkdir ${configDir} (mode 0700)`];
  for (const f of bundle(p, rootCert, undefined)) {
    const where = `${configDir}/${f.name}`;
    if (f.secret) lines.push(`[sftp] ${where} (mode 0600): <token: not minted in a dry run>`);
    else lines.push(`[sftp] ${where} (mode ${f.mode.toString(8).padStart(4, '0')}, ${Buffer.byteLength(f.content)} bytes)`);
    if (f.name === BUNDLE_FILES.env) lines.push(String(f.content).replace(/\n$/, ''));
  }
  lines.push(`[ssh] ${chownForProxy(configDir, bundle(p, rootCert, undefined).map((f) => f.name))}`);
  if (start) {
    const docker = dockerCommands(p.sidecar, p.settings.containerName, configDir);
    lines.push(`[ssh] ${docker.remove}`, `[ssh] ${docker.run}`);
  }
  return lines;
}

async function writeOffline({ ctx, args, o, plans, rootCert, tokenFor }: Job): Promise<Result> {
  for (const p of plans) if ('error' in p) throw p.error;
  const ok = plans as Plan[];
  const filesOf = (p: Plan, token: string | undefined): ListedFile[] => {
    const prefix = o.fleet ? `${p.we.metadata.name}/` : '';
    return [
      ...bundle(p, rootCert, token).map((f) => ({ ...f, name: `${prefix}etc/${f.name}` })),
      { name: `${prefix}bin/start-istio-proxy.sh`, content: startScript(p.sidecar, p.settings.containerName), mode: 0o755 },
    ];
  };
  const target = (args.outputFile ?? args.outputDir)!;
  const planned = ok.flatMap((p) => filesOf(p, undefined));
  if (o.dryRun) return { summary: listFiles(target, args.outputFile !== undefined, planned, dryRunSuffix(ctx.dryRun)) };
  if (args.outputDir !== undefined) checkOutputDirectory(args.outputDir, planned.map((f) => f.name));
  const files: FileToWrite[] = [];
  for (const p of ok) files.push(...filesOf(p, await tokenFor(p.we)));
  if (args.outputFile !== undefined) writeFileAtomic(args.outputFile, tarGz(files), 0o600);
  else writeDirectory(args.outputDir!, files);
  ctx.log.warn(`${ok.length === 1 ? 'a service-account token' : `${ok.length} bundles with service-account tokens`} (valid ${args.duration}) written to ${target}`);
  const unpack = args.outputFile !== undefined ? `tar -xzf ${path.basename(target)} && ` : '';
  ctx.log.note(`next: copy ${target} to the VM${o.fleet ? 's (one directory each)' : ''}, then run there: ${unpack}./${o.fleet ? '<name>/' : ''}bin/start-istio-proxy.sh`);
  return { summary: ok.map((p) => `workloadentry ${p.id}: bundle written to ${args.outputFile ?? path.join(args.outputDir!, o.fleet ? p.we.metadata.name! : '')}`) };
}

// ---------------------------------------------------------------------------------------------------------------
// SSH delivery

type Outcome = VmOutcome;

async function deliver({ ctx, args, o, plans, rootCert, tokenFor }: Job): Promise<Result> {
  const hostKeys = hostKeyPolicy(ctx, args.ignoreHostKeys === true);
  const credentials = lazyCredentials(ctx, args.sshKey);

  const one = async (p: Plan): Promise<string> => {
    const methods = await credentials();
    const token = await tokenFor(p.we);
    const target = { host: p.settings.sshHost, port: p.settings.sshPort, user: p.settings.sshUser };
    const ssh = await SshSession.connect(target, { auth: methods, hostKeys, connectTimeoutMs: o.connectTimeoutMs, fileTimeoutMs: o.fileTimeoutMs, debug: ctx.log.verbosity >= 2 ? (m) => ctx.log.debug(`${p.id}: ${m}`) : undefined });
    try {
      if (o.runtime === 'systemd') return await deliverSystemd(ctx, new SshDelivery(ssh), p, rootCert, token, args.startIstioProxy === true);
      const dir = p.settings.configDir;
      await ssh.mkdir(dir, 0o700);
      const files = bundle(p, rootCert, token);
      for (const f of files) await ssh.writeFile(`${dir}/${f.name}`, f.content, f.mode);
      // The proxy runs as uid 1337 in Istio's image: it must be able to read the token, which stays 0600 in 0700.
      const own = await new SshDelivery(ssh).run(chownForProxy(dir, files.map((f) => f.name)));
      if (own.code !== 0) ctx.log.warn(`${p.id}: cannot give ${dir} to uid 1337 (${own.stderr.trim().split('\n').pop()}): the proxy may not read its token; log in as root or allow sudo`);
      if (!args.startIstioProxy) return `copied to ${dir}`;
      const docker = dockerCommands(p.sidecar, p.settings.containerName, dir);
      const removed = await ssh.exec(docker.remove);
      if (removed.code !== 0 && !/No such container/i.test(removed.stderr)) ctx.log.warn(`${p.id}: ${docker.remove} exited ${removed.code}: ${removed.stderr.trim().split('\n')[0]}`);
      const started = await ssh.exec(docker.run);
      if (started.code !== 0) {
        throw new CliError(`${p.id}: docker run exited ${started.code} on ${p.settings.sshHost}: ${started.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, ExitCode.general, {
          hint: `the user ${p.settings.sshUser} must be able to run docker without sudo; see the command with --dry-run`,
        });
      }
      return `copied to ${dir}, proxy ${p.settings.containerName} started`;
    } finally {
      ssh.close();
    }
  };

  if (!o.fleet) {
    const p = plans[0] as Plan;
    const result = await ctx.step(`Bootstrapping ${p.id} over SSH (${p.settings.sshUser}@${p.settings.sshHost}:${p.settings.sshPort})`, async (report) => {
      const r = await one(p);
      report(`${p.id}: ${r}`);
      return r;
    });
    return { summary: [`workloadentry ${p.id}: ${result}`] };
  }

  let stop = false;
  let done = 0;
  const outcomes = await ctx.step(`Bootstrapping ${plans.length} VMs over SSH`, async (report) => {
    const out = await mapLimit(plans, o.concurrency, async (p): Promise<Outcome> => {
      if ('error' in p) {
        if (!args.continueOnError) stop = true;
        return { vm: p.id, address: '-', result: 'failed', error: p.error, ms: 0 };
      }
      const address = `${p.settings.sshUser}@${p.settings.sshHost}:${p.settings.sshPort}`;
      if (stop) return { vm: p.id, address, result: 'skipped', ms: 0 };
      const started = ctx.now().getTime();
      try {
        const result = await one(p);
        return { vm: p.id, address, result: `ok: ${result}`, ms: ctx.now().getTime() - started };
      } catch (err) {
        if (!args.continueOnError) stop = true;
        return { vm: p.id, address, result: 'failed', error: asCliError(err), ms: ctx.now().getTime() - started };
      } finally {
        report(`Bootstrapping ${plans.length} VMs over SSH: ${++done} done`);
      }
    });
    const failed = out.filter((x) => x.error).length;
    report(`${plans.length - failed} of ${plans.length} VMs bootstrapped`);
    return out;
  });
  return fleetResult(ctx.log, outcomes);
}

// ---------------------------------------------------------------------------------------------------------------
// --runtime systemd: onboard's layout (shared/vm/layout.ts) with sidecar.env where istio-start.sh reads it

function checkRuntime(value: string): Runtime {
  if (value !== 'docker' && value !== 'systemd') throw new UsageError(`invalid --runtime "${value}": expected docker or systemd`, { hint: 'e.g. --runtime systemd' });
  return value;
}

/** sidecar.env for istio-start.sh: certificates in /etc/certs (persistent) instead of the container's mount points. */
function systemdEnv(env: string): string {
  return env.replace(/^(PROV_CERT|OUTPUT_CERTS)=.*$/gm, `$1=${systemdLayout().workloadCertDir}`);
}

function systemdFiles(p: Plan, rootCert: string, token: string | undefined): { path: string; content: string; mode: number; secret?: boolean }[] {
  const layout = systemdLayout();
  const content: Record<string, string | undefined> = { 'root-cert.pem': rootCert, 'istio-token': token };
  return [
    ...layout.files.filter((f) => f.source in content).map((f) => ({ path: f.path, content: content[f.source] ?? '', mode: f.mode, secret: f.secret })),
    { path: SIDECAR_ENV, content: systemdEnv(p.env), mode: 0o644 },
    ...layout.extras.map((e) => ({ path: e.path, content: e.content, mode: e.mode })),
  ];
}

function systemdDryRun(p: Plan, rootCert: string, start: boolean): string[] {
  const { sshUser, sshHost, sshPort } = p.settings;
  const lines = [`# workloadentry ${p.id}: would connect to ${sshUser}@${sshHost}:${sshPort}, runtime systemd${dryRunSuffix('client')}`];
  for (const f of systemdFiles(p, rootCert, undefined)) {
    const perm = `mode ${f.mode.toString(8).padStart(4, '0')}`;
    lines.push(f.secret ? `[sftp] ${f.path} (${perm}): <token: not minted in a dry run>` : `[sftp] ${f.path} (${perm}, ${Buffer.byteLength(f.content)} bytes)`);
    if (f.path === SIDECAR_ENV) lines.push(f.content.replace(/\n$/, ''));
  }
  lines.push(`[ssh] ${OWN_FOR_PROXY}`);
  if (start) lines.push(`[ssh] ${systemdCommands().restart}`);
  return lines;
}

const OWN_FOR_PROXY = `if id ${PROXY_USER} > /dev/null 2>&1; then chown ${PROXY_USER} /etc/certs/root-cert.pem /var/run/secrets/tokens /var/run/secrets/tokens/istio-token /var/lib/istio/envoy/sidecar.env; fi`;

async function deliverSystemd(ctx: PluginContext, d: SshDelivery, p: Plan, rootCert: string, token: string, start: boolean): Promise<string> {
  const pre = await d.run(systemdCommands().preflight);
  const missing = preflightError(`${p.id}`, pre.stdout);
  if (missing && start) throw missing;
  await d.put(systemdFiles(p, rootCert, token).map(({ path, content, mode }) => ({ path, content, mode })));
  await d.run(`mkdir -p "\${ROOT:-}/var/run/secrets/tokens" && chmod 0700 "\${ROOT:-}/var/run/secrets/tokens" && chmod 0700 "\${ROOT:-}${STATE_DIR}"`);
  await d.run(OWN_FOR_PROXY.replace(/ \//g, ' "${ROOT:-}"/'));
  if (!start) return 'copied (systemd layout)';
  const r = await d.run(systemdCommands().restart);
  if (r.code !== 0) throw new CliError(`${p.id}: systemctl restart istio failed: ${r.stderr.trim().split('\n').pop()}`, ExitCode.general, { hint: `run it on the VM to see why: ${systemdCommands().restart}` });
  ctx.log.debug(`${p.id}: restarted istio`);
  return 'copied (systemd layout), istio restarted';
}
