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
