// The CA checks, the sample fingerprints, and the legacy mesh-expansion parsers and service-range detection.
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CA_FILES, checkCaFiles, redactSecret, SAMPLE_CERT_FINGERPRINTS, SAMPLE_KEY_FINGERPRINTS, type CaInputs } from '../../shared/istio/ca-certs.ts';
import { cidrFromRangeMessage, cidrProblem, parseInboundPorts, parseServiceCidrs, renderLegacyClusterEnv } from '../../shared/istio/mesh-expansion.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { ApiError } from '../../shared/kube/errors.ts';
import { cidrsOfServiceCIDRs, findServiceCidrs } from '../../shared/kube/service-cidr.ts';
import { ROOT } from '../helpers/run.ts';

const test = suite('ca-certs and mesh-expansion');
const FIX = path.join(ROOT, 'test/fixtures');
const inputs = (dir: string): CaInputs => Object.fromEntries(CA_FILES.map((f) => [f, { source: f, text: fs.readFileSync(path.join(FIX, dir, f), 'utf8') }])) as CaInputs;

test('the fingerprint table names every certificate of the vendored samples, and nothing else', () => {
  const dir = path.join(FIX, 'istio-sample-certs');
  const seen = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.pem') && !n.includes('key'))) {
    for (const pem of fs.readFileSync(path.join(dir, f), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!) {
      const fp = new X509Certificate(pem).fingerprint256;
      assert.ok(SAMPLE_CERT_FINGERPRINTS[fp], `${f}: ${fp}`);
      seen.add(fp);
    }
  }
  assert.equal([...seen].sort(), Object.keys(SAMPLE_CERT_FINGERPRINTS).sort());
  // INDEX.md's fingerprints (openssl x509 -fingerprint -sha256) are the same notation.
  assert.is(SAMPLE_CERT_FINGERPRINTS['63:72:7A:17:85:CA:B4:7A:CE:C5:C2:4C:C0:66:9C:20:82:4E:8A:E1:AC:28:07:9A:4D:2F:8C:83:05:92:E7:B0'], 'samples/certs/root-cert.pem');
});

test('our test CA passes, the samples pass but are reported, alt sets included', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  assert.equal(checkCaFiles(inputs('ca-certs'), now, { allowSamples: false }).samples, []);
  assert.equal(checkCaFiles(inputs('istio-sample-certs'), now, { allowSamples: true }).samples.map((s) => s.file), ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem']);
  assert.throws(() => checkCaFiles(inputs('istio-sample-certs'), now, { allowSamples: false }), /refusing Istio's published sample certificates/);
});

test('the key table names the public key of every vendored sample key and certificate', () => {
  const dir = path.join(FIX, 'istio-sample-certs');
  const spki = (k: KeyObject) => createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('hex');
  const seen = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.pem'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const keys = f.includes('key') ? [createPublicKey(createPrivateKey(text))] : text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p).publicKey);
    for (const k of keys) {
      assert.ok(SAMPLE_KEY_FINGERPRINTS[spki(k)], `${f}: ${spki(k)}`);
      seen.add(spki(k));
    }
  }
  assert.equal([...seen].sort(), Object.keys(SAMPLE_KEY_FINGERPRINTS).sort());
});

test('expired or not yet valid certificates are refused (the clock is a parameter)', () => {
  assert.throws(() => checkCaFiles(inputs('ca-certs'), new Date('2200-01-01T00:00:00Z'), { allowSamples: false }), /expired on/);
  assert.throws(() => checkCaFiles(inputs('ca-certs'), new Date('2000-01-01T00:00:00Z'), { allowSamples: false }), /is not valid before/);
});

test('redactSecret shows sizes, never values', () => {
  const r = redactSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { 'ca-key.pem': Buffer.from('secret!').toString('base64') } });
  assert.equal(r.data, { 'ca-key.pem': '<redacted: 7 bytes>' });
});

