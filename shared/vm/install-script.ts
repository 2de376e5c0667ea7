// install.sh, the VM side of every bundle, written from the layouts (layout.ts) so that workload-entry
// configure's bundle, onboard and sidecar-bootstrap place the same files the same way. It replaces each file
// atomically (a temp file beside it, then rename), only when its content, mode or owner differ, records what it
// placed in the manifest, and says on its last line whether anything changed.
import { sh as shellQuote } from '../istio/sidecar-bootstrap.ts';
import { dockerLayout, MANIFEST_PATH, PROXY_USER, SYSTEMD_UNIT, systemdLayout, type VmLayout } from './layout.ts';

const oct = (m: number) => m.toString(8).padStart(4, '0');

/** The owner as install.sh writes it: the proxy user is $owner (ISTIO_PROXY_USER), numbers and root stay. */
const ownerWord = (o: string) => (o === PROXY_USER ? '"$owner"' : o);

function placeCommands(layout: VmLayout): string[] {
  const lines: string[] = [];
  for (const d of layout.dirs) lines.push(`  mkdir_owned ${shellQuote(d.path)} ${oct(d.mode)} ${ownerWord(d.owner)}`);
  for (const f of layout.files) lines.push(`  put "$here/${f.source}" ${shellQuote(f.path)} ${oct(f.mode)} ${ownerWord(f.owner)}`);
  for (const e of layout.extras) lines.push(`  put_text ${shellQuote(e.path)} ${oct(e.mode)} ${ownerWord(e.owner)} <<'KUBECTL_VM_EOF'\n${e.content}KUBECTL_VM_EOF`);
  return lines;
}

