// dist/ holds one copy of the code: the router (dist/kubectl-vm) carries the bundle of every command and the copy
// of client-node (the authenticators for auth-providers and socks proxies); every other executable is a few lines
// that load the bundle from the router beside its real path, except for a lone --help, which it answers from text
// rendered at build time, the same text yargs renders.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { childEnv } from '../helpers/cluster.ts';
import { DIST, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('one copy of the code in dist/');
let server: TestApiServer;
test.before(async () => {
  server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm' } }] });
});
test.after(async () => {
  await server.close();
});

const executables = fs
  .readdirSync(DIST)
  .filter((n) => n.startsWith('kubectl-vm-'))
  .sort();
const router = () => fs.readFileSync(path.join(DIST, 'kubectl-vm'), 'latin1');

/** A kubeconfig whose user runs an exec plugin, which leaves a mark when it runs. */
function execKubeconfig(dir: string): { kubeconfig: string; ran: string } {
  const ran = path.join(dir, 'exec-ran');
  fs.writeFileSync(path.join(dir, 'get-token.sh'), `#!/bin/sh\ntouch ${ran}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "${server.token}"\n`, { mode: 0o755 });
  const kc = server.kubeconfig();
  kc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './get-token.sh', interactiveMode: 'Never' } };
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, yaml.dump(kc));
  return { kubeconfig, ran };
}

/** A kubeconfig whose user is an auth-provider: the one credential kind that needs client-node. */
function authProviderKubeconfig(dir: string): string {
  const kc = server.kubeconfig();
  kc.users[0].user = { 'auth-provider': { name: 'oidc', config: { 'id-token': server.token, 'idp-issuer-url': 'https://127.0.0.1:1', 'client-id': 'kubectl-vm-test' } } };
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, yaml.dump(kc));
  return kubeconfig;
}

/** A copy of the add-to-mesh executable and, unless left out, the router beside it (or the given text as router). */
function install(withRouter: boolean | string): string {
  const dir = tempDir('kubectl-vm-install-');
  for (const f of ['kubectl-vm-add_to_mesh', 'package.json', ...(withRouter === true ? ['kubectl-vm'] : [])]) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  // Byte for byte: the router's header gives byte offsets, and router() reads it as latin1.
  if (typeof withRouter === 'string') fs.writeFileSync(path.join(dir, 'kubectl-vm'), withRouter, { mode: 0o755, encoding: 'latin1' });
  fs.chmodSync(path.join(dir, 'kubectl-vm-add_to_mesh'), 0o755);
  return path.join(dir, 'kubectl-vm-add_to_mesh');
}

test('the router carries the bundle and client-node once; no other executable embeds code', () => {
  const text = router();
  const head = /^#!\/usr\/bin\/env node\n\/\/ kubectl-vm ([0-9a-f]{16}) core (\d{10}) (\d{10})\n/.exec(text);
  assert.ok(head, 'the router names its build and where the bundle lies');
  const region = Buffer.from(text, 'latin1').subarray(Number(head[2]), Number(head[2]) + Number(head[3])).toString('utf8');
  assert.match(region, /^\(function \(exports, require, module, __filename, __dirname\) \{/);
  assert.match(region, /\n\}\)$/);
  assert.is(text.match(/^\/\/# kubectl-vm client-node [0-9a-f]{16} /gm)?.length, 1);
  for (const f of executables) {
    const exe = fs.readFileSync(path.join(DIST, f), 'latin1');
    assert.not.match(exe, /kubectl-vm client-node/, f);
    assert.ok(exe.includes(`const HASH = "${head[1]}";`), `${f} loads this build's bundle`);
    assert.ok(exe.length < 40_000, `${f} is ${exe.length} bytes`);
  }
});

test('an exec plugin works through a link to the executable (as npm and krew install it)', async () => {
  const dir = tempDir();
  const { kubeconfig, ran } = execKubeconfig(dir);
  const bin = path.join(tempDir('kubectl-vm-bin-'), 'kubectl-vm-add_to_mesh');
  fs.symlinkSync(install(true), bin);
  const r = await run(bin, ['es', 'linked', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), kubeconfig), cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(ran), 'the exec plugin ran');
  assert.ok(server.object('v1', 'Service', 'vm', 'linked'));
});

test('without the router: a lone --help still answers; anything else is an internal error that says to reinstall', async () => {
  const exe = install(false);
  const env = childEnv(tempDir(), server.writeKubeconfig(path.join(tempDir(), 'kc')));
  const help = await run(exe, ['--help'], { env });
  assert.is(help.code, 0, help.stderr);
  assert.is(help.stdout, (await run(path.join(DIST, 'kubectl-vm-add_to_mesh'), ['--help'], { env })).stdout);
  for (const args of [['es', 'x', 'not-an-ip', 'http:80'], ['es', 'plain', '10.0.0.5', 'http:80', '-n', 'vm'], ['es', '--help']]) {
    const r = await run(exe, args, { env });
    assert.is(r.code, 70, args.join(' '));
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^error: cannot read .*\/kubectl-vm, which holds the code of every kubectl-vm command: ENOENT.*; reinstall kubectl-vm\n$/);
  }
  assert.not.ok(server.object('v1', 'Service', 'vm', 'plain'));
});

