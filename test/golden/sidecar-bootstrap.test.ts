// sidecar-bootstrap against the test API server, without SSH: the dry run (golden), offline bundles for one VM
// and a fleet, the gateway as a DNS name, each precondition's message, and tctl's rules on flags.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { configMap, meshExpansionSeed, namespace, serviceAccount, workloadEntry } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';

const test = suite('sidecar-bootstrap');
const EXE = 'kubectl-vm-sidecar_bootstrap';
const NS = 'vm';
const BACKEND = workloadEntry(NS, 'backend-vm', '10.0.0.5', 'backend', { 'ssh-user': 'ubuntu', 'proxy-config-dir': '/etc/istio-proxy', 'proxy-image-hub': 'docker.io/tetrate', 'proxy-instance-ip': '172.31.0.5', 'sidecar.istio.io/logLevel': 'debug' });
const seed = (...extra: Record<string, any>[]) => [...meshExpansionSeed(), namespace(NS), serviceAccount(NS, 'backend'), ...extra];

async function bootstrap(name: string | undefined, args: string[], c: Case = {}) {
  const o = await runCase(EXE, args, c);
  await o.cluster.close();
  if (name) expectGolden(`sidecar-bootstrap/${name}.golden`, o.transcript);
  return o;
}

test('--dry-run: the connection, the directory, every file with its size, the docker commands; reads only, no token', async () => {
  const o = await bootstrap('dry-run', ['backend-vm', '-n', NS, '--start-istio-proxy', '--dry-run'], { seed: seed(BACKEND) });
  assert.is(o.code, 0, o.stderr);
  assert.ok(o.requests.every((r) => r.method === 'GET'));
  assert.match(o.stdout, /^# workloadentry backend-vm\.vm: would connect to ubuntu@10\.0\.0\.5:22 \(dry run\)$/m);
  assert.match(o.stdout, /^INSTANCE_IP=172\.31\.0\.5$/m, 'proxy-instance-ip');
  assert.match(o.stdout, / docker\.io\/tetrate\/proxyv2:1\.28\.0 proxy sidecar .*--proxyLogLevel debug /, 'proxy-image-hub and the logLevel annotation');
  assert.match(o.stdout, /--add-host istiod\.istio-system\.svc\.cluster\.local:192\.0\.2\.10 /);
});

test('a bare --dry-run and --dry-run=client are the same; conflicting flags are refused before any request', async () => {
  const bare = await bootstrap(undefined, ['backend-vm', '-n', NS, '--dry-run'], { seed: seed(BACKEND) });
  const client = await bootstrap(undefined, ['backend-vm', '-n', NS, '--dry-run=client'], { seed: seed(BACKEND) });
  assert.is(bare.stdout, client.stdout);
  assert.not.match(bare.stdout, /docker/, 'no docker commands without --start-istio-proxy');
  for (const [args, message] of [
    [['--output-dir', 'x', '--output-file', 'x.tgz'], 'it is not possible to use --output-dir flag together with --output-file'],
    [['--all'], 'a WorkloadEntry name and --all cannot be combined'],
    [['-o', 'x.tgz'], '-o is not the archive flag here: kubectl vm uses -o for output formats'],
    [['-o', 'yaml'], '-o yaml: sidecar-bootstrap copies files to VMs, it prints no Kubernetes objects, so it has no -o'],
    [['--duration', '1m'], 'invalid --duration "1m": it must be between 10 minutes and 2^32 seconds'],
  ] as const) {
    const o = await bootstrap(undefined, ['backend-vm', '-n', NS, ...args]);
    assert.is(o.code, 64, args.join(' '));
    assert.is(o.stderr.split('\n')[0], `error: ${message}`);
    assert.is(o.requests.length, 0);
  }
});

test('B24: --output-dir for one VM: etc/ and bin/ with their modes and a token; a fleet (-l) gets one directory per VM', async () => {
  const out = path.join(tempDir(), 'bundle');
  const o = await bootstrap(undefined, ['backend-vm', '-n', NS, '--output-dir', out, '--start-istio-proxy'], { seed: seed(BACKEND) });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, `workloadentry backend-vm.vm: bundle written to ${out}\n`);
  const mode = (f: string) => fs.statSync(path.join(out, f)).mode & 0o777;
  assert.equal([mode('.'), mode('etc'), mode('etc/istio-token'), mode('etc/sidecar.env'), mode('bin/start-istio-proxy.sh')], [0o700, 0o700, 0o600, 0o644, 0o755]);
  assert.is(o.requests.filter((r) => r.path.endsWith('/serviceaccounts/backend/token')).length, 1);
  assert.match(fs.readFileSync(path.join(out, 'bin/start-istio-proxy.sh'), 'utf8'), /^docker run -d --name istio-proxy --restart unless-stopped --network host -v "\$\{VM_FILES_DIR\}"\/istio-ca\.pem:/m);

  const fleet = path.join(tempDir(), 'fleet');
  const second = workloadEntry(NS, 'backend-vm-2', '10.0.0.6', 'backend', {}, { app: 'backend-vm', tier: 'x' });
  const other = workloadEntry(NS, 'other', '10.0.0.7', 'backend', {}, { app: 'other' });
  const f = await bootstrap(undefined, ['-l', 'app=backend-vm', '-n', NS, '--output-dir', fleet], { seed: seed(BACKEND, second, other) });
  assert.is(f.code, 0, f.stderr);
  assert.equal(fs.readdirSync(fleet).sort(), ['backend-vm', 'backend-vm-2']);
  assert.is(f.requests.filter((r) => r.path.endsWith('/token')).length, 1, 'one token for the service account both VMs share');
});

