// The bad-input matrix of issue 12: every command fed values a user gets wrong, each run as a real executable
// against a fresh test API server seeded with an Istio install, in a working directory of its own. A case is
// "refused cleanly" when it exits with the expected code (never 0, never 70) and message, prints no stack trace,
// sends no write that the server stored, and leaves the working directory exactly as it was. The totals are
// printed at the end, for the closing note:
//   bad inputs: N refused cleanly, N exit-0 acceptances, N stack traces, N changes
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { configMap, gatewayService, meshExpansionSeed, namespace, plainService, serviceAccount, workloadEntry } from '../helpers/builders.ts';
import { startCluster } from '../helpers/cluster.ts';
import { DIST, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { RecordedRequest } from '../apiserver/server.ts';

const test = suite('bad input: refused cleanly, every command');

const SEED = () => [
  ...meshExpansionSeed(),
  namespace('vm'),
  namespace('bar'),
  serviceAccount('bar', 'vm-serviceaccount'),
  configMap('bar', 'istio-ca-root-cert', { 'root-cert.pem': 'CERT' }),
  gatewayService('istio-system', 'istio-eastwestgateway', { ip: '192.0.2.11' }),
  { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'vmapp', namespace: 'bar' }, spec: { template: { serviceAccount: 'vm-serviceaccount' } } },
  workloadEntry('bar', 'vm1', '10.0.0.5', 'vm-serviceaccount'),
  plainService('vm', 'plain'),
];

/** [command words after `kubectl vm`, arguments, expected exit code, the first line of stderr]. */
type Case = [command: string, args: string[], code: number, first: RegExp];

