// One SSH connection to a VM, with the `ssh2` library: host keys checked against known_hosts, public-key or
// ssh-agent authentication, files over SFTP with their modes, commands with their exit codes. ssh2 is loaded
// here, on the first connection, so that nothing else pays for it at start-up.
import type { Client, ClientChannel, ConnectConfig, ParsedKey, SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { CliError, DataError, ExitCode, UnreachableError } from '../errors.ts';
import { fingerprint, hostKeyAlgorithms, knownHostsLine, knownHostsName, linesFor, verifyHostKey, type KnownHostLine } from './known-hosts.ts';

type Ssh2 = typeof import('ssh2');
let ssh2: Promise<Ssh2> | undefined;
/** ssh2, loaded once. Its optional native parts (cpu-features, the sshcrypto addon) are not needed. */
export function loadSsh2(): Promise<Ssh2> {
  ssh2 ??= import('ssh2').then((m) => ((m as unknown as { default?: Ssh2 }).default ?? m) as Ssh2);
  return ssh2;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

export type HostKeyPolicy = { ignore: true } | { ignore: false; lines: KnownHostLine[]; file: string };

export type AuthMethod = { kind: 'key'; file: string; key: ParsedKey } | { kind: 'agent'; socket: string };

export interface SshOptions {
  auth: AuthMethod[];
  hostKeys: HostKeyPolicy;
  connectTimeoutMs: number;
  /** For each file copied. */
  fileTimeoutMs: number;
  debug?: (message: string) => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const where = (t: SshTarget) => `${t.user}@${t.host}:${t.port}`;
const describeAuth = (a: AuthMethod) => (a.kind === 'key' ? `the key ${a.file}` : `the ssh-agent at ${a.socket}`);

function hostKeyError(target: SshTarget, key: Buffer, file: string, verdict: ReturnType<typeof verifyHostKey>): CliError {
  const name = knownHostsName(target.host, target.port);
  const line = knownHostsLine(target.host, target.port, key);
  const fp = fingerprint(key);
  if (verdict.verdict === 'unknown') {
    return new CliError(`the host key of ${name} is not known: ${fp} is not in ${file}`, ExitCode.forbidden, {
      details: [`after checking that fingerprint on the VM (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), trust it with:`, `echo '${line}' >> ${file}`],
      hint: '--ignore-host-keys skips this check (not recommended)',
    });
  }
  if (verdict.verdict === 'revoked') {
    return new CliError(`the host key of ${name} (${fp}) is marked @revoked in ${file}:${verdict.line}`, ExitCode.forbidden, { hint: 'the VM must get a new host key' });
  }
  const lines = verdict.verdict === 'changed' ? verdict.lines.join(', ') : '';
  return new CliError(`the host key of ${name} has CHANGED: the VM shows ${fp}, which does not match ${file} line ${lines}`, ExitCode.forbidden, {
    details: [
      'someone may be intercepting the connection, or the VM was reinstalled. If you know the new key is right:',
      `ssh-keygen -R '${name}' -f ${file} && echo '${line}' >> ${file}`,
    ],
    hint: 'check the fingerprint on the VM (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before you trust it',
  });
}

function connectError(target: SshTarget, err: Error & { code?: string; level?: string }, options: SshOptions): CliError {
  const to = where(target);
  if (err.level === 'client-authentication') {
    const tried = options.auth.map(describeAuth).join(', ') || 'no key (none found)';
    return new CliError(`${to} refused the login of ${target.user}: tried ${tried}`, ExitCode.forbidden, {
      hint: `give the key the VM knows with --ssh-key, or the user with --ssh-user (or the annotation sidecar-bootstrap.istio.io/ssh-user)`,
      cause: err,
    });
  }
  if (err.level === 'client-timeout' || /timed out/i.test(err.message)) {
    return new UnreachableError(`cannot connect to ${to}: no SSH handshake within ${options.connectTimeoutMs / 1000}s`, { hint: 'check the address and that sshd runs there; --ssh-connect-timeout waits longer', cause: err });
  }
  const reason = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.code ?? err.message;
  return new UnreachableError(`cannot connect to ${to}: ${reason}`, {
    hint: 'check that sshd runs there and the port (--ssh-port, or the annotation sidecar-bootstrap.istio.io/ssh-port)',
    cause: err,
  });
}

function withTimeout<T>(ms: number, what: string, onTimeout: () => void, task: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new UnreachableError(`${what} timed out after ${ms / 1000}s`, { hint: '--timeout sets how long copying one file may take' }));
    }, ms);
  });
  return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
}

