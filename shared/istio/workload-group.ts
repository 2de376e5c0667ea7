// WorkloadGroups: built from flags (workload-group create) and read from files or the API (workload-entry
// configure). Reference: istioctl.md §1 and §2.3 step 1.
import yaml from 'js-yaml';
import { DataError, UsageError } from '../errors.ts';
import type { KubeObject } from '../kube/objects.ts';

export interface Probe {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  httpGet?: { path?: string; port: number; host?: string; scheme?: string };
  tcpSocket?: { host?: string; port: number };
  exec?: { command: string[] };
}

export interface WorkloadGroupSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  template?: {
    address?: string;
    ports?: Record<string, number>;
    labels?: Record<string, string>;
    serviceAccount?: string;
    network?: string;
    locality?: string;
    weight?: number;
  };
  probe?: Probe;
}

export interface WorkloadGroup extends KubeObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec: WorkloadGroupSpec;
}

export const WORKLOAD_GROUP_API_VERSION = 'networking.istio.io/v1';

export interface WorkloadGroupFields {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ports: Record<string, number>;
  serviceAccount: string;
  network?: string;
  locality?: string;
  weight?: number;
  probe?: Probe;
}

/**
 * The WorkloadGroup of `istioctl x workload group create`: spec.metadata is always there (possibly {}), the
 * template always names a service account, and empty values are left out as jsonpb leaves them out.
 */
export function buildWorkloadGroup(f: WorkloadGroupFields): WorkloadGroup {
  const nonEmpty = <T extends object>(o: T) => (Object.keys(o).length ? o : undefined);
  return {
    apiVersion: WORKLOAD_GROUP_API_VERSION,
    kind: 'WorkloadGroup',
    metadata: { name: f.name, namespace: f.namespace },
    spec: {
      metadata: { labels: nonEmpty(f.labels), annotations: nonEmpty(f.annotations) },
      template: {
        ports: nonEmpty(f.ports),
        serviceAccount: f.serviceAccount,
        network: f.network || undefined,
        locality: f.locality || undefined,
        weight: f.weight || undefined,
      },
      probe: f.probe,
    },
  };
}

/**
 * What istioctl applies only to WorkloadGroups read from a file (B3): we apply it to every WorkloadGroup, so
 * that one read from the API cannot crash the command or request a token for service account "".
 */
export function withDefaults(wg: WorkloadGroup): WorkloadGroup {
  const spec = wg.spec ?? {};
  const template = spec.template ?? {};
  return {
    ...wg,
    spec: { ...spec, metadata: spec.metadata ?? {}, template: { ...template, serviceAccount: template.serviceAccount || 'default' } },
  };
}

const PORT_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** `-p name=port` items → ports, refusing what istioctl wrote as port 0 (B13). */
export function parseNamedPorts(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? '' : item.slice(eq + 1);
    const hint = 'write name=port, e.g. -p http=8080,grpc=3550';
    if (eq === -1) throw new UsageError(`invalid port "${item}": expected name=port`, { hint: /^\d+$/.test(item) ? `name the port, e.g. -p http=${item}` : hint });
    if (!PORT_NAME.test(name) || name.length >= 63) throw new UsageError(`invalid port name "${name}" in "${item}": use letters, digits and "-", starting and ending with a letter or digit`, { hint });
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new UsageError(`invalid port "${item}": the port must be a number from 1 to 65535`, { hint });
    if (name in out) throw new UsageError(`port name ${name} is given twice`, { hint });
    out[name] = Number(value);
  }
  return out;
}

/**
 * WorkloadGroups from a YAML file (several documents allowed). Unlike istioctl, which reads anything, a
 * document must be a WorkloadGroup with a name; its namespace, when missing, is `defaultNamespace`.
 */
