// shared/fs/write.ts in process: all or nothing under a failure at every step of the swap, paths refused before
// anything changes, and each directory created once, each file created with its mode (issue 12 §2, issue 13).
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../../shared/errors.ts';
import { checkOutputDirectory, checkOutputFile, stageDirectory, writeDirectory, writeFileAtomic, type FileToWrite } from '../../shared/fs/write.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('shared/fs/write');

/** Every entry under `dir`: its kind, mode and content, so that "exactly as before" can be compared. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const s = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (s.isDirectory()) {
        out[rel] = `dir ${(s.mode & 0o7777).toString(8)}`;
        walk(p);
      } else out[rel] = `file ${(s.mode & 0o7777).toString(8)} ${fs.readFileSync(p, 'utf8')}`;
    }
  };
  out['.'] = `dir ${(fs.statSync(dir).mode & 0o7777).toString(8)}`;
  walk(dir);
  return out;
}

const FILES: FileToWrite[] = [
  { name: 'cluster.env', content: 'NEW env\n', mode: 0o644 },
  { name: 'istio-token', content: 'NEW token', mode: 0o600 },
  { name: 'sub/root-cert.pem', content: 'NEW cert\n', mode: 0o644 },
  { name: 'install.sh', content: '#!/bin/sh\n', mode: 0o755 },
];

function existingDir(): string {
  const dir = path.join(tempDir(), 'out');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'cluster.env'), 'OLD env\n', { mode: 0o640 });
  fs.chmodSync(path.join(dir, 'cluster.env'), 0o640);
  fs.writeFileSync(path.join(dir, 'keep.txt'), 'not ours\n');
  return dir;
}

/** Runs `fn` with fs[method] failing on its nth call from now; returns whether it failed there. */
function failingAt<K extends 'renameSync' | 'writeFileSync' | 'mkdirSync'>(method: K, nth: number, fn: () => void): boolean {
  const original = fs[method] as (...a: unknown[]) => unknown;
  let calls = 0;
  let hit = false;
  (fs as Record<string, unknown>)[method] = (...a: unknown[]) => {
    if (++calls === nth) {
      hit = true;
      throw Object.assign(new Error(`EIO: injected failure of ${method} #${nth}`), { code: 'EIO' });
    }
    return original.apply(fs, a);
  };
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CliError, `a CliError, not ${(err as Error).stack}`);
    assert.match((err as Error).message, /--output-dir/);
    assert.not.match((err as Error).message, /\.kubectl-vm-/, 'the message names the user\'s path, not a temp one');
  } finally {
    (fs as Record<string, unknown>)[method] = original;
  }
  return hit;
}

test('into an existing directory: a failure at any write, mkdir or rename leaves contents and modes exactly as before', () => {
  let injections = 0;
  for (const method of ['writeFileSync', 'mkdirSync', 'renameSync'] as const) {
    for (let nth = 1; ; nth++) {
      const dir = existingDir();
      const before = snapshot(dir);
      if (!failingAt(method, nth, () => writeDirectory(dir, FILES))) break;
      injections++;
      assert.equal(snapshot(dir), before, `${method} #${nth}`);
    }
  }
  assert.ok(injections >= 10, `${injections} injected failures`);
  const dir = existingDir();
  writeDirectory(dir, FILES);
  const after = snapshot(dir);
  assert.is(after['.'], 'dir 700', 'the directory is 0700 once the secrets are in');
  assert.is(after['cluster.env'], 'file 644 NEW env\n');
  assert.is(after['istio-token'], 'file 600 NEW token');
  assert.is(after['install.sh'], 'file 755 #!/bin/sh\n');
  assert.is(after['sub/root-cert.pem'], 'file 644 NEW cert\n');
  assert.is(after['keep.txt'], 'file 644 not ours\n', 'files not in the set stay');
  assert.equal(Object.keys(after).filter((k) => k.includes('.kubectl-vm-')), [], 'no temp left');
});

test('a new directory (and its missing parents): a failure at any step leaves nothing, no temp file beside it', () => {
  for (const method of ['writeFileSync', 'mkdirSync', 'renameSync'] as const) {
    for (let nth = 1; ; nth++) {
      const parent = tempDir();
      const dir = path.join(parent, 'new', 'parents', 'out');
      if (!failingAt(method, nth, () => writeDirectory(dir, FILES))) break;
      assert.equal(fs.readdirSync(parent), [], `${method} #${nth}`);
    }
  }
});

