// The protocols Istio accepts as a port name (pkg/config/protocol), and the names istioctl gives unnamed ports.

/** Lower-case name → Istio's constant, as it appears in a ServiceEntry port. */
export const ISTIO_PROTOCOLS: Readonly<Record<string, string>> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

/** istioctl's names for well-known port numbers given without a name. */
export const WELL_KNOWN_PORTS: Readonly<Record<number, string>> = { 80: 'http', 443: 'https', 3306: 'mysql', 8080: 'http' };

/** Istio's constant for a protocol name (case-insensitive), or undefined. */
export function istioProtocol(name: string): string | undefined {
  return ISTIO_PROTOCOLS[name.toLowerCase()];
}
