import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CATALOG, executableName } from '../../shared/cli/catalog.ts';
import { groupHelpText, helpText, route, unknownCommandText } from '../../plugins/vm/route.ts';
import { closest } from '../../shared/cli/suggest.ts';

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

test('issue 12 §5: the unknown word of a group is the one after it; a group alone, or with --help, lists its commands', () => {
  assert.equal(route(['workload-group', 'delete', '--name', 'wg'], exists), { kind: 'unknown', command: 'delete', parent: 'workload-group' });
  assert.is(
    unknownCommandText('delete', exists, 'workload-group'),
    'error: unknown command "delete" for "kubectl vm workload-group"\nhint: the commands of workload-group are: create; see "kubectl vm workload-group --help"\n',
  );
  assert.match(unknownCommandText('craete', exists, 'workload-group'), /^hint: did you mean "kubectl vm workload-group create"\? /m);
  assert.equal(route(['ca-certs', '--help'], exists), { kind: 'group', group: 'ca-certs' });
  assert.equal(route(['ca-certs'], exists), { kind: 'group', group: 'ca-certs' });
  assert.equal(route(['help', 'mesh-expansion'], exists), { kind: 'group', group: 'mesh-expansion' });
  const text = groupHelpText('mesh-expansion', exists);
  assert.match(text, /^ {2}keys {2,}Write a VM's keys/m);
  assert.match(text, /^ {2}cluster-env {2,}Write the legacy cluster\.env/m);
});

test('issue 12 §5: a mistyped command gets the nearest one', () => {
  assert.match(unknownCommandText('regsiter', exists), /^hint: did you mean "kubectl vm register"\? the commands are: /m);
  assert.match(unknownCommandText('workload-entry-configure', exists), /^hint: the commands are/m, 'nothing near enough: no guess');
  assert.match(unknownCommandText('workload-entr', exists), /did you mean "kubectl vm workload-entry configure"\?/);
  assert.is(closest('ouput-dir', ['output-dir', 'output-file', 'bundle']), 'output-dir');
  assert.is(closest('frobnicate', ['register', 'deregister']), undefined);
});

test.run();
