// The transaction API of shared/kube/transaction.ts as a new command would use it: work done through `tx` is put
// back when the work throws, objects someone else changed meanwhile are left alone, and a dry run records nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestApiServer } from '../apiserver/server.ts';
import { clientFor } from '../../shared/kube/connect.ts';
import { loadKubeconfig } from '../../shared/kube/kubeconfig.ts';
import { ensure } from '../../shared/kube/ensure.ts';
import { RUN_ANNOTATION, transaction } from '../../shared/kube/transaction.ts';
import { ConflictError } from '../../shared/errors.ts';
import { defaultBackoff } from '../../shared/kube/retry.ts';
import type { KubeObject } from '../../shared/kube/objects.ts';
import type { DryRun } from '../../shared/cli/flags.ts';
import { tempDir } from '../helpers/tmp.ts';
import path from 'node:path';
import { configMap, namespace } from '../helpers/builders.ts';

const test = suite('transaction: a multi-object change completes or puts back what it touched');
let server: TestApiServer;
let kubeconfig: string;
const notes: string[] = [];
const log = { info: () => undefined, note: (m: string) => notes.push(m), warn: (m: string) => notes.push(`warning: ${m}`), debug: () => undefined, verbosity: 0 };
const managed = (name: string, data: Record<string, string>): KubeObject => ({ ...configMap('tx', name, data), metadata: { name, namespace: 'tx', labels: { 'app.kubernetes.io/managed-by': 'kubectl-vm' } } });
const client = (dryRun: DryRun = 'none') =>
  clientFor(loadKubeconfig({ kubeconfig }, { env: {}, home: tempDir() }), { dryRun, log, timeoutMs: 0, backoff: { ...defaultBackoff, sleep: async () => undefined } });
const data = (name: string) => server.object('v1', 'ConfigMap', 'tx', name)?.data;

test.before(async () => {
  server = await TestApiServer.start({ seed: [namespace('tx'), managed('kept', { a: '1' }), managed('gone', { g: '1' })] });
  kubeconfig = server.writeKubeconfig(path.join(tempDir(), 'config'));
});
test.after(async () => {
  await server.close();
});

test('work that throws: what it created is deleted, what it changed restored, what it deleted created again', async () => {
  const kube = client();
  const boom = new ConflictError('step 4 failed');
  const thrown = await transaction(kube, { log, rerun: 'kubectl vm example' }, async (tx) => {
    await ensure(tx, managed('new', { n: '1' }));
    await ensure(tx, managed('kept', { a: '2' }));
    const gone = await tx.get<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: 'tx' });
    await tx.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', namespace: 'tx' }, { uid: gone!.metadata.uid });
    assert.equal([data('new'), data('kept'), data('gone')], [{ n: '1' }, { a: '2' }, undefined], 'the work was done');
    throw boom;
  }).catch((e: unknown) => e);
  kube.close();
  assert.is(thrown, boom, 'the error of the work is what the caller gets');
  assert.equal([data('new'), data('kept'), data('gone')], [undefined, { a: '1' }, { g: '1' }]);
  assert.equal(notes.splice(0), [
    'rolled back: created ConfigMap tx/gone again, which this run had deleted',
    'rolled back: restored ConfigMap tx/kept to the version this run had read',
    'rolled back: deleted ConfigMap tx/new, which this run had created',
  ]);
  assert.equal(boom.details, [], 'nothing is left to report');
});

test('work that succeeds keeps everything; created objects carry the run id', async () => {
  const kube = client();
  const runId = await transaction(kube, { log, rerun: 'x' }, async (tx) => {
    await ensure(tx, managed('made', { m: '1' }));
    return tx.runId;
  });
  kube.close();
  assert.is(server.object('v1', 'ConfigMap', 'tx', 'made')!.metadata.annotations[RUN_ANNOTATION], runId);
});

test('an object someone else changed after this run did is left alone, and the error says so', async () => {
  const kube = client();
  const boom = new ConflictError('later step failed');
  await transaction(kube, { log, rerun: 'kubectl vm example --again' }, async (tx) => {
    await ensure(tx, managed('kept', { a: '3' }));
    const live = server.object('v1', 'ConfigMap', 'tx', 'kept')!;
    await kube.replace({ ...live, data: { a: 'theirs' } } as unknown as KubeObject);
    throw boom;
  }).catch(() => undefined);
  kube.close();
  assert.equal(data('kept'), { a: 'theirs' });
  assert.is(boom.details.length, 2);
  assert.match(boom.details[0]!, /^ConfigMap tx\/kept was changed by this run, and could not be put back \(someone else changed it after this run did\); to undo: echo '.*"data":\{"a":"1"\}.*' \| kubectl replace -f -$/);
  assert.is(boom.details[1], 'to finish the job instead, run the same command again: kubectl vm example --again');
  notes.length = 0;
});

test('a dry run records nothing and puts nothing back', async () => {
  const kube = client('client');
  await transaction(kube, { log, rerun: 'x' }, async (tx) => {
    await tx.create(managed('dry', { d: '1' }));
    throw new Error('stop');
  }).catch(() => undefined);
  kube.close();
  assert.equal(notes, []);
  assert.is(data('dry'), undefined);
});

test.run();
