// Standalone mode: `npm run test-apiserver -- [--seed file.yaml]… [--port N] [--kubeconfig path]`.
// Starts the test API server, writes a kubeconfig that points at it, prints that kubeconfig's path on stdout,
// and serves until interrupted.
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
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npm run test-apiserver -- [--seed file.yaml]… [--port N] [--kubeconfig path] [--namespace ns]\n' +
      'Starts the kubectl-vm test API server on 127.0.0.1 and prints the path of a kubeconfig for it.\n',
  );
  process.exit(0);
}

const seed = (values.seed as string[]).flatMap((file) => loadSeed(file));
const server = await TestApiServer.start({ seed, port: values.port ? Number(values.port) : undefined });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-vm-apiserver-'));
const kubeconfig = server.writeKubeconfig(values.kubeconfig ?? path.join(dir, 'kubeconfig'), { namespace: values.namespace });
process.stderr.write(`test API server listening on ${server.url} with ${seed.length} seeded objects\n`);
process.stderr.write(`use it with: export KUBECONFIG=${kubeconfig}\n`);
process.stdout.write(`${kubeconfig}\n`);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
