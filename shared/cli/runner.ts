// The shared runner: parses argv with yargs, builds the PluginContext, runs the command, prints its result, and
// is the only place that prints errors and decides the exit code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { CliError, DataError, ExitCode, InternalError, UsageError, asCliError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { clientFor, offlineClient } from '../kube/connect.ts';
import { contextNames, hasKubeconfig, loadKubeconfig, type LoadedKubeconfig } from '../kube/kubeconfig.ts';
import type { KubeObject } from '../kube/objects.ts';
import { defaultBackoff, type BackoffPolicy } from '../kube/retry.ts';
import { COMPLETE, commandFor, complete, flagSpecs, formatCompletion, type FlagSpec, type ValueSource } from './completion.ts';
import { VERSION } from '../kube/transport.ts';
import { paintFor, type Paint } from '../output/color.ts';
import { CLOSED_PIPE, onReaderGone, type IO } from '../output/io.ts';
import { createLogger, type Logger } from '../output/logger.ts';
import { formatObjects } from '../output/printer.ts';
import { createStep, stopSpinners, hasRealSize } from '../output/step.ts';
import { discardUnfinished } from '../fs/write.ts';
import { closest } from './suggest.ts';
import { GLOBAL_GROUP, withCommonFlags, type CommonArgs, type DryRun, type KubeArgs, type OutputArgs, type OutputFormat } from './flags.ts';
import type { Plugin, PluginCommand, PluginContext, Result } from './plugin.ts';

export const HOMEPAGE = 'https://github.com/kubectl-vm/kubectl-vm';

export interface ExecuteOptions {
  now?: () => Date;
  backoff?: BackoffPolicy;
}

type AnyArgs = Partial<KubeArgs & OutputArgs & CommonArgs> & { [key: string]: unknown };

/** The entry point of every plugin executable. */
export async function runPlugin(plugin: Plugin): Promise<void> {
  endOnSignals();
  const selfDir = process.argv[1] ? path.dirname(fs.realpathSync(process.argv[1])) : undefined;
  const io: IO = { stdout: process.stdout, stderr: process.stderr, env: process.env, home: os.homedir(), cwd: process.cwd(), selfDir };
  // The reader of stdout went away (`… | head -1`): later output is dropped, the command still finishes what it
  // changes, and a run that would have succeeded exits as a shell reports kubectl in that case (SIGPIPE, 128 + 13).
  let readerGone = false;
  onReaderGone(process.stdout, () => (readerGone = true));
  const code = await execute(plugin, process.argv.slice(2), io);
  // A failed write is reported after it returned: wait until what was written has gone, or failed.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exitCode = readerGone && code === ExitCode.ok ? CLOSED_PIPE : code;
}

/** Runs a plugin with the given arguments and streams; returns the exit code. Tests call this directly. */
export async function execute(plugin: Plugin, argv: string[], io: IO, options: ExecuteOptions = {}): Promise<number> {
  if (argv[0] === COMPLETE) return completeCommand(plugin, argv.slice(1), io);
  const paint = await paintFor(io.stderr, io.env);
  let verbosity = argv.filter((a) => /^-v+$/.test(a)).reduce((n, a) => n + a.length - 1, 0) + (argv.includes('--verbose') ? 1 : 0);
  let session: Session | undefined;
  try {
    const parsed = await parse(plugin, argv, io);
    if (parsed.kind === 'text') {
      io.stdout.write(parsed.text.endsWith('\n') ? parsed.text : parsed.text + '\n');
      return ExitCode.ok;
    }
    const args = parsed.args;
    verbosity = args.verbose ?? 0;
    const log = createLogger(io.stderr, paint, verbosity);
    session = new Session(args, io, log, paint, options, commandLine(plugin.name, argv));
    const result = await parsed.command.run(session.context, args);
    printResult(result, args, io);
    const warnings = session.warnings;
    if (args.warningsAsErrors && warnings > 0) {
      throw new CliError(`${warnings} warning${warnings === 1 ? '' : 's'} received from the API server (--warnings-as-errors)`, ExitCode.general, {
        hint: 'the warnings are printed above; leave out --warnings-as-errors to treat them as warnings',
      });
    }
    return result.exitCode ?? ExitCode.ok;
  } catch (err) {
    printError(err, io.stderr, paint, verbosity);
    return asCliError(err).exitCode;
  } finally {
    session?.close();
  }
}

/**
 * Ctrl-C, `kill` and a closed terminal end every command at once, whatever it waits for (a spinner, the network,
 * an SSH server), with the status a shell reports for the signal (130, 143, 129): the handler stops the spinners,
 * removes staging directories and temp files not yet committed (discardUnfinished), says why, and raises the
 * signal again with no handler left. Files are written synchronously, so the handler runs between two writes,
 * never inside one, and no temp file is left behind (with no handler, the default action could kill the process
 * in the middle of a write).
 */
