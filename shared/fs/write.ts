// Writing files safely: secrets 0600 in 0700 directories, each file replaced atomically (temp file + rename),
// and a whole directory of files written all or nothing. Every path the user gave is checked before anything is
// asked of the cluster (checkOutputDirectory, checkOutputFile), and every failure names that path, never a temp
// file: a regular file is never chmod-ed or replaced by a directory, and no parent of an archive is created.
import fs from 'node:fs';
import path from 'node:path';
import { CliError, ConflictError, DataError, ExitCode } from '../errors.ts';

export interface FileToWrite {
  name: string;
  content: string | Buffer;
  mode: number;
}

const PROBE_PREFIX = '.kubectl-vm-';

/** The permission bits the process's umask clears (read by setting it and back; no thread can see the moment). */
function currentUmask(): number {
  const bits = process.umask(0o022);
  process.umask(bits);
  return bits;
}

/** The last long string encoded, and its bytes: a fleet writes the same install.sh thousands of times. */
let encoded: { text: string; bytes: Buffer } | undefined;

/** The UTF-8 bytes of `content`; a long string written again (the same text) is encoded only once. */
export function bytesOf(content: string | Buffer): Buffer {
  if (typeof content !== 'string') return content;
  if (content.length < 1024) return Buffer.from(content, 'utf8');
  if (encoded?.text !== content) encoded = { text: content, bytes: Buffer.from(content, 'utf8') };
  return encoded.bytes;
}