// Paths inside each case's own working directory: `afile` is a regular file there (mode 0644).
const CASES: Case[] = [
  // add-to-mesh
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-a', 'novalue'], 64, /^error: invalid annotation "novalue": expected key=value$/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-l', 'app'], 64, /^error: invalid label "app": expected key=value$/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.300', 'http:8080', '-n', 'vm'], 64, /^error: invalid IP address "10\.0\.0\.300"/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:0', '-n', 'vm'], 64, /^error: invalid port "http:0"/],
  ['add-to-mesh', ['es', 'Bad_Name', '10.0.0.5', 'http:8080', '-n', 'vm'], 64, /^error: invalid service name "Bad_Name"/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '--ouput', 'yaml'], 64, /^error: unknown flag: --ouput$/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-o', 'yml'], 64, /^error: --output must be one of "yaml", "json", "name", not "yml"$/],
  ['add-to-mesh', ['externl-service', 'vmhttp', '10.0.0.5', 'http:8080'], 64, /^error: unknown resource type "externl-service"$/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'Bad NS'], 64, /^error: invalid namespace "Bad NS"/],
  ['add-to-mesh', ['es', 'vmhttp', '10.0.0.5', 'http:8080', '--request-timeout', 'soon'], 64, /^error: invalid --request-timeout "soon"/],
  // remove-from-mesh
  ['remove-from-mesh', ['es', 'plain', '-n', 'vm'], 1, /^error: Service vm\/plain is not managed by kubectl-vm .*, so it is not removed$/],
  ['remove-from-mesh', ['es'], 64, /^error: expecting external service name$/],
  // register, deregister
  ['register', ['vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm', '-a', 'novalue'], 64, /^error: invalid annotation "novalue": expected key=value$/],
  ['register', ['vmhttp', '10.0.0.999', '3306', '-n', 'vm'], 64, /^error: invalid IP address "10\.0\.0\.999"/],
  ['register', ['vmhttp', '10.0.0.5', 'http:99999', '-n', 'vm'], 64, /^error: invalid port "http:99999"/],
  ['deregister', ['vmhttp', 'not-an-ip', '-n', 'vm'], 64, /^error: invalid IP address "not-an-ip"/],
  // workload-group create
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--network', 'bad net!'], 64, /^error: invalid --network "bad net!"/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--network', 'bad net!', '--apply'], 64, /^error: invalid --network "bad net!"/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--locality', 'us-east1//b'], 64, /^error: invalid --locality "us-east1\/\/b": a part is empty$/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--locality', 'a/b/c/d'], 64, /^error: invalid --locality "a\/b\/c\/d": it has more than three parts/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--locality', 'bad zone!'], 64, /^error: invalid --locality "bad zone!"/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '--weight=abc'], 64, /^error: invalid --weight "abc"/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '-p', '8080'], 64, /^error: invalid port "8080": expected name=port$/],
  ['workload-group create', ['--name', 'wg', '-n', 'bar', '-a', 'novalue', '--apply'], 64, /^error: invalid annotation "novalue": expected key=value$/],
  ['workload-group create', ['--name', 'wg', '--netwrk', 'n1'], 64, /^error: unknown flag: --netwrk$/],
  ['workload-group delete', ['--name', 'wg'], 64, /^error: unknown command "delete" for "kubectl vm workload-group"$/],
  // the router
  ['regsiter', ['vmhttp'], 64, /^error: unknown command "regsiter" for "kubectl vm"$/],
  // eastwest-gateway
  ['eastwest-gateway', ['--ambient'], 64, /^error: --ambient needs --network/],
  ['eastwest-gateway', ['--network', 'bad net!'], 64, /^error: invalid --network "bad net!"/],
  ['eastwest-gateway', ['--single-cluster', '--network', 'n1'], 64, /^error: --single-cluster and --network exclude each other$/],
  ['eastwest-gateway', ['--network', 'n1', '--label-namespace', '-i', 'Bad'], 64, /^error: invalid namespace "Bad"/],
  // expose-istiod
  ['expose-istiod', ['--tls-mode', 'tls'], 64, /^error: --tls-mode must be one of/],
  ['expose-istiod', ['--gateway-selector', 'novalue'], 64, /^error: invalid label "novalue": expected key=value$/],
  // workload-entry configure
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '-o', 'yaml'], 64, /^error: -o yaml: workload-entry configure writes files, not Kubernetes objects/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--output-dir', 'afile'], 65, /^error: cannot write --output-dir afile: it is a file, not a directory$/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--output-dir', 'afile/sub'], 65, /^error: cannot write --output-dir afile\/sub: \S+\/afile is a file, not a directory$/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--bundle', 'missing/b.tgz'], 65, /^error: cannot write --bundle missing\/b\.tgz: the directory missing does not exist$/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--output-dir', '/sys/kubectl-vm-x'], 77, /^error: cannot write --output-dir \/sys\/kubectl-vm-x: permission denied/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'nosuchns', '--output-dir', 'out'], 1, /^error: namespace nosuchns not found$/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--ouput-dir', 'out'], 64, /^error: unknown flag: --ouput-dir$/],
  ['workload-entry configure', ['--name', 'vmapp', '-n', 'bar', '--output-dir', 'out', '--token-duration', '1m'], 64, /^error: invalid --token-duration "1m"/],
  ['workload-entry configure', ['-f', 'missing.yaml', '--output-dir', 'out'], 65, /^error: cannot read missing\.yaml: ENOENT$/],
  // ca-certs create
  ['ca-certs create', ['--ca-cert', 'missing.pem', '--ca-key', 'missing.pem', '--root-cert', 'missing.pem', '--cert-chain', 'missing.pem'], 65, /^error: cannot read missing\.pem/],
  ['ca-certs create', ['--ca-cert', 'afile', '--ca-key', 'afile', '--root-cert', 'afile', '--cert-chain', 'afile'], 65, /afile/],
  // mesh-expansion
  ['mesh-expansion keys', ['-n', 'bar', '--output-dir', 'afile'], 65, /^error: cannot write --output-dir afile: it is a file, not a directory$/],
  ['mesh-expansion keys', ['-n', 'bar', '-s', 'Bad SA', '--output-dir', 'out'], 64, /^error: invalid service account "Bad SA"/],
  ['mesh-expansion cluster-env', ['-i', 'nosuchns', '--output-dir', 'out', '--service-cidr', '10.96.0.0/12'], 1, /^error: namespace nosuchns not found$/],
  ['mesh-expansion cluster-env', ['--service-cidr', '10.96.0.1/12', '--output-dir', 'out'], 64, /^error: invalid --service-cidr "10\.96\.0\.1\/12"/],
  ['mesh-expansion cluster-env', ['--inbound-ports', '0', '--output-dir', 'out'], 64, /^error: invalid --inbound-ports "0"/],
  ['mesh-expansion cluster-env', ['--cp-auth', 'FOO', '--output-dir', 'out'], 64, /^error: --cp-auth must be one of/],
  ['mesh-expansion cluster-env', ['--output-dir', 'afile', '--service-cidr', '10.96.0.0/12'], 65, /^error: cannot write --output-dir afile: it is a file, not a directory$/],
  ['mesh-expansion', [], 0, /^$/], // the group alone lists its commands (kubectl does the same): not a bad input, kept as a check
  // expose-service, dns-stub
  ['expose-service', ['httpbin', '-n', 'bar', '-p', 'http:0'], 64, /^error: invalid port "http:0"/],
  ['expose-service', ['httpbin', '-n', 'bar', '--address-range', '10.0.0.0/40'], 64, /^error: invalid --address-range "10\.0\.0\.0\/40"/],
  ['dns-stub', ['--coredns-version', 'latest'], 64, /^error: invalid --coredns-version "latest"/],
  // sidecar-bootstrap
  ['sidecar-bootstrap', ['vm1', '-n', 'bar', '-o', 'yaml'], 64, /^error: -o yaml: sidecar-bootstrap copies files to VMs/],
  ['sidecar-bootstrap', ['vm1', '-n', 'bar', '--output-file', 'missing/x.tgz'], 65, /^error: cannot write --output-file missing\/x\.tgz: the directory missing does not exist$/],
  ['sidecar-bootstrap', ['vm1', '-n', 'bar', '--output-dir', 'afile'], 65, /^error: cannot write --output-dir afile: it is a file, not a directory$/],
  ['sidecar-bootstrap', ['vm1', '-n', 'bar', '--ssh-port', '0'], 64, /^error: invalid --ssh-port "0"/],
  ['sidecar-bootstrap', ['vm1', '-n', 'bar', '--duration', '1m'], 64, /^error: invalid --duration "1m"/],
  // completion
  ['completion', ['powershell'], 64, /^error: unsupported shell "powershell": expected "bash", "zsh", "fish", "kubectl-hook"$/],
  ['completion', ['bash', '--bogus'], 64, /^error: unknown flag: --bogus$/],
];

