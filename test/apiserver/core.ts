// Validation and defaulting of the built-in kinds, with kube-apiserver's wording (see test/fixtures/kube-api):
// object metadata, Services, EndpointSlices, Endpoints, ConfigMaps, Secrets and Namespaces.
import net from 'node:net';
import type { FieldError } from './schema.ts';
import { showValue } from './schema.ts';

type Obj = Record<string, any>;

const LABEL_RE = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const LABEL_1035_RE = '[a-z]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN_RE = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const QUALIFIED_RE = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const VALUE_RE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const CONFIG_KEY_RE = '[-._a-zA-Z0-9]+';

const full = (re: string) => new RegExp(`^${re}$`);

export const MSG = {
  dns1123Label: `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${LABEL_RE}')`,
  dns1035Label: `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '${LABEL_1035_RE}')`,
  dns1123Subdomain: `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${SUBDOMAIN_RE}')`,
  qualifiedName: `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_RE}')`,
  labelValue: `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${VALUE_RE}')`,
  configKey: `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_KEY_RE}')`,
  portRange: 'must be between 1 and 65535, inclusive',
};

const invalid = (field: string, value: unknown, detail: string): FieldError => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${showValue(value)}: ${detail}` });
const required = (field: string, detail?: string): FieldError => ({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
const unsupported = (field: string, value: unknown, allowed: string[]): FieldError => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${showValue(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
});
const duplicate = (field: string, value: unknown): FieldError => ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${showValue(value)}` });

/** How the name of each kind is checked. */
export type NameRule = 'subdomain' | 'label' | 'label1035';

export function nameRuleOf(kind: string): NameRule {
  if (kind === 'Service') return 'label1035';
  if (kind === 'Namespace') return 'label';
  return 'subdomain';
}

function checkName(field: string, name: string, rule: NameRule): FieldError[] {
  const [re, msg] = rule === 'label1035' ? [LABEL_1035_RE, MSG.dns1035Label] : rule === 'label' ? [LABEL_RE, MSG.dns1123Label] : [SUBDOMAIN_RE, MSG.dns1123Subdomain];
  const max = rule === 'subdomain' ? 253 : 63;
  const errors: FieldError[] = [];
  if (name.length > max) errors.push(invalid(field, name, `must be no more than ${max} characters`));
  if (!full(re).test(name)) errors.push(invalid(field, name, msg));
  return errors;
}

function checkQualifiedName(field: string, key: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  const errors: FieldError[] = [];
  if (prefix !== undefined && (prefix === '' || !full(SUBDOMAIN_RE).test(prefix))) errors.push(invalid(field, key, `prefix part ${MSG.dns1123Subdomain}`));
  if (name === '') errors.push(invalid(field, key, 'name part must be non-empty'));
  else if (name.length > 63) errors.push(invalid(field, key, 'name part must be no more than 63 characters'));
  else if (!full(QUALIFIED_RE).test(name)) errors.push(invalid(field, key, MSG.qualifiedName));
  return errors;
}

export function validateMeta(obj: Obj, kind: string, namespaced: boolean): FieldError[] {
  const meta = obj.metadata ?? {};
  const errors: FieldError[] = [];
  if (!meta.name && !meta.generateName) errors.push(required('metadata.name', 'name or generateName is required'));
  else if (meta.name) errors.push(...checkName('metadata.name', meta.name, nameRuleOf(kind)));
  if (namespaced && !meta.namespace) errors.push(required('metadata.namespace'));
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    errors.push(...checkQualifiedName('metadata.labels', k));
    if (typeof v !== 'string' || v.length > 63 || !full(VALUE_RE).test(v)) errors.push(invalid('metadata.labels', v, MSG.labelValue));
  }
  for (const k of Object.keys(meta.annotations ?? {})) errors.push(...checkQualifiedName('metadata.annotations', k.toLowerCase()));
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// Per kind

export const SERVICE_CIDR = { base: [10, 96], prefix: 16, text: '10.96.0.0/16' };

function inServiceCIDR(ip: string): boolean {
  const parts = ip.split('.').map(Number);
  return net.isIPv4(ip) && parts[0] === SERVICE_CIDR.base[0] && parts[1] === SERVICE_CIDR.base[1];
}

export function validateKind(obj: Obj): FieldError[] {
  switch (obj.kind) {
    case 'Service':
      return validateService(obj);
    case 'EndpointSlice':
      return validateEndpointSlice(obj);
    case 'Endpoints':
      return validateEndpoints(obj);
    case 'ConfigMap':
    case 'Secret':
      return validateDataKeys(obj);
    case 'Deployment':
      return validateDeployment(obj);
  }
  return [];
}