/** Creates a file with its mode (open, write, close); chmod only when the umask would have cleared some of the mode's bits. */
function createFile(file: string, content: string | Buffer, mode: number, umask: number): void {
  // A short string takes Node's native path (no Buffer made); a long one is encoded once (bytesOf) and reused.
  fs.writeFileSync(file, typeof content === 'string' && content.length < 1024 ? content : bytesOf(content), { mode, flag: 'wx' });
  if ((mode & umask) !== 0) fs.chmodSync(file, mode);
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** An error of the file system, about the path the user gave (`flag path`), with the exit code that fits. */
function pathError(flag: string, given: string, problem: string, err?: unknown): CliError {
  const code = errnoOf(err);
  const what = `${flag} ${given}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new CliError(`cannot write ${what}: ${code === 'EROFS' ? 'the file system is read-only' : 'permission denied'}${problem ? ` (${problem})` : ''}`, ExitCode.forbidden, {
      hint: `choose a ${flag === '--output-dir' ? 'directory' : 'place'} you can write to`,
      cause: err,
    });
  }
  return new DataError(`cannot write ${what}: ${problem}${code && !problem.includes(code) ? ` (${code})` : ''}`, { hint: `check the path given to ${flag}`, cause: err });
}

/** A file system error (ENOTDIR, EACCES, ENOSPC…) met while writing `target` as the user's error naming it; others unchanged. */
export function cannotWrite(target: string, err: unknown, flag = '--output-file'): unknown {
  if (err instanceof CliError || typeof errnoOf(err) !== 'string') return err;
  return pathError(flag, target, '', err);
}

/** Whether something can be created in the existing directory `dir`: a real probe, so that root, read-only mounts and /sys answer truly. */
function probeWritable(dir: string, flag: string, given: string): void {
  let probe: string;
  try {
    probe = fs.mkdtempSync(path.join(dir, PROBE_PREFIX));
  } catch (err) {
    throw pathError(flag, given, dir === path.resolve(given) ? '' : `in ${dir}`, err);
  }
  fs.rmdirSync(probe);
}

/** The nearest existing ancestor of `p` (p itself when it exists), with its stat. */
function nearestExisting(p: string): { at: string; stat: fs.Stats } {
  let at = path.resolve(p);
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at, { throwIfNoEntry: false });
    } catch (err) {
      if (errnoOf(err) !== 'ENOTDIR') throw err;
    }
    if (stat) return { at, stat };
    const up = path.dirname(at);
    if (up === at) throw new Error(`no existing ancestor of ${p}`);
    at = up;
  }
}

/**
 * Checks that `dir` can receive `names` (paths relative to it) before anything is minted or written: `dir` is a
 * directory or can be created as one, it can be written, and no file would land where a directory is (or a
 * directory where a file is). Throws an error naming `dir` as the user gave it; changes nothing.
 */
export function checkOutputDirectory(dir: string, names: string[] | (() => string[]) = [], flag = '--output-dir'): void {
  if (dir === '') throw new DataError(`${flag} needs a path`, { hint: `e.g. ${flag} ./out` });
  const { at, stat } = nearestExisting(dir);
  const abs = path.resolve(dir);
  if (!stat.isDirectory()) {
    throw new DataError(`cannot write ${flag} ${dir}: ${at === abs ? 'it is a file, not a directory' : `${at} is a file, not a directory`}`, {
      hint: at === abs ? `give a directory (new or existing) to ${flag}; the file is left as it is` : `check the path given to ${flag}`,
    });
  }
  probeWritable(at, flag, dir);
  if (at !== abs) return;
  // A fleet's names are only listed when the directory exists (a new one cannot hold anything in their way).
  for (const name of typeof names === 'function' ? names() : names) {
    const parts = name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = path.join(abs, ...parts.slice(0, i));
      const s = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!s) break;
      const last = i === parts.length;
      if (last && !s.isFile()) throw new DataError(`cannot write ${flag} ${dir}: ${path.join(dir, name)} exists and is not a regular file`, { hint: `move it away, or give another ${flag}; nothing was written` });
      if (!last && !s.isDirectory()) throw new DataError(`cannot write ${flag} ${dir}: ${path.join(dir, ...parts.slice(0, i))} exists and is not a directory`, { hint: `move it away, or give another ${flag}; nothing was written` });
    }
  }
}

/**
 * Checks that the file `file` can be written (replaced atomically): its directory exists (none is created: as
 * with `tar -f` or a shell redirect) and can be written, and `file` is not a directory. Changes nothing.
 */
export function checkOutputFile(file: string, flag = '--output-file'): void {
  if (file === '') throw new DataError(`${flag} needs a path`, { hint: `e.g. ${flag} vm.tgz` });
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const dirStat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!dirStat) throw new DataError(`cannot write ${flag} ${file}: the directory ${path.dirname(file)} does not exist`, { hint: `create it first (mkdir -p ${path.dirname(file)}), or give another path` });
  if (!dirStat.isDirectory()) throw new DataError(`cannot write ${flag} ${file}: ${path.dirname(file)} is not a directory`, { hint: `check the path given to ${flag}` });
  const stat = fs.statSync(abs, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new DataError(`cannot write ${flag} ${file}: it is a directory`, { hint: `give a file name, e.g. ${flag} ${path.join(file, 'vm.tgz')}` });
  probeWritable(dir, flag, file);
}

/** Writes one file atomically: a temp file in the same directory, then rename. The directory must exist. */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number, flag = '--output-file'): void {
  checkOutputFile(file, flag);
  const abs = path.resolve(file);
  const staging = fs.mkdtempSync(path.join(path.dirname(abs), `${PROBE_PREFIX}${path.basename(abs)}.`));
  try {
    const temp = path.join(staging, 'file');
    try {
      createFile(temp, content, mode, currentUmask());
      fs.renameSync(temp, abs);
    } catch (err) {
      throw pathError(flag, file, '', err);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** A segment that path.join would change: empty (a leading, trailing or double slash), "." or "..". */
const UNNORMAL = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** path.join(dir, name) for a normalised `dir`, without path.join's work for the plain names a fleet writes by the thousand. */
function joinUnder(dir: string, name: string): string {
  return UNNORMAL.test(name) ? path.join(dir, name) : `${dir}${path.sep}${name}`;
}

/** The directories a set of relative file names need, parents first. */
function subdirectories(names: string[]): string[] {
  const dirs = new Set<string>();
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
}

/**
 * Writes a set of files into `dir` (mode 0700) all or nothing. A new `dir` is built completely in a temp
 * directory beside it and renamed into place. Into an existing `dir`, the files are first written into a temp
 * directory inside it, then renamed over their targets one by one, each replaced file kept aside until all are
 * in; on any failure the replaced files come back and new ones go, so contents and modes are exactly as before.
 * Files of `dir` that are not in the set stay. Each directory is created once; a file's mode is given when it is
 * created (chmod only where the umask would clear bits).
 */
export function writeDirectory(dir: string, files: FileToWrite[], flag = '--output-dir'): void {
  checkOutputDirectory(dir, files.map((f) => f.name), flag);
  const staged = stageDirectory(dir, flag);
  try {
    staged.add(files);
    staged.commit();
  } finally {
    staged.discard();
  }
}

/** A directory written all or nothing, in parts (see writeDirectory). */
export interface StagedDirectory {
  /** Writes files into the staging directory; nothing of the target changes yet. */
  add(files: FileToWrite[]): void;
  /** Puts every file added so far in place, all or nothing. */
  commit(): void;
  /** Removes what is left of the staging directory (and parents made for it); call it in any case, after commit or instead of it. */
  discard(): void;
}

/** Staging directories and temp files still in the making, each with what removes it (see discardUnfinished). */
const unfinished = new Set<() => void>();

/** Tracks `remove` until the returned function is called: what an interrupted run must not leave behind. */
export function trackUnfinished(remove: () => void): () => void {
  unfinished.add(remove);
  return () => unfinished.delete(remove);
}

/**
 * Removes every staging directory and temp file not yet committed or discarded. The runner calls it when a signal
 * ends the run: a fleet's staging directory can be waiting on the network for its next slice.
 */
export function discardUnfinished(): void {
  for (const remove of [...unfinished]) {
    unfinished.delete(remove);
    try {
      remove();
    } catch {
      // Best effort on the way out.
    }
  }
}

/**
 * writeDirectory for files that arrive in parts (a fleet's bundles, say), so that they need not all be held in
 * memory at once: each part is written into the staging directory as it comes, and commit() puts them all in
 * place at the end, as writeDirectory does. Errors name `dir` as the user gave it.
 */
export function stageDirectory(dir: string, flag = '--output-dir'): StagedDirectory {
  checkOutputDirectory(dir, [], flag);
  const abs = path.resolve(dir);
  const fail = (err: unknown): never => {
    if (err instanceof CliError) throw err;
    throw pathError(flag, dir, (err as Error).message.replace(/^[A-Z]+: /, ''), err);
  };
  const existing = fs.existsSync(abs);
  const parent = existing ? abs : path.dirname(abs);
  // The parents of a new --output-dir are created (as mkdir -p would), and removed again unless committed.
  let firstMissing: string | undefined;
  let staging: string;
  try {
    firstMissing = existing ? undefined : fs.mkdirSync(parent, { recursive: true });
    staging = fs.mkdtempSync(path.join(parent, existing ? PROBE_PREFIX : `${PROBE_PREFIX}${path.basename(abs)}.`));
  } catch (err) {
    if (firstMissing) fs.rmSync(firstMissing, { recursive: true, force: true });
    return fail(err);
  }
  const names: string[] = [];
  const made = new Set<string>();
  let committed = false;
  const removeStaging = () => {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!committed && firstMissing) fs.rmSync(firstMissing, { recursive: true, force: true });
  };
  const untrack = trackUnfinished(removeStaging);
  const umask = currentUmask();
  return {
    add(files) {
      try {
        for (const f of files) {
          // A new directory is built as it will be; into an existing one, files wait under plain numbers.
          const rel = existing ? `new-${names.length}` : f.name;
          if (!existing) {
            // Each directory once, parents first (the name's own prefixes, in order).
            for (let slash = f.name.indexOf('/'); slash !== -1; slash = f.name.indexOf('/', slash + 1)) {
              const d = f.name.slice(0, slash);
              if (made.has(d)) continue;
              fs.mkdirSync(joinUnder(staging, d), { mode: 0o700 });
              made.add(d);
            }
          }
          createFile(joinUnder(staging, rel), f.content, f.mode, umask);
          // Only a swap into an existing directory needs the names (a new one is renamed into place whole).
          if (existing) names.push(f.name);
        }
      } catch (err) {
        fail(err);
      }
    },
    commit() {
      if (existing) checkOutputDirectory(dir, names, flag);
      try {
        if (existing) swapInto(abs, staging, names);
        else fs.renameSync(staging, abs);
        committed = true;
      } catch (err) {
        fail(err);
      }
    },
    discard() {
      untrack();
      removeStaging();
    },
  };
}

/** Renames staging/new-<i> over dir/<names[i]>, each replaced file kept aside; on failure everything goes back. */
function swapInto(abs: string, staging: string, names: string[]): void {
  const createdDirs: string[] = [];
  const done: { target: string; backup?: string }[] = [];
  try {
    for (const d of subdirectories(names)) {
      const p = path.join(abs, d);
      if (fs.existsSync(p)) continue;
      fs.mkdirSync(p, { mode: 0o700 });
      createdDirs.push(p);
    }
    names.forEach((name, i) => {
      const target = path.join(abs, name);
      const backup = path.join(staging, `old-${i}`);
      const had = fs.lstatSync(target, { throwIfNoEntry: false }) !== undefined;
      if (had) fs.renameSync(target, backup);
      done.push({ target, backup: had ? backup : undefined });
      fs.renameSync(path.join(staging, `new-${i}`), target);
    });
  } catch (err) {
    for (const d of done.reverse()) {
      try {
        if (d.backup) fs.renameSync(d.backup, d.target);
        else fs.rmSync(d.target, { force: true });
      } catch {
        // Best effort: the error still names the directory.
      }
    }
    for (const d of createdDirs.reverse()) fs.rmSync(d, { recursive: true, force: true });
    throw err;
  }
  // Last, once everything is in: the directory holds secrets, so only its owner may read it.
  try {
    if ((fs.statSync(abs).mode & 0o777) !== 0o700) fs.chmodSync(abs, 0o700);
  } catch {
    // Not our directory (e.g. owned by another user): the secret files are 0600 all the same.
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
  const temp = path.join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  fs.symlinkSync(target, temp);
  try {
    fs.renameSync(temp, link);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
  return link;
}

/** A file to write that must never be printed, not even in a dry run; `redacted` is printed instead of it. */
export type ListedFile = FileToWrite & { secret?: boolean; redacted?: string };

/**
 * What a dry run prints for files it would write into a directory, or into the archive `target`: every file with
 * its mode, size and content, a secret never (its `redacted` text instead). Files named in `contentless` are listed
 * without their content (long scripts).
 */
export function dryRunListing(target: string, archive: boolean, files: ListedFile[], suffix: string, contentless: (name: string) => boolean = () => false): string[] {
  const lines = [`# would write ${archive ? `the archive ${target} with` : `into ${target}`}:${suffix}`];
  for (const f of files) {
    const where = archive ? f.name : path.join(target, f.name);
    const perm = `mode ${f.mode.toString(8).padStart(4, '0')}`;
    if (f.secret) {
      lines.push(`## ${where} (${perm}): ${f.redacted ?? '<token: not minted in a dry run>'}`);
      continue;
    }
    const content = String(f.content);
    lines.push(`## ${where} (${perm}, ${Buffer.byteLength(content)} bytes)`);
    if (contentless(f.name)) continue;
    if (content) lines.push(content.replace(/\n$/, ''));
  }
  return lines;
}
