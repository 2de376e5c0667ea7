// Delivery over SSH (shared/ssh): files over SFTP into a private staging directory, commands through the
// login shell, as root (directly, or with `sudo -n` for another user). The VM's paths may be prefixed with the
// remote ROOT environment variable, which install.sh honours too (tests install under a temporary root).
import { sh } from '../../istio/sidecar-bootstrap.ts';
import type { SshSession } from '../../ssh/session.ts';
import { parseSha256sum, type DeliveredFile, type Delivery, type RunResult } from './types.ts';

export class SshDelivery implements Delivery {
  private sudo?: Promise<string>;

  constructor(private readonly session: SshSession) {}

  get where(): string {
    const t = this.session.target;
    return `${t.user}@${t.host}:${t.port}`;
  }

  /** '' when the login is root, else `sudo -n ` (no password prompt: a VM that asks fails clearly). */
  private prefix(): Promise<string> {
    this.sudo ??= this.session.exec('id -u').then((r) => (r.stdout.trim() === '0' ? '' : 'sudo -n '));
    return this.sudo;
  }

  async run(command: string): Promise<RunResult> {
    const p = await this.prefix();
    return this.session.exec(p ? `${p}sh -c ${sh(command)}` : command);
  }

  /** Staged over SFTP into a 0700 directory of the login user, then moved into place as root. */
  async put(files: DeliveredFile[]): Promise<void> {
    if (files.length === 0) return;
    const staging = (await this.session.exec('mktemp -d /tmp/kubectl-vm.XXXXXXXX')).stdout.trim();
    try {
      const moves: string[] = [];
      for (const [i, f] of files.entries()) {
        const temp = `${staging}/${i}`;
        await this.session.writeFile(temp, f.content, f.mode);
        const dest = `"\${ROOT:-}"${sh(f.path)}`;
        moves.push(`mkdir -p "$(dirname ${dest})" && cp ${sh(temp)} ${dest}.kubectl-vm.tmp && chmod ${f.mode.toString(8)} ${dest}.kubectl-vm.tmp && mv -f ${dest}.kubectl-vm.tmp ${dest}`);
      }
      const r = await this.run(moves.join(' && '));
      if (r.code !== 0) throw new Error(`${this.where}: cannot place files: ${r.stderr.trim().split('\n').pop()}`);
    } finally {
      await this.session.exec(`rm -rf ${sh(staging)}`);
    }
  }

  /** Uploads files into a fresh private staging directory (for install.sh to run from) and returns its path. */
  async stage(files: { name: string; content: string | Buffer; mode: number }[]): Promise<string> {
    const staging = (await this.session.exec('mktemp -d /tmp/kubectl-vm.XXXXXXXX')).stdout.trim();
    if (!staging.startsWith('/tmp/kubectl-vm.')) throw new Error(`${this.where}: mktemp -d failed`);
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
