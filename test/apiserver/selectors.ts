// Label and field selectors for list requests: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`.
import { badRequest } from './status.ts';

type Requirement = (labels: Record<string, string>) => boolean;

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur);
  return out.map((x) => x.trim());
}

export function parseLabelSelector(selector: string): Requirement[] {
  return splitTopLevel(selector).map((req) => {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req))) {
      const [, key, op, list] = m;
      const values = list!.split(',').map((v) => v.trim());
      return (l) => (op === 'in' ? key! in l && values.includes(l[key!]!) : !(key! in l) || !values.includes(l[key!]!));
    }
    if ((m = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(req))) {
      const [, key, op, value] = m;
      return (l) => (op === '!=' ? l[key!] !== value : l[key!] === value);
    }
    if ((m = /^!\s*([^\s!=]+)$/.exec(req))) return (l) => !(m![1]! in l);
    if ((m = /^([^\s!=()]+)$/.exec(req))) return (l) => m![1]! in l;
    throw badRequest(`unable to parse requirement: found '${req}', expected: key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)`);
  });
}

export function matchesLabels(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return parseLabelSelector(selector).every((r) => r(labels ?? {}));
}

export function matchesFields(selector: string | undefined, obj: Record<string, any>): boolean {
  if (!selector) return true;
  return splitTopLevel(selector).every((req) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid field selector: ${req}`);
    const [, path, op, value] = m;
    const actual = path!.split('.').reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
    const same = String(actual ?? '') === value;
    return op === '!=' ? !same : same;
  });
}