test('B25: an --output-dir or --output-file that cannot be written is refused before any request (exit 65, naming it), and nothing is left behind', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'a-file'), 'x');
  for (const [flag, target, problem] of [
    ['--output-dir', path.join(dir, 'a-file', 'bundle'), `${path.join(dir, 'a-file')} is a file, not a directory`],
    ['--output-file', path.join(dir, 'a-file', 'bundle.tgz'), `${path.join(dir, 'a-file')} is not a directory`],
  ] as const) {
    const o = await bootstrap(undefined, ['backend-vm', '-n', NS, flag, target], { seed: seed(BACKEND) });
    assert.is(o.code, 65, o.stderr);
    assert.is(o.stdout, '');
    assert.is(o.stderr.split('\n')[0], `error: cannot write ${flag} ${target}: ${problem}`, flag);
    assert.match(o.stderr, /^hint: check the path given to --output-/m);
    assert.not.match(o.stderr, /this is a bug/);
    assert.is(o.requests.length, 0, 'refused before the first request, so before any token');
    assert.equal(fs.readdirSync(dir), ['a-file'], 'no staging directory or temp file left');
  }
});

test('a gateway with a DNS name: the VM reaches istiod through it with SNI, and no --add-host', async () => {
  const o = await bootstrap(undefined, ['backend-vm', '-n', NS, '--dry-run', '--start-istio-proxy'], {
    seed: [...seed(BACKEND).filter((x) => x.kind !== 'Service'), ...meshExpansionSeed({ gateway: { hostname: 'abc.elb.amazonaws.com' } }).filter((x) => x.kind === 'Service')],
  });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stdout, /^CA_ADDR=abc\.elb\.amazonaws\.com:15443$/m);
  assert.match(o.stdout, /^CA_SNI=istiod\.istio-system\.svc$/m);
  assert.match(o.stdout, /^PILOT_SNI=istiod\.istio-system\.svc$/m);
  assert.match(o.stdout, /"discoveryAddress":"abc\.elb\.amazonaws\.com:15443"/);
  assert.not.match(o.stdout, /--add-host/);
});

test('preconditions, each with its own message: no WorkloadEntry, no service account, no root certificate, a gateway without 15443, jwtPolicy', async () => {
  const cases: [string, Record<string, any>[], RegExp][] = [
    ['missing-we', seed(), /^error: workloadentry backend-vm not found in namespace vm\nhint: list them with: kubectl get workloadentries -n vm/m],
    ['no-sa', seed(workloadEntry(NS, 'backend-vm', '10.0.0.5', undefined)), /^error: workloadentry backend-vm\.vm has no service account \(spec\.serviceAccount\), so the VM cannot get an identity$/m],
    ['no-root-cert', [...meshExpansionSeed({ rootCert: false }), namespace(NS), BACKEND], /^error: configmap istio-ca-root-cert was not found in namespace istio-system$/m],
    ['gateway-port', [...meshExpansionSeed({ gatewayPorts: [80, 443] }), namespace(NS), BACKEND], /^  5\. istio-ingressgateway: service istio-system\/istio-ingressgateway has no port 15443, which the VMs reach istiod through$/m],
    [
      'jwt-policy',
      [...seed(BACKEND).filter((x) => x.metadata.name !== 'istio-sidecar-injector'), configMap('istio-system', 'istio-sidecar-injector', { values: '{"global":{"jwtPolicy":"first-party-jwt"}}' })],
      /^error: the mesh has values\.global\.jwtPolicy=first-party-jwt; VMs bootstrapped this way need third-party-jwt$/m,
    ],
  ];
  for (const [name, s, message] of cases) {
    const o = await bootstrap(`precondition-${name}`, ['backend-vm', '-n', NS, '--ssh-key', '/nonexistent'], { seed: s });
    assert.is(o.code, 1, name);
    assert.match(o.stderr, message, name);
    assert.not.ok(o.requests.some((r) => r.method !== 'GET'), `${name}: nothing minted`);
  }
  const missingSa = await bootstrap(undefined, ['backend-vm', '-n', NS, '--output-dir', path.join(tempDir(), 'x')], { seed: [...meshExpansionSeed(), namespace(NS), BACKEND] });
  assert.is(missingSa.code, 1);
  assert.match(missingSa.stderr, /^error: could not create a token under service account backend in namespace vm: .*\nhint: create it: kubectl create serviceaccount backend -n vm$/m);
});

test('--all in a namespace without WorkloadEntries says so and exits 0', async () => {
  const o = await bootstrap(undefined, ['--all', '-n', NS], { seed: seed() });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stderr, 'note: there are no WorkloadEntries to bootstrap in namespace vm\n');
});

test.run();
