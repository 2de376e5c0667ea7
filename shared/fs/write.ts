// Writing files safely: secrets 0600 in 0700 directories, each file replaced atomically (temp file + rename),
// and a whole directory of files written all or nothing.
import fs from 'node:fs';
import path from 'node:path';
import tmp from 'tmp';
import { CliError, ConflictError, ExitCode } from '../errors.ts';

export interface FileToWrite {
  name: string;
  content: string | Buffer;
  mode: number;
}

/** A file system error (ENOTDIR, EACCES, ENOSPC…) as the user's error, naming what could not be written. */
function cannotWrite(target: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof CliError || typeof e?.code !== 'string') return err;
  const at = e.path && path.resolve(e.path) !== path.resolve(target) ? ` at ${e.path}` : '';
  return new CliError(`cannot write ${target}: ${e.code}${at}`, ExitCode.general, { hint: 'check that the place exists, is a directory and is writable, or choose another', cause: err });
}

/** Writes one file atomically: a temp file in the same directory, then rename. */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number): void {
  try {
    writeFileAtomicUnchecked(file, content, mode);
  } catch (err) {
    throw cannotWrite(file, err);
  }
}

function writeFileAtomicUnchecked(file: string, content: string | Buffer, mode: number): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temp = tmp.tmpNameSync({ tmpdir: dir, prefix: `.${path.basename(file)}.`, postfix: '.tmp' });
  try {
    fs.writeFileSync(temp, content, { mode });
    fs.chmodSync(temp, mode);
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Writes a set of files into `dir` (mode 0700) all or nothing: they are first written completely into a temp
 * directory beside it; then the temp directory becomes `dir` if `dir` did not exist, or each file is renamed
 * into `dir` (files of `dir` that are not in the set stay). Nothing of `dir` changes if writing fails.
 */
export function writeDirectory(dir: string, files: FileToWrite[]): void {
  try {
    writeDirectoryUnchecked(dir, files);
  } catch (err) {
    throw cannotWrite(dir, err);
  }
}

function writeDirectoryUnchecked(dir: string, files: FileToWrite[]): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const staging = tmp.dirSync({ tmpdir: parent, prefix: `.${path.basename(dir)}.`, mode: 0o700 }).name;
  try {
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(staging, f.name)), { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(staging, f.name), f.content, { mode: f.mode });
      fs.chmodSync(path.join(staging, f.name), f.mode);
    }
    if (!fs.existsSync(dir)) {
      fs.renameSync(staging, dir);
      return;
    }
    fs.chmodSync(dir, 0o700);
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f.name)), { recursive: true, mode: 0o700 });
      fs.renameSync(path.join(staging, f.name), path.join(dir, f.name));
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Makes `dir/name` a symbolic link to `target`, atomically (a temp link, then rename), replacing a link that is
 * there; a regular file of that name is refused rather than overwritten. Returns the link's path.
 */
export function linkInto(dir: string, name: string, target: string): string {
  const link = path.join(dir, name);
  const existing = fs.lstatSync(link, { throwIfNoEntry: false });
  if (existing && !existing.isSymbolicLink()) throw new ConflictError(`${link} exists and is not a symbolic link`, { hint: 'remove it, or pass another --dir' });
  fs.mkdirSync(dir, { recursive: true });
  const temp = tmp.tmpNameSync({ tmpdir: dir, prefix: `.${name}.`, postfix: '.tmp' });
  fs.symlinkSync(target, temp);
  try {
    fs.renameSync(temp, link);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  return link;
}
