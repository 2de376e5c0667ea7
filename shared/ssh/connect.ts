// What every SSH-using command shares before its first connection: the host-key policy (known_hosts) and the
// credentials (read once, on first use).
import fs from 'node:fs';
import path from 'node:path';
import type { PluginContext } from '../cli/plugin.ts';
import { authMethods } from './auth.ts';
import { parseKnownHosts } from './known-hosts.ts';
import type { AuthMethod, HostKeyPolicy } from './session.ts';

export function hostKeyPolicy(ctx: Pick<PluginContext, 'log' | 'home'>, ignore: boolean, file = path.join(ctx.home, '.ssh', 'known_hosts')): HostKeyPolicy {
  if (ignore) {
    ctx.log.warn('--ignore-host-keys: the VMs\' host keys are not checked, so a machine in the middle could receive the token');
    return { ignore: true };
  }
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // No file: every host is unknown, and each refusal says how to trust it.
  }
  return { ignore: false, lines: parseKnownHosts(text), file };
}

/** The credentials to offer, read and decrypted once, when the first connection needs them. */
export function lazyCredentials(ctx: Pick<PluginContext, 'log' | 'home' | 'env' | 'promptSecret'>, sshKey: string | undefined): () => Promise<AuthMethod[]> {
  let auth: Promise<AuthMethod[]> | undefined;
  return () =>
    (auth ??= authMethods({
      sshKey,
      home: ctx.home,
      agentSocket: ctx.env.SSH_AUTH_SOCK || undefined,
      passphrase: (file) => ctx.promptSecret(`Enter passphrase for key '${file}': `),
      note: (m) => ctx.log.note(m),
    }));
}
