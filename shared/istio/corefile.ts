// Editing CoreDNS's Corefile for the `.global` stub domain (reference/istioctl.md §8, seed 000 "Setup DNS"): add or
// replace the one `global:53` server block and leave every other byte alone. The Corefile is Caddy's format:
// whitespace-separated tokens, "quoted strings" (with \" escapes), `#` comments from the start of a token to the end
// of the line, and blocks opened by a `{` token and closed by a `}` token. `{$ENV}` placeholders are words, not blocks.
import { DataError } from '../errors.ts';

export interface Token {
  text: string;
  start: number;
  end: number;
  line: number;
}

/** Splits a Corefile into tokens, skipping whitespace and comments; quoted strings are one token. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else {
      const start = i;
      const startLine = line;
      let quoted = false;
      while (i < src.length) {
        const c = src[i]!;
        if (quoted) {
          if (c === '\\' && i + 1 < src.length) i++;
          else if (c === '"') quoted = false;
          else if (c === '\n') line++;
        } else if (c === '"') quoted = true;
        else if (/\s/.test(c)) break;
        i++;
      }
      if (quoted) throw new DataError(`the Corefile has an unterminated quoted string starting on line ${startLine}`, { hint: 'fix the Corefile (kubectl -n kube-system edit configmap coredns), then run this again' });
      tokens.push({ text: src.slice(start, i), start, end: i, line: startLine });
    }
  }
  return tokens;
}

export interface ServerBlock {
  /** The server keys before `{`, e.g. [".:53"] or ["global:53"]. */
  keys: string[];
  /** Offset of the first key. */
  start: number;
  /** Offset just after the closing `}`. */
  end: number;
  /** The tokens between the braces. */
  body: Token[];
  line: number;
}

/** The top-level server blocks (snippets such as `(name) { … }` included), with their exact byte ranges. */
export function parseServerBlocks(src: string): ServerBlock[] {
  const tokens = tokenize(src);
  const blocks: ServerBlock[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    if (first.text === 'import') {
      // A top-level `import file-or-snippet`: its arguments are the rest of the line.
      i++;
      while (i < tokens.length && tokens[i]!.line === first.line) i++;
      continue;
    }
    if (first.text === '{' || first.text === '}') throw syntax(`unexpected "${first.text}" on line ${first.line}, where a server block should start`);
    const keys: string[] = [];
    let line = first.line;
    let continued = false;
    while (i < tokens.length && tokens[i]!.text !== '{') {
      const t = tokens[i]!;
      if (t.text === '}') throw syntax(`unexpected "}" on line ${t.line}`);
      // Keys go on one line, or on several when each line but the last ends in a comma.
      if (t.line !== line && !continued) throw syntax(`the server block "${keys.join(' ')}" on line ${first.line} has no "{"`);
      continued = t.text.endsWith(',');
      line = t.line;
      keys.push(t.text.replace(/,$/, ''));
      i++;
    }
    if (i >= tokens.length) throw syntax(`the server block "${keys.join(' ')}" on line ${first.line} has no "{"`);
    i++; // the "{"
    const bodyStart = i;
    let depth = 1;
    while (i < tokens.length && depth > 0) {
      if (tokens[i]!.text === '{') depth++;
      else if (tokens[i]!.text === '}') depth--;
      i++;
    }
    if (depth > 0) throw syntax(`the server block "${keys.join(' ')}" on line ${first.line} is not closed: a "}" is missing`);
    const close = tokens[i - 1]!;
    blocks.push({ keys: keys.filter((k) => k !== ''), start: first.start, end: close.end, body: tokens.slice(bodyStart, i - 1), line: first.line });
  }
  return blocks;
}

function syntax(message: string): DataError {
  return new DataError(`cannot parse the Corefile: ${message}`, { hint: 'fix the Corefile (kubectl -n kube-system edit configmap coredns), then run this again' });
}

