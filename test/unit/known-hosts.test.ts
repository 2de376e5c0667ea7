// known_hosts parsing and matching: plain and wildcard patterns, negation, [host]:port, hashed entries (checked
// against ssh-keygen -H's own output), markers, and the verdicts unknown / trusted / changed / revoked.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fingerprint, hostKeyAlgorithms, keyTypeOf, knownHostsLine, knownHostsName, parseKnownHosts, patternsMatch, verifyHostKey } from '../../shared/ssh/known-hosts.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('known_hosts');

/** A fake public key blob of the given type: string type, then some bytes. */
function blob(type: string, seed: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, crypto.createHash('sha256').update(seed).digest()]);
}
const A = blob('ssh-ed25519', 'a');
const B = blob('ssh-ed25519', 'b');
const R = blob('ssh-rsa', 'r');
const b64 = (k: Buffer) => k.toString('base64');

test('names: port 22 is the bare host, other ports [host]:port', () => {
  assert.is(knownHostsName('vm1', 22), 'vm1');
  assert.is(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222');
  assert.is(knownHostsLine('10.0.0.5', 2222, A), `[10.0.0.5]:2222 ssh-ed25519 ${b64(A)}`);
  assert.is(keyTypeOf(R), 'ssh-rsa');
});

test('patterns: lists, wildcards, negation, and case-insensitive host names', () => {
  assert.ok(patternsMatch('vm1,vm2', 'vm2'));
  assert.ok(patternsMatch('*.example.com', 'VM1.example.com'));
  assert.ok(patternsMatch('10.0.0.?', '10.0.0.7'));
  assert.not.ok(patternsMatch('10.0.0.?', '10.0.0.17'));
  assert.not.ok(patternsMatch('*.example.com,!bad.example.com', 'bad.example.com'));
  assert.ok(patternsMatch('[10.0.0.5]:2222', '[10.0.0.5]:2222'));
  assert.not.ok(patternsMatch('10.0.0.5', '[10.0.0.5]:2222'), 'a port-22 entry does not cover other ports');
});

test('parsing skips comments, blank, malformed and short lines, and keeps markers and line numbers', () => {
  const lines = parseKnownHosts(`# comment\n\nvm1 ssh-ed25519 ${b64(A)} comment here\nbroken\n@revoked * ssh-ed25519 ${b64(B)}\n@cert-authority *.example.com ssh-rsa ${b64(R)}\nvm2 ssh-ed25519 not*base64\n`);
  assert.equal(lines.map((l) => [l.line, l.marker, l.patterns, l.keyType]), [
    [3, undefined, 'vm1', 'ssh-ed25519'],
    [5, 'revoked', '*', 'ssh-ed25519'],
    [6, 'cert-authority', '*.example.com', 'ssh-rsa'],
  ]);
  assert.ok(lines[0]!.key.equals(A));
});

test('verdicts: trusted, unknown, changed (naming the lines and key types), revoked wins', () => {
  const lines = parseKnownHosts(`vm1 ssh-ed25519 ${b64(A)}\n[vm1]:2222 ssh-rsa ${b64(R)}\n@revoked * ssh-ed25519 ${b64(B)}\n`);
  assert.equal(verifyHostKey(lines, 'vm1', 22, A), { verdict: 'trusted', line: 1 });
  assert.equal(verifyHostKey(lines, 'vm9', 22, A), { verdict: 'unknown' });
  assert.equal(verifyHostKey(lines, 'vm1', 2222, A), { verdict: 'changed', lines: [2], knownTypes: ['ssh-rsa'] });
  assert.equal(verifyHostKey(lines, 'vm1', 22, B), { verdict: 'revoked', line: 3 });
  assert.equal(hostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519']), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
});

test('hashed entries written by ssh-keygen -H match their host (with and without a port) and nothing else', () => {
  const file = path.join(tempDir(), 'known_hosts');
  fs.writeFileSync(file, `vm1.example.com ssh-ed25519 ${b64(A)}\n[10.0.0.5]:2222 ssh-ed25519 ${b64(B)}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  const lines = parseKnownHosts(fs.readFileSync(file, 'utf8'));
  assert.ok(lines.every((l) => l.patterns.startsWith('|1|')), 'hashed');
  assert.equal(verifyHostKey(lines, 'vm1.example.com', 22, A), { verdict: 'trusted', line: 1 });
  assert.equal(verifyHostKey(lines, '10.0.0.5', 2222, B), { verdict: 'trusted', line: 2 });
  assert.equal(verifyHostKey(lines, '10.0.0.5', 22, B), { verdict: 'unknown' });
  assert.equal(verifyHostKey(lines, 'vm1.example.com', 22, B).verdict, 'changed');
});

test('fingerprints are ssh-keygen -l\'s SHA256 form', () => {
  const dir = tempDir();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
  const pub = fs.readFileSync(path.join(dir, 'k.pub'), 'utf8').split(' ');
  const expected = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
  assert.is(fingerprint(Buffer.from(pub[1]!, 'base64')), expected);
});

test.run();
