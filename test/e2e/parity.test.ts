// kubectl parity, side by side: every case is a kubeconfig variant plus flags and environment. The real kubectl
// (`kubectl create -f <Service and ServiceEntry> --dry-run=server -o name`) and kubectl-vm (`kubectl vm add-to-mesh
// es … --dry-run=server -o name`, the same two objects) run on it, and must both succeed or both fail with the
// same class of error (kubectl-vm may word it better). Each case also pins that class, so that both failing the
// same wrong way fails the test. Runs against the test API server in `npm test`, and against a real
// kube-apiserver in the real-cluster lane (KUBECTL_VM_E2E_KUBECONFIG). PARITY_TABLE=1 (`npm run parity`) prints
// the outcome table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DIST } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import {
  KUBECTL_VM,
  TEST_CA,
  classifyKubectl,
  classifyVm,
  clientCert,
  runProgram,
  startDripServer,
  startParityCluster,
  startPrefixFront,
  startProxy,
  type LoopbackServer,
  type Outcome,
  type ParityCluster,
  type ProgramResult,
  type Proxy,
} from '../helpers/parity.ts';

interface Ctx {
  cluster: ParityCluster;
  /** The case's own directory: the programs' working directory, where its files go. */
  dir: string;
  /** A kubeconfig for the cluster with the admin token; edit it per case. */
  base(): Kc;
  write(name: string, content: string | Buffer, mode?: number): string;
  /** An executable exec plugin in dir that prints `body` (sh) after `pre`. */
  plugin(name: string, script: string): string;
  credential(token: string, apiVersion?: string): string;
  proxy: Proxy;
  authProxy: Proxy;
  drip: LoopbackServer;
  front: LoopbackServer;
  deadPort: number;
}

type Kc = { clusters: { name: string; cluster: Record<string, unknown> }[]; users: { name: string; user: Record<string, unknown> }[]; contexts: { name: string; context: Record<string, unknown> }[]; [k: string]: unknown };

interface Case {
  item: string;
  name: string;
  expect: Outcome;
  /** kubectl-vm's class when it deliberately differs from kubectl's (documented in the README). */
  vmExpect?: Outcome;
  /** The kubeconfig (written to dir/kubeconfig and named by $KUBECONFIG); omitted: set up by `setup`. */
  kubeconfig?: (c: Ctx) => Kc;
  setup?: (c: Ctx) => { env?: Record<string, string>; kubeconfigEnv?: string | null };
  args?: (c: Ctx) => string[];
  /** kubectl-vm's executable and arguments, when not add-to-mesh. */
  vm?: (c: Ctx) => { exe: string; args: string[] };
  env?: (c: Ctx) => Record<string, string>;
  openStdin?: boolean;
  /** Run both under script(1), so that stdin is a terminal. */
  terminal?: boolean;
  needs?: 'signer' | 'mount-namespace';
  check?: (kubectl: ProgramResult, vm: ProgramResult, c: Ctx) => void;
}

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64');
const PROXIED_HOST = 'kube.parity.test';
const PREFIX = '/k8s/clusters/c-parity';

function baseKubeconfig(cluster: ParityCluster): Kc {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'parity',
    clusters: [{ name: 'parity', cluster: { server: cluster.server, 'certificate-authority-data': b64(cluster.ca) } }],
    users: [{ name: 'parity', user: { token: cluster.adminToken } }],
    contexts: [{ name: 'parity', context: { cluster: 'parity', user: 'parity', namespace: cluster.namespace } }],
  };
}

const edit = (fn: (kc: Kc, c: Ctx) => void) => (c: Ctx) => {
  const kc = c.base();
  fn(kc, c);
  return kc;
};
const cl = (kc: Kc) => kc.clusters[0]!.cluster;
const us = (kc: Kc) => kc.users[0]!.user;
/** The server as a name only the proxy resolves; the certificate is checked against "localhost", which it holds. */
const proxiedServer = (kc: Kc, c: Ctx) => {
  cl(kc).server = `https://${PROXIED_HOST}:${new URL(c.cluster.server).port}`;
  cl(kc)['tls-server-name'] = 'localhost';
};
const masters = (c: Ctx) => clientCert(c.cluster.signer!, 'ec', 'parity-admin', 'system:masters');

