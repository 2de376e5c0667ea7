// `[<protocol>:]<port>` arguments, as add-to-mesh and register take them.
import { UsageError } from '../errors.ts';
import { ISTIO_PROTOCOLS, WELL_KNOWN_PORTS, istioProtocol } from './protocols.ts';

export interface NamedPort {
  /** The protocol name as the user wrote it (istioctl keeps its case in the ServiceEntry). */
  name: string;
  port: number;
  /** Istio's protocol constant: HTTP, TCP, … */
  protocol: string;
}

const PROTOCOL_LIST = Object.keys(ISTIO_PROTOCOLS).join(', ');

export function parsePort(spec: string): NamedPort {
  const colon = spec.indexOf(':');
  const name = colon === -1 ? undefined : spec.slice(0, colon);
  const digits = colon === -1 ? spec : spec.slice(colon + 1);
  if (!/^\d+$/.test(digits)) {
    throw new UsageError(`invalid port "${spec}": expected [<protocol>:]<number>`, { hint: 'for example http:8080 or tcp:3306' });
  }
  const port = Number(digits);
  if (port < 1 || port > 65535) {
    throw new UsageError(`invalid port "${spec}": ${port} is not between 1 and 65535`, { hint: 'for example http:8080 or tcp:3306' });
  }
  if (name === '') throw new UsageError(`invalid port "${spec}": the protocol before ":" is empty`, { hint: `use one of: ${PROTOCOL_LIST}` });
  const effective = name ?? WELL_KNOWN_PORTS[port];
  if (effective === undefined) {
    throw new UsageError(`port ${port} needs a protocol: write <protocol>:${port}, for example tcp:${port} or http:${port}`, {
      hint: `only 80, 443, 3306 and 8080 have a default protocol; the protocols are: ${PROTOCOL_LIST}`,
    });
  }
  const protocol = istioProtocol(effective);
  if (!protocol) throw new UsageError(`protocol ${effective} is not supported by Istio`, { hint: `use one of: ${PROTOCOL_LIST}` });
  return { name: effective, port, protocol };
}

/** Parses every port and refuses a number given twice. */
export function parsePorts(specs: string[]): NamedPort[] {
  const ports = specs.map(parsePort);
  const seen = new Map<number, string>();
  specs.forEach((spec, i) => {
    const n = ports[i]!.port;
    if (seen.has(n)) throw new UsageError(`port ${n} is given twice ("${seen.get(n)}" and "${spec}")`, { hint: 'give each port number once' });
    seen.set(n, spec);
  });
  return ports;
}