test('a router of another build is refused, not evaluated', async () => {
  const dir = tempDir();
  const mark = path.join(dir, 'evaluated');
  const other = `#!/usr/bin/env node\n// kubectl-vm 0000000000000000 core 0000000100 0000000010\nrequire("fs").writeFileSync(${JSON.stringify(mark)}, "");\n`;
  const r = await run(install(other), ['es', 'other', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), server.writeKubeconfig(path.join(dir, 'kc'))) });
  assert.is(r.code, 70);
  assert.match(r.stderr, /^error: .*\/kubectl-vm belongs to another version of kubectl-vm; reinstall kubectl-vm\n$/);
  assert.not.ok(fs.existsSync(mark));
});

test('a damaged copy of client-node only fails the kubeconfigs that need it', async () => {
  const text = router();
  const at = text.lastIndexOf('//# kubectl-vm client-node ');
  const exe = install(text.slice(0, at) + text.slice(at, at + 44) + 'not base64 brotli\n');
  const dir = tempDir();
  const env = childEnv(tempDir(), server.writeKubeconfig(path.join(dir, 'kc')));
  assert.is((await run(exe, ['--help'], { env })).code, 0);
  assert.is((await run(exe, ['es', 'x', 'not-an-ip', 'http:80'], { env })).code, 64);
  const plain = await run(exe, ['es', 'damaged-plain', '10.0.0.5', 'http:80', '-n', 'vm'], { env });
  assert.is(plain.code, 0, plain.stderr);
  const exec = await run(exe, ['es', 'damaged-exec', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), execKubeconfig(dir).kubeconfig), cwd: dir });
  assert.is(exec.code, 0, exec.stderr);
  const auth = await run(exe, ['es', 'damaged-auth', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), authProviderKubeconfig(dir)), cwd: dir });
  assert.is(auth.code, 70, auth.stderr);
  assert.match(auth.stderr, /^error: the client for auth-providers and socks proxies in .*\/kubectl-vm is damaged \(.*\); reinstall kubectl-vm$/m);
  assert.not.ok(server.object('v1', 'Service', 'vm', 'damaged-auth'));
});

test('the router lists its commands from text when all are installed, and computes the list when some are not', async () => {
  const full = await run(path.join(DIST, 'kubectl-vm'), ['--help']);
  assert.is(full.code, 0);
  assert.is(full.stdout, (await run(path.join(DIST, 'kubectl-vm'), ['--help', '-v'])).stdout);
  assert.is((await run(path.join(DIST, 'kubectl-vm'), [])).stdout, full.stdout);
  assert.match(full.stdout, /^ {2}doctor +Check every precondition/m);
  const dir = tempDir('kubectl-vm-install-');
  for (const f of fs.readdirSync(DIST).filter((n) => n !== 'kubectl-vm-doctor')) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  fs.chmodSync(path.join(dir, 'kubectl-vm'), 0o755);
  const partial = await run(path.join(dir, 'kubectl-vm'), ['--help']);
  assert.is(partial.code, 0);
  assert.is(partial.stdout, full.stdout.replace(/^ {2}doctor .*\n/m, ''));
});

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** stdout of a command under a pseudo-terminal (util-linux script) of the given width, with CRLF made LF. */
function underPty(command: string[], cols: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `stty cols ${cols} rows 40; exec ${command.map(shellQuote).join(' ')} 2>/dev/null`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.replace(/\r\n/g, '\n'));
      else reject(new Error(`${command.join(' ')} under a ${cols}-column terminal: exit ${code}\n${out}`));
    });
  });
}

test('every lone --help prints what yargs renders, on a pipe and on terminals of 150, 100 and 90 columns', async () => {
  for (const f of executables) {
    const exe = path.join(DIST, f);
    // `--help -v` is not a lone --help: yargs renders it.
    const viaYargs = (await run(exe, ['--help', '-v'])).stdout;
    const fast = await run(exe, ['--help']);
    assert.is(fast.code, 0, f);
    assert.is(fast.stdout, viaYargs, `${f} on a pipe`);
    assert.is((await run(exe, ['-h'])).stdout, viaYargs, `${f} -h`);
  }
  for (const f of ['kubectl-vm-add_to_mesh', 'kubectl-vm-workload_entry-configure', 'kubectl-vm-status']) {
    const exe = path.join(DIST, f);
    for (const cols of [150, 100, 90]) {
      const fast = await underPty([exe, '--help'], cols);
      assert.is(fast, await underPty([exe, '--help', '-v'], cols), `${f} at ${cols} columns`);
      const widest = Math.max(...fast.split('\n').map((l) => l.length));
      assert.ok(widest <= Math.min(cols, 120) && widest > Math.min(cols, 120) - 30, `${f} at ${cols} columns: lines up to ${widest}`);
    }
  }
});

test.run();
