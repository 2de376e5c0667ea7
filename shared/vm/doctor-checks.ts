// `kubectl vm doctor`: the preconditions of a VM in the mesh, each one pass, warn or fail with the command that
// fixes it. Pure: the plugin reads the cluster (and over SSH the VMs) and hands what it read to these checks.
import type { KubeObject } from '../kube/objects.ts';
import type { VmGateway } from '../kube/gateway.ts';
import { NETWORK_LABEL } from '../istio/eastwest-gateway.ts';
import { ISTIOD_GATEWAY, istiodVirtualServiceName } from '../istio/expose-istiod.ts';
import { formatTable } from '../output/table.ts';
import { parseYamlMapping } from './bundle.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  /** A stable id, e.g. gateway-ports, token-permission, clock-skew. */
  check: string;
  scope: 'cluster' | 'vm';
  /** What was checked: the gateway, a group, a namespace, or a VM (namespace/name). */
  target: string;
  status: CheckStatus;
  message: string;
  /** The command that fixes it (for warn and fail). */
  fix?: string;
}

export interface DoctorReport {
  apiVersion: 'kubectl-vm.io/v1alpha1';
  kind: 'DoctorReport';
  checks: Check[];
  summary: Record<CheckStatus, number>;
}

export type Service = KubeObject & {
  spec?: { ports?: { port: number; name?: string }[]; externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
};
export type Deployment = KubeObject & { spec?: { template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } } };
export type WorkloadGroup = KubeObject & { spec?: { template?: { serviceAccount?: string; network?: string }; probe?: unknown } };

export const GATEWAY_PORTS = [15012, 15443, 15017];
const AUTOREG = 'PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION';
const HEALTH = 'PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS';

export interface ClusterFacts {
  istioNamespace: string;
  revision: string;
  namespace: string;
  /** data.mesh of the istio ConfigMap (undefined: the ConfigMap is missing). */
  meshConfig?: string;
  meshNetworks?: string;
  /** data.values of the sidecar injector ConfigMap. */
  injectorValues?: string;
  services: Service[];
  istiodGateway?: KubeObject;
  istiodVirtualService?: KubeObject;
  istiod?: Deployment;
  rootCert: boolean;
  groups: { name: string; group?: WorkloadGroup; vmsWithoutOwnEntry: number }[];
  /** The VMs' gateway (shared/kube/gateway.ts's lookup) for the mesh's network and for each group's network. */
  gateways: { network?: string; gateway?: VmGateway; tried?: string[] }[];
  serviceAccounts: { name: string; exists: boolean; mayMintTokens: boolean; reason?: string }[];
}

const pass = (check: string, target: string, message: string): Check => ({ check, scope: 'cluster', target, status: 'pass', message });
const problem = (status: 'warn' | 'fail', check: string, target: string, message: string, fix: string): Check => ({ check, scope: 'cluster', target, status, message, fix });

function parseJson(text: string | undefined): Record<string, any> {
  try {
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  } catch {
    return {};
  }
}

function eastwestFix(network: string | undefined, revision: string): string {
  const rev = revision ? ` --revision ${revision}` : '';
  return network ? `kubectl vm eastwest-gateway --network ${network}${rev} --label-namespace | istioctl install -y -f -` : `kubectl vm eastwest-gateway --single-cluster${rev} | istioctl install -y -f -`;
}

function istiodEnv(f: ClusterFacts, name: string): string | undefined {
  const containers = f.istiod?.spec?.template?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === 'discovery') ?? containers[0];
  return c?.env?.find((e) => e.name === name)?.value;
}

