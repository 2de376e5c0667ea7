// sidecar-bootstrap: for each WorkloadEntry, the bundle `tctl x sidecar-bootstrap` makes (sidecar.env, the
// root certificate, a token), delivered over SSH into the VM's proxy-config-dir (or written locally), and the
// proxy started with Docker (reference/sidecar-bootstrap.md). Everything the cluster says is read and checked
// before the first connection; a dry run mints no token and connects nowhere.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { checkNamespace } from '../../shared/cli/args.ts';
import { parseDuration } from '../../shared/cli/duration.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { asCliError, CliError, DataError, ExitCode, UsageError } from '../../shared/errors.ts';
import { tarGz } from '../../shared/fs/tar.ts';
import { writeDirectory, writeFileAtomic, type FileToWrite } from '../../shared/fs/write.ts';
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
import { configMapRef, mintToken, requireConfigMap, type ConfigMap } from '../../shared/kube/istio-reads.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { isIPAddress } from '../../shared/kube/names.ts';
import { mapLimit } from '../../shared/kube/parallel.ts';
import { authMethods } from '../../shared/ssh/auth.ts';
import { parseKnownHosts } from '../../shared/ssh/known-hosts.ts';
import { SshSession, type AuthMethod, type HostKeyPolicy } from '../../shared/ssh/session.ts';
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
}

/** Every flag checked before the first request, with tctl's rules on what cannot be combined (§2.1). */
export function checkOptions(args: SidecarBootstrapArgs): Options {
  if (args.o !== undefined) {
    throw new UsageError('-o is not the archive flag here: kubectl vm uses -o for output formats', { hint: `write the archive with --output-file ${args.o || 'vm.tgz'}` });
  }
  const dryRun = args.dryRun !== undefined && args.dryRun !== 'none';
  const sources = [args.workloadentry && 'a WorkloadEntry name', args.all && '--all', args.selector && '--selector'].filter(Boolean);
  if (sources.length === 0) throw new UsageError('expecting a WorkloadEntry name, --all or -l', { hint: USAGE });
  if (sources.length > 1) throw new UsageError(`${sources.join(' and ')} cannot be combined`, { hint: USAGE });
  if (args.outputDir !== undefined && args.outputFile !== undefined) throw new UsageError('it is not possible to use --output-dir flag together with --output-file', { hint: 'choose a directory or an archive' });
  for (const [flag, value] of [['--output-dir', args.outputDir], ['--output-file', args.outputFile]] as const) {
    if (dryRun && value !== undefined) throw new UsageError(`it is not possible to use --dry-run flag together with ${flag}`, { hint: `${flag} writes nothing secret until you run it; drop --dry-run` });
    if (value === '') throw new UsageError(`${flag} needs a path`, { hint: `e.g. ${flag} ${flag === '--output-dir' ? './bundle' : 'vm.tgz'}` });
  }
  const tokenSeconds = parseDuration('duration', args.duration) / 1000;
  if (tokenSeconds < 600 || tokenSeconds > 2 ** 32) throw new UsageError(`invalid --duration "${args.duration}": it must be between 10 minutes and 2^32 seconds`, { hint: 'e.g. --duration 24h' });
  const sshPort = Number(args.sshPort);
  if (!/^\d+$/.test(args.sshPort) || sshPort < 1 || sshPort > 65535) throw new UsageError(`invalid --ssh-port "${args.sshPort}": expected 1 to 65535`, { hint: 'e.g. --ssh-port 22' });
  const concurrency = Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`invalid --concurrency "${args.concurrency}": expected 1 to 256`, { hint: 'e.g. --concurrency 8' });
  const positive = (flag: string, value: string) => {
    const ms = parseDuration(flag, value);
    if (ms <= 0) throw new UsageError(`invalid --${flag} "${value}": it must be more than 0`, { hint: `e.g. --${flag} 10s` });
    return ms;
  };
  return {
    dryRun,
    tokenSeconds,
    connectTimeoutMs: positive('ssh-connect-timeout', args.sshConnectTimeout),
    fileTimeoutMs: positive('timeout', args.timeout),
    sshPort,
    concurrency,
    istioNamespace: checkNamespace(args.istioNamespace),
    fleet: !args.workloadentry,
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

type Service = KubeObject & { spec?: { ports?: { port: number }[] }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } };

