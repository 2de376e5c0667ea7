// The pure parts of expose-service and dns-stub: the Corefile editor on kubeadm's default Corefile and on one
// that was edited by hand, the CoreDNS version rule, the kube-dns stubDomains merge, the .global address pool,
// the ServiceEntry builder and the unified diff.
import fs from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DataError, UsageError } from '../../shared/errors.ts';
import { inRange, lowestFree, parseRange, takenSpans } from '../../shared/istio/address-pool.ts';
import { hasReload, imageVersion, parseServerBlocks, setGlobalStub, stubPluginFor, tokenize, zoneOf } from '../../shared/istio/corefile.ts';
import { buildGlobalServiceEntry, hostsLine, portsFromService } from '../../shared/istio/global-service.ts';
import { mergeStubDomains } from '../../shared/istio/stub-domains.ts';
import { unifiedDiff } from '../../shared/output/diff.ts';
import { throwsCliError } from '../helpers/assert.ts';
import { ROOT } from '../helpers/run.ts';

const test = suite('.global services and the DNS stub');
const fixture = (name: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'coredns', name), 'utf8');
const KUBEADM = fixture('kubeadm-1.2x.Corefile');
const EDITED = fixture('edited.Corefile');

test('Corefile: kubeadm\'s default has one server block, .:53, with nested blocks inside', () => {
  const blocks = parseServerBlocks(KUBEADM);
  assert.equal(blocks.map((b) => b.keys), [['.:53']]);
  assert.is(KUBEADM.slice(blocks[0]!.start, blocks[0]!.end), KUBEADM.trimEnd());
  assert.ok(hasReload(KUBEADM));
});

test('Corefile: a global:53 block is appended to kubeadm\'s default, and nothing before it changes', () => {
  const edit = setGlobalStub(KUBEADM, '10.96.0.53', 'forward');
  assert.ok(edit.changed);
  assert.is(edit.text, `${KUBEADM}global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}\n`);
  assert.equal(parseServerBlocks(edit.text).map((b) => b.keys[0]), ['.:53', 'global:53']);
  const again = setGlobalStub(edit.text, '10.96.0.53', 'forward');
  assert.not.ok(again.changed, 'idempotent');
  assert.is(again.text, edit.text);
});

test('Corefile: an edited one gets only its global:53 block replaced; comments, quotes and other zones stay byte for byte', () => {
  const edit = setGlobalStub(EDITED, '10.96.0.53', 'forward');
  assert.ok(edit.changed);
  const oldBlock = 'global:53 {\n    errors\n    cache 30\n    proxy . 10.96.0.99   # the old istiocoredns address\n}';
  assert.ok(EDITED.includes(oldBlock));
  assert.is(edit.text, EDITED.replace(oldBlock, 'global:53 {\n    errors\n    cache 30\n    forward . 10.96.0.53\n}'));
  assert.is(edit.previous, oldBlock);
  assert.equal(parseServerBlocks(EDITED).map((b) => b.keys[0]), ['.:53', 'global:53', 'example.org:53']);
  assert.not.ok(setGlobalStub(edit.text, '10.96.0.53', 'forward').changed);
});

test('Corefile: a block with the same directives but other spacing or a comment is left alone', () => {
  const src = `${KUBEADM}global:53 {   # ours\n\terrors\n\tcache 30\n\tforward . 10.96.0.53\n}\n`;
  const edit = setGlobalStub(src, '10.96.0.53', 'forward');
  assert.not.ok(edit.changed);
  assert.is(edit.text, src);
  assert.ok(setGlobalStub(src, '10.96.0.53', 'proxy').changed, 'another plugin is a change');
});

test('Corefile: other spellings of the zone are recognised; a block shared with other zones is refused', () => {
  for (const key of ['global:53', 'global', '.global:53', 'global.:53', 'dns://global:53', 'GLOBAL:53']) assert.equal(zoneOf(key).zone + ':' + zoneOf(key).port, 'global:53', key);
  assert.is(zoneOf('global:5353').port, '5353');
  const replaced = setGlobalStub('.:53 {\n  forward . 8.8.8.8\n}\ndns://global. {\n  proxy . 10.0.0.1\n}\n', '10.96.0.53', 'forward');
  assert.is(replaced.text, '.:53 {\n  forward . 8.8.8.8\n}\nglobal:53 {\n  errors\n  cache 30\n  forward . 10.96.0.53\n}\n', 'indentation follows the file');
  throwsCliError(() => setGlobalStub('global:53 example.org:53 {\n  forward . 1.1.1.1\n}\n', '10.96.0.53', 'forward'), DataError, /serves global:53 together with other zones/, 65);
  throwsCliError(() => setGlobalStub('global:53 {\n}\nglobal {\n}\n', '10.96.0.53', 'forward'), DataError, /has 2 global:53 server blocks/, 65);
});

