// The address a VM reaches a gateway at: the first load-balancer address of its Service. B6: a load balancer that
// reports only a hostname (AWS ELB) is resolved to an address; then spec.externalIPs. B7: failures to read the
// Service are errors, not swallowed. Undefined when none is found (each reason said as a warning).
import type { PluginContext } from '../cli/plugin.ts';
import { asCliError, CliError } from '../errors.ts';
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
