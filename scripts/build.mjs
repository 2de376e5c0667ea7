#!/usr/bin/env node
// Bundles every plugin into one executable file under dist/, named the way kubectl looks plugins up:
// plugins/add-to-mesh/main.ts → dist/kubectl-vm-add_to_mesh, plugins/vm/main.ts → dist/kubectl-vm.
//
// The bundles are CommonJS: Node compiles them faster than ES modules, and an extension-less file in a directory
// without package.json (a krew store) is loaded as CommonJS anyway. @kubernetes/client-node is bundled separately,
// once, at the end of the router, and evaluated only when a kubeconfig needs its authenticators.
import { build } from 'esbuild';
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
 * The executable: a small launcher that compiles the bundle with V8's code cache. Node 20 has no compile cache
 * of its own, and compiling the bundle plus the functions a run calls costs ~25 ms on every start; with the
 * cache it is ~1 ms. The cache lives in $KUBECTL_VM_CACHE_DIR, else $XDG_CACHE_HOME/kubectl-vm, else
 * ~/.cache/kubectl-vm; it is keyed by the bundle's hash and the Node version, written once (atomically, after
 * the first run; a --help run writes a separate one) and rewritten if V8 rejects it. KUBECTL_VM_CACHE_DIR=off
 * turns it off. Any failure to read or write it only costs the time it would have saved.
 */
function launcher(exe, bundle) {
  const hash = crypto.createHash('sha256').update(bundle).digest('hex').slice(0, 16);
  return `#!/usr/bin/env node
"use strict";
const BUNDLE = ${JSON.stringify(bundle)};
const fs = require("fs"), path = require("path"), vm = require("vm"), os = require("os");
// The cache holds the functions the run that wrote it compiled: --help and --version runs write their own,
// so that the first real run writes the full one (and uses the help one meanwhile).
const light = process.argv.slice(2).some((a) => a === "--help" || a === "-h" || a === "--version");
let base, cachedData, from;
try {
  const dir = process.env.KUBECTL_VM_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "kubectl-vm");
  if (dir !== "off") {
    base = path.join(dir, ${JSON.stringify(`${exe}-${hash}-`)} + process.version + "-" + process.arch);
    for (const f of [base + ".v8", base + ".help.v8"]) {
      try { cachedData = fs.readFileSync(f); from = f; break; } catch {}
    }
  }
} catch {}
const script = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + BUNDLE + "\\n})", { filename: __filename, cachedData });
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
script.runInThisContext().call(module.exports, module.exports, require, module, __filename, __dirname);
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
  const folders = fs.readdirSync(path.join(root, 'plugins')).filter((f) => fs.existsSync(path.join(root, 'plugins', f, 'main.ts')));
  const built = [];
  await Promise.all(
    folders.map(async (folder) => {
      const exe = executableFor(folder, names);
      const outfile = path.join(dist, exe);
      const out = await build({
        ...common,
        entryPoints: [path.join(root, 'plugins', folder, 'main.ts')],
        write: false,
        banner: { js: `var __kvm_import_meta_url=require("url").pathToFileURL(__filename).href;` },
        define: {
          'import.meta.url': '__kvm_import_meta_url',
          __VERSION__: JSON.stringify(pkg.version),
          __CLIENT_NODE_MARKER__: folder === 'vm' ? 'undefined' : JSON.stringify(marker),
        },
        alias: { 'string-width': path.join(root, 'scripts/shims/string-width.js') },
        plugins: [externalClientNode, yargsAssert],
      });
      // The router carries the one copy of client-node, as a comment after its code (see clientNodeBlob).
      const tail = folder === 'vm' ? `\n${marker}${blob}\n` : '';
      fs.writeFileSync(outfile, launcher(exe, out.outputFiles[0].text) + tail, { mode: 0o755 });
      fs.chmodSync(outfile, 0o755);
      built.push(exe);
    }),
  );
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAll();
}
