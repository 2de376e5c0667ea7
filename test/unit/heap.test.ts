// keepHeapSmall: its V8 flags hold for the run and are gone when the process exits, before any 'exit' listener,
// so that a code cache written on exit (as the launcher writes it) is accepted by the next start.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('keepHeapSmall and the code cache');

const CODE = 'function f() { return 1; } f();';

test('a code cache written on exit after keepHeapSmall is accepted by the next process', () => {
  const dir = tempDir();
  const cache = path.join(dir, 'cache.v8');
  const writer = path.join(dir, 'writer.ts');
  // As the launcher: the 'exit' listener that writes the cache is registered before the command runs.
  fs.writeFileSync(
    writer,
    [
      "import fs from 'node:fs';",
      "import vm from 'node:vm';",
      `import { keepHeapSmall } from ${JSON.stringify(path.join(ROOT, 'shared/cli/heap.ts'))};`,
      `const script = new vm.Script(${JSON.stringify(CODE)});`,
      `process.once('exit', () => fs.writeFileSync(${JSON.stringify(cache)}, script.createCachedData()));`,
      'keepHeapSmall();',
      'keepHeapSmall();',
    ].join('\n'),
  );
  execFileSync(process.execPath, ['--import', 'tsx', writer], { cwd: ROOT, stdio: 'pipe' });
  const check = `const vm = require('node:vm'); const s = new vm.Script(${JSON.stringify(CODE)}, { cachedData: require('node:fs').readFileSync(${JSON.stringify(cache)}) }); process.stdout.write(String(s.cachedDataRejected));`;
  assert.is(execFileSync(process.execPath, ['-e', check], { encoding: 'utf8' }), 'false');
});

test('the flags themselves make a cache that a default start refuses (what the reset is for)', () => {
  const dir = tempDir();
  const cache = path.join(dir, 'cache.v8');
  const made = `const v8 = require('node:v8'); v8.setFlagsFromString('--optimize-for-size'); require('node:fs').writeFileSync(${JSON.stringify(cache)}, new (require('node:vm').Script)(${JSON.stringify(CODE)}).createCachedData());`;
  execFileSync(process.execPath, ['-e', made]);
  const check = `const vm = require('node:vm'); const s = new vm.Script(${JSON.stringify(CODE)}, { cachedData: require('node:fs').readFileSync(${JSON.stringify(cache)}) }); process.stdout.write(String(s.cachedDataRejected));`;
  assert.is(execFileSync(process.execPath, ['-e', check], { encoding: 'utf8' }), 'true');
});

test.run();
