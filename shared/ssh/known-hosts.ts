// OpenSSH's known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): which host keys we trust for a host. Plain
// patterns (comma lists, `*` and `?` wildcards, `!` negation, `[host]:port` for ports other than 22), hashed
// entries (`|1|<salt>|<HMAC-SHA1(salt, host)>`, as `ssh-keygen -H` writes them) and the `@revoked` marker.
// `@cert-authority` lines are skipped: we do not verify host certificates.
import crypto from 'node:crypto';

export interface KnownHostLine {
  /** 1-based, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  patterns: string;
  keyType: string;
  /** The public key blob, decoded. */
  key: Buffer;
}

export type HostKeyVerdict =
  | { verdict: 'trusted'; line: number }
  | { verdict: 'unknown' }
  | { verdict: 'changed'; lines: number[]; knownTypes: string[] }
  | { verdict: 'revoked'; line: number };

/** Every usable line of a known_hosts file; comments, blank and malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostLine['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift()!.slice(1) as KnownHostLine['marker'];
    const [patterns, keyType, base64] = fields;
    if (!patterns || !keyType || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return;
    out.push({ line: i + 1, marker, patterns, keyType, key: Buffer.from(base64, 'base64') });
  });
  return out;
}

/** How a host is named in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = crypto.createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

/** Whether a line's host field names `name` (already in `[host]:port` form where needed). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    if (!globToRegExp(glob).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The lines that name this host, whatever their key. */
export function linesFor(lines: KnownHostLine[], host: string, port: number): KnownHostLine[] {
  const name = knownHostsName(host, port);
  return lines.filter((l) => l.marker !== 'cert-authority' && patternsMatch(l.patterns, name));
}

/** Trusted when a line for the host has this key; changed when lines for the host exist but none has it. */
export function verifyHostKey(lines: KnownHostLine[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const forHost = linesFor(lines, host, port);
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(key));
  if (revoked) return { verdict: 'revoked', line: revoked.line };
  const same = forHost.find((l) => !l.marker && l.key.equals(key));
  if (same) return { verdict: 'trusted', line: same.line };
  const others = forHost.filter((l) => !l.marker);
  if (others.length === 0) return { verdict: 'unknown' };
  return { verdict: 'changed', lines: others.map((l) => l.line), knownTypes: [...new Set(others.map((l) => l.keyType))] };
}

/** `SHA256:<base64 without padding>`, as ssh-keygen -l prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob (its first SSH string), e.g. ssh-ed25519. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

/** The line that trusts this key for this host. */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** ssh2's host-key algorithm names for the key types known for a host, so that the server shows one of those. */
export function hostKeyAlgorithms(keyTypes: string[]): string[] {
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}
