// The README's table of which command has `-o` and `--dry-run` (under "Behaviour common to every command") is true:
// every command of the catalog is in it once, and each row says yes/no exactly where that command's --help has
// the flag or not.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { ROOT, runPlugin } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('README: -o and --dry-run by command');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function table(): Map<string, { output: boolean; dryRun: boolean }> {
  const start = readme.indexOf('**Output and dry run by command**');
  assert.ok(start !== -1, 'the README has the table');
  const rows = new Map<string, { output: boolean; dryRun: boolean }>();
  for (const line of readme.slice(start).split('\n').slice(1)) {
    const t = line.trim();
    if (rows.size > 0 && !t.startsWith('|')) break;
    if (!t.startsWith('| `')) continue;
    const cells = t.replace(/\\\|/g, '/').split('|').map((c) => c.trim());
    const [names, output, dryRun] = [cells[1]!, cells[2]!, cells[3]!];
    for (const m of names.matchAll(/`([a-z- ]+)`/g)) {
      assert.not.ok(rows.has(m[1]!), `${m[1]} is in the table twice`);
      rows.set(m[1]!, { output: !/^no\b/.test(output), dryRun: !/^no\b/.test(dryRun) });
    }
  }
  return rows;
}

test('every command is in the table, and its -o and --dry-run are as its --help says', async () => {
  const rows = table();
  const env = { PATH: process.env.PATH, HOME: tempDir(), NO_COLOR: '1' };
  for (const entry of CATALOG) {
    const row = rows.get(entry.name);
    assert.ok(row, `${entry.name} is not in the table`);
    const help = await runPlugin(executableName(entry.name), ['--help'], env);
    // add-to-mesh and remove-from-mesh list subcommands; their flags are in the subcommand's --help.
    const sub = /\n {2}kubectl vm \S+ ([a-z-]+) /.exec(help.stdout.slice(help.stdout.indexOf('\nCommands:\n')))?.[1];
    const text = help.stdout.includes('\nCommands:\n') && sub ? (await runPlugin(executableName(entry.name), [sub, '--help'], env)).stdout : help.stdout;
    assert.is(/^\s+-o, --output\b/m.test(text), row.output, `${entry.name}: -o in --help vs the README's table`);
    assert.is(/^\s+(-\w, )?--dry-run\b/m.test(text), row.dryRun, `${entry.name}: --dry-run in --help vs the README's table`);
  }
  assert.is(rows.size, CATALOG.length, `the table names commands that do not exist: ${[...rows.keys()].filter((n) => !CATALOG.some((e) => e.name === n))}`);
});

test.run();
