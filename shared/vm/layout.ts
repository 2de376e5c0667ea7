// Where a VM's files land, per runtime, with their owners and modes: the one description that install.sh,
// onboard, sidecar-bootstrap and the day-2 commands share (VM-CONTRACT.md). Pure data and functions.
//
// systemd follows seed 003 and the istio-sidecar package: istio.service runs istio-start.sh, which sources
// /var/lib/istio/envoy/{sidecar,cluster}.env and starts pilot-agent as istio-proxy with PROV_CERT and
// OUTPUT_CERTS defaulting to /etc/certs (persistent). pilot-agent reads its token at the fixed path
// ./var/run/secrets/tokens/istio-token, which is on tmpfs: a reboot empties it. So the token is kept at
// /var/lib/kubectl-vm/istio-token (0600 root, in a 0700 directory) and a drop-in for istio.service copies it
// into /var/run/secrets/tokens before every start (ExecStartPre). Nothing of the package is edited.
//
// docker follows sidecar-bootstrap: one directory on the VM, bind-mounted into the proxy container, owned by
// uid 1337 (istio-proxy in Istio's images) so that the proxy can read the token at 0600 in a 0700 directory.
// The directory is persistent and the container restarts with the machine (--restart unless-stopped).
import crypto from 'node:crypto';
import type { Runtime } from './record.ts';

/** The names of the files in a bundle (workload-entry configure's output). */
export type BundleName = 'mesh.yaml' | 'cluster.env' | 'root-cert.pem' | 'istio-token' | 'hosts' | 'sidecar.env';

export interface LayoutFile {
  /** Absolute path on the VM. */
  path: string;
  /** Which bundle file it holds. */
  source: BundleName;
  /** A user name, or a numeric uid (docker: 1337). */
  owner: string;
  mode: number;
  /** Holds a token: never printed, compared by digest only. */
  secret?: boolean;
}

export interface LayoutDir {
  path: string;
  owner: string;
  mode: number;
}

export interface VmLayout {
  runtime: Runtime;
  dirs: LayoutDir[];
  files: LayoutFile[];
  /** Generated files that are not in the bundle (the systemd drop-in and its helper). */
  extras: { path: string; content: string; owner: string; mode: number }[];
  /** The block of /etc/hosts kubectl-vm owns, between these two lines. */
  hosts?: { file: string; begin: string; end: string };
  /** Where the agent reads its token, and the copy that survives a reboot. */
  token: { agent: string; persistent?: string };
  /** Where pilot-agent writes the workload certificate (for a status probe). */
  workloadCertDir: string;
  /** What onboarding leaves on the VM: every delivered file with its sha256 (see Manifest). */
  manifest: string;
}

export const STATE_DIR = '/var/lib/kubectl-vm';
export const MANIFEST_PATH = `${STATE_DIR}/manifest.json`;
export const PERSISTENT_TOKEN = `${STATE_DIR}/istio-token`;
export const RESTORE_TOKEN_SCRIPT = `${STATE_DIR}/restore-token.sh`;
export const AGENT_TOKEN = '/var/run/secrets/tokens/istio-token';
/** Where istio-start.sh reads optional settings (ISTIO_SIDECAR_CONFIG): sidecar-bootstrap's sidecar.env, systemd runtime. */
export const SIDECAR_ENV = '/var/lib/istio/envoy/sidecar.env';
export const SYSTEMD_UNIT = 'istio';
export const DROP_IN = `/etc/systemd/system/${SYSTEMD_UNIT}.service.d/10-kubectl-vm.conf`;
export const HOSTS_BEGIN = '# BEGIN kubectl-vm: istiod';
export const HOSTS_END = '# END kubectl-vm: istiod';
export const PROXY_USER = 'istio-proxy';
/** istio-proxy's uid in Istio's proxyv2 image. */
export const PROXY_UID = 1337;
export const DOCKER_DIR = `${STATE_DIR}/proxy`;
export const DOCKER_CONTAINER = 'istio-proxy';

/**
 * Copies the persistent token to where pilot-agent reads it; run by istio.service's ExecStartPre as root.
 * ROOT prefixes every path (tests install under a temporary root).
 */
export const RESTORE_TOKEN_SH = `#!/bin/sh
# kubectl-vm: put the VM's token where pilot-agent reads it (/var/run is emptied at boot). Run before each start
# of istio.service by the drop-in ${DROP_IN}.
set -eu
root="\${ROOT:-}"
[ -f "$root${PERSISTENT_TOKEN}" ] || { echo "kubectl-vm: $root${PERSISTENT_TOKEN} is missing; onboard the VM again" >&2; exit 1; }
owner=${PROXY_USER}
id "$owner" > /dev/null 2>&1 || owner=root
install -d -m 0700 "$root/var/run/secrets/tokens"
tmp="$root${AGENT_TOKEN}.kubectl-vm.tmp"
cp "$root${PERSISTENT_TOKEN}" "$tmp"
chmod 0600 "$tmp"
chown "$owner" "$root/var/run/secrets/tokens" "$tmp"
mv -f "$tmp" "$root${AGENT_TOKEN}"
`;

/** The drop-in for istio.service: restore the token before every start; nothing else of the unit changes. */
export const DROP_IN_CONF = `# kubectl-vm: the token survives reboots (see ${RESTORE_TOKEN_SCRIPT})
[Service]
ExecStartPre=/bin/sh ${RESTORE_TOKEN_SCRIPT}
`;

