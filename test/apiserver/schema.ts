// Structural OpenAPI v3 schemas, as kube-apiserver applies them to custom resources: unknown fields are pruned
// (and reported, for the "unknown field" warning or strict field validation), values are validated, and then the
// x-kubernetes-validations CEL rules run — but only when the schema itself found no error.
import { compile, CelError, Unsupported, type CompiledRule } from './cel.ts';

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maximum?: number;
  minimum?: number;
  exclusiveMaximum?: boolean;
  exclusiveMinimum?: boolean;
  maxItems?: number;
  minItems?: number;
  maxProperties?: number;
  minProperties?: number;
  format?: string;
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  'x-kubernetes-validations'?: { rule: string; message?: string; reason?: string; fieldPath?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
}

/** One entry of a 422's details.causes: the field, the reason, and the message without the field. */
export interface FieldError {
  reason: string;
  field: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** How kube-apiserver prints a value inside "Invalid value: …". */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(typeName(v));
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

// ---------------------------------------------------------------------------------------------------------------
// Pruning

/** Removes fields the schema does not know; returns the removed paths (for warnings or strict validation). */
export function prune(value: unknown, schema: Schema, path = ''): string[] {
  const removed: string[] = [];
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties && !schema.additionalProperties && !schema.items) return removed;
  if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const child = schema.properties?.[key] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (child) {
        if (value[key] === null && !child.nullable) delete value[key];
        else removed.push(...prune(value[key], child, schema.properties?.[key] ? join(path, key) : `${path}[${key}]`));
      } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
        delete value[key];
        removed.push(join(path, key));
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => removed.push(...prune(item, schema.items!, `${path}[${i}]`)));
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------------------------
// Schema validation

export function validate(value: unknown, schema: Schema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const invalid = (detail: string) => errors.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${showValue(value)}: ${detail}` });
  if (value === null) {
    if (!schema.nullable && schema.type) invalid(`${path} in body must be of type ${schema.type}: "null"`);
    return errors;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      errors.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${showValue(value)}: ${path} in body must be of type integer,string: ${JSON.stringify(typeName(value))}` });
    }
  } else if (schema.type && !hasType(value, schema.type)) {
    errors.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${JSON.stringify(typeName(value))}: ${path} in body must be of type ${schema.type}: ${JSON.stringify(typeName(value))}` });
    return errors;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errors.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${showValue(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'string') {
    const len = Array.from(value).length;
    if (schema.maxLength !== undefined && len > schema.maxLength) errors.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be longer than ${schema.maxLength}` });
    if (schema.minLength !== undefined && len < schema.minLength) invalid(`${path} in body should be at least ${schema.minLength} chars long`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) invalid(`${path} in body should match '${schema.pattern}'`);
    if (schema.format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) invalid(`${path} in body must be of type byte: ${JSON.stringify(value)}`);
  }
  if (typeof value === 'number') {
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      invalid(`${path} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`);
    }
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      invalid(`${path} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`);
    }
    if (schema.format === 'int32' && (value > 2147483647 || value < -2147483648)) invalid(`${path} in body must be of type int32: ${JSON.stringify(String(value))}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    if (schema.minItems !== undefined && value.length < schema.minItems) invalid(`${path} in body should have at least ${schema.minItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...validate(item, schema.items!, `${path}[${i}]`)));
    errors.push(...listTypeErrors(value, schema, path));
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) errors.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${keys.length}: must have at most ${schema.maxProperties} items` });
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) invalid(`${path} in body should have at least ${schema.minProperties} properties`);
    for (const r of schema.required ?? []) if (!(r in value)) errors.push({ reason: 'FieldValueRequired', field: join(path, r), message: 'Required value' });
    for (const key of keys) {
      const child = schema.properties?.[key];
      if (child) errors.push(...validate(value[key], child, join(path, key)));
      else if (isObject(schema.additionalProperties)) errors.push(...validate(value[key], schema.additionalProperties, `${path}[${key}]`));
    }
  }
  if (schema.allOf) for (const s of schema.allOf) errors.push(...validate(value, s, path));
  if (schema.anyOf && !schema.anyOf.some((s) => validate(value, s, path).length === 0)) invalid(`${path} in body must validate at least one schema (anyOf)`);
  if (schema.oneOf) {
    const ok = schema.oneOf.filter((s) => validate(value, s, path).length === 0).length;
    if (ok !== 1) invalid(`${path} in body must validate one and only one schema (oneOf). ${ok === 0 ? 'Found none valid' : `Found ${ok} valid alternatives`}`);
  }
  if (schema.not && validate(value, schema.not, path).length === 0) invalid(`${path} in body must not validate the schema (not)`);
  return errors;
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
  }
  return true;
}

function listTypeErrors(list: unknown[], schema: Schema, path: string): FieldError[] {
  const type = schema['x-kubernetes-list-type'];
  const errors: FieldError[] = [];
  if (type === 'set') {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const k = JSON.stringify(item);
      if (seen.has(k)) errors.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${showValue(item)}` });
      seen.add(k);
    });
  }
  if (type === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (!isObject(item)) return;
      const k = JSON.stringify(keys.map((key) => item[key]));
      if (seen.has(k)) {
        const shown = `map[string]interface {}{${keys.map((key) => `"${key}":${showValue(item[key])}`).join(', ')}}`;
        errors.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${shown}` });
      }
      seen.add(k);
    });
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// CEL rules

const compiled = new Map<string, CompiledRule | null>();

function ruleFor(source: string): CompiledRule | null {
  if (!compiled.has(source)) {
    try {
      compiled.set(source, compile(source));
    } catch (err) {
      if (!(err instanceof Unsupported) && !(err instanceof CelError)) throw err;
      compiled.set(source, null);
    }
  }
  return compiled.get(source)!;
}

/** True when any schema node carries CEL rules. */
export function hasRules(schema: Schema | undefined): boolean {
  if (!schema) return false;
  if (schema['x-kubernetes-validations']?.length) return true;
  return (
    Object.values(schema.properties ?? {}).some(hasRules) ||
    (isObject(schema.additionalProperties) && hasRules(schema.additionalProperties)) ||
    hasRules(schema.items)
  );
}

export function validateRules(value: unknown, schema: Schema, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  const errors: FieldError[] = [];
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    const compiledRule = ruleFor(rule.rule);
    if (!compiledRule) continue;
    let ok: boolean;
    let detail = rule.message ?? `failed rule: ${rule.rule}`;
    try {
      ok = compiledRule.evaluate(value);
    } catch (err) {
      ok = false;
      detail = `${detail}: ${(err as Error).message}`;
    }
    if (!ok) {
      const field = rule.fieldPath ? `${path}${rule.fieldPath}` : path;
      errors.push({ reason: rule.reason ?? 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(typeName(value))}: ${detail}` });
    }
  }
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const s = schema.properties?.[key];
      if (s) errors.push(...validateRules(child, s, join(path, key)));
      else if (isObject(schema.additionalProperties)) errors.push(...validateRules(child, schema.additionalProperties, `${path}[${key}]`));
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errors.push(...validateRules(item, schema.items!, `${path}[${i}]`)));
  }
  return errors;
}
