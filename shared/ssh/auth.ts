// Which credentials to offer a VM (reference/sidecar-bootstrap.md §2.6, with the agent added): the key given
// with --ssh-key; otherwise each default key in ~/.ssh that exists, in tctl's order, then the ssh-agent in
// SSH_AUTH_SOCK. Keys are read and decrypted once per run, before the first connection.
import fs from 'node:fs';
import path from 'node:path';
import { CliError, ExitCode, UsageError } from '../errors.ts';
import { readPrivateKey, type AuthMethod } from './session.ts';

/** tctl's order (its ssh.go): the first of these that exists was its only key. */
export const DEFAULT_KEYS = ['id_dsa', 'id_ecdsa', 'id_ed25519', 'id_rsa'];

export interface AuthSources {
  sshKey?: string;
  home: string;
  agentSocket?: string;
  /** Asks for a key's passphrase on the terminal; undefined when there is none. */
  passphrase: (file: string) => Promise<string | undefined>;
  note: (message: string) => void;
}

export async function authMethods(s: AuthSources): Promise<AuthMethod[]> {
  if (s.sshKey) {
    let data: Buffer;
    try {
      data = fs.readFileSync(s.sshKey);
    } catch (err) {
      throw new UsageError(`cannot read the SSH key ${s.sshKey}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'give the path of a private key, e.g. --ssh-key ~/.ssh/id_ed25519' });
    }
    return [{ kind: 'key', file: s.sshKey, key: await readPrivateKey(s.sshKey, data, () => s.passphrase(s.sshKey!)) }];
  }
  const methods: AuthMethod[] = [];
  let locked: CliError | undefined;
  for (const name of DEFAULT_KEYS) {
    const file = path.join(s.home, '.ssh', name);
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      continue;
    }
    try {
      methods.push({ kind: 'key', file, key: await readPrivateKey(file, data, () => s.passphrase(file)) });
    } catch (err) {
      // A key we cannot use is skipped, as ssh skips it; it is only fatal when nothing else is left.
      if (!(err instanceof CliError)) throw err;
      locked ??= err;
      s.note(`skipping ${file}: ${err.message}`);
    }
  }
  if (s.agentSocket) methods.push({ kind: 'agent', socket: s.agentSocket });
  if (methods.length === 0) {
    throw (
      locked ??
      new CliError(`no SSH credentials: no --ssh-key, none of ~/.ssh/{${DEFAULT_KEYS.join(',')}}, and no ssh-agent (SSH_AUTH_SOCK)`, ExitCode.forbidden, {
        hint: 'give the key the VMs accept with --ssh-key, or add it to an ssh-agent',
      })
    );
  }
  return methods;
}
