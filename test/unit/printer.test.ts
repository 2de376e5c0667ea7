import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { colorEnabled } from '../../shared/output/color.ts';
import { BufferStream } from '../../shared/output/io.ts';
import { createStep } from '../../shared/output/step.ts';
import { noPaint } from '../../shared/output/color.ts';
import { formatObjects, resourceName } from '../../shared/output/printer.ts';

const test = suite('printers, colour policy and steps');
const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'vmhttp', namespace: 'vm' } };
const se = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'mesh-expansion-vmhttp', namespace: 'vm' } };

test('-o name uses kubectl\'s kind.group/name form', () => {
  assert.is(resourceName(svc), 'service/vmhttp');
  assert.is(formatObjects([svc, se], 'name'), 'service/vmhttp\nserviceentry.networking.istio.io/mesh-expansion-vmhttp\n');
});

test('-o yaml/json: one object prints as itself, several as a List', () => {
  assert.is(formatObjects([svc], 'yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: vmhttp\n  namespace: vm\n');
  const list = JSON.parse(formatObjects([svc, se], 'json'));
  assert.is(list.kind, 'List');
  assert.equal(list.items, [svc, se]);
  assert.match(formatObjects([svc, se], 'json'), /^\{\n {4}"apiVersion"/);
});

test('colour: only on a terminal, never with NO_COLOR, FORCE_COLOR wins otherwise', () => {
  const tty = new BufferStream(true);
  const pipe = new BufferStream(false);
  assert.is(colorEnabled(tty, {}), true);
  assert.is(colorEnabled(pipe, {}), false);
  assert.is(colorEnabled(tty, { NO_COLOR: '1' }), false);
  assert.is(colorEnabled(tty, { NO_COLOR: '1', FORCE_COLOR: '1' }), false);
  assert.is(colorEnabled(pipe, { FORCE_COLOR: '1' }), true);
  assert.is(colorEnabled(tty, { FORCE_COLOR: '0' }), false);
  assert.is(colorEnabled(tty, { TERM: 'dumb' }), false);
});

test('steps print one plain line each when stderr is not a terminal', async () => {
  const err = new BufferStream(false);
  const step = createStep(err, noPaint, false);
  assert.is(await step('Service vm/x', async (report) => (report('Service vm/x created'), 42)), 42);
  try {
    await step('ServiceEntry vm/y', async () => {
      throw new Error('boom');
    });
  } catch {
    // expected
  }
  assert.is(err.text, '✔ Service vm/x created\n✖ ServiceEntry vm/y\n');
});

test.run();
