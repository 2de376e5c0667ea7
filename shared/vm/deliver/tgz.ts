// Delivery into a gzipped tar: the files, at their paths on the VM (relative), to unpack at / on the VM.
// Nothing can run there, and nothing can be read back.
import { tarGz } from '../../fs/tar.ts';
import { writeFileAtomic } from '../../fs/write.ts';
import { UsageError } from '../../errors.ts';
import type { DeliveredFile, Delivery, RunResult } from './types.ts';

export class TgzDelivery implements Delivery {
  private readonly files: DeliveredFile[] = [];

  constructor(readonly file: string) {}

  get where(): string {
    return this.file;
  }

  async put(files: DeliveredFile[]): Promise<void> {
    this.files.push(...files);
  }

  async run(command: string): Promise<RunResult> {
    throw new UsageError(`an archive cannot run commands (${command.split(' ')[0]}): unpack ${this.file} on the VM and run them there`);
  }

  async read(): Promise<string | undefined> {
    return undefined;
  }

  async sha256(): Promise<Map<string, string>> {
    return new Map();
  }

  /** Writes the archive (mode 0600: it may hold a token). */
  async close(): Promise<void> {
    writeFileAtomic(this.file, tarGz(this.files.map((f) => ({ name: f.path.replace(/^\/+/, ''), content: f.content, mode: f.mode }))), 0o600);
  }
}