const CASES: Case[] = [
  // Variants that already matched, kept matched.
  { item: 'matched', name: 'bearer token', expect: 'ok', kubeconfig: (c) => c.base() },
  {
    item: 'matched',
    name: 'cert and key files, relative paths (RSA)',
    expect: 'ok',
    needs: 'signer',
    kubeconfig: edit((kc, c) => {
      const pem = clientCert(c.cluster.signer!, 'rsa', 'parity-admin', 'system:masters');
      c.write('certs/admin.crt', pem.cert);
      c.write('certs/admin.key', pem.key, 0o600);
      kc.users[0]!.user = { 'client-certificate': 'certs/admin.crt', 'client-key': 'certs/admin.key' };
    }),
  },
  ...(['ec', 'ed25519'] as const).map(
    (kind): Case => ({
      item: 'matched',
      name: `client-certificate-data and client-key-data, ${kind === 'ec' ? 'EC P-256' : 'Ed25519'} key`,
      expect: 'ok',
      needs: 'signer',
      kubeconfig: edit((kc, c) => {
        const pem = clientCert(c.cluster.signer!, kind, 'parity-admin', 'system:masters');
        kc.users[0]!.user = { 'client-certificate-data': b64(pem.cert), 'client-key-data': b64(pem.key) };
      }),
    }),
  ),
  {
    item: 'matched',
    name: 'tokenFile (relative path)',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      c.write('token', c.cluster.adminToken + '\n', 0o600);
      kc.users[0]!.user = { tokenFile: 'token' };
    }),
  },
  { item: 'matched', name: 'insecure-skip-tls-verify without a CA', expect: 'ok', kubeconfig: edit((kc) => Object.assign(cl(kc), { 'certificate-authority-data': undefined, 'insecure-skip-tls-verify': true })) },
  { item: 'matched', name: 'tls-server-name: localhost (a name the certificate holds)', expect: 'ok', kubeconfig: edit((kc) => (cl(kc)['tls-server-name'] = 'localhost')) },
  {
    item: 'matched',
    name: 'merged KUBECONFIG (context in one file, cluster and user in another, a third missing)',
    expect: 'ok',
    setup: (c) => {
      const kc = c.base();
      const first = c.write('first.yaml', yaml.dump({ apiVersion: 'v1', kind: 'Config', 'current-context': 'parity', contexts: kc.contexts }));
      const second = c.write('second.yaml', yaml.dump({ apiVersion: 'v1', kind: 'Config', clusters: kc.clusters, users: kc.users }));
      return { kubeconfigEnv: [first, path.join(c.dir, 'missing.yaml'), second].join(':') };
    },
  },
  {
    item: 'matched',
    name: 'overrides: --context picks a working context over a broken current one',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      kc.clusters.push({ name: 'broken', cluster: { server: `https://127.0.0.1:${c.deadPort}` } });
      kc.contexts.push({ name: 'broken', context: { cluster: 'broken', user: 'parity' } });
      kc['current-context'] = 'broken';
    }),
    args: () => ['--context', 'parity'],
  },
  {
    item: 'matched',
    name: 'overrides: --cluster and --user replace the context\'s',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      kc.clusters.unshift({ name: 'broken', cluster: { server: `https://127.0.0.1:${c.deadPort}` } });
      kc.users.unshift({ name: 'nobody', user: { token: 'not-a-token' } });
      kc.contexts[0]!.context = { cluster: 'broken', user: 'nobody', namespace: c.cluster.namespace };
    }),
    args: () => ['--cluster', 'parity', '--user', 'parity'],
  },
  { item: 'matched', name: 'RBAC 403 on serviceentries (a service account with rights on Services only)', expect: 'forbidden', kubeconfig: edit((kc, c) => (us(kc).token = c.cluster.limitedToken)) },
  {
    item: 'matched',
    name: 'an expired token',
    expect: 'unauthorized',
    kubeconfig: edit((kc, c) => (us(kc).token = c.cluster.expiredToken)),
    check: (_k, vm) => assert.not.match(vm.stderr, /auth whoami/, 'the 401 hint must work before Kubernetes 1.28'),
  },
  ...(['v1', 'v1beta1'] as const).map(
    (v): Case => ({
      item: 'matched',
      name: `exec plugin, client.authentication.k8s.io/${v}${v === 'v1' ? ' (interactiveMode: Never)' : ' (no interactiveMode)'}`,
      expect: 'ok',
      kubeconfig: edit((kc, c) => {
        const apiVersion = `client.authentication.k8s.io/${v}`;
        kc.users[0]!.user = { exec: { apiVersion, command: c.plugin('get-token', `echo '${c.credential(c.cluster.adminToken, apiVersion)}'`), ...(v === 'v1' ? { interactiveMode: 'Never' } : {}) } };
      }),
    }),
  ),
  {
    item: 'matched',
    name: 'proxy-url with user:pass',
    expect: 'ok',
    kubeconfig: edit((kc, c) => (cl(kc)['proxy-url'] = c.authProxy.url.replace('http://', 'http://parity:s3cret@'))),
    check: (_k, _vm, c) => assert.is(c.authProxy.connects, 1, 'kubectl-vm opened one tunnel for all its requests'),
  },
  { item: 'matched', name: 'Rancher-style path-prefixed server URL', expect: 'ok', kubeconfig: edit((kc, c) => Object.assign(cl(kc), { server: c.front.url, 'certificate-authority-data': b64(TEST_CA) })) },
  {
    item: 'matched',
    name: 'in-cluster configuration in a mount namespace',
    expect: 'ok',
    needs: 'mount-namespace',
    setup: (c) => inCluster(c, c.cluster.namespace),
  },

  // 1. HTTPS_PROXY, https_proxy, NO_PROXY
  {
    item: '1',
    name: 'HTTPS_PROXY; the server is a name only the proxy knows',
    expect: 'ok',
    kubeconfig: edit(proxiedServer),
    env: (c) => ({ HTTPS_PROXY: c.proxy.url }),
    check: (_k, _vm, c) => assert.is(c.proxy.connects, 1, 'kubectl-vm opened one tunnel for all its requests'),
  },
  { item: '1', name: 'https_proxy (lower case)', expect: 'ok', kubeconfig: edit(proxiedServer), env: (c) => ({ https_proxy: c.proxy.url }) },
  { item: '1', name: 'HTTPS_PROXY without a scheme (host:port)', expect: 'ok', kubeconfig: edit(proxiedServer), env: (c) => ({ HTTPS_PROXY: `127.0.0.1:${c.proxy.port}` }) },
  { item: '1', name: 'NO_PROXY names the server: no proxy, the name does not resolve', expect: 'unreachable', kubeconfig: edit(proxiedServer), env: (c) => ({ HTTPS_PROXY: c.proxy.url, NO_PROXY: `other.test,${PROXIED_HOST}` }) },
  { item: '1', name: 'NO_PROXY=.parity.test (a domain suffix)', expect: 'unreachable', kubeconfig: edit(proxiedServer), env: (c) => ({ HTTPS_PROXY: c.proxy.url, no_proxy: '.parity.test' }) },
  {
    item: '1',
    name: "NO_PROXY with the server's host:port",
    expect: 'unreachable',
    kubeconfig: edit(proxiedServer),
    env: (c) => ({ HTTPS_PROXY: c.proxy.url, NO_PROXY: `${PROXIED_HOST}:${new URL(c.cluster.server).port}` }),
  },
  {
    item: '1',
    name: 'NO_PROXY with other hosts, a CIDR and another port: still proxied',
    expect: 'ok',
    kubeconfig: edit(proxiedServer),
    env: (c) => ({ HTTPS_PROXY: c.proxy.url, NO_PROXY: `example.com,10.0.0.0/8,${PROXIED_HOST}:1,*.other.test` }),
  },
  { item: '1', name: 'NO_PROXY=*', expect: 'unreachable', kubeconfig: edit(proxiedServer), env: (c) => ({ HTTPS_PROXY: c.proxy.url, NO_PROXY: '*' }) },
  { item: '1', name: 'HTTP_PROXY only: not used for an https server', expect: 'unreachable', kubeconfig: edit(proxiedServer), env: (c) => ({ HTTP_PROXY: c.proxy.url }) },
  {
    item: '1',
    name: 'proxy-url wins over HTTPS_PROXY',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      proxiedServer(kc, c);
      cl(kc)['proxy-url'] = c.proxy.url;
    }),
    env: (c) => ({ HTTPS_PROXY: `http://127.0.0.1:${c.deadPort}` }),
  },
  { item: '1', name: 'HTTPS_PROXY is not used for a loopback server', expect: 'ok', kubeconfig: (c) => c.base(), env: (c) => ({ HTTPS_PROXY: `http://127.0.0.1:${c.deadPort}` }) },

  // 2. exec plugins that talk to the user
  {
    item: '2',
    name: "exec plugin's stderr reaches the user (a device-code login)",
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      const script = `echo 'To sign in, open https://login.example/device and enter the code PARITY-1234' >&2\necho '${c.credential(c.cluster.adminToken)}'`;
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('device-login', script), interactiveMode: 'IfAvailable' } };
    }),
    check: (k, vm) => {
      assert.match(k.stderr, /PARITY-1234/);
      assert.match(vm.stderr, /PARITY-1234/, "the plugin's stderr is shown");
    },
  },
  {
    item: '2',
    name: 'exec plugin that prompts, run without a terminal (stdin an open pipe)',
    expect: 'ok',
    openStdin: true,
    kubeconfig: edit((kc, c) => {
      const script = `if read -r answer; then echo "got '$answer' from stdin" >&2; fi\necho '${c.credential(c.cluster.adminToken)}'`;
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('prompting', script), interactiveMode: 'IfAvailable' } };
    }),
  },
  {
    item: '2',
    name: 'exec plugin with interactiveMode: Always and no terminal',
    expect: 'config',
    kubeconfig: edit((kc, c) => {
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('always', `echo '${c.credential(c.cluster.adminToken)}'`), interactiveMode: 'Always' } };
    }),
  },
  {
    item: '2',
    name: 'exec plugin gets the terminal as stdin (interactiveMode: IfAvailable, stdin a terminal)',
    expect: 'ok',
    terminal: true,
    kubeconfig: edit((kc, c) => {
      const script = [
        `[ -t 0 ] || { echo "stdin is not the terminal" >&2; exit 1; }`,
        `case "$KUBERNETES_EXEC_INFO" in *'"interactive":true'*) ;; *) echo "not interactive: $KUBERNETES_EXEC_INFO" >&2; exit 1;; esac`,
        `echo '${c.credential(c.cluster.adminToken)}'`,
      ].join('\n');
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('interactive', script), interactiveMode: 'IfAvailable' } };
    }),
  },
  {
    item: '2',
    name: 'exec plugin with provideClusterInfo reads KUBERNETES_EXEC_INFO',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      const script = [
        `info="$KUBERNETES_EXEC_INFO"`,
        `case "$info" in *'"server":"${c.cluster.server}"'*) ;; *) echo "no cluster in KUBERNETES_EXEC_INFO: $info" >&2; exit 1;; esac`,
        `case "$info" in *'"interactive":false'*) ;; *) echo "not interactive:false: $info" >&2; exit 1;; esac`,
        `case "$info" in *'"certificate-authority-data":"'*) ;; *) echo "no CA: $info" >&2; exit 1;; esac`,
        `echo '${c.credential(c.cluster.adminToken)}'`,
      ].join('\n');
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('cluster-info', script), interactiveMode: 'Never', provideClusterInfo: true } };
    }),
  },
  {
    item: '2',
    name: 'missing exec plugin shows installHint',
    expect: 'config',
    kubeconfig: edit((kc) => (kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'kubectl-vm-parity-no-such-plugin', interactiveMode: 'Never', installHint: 'Install it with: brew install parity-login' } })),
    check: (k, vm) => {
      assert.match(k.stderr, /brew install parity-login/);
      assert.match(vm.stderr, /brew install parity-login/, 'installHint is shown');
      assert.not.match(vm.stderr, /ENOENT/);
    },
  },
  {
    item: '2',
    name: 'exec plugin returning a client certificate',
    expect: 'ok',
    needs: 'signer',
    kubeconfig: edit((kc, c) => {
      const pem = masters(c);
      const cred = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { clientCertificateData: pem.cert, clientKeyData: pem.key } });
      c.write('cred.json', cred);
      kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('cert-login', `cat '${path.join(c.dir, 'cred.json')}'`), interactiveMode: 'Never' } };
    }),
  },

  // 3. kubectl's global flags
  { item: '3', name: '--token', expect: 'ok', kubeconfig: edit((kc) => (kc.users[0]!.user = {})), args: (c) => ['--token', c.cluster.adminToken] },
  { item: '3', name: '--server', expect: 'ok', kubeconfig: edit((kc, c) => (cl(kc).server = `https://127.0.0.1:${c.deadPort}`)), args: (c) => ['--server', c.cluster.server] },
  {
    item: '3',
    name: '-s <url> (kubectl vm remove-from-mesh, which has no -s of its own)',
    expect: 'ok',
    kubeconfig: edit((kc, c) => (cl(kc).server = `https://127.0.0.1:${c.deadPort}`)),
    args: (c) => ['-s', c.cluster.server],
    vm: (c) => ({ exe: path.join(DIST, 'kubectl-vm-remove_from_mesh'), args: ['es', 'parity', '--dry-run=server', '-s', c.cluster.server] }),
  },
  {
    item: '3',
    name: '-s <url> with add-to-mesh, where -s is istioctl\'s --service-account',
    expect: 'ok',
    vmExpect: 'usage',
    kubeconfig: edit((kc, c) => (cl(kc).server = `https://127.0.0.1:${c.deadPort}`)),
    args: (c) => ['-s', c.cluster.server],
    check: (_k, vm) => assert.match(vm.stderr, /--server/, 'the error names --server'),
  },
  { item: '3', name: '--insecure-skip-tls-verify (clears the kubeconfig CA)', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--insecure-skip-tls-verify'] },
  {
    item: '3',
    name: '--certificate-authority',
    expect: 'ok',
    kubeconfig: edit((kc) => delete cl(kc)['certificate-authority-data']),
    args: (c) => ['--certificate-authority', c.write('ca.crt', c.cluster.ca)],
  },
  {
    item: '3',
    name: '--client-certificate and --client-key',
    expect: 'ok',
    needs: 'signer',
    kubeconfig: edit((kc) => (kc.users[0]!.user = {})),
    args: (c) => {
      const pem = masters(c);
      return ['--client-certificate', c.write('flag.crt', pem.cert), '--client-key', c.write('flag.key', pem.key, 0o600)];
    },
  },
  { item: '3', name: '--tls-server-name localhost', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--tls-server-name', 'localhost'] },
  { item: '3', name: '--as alice (no groups): RBAC 403 for alice', expect: 'forbidden', kubeconfig: (c) => c.base(), args: () => ['--as', 'alice'] },
  { item: '3', name: '--as alice --as-group system:masters', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--as', 'alice', '--as-group', 'system:masters'] },
  { item: '3', name: '--as alice --as-group system:masters --as-uid 42', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--as', 'alice', '--as-group', 'system:masters', '--as-uid', '42'] },
  { item: '3', name: '--as-group without --as', expect: 'config', kubeconfig: (c) => c.base(), args: () => ['--as-group', 'system:masters'] },
  {
    item: '3',
    name: '--username and --password (the server ignores basic auth: anonymous, 403)',
    expect: 'forbidden',
    kubeconfig: edit((kc) => (kc.users[0]!.user = {})),
    args: () => ['--username', 'admin', '--password', 'secret'],
  },
  { item: '3', name: '--disable-compression', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--disable-compression'] },
  { item: '3', name: '--cache-dir', expect: 'ok', kubeconfig: (c) => c.base(), args: (c) => ['--cache-dir', path.join(c.dir, 'cache')] },
  { item: '3', name: '--warnings-as-errors (no warnings)', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--warnings-as-errors'] },
  { item: '3', name: '--match-server-version', expect: 'version', kubeconfig: (c) => c.base(), args: () => ['--match-server-version'] },
  { item: '3', name: '--request-timeout=30s', expect: 'ok', kubeconfig: (c) => c.base(), args: () => ['--request-timeout=30s'] },

  // 4. impersonation from the kubeconfig, on every path
  { item: '4', name: 'as + as-groups [system:masters]', expect: 'ok', kubeconfig: edit((kc) => Object.assign(us(kc), { as: 'alice', 'as-groups': ['system:masters'] })) },
  { item: '4', name: 'as without as-groups: RBAC 403 for the user', expect: 'forbidden', kubeconfig: edit((kc) => (us(kc).as = 'alice')) },
  { item: '4', name: 'as-groups without as', expect: 'config', kubeconfig: edit((kc) => (us(kc)['as-groups'] = ['system:masters'])) },
  {
    item: '4',
    name: 'as + as-groups + as-uid + as-user-extra',
    expect: 'ok',
    kubeconfig: edit((kc) => Object.assign(us(kc), { as: 'alice', 'as-groups': ['system:masters'], 'as-uid': '42', 'as-user-extra': { scopes: ['view', 'edit'] } })),
  },
  {
    item: '4',
    name: 'as + as-groups through an exec plugin',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      kc.users[0]!.user = { as: 'alice', 'as-groups': ['system:masters'], exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('get-token', `echo '${c.credential(c.cluster.adminToken)}'`), interactiveMode: 'Never' } };
    }),
  },
  {
    item: '4',
    name: 'as + as-groups through proxy-url',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      Object.assign(us(kc), { as: 'alice', 'as-groups': ['system:masters'] });
      cl(kc)['proxy-url'] = c.proxy.url;
    }),
  },
  {
    item: '4',
    name: 'as without groups through proxy-url: 403',
    expect: 'forbidden',
    kubeconfig: edit((kc, c) => {
      us(kc).as = 'alice';
      cl(kc)['proxy-url'] = c.proxy.url;
    }),
  },

  // 5. proxy-url with tokenFile
  {
    item: '5',
    name: 'proxy-url + tokenFile',
    expect: 'ok',
    kubeconfig: edit((kc, c) => {
      c.write('token', c.cluster.adminToken, 0o600);
      kc.users[0]!.user = { tokenFile: 'token' };
      cl(kc)['proxy-url'] = c.proxy.url;
    }),
  },

  // 6. --request-timeout is a deadline
  {
    item: '6',
    name: '--request-timeout=2s against a server that drips a byte every 400 ms',
    expect: 'timeout',
    kubeconfig: edit((kc, c) => Object.assign(cl(kc), { server: c.drip.url, 'certificate-authority-data': b64(TEST_CA) })),
    args: () => ['--request-timeout=2s'],
    check: (k, vm) => {
      assert.ok(k.ms < 20_000, `kubectl gave up after ${k.ms} ms`);
      assert.ok(vm.ms < 20_000, `kubectl-vm gave up after ${vm.ms} ms`);
    },
  },

  // 7. kubeconfigs kubectl refuses
  { item: '7', name: 'insecure-skip-tls-verify with a CA', expect: 'config', kubeconfig: edit((kc) => (cl(kc)['insecure-skip-tls-verify'] = true)) },
  { item: '7', name: 'client certificate without a key', expect: 'config', kubeconfig: edit((kc, c) => (kc.users[0]!.user = { 'client-certificate-data': b64(c.cluster.ca) })) },
  {
    item: '7',
    name: 'exec v1 without interactiveMode',
    expect: 'config',
    kubeconfig: edit((kc, c) => (kc.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: c.plugin('get-token', `echo '${c.credential(c.cluster.adminToken)}'`) } })),
  },
  {
    item: '7',
    name: 'exec client.authentication.k8s.io/v1alpha1',
    expect: 'config',
    kubeconfig: edit((kc, c) => {
      const apiVersion = 'client.authentication.k8s.io/v1alpha1';
      kc.users[0]!.user = { exec: { apiVersion, command: c.plugin('get-token', `echo '${c.credential(c.cluster.adminToken, apiVersion)}'`), interactiveMode: 'Never' } };
    }),
  },
  { item: '7', name: 'token and basic auth together', expect: 'config', kubeconfig: edit((kc) => Object.assign(us(kc), { username: 'admin', password: 'secret' })) },
  {
    item: '7',
    name: 'certificate-authority and certificate-authority-data together',
    expect: 'config',
    kubeconfig: edit((kc, c) => (cl(kc)['certificate-authority'] = c.write('ca.crt', c.cluster.ca))),
  },

  // 8. in-cluster: POD_NAMESPACE
  {
    item: '8',
    name: 'in-cluster: POD_NAMESPACE wins over the service account namespace file',
    expect: 'ok',
    needs: 'mount-namespace',
    setup: (c) => {
      const s = inCluster(c, 'no-such-namespace');
      return { ...s, env: { ...s.env, POD_NAMESPACE: c.cluster.namespace } };
    },
  },

  // 9. hints
  { item: '9', name: 'a bad token (401)', expect: 'unauthorized', kubeconfig: edit((kc) => (us(kc).token = 'not-a-valid-token')), check: (_k, vm) => assert.not.match(vm.stderr, /auth whoami/) },
  {
    item: '9',
    name: 'a wrong tls-server-name',
    expect: 'tls',
    kubeconfig: edit((kc) => (cl(kc)['tls-server-name'] = 'wrong.example')),
    check: (_k, vm) => assert.match(vm.stderr, /^hint: .*tls-server-name/m, 'the hint names tls-server-name, not the CA'),
  },
  {
    item: '9',
    name: 'garbage in certificate-authority-data',
    expect: 'config',
    kubeconfig: edit((kc) => (cl(kc)['certificate-authority-data'] = b64('garbage'))),
    check: (_k, vm) => assert.match(vm.stderr, /unable to parse bytes as PEM block/),
  },
];

