import { UsageError } from '../errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration the way kubectl's --request-timeout does: a bare number is seconds, otherwise Go-style
 * units (`1m30s`, `500ms`). Returns milliseconds.
 */
export function parseDuration(flag: string, value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < v.length) {
    re.lastIndex = pos;
    const m = re.exec(v);
    if (!m) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (v === '' || pos !== v.length) {
    throw new UsageError(`invalid --${flag} "${value}": expected a number of seconds or a duration such as 30s, 2m or 1m30s`);
  }
  return Math.round(total);
}

/** A token lifetime flag in seconds: what TokenRequest accepts, 10 minutes to 2^32 seconds. */
export function tokenSeconds(flag: string, value: string, example = '1h'): number {
  const seconds = parseDuration(flag, value) / 1000;
  if (seconds < 600 || seconds > 2 ** 32) {
    throw new UsageError(`invalid --${flag} "${value}": it must be between 10 minutes and 2^32 seconds`, { hint: `the API server refuses shorter tokens; e.g. --${flag} ${example}` });
  }
  return seconds;
}

/** A duration flag that must be more than 0, in milliseconds. */
export function positiveDuration(flag: string, value: string): number {
  const ms = parseDuration(flag, value);
  if (ms <= 0) throw new UsageError(`invalid --${flag} "${value}": it must be more than 0`, { hint: `e.g. --${flag} 10s` });
  return ms;
}

/** --concurrency: 1 to 256. */
export function concurrency(value: string, example = 8): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`invalid --concurrency "${value}": expected 1 to 256`, { hint: `e.g. --concurrency ${example}` });
  return n;
}
