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

/** Runs a failing step and returns what it threw; fails the test if it did not throw. */
async function thrownBy(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.unreachable('the failing step must rethrow its error');
}

test('steps print one plain line each when stderr is not a terminal; a failing step rethrows its own error', async () => {
  const err = new BufferStream(false);
  const step = createStep(err, noPaint, false);
  assert.is(await step('Service vm/x', async (report) => (report('Service vm/x created'), 42)), 42);
  const boom = new Error('boom');
  const thrown = await thrownBy(
    step('ServiceEntry vm/y', async () => {
      throw boom;
    }),
  );
  assert.is(thrown, boom, 'the very error the task threw, not a wrapper');
  assert.is(err.text, '✔ Service vm/x created\n✖ ServiceEntry vm/y\n');
});

test('the spinner step (interactive stderr) rethrows a failing task\'s error too', async () => {
  // What ora needs of a terminal, over a buffer.
  const err = Object.assign(new BufferStream(true, 80), { cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  const step = createStep(err, noPaint, true);
  assert.is(await step('Service vm/x', async () => 7), 7);
  const boom = new Error('boom');
  assert.is(await thrownBy(step('ServiceEntry vm/y', async () => Promise.reject(boom))), boom);
  assert.match(err.text, /ServiceEntry vm\/y/);
});

test.run();
