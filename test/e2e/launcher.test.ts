// The executables' launcher keeps a V8 code cache (scripts/build.mjs). It must never be what makes a run fail.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runPlugin } from '../helpers/run.ts';
import { missingPath, tempDir } from '../helpers/tmp.ts';

const test = suite('the launcher and its V8 code cache');
const dryRun = ['es', 'x', '10.0.0.5', 'http:80', '--dry-run=client', '-o', 'name'];
const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: tempDir(), NO_COLOR: '1', KUBECONFIG: missingPath('kubeconfig'), ...extra });
const cacheFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.v8')) : []);

test('the first run writes the cache (0600 in a 0700 directory); later runs use it and give the same output', async () => {
  const dir = path.join(tempDir(), 'cache');
  const first = await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.is(first.code, 0, first.stderr);
  const files = cacheFiles(dir);
  assert.is(files.length, 1);
  assert.match(files[0]!, /^kubectl-vm-add_to_mesh-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.v8$/);
  assert.is(fs.statSync(path.join(dir, files[0]!)).mode & 0o777, 0o600);
  assert.is(fs.statSync(dir).mode & 0o777, 0o700);
  const written = fs.statSync(path.join(dir, files[0]!)).mtimeMs;
  const second = await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.is(second.stdout, first.stdout);
  assert.is(fs.statSync(path.join(dir, files[0]!)).mtimeMs, written, 'an accepted cache is not rewritten');
});

test('a lone --help loads no code and writes no cache', async () => {
  const dir = path.join(tempDir(), 'cache');
  const r = await runPlugin('kubectl-vm-add_to_mesh', ['--help'], env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Add a service that runs on VMs to the mesh/);
  assert.equal(cacheFiles(dir), []);
});

test('a --help run through yargs writes its own cache; the first real run then writes the full one', async () => {
  const dir = path.join(tempDir(), 'cache');
  await runPlugin('kubectl-vm-add_to_mesh', ['es', '--help'], env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.equal(cacheFiles(dir).map((f) => f.replace(/^.*-x\w+|^.*-arm\w*/, '')), ['.help.v8']);
  await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.equal(cacheFiles(dir).map((f) => f.replace(/^.*-x\w+|^.*-arm\w*/, '')).sort(), ['.help.v8', '.v8']);
});

test('a corrupt cache is rejected by V8 and rewritten; the run is unaffected', async () => {
  const dir = path.join(tempDir(), 'cache');
  await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: dir }));
  const file = path.join(dir, cacheFiles(dir)[0]!);
  fs.writeFileSync(file, 'garbage');
  const r = await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'service/x\nserviceentry.networking.istio.io/mesh-expansion-x\n');
  assert.ok(fs.statSync(file).size > 1000, 'rewritten');
});

test('KUBECTL_VM_CACHE_DIR=off writes nothing; an unwritable directory is ignored', async () => {
  const home = tempDir();
  const off = await runPlugin('kubectl-vm-add_to_mesh', dryRun, { ...env({ KUBECTL_VM_CACHE_DIR: 'off' }), HOME: home });
  assert.is(off.code, 0);
  assert.not.ok(fs.existsSync(path.join(home, '.cache')));
  const blocked = path.join(tempDir(), 'file-not-dir');
  fs.writeFileSync(blocked, '');
  const r = await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ KUBECTL_VM_CACHE_DIR: path.join(blocked, 'cache') }));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr.includes('Error'), false);
});

test('the router keeps one cache per command it runs in its own process', async () => {
  const dir = path.join(tempDir(), 'cache');
  const r = await runPlugin('kubectl-vm', ['add-to-mesh', ...dryRun], env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'service/x\nserviceentry.networking.istio.io/mesh-expansion-x\n');
  await runPlugin('kubectl-vm', ['--version'], env({ KUBECTL_VM_CACHE_DIR: dir }));
  assert.equal(cacheFiles(dir).map((f) => f.replace(/-[0-9a-f]{16}-v.*$/, '')).sort(), ['kubectl-vm', 'kubectl-vm~add-to-mesh']);
});

test('without KUBECTL_VM_CACHE_DIR the cache goes to $XDG_CACHE_HOME/kubectl-vm', async () => {
  const xdg = tempDir();
  await runPlugin('kubectl-vm-add_to_mesh', dryRun, env({ XDG_CACHE_HOME: xdg }));
  assert.is(cacheFiles(path.join(xdg, 'kubectl-vm')).length, 1);
});

test.run();
