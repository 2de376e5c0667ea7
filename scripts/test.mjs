#!/usr/bin/env node
// `npm test`: builds dist/ (the e2e tests run the real executables), runs every test/**/*.test.ts with uvu under
// tsx, and ends with one line "N passed, N failed, N skipped". UPDATE_GOLDEN=1 rewrites golden files;
// SKIP_BUILD=1 reuses dist/; a first argument filters test files by a regular expression; KUBECTL_VM_TEST_DIR
// runs the tests of another directory (the runner's own test uses it).
// A suite that cannot run here (test/helpers/skip.ts) prints "SKIP <suite>: <n> tests, <reason>": those lines are
// repeated above the closing line, and with CI=true any skipped test fails the run.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2];

if (process.env.SKIP_BUILD !== '1') {
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.log('0 passed, 1 failed, 0 skipped');
    process.exit(build.status ?? 1);
  }
}

const env = { ...process.env, NO_COLOR: '1', TZ: 'UTC' };
delete env.FORCE_COLOR;
const pattern = filter ? `(?:${filter}).*\\.test\\.ts$` : '\\.test\\.ts$';
const dir = process.env.KUBECTL_VM_TEST_DIR ?? 'test';
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'node_modules/uvu/bin.js'), dir, pattern, '--no-color'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => {
  out += d.toString();
  process.stdout.write(d);
});
child.on('close', (code) => {
  const num = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? NaN);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  if (Number.isNaN(total) || Number.isNaN(passed) || Number.isNaN(skipped)) {
    console.log(`\n0 passed, 1 failed, 0 skipped`);
    process.exit(code || 1);
  }
  const failed = total - passed;
  const reasons = [...out.matchAll(/^SKIP (.+)$/gm)].map((m) => m[1]);
  if (reasons.length) console.log(`\nskipped:\n${reasons.map((r) => `  ${r}`).join('\n')}`);
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (ci && skipped > 0) console.log(`\nerror: ${skipped} tests were skipped, and CI=true allows none`);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code || (failed > 0 || (ci && skipped > 0) ? 1 : 0));
});
