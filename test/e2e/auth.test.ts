// Credentials and transport, against the test API server (it is the only one whose credentials we control):
// bearer tokens, client certificates, exec credential plugins (through @kubernetes/client-node), merged
// KUBECONFIG files, bad credentials, untrusted certificates, unreachable servers and request timeouts.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { childEnv } from '../helpers/cluster.ts';
import { runPlugin } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { TestApiServer } from '../apiserver/server.ts';

const test = suite('credentials and transport');
let server: TestApiServer;
test.before(async () => {
  server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm' } }] });
});
test.after(async () => {
  await server.close();
});

function kubeconfigWith(edit: (kc: any) => void, dir = tempDir()): string {
  const kc = server.kubeconfig();
  edit(kc);
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(file, yaml.dump(kc));
  return file;
}

const add = (kubeconfig: string, name: string, extra: string[] = []) =>
  runPlugin('kubectl-vm-add_to_mesh', ['es', name, '10.0.0.5', 'http:80', '-n', 'vm', ...extra], childEnv(tempDir(), kubeconfig));

test('a client certificate instead of a token', async () => {
  const dir = tempDir();
  const r = await runPlugin('kubectl-vm-add_to_mesh', ['es', 'cert', '10.0.0.5', 'http:80', '-n', 'vm'], childEnv(dir, server.writeKubeconfig(path.join(dir, 'kc'), { auth: 'certificate' })));
  assert.is(r.code, 0, r.stderr);
  assert.ok(server.object('v1', 'Service', 'vm', 'cert'));
});

test('an exec credential plugin, run through @kubernetes/client-node', async () => {
  const dir = tempDir();
  const marker = path.join(dir, 'exec-ran');
  const plugin = path.join(dir, 'get-token.sh');
  fs.writeFileSync(
    plugin,
    `#!/bin/sh\ntouch ${marker}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "${server.token}"\n`,
    { mode: 0o755 },
  );
  const kubeconfig = kubeconfigWith((kc) => {
    kc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './get-token.sh', interactiveMode: 'Never' } };
  }, dir);
  const r = await add(kubeconfig, 'exec');
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(marker), 'the exec plugin ran');
  assert.ok(server.object('v1', 'Service', 'vm', 'exec'));
});

test('a failing exec plugin is a credentials error that names the plugin', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'broken.sh'), '#!/bin/sh\necho "token expired, run login" >&2\nexit 3\n', { mode: 0o755 });
  const kubeconfig = kubeconfigWith((kc) => {
    kc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './broken.sh', interactiveMode: 'Never' } };
  }, dir);
  const r = await add(kubeconfig, 'brokenexec');
  assert.is(r.code, 69);
  assert.match(r.stderr, /^token expired, run login$/m, "the plugin's own stderr reaches the user");
  assert.match(r.stderr, /^error: the exec credential plugin ".*broken\.sh" of user "kubectl-vm-test" \(context "kubectl-vm-test"\) failed: exec: executable .*broken\.sh failed with exit code 3$/m);
  assert.match(r.stderr, /^hint: its own messages are above; run .*broken\.sh yourself to see why it fails/m);
});

/** An exec plugin that counts its runs in `count` and prints `tokens[n]` on its n-th run (the last one after that). */
function countingPlugin(dir: string, tokens: string[], extraStatus = ''): { file: string; runs: () => number } {
  const count = path.join(dir, 'runs');
  fs.writeFileSync(count, '');
  const cases = tokens.map((t, i) => `${i + 1}) tok='${t}';;`).join(' ');
  fs.writeFileSync(
    path.join(dir, 'counting.sh'),
    `#!/bin/sh
echo run >> ${count}
n=$(wc -l < ${count})
case $n in ${cases} *) tok='${tokens[tokens.length - 1]}';; esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"${extraStatus}}}' "$tok"
`,
    { mode: 0o755 },
  );
  return { file: './counting.sh', runs: () => fs.readFileSync(count, 'utf8').split('\n').filter(Boolean).length };
}

const execUser = (command: string) => (kc: any) => (kc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'Never' } });

test('an exec credential is kept for the whole run: the plugin runs once for several requests', async () => {
  const dir = tempDir();
  const plugin = countingPlugin(dir, [server.token!], ',"expirationTimestamp":"2099-01-01T00:00:00Z"');
  const r = await add(kubeconfigWith(execUser(plugin.file), dir), 'cached');
  assert.is(r.code, 0, r.stderr);
  assert.ok(server.object('networking.istio.io/v1', 'ServiceEntry', 'vm', 'mesh-expansion-cached'), 'two requests were made');
  assert.is(plugin.runs(), 1);
});

test('an expired exec credential is asked for again before the next request', async () => {
  const dir = tempDir();
  const plugin = countingPlugin(dir, [server.token!], ',"expirationTimestamp":"2000-01-01T00:00:00Z"');
  const r = await add(kubeconfigWith(execUser(plugin.file), dir), 'expiredcred');
  assert.is(r.code, 0, r.stderr);
  // add-to-mesh sends three requests: the Service, the ServiceEntry, and the Service read back (issue 12 §3).
  assert.is(plugin.runs(), 3, 'once per request (Service, ServiceEntry, the Service read back)');
});

