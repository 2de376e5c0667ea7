// `npm run test-apiserver` as the README's Quick start uses it: in the foreground it serves until interrupted;
// with --background it returns once the server answers, prints the kubeconfig path on stdout and the PID to kill
// on stderr.
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('test-apiserver');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('--background returns, prints the kubeconfig path and the PID; kubectl works with it until that PID is killed', async () => {
  const home = tempDir();
  const r = await run(process.execPath, ['--import', 'tsx', 'test/apiserver/main.ts', '--background', '--seed', 'test/fixtures/seeds/istio-install.yaml'], { env: { ...process.env, HOME: home } });
  assert.is(r.code, 0, r.stderr);
  const kubeconfig = r.stdout.trim();
  assert.ok(path.isAbsolute(kubeconfig) && !kubeconfig.includes('\n'), `stdout is one path: ${r.stdout}`);
  const pid = Number(/PID (\d+); stop it with: kill (\d+)/.exec(r.stderr)?.[1]);
  assert.ok(pid > 0, r.stderr);
  try {
    const get = await run('kubectl', ['get', 'serviceaccount', 'vm-sa', '-n', 'vm', '-o', 'name'], { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig } });
    assert.is(get.code, 0, get.stderr);
    assert.is(get.stdout, 'serviceaccount/vm-sa\n');
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.not.ok(alive(pid), 'kill <PID> stops it');
});

test('--help names --background and says that the default serves in the foreground', async () => {
  const r = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/apiserver/main.ts'), '--help'], { env: process.env });
  assert.is(r.code, 0);
  assert.match(r.stdout, /--background/);
  assert.match(r.stdout, /foreground/);
});

test.run();