const cb = <T = void>(fn: (done: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

export class SshSession {
  private sftpChannel?: SFTPWrapper;

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    private readonly options: SshOptions,
    /** The jump hosts' connections (ProxyJump), closed with this one. */
    private readonly hops: Client[] = [],
  ) {}

  /**
   * Connects to `target`, through `jumps` in order when given (ProxyJump): each hop is an SSH connection whose
   * direct-tcpip channel (ssh2's forwardOut) carries the next one. Every hop's host key is checked.
   */
  static async connect(target: SshTarget, options: SshOptions, jumps: SshTarget[] = []): Promise<SshSession> {
    const hops: Client[] = [];
    let sock: Duplex | undefined;
    try {
      for (const [i, hop] of jumps.entries()) {
        const client = await SshSession.open(hop, options, sock);
        hops.push(client);
        const next = jumps[i + 1] ?? target;
        sock = await cb<Duplex>((done) => client.forwardOut('127.0.0.1', 0, next.host, next.port, done as never)).catch((err: Error) => {
          throw new UnreachableError(`cannot reach ${where(next)} through the jump host ${where(hop)}: ${err.message}`, { hint: 'check ProxyJump in ~/.ssh/config, and that the jump host allows TCP forwarding', cause: err });
        });
      }
      const client = await SshSession.open(target, options, sock);
      return new SshSession(client, target, options, hops);
    } catch (err) {
      for (const h of hops.reverse()) h.end();
      throw err;
    }
  }

  private static async open(target: SshTarget, options: SshOptions, sock?: Duplex): Promise<Client> {
    const { Client } = await loadSsh2();
    const client = new Client();
    let refused: CliError | undefined;
    const policy = options.hostKeys;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: options.connectTimeoutMs,
      authHandler: options.auth.map((a) =>
        a.kind === 'key' ? { type: 'publickey' as const, username: target.user, key: a.key } : { type: 'agent' as const, username: target.user, agent: a.socket },
      ),
      hostVerifier: (key: Buffer) => {
        if (policy.ignore) return true;
        const verdict = verifyHostKey(policy.lines, target.host, target.port, key);
        if (verdict.verdict === 'trusted') return true;
        refused = hostKeyError(target, key, policy.file, verdict);
        return false;
      },
      debug: options.debug,
      ...(sock ? { sock } : {}),
    };
    if (!policy.ignore) {
      // Ask for the kinds of host key we know for this host, as ssh does, so that a known RSA key is not
      // reported as changed because the server offered its Ed25519 key first.
      const known = [...new Set(linesFor(policy.lines, target.host, target.port).filter((l) => !l.marker).map((l) => l.keyType))];
      if (known.length) config.algorithms = { serverHostKey: hostKeyAlgorithms(known) as never };
    }
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (err) => reject(refused ?? connectError(target, err, options)));
      client.once('close', () => reject(refused ?? new UnreachableError(`${where(target)} closed the connection during the handshake`, { hint: 'check the VM\'s sshd log' })));
      client.connect(config);
    });
    client.on('error', (err) => options.debug?.(`ssh: ${err.message}`));
    return client;
  }

  private async sftp(): Promise<SFTPWrapper> {
    this.sftpChannel ??= await cb<SFTPWrapper>((done) => this.client.sftp(done));
    return this.sftpChannel;
  }

  /** Creates `dir` and its missing parents (0755), and makes `dir` itself `mode`. */
  async mkdir(dir: string, mode: number): Promise<void> {
    const sftp = await this.sftp();
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = '/' + parts.slice(0, i).join('/');
      const exists = await cb((done) => sftp.stat(p, (err) => done(err))).then(
        () => true,
        () => false,
      );
      if (!exists) await cb((done) => sftp.mkdir(p, { mode: i === parts.length ? mode : 0o755 }, done)).catch((err) => this.fail(`cannot create ${p}`, err));
    }
    await cb((done) => sftp.chmod(dir, mode, done)).catch((err) => this.fail(`cannot make ${dir} mode ${mode.toString(8).padStart(4, '0')}`, err));
  }

  /**
   * Writes a file with `mode`: into a temporary name (created with that mode), then renamed over the target,
   * so the VM never sees a half-written or briefly readable file.
   */
  async writeFile(file: string, content: string | Buffer, mode: number): Promise<void> {
    const sftp = await this.sftp();
    const temp = `${file}.kubectl-vm.tmp`;
    const copy = (async () => {
      await cb((done) => sftp.writeFile(temp, content, { mode }, done)).catch((err) => this.fail(`cannot write ${temp}`, err));
      await cb((done) => sftp.chmod(temp, mode, done)).catch((err) => this.fail(`cannot set the mode of ${temp}`, err));
      await cb((done) => sftp.ext_openssh_rename(temp, file, done)).catch((err) => this.fail(`cannot rename ${temp} to ${file}`, err));
    })();
    await withTimeout(this.options.fileTimeoutMs, `copying ${file} to ${where(this.target)}`, () => this.client.end(), copy);
  }

  /** Runs a command through the user's shell on the VM. */
  async exec(command: string): Promise<ExecResult> {
    const stream = await cb<ClientChannel>((done) => this.client.exec(command, done)).catch((err) => this.fail(`cannot run "${command}"`, err));
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      stream.on('close', (code: number | null, signal?: string) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
  }

  close(): void {
    this.client.end();
    for (const h of [...this.hops].reverse()) h.end();
  }

  private fail(what: string, err: Error): never {
    throw new CliError(`${where(this.target)}: ${what}: ${err.message}`, ExitCode.general, {
      hint: `the user ${this.target.user} must be able to write there; pick another directory with the annotation sidecar-bootstrap.istio.io/proxy-config-dir`,
      cause: err,
    });
  }
}

