// onboard: seed 003's Steps 6-7 for each VM, over SSH. For each host: record the VM in the cluster, mint a token
// bound to the record, copy workload-entry configure's bundle (byte for byte) over SFTP, run its install.sh as
// root, and start or restart the proxy once. A VM whose files, token and record already match reports
// `unchanged` and is not touched (sha256 compared over SSH). Everything the cluster says is read first; a dry run
// prints every remote command and file and mints, connects and writes nothing.
import fs from 'node:fs';
import { checkNamespace } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import { concurrency, positiveDuration, tokenSeconds } from '../../shared/cli/duration.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { asCliError, CliError, ExitCode, UsageError } from '../../shared/errors.ts';
import type { BundleFile } from '../../shared/istio/bundle.ts';
import { sh } from '../../shared/istio/sidecar-bootstrap.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { parseGatewayService } from '../../shared/kube/gateway.ts';
import { isIPAddress } from '../../shared/kube/names.ts';
import { mapLimit } from '../../shared/kube/parallel.ts';
import { fleetResult, type VmOutcome } from '../../shared/output/fleet.ts';
import { hostKeyPolicy, lazyCredentials } from '../../shared/ssh/connect.ts';
import { resolveHost, type SshConfigLookup } from '../../shared/ssh/config.ts';
import { SshSession, type HostKeyPolicy } from '../../shared/ssh/session.ts';
import { readMesh, vmBundle, type MeshReads } from '../../shared/vm/bundle.ts';
import { SshDelivery } from '../../shared/vm/deliver/ssh.ts';
import { parseSha256sum } from '../../shared/vm/deliver/types.ts';
import { bundleDigest, hostsLines, layoutFor, placedFiles, type BundleName, type Manifest, type VmLayout } from '../../shared/vm/layout.ts';
import {
  ANNOTATIONS,
  annotateRecord,
  bindingExists,
  bindingName,
  checkVmName,
  createBinding,
  deleteBindings,
  ensureRecord,
  mintBoundToken,
  readRecord,
  vmNameForHost,
  type Runtime,
  type Secret,
  type VmRecord,
} from '../../shared/vm/record.ts';
import { addHostsFrom } from '../../shared/vm/runtime/docker.ts';
import { runtimeCommands, type RuntimeCommands } from '../../shared/vm/runtime/index.ts';
import { preflightError } from '../../shared/vm/runtime/systemd.ts';
import type { OnboardArgs } from './command.ts';

const USAGE = 'kubectl vm onboard <[user@]host[:port]>... --group <workloadgroup> [-n <namespace>]';

/** One VM to onboard, as the command line or the hosts file names it. */
export interface HostSpec {
  /** As written, for messages. */
  spec: string;
  user?: string;
  host: string;
  port?: number;
  vm: string;
  address?: string;
  runtime: Runtime;
  internalIp?: string;
  externalIp?: string;
}

interface Options {
  namespace: string;
  group: string;
  runtime: Runtime;
  dryRun: boolean;
  tokenSeconds: number;
  concurrency: number;
  connectTimeoutMs: number;
  fileTimeoutMs: number;
}

const RUNTIMES = ['systemd', 'docker'] as const;

function checkRuntime(value: string, where: string): Runtime {
  if (!(RUNTIMES as readonly string[]).includes(value)) throw new UsageError(`invalid ${where} "${value}": expected systemd or docker`, { hint: 'e.g. --runtime systemd' });
  return value as Runtime;
}

