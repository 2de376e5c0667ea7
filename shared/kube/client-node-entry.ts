// The only module that imports @kubernetes/client-node. The build embeds it, bundled, as a string in every
// executable and evaluates it only for kubeconfigs that need client-node's auth-providers (oidc, azure, gcp) or a
// socks5 proxy, so that every other run starts without paying for the ~1 MB client.
import type http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { SocksProxyAgent } from 'socks-proxy-agent';

/** A keep-alive agent through a socks5 proxy (the one client-node itself uses). */
export function socksAgent(proxy: string, options: Record<string, unknown>): http.Agent {
  return new SocksProxyAgent(proxy, options as never) as unknown as http.Agent;
}

export interface ClientNodeAuth {
  headers: Record<string, string>;
  agent?: http.Agent;
}

export async function applyClientNodeAuth(config: Record<string, unknown>, isHttps: boolean): Promise<ClientNodeAuth> {
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(config));
  const opts: { headers?: Record<string, string>; agent?: http.Agent } = { headers: {} };
  if (isHttps) {
    // Sets the Authorization header (running the exec plugin or auth-provider) and an agent that carries the
    // CA, client certificate and proxy settings.
    await kc.applyToHTTPSOptions(opts as never);
  } else {
    // client-node refuses plain-http clusters without insecure-skip-tls-verify, as kubectl does not; for
    // those we only take the credentials.
    await (kc as unknown as { applyOptions(o: unknown): Promise<void> }).applyOptions(opts);
  }
  return { headers: { ...(opts.headers ?? {}) }, agent: opts.agent };
}