/** The service account files of a pod, mounted (in a private mount namespace) where client-go looks for them. */
function inCluster(c: Ctx, namespaceFile: string): { env: Record<string, string>; kubeconfigEnv: null } {
  const sa = path.join(c.dir, 'serviceaccount');
  c.write('serviceaccount/token', c.cluster.adminToken, 0o600);
  c.write('serviceaccount/ca.crt', c.cluster.ca);
  c.write('serviceaccount/namespace', namespaceFile);
  const u = new URL(c.cluster.server);
  return { env: { KUBERNETES_SERVICE_HOST: u.hostname, KUBERNETES_SERVICE_PORT: u.port, PARITY_SA_DIR: sa }, kubeconfigEnv: null };
}

const MOUNT_SCRIPT = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$PARITY_SA_DIR"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$@"';
const canUnshare = () => process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run && true']).status === 0;

const OBJECTS = (namespace: string) =>
  [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'parity' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'mesh-expansion-parity' },
      spec: { hosts: [`parity.${namespace}.svc.cluster.local`], ports: [{ name: 'http', number: 80, protocol: 'HTTP' }], endpoints: [{ address: '10.0.0.5' }], resolution: 'STATIC', location: 'MESH_INTERNAL' },
    },
  ]
    .map((o) => yaml.dump(o))
    .join('---\n');

