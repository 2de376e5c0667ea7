// Server-side printing: `kubectl get` asks for a meta.k8s.io Table; these are the columns kube-apiserver
// prints for the kinds we serve, and the additionalPrinterColumns of custom resources.
import type { KindDef } from './registry.ts';

type Obj = Record<string, any>;
interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (o: Obj) => unknown;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) return `${Math.floor(h / 24 / 365)}y${Math.floor(h / 24) % 365}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

function list(values: string[], max = 3): string {
  if (values.length === 0) return '<none>';
  return values.length > max ? `${values.slice(0, max).join(',')} + ${values.length - max} more...` : values.join(',');
}

function columnsFor(def: KindDef, version: string, now: Date): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
  const age: Column = {
    name: 'Age',
    type: 'string',
    description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
    cell: (o) => humanDuration(now.getTime() - Date.parse(o.metadata.creationTimestamp)),
  };
  if (def.crd) {
    const extra = (def.printerColumns[version] ?? []).map(
      (c): Column => ({
        name: c.name,
        type: c.type,
        format: c.format,
        description: c.description,
        priority: c.priority,
        cell: (o) => {
          const v = jsonPath(o, c.jsonPath);
          if (c.type === 'date' && typeof v === 'string') return humanDuration(now.getTime() - Date.parse(v));
          return v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : v;
        },
      }),
    );
    return [name, ...(extra.length ? extra : [age])];
  }
  switch (def.kind) {
    case 'Namespace':
      return [name, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? '' }, age];
    case 'Service':
      return [
        name,
        { name: 'Type', type: 'string', cell: (o) => o.spec.type },
        { name: 'Cluster-IP', type: 'string', cell: (o) => o.spec.clusterIP ?? '<none>' },
        { name: 'External-IP', type: 'string', cell: externalIPs },
        { name: 'Port(s)', type: 'string', cell: (o) => (o.spec.ports ?? []).map((p: Obj) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',') || '<none>' },
        age,
      ];
    case 'ConfigMap':
      return [name, { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length }, age];
    case 'Secret':
      return [name, { name: 'Type', type: 'string', cell: (o) => o.type }, { name: 'Data', type: 'integer', cell: (o) => Object.keys(o.data ?? {}).length }, age];
    case 'ServiceAccount':
      return [name, { name: 'Secrets', type: 'string', cell: (o) => (o.secrets ?? []).length }, age];
    case 'Endpoints':
      return [
        name,
        {
          name: 'Endpoints',
          type: 'string',
          cell: (o) => list((o.subsets ?? []).flatMap((s: Obj) => (s.addresses ?? []).flatMap((a: Obj) => (s.ports ?? [{}]).map((p: Obj) => (p.port ? `${a.ip}:${p.port}` : a.ip))))),
        },
        age,
      ];
    case 'EndpointSlice':
      return [
        name,
        { name: 'AddressType', type: 'string', cell: (o) => o.addressType },
        { name: 'Ports', type: 'string', cell: (o) => (o.ports ?? []).map((p: Obj) => p.port ?? '<unset>').join(',') || '<unset>' },
        { name: 'Endpoints', type: 'string', cell: (o) => list((o.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? [])) },
        age,
      ];
    case 'MutatingWebhookConfiguration':
      return [name, { name: 'Webhooks', type: 'integer', cell: (o) => (o.webhooks ?? []).length }, age];
  }
  return [name, age];
}

function externalIPs(o: Obj): string {
  const ingress = (o.status?.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip ?? i.hostname);
  const ips = [...ingress, ...(o.spec.externalIPs ?? [])];
  if (ips.length) return ips.join(',');
  return o.spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
}

/** The `.a.b.c` JSONPath subset that printer columns use. */
export function jsonPath(obj: Obj, path: string): unknown {
  return path
    .replace(/^\{?\.?/, '')
    .replace(/\}$/, '')
    .split('.')
    .filter(Boolean)
    .reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

export function toTable(def: KindDef, version: string, items: Obj[], resourceVersion: string, now: Date): Obj {
  const columns = columnsFor(def, version, now);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ cell: _cell, ...c }) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}
