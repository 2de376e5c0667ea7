// The examples a user reads: every `kubectl vm …` line of a ```sh block in README.md, and every command under
// "Examples:" in an executable's --help. test/e2e/examples.test.ts runs them all.
//
// Conventions (documented in README.md § Testing):
// - An example is expected to exit 0. A trailing `# exits N` (README) or `exits N` in the comment line above it
//   (--help) says it exits with N instead; the test checks that code.
// - An example whose comment says `in fish` or `in zsh` runs in that shell; every other one runs in bash.
// - Preconditions every example can rely on (set up by the test, so no example needs a mark for them): the
//   cluster is a fresh test API server seeded with test/fixtures/seeds/istio-install.yaml; the working directory
//   holds the files of test/fixtures/examples/; `vm` (ssh vm, scp … vm:) and every WorkloadEntry's VM are the
//   test sshd, where sudo runs the command with its absolute paths under the VM's own root; istioctl checks that
//   it is given an IstioOperator and installs nothing.

export interface Example {
  /** Where it comes from: README.md:<line>, or `<executable> --help`. */
  source: string;
  /** The command line, as a user would type it. */
  command: string;
  /** Its comment: the README's trailing `# …`, or the `# …` line above it in --help. */
  comment: string;
  /** The exit code it is documented to end with. */
  exits: number;
  shell: 'bash' | 'fish' | 'zsh';
}

function finish(source: string, command: string, comment: string): Example {
  const exits = Number(/\bexits? (\d+)\b/.exec(comment)?.[1] ?? 0);
  const shell = (/\bin (fish|zsh)\b/.exec(comment)?.[1] ?? 'bash') as Example['shell'];
  return { source, command: command.trim(), comment: comment.trim(), exits, shell };
}

/** A trailing comment: `#` after whitespace, outside quotes. */
function splitComment(line: string): [command: string, comment: string] {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && i > 0 && /\s/.test(line[i - 1]!)) return [line.slice(0, i).trimEnd(), line.slice(i + 1).trim()];
  }
  return [line, ''];
}

const RUNS_KUBECTL_VM = /(^|[\s|&;(])kubectl vm(\s|$)/;

export function readmeExamples(markdown: string, file = 'README.md'): Example[] {
  const out: Example[] = [];
  const lines = markdown.split('\n');
  let fence: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const f = /^```(\S*)/.exec(line);
    if (f) {
      fence = fence === undefined ? f[1] : undefined;
      continue;
    }
    if (fence !== 'sh') continue;
    let text = line;
    const start = i;
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i]!.trim();
    const [command, comment] = splitComment(text);
    if (RUNS_KUBECTL_VM.test(command)) out.push(finish(`${file}:${start + 1}`, command, comment));
  }
  return out;
}

/**
 * The "Examples:" of one --help. Each example is a `# what it does` line and the command below it; yargs wraps
 * both at the help's width, so a comment runs until the first line that runs kubectl vm, and a command until the
 * next `#` line.
 */
export function helpExamples(help: string, source: string): Example[] {
  const at = help.indexOf('\nExamples:\n');
  if (at === -1) return [];
  const lines = help.slice(at + '\nExamples:\n'.length).split('\n');
  const out: Example[] = [];
  let comment: string | undefined;
  let command: string | undefined;
  const flush = () => {
    if (command !== undefined) out.push(finish(source, command, comment ?? ''));
    comment = command = undefined;
  };
  for (const raw of lines) {
    if (!raw.startsWith('  ')) break;
    const line = raw.trim();
    if (line.startsWith('#')) {
      flush();
      comment = line.slice(1).trim();
    } else if (command === undefined && (comment === undefined || RUNS_KUBECTL_VM.test(line))) command = line;
    else if (command === undefined) comment += ' ' + line;
    else command += ' ' + line;
  }
  flush();
  return out;
}

/** The subcommands a --help lists under "Commands:" (`kubectl vm add-to-mesh external-service [name] …`). */
export function helpSubcommands(help: string, displayName: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at === -1) return [];
  const out: string[] = [];
  for (const line of help.slice(at + 11).split('\n')) {
    if (!line.startsWith('  ')) break;
    const m = new RegExp(`^\\s+${displayName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ([a-z][a-z-]*)`).exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}
