// A real OpenSSH server for tests: /usr/sbin/sshd -D -e on 127.0.0.1 at a free port, with its own host key,
// an authorized client key and fake commands first on the PATH of every session (set by the authorized_keys
// line's environment= option, as an administrator could on a real VM). Everything lives in one temp directory.
//
// The fakes (docker, systemctl, dpkg, rpm, sudo; add more with addFake) append one line per call to calls.log,
// `<name> <args>`, and act on a temporary root: with { root: true } every session has ROOT=<dir>/root, which
// install.sh and kubectl-vm's remote commands put in front of every path. systemctl start/restart runs the
// ExecStartPre= lines of the unit's drop-ins under that root (the start path after a reboot), and remembers
// the unit as active; dpkg/rpm say a package is installed when <root>/var/lib/fake-packages/<name> exists.
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
  /** The temporary root of the sessions (ROOT), with { root: true }. */
  root: string;
  /** Every fake's calls, `<name> <args>`, in order. */
  calls(): string[];
  /** Adds (or replaces) a fake command on the sessions' PATH: a shell script body; $CALLS is the log, $ROOT the root. */
  addFake(name: string, body: string): void;
  /** Marks a package as installed (or not) for the fake dpkg and rpm. */
  setPackage(name: string, installed: boolean): void;
  /** sshd's own log so far (stderr, LogLevel VERBOSE or as asked). */
  log(): string;
  close(): Promise<void>;
}

export interface SshdOptions {
  /** Sessions get ROOT=<dir>/root (see above). */
  root?: boolean;
  /**
   * Make the server a stand-in VM for commands a user types (`ssh vm 'sudo …'`, `scp … vm:`): sessions and SFTP
   * start in `<dir>/vm/home` instead of the real home directory, `sudo` runs its command with every absolute path
   * moved under `<dir>/vm` (and ROOT set to it, for install.sh), and `systemctl` only logs. Every session has
   * ROOT=<dir>/vm as well (kubectl vm onboard's remote commands honour it) and the `istio-sidecar` package (fake
   * dpkg/rpm). Nothing outside the server's directory is written.
   */
  sandbox?: boolean;
  logLevel?: 'VERBOSE' | 'DEBUG1';
  /** Another key to accept (e.g. the jump host's client key). */
  extraAuthorizedKey?: string;
}

const FAKES: Record<string, string> = {
  systemctl: `unit() { for a in "$@"; do case "$a" in -*) ;; *) echo "\${a%.service}"; esac; done | tail -n 1; }
state="$ROOT/run/fake-systemd"
mkdir -p "$state"
case "$1" in
  start|restart)
    u=$(unit "$@")
    if [ "$1" = start ] && [ -f "$state/$u.active" ]; then exit 0; fi
    for conf in "$ROOT/etc/systemd/system/$u.service.d/"*.conf; do
      [ -f "$conf" ] || continue
      grep '^ExecStartPre=' "$conf" | sed -e 's/^ExecStartPre=//' -e 's/^-//' | while read -r shell script; do
        ROOT="$ROOT" "$shell" "$ROOT$script" || { echo "fake systemctl: ExecStartPre of $u failed" >&2; exit 1; }
      done || exit 1
    done
    date +%s%N > "$state/$u.active" ;;
  stop) rm -f "$state/$(unit "$@").active" ;;
  disable) case " $* " in *" --now "*) rm -f "$state/$(unit "$@").active" ;; esac ;;
  is-active) [ -f "$state/$(unit "$@").active" ] || exit 3 ;;
esac
exit 0
`,
  dpkg: `[ "$1" = -s ] && [ -f "$ROOT/var/lib/fake-packages/$2" ] && { echo "Package: $2"; echo "Status: install ok installed"; exit 0; }
echo "dpkg-query: package '$2' is not installed" >&2; exit 1
`,
  rpm: `[ "$1" = -q ] && [ -f "$ROOT/var/lib/fake-packages/$2" ] && { echo "$2-1.0-1.x86_64"; exit 0; }
echo "package $2 is not installed"; exit 1
`,
  sudo: `[ "$1" = -n ] && shift
exec "$@"
`,
};

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
  // It keeps the unit's state, as the other fake does, so that stop/disable --now and is-active agree (offboard checks).
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> '${log}'\nROOT="\${ROOT:-${root}}"\n${FAKES.systemctl}`, { mode: 0o755 });
  const session = path.join(dir, 'session.sh');
  fs.writeFileSync(session, `#!/bin/sh\ncd '${home}' || exit 1\nif [ -z "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh; fi\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 });
  if (!SFTP_SERVER) throw new Error('sftp-server not found');
  return [`ForceCommand ${session}`, `Subsystem sftp ${SFTP_SERVER} -d ${home}`];
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  if (!SSHD) throw new Error('sshd not found');
  const dir = tempDir('kubectl-vm-sshd-');
  // The sandboxed VM's root is <dir>/vm (as its sudo has it); sessions get ROOT too, and it has istio-sidecar.
  const root = path.join(dir, options.sandbox ? 'vm' : 'root');
  fs.mkdirSync(root);
  if (options.sandbox) {
    fs.mkdirSync(path.join(root, 'var/lib/fake-packages'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/fake-packages/istio-sidecar'), '');
  }
  const callsLog = path.join(dir, 'calls.log');
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
  const addFake = (name: string, body: string) =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nCALLS='${callsLog}'\nROOT="\${ROOT:-${root}}"\necho "${name} $*" >> "$CALLS"\n${body}`, { mode: 0o755 });
  addFake(
    'docker',
    `echo "$*" >> '${dockerLog}'\nif [ -f '${failFile}' ]; then case "$*" in *"$(cat '${failWhen}')"*) cat '${failFile}' >&2; exit 125 ;; esac; fi\nstate="$ROOT/run/fake-docker"; mkdir -p "$state"\n` +
      `name() { prev=; for a in "$@"; do [ "$prev" = --name ] && echo "$a"; prev="$a"; done; }\n` +
      `case "$1" in run) touch "$state/$(name "$@")"; echo 0123456789ab ;; rm) rm -f "$state/$3"; echo "$3" ;; inspect) last=; for a in "$@"; do last="$a"; done; if [ -f "$state/$last" ]; then echo true; else echo "Error: No such object: $last" >&2; exit 1; fi ;; esac\n`,
  );
  for (const [name, body] of Object.entries(FAKES)) addFake(name, body);
  // The sandbox's own sudo and systemctl (for commands a user types) replace the fakes above.
  const sandbox = options.sandbox ? sandboxFiles(dir, bin) : ['Subsystem sftp internal-sftp'];
  const env = [`PATH=${bin}:/usr/local/bin:/usr/bin:/bin`, ...(options.root || options.sandbox ? [`ROOT=${root}`] : [])].map((e) => `environment="${e}"`).join(',');
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${env} ${clientPublic}\n${options.extraAuthorizedKey ? `${env} ${options.extraAuthorizedKey}\n` : ''}`, { mode: 0o600 });
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
        'PermitUserEnvironment PATH,ROOT',
        ...sandbox,
        `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
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
      root,
      calls: () => (fs.existsSync(callsLog) ? fs.readFileSync(callsLog, 'utf8').split('\n').filter(Boolean) : []),
      addFake,
      setPackage: (name, installed) => {
        const f = path.join(root, 'var/lib/fake-packages', name);
        if (installed) {
          fs.mkdirSync(path.dirname(f), { recursive: true });
          fs.writeFileSync(f, '');
        } else fs.rmSync(f, { force: true });
      },
      log: () => log,
      close: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}