export function installScript(): string {
  const systemd = systemdLayout();
  const docker = dockerLayout('$dir');
  // The docker layout is written with "$dir" in its paths; unquote it so the shell expands it.
  const dockerLines = placeCommands(docker).map((l) => l.replace(/'\$dir(\/[^']*)?'/g, (_m, rest: string | undefined) => `"$dir${rest ?? ''}"`));
  return `#!/usr/bin/env bash
# Installs the files of this bundle on the VM, as Istio's virtual machine guide does by hand, and optionally
# starts the proxy. Running it again changes only what differs; it never appends to /etc/hosts twice.
#
#   sudo ./install.sh [--runtime systemd|docker] [--dir DIR] [--start]
#
# systemd (the default) is the istio-sidecar package's layout; the token is also kept in /var/lib/kubectl-vm,
# and a drop-in for istio.service puts it back in /var/run after a reboot. docker puts the files into DIR
# (default /var/lib/kubectl-vm/proxy), owned by uid 1337, for the proxy container.
# ROOT=/some/dir installs under that directory instead of /, for testing. ISTIO_PROXY_USER names the user that
# gets the files (default istio-proxy, when that user exists).
set -euo pipefail

usage() { sed -n '2,\${ /^#/!q; s/^# \\{0,1\\}//; p; }' "$0"; }
start=false
runtime=systemd
dir=${shellQuote(dockerLayout().dirs[1]!.path)}
while [ $# -gt 0 ]; do
  case "$1" in
    --start) start=true ;;
    --runtime) shift; runtime="\${1:-}" ;;
    --runtime=*) runtime="\${1#--runtime=}" ;;
    --dir) shift; dir="\${1:-}" ;;
    --dir=*) dir="\${1#--dir=}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
  shift
done
case "$runtime" in systemd|docker) ;; *) echo "install.sh: unknown runtime: $runtime (expected systemd or docker)" >&2; exit 64 ;; esac
case "$dir" in /*) ;; *) echo "install.sh: --dir must be an absolute path: $dir" >&2; exit 64 ;; esac

here="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
root="\${ROOT:-}"
owner="\${ISTIO_PROXY_USER:-${PROXY_USER}}"
id "$owner" > /dev/null 2>&1 || owner=""
for f in root-cert.pem istio-token cluster.env mesh.yaml hosts; do
  [ -f "$here/$f" ] || { echo "install.sh: $here/$f is missing; regenerate the bundle with kubectl vm workload-entry configure" >&2; exit 66; }
done

changed=false
placed=()
me=$(id -u)
uid_of() { case "$1" in *[!0-9]*) id -u "$1" ;; *) echo "$1" ;; esac; }
# The owner to give: nobody (keep the creator) when unknown, or when only root could give it and we are not root.
eff_owner() { if [ -n "$1" ] && { [ "$me" = 0 ] || [ "$(uid_of "$1")" = "$me" ]; }; then echo "$1"; fi; }
# owner/mode of a path as "mode:uid", e.g. 600:1337
state_of() { stat -c '%a:%u' "$1" 2> /dev/null || echo none; }
want_state() { printf '%o:%s' "$((8#$1))" "$(if [ -n "$2" ]; then uid_of "$2"; else echo "$me"; fi)"; }
mkdir_owned() { # dir mode owner
  local d="$root$1" o
  o=$(eff_owner "$3")
  mkdir -p "$d"
  if [ "$(state_of "$d")" != "$(want_state "$2" "$o")" ]; then
    chmod "$2" "$d"
    [ -z "$o" ] || chown "$o" "$d"
  fi
}
place() { # temp dest mode owner: the temp file becomes dest, atomically, unless dest is the same already
  local tmp="$1" dest="$2" o
  o=$(eff_owner "$4")
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest" && [ "$(state_of "$dest")" = "$(want_state "$3" "$o")" ]; then
    rm -f "$tmp"
  else
    chmod "$3" "$tmp"
    [ -z "$o" ] || chown "$o" "$tmp"
    mv -f "$tmp" "$dest"
    changed=true
  fi
  placed+=("\${dest#"$root"}")
}
put() { # source dest mode owner
  local dest="$root$2"
  (umask 077 && cp "$1" "$dest.kubectl-vm.tmp")
  place "$dest.kubectl-vm.tmp" "$dest" "$3" "$4"
}
put_text() { # dest mode owner < content
  local dest="$root$1"
  (umask 077 && cat > "$dest.kubectl-vm.tmp")
  place "$dest.kubectl-vm.tmp" "$dest" "$2" "$3"
}

if [ "$runtime" = systemd ]; then
${placeCommands(systemd).join('\n')}
else
${dockerLines.join('\n')}
fi

# /etc/hosts: our lines live in one fenced block, which each run replaces (or removes, when hosts is empty).
hosts_block=false
if [ "$runtime" = systemd ]; then
  hosts="$root${systemd.hosts!.file}"
  begin=${shellQuote(systemd.hosts!.begin)}
  end=${shellQuote(systemd.hosts!.end)}
  mkdir -p "$(dirname "$hosts")"
  touch "$hosts"
  tmp="$(mktemp "$hosts.XXXXXX")"
  awk -v b="$begin" -v e="$end" '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$hosts" > "$tmp"
  if [ -s "$here/hosts" ]; then
    { echo "$begin"; cat "$here/hosts"; echo "$end"; } >> "$tmp"
    hosts_block=true
  fi
  if cmp -s "$tmp" "$hosts"; then rm -f "$tmp"; else cat "$tmp" > "$hosts"; rm -f "$tmp"; changed=true; fi
fi

# The manifest: every file placed, with its digest, and the hosts lines; offboard removes exactly these.
json() { sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' -e 's/\\t/\\\\t/g'; }
manifest="$root${MANIFEST_PATH}"
{
  printf '{\\n  "apiVersion": "kubectl-vm.io/v1",\\n  "kind": "VmManifest",\\n  "runtime": "%s",\\n  "files": [' "$runtime"
  sep=""
  for p in "\${placed[@]}"; do
    sum=$(sha256sum "$root$p" | cut -d' ' -f1)
    printf '%s\\n    {"path": "%s", "sha256": "%s", "mode": "%s", "owner": "%s"}' "$sep" "$p" "$sum" "$(stat -c '%04a' "$root$p")" "$(stat -c '%u' "$root$p")"
    sep=","
  done
  printf '\\n  ],\\n'
  if $hosts_block; then
    printf '  "hosts": {"file": "/etc/hosts", "begin": "%s", "end": "%s", "lines": [' "$begin" "$end"
    sep=""
    while IFS= read -r line || [ -n "$line" ]; do
      [ -n "$line" ] || continue
      printf '%s"%s"' "$sep" "$(printf '%s' "$line" | json)"
      sep=", "
    done < "$here/hosts"
    printf ']}\\n'
  else
    printf '  "hosts": null\\n'
  fi
  printf '}\\n'
} > "$manifest.kubectl-vm.tmp"
chmod 0600 "$manifest.kubectl-vm.tmp"
if cmp -s "$manifest.kubectl-vm.tmp" "$manifest"; then rm -f "$manifest.kubectl-vm.tmp"; else mv -f "$manifest.kubectl-vm.tmp" "$manifest"; fi

if $changed; then echo "installed the Istio VM files under \${root:-/} ($runtime)"; else echo "the Istio VM files under \${root:-/} are up to date ($runtime)"; fi
if $start; then
  if [ "$runtime" != systemd ]; then echo "install.sh: --start starts the systemd unit; the docker runtime is started by kubectl vm onboard" >&2; exit 64; fi
  systemctl daemon-reload
  systemctl enable ${SYSTEMD_UNIT}
  if $changed; then systemctl restart ${SYSTEMD_UNIT}; echo "restarted ${SYSTEMD_UNIT}"; else systemctl start ${SYSTEMD_UNIT}; echo "started ${SYSTEMD_UNIT}"; fi
fi
if $changed; then echo "result: changed"; else echo "result: unchanged"; fi
`;
}