/** `[user@]host[:port]`, IPv6 in brackets (`root@[fd00::5]:22`). */
export function parseTarget(spec: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@\s]+)@)?(\[[0-9a-fA-F:.]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new UsageError(`invalid host "${spec}": expected [user@]host[:port]`, { hint: 'e.g. root@10.0.0.5 or admin@vm1.example.com:2222' });
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new UsageError(`invalid port in "${spec}": expected 1 to 65535`, { hint: 'e.g. root@10.0.0.5:22' });
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

const KEYS = ['name', 'address', 'runtime', 'internal-ip', 'external-ip'];

/** The hosts of the command line and of --hosts-file, each with its VM name; names must be unique. */
export function parseHosts(positional: string[], file: { text: string; name: string } | undefined, runtime: Runtime): HostSpec[] {
  const out: HostSpec[] = [];
  const add = (spec: string, extra: Record<string, string>, where: string) => {
    const t = parseTarget(spec);
    const ip = (k: string) => {
      const v = extra[k];
      if (v !== undefined && !isIPAddress(v)) throw new UsageError(`${where}: invalid ${k}="${v}": expected an IP address`, { hint: `e.g. ${k}=10.0.0.5` });
      return v;
    };
    out.push({
      spec,
      ...t,
      vm: checkVmName(extra.name ?? vmNameForHost(t.host), extra.name ? `name= of ${spec}` : `VM name for ${spec} (from its host)`),
      address: ip('address') ?? (isIPAddress(t.host) ? t.host : undefined),
      runtime: extra.runtime ? checkRuntime(extra.runtime, `${where}: runtime=`) : runtime,
      internalIp: ip('internal-ip'),
      externalIp: ip('external-ip'),
    });
  };
  for (const p of positional) add(p, {}, p);
  if (file) {
    file.text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const where = `${file.name}:${i + 1}`;
      const [spec, ...rest] = line.split(/\s+/);
      const extra: Record<string, string> = {};
      for (const kv of rest) {
        const eq = kv.indexOf('=');
        const key = kv.slice(0, eq);
        if (eq < 1 || !KEYS.includes(key)) throw new UsageError(`${where}: unknown "${kv}": expected key=value with key one of ${KEYS.join(', ')}`, { hint: 'e.g. root@10.0.0.5 name=web-1 address=10.0.0.5' });
        extra[key] = kv.slice(eq + 1);
      }
      add(spec!, extra, where);
    });
  }
  if (out.length === 0) throw new UsageError('expecting at least one host', { hint: USAGE });
  const seen = new Map<string, string>();
  for (const h of out) {
    if (seen.has(h.vm)) throw new UsageError(`${h.spec} and ${seen.get(h.vm)} would both be VM "${h.vm}"`, { hint: 'give each a name= in the hosts file' });
    seen.set(h.vm, h.spec);
  }
  return out;
}

function checkOptions(ctx: PluginContext, args: OnboardArgs): Options {
  if (!args.group) throw new UsageError('expecting --group: the WorkloadGroup the VMs join', { hint: USAGE });
  return {
    namespace: checkNamespace(ctx.namespace()),
    group: args.group,
    runtime: checkRuntime(args.runtime, '--runtime'),
    dryRun: args.dryRun !== undefined && args.dryRun !== 'none',
    tokenSeconds: tokenSeconds('token-duration', args.tokenDuration),
    concurrency: concurrency(args.concurrency),
    connectTimeoutMs: positiveDuration('ssh-connect-timeout', args.sshConnectTimeout),
    fileTimeoutMs: positiveDuration('timeout', args.timeout),
  };
}

/** Everything about one VM that does not need a connection or a token. */
interface Plan {
  h: HostSpec;
  target: { host: string; port: number; user: string; jump: SshConfigLookup['jumps']; identityFiles: string[]; knownHostsFiles: string[] };
  layout: VmLayout;
  runtime: RuntimeCommands;
  /** The bundle without its token. */
  files: BundleFile[];
  installArgs: string;
}

const bundleMap = (files: BundleFile[]) => Object.fromEntries(files.map((f) => [f.name, f.content])) as Partial<Record<BundleName, string>>;

