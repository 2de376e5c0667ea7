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

test('the fixed istioctl bugs that the tests assert are listed as differences', () => {
  for (const id of ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9', 'B10', 'B11', 'B13', 'B16', 'B17', 'B18', 'B19', 'B20', 'B21', 'B22', 'B23', 'B24', 'B25', 'B26', 'B27']) assert.match(readme, new RegExp(`\\| ${id}: `), id);
});

test.run();
