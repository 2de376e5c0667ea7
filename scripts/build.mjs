#!/usr/bin/env node
// Builds dist/: one executable per command, named the way kubectl looks plugins up (plugins/add-to-mesh/main.ts →
// dist/kubectl-vm-add_to_mesh, plugins/vm/main.ts → dist/kubectl-vm), and kubectl's completion hook for each.
//
// The code of every command is one CommonJS bundle (Node compiles CommonJS faster than ES modules, and an
// extension-less file in a directory without package.json, a krew store, is loaded as CommonJS anyway). dist/
// holds it once, in the router, which every way of installing ships beside the other executables; each of those
// is a few lines that load it, except for a lone --help, which they answer from text rendered here.
// @kubernetes/client-node is bundled separately, once, at the end of the router, and evaluated only when a
// kubeconfig needs its authenticators.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import os from 'node:os';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The command for a plugin folder: the router is "vm"; "workload-entry-configure" is "workload-entry configure". */
function executableFor(folder, catalogNames) {
  if (folder === 'vm') return 'kubectl-vm';
  const name = catalogNames.find((n) => n.replace(/ /g, '-') === folder);
  if (!name) throw new Error(`plugins/${folder} is not in shared/cli/catalog.ts`);
  return executableOf(name);
}

/** kubectl's name for a command: "workload-entry configure" → kubectl-vm-workload_entry-configure. */
export function executableOf(name) {
  return ['kubectl', 'vm', ...name.split(' ').map((w) => w.replace(/-/g, '_'))].join('-');
}

/** kubectl's completion hook for an executable: kubectl-vm-x → kubectl_complete-vm-x. */
export const hookOf = (exe) => exe.replace(/^kubectl-/, 'kubectl_complete-');