/** apps/v1 Deployments: a selector, a pod template whose labels it selects, and at least one container. */
function validateDeployment(d: Obj): FieldError[] {
  const spec = d.spec ?? {};
  const errors: FieldError[] = [];
  const selector: Record<string, string> | undefined = spec.selector?.matchLabels;
  const labels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  if (!selector || Object.keys(selector).length === 0) errors.push(required('spec.selector'));
  else if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) {
    errors.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  if (!(spec.template?.spec?.containers ?? []).length) errors.push(required('spec.template.spec.containers'));
  return errors;
}

function checkPort(field: string, port: unknown): FieldError[] {
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535 ? [] : [invalid(field, port, MSG.portRange)];
}

function validateService(svc: Obj): FieldError[] {
  const spec = svc.spec ?? {};
  const errors: FieldError[] = [];
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (spec.type !== undefined && !types.includes(spec.type)) errors.push(unsupported('spec.type', spec.type, types));
  const ports: Obj[] = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && spec.type !== 'ExternalName' && !headless) errors.push(required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errors.push(required(`${f}.name`));
    if (p.name) {
      if (!full(LABEL_RE).test(p.name) || p.name.length > 63) errors.push(invalid(`${f}.name`, p.name, MSG.dns1123Label));
      if (names.has(p.name)) errors.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    errors.push(...checkPort(`${f}.port`, p.port));
    if (p.protocol !== undefined && !['SCTP', 'TCP', 'UDP'].includes(p.protocol)) errors.push(unsupported(`${f}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    if (typeof p.targetPort === 'number') errors.push(...checkPort(`${f}.targetPort`, p.targetPort));
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (keys.has(key)) errors.push(duplicate(f, `${p.protocol ?? 'TCP'}/${p.port}`));
    keys.add(key);
  });
  for (const [k, v] of Object.entries(spec.selector ?? {})) {
    errors.push(...checkQualifiedName('spec.selector', k));
    if (typeof v !== 'string' || !full(VALUE_RE).test(v)) errors.push(invalid('spec.selector', v, MSG.labelValue));
  }
  if (spec.clusterIP && spec.clusterIP !== 'None' && !inServiceCIDR(spec.clusterIP)) {
    errors.push({
      reason: 'FieldValueInvalid',
      field: 'spec.clusterIPs',
      message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR.text}`,
    });
  }
  return errors;
}

