// The krew manifest of plugin "vm": rendering it from krew/vm.yaml, and checking it with krew's own rules
// (reference/krew.md §2: ValidatePlugin, validate-krew-manifest, and the install-time checks), since krew itself
// cannot be installed here. `npm run release` refuses to write a manifest that fails them.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
/** The os/arch pairs validate-krew-manifest knows. */
export const SUPPORTED_PLATFORMS = [
  ...['386', 'amd64', 'arm64'].map((arch) => ({ os: 'windows', arch })),
  ...['386', 'amd64', 'arm', 'arm64', 'ppc64le'].map((arch) => ({ os: 'linux', arch })),
  ...['386', 'amd64', 'arm64'].map((arch) => ({ os: 'darwin', arch })),
];
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/i;
const LICENSE_NAMES = ['license', 'license.txt', 'license.md', 'licenses', 'licenses.txt', 'licenses.md', 'copying', 'copying.txt'];

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
export interface Platform {
  uri?: string;
  sha256?: string;
  selector?: Selector;
  files?: { from?: string; to?: string }[];
  bin?: string;
}
export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: { version?: string; homepage?: string; shortDescription?: string; description?: string; caveats?: string; platforms?: Platform[] };
}

export function renderManifest(template: string, values: { version: string; uri: string; sha256: string }): string {
  return template
    .replace(/^#.*\n/gm, '')
    .replace(/\{\{VERSION\}\}/g, values.version)
    .replace(/\{\{URI\}\}/g, values.uri)
    .replace(/\{\{SHA256\}\}/g, values.sha256);
}

const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

function selectorMatches(s: Selector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * krew's structural rules and validate-krew-manifest's extra ones, for the manifest in `file`. Returns the
 * problems, worded after krew's messages; an empty list means krew would accept it.
 */
export function validateManifest(file: string, text: string): string[] {
  const problems: string[] = [];
  if (path.extname(file) !== '.yaml') problems.push(`manifest file ${file} must end in .yaml`);
  let m: Manifest;
  try {
    m = (yaml.load(text) ?? {}) as Manifest;
  } catch (err) {
    return [...problems, `cannot parse ${file}: ${(err as Error).message}`];
  }
  const name = path.basename(file, '.yaml');
  if (m.apiVersion !== KREW_API_VERSION) problems.push(`plugin manifest has apiVersion="${m.apiVersion}", not supported in this version of krew`);
  if (m.kind !== 'Plugin') problems.push(`plugin manifest has kind="${m.kind}", but only Plugin is supported`);
  const pluginName = m.metadata?.name ?? '';
  if (!/^[\w-]+$/.test(pluginName) || WINDOWS_RESERVED.test(pluginName)) problems.push(`plugin name "${pluginName}" is not allowed`);
  if (pluginName !== name) problems.push(`plugin should be named "${name}", not "${pluginName}"`);
  const spec = m.spec ?? {};
  if (!spec.shortDescription || /[\r\n]/.test(spec.shortDescription)) problems.push('should have a one-line shortDescription');
  if (!spec.version || !SEMVER.test(spec.version)) problems.push(`version "${spec.version}" is not a semver starting with "v"`);
  const platforms = spec.platforms ?? [];
  if (platforms.length === 0) problems.push('should have a platform');
  platforms.forEach((p, i) => {
    const at = `platforms[${i}]`;
    if (!p.uri) problems.push(`${at}: uri has to be set`);
    if (!p.sha256 || !/^[a-f0-9]{64}$/.test(p.sha256)) problems.push(`${at}: sha256 "${p.sha256}" is not 64 lower-case hex digits`);
    if (!p.bin) problems.push(`${at}: bin has to be set`);
    if (p.files !== undefined && p.files.length === 0) problems.push(`${at}: files has to be unspecified or non-empty`);
    for (const f of p.files ?? []) {
      if (!f.from || !f.to) problems.push(`${at}: a file operation needs from and to`);
      else if (path.posix.normalize(f.to) !== f.to.replace(/\/$/, '') || f.to.startsWith('/') || f.to.startsWith('..')) problems.push(`${at}: "to" path ${f.to} is not clean`);
    }
    const s = p.selector;
    if (!s) problems.push(`${at}: nil selector is not supported`);
    else {
      const keys = [...Object.keys(s.matchLabels ?? {}), ...(s.matchExpressions ?? []).map((e) => e.key)];
      if (keys.length === 0) problems.push(`${at}: empty selector is not supported`);
      for (const k of keys) if (k !== 'os' && k !== 'arch') problems.push(`${at}: selector key "${k}" is not os or arch`);
      if (!SUPPORTED_PLATFORMS.some((pl) => selectorMatches(s, pl))) problems.push(`${at}: selector matches no supported os/arch`);
    }
  });
  for (const pl of SUPPORTED_PLATFORMS) {
    const matching = platforms.flatMap((p, i) => (p.selector && selectorMatches(p.selector, pl) ? [i] : []));
    if (matching.length > 1) problems.push(`multiple spec.platforms (at indexes ${matching.join(', ')}) have overlapping selectors for ${pl.os}/${pl.arch}`);
  }
  return problems;
}

/** The first platform that matches os/arch, as krew picks it. */
export function matchPlatform(m: Manifest, os: string, arch: string): Platform | undefined {
  return (m.spec?.platforms ?? []).find((p) => p.selector && selectorMatches(p.selector, { os, arch }));
}

/**
 * krew's install steps after the download: apply the file operations to the extracted archive (a direct move
 * when `from` names a file, else a glob of one level), into `installDir`; then check that `bin` exists and that a
 * LICENSE came along (validate-krew-manifest). Throws with krew's wording on failure.
 */
export function applyFileOperations(platform: Platform, extracted: string, installDir: string): void {
  fs.mkdirSync(installDir, { recursive: true });
  for (const op of platform.files ?? [{ from: '*', to: '.' }]) {
    const from = op.from!;
    const direct = path.join(extracted, from);
    const sources = fs.existsSync(direct) ? [direct] : globOneLevel(extracted, from);
    if (sources.length === 0) throw new Error(`no files in the plugin archive matched the glob pattern=${from}`);
    const target = path.join(installDir, op.to!);
    fs.mkdirSync(target, { recursive: true });
    for (const src of sources) fs.renameSync(src, path.join(target, path.basename(src)));
  }
  const bin = path.join(installDir, platform.bin!);
  if (!fs.existsSync(bin)) throw new Error(`can't create symbolic link, source binary (${bin}) cannot be found in extracted archive`);
  if (!fs.readdirSync(installDir).some((f) => LICENSE_NAMES.includes(f.toLowerCase()))) throw new Error('no LICENSE file in the installed plugin');
}

function globOneLevel(dir: string, pattern: string): string[] {
  if (pattern.includes('/')) throw new Error(`glob ${pattern}: only patterns within the archive's top directory are supported here`);
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return fs.readdirSync(dir).filter((f) => re.test(f)).map((f) => path.join(dir, f));
}
