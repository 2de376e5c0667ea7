// Bounded retries: writes retry with exponential backoff and full jitter on 429, 5xx and dropped connections,
// honouring Retry-After; read-modify-write cycles retry on 409 Conflict.
import { isConflict } from './errors.ts';

export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** The longest Retry-After we are willing to wait for. */
  maxRetryAfterMs: number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const defaultBackoff: BackoffPolicy = {
  attempts: 5,
  baseMs: 200,
  maxMs: 3000,
  maxRetryAfterMs: 10_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** Why a failed attempt may be tried again, and after how long the server asked us to wait. */
export interface RetryVerdict {
  retry: boolean;
  retryAfterMs?: number;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export function verdictForStatus(status: number, retryAfterHeader: string | undefined): RetryVerdict {
  if (!RETRYABLE_STATUS.has(status)) return { retry: false };
  const seconds = retryAfterHeader === undefined ? NaN : Number(retryAfterHeader);
  return { retry: true, retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined };
}

/** A connection the server or the network dropped mid-request; a refused connection is not retried. */
export function isDroppedConnection(err: NodeJS.ErrnoException): boolean {
  return DROPPED.has(err.code ?? '') || /socket hang up/i.test(err.message);
}

/** The wait before attempt number `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(policy.random() * ceiling);
}

/**
 * Runs a read-modify-write cycle, starting over when the write hits a resourceVersion conflict (409 Conflict, not
 * AlreadyExists, unless `retryWhen` says otherwise). `cycle` must re-read the object each time.
 */
export async function retryOnConflict<T>(
  cycle: (attempt: number) => Promise<T>,
  policy: BackoffPolicy = defaultBackoff,
  attempts = 10,
  retryWhen: (err: unknown) => boolean = isConflict,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cycle(attempt);
    } catch (err) {
      if (!retryWhen(err) || attempt >= attempts) throw err;
      await policy.sleep(backoffDelay(Math.min(attempt, 4), policy));
    }
  }
}
