// `expose-service` (seeds 000/004, "Expose service running on cluster to VMs"): a ServiceEntry for the host
// <name>.<namespace>.global that sends every port to the cluster's ingress gateway on 15443, where the SNI-aware
// AUTO_PASSTHROUGH listener of the 1.4–1.8 multicluster gateway forwards it to <name>.<namespace>.svc.
import { MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';
import type { NamedPort } from './ports.ts';
import { istioProtocol } from './protocols.ts';

/** The port of the multicluster gateway's `*.global` TLS listener; the seed says "Do not change this port value". */
export const GLOBAL_GATEWAY_PORT = 15443;

export interface GlobalPort {
  name: string;
  number: number;
  protocol: string;
}

export interface GlobalServiceSpec {
  name: string;
  namespace: string;
  ports: GlobalPort[];
  /** The ingress gateway: an IP address or, for load balancers that have only one, a host name. */
  gatewayAddress: string;
  /** The address .global resolves to, e.g. 127.255.0.3. */
  address: string;
}

export const globalHost = (name: string, namespace: string) => `${name}.${namespace}.global`;

/** The seed's name for this ServiceEntry: `httpbin.bar.forvms`. */
export const globalServiceEntryName = (name: string, namespace: string) => `${name}.${namespace}.forvms`;

/** The line a VM adds to /etc/hosts, as in the seed: `127.255.0.3 httpbin.bar.global`. */
export const hostsLine = (address: string, name: string, namespace: string) => `${address} ${globalHost(name, namespace)}`;

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

/**
 * The ServiceEntry ports for a cluster Service's ports: the protocol from appProtocol, else from the port name
 * (`http-web` → HTTP), as Istio selects it, else TCP. UDP and SCTP ports cannot pass the TLS gateway and are
 * returned apart.
 */
export function portsFromService(ports: readonly ServicePort[]): { ports: GlobalPort[]; skipped: ServicePort[] } {
  const out: GlobalPort[] = [];
  const skipped: ServicePort[] = [];
  for (const p of ports) {
    if (p.protocol && p.protocol !== 'TCP') {
      skipped.push(p);
      continue;
    }
    const fromName = p.name ? istioProtocol(p.name.split('-')[0]!) : undefined;
    const fromApp = p.appProtocol ? istioProtocol(p.appProtocol.replace(/^kubernetes\.io\/h2c$/, 'http2')) : undefined;
    const protocol = fromApp ?? fromName ?? 'TCP';
    out.push({ name: p.name || `${protocol.toLowerCase()}-${p.port}`, number: p.port, protocol: protocol === 'UDP' ? 'TCP' : protocol });
  }
  return { ports: out, skipped };
}

/** The ServiceEntry ports for `--port` arguments, named as add-to-mesh names them (`http-8000`). */
export function portsFromArgs(ports: readonly NamedPort[]): GlobalPort[] {
  return ports.map((p) => ({ name: `${p.name.toLowerCase()}-${p.port}`, number: p.port, protocol: p.protocol }));
}

export function buildGlobalServiceEntry(spec: GlobalServiceSpec): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {
      name: globalServiceEntryName(spec.name, spec.namespace),
      namespace: spec.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGER },
    },
    spec: {
      hosts: [globalHost(spec.name, spec.namespace)],
      location: 'MESH_INTERNAL',
      ports: spec.ports.map((p) => ({ name: p.name, number: p.number, protocol: p.protocol })),
      resolution: 'DNS',
      addresses: [spec.address],
      endpoints: [{ address: spec.gatewayAddress, ports: Object.fromEntries(spec.ports.map((p) => [p.name, GLOBAL_GATEWAY_PORT])) }],
    },
  };
}
