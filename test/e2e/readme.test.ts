// The README stays true: its commands exist, the flags it documents are the ones --help shows, its Quick start
// names scripts that exist, and every deliberate difference from istioctl that the tests assert is listed.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG } from '../../shared/cli/catalog.ts';
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

test('every command in the catalog has a section, and every flag in its table is in its --help', async () => {
  for (const e of CATALOG) assert.ok(readme.includes(`### \`kubectl vm ${e.name}`), e.name);
  const help = await runPlugin('kubectl-vm-add_to_mesh', ['es', '--help'], { PATH: process.env.PATH, HOME: '/tmp', NO_COLOR: '1' });
  const section = readme.slice(readme.indexOf('### `kubectl vm add-to-mesh'), readme.indexOf('### `kubectl vm remove-from-mesh'));
  for (const m of section.matchAll(/^\| `(-\w, )?(--[a-z-]+)/gm)) assert.ok(help.stdout.includes(m[2]!), `${m[2]} is documented but not in --help`);
});

test('the fixed istioctl bugs that the tests assert are listed as differences', () => {
  for (const id of ['B16', 'B17']) assert.match(readme, new RegExp(`\\| ${id}: `), id);
});

test.run();
