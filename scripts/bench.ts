// `npm run bench`: start-up time and end-to-end time against the test API server, as medians of interleaved
// runs and as multiples of `node -e 0` measured in the same run, plus the API requests each command sends.
// Timings live here and never in the tests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestApiServer } from '../test/apiserver/server.ts';
import fs from 'node:fs';
import { DIST } from '../test/helpers/run.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 31);

function time(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: code ?? 1 }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }] });
const home = tempDir('kubectl-vm-bench-');
const kubeconfig = server.writeKubeconfig(path.join(home, 'kubeconfig'));
const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
const addToMesh = path.join(DIST, 'kubectl-vm-add_to_mesh');
const removeFromMesh = path.join(DIST, 'kubectl-vm-remove_from_mesh');

const cold = { ...env, KUBECTL_VM_CACHE_DIR: 'off' };
const samples: Record<string, number[]> = { node: [], help: [], helpCold: [], router: [], add: [], addCold: [], remove: [] };
for (let i = 0; i < RUNS; i++) {
  samples.node!.push((await time(process.execPath, ['-e', '0'], env)).ms);
  samples.help!.push((await time(addToMesh, ['--help'], env)).ms);
  samples.helpCold!.push((await time(addToMesh, ['--help'], cold)).ms);
  samples.router!.push((await time(path.join(DIST, 'kubectl-vm'), ['add-to-mesh', '--help'], env)).ms);
  const add = await time(addToMesh, ['es', `svc-${i}`, '10.0.0.5', 'http:8080', '-n', 'bench'], env);
  if (add.code !== 0) throw new Error(`add-to-mesh failed with exit code ${add.code}`);
  samples.add!.push(add.ms);
  samples.addCold!.push((await time(addToMesh, ['es', `cold-${i}`, '10.0.0.5', 'http:8080', '-n', 'bench'], cold)).ms);
  const remove = await time(removeFromMesh, ['es', `svc-${i}`, '-n', 'bench'], env);
  if (remove.code !== 0) throw new Error(`remove-from-mesh failed with exit code ${remove.code}`);
  samples.remove!.push(remove.ms);
}

server.clearRequests();
await time(addToMesh, ['es', 'counted', '10.0.0.5', 'http:8080', '-n', 'bench'], env);
const addRequests = server.requests.length;
server.clearRequests();
await time(addToMesh, ['es', 'counted', '10.0.0.5', 'http:8080', '-n', 'bench'], env);
const rerunRequests = server.requests.length;
server.clearRequests();
await time(removeFromMesh, ['es', 'counted', '-n', 'bench'], env);
const removeRequests = server.requests.length;
await server.close();

const base = median(samples.node!);
const row = (label: string, key: string, target?: number) => {
  const m = median(samples[key]!);
  const ratio = m / base;
  const verdict = target === undefined ? '' : ratio <= target ? `  ok (target ≤ ${target}×)` : `  MISSED (target ≤ ${target}×)`;
  return `${label.padEnd(46)} ${m.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2).padStart(5)}×${verdict}`;
};
console.log(`kubectl-vm benchmark: medians of ${RUNS} interleaved runs, Node ${process.version}`);
console.log(row('node -e 0', 'node'));
console.log(row('kubectl-vm-add_to_mesh --help', 'help', 1.5));
console.log(row('  the same without the V8 code cache', 'helpCold'));
console.log(row('kubectl-vm add-to-mesh --help (router)', 'router'));
console.log(row('add-to-mesh against the test API server', 'add', 2));
console.log(row('  the same without the V8 code cache', 'addCold'));
console.log(row('remove-from-mesh against the test API server', 'remove'));
console.log(`API requests: add-to-mesh ${addRequests} (istioctl sends 6), re-run ${rerunRequests}, remove-from-mesh ${removeRequests}`);

