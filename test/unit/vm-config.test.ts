// The VM configuration against istioctl's golden files (istioctl/pkg/workload/testdata), computed in memory.
// The same cases run end to end, against the test API server, in test/golden/workload-entry-configure.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseWorkloadGroups } from '../../shared/istio/workload-group.ts';
import { shellQuote } from '../../shared/istio/shell.ts';
import { goJsonMap } from '../../shared/istio/go-json.ts';
import { computeVmConfig, renderClusterEnv, renderEnvFile, renderHosts, renderMeshYaml, vmConfigWarnings, type VmConfigInput } from '../../shared/istio/vm-config.ts';
import { byteOrder } from '../../shared/istio/go-json.ts';
import { toYaml } from '../../shared/output/yaml.ts';
import { ROOT } from '../helpers/run.ts';

const test = suite('VM configuration (mesh.yaml, cluster.env, hosts)');
const TESTDATA = path.join(ROOT, 'test/fixtures/istio-golden/master/istioctl/pkg/workload/testdata');
const read = (...p: string[]) => fs.readFileSync(path.join(TESTDATA, ...p), 'utf8');
const CHECK = fs.readFileSync(path.join(ROOT, 'test/fixtures/istio-golden/derived/serialization-check-output.txt'), 'utf8');

function input(dir: string, over: Partial<VmConfigInput>): VmConfigInput {
  const [wg] = parseWorkloadGroups(read(dir, 'workloadgroup.yaml'), 'workloadgroup.yaml', 'default');
  return { wg: wg!, meshConfig: 'defaultConfig: {}', clusterId: 'Kubernetes', revision: '', istioNamespace: 'istio-system', captureDns: true, autoregister: false, ...over };
}

for (const [dir, ip, ingress] of [['vmconfig/ipv4', '10.10.10.10', '10.10.10.11'], ['vmconfig/ipv6', 'fd00:10:96::1', 'fd00:10:96::2']] as const) {
  test(`${dir}: byte for byte`, () => {
    const i = input(dir, { meshConfig: read(dir, 'meshconfig.yaml'), revision: 'rev-1', internalIp: ip });
    const c = computeVmConfig(i);
    assert.is(renderMeshYaml(c), read(dir, 'mesh.yaml.golden'));
    assert.is(renderClusterEnv(i, c), read(dir, 'cluster.env.golden'));
    assert.is(renderHosts(ingress, 'istio-system', 'rev-1'), read(dir, 'hosts.golden'));
  });
}

test('vmconfig-nil-proxy-metadata: byte for byte', () => {
  const i = input('vmconfig-nil-proxy-metadata', { internalIp: '10.10.10.10' });
  const c = computeVmConfig(i);
  assert.is(renderMeshYaml(c), read('vmconfig-nil-proxy-metadata', 'mesh.yaml.golden'));
  assert.is(renderClusterEnv(i, c), read('vmconfig-nil-proxy-metadata', 'cluster.env.golden'));
  assert.is(renderHosts(undefined, 'istio-system', ''), read('vmconfig-nil-proxy-metadata', 'hosts.golden'));
});

test('shell quoting copies istioctl bug B1 exactly (serialization-check)', () => {
  const section = CHECK.slice(CHECK.indexOf('=== shellescape.Quote'), CHECK.indexOf('=== labels JSON'));
  for (const line of section.split('\n').slice(1).filter(Boolean)) {
    const m = /^(".*") -> (.*)$/.exec(line)!;
    assert.is(shellQuote(JSON.parse(m[1]!)), m[2], line);
  }
});

test('ISTIO_METAJSON_LABELS is Go encoding/json (serialization-check)', () => {
  const expected = CHECK.split('=== labels JSON (Go encoding/json)\n')[1]!.split('\n')[0];
  assert.is(goJsonMap({ version: 'v1', 'service.istio.io/canonical-name': 'x', 'app.kubernetes.io/name': 'n', app: 'a<b>&c', Zeta: 'z' }), expected);
});

