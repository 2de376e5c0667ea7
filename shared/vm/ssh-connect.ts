// Connections of the day-2 commands to VMs, by the SSH target their record names (`user@host:port`): one set of
// credentials and one host-key policy per run, a time limit per VM, and a fleet run with bounded parallelism in
// which an unreachable VM is a result, not a failure of the others.
import type { PluginContext } from '../cli/plugin.ts';
import type { SshArgs, SshLimits } from '../cli/ssh-flags.ts';
import { asCliError, CliError, DataError, UnreachableError } from '../errors.ts';
import { mapLimit } from '../kube/parallel.ts';
import { hostKeyPolicy, lazyCredentials } from '../ssh/connect.ts';
import { SshSession, type AuthMethod, type HostKeyPolicy, type SshTarget } from '../ssh/session.ts';

/** `user@host:port`, `user@[fd00::1]:22`, `host` → the target; the user and port default as ssh's do. */
export function parseSshTarget(text: string, defaultUser: string): SshTarget {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new DataError(`invalid SSH target "${text}": expected [user@]host[:port]`, { hint: 'fix the kubectl-vm.io/ssh-target annotation of the record' });
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) throw new DataError(`invalid SSH port in "${text}"`, { hint: 'fix the kubectl-vm.io/ssh-target annotation of the record' });
  return { user: m[1] ?? defaultUser, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export const describeTarget = (t: SshTarget) => `${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;

/** Opens sessions for one run: keys are read (and decrypted) once, known_hosts once. */
export class VmConnector {
  readonly credentials: () => Promise<AuthMethod[]>;
  private readonly hostKeys: HostKeyPolicy;

  constructor(
    private readonly ctx: PluginContext,
    args: SshArgs,
    readonly limits: SshLimits,
  ) {
    this.hostKeys = hostKeyPolicy(ctx, args.ignoreHostKeys === true);
    this.credentials = lazyCredentials(ctx, args.sshKey);
  }

  /**
   * Runs `work` on a session to `target`, closing it afterwards; the whole (connection included) must finish
   * within --timeout, else the connection is cut and the VM is reported unreachable.
   */
  async with<T>(target: SshTarget, work: (ssh: SshSession) => Promise<T>): Promise<T> {
    const auth = await this.credentials();
    let session: SshSession | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const task = (async () => {
      session = await SshSession.connect(target, { auth, hostKeys: this.hostKeys, connectTimeoutMs: this.limits.connectTimeoutMs, fileTimeoutMs: this.limits.hostTimeoutMs, debug: this.ctx.log.verbosity >= 2 ? (m) => this.ctx.log.debug(`${describeTarget(target)}: ${m}`) : undefined });
      if (timedOut) throw new UnreachableError('timed out');
      return work(session);
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        session?.close();
        reject(new UnreachableError(`${describeTarget(target)} did not finish within ${this.limits.hostTimeoutMs / 1000}s`, { hint: '--timeout gives each VM longer' }));
      }, this.limits.hostTimeoutMs);
    });
    task.catch(() => undefined);
    try {
      return await Promise.race([task, timeout]);
    } finally {
      clearTimeout(timer);
      session?.close();
    }
  }
}


export type FleetOutcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: CliError; ms: number };

/** Runs `fn` on every item with at most `concurrency` at once; each failure is kept with its item. */
export function forEachVm<I, T>(ctx: PluginContext, items: readonly I[], concurrency: number, fn: (item: I) => Promise<T>): Promise<FleetOutcome<T>[]> {
  return mapLimit(items, concurrency, async (item) => {
    const started = ctx.now().getTime();
    try {
      const value = await fn(item);
      return { ok: true as const, value, ms: ctx.now().getTime() - started };
    } catch (err) {
      return { ok: false as const, error: asCliError(err), ms: ctx.now().getTime() - started };
    }
  });
}
