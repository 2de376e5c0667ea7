// shared/fs: an archive streamed in parts is the archive tarGz makes in one go, and a staged directory appears
// only on commit.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tarGz, tarGzWriter } from '../../shared/fs/tar.ts';
import { stageDirectory, type FileToWrite } from '../../shared/fs/write.ts';
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

test.run();
