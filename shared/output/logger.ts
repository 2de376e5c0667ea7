// Everything that is not data goes to stderr: warnings, notes, hints, progress and, with -vv, the API requests.
import type { Paint } from './color.ts';
import type { OutStream } from './io.ts';

export interface Logger {
  /** A plain line. */
  info(message: string): void;
  /** Something the user should know that is not a problem, e.g. "already gone". */
  note(message: string): void;
  warn(message: string): void;
  /** Shown with -vv. */
  debug(message: string): void;
  readonly verbosity: number;
}

export function createLogger(stderr: OutStream, paint: Paint, verbosity: number): Logger {
  const line = (s: string) => stderr.write(s + '\n');
  return {
    verbosity,
    info: line,
    note: (m) => line(`${paint.cyan('note:')} ${m}`),
    warn: (m) => line(`${paint.yellow('warning:')} ${m}`),
    debug: (m) => {
      if (verbosity >= 2) line(paint.dim(m));
    },
  };
}