test('Corefile: tokens, quotes, comments and {$ENV} placeholders', () => {
  assert.equal(tokenize('a "b c" # d "e\n{$X} "f\\"g" }').map((t) => t.text), ['a', '"b c"', '{$X}', '"f\\"g"', '}']);
  assert.equal(parseServerBlocks('import common\n.:53 {\n  forward . {$UPSTREAM}\n}\n').map((b) => b.keys), [['.:53']]);
  assert.equal(parseServerBlocks('a.org:53,\n b.org:53 {\n}\n').map((b) => b.keys), [['a.org:53', 'b.org:53']]);
});

test('Corefile: broken input is a data error naming the line', () => {
  throwsCliError(() => setGlobalStub('.:53 {\n  errors\n', '10.96.0.53', 'forward'), DataError, /server block ".:53" on line 1 is not closed/, 65);
  throwsCliError(() => setGlobalStub('.:53 {\n}\n}\n', '10.96.0.53', 'forward'), DataError, /unexpected "}" on line 3/, 65);
  throwsCliError(() => setGlobalStub('.:53 {\n  hosts "/etc/x\n}\n', '10.96.0.53', 'forward'), DataError, /unterminated quoted string starting on line 2/, 65);
  throwsCliError(() => setGlobalStub('.:53\nerrors\n', '10.96.0.53', 'forward'), DataError, /has no "\{"/, 65);
});

test('Corefile: an empty Corefile, or one without a final newline', () => {
  assert.is(setGlobalStub('', '10.0.0.1', 'proxy').text, 'global:53 {\n    errors\n    cache 30\n    proxy . 10.0.0.1\n}\n');
  assert.is(setGlobalStub('.:53 {\n}', '10.0.0.1', 'proxy').text, '.:53 {\n}\nglobal:53 {\n    errors\n    cache 30\n    proxy . 10.0.0.1\n}');
});

test('CoreDNS version: from the image tag; forward from 1.4, proxy before', () => {
  assert.equal(imageVersion('registry.k8s.io/coredns/coredns:v1.10.1'), [1, 10, 1]);
  assert.equal(imageVersion('k8s.gcr.io/coredns:1.3.1'), [1, 3, 1]);
  assert.equal(imageVersion('localhost:5000/coredns:1.6.2@sha256:abc'), [1, 6, 2]);
  assert.equal(imageVersion('docker.io/coredns/coredns:1.8.0-eksbuild.1'), [1, 8, 0]);
  assert.is(imageVersion('localhost:5000/coredns'), undefined, 'the registry port is not a tag');
  assert.is(imageVersion('coredns/coredns:latest'), undefined);
  assert.is(imageVersion('coredns/coredns@sha256:abc'), undefined);
  assert.is(stubPluginFor([1, 3, 1]), 'proxy');
  assert.is(stubPluginFor([1, 4, 0]), 'forward');
  assert.is(stubPluginFor([1, 10, 1]), 'forward');
  assert.is(stubPluginFor([0, 9, 0]), 'proxy');
  assert.is(stubPluginFor([2, 0, 0]), 'forward');
});

test('stubDomains: global is set, the other domains stay in their order; re-runs change nothing', () => {
  assert.equal(mergeStubDomains(undefined, '10.96.0.53'), { text: '{"global":["10.96.0.53"]}', changed: true });
  const merged = mergeStubDomains('{"acme.local": ["1.2.3.4"], "global": ["10.96.0.99"], "corp": ["5.6.7.8", "5.6.7.9"]}', '10.96.0.53');
  assert.is(merged.text, '{"acme.local":["1.2.3.4"],"global":["10.96.0.53"],"corp":["5.6.7.8","5.6.7.9"]}');
  assert.equal(mergeStubDomains('{"global": ["10.96.0.53"]}\n', '10.96.0.53'), { text: '{"global": ["10.96.0.53"]}\n', changed: false });
  assert.is(mergeStubDomains('{\n  "acme.local": ["1.2.3.4"]\n}\n', '10.96.0.53').text, '{\n  "acme.local": [\n    "1.2.3.4"\n  ],\n  "global": [\n    "10.96.0.53"\n  ]\n}\n');
  throwsCliError(() => mergeStubDomains('{"global": [', '1.1.1.1'), DataError, /is not JSON/, 65);
  throwsCliError(() => mergeStubDomains('["1.1.1.1"]', '1.1.1.1'), DataError, /not a JSON object/, 65);
  throwsCliError(() => mergeStubDomains('{"acme": "1.2.3.4"}', '1.1.1.1'), DataError, /the servers of "acme" are not a list/, 65);
});

