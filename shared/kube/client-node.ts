// Loads client-node-entry.ts: in a build, from the one copy that dist/ holds (brotli-compressed and base64-encoded,
// at the end of the kubectl-vm router, the one file every way of installing ships beside the plugins); straight
// from the source tree when running unbundled (tests under tsx).
import type * as Entry from './client-node-entry.ts';
import { InternalError } from '../errors.ts';

/** In a build: the marker that starts the copy, at the end of the router (see scripts/build.mjs). */
declare const __CLIENT_NODE_MARKER__: string | undefined;

export async function loadClientNodeAuth(): Promise<typeof Entry> {
  if (typeof __CLIENT_NODE_MARKER__ === 'string') {
    const fs = await import('node:fs');
    const vm = await import('node:vm');
    const { createRequire } = await import('node:module');
    const { brotliDecompressSync } = await import('node:zlib');
    const { fileURLToPath } = await import('node:url');
    const { dirname, join } = await import('node:path');
    // This executable's real location (npm and krew link to it); the router is its sibling.
    const self = fs.realpathSync(fileURLToPath(import.meta.url));
    const router = join(dirname(self), 'kubectl-vm');
    let text: string;
    try {
      text = fs.readFileSync(router, 'latin1');
    } catch (err) {
      throw new InternalError(`cannot read ${router}, which holds the client for auth-providers and socks proxies: ${(err as Error).message}; reinstall kubectl-vm`, { cause: err });
    }
    const at = text.lastIndexOf(__CLIENT_NODE_MARKER__);
    if (at === -1) throw new InternalError(`${router} holds no client for auth-providers and socks proxies: it belongs to another version; reinstall kubectl-vm`);
    let code: string;
    try {
      code = brotliDecompressSync(Buffer.from(text.slice(at + __CLIENT_NODE_MARKER__.length).trim(), 'base64')).toString('utf8');
    } catch (err) {
      throw new InternalError(`the client for auth-providers and socks proxies in ${router} is damaged (${(err as Error).message}); reinstall kubectl-vm`, { cause: err });
    }
    const factory = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
      filename: 'kubectl-vm:client-node-auth.js',
    });
    const mod = { exports: {} as typeof Entry };
    // The bundle only requires Node's built-ins; anchoring require at this executable is enough.
    factory.call(mod.exports, mod.exports, createRequire(self), mod, self, dirname(self));
    return mod.exports;
  }
  return import('./client-node-entry.ts');
}
