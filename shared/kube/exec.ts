// Exec credential plugins (users[].user.exec), run the way client-go runs them (plugin/pkg/client/auth/exec):
// - the plugin's stderr is the user's terminal, so device-code logins can show their code;
// - its stdin is the terminal only when interactiveMode allows it and stdin is a terminal; otherwise /dev/null,
//   so a plugin that prompts fails instead of waiting forever;
// - KUBERNETES_EXEC_INFO carries an ExecCredential with spec.interactive, and spec.cluster when
//   provideClusterInfo is set;
// - a missing plugin shows the kubeconfig's installHint;
// - the credential is kept until its expirationTimestamp; the caller runs the plugin again after a 401.
// client-node's exec authenticator does none of the first four, so this is ours; it loads child_process only
// when a kubeconfig has an exec entry.
import fs from 'node:fs';
import type { ClusterEntry, ExecConfig } from './kubeconfig.ts';
import { ConfigError } from '../errors.ts';

export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Milliseconds since the epoch; undefined means the credential does not expire. */
  expiresAt?: number;
}

export interface ExecContext {
  userName: string;
  contextName: string;
  cluster: ClusterEntry;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the plugin may talk to the user: is stdin a terminal? */
  stdinIsTerminal: boolean;
}

const DOCS = 'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins';

/** Whether client-go would hand the plugin the terminal, for its interactiveMode (v1beta1 defaults to IfAvailable). */
export function isInteractive(exec: ExecConfig, stdinIsTerminal: boolean): boolean {
  const mode = exec.interactiveMode || 'IfAvailable';
  if (mode === 'Never') return false;
  if (mode === 'Always' && !stdinIsTerminal) {
    throw new ConfigError('exec plugin cannot support interactive mode: standard input is not a terminal', {
      hint: 'run the command in a terminal, or set interactiveMode: IfAvailable in the user\'s exec section if the plugin can do without',
    });
  }
  return stdinIsTerminal;
}

/** KUBERNETES_EXEC_INFO: what client-go tells the plugin about the request. */
export function execInfo(exec: ExecConfig, cluster: ClusterEntry, interactive: boolean): string {
  const spec: Record<string, unknown> = { interactive };
  if (exec.provideClusterInfo) {
    const caData = cluster['certificate-authority-data'] ?? (cluster['certificate-authority'] ? fs.readFileSync(cluster['certificate-authority']).toString('base64') : undefined);
    const extension = (cluster.extensions as { name?: string; extension?: unknown }[] | undefined)?.find((e) => e?.name === 'client.authentication.k8s.io/exec')?.extension;
    spec.cluster = {
      server: cluster.server,
      ...(cluster['tls-server-name'] ? { 'tls-server-name': cluster['tls-server-name'] } : {}),
      ...(cluster['insecure-skip-tls-verify'] ? { 'insecure-skip-tls-verify': true } : {}),
      ...(caData ? { 'certificate-authority-data': caData } : {}),
      ...(cluster['proxy-url'] ? { 'proxy-url': cluster['proxy-url'] } : {}),
      ...(cluster['disable-compression'] ? { 'disable-compression': true } : {}),
      ...(extension !== undefined ? { config: extension } : {}),
    };
  }
  return JSON.stringify({ kind: 'ExecCredential', apiVersion: exec.apiVersion, spec });
}

/** Runs the plugin once and returns its credential. */
export async function runExecPlugin(exec: ExecConfig, ctx: ExecContext): Promise<ExecCredential> {
  const { spawn } = await import('node:child_process');
  const command = exec.command!;
  const interactive = isInteractive(exec, ctx.stdinIsTerminal);
  const env: Record<string, string | undefined> = { ...ctx.env };
  for (const v of exec.env ?? []) if (v?.name) env[v.name] = v.value ?? '';
  env.KUBERNETES_EXEC_INFO = execInfo(exec, ctx.cluster, interactive);
  const who = `the exec credential plugin "${command}" of user "${ctx.userName}" (context "${ctx.contextName}")`;
  const { code, stdout, spawnError } = await new Promise<{ code: number | null; stdout: string; spawnError?: NodeJS.ErrnoException }>((resolve) => {
    const child = spawn(command, exec.args ?? [], { env: env as NodeJS.ProcessEnv, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', (err) => resolve({ code: null, stdout: out, spawnError: err as NodeJS.ErrnoException }));
    child.on('close', (c) => resolve({ code: c, stdout: out }));
  });
  if (spawnError?.code === 'ENOENT') {
    const hint = exec.installHint?.trim();
    throw new ConfigError(`${who} is not installed: exec: executable ${command} not found`, {
      details: hint ? hint.split('\n') : [],
      hint: hint ? 'install it as described above, or fix users[].user.exec.command in your kubeconfig' : `install it, or fix users[].user.exec.command in your kubeconfig; see ${DOCS}`,
      cause: spawnError,
    });
  }
  if (spawnError) throw new ConfigError(`${who} cannot be run: ${spawnError.message}`, { hint: 'check users[].user.exec.command in your kubeconfig', cause: spawnError });
  if (code !== 0) {
    throw new ConfigError(`${who} failed: exec: executable ${command} failed with exit code ${code}`, {
      hint: `its own messages are above; run ${command} yourself to see why it fails, or check the user's exec section in your kubeconfig`,
    });
  }
  return parseCredential(stdout, exec.apiVersion!, who);
}

function parseCredential(stdout: string, apiVersion: string, who: string): ExecCredential {
  const bad = (why: string) => new ConfigError(`${who} ${why}`, { hint: 'the plugin must print an ExecCredential (client.authentication.k8s.io) on stdout' });
  let doc: { apiVersion?: string; kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw bad('did not print JSON on stdout');
  }
  if (doc?.kind !== 'ExecCredential') throw bad(`printed a ${doc?.kind ?? 'document without kind'}, not an ExecCredential`);
  if (doc.apiVersion !== apiVersion) throw bad(`returned version ${doc.apiVersion}, but it is configured to use API version ${apiVersion}`);
  const status = doc.status;
  if (!status) throw bad("didn't return a status field");
  const { token, clientCertificateData, clientKeyData } = status;
  if (!token && !clientCertificateData && !clientKeyData) throw bad("didn't return a token or cert/key pair");
  if (!clientCertificateData !== !clientKeyData) throw bad('returned only certificate or key, not both');
  let expiresAt: number | undefined;
  if (status.expirationTimestamp) {
    expiresAt = Date.parse(status.expirationTimestamp);
    if (Number.isNaN(expiresAt)) throw bad(`returned an invalid expirationTimestamp "${status.expirationTimestamp}"`);
  }
  return { token, clientCertificateData, clientKeyData, expiresAt };
}