/** The mesh-expansion gateway (§2.3 step 6): meshNetworks, then meshConfig.ingressService, then istio-ingressgateway. */
async function findGateway(kube: KubeClient, istioNamespace: string, meshConfig: Record<string, unknown>, meshNetworks: Record<string, unknown>, values: InjectorValues): Promise<Gateway> {
  const networks = (meshNetworks.networks ?? {}) as Record<string, { gateways?: { registryServiceName?: string; address?: string }[] }>;
  const gw = values.global?.network ? networks[values.global.network]?.gateways?.[0] : undefined;
  if (gw?.address) return { address: gw.address, isHostname: !isIPAddress(gw.address) };
  let name = 'istio-ingressgateway';
  let namespace = istioNamespace;
  let from = `the default gateway`;
  if (gw?.registryServiceName) {
    [name, namespace = istioNamespace] = gw.registryServiceName.split('.') as [string, string?];
    from = `meshNetworks network ${values.global!.network}`;
  } else if (typeof meshConfig.ingressService === 'string' && meshConfig.ingressService) {
    name = meshConfig.ingressService;
    from = 'meshConfig.ingressService';
  }
  const svc = await kube.get<Service>({ apiVersion: 'v1', kind: 'Service', name, namespace });
  if (!svc) {
    throw new CliError(`the mesh-expansion gateway service ${namespace}/${name} (${from}) does not exist`, ExitCode.general, {
      hint: `install a gateway that exposes port ${GATEWAY_PORT} to the VMs (e.g. istio-ingressgateway with the mesh-expansion ports)`,
    });
  }
  if (!svc.spec?.ports?.some((p) => p.port === GATEWAY_PORT)) {
    throw new CliError(`the gateway service ${namespace}/${name} has no port ${GATEWAY_PORT}, which the VMs reach istiod through`, ExitCode.general, {
      hint: `add port ${GATEWAY_PORT} (tls) to the gateway, as Istio's mesh-expansion setup does`,
    });
  }
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  const hostname = ingress.find((i) => i.hostname)?.hostname;
  if (hostname) return { address: hostname, isHostname: true };
  const ip = ingress.find((i) => i.ip)?.ip;
  if (ip) return { address: ip, isHostname: false };
  throw new CliError(`the gateway service ${namespace}/${name} has no load-balancer address yet`, ExitCode.general, { hint: `wait for it: kubectl get service ${name} -n ${namespace} -w` });
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
  const gateway = await findGateway(kube, ns, meshConfig, meshNetworks, values);
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

  if (o.dryRun) return { summary: plans.flatMap((p) => ('error' in p ? [`# ${p.error.message}`] : dryRunListing(p, rootCert, args.startIstioProxy === true))) };

  // One token per service account, shared by its VMs, minted when the first of them needs it.
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (we: WorkloadEntry) => {
    const key = `${we.metadata.namespace}/${we.spec.serviceAccount}`;
    if (!tokens.has(key)) tokens.set(key, mintToken(kube, we.metadata.namespace!, we.spec.serviceAccount!, o.tokenSeconds));
    return tokens.get(key)!;
  };

  const job: Job = { ctx, args, o, plans, rootCert, tokenFor };
  return args.outputDir !== undefined || args.outputFile !== undefined ? writeOffline(job) : deliver(job);
}

// ---------------------------------------------------------------------------------------------------------------
// Dry run and offline bundles

function dryRunListing(p: Plan, rootCert: string, start: boolean): string[] {
  const { sshUser, sshHost, sshPort, configDir } = p.settings;
  const lines = [`# workloadentry ${p.id}: would connect to ${sshUser}@${sshHost}:${sshPort}${dryRunSuffix('client')}`, `[sftp] mkdir ${configDir} (mode 0700)`];
  for (const f of bundle(p, rootCert, undefined)) {
    const where = `${configDir}/${f.name}`;
    if (f.secret) lines.push(`[sftp] ${where} (mode 0600): <token: not minted in a dry run>`);
    else lines.push(`[sftp] ${where} (mode ${f.mode.toString(8).padStart(4, '0')}, ${Buffer.byteLength(f.content)} bytes)`);
    if (f.name === BUNDLE_FILES.env) lines.push(String(f.content).replace(/\n$/, ''));
  }
  if (start) {
    const docker = dockerCommands(p.sidecar, p.settings.containerName, configDir);
    lines.push(`[ssh] ${docker.remove}`, `[ssh] ${docker.run}`);
  }
  return lines;
}

async function writeOffline({ ctx, args, o, plans, rootCert, tokenFor }: Job): Promise<Result> {
  for (const p of plans) if ('error' in p) throw p.error;
  const ok = plans as Plan[];
  const files: FileToWrite[] = [];
  for (const p of ok) {
    const prefix = o.fleet ? `${p.we.metadata.name}/` : '';
    const token = await tokenFor(p.we);
    for (const f of bundle(p, rootCert, token)) files.push({ name: `${prefix}etc/${f.name}`, content: f.content, mode: f.mode });
    files.push({ name: `${prefix}bin/start-istio-proxy.sh`, content: startScript(p.sidecar, p.settings.containerName), mode: 0o755 });
  }
  const target = (args.outputFile ?? args.outputDir)!;
  if (args.outputFile !== undefined) writeFileAtomic(args.outputFile, tarGz(files), 0o600);
  else writeDirectory(args.outputDir!, files);
  ctx.log.warn(`${ok.length === 1 ? 'a service-account token' : `${ok.length} bundles with service-account tokens`} (valid ${args.duration}) written to ${target}`);
  const unpack = args.outputFile !== undefined ? `tar -xzf ${path.basename(target)} && ` : '';
  ctx.log.note(`next: copy ${target} to the VM${o.fleet ? 's (one directory each)' : ''}, then run there: ${unpack}./${o.fleet ? '<name>/' : ''}bin/start-istio-proxy.sh`);
  return { summary: ok.map((p) => `workloadentry ${p.id}: bundle written to ${args.outputFile ?? path.join(args.outputDir!, o.fleet ? p.we.metadata.name! : '')}`) };
}

