// dns-stub: seed 000's "Setup DNS" as one command. It points the `.global` stub domain of the cluster's DNS at
// the istiocoredns Service: a `stubDomains` entry in the kube-dns ConfigMap, or a `global:53` server block in
// CoreDNS's Corefile (`forward` from CoreDNS 1.4, `proxy` before). Those ConfigMaps belong to the cluster, not to
// kubectl-vm: they are changed with a read-modify-PUT guarded by resourceVersion (retried on 409), never labelled
// as ours, and the change is shown as a diff on stderr first; --dry-run shows the diff and writes nothing.
import { dryRunSuffix } from '../../shared/cli/dry-run.ts';
import type { PluginContext, Result } from '../../shared/cli/plugin.ts';
import { checkNamespace } from '../../shared/cli/args.ts';
import { CliError, DataError, ExitCode, UsageError } from '../../shared/errors.ts';
import { hasReload, imageVersion, parseVersion, setGlobalStub, stubPluginFor, type StubPlugin } from '../../shared/istio/corefile.ts';
import { mergeStubDomains } from '../../shared/istio/stub-domains.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { isAlreadyExists, isConflict } from '../../shared/kube/errors.ts';
import { isIPAddress } from '../../shared/kube/names.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import { retryOnConflict } from '../../shared/kube/retry.ts';
import { unifiedDiff } from '../../shared/output/diff.ts';
import { resourceName } from '../../shared/output/printer.ts';
import type { DnsStubArgs } from './command.ts';

const KUBE_SYSTEM = 'kube-system';
const ISTIOCOREDNS = 'istiocoredns';

/** What installs istiocoredns, in the words of the seeds (000: Helm values; 001/004: istioctl manifest apply). */
export const ISTIOCOREDNS_HINT =
  'istiocoredns is an addon of Istio 1.1–1.8: install it with "istioctl manifest apply -f install/kubernetes/operator/examples/vm/values-istio-meshexpansion-gateways.yaml --set coreDNS.enabled=true" ' +
  '(Istio 1.4–1.5), or with the Helm values values-istio-meshexpansion-gateways.yaml (istiocoredns.enabled=true); Istio 1.9 removed it. If it runs elsewhere, pass --istio-namespace';

type ConfigMap = KubeObject & { data?: Record<string, string> };
type Deployment = KubeObject & { spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } } };

/** `assumed`: no CoreDNS Deployment to read the version from, only its Corefile (see detectDns). */
type Dns = { kind: 'coredns'; plugin: StubPlugin; version: string; assumed?: boolean } | { kind: 'kube-dns' };

/** The CoreDNS assumed when only its Corefile is there: any current one (1.4 and later have forward, none has proxy since 1.6). */
const CURRENT_COREDNS = [1, 4, 0];

export async function run(ctx: PluginContext, args: DnsStubArgs): Promise<Result> {
  const istioNamespace = checkNamespace(args.istioNamespace);
  const forcedVersion = args.corednsVersion === undefined ? undefined : parseVersion(args.corednsVersion);
  if (args.corednsVersion !== undefined && !forcedVersion) {
    throw new UsageError(`invalid --coredns-version "${args.corednsVersion}": expected a version such as 1.6.2`, { hint: 'see the image of: kubectl -n kube-system get deployment coredns' });
  }
  const kube = ctx.kube();
  const clusterIp = await istiocorednsAddress(kube, istioNamespace);
  const dns = await detectDns(kube, forcedVersion);
  const suffix = dryRunSuffix(ctx.dryRun);
  const name = dns.kind === 'coredns' ? 'coredns' : 'kube-dns';

  const result = await ctx.step(`configmap ${KUBE_SYSTEM}/${name}`, async (report) => {
    const r = await retryOnConflict(async (attempt) => {
      if (attempt > 1) ctx.log.note(`configmap ${KUBE_SYSTEM}/${name} changed while we were writing it; reading it again`);
      return dns.kind === 'coredns' ? editCorefile(ctx, kube, clusterIp, dns.plugin) : editStubDomains(ctx, kube, clusterIp);
    }, undefined, 10, (e) => isConflict(e) || isAlreadyExists(e));
    report(`configmap ${KUBE_SYSTEM}/${name} ${r.outcome}${r.outcome === 'unchanged' ? '' : suffix}`);
    return r;
  });

  if (dns.kind === 'coredns') {
    if (dns.assumed) {
      ctx.log.note(
        `there is no deployment ${KUBE_SYSTEM}/coredns to read CoreDNS's version from, but configmap ${KUBE_SYSTEM}/coredns has a Corefile: ` +
          `assuming a current CoreDNS (1.4 or later), so .global is sent to istiocoredns (${clusterIp}) with "forward"; for an older CoreDNS (with "proxy") give --coredns-version`,
      );
    } else ctx.log.note(`CoreDNS ${dns.version}: .global is sent to istiocoredns (${clusterIp}) with "${dns.plugin}"`);
    if (result.outcome !== 'unchanged' && !hasReload(result.object.data?.Corefile ?? '')) {
      ctx.log.warn('the Corefile has no "reload" plugin, so CoreDNS will not see the change by itself: kubectl -n kube-system rollout restart deployment coredns');
    }
  }
  return { objects: [result.object], summary: [`${resourceName(result.object)} ${result.outcome}${result.outcome === 'unchanged' ? '' : suffix}`] };
}