function validateEndpointSlice(slice: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const types = ['FQDN', 'IPv4', 'IPv6'];
  if (!slice.addressType) errors.push(required('addressType'));
  else if (!types.includes(slice.addressType)) errors.push(unsupported('addressType', slice.addressType, types));
  const endpoints: Obj[] = slice.endpoints ?? [];
  if (endpoints.length > 1000) errors.push({ reason: 'FieldValueTooMany', field: 'endpoints', message: `Too many: ${endpoints.length}: must have at most 1000 items` });
  endpoints.forEach((ep, i) => {
    const addresses: unknown[] = ep.addresses ?? [];
    if (addresses.length === 0) errors.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    if (addresses.length > 100) errors.push({ reason: 'FieldValueTooMany', field: `endpoints[${i}].addresses`, message: `Too many: ${addresses.length}: must have at most 100 items` });
    addresses.forEach((a, j) => {
      const f = `endpoints[${i}].addresses[${j}]`;
      if (slice.addressType === 'IPv4' && !net.isIPv4(String(a))) errors.push(invalid(f, a, 'must be a valid IPv4 address'));
      if (slice.addressType === 'IPv6' && !net.isIPv6(String(a))) errors.push(invalid(f, a, 'must be a valid IPv6 address'));
    });
  });
  (slice.ports ?? []).forEach((p: Obj, i: number) => {
    if (p.port !== undefined) errors.push(...checkPort(`ports[${i}].port`, p.port));
    if (p.protocol !== undefined && !['SCTP', 'TCP', 'UDP'].includes(p.protocol)) errors.push(unsupported(`ports[${i}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    if (p.name && (!full(LABEL_RE).test(p.name) || p.name.length > 63)) errors.push(invalid(`ports[${i}].name`, p.name, MSG.dns1123Label));
  });
  return errors;
}

function validateEndpoints(ep: Obj): FieldError[] {
  const errors: FieldError[] = [];
  (ep.subsets ?? []).forEach((s: Obj, i: number) => {
    // A subset needs addresses; ports it may leave out, for a headless Service (kube-api fixtures 40–42).
    if (!s.addresses?.length && !s.notReadyAddresses?.length) errors.push(required(`subsets[${i}]`, 'must specify `addresses` or `notReadyAddresses`'));
    for (const key of ['addresses', 'notReadyAddresses']) {
      (s[key] ?? []).forEach((a: Obj, j: number) => {
        if (!net.isIP(String(a.ip ?? ''))) errors.push(invalid(`subsets[${i}].${key}[${j}].ip`, a.ip ?? '', 'must be a valid IP address'));
      });
    }
    const ports: Obj[] = s.ports ?? [];
    ports.forEach((p, j) => {
      if (ports.length > 1 && !p.name) errors.push(required(`subsets[${i}].ports[${j}].name`));
      errors.push(...checkPort(`subsets[${i}].ports[${j}].port`, p.port));
    });
  });
  return errors;
}

function validateDataKeys(obj: Obj): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['data', 'binaryData', 'stringData']) {
    for (const k of Object.keys(obj[field] ?? {})) if (!full(CONFIG_KEY_RE).test(k)) errors.push(invalid(`${field}[${k}]`, k, MSG.configKey));
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults the API fills in when decoding (before field ownership is computed)

export function applyDefaults(obj: Obj): void {
  switch (obj.kind) {
    case 'Service': {
      const spec = (obj.spec ??= {});
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
      for (const p of spec.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') {
        spec.externalTrafficPolicy ??= 'Cluster';
        if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
      }
      break;
    }
    case 'Secret':
      if (!obj.type) obj.type = 'Opaque';
      break;
    case 'EndpointSlice':
      for (const ep of obj.endpoints ?? []) ep.conditions ??= {};
      for (const p of obj.ports ?? []) p.protocol ??= 'TCP';
      break;
    case 'Endpoints':
      for (const s of obj.subsets ?? []) for (const p of s.ports ?? []) p.protocol ??= 'TCP';
      break;
    case 'Namespace':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      break;
  }
}

/** What the registry sets when it creates an object, after field ownership is recorded (PrepareForCreate). */
export function prepareForCreate(obj: Obj): void {
  if (obj.kind === 'Namespace') {
    obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
    // A seed may hold a namespace stuck in Terminating (a finalizer that never finishes); a create never does.
    obj.status = { phase: obj.metadata.deletionTimestamp ? 'Terminating' : 'Active' };
  }
}

// Go struct field order, so that built-in objects serialise like kube-apiserver's typed ones.
const META_ORDER = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];
const SERVICE_SPEC_ORDER = ['ports', 'selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges', 'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies', 'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy'];
const PORT_ORDER = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];
const MANAGED_ORDER = ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource'];

function ordered(o: Obj, order: string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (k in o) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

/** Built-in kinds: kind, apiVersion, then struct order. Custom resources: every map sorted, as unstructured JSON is. */
export function serialisationOrder(obj: Obj, crd: boolean): Obj {
  if (crd) return sortDeep(obj) as Obj;
  const { kind, apiVersion, metadata, ...rest } = obj;
  const meta = ordered(metadata ?? {}, META_ORDER);
  if (Array.isArray(meta.managedFields)) meta.managedFields = meta.managedFields.map((m: Obj) => ordered(m, MANAGED_ORDER));
  const out: Obj = { kind, apiVersion, metadata: meta, ...goLists(obj.kind, rest) };
  if (obj.kind === 'Service' && out.spec) {
    out.spec = ordered(out.spec, SERVICE_SPEC_ORDER);
    if (Array.isArray(out.spec.ports)) out.spec.ports = out.spec.ports.map((p: Obj) => ordered(p, PORT_ORDER));
  }
  return out;
}

/**
 * Empty lists as a typed object comes back from storage: kube-apiserver stores protobuf, in which an empty list
 * decodes as nil, so a field with omitempty disappears (Endpoints.subsets) and one without it is null
 * (EndpointSlice.endpoints and .ports).
 */
function goLists(kind: string, body: Obj): Obj {
  const out = { ...body };
  const empty = (v: unknown) => Array.isArray(v) && v.length === 0;
  if (kind === 'Endpoints' && empty(out.subsets)) delete out.subsets;
  if (kind === 'EndpointSlice') for (const k of ['endpoints', 'ports']) if (empty(out[k])) out[k] = null;
  return out;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v as Obj).sort().map((k) => [k, sortDeep((v as Obj)[k])]));
  return v;
}
