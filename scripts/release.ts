// `npm run release` (after `npm run build`): the release archive, its sha256, and the krew manifest for plugin
// "vm", rendered from krew/vm.yaml and checked with krew's rules before it is written.
//
//   dist/release/kubectl-vm-<version>.tar.gz          every kubectl-vm* executable (regular files, mode 0755),
//                                                     kubectl_complete-vm, package.json, LICENSE, README.md
//   dist/release/kubectl-vm-<version>.tar.gz.sha256   "<hex>  <file>", as sha256sum writes it
//   dist/krew-index/plugins/vm.yaml                   a custom krew index, ready to publish as a git repository
//
// KUBECTL_VM_RELEASE_URL sets the URL the manifest downloads the archive from (default: the GitHub release).
// SOURCE_DATE_EPOCH sets the files' time in the archive (default: the last commit's), so the bytes are
// reproducible.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tarGz } from '../shared/fs/tar.ts';
import { renderManifest, validateManifest } from './krew.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Release {
  archive: string;
  sha256: string;
  manifest: string;
  files: string[];
}

/** Which files of dist/ go into the archive: the executables, and package.json, which keeps them CommonJS. */
export const isReleased = (name: string) => name === 'kubectl-vm' || name.startsWith('kubectl-vm-') || name.startsWith('kubectl_complete-vm') || name === 'package.json';

export function release(dist = path.join(ROOT, 'dist'), env: NodeJS.ProcessEnv = process.env): Release {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  if (!fs.existsSync(path.join(dist, 'kubectl-vm'))) throw new Error(`${dist} has no kubectl-vm: run npm run build first`);
  const mtime = Number(env.SOURCE_DATE_EPOCH ?? lastCommitTime() ?? 0);
  const names = fs.readdirSync(dist).filter(isReleased).sort();
  const files = [
    ...names.map((name) => ({ name, content: fs.readFileSync(path.join(dist, name)), mode: name === 'package.json' ? 0o644 : 0o755 })),
    ...['LICENSE', 'README.md'].map((name) => ({ name, content: fs.readFileSync(path.join(ROOT, name)), mode: 0o644 })),
  ];
  const bytes = tarGz(files, mtime);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const archiveName = `kubectl-vm-${version}.tar.gz`;
  const out = path.join(dist, 'release');
  fs.mkdirSync(out, { recursive: true });
  const archive = path.join(out, archiveName);
  fs.writeFileSync(archive, bytes, { mode: 0o644 });
  fs.writeFileSync(`${archive}.sha256`, `${sha256}  ${archiveName}\n`);

  const uri = env.KUBECTL_VM_RELEASE_URL ?? `https://github.com/kubectl-vm/kubectl-vm/releases/download/v${version}/${archiveName}`;
  const text = renderManifest(fs.readFileSync(path.join(ROOT, 'krew', 'vm.yaml'), 'utf8'), { version: `v${version}`, uri, sha256 });
  const manifest = path.join(dist, 'krew-index', 'plugins', 'vm.yaml');
  const problems = validateManifest(manifest, text);
  if (problems.length) throw new Error(`krew would reject the manifest:\n  ${problems.join('\n  ')}`);
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  fs.writeFileSync(manifest, text);
  return { archive, sha256, manifest, files: files.map((f) => f.name) };
}

function lastCommitTime(): string | undefined {
  try {
    return execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = release();
    const rel = (f: string) => path.relative(process.cwd(), f);
    console.log(`${rel(r.archive)} (${r.files.length} files, ${Math.round(fs.statSync(r.archive).size / 1024)} KiB)`);
    console.log(`sha256 ${r.sha256}`);
    console.log(`${rel(r.manifest)}: passes krew's manifest checks`);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
