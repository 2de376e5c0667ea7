// The files a VM needs (seed 003 step 5; reference/istioctl.md §2.7), in the order istioctl writes them, with the
// modes kubectl-vm gives them (B9: istioctl writes everything 0744, the token included), plus install.sh.

export interface BundleFile {
  name: string;
  content: string;
  mode: number;
  /** Never printed, not even in a dry run. */
  secret?: boolean;
}

export interface BundleContent {
  meshYaml: string;
  clusterEnv: string;
  rootCert: string;
  /** undefined in a dry run: no token is minted. */
  token?: string;
  hosts: string;
}

export function bundleFiles(c: BundleContent): BundleFile[] {
  return [
    { name: 'mesh.yaml', content: c.meshYaml, mode: 0o644 },
    { name: 'cluster.env', content: c.clusterEnv, mode: 0o644 },
    { name: 'root-cert.pem', content: c.rootCert, mode: 0o644 },
    { name: 'istio-token', content: c.token ?? '', mode: 0o600, secret: true },
    { name: 'hosts', content: c.hosts, mode: 0o644 },
    { name: 'install.sh', content: INSTALL_SH, mode: 0o755 },
  ];
}

/** Installs the bundle on the VM as Istio's VM documentation does it by hand; safe to run again. */
export const INSTALL_SH = `#!/usr/bin/env bash
# Installs the files of this bundle on the VM, as Istio's virtual machine guide does by hand, and optionally
# starts the proxy. Running it again replaces what it installed; it never appends to /etc/hosts twice.
#
#   sudo ./install.sh [--start]
#
# ROOT=/some/dir installs under that directory instead of /, for testing. ISTIO_PROXY_USER names the user that
# gets the files (default istio-proxy, when that user exists).
set -euo pipefail

usage() { sed -n '2,\${ /^#/!q; s/^# \\{0,1\\}//; p; }' "$0"; }
start=false
for arg in "$@"; do
  case "$arg" in
    --start) start=true ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
root="\${ROOT:-}"
owner="\${ISTIO_PROXY_USER:-istio-proxy}"
for f in root-cert.pem istio-token cluster.env mesh.yaml hosts; do
  [ -f "$here/$f" ] || { echo "install.sh: $here/$f is missing; regenerate the bundle with kubectl vm workload-entry configure" >&2; exit 66; }
done

install -d -m 0755 "$root/etc/certs" "$root/var/lib/istio/envoy" "$root/etc/istio/config" "$root/etc/istio/proxy"
install -d -m 0700 "$root/var/run/secrets/tokens"
install -m 0644 "$here/root-cert.pem" "$root/etc/certs/root-cert.pem"
install -m 0600 "$here/istio-token" "$root/var/run/secrets/tokens/istio-token"
install -m 0644 "$here/cluster.env" "$root/var/lib/istio/envoy/cluster.env"
install -m 0644 "$here/mesh.yaml" "$root/etc/istio/config/mesh"

# /etc/hosts: our lines live in one fenced block, which each run replaces (or removes, when hosts is empty).
hosts="$root/etc/hosts"
begin="# BEGIN kubectl-vm: istiod"
end="# END kubectl-vm: istiod"
mkdir -p "$(dirname "$hosts")"
touch "$hosts"
tmp="$(mktemp "$hosts.XXXXXX")"
awk -v b="$begin" -v e="$end" '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$hosts" > "$tmp"
if [ -s "$here/hosts" ]; then
  { echo "$begin"; cat "$here/hosts"; echo "$end"; } >> "$tmp"
fi
cat "$tmp" > "$hosts"
rm -f "$tmp"

if id "$owner" > /dev/null 2>&1; then
  chown -R "$owner" "$root/var/lib/istio" "$root/etc/certs" "$root/etc/istio/proxy" "$root/etc/istio/config" "$root/var/run/secrets/tokens"
fi

echo "installed the Istio VM files under \${root:-/}"
if $start; then
  systemctl start istio
  echo "started istio"
fi
`;
