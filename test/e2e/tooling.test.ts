// The project's own tooling: `npm test`'s closing line counts skipped tests and says why they were skipped (CI
// allows none), and a fresh `npm ci` is quiet because every dependency with an install script is decided on in
// package.json's allowScripts.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('tooling');

/** Runs scripts/test.mjs on a directory of made-up test files. */
async function runTests(files: Record<string, string>, env: Record<string, string> = {}) {
  const dir = tempDir('kubectl-vm-runner-');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const base: Record<string, string | undefined> = { ...process.env, SKIP_BUILD: '1', KUBECTL_VM_TEST_DIR: dir };
  delete base.CI;
  return run(process.execPath, [path.join(ROOT, 'scripts/test.mjs')], { env: { ...base, ...env } });
}

const uvu = JSON.stringify(path.join(ROOT, 'node_modules/uvu/dist/index.mjs'));
const skipHelper = JSON.stringify(path.join(ROOT, 'test/helpers/skip.ts'));
const FILES = {
  'a.test.ts': `import { suite } from ${uvu};\nconst t = suite('a');\nt('one', () => {});\nt('two', () => {});\nt.run();\n`,
  'b.test.ts':
    `import { suiteNeeding } from ${skipHelper};\nconst t = suiteNeeding('needs a thing', 'the thing is missing (install it)');\n` +
    `t.before(() => { throw new Error('hooks of a skipped suite do not run'); });\nt('x', () => { throw new Error('not run'); });\nt('y', () => {});\nt('z', () => {});\nt.run();\n`,
};

test('the closing line counts skipped tests, and the reason is printed above it', async () => {
  const r = await runTests(FILES);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.is(lines.at(-1), '2 passed, 0 failed, 3 skipped');
  assert.match(r.stdout, /\nskipped:\n {2}needs a thing: 3 tests, the thing is missing \(install it\)\n/);
});

test('with CI=true a skipped test fails the run; with nothing skipped the line still names 0 skipped', async () => {
  const ci = await runTests(FILES, { CI: 'true' });
  assert.is(ci.code, 1);
  assert.match(ci.stdout, /error: 3 tests were skipped, and CI=true allows none/);
  assert.is(ci.stdout.trimEnd().split('\n').at(-1), '2 passed, 0 failed, 3 skipped');
  const clean = await runTests({ 'a.test.ts': FILES['a.test.ts'] }, { CI: 'true' });
  assert.is(clean.code, 0, clean.stdout);
  assert.is(clean.stdout.trimEnd().split('\n').at(-1), '2 passed, 0 failed, 0 skipped');
});

test('a failing test: the closing line counts it and the exit code is 1', async () => {
  const r = await runTests({ 'c.test.ts': `import { suite } from ${uvu};\nconst t = suite('c');\nt('bad', () => { throw new Error('no'); });\nt('good', () => {});\nt.run();\n` });
  assert.is(r.code, 1);
  assert.is(r.stdout.trimEnd().split('\n').at(-1), '1 passed, 1 failed, 0 skipped');
});

test('every dependency with an install script is allowed or denied in allowScripts, so npm ci warns about none', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([, v]) => v.hasInstallScript)
    .map(([k]) => k.replace(/^.*node_modules\//, ''));
  assert.ok(withScripts.includes('esbuild'), 'the lock file still marks install scripts');
  for (const name of withScripts) assert.type(pkg.allowScripts?.[name], 'boolean', `allowScripts says nothing about ${name}`);
  // esbuild's postinstall checks its platform binary; ssh2's and cpu-features' build optional native code that
  // nothing here uses (the executables carry ssh2's pure-JS path only).
  assert.is(pkg.allowScripts.esbuild, true);
});

const LINT = ['--config', 'package.json', '--configPointer', '/markdownlint-cli2'];
const lint = (files: string[]) => run(process.execPath, [path.join(ROOT, 'node_modules/markdownlint-cli2/markdownlint-cli2-bin.mjs'), ...LINT, ...files]);

test('markdownlint passes on every Markdown file, with the config in package.json (as `npm run lint` runs it)', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.scripts.lint.includes(LINT.join(' ')), 'npm run lint uses the same config');
  const r = await lint(['**/*.md', '#node_modules', '#dist']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr + r.stdout, /Linting: [1-9]\d* file/);
});

test('the lint catches what broke the README: an unclosed fence, a paragraph glued to a table', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'bad.md'), '# t\n\n| a | b |\n|---|---|\n| 1 | 2 |\nglued\n\n```sh\nkubectl vm dns-stub\n\n## next\n\n```\nkubectl vm x\n```\n\ntext\n');
  const bin = path.join(ROOT, 'node_modules/markdownlint-cli2/markdownlint-cli2-bin.mjs');
  const r = await run(process.execPath, [bin, '--config', path.join(ROOT, 'package.json'), '--configPointer', '/markdownlint-cli2', 'bad.md'], { cwd: dir });
  assert.is(r.code, 1);
  assert.match(r.stderr, /bad\.md:6:\d+ error MD056/, 'the paragraph glued to the table');
  assert.match(r.stderr, /bad\.md:13 error MD031/, 'the fence that should have closed the block');
});

test('the README renders as meant: every fence is closed, so no heading is inside a code block', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
  let open = 0;
  for (const [i, line] of readme.entries()) {
    if (/^```/.test(line)) open = open ? 0 : i + 1;
    else if (open && /^#{1,6} /.test(line)) assert.unreachable(`line ${i + 1} (${line}) is inside the code block opened on line ${open}`);
  }
  assert.is(open, 0, `the code block opened on line ${open} is never closed`);
});

test.run();