// ---------------------------------------------------------------------------------------------------------------
// SSH delivery

interface Outcome {
  id: string;
  address: string;
  result: string;
  error?: CliError;
  ms: number;
}

function hostKeyPolicy(ctx: PluginContext, ignore: boolean): HostKeyPolicy {
  if (ignore) {
    ctx.log.warn('--ignore-host-keys: the VMs\' host keys are not checked, so a machine in the middle could receive the token');
    return { ignore: true };
  }
  const file = path.join(ctx.home, '.ssh', 'known_hosts');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // No file: every host is unknown, and each refusal says how to trust it.
  }
  return { ignore: false, lines: parseKnownHosts(text), file };
}

async function deliver({ ctx, args, o, plans, rootCert, tokenFor }: Job): Promise<Result> {
  const hostKeys = hostKeyPolicy(ctx, args.ignoreHostKeys === true);
  let auth: AuthMethod[] | undefined;
  const credentials = async () =>
    (auth ??= await authMethods({
      sshKey: args.sshKey,
      home: ctx.home,
      agentSocket: ctx.env.SSH_AUTH_SOCK || undefined,
      passphrase: (file) => ctx.promptSecret(`Enter passphrase for key '${file}': `),
      note: (m) => ctx.log.note(m),
    }));

  const one = async (p: Plan): Promise<string> => {
    const methods = await credentials();
    const token = await tokenFor(p.we);
    const target = { host: p.settings.sshHost, port: p.settings.sshPort, user: p.settings.sshUser };
    const ssh = await SshSession.connect(target, { auth: methods, hostKeys, connectTimeoutMs: o.connectTimeoutMs, fileTimeoutMs: o.fileTimeoutMs, debug: ctx.log.verbosity >= 2 ? (m) => ctx.log.debug(`${p.id}: ${m}`) : undefined });
    try {
      const dir = p.settings.configDir;
      await ssh.mkdir(dir, 0o700);
      for (const f of bundle(p, rootCert, token)) await ssh.writeFile(`${dir}/${f.name}`, f.content, f.mode);
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
        return { id: p.id, address: '-', result: 'failed', error: p.error, ms: 0 };
      }
      const address = `${p.settings.sshUser}@${p.settings.sshHost}:${p.settings.sshPort}`;
      if (stop) return { id: p.id, address, result: 'skipped', ms: 0 };
      const started = ctx.now().getTime();
      try {
        const result = await one(p);
        return { id: p.id, address, result: `ok: ${result}`, ms: ctx.now().getTime() - started };
      } catch (err) {
        if (!args.continueOnError) stop = true;
        return { id: p.id, address, result: 'failed', error: asCliError(err), ms: ctx.now().getTime() - started };
      } finally {
        report(`Bootstrapping ${plans.length} VMs over SSH: ${++done} done`);
      }
    });
    const failed = out.filter((x) => x.error).length;
    report(`${plans.length - failed} of ${plans.length} VMs bootstrapped`);
    return out;
  });
  for (const x of outcomes) {
    if (!x.error) continue;
    ctx.log.info(`error: ${x.id}: ${withoutId(x.error.message, x.id)}`);
    for (const d of x.error.details) ctx.log.info(`  ${d}`);
    if (x.error.hint) ctx.log.info(`hint: ${x.error.hint}`);
  }
  if (outcomes.some((x) => x.result === 'skipped')) ctx.log.note('VMs were skipped after the first failure; --continue-on-error works through all of them');
  const failed = outcomes.some((x) => x.error || x.result === 'skipped');
  return { summary: resultTable(outcomes), exitCode: failed ? ExitCode.general : ExitCode.ok };
}

/** A VM's error without the VM's name in front, where the table or the line already names it. */
const withoutId = (message: string, id: string) => (message.startsWith(`${id}: `) ? message.slice(id.length + 2) : message);

/** VM, ADDRESS, RESULT and TIME, as kubectl prints its tables. */
function resultTable(rows: Outcome[]): string[] {
  const cells = [['VM', 'ADDRESS', 'RESULT', 'TIME'], ...rows.map((r) => [r.id, r.address, r.error ? `failed: ${withoutId(r.error.message, r.id)}` : r.result, `${(r.ms / 1000).toFixed(1)}s`])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]! + 3) : v)).join(''));
}
