// install.sh, the VM side of a bundle: run twice into a temporary root (ROOT=), as it would run on a VM.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeDirectory } from '../../shared/fs/write.ts';
import { bundleFiles } from '../../shared/istio/bundle.ts';
import { run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('install.sh');

function bundle(hosts: string, token = 'token-1'): string {
  const dir = path.join(tempDir(), 'bundle');
  writeDirectory(dir, bundleFiles({ meshYaml: 'defaultConfig: {}\n', clusterEnv: "ISTIO_SERVICE='vmapp.bar'\n", rootCert: 'CERT', token, hosts }));
  return dir;
}

function fakeSystemctl(): { dir: string; log: string } {
  const dir = tempDir();
  const log = path.join(dir, 'systemctl.log');
  fs.writeFileSync(path.join(dir, 'systemctl'), `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
  return { dir, log };
}

const install = (b: string, root: string, args: string[] = [], binDir?: string) =>
  run('bash', [path.join(b, 'install.sh'), ...args], { env: { PATH: `${binDir ? `${binDir}:` : ''}/usr/bin:/bin`, ROOT: root, ISTIO_PROXY_USER: os.userInfo().username } });
const mode = (f: string) => fs.statSync(f).mode & 0o777;

test('installs every file where Istio expects it, with safe modes', async () => {
  const root = tempDir();
  const r = await install(bundle('192.0.2.10 istiod.istio-system.svc\n'), root);
  assert.is(r.code, 0, r.stderr);
  assert.is(fs.readFileSync(path.join(root, 'etc/certs/root-cert.pem'), 'utf8'), 'CERT');
  assert.is(fs.readFileSync(path.join(root, 'var/run/secrets/tokens/istio-token'), 'utf8'), 'token-1');
  assert.is(mode(path.join(root, 'var/run/secrets/tokens/istio-token')), 0o600);
  assert.is(mode(path.join(root, 'var/run/secrets/tokens')), 0o700);
  assert.is(fs.readFileSync(path.join(root, 'var/lib/istio/envoy/cluster.env'), 'utf8'), "ISTIO_SERVICE='vmapp.bar'\n");
  assert.is(fs.readFileSync(path.join(root, 'etc/istio/config/mesh'), 'utf8'), 'defaultConfig: {}\n');
  assert.ok(fs.statSync(path.join(root, 'etc/istio/proxy')).isDirectory());
});

test('run twice, /etc/hosts gets one fenced block, replaced, and keeps its other lines', async () => {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n10.1.1.1 db.internal\n');
  const block = (ip: string) => `# BEGIN kubectl-vm: istiod\n${ip} istiod.istio-system.svc\n# END kubectl-vm: istiod\n`;
  assert.is((await install(bundle('192.0.2.10 istiod.istio-system.svc\n'), root)).code, 0);
  assert.is(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8'), `127.0.0.1 localhost\n10.1.1.1 db.internal\n${block('192.0.2.10')}`);
  assert.is((await install(bundle('192.0.2.10 istiod.istio-system.svc\n'), root)).code, 0);
  assert.is(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8'), `127.0.0.1 localhost\n10.1.1.1 db.internal\n${block('192.0.2.10')}`, 'idempotent');
  fs.appendFileSync(path.join(root, 'etc/hosts'), '10.2.2.2 added.later\n');
  assert.is((await install(bundle('192.0.2.99 istiod.istio-system.svc\n', 'token-2'), root)).code, 0);
  assert.is(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8'), `127.0.0.1 localhost\n10.1.1.1 db.internal\n10.2.2.2 added.later\n${block('192.0.2.99')}`, 'replaced, not appended');
  assert.is(fs.readFileSync(path.join(root, 'var/run/secrets/tokens/istio-token'), 'utf8'), 'token-2');
  assert.is((await install(bundle(''), root)).code, 0);
  assert.is(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n10.1.1.1 db.internal\n10.2.2.2 added.later\n', 'an empty hosts removes the block');
});

test('--start starts the istio unit; without it nothing is started', async () => {
  const fake = fakeSystemctl();
  const root = tempDir();
  assert.is((await install(bundle(''), root, [], fake.dir)).code, 0);
  assert.not.ok(fs.existsSync(fake.log));
  const r = await install(bundle(''), root, ['--start'], fake.dir);
  assert.is(r.code, 0, r.stderr);
  assert.is(fs.readFileSync(fake.log, 'utf8'), 'daemon-reload\nenable istio\nstart istio\n', 'nothing changed: started, not restarted');
  assert.match(r.stdout, /result: unchanged\n$/);
  const again = await install(bundle('', 'token-2'), root, ['--start'], fake.dir);
  assert.is(again.code, 0, again.stderr);
  assert.is(fs.readFileSync(fake.log, 'utf8').split('\n').slice(3).join('\n'), 'daemon-reload\nenable istio\nrestart istio\n', 'a new token: one restart');
  assert.match(again.stdout, /result: changed\n$/);
});

test('reboot: /var/run emptied, the drop-in\'s ExecStartPre puts the same token back', async () => {
  const root = tempDir();
  assert.is((await install(bundle('', 'token-r'), root)).code, 0);
  const dropIn = fs.readFileSync(path.join(root, 'etc/systemd/system/istio.service.d/10-kubectl-vm.conf'), 'utf8');
  const pre = /^ExecStartPre=\/bin\/sh (\S+)$/m.exec(dropIn);
  assert.ok(pre, dropIn);
  assert.is(fs.readFileSync(path.join(root, 'var/lib/kubectl-vm/istio-token'), 'utf8'), 'token-r');
  assert.is(mode(path.join(root, 'var/lib/kubectl-vm/istio-token')), 0o600);
  assert.is(mode(path.join(root, 'var/lib/kubectl-vm')), 0o700);
  fs.rmSync(path.join(root, 'var/run'), { recursive: true });
  const r = await run('sh', [path.join(root, pre![1]!)], { env: { PATH: '/usr/bin:/bin', ROOT: root } });
  assert.is(r.code, 0, r.stderr);
  assert.is(fs.readFileSync(path.join(root, 'var/run/secrets/tokens/istio-token'), 'utf8'), 'token-r');
  assert.is(mode(path.join(root, 'var/run/secrets/tokens/istio-token')), 0o600);
  assert.is(mode(path.join(root, 'var/run/secrets/tokens')), 0o700);
});

test('the manifest lists every placed file with its sha256, and the hosts lines', async () => {
  const root = tempDir();
  assert.is((await install(bundle('192.0.2.10 istiod.istio-system.svc\n', 'tok'), root)).code, 0);
  const m = JSON.parse(fs.readFileSync(path.join(root, 'var/lib/kubectl-vm/manifest.json'), 'utf8'));
  assert.is(mode(path.join(root, 'var/lib/kubectl-vm/manifest.json')), 0o600);
  assert.is(m.runtime, 'systemd');
  const paths = m.files.map((f: { path: string }) => f.path);
  assert.equal(paths, ['/etc/certs/root-cert.pem', '/var/lib/kubectl-vm/istio-token', '/var/run/secrets/tokens/istio-token', '/var/lib/istio/envoy/cluster.env', '/etc/istio/config/mesh', '/var/lib/kubectl-vm/restore-token.sh', '/etc/systemd/system/istio.service.d/10-kubectl-vm.conf']);
  const token = m.files.find((f: { path: string }) => f.path === '/var/lib/kubectl-vm/istio-token');
  assert.is(token.sha256, crypto.createHash('sha256').update('tok').digest('hex'));
  assert.is(token.mode, '0600');
  assert.equal(m.hosts.lines, ['192.0.2.10 istiod.istio-system.svc']);
});

test('--runtime docker: one directory for the container, uid 1337 when run as root', async () => {
  const root = tempDir();
  const r = await install(bundle('', 'tok'), root, ['--runtime', 'docker', '--dir', '/srv/proxy']);
  assert.is(r.code, 0, r.stderr);
  const dir = path.join(root, 'srv/proxy');
  assert.is(mode(dir), 0o700);
  assert.is(mode(path.join(dir, 'istio-token')), 0o600);
  assert.is(fs.readFileSync(path.join(dir, 'istio-ca.pem'), 'utf8'), 'CERT');
  if (process.getuid?.() === 0) {
    assert.is(fs.statSync(path.join(dir, 'istio-token')).uid, 1337);
    assert.is(fs.statSync(dir).uid, 1337);
  }
  assert.not.ok(fs.existsSync(path.join(root, 'etc/hosts')), 'the container gets --add-host instead');
});

test('bad arguments and a missing file are errors that say what to do', async () => {
  const b = bundle('');
  const bad = await install(b, tempDir(), ['--bogus']);
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /^install\.sh: unknown argument: --bogus$/m);
  fs.rmSync(path.join(b, 'istio-token'));
  const missing = await install(b, tempDir());
  assert.is(missing.code, 66);
  assert.match(missing.stderr, /istio-token is missing; regenerate the bundle with kubectl vm workload-entry configure/);
});

test.run();
