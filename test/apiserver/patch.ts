// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and, for built-in kinds only, strategic
// merge patch — here a merge patch whose lists with a known merge key are merged by that key, plus the
// `$patch: delete` directive. Custom resources answer a strategic merge patch with 415, as the real API does.
import { badRequest, ApiFailure } from './status.ts';

type Obj = Record<string, any>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of built-in lists that strategic merge patch merges element by element. */
const MERGE_KEYS: Record<string, string> = {
  'spec.ports': 'port',
  'subsets.ports': 'name',
  'spec.containers': 'name',
  'metadata.ownerReferences': 'uid',
};

export function strategicMergePatch(target: unknown, patch: unknown, path: string[] = []): unknown {
  if (!isObject(patch)) return patch;
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    const key = MERGE_KEYS[[...path, k].join('.')];
    if (v === null) delete out[k];
    else if (key && Array.isArray(v) && Array.isArray(out[k])) {
      const merged: Obj[] = [...out[k]];
      for (const item of v as Obj[]) {
        const i = merged.findIndex((m) => m?.[key] === item?.[key]);
        if (item?.$patch === 'delete') {
          if (i !== -1) merged.splice(i, 1);
        } else if (i === -1) merged.push(item);
        else merged[i] = strategicMergePatch(merged[i], item, [...path, k]) as Obj;
      }
      out[k] = merged;
    } else out[k] = strategicMergePatch(out[k], v, [...path, k]);
  }
  return out;
}

// RFC 6902 ---------------------------------------------------------------------------------------------------

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`the JSON pointer "${p}" must start with "/"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[]): { parent: any; key: string } {
  let cur: any = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : cur?.[t];
    if (cur === undefined || cur === null) throw missing(tokens);
  }
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

const missing = (tokens: string[]) => new ApiFailure({ ...badRequest('').body, code: 422, reason: 'Invalid', message: `doc is missing path: "/${tokens.join('/')}": missing value` });

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be a list of operations');
  let out = structuredClone(doc);
  for (const op of ops as Obj[]) {
    const tokens = pointer(op.path);
    const get = (ts: string[]) => ts.reduce<any>((o, t) => (o === undefined ? undefined : Array.isArray(o) ? o[Number(t)] : o[t]), out);
    const put = (ts: string[], value: unknown, insert: boolean) => {
      if (ts.length === 0) return (out = value);
      const { parent, key } = parentOf(out, ts);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (insert) parent.splice(i, 0, value);
        else parent[i] = value;
      } else parent[key] = value;
    };
    const del = (ts: string[]) => {
      const { parent, key } = parentOf(out, ts);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else {
        if (!(key in parent)) throw missing(ts);
        delete parent[key];
      }
    };
    switch (op.op) {
      case 'add':
        put(tokens, op.value, true);
        break;
      case 'remove':
        del(tokens);
        break;
      case 'replace':
        if (get(tokens) === undefined) throw missing(tokens);
        put(tokens, op.value, false);
        break;
      case 'test':
        if (JSON.stringify(get(tokens)) !== JSON.stringify(op.value)) throw new ApiFailure({ ...badRequest('').body, code: 422, reason: 'Invalid', message: `testing value /${tokens.join('/')} failed: test failed` });
        break;
      case 'move':
      case 'copy': {
        const from = pointer(op.from);
        const value = structuredClone(get(from));
        if (value === undefined) throw missing(from);
        if (op.op === 'move') del(from);
        put(tokens, value, true);
        break;
      }
      default:
        throw badRequest(`unexpected kind: ${op.op}`);
    }
  }
  return out;
}