// Fleet: workload-entry configure for 1,000 WorkloadGroups in 10 namespaces, selected by label across
// namespaces. Targets (issue 3): at most 10 s, and at most (namespaces × 3) + 1,000 + 1 API requests.
const FLEET = Number(process.env.BENCH_FLEET ?? 1000);
const NAMESPACES = 10;
const fleetSeed: Record<string, unknown>[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: '{"global":{"multiCluster":{"clusterName":"cluster1"}}}' } },
];
for (let n = 0; n < NAMESPACES; n++) {
  const ns = `fleet-${n}`;
  fleetSeed.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': 'CERT' } });
  fleetSeed.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm', namespace: ns } });
}
for (let i = 0; i < FLEET; i++) {
  fleetSeed.push({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: `wg-${i}`, namespace: `fleet-${i % NAMESPACES}`, labels: { fleet: 'bench' } }, spec: { template: { serviceAccount: 'vm', ports: { http: 8080 } } } });
}
const fleetServer = await TestApiServer.start({ seed: fleetSeed as never });
const fleetHome = tempDir('kubectl-vm-bench-fleet-');
const fleetEnv = { ...process.env, HOME: fleetHome, KUBECONFIG: fleetServer.writeKubeconfig(path.join(fleetHome, 'kubeconfig')), NO_COLOR: '1' };
const outDir = path.join(fleetHome, 'out');
fleetServer.clearRequests();
const fleetRun = await time(path.join(DIST, 'kubectl-vm-workload_entry-configure'), ['-l', 'fleet=bench', '-A', '--output-dir', outDir, '--ingress-ip', '192.0.2.10'], fleetEnv);
const fleetRequests = fleetServer.requests.length;
await fleetServer.close();
if (fleetRun.code !== 0) throw new Error(`workload-entry configure failed with exit code ${fleetRun.code}`);
const bundles = fs.readdirSync(outDir).reduce((n, ns) => n + fs.readdirSync(path.join(outDir, ns)).length, 0);
const budget = NAMESPACES * 3 + FLEET + 1;
console.log(
  `workload-entry configure, ${FLEET} WorkloadGroups in ${NAMESPACES} namespaces: ${(fleetRun.ms / 1000).toFixed(2)} s` +
    ` (target ≤ 10 s: ${fleetRun.ms <= 10_000 ? 'ok' : 'MISSED'}), ${fleetRequests} API requests (budget ${budget}: ${fleetRequests <= budget ? 'ok' : 'MISSED'}), ${bundles} bundles written`,
);

