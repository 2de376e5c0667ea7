// Delivery into a local directory that stands for the VM's root (ROOT=dir): what tests and `--output-dir`
// style deliveries use. Commands run with bash, ROOT set to the directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../fs/write.ts';
import { sha256 } from '../layout.ts';
import type { DeliveredFile, Delivery, RunResult } from './types.ts';

export class LocalDelivery implements Delivery {
  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get where(): string {
    return this.root;
  }

  private at(p: string): string {
    return path.join(this.root, p);
  }

  async put(files: DeliveredFile[]): Promise<void> {
    for (const f of files) writeFileAtomic(this.at(f.path), f.content, f.mode);
  }

  run(command: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', command], { env: { ...this.env, ROOT: this.root }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  }

  async read(p: string): Promise<string | undefined> {
    try {
      return fs.readFileSync(this.at(p), 'utf8');
    } catch {
      return undefined;
    }
  }

  async sha256(paths: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of paths) {
      try {
        out.set(p, sha256(fs.readFileSync(this.at(p))));
      } catch {
        // missing: not in the map
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}
