// ca-certs create against the test API server: the Secret as istiod reads it, re-runs, --force, the refusal of
// Istio's sample certificates, every bad input (each refused before any request), and a key never printed.
// The test CA comes from test/fixtures/ca-certs (make.sh); the samples from test/fixtures/istio-sample-certs.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { namespace } from '../helpers/builders.ts';
import { expectGolden } from '../helpers/golden.ts';
import { ROOT } from '../helpers/run.ts';
import { tempDir } from '../helpers/tmp.ts';
import { runCase, type Case } from '../helpers/transcript.ts';

const test = suite('ca-certs create');
const EXE = 'kubectl-vm-ca_certs-create';
const OURS = 'test/fixtures/ca-certs';
const SAMPLES = 'test/fixtures/istio-sample-certs';
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;

/** The four flags, from a directory, with some files swapped. */
function flags(dir: string, swap: Partial<Record<(typeof FILES)[number], string>> = {}): string[] {
  return FILES.flatMap((f) => [`--${f.replace('.pem', '')}`, swap[f] ?? `${dir}/${f}`]);
}

/** Request bodies carry the base64 of the files: shown by size in goldens, and checked against the files below. */
const sized = (t: string) => t.replace(/"((?:ca-cert|ca-key|root-cert|cert-chain)\.pem)":"([A-Za-z0-9+/=]+)"/g, (_, k: string, v: string) => `"${k}":"<base64 of ${Buffer.from(v, 'base64').length} bytes>"`);

async function create(name: string | undefined, args: string[], c: Case = {}) {
  const o = await runCase(EXE, args, c);
  await o.cluster.close();
  if (name) expectGolden(`ca-certs-create/${name}.golden`, sized(o.transcript));
  return o;
}

/** An object read from one server, as a user would create it in the next. */
const asSeed = (o: any) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels }, type: o.type, data: o.data });
const decoded = (secret: any) => Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

test('creates istio-system/cacerts from the four files, type Opaque, labelled as ours; a re-run is unchanged', async () => {
  const o = await create('create', flags(OURS), { seed: [namespace('istio-system')] });
  assert.is(o.code, 0, o.stderr);
  assert.is(o.stdout, 'secret/cacerts created\n');
  assert.match(o.stderr, /^note: istiod uses cacerts from its next start/m);
  const secret = o.server.object('v1', 'Secret', 'istio-system', 'cacerts') as any;
  assert.is(secret.type, 'Opaque');
  assert.is(secret.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
  assert.equal(decoded(secret), Object.fromEntries(FILES.map((f) => [f, read(`${OURS}/${f}`)])), 'byte for byte what kubectl create secret --from-file makes');
  assert.equal(o.requests.map((r) => `${r.method} ${r.status}`), ['POST 201']);

  const again = await create('unchanged', flags(OURS), { seed: [namespace('istio-system'), asSeed(secret)] });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, 'secret/cacerts unchanged\n');
  assert.not.ok(again.requests.some((r) => r.method === 'PUT'));
});

