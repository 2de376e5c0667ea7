import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareKeys, toYaml } from '../../shared/output/yaml.ts';
import { ROOT } from '../helpers/run.ts';

const test = suite('yaml: go-yaml v2 compatible writer');
const check = fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/serialization-check-output.txt'), 'utf8');
const section = (title: string) => {
  const start = check.indexOf(`=== ${title}`);
  const body = check.slice(check.indexOf('\n', start) + 1);
  return body.slice(0, body.indexOf('\n===') + 1 || undefined);
};

test('mesh.yaml key order, quoting and folding match sigs.k8s.io/yaml byte for byte', () => {
  const md: Record<string, string> = {
    A2: 'x', A10: 'x', B_: 'x', BA: 'x', CANONICAL_REVISION: 'latest', CANONICAL_SERVICE: 'foo', COLON: 'a: b', FLOATY: '1e3',
    ISTIO_META_AUTO_REGISTER_GROUP: 'foo', ISTIO_META_CLUSTER_ID: 'Kubernetes', ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_MESH_ID: '', ISTIO_META_NETWORK: '',
    ISTIO_META_POD_PORTS: '[{"name":"grpc","containerPort":3550,"protocol":""},{"name":"http","containerPort":8080,"protocol":""}]',
    ISTIO_METAJSON_LABELS: '{"Zeta":"z","app":"a\\u003cb\\u003e\\u0026c","app.kubernetes.io/name":"n","service.istio.io/canonical-name":"x","version":"v1"}',
    LEADING_STAR: '*', LONG_WITH_SPACES: 'this is a very long value with many spaces that should exceed the eighty column limit of the yaml emitter',
    NULLISH: 'null', NUMERIC: '123', OCTAL: '0755', POD_NAMESPACE: 'bar', SERVICE_ACCOUNT: 'sa', TRUST_DOMAIN: 'cluster.local', YES: 'yes', a1: 'x',
  };
  const doc = { defaultConfig: { discoveryAddress: 'istiod-rev-1.istio-system.svc:15012', drainDuration: '45s', meshId: 'mesh1', proxyMetadata: md, readinessProbe: { httpGet: { port: 8080 } } } };
  assert.is(toYaml(doc), section('mesh.yaml key order + quoting (sigs.k8s.io/yaml v1.4.0 / goyaml.v2)'));
});

test('a WorkloadGroup prints exactly as istioctl x workload group create prints it', () => {
  const expected = fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/workload-group-create/custom.yaml'), 'utf8');
  const wg = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'foo', namespace: 'bar' }, spec: { metadata: { annotations: { annotation: 'foobar' }, labels: { app: 'foo', bar: 'baz' } }, template: { ports: { grpc: 3550, http: 8080 }, serviceAccount: 'test', weight: 100 } } };
  assert.is(toYaml(wg), expected);
  const empty = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'foo', namespace: 'bar' }, spec: { metadata: {}, template: { serviceAccount: 'default' } } };
  assert.is(toYaml(empty), fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/workload-group-create/default.yaml'), 'utf8'));
});

test('sequences under a key are not indented; sequences of maps and nested sequences', () => {
  assert.is(toYaml({ a: [{ name: 'x', ports: [1, 2] }, [1, [2, 3]]] }), 'a:\n- name: x\n  ports:\n  - 1\n  - 2\n- - 1\n  - - 2\n    - 3\n');
  assert.is(toYaml({ a: [], b: {}, c: null }), 'a: []\nb: {}\nc: null\n');
  assert.is(toYaml([]), '[]\n');
});

test('multi-line strings use the literal style with the right chomping indicator', () => {
  assert.is(toYaml({ a: 'x\ny\n' }), 'a: |\n  x\n  y\n');
  assert.is(toYaml({ a: 'x\ny' }), 'a: |-\n  x\n  y\n');
  assert.is(toYaml({ a: 'x\n\ny\n' }), 'a: |\n  x\n\n  y\n');
  assert.is(toYaml({ a: ' lead\nx' }), 'a: |2-\n   lead\n  x\n');
});

test('strings that read back as other types are double-quoted; timestamps too', () => {
  assert.is(toYaml({ t: '2026-11-21T16:18:41Z', n: 'n', y: 'Y', o: 'off', e: '', i: '08', h: '0x1F', f: '.5', b: '1:20' }), 'b: "1:20"\ne: ""\nf: ".5"\nh: "0x1F"\ni: "08"\n"n": "n"\no: "off"\nt: "2026-11-21T16:18:41Z"\n"y": "Y"\n');
  assert.is(toYaml({ ip: '10.0.0.5', host: 'a.b.svc.cluster.local:15012', v6: 'fd00::5' }), 'host: a.b.svc.cluster.local:15012\nip: 10.0.0.5\nv6: fd00::5\n');
});

test('strings that cannot be plain are single-quoted; control characters force double quotes', () => {
  assert.is(toYaml({ a: '- x', b: 'a #b', c: ' x', d: "it's: here", e: '\tx', f: '@x' }), "a: '- x'\nb: 'a #b'\nc: ' x'\nd: 'it''s: here'\ne: \"\\tx\"\nf: '@x'\n");
});

test('numbers and booleans', () => {
  assert.is(toYaml({ a: 8080, b: 1.5, c: true, d: -3, e: 1e-7 }), 'a: 8080\nb: 1.5\nc: true\nd: -3\ne: 1e-07\n');
});

test('key order: letters by code point, non-letters first, digit runs numerically', () => {
  const keys = ['a1', 'YES', 'BA', 'B_', 'A10', 'A2', 'ISTIO_METAJSON_LABELS', 'ISTIO_META_X', 'b'];
  assert.equal(keys.sort(compareKeys), ['A2', 'A10', 'B_', 'BA', 'ISTIO_META_X', 'ISTIO_METAJSON_LABELS', 'YES', 'a1', 'b']);
});

test.run();
