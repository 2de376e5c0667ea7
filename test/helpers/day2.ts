// A VM as onboarding leaves it, for the day-2 tests, without depending on `kubectl vm onboard`: its record and
// generation-1 binding created through the API (as kubectl would), a token bound to that binding from
// `kubectl create token`, and the bundle installed under the test sshd's root by the bundle's own install.sh.
// Works against the test API server and a real cluster alike.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installScript } from '../../shared/vm/install-script.ts';
import { bindingName, buildBinding, buildRecord, type Runtime } from '../../shared/vm/record.ts';
import type { Cluster } from './cluster.ts';
import type { Sshd } from './sshd.ts';
import { tempDir } from './tmp.ts';

export const ROOT_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfakeRoot\n-----END CERTIFICATE-----\n';
export const HOSTS = '192.0.2.10 istiod.istio-system.svc\n';

export interface SeededVm {
  vm: string;
  namespace: string;
  token: string;
  /** The sshd the VM is, or undefined for an unreachable VM (a port nobody listens on). */
  sshd?: Sshd;
  sshTarget: string;
}

async function kubectlOk(cluster: Cluster, args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Records a VM (record + binding of generation 1), mints its first token and installs the bundle under the
 * sshd's root (skipped for an unreachable VM, given as a port).
 */
export async function seedOnboardedVm(cluster: Cluster, ns: string, vm: string, target: Sshd | { deadPort: number }, options: { runtime?: Runtime; group?: string; serviceAccount?: string } = {}): Promise<SeededVm> {
  const runtime = options.runtime ?? 'systemd';
  const sa = options.serviceAccount ?? 'web-sa';
  const sshd = 'deadPort' in target ? undefined : target;
  const sshTarget = `${sshd ? sshd.user : 'root'}@127.0.0.1:${sshd ? sshd.port : (target as { deadPort: number }).deadPort}`;
  const record = buildRecord({ vm, namespace: ns, group: options.group ?? 'web', serviceAccount: sa, runtime, address: `10.0.0.${10 + (vm.length % 200)}`, sshTarget, generation: 1 });
  const created = JSON.parse(await kubectlOk(cluster, ['create', '-f', '-', '-o', 'json'], JSON.stringify(record)));
  const binding = JSON.parse(await kubectlOk(cluster, ['create', '-f', '-', '-o', 'json'], JSON.stringify(buildBinding(created, 1))));
  const token = (await kubectlOk(cluster, ['create', 'token', sa, '-n', ns, '--audience', 'istio-ca', '--duration', '1h', '--bound-object-kind', 'Secret', '--bound-object-name', bindingName(vm, 1), '--bound-object-uid', binding.metadata.uid])).trim();
  const expires = new Date(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await kubectlOk(cluster, ['annotate', 'secret', vm, '-n', ns, `kubectl-vm.io/token-expires=${expires}`]);
  if (sshd) installBundle(sshd.root, token, runtime);
  return { vm, namespace: ns, token, sshd, sshTarget };
}

/** Runs the bundle's install.sh under `root`, as onboarding does on the VM (the files owned by the test user). */
export function installBundle(root: string, token: string, runtime: Runtime = 'systemd'): string {
  const dir = tempDir('kubectl-vm-bundle-');
  const files: Record<string, string> = {
    'mesh.yaml': 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n',
    'cluster.env': "CANONICAL_SERVICE='web'\nISTIO_META_NETWORK='vm-net'\n",
    'root-cert.pem': ROOT_CERT,
    'istio-token': token,
    hosts: HOSTS,
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content, { mode: name === 'istio-token' ? 0o600 : 0o644 });
  fs.writeFileSync(path.join(dir, 'install.sh'), installScript(), { mode: 0o755 });
  return execFileSync('bash', [path.join(dir, 'install.sh'), '--runtime', runtime], { env: { ...process.env, ROOT: root, ISTIO_PROXY_USER: process.env.USER ?? 'root' }, encoding: 'utf8' });
}

/**
 * The day-2 fakes on the sessions' PATH (each logs its call to calls.log, as engineer 14's fakes do):
 * pilot-agent (version, istio-iptables --cleanup-only), iptables (-V says the nf_tables backend), ss (prints
 * $ROOT/run/fake-ss), nc (fails while $ROOT/run/fake-nc-fail exists), and date, which answers `date +%s` with
 * the real time plus the seconds in $ROOT/run/fake-clock-skew (clock-skew checks).
 */
export function addDay2Fakes(sshd: Sshd): void {
  sshd.addFake('pilot-agent', `case "$1" in
  version) echo "1.28.0" ;;
  istio-iptables) mkdir -p "$ROOT/run"; echo cleaned > "$ROOT/run/fake-iptables-cleaned" ;;
esac
exit 0
`);
  sshd.addFake('iptables', `case "$1" in -V|--version) echo "iptables v1.8.9 (nf_tables)" ;; esac
exit 0
`);
  sshd.addFake('ss', `cat "$ROOT/run/fake-ss" 2> /dev/null
exit 0
`);
  sshd.addFake('nc', `[ -f "$ROOT/run/fake-nc-fail" ] && exit 1
exit 0
`);
  sshd.addFake('date', `skew=$(cat "$ROOT/run/fake-clock-skew" 2> /dev/null || echo 0)
if [ "$1" = +%s ]; then echo $(( $(/bin/date +%s) + skew )); else exec /bin/date "$@"; fi
`);
}

/** Trusts the sshd's host key in the test user's known_hosts, and offers its client key as ~/.ssh/<keyName>. */
export function trustSshd(home: string, s: Sshd, keyName: string): void {
  const dir = path.join(home, '.ssh');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.appendFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${s.port} ${s.hostPublicKey}\n`);
  fs.copyFileSync(s.key, path.join(dir, keyName));
  fs.chmodSync(path.join(dir, keyName), 0o600);
}

/** A workload certificate as pilot-agent writes it (OUTPUT_CERTS), valid for `days`, under the sshd's root. */
export function writeWorkloadCert(root: string, dir: string, days: number): void {
  const out = path.join(root, dir);
  fs.mkdirSync(out, { recursive: true });
  const key = path.join(tempDir(), 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', path.join(out, 'cert-chain.pem'), '-days', String(days), '-subj', '/O=cluster.local'], { stdio: 'ignore' });
}
