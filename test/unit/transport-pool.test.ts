// The transport's connections: one keep-alive pool per API server, whose name does not depend on the request
// (oneServer), so that a fleet's thousands of requests reuse the few connections they run on; and nothing of an
// answer is kept once it is read.
import http from 'node:http';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { loadKubeconfig } from '../../shared/kube/kubeconfig.ts';
import { mapLimit } from '../../shared/kube/parallel.ts';
import { oneServer, Transport } from '../../shared/kube/transport.ts';
import { tempDir } from '../helpers/tmp.ts';

const test = suite('transport: one pool of connections per API server');

/** A transport to a fresh test API server (over TLS), closed with the server after `fn`. */
async function withTransport(fn: (t: Transport, server: TestApiServer) => Promise<void>): Promise<void> {
  const server = await TestApiServer.start();
  const kubeconfig = server.writeKubeconfig(path.join(tempDir(), 'kubeconfig'));
  const log = { info() {}, note() {}, warn() {}, debug() {}, verbosity: 0 };
  const t = new Transport(loadKubeconfig({ kubeconfig }, { env: {}, home: tempDir() }), { timeoutMs: 5000, log });
  try {
    await fn(t, server);
  } finally {
    t.close();
    await server.close();
  }
}

test('oneServer: every request gets the same pool name', () => {
  const agent = oneServer(new http.Agent({ keepAlive: true }));
  assert.is(agent.getName({ host: 'a', port: 1 }), agent.getName({ host: 'b', port: 2, localAddress: '127.0.0.2' }));
  agent.destroy();
});

test('72 requests, 8 at a time then one by one, over TLS: all answered, on at most 8 connections', () =>
  withTransport(async (t, server) => {
    const get = () => t.send({ method: 'GET', path: '/api/v1/namespaces/default', what: { verb: 'get', resource: 'namespaces', name: 'default' } });
    const parallel = await mapLimit(Array.from({ length: 64 }), 8, get);
    const serial = [];
    for (let i = 0; i < 8; i++) serial.push(await get());
    assert.equal([...parallel, ...serial].map((r) => r.status), Array(72).fill(200));
    assert.is(t.requests, 72);
    assert.ok(server.connections >= 1 && server.connections <= 8, `${server.connections} connections`);
  }));

test('the first answer (which later requests wait for) is not kept: a fleet\'s list is garbage once read', () =>
  withTransport(async (t) => {
    const list = () => t.send({ method: 'GET', path: '/api/v1/namespaces', what: { verb: 'list', resource: 'namespaces' } });
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const first = new WeakRef(await list());
    await mapLimit(Array.from({ length: 4 }), 4, list);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.is(first.deref(), undefined, 'the first response is still reachable');
  }));

test.run();
