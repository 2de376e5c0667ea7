// kubectl finds and runs the executables: `kubectl plugin list` without warnings, nested-name lookup, and the
// router when only kubectl-vm is on PATH (a krew install: one symlink into a store directory).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { DIST, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { toolsDir, userEnv } from '../helpers/tools.ts';

const test = suite('kubectl plugin lookup and the kubectl-vm router');
/** What krew does: the files go to a store directory, and only bin/kubectl-vm is linked. */
function krewLayout(): { bin: string; store: string } {
  const root = tempDir('kubectl-vm-krew-');
  const store = path.join(root, 'store', 'vm', 'v0.1.0');
  const bin = path.join(root, 'bin');
  fs.mkdirSync(store, { recursive: true });
  fs.mkdirSync(bin);
  for (const f of fs.readdirSync(DIST)) fs.copyFileSync(path.join(DIST, f), path.join(store, f));
  for (const f of fs.readdirSync(store)) if (f.startsWith('kubectl-')) fs.chmodSync(path.join(store, f), 0o755);
  fs.symlinkSync(path.join(store, 'kubectl-vm'), path.join(bin, 'kubectl-vm'));
  return { bin, store };
}

const env = (pathDirs: string[]) => userEnv(pathDirs);

test('kubectl plugin list shows every executable and no warning', async () => {
  const r = await run('kubectl', ['plugin', 'list'], { env: env([DIST, toolsDir()]) });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  for (const exe of ['kubectl-vm', ...CATALOG.map((e) => executableName(e.name))]) assert.ok(r.stdout.includes(path.join(DIST, exe)), exe);
});

test('kubectl vm <command> finds the nested executable directly', async () => {
  const r = await run('kubectl', ['vm', 'add-to-mesh', 'external-service', '--help'], { env: env([DIST, toolsDir()]) });
  assert.is(r.code, 0);
  assert.match(r.stdout, /^kubectl vm add-to-mesh external-service/);
});

test('after a krew install, the router finds its siblings through its real path', async () => {
  const { bin } = krewLayout();
  const e = env([bin, toolsDir()]);
  const list = await run('kubectl', ['vm'], { env: e });
  assert.is(list.code, 0);
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const entry of CATALOG) assert.match(list.stdout, new RegExp(`^  ${escape(entry.name)} +${escape(entry.describe)}$`, 'm'));
  const help = await run('kubectl', ['vm', 'add-to-mesh', 'es', '--help'], { env: e });
  assert.is(help.code, 0);
  assert.match(help.stdout, /^kubectl vm add-to-mesh external-service/);
  const version = await run('kubectl', ['vm', '--version'], { env: e });
  assert.match(version.stdout, /^kubectl-vm \d+\.\d+\.\d+/);
  const plugins = await run('kubectl', ['plugin', 'list'], { env: e });
  assert.is(plugins.code, 0);
  assert.is(plugins.stderr, '');
});

test('the router passes exit codes and streams through, and accepts flags before the command', async () => {
  const { bin } = krewLayout();
  const e = env([bin, toolsDir()]);
  const usage = await run('kubectl', ['vm', 'add-to-mesh', 'es', 'x'], { env: e });
  assert.is(usage.code, 64);
  assert.match(usage.stderr, /^error: provide service name, IP and Port List$/m);
  assert.is(usage.stdout, '');
  const dry = await run('kubectl', ['vm', '-n', 'prod', 'add-to-mesh', 'es', 'x', '10.0.0.1', 'http:80', '--dry-run=client', '-o', 'name'], { env: e });
  assert.is(dry.code, 0, dry.stderr);
  assert.is(dry.stdout, 'service/x\nserviceentry.networking.istio.io/mesh-expansion-x\n');
  const direct = await run(path.join(bin, 'kubectl-vm'), ['remove-from-mesh', '--help'], { env: e });
  assert.is(direct.code, 0, 'called directly, not through kubectl');
  const unknown = await run('kubectl', ['vm', 'frobnicate'], { env: e });
  assert.is(unknown.code, 64);
  assert.match(unknown.stderr, new RegExp(`^error: unknown command "frobnicate" for "kubectl vm"\nhint: the commands are: ${CATALOG.map((e) => e.name).join(', ')};`, 'm'));
  // Issue 12 §5: a group lists its commands; the unknown word is the one after the group; a typo gets the nearest.
  const group = await run('kubectl', ['vm', 'ca-certs', '--help'], { env: e });
  assert.is(group.code, 0, group.stderr);
  assert.match(group.stdout, /^ {2}create {2,}Check your CA's certificates/m);
  const sub = await run('kubectl', ['vm', 'workload-group', 'delete', '--name', 'wg'], { env: e });
  assert.is(sub.code, 64);
  assert.match(sub.stderr, /^error: unknown command "delete" for "kubectl vm workload-group"\nhint: the commands of workload-group are: create;/m);
  const typo = await run('kubectl', ['vm', 'regsiter'], { env: e });
  assert.is(typo.code, 64);
  assert.match(typo.stderr, /^hint: did you mean "kubectl vm register"\?/m);
});

test('a sibling that is not a Node script is spawned, with its exit code passed through', async () => {
  const { bin, store } = krewLayout();
  fs.writeFileSync(path.join(store, 'kubectl-vm-shell_test'), '#!/bin/sh\necho "args: $*"\necho oops >&2\nexit 7\n', { mode: 0o755 });
  const r = await run(path.join(bin, 'kubectl-vm'), ['shell-test', 'a', '-n', 'b'], { env: env([bin, toolsDir(), '/bin']) });
  assert.is(r.code, 7);
  assert.is(r.stdout, 'args: a -n b\n');
  assert.is(r.stderr, 'oops\n');
});

test('the router forwards signals to a spawned sibling and passes its exit status back', async () => {
  const { bin, store } = krewLayout();
  // The sibling says when it is ready, then exits 42 on SIGTERM.
  fs.writeFileSync(path.join(store, 'kubectl-vm-wait_test'), '#!/bin/sh\ntrap "exit 42" TERM\necho ready\nwhile :; do sleep 0.1; done\n', { mode: 0o755 });
  // In a process group of its own, so that a failure cannot leave the sibling running.
  const child = spawn(path.join(bin, 'kubectl-vm'), ['wait-test'], { env: env([bin, toolsDir(), '/bin', '/usr/bin']), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGTERM');
  const guard = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
  const [code, signal] = await exited;
  clearTimeout(guard);
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // the group is gone: nothing was left behind
  }
  assert.is(stderr, '');
  assert.equal([code, signal], [42, null], 'the sibling got SIGTERM and its exit status came back');
});

test.run();