// register: 1,000 addresses in one call (issue 5: at most 2 s), into a new Service and into one that already
// has 1,000; then deregister them all. Medians of a few runs, each on its own Service.
const REGISTER_RUNS = Math.min(RUNS, 7);
const regServer = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }] });
const regHome = tempDir('kubectl-vm-bench-register-');
const regEnv = { ...process.env, HOME: regHome, KUBECONFIG: regServer.writeKubeconfig(path.join(regHome, 'kubeconfig')), NO_COLOR: '1' };
const ipsFile = (from: number) => {
  const file = path.join(regHome, `ips-${from}.txt`);
  fs.writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `10.${(from + i) >> 16}.${((from + i) >> 8) & 255}.${(from + i) & 255}`).join('\n') + '\n');
  return file;
};
const [firstThousand, secondThousand] = [ipsFile(0), ipsFile(1000)];
const register = path.join(DIST, 'kubectl-vm-register');
const deregister = path.join(DIST, 'kubectl-vm-deregister');
const reg: Record<string, number[]> = { create: [], grow: [], remove: [] };
const regRequests: Record<string, number> = {};
for (let i = 0; i < REGISTER_RUNS; i++) {
  for (const [key, cmd, args] of [
    ['create', register, [`vmsvc-${i}`, 'http:8080', '--from-file', firstThousand]],
    ['grow', register, [`vmsvc-${i}`, 'http:8080', '--from-file', secondThousand]],
    ['remove', deregister, [`vmsvc-${i}`, '--from-file', firstThousand, '--from-file', secondThousand, '--delete-service-when-empty']],
  ] as [string, string, string[]][]) {
    regServer.clearRequests();
    const r = await time(cmd, [...args, '-n', 'bench'], regEnv);
    if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed with exit code ${r.code}`);
    reg[key]!.push(r.ms);
    regRequests[key] = regServer.requests.length;
  }
}
await regServer.close();
const regLine = (label: string, key: string, target?: number) => {
  const m = median(reg[key]!);
  return `${label}: ${(m / 1000).toFixed(2)} s${target ? ` (target ≤ ${target} s: ${m <= target * 1000 ? 'ok' : 'MISSED'})` : ''}, ${regRequests[key]} API requests`;
};
console.log(regLine('register 1,000 addresses into a new Service', 'create', 2));
console.log(regLine('register 1,000 more (a second slice)', 'grow', 2));
console.log(regLine('deregister all 2,000 and delete the Service', 'remove'));

// onboard: a fleet of 4 VMs (4 real sshd on loopback with fake systemctl/dpkg), the first onboarding at
// --concurrency 4 and 1, then the unchanged re-run; wall time and API requests per run.
const { startSshd, SSHD } = await import('../test/helpers/sshd.ts');
if (SSHD) {
  const first = await startSshd({ root: true });
  const key = first.key;
  const vms = [first, ...(await Promise.all([1, 2, 3].map(() => startSshd({ root: true, extraAuthorizedKey: fs.readFileSync(`${key}.pub`, 'utf8').trim() }))))];
  const obHome = tempDir('kubectl-vm-bench-onboard-');
  fs.mkdirSync(path.join(obHome, '.ssh'), { mode: 0o700 });
  fs.writeFileSync(path.join(obHome, '.ssh', 'known_hosts'), vms.map((v) => `[127.0.0.1]:${v.port} ${v.hostPublicKey}\n`).join(''));
  for (const v of vms) v.setPackage('istio-sidecar', true);
  const obServer = await TestApiServer.start({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm', namespace: 'vm' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'vm' }, data: { 'root-cert.pem': 'CERT' } },
      { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'demo', namespace: 'vm' }, spec: { template: { serviceAccount: 'vm' } } },
      ...fleetSeed.slice(0, 2),
    ] as never,
  });
  const obEnv = { ...process.env, HOME: obHome, KUBECONFIG: obServer.writeKubeconfig(path.join(obHome, 'kubeconfig')), NO_COLOR: '1' };
  const onboardExe = path.join(DIST, 'kubectl-vm-onboard');
  const hostsFile = (suffix: string) => {
    const f = path.join(obHome, `vms-${suffix}.txt`);
    fs.writeFileSync(f, vms.map((v, i) => `${v.user}@127.0.0.1:${v.port} name=vm-${suffix}-${i}`).join('\n') + '\n');
    return f;
  };
  const line = async (label: string, suffix: string, concurrency: number) => {
    obServer.clearRequests();
    const r = await time(onboardExe, ['--hosts-file', hostsFile(suffix), '--group', 'demo', '-n', 'vm', '--gateway-address', '192.0.2.10', '--ssh-key', key, '--concurrency', String(concurrency)], obEnv);
    if (r.code !== 0) throw new Error(`onboard failed with exit code ${r.code}`);
    console.log(`${label.padEnd(60)} ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${obServer.requests.length} API requests`);
  };
  await line('onboard 4 VMs, first time, --concurrency 4', 'a', 4);
  await line('onboard the same 4 VMs again (unchanged), --concurrency 4', 'a', 4);
  await line('onboard 4 other VM names, first time, --concurrency 1', 'b', 1);
  // Day 2 on the same 4 VMs (the 4 'b' names): status, --probe at 4 and 1 at a time, rotate, offboard.
  const day2 = async (label: string, exe: string, args: string[]) => {
    obServer.clearRequests();
    const r = await time(path.join(DIST, exe), [...args, '-n', 'vm', '--ssh-key', key], obEnv);
    console.log(`${label.padEnd(60)} ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${obServer.requests.length} API requests, exit ${r.code}`);
  };
  const bNames = vms.map((_, i) => `vm-b-${i}`);
  await day2('status of 8 VMs (no SSH)', 'kubectl-vm-status', []);
  await day2('status --probe of 4 VMs, --concurrency 4', 'kubectl-vm-status', [...bNames, '--probe', '--concurrency', '4']);
  await day2('status --probe of 4 VMs, --concurrency 1', 'kubectl-vm-status', [...bNames, '--probe', '--concurrency', '1']);
  await day2('token rotate 4 VMs, --concurrency 4', 'kubectl-vm-token-rotate', [...bNames, '--concurrency', '4']);
  await day2('offboard 4 VMs, --concurrency 4', 'kubectl-vm-offboard', [...bNames, '--concurrency', '4']);
  await obServer.close();
  for (const v of vms) await v.close();
}