function planFor(ctx: PluginContext, args: OnboardArgs, mesh: MeshReads, h: HostSpec, resolve: (host: string) => SshConfigLookup): Plan {
  const { files, warnings } = vmBundle(mesh, { captureDns: args.captureDns !== false, autoregister: args.autoregister === true, internalIp: h.internalIp, externalIp: h.externalIp }, undefined);
  for (const w of warnings) ctx.log.warn(`${h.vm}: ${w}`);
  const layout = layoutFor(h.runtime, { dockerDir: args.dockerDir });
  const hostsFile = files.find((f) => f.name === 'hosts')!.content;
  const runtime = runtimeCommands(h.runtime, { image: args.image ?? mesh.proxyImage, dir: args.dockerDir, addHosts: addHostsFrom(hostsFile) })!;
  const c = resolve(h.host);
  const user = h.user ?? args.sshUser ?? c.user ?? ctx.env.USER ?? 'root';
  const installArgs = h.runtime === 'docker' ? `--runtime docker${args.dockerDir ? ` --dir ${sh(args.dockerDir)}` : ''}` : '--runtime systemd';
  return {
    h,
    target: { host: c.hostName, port: h.port ?? c.port ?? 22, user, jump: c.jumps, identityFiles: c.identityFiles, knownHostsFiles: c.knownHostsFiles },
    layout,
    runtime,
    files,
    installArgs,
  };
}

const where = (p: Plan) => `${p.target.user}@${p.target.host}:${p.target.port}`;

// ---------------------------------------------------------------------------------------------------------------

export async function run(ctx: PluginContext, args: OnboardArgs): Promise<Result> {
  const o = checkOptions(ctx, args);
  const file = args.hostsFile ? { text: ctx.readFile(args.hostsFile), name: args.hostsFile === '-' ? 'standard input' : args.hostsFile } : undefined;
  const hosts = parseHosts(args.hosts ?? [], file, o.runtime);
  if (args.gatewayService !== undefined && args.gatewayAddress !== undefined) throw new UsageError('--gateway-service and --gateway-address cannot be combined', { hint: 'name the Service, or give the address' });
  if (args.gatewayAddress !== undefined && !isIPAddress(args.gatewayAddress)) {
    throw new UsageError(`invalid --gateway-address "${args.gatewayAddress}": expected an IP address (it goes into the VM's /etc/hosts)`, { hint: 'e.g. --gateway-address 192.0.2.10' });
  }
  const istioNamespace = checkNamespace(args.istioNamespace);
  const gatewayService = args.gatewayService === undefined ? undefined : parseGatewayService(args.gatewayService, istioNamespace);
  const sshConfig = await loadSshConfig(ctx);

  const kube = ctx.kube();
  const mesh = await readMesh(ctx, kube, { group: o.group, namespace: o.namespace, istioNamespace, revision: args.revision, clusterId: args.clusterId, gatewayService, gatewayAddress: args.gatewayAddress });
  const plans = hosts.map((h) => planFor(ctx, args, mesh, h, sshConfig));
  if (o.dryRun) return { summary: plans.flatMap((p) => dryRunListing(p, o, mesh)) };

  const hostKeys = (p: Plan) => hostKeyPolicy(ctx, args.ignoreHostKeys === true, p.target.knownHostsFiles[0]);
  if (args.ignoreHostKeys) hostKeyPolicy(ctx, true);
  // --ssh-key, else the host's IdentityFile (the first that exists), else the defaults and the agent; each read once.
  const byKey = new Map<string, ReturnType<typeof lazyCredentials>>();
  const credentials = (files: string[]) => {
    const key = args.sshKey ?? files.find((f) => fs.existsSync(f));
    if (!byKey.has(key ?? '')) byKey.set(key ?? '', lazyCredentials(ctx, key));
    return byKey.get(key ?? '')!();
  };
  const job: Job = { ctx, o, mesh, kube, hostKeys, credentials, localUser: ctx.env.USER ?? 'root' };

  let stop = false;
  let done = 0;
  const fleet = plans.length > 1;
  const title = fleet ? `Onboarding ${plans.length} VMs into ${o.namespace}/${o.group}` : `Onboarding ${plans[0]!.h.vm} (${where(plans[0]!)}) into ${o.namespace}/${o.group}`;
  const outcomes = await ctx.step(title, async (report) => {
    const out = await mapLimit(plans, o.concurrency, async (p): Promise<Outcome> => {
      if (stop) return { vm: p.h.vm, address: where(p), result: 'skipped', ms: 0 };
      const started = ctx.now().getTime();
      try {
        const result = await onboardOne(job, p);
        return { vm: p.h.vm, address: where(p), result, ms: ctx.now().getTime() - started };
      } catch (err) {
        if (!args.continueOnError) stop = true;
        return { vm: p.h.vm, address: where(p), result: 'failed', error: asCliError(err), ms: ctx.now().getTime() - started };
      } finally {
        if (fleet) report(`${title}: ${++done} of ${plans.length} done`);
      }
    });
    const failed = out.filter((x) => x.error).length;
    report(failed ? `${plans.length - failed} of ${plans.length} VMs onboarded, ${failed} failed` : `${plans.length} VM${plans.length > 1 ? 's' : ''} onboarded into ${o.namespace}/${o.group}`);
    return out;
  });
  const result = fleetResult(ctx.log, outcomes);
  if (result.exitCode === ExitCode.ok && fleet) ctx.log.note(`the VMs' records: kubectl get secrets -n ${o.namespace} -l kubectl-vm.io/group=${o.group}`);
  return result;
}

