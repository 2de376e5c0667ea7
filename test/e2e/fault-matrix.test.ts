// The fault-injection matrix for every command that writes more than one object (issue 12 §3, issue 17).
//
// For each case: a clean run records the command's request sequence, the cluster before (prior) and after (full).
// Then, for every position N of that sequence and every fault kind, a fresh test API server with the same seed
// gets the fault at request N, the command runs, and the cluster is read back. It must be exactly the prior state
// or exactly the full result; anything else is a partial state, and the matrix fails. Fault kinds:
//   503      request N and every retry of it answer 503 (the retry layer gives up: a persistent fault)
//   drop     request N and every retry of it lose the connection before the server processes them
//   commit   request N is processed (a write commits) and then its connection is dropped; the retry meets the
//            committed result (409 AlreadyExists, 409 Conflict, 404), and the run must still end in the full
//            result with exit 0
//   commit+503  write N commits and its answer is lost as above, and the last write of the command fails for
//            good (persistent 503): the rollback must still undo write N, which it only saw as a 409 or a 404
// Commands run in this process (test/helpers/inprocess.ts), with the real retry layer and a backoff of 0 ms.
// The closing line gives the totals. Run it alone with: SKIP_BUILD=1 npm test fault-matrix
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer, type Fault } from '../apiserver/server.ts';
import { forget, runInProcess, type PluginName } from '../helpers/inprocess.ts';
import { run } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { clusterService, eastwestService, ingressGateway, namespace } from '../helpers/builders.ts';
import { RUN_ANNOTATION } from '../../shared/kube/transaction.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';

type Obj = Record<string, any>;
type Kind = '503' | 'drop' | 'commit' | 'commit+503';
const KINDS: Kind[] = ['503', 'drop', 'commit', 'commit+503'];
/** As many attempts as the retry layer makes (defaultBackoff.attempts): the fault outlasts them all. */
const ATTEMPTS = 5;

interface Case {
  name: string;
  seed: KubeObject[];
  /** Runs that bring the cluster to the state the case starts from (e.g. a first add-to-mesh). */
  setup?: [PluginName, string[]][];
  command: PluginName;
  argv: string[];
}

const VM = [namespace('vm')];
const ISTIO = [namespace('istio-system'), eastwestService('istio-system')];
const BAR = [namespace('bar'), namespace('istio-system'), clusterService('bar', 'httpbin', [{ name: 'http', port: 8000 }]), ingressGateway('istio-system', { ip: '35.232.112.158' })];