test('cluster.env for the serialization-check map, sorted in byte order and quoted', () => {
  // The map is the proxyMetadata of the check's mesh.yaml; its cluster.env, as istioctl wrote it, follows.
  const meshSection = CHECK.split('=== mesh.yaml key order + quoting (sigs.k8s.io/yaml v1.4.0 / goyaml.v2)\n')[1]!.split('===')[0]!;
  const map = (yaml.load(meshSection) as { defaultConfig: { proxyMetadata: Record<string, string> } }).defaultConfig.proxyMetadata;
  const expected = CHECK.split('=== cluster.env for same map\n')[1]!.split('===')[0]!;
  assert.ok(Object.keys(map).length >= 20 && expected.includes("COLON='a: b'") && expected.includes("A10='x'\nA2='x'"), 'the fixture has the hard cases');
  // Byte for byte: byte order (A10 before A2, uppercase before lowercase) and the quoting of every value.
  assert.is(renderEnvFile(map), expected);
  // The same map through the command's renderer: the map's lines come out the same, among the command's own keys,
  // and every line of the file is in byte order.
  const i = input('vmconfig-nil-proxy-metadata', { meshConfig: yaml.dump({ defaultConfig: { proxyMetadata: map } }) });
  const env = renderClusterEnv(i, computeVmConfig(i));
  const lines = env.trimEnd().split('\n');
  for (const line of expected.trimEnd().split('\n').filter((l) => !/^(ISTIO_META_|CANONICAL_|POD_NAMESPACE|SERVICE_ACCOUNT|TRUST_DOMAIN|ISTIO_METAJSON)/.test(l))) {
    assert.ok(lines.includes(line), `${line} in\n${env}`);
  }
  const keys = lines.map((l) => l.slice(0, l.indexOf('=')));
  assert.equal(keys, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  for (const l of lines) assert.match(l, /^[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|[A-Za-z0-9@%+=:,./-]+)$/, `quoted: ${l}`);
});

test('B2: ISTIO_INBOUND_PORTS is sorted by port number; ISTIO_META_POD_PORTS by name', () => {
  const i = input('vmconfig-nil-proxy-metadata', {});
  i.wg.spec.template!.ports = { https: 8443, http: 8080, grpc: 3550, admin: 9000 };
  const c = computeVmConfig(i);
  assert.match(renderClusterEnv(i, c), /^ISTIO_INBOUND_PORTS='3550,8080,8443,9000'$/m);
  assert.match(c.defaultConfig.proxyMetadata!.ISTIO_META_POD_PORTS!, /^\[\{"name":"admin","containerPort":9000,"protocol":""\},\{"name":"grpc"/);
});

test('B4: a mesh config without proxyMetadata and an annotation with proxyMetadata do not crash', () => {
  const i = input('vmconfig/ipv4', { meshConfig: 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n' });
  const c = computeVmConfig(i);
  assert.is(c.defaultConfig.proxyMetadata!.PROXY_CONFIG_ANNOT_VALUE, 'bar');
});

test('B5: without a probe in the WorkloadGroup, the mesh config\'s readinessProbe stays', () => {
  const i = input('vmconfig-nil-proxy-metadata', { meshConfig: 'defaultConfig:\n  readinessProbe:\n    tcpSocket:\n      port: 9000\n' });
  delete i.wg.spec.probe;
  assert.equal(computeVmConfig(i).defaultConfig.readinessProbe, { tcpSocket: { port: 9000 } });
});

test('B8: a custom istio namespace without a revision still writes CA_ADDR; a revision adds discoveryAddress', () => {
  const custom = input('vmconfig-nil-proxy-metadata', { istioNamespace: 'mesh-cp' });
  assert.match(renderClusterEnv(custom, computeVmConfig(custom)), /^CA_ADDR='istiod\.mesh-cp\.svc:15012'$/m);
  const plain = input('vmconfig-nil-proxy-metadata', {});
  assert.not.match(renderClusterEnv(plain, computeVmConfig(plain)), /CA_ADDR/);
  const rev = input('vmconfig-nil-proxy-metadata', { revision: 'canary' });
  assert.is(computeVmConfig(rev).defaultConfig.discoveryAddress, 'istiod-canary.istio-system.svc:15012');
});

test('external IP, autoregistration, DNS capture off, status port, template labels', () => {
  const i = input('vmconfig-nil-proxy-metadata', { externalIp: '203.0.113.7', autoregister: true, captureDns: false, meshConfig: 'defaultConfig:\n  statusPort: 16000\n' });
  i.wg.spec.template!.labels = { app: 'vmapp', version: 'v2' };
  const c = computeVmConfig(i);
  const env = renderClusterEnv(i, c);
  assert.match(env, /^ISTIO_SVC_IP='203\.0\.113\.7'$/m);
  assert.match(env, /^REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION='true'$/m);
  assert.match(env, /^ISTIO_META_AUTO_REGISTER_GROUP='foo'$/m);
  assert.not.match(env, /ISTIO_META_DNS_CAPTURE/);
  assert.match(env, /^ISTIO_LOCAL_EXCLUDE_PORTS='22,15090,15021,16000'$/m);
  assert.match(env, /^CANONICAL_SERVICE='vmapp'$/m);
  assert.match(env, /^CANONICAL_REVISION='v2'$/m);
  assert.equal(c.warnings, ['Labels should be set in the metadata. The following WorkloadEntry labels will override metadata labels: map[app:vmapp version:v2]']);
});

// A fleet renders from cached pieces (parsed mesh config, per-entry YAML, key orders, quoted values): every
// result must be what the uncached path gives, the first time and again, whatever the values.
const ANNOTATIONS = [
  undefined,
  'readinessProbe:\n  httpGet:\n    path: /ready\n    port: 8080\n  periodSeconds: 5\n',
  'tracing:\n  zipkin: {address: "zipkin:9411"}\nproxyMetadata:\n  A10: x\n  A2: "y z"\n  B_: "true"\n  BA: "1e3"\n',
  'holdApplicationUntilProxyStarts: true\nconcurrency: 2\nstatusPort: .nan\ndrainDuration: .inf\n',
  'proxyMetadata:\n  MULTI: "line one\\nline two\\n"\n  KEEP: "x\\n\\n"\n  UNI: "ünïcödé ☃ 😀"\n  "key with: colon": "- dash"\n',
  'proxyStatsMatcher:\n  inclusionPrefixes: []\n  inclusionRegexps: [".*a.*", "b"]\nmeshId: mesh-1\ndiscoveryAddress: "istiod.x.svc:15012"\n',
  'createdAt: 2001-12-14t21:59:43.10-05:00\nempty: {}\nnothing: null\n',
  JSON.stringify({
    proxyMetadata: Object.fromEntries(
      ['-dash', '#hash', 'a:b', 'key:', "'q'", '"dq"', 'tab\there', 'yes', 'Y', '1e3', '0x1F', '0o17', '1_000', '12:30', '2001-12-14', '~', '@at', '`bt', '---x', '...', '', 'ü', 'x\u0085y', 'nb\u00a0sp', 'bell\u0007', '😀', '- a', 'a #b', 'a: b', '[x]', '{y}', '!t', '&a', '*r', '|p', '>f', '%d', '?q', '? q', 'null', '.5', '+1', '-.inf']
        .flatMap((v, i) => [[`K${i}`, v], [v || 'EMPTY_KEY', `v${i}`]]),
    ),
  }),
];
const MESHES = ['', 'defaultConfig: {}', 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n', 'defaultConfig:\n  discoveryAddress: a:1\n  proxyMetadata:\n    FOO: bar\n    long: "' + 'word '.repeat(30) + '"\n'];

function fleetInput(i: number): VmConfigInput {
  const [wg] = parseWorkloadGroups(read('vmconfig-nil-proxy-metadata', 'workloadgroup.yaml'), 'workloadgroup.yaml', 'default');
  wg!.metadata.name = `wg-${i}`;
  wg!.metadata.namespace = `fleet-${i % 7}`;
  wg!.metadata.annotations = ANNOTATIONS[i % ANNOTATIONS.length] === undefined ? undefined : { 'proxy.istio.io/config': ANNOTATIONS[i % ANNOTATIONS.length]! };
  wg!.spec.metadata = { labels: { app: `app-${i % 5}`, [`k${i}`]: i % 2 ? 'yes' : `v ${i}` } };
  wg!.spec.template = { ...wg!.spec.template, serviceAccount: i % 3 ? 'vm' : `sa-'${i}`, ports: i % 4 ? { http: 8080 + (i % 4) } : {} };
  if (i % 11 === 0) delete wg!.spec.probe;
  return { wg: wg!, meshConfig: MESHES[i % MESHES.length]!, clusterId: 'c1', revision: i % 2 ? 'canary' : '', istioNamespace: 'istio-system', captureDns: i % 3 !== 0, autoregister: i % 5 === 0, internalIp: i % 6 ? undefined : '10.0.0.1' };
}

const envReference = (env: Record<string, string>) =>
  Object.keys(env)
    .sort(byteOrder)
    .map((k) => `${k}=${shellQuote(env[k]!)}\n`)
    .join('');

test('fleet caches: mesh.yaml from cached pieces is toYaml of the whole, for 1,500 varied groups, rendered twice', () => {
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 1500; i++) {
      const c = computeVmConfig(fleetInput(i));
      assert.is(renderMeshYaml(c), toYaml({ defaultConfig: c.defaultConfig }), `group ${i}, round ${round}`);
    }
  }
});

test('fleet caches: cluster.env is every variable in byte order, quoted, whatever came before', () => {
  const env = { Z: 'x', 'ÿ': "it's", '\uff5e': '~', '\u{1F600}': '', a: 'w@%+=:,./-', B: 'plain value' };
  for (let round = 0; round < 3; round++) {
    assert.is(renderEnvFile(env), envReference(env));
    assert.is(renderEnvFile({ ...env, B: `v${round}` }), envReference({ ...env, B: `v${round}` }));
  }
  for (let i = 0; i < 1500; i++) {
    const input = fleetInput(i);
    const c = computeVmConfig(input);
    const md = { ...c.defaultConfig.proxyMetadata!, [`EXTRA_${i % 13}`]: `v'${i % 17}` };
    assert.is(renderEnvFile(md), envReference(md), `group ${i}`);
    assert.ok(renderClusterEnv(input, c).includes(`ISTIO_SERVICE='wg-${i}.fleet-${i % 7}'\n`));
  }
});

test('fleet caches: a parsed mesh config is shared, never changed by a group\'s annotation; a bad one fails for each group', () => {
  const mesh = 'defaultConfig:\n  statusPort: 15020\n  proxyMetadata:\n    FROM_MESH: "1"\n';
  const annotated = input('vmconfig-nil-proxy-metadata', { meshConfig: mesh });
  annotated.wg.metadata.annotations = { 'proxy.istio.io/config': 'statusPort: 16000\nproxyMetadata:\n  FROM_ANNOTATION: "2"\n' };
  const a = computeVmConfig(annotated);
  assert.is(a.defaultConfig.statusPort, 16000);
  assert.is(a.defaultConfig.proxyMetadata!.FROM_ANNOTATION, '2');
  const plain = input('vmconfig-nil-proxy-metadata', { meshConfig: mesh });
  const b = computeVmConfig(plain);
  assert.is(b.defaultConfig.statusPort, 15020);
  assert.is(b.defaultConfig.proxyMetadata!.FROM_MESH, '1');
  assert.is(b.defaultConfig.proxyMetadata!.FROM_ANNOTATION, undefined);
  assert.is(computeVmConfig(annotated).defaultConfig.statusPort, 16000);
  for (const name of ['one', 'two']) {
    const bad = input('vmconfig-nil-proxy-metadata', {});
    bad.wg.metadata.name = name;
    bad.wg.metadata.annotations = { 'proxy.istio.io/config': 'a: [unclosed' };
    assert.throws(() => computeVmConfig(bad), new RegExp(`WorkloadGroup [^ ]+/${name} is not valid YAML`));
  }
});

test('vmConfigWarnings: the warnings and errors of computeVmConfig, without the rest', () => {
  let warned = 0;
  for (let i = 0; i < 200; i++) {
    const input = fleetInput(i);
    if (i % 3 === 0) input.wg.spec.template!.labels = { version: `v${i}`, app: 'x' };
    if (i % 17 === 0) input.wg.spec.metadata!.annotations = { 'proxy.istio.io/config': `bad: [${i}` };
    let expected: string[] | Error;
    try {
      expected = computeVmConfig(input).warnings;
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) {
      assert.throws(() => vmConfigWarnings(input), (err: Error) => err.message === (expected as Error).message && err.constructor === (expected as Error).constructor);
    } else {
      assert.equal(vmConfigWarnings(input), expected, `group ${i}`);
      warned += expected.length;
    }
  }
  assert.ok(warned > 50, `${warned} warnings compared`);
});

test.run();
