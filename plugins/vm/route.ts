// Decides what `kubectl vm <args>` means: list the commands, print the version, or run a sibling executable.
// krew links only this router onto PATH, so it finds `kubectl-vm-<command>` next to its own real path. Like
// kubectl it tries the longest run of words first (`workload-entry configure` before `workload-entry`), and it
// lets kubectl's global flags come before the command: `kubectl vm -n prod add-to-mesh …`.
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { Directive, type Completion } from '../../shared/cli/complete-protocol.ts';
import { closest } from '../../shared/cli/suggest.ts';

export type Route =
  | { kind: 'completions'; completion: Completion }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; executable: string; args: string[] }
  | { kind: 'group'; group: string }
  | { kind: 'unknown'; command: string; parent?: string };

/** Global flags whose value is the next argument when not written as --flag=value. */
const VALUE_FLAGS = new Set(['-n', '--namespace', '--context', '--kubeconfig', '--cluster', '--user', '--request-timeout', '-o', '--output']);
const MAX_WORDS = 3;

export function route(argv: string[], exists: (executable: string) => boolean): Route {
  const words: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (VALUE_FLAGS.has(a)) i++;
      continue;
    }
    words.push(i);
    if (words.length === MAX_WORDS + 1) break;
  }
  if (words.length === 0) {
    if (argv.includes('--version')) return { kind: 'version' };
    return { kind: 'help' };
  }
  // `kubectl vm help add-to-mesh` is `kubectl vm add-to-mesh --help`.
  if (argv[words[0]!] === 'help') {
    const rest = argv.filter((_, i) => i !== words[0]);
    const inner = route(rest, exists);
    return inner.kind === 'run' ? { ...inner, args: [...inner.args, '--help'] } : inner;
  }
  for (let n = Math.min(words.length, MAX_WORDS); n >= 1; n--) {
    const used = words.slice(0, n);
    const executable = executableName(used.map((i) => argv[i]!).join(' '));
    if (exists(executable)) return { kind: 'run', executable, args: argv.filter((_, i) => !used.includes(i)) };
  }
  // A group of commands (`workload-group`, `ca-certs`): its help, or the word after it is the unknown one.
  const typed = words.map((i) => argv[i]!);
  for (let n = Math.min(typed.length, MAX_WORDS - 1); n >= 1; n--) {
    const group = typed.slice(0, n).join(' ');
    if (subcommands(group, exists).length === 0) continue;
    if (typed.length === n) return { kind: 'group', group };
    return { kind: 'unknown', command: typed[n]!, parent: group };
  }
  return { kind: 'unknown', command: typed[0]! };
}

/** The next words after `group` that make an installed command: `ca-certs` → create. */
function subcommands(group: string, exists: (executable: string) => boolean): string[] {
  return CATALOG.filter((e) => e.name.startsWith(`${group} `) && exists(executableName(e.name))).map((e) => e.name.slice(group.length + 1).split(' ')[0]!);
}

/** `kubectl vm ca-certs [--help]`: the commands of the group, as kubectl lists a command's subcommands. */
export function groupHelpText(group: string, exists: (executable: string) => boolean): string {
  const entries = CATALOG.filter((e) => e.name.startsWith(`${group} `) && exists(executableName(e.name)));
  const width = Math.max(...entries.map((e) => e.name.length - group.length - 1), 10) + 3;
  return [
    `kubectl vm ${group}: ${entries.length === 1 ? 'one command' : 'its commands'}`,
    '',
    'Usage:',
    `  kubectl vm ${group} <command> [flags]`,
    '',
    'Commands:',
    ...entries.map((e) => `  ${e.name.slice(group.length + 1).padEnd(width)}${e.describe}`),
    '',
    `Run "kubectl vm ${group} <command> --help" for the flags and examples of a command.`,
    '',
  ].join('\n');
}

export function helpText(version: string, exists: (executable: string) => boolean): string {
  const entries = CATALOG.filter((e) => exists(executableName(e.name)));
  const width = Math.max(...entries.map((e) => e.name.length), 10) + 3;
  return [
    `kubectl vm ${version}: bring virtual machines and bare-metal hosts into an Istio service mesh`,
    '',
    'Usage:',
    '  kubectl vm <command> [flags]',
    '',
    'Commands:',
    ...entries.map((e) => `  ${e.name.padEnd(width)}${e.describe}`),
    '',
    'Run "kubectl vm <command> --help" for the flags and examples of a command.',
    '',
  ].join('\n');
}

export function unknownCommandText(command: string, exists: (executable: string) => boolean, parent?: string): string {
  if (parent) {
    const subs = subcommands(parent, exists);
    const near = closest(command, subs);
    return [
      `error: unknown command "${command}" for "kubectl vm ${parent}"`,
      `hint: ${near ? `did you mean "kubectl vm ${parent} ${near}"? ` : ''}the commands of ${parent} are: ${subs.join(', ')}; see "kubectl vm ${parent} --help"`,
      '',
    ].join('\n');
  }
  const known = CATALOG.filter((e) => exists(executableName(e.name))).map((e) => e.name);
  const near = closest(command, [...new Set(known.map((k) => k.split(' ')[0]!))]);
  const nearName = near && known.find((k) => k === near || k.startsWith(`${near} `));
  return [
    `error: unknown command "${command}" for "kubectl vm"`,
    `hint: ${nearName ? `did you mean "kubectl vm ${nearName}"? ` : ''}the commands are: ${known.join(', ')}; see "kubectl vm --help"`,
    '',
  ].join('\n');
}

/**
 * `kubectl-vm __complete <args…> <word>`: while the command is not complete, its next word (without those that
 * kubectl lists itself, when it asks); once it is, the sibling completes its own arguments.
 */
export function completionRoute(argv: string[], exists: (executable: string) => boolean, listedByKubectl: (executable: string) => boolean): Route {
  const args = argv.slice(0, -1);
  const toComplete = argv[argv.length - 1] ?? '';
  const routed = route(args, exists);
  if (routed.kind === 'run') return { ...routed, args: [...routed.args, toComplete] };
  if (toComplete.startsWith('-')) return { kind: 'completions', completion: { values: ['--help', '--version'].filter((f) => f.startsWith(toComplete)), directive: Directive.noFileComp } };
  const typed = args.filter((a, i) => !a.startsWith('-') && !VALUE_FLAGS.has(args[i - 1] ?? ''));
  const next = new Set<string>();
  for (const e of CATALOG) {
    const words = e.name.split(' ');
    const exe = executableName(e.name);
    if (words.length <= typed.length || !exists(exe) || listedByKubectl(exe)) continue;
    if (typed.every((w, i) => words[i] === w) && words[typed.length]!.startsWith(toComplete)) next.add(words[typed.length]!);
  }
  return { kind: 'completions', completion: { values: [...next], directive: Directive.noFileComp } };
}
