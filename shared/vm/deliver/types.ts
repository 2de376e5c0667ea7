// How files get to a VM, whatever the way (SSH, a local directory standing for the VM's root, an archive):
// put files atomically with their modes, run a command, read a file or digests back.
export interface DeliveredFile {
  /** Absolute path on the VM. */
  path: string;
  content: string | Buffer;
  mode: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Delivery {
  /** How messages name the target, e.g. `root@10.0.0.5:22`. */
  readonly where: string;
  /** Writes each file atomically (temp file + rename) with its mode, creating missing parents (0755). */
  put(files: DeliveredFile[]): Promise<void>;
  /** Runs a shell command as root on the VM. */
  run(command: string): Promise<RunResult>;
  /** A file's content, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** sha256 of each file that exists (hex), by path. */
  sha256(paths: string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/** Parses `sha256sum` output into path → digest. */
export function parseSha256sum(out: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) sums.set(m[2]!, m[1]!);
  }
  return sums;
}
