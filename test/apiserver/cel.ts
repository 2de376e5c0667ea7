// A small interpreter for the part of CEL that Istio's CRD validation rules use (x-kubernetes-validations):
// literals, ! && || ?:, comparisons and `in`, + - * / %, field access, indexing, has(), size(), the macros
// all/exists/exists_one/map/filter, the string functions contains/startsWith/endsWith/matches/substring,
// int(), string(), duration(), url()/isURL()/getScheme(). A rule that uses anything else is reported as
// unsupported by compile(), and the server skips it rather than guess.

export type CelValue = null | boolean | number | string | CelValue[] | { [k: string]: CelValue } | Duration | Url;

class Duration {
  constructor(readonly ms: number) {}
}
class Url {
  constructor(readonly url: URL) {}
}

export class CelError extends Error {}
export class Unsupported extends Error {}

type Node =
  | { t: 'lit'; v: CelValue }
  | { t: 'ident'; name: string }
  | { t: 'list'; items: Node[] }
  | { t: 'map'; entries: [Node, Node][] }
  | { t: 'select'; target: Node; field: string }
  | { t: 'index'; target: Node; index: Node }
  | { t: 'call'; fn: string; target?: Node; args: Node[] }
  | { t: 'unary'; op: string; arg: Node }
  | { t: 'binary'; op: string; left: Node; right: Node }
  | { t: 'cond'; test: Node; then: Node; else: Node };

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type Tok = { k: 'num' | 'str' | 'id' | 'op' | 'end'; v: string; n?: number };

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)u?/.exec(src.slice(i))!;
      toks.push({ k: 'num', v: m[0], n: Number(m[0].replace(/u$/, '')) });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = src.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      let out = '';
      while (j < src.length && !src.startsWith(quote, j)) {
        if (src[j] === '\\') {
          const e = src[j + 1]!;
          out += ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" } as Record<string, string>)[e] ?? e;
          j += 2;
        } else out += src[j++];
      }
      if (j >= src.length) throw new CelError('unterminated string');
      toks.push({ k: 'str', v: out });
      i = j + quote.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ k: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      toks.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if ('()[]{}.,:?!<>+-*/%'.includes(c)) {
      toks.push({ k: 'op', v: c });
      i++;
      continue;
    }
    throw new CelError(`unexpected character ${c}`);
  }
  toks.push({ k: 'end', v: '' });
  return toks;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser (precedence climbing)

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): Node {
    const n = this.cond();
    if (this.peek().k !== 'end') throw new CelError(`unexpected ${this.peek().v}`);
    return n;
  }
  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private eat(v?: string): Tok {
    const t = this.toks[this.i++]!;
    if (v !== undefined && t.v !== v) throw new CelError(`expected ${v}, got ${t.v || 'end'}`);
    return t;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return (t.k === 'op' || t.k === 'id') && t.v === v;
  }
  private cond(): Node {
    const test = this.or();
    if (!this.isOp('?')) return test;
    this.eat('?');
    const then = this.cond();
    this.eat(':');
    return { t: 'cond', test, then, else: this.cond() };
  }
  private or(): Node {
    let n = this.and();
    while (this.isOp('||')) n = { t: 'binary', op: this.eat().v, left: n, right: this.and() };
    return n;
  }
  private and(): Node {
    let n = this.rel();
    while (this.isOp('&&')) n = { t: 'binary', op: this.eat().v, left: n, right: this.rel() };
    return n;
  }
  private rel(): Node {
    let n = this.add();
    while (['==', '!=', '<', '<=', '>', '>=', 'in'].some((o) => this.isOp(o))) n = { t: 'binary', op: this.eat().v, left: n, right: this.add() };
    return n;
  }
  private add(): Node {
    let n = this.mul();
    while (this.isOp('+') || this.isOp('-')) n = { t: 'binary', op: this.eat().v, left: n, right: this.mul() };
    return n;
  }
  private mul(): Node {
    let n = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) n = { t: 'binary', op: this.eat().v, left: n, right: this.unary() };
    return n;
  }
  private unary(): Node {
    if (this.isOp('!') || this.isOp('-')) return { t: 'unary', op: this.eat().v, arg: this.unary() };
    return this.member();
  }
  private member(): Node {
    let n = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.eat();
        const name = this.eat().v;
        if (this.isOp('(')) n = { t: 'call', fn: name, target: n, args: this.args() };
        else n = { t: 'select', target: n, field: name };
      } else if (this.isOp('[')) {
        this.eat();
        const index = this.cond();
        this.eat(']');
        n = { t: 'index', target: n, index };
      } else return n;
    }
  }
  private args(): Node[] {
    this.eat('(');
    const out: Node[] = [];
    while (!this.isOp(')')) {
      out.push(this.cond());
      if (!this.isOp(')')) this.eat(',');
    }
    this.eat(')');
    return out;
  }
  private primary(): Node {
    const t = this.eat();
    if (t.k === 'num') return { t: 'lit', v: t.n! };
    if (t.k === 'str') return { t: 'lit', v: t.v };
    if (t.k === 'id') {
      if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
      if (t.v === 'null') return { t: 'lit', v: null };
      if (this.isOp('(')) return { t: 'call', fn: t.v, args: this.args() };
      return { t: 'ident', name: t.v };
    }
    if (t.v === '(') {
      const n = this.cond();
      this.eat(')');
      return n;
    }
    if (t.v === '[') {
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.cond());
        if (!this.isOp(']')) this.eat(',');
      }
      this.eat(']');
      return { t: 'list', items };
    }
    if (t.v === '{') {
      const entries: [Node, Node][] = [];
      while (!this.isOp('}')) {
        const k = this.cond();
        this.eat(':');
        entries.push([k, this.cond()]);
        if (!this.isOp('}')) this.eat(',');
      }
      this.eat('}');
      return { t: 'map', entries };
    }
    throw new CelError(`unexpected ${t.v || 'end'}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const FUNCTIONS = new Set([
  'has', 'size', 'int', 'uint', 'double', 'string', 'duration', 'url', 'isURL', 'getScheme', 'getHost', 'contains',
  'startsWith', 'endsWith', 'matches', 'substring', 'lowerAscii', 'upperAscii', 'trim', 'split', 'join', 'indexOf',
]);

export interface CompiledRule {
  evaluate(self: unknown): boolean;
}

/** Compiles a rule, or throws Unsupported when it uses something this interpreter does not know. */
export function compile(source: string): CompiledRule {
  const ast = new Parser(lex(source)).parse();
  check(ast);
  return {
    evaluate(self: unknown): boolean {
      const v = evaluate(ast, { self: self as CelValue });
      if (typeof v !== 'boolean') throw new CelError('rule did not evaluate to a bool');
      return v;
    },
  };
}

function check(n: Node): void {
  switch (n.t) {
    case 'ident':
      if (n.name === 'oldSelf') throw new Unsupported('transition rules (oldSelf)');
      return;
    case 'call':
      if (!MACROS.has(n.fn) && !FUNCTIONS.has(n.fn)) throw new Unsupported(`function ${n.fn}`);
      if (n.target) check(n.target);
      if (MACROS.has(n.fn)) return n.args.slice(1).forEach(check);
      return n.args.forEach(check);
    case 'list':
      return n.items.forEach(check);
    case 'map':
      return n.entries.forEach(([k, v]) => (check(k), check(v)));
    case 'select':
      return check(n.target);
    case 'index':
      return check(n.target), check(n.index);
    case 'unary':
      return check(n.arg);
    case 'binary':
      return check(n.left), check(n.right);
    case 'cond':
      return check(n.test), check(n.then), check(n.else);
    case 'lit':
      return;
  }
}

type Env = Record<string, CelValue>;

const isMap = (v: unknown): v is Record<string, CelValue> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Duration) && !(v instanceof Url);

function evaluate(n: Node, env: Env): CelValue {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'ident':
      if (!(n.name in env)) throw new CelError(`undeclared reference to '${n.name}'`);
      return env[n.name]!;
    case 'list':
      return n.items.map((i) => evaluate(i, env));
    case 'map':
      return Object.fromEntries(n.entries.map(([k, v]) => [String(evaluate(k, env)), evaluate(v, env)]));
    case 'select': {
      const target = evaluate(n.target, env);
      if (!isMap(target) || !(n.field in target)) throw new CelError(`no such key: ${n.field}`);
      return target[n.field]!;
    }
    case 'index': {
      const target = evaluate(n.target, env);
      const index = evaluate(n.index, env);
      if (Array.isArray(target) && typeof index === 'number') {
        if (index < 0 || index >= target.length) throw new CelError('index out of range');
        return target[index]!;
      }
      if (isMap(target) && String(index) in target) return target[String(index)]!;
      throw new CelError('no such key');
    }
    case 'unary': {
      const v = evaluate(n.arg, env);
      if (n.op === '!') return !truthy(v);
      return -(v as number);
    }
    case 'binary':
      return binary(n, env);
    case 'cond':
      return truthy(evaluate(n.test, env)) ? evaluate(n.then, env) : evaluate(n.else, env);
    case 'call':
      return call(n, env);
  }
}

function truthy(v: CelValue): boolean {
  if (typeof v !== 'boolean') throw new CelError('expected a bool');
  return v;
}

function binary(n: Extract<Node, { t: 'binary' }>, env: Env): CelValue {
  if (n.op === '&&' || n.op === '||') {
    // CEL's && and || are commutative about errors: false && error is false, true || error is true.
    const decisive = n.op === '||';
    let left: CelValue | Error;
    try {
      left = evaluate(n.left, env);
    } catch (e) {
      left = e as Error;
    }
    if (left === decisive) return decisive;
    const right = evaluate(n.right, env);
    if (right === decisive) return decisive;
    if (left instanceof Error) throw left;
    truthy(left);
    truthy(right);
    return !decisive;
  }
  const a = evaluate(n.left, env);
  const b = evaluate(n.right, env);
  switch (n.op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
    case '<':
      return compare(a, b) < 0;
    case '<=':
      return compare(a, b) <= 0;
    case '>':
      return compare(a, b) > 0;
    case '>=':
      return compare(a, b) >= 0;
    case 'in':
      if (Array.isArray(b)) return b.some((x) => equal(a, x));
      if (isMap(b)) return String(a) in b;
      throw new CelError("no such overload for 'in'");
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      if (a instanceof Duration && b instanceof Duration) return new Duration(a.ms + b.ms);
      return num(a) + num(b);
    case '-':
      return num(a) - num(b);
    case '*':
      return num(a) * num(b);
    case '/':
      if (num(b) === 0) throw new CelError('division by zero');
      return Number.isInteger(num(a)) && Number.isInteger(num(b)) ? Math.trunc(num(a) / num(b)) : num(a) / num(b);
    case '%':
      if (num(b) === 0) throw new CelError('modulus by zero');
      return num(a) % num(b);
  }
  throw new CelError(`unknown operator ${n.op}`);
}

function num(v: CelValue): number {
  if (typeof v !== 'number') throw new CelError('expected a number');
  return v;
}

function equal(a: CelValue, b: CelValue): boolean {
  if (a instanceof Duration && b instanceof Duration) return a.ms === b.ms;
  return JSON.stringify(a) === JSON.stringify(b);
}

function compare(a: CelValue, b: CelValue): number {
  if (a instanceof Duration && b instanceof Duration) return a.ms - b.ms;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new CelError('no such overload for comparison');
}

function call(n: Extract<Node, { t: 'call' }>, env: Env): CelValue {
  if (MACROS.has(n.fn)) return macro(n, env);
  if (n.fn === 'has') {
    const arg = n.args[0];
    if (!arg || arg.t !== 'select') throw new CelError('has() needs a field selection');
    const target = evaluate(arg.target, env);
    return isMap(target) && arg.field in target && target[arg.field] !== null;
  }
  const target = n.target ? evaluate(n.target, env) : undefined;
  const args = n.args.map((a) => evaluate(a, env));
  const recv = (n.target ? target : args.shift()) as CelValue;
  const str = (v: CelValue) => {
    if (typeof v !== 'string') throw new CelError(`${n.fn} needs a string`);
    return v;
  };
  switch (n.fn) {
    case 'size':
      if (typeof recv === 'string') return Array.from(recv).length;
      if (Array.isArray(recv)) return recv.length;
      if (isMap(recv)) return Object.keys(recv).length;
      throw new CelError('size() needs a string, list or map');
    case 'contains':
      return str(recv).includes(str(args[0]!));
    case 'startsWith':
      return str(recv).startsWith(str(args[0]!));
    case 'endsWith':
      return str(recv).endsWith(str(args[0]!));
    case 'matches':
      return new RegExp(str(args[0]!), 'u').test(str(recv));
    case 'substring': {
      const s = Array.from(str(recv));
      const from = num(args[0]!);
      const to = args[1] === undefined ? s.length : num(args[1]);
      if (from < 0 || to > s.length || from > to) throw new CelError('substring out of range');
      return s.slice(from, to).join('');
    }
    case 'lowerAscii':
      return str(recv).toLowerCase();
    case 'upperAscii':
      return str(recv).toUpperCase();
    case 'trim':
      return str(recv).trim();
    case 'indexOf':
      return str(recv).indexOf(str(args[0]!));
    case 'split':
      return str(recv).split(str(args[0]!));
    case 'join':
      return (recv as CelValue[]).map(String).join(args[0] === undefined ? '' : str(args[0]));
    case 'int':
    case 'uint': {
      const v = typeof recv === 'string' ? Number(recv) : recv;
      if (typeof v !== 'number' || !Number.isFinite(v) || (typeof recv === 'string' && !/^[-+]?\d+$/.test(recv))) throw new CelError('cannot convert to int');
      return Math.trunc(v);
    }
    case 'double':
      return Number(recv);
    case 'string':
      return typeof recv === 'string' ? recv : JSON.stringify(recv);
    case 'duration':
      return new Duration(parseGoDuration(str(recv)));
    case 'isURL':
      try {
        new URL(str(recv));
        return true;
      } catch {
        return false;
      }
    case 'url':
      try {
        return new Url(new URL(str(recv)));
      } catch {
        throw new CelError('invalid URL');
      }
    case 'getScheme':
      if (!(recv instanceof Url)) throw new CelError('getScheme needs a URL');
      return recv.url.protocol.replace(/:$/, '');
    case 'getHost':
      if (!(recv instanceof Url)) throw new CelError('getHost needs a URL');
      return recv.url.host;
  }
  throw new CelError(`unknown function ${n.fn}`);
}

function macro(n: Extract<Node, { t: 'call' }>, env: Env): CelValue {
  const target = evaluate(n.target!, env);
  const variable = n.args[0];
  if (!variable || variable.t !== 'ident') throw new CelError(`${n.fn} needs a variable name`);
  const items: CelValue[] = Array.isArray(target) ? target : isMap(target) ? Object.keys(target) : [];
  if (!Array.isArray(target) && !isMap(target)) throw new CelError(`${n.fn} needs a list or map`);
  const body = n.args[1]!;
  const run = (item: CelValue) => evaluate(body, { ...env, [variable.name]: item });
  switch (n.fn) {
    case 'all':
      return items.every((i) => truthy(run(i)));
    case 'exists':
      return items.some((i) => truthy(run(i)));
    case 'exists_one':
      return items.filter((i) => truthy(run(i))).length === 1;
    case 'map':
      return items.map(run);
    case 'filter':
      return items.filter((i) => truthy(run(i)));
  }
  throw new CelError(`unknown macro ${n.fn}`);
}

/** Go's time.ParseDuration: "1h2m3.5s", "300ms", "-1.5h". */
export function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const m = /^([-+])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m && s !== '0') throw new CelError(`invalid duration "${s}"`);
  if (s === '0') return 0;
  let total = 0;
  for (const part of s.matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * units[part[2]!]!;
  return m![1] === '-' ? -total : total;
}
