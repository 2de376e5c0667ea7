// Concurrent add-to-mesh runs for one service with different port sets (issue 12 §3). One run's ServiceEntry write
// is held back by the test API server (injected latency of 1.5 s) while another run writes both objects; without
// re-convergence the first run's late ServiceEntry lands next to the second run's Service, and both exit 0. Every
// round must end with a Service and a ServiceEntry that carry the same ports, whichever run's they are.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer, type Fault } from '../apiserver/server.ts';
import { forget, runInProcess } from '../helpers/inprocess.ts';
import { namespace } from '../helpers/builders.ts';

const test = suite('concurrent add-to-mesh of one service: the Service and the ServiceEntry stay a pair');
const SE_PATH = '/apis/networking.istio.io/v1/namespaces/vm/serviceentries';
const args = (ports: string[]) => ['external-service', 'vmhttp', '10.0.0.5', ...ports, '-n', 'vm'];

/** Resolves once the server has received a request matching `method` and `path`. */
async function arrived(server: TestApiServer, method: string, path: RegExp): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (server.requests.some((r) => r.method === method && path.test(r.path))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no ${method} ${path} within 10 s`);
}

function ports(server: TestApiServer): { service: number[]; entry: number[] } {
  const svc = server.object('v1', 'Service', 'vm', 'vmhttp');
  const se = server.object('networking.istio.io/v1', 'ServiceEntry', 'vm', 'mesh-expansion-vmhttp');
  return {
    service: (svc?.spec.ports ?? []).map((p: { port: number }) => p.port).sort(),
    entry: (se?.spec.ports ?? []).map((p: { number: number }) => p.number).sort(),
  };
}

interface Round {
  name: string;
  /** Ports of the pair before the round (undefined: nothing exists yet). */
  existing?: string[];
  /** The first run, whose ServiceEntry write is delayed, then the runs started while it waits. */
  slow: string[];
  fast: string[][];
  delayed: Fault;
}

const ROUNDS: Round[] = [
  { name: 'both create: the first ServiceEntry POST is late', slow: ['http:8080'], fast: [['tcp:9090']], delayed: { method: 'POST', path: SE_PATH, latencyMs: 1500 } },
  { name: 'both create, the other way round', slow: ['tcp:9090'], fast: [['http:8080']], delayed: { method: 'POST', path: SE_PATH, latencyMs: 1500 } },
  { name: 'both update: the first ServiceEntry PUT is late', existing: ['http:7070'], slow: ['http:8080'], fast: [['tcp:9090']], delayed: { method: 'PUT', path: `${SE_PATH}/mesh-expansion-vmhttp`, latencyMs: 1500 } },
  { name: 'three runs, one late', slow: ['http:8080'], fast: [['tcp:9090'], ['http:8080', 'tcp:9090']], delayed: { method: 'POST', path: SE_PATH, latencyMs: 1500 } },
  { name: 'update to the ports the late run removes', existing: ['http:8080', 'tcp:9090'], slow: ['http:8080'], fast: [['http:8080', 'tcp:9090', 'tcp:9091']], delayed: { method: 'PUT', path: `${SE_PATH}/mesh-expansion-vmhttp`, latencyMs: 1500 } },
];

for (const round of ROUNDS) {
  test(round.name, async () => {
    const server = await TestApiServer.start({ seed: [namespace('vm')] });
    try {
      if (round.existing) assert.is((await runInProcess(server, 'add-to-mesh', args(round.existing))).code, 0);
      server.clearRequests();
      server.inject(round.delayed);
      const slow = runInProcess(server, 'add-to-mesh', args(round.slow));
      await arrived(server, round.delayed.method!, new RegExp(`^${round.delayed.path}$`));
      const fast = await Promise.all(round.fast.map((p) => runInProcess(server, 'add-to-mesh', args(p))));
      const results = [await slow, ...fast];
      for (const r of results) assert.is(r.code, 0, r.stderr);
      const pair = ports(server);
      assert.ok(pair.service.length > 0, 'the Service exists');
      assert.equal(pair.entry, pair.service, 'the ServiceEntry has the ports of the Service');
    } finally {
      forget(server);
      await server.close();
    }
  });
}

test.run();
