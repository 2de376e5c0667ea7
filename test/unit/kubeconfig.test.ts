import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../shared/errors.ts';
import { throwsCliError } from '../helpers/assert.ts';
import { hasKubeconfig, loadKubeconfig } from '../../shared/kube/kubeconfig.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('kubeconfig loading (kubectl rules)');

function write(dir: string, name: string, doc: object): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, yaml.dump(doc));
  // kubectl refuses a kubeconfig whose certificate-authority file cannot be opened.
  fs.writeFileSync(path.join(path.dirname(file), 'ca.crt'), '');
  return file;
}

const config = (ctx: string, server: string, extra: { namespace?: string; current?: string; user?: object } = {}) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: ctx, cluster: { server, 'certificate-authority': 'ca.crt' } }],
  users: [{ name: ctx, user: extra.user ?? { token: `token-${ctx}` } }],
  contexts: [{ name: ctx, context: { cluster: ctx, user: ctx, ...(extra.namespace ? { namespace: extra.namespace } : {}) } }],
  ...(extra.current !== undefined ? { 'current-context': extra.current } : {}),
});

const expectConfigError = (fn: () => unknown, message: RegExp) => throwsCliError(fn, ConfigError, message, 69);

test('KUBECONFIG with several files: the first to set a value wins, missing files are skipped', () => {
  const dir = tempDir();
  const a = write(dir, 'a/config', config('a', 'https://a:6443', { current: 'b' }));
  const b = write(dir, 'b/config', { ...config('b', 'https://b:6443', { current: 'a', namespace: 'team-b' }), clusters: [{ name: 'b', cluster: { server: 'https://b:6443' } }, { name: 'a', cluster: { server: 'https://ignored' } }] });
  const env = { KUBECONFIG: [a, path.join(dir, 'missing'), b].join(path.delimiter) };
  const loaded = loadKubeconfig({}, { env, home: dir });
  assert.is(loaded.contextName, 'b');
  assert.is(loaded.cluster.server, 'https://b:6443');
  assert.is(loaded.namespace, 'team-b');
  assert.is(loaded.namespaceSource, 'context');
  assert.equal(loaded.sources, [a, b]);
  const withContext = loadKubeconfig({ context: 'a' }, { env, home: dir });
  assert.is(withContext.cluster.server, 'https://a:6443');
  assert.is(withContext.cluster['certificate-authority'], path.join(dir, 'a', 'ca.crt'), 'relative paths resolve against their own file');
  assert.is(withContext.namespace, 'default');
});

test('namespace: -n, else the context, else "default"', () => {
  const dir = tempDir();
  const file = write(dir, 'kc', config('x', 'https://x', { current: 'x', namespace: 'from-context' }));
  assert.is(loadKubeconfig({ kubeconfig: file, namespace: 'flag' }, { env: {}, home: dir }).namespace, 'flag');
  assert.is(loadKubeconfig({ kubeconfig: file }, { env: {}, home: dir }).namespace, 'from-context');
});

test('--cluster and --user override the context; ~/.kube/config is the default file', () => {
  const dir = tempDir();
  write(dir, '.kube/config', { ...config('x', 'https://x', { current: 'x' }), clusters: [{ name: 'x', cluster: { server: 'https://x' } }, { name: 'y', cluster: { server: 'https://y' } }], users: [{ name: 'x', user: { token: 'tx' } }, { name: 'u2', user: { token: 't2' } }] });
  const loaded = loadKubeconfig({ cluster: 'y', user: 'u2' }, { env: {}, home: dir });
  assert.is(loaded.cluster.server, 'https://y');
  assert.is(loaded.user.token, 't2');
});

test('no kubeconfig at all is a clear error, never a fallback to localhost:8080', () => {
  const dir = tempDir();
  assert.is(hasKubeconfig({}, { env: {}, home: dir }), false);
  expectConfigError(() => loadKubeconfig({}, { env: {}, home: dir }), /^no kubeconfig found: looked at \$KUBECONFIG \(unset\) and .*\.kube\/config$/);
  expectConfigError(() => loadKubeconfig({ kubeconfig: path.join(dir, 'nope') }, { env: {}, home: dir }), /the kubeconfig file ".*nope" does not exist/);
});

