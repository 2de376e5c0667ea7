// A YAML writer that produces the same bytes as Go's sigs.k8s.io/yaml (go-yaml v2), which is what kubectl -o yaml
// and istioctl print. The rules, checked against istio-golden/derived/serialization-check-output.txt:
// - map keys in go-yaml's "natural" order (compareKeys below);
// - sequences inside mappings are not indented; empty collections print as {} and [];
// - strings that would read back as another type (bools, numbers, null, timestamps) are double-quoted;
//   strings that cannot be plain (leading indicator, ": ", " #", edge spaces) are single-quoted;
// - strings with a line break use the literal block style;
// - long plain and quoted strings fold at spaces once the line passes 80 columns.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const BEST_WIDTH = 80;

/** Serialises a JSON-like value as go-yaml v2 would. Undefined object members are skipped, as in JSON. */
export function toYaml(value: unknown): string {
  const w = new Writer();
  w.node(normalise(value), 0, 'top');
  return w.finish();
}

function normalise(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => normalise(v === undefined ? null : v));
  if (typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return normalise((value as { toJSON(): unknown }).toJSON());
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value as object)) if (v !== undefined) out[k] = normalise(v);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  return String(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Key order: go-yaml compares rune by rune; at the first difference, letters compare by code point, a non-letter
// sorts before a letter, and runs of digits compare as numbers (so A2 < A10, B_ < BA, ISTIO_META_X < ISTIO_METAJSON).

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

export function compareKeys(a: string, b: string): number {
  const ar = Array.from(a);
  const br = Array.from(b);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! - br[i]!.codePointAt(0)!;
    if (al || bl) return bl ? -1 : 1;
    let an = 0;
    let bn = 0;
    if (ar[i] === '0' || br[i] === '0') {
      // Inside a number that already had a non-zero digit, a zero is an ordinary digit.
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = an * 10 + (ar[ai]!.charCodeAt(0) - 48);
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = bn * 10 + (br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn ? -1 : 1;
    if (ai !== bi) return ai < bi ? -1 : 1;
    return ar[i]!.codePointAt(0)! - br[i]!.codePointAt(0)!;
  }
  return ar.length - br.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Which strings would read back as something other than a string (go-yaml's resolver).

const NOT_STRINGS = new Set([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'],
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'],
  ...['', '~', 'null', 'Null', 'NULL', '<<'],
  ...['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'],
]);
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;

function resolvesToNonString(s: string): boolean {
  if (NOT_STRINGS.has(s)) return true;
  const first = s[0]!;
  if (first === '.') return YAML_FLOAT.test(s);
  if (!(isDigit(first) || first === '+' || first === '-')) return false;
  if (TIMESTAMP.test(s)) return true;
  const plain = s.replace(/_/g, '');
  if (/^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/.test(plain)) return true;
  if (YAML_FLOAT.test(plain)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalar analysis, after libyaml's yaml_emitter_analyze_scalar.

interface Analysis {
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

function isPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}
const isBreakChar = (c: string | undefined) => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankOrEnd = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || isBreakChar(c);

function analyse(s: string): Analysis {
  const chars = Array.from(s);
  let blockIndicators = s.startsWith('---') || s.startsWith('...');
  let special = false;
  let lineBreaks = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  let precededByWhitespace = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const followedByWhitespace = isBlankOrEnd(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else {
      if (c === ':' && followedByWhitespace) blockIndicators = true;
      if (c === '#' && precededByWhitespace) blockIndicators = true;
    }
    if (!isPrintable(c.codePointAt(0)!)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreakChar(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousBreak = true;
      previousSpace = false;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankOrEnd(c);
  }
  let blockPlain = true;
  let singleQuoted = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = block = false;
  if (lineBreaks) blockPlain = false;
  if (blockIndicators) blockPlain = false;
  return { multiline: lineBreaks, blockPlain, singleQuoted, block };
}

type Style = 'plain' | 'single' | 'double' | 'literal';

function chooseStyle(s: string, simpleKey: boolean): Style {
  const a = analyse(s);
  let style: Style;
  if (s.includes('\n')) style = 'literal';
  else if (s !== '' && !resolvesToNonString(s) && !BASE60_FLOAT.test(s)) style = 'plain';
  else style = 'double';
  if (style === 'literal' && (!a.block || simpleKey)) style = 'double';
  if (style === 'plain') {
    if (!a.blockPlain || (simpleKey && a.multiline)) style = 'single';
  }
  if (style === 'single' && !a.singleQuoted) style = 'double';
  return style;
}

// ---------------------------------------------------------------------------------------------------------------
// The writer keeps the current column, which the folding rules need.

type Where = 'top' | 'map-value' | 'seq-item';

class Writer {
  private out = '';
  private column = 0;

  finish(): string {
    return this.out.endsWith('\n') ? this.out : this.out + '\n';
  }

  private write(s: string): void {
    this.out += s;
    const nl = s.lastIndexOf('\n');
    this.column = nl === -1 ? this.column + s.length : s.length - nl - 1;
  }

  private newline(indent: number): void {
    this.write('\n' + ' '.repeat(indent));
  }

  /**
   * Writes one node. `parent` is the column of the key or dash that owns it (0 at the top). Mapping keys and
   * folded scalar lines go two columns right of it; a sequence under a key keeps the key's column.
   */
  node(v: Json, parent: number, where: Where): void {
    const content = where === 'top' ? 0 : parent + 2;
    if (Array.isArray(v)) {
      if (v.length === 0) return this.write(where === 'top' ? '[]' : ' []');
      const dashes = where === 'map-value' ? parent : content;
      if (where === 'map-value') this.newline(dashes);
      else if (where === 'seq-item') this.write(' ');
      v.forEach((item, i) => {
        if (i > 0) this.newline(dashes);
        this.write('-');
        this.node(item, dashes, 'seq-item');
      });
      return;
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v).sort(compareKeys);
      if (keys.length === 0) return this.write(where === 'top' ? '{}' : ' {}');
      keys.forEach((k, i) => {
        if (i > 0 || where === 'map-value') this.newline(content);
        else if (where === 'seq-item') this.write(' ');
        this.scalar(k, content, true);
        this.write(':');
        this.node(v[k]!, content, 'map-value');
      });
      return;
    }
    if (where !== 'top') this.write(' ');
    if (typeof v === 'string') this.scalar(v, content, false);
    else this.write(formatNonString(v));
  }

  private scalar(s: string, indent: number, simpleKey: boolean): void {
    switch (chooseStyle(s, simpleKey)) {
      case 'plain':
        return this.plain(s, indent, !simpleKey);
      case 'single':
        return this.singleQuoted(s, indent, !simpleKey);
      case 'double':
        return this.doubleQuoted(s, indent, !simpleKey);
      case 'literal':
        return this.literal(s, indent);
    }
  }

  private plain(s: string, indent: number, allowBreaks: boolean): void {
    const chars = Array.from(s);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== ' ') this.newline(indent);
        else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
  }

  private singleQuoted(s: string, indent: number, allowBreaks: boolean): void {
    const chars = Array.from(s);
    this.write("'");
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1 && chars[i + 1] !== ' ') {
          this.newline(indent);
        } else this.write(c);
        spaces = true;
      } else {
        this.write(c === "'" ? "''" : c);
        spaces = false;
      }
    }
    this.write("'");
  }

  private doubleQuoted(s: string, indent: number, allowBreaks: boolean): void {
    const chars = Array.from(s);
    this.write('"');
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      const cp = c.codePointAt(0)!;
      if (!isPrintable(cp) || c === '"' || c === '\\' || cp === 0xfeff || isBreakChar(c)) {
        this.write(escapeDouble(c, cp));
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.newline(indent);
          if (chars[i + 1] === ' ') this.write('\\');
        } else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
    this.write('"');
  }

  private literal(s: string, indent: number): void {
    let hints = '';
    if (s.startsWith(' ') || s.startsWith('\n')) hints += '2';
    if (!s.endsWith('\n')) hints += '-';
    else if (s.length === 1 || s.endsWith('\n\n')) hints += '+';
    this.write('|' + hints);
    const body = s.endsWith('\n') ? s.slice(0, -1) : s;
    for (const line of body.split('\n')) {
      if (line === '') this.write('\n');
      else this.newline(indent), this.write(line);
    }
  }
}

function escapeDouble(c: string, cp: number): string {
  const named: Record<number, string> = {
    0x00: '\\0', 0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r',
    0x1b: '\\e', 0x22: '\\"', 0x5c: '\\\\', 0x85: '\\N', 0xa0: '\\_', 0x2028: '\\L', 0x2029: '\\P',
  };
  if (named[cp] !== undefined) return named[cp]!;
  if (cp <= 0xff) return '\\x' + cp.toString(16).toUpperCase().padStart(2, '0');
  if (cp <= 0xffff) return '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  void c;
  return '\\U' + cp.toString(16).toUpperCase().padStart(8, '0');
}

function formatNonString(v: null | boolean | number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Number.isNaN(v)) return '.nan';
  if (v === Infinity) return '.inf';
  if (v === -Infinity) return '-.inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  // Go's strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent with at least two digits.
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const sign = e.startsWith('-') ? '-' : '+';
    return `${m}e${sign}${e.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(v);
}
