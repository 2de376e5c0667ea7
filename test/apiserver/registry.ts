// What the test API server serves: the core kinds kubectl-vm uses, plus every CustomResourceDefinition in
// test/fixtures/istio-crds.yaml, each in all its served versions from one storage — and the discovery documents
// (/api, /apis, /api/v1, /apis/<group>/<version>) that kubectl reads to find them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { ListType } from './fields.ts';
import type { Schema } from './schema.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface KindDef {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  storageVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Subresources and the verbs they take. */
  subresources: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }>;
  crd: boolean;
  /** Per version, for custom resources. */
  schemas: Record<string, Schema>;
  printerColumns: Record<string, PrinterColumn[]>;
  /** For core kinds: associative lists by dotted field path. */
  listTypes: Record<string, ListType>;
  /** The original CRD, served read-only at apiextensions.k8s.io. */
  definition?: Record<string, unknown>;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = { verbs: ['get', 'patch', 'update'] };

function core(kind: string, plural: string, extra: Partial<KindDef> = {}): KindDef {
  return {
    group: '',
    versions: ['v1'],
    storageVersion: 'v1',
    kind,
    listKind: `${kind}List`,
    plural,
    singular: '',
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: {},
    crd: false,
    schemas: {},
    printerColumns: {},
    listTypes: {},
    ...extra,
  };
}

function builtinKinds(options: RegistryOptions): KindDef[] {
  const kinds = [
    core('Namespace', 'namespaces', {
      namespaced: false,
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: { status: { kind: 'Namespace', ...STATUS }, finalize: { kind: 'Namespace', verbs: ['update'] } },
    }),
    core('Service', 'services', {
      shortNames: ['svc'],
      categories: ['all'],
      subresources: { status: { kind: 'Service', ...STATUS } },
      listTypes: { 'spec.ports': { type: 'map', keys: ['port', 'protocol'] }, 'metadata.finalizers': { type: 'set' } },
    }),
    core('Endpoints', 'endpoints', { shortNames: ['ep'], listKind: 'EndpointsList' }),
    core('ConfigMap', 'configmaps', { shortNames: ['cm'] }),
    core('Secret', 'secrets'),
    core('ServiceAccount', 'serviceaccounts', {
      shortNames: ['sa'],
      subresources: { token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] } },
    }),
    {
      ...core('EndpointSlice', 'endpointslices'),
      group: 'discovery.k8s.io',
      singular: 'endpointslice',
    },
    {
      ...core('Deployment', 'deployments', { shortNames: ['deploy'], categories: ['all'], subresources: { status: { kind: 'Deployment', ...STATUS }, scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] } } }),
      group: 'apps',
      singular: 'deployment',
    },
    {
      ...core('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', { namespaced: false }),
      group: 'admissionregistration.k8s.io',
      singular: 'mutatingwebhookconfiguration',
    },
  ];
  if (options.serviceCIDRs) {
    kinds.push({ ...core('ServiceCIDR', 'servicecidrs', { namespaced: false, subresources: { status: { kind: 'ServiceCIDR', ...STATUS } } }), group: 'networking.k8s.io', singular: 'servicecidr' });
  }
  return kinds;
}

const parsedCrds = new Map<string, KindDef[]>();

/** The kinds a CRD file defines; parsed once per process, each server gets its own copy. */
function crdKinds(file: string): KindDef[] {
  if (!parsedCrds.has(file)) parsedCrds.set(file, parseCrds(file));
  return parsedCrds.get(file)!.map((k) => ({ ...k }));
}

function parseCrds(file: string): KindDef[] {
  const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')) as Record<string, any>[];
  return docs
    .filter((d) => d?.kind === 'CustomResourceDefinition')
    .map((d) => {
      const spec = d.spec;
      const served = (spec.versions as any[]).filter((v) => v.served);
      const order = (v: string) => {
        const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v)!;
        return [Number(m[1]), m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[3] ?? 0)];
      };
      const versions = served.map((v) => v.name as string).sort((a, b) => {
        const [x, y] = [order(a), order(b)];
        return y[1]! - x[1]! || y[0]! - x[0]! || y[2]! - x[2]!;
      });
      const hasStatus = served.some((v) => v.subresources?.status !== undefined);
      return {
        group: spec.group,
        versions,
        storageVersion: (spec.versions as any[]).find((v) => v.storage).name,
        kind: spec.names.kind,
        listKind: spec.names.listKind ?? `${spec.names.kind}List`,
        plural: spec.names.plural,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        namespaced: spec.scope === 'Namespaced',
        shortNames: spec.names.shortNames ?? [],
        categories: spec.names.categories ?? [],
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        subresources: (hasStatus ? { status: { kind: spec.names.kind, ...STATUS } } : {}) as KindDef['subresources'],
        crd: true,
        schemas: Object.fromEntries(served.map((v) => [v.name, v.schema?.openAPIV3Schema ?? {}])),
        printerColumns: Object.fromEntries(served.map((v) => [v.name, v.additionalPrinterColumns ?? []])),
        listTypes: {},
        definition: d,
      } satisfies KindDef;
    });
}

