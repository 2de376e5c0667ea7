// expose-service: seeds 000/004's "Expose service running on cluster to VMs" as one command. A ServiceEntry for
// <name>.<namespace>.global (MESH_INTERNAL, resolution DNS) whose one endpoint is the ingress gateway, every port
// sent to 15443, with an address from 127.255.0.0/16 that no other ServiceEntry has. The address is claimed in a
// ConfigMap guarded by resourceVersion, so concurrent runs never share one; a re-run keeps it.
import { checkNamespace, checkServiceName, checkSubdomain } from '../../shared/cli/args.ts';
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { CliError, ConflictError, ExitCode, UsageError } from '../../shared/errors.ts';
import { inRange, parseRange, takenSpans, type AddressRange } from '../../shared/istio/address-pool.ts';
import {
  buildGlobalServiceEntry,
  globalHost,
  globalServiceEntryName,
  hostsLine,
  portsFromArgs,
  portsFromService,
  type GlobalPort,
  type ServicePort,
} from '../../shared/istio/global-service.ts';
import { parsePorts } from '../../shared/istio/ports.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { findVmGateway, parseGatewayService } from '../../shared/kube/gateway.ts';
import { parseYamlMapping } from '../../shared/vm/bundle.ts';
import { transaction } from '../../shared/kube/transaction.ts';
import { ensure, kubectlResource, reconcile } from '../../shared/kube/ensure.ts';
import { ADDRESS_CONFIGMAP, claimAddress } from '../../shared/kube/global-addresses.ts';
import { dns1123SubdomainProblem, isIPAddress } from '../../shared/kube/names.ts';
import { describeRef, isManaged, refOf, type KubeObject } from '../../shared/kube/objects.ts';
import type { ExposeServiceArgs } from './command.ts';

const USAGE = 'kubectl vm expose-service <service> [-n <namespace>] [-p <protocol>:<port>…] [--gateway-address <address>]';

interface Options {
  name: string;
  namespace: string;
  ports?: GlobalPort[];
  gatewayAddress?: string;
  /** --gateway-service; else the shared lookup. */
  gatewayService?: { name: string; namespace: string };
  istioNamespace: string;
  range: AddressRange;
}

/** Every argument is checked before the first request. */
function optionsFrom(ctx: PluginContext, args: ExposeServiceArgs): Options {
  if (!args.service) throw new UsageError('expose-service needs the name of a Service', { hint: `usage: ${USAGE}` });
  const name = checkServiceName('service name', args.service);
  const ports = args.port?.length ? portsFromArgs(parsePorts(args.port)) : undefined;
  const gatewayAddress = args.gatewayAddress;
  if (gatewayAddress !== undefined && !isIPAddress(gatewayAddress) && dns1123SubdomainProblem(gatewayAddress)) {
    throw new UsageError(`invalid --gateway-address "${gatewayAddress}": expected an IP address or a DNS name`, { hint: 'for example --gateway-address 35.232.112.158' });
  }
  const istioNamespace = checkNamespace(args.istioNamespace);
  // NAME[.NAMESPACE] (this command's first spelling) or NAMESPACE/NAME (as every other command takes it).
  let gatewayService: { name: string; namespace: string } | undefined;
  if (args.gatewayService?.includes('/')) gatewayService = parseGatewayService(args.gatewayService, istioNamespace);
  else if (args.gatewayService !== undefined) {
    const parts = args.gatewayService.split('.');
    if (parts.length > 2 || parts.some((p) => p === '')) {
      throw new UsageError(`invalid --gateway-service "${args.gatewayService}": expected <namespace>/<service> or <service>[.<namespace>]`, { hint: 'for example --gateway-service istio-system/istio-ingressgateway' });
    }
    gatewayService = { name: checkSubdomain('gateway service', parts[0]!), namespace: parts[1] ? checkNamespace(parts[1]) : istioNamespace };
  }
  const range = parseRange(args.addressRange);
  return { name, ports, gatewayAddress, gatewayService, istioNamespace, range, namespace: checkNamespace(ctx.namespace()) };
}

type LiveService = KubeObject & { spec?: { ports?: ServicePort[]; type?: string; externalIPs?: string[] }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } };
type ServiceEntry = KubeObject & { spec?: { hosts?: string[]; addresses?: string[] } };

