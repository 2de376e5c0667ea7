// The objects that open istiod (and, for multi-network meshes, the mesh's services) to VMs on other networks
// through the east-west gateway: Istio's samples/multicluster expose-istiod.yaml, expose-istiod-rev.yaml.tmpl,
// expose-istiod-https.yaml and expose-services.yaml (reference/istioctl.md §6), as data. B21 fixed: istiod's
// host is built from the real istio namespace and cluster domain, not the samples' istio-system/cluster.local.
import { MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';
import { isRevisioned } from './revision.ts';

export type TlsMode = 'passthrough' | 'https';

export interface ExposeIstiodSpec {
  istioNamespace: string;
  clusterDomain: string;
  /** "" (or "default") for the default istiod. */
  revision: string;
  /** The labels of the east-west gateway's pods; the samples' `istio: eastwestgateway`. */
  gatewaySelector: Record<string, string>;
  tls: { mode: 'passthrough' } | { mode: 'https'; credentialName: string; host: string };
  /** Also expose the mesh's services on 15443 (expose-services.yaml), for multi-network meshes. */
  services: boolean;
}

export const ISTIOD_GATEWAY = 'istiod-gateway';
export const CROSS_NETWORK_GATEWAY = 'cross-network-gateway';
export const DEFAULT_GATEWAY_SELECTOR: Readonly<Record<string, string>> = { istio: 'eastwestgateway' };
/** What the VMs reach istiod on: XDS and CA (15012), and the injection webhook (15017, istiod's port 443). */
export const ISTIOD_PORTS = [
  { name: 'istiod', gateway: 15012, istiod: 15012 },
  { name: 'istiodwebhook', gateway: 15017, istiod: 443 },
] as const;
export const CROSS_NETWORK_PORT = 15443;

const NETWORKING = 'networking.istio.io/v1';
const revSuffix = (revision: string) => (isRevisioned(revision) ? `-${revision}` : '');

export const istiodVirtualServiceName = (revision: string) => `istiod-vs${revSuffix(revision)}`;
export const istiodDestinationRuleName = (revision: string) => `istiod-dr${revSuffix(revision)}`;

/** `istiod[-<rev>].<ns>.svc.<domain>`: the Service the gateway forwards to. */
export function istiodServiceFqdn(spec: Pick<ExposeIstiodSpec, 'istioNamespace' | 'clusterDomain' | 'revision'>): string {
  return `istiod${revSuffix(spec.revision)}.${spec.istioNamespace}.svc.${spec.clusterDomain}`;
}

function metadata(name: string, spec: ExposeIstiodSpec) {
  return { name, namespace: spec.istioNamespace, labels: { [MANAGED_BY_LABEL]: MANAGER } };
}

/** Every object, in the order they are applied: Gateway, VirtualService, then the DestinationRule or the services' Gateway. */
export function buildExposeIstiod(spec: ExposeIstiodSpec): KubeObject[] {
  const objects = spec.tls.mode === 'https' ? buildHttps(spec, spec.tls) : buildPassthrough(spec);
  if (spec.services) objects.push(buildCrossNetworkGateway(spec));
  return objects;
}

/** The Gateway istiod-gateway on the east-west gateway: one server per istiod port. */
function istiodGateway(spec: ExposeIstiodSpec, server: (port: (typeof ISTIOD_PORTS)[number]) => Record<string, unknown>): KubeObject {
  return { apiVersion: NETWORKING, kind: 'Gateway', metadata: metadata(ISTIOD_GATEWAY, spec), spec: { selector: { ...spec.gatewaySelector }, servers: ISTIOD_PORTS.map(server) } };
}

/**
 * TLS passthrough: istiod terminates TLS itself. Without a revision every SNI goes to istiod (as the sample);
 * with one, only istiod-<rev>'s own names, so that the VirtualServices of several revisions share the Gateway.
 */
function buildPassthrough(spec: ExposeIstiodSpec): KubeObject[] {
  const host = istiodServiceFqdn(spec);
  const sniHosts = isRevisioned(spec.revision) ? [`istiod-${spec.revision}.${spec.istioNamespace}.svc`, host] : ['*'];
  return [
    istiodGateway(spec, (p) => ({ port: { name: `tls-${p.name}`, number: p.gateway, protocol: 'tls' }, tls: { mode: 'PASSTHROUGH' }, hosts: ['*'] })),
    {
      apiVersion: NETWORKING,
      kind: 'VirtualService',
      metadata: metadata(istiodVirtualServiceName(spec.revision), spec),
      spec: {
        hosts: ['*'],
        gateways: [ISTIOD_GATEWAY],
        tls: ISTIOD_PORTS.map((p) => ({
          match: [{ port: p.gateway, sniHosts: [...sniHosts] }],
          route: [{ destination: { host, port: { number: p.istiod } } }],
        })),
      },
    },
  ];
}

/** HTTPS: the gateway terminates TLS with a certificate of its own (credentialName) and re-encrypts to istiod. */
function buildHttps(spec: ExposeIstiodSpec, tls: { credentialName: string; host: string }): KubeObject[] {
  const host = istiodServiceFqdn(spec);
  return [
    istiodGateway(spec, (p) => ({
      port: { name: `https-${p.name}`, number: p.gateway, protocol: 'https' },
      tls: { mode: 'SIMPLE', credentialName: tls.credentialName },
      hosts: [tls.host],
    })),
    {
      apiVersion: NETWORKING,
      kind: 'VirtualService',
      metadata: metadata(istiodVirtualServiceName(spec.revision), spec),
      spec: {
        hosts: [tls.host],
        gateways: [ISTIOD_GATEWAY],
        http: ISTIOD_PORTS.map((p) => ({ match: [{ port: p.gateway }], route: [{ destination: { host, port: { number: p.istiod } } }] })),
      },
    },
    {
      apiVersion: NETWORKING,
      kind: 'DestinationRule',
      metadata: metadata(istiodDestinationRuleName(spec.revision), spec),
      spec: {
        host,
        trafficPolicy: {
          portLevelSettings: [
            { port: { number: 15012 }, tls: { mode: 'SIMPLE' }, connectionPool: { http: { h2UpgradePolicy: 'UPGRADE' } } },
            { port: { number: 443 }, tls: { mode: 'SIMPLE' } },
          ],
        },
      },
    },
  ];
}

/** The sample's `*.local` covers cluster.local; another cluster domain needs its own wildcard. */
export function crossNetworkHosts(clusterDomain: string): string {
  return clusterDomain === 'local' || clusterDomain.endsWith('.local') ? '*.local' : `*.${clusterDomain}`;
}

/** expose-services.yaml: mTLS traffic between networks, routed by SNI without terminating it. */
export function buildCrossNetworkGateway(spec: ExposeIstiodSpec): KubeObject {
  return {
    apiVersion: NETWORKING,
    kind: 'Gateway',
    metadata: metadata(CROSS_NETWORK_GATEWAY, spec),
    spec: {
      selector: { ...spec.gatewaySelector },
      servers: [{ port: { number: CROSS_NETWORK_PORT, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: [crossNetworkHosts(spec.clusterDomain)] }],
    },
  };
}

/** The ports the east-west gateway's Service must expose for these objects to be reachable. */
export function requiredGatewayPorts(spec: Pick<ExposeIstiodSpec, 'services'>): number[] {
  return [...ISTIOD_PORTS.map((p) => p.gateway), ...(spec.services ? [CROSS_NETWORK_PORT] : [])];
}