/** Seed 003's layout, plus the reboot-proof token. */
export function systemdLayout(): VmLayout {
  return {
    runtime: 'systemd',
    dirs: [
      { path: '/etc/certs', owner: PROXY_USER, mode: 0o755 },
      { path: '/var/lib/istio/envoy', owner: PROXY_USER, mode: 0o755 },
      { path: '/etc/istio/config', owner: PROXY_USER, mode: 0o755 },
      { path: '/etc/istio/proxy', owner: PROXY_USER, mode: 0o755 },
      { path: '/var/run/secrets/tokens', owner: PROXY_USER, mode: 0o700 },
      { path: STATE_DIR, owner: 'root', mode: 0o700 },
      { path: `/etc/systemd/system/${SYSTEMD_UNIT}.service.d`, owner: 'root', mode: 0o755 },
    ],
    files: [
      { path: '/etc/certs/root-cert.pem', source: 'root-cert.pem', owner: PROXY_USER, mode: 0o644 },
      { path: PERSISTENT_TOKEN, source: 'istio-token', owner: 'root', mode: 0o600, secret: true },
      { path: AGENT_TOKEN, source: 'istio-token', owner: PROXY_USER, mode: 0o600, secret: true },
      { path: '/var/lib/istio/envoy/cluster.env', source: 'cluster.env', owner: PROXY_USER, mode: 0o644 },
      { path: '/etc/istio/config/mesh', source: 'mesh.yaml', owner: PROXY_USER, mode: 0o644 },
    ],
    extras: [
      { path: RESTORE_TOKEN_SCRIPT, content: RESTORE_TOKEN_SH, owner: 'root', mode: 0o700 },
      { path: DROP_IN, content: DROP_IN_CONF, owner: 'root', mode: 0o644 },
    ],
    hosts: { file: '/etc/hosts', begin: HOSTS_BEGIN, end: HOSTS_END },
    token: { agent: AGENT_TOKEN, persistent: PERSISTENT_TOKEN },
    workloadCertDir: '/etc/certs',
    manifest: MANIFEST_PATH,
  };
}

/** sidecar-bootstrap's layout: one directory, owned by the proxy's uid, mounted into the container. */
export function dockerLayout(dir = DOCKER_DIR): VmLayout {
  const own = String(PROXY_UID);
  return {
    runtime: 'docker',
    dirs: [
      { path: STATE_DIR, owner: 'root', mode: 0o700 },
      { path: dir, owner: own, mode: 0o700 },
    ],
    files: [
      { path: `${dir}/istio-ca.pem`, source: 'root-cert.pem', owner: own, mode: 0o644 },
      { path: `${dir}/istio-token`, source: 'istio-token', owner: own, mode: 0o600, secret: true },
      { path: `${dir}/cluster.env`, source: 'cluster.env', owner: own, mode: 0o644 },
      { path: `${dir}/mesh.yaml`, source: 'mesh.yaml', owner: own, mode: 0o644 },
    ],
    extras: [],
    token: { agent: `${dir}/istio-token` },
    workloadCertDir: `${dir}/certs`,
    manifest: MANIFEST_PATH,
  };
}

export function layoutFor(runtime: Runtime, options: { dockerDir?: string } = {}): VmLayout {
  if (runtime === 'docker') return dockerLayout(options.dockerDir);
  return systemdLayout();
}

export const sha256 = (content: string | Buffer) => crypto.createHash('sha256').update(content).digest('hex');

/** One file as it should be on the VM: where, whose, which mode, and its digest (never its secret content). */
export interface PlacedFile {
  path: string;
  owner: string;
  mode: number;
  sha256: string;
  secret?: boolean;
}

/** Every file the layout puts on the VM for this bundle, with its digest. */
export function placedFiles(layout: VmLayout, bundle: Partial<Record<BundleName, string>>): PlacedFile[] {
  const out: PlacedFile[] = [];
  for (const f of layout.files) {
    const content = bundle[f.source];
    if (content === undefined) continue;
    out.push({ path: f.path, owner: f.owner, mode: f.mode, sha256: sha256(content), ...(f.secret ? { secret: true } : {}) });
  }
  for (const e of layout.extras) out.push({ path: e.path, owner: e.owner, mode: e.mode, sha256: sha256(e.content) });
  return out;
}

/** The manifest on the VM (MANIFEST_PATH): what offboard removes, and what a re-run compares. */
export interface Manifest {
  apiVersion: 'kubectl-vm.io/v1';
  kind: 'VmManifest';
  runtime: Runtime;
  vm?: string;
  namespace?: string;
  files: { path: string; sha256: string; mode: string; owner: string }[];
  /** The lines kubectl-vm keeps in /etc/hosts between its markers. */
  hosts: { file: string; begin: string; end: string; lines: string[] } | null;
  /** The docker container, for the docker runtime. */
  container?: string;
}

/**
 * The digest of a whole delivery: sha256 over `sha256sum`-style lines of its files, sorted by path, plus the hosts
 * lines. The record keeps it (kubectl-vm.io/bundle-sha256); it holds no secret.
 */
export function bundleDigest(files: PlacedFile[], hostsLines: string[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => `${f.sha256}  ${f.path} ${f.owner} ${f.mode.toString(8)}\n`);
  return sha256(lines.join('') + hostsLines.map((l) => `hosts: ${l}\n`).join(''));
}

/** The lines of the bundle's hosts file that go into /etc/hosts (blank lines dropped). */
export function hostsLines(hosts: string): string[] {
  return hosts.split('\n').filter((l) => l.trim() !== '');
}
