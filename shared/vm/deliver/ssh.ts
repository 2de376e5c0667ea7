// Delivery over SSH (shared/ssh): files over SFTP into a private staging directory, commands through the
// login shell, as root (directly, or with `sudo -n` for another user). The VM's paths may be prefixed with the
// remote ROOT environment variable, which install.sh honours too (tests install under a temporary root).
import crypto from 'node:crypto';
import { sh } from '../../istio/sidecar-bootstrap.ts';
import type { SshSession } from '../../ssh/session.ts';
import { parseSha256sum, type DeliveredFile, type Delivery, type RunResult } from './types.ts';

export class SshDelivery implements Delivery {
  constructor(private readonly session: SshSession) {}

  get where(): string {
    const t = this.session.target;
    return `${t.user}@${t.host}:${t.port}`;
  }

  /**
   * As root: directly when the login is root, else through `sudo -n` (no password prompt: a VM that asks fails
   * clearly). Decided on the VM, so that it costs no round trip of its own.
   */
  async run(command: string): Promise<RunResult> {
    const q = sh(command);
    return this.session.exec(`if [ "$(id -u)" = 0 ]; then sh -c ${q}; else sudo -n sh -c ${q}; fi`);
  }

  /**
   * Several commands in one round trip (each in a subshell, stderr dropped); their output and exit code by name.
   * Each SSH exec costs a channel and a shell on the VM, so probes that read state are batched.
   */
  async runAll(commands: [name: string, command: string][]): Promise<Map<string, RunResult>> {
    const marker = `__kubectl_vm_${crypto.randomBytes(6).toString('hex')}__`;
    const script = commands.map(([name, c]) => `echo "${marker} ${name}"; ( ${c} ) 2> /dev/null; echo "${marker} rc $?"`).join('; ');
    const r = await this.run(script);
    const out = new Map<string, RunResult>();
    const re = new RegExp(`^${marker} (\\S+)\\n([\\s\\S]*?)${marker} rc (\\d+)$`, 'gm');
    for (const m of r.stdout.matchAll(re)) out.set(m[1]!, { code: Number(m[3]), stdout: m[2]!, stderr: '' });
    return out;
  }

  /** Staged over SFTP into a 0700 directory of the login user, then moved into place as root, in one command. */
  async put(files: DeliveredFile[]): Promise<void> {
    if (files.length === 0) return;
    const staging = await this.stage(files.map((f, i) => ({ name: String(i), content: f.content, mode: f.mode })));
    const moves = files.map((f, i) => {
      const dest = `"\${ROOT:-}"${sh(f.path)}`;
      return `mkdir -p "$(dirname ${dest})" && cp ${sh(`${staging}/${i}`)} ${dest}.kubectl-vm.tmp && chmod ${f.mode.toString(8)} ${dest}.kubectl-vm.tmp && mv -f ${dest}.kubectl-vm.tmp ${dest}`;
    });
    const r = await this.run(`${moves.join(' && ')}; rc=$?; rm -rf ${sh(staging)}; exit $rc`);
    if (r.code !== 0) throw new Error(`${this.where}: cannot place files: ${r.stderr.trim().split('\n').pop()}`);
  }

  /** Uploads files into a fresh private staging directory (for install.sh to run from) and returns its path. */
  async stage(files: { name: string; content: string | Buffer; mode: number }[]): Promise<string> {
    // A fresh name, created 0700 over SFTP (mkdir fails if it exists): no round trip for mktemp.
    const staging = `/tmp/kubectl-vm.${crypto.randomBytes(8).toString('hex')}`;
    await this.session.mkdir(staging, 0o700);
    for (const f of files) await this.session.writeFile(`${staging}/${f.name}`, f.content, f.mode);
    return staging;
  }

  async read(path: string): Promise<string | undefined> {
    const r = await this.run(`cat "\${ROOT:-}"${sh(path)} 2> /dev/null || echo '__kubectl_vm_missing__' >&2`);
    return r.stderr.includes('__kubectl_vm_missing__') ? undefined : r.stdout;
  }

  async sha256(paths: string[]): Promise<Map<string, string>> {
    if (paths.length === 0) return new Map();
    const r = await this.run(`cd "\${ROOT:-}/" && sha256sum ${paths.map((p) => sh(p.replace(/^\/+/, ''))).join(' ')} 2> /dev/null; true`);
    const out = new Map<string, string>();
    for (const [p, sum] of parseSha256sum(r.stdout)) out.set(`/${p}`, sum);
    return out;
  }

  async close(): Promise<void> {
    this.session.close();
  }
}
