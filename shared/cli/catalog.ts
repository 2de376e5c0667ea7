// The list of kubectl-vm commands, shared by the router (which must not import plugins) and by each plugin's
// --help. One entry per executable.

export interface CatalogEntry {
  /** The words after `kubectl vm`. */
  name: string;
  describe: string;
}

export const CATALOG: readonly CatalogEntry[] = [
  { name: 'add-to-mesh', describe: 'Add a service that runs on VMs to the mesh: a Service plus a ServiceEntry' },
  { name: 'remove-from-mesh', describe: 'Remove a service that add-to-mesh added' },
  { name: 'register', describe: 'Put VM addresses behind a selector-less Service, as EndpointSlices' },
  { name: 'deregister', describe: 'Take VM addresses out of a Service that register filled' },
  { name: 'workload-group create', describe: 'Print (or --apply) a WorkloadGroup: the template of the VMs of one service' },
  { name: 'eastwest-gateway', describe: 'Print the east-west gateway that VMs on other networks reach the mesh through' },
  { name: 'expose-istiod', describe: 'Open istiod (and with --services the mesh) to VMs on other networks, through the east-west gateway' },
  { name: 'workload-entry configure', describe: "Write the files a VM needs to join the mesh: a WorkloadGroup's bundle" },
  { name: 'ca-certs create', describe: "Check your CA's certificates and plug them into Istio as the cacerts Secret" },
  { name: 'mesh-expansion keys', describe: 'Write a VM\'s keys from the Secret istio.<service-account> (Istio 1.4)' },
  { name: 'mesh-expansion cluster-env', describe: 'Write the legacy cluster.env and hosts of a VM (Istio 1.4–1.6), the service range read from the cluster' },
  { name: 'expose-service', describe: 'Let VMs reach a cluster Service as <name>.<namespace>.global: a ServiceEntry and a unique address' },
  { name: 'dns-stub', describe: "Point the cluster DNS's .global stub domain at Istio's istiocoredns (kube-dns or CoreDNS)" },
  { name: 'sidecar-bootstrap', describe: "Copy a WorkloadEntry's bundle to its VM over SSH and start the proxy" },
  { name: 'onboard', describe: 'Put VMs into the mesh over SSH in one command: record, bound token, files, proxy started' },
  { name: 'status', describe: 'One row per VM: WorkloadEntry health and connection, token expiry, and with --probe what the VM itself says' },
  { name: 'token rotate', describe: 'Mint a fresh token for each VM, deliver it over SSH, then revoke the old one' },
  { name: 'token revoke', describe: "Revoke a VM's token at once, by deleting its binding; the VM is not touched" },
  { name: 'offboard', describe: 'Undo onboarding: stop the proxy, clean iptables, /etc/hosts and the delivered files, revoke the token, delete the record' },
  { name: 'doctor', describe: 'Check every precondition of a VM in the mesh, cluster side and over SSH, and name the fix for each' },
  { name: 'completion', describe: "Print a shell completion script (bash, zsh, fish), or install kubectl's completion hook" },
];

export function describeCommand(name: string): string {
  const entry = CATALOG.find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in the catalog`);
  return entry.describe;
}

/**
 * The executable kubectl looks up for a command: words joined by "-", and a "-" inside a word becomes "_"
 * (`workload-entry configure` → `kubectl-vm-workload_entry-configure`).
 */
export function executableName(name: string): string {
  return ['kubectl', 'vm', ...name.split(' ').map((w) => w.replace(/-/g, '_'))].join('-');
}