interface Row {
  item: string;
  name: string;
  kubectl: Outcome | 'skipped';
  vm: Outcome | 'skipped';
  note?: string;
}
const rows: Row[] = [];
let cluster: ParityCluster;
let proxy: Proxy;
let authProxy: Proxy;
let drip: LoopbackServer;
let front: LoopbackServer;
let mountNamespaces = false;

const test = suite('kubectl parity: kubectl and kubectl-vm side by side on each kubeconfig variant, flag and environment');

test.before(async () => {
  cluster = await startParityCluster();
  const upstream = new URL(cluster.server);
  proxy = await startProxy(upstream);
  authProxy = await startProxy(upstream, { auth: 'parity:s3cret' });
  drip = await startDripServer();
  front = await startPrefixFront(upstream, cluster.ca, PREFIX);
  mountNamespaces = canUnshare();
});

test.after(async () => {
  await Promise.all([proxy?.close(), authProxy?.close(), drip?.close(), front?.close()]);
  await cluster?.close();
  if (process.env.PARITY_TABLE) {
    const lines = [
      `kubectl parity against the ${cluster.kind} (kubectl ${kubectlVersion()}):`,
      '',
      '| item | variant | kubectl | kubectl-vm | note |',
      '|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.item} | ${r.name.replace(/\|/g, '\\|')} | ${r.kubectl} | ${r.vm} | ${r.note ?? ''} |`),
    ];
    console.log('\n' + lines.join('\n') + '\n');
  }
});