function endOnSignals(): void {
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopSpinners();
      discardUnfinished();
      process.stderr.write(`error: interrupted by ${signal}\n`);
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** How long completion may wait for the cluster before it offers nothing. */
const COMPLETION_DEADLINE_MS = 1500;

async function completeCommand(plugin: Plugin, argv: string[], io: IO): Promise<number> {
  const args = argv.slice(0, -1);
  const toComplete = argv[argv.length - 1] ?? '';
  const { command, words } = commandFor(plugin, args);
  const flags = flagSpecs(command, plugin.completions);
  const result = await complete({ args, toComplete, flags, words, values: (source, a) => dynamicValues(source, a, flags, io) });
  io.stdout.write(formatCompletion(result));
  return ExitCode.ok;
}

/** Contexts from the kubeconfig; namespaces and WorkloadGroups from the cluster, within a short deadline. */
async function dynamicValues(source: ValueSource, args: string[], flags: FlagSpec[], io: IO): Promise<string[] | undefined> {
  const flag = (key: string) => {
    const spec = flags.find((f) => f.key === key);
    let value: string | undefined;
    args.forEach((a, i) => {
      for (const n of spec?.names ?? []) {
        if (a === n) value = args[i + 1];
        else if (a.startsWith(`${n}=`)) value = a.slice(n.length + 1);
      }
    });
    return value;
  };
  const kubeFlags = {
    kubeconfig: flag('kubeconfig'),
    context: flag('context'),
    cluster: flag('cluster'),
    user: flag('user'),
    namespace: flag('namespace'),
    server: flag('server'),
    token: flag('token'),
    as: flag('as'),
  };
  const env = { env: io.env, home: io.home };
  try {
    if (source === 'contexts') return contextNames(kubeFlags, env);
    if (!hasKubeconfig(kubeFlags, env)) return undefined;
    const config = loadKubeconfig(kubeFlags, env);
    const log = createLogger(io.stderr, await paintFor(io.stderr, io.env), -1);
    const client = clientFor(config, { dryRun: 'none', log, timeoutMs: COMPLETION_DEADLINE_MS, backoff: { ...defaultBackoff, attempts: 1 } });
    try {
      const list =
        source === 'namespaces'
          ? client.list<KubeObject>('v1', 'Namespace')
          : source === 'workloadgroups'
            ? client.list<KubeObject>('networking.istio.io/v1', 'WorkloadGroup', { namespace: kubeFlags.namespace ?? config.namespace })
            : Promise.resolve([]);
      const deadline = new Promise<undefined>((resolve) => (setTimeout(resolve, COMPLETION_DEADLINE_MS) as { unref?: () => void }).unref?.());
      const items = await Promise.race([list, deadline]);
      return items?.map((o) => o.metadata.name!).sort();
    } finally {
      client.close();
    }
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------

type Parsed = { kind: 'text'; text: string } | { kind: 'run'; command: PluginCommand<AnyArgs>; args: AnyArgs };

/** `-f -` means "read standard input", but yargs takes "-" for a positional: join it to its flag as `-f=-`. */
export function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const prev = out[out.length - 1];
    if (a === '-' && prev !== undefined && /^--?[A-Za-z][\w-]*$/.test(prev)) out[out.length - 1] = `${prev}=-`;
    else out.push(a);
  }
  return out;
}

async function parse(plugin: Plugin, rawArgv: string[], io: IO): Promise<Parsed> {
  const argv = joinDashValues(rawArgv);
  const displayName = `kubectl vm ${plugin.name}`;
  const width = io.stdout.isTTY && io.stdout.columns ? Math.min(io.stdout.columns, 120) : 100;
  let selected: { command: PluginCommand<AnyArgs>; args: AnyArgs } | undefined;
  let fallback: AnyArgs | undefined;
  const y: Argv = withCommonFlags(
    yargs()
      .scriptName(displayName)
      .parserConfiguration({
        'duplicate-arguments-array': true,
        'greedy-arrays': false,
        'parse-numbers': false,
        'parse-positional-numbers': false,
      })
      .strict()
      .exitProcess(false)
      .showHelpOnFail(false)
      .help('help')
      .alias('help', 'h')
      .version('version', 'Show the version of kubectl-vm', VERSION)
      .wrap(width),
  ).group(['help', 'version', 'verbose'], GLOBAL_GROUP);
  skipHelpCache(y);
  const hasRoot = plugin.commands.some((c) => c.command.startsWith('$0'));
  for (const command of plugin.commands) {
    y.command({
      command: command.command,
      aliases: command.aliases,
      describe: command.describe,
      builder: command.builder,
      handler: (args: AnyArgs) => {
        selected = { command, args };
      },
    });
  }
  if (!hasRoot) {
    y.usage(`${plugin.describe}\n\nUsage: ${displayName} <type> [arguments] [flags]`);
    y.command({
      command: '$0 [type] [rest..]',
      describe: false,
      // Only here to answer an unknown type with a did-you-mean, so it takes any flag.
      builder: (b: Argv) => b.strict(false),
      handler: (args: AnyArgs) => {
        fallback = args;
      },
    } as never);
  }
  const outcome = await new Promise<{ err?: Error; output: string }>((resolve) => {
    void y.parse(argv, {}, (err: Error | undefined, _args: unknown, output: string) => resolve({ err, output }));
  });
  if (outcome.err) {
    if (outcome.err instanceof CliError) throw outcome.err;
    const sub = plugin.commands.find((c) => [c.command.split(' ')[0], ...(c.aliases ?? [])].includes(argv.find((a) => !a.startsWith('-')) ?? ''));
    const helpOf = sub && !hasRoot ? `${displayName} ${sub.command.split(' ')[0]}` : displayName;
    throw unknownFlags(outcome.err.message, argv, hasRoot ? plugin.commands[0] : sub, plugin, helpOf) ?? new UsageError(lowerFirst(outcome.err.message), { hint: `see "${helpOf} --help"` });
  }
  if (outcome.output) return { kind: 'text', text: outcome.output };
  if (selected) return { kind: 'run', ...selected };
  const type = fallback?.type as string | undefined;
  if (type === undefined) return { kind: 'text', text: await y.getHelp() };
  const names = plugin.commands.map((c) => `${c.command.split(' ')[0]}${c.aliases?.length ? ` (${c.aliases.join(', ')})` : ''}`);
  const rest = argv.filter((a) => a !== type && a !== '--');
  const near = closest(type, plugin.commands.flatMap((c) => [c.command.split(' ')[0]!, ...(c.aliases ?? [])]));
  throw new UsageError(`unknown resource type "${type}"`, {
    hint: near
      ? `did you mean "${displayName} ${near} ${rest.join(' ')}"? ${displayName} takes ${names.join(', ')}`.replace(/ +"\?/, '"?')
      : `${displayName} takes ${names.join(', ')}; did you mean "${displayName} ${plugin.commands[0]!.command.split(' ')[0]} ${[type, ...rest].join(' ')}"?`,
  });
}

/**
 * yargs reports an unknown flag under both spellings (`ouput-dir, ouputDir`). This names each flag once, as the
 * user typed it, and suggests the nearest flag the command has; undefined when yargs' error is about something
 * else (an extra argument, say).
 */
function unknownFlags(message: string, argv: string[], command: PluginCommand<AnyArgs> | undefined, plugin: Plugin, helpOf: string): UsageError | undefined {
  const m = /^Unknown arguments?: (.*)$/s.exec(message);
  if (!m) return undefined;
  const reported = new Set(m[1]!.split(', ').map((k) => k.trim()));
  const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const typed: string[] = [];
  for (const a of argv) {
    if (a === '--') break;
    if (!/^--?[A-Za-z]/.test(a)) continue;
    const flag = a.split('=')[0]!;
    const name = flag.replace(/^--?/, '');
    const names = flag.startsWith('--') ? [name, name.replace(/^no-/, '')] : name.split('');
    if (names.some((n) => reported.has(n) || reported.has(camel(n)))) typed.push(flag.startsWith('--') ? flag : `-${names.find((n) => reported.has(n)) ?? name}`);
  }
  if (typed.length === 0) return undefined;
  const known = flagSpecs(command as PluginCommand<unknown> | undefined, plugin.completions).flatMap((f) => f.names);
  const unique = [...new Set(typed)];
  const bare = (k: string) => k.replace(/^--?/, '');
  const kebab = (k: string) => bare(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  // One letter is too little to guess from; a long flag is compared in kebab case (ouputDir → ouput-dir).
  const longNames = known.filter((k) => k.startsWith('--')).map(bare);
  const suggestions = unique.map((t) => (bare(t).length < 2 ? undefined : closest(kebab(t), longNames))).map((n) => n && `--${n}`);
  const near = unique.map((t, i) => suggestions[i] && `${suggestions[i]}${unique.length > 1 ? ` for ${t}` : ''}`).filter(Boolean);
  return new UsageError(`unknown flag${unique.length > 1 ? 's' : ''}: ${unique.join(', ')}`, { hint: `${near.length ? `did you mean ${near.join(', ')}? ` : ''}see "${helpOf} --help"` });
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * yargs renders the whole help text after every command handler, in case the handler calls showHelp() later
 * (~8 ms per run). Our handlers only record which command was chosen, so the cache is never read.
 */
function skipHelpCache(y: Argv): void {
  const internal = (y as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/** Everything one run needs, created lazily: the kubeconfig is read only when a command asks for it. */
class Session {
  readonly context: PluginContext;
  private config?: LoadedKubeconfig;
  private client?: KubeClient;

  constructor(
    private readonly args: AnyArgs,
    private readonly io: IO,
    log: Logger,
    paint: Paint,
    options: ExecuteOptions,
    commandLine: string,
  ) {
    const dryRun: DryRun = args.dryRun ?? 'none';
    // A terminal that reports no size (0×0 under `script`, `ssh -tt`, some CI pseudo-terminals) gets plain lines:
    // ora would compute an infinite number of lines to clear, and never end.
    const interactive = io.stderr.isTTY === true && hasRealSize(io.stderr) && !io.env.CI && io.env.TERM !== 'dumb' && (args.verbose ?? 0) < 2;
    this.context = {
      log,
      dryRun,
      commandLine,
      step: createStep(io.stderr, paint, interactive),
      now: options.now ?? (() => new Date()),
      env: io.env,
      home: io.home,
      selfDir: io.selfDir,
      promptSecret: async (question) => (await import('./prompt.ts')).promptSecret(question, process.stdin as import('node:tty').ReadStream, io.stderr),
      namespace: (o = {}) => {
        if (args.namespace) return args.namespace;
        // A client-side dry run, or a command that does not touch the cluster, also works without any kubeconfig.
        if ((dryRun === 'client' || o.offline) && !hasKubeconfig(args, this.kubeconfigEnv())) return 'default';
        return this.loadConfig().namespace;
      },
      readFile: (file) => {
        try {
          return fs.readFileSync(file === '-' ? 0 : path.resolve(io.cwd, file), 'utf8');
        } catch (err) {
          throw new DataError(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
            hint: 'check the path; "-" reads standard input',
          });
        }
      },
      getenv: (name) => io.env[name],
      lookup: async (host) => {
        const { lookup } = await import('node:dns/promises');
        const found = await lookup(host, { all: true, verbatim: true });
        return [...found.filter((a) => a.family === 4), ...found.filter((a) => a.family === 6)].map((a) => a.address);
      },
      kube: () => {
        if (!this.client && dryRun === 'client' && !hasKubeconfig(args, this.kubeconfigEnv())) {
          this.client = offlineClient(args.namespace ?? 'default', log, () => captureError(() => this.loadConfig()));
        }
        return (this.client ??= clientFor(this.loadConfig(), {
          dryRun,
          log,
          timeoutMs: args.requestTimeout ?? 0,
          backoff: options.backoff,
          env: io.env,
          matchServerVersion: args.matchServerVersion === true,
        }));
      },
    };
  }

  close(): void {
    this.client?.close();
  }

  get warnings(): number {
    return this.client?.warnings ?? 0;
  }

  private kubeconfigEnv() {
    return { env: this.io.env, home: this.io.home };
  }

  private loadConfig(): LoadedKubeconfig {
    this.config ??= loadKubeconfig(this.args, this.kubeconfigEnv());
    return this.config;
  }
}

/** `kubectl vm <plugin> <argv…>`, each word quoted for a POSIX shell where it needs to be. */
export function commandLine(plugin: string, argv: string[]): string {
  const quote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
  return ['kubectl', 'vm', plugin, ...argv].map(quote).join(' ');
}

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return new Error('no kubeconfig');
}

function printResult(result: Result, args: AnyArgs, io: IO): void {
  if (args.output && result.objects) io.stdout.write(formatObjects(result.objects, args.output as OutputFormat));
  // One write each: a fleet's summary is thousands of lines.
  else if (result.summary?.length) io.stdout.write(result.summary.join('\n') + '\n');
  if (result.trailer?.length) io.stderr.write(result.trailer.join('\n') + '\n');
}

function printError(err: unknown, stderr: IO['stderr'], paint: Paint, verbosity: number): void {
  const e = asCliError(err);
  const lines = [`${paint.red('error:')} ${e.message}`];
  for (const d of e.details) lines.push(`  ${d}`);
  if (e.hint) lines.push(`${paint.cyan('hint:')} ${e.hint}`);
  if (e instanceof InternalError) {
    lines.push(`this is a bug in kubectl-vm: please report it at ${HOMEPAGE}/issues with the output of the same command and -v`);
  }
  if (verbosity >= 1) {
    let cause: unknown = err instanceof CliError ? (err.cause ?? (e instanceof InternalError ? undefined : err)) : err;
    while (cause instanceof Error) {
      lines.push(paint.dim(`cause: ${cause.stack ?? cause.message}`));
      cause = cause.cause;
    }
  }
  stderr.write(lines.join('\n') + '\n');
}
