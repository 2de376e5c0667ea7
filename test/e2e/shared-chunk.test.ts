// dist/ holds one copy of client-node (the authenticators for exec plugins, auth-providers and proxy-url), at the
// end of the router: a plugin finds it through its own real location, reads it only for kubeconfigs that need
// it, and refuses a copy that belongs to another build.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { childEnv } from '../helpers/cluster.ts';
import { DIST, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('one copy of client-node in dist/');
let server: TestApiServer;
test.before(async () => {
  server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm' } }] });
});
test.after(async () => {
  await server.close();
});

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

/** A copy of the add-to-mesh executable and, unless left out, the router beside it. */
function install(withRouter: boolean | string): string {
  const dir = tempDir('kubectl-vm-install-');
  for (const f of ['kubectl-vm-add_to_mesh', 'package.json', ...(withRouter === true ? ['kubectl-vm'] : [])]) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
  if (typeof withRouter === 'string') fs.writeFileSync(path.join(dir, 'kubectl-vm'), withRouter, { mode: 0o755 });
  fs.chmodSync(path.join(dir, 'kubectl-vm-add_to_mesh'), 0o755);
  return path.join(dir, 'kubectl-vm-add_to_mesh');
}

test('the router carries the copy, and no plugin embeds its own', () => {
  const marker = /^\/\/# kubectl-vm client-node [0-9a-f]{16} /m;
  assert.match(fs.readFileSync(path.join(DIST, 'kubectl-vm'), 'latin1'), marker);
  for (const f of fs.readdirSync(DIST).filter((n) => n.startsWith('kubectl-vm-'))) {
    const text = fs.readFileSync(path.join(DIST, f), 'latin1');
    assert.not.match(text, marker, f);
    assert.ok(text.length < 700_000, `${f} is ${text.length} bytes`);
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

test('without the router: --help, usage errors, static credentials and exec plugins still work; an auth-provider is an internal error that says what to do', async () => {
  const exe = install(false);
  const env = childEnv(tempDir(), server.writeKubeconfig(path.join(tempDir(), 'kc')));
  assert.is((await run(exe, ['--help'], { env })).code, 0);
  assert.is((await run(exe, ['es', 'x', 'not-an-ip', 'http:80'], { env })).code, 64);
  const plain = await run(exe, ['es', 'plain', '10.0.0.5', 'http:80', '-n', 'vm'], { env });
  assert.is(plain.code, 0, plain.stderr);
  const dir = tempDir();
  const exec = await run(exe, ['es', 'noclient-exec', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), execKubeconfig(dir).kubeconfig), cwd: dir });
  assert.is(exec.code, 0, exec.stderr);
  const r = await run(exe, ['es', 'noclient', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), authProviderKubeconfig(dir)), cwd: dir });
  assert.is(r.code, 70);
  assert.match(r.stderr, /^error: cannot read .*kubectl-vm, which holds the client for auth-providers and socks proxies: .*; reinstall kubectl-vm$/m);
});

test('a router of another build is refused, not evaluated', async () => {
  const exe = install('#!/usr/bin/env node\n//# kubectl-vm client-node 0000000000000000 AAAA\n');
  const dir = tempDir();
  const r = await run(exe, ['es', 'other', '10.0.0.5', 'http:80', '-n', 'vm'], { env: childEnv(tempDir(), authProviderKubeconfig(dir)), cwd: dir });
  assert.is(r.code, 70);
  assert.match(r.stderr, /holds no client for auth-providers and socks proxies: it belongs to another version; reinstall kubectl-vm/);
});

test.run();
