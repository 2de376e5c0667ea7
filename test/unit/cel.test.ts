import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, Unsupported } from '../apiserver/cel.ts';

const test = suite('CEL subset of the test API server (Istio CRD rules)');
const ok = (rule: string, self: unknown) => compile(rule).evaluate(self);

test('the rules Istio\'s CRDs use', () => {
  assert.is(ok('has(self.address) || has(self.network)', { ports: { http: 8080 } }), false);
  assert.is(ok('has(self.address) || has(self.network)', { address: '10.0.0.5' }), true);
  assert.is(ok('0 < self && self <= 65535', 70000), false);
  assert.is(ok('0 < self && self <= 65535', 8080), true);
  assert.is(ok('self.all(l1, self.exists_one(l2, l1.number == l2.number))', [{ number: 80 }, { number: 80 }]), false);
  assert.is(ok('self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$"))', { http: 1, 'bad key': 2 }), false);
  assert.is(ok('(has(self.workloadSelector) ? 1 : 0) + (has(self.endpoints) ? 1 : 0) <= 1', { workloadSelector: {}, endpoints: [] }), false);
  assert.is(ok('((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true', { endpoints: [{}] }), false);
  assert.is(ok('self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true', 'unix://x'), false);
  assert.is(ok("duration(self) >= duration('1ms')", '500us'), false);
  assert.is(ok("duration(self) >= duration('1ms')", '1.5s'), true);
  assert.is(ok('!self.contains("*")', 'a*b'), false);
  assert.is(ok('url(self).getScheme() in ["http", "https"]', 'https://x'), true);
});

test('&& and || are commutative about errors, as in CEL', () => {
  assert.is(ok('self.missing == 1 && false', {}), false);
  assert.is(ok('self.missing == 1 || true', {}), true);
  assert.throws(() => ok('self.missing == 1 && true', {}));
});

test('transition rules and unknown functions are reported as unsupported, not guessed', () => {
  assert.throws(() => compile('self == oldSelf'), (e: unknown) => e instanceof Unsupported);
  assert.throws(() => compile('quantity(self) > 1'), (e: unknown) => e instanceof Unsupported);
});

test.run();