export const CASES: Case[] = [
  { name: 'add-to-mesh, creating', seed: VM, command: 'add-to-mesh', argv: ['external-service', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm'] },
  {
    name: 'add-to-mesh, updating',
    seed: VM,
    setup: [['add-to-mesh', ['external-service', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm']]],
    command: 'add-to-mesh',
    argv: ['external-service', 'vmhttp', '10.0.0.5,10.0.0.6', 'http:8080', 'tcp:9090', '-n', 'vm'],
  },
  {
    name: 'remove-from-mesh',
    seed: VM,
    setup: [['add-to-mesh', ['external-service', 'vmhttp', '10.0.0.5', 'http:8080', '-n', 'vm']]],
    command: 'remove-from-mesh',
    argv: ['external-service', 'vmhttp', '-n', 'vm'],
  },
  { name: 'register, new Service and slices', seed: VM, command: 'register', argv: ['db', '10.0.0.2,fd00::2', 'mysql:3306', '-n', 'vm'] },
  { name: 'register, new Service and Endpoints', seed: VM, command: 'register', argv: ['db', '10.0.0.2', 'mysql:3306', '--endpoints-api', 'endpoints', '-n', 'vm'] },
  {
    name: 'register, changed ports and one more address',
    seed: VM,
    setup: [['register', ['db', '10.0.0.2', 'mysql:3306', '-n', 'vm']]],
    command: 'register',
    argv: ['db', '10.0.0.3', 'mysql:3307', '-n', 'vm'],
  },
  {
    name: 'deregister --delete-service-when-empty, slices',
    seed: VM,
    setup: [['register', ['db', '10.0.0.2,fd00::2', 'mysql:3306', '-n', 'vm']]],
    command: 'deregister',
    argv: ['db', '10.0.0.2,fd00::2', '--delete-service-when-empty', '-n', 'vm'],
  },
  {
    name: 'deregister --delete-service-when-empty, Endpoints',
    seed: VM,
    setup: [['register', ['db', '10.0.0.2', 'mysql:3306', '--endpoints-api', 'endpoints', '-n', 'vm']]],
    command: 'deregister',
    argv: ['db', '10.0.0.2', '--delete-service-when-empty', '-n', 'vm'],
  },
  { name: 'expose-istiod --services', seed: ISTIO, command: 'expose-istiod', argv: ['--services'] },
  { name: 'expose-istiod --tls-mode https', seed: ISTIO, command: 'expose-istiod', argv: ['--tls-mode', 'https', '--credential-name', 'istiod-cert', '--host', 'istiod.example.com'] },
  {
    name: 'expose-istiod, switching to https (updates)',
    seed: ISTIO,
    setup: [['expose-istiod', []]],
    command: 'expose-istiod',
    argv: ['--tls-mode', 'https', '--credential-name', 'istiod-cert', '--host', 'istiod.example.com'],
  },
  { name: 'expose-istiod --delete --services', seed: ISTIO, setup: [['expose-istiod', ['--services']]], command: 'expose-istiod', argv: ['--delete', '--services'] },
  { name: 'expose-service', seed: BAR, command: 'expose-service', argv: ['httpbin', '-n', 'bar'] },
  { name: 'expose-service, other ports', seed: BAR, setup: [['expose-service', ['httpbin', '-n', 'bar']]], command: 'expose-service', argv: ['httpbin', '-n', 'bar', '-p', 'http:8000', '-p', 'tcp:9000'] },
];

/** What the matrix reads back: every kind these commands write, in every namespace. */
const KINDS_READ: [string, string][] = [
  ['v1', 'Service'],
  ['v1', 'Endpoints'],
  ['v1', 'ConfigMap'],
  ['discovery.k8s.io/v1', 'EndpointSlice'],
  ['networking.istio.io/v1', 'ServiceEntry'],
  ['networking.istio.io/v1', 'Gateway'],
  ['networking.istio.io/v1', 'VirtualService'],
  ['networking.istio.io/v1', 'DestinationRule'],
];

/**
 * The cluster as a comparable text: server-set metadata left out (uid, resourceVersion, timestamps,
 * managedFields, generation), and the id of the run that created an object reduced to "present". Cluster IPs
 * and node ports are allocated at random, so they count only when comparing with the same server's prior state (`ips`): a
 * Service put back must keep its address.
 */
function snapshot(server: TestApiServer, ips: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [apiVersion, kind] of KINDS_READ) {
    for (const o of server.objects(apiVersion, kind)) {
      const key = `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
      const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, generation: _g, ...metadata } = o.metadata as Obj;
      if (metadata.annotations?.[RUN_ANNOTATION]) metadata.annotations = { ...metadata.annotations, [RUN_ANNOTATION]: '<run>' };
      const copy: Obj = { ...o, metadata };
      if (kind === 'Service' && !ips) {
        const ports = (copy.spec.ports ?? []).map((p: Obj) => (p.nodePort ? { ...p, nodePort: '<port>' } : p));
        copy.spec = { ...copy.spec, clusterIP: '<ip>', clusterIPs: ['<ip>'], ports };
      }
      out.set(key, JSON.stringify(sorted(copy)));
    }
  }
  return out;
}

/** Map keys in order: the order of an object's keys carries no meaning (kubectl, for one, sorts them). */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Obj)[k])]));
}

function differences(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.has(k) ? (b.has(k) ? 'differs' : 'missing') : 'extra'}`);
}

async function prepared(c: Case): Promise<TestApiServer> {
  const server = await TestApiServer.start({ seed: c.seed });
  for (const [name, argv] of c.setup ?? []) {
    const r = await runInProcess(server, name, argv);
    if (r.code !== 0) throw new Error(`setup ${name} ${argv.join(' ')} failed: ${r.stderr}`);
  }
  server.clearRequests();
  return server;
}

async function close(server: TestApiServer): Promise<void> {
  forget(server);
  await server.close();
}

interface Totals {
  injections: number;
  full: number;
  prior: number;
  partial: string[];
  /** Injections whose run ended otherwise than it must (commit: exit 0 and the full result). */
  wrong: string[];
}

const totals: Totals = { injections: 0, full: 0, prior: 0, partial: [], wrong: [] };

type Request = { method: string; path: string };
const isWrite = (r: Request) => r.method !== 'GET';

/** The faults for request `n` (1-based) of `sequence`; none when the kind does not apply to that request. */
function faultsAt(sequence: Request[], n: number, kind: Kind): Fault[] {
  const r = sequence[n - 1]!;
  const occurrence = (i: number) => sequence.slice(0, i).filter((x) => x.method === sequence[i - 1]!.method && x.path === sequence[i - 1]!.path).length;
  const nth = occurrence(n);
  if (kind === 'commit') return [{ method: r.method, path: r.path, nth, times: 1, dropAfterCommit: true }];
  if (kind === 'commit+503') {
    const last = sequence.map((x, i) => (isWrite(x) ? i + 1 : 0)).filter((i) => i > n).pop();
    if (!isWrite(r) || !last) return [];
    const w = sequence[last - 1]!;
    // The retry of request n is one more request to its path before the last write.
    const shift = w.method === r.method && w.path === r.path ? 1 : 0;
    return [
      { method: r.method, path: r.path, nth, times: 1, dropAfterCommit: true },
      { method: w.method, path: w.path, nth: occurrence(last) + shift, times: ATTEMPTS, status: 503 },
    ];
  }
  return [{ method: r.method, path: r.path, nth, times: ATTEMPTS, ...(kind === '503' ? { status: 503 } : { drop: true }) }];
}

const test = suite('fault matrix: every request of every multi-object command, under a persistent fault, ends in the full result or the prior state');

for (const c of CASES) {
  test(c.name, async () => {
    const base = await prepared(c);
    const prior = snapshot(base, false);
    const ok = await runInProcess(base, c.command, c.argv);
    const sequence = base.requests.map((r) => ({ method: r.method, path: r.path }));
    const full = snapshot(base, false);
    await close(base);
    assert.is(ok.code, 0, `the clean run succeeds: ${ok.stderr}`);
    assert.ok(differences(prior, full).length > 0, 'the clean run changes something');

    for (let n = 1; n <= sequence.length; n++) {
      for (const kind of KINDS) {
        const faults = faultsAt(sequence, n, kind);
        if (faults.length === 0) continue;
        const server = await prepared(c);
        const before = snapshot(server, true);
        for (const f of faults) server.inject(f);
        const r = await runInProcess(server, c.command, c.argv);
        const after = snapshot(server, true);
        const afterNoIps = snapshot(server, false);
        await close(server);
        totals.injections++;
        const where = `${c.name}: ${kind} at request ${n} (${sequence[n - 1]!.method} ${sequence[n - 1]!.path})`;
        const isFull = differences(full, afterNoIps).length === 0;
        const isPrior = differences(before, after).length === 0;
        if (isFull) totals.full++;
        else if (isPrior) totals.prior++;
        else totals.partial.push(`${where}, exit ${r.code}: against the prior state ${differences(before, after).join('; ')}; against the full result ${differences(full, afterNoIps).join('; ')}\n${r.stderr}`);
        if (process.env.DEBUG_MATRIX && !isFull && !isPrior) for (const k of differences(full, afterNoIps)) console.log(k, '\n', full.get(k.split(':')[0]!), '\n', afterNoIps.get(k.split(':')[0]!));
        if (r.code === 0 && !isFull) totals.wrong.push(`${where}: exit 0 without the full result`);
        if (kind === 'commit' && (r.code !== 0 || !isFull)) totals.wrong.push(`${where}: exit ${r.code}, ${isFull ? 'full' : isPrior ? 'prior' : 'partial'} state\n${r.stderr}`);
      }
    }
  });
}

// When the API server goes away for good in the middle of a run, nothing can be put back. Then the error must
// name every object left changed, and give the command that finishes the job; once the server is back, that
// command, run as printed, must give the full result.
const outages = { runs: 0, leftChanged: 0, undone: 0, finished: 0 };

for (const c of CASES) {
  test(`${c.name}: an outage from each write on; the error says what is left and how to finish`, async () => {
    const base = await prepared(c);
    await runInProcess(base, c.command, c.argv);
    const sequence = base.requests.map((r) => ({ method: r.method, path: r.path }));
    const full = snapshot(base, false);
    await close(base);
    for (let n = 1; n <= sequence.length; n++) {
      if (!isWrite(sequence[n - 1]!)) continue;
      const server = await prepared(c);
      try {
        await outage(c, server, n, full);
      } finally {
        await close(server);
      }
    }
  });
}

/** One outage from request `n` on: what the error says, what its commands do. */
async function outage(c: Case, server: TestApiServer, n: number, full: Map<string, string>): Promise<void> {
  const before = snapshot(server, true);
  server.inject({ nth: n, times: 100_000, status: 503 });
  const r = await runInProcess(server, c.command, c.argv);
  const left = differences(before, snapshot(server, true));
  outages.runs++;
  const where = `${c.name}: outage from request ${n}`;
  assert.is.not(r.code, 0, where);
  if (left.length) {
    outages.leftChanged++;
    for (const d of left) assert.ok(r.stderr.includes(d.split(':')[0]!), `${where}: the error names ${d}\n${r.stderr}`);
    const rerun = /run the same command again: (.*)$/m.exec(r.stderr)?.[1];
    assert.is(rerun, ['kubectl', 'vm', c.command, ...c.argv].join(' '), `${where}: the command that finishes the job\n${r.stderr}`);
    server.clearFaults();
    // Each "to undo:" command, run as printed with the real kubectl, brings back the prior state ...
    const undo = [...r.stderr.matchAll(/; to undo: (.*)$/gm)].map((m) => m[1]!);
    assert.ok(undo.length > 0, `${where}: undo commands`);
    const kubeconfig = server.writeKubeconfig(path.join(tempDir(), 'config'));
    for (const command of undo) {
      const u = await run('bash', ['-c', command], { env: { PATH: process.env.PATH, KUBECONFIG: kubeconfig, HOME: path.dirname(kubeconfig) } });
      // Where the run only may have written (its answer was lost), "nothing to undo" is a quiet grep miss or
      // an AlreadyExists from the create.
      const nothingToDo = u.code === 1 && (u.stderr === '' || /AlreadyExists/.test(u.stderr));
      assert.ok(u.code === 0 || nothingToDo, `${where}: ${command}\n${u.stderr}`);
    }
    const undone = snapshot(server, true);
  const still = differences(before, undone);
  assert.equal(still, [], `${where}: the undo commands restore the prior state\n${still.map((d) => `${before.get(d.split(':')[0]!)}\n${undone.get(d.split(':')[0]!)}`).join('\n')}`);
    outages.undone++;
    // ... and the command that finishes the job, run then, gives the full result.
    const again = await runInProcess(server, c.command, rerun!.split(' ').slice(3));
    assert.is(again.code, 0, again.stderr);
    assert.equal(differences(full, snapshot(server, false)), [], `${where}: the printed command finishes the job`);
    outages.finished++;
  }
}

test('totals', () => {
  console.log(`  fault matrix: ${outages.runs} outages from a write on: ${outages.leftChanged} left objects changed, each named, with the commands that undo it (${outages.undone} undone by them) and the command that finishes the job (${outages.finished} finished by it)`);
  const line = `${totals.injections} injections: ${totals.full} full results, ${totals.prior} prior states, ${totals.partial.length} partial states, ${totals.wrong.length} wrong endings`;
  console.log(`\n  fault matrix: ${line}`);
  assert.ok(totals.injections > 0);
  assert.equal(totals.partial, [], 'no partial state');
  assert.equal(totals.wrong, [], 'every run ends as it must');
});

test.run();