test('after a 401 the exec plugin runs again and the request is retried with the new credential', async () => {
  const dir = tempDir();
  const plugin = countingPlugin(dir, ['stale-token', server.token!]);
  const r = await add(kubeconfigWith(execUser(plugin.file), dir), 'reexec');
  assert.is(r.code, 0, r.stderr);
  assert.is(plugin.runs(), 2);
  assert.ok(server.object('v1', 'Service', 'vm', 'reexec'));
  const other = tempDir();
  const stale = countingPlugin(other, ['stale-token']);
  const denied = await add(kubeconfigWith(execUser(stale.file), other), 'reexec2');
  assert.is(denied.code, 77, 'a plugin that keeps giving a rejected token is a 401 after one retry');
  // The first request: the first credential, then one more after its 401. A 401 changes nothing, so the failed
  // run has nothing to read back (issue 12 §3): no third request, and no third run of the plugin.
  assert.is(stale.runs(), 2);
});

test('--warnings-as-errors: the command completes, then exits 1 because the API server warned', async () => {
  server.inject({ method: 'POST', path: '/api/v1/namespaces/vm/services', warning: 'unknown field "spec.foo"' });
  const warned = await add(kubeconfigWith(() => undefined), 'warned', ['--warnings-as-errors']);
  server.clearFaults();
  assert.is(warned.code, 1, warned.stderr);
  assert.match(warned.stderr, /unknown field "spec\.foo"/);
  assert.match(warned.stderr, /^error: 1 warning received from the API server \(--warnings-as-errors\)$/m);
  assert.ok(server.object('v1', 'Service', 'vm', 'warned'), 'the command itself ran');
  server.inject({ method: 'POST', path: '/api/v1/namespaces/vm/services', warning: 'unknown field "spec.foo"' });
  const plain = await add(kubeconfigWith(() => undefined), 'warned2');
  server.clearFaults();
  assert.is(plain.code, 0, 'without the flag a warning is only a warning');
});

test('impersonation headers reach the server: --as, --as-group, --as-uid and as-user-extra', async () => {
  server.clearRequests();
  const r = await add(kubeconfigWith((kc) => (kc.users[0].user['as-user-extra'] = { scopes: ['view'] })), 'imp', ['--as', 'alice', '--as-group', 'system:masters', '--as-group', 'devs', '--as-uid', '42']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(server.requests[0]!.user, { name: 'alice', groups: ['system:masters', 'devs', 'system:authenticated'], uid: '42', extra: { scopes: ['view'] } });
});

test('KUBECONFIG with two files: the context and credentials come from where kubectl would take them', async () => {
  const dir = tempDir();
  const first = path.join(dir, 'first');
  fs.writeFileSync(first, yaml.dump({ apiVersion: 'v1', kind: 'Config', 'current-context': 'kubectl-vm-test' }));
  const second = server.writeKubeconfig(path.join(dir, 'second'), { namespace: 'vm' });
  const env = { ...childEnv(dir, ''), KUBECONFIG: `${first}:${second}` };
  const r = await runPlugin('kubectl-vm-add_to_mesh', ['es', 'merged', '10.0.0.5', 'http:80'], env);
  assert.is(r.code, 0, r.stderr);
  assert.ok(server.object('v1', 'Service', 'vm', 'merged'), 'namespace from the context in the second file');
});

test('a rejected token is exit 77 and says to refresh the credentials', async () => {
  const r = await add(kubeconfigWith((kc) => (kc.users[0].user = { token: 'wrong' })), 'badtoken');
  assert.is(r.code, 77);
  assert.match(r.stderr, /^error: the API server at https:\/\/127\.0\.0\.1:\d+ rejected the credentials of context "kubectl-vm-test": Unauthorized$/m);
  assert.match(r.stderr, /^hint: log in again/m);
});

test('an untrusted server certificate is exit 69 with a hint about the CA; insecure-skip-tls-verify accepts it', async () => {
  const untrusted = await add(kubeconfigWith((kc) => delete kc.clusters[0].cluster['certificate-authority-data']), 'untrusted');
  assert.is(untrusted.code, 69);
  assert.match(untrusted.stderr, /^hint: the server certificate is not trusted/m);
  const insecure = await add(
    kubeconfigWith((kc) => {
      delete kc.clusters[0].cluster['certificate-authority-data'];
      kc.clusters[0].cluster['insecure-skip-tls-verify'] = true;
    }),
    'insecure',
  );
  assert.is(insecure.code, 0, insecure.stderr);
});

test('an unreachable server is exit 69 and names it', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const r = await add(kubeconfigWith((kc) => (kc.clusters[0].cluster.server = `https://127.0.0.1:${port}`)), 'down');
  assert.is(r.code, 69);
  assert.match(r.stderr, new RegExp(`^error: cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port} \\(context "kubectl-vm-test"\\): connect ECONNREFUSED`, 'm'));
});

test('--request-timeout bounds a request that hangs', async () => {
  server.inject({ method: 'POST', path: '/api/v1/namespaces/vm/services', latencyMs: 10_000, times: 5 });
  const started = Date.now();
  const r = await add(kubeconfigWith(() => undefined), 'slow', ['--request-timeout=300ms']);
  server.clearFaults();
  assert.is(r.code, 69);
  assert.match(r.stderr, /the request did not complete within 0\.3s \(--request-timeout\)/);
  assert.ok(Date.now() - started < 8000, 'gave up long before the server answered (10 s)');
});

test('-vv logs every API request to stderr, and -v adds the causes of an error', async () => {
  const r = await add(kubeconfigWith(() => undefined), 'verbose', ['-vv']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /^POST https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/vm\/services\?fieldManager=kubectl-vm 201 in \d+ms$/m);
  const failed = await add(kubeconfigWith((kc) => (kc.clusters[0].cluster.server = 'https://127.0.0.1:1')), 'verbose2', ['-v']);
  assert.match(failed.stderr, /^cause: Error: connect ECONNREFUSED/m);
});

test.run();
