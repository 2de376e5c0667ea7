// The README stays true: its commands exist, the flags it documents are the ones --help shows, its Quick start
// names scripts that exist, and every deliberate difference from istioctl that the tests assert is listed.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { ROOT, runPlugin } from '../helpers/run.ts';

const test = suite('README');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('the Quick start has exactly two set-up commands, and their scripts exist', () => {
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5));
  const block = /```sh\n([\s\S]*?)```/.exec(quick)![1]!.trim().split('\n');
  assert.equal(block.map((l) => l.replace(/\s+#.*$/, '')), ['npm ci && npm run demo', 'npm ci && npm test']);
  for (const s of ['demo', 'test', 'build', 'test-apiserver', 'bench']) assert.ok(pkg.scripts[s], `npm run ${s}`);
});

test('every command in the catalog has a section, and every flag its section names is in its --help', async () => {
  for (const e of CATALOG) {
    const start = readme.indexOf(`### \`kubectl vm ${e.name}`);
    assert.ok(start !== -1, `no section for ${e.name}`);
    const end = readme.indexOf('\n##', start + 5);
    const section = readme.slice(start, end === -1 ? undefined : end);
    const args = e.name === 'add-to-mesh' || e.name === 'remove-from-mesh' ? ['es', '--help'] : ['--help'];
    const help = await runPlugin(executableName(e.name), args, { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' });
    for (const m of section.matchAll(/^\|[^|\n]*/gm)) {
      for (const flag of m[0].matchAll(/`(--[a-z][a-z-]*)/g)) assert.ok(help.stdout.includes(flag[1]!), `${flag[1]} is in the README section of ${e.name} but not in its --help`);
    }
  }
});

/** The bug ids (B1, B22…) named in the titles of every test but this one: `test('B16: …')`, `test('… (B18)')`. */
function idsNamedByTests(): Map<string, string[]> {
  const named = new Map<string, string[]>();
  const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : d.name.endsWith('.test.ts') ? [path.join(dir, d.name)] : []));
  for (const file of walk(path.join(ROOT, 'test')).filter((f) => !f.endsWith('readme.test.ts'))) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/\btest\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g)) {
      for (const id of m[2]!.match(/\bB\d+\b/g) ?? []) named.set(id, [...(named.get(id) ?? []), `${path.relative(ROOT, file)}: ${m[2]}`]);
    }
  }
  return named;
}

test('each difference from istioctl that the README lists (| Bn: …) has a test that names it, and each id a test names is in the README', () => {
  const listed = new Set([...readme.matchAll(/^\| (B\d+): /gm)].map((m) => m[1]!));
  const named = idsNamedByTests();
  assert.ok(listed.size >= 20, `the README's difference tables: ${[...listed].join(' ')}`);
  for (const id of listed) assert.ok(named.has(id), `${id} is listed in the README as a difference, but no test names it in its title`);
  // Kept on purpose (B1, B12, B14) is said in prose; anything else a test names must be in a table.
  for (const id of named.keys()) assert.ok(listed.has(id) || new RegExp(`\\b${id}\\b[^|\\n]*(?:kept|as in istioctl)|\\(${id}\\)`).test(readme), `${id} is named by ${named.get(id)![0]}, but the README does not list it`);
});

test.run();
