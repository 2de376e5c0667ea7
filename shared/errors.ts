// The one error hierarchy of kubectl-vm. Every failure a user can see is a CliError; its exitCode follows
// sysexits(3), as istioctl does: the shared runner is the only place that prints errors and sets the exit code.

export const ExitCode = {
  ok: 0,
  /** Anything else: not found, conflict, an API error we cannot classify. */
  general: 1,
  /** EX_USAGE: bad or conflicting flags and arguments. */
  usage: 64,
  /** EX_DATAERR: bad input data, for example a file that is not valid YAML, or an object the API rejects. */
  data: 65,
  /** EX_UNAVAILABLE: no kubeconfig, or the cluster cannot be reached. */
  unavailable: 69,
  /** EX_SOFTWARE: a bug in kubectl-vm. */
  internal: 70,
  /** EX_NOPERM: the API server refused us (401/403). */
  forbidden: 77,
} as const;

export interface CliErrorOptions {
  /** One line that says what to do next. */
  hint?: string;
  /** Extra lines printed under the message, for example the causes of a 422 Invalid. */
  details?: string[];
  cause?: unknown;
}

export class CliError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly details: string[];

  constructor(message: string, exitCode: number = ExitCode.general, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** Bad flags or arguments (64). */
export class UsageError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.usage, options);
  }
}

/** Bad input data: a file, a YAML document, an object the API called invalid (65). */
export class DataError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.data, options);
  }
}

/** No usable kubeconfig: nothing found, a missing context, a file that does not parse (69). */
export class ConfigError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.unavailable, options);
  }
}

/** The API server cannot be reached, or kept failing after our retries (69). */
export class UnreachableError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.unavailable, options);
  }
}

/** A bug of ours (70). The runner adds a line asking the user to report it. */
export class InternalError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.internal, options);
  }
}

/** Something exists that should not, or is not ours to change (1). */
export class ConflictError extends CliError {
  constructor(message: string, options?: CliErrorOptions) {
    super(message, ExitCode.general, options);
  }
}

/** Turns anything thrown into a CliError; unknown errors are internal errors. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof Error) return new InternalError(err.message, { cause: err });
  return new InternalError(String(err));
}
