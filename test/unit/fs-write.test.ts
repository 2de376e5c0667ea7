// shared/fs: an archive streamed in parts is the archive tarGz makes in one go, and a staged directory appears
// only on commit.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tarGz, tarGzWriter } from '../../shared/fs/tar.ts';
import { bytesOf, stageDirectory, type FileToWrite } from '../../shared/fs/write.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('fs: streamed archives and staged directories');

const files: FileToWrite[] = Array.from({ length: 600 }, (_, i) => ({ name: `ns-${i % 7}/g${i}/file-${i}`, content: `content ${i}\n`.repeat(i % 50), mode: i % 3 ? 0o644 : 0o600 }));

test('tarGzWriter: the same bytes as tarGz, whatever the parts; mode 0600; no temp file left', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'a.tgz');
  const w = tarGzWriter(file, 0o600);
  try {
    for (let i = 0; i < files.length; i += 97) await w.add(files.slice(i, i + 97));
    assert.not.ok(fs.existsSync(file), 'nothing in place before commit');
    await w.commit();
  } finally {
    w.discard();
  }
  assert.ok(fs.readFileSync(file).equals(tarGz(files)));
  assert.is(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.readdirSync(dir), ['a.tgz']);
});

test('tarGzWriter: discard without commit leaves nothing', async () => {
  const dir = tempDir();
  const w = tarGzWriter(path.join(dir, 'b.tgz'), 0o600);
  await w.add(files.slice(0, 10));
  w.discard();
  assert.equal(fs.readdirSync(dir), []);
});

test('stageDirectory: files added in parts appear only on commit; discard instead of commit leaves nothing', () => {
  const parent = tempDir();
  const dir = path.join(parent, 'out');
  const s = stageDirectory(dir);
  s.add(files.slice(0, 5));
  s.add(files.slice(5, 9));
  assert.not.ok(fs.existsSync(dir));
  s.commit();
  s.discard();
  assert.is(fs.readFileSync(path.join(dir, files[8]!.name), 'utf8'), String(files[8]!.content));
  assert.is(fs.statSync(path.join(dir, files[3]!.name)).mode & 0o777, 0o600);
  assert.equal(fs.readdirSync(parent), ['out']);
  const t = stageDirectory(path.join(parent, 'never'));
  t.add(files.slice(0, 3));
  t.discard();
  assert.equal(fs.readdirSync(parent), ['out']);
});

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

test('tarGz: the archive bytes are the ones the first implementation gave (headers from a template, one chunk per part)', () => {
  const more: FileToWrite[] = [
    { name: 'é/ü-ñame', content: Buffer.from([0, 1, 2, 255]), mode: 0o755 },
    { name: 'x'.repeat(100), content: 'ß'.repeat(700), mode: 0o600 },
  ];
  // The tar inside, recorded with the header-per-write TarStream before it was reworked for fleets (whose gzip
  // bytes at level 9 were fe6de986… and 49418e27…; the level is now gzip's default, 6).
  assert.is(sha256(zlib.gunzipSync(tarGz(files))), '10107a6107d7b2c8b008fdffc63414a903b14f639d9ffff9d3a9f7d3af57d124');
  assert.is(sha256(zlib.gunzipSync(tarGz([...files, ...more], 1234567890))), '63eef25f08b762c1bbc8bb19ee05b13f0db670ff240c2dc2fe29a8682f282967');
  assert.throws(() => tarGz([{ name: 'y'.repeat(101), content: '', mode: 0o644 }]), /longer than 100 bytes/);
});

test('bytesOf: UTF-8 bytes; a long string written again is encoded once, a different one anew', () => {
  const long = 'é'.repeat(2000);
  const a = bytesOf(long);
  assert.ok(a.equals(Buffer.from(long, 'utf8')));
  assert.is(bytesOf(long), a, 'the same text: the same bytes, not a new copy');
  const other = 'ü'.repeat(2000);
  assert.ok(bytesOf(other).equals(Buffer.from(other, 'utf8')));
  assert.ok(bytesOf('short ñ').equals(Buffer.from('short ñ', 'utf8')));
  const b = Buffer.from([1, 2, 3]);
  assert.is(bytesOf(b), b);
});

test.run();
