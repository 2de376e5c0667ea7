// install.sh, the VM side of a bundle: run twice into a temporary root (ROOT=), as it would run on a VM.
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
  assert.is(fs.readFileSync(fake.log, 'utf8'), 'start istio\n');
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