export function catalogNames() {
  const src = fs.readFileSync(path.join(root, 'shared/cli/catalog.ts'), 'utf8');
  return [...src.matchAll(/\{ name: '([^']+)'/g)].map((m) => m[1]);
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  // import() of Node's built-ins becomes require(), so that the bundle can run inside vm.Script (see launcher()).
  supported: { 'dynamic-import': false },
  // ssh2's optional native parts: it falls back to JavaScript when they are missing, so they stay out.
  external: ['cpu-features', '*.node'],
};

/**
 * Every executable's code is one bundle, the core, kept once in the router (dist/kubectl-vm) as a comment after
 * the router's own code (its `*` `/` pairs escaped), so that loading the router costs a scan of a comment rather
 * than a parse. The second line of the router names the build and where the core lies:
 * `// kubectl-vm <hash> core <offset> <length>`. Every executable carries the same small load() (LOADER below),
 * which reads that range and compiles it with V8's code cache. Node 20 has no compile cache of its own, and
 * compiling the bundle plus the functions a run calls costs ~25 ms on every start; with the cache it is ~1 ms.
 * The cache lives in $KUBECTL_VM_CACHE_DIR, else $XDG_CACHE_HOME/kubectl-vm, else ~/.cache/kubectl-vm; one file
 * per command (the functions a run compiles differ), keyed by the build's hash and the Node version, written once
 * (atomically, after the first run; a --help run writes a separate one) and rewritten if V8 rejects it.
 * KUBECTL_VM_CACHE_DIR=off turns it off. Any failure to read or write it only costs the time it would have saved.
 * The bundle's modules are initialised lazily, so a command evaluates only the modules it uses.
 */
const ESCAPE = '*\u0001/';
const LOADER = `
// Loads the core from the router at \`file\` and starts \`executable\`; false when that router is of another build.
function load(file, executable, key) {
  const fs = require("fs"), path = require("path"), vm = require("vm"), os = require("os");
  let source;
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(160);
    const m = /\\n\\/\\/ kubectl-vm ([0-9a-f]{16}) core (\\d{10}) (\\d{10})\\n/.exec(head.latin1Slice(0, fs.readSync(fd, head, 0, head.length, 0)));
    if (!m || m[1] !== HASH) return false;
    const buf = Buffer.allocUnsafe(Number(m[3]));
    for (let n = 0; n < buf.length; ) {
      const k = fs.readSync(fd, buf, n, buf.length - n, Number(m[2]) + n);
      if (k === 0) return false;
      n += k;
    }
    source = buf.utf8Slice(0, buf.length).replaceAll(${JSON.stringify(ESCAPE).replace('\u0001', '\\u0001')}, "*/");
  } finally {
    fs.closeSync(fd);
  }
  // The cache holds the functions the run that wrote it compiled: --help and --version runs write their own, so
  // that the first real run writes the full one (and uses the help one meanwhile).
  const light = process.argv.slice(2).some((a) => a === "--help" || a === "-h" || a === "--version");
  let base, cachedData, from;
  try {
    const dir = process.env.KUBECTL_VM_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "kubectl-vm");
    if (dir !== "off") {
      base = path.join(dir, key + "-" + HASH + "-" + process.version + "-" + process.arch);
      for (const f of [base + ".v8", base + ".help.v8"]) {
        try { cachedData = fs.readFileSync(f); from = f; break; } catch {}
      }
    }
  } catch {}
  const script = new vm.Script(source, { filename: file, cachedData });
  const target = base && (!cachedData || script.cachedDataRejected ? base + (light ? ".help.v8" : ".v8") : !light && from !== base + ".v8" ? base + ".v8" : undefined);
  if (target) {
    process.once("exit", () => {
      try {
        fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        const tmp = target + "." + process.pid + ".tmp";
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, target);
      } catch {}
    });
  }
  const m = { exports: {} };
  script.runInThisContext().call(m.exports, m.exports, require, m, file, path.dirname(file));
  m.exports.main(executable);
  return true;
}
`;

/** The router: its load() and, after it, the core (see above) and the copy of client-node (see clientNodeBlob). */
function routerFile(core, hash, commandWords, clientNode, help, siblings) {
  if (core.includes('\u0001')) throw new Error('the bundle contains U+0001, which the router uses to escape comment ends');
  const region = `(function (exports, require, module, __filename, __dirname) {${core}\n})`.replaceAll('*/', ESCAPE);
  const head = (at) => `#!/usr/bin/env node\n// kubectl-vm ${hash} core ${String(at).padStart(10, '0')} ${String(Buffer.byteLength(region)).padStart(10, '0')}\n`;
  const code = `"use strict";
// kubectl-vm: the router, and after its code the code of every kubectl-vm command (scripts/build.mjs).
const HASH = ${JSON.stringify(hash)};
// The router keeps a code cache per command it runs in-process.
const WORDS = ${JSON.stringify(commandWords)};
${LOADER}
// \`kubectl vm\` and \`kubectl vm --help\` list the commands installed beside the router: with all of them there,
// that is this text (rendered at build time), and the bundle is not loaded.
const HELP = ${JSON.stringify(help ?? null)};
const SIBLINGS = ${JSON.stringify(siblings)};
const args = process.argv.slice(2);
if (HELP !== null && (args.length === 0 || (args.length === 1 && (args[0] === "--help" || args[0] === "-h")))) {
  const fs = require("fs"), path = require("path");
  const here = path.dirname(fs.realpathSync.native(__filename));
  if (SIBLINGS.every((f) => fs.existsSync(path.join(here, f)))) {
    process.stdout.on("error", () => { process.exitCode = 141; });
    process.stdout.write(HELP);
    return;
  }
}
const first = process.argv[2];
load(__filename, "kubectl-vm", WORDS.includes(first) ? "kubectl-vm~" + first : "kubectl-vm");
/*`;
  const at = Buffer.byteLength(head(0) + code);
  return `${head(at)}${code}${region}*/\n${clientNode}`;
}

/**
 * A command's executable: a few lines that answer a lone --help from the text yargs renders for it (at the two
 * widths the runner uses on a pipe and on a wide terminal, rendered at build time), and otherwise load the core
 * from the router beside this file's real path (npm and krew link to it).
 */
function pluginFile(exe, hash, help) {
  return `#!/usr/bin/env node
"use strict";
// ${exe}: its code is in the router, kubectl-vm, beside this file (scripts/build.mjs).
const HELP = ${JSON.stringify(help)};
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
  const out = process.stdout;
  const text = HELP[out.isTTY && out.columns ? Math.min(out.columns, 120) : 100];
  if (text !== undefined) {
    out.on("error", () => { process.exitCode = 141; });
    out.write(text);
    return;
  }
}
const HASH = ${JSON.stringify(hash)};
${LOADER}
const router = require("path").join(require("path").dirname(require("fs").realpathSync.native(__filename)), "kubectl-vm");
let problem;
try {
  if (!load(router, ${JSON.stringify(exe)}, ${JSON.stringify(exe)})) problem = router + " belongs to another version of kubectl-vm";
} catch (err) {
  if (err && err.syscall === undefined) throw err;
  problem = "cannot read " + router + ", which holds the code of every kubectl-vm command: " + err.message;
}
if (problem) {
  process.stderr.write("error: " + problem + "; reinstall kubectl-vm\\n");
  process.exitCode = 70;
}
`;
}

/** kubectl's completion hook for one executable: runs it, in this process, as `<exe> __complete <args…>`. */
function completionHook(exe) {
  return `#!/usr/bin/env node
"use strict";
// kubectl's shell-completion hook for ${exe}: kubectl (>= 1.26) runs it for \`kubectl ${exe.slice('kubectl-'.length).replace(/-/g, ' ').replace(/_/g, '-')} <TAB>\`.
const fs = require("fs"), path = require("path");
const target = path.join(path.dirname(fs.realpathSync(__filename)), ${JSON.stringify(exe)});
process.argv = [process.argv[0], target, ${JSON.stringify(exe === 'kubectl-vm' ? '__kubectl_complete' : '__complete')}, ...process.argv.slice(2)];
require(target);
`;
}

/**
 * client-node's authenticators, bundled, brotli-compressed and base64-encoded (200 KB instead of 1 MB). dist/ holds
 * one copy, as a comment at the end of the router (dist/kubectl-vm): every way of installing ships the router
 * beside the plugins (krew links only the router; npm links each file to it), so it needs no file of its own,
 * and nothing reads it unless a kubeconfig needs exec plugins, auth-providers or proxy-url.
 */
async function clientNodeBlob() {
  const out = await build({ ...common, entryPoints: [path.join(root, 'shared/kube/client-node-entry.ts')], write: false });
  const code = Buffer.from(out.outputFiles[0].contents);
  return zlib.brotliCompressSync(code, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9 } }).toString('base64');
}