test('address pool: the lowest free address, skipping the network address, taken addresses and CIDRs', () => {
  const range = parseRange('127.255.0.0/16');
  assert.is(range.cidr, '127.255.0.0/16');
  assert.is(lowestFree(range, []), '127.255.0.1');
  assert.is(lowestFree(range, takenSpans(['127.255.0.1', '127.255.0.2', '127.255.0.4'])), '127.255.0.3', 'the seed example keeps 127.255.0.3 free');
  assert.is(lowestFree(range, takenSpans(['127.255.0.0/30', '10.0.0.1', 'fd00::1', '127.255.0.4'])), '127.255.0.5', 'a CIDR takes all it covers; other ranges and IPv6 do not count');
  const tiny = parseRange('240.0.0.0/30');
  assert.is(lowestFree(tiny, takenSpans(['240.0.0.1'])), '240.0.0.2');
  assert.is(lowestFree(tiny, takenSpans(['240.0.0.1', '240.0.0.2'])), undefined, 'the broadcast address is never given out');
  assert.ok(inRange(range, '127.255.255.254'));
  assert.not.ok(inRange(range, '127.255.255.255'));
  assert.not.ok(inRange(range, '127.254.0.1'));
});

test('address pool: bad ranges are usage errors', () => {
  throwsCliError(() => parseRange('127.255.0.0'), UsageError, /expected an IPv4 CIDR/, 64);
  throwsCliError(() => parseRange('fd00::/64'), UsageError, /expected an IPv4 CIDR/, 64);
  throwsCliError(() => parseRange('127.255.0.0/31'), UsageError, /prefix length must be from 8 to 30/, 64);
  throwsCliError(() => parseRange('127.255.0.9/16'), UsageError, /did you mean 127.255.0.0\/16\?/, 64);
});

test('ServiceEntry: the seed\'s example, httpbin.bar.global on 127.255.0.3, every port to the gateway on 15443', () => {
  const { ports, skipped } = portsFromService([{ name: 'http', port: 8000, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000, protocol: 'TCP' }, { name: 'web', port: 8443, appProtocol: 'https' }]);
  assert.equal(skipped.map((p) => p.port), [53]);
  const se = buildGlobalServiceEntry({ name: 'httpbin', namespace: 'bar', ports, gatewayAddress: '35.232.112.158', address: '127.255.0.3' });
  assert.equal(se.metadata, { name: 'httpbin.bar.forvms', namespace: 'bar', labels: { 'app.kubernetes.io/managed-by': 'kubectl-vm' } });
  assert.equal(se.spec, {
    hosts: ['httpbin.bar.global'],
    location: 'MESH_INTERNAL',
    ports: [{ name: 'http', number: 8000, protocol: 'HTTP' }, { name: 'tcp-9000', number: 9000, protocol: 'TCP' }, { name: 'web', number: 8443, protocol: 'HTTPS' }],
    resolution: 'DNS',
    addresses: ['127.255.0.3'],
    endpoints: [{ address: '35.232.112.158', ports: { http: 15443, 'tcp-9000': 15443, web: 15443 } }],
  });
  assert.is(hostsLine('127.255.0.3', 'httpbin', 'bar'), '127.255.0.3 httpbin.bar.global');
});

test('diff: unified hunks with three lines of context', () => {
  const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
  const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i'].join('\n') + '\n';
  assert.equal(unifiedDiff(before, after, 'x (live)', 'x (new)'), ['--- x (live)', '+++ x (new)', '@@ -2,7 +2,8 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h', '+i']);
  assert.equal(unifiedDiff(before, before, 'x', 'y'), []);
  assert.equal(unifiedDiff('', 'new\n', 'x', 'y'), ['--- x', '+++ y', '@@ -0,0 +1,1 @@', '+new']);
});

test.run();
