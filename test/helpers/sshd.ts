// A real OpenSSH server for tests: /usr/sbin/sshd -D -e on 127.0.0.1 at a free port, with its own host key,
// an authorized client key and a fake `docker` first on the PATH of every session (set by the authorized_keys
// line's environment= option, as an administrator could on a real VM). Everything lives in one temp directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from './tmp.ts';

export const SSHD = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => fs.existsSync(p));

export interface Sshd {
  port: number;
  dir: string;
  user: string;
  /** The client key the server accepts, and one it does not. */
  key: string;
  otherKey: string;
  /** The host key's public line (`ssh-ed25519 AAAA…`), and another host key's, for "changed". */
  hostPublicKey: string;
  otherHostPublicKey: string;
  /** Where the fake docker appends one line per call: its arguments, space-separated. */
  dockerLog: string;
  /**
   * Makes the fake docker exit 125 with this stderr line whenever its arguments contain `when` (by default
   * `run -d`: the start, not the `rm` before it), or succeed again with undefined.
   */
  failDocker(stderr?: string, when?: string): void;
  close(): Promise<void>;
}

function keygen(file: string, extra: string[] = []): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kubectl-vm-test', '-f', file, ...extra]);
  return fs.readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface SshdOptions {
  /**
   * Make the server a stand-in VM for commands a user types (`ssh vm 'sudo …'`, `scp … vm:`): sessions and SFTP
   * start in `<dir>/vm/home` instead of the real home directory, `sudo` runs its command with every absolute path
   * moved under `<dir>/vm` (and ROOT set to it, for install.sh), and `systemctl` only logs. Nothing outside the
   * server's directory is written.
   */
  sandbox?: boolean;
}

export const SFTP_SERVER = ['/usr/lib/openssh/sftp-server', '/usr/libexec/sftp-server', '/usr/libexec/openssh/sftp-server'].find((p) => fs.existsSync(p));

function sandboxFiles(dir: string, bin: string): string[] {
  const root = path.join(dir, 'vm');
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true });
  const log = path.join(dir, 'vm.log');
  fs.writeFileSync(
    path.join(bin, 'sudo'),
    `#!/bin/bash\necho "sudo $*" >> '${log}'\nargs=()\nfor a in "$@"; do case "$a" in /*) mkdir -p "${root}$(dirname "$a")"; args+=("${root}$a") ;; *) args+=("$a") ;; esac; done\nROOT='${root}' exec "\${args[@]}"\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> '${log}'\n`, { mode: 0o755 });
  const session = path.join(dir, 'session.sh');
  fs.writeFileSync(session, `#!/bin/sh\ncd '${home}' || exit 1\nif [ -z "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh; fi\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 });
  if (!SFTP_SERVER) throw new Error('sftp-server not found');
  return [`ForceCommand ${session}`, `Subsystem sftp ${SFTP_SERVER} -d ${home}`];
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  if (!SSHD) throw new Error('sshd not found');
  const dir = tempDir('kubectl-vm-sshd-');
  const user = os.userInfo().username;
  const hostPublicKey = keygen(path.join(dir, 'host_ed25519'));
  const otherHostPublicKey = keygen(path.join(dir, 'other_host_ed25519'));
  const clientPublic = keygen(path.join(dir, 'client_ed25519'));
  keygen(path.join(dir, 'other_ed25519'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const dockerLog = path.join(dir, 'docker.log');
  const failFile = path.join(dir, 'docker.fail');
  const failWhen = path.join(dir, 'docker.fail-when');
  fs.writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh\necho "$*" >> '${dockerLog}'\nif [ -f '${failFile}' ]; then case "$*" in *"$(cat '${failWhen}')"*) cat '${failFile}' >&2; exit 125 ;; esac; fi\ncase "$1" in run) echo 0123456789ab ;; rm) echo "$3" ;; esac\n`,
    { mode: 0o755 },
  );
  const sandbox = options.sandbox ? sandboxFiles(dir, bin) : ['Subsystem sftp internal-sftp'];
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `environment="PATH=${bin}:/usr/local/bin:/usr/bin:/bin" ${clientPublic}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(dir, 'host_ed25519')}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitUserEnvironment PATH',
        ...sandbox,
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const up = await new Promise<boolean>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Server listening on')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (!up) {
      if (attempt < 3 && /Address already in use/.test(log)) continue;
      throw new Error(`sshd did not start:\n${log}`);
    }
    return {
      port,
      dir,
      user,
      key: path.join(dir, 'client_ed25519'),
      otherKey: path.join(dir, 'other_ed25519'),
      hostPublicKey,
      otherHostPublicKey,
      dockerLog,
      failDocker: (stderr, when = 'run -d') => {
        if (stderr === undefined) return fs.rmSync(failFile, { force: true });
        fs.writeFileSync(failWhen, when);
        fs.writeFileSync(failFile, stderr + '\n');
      },
      close: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}
