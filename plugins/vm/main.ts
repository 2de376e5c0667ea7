// The router executable, kubectl-vm. It is the one file krew links onto PATH (reference/krew.md §0).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../shared/errors.ts';
import { VERSION } from '../../shared/kube/transport.ts';
import { COMPLETE, KUBECTL_COMPLETE, formatCompletion } from '../../shared/cli/complete-protocol.ts';
import { inProcessStarter } from '../../shared/cli/in-process.ts';
import { CLOSED_PIPE, onReaderGone } from '../../shared/output/io.ts';
import { completionRoute, groupHelpText, helpText, route, unknownCommandText } from './route.ts';

const here = path.dirname(fs.realpathSync(process.argv[1]!));
// The reader of stdout went away (`kubectl vm | head -1`): exit as a shell reports kubectl then.
onReaderGone(process.stdout, () => (process.exitCode = CLOSED_PIPE));
const exists = (name: string) => fs.existsSync(path.join(here, name));
const argv = process.argv.slice(2);
const completing = argv[0] === COMPLETE || argv[0] === KUBECTL_COMPLETE;
const listedByKubectl = argv[0] === KUBECTL_COMPLETE ? onPath : () => false;
const decision = completing ? completionRoute(argv.slice(1), exists, listedByKubectl) : route(argv, exists);

if (decision.kind === 'completions') process.stdout.write(formatCompletion(decision.completion));
else if (decision.kind === 'help') process.stdout.write(helpText(VERSION, exists));
else if (decision.kind === 'version') process.stdout.write(`kubectl-vm ${VERSION}\n`);
else if (decision.kind === 'group') process.stdout.write(groupHelpText(decision.group, exists));
else if (decision.kind === 'unknown') {
  process.stderr.write(unknownCommandText(decision.command, exists, decision.parent));
  process.exitCode = ExitCode.usage;
} else {
  const file = path.join(here, decision.executable);
  if (startsWith(file, '#!/usr/bin/env node')) {
    // A sibling of ours: run it in this very process, which passes arguments, streams, exit code and signals
    // through for free and spares a second Node start-up. In a build its code is already loaded (it is this
    // bundle); unbundled, the sibling file is loaded.
    process.argv = [process.argv[0]!, file, ...(completing ? [COMPLETE] : []), ...decision.args];
    const start = inProcessStarter();
    if (start) start(decision.executable);
    else require(file);
  } else {
    // The handlers go in before the spawn: the child can run (and be seen running) before spawn() returns, and a
    // signal that arrived in between would otherwise kill the router and leave the child behind.
    let child: ChildProcess | undefined;
    const forward = (signal: NodeJS.Signals) => child?.kill(signal);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
    child = spawn(file, [...(completing ? [COMPLETE] : []), ...decision.args], { stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      } else process.exitCode = code ?? ExitCode.general;
    });
  }
}

/** True when kubectl would find the executable on PATH itself (and so list it among its own completions). */
function onPath(executable: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, executable)));
}

function startsWith(file: string, prefix: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(prefix.length);
    return fs.readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString('utf8') === prefix;
  } finally {
    fs.closeSync(fd);
  }
}