/** Keeps the unbundled fallback import of client-node-entry.ts out of the plugin bundles. */
const externalClientNode = {
  name: 'external-client-node-entry',
  setup(b) {
    b.onResolve({ filter: /client-node-entry\.ts$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/** yargs' node:assert becomes scripts/shims/assert.js (see there); ssh2 and asn1 keep the real one. */
const yargsAssert = {
  name: 'yargs-assert',
  setup(b) {
    b.onResolve({ filter: /^assert$/ }, (args) => (/[\\/]yargs[\\/]/.test(args.importer) ? { path: path.join(root, 'scripts/shims/assert.js') } : undefined));
  },
};

/** Runs an executable of dist/ with --help, as on a pipe (width 100) or a terminal of 120 columns; returns stdout. */
function renderHelp(file, width) {
  return new Promise((resolve, reject) => {
    // A pipe is what the child has; a terminal is one its stdout claims to be before the executable runs.
    const args = width === 100 ? [file, '--help'] : ['-e', `Object.defineProperty(process.stdout, "isTTY", { value: true }); Object.defineProperty(process.stdout, "columns", { value: ${width} }); process.argv = [process.argv[0], ${JSON.stringify(file)}, "--help"]; require(${JSON.stringify(file)});`];
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, HOME: os.tmpdir(), KUBECTL_VM_CACHE_DIR: 'off', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 && out ? resolve(out) : reject(new Error(`${path.basename(file)} --help (width ${width}) failed with ${code}: ${err}`))));
  });
}

export async function buildAll({ quiet = false } = {}) {
  const started = Date.now();
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist, { recursive: true });
  // Tell Node that the extension-less files here are CommonJS, whatever the package around them says.
  fs.writeFileSync(path.join(dist, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
  const blob = await clientNodeBlob();
  // Names this build's copy, so that a plugin never loads the copy of another version.
  const marker = `//# kubectl-vm client-node ${crypto.createHash('sha256').update(blob).digest('hex').slice(0, 16)} `;
  const names = catalogNames();
  const folders = fs
    .readdirSync(path.join(root, 'plugins'))
    .filter((f) => fs.existsSync(path.join(root, 'plugins', f, 'main.ts')))
    .sort();
  const exes = folders.map((f) => [f, executableFor(f, names)]);
  // One bundle for every executable: its entry starts a command by executable name; the dynamic imports keep each
  // command's modules uninitialised until that command runs.
  const entry = [
    `import { registerInProcess } from './shared/cli/in-process.ts';`,
    `const starts: Record<string, () => Promise<unknown>> = {`,
    ...exes.map(([f, exe]) => `  ${JSON.stringify(exe)}: () => import(${JSON.stringify(`./plugins/${f}/main.ts`)}),`),
    `};`,
    `export function main(executable: string): Promise<unknown> {`,
    `  registerInProcess((e) => starts[e]!());`,
    `  return starts[executable]!();`,
    `}`,
  ].join('\n');
  const out = await build({
    ...common,
    stdin: { contents: entry, resolveDir: root, sourcefile: 'kubectl-vm-core.ts', loader: 'ts' },
    write: false,
    banner: { js: `var __kvm_import_meta_url=require("url").pathToFileURL(__filename).href;` },
    define: {
      'import.meta.url': '__kvm_import_meta_url',
      __VERSION__: JSON.stringify(pkg.version),
      __CLIENT_NODE_MARKER__: JSON.stringify(marker),
    },
    alias: { 'string-width': path.join(root, 'scripts/shims/string-width.js'), 'escalade/sync': path.join(root, 'scripts/shims/escalade-sync.js') },
    plugins: [externalClientNode, yargsAssert],
  });
  const core = out.outputFiles[0].text;
  const hash = crypto.createHash('sha256').update(core).digest('hex').slice(0, 16);
  const words = [...new Set(names.map((n) => n.split(' ')[0]))];
  // The router carries the bundle and, as a comment after its code, the one copy of client-node (see clientNodeBlob).
  const plugins = exes.filter(([, exe]) => exe !== 'kubectl-vm').map(([, exe]) => exe);
  const writeRouter = (help) => fs.writeFileSync(path.join(dist, 'kubectl-vm'), routerFile(core, hash, words, `${marker}${blob}\n`, help, plugins), { mode: 0o755 });
  writeRouter(undefined);
  const built = ['kubectl-vm'];
  // First without help texts, to render them; then with.
  for (const exe of plugins) fs.writeFileSync(path.join(dist, exe), pluginFile(exe, hash, {}), { mode: 0o755 });
  const helps = await mapLimit(plugins, 4, async (exe) => ({ 100: await renderHelp(path.join(dist, exe), 100), 120: await renderHelp(path.join(dist, exe), 120) }));
  plugins.forEach((exe, i) => {
    fs.writeFileSync(path.join(dist, exe), pluginFile(exe, hash, helps[i]), { mode: 0o755 });
    built.push(exe);
  });
  writeRouter(await renderHelp(path.join(dist, 'kubectl-vm'), 100));
  for (const exe of built) fs.chmodSync(path.join(dist, exe), 0o755);
  // kubectl (≥ 1.26) completes the arguments of plugin kubectl-vm-x by running kubectl_complete-vm-x from PATH.
  for (const exe of [...built]) {
    const hook = hookOf(exe);
    fs.writeFileSync(path.join(dist, hook), completionHook(exe), { mode: 0o755 });
    fs.chmodSync(path.join(dist, hook), 0o755);
    built.push(hook);
  }
  if (!quiet) {
    for (const exe of built.sort()) console.error(`built dist/${exe} (${Math.round(fs.statSync(path.join(dist, exe)).size / 1024)} KiB)`);
    console.error(`build took ${Date.now() - started} ms`);
  }
  return built;
}

async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAll();
}
