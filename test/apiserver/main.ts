// Standalone mode: `npm run test-apiserver -- [--seed file.yaml]… [--port N] [--kubeconfig path] [--background]`.
// Starts the test API server, writes a kubeconfig that points at it, prints that kubeconfig's path on stdout,
// and serves until interrupted. With --background it starts itself as a detached process, prints the same path
// once that one serves, says on stderr which PID to kill, and returns.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSeed } from './seed.ts';
import { TestApiServer } from './server.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', multiple: true, default: [] },
    port: { type: 'string' },
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
    background: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npm run test-apiserver -- [--seed file.yaml]… [--port N] [--kubeconfig path] [--namespace ns]\n' +
      '       [--background]\n' +
      'Starts the kubectl-vm test API server on 127.0.0.1 and prints the path of a kubeconfig for it.\n' +
      'It serves in the foreground until Ctrl-C; --background returns once it serves and prints the PID to kill.\n',
  );
  process.exit(0);
}

if (values.background) {
  const args = process.argv.slice(1).filter((a) => a !== '--background');
  const child = spawn(process.execPath, [...process.execArgv, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const kubeconfig = await new Promise<string | undefined>((resolve) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', () => resolve(undefined));
  });
  if (!kubeconfig) {
    process.stderr.write(`the test API server did not start:\n${err}`);
    process.exit(1);
  }
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  process.stderr.write(`test API server running in the background, PID ${child.pid}; stop it with: kill ${child.pid}\n`);
  process.stderr.write(`use it with: export KUBECONFIG=${kubeconfig}\n`);
  process.stdout.write(`${kubeconfig}\n`);
  process.exit(0);
}

const seed = (values.seed as string[]).flatMap((file) => loadSeed(file));
const server = await TestApiServer.start({ seed, port: values.port ? Number(values.port) : undefined });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-vm-apiserver-'));
const kubeconfig = server.writeKubeconfig(values.kubeconfig ?? path.join(dir, 'kubeconfig'), { namespace: values.namespace });
// In the background its parent has gone and closed these pipes: a late write must not kill the server.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.stderr.write(`test API server listening on ${server.url} with ${seed.length} seeded objects\n`);
process.stderr.write(`use it with: export KUBECONFIG=${kubeconfig}\n`);
process.stdout.write(`${kubeconfig}\n`);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
