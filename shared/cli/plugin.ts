// The contract between a plugin and the shared runner. A plugin's command.ts declares PluginCommands (the yargs
// parts plus a reference to run), its run.ts implements `run(ctx, args)`, and its main.ts hands the Plugin to
// runPlugin.
import type { Argv } from 'yargs';
import type { ValueSource } from './completion.ts';
import type { DryRun } from './flags.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../output/logger.ts';
import type { Step } from '../output/step.ts';
import type { PrintableObject } from '../output/printer.ts';

export interface PluginContext {
  readonly log: Logger;
  /** Wraps a slow step in a spinner (terminal) or a "✔ outcome" line (pipes, CI). */
  readonly step: Step;
  readonly dryRun: DryRun;
  /**
   * -n, else the kubeconfig context's namespace, else "default". Reads the kubeconfig but not the network.
   * With `offline` (a command that will not talk to the cluster), a missing kubeconfig means "default".
   */
  namespace(options?: { offline?: boolean }): string;
  /** The contents of a file the user named; "-" is standard input. Failures are DataErrors naming the file. */
  readFile(file: string): string;
  /** An environment variable; only for flags that say they read one (e.g. --network-from-env). */
  getenv(name: string): string | undefined;
  /** The addresses a host name resolves to, IPv4 first. */
  lookup(host: string): Promise<string[]>;
  /** The API client, created on first use. */
  kube(): KubeClient;
  /** This run's command line (`kubectl vm add-to-mesh external-service …`), shell-quoted: what "run it again" means. */
  readonly commandLine: string;
  now(): Date;
  /** The user's home directory and environment (for ~/.ssh and SSH_AUTH_SOCK, say). */
  readonly home: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The directory of the running executable, symlinks resolved; undefined in in-process tests. */
  readonly selfDir: string | undefined;
  /** Asks for a secret on the terminal without echo; undefined when there is no terminal to ask on. */
  promptSecret(question: string): Promise<string | undefined>;
}

export interface Result {
  /** The objects the command created, changed, deleted or would create; -o prints these. */
  objects?: PrintableObject[];
  /** Human-readable lines printed to stdout when -o is not given. */
  summary?: string[];
  /** Lines for stderr printed after the data, e.g. a closing "what needs attention" digest under a table. */
  trailer?: string[];
  exitCode?: number;
}

export interface PluginCommand<A> {
  /** The yargs command string, e.g. `external-service [name] [ips] [ports..]`. */
  command: string;
  aliases?: string[];
  describe: string;
  builder: (y: Argv) => Argv<A>;
  run: (ctx: PluginContext, args: A) => Promise<Result>;
}

export interface Plugin {
  /** The words after `kubectl vm`, e.g. `add-to-mesh`. */
  name: string;
  /** One line, shown by `kubectl vm` in its list of commands. */
  describe: string;
  /** The plugin's own subcommands (e.g. external-service), or one command whose string starts with `$0`. */
  commands: PluginCommand<any>[];
  /** Where the values of this plugin's own flags come from, for shell completion (e.g. --name: workloadgroups). */
  completions?: Record<string, ValueSource>;
}

export function defineCommand<A>(command: PluginCommand<A>): PluginCommand<A> {
  return command;
}
