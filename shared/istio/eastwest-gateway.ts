// The east-west gateway that samples/multicluster/gen-eastwest-gateway.sh prints (reference/istioctl.md §6): an
// IstioOperator for `istioctl install -f -`, or with ambient a Gateway API Gateway of class istio-east-west.
// B20 fixed: `spec.revision` is left out when there is no revision (the script always writes "").
export const EASTWEST_GATEWAY = 'istio-eastwestgateway';
export const NETWORK_LABEL = 'topology.istio.io/network';

export interface EastwestGatewaySpec {
  /** The network the gateway's cluster is on; undefined for a single-network mesh (--single-cluster). */
  network?: string;
  /** "" for none. */
  revision: string;
  ambient: boolean;
  /** Only for the ambient Gateway, which names its namespace. */
  istioNamespace: string;
}

/** The gateway Service's ports: readiness, cross-network mTLS (15443), istiod (15012) and its webhook (15017). */
export const EASTWEST_PORTS = [
  { name: 'status-port', port: 15021 },
  { name: 'tls', port: 15443 },
  { name: 'tls-istiod', port: 15012 },
  { name: 'tls-webhook', port: 15017 },
] as const;

export function buildEastwestGateway(spec: EastwestGatewaySpec): Record<string, unknown> {
  if (spec.ambient) {
    if (spec.network === undefined) throw new Error('an ambient east-west gateway needs a network');
    return buildAmbientGateway(spec.network, spec.istioNamespace, spec.revision);
  }
  return buildIstioOperator(spec.network, spec.revision);
}

function buildIstioOperator(network: string | undefined, revision: string): Record<string, unknown> {
  const multiNetwork = network !== undefined;
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'eastwest' },
    spec: {
      ...(revision ? { revision } : {}),
      profile: 'empty',
      components: {
        ingressGateways: [
          {
            name: EASTWEST_GATEWAY,
            label: { istio: 'eastwestgateway', app: EASTWEST_GATEWAY, ...(multiNetwork ? { [NETWORK_LABEL]: network } : {}) },
            enabled: true,
            k8s: {
              // Traffic through the gateway is routed inside its own network.
              ...(multiNetwork ? { env: [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network }] } : {}),
              service: { ports: EASTWEST_PORTS.map((p) => ({ name: p.name, port: p.port, targetPort: p.port })) },
            },
          },
        ],
      },
      values: {
        gateways: { 'istio-ingressgateway': { injectionTemplate: 'gateway' } },
        ...(multiNetwork ? { global: { network } } : {}),
      },
    },
  };
}

/** With a revision, the label istio.io/rev picks the control plane that runs the gateway (the script drops it). */
function buildAmbientGateway(network: string, istioNamespace: string, revision: string): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: EASTWEST_GATEWAY, namespace: istioNamespace, labels: { [NETWORK_LABEL]: network, ...(revision ? { 'istio.io/rev': revision } : {}) } },
    spec: {
      gatewayClassName: 'istio-east-west',
      listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE', tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } } }],
    },
  };
}
