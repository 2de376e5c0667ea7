// Field ownership (metadata.managedFields, fieldsV1) and server-side apply, after the semantics of
// sigs.k8s.io/structured-merge-diff as far as the tests need them:
// - every manager owns a set of field paths; an apply owns exactly the fields in its configuration;
// - an apply that changes a field another manager owns is a 409 conflict, unless force=true takes it over;
// - fields an apply manager owned before and leaves out now are removed, unless someone else owns them too;
// - an update (POST/PUT/PATCH) takes the fields it changed from everybody else, without conflicts.
// Lists are atomic unless the schema says x-kubernetes-list-type map (merged by key) or set.

export type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };
/** The list type at a path of plain field names (list elements are not part of the path). */
export type ListTypeOf = (fieldPath: string[]) => ListType;

/** A path element: 'f:<field>', 'k:<json of the key fields>' or 'v:<json of a set value>'. */
export type Elem = string;
export type Path = Elem[];

/** A set of paths as a tree; a node with no children is a leaf (an owned scalar, atomic list or list element). */
export type FieldTree = Map<Elem, FieldTree>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generateName']);

// ---------------------------------------------------------------------------------------------------------------
// Building sets from objects

export function fieldSet(obj: Record<string, unknown>, listTypeOf: ListTypeOf): FieldTree {
  const tree: FieldTree = new Map();
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata' && isObject(value)) {
      const meta = Object.fromEntries(Object.entries(value).filter(([k]) => !SERVER_METADATA.has(k)));
      if (Object.keys(meta).length) tree.set('f:metadata', collect(meta, ['metadata'], listTypeOf));
      continue;
    }
    tree.set(`f:${key}`, collect(value, [key], listTypeOf));
  }
  return tree;
}

function collect(value: unknown, fieldPath: string[], listTypeOf: ListTypeOf): FieldTree {
  const tree: FieldTree = new Map();
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) tree.set(`f:${k}`, collect(v, [...fieldPath, k], listTypeOf));
  } else if (Array.isArray(value)) {
    const lt = listTypeOf(fieldPath);
    if (lt.type === 'set') for (const item of value) tree.set(`v:${JSON.stringify(item)}`, new Map());
    if (lt.type === 'map') {
      for (const item of value) {
        if (!isObject(item)) continue;
        const element = collect(item, fieldPath, listTypeOf);
        element.set('.', new Map());
        tree.set(keyElem(item, lt.keys), element);
      }
    }
  }
  return tree;
}

function keyElem(item: Record<string, unknown>, keys: string[]): Elem {
  return `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k]])))}`;
}

/** Every owned path: scalars and atomic lists, and `<container>/.` where a map or list element is owned itself. */
export function leaves(tree: FieldTree, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [elem, child] of tree) {
    if (elem === '.') out.push([...prefix, '.']);
    else if (child.size === 0) out.push([...prefix, elem]);
    else out.push(...leaves(child, [...prefix, elem]));
  }
  return out;
}

export function has(tree: FieldTree, path: Path): boolean {
  let node: FieldTree | undefined = tree;
  for (const e of path) {
    node = node.get(e);
    if (!node) return false;
  }
  return true;
}

export function remove(tree: FieldTree, path: Path): void {
  if (path.length === 0) return;
  const [head, ...rest] = path;
  const child = tree.get(head!);
  if (!child) return;
  if (rest.length === 0) tree.delete(head!);
  else {
    remove(child, rest);
    if (child.size === 0) tree.delete(head!);
  }
}

export function add(tree: FieldTree, path: Path): void {
  let node = tree;
  for (const e of path) {
    if (!node.has(e)) node.set(e, new Map());
    node = node.get(e)!;
  }
}

export function toFieldsV1(tree: FieldTree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of tree) out[k] = toFieldsV1(v);
  return out;
}

export function fromFieldsV1(obj: unknown): FieldTree {
  const tree: FieldTree = new Map();
  if (isObject(obj)) for (const [k, v] of Object.entries(obj)) tree.set(k, fromFieldsV1(v));
  return tree;
}

// ---------------------------------------------------------------------------------------------------------------
// Values at paths

export function valueAt(obj: unknown, path: Path): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const e of path) {
    if (e === '.') continue;
    if (e.startsWith('f:')) {
      if (!isObject(cur) || !(e.slice(2) in cur)) return { found: false };
      cur = cur[e.slice(2)];
    } else if (e.startsWith('k:')) {
      const key = JSON.parse(e.slice(2)) as Record<string, unknown>;
      if (!Array.isArray(cur)) return { found: false };
      cur = cur.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v)));
      if (cur === undefined) return { found: false };
    } else if (e.startsWith('v:')) {
      const v = e.slice(2);
      if (!Array.isArray(cur) || !cur.some((item) => JSON.stringify(item) === v)) return { found: false };
      cur = JSON.parse(v);
    }
  }
  return { found: true, value: cur };
}

/** Removes the field or list element at path; drops maps that become empty on the way up. */
export function removeValue(obj: Record<string, unknown>, full: Path): void {
  const path = full[full.length - 1] === '.' ? full.slice(0, -1) : full;
  if (path.length === 0) return;
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1]!;
  const parent = valueAt(obj, parentPath);
  if (!parent.found) return;
  const p = parent.value;
  if (last.startsWith('f:') && isObject(p)) delete p[last.slice(2)];
  else if (Array.isArray(p)) {
    const idx = p.findIndex((item) => {
      if (last.startsWith('v:')) return JSON.stringify(item) === last.slice(2);
      const key = JSON.parse(last.slice(2)) as Record<string, unknown>;
      return isObject(item) && Object.entries(key).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v));
    });
    if (idx !== -1) p.splice(idx, 1);
  }
  if (parentPath.length > 0 && isObject(p) && Object.keys(p).length === 0 && parentPath[parentPath.length - 1]!.startsWith('f:')) removeValue(obj, parentPath);
}

/** `.spec.ports[name="http"]`: how conflict messages print a path. */
export function showPath(path: Path): string {
  return path
    .filter((e) => e !== '.')
    .map((e) => {
      if (e.startsWith('f:')) return `.${e.slice(2)}`;
      if (e.startsWith('v:')) return `[=${e.slice(2)}]`;
      const key = JSON.parse(e.slice(2)) as Record<string, unknown>;
      return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Merging an applied configuration into the live object

export function mergeApplied(live: unknown, applied: unknown, fieldPath: string[], listTypeOf: ListTypeOf): unknown {
  if (isObject(applied)) {
    const base = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) base[k] = mergeApplied(base[k], v, [...fieldPath, k], listTypeOf);
    return base;
  }
  if (Array.isArray(applied)) {
    const lt = listTypeOf(fieldPath);
    if (lt.type === 'atomic' || !Array.isArray(live)) return applied;
    if (lt.type === 'set') return [...applied, ...live.filter((l) => !applied.some((a) => JSON.stringify(a) === JSON.stringify(l)))];
    const keyOf = (item: unknown) => (isObject(item) ? keyElem(item, lt.keys) : JSON.stringify(item));
    const merged = applied.map((a) => {
      const match = live.find((l) => keyOf(l) === keyOf(a));
      return match === undefined ? a : mergeApplied(match, a, fieldPath, listTypeOf);
    });
    return [...merged, ...live.filter((l) => !applied.some((a) => keyOf(a) === keyOf(l)))];
  }
  return applied;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