async function loadSshConfig(ctx: PluginContext): Promise<(host: string) => SshConfigLookup> {
  return (host) => resolveHost(ctx, host);
}

type Outcome = VmOutcome;

// ---------------------------------------------------------------------------------------------------------------
// One VM

interface Job {
  ctx: PluginContext;
  o: Options;
  mesh: MeshReads;
  kube: KubeClient;
  hostKeys: (p: Plan) => HostKeyPolicy;
  credentials: (identityFiles: string[]) => ReturnType<ReturnType<typeof lazyCredentials>>;
  localUser: string;
}

/** What is on the VM now, in one round trip: the runtime's preflight, the manifest, the files' digests, the proxy's status. */
async function inspect(d: SshDelivery, p: Plan): Promise<{ preflight: string; manifest?: Manifest; sums: Map<string, string>; running: boolean }> {
  const paths = [...p.layout.files.map((f) => f.path), ...p.layout.extras.map((e) => e.path)];
  const r = await d.runAll([
    ['preflight', p.runtime.preflight],
    ['manifest', `cat "\${ROOT:-}"${sh(p.layout.manifest)}`],
    ['sums', `cd "\${ROOT:-}/" && sha256sum ${paths.map((x) => sh(x.replace(/^\/+/, ''))).join(' ')}`],
    ['status', p.runtime.status],
  ]);
  let manifest: Manifest | undefined;
  try {
    manifest = r.get('manifest')?.code === 0 ? (JSON.parse(r.get('manifest')!.stdout) as Manifest) : undefined;
  } catch {
    manifest = undefined;
  }
  const sums = new Map([...parseSha256sum(r.get('sums')?.stdout ?? '')].map(([f, sum]) => [`/${f}`, sum]));
  return { preflight: r.get('preflight')?.stdout ?? '', manifest, sums, running: r.get('status')?.code === 0 };
}

/**
 * True when the VM already has exactly this delivery: every non-secret file has the digest we would write, the
 * token copies agree with each other and with the manifest, the hosts lines match, and the record's digest, runtime
 * and live binding say the token is the one we delivered, and it is not near its end.
 */