test('CIDRs, ports and the legacy cluster.env', () => {
  for (const ok of ['10.96.0.0/12', '0.0.0.0/0', 'fd00:10:96::/112', '2001:db8::/32', '10.96.0.0/16']) assert.is(cidrProblem(ok), undefined, ok);
  for (const bad of ['10.96.0.0', '10.96.0.1/12', '10.96.0.0/33', 'fd00::1/64', 'x/8', '10.96.0.0/-1']) assert.ok(cidrProblem(bad), bad);
  assert.equal(parseServiceCidrs('10.96.0.0/16, fd00::/108'), ['10.96.0.0/16', 'fd00::/108']);
  assert.equal(parseInboundPorts('8888,03306'), ['8888', '3306']);
  assert.equal(parseInboundPorts('*'), ['*']);
  assert.throws(() => parseInboundPorts('0'), /not a port number/);
  assert.is(renderLegacyClusterEnv({ cpAuth: 'MUTUAL_TLS', serviceCidrs: ['172.21.0.0/16'], inboundPorts: ['8888'], istioNamespace: 'istio-system' }), 'ISTIO_CP_AUTH=MUTUAL_TLS\nISTIO_SERVICE_CIDR=172.21.0.0/16\nISTIO_INBOUND_PORTS=8888\nISTIO_SYSTEM_NAMESPACE=istio-system\n');
});

test('the range out of the API message of kube-api fixture 13 (a real kube-apiserver v1.26.1)', () => {
  const body = JSON.parse(fs.readFileSync(path.join(FIX, 'kube-api/13-create-svc-clusterip-out-of-range-dryrun.422.json'), 'utf8'));
  assert.is(cidrFromRangeMessage(body.message), '10.96.0.0/16');
  assert.is(cidrFromRangeMessage('The range of valid IPs is fd00:10:96::/112'), 'fd00:10:96::/112');
  assert.is(cidrFromRangeMessage('spec.ipFamilies[0]: Invalid value: "IPv4": not configured on this cluster'), undefined);
});

test('ServiceCIDRs: "kubernetes" first, others by name, each range once, deleting ones left out', () => {
  const sc = (name: string, cidrs: string[], deleting = false) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: { name, ...(deleting ? { deletionTimestamp: 'x' } : {}) }, spec: { cidrs } });
  assert.equal(cidrsOfServiceCIDRs([sc('b', ['10.2.0.0/16']), sc('a', ['10.1.0.0/16', '10.96.0.0/16']), sc('old', ['10.9.0.0/16'], true), sc('kubernetes', ['10.96.0.0/16'])]), ['10.96.0.0/16', '10.1.0.0/16', '10.2.0.0/16']);
});

/** A stand-in for the client: what the API would answer, and what was asked. */
function stubClient(list: () => unknown[], probe: () => never): { kube: KubeClient; asked: string[] } {
  const asked: string[] = [];
  const kube = {
    list: async (apiVersion: string, kind: string) => (asked.push(`list ${apiVersion} ${kind}`), list()),
    probeCreate: async () => (asked.push('probe'), probe()),
  } as unknown as KubeClient;
  return { kube, asked };
}
const status = (code: number, message: string, details?: object) => new ApiError(message, 1, { kind: 'Status', code, message, details });

test('findServiceCidrs: ServiceCIDRs (as served by v1beta1 on 1.31–1.32) win, no probe is sent', async () => {
  const { kube, asked } = stubClient(() => [{ apiVersion: 'networking.k8s.io/v1beta1', kind: 'ServiceCIDR', metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.43.0.0/16'] } }], () => {
    throw new Error('no probe expected');
  });
  assert.equal(await findServiceCidrs(kube, 'default', []), { cidrs: ['10.43.0.0/16'], source: 'ServiceCIDR' });
  assert.equal(asked, ['list networking.k8s.io/v1 ServiceCIDR']);
});

test('findServiceCidrs: unserved or forbidden ServiceCIDRs fall back to the dry run; its refusal names the range', async () => {
  for (const listError of [status(404, 'the server could not find the requested resource'), status(403, 'servicecidrs is forbidden')]) {
    const tried: string[] = [];
    const { kube, asked } = stubClient(() => { throw listError; }, () => { throw status(422, 'Service "p" is invalid: … The range of valid IPs is 10.96.0.0/12', { name: 'p', kind: 'Service' }); });
    assert.equal(await findServiceCidrs(kube, 'default', tried), { cidrs: ['10.96.0.0/12'], source: 'dry-run' });
    assert.equal(asked, ['list networking.k8s.io/v1 ServiceCIDR', 'probe']);
    assert.is(tried.length, 1);
  }
});

test.run();
