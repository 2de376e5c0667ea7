import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLocality, checkNetwork, parseAddresses, parseKeyValues, parseWeight } from '../../shared/cli/args.ts';
import { parseDuration } from '../../shared/cli/duration.ts';
import { commaList, lastWins } from '../../shared/cli/flags.ts';
import { UsageError } from '../../shared/errors.ts';
import { throwsCliError } from '../helpers/assert.ts';
import { parsePort, parsePorts } from '../../shared/istio/ports.ts';
import net from 'node:net';
import { isIPAddress } from '../../shared/kube/names.ts';

const test = suite('argument parsers');

const throwsUsage = (fn: () => unknown, message: RegExp) => throwsCliError(fn, UsageError, message, 64);

test('ports: [<protocol>:]<port> with istioctl names and protocol constants', () => {
  assert.equal(parsePort('http:9080'), { name: 'http', port: 9080, protocol: 'HTTP' });
  assert.equal(parsePort('tcp:8888'), { name: 'tcp', port: 8888, protocol: 'TCP' });
  assert.equal(parsePort('HTTP2:81'), { name: 'HTTP2', port: 81, protocol: 'HTTP2' });
  assert.equal(parsePort('grpc-web:7070'), { name: 'grpc-web', port: 7070, protocol: 'GRPC-Web' });
  assert.equal(parsePort('mysql:3306').protocol, 'MySQL');
  assert.equal(parsePort('8080'), { name: 'http', port: 8080, protocol: 'HTTP' });
  assert.equal(parsePort('443'), { name: 'https', port: 443, protocol: 'HTTPS' });
  assert.equal(parsePort('3306'), { name: 'mysql', port: 3306, protocol: 'MySQL' });
});

test('ports: each bad value gets its own message (B16: istioctl accepted tcp:-1 and tcp:70000)', () => {
  throwsUsage(() => parsePort('tcp1:12345'), /^protocol tcp1 is not supported by Istio$/);
  throwsUsage(() => parsePort('tcp:70000'), /70000 is not between 1 and 65535/);
  throwsUsage(() => parsePort('tcp:0'), /0 is not between 1 and 65535/);
  throwsUsage(() => parsePort('tcp:-1'), /invalid port "tcp:-1"/);
  throwsUsage(() => parsePort('http:abc'), /invalid port "http:abc"/);
  throwsUsage(() => parsePort(':80'), /the protocol before ":" is empty/);
  throwsUsage(() => parsePort('9999'), /port 9999 needs a protocol: write <protocol>:9999/);
  throwsUsage(() => parsePorts(['tcp:80', 'http:80']), /port 80 is given twice/);
});

test('addresses: IPv4 and IPv6, no empties, no duplicates, no zones or leading zeros', () => {
  assert.equal(parseAddresses('10.0.0.5,fd00::5'), ['10.0.0.5', 'fd00::5']);
  throwsUsage(() => parseAddresses('10.0.0.5,,10.0.0.6'), /empty address/);
  throwsUsage(() => parseAddresses('10.0.0.300'), /invalid IP address "10.0.0.300"/);
  throwsUsage(() => parseAddresses('vm.example.com'), /invalid IP address "vm.example.com"/);
  throwsUsage(() => parseAddresses('fe80::1%eth0'), /invalid IP address/);
  throwsUsage(() => parseAddresses('010.0.0.1'), /invalid IP address/);
  throwsUsage(() => parseAddresses('10.0.0.5,10.0.0.5'), /given twice/);
});

test('IP addresses are parsed without node:net (not loaded at start-up) and agree with it', () => {
  const cases = ['10.0.0.5', '0.0.0.0', '255.255.255.255', '256.0.0.1', '10.0.0', '010.0.0.1', 'fd00::5', '::', '::1', '1::', 'fe80::1:2:3:4:5:6', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', '::ffff:10.0.0.1', '1:2:3:4:5:6:10.0.0.1', '1:2:3:4:5:6:7:10.0.0.1', '12345::1', 'g::1', ':1', '1:', '::ffff:10.0.0.300', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8'];
  for (const c of cases) assert.is(isIPAddress(c), net.isIP(c) !== 0 && !/(^|\.)0\d/.test(c), c);
  assert.is(isIPAddress('fd00::5%eth0'), false, 'zones are not addresses Kubernetes accepts');
});

test('labels and annotations', () => {
  assert.equal(parseKeyValues(['app=test', 'version=v1'], 'label'), { app: 'test', version: 'v1' });
  assert.equal(parseKeyValues(['env=stage area', 'flag='], 'annotation'), { 'env': 'stage area', flag: '' });
  throwsUsage(() => parseKeyValues(['novalue'], 'annotation'), /invalid annotation "novalue": expected key=value/);
  assert.equal(parseKeyValues(['example.com/team=a'], 'label'), { 'example.com/team': 'a' });
  throwsUsage(() => parseKeyValues(['app'], 'label'), /invalid label "app": expected key=value/);
  throwsUsage(() => parseKeyValues(['app=has space'], 'label'), /invalid value "has space" of label app/);
  throwsUsage(() => parseKeyValues(['-app=x'], 'label'), /invalid label key "-app"/);
  throwsUsage(() => parseKeyValues(['app=a', 'app=b'], 'label'), /label app is given twice/);
});

test('issue 12 §4: --network, --locality and --weight, one rule for every command', () => {
  assert.is(checkNetwork('network1'), 'network1');
  throwsUsage(() => checkNetwork('bad net!'), /^invalid --network "bad net!": /);
  throwsUsage(() => checkNetwork(''), /^invalid --network "": it is empty$/);
  assert.is(checkLocality('us-east1/us-east1-b/rack1'), 'us-east1/us-east1-b/rack1');
  assert.is(checkLocality('us-east1'), 'us-east1');
  throwsUsage(() => checkLocality('a//b'), /a part is empty/);
  throwsUsage(() => checkLocality('a/b/c/d'), /more than three parts/);
  throwsUsage(() => checkLocality('a b'), /^invalid --locality "a b": /);
  assert.is(parseWeight('0'), 0);
  assert.is(parseWeight('4294967295'), 4294967295);
  throwsUsage(() => parseWeight('4294967296'), /^invalid --weight "4294967296"/);
  throwsUsage(() => parseWeight('-1'), /^invalid --weight "-1"/);
});

test('repeated and comma-separated flags', () => {
  assert.equal(commaList(['a=b,c=d', 'e=f']), ['a=b', 'c=d', 'e=f']);
  assert.equal(commaList(undefined), []);
  assert.is(lastWins(['a', 'b']), 'b');
  assert.is(lastWins('a'), 'a');
});

test('--request-timeout: seconds or Go durations', () => {
  assert.is(parseDuration('request-timeout', '0'), 0);
  assert.is(parseDuration('request-timeout', '5'), 5000);
  assert.is(parseDuration('request-timeout', '1m30s'), 90000);
  assert.is(parseDuration('request-timeout', '250ms'), 250);
  throwsUsage(() => parseDuration('request-timeout', '5 minutes'), /invalid --request-timeout "5 minutes"/);
});

test.run();