export interface RegistryOptions {
  crdFile?: string;
  /** Serve networking.k8s.io ServiceCIDRs, as Kubernetes ≥ 1.31 does. */
  serviceCIDRs?: boolean;
}

export const DEFAULT_CRD_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'istio-crds.yaml');

export class Registry {
  readonly kinds: KindDef[];

  constructor(options: RegistryOptions = {}) {
    this.kinds = [...builtinKinds(options), ...crdKinds(options.crdFile ?? DEFAULT_CRD_FILE)];
  }

  byPlural(group: string, version: string, plural: string): KindDef | undefined {
    return this.kinds.find((k) => k.group === group && k.plural === plural && k.versions.includes(version));
  }

  byKind(group: string, kind: string): KindDef | undefined {
    return this.kinds.find((k) => k.group === group && k.kind === kind);
  }

  groups(): { name: string; versions: string[] }[] {
    const out: { name: string; versions: string[] }[] = [];
    for (const k of this.kinds) {
      if (!k.group) continue;
      let g = out.find((x) => x.name === k.group);
      if (!g) out.push((g = { name: k.group, versions: [] }));
      for (const v of k.versions) if (!g.versions.includes(v)) g.versions.push(v);
    }
    if (this.kinds.some((k) => k.crd)) out.push({ name: 'apiextensions.k8s.io', versions: ['v1'] });
    out.push({ name: 'authentication.k8s.io', versions: ['v1'] });
    return out;
  }

  // Discovery documents -------------------------------------------------------------------------------------

  apiVersions(): unknown {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  }

  groupList(): unknown {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groups().map((g) => {
        const { kind: _k, apiVersion: _a, ...entry } = this.group(g.name)!;
        return entry;
      }),
    };
  }

  group(name: string): Record<string, unknown> | undefined {
    const g = this.groups().find((x) => x.name === name);
    if (!g) return undefined;
    const versions = g.versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: versions[0] };
  }

  resourceList(group: string, version: string): unknown | undefined {
    const groupVersion = group ? `${group}/${version}` : version;
    if (group === 'apiextensions.k8s.io' && version === 'v1') {
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: [{ name: 'customresourcedefinitions', singularName: 'customresourcedefinition', namespaced: false, kind: 'CustomResourceDefinition', verbs: ['get', 'list'], shortNames: ['crd', 'crds'], categories: ['api-extensions'] }],
      };
    }
    if (group === 'authentication.k8s.io' && version === 'v1') {
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: [{ name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview', verbs: ['create'] }] };
    }
    const kinds = this.kinds.filter((k) => k.group === group && k.versions.includes(version));
    if (kinds.length === 0) return undefined;
    const resources: Record<string, unknown>[] = [];
    for (const k of kinds) {
      resources.push({
        name: k.plural,
        singularName: k.singular,
        namespaced: k.namespaced,
        kind: k.kind,
        verbs: k.verbs,
        ...(k.shortNames.length ? { shortNames: k.shortNames } : {}),
        ...(k.categories.length ? { categories: k.categories } : {}),
        storageVersionHash: crypto.createHash('sha256').update(`${k.group}/${k.storageVersion}/${k.kind}`).digest('base64').slice(0, 12),
      });
      for (const [sub, def] of Object.entries(k.subresources)) {
        resources.push({
          name: `${k.plural}/${sub}`,
          singularName: '',
          namespaced: k.namespaced,
          ...(def.group ? { group: def.group, version: def.version } : {}),
          kind: def.kind,
          verbs: def.verbs,
        });
      }
    }
    return { kind: 'APIResourceList', ...(group ? { apiVersion: 'v1' } : {}), groupVersion, resources };
  }
}

/** The list type of the field at a dotted path, from the CRD schema or the core table. */
export function listTypeOf(def: KindDef, version: string): (fieldPath: string[]) => ListType {
  return (fieldPath) => {
    if (!def.crd) {
      if (fieldPath[0] === 'metadata' && fieldPath[1] === 'ownerReferences') return { type: 'map', keys: ['uid'] };
      return def.listTypes[fieldPath.join('.')] ?? { type: 'atomic' };
    }
    let schema: Schema | undefined = def.schemas[version];
    for (const f of fieldPath) {
      if (!schema) break;
      if (schema.type === 'array') schema = schema.items;
      schema = schema?.properties?.[f] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    }
    const t = schema?.['x-kubernetes-list-type'];
    if (t === 'map') return { type: 'map', keys: schema!['x-kubernetes-list-map-keys'] ?? [] };
    if (t === 'set') return { type: 'set' };
    return { type: 'atomic' };
  };
}