function isUnchanged(job: Job, p: Plan, record: VmRecord | undefined, live: boolean, state: { manifest?: Manifest; sums: Map<string, string> }): boolean {
  if (!record || !live || record.revokedAt || record.runtime !== p.h.runtime || !record.bundleSha256 || !state.manifest) return false;
  if (record.group !== job.o.group) return false;
  const expires = record.tokenExpires ? Date.parse(record.tokenExpires) : NaN;
  if (!(expires - job.ctx.now().getTime() > (job.o.tokenSeconds * 1000) / 2)) return false;
  const tokenSums = p.layout.files.filter((f) => f.secret).map((f) => state.sums.get(f.path));
  const token = tokenSums[0];
  if (!token || tokenSums.some((t) => t !== token)) return false;
  const placed = placedFiles(p.layout, bundleMap(p.files))
    .filter((f) => !f.secret)
    .concat(p.layout.files.filter((f) => f.secret).map((f) => ({ path: f.path, owner: f.owner, mode: f.mode, sha256: token, secret: true })));
  if (placed.some((f) => state.sums.get(f.path) !== f.sha256)) return false;
  const want = p.layout.hosts ? hostsLines(p.files.find((f) => f.name === 'hosts')!.content) : [];
  const have = state.manifest.hosts?.lines ?? [];
  if (want.join('\n') !== have.join('\n')) return false;
  return bundleDigest(placed, want) === record.bundleSha256;
}

async function onboardOne(job: Job, p: Plan): Promise<string> {
  const { ctx, o, kube } = job;
  const auth = await job.credentials(p.target.identityFiles);
  const session = await SshSession.connect(
    { host: p.target.host, port: p.target.port, user: p.target.user },
    { auth, hostKeys: job.hostKeys(p), connectTimeoutMs: o.connectTimeoutMs, fileTimeoutMs: o.fileTimeoutMs, debug: ctx.log.verbosity >= 2 ? (m) => ctx.log.debug(`${p.h.vm}: ${m}`) : undefined },
    p.target.jump.map((j) => ({ host: j.host, port: j.port ?? 22, user: j.user ?? job.localUser })),
  );
  const d = new SshDelivery(session);
  try {
    const state = await inspect(d, p);
    const missing = preflightError(where(p), state.preflight, job.mesh.istioVersion);
    if (missing) throw missing;

    const record = await readRecord(kube, o.namespace, p.h.vm);
    const live = record ? await bindingExists(kube, record) : false;
    if (isUnchanged(job, p, record, live, state)) {
      if (state.running) return 'unchanged';
      await mustRun(d, p, p.runtime.start, 'start the proxy');
      return 'unchanged, proxy started';
    }

    // The record, a new binding and a token bound to it; undone if the VM is not reached.
    const sshTarget = where(p);
    const { secret, created } = await ensureRecord(kube, {
      vm: p.h.vm,
      namespace: o.namespace,
      group: o.group,
      serviceAccount: job.mesh.wg.spec.template?.serviceAccount ?? 'default',
      runtime: p.h.runtime,
      address: p.h.address,
      sshTarget,
    });
    const generation = (record?.generation ?? 0) + 1;
    let binding: Secret | undefined;
    let installed = false;
    try {
      binding = await createBinding(kube, secret, generation);
      const minted = await mintBoundToken(kube, binding, job.mesh.wg.spec.template?.serviceAccount ?? 'default', o.tokenSeconds);
      const bundle = p.files.map((f) => (f.name === 'istio-token' ? { ...f, content: minted.token } : f));
      const staging = await d.stage(bundle.map((f) => ({ name: f.name, content: f.content, mode: f.mode })));
      const install = await d.run(`bash ${sh(`${staging}/install.sh`)} ${p.installArgs}; rc=$?; rm -rf ${sh(staging)}; exit $rc`);
      if (install.code !== 0) throw new CliError(`${sshTarget}: install.sh exited ${install.code}: ${lastLine(install.stderr || install.stdout)}`, ExitCode.general, { hint: 'see the files and commands with --dry-run' });
      installed = true;
      const changed = !/result: unchanged\s*$/.test(install.stdout);
      const running = changed ? false : (await d.run(p.runtime.status)).code === 0;
      if (changed || !running) await mustRun(d, p, changed ? p.runtime.restart : p.runtime.start, changed ? 'restart the proxy' : 'start the proxy');
      const placed = placedFiles(p.layout, bundleMap(bundle));
      const digest = bundleDigest(placed, p.layout.hosts ? hostsLines(bundleMap(bundle).hosts ?? '') : []);
      await annotateRecord(kube, o.namespace, p.h.vm, {
        [ANNOTATIONS.tokenGeneration]: String(generation),
        [ANNOTATIONS.tokenExpires]: minted.expires,
        [ANNOTATIONS.bundleSha256]: digest,
        [ANNOTATIONS.revokedAt]: null,
      });
      await deleteBindings(kube, o.namespace, p.h.vm, generation);
      return record && state.manifest ? `updated (token ${bindingName(p.h.vm, generation)})` : `onboarded (token ${bindingName(p.h.vm, generation)})`;
    } catch (err) {
      if (!installed) {
        // Nothing reached the VM: the new binding (and a record this run created) go again.
        if (binding) await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: binding.metadata.name!, namespace: o.namespace }, { uid: binding.metadata.uid }).catch(() => false);
        if (created) await kube.delete({ apiVersion: 'v1', kind: 'Secret', name: p.h.vm, namespace: o.namespace }, { uid: secret.metadata.uid }).catch(() => false);
      }
      throw err;
    }
  } finally {
    await d.close();
  }
}

