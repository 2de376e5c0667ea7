// The files a VM needs (seed 003 step 5; reference/istioctl.md §2.7), in the order istioctl writes them, with the
// modes kubectl-vm gives them (B9: istioctl writes everything 0744, the token included), plus install.sh.

import { installScript } from '../vm/install-script.ts';

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

/** The files, their names under `prefix` (a fleet's "<namespace>/<group>/"). */
export function bundleFiles(c: BundleContent, prefix = ''): BundleFile[] {
  return [
    { name: `${prefix}mesh.yaml`, content: c.meshYaml, mode: 0o644 },
    { name: `${prefix}cluster.env`, content: c.clusterEnv, mode: 0o644 },
    { name: `${prefix}root-cert.pem`, content: c.rootCert, mode: 0o644 },
    { name: `${prefix}istio-token`, content: c.token ?? '', mode: 0o600, secret: true },
    { name: `${prefix}hosts`, content: c.hosts, mode: 0o644 },
    { name: `${prefix}install.sh`, content: INSTALL_SH, mode: 0o755 },
  ];
}

/** Installs the bundle on the VM as Istio's VM documentation does it by hand; safe to run again (shared/vm). */
export const INSTALL_SH = installScript();
