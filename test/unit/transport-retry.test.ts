// The transport's retries against the test API server, with the backoff's sleep and jitter injected: the delay
// it chose is asserted, so a Retry-After that is lost on the way (or a jittered delay where the server asked for
// one) fails here. Retry-After: 0, as the golden tests send it, cannot tell these apart.
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { loadKubeconfig } from '../../shared/kube/kubeconfig.ts';
import { defaultBackoff, type BackoffPolicy } from '../../shared/kube/retry.ts';
import { Transport } from '../../shared/kube/transport.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('transport retries: the delay chosen');
let server: TestApiServer;
let kubeconfig: string;

test.before(async () => {
  server = await TestApiServer.start();
  kubeconfig = server.writeKubeconfig(path.join(tempDir(), 'kubeconfig'));
});
test.after(async () => {
  await server.close();
});
test.before.each(() => {
  server.clearFaults();
  server.clearRequests();
});

/** A transport whose backoff records its waits instead of sleeping; jitter is fixed at `random`. */
function transport(random = 0.5, policy: Partial<BackoffPolicy> = {}) {
  const waits: number[] = [];
  const debug: string[] = [];
  const log = { info() {}, note() {}, warn() {}, debug: (m: string) => debug.push(m), verbosity: 2 };
  const backoff: BackoffPolicy = { ...defaultBackoff, random: () => random, sleep: async (ms) => void waits.push(ms), ...policy };
  const t = new Transport(loadKubeconfig({ kubeconfig }, { env: {}, home: tempDir() }), { timeoutMs: 5000, log, backoff });
  return { t, waits, debug };
}

const get = (t: Transport) => t.send({ method: 'GET', path: '/api/v1/namespaces/default', what: { verb: 'get', resource: 'namespaces', name: 'default' } });
const NS = '/api/v1/namespaces/default';

test('429 with Retry-After: 7 waits 7000 ms (not the jittered backoff), then succeeds', async () => {
  server.inject({ method: 'GET', path: NS, status: 429, retryAfter: 7 });
  const { t, waits, debug } = transport();
  const res = await get(t);
  assert.is(res.status, 200);
  assert.equal(waits, [7000]);
  assert.is(t.requests, 2);
  assert.ok(debug.includes(`retrying in 7000ms: GET ${NS}: HTTP 429`), debug.join('\n'));
});

test('503 with Retry-After: 2 twice waits 2000 ms each time, whatever the attempt', async () => {
  server.inject({ method: 'GET', path: NS, status: 503, retryAfter: 2, times: 2 });
  const { t, waits } = transport();
  assert.is((await get(t)).status, 200);
  assert.equal(waits, [2000, 2000]);
});

test('without Retry-After the wait is the jittered exponential backoff: random × base × 2^(attempt-1)', async () => {
  server.inject({ method: 'GET', path: NS, status: 503, times: 3 });
  const { t, waits } = transport(0.5);
  assert.is((await get(t)).status, 200);
  assert.equal(waits, [100, 200, 400]);
});

test('a Retry-After longer than maxRetryAfterMs is capped', async () => {
  server.inject({ method: 'GET', path: NS, status: 429, retryAfter: 120 });
  const { t, waits } = transport(0.5, { maxRetryAfterMs: 10_000 });
  assert.is((await get(t)).status, 200);
  assert.equal(waits, [10_000]);
});

test('after the last attempt there is no further wait: the 429 is the error', async () => {
  server.inject({ method: 'GET', path: NS, status: 429, retryAfter: 3, times: 10 });
  const { t, waits } = transport(0.5, { attempts: 3 });
  try {
    await get(t);
    assert.unreachable('the third 429 must be thrown');
  } catch (err) {
    assert.instance(err, Error);
    assert.not.instance(err, assert.Assertion);
  }
  assert.equal(waits, [3000, 3000]);
  assert.is(t.requests, 3);
});

test.run();
