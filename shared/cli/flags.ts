// The flags every kubectl user expects, declared once. kubectl passes a plugin its arguments untouched, so each
// plugin parses kubectl's global flags itself (reference/krew.md §7).
import type { Argv } from 'yargs';
import { UsageError } from '../errors.ts';
import { parseDuration } from './duration.ts';

/** Help groups, in the order they print: a command's own flags, then output, Kubernetes and global flags. */
export const FLAGS_GROUP = 'Flags:';
export const KUBE_GROUP = 'Kubernetes flags:';
export const OUTPUT_GROUP = 'Output flags:';
export const GLOBAL_GROUP = 'Global flags:';

export type DryRun = 'none' | 'client' | 'server';
export type OutputFormat = 'yaml' | 'json' | 'name';

export interface KubeArgs {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  /** Milliseconds; 0 means no limit. */
  requestTimeout: number;
}

export interface OutputArgs {
  output?: OutputFormat;
  dryRun: DryRun;
}

export interface CommonArgs {
  verbose: number;
}

/** kubectl keeps the last value of a repeated single-valued flag; yargs would collect them into an array. */
export const lastWins = (v: unknown): string | undefined => {
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return last === undefined ? undefined : String(last);
};

/** A single-valued string flag in a help group; the last occurrence wins, as in kubectl. */
export function stringFlag(describe: string, group: string = FLAGS_GROUP) {
  return { type: 'string' as const, group, coerce: lastWins, describe };
}

/** Repeatable list flags (`-l a=b -l c=d` or `-l a=b,c=d`) end up as one flat list of items. */
export const commaList = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((item) => String(item).split(',')).filter((s) => s !== '');

/** --from-file for commands that take IP addresses (register, deregister). */
export const addressFileFlag = {
  type: 'string',
  array: true,
  group: FLAGS_GROUP,
  describe: 'Read addresses from a file: one per line or comma-separated, # comments; - is standard input',
} as const;

/** A coerce function for a flag that takes one of a few values; the last occurrence wins. */
export function oneOf<T extends string>(flag: string, allowed: readonly T[], fallback?: T) {
  return withChoices(allowed, (v: unknown): T | undefined => {
    const value = lastWins(v);
    if (value === undefined) return undefined;
    if (value === '' && fallback !== undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new UsageError(`--${flag} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, not "${value}"`);
  });
}

/** oneOf for a positional argument: the message names the argument (`shell "powershell"`), not a flag that does not exist. */
export function oneOfArgument<T extends string>(what: string, allowed: readonly T[]) {
  return withChoices(allowed, (v: unknown): T | undefined => {
    const value = lastWins(v);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new UsageError(`unsupported ${what} "${value}": expected ${allowed.map((a) => `"${a}"`).join(', ')}`);
  });
}

/** Marks a coerce function with the values it accepts, so that shell completion can offer them. */
export function withChoices<F extends (v: unknown) => unknown>(choices: readonly string[], coerce: F): F & { choices: readonly string[] } {
  return Object.assign(coerce, { choices });
}

export function withKubeFlags<T>(y: Argv<T>): Argv<T & KubeArgs> {
  return y
    .option('kubeconfig', {
      type: 'string',
      group: KUBE_GROUP,
      coerce: lastWins,
      describe: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)',
    })
    .option('context', { type: 'string', group: KUBE_GROUP, coerce: lastWins, describe: 'The kubeconfig context to use' })
    .option('cluster', { type: 'string', group: KUBE_GROUP, coerce: lastWins, describe: 'The kubeconfig cluster to use' })
    .option('user', { type: 'string', group: KUBE_GROUP, coerce: lastWins, describe: 'The kubeconfig user to use' })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      group: KUBE_GROUP,
      coerce: lastWins,
      describe: `The namespace (default: the context's namespace, else "default")`,
    })
    .option('request-timeout', {
      type: 'string',
      group: KUBE_GROUP,
      coerce: (v: unknown) => parseDuration('request-timeout', lastWins(v) ?? '0'),
      describe: 'How long to wait for one API request before giving up, e.g. 5s or 1m; 0 waits forever',
    }) as unknown as Argv<T & KubeArgs>;
}

/** --dry-run=none|client|server; a bare --dry-run means client, as it did in kubectl. */
export function withDryRun<T>(y: Argv<T>, describe = '"client" only prints what would be sent; "server" sends it with dryRun=All so the API validates it without storing anything'): Argv<T & { dryRun: DryRun }> {
  return y.option('dry-run', { type: 'string', group: OUTPUT_GROUP, coerce: oneOf<DryRun>('dry-run', ['none', 'client', 'server'], 'client'), describe }) as unknown as Argv<T & { dryRun: DryRun }>;
}

export function withOutputFlags<T>(y: Argv<T>): Argv<T & OutputArgs> {
  return withDryRun(
    y.option('output', {
      alias: 'o',
      type: 'string',
      group: OUTPUT_GROUP,
      coerce: oneOf<OutputFormat>('output', ['yaml', 'json', 'name']),
      describe: 'Print the objects as yaml, json or name instead of the summary',
    }),
  ) as unknown as Argv<T & OutputArgs>;
}

export function withCommonFlags<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y.option('verbose', {
    alias: 'v',
    type: 'count',
    describe: 'Show causes and stack traces of errors; -vv also logs every API request',
  }) as unknown as Argv<T & CommonArgs>;
}

/** Defaults applied after parsing, so that yargs never sees a default it could confuse with an explicit value. */
export function normaliseOutputArgs<T extends Partial<OutputArgs>>(args: T): T & OutputArgs {
  return { ...args, dryRun: args.dryRun ?? 'none' };
}

/** kubectl-style examples: a "# what it does" line above each command line. */
export function withExamples<T>(y: Argv<T>, examples: [what: string, command: string][]): Argv<T> {
  for (const [what, command] of examples) y.example(`# ${what}`, '').example(command, '');
  return y;
}
