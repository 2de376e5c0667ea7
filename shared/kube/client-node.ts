// Loads client-node-entry.ts: from the (brotli-compressed, base64) string the build embedded, or straight from the
// source tree when running unbundled (tests under tsx).
import type * as Entry from './client-node-entry.ts';

declare const __CLIENT_NODE_AUTH__: string | undefined;

export async function loadClientNodeAuth(): Promise<typeof Entry> {
  if (typeof __CLIENT_NODE_AUTH__ === 'string') {
    const vm = await import('node:vm');
    const { createRequire } = await import('node:module');
    const { brotliDecompressSync } = await import('node:zlib');
    const code = brotliDecompressSync(Buffer.from(__CLIENT_NODE_AUTH__, 'base64')).toString('utf8');
    const factory = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
      filename: 'kubectl-vm:client-node-auth.js',
    });
    const { fileURLToPath } = await import('node:url');
    const { dirname } = await import('node:path');
    // The bundle only requires Node's built-ins; anchoring require at this executable is enough.
    const self = fileURLToPath(import.meta.url);
    const mod = { exports: {} as typeof Entry };
    factory.call(mod.exports, mod.exports, createRequire(self), mod, self, dirname(self));
    return mod.exports;
  }
  return import('./client-node-entry.ts');
}
