// Undoing an onboarding on the VM, from the manifest it left (layout.ts): stop and disable the proxy (the unit
// and its drop-in, or the container), clean up iptables with the sidecar's own tool when it is there, remove
// kubectl-vm's fenced block from /etc/hosts and exactly the files the manifest lists, then the manifest. One
// shell script, run by `kubectl vm offboard` over SSH and by `install.sh --uninstall` for bundles copied by hand.
// It honours ROOT (tests) and is safe to run twice.
import { DOCKER_CONTAINER, DROP_IN, HOSTS_BEGIN, HOSTS_END, MANIFEST_PATH, STATE_DIR, SYSTEMD_UNIT } from './layout.ts';
import { runtimeCommands } from './runtime/index.ts';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Cleans up the proxy's iptables rules with the tool the sidecar package ships, when one is installed. */
export const IPTABLES_CLEANUP =
  'if command -v pilot-agent > /dev/null 2>&1; then pilot-agent istio-iptables --cleanup-only > /dev/null 2>&1 && echo "iptables: cleaned up (pilot-agent istio-iptables --cleanup-only)" || echo "iptables: pilot-agent istio-iptables --cleanup-only failed" >&2; ' +
  'elif command -v istio-clean-iptables > /dev/null 2>&1; then istio-clean-iptables > /dev/null 2>&1 && echo "iptables: cleaned up (istio-clean-iptables)" || echo "iptables: istio-clean-iptables failed" >&2; ' +
  'else echo "iptables: no cleanup tool (pilot-agent, istio-clean-iptables) on the VM"; fi';

/** The uninstall script (POSIX sh); prints one line per step and ends with `result: removed` or `result: nothing to remove`. */
export function uninstallScript(): string {
  const systemd = runtimeCommands('systemd')!;
  const docker = runtimeCommands('docker')!;
  return `set -u
root="\${ROOT:-}"
manifest="$root${MANIFEST_PATH}"
removed=false
runtime=systemd
if [ -f "$manifest" ]; then
  runtime=$(sed -n 's/.*"runtime": *"\\([a-z]*\\)".*/\\1/p' "$manifest" | head -n 1)
fi
# The container, when there is one of ours; the unit, for the systemd runtime or when our drop-in is there
# (a VM onboarded with one runtime and then the other has both).
if command -v docker > /dev/null 2>&1 && docker inspect ${q(DOCKER_CONTAINER)} > /dev/null 2>&1; then ${docker.stop} > /dev/null && echo "proxy: container ${DOCKER_CONTAINER} removed" && removed=true; fi
if command -v systemctl > /dev/null 2>&1 && { [ "$runtime" = systemd ] || [ -f "$root${DROP_IN}" ]; }; then
  if ${systemd.status}; then ${systemd.stop} > /dev/null 2>&1; echo "proxy: istio.service stopped and disabled"; removed=true
  elif [ -f "$root${DROP_IN}" ]; then systemctl disable ${SYSTEMD_UNIT} > /dev/null 2>&1 || true; fi
  if [ -f "$root${DROP_IN}" ]; then rm -f "$root${DROP_IN}"; systemctl daemon-reload; echo "proxy: drop-in ${DROP_IN} removed"; removed=true; fi
fi
${IPTABLES_CLEANUP}
hosts="$root/etc/hosts"
if [ -f "$hosts" ] && grep -qxF ${q(HOSTS_BEGIN)} "$hosts"; then
  tmp="$(mktemp "$hosts.XXXXXX")"
  awk -v b=${q(HOSTS_BEGIN)} -v e=${q(HOSTS_END)} '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$hosts" > "$tmp"
  cat "$tmp" > "$hosts"; rm -f "$tmp"
  echo "hosts: kubectl-vm's block removed from /etc/hosts"; removed=true
fi
if [ -f "$manifest" ]; then
  n=0
  paths=$(sed -n 's/.*"path": *"\\([^"]*\\)".*/\\1/p' "$manifest")
  while IFS= read -r p; do
    if [ -n "$p" ] && [ -e "$root$p" ]; then rm -f "$root$p"; n=$((n + 1)); fi
  done <<KUBECTL_VM_EOF
$paths
KUBECTL_VM_EOF
  rm -f "$manifest"
  echo "files: $n removed, and the manifest"; removed=true
fi
rmdir "$root${STATE_DIR}" 2> /dev/null || true
if $removed; then echo "result: removed"; else echo "result: nothing to remove"; fi
`;
}