function kubectlVersion(): string {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout).clientVersion.gitVersion;
  } catch {
    return '?';
  }
}

const deadPort = 1;

// PARITY_ONLY=<regex> runs only the matching cases (while working on one).
const only = process.env.PARITY_ONLY ? new RegExp(process.env.PARITY_ONLY) : undefined;
for (const c of CASES.filter((x) => !only || only.test(`[${x.item}] ${x.name}`))) {
  test(`[${c.item}] ${c.name}`, async () => {
    if ((c.needs === 'signer' && !cluster.signer) || (c.needs === 'mount-namespace' && !mountNamespaces)) {
      // CI has root, unshare and openssl (.ci/run installs it): there a case that cannot run is a failure.
      if (process.env.CI) assert.unreachable(`cannot run: ${c.needs === 'signer' ? 'no CA key at hand to mint client certificates (openssl?)' : 'needs root and unshare -m'}`);
      rows.push({ item: c.item, name: c.name, kubectl: 'skipped', vm: 'skipped', note: c.needs === 'signer' ? 'no CA key at hand' : 'needs root and unshare' });
      return;
    }
    const dir = tempDir('kubectl-vm-parity-');
    const ctx: Ctx = {
      cluster,
      dir,
      base: () => baseKubeconfig(cluster),
      write(name, content, mode = 0o644) {
        const file = path.join(dir, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode });
        return file;
      },
      plugin(name, script) {
        return ctx.write(`${name}.sh`, `#!/bin/sh\n${script}\n`, 0o755);
      },
      credential: (token, apiVersion = 'client.authentication.k8s.io/v1') => JSON.stringify({ apiVersion, kind: 'ExecCredential', status: { token } }),
      proxy,
      authProxy,
      drip,
      front,
      deadPort,
    };
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    let kubeconfigEnv: string | null = path.join(dir, 'kubeconfig');
    let setupEnv: Record<string, string> = {};
    if (c.kubeconfig) ctx.write('kubeconfig', yaml.dump(c.kubeconfig(ctx)), 0o600);
    if (c.setup) {
      const s = c.setup(ctx);
      if (s.kubeconfigEnv !== undefined) kubeconfigEnv = s.kubeconfigEnv;
      setupEnv = s.env ?? {};
    }
    const objects = ctx.write('objects.yaml', OBJECTS(cluster.namespace));
    const extra = c.args?.(ctx) ?? [];
    const env: Record<string, string | undefined> = {
      PATH: `${DIST}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      KUBECTL_VM_CACHE_DIR: 'off',
      ...(kubeconfigEnv ? { KUBECONFIG: kubeconfigEnv } : {}),
      ...setupEnv,
      ...c.env?.(ctx),
    };
    const inNs = c.needs === 'mount-namespace';
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const wrap = (exe: string, args: string[]): [string, string[]] =>
      inNs ? ['unshare', ['-m', 'sh', '-c', MOUNT_SCRIPT, 'sh', exe, ...args]] : c.terminal ? ['script', ['-qec', `stty cols 100 rows 30; exec ${[exe, ...args].map(quote).join(' ')}`, '/dev/null']] : [exe, args];
    const [kExe, kArgs] = wrap('kubectl', ['create', '-f', objects, '--dry-run=server', '-o', 'name', ...extra]);
    const vmCommand = c.vm?.(ctx) ?? { exe: KUBECTL_VM, args: ['es', 'parity', '10.0.0.5', 'http:80', '--dry-run=server', '-o', 'name', ...extra] };
    const [vExe, vArgs] = wrap(vmCommand.exe, vmCommand.args);
    const spec = { env, cwd: dir, openStdin: c.openStdin, timeoutMs: 30_000 };
    proxy.reset();
    authProxy.reset();
    const kubectl = await runProgram(kExe, { ...spec, args: kArgs }, classifyKubectl);
    const kubectlTunnels = proxy.connects + authProxy.connects;
    proxy.reset();
    authProxy.reset();
    const vm = await runProgram(vExe, { ...spec, args: vArgs }, classifyVm);
    const vmTunnels = proxy.connects + authProxy.connects;
    const notes = [
      ...(c.vmExpect ? ['deliberate: see README'] : []),
      ...(kubectlTunnels || vmTunnels ? [`proxy tunnels: kubectl ${kubectlTunnels}, kubectl-vm ${vmTunnels}`] : []),
    ];
    rows.push({ item: c.item, name: c.name, kubectl: kubectl.outcome, vm: vm.outcome, ...(notes.length ? { note: notes.join('; ') } : {}) });
    const show = `\n--- kubectl (exit ${kubectl.code}):\n${kubectl.stderr.slice(-1500)}\n--- kubectl-vm (exit ${vm.code}):\n${vm.stderr.slice(-1500)}`;
    assert.is(kubectl.outcome, c.expect, `kubectl: expected ${c.expect}, got ${kubectl.outcome}${show}`);
    assert.is(vm.outcome, c.vmExpect ?? c.expect, `kubectl-vm: expected ${c.vmExpect ?? c.expect}, got ${vm.outcome}${show}`);
    c.check?.(kubectl, vm, ctx);
  });
}

test.run();
