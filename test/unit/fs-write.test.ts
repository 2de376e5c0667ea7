// shared/fs: an archive streamed in parts is the archive tarGz makes in one go, and a staged directory appears
// only on commit.
import crypto from 'node:crypto';
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
  // Recorded with the header-per-write TarStream before it was reworked for fleets.
  assert.is(sha256(tarGz(files)), 'fe6de98620094b1731b51d5d91e4b19d5a6b2cc2430defc2c164d220769f32bf');
  assert.is(sha256(tarGz([...files, ...more], 1234567890)), '49418e27d61d15bc75db903625bfeedf8b7fec8b521d29d1c1c594efd9de06cf');
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