/** The working directory as a map path → kind, mode and content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      const s = fs.lstatSync(p);
      out[path.relative(dir, p)] = s.isDirectory() ? `dir ${s.mode & 0o7777}` : `file ${s.mode & 0o7777} ${fs.readFileSync(p, 'utf8')}`;
      if (s.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** A write the server stored: a mutating request answered 2xx that was not a dry run. */
const stored = (r: RecordedRequest) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && r.status >= 200 && r.status < 300 && !/All/.test(String(r.query?.dryRun ?? ''));

/** Every object the test API server stores, as one string (the store is private: this is a test's look inside). */
const everything = (server: object) => JSON.stringify([...((server as unknown as { store: Map<string, unknown> }).store.entries())]);

const totals = { cases: 0, refused: 0, acceptedExit0: 0, stackTraces: 0, changes: 0 };
const problems: string[] = [];

test('every bad input is refused with its exit code and a message naming the value; no stack trace, no change', async () => {
  const cluster = await startCluster({ forceTestServer: true, seed: SEED() });
  try {
    for (const [command, args, code, first] of CASES) {
      const cwd = tempDir();
      fs.writeFileSync(path.join(cwd, 'afile'), 'hi\n');
      fs.chmodSync(path.join(cwd, 'afile'), 0o644);
      const before = snapshot(cwd);
      const server = cluster.server!;
      const objectsBefore = everything(server);
      server.clearRequests();
      const o = await run(path.join(DIST, 'kubectl-vm'), [...command.split(' '), ...args], { env: cluster.env, cwd });
      const label = `kubectl vm ${command} ${args.join(' ')}`;
      const trace = /^\s+at .+:\d+:\d+\)?$/m.test(o.stderr) || /this is a bug/.test(o.stderr) || o.code === 70;
      const changed = server.requests.some(stored) || JSON.stringify(snapshot(cwd)) !== JSON.stringify(before) || everything(server) !== objectsBefore;
      const firstLine = o.stderr.split('\n')[0] ?? '';
      if (code === 0) {
        // Not a bad input: checked for its exit code only, not counted.
        if (o.code !== 0) problems.push(`${label}\n  exit ${o.code} (want 0)\n  ${o.stderr.trim()}`);
        continue;
      }
      totals.cases++;
      if (o.code === 0) totals.acceptedExit0++;
      if (trace) totals.stackTraces++;
      if (changed) totals.changes++;
      const clean = o.code === code && first.test(firstLine) && !trace && !changed && /^hint: /m.test(o.stderr);
      if (clean) totals.refused++;
      else problems.push(`${label}\n  exit ${o.code} (want ${code})${changed ? ', CHANGED something' : ''}${trace ? ', STACK TRACE' : ''}\n  ${o.stderr.trim().split('\n').join('\n  ')}`);
    }
  } finally {
    await cluster.close();
  }
  console.log(`\nbad inputs: ${totals.refused} of ${totals.cases} refused cleanly, ${totals.acceptedExit0} exit-0 acceptances, ${totals.stackTraces} stack traces, ${totals.changes} changes`);
  assert.equal(problems, [], problems.join('\n'));
  assert.is(totals.refused, totals.cases);
});

test.run();