test('a missing or unknown context names what is available', () => {
  const dir = tempDir();
  const file = write(dir, 'kc', config('only', 'https://x'));
  expectConfigError(() => loadKubeconfig({ kubeconfig: file }, { env: {}, home: dir }), /no current context is set/);
  expectConfigError(() => loadKubeconfig({ kubeconfig: file, context: 'nope' }, { env: {}, home: dir }), /context "nope" is not in/);
  const broken = path.join(dir, 'broken');
  fs.writeFileSync(broken, 'clusters: [\n');
  expectConfigError(() => loadKubeconfig({ kubeconfig: broken }, { env: {}, home: dir }), /cannot read kubeconfig/);
});

test('override flags win over the selected entries, with clientcmd\'s special cases for CA, insecure and tls-server-name', () => {
  const dir = tempDir();
  const file = write(dir, 'kc', {
    ...config('x', 'https://x:6443', { current: 'x' }),
    clusters: [{ name: 'x', cluster: { server: 'https://x:6443', 'certificate-authority': 'ca.crt', 'tls-server-name': 'x.internal' } }],
  });
  const io = { env: {}, home: dir };
  const insecure = loadKubeconfig({ kubeconfig: file, insecureSkipTlsVerify: true }, io);
  assert.is(insecure.cluster['certificate-authority'], undefined, '--insecure-skip-tls-verify alone drops the CA');
  assert.is(insecure.cluster['insecure-skip-tls-verify'], true);
  const server = loadKubeconfig({ kubeconfig: file, server: 'https://y:6443', token: 't2', as: 'alice', asGroup: ['g1', 'g2'], asUid: '42' }, io);
  assert.is(server.cluster.server, 'https://y:6443');
  assert.is(server.cluster['tls-server-name'], undefined, '--server drops the kubeconfig\'s tls-server-name');
  assert.is(server.user.token, 't2');
  assert.equal([server.user.as, server.user['as-groups'], server.user['as-uid']], ['alice', ['g1', 'g2'], '42']);
  assert.is(loadKubeconfig({ kubeconfig: file, tlsServerName: 'z' }, io).cluster['tls-server-name'], 'z');
  expectConfigError(() => loadKubeconfig({ kubeconfig: file, asGroup: ['system:masters'] }, io), /^requesting uid, groups or user-extra for x without impersonating a user$/);
});

test('kubeconfigs kubectl refuses are refused with kubectl\'s words', () => {
  const dir = tempDir();
  const io = { env: {}, home: dir };
  const load = (cluster: object, user: object) =>
    loadKubeconfig({ kubeconfig: write(dir, `kc-${Math.random()}`, { ...config('x', 'https://x', { current: 'x' }), clusters: [{ name: 'x', cluster: { server: 'https://x', ...cluster } }], users: [{ name: 'x', user }] }) }, io);
  expectConfigError(() => load({ 'certificate-authority-data': 'Zm9v', 'insecure-skip-tls-verify': true }, { token: 't' }), /^specifying a root certificates file with the insecure flag is not allowed$/);
  expectConfigError(() => load({}, { 'client-certificate-data': 'Zm9v' }), /^client-key-data or client-key must be specified for x to use the clientCert authentication method\.$/);
  expectConfigError(() => load({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x' } }), /^interactiveMode must be specified for x to use exec authentication plugin$/);
  expectConfigError(() => load({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x', interactiveMode: 'Never' } }), /^exec plugin: invalid apiVersion "client\.authentication\.k8s\.io\/v1alpha1"$/);
  expectConfigError(() => load({}, { token: 't', username: 'u', password: 'p' }), /^more than one authentication method found for x; found \[token basicAuth\], only one is allowed$/);
  expectConfigError(() => load({}, { 'as-uid': '42' }), /without impersonating a user/);
  expectConfigError(() => load({}, { 'client-certificate': 'missing.crt', 'client-key': 'missing.key' }), /^invalid configuration: \[unable to read client-cert .*missing\.crt for x due to open .*: no such file or directory, unable to read client-key/);
  assert.is(load({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'x' } }).user.exec?.command, 'x', 'v1beta1 defaults interactiveMode');
});

test.run();
