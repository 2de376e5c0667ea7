// The streams and environment a command runs with. The real ones come from process; tests pass buffers.

export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory, for ~/.kube/config. */
  home: string;
  cwd: string;
  /** The directory of the running executable, symlinks resolved (where its siblings are). */
  selfDir?: string;
}

/** An in-memory stream, for tests and for capturing output. */
export class BufferStream implements OutStream {
  text = '';
  constructor(readonly isTTY = false, readonly columns?: number) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** The exit status a shell reports for a program that SIGPIPE ended (128 + 13): kubectl's, when its reader goes. */
export const CLOSED_PIPE = 141;

/**
 * Calls `gone` when the reader of `stream` has gone away (`… | head -1`): a write fails with EPIPE, and any later
 * error of the stream belongs to that same end. Any other error is thrown, as without a listener.
 */
export function onReaderGone(stream: NodeJS.WritableStream, gone: () => void): void {
  let ended = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && !ended) throw err;
    ended = true;
    gone();
  });
}