/** A private key file, parsed; an encrypted one is decrypted with `passphrase()`, which says undefined without a terminal. */
export async function readPrivateKey(file: string, data: Buffer, passphrase: () => Promise<string | undefined>): Promise<ParsedKey> {
  const { utils } = await loadSsh2();
  const first = (k: ParsedKey | ParsedKey[] | Error) => (Array.isArray(k) ? k[0]! : k);
  let parsed = first(utils.parseKey(data) as ParsedKey | ParsedKey[] | Error);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    const pass = await passphrase();
    if (pass === undefined) {
      throw new CliError(`the key ${file} is encrypted, and there is no terminal to ask for its passphrase`, ExitCode.forbidden, {
        hint: `load it into the ssh-agent first (ssh-add ${file}); kubectl vm uses the agent in SSH_AUTH_SOCK`,
      });
    }
    parsed = first(utils.parseKey(data, pass) as ParsedKey | ParsedKey[] | Error);
    if (parsed instanceof Error) throw new CliError(`cannot decrypt the key ${file}: wrong passphrase?`, ExitCode.forbidden, { hint: 'try again, or use the ssh-agent (ssh-add)' });
  }
  if (parsed instanceof Error) throw new DataError(`cannot read the private key ${file}: ${parsed.message}`, { hint: 'give an OpenSSH or PEM private key with --ssh-key' });
  return parsed;
}