async function mustRun(d: SshDelivery, p: Plan, command: string, what: string): Promise<void> {
  const r = await d.run(command);
  if (r.code !== 0) {
    throw new CliError(`${where(p)}: could not ${what}: ${lastLine(r.stderr || r.stdout) || `exit code ${r.code}`}`, ExitCode.general, { hint: `run it on the VM to see why: ${command}` });
  }
}

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

// ---------------------------------------------------------------------------------------------------------------
// Dry run

function dryRunListing(p: Plan, o: Options, mesh: MeshReads): string[] {
  const staging = '/tmp/kubectl-vm.XXXXXXXX';
  const sa = mesh.wg.spec.template?.serviceAccount ?? 'default';
  const lines = [
    `# VM ${p.h.vm}: would connect to ${where(p)}${p.target.jump.length ? ` through ${p.target.jump.map((j) => `${j.user ?? ''}${j.user ? '@' : ''}${j.host}:${j.port ?? 22}`).join(', ')}` : ''}, runtime ${p.h.runtime}${dryRunSuffix('client')}`,
    `[cluster] create or update secret ${o.namespace}/${p.h.vm} (the VM record: no data)`,
    `[cluster] create secret ${o.namespace}/${p.h.vm}-token-<generation> and a token of serviceaccount ${o.namespace}/${sa} bound to it (${o.tokenSeconds}s)`,
    `[ssh] ${p.runtime.preflight}`,
    `[ssh] sha256sum of ${p.layout.manifest} and the files below: unchanged files mean nothing else is done`,
  ];
  for (const f of p.files) {
    const at = `${staging}/${f.name}`;
    const perm = `mode ${f.mode.toString(8).padStart(4, '0')}`;
    if (f.secret) {
      lines.push(`[sftp] ${at} (${perm}): <token: not minted in a dry run>`);
      continue;
    }
    lines.push(`[sftp] ${at} (${perm}, ${Buffer.byteLength(f.content)} bytes)`);
    if (f.name !== 'install.sh' && f.content) lines.push(...f.content.replace(/\n$/, '').split('\n').map((l) => `  ${l}`));
  }
  lines.push(`[ssh] bash ${staging}/install.sh ${p.installArgs}`);
  for (const f of p.layout.files) lines.push(`  → ${f.path} (mode ${f.mode.toString(8).padStart(4, '0')}, owner ${f.owner})`);
  for (const e of p.layout.extras) lines.push(`  → ${e.path} (mode ${e.mode.toString(8).padStart(4, '0')}, owner ${e.owner})`);
  if (p.layout.hosts) lines.push(`  → ${p.layout.hosts.file}: the block between "${p.layout.hosts.begin}" and "${p.layout.hosts.end}"`);
  lines.push(`  → ${p.layout.manifest} (mode 0600)`);
  lines.push(`[ssh] rm -rf ${staging}`);
  lines.push(`[ssh] ${p.runtime.restart}`);
  return lines;
}
