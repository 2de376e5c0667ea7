// The address a VM reaches a gateway at: the first load-balancer address of its Service. B6: a load balancer that
// reports only a hostname (AWS ELB) is resolved to an address; then spec.externalIPs. B7: failures to read the
// Service are errors, not swallowed. Undefined when none is found (each reason said as a warning).
import type { PluginContext } from '../cli/plugin.ts';
import { asCliError, CliError, ExitCode, UnreachableError, UsageError } from '../errors.ts';
import type { KubeClient } from './client.ts';
import { isIPAddress } from './names.ts';
import type { KubeObject } from './objects.ts';

type GatewayService = KubeObject & { spec?: { externalIPs?: string[] }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } };

export async function gatewayAddress(ctx: Pick<PluginContext, 'log' | 'lookup' | 'kube'>, name: string, namespace: string, missingHint: string): Promise<string | undefined> {
  let svc: GatewayService | undefined;
  try {
    svc = await ctx.kube().get<GatewayService>({ apiVersion: 'v1', kind: 'Service', name, namespace });
  } catch (err) {
    // Only "not found" may leave hosts empty: any other failure (403, a 503 that outlasted the retries) is an
    // error, or the VM would get a bundle that cannot reach istiod and exit 0.
    const e = asCliError(err);
    throw new CliError(`cannot read the gateway Service ${namespace}/${name}: ${e.message}`, e.exitCode, { hint: e.hint, details: e.details, cause: err });
  }
  if (!svc) {
    ctx.log.warn(`the gateway Service ${namespace}/${name} does not exist: ${missingHint}`);
    return undefined;
  }
  const ingress = svc.status?.loadBalancer?.ingress?.[0];
  if (ingress?.ip && isIPAddress(ingress.ip)) return ingress.ip;
  if (ingress?.hostname) {
    try {
      const addresses = await ctx.lookup(ingress.hostname);
      if (addresses[0]) {
        ctx.log.note(`the load balancer of ${namespace}/${name} has the hostname ${ingress.hostname}; hosts uses its address ${addresses[0]}, which can change`);
        return addresses[0];
      }
    } catch (err) {
      ctx.log.warn(`cannot resolve ${ingress.hostname}, the load balancer of ${namespace}/${name}: ${(err as Error).message}`);
    }
  }
  const external = svc.spec?.externalIPs?.[0];
  if (external && isIPAddress(external)) return external;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The VMs' gateway: one lookup for every command (workload-entry configure, sidecar-bootstrap, expose-service,
// onboard), in this order: meshNetworks' gateway for the VM's network; a Service of the istio namespace labelled
// topology.istio.io/network=<network> that exposes 15443 (or its networking.istio.io/gatewayPort); meshConfig's
// ingressService; istio-eastwestgateway; istio-ingressgateway. --gateway-service and --gateway-address override.

export const VM_GATEWAY_PORT = 15443;
const NETWORK_LABEL = 'topology.istio.io/network';
const GATEWAY_PORT_ANNOTATION = 'networking.istio.io/gatewayPort';

type LookupService = GatewayService & { spec?: { ports?: { port: number }[]; externalIPs?: string[] } };

export interface GatewayLookup {
  istioNamespace: string;
  /** The VM's network; empty or undefined for a single network (steps 1 and 2 are skipped). */
  network?: string;
  meshConfig: Record<string, unknown>;
  meshNetworks: Record<string, unknown>;
  /** --gateway-service NS/NAME. */
  service?: { name: string; namespace: string };
  /** --gateway-address ADDR. */
  address?: string;
  /** Only Services that expose this port (or their gatewayPort annotation's) qualify: sidecar-bootstrap's 15443. */
  requirePort?: boolean;
}

export interface VmGateway {
  /** An IP, or a DNS name (a hostname load balancer such as an ELB). */
  address: string;
  isHostname: boolean;
  service?: { name: string; namespace: string };
  /** The Service's ports and the port VMs use on it (15443, or its networking.istio.io/gatewayPort). */
  ports?: number[];
  gatewayPort?: number;
  /** Where it came from, for messages: "meshNetworks network net1", "istio-system/istio-eastwestgateway", … */
  source: string;
}

/** Parses --gateway-service: NS/NAME (or NAME, in the istio namespace). */
export function parseGatewayService(value: string, istioNamespace: string): { name: string; namespace: string } {
  const m = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (!m) throw new UsageError(`invalid --gateway-service "${value}": expected NAMESPACE/NAME`, { hint: 'e.g. --gateway-service istio-system/istio-eastwestgateway' });
  return { namespace: m[1] ?? istioNamespace, name: m[3]! };
}

function addressOf(svc: LookupService): { address: string; isHostname: boolean } | undefined {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  const ip = ingress.find((i) => i.ip && isIPAddress(i.ip))?.ip;
  if (ip) return { address: ip, isHostname: false };
  const hostname = ingress.find((i) => i.hostname)?.hostname;
  if (hostname) return { address: hostname, isHostname: true };
  const external = svc.spec?.externalIPs?.find((a) => isIPAddress(a));
  if (external) return { address: external, isHostname: false };
  return undefined;
}

const portsOf = (svc: LookupService) => ({ ports: (svc.spec?.ports ?? []).map((p) => p.port), gatewayPort: Number(svc.metadata.annotations?.[GATEWAY_PORT_ANNOTATION] ?? VM_GATEWAY_PORT) });

const exposesGatewayPort = (svc: LookupService) => {
  const { ports, gatewayPort } = portsOf(svc);
  return ports.includes(gatewayPort);
};

/** The gateway the VMs reach the mesh through, or an error listing, in order, everything that was tried. */
export async function findVmGateway(kube: KubeClient, l: GatewayLookup): Promise<VmGateway> {
  if (l.address) return { address: l.address, isHostname: !isIPAddress(l.address), source: '--gateway-address' };
  const tried: string[] = [];
  const fromService = async (name: string, namespace: string, source: string): Promise<VmGateway | undefined> => {
    let svc: LookupService | undefined;
    try {
      svc = await kube.get<LookupService>({ apiVersion: 'v1', kind: 'Service', name, namespace });
    } catch (err) {
      // B7: a lookup that fails is said, not taken for "absent".
      const e = err as CliError;
      throw new CliError(`cannot read the gateway Service ${namespace}/${name}: ${e.message}`, e.exitCode ?? ExitCode.general, { hint: e.hint, cause: e });
    }
    if (!svc) {
      tried.push(`${source}: service ${namespace}/${name} does not exist`);
      return undefined;
    }
    if (l.requirePort && !exposesGatewayPort(svc)) {
      tried.push(`${source}: service ${namespace}/${name} has no port ${portsOf(svc).gatewayPort}, which the VMs reach istiod through`);
      return undefined;
    }
    const a = addressOf(svc);
    if (!a) {
      tried.push(`${source}: service ${namespace}/${name} has no load-balancer address (or external IP) yet`);
      return undefined;
    }
    return { ...a, ...portsOf(svc), service: { name, namespace }, source };
  };
  if (l.service) {
    const found = await fromService(l.service.name, l.service.namespace, '--gateway-service');
    if (found) return found;
    throw gatewayNotFound(tried, l);
  }
  const ns = l.istioNamespace;
  // 1. meshNetworks
  if (l.network) {
    const networks = (l.meshNetworks.networks ?? {}) as Record<string, { gateways?: { registryServiceName?: string; address?: string }[] }>;
    const gw = networks[l.network]?.gateways?.[0];
    if (gw?.address) return { address: gw.address, isHostname: !isIPAddress(gw.address), source: `meshNetworks network ${l.network}` };
    if (gw?.registryServiceName) {
      const [name, namespace = ns] = gw.registryServiceName.split('.') as [string, string?];
      const found = await fromService(name, namespace, `meshNetworks network ${l.network}`);
      if (found) return found;
    } else tried.push(`meshNetworks: no gateway for network ${l.network}`);
    // 2. a Service labelled with the network that exposes the gateway port
    const labelled = await kube.list<LookupService>('v1', 'Service', { namespace: ns, labelSelector: `${NETWORK_LABEL}=${l.network}` });
    const candidates = labelled.filter(exposesGatewayPort).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    for (const svc of candidates) {
      const a = addressOf(svc);
      if (a) return { ...a, ...portsOf(svc), service: { name: svc.metadata.name!, namespace: ns }, source: `service ${ns}/${svc.metadata.name} (labelled ${NETWORK_LABEL}=${l.network})` };
      tried.push(`service ${ns}/${svc.metadata.name} (labelled ${NETWORK_LABEL}=${l.network}) has no load-balancer address yet`);
    }
    if (candidates.length === 0) tried.push(`no service in ${ns} labelled ${NETWORK_LABEL}=${l.network} exposes port ${VM_GATEWAY_PORT} (or its ${GATEWAY_PORT_ANNOTATION})`);
  } else {
    tried.push('meshNetworks and services labelled topology.istio.io/network: skipped, the VM has no network');
  }
  // 3. meshConfig.ingressService
  const ingressService = typeof l.meshConfig.ingressService === 'string' ? l.meshConfig.ingressService : '';
  if (ingressService) {
    const found = await fromService(ingressService, ns, 'meshConfig.ingressService');
    if (found) return found;
  } else tried.push('meshConfig.ingressService: not set');
  // 4., 5. the conventional names
  for (const name of ['istio-eastwestgateway', 'istio-ingressgateway']) {
    const found = await fromService(name, ns, name);
    if (found) return found;
  }
  throw gatewayNotFound(tried, l);
}

/** Nothing to find: the one lookup failure a caller may degrade on (a failed read is another error). */
export class GatewayNotFoundError extends CliError {}

function gatewayNotFound(tried: string[], l: GatewayLookup): CliError {
  return new GatewayNotFoundError(`no gateway found for the VMs${l.network ? ` of network ${l.network}` : ''}`, ExitCode.general, {
    details: tried.map((t, i) => `${i + 1}. ${t}`),
    hint: `install one (kubectl vm eastwest-gateway ... | kubectl apply -f -), or name it: --gateway-service ${l.istioNamespace}/<name>, or --gateway-address <ip>`,
  });
}

/** An IP for /etc/hosts: a hostname load balancer is resolved (B6), with a note that the address can change. */
export async function gatewayIp(ctx: Pick<PluginContext, 'log' | 'lookup'>, gw: VmGateway): Promise<string> {
  if (!gw.isHostname) return gw.address;
  let addresses: string[] = [];
  try {
    addresses = await ctx.lookup(gw.address);
  } catch (err) {
    throw new UnreachableError(`cannot resolve ${gw.address}, the address of the gateway (${gw.source}): ${(err as Error).message}`, { hint: 'pass --gateway-address <ip>' });
  }
  if (!addresses[0]) throw new UnreachableError(`${gw.address}, the address of the gateway (${gw.source}), resolves to nothing`, { hint: 'pass --gateway-address <ip>' });
  const what = gw.service ? `the load balancer of ${gw.service.namespace}/${gw.service.name}` : `the gateway (${gw.source})`;
  ctx.log.note(`${what} has the hostname ${gw.address}; hosts uses its address ${addresses[0]}, which can change`);
  return addresses[0];
}