export async function run(ctx: PluginContext, args: ExposeServiceArgs): Promise<Result> {
  const o = optionsFrom(ctx, args);
  const kube = ctx.kube();
  const host = globalHost(o.name, o.namespace);
  const suffix = dryRunSuffix(ctx.dryRun);

  const service = await kube.get<LiveService>({ apiVersion: 'v1', kind: 'Service', name: o.name, namespace: o.namespace });
  if (!service) {
    throw new CliError(`service ${o.name} was not found in namespace ${o.namespace}`, ExitCode.general, {
      hint: `expose-service makes an existing Service reachable from VMs; check the name, and -n (kubectl get services -n ${o.namespace})`,
    });
  }
  const ports = o.ports ?? servicePorts(ctx, service);
  if (o.ports) warnUnknownPorts(ctx, service, o.ports);
  const gatewayAddress = o.gatewayAddress ?? (await detectGateway(ctx, kube, o));

  // One transaction: if the ServiceEntry cannot be written, the address claimed for it is given back.
  return transaction(kube, { log: ctx.log, rerun: ctx.commandLine }, async (tx) => {
    // Every ServiceEntry's addresses are taken, except those of ours for this very host (a re-run keeps its own).
    const entries = await tx.list<ServiceEntry>('networking.istio.io/v1', 'ServiceEntry', { namespace: '' });
    const entryName = globalServiceEntryName(o.name, o.namespace);
    const isOurs = (se: ServiceEntry) => se.metadata.namespace === o.namespace && se.metadata.name === entryName;
    const rival = entries.find((se) => !isOurs(se) && (se.spec?.hosts ?? []).includes(host));
    if (rival) {
      throw new ConflictError(`ServiceEntry ${rival.metadata.namespace}/${rival.metadata.name} already serves the host ${host}${isManaged(rival) ? '' : ', and kubectl-vm does not manage it'}`, {
        hint: `two ServiceEntries for one host conflict; remove it first: kubectl delete ${kubectlResource(refOf(rival))} ${rival.metadata.name} -n ${rival.metadata.namespace}`,
      });
    }
    const mine = entries.find(isOurs);
    const current = mine && isManaged(mine) ? mine.spec?.addresses?.[0] : undefined;
    if (current && !inRange(o.range, current)) ctx.log.note(`${host} keeps its address ${current}, which is outside ${o.range.cidr}`);
    const taken = takenSpans(entries.filter((se) => !isOurs(se)).flatMap((se) => se.spec?.addresses ?? []));

    const claim = await ctx.step(`address of ${host}`, async (report) => {
      const c = await claimAddress(tx, { namespace: o.istioNamespace, host, range: o.range, current, taken });
      report(`${host}: ${c.address} (${c.outcome === 'kept' ? 'kept' : `claimed in configmap ${o.istioNamespace}/${ADDRESS_CONFIGMAP}`})${suffix}`);
      return c;
    });

    const desired = buildGlobalServiceEntry({ name: o.name, namespace: o.namespace, ports, gatewayAddress, address: claim.address });
    const entry = await ctx.step(describeRef(refOf(desired)), async (report) => {
      // Ours from the list above is compared and updated in place; otherwise created (ensure refuses someone else's).
      const r = mine && isManaged(mine) ? await reconcile(tx, desired, mine) : await ensure(tx, desired);
      report(`${describeRef(refOf(desired))} ${r.outcome}${suffix}`);
      return r;
    });
    const line = hostsLine(claim.address, o.name, o.namespace);
    ctx.log.note(`add "${line}" to /etc/hosts on each VM; ${host} then reaches ${o.name}.${o.namespace} through ${gatewayAddress}:15443`);
    return { objects: [entry.object], summary: [line] };
  });
}

/** The Service's TCP ports; UDP and SCTP cannot pass the gateway's TLS listener, and are left out with a warning. */
function servicePorts(ctx: PluginContext, service: LiveService): GlobalPort[] {
  const { ports, skipped } = portsFromService(service.spec?.ports ?? []);
  const where = `${service.metadata.namespace}/${service.metadata.name}`;
  if (skipped.length) ctx.log.warn(`the ports ${skipped.map((p) => `${p.port}/${p.protocol}`).join(', ')} of Service ${where} are left out: the gateway on 15443 carries TCP only`);
  if (ports.length === 0) {
    throw new UsageError(`Service ${where} has no TCP port to expose`, { hint: 'name the ports with --port, for example --port http:8000' });
  }
  return ports;
}

function warnUnknownPorts(ctx: PluginContext, service: LiveService, ports: GlobalPort[]): void {
  const served = new Set((service.spec?.ports ?? []).map((p) => p.port));
  const unknown = ports.filter((p) => !served.has(p.number)).map((p) => p.number);
  if (unknown.length) ctx.log.warn(`Service ${service.metadata.namespace}/${service.metadata.name} has no port ${unknown.join(', ')}; requests to it will fail at the gateway`);
}

/**
 * The gateway the VMs send to, from the lookup every command shares (meshConfig.ingressService,
 * istio-eastwestgateway, istio-ingressgateway, or --gateway-service): its load balancer's IP, else its host name (a
 * DNS-resolution ServiceEntry may name a host), else its first externalIP.
 */
async function detectGateway(ctx: PluginContext, kube: KubeClient, o: Options): Promise<string> {
  const mesh = await kube.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', name: 'istio', namespace: o.istioNamespace });
  const gw = await findVmGateway(kube, { istioNamespace: o.istioNamespace, meshConfig: parseYamlMapping(mesh?.data?.mesh), meshNetworks: parseYamlMapping(mesh?.data?.meshNetworks), service: o.gatewayService });
  if (gw.isHostname) ctx.log.note(`the load balancer of ${gw.service ? `${gw.service.namespace}/${gw.service.name}` : gw.source} has the host name ${gw.address}; the ServiceEntry resolves it by DNS`);
  return gw.address;
}