async function istiocorednsAddress(kube: KubeClient, namespace: string): Promise<string> {
  const svc = await kube.get<KubeObject & { spec?: { clusterIP?: string } }>({ apiVersion: 'v1', kind: 'Service', name: ISTIOCOREDNS, namespace });
  if (!svc) throw new CliError(`service ${ISTIOCOREDNS} was not found in namespace ${namespace}, so nothing would answer for .global`, ExitCode.general, { hint: ISTIOCOREDNS_HINT });
  const ip = svc.spec?.clusterIP;
  if (!ip || !isIPAddress(ip)) {
    throw new DataError(`service ${namespace}/${ISTIOCOREDNS} has no cluster IP (${ip ?? 'none'}), and a stub domain needs an address`, {
      hint: 'recreate istiocoredns as a ClusterIP Service, as its chart makes it',
    });
  }
  return ip;
}

/**
 * CoreDNS if kube-system has a coredns Deployment (its image tag gives the version), else kube-dns if it has a
 * kube-dns Deployment, else CoreDNS if the ConfigMap kube-system/coredns has a Corefile (a DNS managed outside the
 * cluster's Deployments, or a control plane without them): then a current CoreDNS is assumed, unless
 * --coredns-version says otherwise.
 */
async function detectDns(kube: KubeClient, forcedVersion: number[] | undefined): Promise<Dns> {
  const coredns = await kube.get<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', namespace: KUBE_SYSTEM });
  if (coredns) {
    const containers = coredns.spec?.template?.spec?.containers ?? [];
    const image = (containers.find((c) => c.name === 'coredns') ?? containers[0])?.image ?? '';
    const version = forcedVersion ?? imageVersion(image);
    if (!version) {
      throw new UsageError(`cannot tell the CoreDNS version from the image "${image}" of deployment ${KUBE_SYSTEM}/coredns`, {
        hint: 'give it with --coredns-version, e.g. --coredns-version 1.6.2 (forward is used from 1.4 on, proxy before)',
      });
    }
    return { kind: 'coredns', plugin: stubPluginFor(version), version: version.join('.') };
  }
  const kubeDns = await kube.get<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'kube-dns', namespace: KUBE_SYSTEM });
  if (kubeDns) return { kind: 'kube-dns' };
  const corefile = await kube.get<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', name: 'coredns', namespace: KUBE_SYSTEM });
  if (corefile?.data?.Corefile !== undefined) {
    const version = forcedVersion ?? CURRENT_COREDNS;
    return { kind: 'coredns', plugin: stubPluginFor(version), version: version.join('.'), assumed: !forcedVersion };
  }
  throw new CliError(`found neither deployment ${KUBE_SYSTEM}/coredns nor ${KUBE_SYSTEM}/kube-dns, nor a Corefile in configmap ${KUBE_SYSTEM}/coredns, so the cluster's DNS server is unknown`, ExitCode.general, {
    hint: "stub .global by hand as your provider documents it (seed 000, \"Setup DNS\"): it must send .global to istiocoredns's cluster IP",
  });
}

interface Edited {
  object: ConfigMap;
  outcome: 'configured' | 'unchanged' | 'created';
}

async function editCorefile(ctx: PluginContext, kube: KubeClient, clusterIp: string, plugin: StubPlugin): Promise<Edited> {
  const cm = await kube.get<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', name: 'coredns', namespace: KUBE_SYSTEM });
  const corefile = cm?.data?.Corefile;
  if (!cm || corefile === undefined) {
    throw new CliError(`configmap ${KUBE_SYSTEM}/coredns ${cm ? 'has no Corefile' : 'was not found'}, though deployment ${KUBE_SYSTEM}/coredns exists`, ExitCode.general, {
      hint: 'this CoreDNS reads its configuration from elsewhere; add the global:53 block there by hand (seed 000, "Setup DNS")',
    });
  }
  const edit = setGlobalStub(corefile, clusterIp, plugin);
  if (!edit.changed) return { object: cm, outcome: 'unchanged' };
  showDiff(ctx, corefile, edit.text, 'coredns', 'Corefile');
  return { object: await kube.replace<ConfigMap>({ ...cm, data: { ...cm.data, Corefile: edit.text } }), outcome: 'configured' };
}

async function editStubDomains(ctx: PluginContext, kube: KubeClient, clusterIp: string): Promise<Edited> {
  const cm = await kube.get<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', name: 'kube-dns', namespace: KUBE_SYSTEM });
  const current = cm?.data?.stubDomains;
  const edit = mergeStubDomains(current, clusterIp);
  if (cm && !edit.changed) return { object: cm, outcome: 'unchanged' };
  showDiff(ctx, current ?? '', edit.text, 'kube-dns', 'stubDomains');
  if (cm) return { object: await kube.replace<ConfigMap>({ ...cm, data: { ...cm.data, stubDomains: edit.text } }), outcome: 'configured' };
  // kube-dns reads an optional ConfigMap; the seed creates it when it is missing. It stays the cluster's, unlabelled.
  return { object: await kube.create<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-dns', namespace: KUBE_SYSTEM }, data: { stubDomains: edit.text } }), outcome: 'created' };
}

function showDiff(ctx: PluginContext, before: string, after: string, configMap: string, key: string): void {
  for (const line of unifiedDiff(before, after, `${KUBE_SYSTEM}/${configMap} data.${key} (live)`, `${KUBE_SYSTEM}/${configMap} data.${key} (with .global)`)) ctx.log.info(line);
}
