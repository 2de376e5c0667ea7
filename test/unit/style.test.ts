// House-style guards (cheap grep rules, as krew's verify-code-patterns.sh): where side effects may live, what may
// import what, and what every command must offer.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers/run.ts';

const test = suite('house style');

function files(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const code = (f: string) => read(f).replace(/^\s*\/\/.*$/gm, '');
const sources = [...files('shared'), ...files('plugins')];
const plugins = fs.readdirSync(path.join(ROOT, 'plugins'));

test('no console output and no process.exit in the library or the plugins', () => {
  for (const f of sources) {
    assert.not.match(code(f), /\bconsole\./, `${f} uses console`);
    assert.not.match(code(f), /process\.exit\(/, `${f} calls process.exit`);
  }
});

test('only shared/output knows chalk and ora; only the runner and the router touch process streams', () => {
  for (const f of sources) {
    if (!f.startsWith('shared/output/')) assert.not.match(code(f), /from '(chalk|ora)'|import\('(chalk|ora)'\)/, `${f} imports chalk or ora`);
    if (f !== 'shared/cli/runner.ts' && f !== 'plugins/vm/main.ts') assert.not.match(code(f), /process\.(stdout|stderr|argv)/, `${f} touches process streams or argv`);
  }
});

test('run.ts never touches process, console or colours', () => {
  for (const p of plugins) {
    const f = `plugins/${p}/run.ts`;
    if (fs.existsSync(path.join(ROOT, f))) assert.not.match(code(f), /\bprocess\.|\bconsole\.|chalk/, f);
  }
});

test('a plugin imports only shared/ and its own files; shared/ never imports plugins/', () => {
  for (const f of sources) {
    for (const m of code(f).matchAll(/from '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
      const target = path.normalize(path.join(path.dirname(f), m[1] ?? m[2]!));
      if (f.startsWith('shared/')) assert.ok(!target.startsWith('plugins'), `${f} imports ${target}`);
      else assert.ok(target.startsWith('shared') || path.dirname(target) === path.dirname(f), `${f} imports ${target}`);
    }
  }
});

test('main.ts is two lines; every command.ts has kubectl vm examples and only kebab-case flags', () => {
  for (const p of plugins.filter((p) => p !== 'vm')) {
    assert.is(read(`plugins/${p}/main.ts`).trim().split('\n').length, 2, `plugins/${p}/main.ts`);
    const c = code(`plugins/${p}/command.ts`);
    assert.match(c, /withExamples\([\s\S]*'kubectl vm /, `plugins/${p}/command.ts has examples`);
    for (const m of c.matchAll(/\.option\('([^']+)'/g)) assert.match(m[1]!, /^[a-z][a-z0-9-]*$/, `flag --${m[1]} in plugins/${p}`);
  }
});

test.run();