test("Istio's sample certificates are refused by fingerprint, before any request; --allow-sample-certs takes them with the warning", async () => {
  const refused = await create('sample-refused', flags(SAMPLES), { seed: [namespace('istio-system')] });
  assert.is(refused.code, 65);
  assert.match(refused.stderr, /^error: refusing Istio's published sample certificates: --ca-cert test\/fixtures\/istio-sample-certs\/ca-cert\.pem is Istio's samples\/certs\/ca-cert\.pem/m);
  assert.match(refused.stderr, /widely distributed and known: do not use them in production/);
  assert.match(refused.stderr, /^hint: .*--allow-sample-certs/m);
  assert.is(refused.requests.length, 0);

  // Recognised by fingerprint, not by name or bytes: the alt set, with the PEM re-wrapped and renamed.
  const dir = tempDir();
  for (const f of FILES) fs.writeFileSync(path.join(dir, f), read(`${SAMPLES}/${f.replace('.pem', '-alt.pem')}`).replace(/\n/g, '\r\n'));
  const renamed = await create(undefined, flags(dir), { seed: [namespace('istio-system')] });
  assert.is(renamed.code, 65, renamed.stderr);
  assert.match(renamed.stderr, /is Istio's samples\/certs\/ca-cert-alt\.pem/);
  assert.match(renamed.stderr, /is Istio's samples\/certs\/root-cert-alt\.pem/);

  const allowed = await create('sample-allowed', [...flags(SAMPLES), '--allow-sample-certs'], { seed: [namespace('istio-system')] });
  assert.is(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /^warning: .*do not use them in production/m);
  assert.ok(allowed.server.object('v1', 'Secret', 'istio-system', 'cacerts'));
});

// Each file alone, and the signing chain alone, being Istio's: the set is refused as a sample before it is checked
// for consistency, and the message names the file (a refusal that looked at --ca-cert only would miss all but one).
const alone: [string, string[], RegExp][] = [
  ['--ca-cert', flags(OURS, { 'ca-cert.pem': `${SAMPLES}/ca-cert.pem` }), /: --ca-cert test\/fixtures\/istio-sample-certs\/ca-cert\.pem is Istio's samples\/certs\/ca-cert\.pem$/m],
  ['--ca-key', flags(OURS, { 'ca-key.pem': `${SAMPLES}/ca-key.pem` }), /: --ca-key test\/fixtures\/istio-sample-certs\/ca-key\.pem is Istio's samples\/certs\/ca-key\.pem$/m],
  ['--root-cert', flags(OURS, { 'root-cert.pem': `${SAMPLES}/root-cert.pem` }), /: --root-cert test\/fixtures\/istio-sample-certs\/root-cert\.pem is Istio's samples\/certs\/root-cert\.pem$/m],
  ['--cert-chain', flags(OURS, { 'cert-chain.pem': `${SAMPLES}/cert-chain-alt.pem` }), /: --cert-chain test\/fixtures\/istio-sample-certs\/cert-chain-alt\.pem holds Istio's samples\/certs\/ca-cert-alt\.pem \(certificate 1\)$/m],
  [
    'the signing chain (a private CA signed by the sample CA key)',
    flags(OURS, { 'ca-cert.pem': `${OURS}/sample-signed-ca-cert.pem`, 'ca-key.pem': `${OURS}/sample-signed-ca-key.pem`, 'root-cert.pem': `${SAMPLES}/root-cert.pem`, 'cert-chain.pem': `${OURS}/sample-signed-cert-chain.pem` }),
    /: --root-cert \S+ is Istio's samples\/certs\/root-cert\.pem; --cert-chain \S+ holds Istio's samples\/certs\/ca-cert\.pem \(certificate 2\); --ca-cert test\/fixtures\/ca-certs\/sample-signed-ca-cert\.pem is signed by Istio's samples\/certs\/ca-cert\.pem$/m,
  ],
];
for (const [which, args, names] of alone) {
  test(`sample CA refused when only ${which} is Istio's: exit 65, the file named, no request`, async () => {
    const o = await create(which === '--root-cert' ? 'sample-root-alone' : undefined, args, { seed: [namespace('istio-system')] });
    assert.is(o.code, 65, o.stderr);
    assert.match(o.stderr, /^error: refusing Istio's published sample certificates: /m);
    assert.match(o.stderr, names);
    assert.match(o.stderr, /^hint: .*--allow-sample-certs/m);
    assert.is(o.requests.length, 0);
  });
}

test('a private CA signed by the sample CA key passes the chain checks, so only the sample check stands between it and the cluster', async () => {
  const o = await create(undefined, [...alone[4]![1], '--allow-sample-certs'], { seed: [namespace('istio-system')] });
  assert.is(o.code, 0, o.stderr);
  assert.match(o.stderr, /^warning: .*--ca-cert \S+ is signed by Istio's samples\/certs\/ca-cert\.pem: .*do not use them in production/m);
});

const bad: [string, string[], number, RegExp][] = [
  ['missing-flags', ['--ca-cert', `${OURS}/ca-cert.pem`], 64, /^error: missing --ca-key, --root-cert, --cert-chain: the cacerts Secret needs all four files$/m],
  ['unreadable', flags(OURS, { 'ca-key.pem': `${OURS}/nope.pem` }), 65, /^error: cannot read test\/fixtures\/ca-certs\/nope\.pem: ENOENT$/m],
  ['not-pem', flags(OURS, { 'root-cert.pem': `${OURS}/make.sh` }), 65, /^error: --root-cert test\/fixtures\/ca-certs\/make\.sh is not a PEM file/m],
  ['key-as-cert', flags(OURS, { 'ca-cert.pem': `${OURS}/ca-key.pem` }), 65, /^error: --ca-cert test\/fixtures\/ca-certs\/ca-key\.pem holds a "PRIVATE KEY" block where a certificate belongs/m],
  ['cert-as-key', flags(OURS, { 'ca-key.pem': `${OURS}/ca-cert.pem` }), 65, /^error: --ca-key test\/fixtures\/ca-certs\/ca-cert\.pem is not a PEM private key$/m],
  ['key-mismatch', flags(OURS, { 'ca-key.pem': `${OURS}/other-key.pem` }), 65, /^error: --ca-key test\/fixtures\/ca-certs\/other-key\.pem is not the key of --ca-cert/m],
  ['not-a-ca', flags(OURS, { 'ca-cert.pem': `${OURS}/leaf-cert.pem`, 'ca-key.pem': `${OURS}/leaf-key.pem` }), 65, /is not a CA certificate \(basicConstraints CA:TRUE is missing\)$/m],
  ['wrong-root', flags(OURS, { 'root-cert.pem': `${OURS}/other-root-cert.pem` }), 65, /^error: --cert-chain test\/fixtures\/ca-certs\/cert-chain\.pem does not lead to the root in --root-cert/m],
  ['chain-without-ca', flags(OURS, { 'cert-chain.pem': `${OURS}/root-cert.pem` }), 65, /does not start with the CA certificate/],
  ['ca-cert-is-a-chain', flags(OURS, { 'ca-cert.pem': `${OURS}/cert-chain.pem` }), 65, /holds 2 certificates; it must hold only the CA certificate/],
  ['root-not-self-signed', flags(OURS, { 'root-cert.pem': `${OURS}/ca-cert.pem` }), 65, /in --root-cert test\/fixtures\/ca-certs\/ca-cert\.pem is not a self-signed CA certificate/],
];
for (const [name, args, code, message] of bad) {
  test(`bad input (${name}): exit ${code}, a message naming the file, and no request`, async () => {
    const o = await create(name === 'missing-flags' || name === 'key-mismatch' || name === 'wrong-root' ? `error-${name}` : undefined, args, { seed: [namespace('istio-system')] });
    assert.is(o.code, code, o.stderr);
    assert.match(o.stderr, message);
    assert.match(o.stderr, /^hint: /m);
    assert.is(o.requests.length, 0);
  });
}

test('another cacerts is replaced only with --force, guarded by its resourceVersion, with the reminder to restart istiod', async () => {
  const theirs = await create(undefined, [...flags(SAMPLES), '--allow-sample-certs'], { seed: [namespace('istio-system')] });
  const existing = asSeed(theirs.server.object('v1', 'Secret', 'istio-system', 'cacerts'));
  delete existing.metadata.labels; // as `kubectl create secret generic cacerts --from-file=…` makes it
  const refused = await create('exists-refused', flags(OURS), { seed: [namespace('istio-system'), existing] });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /^error: Secret istio-system\/cacerts already exists and holds other certificates \(it was not made by kubectl-vm\)$/m);
  assert.match(refused.stderr, /^hint: add --force to replace it; istiod must then be restarted/m);
  assert.not.ok(refused.requests.some((r) => r.method === 'PUT'));
  assert.is(decoded(refused.server.object('v1', 'Secret', 'istio-system', 'cacerts'))['ca-cert.pem'], read(`${SAMPLES}/ca-cert.pem`), 'untouched');

  const forced = await create('exists-forced', [...flags(OURS), '--force'], { seed: [namespace('istio-system'), existing] });
  assert.is(forced.code, 0, forced.stderr);
  assert.is(forced.stdout, 'secret/cacerts configured\n');
  assert.match(forced.stderr, /^warning: istiod reads cacerts only when it starts: restart it to use the new CA \(kubectl rollout restart deployment -l app=istiod -n istio-system\)/m);
  const put = forced.requests.find((r) => r.method === 'PUT')!;
  assert.ok((put.body as any).metadata.resourceVersion, 'the PUT carries the resourceVersion that was read');
  const now = forced.server.object('v1', 'Secret', 'istio-system', 'cacerts') as any;
  assert.equal(decoded(now), Object.fromEntries(FILES.map((f) => [f, read(`${OURS}/${f}`)])));
  assert.is(now.metadata.labels['app.kubernetes.io/managed-by'], 'kubectl-vm');
});

test('the key is never printed: -o yaml and dry runs show every data value as <redacted: N bytes>', async () => {
  const key = read(`${OURS}/ca-key.pem`);
  const keyB64 = Buffer.from(key).toString('base64');
  const client = await create('dry-run-client-yaml', [...flags(OURS), '--dry-run=client', '-o', 'yaml']);
  assert.is(client.code, 0, client.stderr);
  assert.is(client.requests.length, 0);
  assert.match(client.stdout, new RegExp(`^  ca-key\\.pem: '<redacted: ${Buffer.byteLength(key)} bytes>'$`, 'm'));
  for (const out of [client.stdout, client.stderr]) {
    assert.not.ok(out.includes(keyB64.slice(0, 40)) || out.includes(key.split('\n')[1]!), 'neither the base64 nor the PEM of the key');
  }

  const server = await create('dry-run-server', [...flags(OURS), '--dry-run=server', '-o', 'json'], { seed: [namespace('istio-system')] });
  assert.is(server.code, 0, server.stderr);
  assert.equal(server.requests.map((r) => `${r.method} ${r.query.dryRun} ${r.status}`), ['POST All 201']);
  assert.is(server.server.object('v1', 'Secret', 'istio-system', 'cacerts'), undefined, 'nothing stored');
  assert.is(JSON.parse(server.stdout).data['ca-key.pem'], `<redacted: ${Buffer.byteLength(key)} bytes>`);
  assert.not.ok(server.stdout.includes(keyB64.slice(0, 40)));
});

test('--istio-namespace, else -n, places the Secret', async () => {
  const o = await create(undefined, [...flags(OURS), '-n', 'istio-custom'], { seed: [namespace('istio-custom')] });
  assert.is(o.code, 0, o.stderr);
  assert.ok(o.server.object('v1', 'Secret', 'istio-custom', 'cacerts'));
  const missing = await create('error-missing-namespace', [...flags(OURS), '--istio-namespace', 'nope']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /^hint: create the namespace first: kubectl create namespace nope$/m);
});

test.run();
