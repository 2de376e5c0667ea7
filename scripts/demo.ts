// `npm run demo`: the main job of kubectl-vm, end to end, against the embedded test API server seeded with an
// Istio-like install. It runs the same commands a user would type, through the real kubectl, and shows them.
import path from 'node:path';
import { loadSeed } from '../test/apiserver/seed.ts';
import { TestApiServer } from '../test/apiserver/server.ts';
import { DIST, ROOT, run } from '../test/helpers/run.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);

const server = await TestApiServer.start({ seed: loadSeed(path.join(ROOT, 'test/fixtures/seeds/istio-install.yaml')) });
const home = tempDir('kubectl-vm-demo-');
const kubeconfig = server.writeKubeconfig(path.join(home, '.kube', 'config'));
const env = { ...process.env, PATH: `${DIST}:${process.env.PATH}`, HOME: home, KUBECONFIG: kubeconfig };
let failed = 0;

async function step(comment: string, command: string[], expectCode = 0): Promise<void> {
  process.stdout.write(`\n${bold(`# ${comment}`)}\n$ ${command.join(' ')}\n`);
  const before = server.requests.length;
  const r = await run(command[0]!, command.slice(1), { env });
  // Progress lines (stderr) come while a command runs, its summary (stdout) at the end.
  process.stdout.write(r.stderr);
  process.stdout.write(r.stdout);
  if (command[1] === 'vm' && command.length > 2) process.stdout.write(`(${server.requests.length - before} API requests)\n`);
  if (r.code !== expectCode) {
    failed++;
    process.stdout.write(`!! expected exit code ${expectCode}, got ${r.code}\n`);
  }
}

process.stdout.write(`kubectl-vm demo: a test API server at ${server.url}, seeded with an Istio-like install\n`);
await step('The cluster: Istio in istio-system, with an east-west gateway', ['kubectl', 'get', 'services', '-n', 'istio-system']);
await step('The kubectl-vm commands, found by kubectl on PATH', ['kubectl', 'vm']);
await step('A service runs on a VM at 10.0.0.5, port 8080: put it into the mesh', ['kubectl', 'vm', 'add-to-mesh', 'external-service', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-l', 'app=vmhttp,version=v1']);
await step('It now has a Service and a ServiceEntry', ['kubectl', 'get', 'services,serviceentries', '-n', 'vm']);
await step('The ServiceEntry points at the VM, with its labels and identity', ['kubectl', 'get', 'serviceentry', 'mesh-expansion-vmhttp', '-n', 'vm', '-o', 'yaml']);
await step('Running it again changes nothing', ['kubectl', 'vm', 'add-to-mesh', 'external-service', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-l', 'app=vmhttp,version=v1']);
await step('A second VM joins: the ServiceEntry is updated in place', ['kubectl', 'vm', 'add-to-mesh', 'es', 'vmhttp', '10.0.0.5,10.0.0.6', 'http:8080', '-n', 'vm', '-l', 'app=vmhttp,version=v1']);
await step('Bad input is refused before anything is sent', ['kubectl', 'vm', 'add-to-mesh', 'es', 'vmhttp', '10.0.0.500', 'http:8080', '-n', 'vm'], 64);
await step('Take it out of the mesh again', ['kubectl', 'vm', 'remove-from-mesh', 'external-service', 'vmhttp', '-n', 'vm']);
await step('Nothing is left behind', ['kubectl', 'get', 'services,serviceentries', '-n', 'vm']);

process.stdout.write(`\n${failed === 0 ? 'demo finished: every step did what it should' : `demo FAILED: ${failed} step(s) went wrong`}\n`);
process.stdout.write('Try it yourself: npm run test-apiserver -- --seed test/fixtures/seeds/istio-install.yaml, then export the KUBECONFIG it prints.\n');
await server.close();
process.exitCode = failed === 0 ? 0 : 1;
