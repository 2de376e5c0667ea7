// Replacing the token on a VM (token rotate): every place the layout keeps it gets the new token atomically,
// with the owner and mode the old file had (cp to a temp name, chown/chmod --reference, then mv over), and the
// manifest's digests follow. Nothing is restarted: pilot-agent reads the token file again for each certificate.
import { sh } from '../istio/sidecar-bootstrap.ts';
import type { SshDelivery } from './deliver/ssh.ts';
import { bundleDigest, sha256, type Manifest, type VmLayout } from './layout.ts';

/** The paths that hold the VM's token, the persistent copy first. */
export function tokenPaths(layout: VmLayout): string[] {
  return [layout.token.persistent, layout.token.agent].filter((p): p is string => !!p);
}

export async function readManifest(delivery: SshDelivery, layout: VmLayout): Promise<Manifest | undefined> {
  const text = await delivery.read(layout.manifest);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    return undefined;
  }
}

/** The record's bundle digest for what the manifest now lists (as onboard computed it). */
export function manifestDigest(m: Manifest): string {
  return bundleDigest(
    m.files.map((f) => ({ path: f.path, owner: f.owner, mode: parseInt(f.mode, 8), sha256: f.sha256 })),
    m.hosts?.lines ?? [],
  );
}

export type SwapOutcome = { delivered: true; bundleSha256?: string } | { delivered: false; partial: boolean; reason: string };

/**
 * Puts `token` where the layout keeps it. A VM without the old token files was not onboarded with this layout
 * and is refused before anything changes. On failure, the digests read back say whether the new token landed
 * nowhere (the caller may revoke it) or somewhere (both tokens must stay valid).
 */
export async function swapToken(delivery: SshDelivery, layout: VmLayout, token: string): Promise<SwapOutcome> {
  const paths = tokenPaths(layout);
  const want = sha256(token);
  const staging = await delivery.stage([{ name: 'istio-token', content: token, mode: 0o600 }]);
  try {
    const dest = (p: string) => `"\${ROOT:-}"${sh(p)}`;
    const check = paths.map((p) => `[ -f ${dest(p)} ] || { echo "missing ${p}" >&2; exit 3; }`);
    const prepare = paths.map((p) => `cp ${sh(`${staging}/istio-token`)} ${dest(p)}.kubectl-vm.tmp && chown --reference=${dest(p)} ${dest(p)}.kubectl-vm.tmp && chmod --reference=${dest(p)} ${dest(p)}.kubectl-vm.tmp`);
    const swap = paths.map((p) => `mv -f ${dest(p)}.kubectl-vm.tmp ${dest(p)}`);
    const r = await delivery.run([...check, ...prepare, ...swap].join(' && '));
    if (r.code !== 0) {
      const sums = await delivery.sha256(paths).catch(() => new Map<string, string>());
      const landed = paths.filter((p) => sums.get(p) === want);
      await delivery.run(paths.map((p) => `rm -f ${dest(p)}.kubectl-vm.tmp`).join('; ')).catch(() => undefined);
      const reason = r.code === 3 ? `${r.stderr.trim()}: the VM was not onboarded by kubectl-vm (or with another runtime)` : `cannot replace the token: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`;
      return { delivered: false, partial: landed.length > 0, reason };
    }
  } finally {
    await delivery.run(`rm -rf ${sh(staging)}`).catch(() => undefined);
  }
  // The manifest follows, so that status --probe sees no drift and offboard still removes these files.
  const manifest = await readManifest(delivery, layout);
  if (!manifest) return { delivered: true };
  for (const f of manifest.files) if (paths.includes(f.path)) f.sha256 = want;
  await delivery.put([{ path: layout.manifest, content: JSON.stringify(manifest, null, 2) + '\n', mode: 0o600 }]);
  return { delivered: true, bundleSha256: manifestDigest(manifest) };
}