export function parseWorkloadGroups(text: string, source: string, defaultNamespace: string): WorkloadGroup[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text);
  } catch (err) {
    throw new DataError(`${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { hint: 'fix the file, or generate one with kubectl vm workload-group create' });
  }
  const groups = docs.filter((d) => d !== null && d !== undefined).flatMap((d) => ((d as KubeObject).kind === 'List' ? ((d as { items: unknown[] }).items ?? []) : [d]));
  if (groups.length === 0) throw new DataError(`${source} holds no WorkloadGroup`, { hint: 'generate one with kubectl vm workload-group create' });
  return groups.map((d, i) => {
    const obj = d as Partial<WorkloadGroup>;
    const where = groups.length > 1 ? `document ${i + 1} of ${source}` : source;
    if (typeof obj !== 'object' || obj.kind !== 'WorkloadGroup') {
      throw new DataError(`${where} is not a WorkloadGroup (kind: ${typeof obj === 'object' ? (obj.kind ?? 'none') : typeof obj})`, { hint: 'pass a WorkloadGroup, e.g. from kubectl vm workload-group create' });
    }
    if (obj.apiVersion !== undefined && !obj.apiVersion.startsWith('networking.istio.io/')) {
      throw new DataError(`${where}: apiVersion ${obj.apiVersion} is not networking.istio.io`, { hint: 'WorkloadGroups are networking.istio.io/v1 (or v1beta1, v1alpha3)' });
    }
    if (!obj.metadata?.name) throw new DataError(`${where}: the WorkloadGroup has no metadata.name`, { hint: 'give it a name' });
    return withDefaults({ ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace || defaultNamespace }, spec: obj.spec ?? {} } as WorkloadGroup);
  });
}

export interface ProbeFlags {
  httpGet?: string;
  tcp?: string;
  exec?: string;
  initialDelay?: string;
  period?: string;
  timeout?: string;
  successThreshold?: string;
  failureThreshold?: string;
}

/** Splits a command line the way a shell would for simple quoting: `sh -c "cat /tmp/ok"` → [sh, -c, cat /tmp/ok]. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

/** The readiness probe of --probe-http-get PORT[/path] | --probe-tcp PORT | --probe-exec CMD and the timing flags. */
export function parseProbe(f: ProbeFlags): Probe | undefined {
  const kinds = [f.httpGet && '--probe-http-get', f.tcp && '--probe-tcp', f.exec && '--probe-exec'].filter(Boolean);
  const timing = { initialDelaySeconds: f.initialDelay, periodSeconds: f.period, timeoutSeconds: f.timeout, successThreshold: f.successThreshold, failureThreshold: f.failureThreshold };
  const timed = Object.entries(timing).filter(([, v]) => v !== undefined);
  if (kinds.length > 1) throw new UsageError(`${kinds.join(' and ')} cannot be combined: a probe has one check`, { hint: 'keep one of --probe-http-get, --probe-tcp and --probe-exec' });
  if (kinds.length === 0) {
    if (timed.length) throw new UsageError('the probe timing flags need a probe', { hint: 'add --probe-http-get PORT[/path], --probe-tcp PORT or --probe-exec CMD' });
    return undefined;
  }
  const port = (flag: string, v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`invalid ${flag} "${v}": the port must be a number from 1 to 65535`, { hint: `e.g. ${flag} 8080` });
    return Number(v);
  };
  const probe: Probe = {};
  for (const [key, v] of timed) {
    if (!/^\d+$/.test(v!) || Number(v) > 2147483647) throw new UsageError(`invalid probe ${key} "${v}": expected a whole number of seconds or attempts`, { hint: 'e.g. --probe-period 10' });
    if (Number(v) > 0) (probe as Record<string, number>)[key] = Number(v);
  }
  if (f.httpGet) {
    const slash = f.httpGet.indexOf('/');
    const path = slash === -1 ? undefined : f.httpGet.slice(slash);
    probe.httpGet = { ...(path ? { path } : {}), port: port('--probe-http-get', slash === -1 ? f.httpGet : f.httpGet.slice(0, slash)) };
  } else if (f.tcp) probe.tcpSocket = { port: port('--probe-tcp', f.tcp) };
  else {
    const command = splitCommand(f.exec!);
    if (command.length === 0) throw new UsageError('--probe-exec needs a command', { hint: 'e.g. --probe-exec "cat /tmp/healthy"' });
    probe.exec = { command };
  }
  return probe;
}
