// Every example a user reads runs as written: each `kubectl vm …` line of a ```sh block in README.md, and each
// command under "Examples:" in the --help of every executable in the catalog (and of the subcommands that --help
// lists), run by bash (or the shell its comment names) through the real kubectl and the built executables, in
// order, against a fresh test API server seeded from test/fixtures/seeds/istio-install.yaml: one for the README,
// one for all the --help examples. Each must exit 0, or the code its text documents (`# exits N`). The
// conventions and the preconditions every example may rely on are in test/helpers/examples.ts and README.md
// § Testing; nothing here knows a particular example.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { loadSeed } from '../apiserver/seed.ts';
import { TestApiServer } from '../apiserver/server.ts';
import { childEnv } from '../helpers/cluster.ts';
import { helpExamples, helpSubcommands, readmeExamples, type Example } from '../helpers/examples.ts';
import { DIST, ROOT, runPlugin } from '../helpers/run.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';
import { tempDir } from '../helpers/tmp.ts';

const SEED = path.join(ROOT, 'test/fixtures/seeds/istio-install.yaml');
const FILES = path.join(ROOT, 'test/fixtures/examples');
const TIMEOUT_MS = 60_000;
const BOOTSTRAP = 'sidecar-bootstrap.istio.io';

const readme = readmeExamples(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

async function collectHelpExamples(): Promise<Example[]> {
  const env = { PATH: process.env.PATH, HOME: tempDir(), NO_COLOR: '1' };
  const per = await Promise.all(
    CATALOG.map(async (entry) => {
      const exe = executableName(entry.name);
      const help = await runPlugin(exe, ['--help'], env);
      if (help.code !== 0) throw new Error(`${exe} --help exited ${help.code}: ${help.stderr}`);
      const out = helpExamples(help.stdout, `${exe} --help`);
      for (const sub of helpSubcommands(help.stdout, `kubectl vm ${entry.name}`)) {
        const h = await runPlugin(exe, [sub, '--help'], env);
        out.push(...helpExamples(h.stdout, `${exe} ${sub} --help`));
      }
      return out;
    }),
  );
  return per.flat();
}
const help = await collectHelpExamples();

/** One reader's machine: a cluster, a working directory with the example files, a home with ssh set up for `vm`. */
interface Machine {
  server: TestApiServer;
  sshd: Sshd;
  env: Record<string, string | undefined>;
  cwd: string;
}

async function machine(sshd: Sshd): Promise<Machine> {
  const home = tempDir('kubectl-vm-examples-home-');
  const vmRoot = path.join(sshd.dir, 'vm');
  // Every WorkloadEntry's VM is the test sshd; its proxy files go under the sandboxed VM's root.
  const seed = loadSeed(SEED).map((o: any) =>
    o.kind === 'WorkloadEntry'
      ? {
          ...o,
          metadata: {
            ...o.metadata,
            annotations: {
              ...o.metadata.annotations,
              [`${BOOTSTRAP}/ssh-host`]: '127.0.0.1',
              [`${BOOTSTRAP}/ssh-port`]: String(sshd.port),
              [`${BOOTSTRAP}/ssh-user`]: sshd.user,
              [`${BOOTSTRAP}/proxy-config-dir`]: path.join(vmRoot, 'proxies', o.metadata.name),
            },
          },
        }
      : o,
  );
  const server = await TestApiServer.start({ seed });
  const kubeconfig = server.writeKubeconfig(path.join(home, '.kube', 'config'));
  const ssh = path.join(home, '.ssh');
  fs.mkdirSync(ssh, { mode: 0o700 });
  for (const name of ['vm.pem', 'id_ed25519']) fs.copyFileSync(sshd.key, path.join(ssh, name));
  for (const name of ['vm.pem', 'id_ed25519']) fs.chmodSync(path.join(ssh, name), 0o600);
  fs.writeFileSync(path.join(ssh, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
  fs.writeFileSync(path.join(ssh, 'config'), `Host vm\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${path.join(ssh, 'vm.pem')}\n  UserKnownHostsFile ${path.join(ssh, 'known_hosts')}\n  BatchMode yes\n`, { mode: 0o600 });
  const bin = tempDir('kubectl-vm-examples-bin-');
  fs.writeFileSync(
    path.join(bin, 'istioctl'),
    '#!/bin/sh\n# istioctl for the examples: `install -y -f -` checks that it was given an IstioOperator, and installs nothing.\n' +
      '[ "$*" = "install -y -f -" ] || { echo "istioctl (examples stub): only install -y -f - is known" >&2; exit 2; }\n' +
      'grep -q "^kind: IstioOperator$" || { echo "istioctl (examples stub): no IstioOperator on standard input" >&2; exit 1; }\n',
    { mode: 0o755 },
  );
  // OpenSSH reads ~/.ssh from the password database, not $HOME: ssh and scp are given this HOME's config.
  for (const tool of ['ssh', 'scp']) fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\nexec /usr/bin/${tool} -F "$HOME/.ssh/config" "$@"\n`, { mode: 0o755 });
  const cwd = tempDir('kubectl-vm-examples-cwd-');
  fs.cpSync(FILES, cwd, { recursive: true, dereference: true });
  const env = childEnv(home, kubeconfig, { PATH: `${bin}:${DIST}:${process.env.PATH ?? '/usr/bin:/bin'}` });
  return { server, sshd, env, cwd };
}

function runExample(m: Machine, e: Example): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const args = e.shell === 'bash' ? ['-o', 'pipefail', '-c', e.command] : ['-c', e.command];
    const child = spawn(e.shell, args, { cwd: m.cwd, env: m.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${TIMEOUT_MS} ms)`;
      process.kill(-child.pid!, 'SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: String(err) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

function examplesSuite(name: string, examples: Example[]) {
  const test = suite(name);
  let sshd: Sshd;
  let m: Machine;
  test.before(async () => {
    sshd = await startSshd({ sandbox: true });
    m = await machine(sshd);
  });
  test.after(async () => {
    await m?.server.close();
    await sshd?.close();
  });
  test('there are examples to run', () => {
    assert.ok(examples.length > 0);
  });
  for (const e of examples) {
    test(`${e.source}: ${e.command}`, async () => {
      const r = await runExample(m, e);
      assert.is(r.code, e.exits, `${e.source}\n$ ${e.command}\nexited ${r.code}, documented ${e.exits}:\n${r.output}`);
    });
  }
  test.run();
}

const meta = suite('examples');
meta('every executable in the catalog shows at least one example in its --help', () => {
  for (const entry of CATALOG) {
    const exe = executableName(entry.name);
    assert.ok(help.some((e) => e.source.startsWith(`${exe} `)), `${exe} --help has no examples`);
  }
});
meta('the README has examples in every section of a command', () => {
  for (const entry of CATALOG) assert.ok(readme.some((e) => e.command.includes(`kubectl vm ${entry.name.split(' ')[0]}`)), `no README example runs kubectl vm ${entry.name}`);
});
meta.run();

examplesSuite('README examples', readme);
examplesSuite('--help examples', help);