export function clusterChecks(f: ClusterFacts): Check[] {
  const out: Check[] = [];
  const ins = f.istioNamespace;
  const istiodName = f.revision ? `istiod-${f.revision}` : 'istiod';
  const values = parseJson(f.injectorValues);
  const mesh = parseYamlMapping(f.meshConfig);
  const meshNetwork: string | undefined = values.global?.network || undefined;

  // The VMs' gateway, for each network in play: found (as every command finds it), its ports, its address.
  for (const g of f.gateways) {
    const of = g.network ? ` of network ${g.network}` : '';
    if (!g.gateway) {
      out.push(problem('fail', 'gateway', ins, `no gateway for the VMs${of}: ${(g.tried ?? []).join('; ')}`, eastwestFix(g.network ?? meshNetwork, f.revision)));
      continue;
    }
    const svcRef = g.gateway.service;
    const svc = svcRef && f.services.find((s) => s.metadata.name === svcRef.name && s.metadata.namespace === svcRef.namespace);
    const target = svcRef ? `${svcRef.namespace}/${svcRef.name}` : g.gateway.source;
    if (svc) {
      const ports = new Set((svc.spec?.ports ?? []).map((p) => p.port));
      const missing = GATEWAY_PORTS.filter((p) => !ports.has(p));
      out.push(
        missing.length
          ? problem('fail', 'gateway-ports', target, `service/${svcRef!.name}${of} lacks port${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (VMs need 15012 for istiod, 15443 for the mesh, 15017 for the webhook)`, eastwestFix(svc.metadata.labels?.[NETWORK_LABEL] ?? g.network ?? meshNetwork, f.revision))
          : pass('gateway-ports', target, `service/${svcRef!.name}${of} has ports ${GATEWAY_PORTS.join(', ')}`),
      );
    }
    out.push(pass('gateway-address', target, `the VMs${of} reach the mesh at ${g.gateway.address} (${g.gateway.source})`));
  }

  // expose-istiod's Gateway and VirtualService, for the revision.
  const vsName = istiodVirtualServiceName(f.revision);
  const missingExpose = [!f.istiodGateway && `gateway ${ISTIOD_GATEWAY}`, !f.istiodVirtualService && `virtualservice ${vsName}`].filter(Boolean);
  out.push(
    missingExpose.length
      ? problem('fail', 'expose-istiod', ins, `istiod is not exposed on the east-west gateway: no ${missingExpose.join(', no ')} in ${ins}`, `kubectl vm expose-istiod${f.revision ? ` --revision ${f.revision}` : ''}${ins !== 'istio-system' ? ` -i ${ins}` : ''}`)
      : pass('expose-istiod', ins, `gateway ${ISTIOD_GATEWAY} and virtualservice ${vsName} route 15012 and 15017 to ${istiodName}`),
  );

  // istiod: auto-registration and health checks, when the groups rely on them.
  if (!f.istiod) {
    out.push(problem('fail', 'istiod', `${ins}/${istiodName}`, `deployment ${istiodName} was not found in ${ins}`, `istioctl install${f.revision ? ` --revision ${f.revision}` : ''}`));
  } else {
    const needsAutoreg = f.groups.filter((g) => g.group && g.vmsWithoutOwnEntry > 0);
    const needsHealth = f.groups.filter((g) => g.group?.spec?.probe);
    const envCheck = (check: string, env: string, needers: typeof f.groups, why: string) => {
      const on = istiodEnv(f, env) === 'true';
      const target = `${ins}/${istiodName}`;
      if (on) return pass(check, target, `${istiodName} has ${env}=true`);
      if (!needers.length) return pass(check, target, `${env} is off, and no group here relies on it`);
      return problem('fail', check, target, `${env} is not true on ${istiodName}, but group${needers.length > 1 ? 's' : ''} ${needers.map((g) => g.name).join(', ')} ${why}`, `kubectl set env deployment/${istiodName} -n ${ins} -c discovery ${env}=true`);
    };
    out.push(envCheck('istiod-autoregistration', AUTOREG, needsAutoreg, 'rely on it (their VMs have no WorkloadEntry of their own)'));
    out.push(envCheck('istiod-healthchecks', HEALTH, needsHealth, 'have a readiness probe'));
  }

  // jwtPolicy.
  const jwt = values.global?.jwtPolicy;
  out.push(
    jwt === undefined || jwt === 'third-party-jwt'
      ? pass('jwt-policy', ins, `jwtPolicy is third-party-jwt${jwt === undefined ? " (Istio's default)" : ''}`)
      : problem('fail', 'jwt-policy', ins, `values.global.jwtPolicy is ${jwt}: VM tokens are third-party (audience istio-ca)`, 'istioctl install --set values.global.jwtPolicy=third-party-jwt'),
  );

  // The root certificate istiod publishes into the VMs' namespace.
  out.push(
    f.rootCert
      ? pass('root-cert', f.namespace, `configmap istio-ca-root-cert is in namespace ${f.namespace}`)
      : problem('fail', 'root-cert', f.namespace, `configmap istio-ca-root-cert is not in namespace ${f.namespace}: istiod has not published it there (is istiod running, and does it watch this namespace?)`, `kubectl rollout restart deployment/${istiodName} -n ${ins}`),
  );

  // Each group: it exists, its network has a gateway.
  for (const g of f.groups) {
    if (!g.group) {
      out.push(problem('fail', 'workload-group', `${f.namespace}/${g.name}`, `workloadgroup ${g.name} was not found in namespace ${f.namespace}`, `kubectl vm workload-group create --name ${g.name} -n ${f.namespace} --service-account <sa> --apply`));
      continue;
    }
    const network = g.group.spec?.template?.network;
    if (!network) {
      out.push(pass('workload-group', `${f.namespace}/${g.name}`, `workloadgroup ${g.name} exists (no network: the VMs are on the cluster's network)`));
      continue;
    }
    const netGw = f.gateways.find((x) => x.network === network)?.gateway;
    // Only meshNetworks or the network label make a gateway that network's (a fallback by name does not).
    const forNetwork = netGw && (netGw.source === `meshNetworks network ${network}` || netGw.source.includes(`${NETWORK_LABEL}=${network}`));
    out.push(
      forNetwork
        ? pass('workload-group', `${f.namespace}/${g.name}`, `workloadgroup ${g.name} is on network ${network}, served by ${netGw!.source}`)
        : problem('fail', 'workload-group', `${f.namespace}/${g.name}`, `workloadgroup ${g.name} is on network ${network}, but no gateway is labelled ${NETWORK_LABEL}=${network} (or listed in meshNetworks)`, eastwestFix(network, f.revision)),
    );
  }

  // Service accounts and the right to mint their tokens.
  for (const sa of f.serviceAccounts) {
    out.push(
      sa.exists
        ? pass('service-account', `${f.namespace}/${sa.name}`, `serviceaccount ${sa.name} exists`)
        : problem('fail', 'service-account', `${f.namespace}/${sa.name}`, `serviceaccount ${sa.name} was not found in namespace ${f.namespace}`, `kubectl create serviceaccount ${sa.name} -n ${f.namespace}`),
    );
    out.push(
      sa.mayMintTokens
        ? pass('token-permission', `${f.namespace}/${sa.name}`, `you may create serviceaccounts/token for ${sa.name}`)
        : problem('fail', 'token-permission', `${f.namespace}/${sa.name}`, `you may not create serviceaccounts/token for ${sa.name} in namespace ${f.namespace}${sa.reason ? `: ${sa.reason}` : ''}`, `kubectl create role vm-token-minter -n ${f.namespace} --verb=create --resource=serviceaccounts/token && kubectl create rolebinding vm-token-minter -n ${f.namespace} --role=vm-token-minter --user=<you>`),
    );
  }

  // The trust domain: meshConfig, the injector's values and istiod's environment agree.
  const meshTd = (mesh.trustDomain as string | undefined) || 'cluster.local';
  const others = [
    ['values.global.trustDomain', values.global?.trustDomain],
    [`${istiodName} TRUST_DOMAIN`, istiodEnv(f, 'TRUST_DOMAIN')],
  ].filter(([, v]) => v) as [string, string][];
  const differ = others.filter(([, v]) => v !== meshTd);
  out.push(
    differ.length
      ? problem('fail', 'trust-domain', ins, `meshConfig.trustDomain is ${meshTd}, but ${differ.map(([k, v]) => `${k} is ${v}`).join(' and ')}: VM certificates would not be trusted`, `istioctl install --set meshConfig.trustDomain=${meshTd}`)
      : pass('trust-domain', ins, `the trust domain is ${meshTd}${others.length ? ' everywhere' : ''}`),
  );
  return out;
}

export function doctorReport(checks: Check[]): DoctorReport {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { apiVersion: 'kubectl-vm.io/v1alpha1', kind: 'DoctorReport', checks, summary };
}

export function doctorTable(report: DoctorReport): string[] {
  return formatTable(
    ['SCOPE', 'TARGET', 'CHECK', 'STATUS', 'MESSAGE', 'FIX'],
    report.checks.map((c) => [c.scope, c.target, c.check, c.status, c.message, c.fix ?? '-']),
  );
}