test('refused before anything changes: a regular file, a file in the way, a directory in the way, a file as parent', () => {
  const parent = tempDir();
  const file = path.join(parent, 'afile');
  fs.writeFileSync(file, 'hi\n', { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  const refuse = (fn: () => void, message: RegExp, code = 65) => {
    const before = snapshot(parent);
    try {
      fn();
      assert.unreachable('refused');
    } catch (err) {
      assert.instance(err, CliError, (err as Error).stack);
      assert.is((err as CliError).exitCode, code);
      assert.match((err as Error).message, message);
    }
    assert.equal(snapshot(parent), before);
  };
  refuse(() => writeDirectory(file, FILES), /^cannot write --output-dir .*\/afile: it is a file, not a directory$/);
  refuse(() => writeDirectory(path.join(file, 'sub'), FILES), /^cannot write --output-dir .*\/afile\/sub: .*\/afile is a file, not a directory$/);
  const dir = existingDir();
  fs.mkdirSync(path.join(dir, 'istio-token'));
  refuse(() => writeDirectory(dir, FILES), /istio-token exists and is not a regular file/);
  fs.rmdirSync(path.join(dir, 'istio-token'));
  fs.writeFileSync(path.join(dir, 'sub'), 'a file where a directory goes');
  refuse(() => writeDirectory(dir, FILES), /\/sub exists and is not a directory/);
  refuse(() => writeDirectory('/sys/kubectl-vm-x', FILES), /^cannot write --output-dir \/sys\/kubectl-vm-x: permission denied/, 77);
  refuse(() => checkOutputDirectory('/proc/kubectl-vm-x'), /^cannot write --output-dir \/proc\/kubectl-vm-x/, 65);
});

test('an archive: no missing parent is created; a directory is not a file name', () => {
  const parent = tempDir();
  for (const [target, message] of [
    [path.join(parent, 'missing', 'b.tgz'), /^cannot write --bundle .*\/missing\/b\.tgz: the directory .*\/missing does not exist$/],
    [parent, /^cannot write --bundle .*: it is a directory$/],
  ] as const) {
    try {
      writeFileAtomic(target, 'x', 0o600, '--bundle');
      assert.unreachable();
    } catch (err) {
      assert.is((err as CliError).exitCode, 65);
      assert.match((err as Error).message, message);
    }
  }
  assert.equal(fs.readdirSync(parent), []);
  assert.throws(() => checkOutputFile('/sys/kubectl-vm.tgz'), (e: CliError) => e.exitCode === 77 && /\/sys\/kubectl-vm\.tgz/.test(e.message));
  writeFileAtomic(path.join(parent, 'b.tgz'), 'archive', 0o600, '--bundle');
  assert.equal(fs.readdirSync(parent), ['b.tgz'], 'no temp left beside it');
  assert.is(fs.statSync(path.join(parent, 'b.tgz')).mode & 0o777, 0o600);
});

test('stageDirectory: parts added one by one land together on commit; discard without commit leaves nothing', () => {
  for (const existing of [false, true]) {
    const dir = existing ? existingDir() : path.join(tempDir(), 'a', 'out');
    const before = existing ? snapshot(dir) : undefined;
    const abandoned = stageDirectory(dir);
    abandoned.add(FILES.slice(0, 2));
    abandoned.discard();
    if (before) assert.equal(snapshot(dir), before);
    else assert.equal(fs.readdirSync(path.dirname(path.dirname(dir))), [], 'the parent made for it is gone too');
    const staged = stageDirectory(dir);
    staged.add(FILES.slice(0, 2));
    assert.is(fs.existsSync(path.join(dir, 'istio-token')), false, 'nothing in place before commit');
    staged.add(FILES.slice(2));
    staged.commit();
    staged.discard();
    const after = snapshot(dir);
    for (const f of FILES) assert.is(after[f.name], `file ${f.mode.toString(8)} ${f.content}`, f.name);
    assert.equal(Object.keys(after).filter((k) => k.includes('.kubectl-vm-')), []);
  }
});

test('issue 13: each directory is made once, and a file is chmod-ed only when the umask would clear its mode', () => {
  const files: FileToWrite[] = [];
  for (let d = 0; d < 10; d++) for (let f = 0; f < 50; f++) files.push({ name: `ns${d}/vm/f${f}`, content: 'x', mode: f === 0 ? 0o600 : 0o644 });
  const writeCounting = (umask: number) => {
    const target = path.join(tempDir(), 'fleet');
    const counts = { mkdirSync: 0, chmodSync: 0, eexist: 0 };
    const originals = { mkdirSync: fs.mkdirSync, chmodSync: fs.chmodSync };
    for (const m of ['mkdirSync', 'chmodSync'] as const) {
      (fs as Record<string, unknown>)[m] = (...a: unknown[]) => {
        counts[m]++;
        try {
          return (originals[m] as (...x: unknown[]) => unknown).apply(fs, a);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') counts.eexist++;
          throw err;
        }
      };
    }
    const saved = process.umask(umask);
    try {
      writeDirectory(target, files);
    } finally {
      Object.assign(fs, originals);
      process.umask(saved);
    }
    for (const f of files) assert.is(fs.statSync(path.join(target, f.name)).mode & 0o777, f.mode, f.name);
    return counts;
  };
  const usual = writeCounting(0o022);
  assert.is(usual.eexist, 0);
  assert.is(usual.mkdirSync, 1 + 20, 'the parent, then ns0..ns9 and ns*/vm, once each');
  assert.is(usual.chmodSync, 0, 'umask 022 clears none of 0644 and 0600: the modes given at creation stand');
  const strict = writeCounting(0o077);
  assert.is(strict.chmodSync, 490, 'umask 077 would clear the group and other bits of the 0644 files: those are chmod-ed');
});

test.run();
