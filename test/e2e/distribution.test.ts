// Distribution: the release archive and the krew manifest (checked with krew's rules, then installed the way
// krew installs it), the npm package (packed and installed globally into a temporary prefix), and shell
// completion (kubectl's plugin-completion hook, and the bash script run by a real bash).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyFileOperations, matchPlatform, validateManifest, type Manifest } from '../../scripts/krew.ts';
import { isReleased, release, type Release } from '../../scripts/release.ts';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { startCluster } from '../helpers/cluster.ts';
import { DIST, ROOT, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { toolsDir, userEnv } from '../helpers/tools.ts';

const test = suite('distribution: release archive, krew, npm package, completion');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const executables = ['kubectl-vm', ...CATALOG.map((e) => executableName(e.name))];
const hooks = executables.map((e) => e.replace(/^kubectl-/, 'kubectl_complete-'));

let rel: Release;
test.before(() => {
  // A copy of dist/, so that the release files never land in the dist/ other tests read.
  const dist = tempDir('kubectl-vm-dist-');
  for (const f of fs.readdirSync(DIST).filter(isReleased)) fs.copyFileSync(path.join(DIST, f), path.join(dist, f));
  for (const f of fs.readdirSync(dist)) if (f !== 'package.json') fs.chmodSync(path.join(dist, f), 0o755);
  rel = release(dist, { SOURCE_DATE_EPOCH: '1700000000', KUBECTL_VM_RELEASE_URL: 'https://example.com/kubectl-vm.tar.gz' });
});

const tarList = (archive: string) => execFileSync('tar', ['tvzf', archive], { encoding: 'utf8' }).trim().split('\n');

test('the archive holds every executable and hook as a regular executable file, plus LICENSE and README', () => {
  const lines = tarList(rel.archive);
  const entries = new Map(lines.map((l) => [l.split(/\s+/).pop()!, l.slice(0, 10)]));
  for (const f of [...executables, ...hooks]) assert.is(entries.get(f), '-rwxr-xr-x', f);
  for (const f of ['LICENSE', 'README.md', 'package.json']) assert.is(entries.get(f), '-rw-r--r--', f);
  assert.ok(lines.every((l) => l.startsWith('-')), 'regular files only: krew refuses links');
  assert.is(path.basename(rel.archive), `kubectl-vm-${pkg.version}.tar.gz`);
});

test('the sha256 file and the manifest carry the archive\'s digest; the manifest passes krew\'s checks', () => {
  const digest = crypto.createHash('sha256').update(fs.readFileSync(rel.archive)).digest('hex');
  assert.is(rel.sha256, digest);
  assert.is(fs.readFileSync(`${rel.archive}.sha256`, 'utf8'), `${digest}  ${path.basename(rel.archive)}\n`);
  const text = fs.readFileSync(rel.manifest, 'utf8');
  assert.equal(validateManifest(rel.manifest, text), []);
  const m = yaml.load(text) as Manifest;
  assert.is(m.spec!.version, `v${pkg.version}`);
  assert.equal(m.spec!.platforms!.map((p) => `${p.selector!.matchLabels!.os}/${p.selector!.matchLabels!.arch}`), ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64']);
  for (const p of m.spec!.platforms!) assert.equal([p.sha256, p.uri, p.bin], [digest, 'https://example.com/kubectl-vm.tar.gz', 'kubectl-vm']);
  assert.match(m.spec!.caveats!, /Node\.js >= 20\.19/);
  assert.ok(rel.manifest.endsWith(path.join('krew-index', 'plugins', 'vm.yaml')));
});

test('the archive is reproducible: the same inputs give the same bytes', () => {
  const again = tempDir('kubectl-vm-dist-');
  for (const f of fs.readdirSync(path.dirname(path.dirname(rel.archive))).filter(isReleased)) fs.copyFileSync(path.join(path.dirname(path.dirname(rel.archive)), f), path.join(again, f));
  const second = release(again, { SOURCE_DATE_EPOCH: '1700000000', KUBECTL_VM_RELEASE_URL: 'https://example.com/kubectl-vm.tar.gz' });
  assert.is(second.sha256, rel.sha256);
});

test('the manifest checker catches each of krew\'s rules', () => {
  const good = fs.readFileSync(rel.manifest, 'utf8');
  const cases: [string, string, RegExp][] = [
    ['other file name', good, /plugin should be named "vm-tools", not "vm"/],
    ['version without v', good.replace(/version: v/, 'version: '), /is not a semver starting with "v"/],
    ['upper-case sha256', good.replace(rel.sha256, rel.sha256.toUpperCase()), /is not 64 lower-case hex digits/],
    ['selector key', good.replace('{os: linux, arch: amd64}', '{os: linux, cpu: amd64}'), /selector key "cpu" is not os or arch/],
    ['overlap', good.replace('{os: linux, arch: arm64}', '{os: linux, arch: amd64}'), /overlapping selectors for linux\/amd64/],
    ['unclean to', good.replace('to: "."', 'to: "./bin"'), /"to" path \.\/bin is not clean/],
    ['empty files', good.replace('files: [{from: "*", to: "."}]', 'files: []'), /files has to be unspecified or non-empty/],
    ['no bin', good.replace(/ {4}bin: kubectl-vm\n/, ''), /bin has to be set/],
    ['two-line description', good.replace(/shortDescription: .*/, 'shortDescription: "a\\nb"'), /one-line shortDescription/],
    ['unknown platform', good.replace('{os: darwin, arch: arm64}', '{os: plan9, arch: arm64}'), /matches no supported os\/arch/],
  ];
  for (const [what, text, problem] of cases) {
    const file = what === 'other file name' ? 'plugins/vm-tools.yaml' : 'plugins/vm.yaml';
    const problems = validateManifest(file, text);
    assert.ok(problems.some((p) => problem.test(p)), `${what}: ${problems.join('; ') || 'no problem found'}`);
  }
});

/** krew's install: extract, apply the file operations into store/vm/<version>, link bin/kubectl-vm. */
function krewInstall(): { root: string; bin: string } {
  const root = tempDir('kubectl-vm-krew-root-');
  const m = yaml.load(fs.readFileSync(rel.manifest, 'utf8')) as Manifest;
  const platform = matchPlatform(m, 'linux', 'amd64')!;
  const extracted = path.join(root, 'downloads');
  fs.mkdirSync(extracted);
  execFileSync('tar', ['xzf', rel.archive, '-C', extracted]);
  const store = path.join(root, 'store', 'vm', m.spec!.version!);
  applyFileOperations(platform, extracted, store);
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(path.join(store, platform.bin!), path.join(bin, 'kubectl-vm'));
  return { root, bin };
}

test('installed as krew installs it, kubectl vm works with only krew\'s bin, node and kubectl on PATH', async () => {
  const { root, bin } = krewInstall();
  const e = userEnv([bin, toolsDir()], { KREW_ROOT: root });
  const add = await run('kubectl', ['vm', 'add-to-mesh', '--help'], { env: e });
  assert.is(add.code, 0, add.stderr);
  assert.match(add.stdout, /^Add a service that runs on VMs to the mesh/m);
  const reg = await run('kubectl', ['vm', 'register', '--help'], { env: e });
  assert.is(reg.code, 0, reg.stderr);
  assert.match(reg.stdout, /^kubectl vm register \[service\] \[ips\] \[ports\.\.]/);
  const list = await run('kubectl', ['plugin', 'list'], { env: e });
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${path.join(bin, 'kubectl-vm')}$`, 'm'));
  const usage = await run('kubectl', ['vm', 'register', 'db'], { env: e });
  assert.is(usage.code, 64, 'exit codes come through the symlinked router');
});

test('after a krew install, "completion kubectl-hook" lets kubectl complete kubectl vm', async () => {
  const { root, bin } = krewInstall();
  const c = await startCluster({ forceTestServer: true });
  try {
    const e = userEnv([bin, toolsDir()], { KREW_ROOT: root, KUBECONFIG: c.kubeconfig });
    const before = await run('kubectl', ['__complete', 'vm', ''], { env: e });
    assert.not.match(before.stdout, /^register$/m, 'krew does not link the hook');
    const hook = await run('kubectl', ['vm', 'completion', 'kubectl-hook'], { env: e });
    assert.is(hook.code, 0, hook.stderr);
    assert.ok(fs.lstatSync(path.join(bin, 'kubectl_complete-vm')).isSymbolicLink());
    const commands = await run('kubectl', ['__complete', 'vm', ''], { env: e });
    for (const word of ['add-to-mesh', 'register', 'workload-entry']) assert.match(commands.stdout, new RegExp(`^${word}$`, 'm'));
    const second = await run('kubectl', ['__complete', 'vm', 'workload-entry', ''], { env: e });
    assert.match(second.stdout, /^configure\n:4$/m);
    const output = await run('kubectl', ['__complete', 'vm', 'register', 'db', '-o', ''], { env: e });
    assert.match(output.stdout, /^yaml\njson\nname\n:4$/m);
    const namespaces = await run('kubectl', ['__complete', 'vm', 'add-to-mesh', 'es', 'x', '-n', 'kube-'], { env: e });
    assert.match(namespaces.stdout, /^kube-node-lease\nkube-public\nkube-system\n:4$/m, 'namespaces come from the cluster');
  } finally {
    await c.close();
  }
});

test('npm pack gives a package with no dependencies whose bin installs every executable and hook', async () => {
  assert.is(pkg.dependencies, undefined, 'the bundles are self-contained');
  assert.equal(Object.keys(pkg.bin).sort(), [...executables, ...hooks].sort());
  const out = tempDir('kubectl-vm-pack-');
  const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', out, '--json'], { env: { ...process.env } });
  assert.is(packed.code, 0, packed.stderr);
  const info = JSON.parse(packed.stdout)[0];
  const files = info.files.map((f: { path: string }) => f.path).sort();
  assert.equal(files, [...[...executables, ...hooks].map((e) => `dist/${e}`), 'dist/package.json', 'LICENSE', 'README.md', 'package.json'].sort());
  const prefix = tempDir('kubectl-vm-prefix-');
  const installed = await run('npm', ['install', '-g', path.join(out, info.filename), '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { env: { ...process.env } });
  assert.is(installed.code, 0, installed.stderr);
  const e = userEnv([path.join(prefix, 'bin'), toolsDir()]);
  const help = await run('kubectl', ['vm', 'workload-entry', 'configure', '--help'], { env: e });
  assert.is(help.code, 0, help.stderr);
  assert.match(help.stdout, /^kubectl vm workload-entry configure/);
  const list = await run('kubectl', ['plugin', 'list'], { env: e });
  assert.is(list.code, 0, list.stderr);
  for (const exe of executables) assert.match(list.stdout, new RegExp(`/${exe}$`, 'm'));
  const hook = await run('kubectl', ['__complete', 'vm', 'register', 'db', '--dry-run='], { env: e });
  assert.match(hook.stdout, /^--dry-run=none\n--dry-run=client\n--dry-run=server\n:4$/m, 'kubectl calls kubectl_complete-vm-register');
});

test('the bash script completes commands, flags and their values through kubectl-vm', async () => {
  const e = userEnv([DIST, toolsDir(['bash'])]);
  const complete = async (words: string[]) => {
    const script = `source <(kubectl-vm completion bash)\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_kubectl_vm\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await run('bash', ['-c', script], { env: e });
    assert.is(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter((l) => l !== '');
  };
  assert.equal(await complete(['kubectl-vm', 're']), ['remove-from-mesh', 'register'], 'in the order of the catalog');
  assert.equal(await complete(['kubectl-vm', 'workload-group', '']), ['create']);
  assert.equal(await complete(['kubectl-vm', 'register', 'db', '--endpoints-api', '']), ['endpointslices', 'endpoints']);
  assert.ok((await complete(['kubectl-vm', 'deregister', '--d'])).includes('--delete-service-when-empty'));
});

test('zsh and fish scripts define their completion for kubectl-vm', async () => {
  const zsh = await run(path.join(DIST, 'kubectl-vm'), ['completion', 'zsh'], { env: userEnv([DIST, toolsDir()]) });
  assert.match(zsh.stdout, /^#compdef kubectl-vm$/m);
  assert.match(zsh.stdout, /kubectl-vm __complete /);
  const fish = await run(path.join(DIST, 'kubectl-vm'), ['completion', 'fish'], { env: userEnv([DIST, toolsDir()]) });
  assert.match(fish.stdout, /^complete -c kubectl-vm -f -a '\(__kubectl_vm_complete\)'$/m);
  const bad = await run(path.join(DIST, 'kubectl-vm'), ['completion', 'tcsh'], { env: userEnv([DIST, toolsDir()]) });
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /^error: unsupported shell "tcsh": expected "bash", "zsh", "fish", "kubectl-hook"$/m);
});

test.run();
