// Shell completion for a plugin's own arguments (the protocol is in complete-protocol.ts). The candidates come from the same yargs definitions that parse
// the arguments, so completion cannot drift from the flags: flag names, the values of flags that take one of a
// few (-o, --dry-run, …), contexts from the kubeconfig, and namespaces or WorkloadGroups from the cluster when
// a kubeconfig is there (one request, given a short deadline).
import yargs, { type Argv, type Options } from 'yargs';
import { withCommonFlags } from './flags.ts';
import type { Plugin, PluginCommand } from './plugin.ts';
import { Directive, type Completion } from './complete-protocol.ts';

export { COMPLETE, Directive, formatCompletion, type Completion } from './complete-protocol.ts';

/** What a flag's value completes to, beyond a fixed list of choices. */
export type ValueSource = 'files' | 'dirs' | 'contexts' | 'namespaces' | 'workloadgroups';

export interface FlagSpec {
  key: string;
  names: string[];
  describe: string;
  takesValue: boolean;
  choices?: readonly string[];
  source?: ValueSource;
}

/** Flags whose values come from elsewhere, by name, suite-wide. */
const SOURCES: Record<string, ValueSource> = {
  kubeconfig: 'files',
  file: 'files',
  'from-file': 'files',
  bundle: 'files',
  'output-file': 'files',
  'ssh-key': 'files',
  'output-dir': 'dirs',
  context: 'contexts',
  namespace: 'namespaces',
};

/** The flags a command declares: its builder runs against a yargs instance that records each option. */
export function flagSpecs(command: PluginCommand<unknown> | undefined, overrides: Record<string, ValueSource> = {}): FlagSpec[] {
  const seen = new Map<string, Options>();
  const y = yargs();
  const record = (key: unknown, opt?: Options) => {
    if (typeof key === 'string') seen.set(key, { ...(seen.get(key) ?? {}), ...(opt ?? {}) });
  };
  for (const method of ['option', 'options'] as const) {
    const original = (y as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!.bind(y);
    (y as unknown as Record<string, unknown>)[method] = (key: unknown, opt?: Options) => {
      record(key, opt);
      return original(key, opt);
    };
  }
  const positionals = new Set<string>();
  const positional = (y as unknown as Record<string, (...a: unknown[]) => unknown>).positional!.bind(y);
  (y as unknown as Record<string, unknown>).positional = (key: string, opt: unknown) => {
    positionals.add(key);
    return positional(key, opt);
  };
  withCommonFlags(y as Argv);
  record('help', { alias: 'h', type: 'boolean', describe: 'Show help' });
  command?.builder(y as Argv);
  return [...seen.entries()]
    .filter(([key, o]) => !o.hidden && !positionals.has(key))
    .map(([key, o]) => {
      const aliases = (Array.isArray(o.alias) ? o.alias : o.alias ? [o.alias] : []).filter((a) => !/[A-Z]/.test(a));
      const choices = (o.choices as readonly string[] | undefined) ?? (o.coerce as { choices?: readonly string[] } | undefined)?.choices;
      return {
        key,
        names: [key, ...aliases].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)),
        describe: String(o.describe ?? '').split('\n')[0]!.replace(/\s+/g, ' '),
        takesValue: o.type !== 'boolean' && o.type !== 'count',
        ...(choices ? { choices } : {}),
        ...((overrides[key] ?? SOURCES[key]) ? { source: overrides[key] ?? SOURCES[key] } : {}),
      };
    });
}

export interface CompletionInput {
  /** The words before the one being completed. */
  args: string[];
  toComplete: string;
  flags: FlagSpec[];
  /** Positional words offered while none is typed yet (a plugin's subcommands, say). */
  words?: string[];
  /** Values for a dynamic source; undefined when unavailable (no kubeconfig, too slow). */
  values: (source: ValueSource, args: string[]) => Promise<string[] | undefined>;
}

const byPrefix = (prefix: string) => (v: string) => v.startsWith(prefix);

export async function complete(input: CompletionInput): Promise<Completion> {
  const { args, toComplete, flags } = input;
  const flagNamed = (name: string) => flags.find((f) => f.names.includes(name));
  const valuesOf = async (flag: FlagSpec, prefix: string, withName = ''): Promise<Completion> => {
    if (flag.choices) return { values: flag.choices.filter(byPrefix(prefix)).map((c) => withName + c), directive: Directive.noFileComp };
    if (flag.source === 'files') return { values: [], directive: Directive.default };
    if (flag.source === 'dirs') return { values: [], directive: Directive.filterDirs };
    const found = flag.source ? await input.values(flag.source, args) : undefined;
    return { values: (found ?? []).filter(byPrefix(prefix)).map((v) => withName + v), directive: Directive.noFileComp };
  };

  if (toComplete.startsWith('-')) {
    const eq = toComplete.indexOf('=');
    if (eq !== -1) {
      const flag = flagNamed(toComplete.slice(0, eq));
      return flag?.takesValue ? valuesOf(flag, toComplete.slice(eq + 1), toComplete.slice(0, eq + 1)) : { values: [], directive: Directive.noFileComp };
    }
    const values = flags.flatMap((f) => f.names.filter((n) => n.startsWith(toComplete) && (toComplete.startsWith('--') ? n.startsWith('--') : true)).slice(0, 1).map((n) => (f.describe ? `${n}\t${f.describe}` : n)));
    return { values, directive: Directive.noFileComp };
  }
  const previous = args[args.length - 1];
  const pending = previous?.startsWith('-') && !previous.includes('=') ? flagNamed(previous) : undefined;
  if (pending?.takesValue) return valuesOf(pending, toComplete);
  const positionals = positionalWords(args, flags);
  if (positionals.length === 0 && input.words?.length) return { values: input.words.filter(byPrefix(toComplete)), directive: Directive.noFileComp };
  return { values: [], directive: Directive.noFileComp };
}

/** The words of `args` that are not flags or flag values. */
export function positionalWords(args: string[], flags: FlagSpec[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [...out, ...args.slice(i + 1)];
    if (a.startsWith('-') && a !== '-') {
      const f = flags.find((x) => x.names.includes(a));
      if (f?.takesValue && !a.includes('=')) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** The plugin's command that `args` select, and the words to offer when none is typed yet. */
export function commandFor(plugin: Plugin, args: string[]): { command?: PluginCommand<unknown>; words: string[] } {
  const root = plugin.commands.find((c) => c.command.startsWith('$0'));
  if (root) return { command: root, words: [] };
  const first = args.find((a) => !a.startsWith('-'));
  const command = plugin.commands.find((c) => [c.command.split(' ')[0], ...(c.aliases ?? [])].includes(first ?? ''));
  return { command, words: command ? [] : plugin.commands.map((c) => c.command.split(' ')[0]!) };
}
