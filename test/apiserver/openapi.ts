// A minimal OpenAPI v3 for kubectl: /openapi/v3 lists the group-versions, and each group-version document has
// the paths of its resources, with the GroupVersionKind extension and the fieldValidation query parameter.
// That is what kubectl (create, apply, replace) looks for to decide that the server validates fields itself
// (it then sends fieldValidation=Strict instead of downloading schemas). Custom resources carry their schema.
import crypto from 'node:crypto';
import type { KindDef, Registry } from './registry.ts';

type Obj = Record<string, any>;

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function groupVersions(registry: Registry): [string, string][] {
  const out: [string, string][] = [];
  for (const k of registry.kinds) for (const v of k.versions) if (!out.some(([g, x]) => g === k.group && x === v)) out.push([k.group, v]);
  return out;
}

export function openapiRoot(registry: Registry): Obj {
  const paths: Obj = {};
  for (const [group, version] of groupVersions(registry)) {
    const p = gvPath(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${crypto.createHash('sha512').update(p).digest('hex').slice(0, 64).toUpperCase()}` };
  }
  return { paths };
}

const QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } }));

function operation(def: KindDef, version: string, verb: string): Obj {
  return {
    operationId: `${verb}${def.kind}`,
    parameters: verb === 'read' || verb === 'list' ? [] : QUERY,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(def, version)}` } } } } },
    'x-kubernetes-action': { create: 'post', replace: 'put', patch: 'patch', delete: 'delete', read: 'get', list: 'list' }[verb],
    'x-kubernetes-group-version-kind': { group: def.group, version, kind: def.kind },
  };
}

function schemaName(def: KindDef, version: string): string {
  return def.crd ? `${def.group.split('.').reverse().join('.')}.${version}.${def.kind}` : `io.k8s.api.${def.group ? def.group.split('.')[0] : 'core'}.${version}.${def.kind}`;
}

export function openapiGroupVersion(registry: Registry, group: string, version: string): Obj | undefined {
  const kinds = registry.kinds.filter((k) => k.group === group && k.versions.includes(version));
  if (kinds.length === 0) return undefined;
  const paths: Obj = {};
  const schemas: Obj = {};
  for (const def of kinds) {
    const base = `/${gvPath(group, version)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
    paths[base] = { get: operation(def, version, 'list'), post: operation(def, version, 'create') };
    paths[`${base}/{name}`] = { get: operation(def, version, 'read'), put: operation(def, version, 'replace'), patch: operation(def, version, 'patch'), delete: operation(def, version, 'delete') };
    schemas[schemaName(def, version)] = {
      ...(def.crd ? def.schemas[version] : { type: 'object', description: `${def.kind} (schema not modelled by the kubectl-vm test API server)` }),
      'x-kubernetes-group-version-kind': [{ group: def.group, version, kind: def.kind }],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.26.1' }, paths, components: { schemas } };
}

/**
 * /openapi/v2 without definitions. kubectl downloads it (as protobuf, gnostic's openapi_v2.Document) only to
 * validate kinds the server does not serve, such as `kind: List`; with no schema in it, it validates nothing.
 */
export function openapiV2(accept: string | undefined): { body: Buffer | Obj; contentType: string } {
  if (/protobuf/.test(accept ?? '')) {
    const field = (no: number, payload: Buffer) => Buffer.concat([Buffer.from([(no << 3) | 2, payload.length]), payload]);
    const info = Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from('v1.26.1'))]);
    return { body: Buffer.concat([field(1, Buffer.from('2.0')), field(2, info), field(8, Buffer.alloc(0))]), contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' };
  }
  return { body: { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.26.1' }, paths: {} }, contentType: 'application/json' };
}