/** The zone and port a server key stands for: `dns://global.:53` → global, 53. */
export function zoneOf(key: string): { zone: string; port: string } {
  let k = key.replace(/^dns:\/\//i, '');
  let port = '53';
  const colon = k.lastIndexOf(':');
  if (colon !== -1 && /^\d+$/.test(k.slice(colon + 1))) {
    port = k.slice(colon + 1);
    k = k.slice(0, colon);
  }
  const zone = k === '.' ? '.' : k.replace(/^\.+/, '').replace(/\.+$/, '').toLowerCase();
  return { zone, port };
}

const isGlobalKey = (key: string) => {
  const z = zoneOf(key);
  return z.zone === 'global' && z.port === '53';
};

/** `forward` from CoreDNS 1.4 on; `proxy` before (it was removed in 1.6, and `forward` only arrived in 1.4 as default). */
export type StubPlugin = 'forward' | 'proxy';

/** The indentation the Corefile uses for a block's directives (four spaces, as kubeadm writes it, when it has none). */
export function indentOf(src: string): string {
  const m = /\n([ \t]+)\S/.exec(src);
  return m ? m[1]! : '    ';
}

/** The block the seeds show: errors, cache 30, and forward (or proxy) to the istiocoredns Service. */
export function renderGlobalBlock(clusterIp: string, plugin: StubPlugin, indent = '    '): string {
  return ['global:53 {', `${indent}errors`, `${indent}cache 30`, `${indent}${plugin} . ${clusterIp}`, '}'].join('\n');
}

export interface CorefileEdit {
  text: string;
  changed: boolean;
  /** What was there before: the old block's text, or undefined when the block was added. */
  previous?: string;
}

/**
 * Adds a `global:53` block that sends `.global` to `clusterIp`, or replaces the one that is there. A block that
 * already has exactly these directives (whatever its spacing) is left as it is. Everything outside the block
 * is kept byte for byte. A block that serves `global` together with other zones is refused: it is someone's
 * hand-made configuration, and splitting it is for a person to decide.
 */
export function setGlobalStub(src: string, clusterIp: string, plugin: StubPlugin): CorefileEdit {
  const blocks = parseServerBlocks(src);
  const shared = blocks.find((b) => b.keys.length > 1 && b.keys.some(isGlobalKey));
  if (shared) {
    throw new DataError(`the server block "${shared.keys.join(' ')}" on line ${shared.line} of the Corefile serves global:53 together with other zones`, {
      hint: 'give global:53 a block of its own (kubectl -n kube-system edit configmap coredns), then run this again',
    });
  }
  const existing = blocks.filter((b) => b.keys.length === 1 && isGlobalKey(b.keys[0]!));
  if (existing.length > 1) {
    throw new DataError(`the Corefile has ${existing.length} global:53 server blocks (lines ${existing.map((b) => b.line).join(', ')}); CoreDNS refuses to start with that`, {
      hint: 'remove all but one (kubectl -n kube-system edit configmap coredns), then run this again',
    });
  }
  const block = renderGlobalBlock(clusterIp, plugin, indentOf(src));
  const old = existing[0];
  if (old) {
    const wanted = tokenize(block).map((t) => t.text);
    const have = [old.keys[0]!, '{', ...old.body.map((t) => t.text), '}'];
    if (have.length === wanted.length && have.every((t, i) => (i === 0 ? isGlobalKey(t) : t === wanted[i]))) return { text: src, changed: false, previous: src.slice(old.start, old.end) };
    return { text: src.slice(0, old.start) + block + src.slice(old.end), changed: true, previous: src.slice(old.start, old.end) };
  }
  // Appended after what is there, separated by a newline; the file keeps its final newline (or lack of one).
  const trimmed = src.replace(/\s+$/, '');
  const tail = src.slice(trimmed.length);
  const text = trimmed === '' ? `${block}\n` : `${trimmed}\n${block}${tail.includes('\n') ? tail : ''}`;
  return { text, changed: true };
}

/** Whether the Corefile's main server block reloads its configuration by itself (the `reload` plugin). */
export function hasReload(src: string): boolean {
  return parseServerBlocks(src).some((b) => b.keys.some((k) => zoneOf(k).zone === '.') && b.body.some((t) => t.text === 'reload'));
}

/**
 * The CoreDNS version in an image reference: `registry.k8s.io/coredns/coredns:v1.10.1` → [1, 10, 1];
 * `localhost:5000/coredns:1.3.1@sha256:…` → [1, 3, 1]. Undefined when the tag is not a version.
 */
export function imageVersion(image: string): [number, number, number] | undefined {
  const noDigest = image.split('@')[0]!;
  const lastPart = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon === -1) return undefined;
  return parseVersion(lastPart.slice(colon + 1));
}

export function parseVersion(text: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function stubPluginFor(version: readonly number[]): StubPlugin {
  const [major = 0, minor = 0] = version;
  return major > 1 || (major === 1 && minor >= 4) ? 'forward' : 'proxy';
}
