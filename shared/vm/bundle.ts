// A VM's bundle for one WorkloadGroup, computed exactly as workload-entry configure computes it (the same
// reads, computeVmConfig and renderers, bundleFiles), for commands that deliver it themselves (onboard).
import yaml from 'js-yaml';
import type { PluginContext } from '../cli/plugin.ts';
import { CliError, ExitCode } from '../errors.ts';
import { bundleFiles, type BundleFile } from '../istio/bundle.ts';
import { injectorConfigMapName, meshConfigMapName, ROOT_CERT_CONFIGMAP } from '../istio/revision.ts';
import { computeVmConfig, renderClusterEnv, renderHosts, renderMeshYaml, type VmConfigInput } from '../istio/vm-config.ts';
import { withDefaults, WORKLOAD_GROUP_API_VERSION, type WorkloadGroup } from '../istio/workload-group.ts';
import type { KubeClient } from '../kube/client.ts';
import { findVmGateway, gatewayIp, type VmGateway } from '../kube/gateway.ts';
import { configMapRef, defaultRevision, detectClusterId, requireConfigMap, type ConfigMap } from '../kube/istio-reads.ts';

/** What every VM of a WorkloadGroup shares, read once per run. */
export interface MeshReads {
  wg: WorkloadGroup;
  istioNamespace: string;
  revision: string;
  clusterId: string;
  /** data.mesh, verbatim (computeVmConfig parses it). */
  meshConfig: string;
  rootCert: string;
  gateway: VmGateway;
  /** The IP that goes into hosts. */
  ingressIp: string;
  /** The Istio version the injector's values name (global.tag), for messages. */
  istioVersion?: string;
  /** The proxy image for the docker runtime. */
  proxyImage: string;
}

export interface MeshReadOptions {
  group: string;
  namespace: string;
  istioNamespace: string;
  revision?: string;
  clusterId?: string;
  gatewayService?: { name: string; namespace: string };
  gatewayAddress?: string;
}

/** A YAML mapping (meshConfig, meshNetworks), or {} for anything else. */
export const parseYamlMapping = (text: string | undefined): Record<string, unknown> => {
  try {
    const v = text ? yaml.load(text) : {};
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

export async function readMesh(ctx: Pick<PluginContext, 'log' | 'lookup'>, kube: KubeClient, o: MeshReadOptions): Promise<MeshReads> {
  const found = await kube.get<WorkloadGroup>({ apiVersion: WORKLOAD_GROUP_API_VERSION, kind: 'WorkloadGroup', name: o.group, namespace: o.namespace });
  if (!found) {
    throw new CliError(`workloadgroup ${o.group} not found in namespace ${o.namespace}`, ExitCode.general, {
      hint: `create it: kubectl vm workload-group create --name ${o.group} -n ${o.namespace} --apply`,
    });
  }
  const wg = withDefaults(found);
  const revision = o.revision ?? (await defaultRevision(kube, o.istioNamespace));
  const clusterId = o.clusterId ?? (await detectClusterId(kube, o.istioNamespace, revision));
  const meshCm = await requireConfigMap(kube, meshConfigMapName(revision), o.istioNamespace, 'is Istio installed there? check --istio-namespace and --revision');
  const meshConfig = meshCm.data?.mesh ?? '';
  const rootCert = (await requireConfigMap(kube, ROOT_CERT_CONFIGMAP, o.namespace, `istiod publishes it into every namespace it sees; is istiod running, and is "${o.namespace}" the WorkloadGroup's namespace?`)).data?.['root-cert.pem'] ?? '';
  const injector = await kube.get<ConfigMap>(configMapRef(injectorConfigMapName(revision), o.istioNamespace));
  const values = (() => {
    try {
      return JSON.parse(injector?.data?.values ?? '{}') as { global?: { network?: string; hub?: string; tag?: string; proxy?: { image?: string } } };
    } catch {
      return {};
    }
  })();
  const network = wg.spec.template?.network || values.global?.network || '';
  const gateway = await findVmGateway(kube, {
    istioNamespace: o.istioNamespace,
    network,
    meshConfig: parseYamlMapping(meshConfig),
    meshNetworks: parseYamlMapping(meshCm.data?.meshNetworks),
    service: o.gatewayService,
    address: o.gatewayAddress,
  });
  const ingressIp = await gatewayIp(ctx, gateway);
  const tag = values.global?.tag;
  const proxyImage = `${values.global?.hub ?? 'docker.io/istio'}/${values.global?.proxy?.image ?? 'proxyv2'}:${tag ?? 'latest'}`;
  return { wg, istioNamespace: o.istioNamespace, revision, clusterId, meshConfig, rootCert, gateway, ingressIp, istioVersion: tag, proxyImage };
}

export interface VmOptions {
  captureDns: boolean;
  autoregister: boolean;
  internalIp?: string;
  externalIp?: string;
}

/** The bundle workload-entry configure writes for this WorkloadGroup, with this token (none in a dry run). */
export function vmBundle(mesh: MeshReads, vm: VmOptions, token: string | undefined): { files: BundleFile[]; warnings: string[] } {
  const input: VmConfigInput = {
    wg: mesh.wg,
    meshConfig: mesh.meshConfig,
    clusterId: mesh.clusterId,
    revision: mesh.revision,
    istioNamespace: mesh.istioNamespace,
    captureDns: vm.captureDns,
    autoregister: vm.autoregister,
    internalIp: vm.internalIp,
    externalIp: vm.externalIp,
  };
  const config = computeVmConfig(input);
  const files = bundleFiles({
    meshYaml: renderMeshYaml(config),
    clusterEnv: renderClusterEnv(input, config),
    rootCert: mesh.rootCert,
    token,
    hosts: renderHosts(mesh.ingressIp, mesh.istioNamespace, mesh.revision),
  });
  return { files, warnings: config.warnings };
}
