// Issue 12 §1 and §2 against the built executables: no command hangs on a terminal without a size, signals end
// every command at once with 130/143 and no temp file, and output paths are refused before any request or token,
// with the user's file left exactly as it was.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { configMap, gatewayService, namespace, serviceAccount } from '../helpers/builders.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { DIST, ROOT, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runCase } from '../helpers/transcript.ts';

const test = suite('hardening: no hang, signals, output paths');

const CONFIGURE = 'kubectl-vm-workload_entry-configure';
const KEYS = 'kubectl-vm-mesh_expansion-keys';
const ENV = 'kubectl-vm-mesh_expansion-cluster_env';
const BOOTSTRAP = 'kubectl-vm-sidecar_bootstrap';

const ISTIO = () => [
  namespace('bar'),
  serviceAccount('bar', 'vm-serviceaccount'),
  configMap('bar', 'istio-ca-root-cert', { 'root-cert.pem': 'CERT' }),
  configMap('istio-system', 'istio', { mesh: 'defaultConfig: {}\n' }),
  configMap('istio-system', 'istio-sidecar-injector', { values: '{"global":{"multiCluster":{"clusterName":"c1"}}}' }),
  gatewayService('istio-system', 'istio-eastwestgateway', { ip: '192.0.2.10' }),
];
const WG = 'apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: vmapp\n  namespace: bar\nspec:\n  template:\n    serviceAccount: vm-serviceaccount\n';
function wgFile(): string {
  const f = path.join(tempDir(), 'wg.yaml');
  fs.writeFileSync(f, WG);
  return f;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a command line under a real pseudo-terminal (util-linux script) with the given size; kills it after `limitMs`. */
function underPty(command: string[], size: { cols: number; rows: number }, env: Record<string, string | undefined>, limitMs: number) {
  const line = `stty cols ${size.cols} rows ${size.rows}; exec ${command.map(shellQuote).join(' ')}`;
  return new Promise<{ code: number | null; output: string; timedOut: boolean }>((resolve) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (d: Buffer) => {
      if (output.length < 1_000_000) output += d.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

test('§1: a spinner command under a 0×0 pseudo-terminal ends, with plain "✔" lines and its exit code', async () => {
  const cluster = await startCluster({ forceTestServer: true, seed: [namespace('istio-system')] });
  try {
    const out = path.join(tempDir(), 'vm');
    const args = [path.join(DIST, ENV), '--output-dir', out, '--ingress-ip', '192.0.2.7'];
    const env = { ...cluster.env, TERM: 'xterm' };
    const zero = await underPty(args, { cols: 0, rows: 0 }, env, 20_000);
    assert.not.ok(zero.timedOut, `hung: ${zero.output.slice(0, 300)}`);
    assert.is(zero.code, 0, zero.output);
    assert.match(zero.output, /✔ Service CIDR .* \(from a server-side dry run\)/, zero.output);
    assert.not.match(zero.output, /\x1b\[1A/, 'no line clearing: no spinner');
    assert.ok(fs.existsSync(path.join(out, 'cluster.env')));
    // The same command on a terminal with a size does show the spinner, so the case above is a real one.
    const sized = await underPty([...args.slice(0, 2), path.join(tempDir(), 'vm2'), ...args.slice(3)], { cols: 80, rows: 24 }, env, 20_000);
    assert.is(sized.code, 0, sized.output);
    assert.match(sized.output, /\x1b\[\?25l/, 'the spinner hides the cursor');
    // A failing spinner command under 0×0 ends too, with its code.
    const failing = await underPty([path.join(DIST, ENV), '--output-dir', path.join(tempDir(), 'vm3'), '-n', 'nope', '--ingress-ip', '192.0.2.7'], { cols: 0, rows: 0 }, env, 20_000);
    assert.not.ok(failing.timedOut);
    assert.is(failing.code, 1, failing.output);
  } finally {
    await cluster.close();
  }
});

/** Spawns `argv`, waits until the API server has received a request matching `waitFor`, sends `signal`. */
async function interrupt(cluster: Cluster, argv: string[], waitFor: RegExp, signal: NodeJS.Signals) {
  const child = spawn(argv[0]!, argv.slice(1), { env: cluster.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdout.resume();
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  const deadline = Date.now() + 15_000;
  while (!cluster.server!.requests.some((r) => waitFor.test(r.path)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(Date.now() < deadline, `never reached ${waitFor}: ${stderr}`);
  const sent = Date.now();
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  const result = await closed;
  clearTimeout(killer);
  return { ...result, stderr, ms: Date.now() - sent };
}

test('§1: SIGTERM and SIGINT end a command waiting on a slow API server at once, 143 and 130, leaving no file behind', async () => {
  for (const [signal, code, via] of [
    ['SIGTERM', 143, 'plugin'],
    ['SIGINT', 130, 'plugin'],
    ['SIGTERM', 143, 'router'],
  ] as const) {
    const cluster = await startCluster({ forceTestServer: true, seed: ISTIO() });
    try {
      cluster.server!.inject({ method: 'POST', path: /\/token$/, latencyMs: 60_000 });
      const parent = tempDir();
      const out = path.join(parent, 'out');
      const argv = via === 'router' ? [path.join(DIST, 'kubectl-vm'), 'workload-entry', 'configure'] : [path.join(DIST, CONFIGURE)];
      const r = await interrupt(cluster, [...argv, '-f', wgFile(), '--output-dir', out], /\/token$/, signal);
      // What a shell reports: 128 + the signal's number when the process ended by the signal.
      const status = r.code ?? 128 + os.constants.signals[r.signal!];
      assert.is(status, code, `${signal} via ${via}: ${r.code} ${r.signal} ${r.stderr}`);
      assert.ok(r.ms < 3000, `${signal} took ${r.ms} ms`);
      assert.match(r.stderr, new RegExp(`^error: interrupted by ${signal}$`, 'm'));
      assert.equal(fs.readdirSync(parent), [], 'no output directory, no temp file');
    } finally {
      await cluster.close();
    }
  }
});

test('§1: SIGTERM ends every command that talks to the cluster while it waits, with 143 and nothing written', async () => {
  const commands: string[][] = [
    ['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'bar'],
    ['remove-from-mesh', 'es', 'vmhttp', '-n', 'bar'],
    ['register', 'vmhttp', '10.0.0.5', '3306', '-n', 'bar'],
    ['deregister', 'vmhttp', '10.0.0.5', '-n', 'bar'],
    ['workload-group', 'create', '--name', 'wg', '-n', 'bar', '--apply'],
    ['eastwest-gateway', '--network', 'n1', '--label-namespace'],
    ['expose-istiod'],
    ['ca-certs', 'create', ...['ca-cert', 'ca-key', 'root-cert', 'cert-chain'].flatMap((f) => [`--${f}`, path.join(ROOT, 'test/fixtures/ca-certs', `${f}.pem`)])],
    ['mesh-expansion', 'keys', '-n', 'bar', '--output-dir', 'out'],
    ['mesh-expansion', 'cluster-env', '--output-dir', 'out'],
    ['expose-service', 'httpbin', '-n', 'bar'],
    ['dns-stub'],
    ['sidecar-bootstrap', 'vm1', '-n', 'bar', '--output-dir', 'out'],
  ];
  for (const command of commands) {
    const cluster = await startCluster({ forceTestServer: true, seed: ISTIO() });
    try {
      cluster.server!.inject({ path: /./, latencyMs: 60_000, times: 1000 });
      const cwd = tempDir();
      const before = fs.readdirSync(cwd);
      const child = spawn(path.join(DIST, 'kubectl-vm'), command, { env: cluster.env as NodeJS.ProcessEnv, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      const deadline = Date.now() + 15_000;
      while (cluster.server!.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const label = command.join(' ');
      if (cluster.server!.requests.length === 0) {
        // A command refused before it asks the cluster anything has nothing to wait for.
        const r = await closed;
        assert.unreachable(`${label} sent no request: exit ${r.code} ${stderr}`);
      }
      const sent = Date.now();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const r = await closed;
      clearTimeout(killer);
      assert.is(r.code ?? 128 + os.constants.signals[r.signal!], 143, `${label}: ${r.code} ${r.signal} ${stderr}`);
      assert.ok(Date.now() - sent < 3000, `${label} took ${Date.now() - sent} ms`);
      assert.equal(fs.readdirSync(cwd), before, `${label}: nothing written`);
    } finally {
      await cluster.close();
    }
  }
});

test('§2: --output-dir at a regular file is refused (65) naming it, before any request; the file is untouched', async () => {
  const cases: [string, string[]][] = [
    [CONFIGURE, ['-f', wgFile()]],
    [KEYS, ['-n', 'bar']],
    [ENV, ['--service-cidr', '10.96.0.0/12']],
    [BOOTSTRAP, ['vm1', '-n', 'bar']],
  ];
  for (const [exe, args] of cases) {
    const dir = tempDir();
    const file = path.join(dir, 'afile');
    fs.writeFileSync(file, 'hi\n');
    fs.chmodSync(file, 0o644);
    const o = await runCase(exe, [...args, '--output-dir', file], { seed: ISTIO() });
    await o.cluster.close();
    assert.is(o.code, 65, `${exe}: ${o.stderr}`);
    assert.is(o.stderr.split('\n')[0], `error: cannot write --output-dir ${file}: it is a file, not a directory`, exe);
    assert.is(o.requests.length, 0, `${exe}: no request`);
    assert.is(fs.statSync(file).mode & 0o777, 0o644, `${exe}: the mode is as it was`);
    assert.is(fs.readFileSync(file, 'utf8'), 'hi\n');
    assert.equal(fs.readdirSync(dir), ['afile']);
  }
});

test('§2: a file name taken by a directory in an existing --output-dir: refused before the token, contents and modes as before', async () => {
  const out = path.join(tempDir(), 'out');
  fs.mkdirSync(path.join(out, 'root-cert.pem'), { recursive: true });
  fs.writeFileSync(path.join(out, 'cluster.env'), 'OLD\n');
  fs.chmodSync(out, 0o755);
  fs.chmodSync(path.join(out, 'cluster.env'), 0o640);
  const before = JSON.stringify(fs.readdirSync(out).map((f) => [f, fs.statSync(path.join(out, f)).mode]));
  const o = await runCase(CONFIGURE, ['-f', wgFile(), '--output-dir', out], { seed: ISTIO() });
  await o.cluster.close();
  assert.is(o.code, 65, o.stderr);
  assert.match(o.stderr, new RegExp(`^error: cannot write --output-dir ${out}: ${out}/root-cert\\.pem exists and is not a regular file$`, 'm'));
  assert.not.ok(o.requests.some((r) => r.path.endsWith('/token')), 'no token minted');
  assert.is(JSON.stringify(fs.readdirSync(out).map((f) => [f, fs.statSync(path.join(out, f)).mode])), before);
  assert.is(fs.readFileSync(path.join(out, 'cluster.env'), 'utf8'), 'OLD\n');
});

test('§2: unwritable places (/sys/x, a file as parent, a missing archive parent) are refused naming the path, before a token', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'afile'), 'hi\n');
  const cases: [string, string[], number, RegExp][] = [
    [CONFIGURE, ['--output-dir', '/sys/kubectl-vm-x'], 77, /^error: cannot write --output-dir \/sys\/kubectl-vm-x: permission denied/],
    [CONFIGURE, ['--output-dir', path.join(dir, 'afile/sub')], 65, /^error: cannot write --output-dir \S+\/afile\/sub: \S+\/afile is a file, not a directory$/],
    [CONFIGURE, ['--bundle', path.join(dir, 'missing/b.tgz')], 65, /^error: cannot write --bundle \S+\/missing\/b\.tgz: the directory \S+\/missing does not exist$/],
    [BOOTSTRAP, ['--output-file', path.join(dir, 'missing/b.tgz')], 65, /^error: cannot write --output-file \S+\/missing\/b\.tgz: the directory \S+\/missing does not exist$/],
    [BOOTSTRAP, ['--output-dir', '/sys/kubectl-vm-x'], 77, /^error: cannot write --output-dir \/sys\/kubectl-vm-x: permission denied/],
    [KEYS, ['--output-dir', '/proc/kubectl-vm-x'], 65, /^error: cannot write --output-dir \/proc\/kubectl-vm-x/],
  ];
  for (const [exe, flags, code, message] of cases) {
    const args = exe === CONFIGURE ? ['-f', wgFile()] : exe === BOOTSTRAP ? ['vm1', '-n', 'bar'] : ['-n', 'bar'];
    const o = await runCase(exe, [...args, ...flags], { seed: ISTIO() });
    await o.cluster.close();
    assert.is(o.code, code, `${flags.join(' ')}: ${o.stderr}`);
    assert.match(o.stderr.split('\n')[0]!, message, o.stderr);
    assert.not.match(o.stderr, /\.kubectl-vm-|this is a bug/);
    assert.is(o.requests.length, 0, 'refused before the first request');
  }
  assert.equal(fs.readdirSync(dir), ['afile'], 'no parent created');
});

test('§2: a 0555 parent, as a user who is not root: refused (77) naming the path, nothing created', async () => {
  if (process.getuid?.() !== 0) return; // The case needs root to switch to "nobody"; as a user, the parent is already unwritable.
  const base = tempDir();
  fs.chmodSync(base, 0o755);
  const ro = path.join(base, 'ro');
  fs.mkdirSync(ro, { mode: 0o555 });
  fs.chmodSync(ro, 0o555);
  const target = path.join(ro, 'vm');
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(path.join(DIST, ENV), ['--output-dir', target, '--service-cidr', '10.96.0.0/12', '--ingress-ip', '192.0.2.7'], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH, HOME: base, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.is(result.code, 77, result.stderr);
  assert.is(result.stderr.split('\n')[0], `error: cannot write --output-dir ${target}: permission denied (in ${ro})`);
  assert.equal(fs.readdirSync(ro), []);
});

test('§4/§5: configure -n of a namespace that does not exist says so, instead of hinting to create the WorkloadGroup there', async () => {
  const o = await runCase(CONFIGURE, ['--name', 'vmapp', '-n', 'nosuchns', '--dry-run'], { seed: ISTIO() });
  await o.cluster.close();
  assert.is(o.code, 1, o.stderr);
  assert.is(o.stderr, 'error: namespace nosuchns not found\n  workloadgroup vmapp not found in namespace nosuchns\nhint: check -n; list the namespaces with: kubectl get namespaces\n');
});

test('§4: mesh-expansion cluster-env -i <a namespace the cluster does not have> is an error, and writes nothing', async () => {
  const out = path.join(tempDir(), 'vm');
  const o = await runCase(ENV, ['--output-dir', out, '-i', 'nosuchns', '--service-cidr', '10.96.0.0/12'], { seed: ISTIO() });
  await o.cluster.close();
  assert.is(o.code, 1, o.stderr);
  assert.match(o.stderr, /^error: namespace nosuchns not found\nhint: check --istio-namespace \(-i\)/m);
  assert.not.ok(fs.existsSync(out));
});

test('§6: --dry-run of keys, cluster-env and sidecar-bootstrap --output-dir/--output-file: what would be written, no token, nothing written', async () => {
  const parent = tempDir();
  const env = await runCase(ENV, ['--output-dir', path.join(parent, 'vm'), '--service-cidr', '10.96.0.0/12', '--ingress-ip', '192.0.2.7', '--dry-run']);
  await env.cluster.close();
  assert.is(env.code, 0, env.stderr);
  assert.is(
    env.stdout,
    `# would write into ${parent}/vm: (dry run)\n## ${parent}/vm/cluster.env (mode 0644, 93 bytes)\nISTIO_CP_AUTH=MUTUAL_TLS\nISTIO_SERVICE_CIDR=10.96.0.0/12\nISTIO_SYSTEM_NAMESPACE=istio-system\n## ${parent}/vm/hosts (mode 0644, 61 bytes)\n192.0.2.7 istio-citadel istio-pilot istio-pilot.istio-system\n`,
  );
  const seed = [...ISTIO(), configMap('istio-system', 'istio-ca-root-cert', { 'root-cert.pem': 'CERT' }), ingressForBootstrap(), workloadEntryFor('vm1')];
  const boot = await runCase(BOOTSTRAP, ['vm1', '-n', 'bar', '--gateway-service', 'istio-system/istio-ingressgateway', '--output-file', path.join(parent, 'vm1.tgz'), '--dry-run'], { seed });
  await boot.cluster.close();
  assert.is(boot.code, 0, boot.stderr);
  assert.match(boot.stdout, /^# would write the archive \S+\/vm1\.tgz with: \(dry run\)$/m);
  assert.match(boot.stdout, /^## etc\/istio-token \(mode 0600\): <token: not minted in a dry run>$/m);
  assert.not.ok(boot.requests.some((r) => r.method !== 'GET'), 'reads only');
  assert.equal(fs.readdirSync(parent), [], 'nothing written');
});

function ingressForBootstrap() {
  return { ...gatewayService('istio-system', 'istio-ingressgateway', { ip: '192.0.2.20' }), spec: { ports: [{ name: 'tls', port: 15443 }] } };
}
function workloadEntryFor(name: string) {
  return { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name, namespace: 'bar' }, spec: { address: '10.0.0.5', serviceAccount: 'vm-serviceaccount' } };
}

test('install.sh --help prints its usage, not its code', async () => {
  const { INSTALL_SH } = await import('../../shared/istio/bundle.ts');
  const file = path.join(tempDir(), 'install.sh');
  fs.writeFileSync(file, INSTALL_SH, { mode: 0o755 });
  const o = await run('bash', [file, '--help']);
  assert.is(o.code, 0, o.stderr);
  assert.not.match(o.stdout, /set -euo pipefail/);
  assert.match(o.stdout, /^ {2}sudo \.\/install\.sh \[--runtime systemd\|docker\] \[--dir DIR\] \[--start\]$/m);
  assert.ok(o.stdout.trim().split('\n').length >= 5, o.stdout);
});

/** Runs a command whose stdout reader has gone before it writes (`… | head -0`); its exit and stderr. */
function readerGone(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('§1: a closed stdout (`| head -0`) ends the run quietly with 141, as a shell reports kubectl then; the change is still made', async () => {
  const cluster = await startCluster({ forceTestServer: true, seed: [namespace('vm')] });
  try {
    const env = { ...cluster.env, NO_COLOR: '1' };
    const kubectl = await readerGone(['kubectl', 'get', '--raw', '/api'], env);
    const cases: string[][] = [
      [path.join(DIST, 'kubectl-vm-add_to_mesh'), 'es', 'piped', '10.0.0.5', 'http:80', '-n', 'vm', '-o', 'yaml'],
      [path.join(DIST, 'kubectl-vm-register'), 'piped-dry', '10.0.0.5', 'http:80', '-n', 'vm', '--dry-run=client', '-o', 'yaml'],
      [path.join(DIST, 'kubectl-vm-add_to_mesh'), '--help'],
      [path.join(DIST, 'kubectl-vm'), '--help'],
    ];
    for (const argv of cases) {
      const r = await readerGone(argv, env);
      assert.is(r.code, 141, `${argv.slice(1).join(' ')}: ${r.stderr}`);
      assert.not.match(r.stderr, /EPIPE|node:events|at /, argv.slice(1).join(' '));
    }
    assert.ok(cluster.server!.object('v1', 'Service', 'vm', 'piped'), 'add-to-mesh still created the Service');
    // The reference: a shell reports 128 + 13 for kubectl, which SIGPIPE ends.
    assert.ok(kubectl.code === 141 || kubectl.code === null, String(kubectl.code));
  } finally {
    await cluster.close();
  }
});

test.run();
