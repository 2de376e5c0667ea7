// .ci/run on a copy of the repository with stand-ins for npm and ../shared/realapi: the normal suite with CI=true,
// then the real-cluster lane against the real API server that start.sh prints, which is stopped however the lane
// ends; either lane failing fails CI; without start.sh only the normal suite runs.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('.ci/run');

interface Setup {
  realapi?: boolean;
  /** Exit code of the stand-in `npm test` in each lane. */
  suite?: number;
  lane?: number;
  start?: number;
}

async function ci(setup: Setup) {
  const base = tempDir('kubectl-vm-ci-');
  const repo = path.join(base, 'repo');
  fs.mkdirSync(path.join(repo, '.ci'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, '.ci/run'), path.join(repo, '.ci/run'));
  const log = path.join(base, 'log');
  const bin = path.join(base, 'bin');
  fs.mkdirSync(bin);
  const tmp = path.join(base, 'tmp');
  fs.mkdirSync(tmp);
  // npm: logs its arguments and the environment that matters; `npm test` exits as told for each lane.
  fs.writeFileSync(
    path.join(bin, 'npm'),
    `#!/bin/sh\necho "npm $* CI=$CI KUBECTL_VM_E2E_KUBECONFIG=\${KUBECTL_VM_E2E_KUBECONFIG:-}" >> '${log}'\n` +
      `if [ "$1" = test ]; then if [ -n "\${KUBECTL_VM_E2E_KUBECONFIG:-}" ]; then exit ${setup.lane ?? 0}; else exit ${setup.suite ?? 0}; fi; fi\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, 'fish'), '#!/bin/sh\n', { mode: 0o755 });
  if (setup.realapi) {
    const realapi = path.join(base, 'shared/realapi');
    fs.mkdirSync(realapi, { recursive: true });
    fs.writeFileSync(path.join(realapi, 'start.sh'), `echo "start REALAPI_DIR=$REALAPI_DIR" >> '${log}'\n[ ${setup.start ?? 0} = 0 ] || exit ${setup.start ?? 0}\necho "$REALAPI_DIR/kubeconfig"\n`);
    fs.writeFileSync(path.join(realapi, 'stop.sh'), `echo "stop REALAPI_DIR=$REALAPI_DIR" >> '${log}'\n`);
  }
  const env: Record<string, string | undefined> = { PATH: `${bin}:${process.env.PATH}`, HOME: base, TMPDIR: tmp };
  const r = await run('bash', [path.join(repo, '.ci/run')], { env, cwd: base });
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { ...r, lines, tmp };
}

test('both lanes pass: npm ci, npm test with CI=true, then start, the real-cluster lane against its kubeconfig, stop', async () => {
  const r = await ci({ realapi: true });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.lines.length, 5, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^npm ci /);
  assert.is(r.lines[1], 'npm test CI=true KUBECTL_VM_E2E_KUBECONFIG=');
  const dir = /^start REALAPI_DIR=(.+)$/.exec(r.lines[2]!)?.[1];
  assert.ok(dir?.startsWith(r.tmp + '/'), `REALAPI_DIR ${dir} is under the CI's temp dir ${r.tmp}`);
  assert.is(r.lines[3], `npm test CI=true KUBECTL_VM_E2E_KUBECONFIG=${dir}/kubeconfig`);
  assert.is(r.lines[4], `stop REALAPI_DIR=${dir}`);
});

test('a failing real-cluster lane fails CI, and the API server is stopped all the same', async () => {
  const r = await ci({ realapi: true, lane: 1 });
  assert.is.not(r.code, 0);
  assert.match(r.lines.at(-1)!, /^stop REALAPI_DIR=/);
});

test('a real API server that does not start fails CI, and stop.sh still cleans up', async () => {
  const r = await ci({ realapi: true, start: 3 });
  assert.is.not(r.code, 0);
  assert.match(r.lines.at(-1)!, /^stop REALAPI_DIR=/);
  assert.not.ok(r.lines.some((l) => l.includes('KUBECTL_VM_E2E_KUBECONFIG=/')), 'no lane without a server');
});

test('a failing normal suite fails CI before the real API server is started', async () => {
  const r = await ci({ realapi: true, suite: 1 });
  assert.is.not(r.code, 0);
  assert.not.ok(r.lines.some((l) => l.startsWith('start')));
});

test('without ../shared/realapi/start.sh only the normal suite runs, and says so', async () => {
  const r = await ci({ realapi: false });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.lines.length, 2);
  assert.match(r.stderr, /the real-cluster lane does not run/);
});

test.run();
