import { suite } from 'uvu';
import yargs from 'yargs';
import { KUBE_VALUE_FLAGS, withKubeFlags } from '../../shared/cli/flags.ts';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { helpText, route } from '../../plugins/vm/route.ts';

const test = suite('router: kubectl vm <command>');
const present = new Set(CATALOG.map((e) => executableName(e.name)));
const exists = (e: string) => present.has(e);

test('executable names follow kubectl plugin lookup', () => {
  assert.is(executableName('add-to-mesh'), 'kubectl-vm-add_to_mesh');
  assert.is(executableName('workload-entry configure'), 'kubectl-vm-workload_entry-configure');
});

test('a command runs its sibling with the remaining arguments, flags kept in place', () => {
  assert.equal(route(['add-to-mesh', 'es', 'vmhttp', '10.0.0.5', 'http:80'], exists), { kind: 'run', executable: 'kubectl-vm-add_to_mesh', args: ['es', 'vmhttp', '10.0.0.5', 'http:80'] });
  assert.equal(route(['-n', 'prod', '--context=c', 'add-to-mesh', '--help'], exists), { kind: 'run', executable: 'kubectl-vm-add_to_mesh', args: ['-n', 'prod', '--context=c', '--help'] });
  assert.equal(route(['workload-entry', 'configure', '-f', 'wg.yaml'], exists), { kind: 'run', executable: 'kubectl-vm-workload_entry-configure', args: ['-f', 'wg.yaml'] });
  assert.equal(route(['help', 'remove-from-mesh'], exists), { kind: 'run', executable: 'kubectl-vm-remove_from_mesh', args: ['--help'] });
});

test('every kubectl global flag with a value may come before the command', () => {
  assert.equal(route(['--server', 'https://k:6443', '--token', 't', '--as', 'a', '--as-group', 'g', 'add-to-mesh', 'es'], exists), {
    kind: 'run',
    executable: 'kubectl-vm-add_to_mesh',
    args: ['--server', 'https://k:6443', '--token', 't', '--as', 'a', '--as-group', 'g', 'es'],
  });
  // The router's list is the shared flag group's: every string flag withKubeFlags declares, with its aliases.
  const y = withKubeFlags(yargs());
  const options = (y as unknown as { getOptions(): { string: string[]; array: string[]; alias: Record<string, string[]> } }).getOptions();
  const declared = [...new Set([...options.string, ...options.array])].flatMap((k) => [k, ...(options.alias[k] ?? [])]).filter((k) => !/[A-Z]/.test(k));
  assert.equal([...KUBE_VALUE_FLAGS].sort(), [...new Set(declared.map((k) => (k.length === 1 ? `-${k}` : `--${k}`)))].sort());
});

test('no command lists the commands; --version; unknown commands', () => {
  assert.equal(route([], exists), { kind: 'help' });
  assert.equal(route(['--help'], exists), { kind: 'help' });
  assert.equal(route(['--version'], exists), { kind: 'version' });
  assert.equal(route(['frobnicate', '-n', 'x'], exists), { kind: 'unknown', command: 'frobnicate' });
});

test('the help text lists the commands that are installed, with their descriptions', () => {
  const text = helpText('1.2.3', exists);
  for (const e of CATALOG) assert.ok(text.includes(`  ${e.name}`) && text.includes(e.describe), e.name);
  assert.ok(text.startsWith('kubectl vm 1.2.3:'));
});

test.run();
