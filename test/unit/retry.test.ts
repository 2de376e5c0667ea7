import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError } from '../../shared/kube/errors.ts';
import { backoffDelay, defaultBackoff, isDroppedConnection, retryOnConflict, verdictForStatus } from '../../shared/kube/retry.ts';

const test = suite('retries and backoff');

test('429 and 5xx are retried, honouring Retry-After; other errors are not', () => {
  assert.equal(verdictForStatus(429, '2'), { retry: true, retryAfterMs: 2000 });
  assert.equal(verdictForStatus(503, undefined), { retry: true, retryAfterMs: undefined });
  assert.equal(verdictForStatus(500, 'soon'), { retry: true, retryAfterMs: undefined });
  for (const s of [400, 401, 403, 404, 409, 422]) assert.equal(verdictForStatus(s, '1'), { retry: false });
});

test('dropped connections are retried, refused ones are not', () => {
  const err = (code: string, message = code) => Object.assign(new Error(message), { code });
  assert.ok(isDroppedConnection(err('ECONNRESET')));
  assert.ok(isDroppedConnection(err('', 'socket hang up')));
  assert.not.ok(isDroppedConnection(err('ECONNREFUSED')));
});

test('backoff grows exponentially with full jitter, within bounds', () => {
  const policy = { ...defaultBackoff, random: () => 1 };
  assert.equal([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy)), [200, 400, 800, 1600, 3000, 3000]);
  assert.is(backoffDelay(1, { ...policy, random: () => 0 }), 0);
  assert.is(backoffDelay(1, policy, 60_000), 10_000, 'Retry-After is capped');
});

test('read-modify-write cycles start over on 409 Conflict but not on AlreadyExists', async () => {
  const conflict = new ApiError('conflict', 1, { code: 409, reason: 'Conflict' });
  const exists = new ApiError('exists', 1, { code: 409, reason: 'AlreadyExists' });
  const policy = { ...defaultBackoff, sleep: async () => undefined };
  let calls = 0;
  assert.is(await retryOnConflict(async () => (++calls < 3 ? Promise.reject(conflict) : 'ok'), policy), 'ok');
  assert.is(calls, 3);
  calls = 0;
  try {
    await retryOnConflict(async () => (calls++, Promise.reject(exists)), policy);
    assert.unreachable();
  } catch (e) {
    assert.is(e, exists);
    assert.is(calls, 1);
  }
});

test.run();
